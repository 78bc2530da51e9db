"""MatMul's GEMM: optionally single-threaded BLAS calls, split over threads graphflow owns.

NumPy's OpenBLAS (pthreads) parallelizes one GEMM over its own threads, which
synchronize by spinning, many times per call and for a while after it. When
the second core is busy (on this shared 2-vCPU VM, often: at times the two
vCPUs are worth one core), the spinning thread and the working one compete:
the eight GEMMs of the W2 training step took 2.95 ms with 2 OpenBLAS threads
on idle cores, 4.8 ms on one thread, and a median of 30-140 ms (180 ms at
worst) with 2 OpenBLAS threads under load, where one thread took 5-10 ms.

``matmul(a, b)`` therefore never lets OpenBLAS start its own threads: while a
graphflow GEMM runs, OpenBLAS is held at one thread (its thread count is
process-wide, so a NumPy matmul in another thread at that moment runs
single-threaded too; the count is restored when the last one returns). A
large product is either one call or cut into row blocks computed at the same
time, one single-threaded BLAS call per block, the first in the calling
thread and the others in persistent helper threads (a BLAS call releases the
GIL). The blocks share nothing, so a descheduled thread only delays its own
block. Which of the two is faster depends on the load of the moment, so
``_Chooser`` keeps, per GEMM shape, a moving average of the time of each
way, uses the faster one, and tries the other every 32nd call.

Settings: ``GRAPHFLOW_MATMUL_THREADS`` = N >= 2 turns this on with N
threads; the default, 1, is plain ``np.dot`` with BLAS's own threading.
The default is plain because on an idle machine OpenBLAS's own 2-thread
GEMMs won clearly (14:05-14:07 UTC, load ~1, two alternating runs each:
W2 SGD step 3.17-3.29 ms plain vs 4.99-5.11 ms held and split, TF 4.55-4.79
ms; Adam 3.81-3.89 vs 5.75-5.91, TF 4.9-5.3); the held/split way is the
robust choice on a machine whose second core is busy. Without NumPy's OpenBLAS
(MKL, Accelerate...) ``matmul`` is ``np.dot``, as for non-BLAS dtypes. Small
products (< ``MIN_SPLIT_FLOPS`` multiply-adds) are one call. When the pool
is busy (two sessions, or the inter-op executor running two matmuls at once)
a call runs unsplit in its own thread.
"""
from __future__ import annotations

import ctypes
import os
import queue
import threading
import time
from typing import Any, Callable, Optional

import numpy as np

ENV = "GRAPHFLOW_MATMUL_THREADS"
MIN_SPLIT_FLOPS = 1 << 22   # m*n*k below this: one call (a hand-off costs ~5-10 us)
# m*n*k below this: plain np.dot. OpenBLAS itself uses one thread below 65536 x
# GEMM_MULTITHREAD_THRESHOLD (4) multiply-adds, and holding it at one thread costs two
# openblas_set_num_threads calls (~1-2 us): W5's 16x16 products went 2x slower with them.
SINGLE_THREAD_FLOPS = 1 << 16
MIN_BLOCK_ROWS = 32         # rows per block at least
BLOCKS_PER_THREAD = 2       # blocks per thread, taken dynamically
_BLAS_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_clock = time.perf_counter
_SYMBOLS = (("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
            ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
            ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
            ("openblas_set_num_threads", "openblas_get_num_threads"))


def _openblas() -> Optional[tuple]:
    """(set_num_threads, get_num_threads) of the OpenBLAS NumPy calls, or None."""
    try:
        from numpy._core import _multiarray_umath as mod
    except ImportError:  # NumPy 1.x
        try:
            from numpy.core import _multiarray_umath as mod  # type: ignore[no-redef]
        except ImportError:
            return None
    try:
        lib = ctypes.CDLL(mod.__file__)  # dlsym also searches its dependencies
    except OSError:
        return None
    for set_name, get_name in _SYMBOLS:
        setter, getter = getattr(lib, set_name, None), getattr(lib, get_name, None)
        if setter is not None and getter is not None:
            setter.argtypes, setter.restype = (ctypes.c_int,), None
            getter.argtypes, getter.restype = (), ctypes.c_int
            return setter, getter, lib
    return None


def _cblas_gemm(lib: Any) -> dict:
    """dtype char -> ``cblas_?gemm`` of NumPy's OpenBLAS (ctypes, GIL released), if any."""
    out: dict = {}
    for char, ctype in (("f", ctypes.c_float), ("d", ctypes.c_double)):
        p = "s" if char == "f" else "d"
        for name, itype in (("scipy_cblas_%sgemm64_" % p, ctypes.c_int64),
                            ("cblas_%sgemm64_" % p, ctypes.c_int64),
                            ("scipy_cblas_%sgemm" % p, ctypes.c_int),
                            ("cblas_%sgemm" % p, ctypes.c_int)):
            fn = getattr(lib, name, None)
            if fn is not None:
                vp = ctypes.c_void_p
                fn.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int, itype, itype, itype,
                               ctype, vp, itype, vp, itype, ctype, vp, itype)
                fn.restype = None
                out[char] = fn
                break
    return out


class _BlasThreads:
    """Holds OpenBLAS at one thread while any graphflow GEMM runs (counted)."""

    def __init__(self, setter: Callable, getter: Callable) -> None:
        self.set, self.get = setter, getter
        self.lock = threading.Lock()
        self.depth = 0
        self.saved = 1

    def enter(self) -> None:
        with self.lock:
            if self.depth == 0:
                self.saved = self.get()
                if self.saved != 1:
                    self.set(1)
            self.depth += 1

    def exit(self) -> None:
        with self.lock:
            self.depth -= 1
            if self.depth == 0 and self.saved != 1:
                self.set(self.saved)


class _Job:
    """Row blocks of one product, taken one at a time by whichever thread is free."""

    __slots__ = ("fn", "bounds", "next", "left", "lock", "done", "error")

    def __init__(self, fn: Callable, bounds: list) -> None:
        self.fn = fn
        self.bounds = bounds
        self.next = 0
        self.left = len(bounds) - 1
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.error: Optional[BaseException] = None

    def work(self) -> None:
        """Run blocks until none is left to take (a late helper finds none)."""
        bounds = self.bounds
        while True:
            with self.lock:
                i = self.next
                if i >= len(bounds) - 1:
                    return
                self.next = i + 1
            try:
                if self.error is None:
                    self.fn(bounds[i], bounds[i + 1])
            except BaseException as e:  # noqa: BLE001 - re-raised by the caller
                self.error = e
            with self.lock:
                self.left -= 1
                last = self.left == 0
            if last:
                self.done.set()


class _Worker:
    """A persistent helper thread taking blocks of the jobs posted to it."""

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._loop, name="graphflow-gemm", daemon=True).start()

    def _loop(self) -> None:
        while True:
            self.jobs.get().work()


def _dot_into(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    np.dot(a, b, out=out)


def _default_threads() -> int:
    spec = os.environ.get(ENV, "").strip()
    if spec:
        try:
            return max(1, int(spec))
        except ValueError:
            raise ValueError("%s must be a thread count, not %r" % (ENV, spec)) from None
    return 1  # plain np.dot (module docstring: faster on an idle machine)


_FUNCS = _openblas()
THREADS = _default_threads() if _FUNCS is not None else 1
_blas = _BlasThreads(*_FUNCS[:2]) if _FUNCS is not None and THREADS > 1 else None
_GEMM = _cblas_gemm(_FUNCS[2]) if _FUNCS is not None else {}
_pool_lock = threading.Lock()
_workers: list = []


def _after_fork_in_child() -> None:
    global _pool_lock
    _workers.clear()  # the helper threads do not exist in a forked child
    _pool_lock = threading.Lock()
    if _blas is not None:
        _blas.lock = threading.Lock()
        _blas.depth = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class _Chooser:
    """Per GEMM shape, which way has been faster lately: split or one thread.

    How much a second thread helps depends on the machine's load right now
    (on a shared VM the two vCPUs are sometimes worth one core). Each shape
    keeps a moving average of the time of each way; calls take the faster
    way, and every ``EXPLORE``-th call of a shape takes the other one, so a
    change of load is noticed within ``EXPLORE`` calls.
    """

    EXPLORE = 32
    ALPHA = 0.3

    def __init__(self) -> None:
        self.stats: dict = {}  # shape -> [ema split, ema single, calls]

    def split(self, key: tuple) -> bool:
        st = self.stats.get(key)
        if st is None:
            st = self.stats[key] = [0.0, 0.0, 0]
        st[2] += 1
        if not st[0] or not st[1]:  # measure each way first
            return not st[0]
        best = st[0] <= st[1]
        return best != (st[2] % self.EXPLORE == 0)

    def record(self, key: tuple, split: bool, seconds: float) -> None:
        st = self.stats[key]
        i = 0 if split else 1
        st[i] = seconds if not st[i] else st[i] + self.ALPHA * (seconds - st[i])


_chooser = _Chooser()


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.dot(a, b)`` for 2-D ``a``, ``b`` (views with any BLAS layout), split in
    row blocks over graphflow's threads when that is faster (module docstring)."""
    if _blas is None or a.dtype not in _BLAS_DTYPES or b.dtype != a.dtype:
        return np.dot(a, b)
    m, k = a.shape
    n = b.shape[1]
    if m * n * k < SINGLE_THREAD_FLOPS:
        return np.dot(a, b)  # OpenBLAS runs these on one thread anyway: skip the set/restore
    big = m * n * k >= MIN_SPLIT_FLOPS and m >= 2 * MIN_BLOCK_ROWS
    key = (m, n, k, a.dtype.char)
    split = big and _chooser.split(key)
    if not split or not _pool_lock.acquire(blocking=False):
        # one call, still at one BLAS thread (a 2-thread OpenBLAS call would
        # leave its helper spinning against graphflow's threads)
        _blas.enter()
        try:
            if not big:
                return np.dot(a, b)
            t0 = _clock()
            out = np.dot(a, b)
            if not split:
                _chooser.record(key, False, _clock() - t0)
            return out
        finally:
            _blas.exit()
    try:
        t0 = _clock()
        out = _split_dot(a, b, m, n)
        _chooser.record(key, True, _clock() - t0)
        return out
    finally:
        _pool_lock.release()


def _run_blocks(job: Callable, m: int) -> None:
    """``job(lo, hi)`` over row blocks of ``range(m)`` at one BLAS thread: the
    calling thread and the helpers take blocks as they get to them, so a helper
    that is slow to be scheduled costs at most one block. The caller holds
    ``_pool_lock``."""
    parts = min(THREADS, m // MIN_BLOCK_ROWS)
    blocks = min(BLOCKS_PER_THREAD * parts, m // MIN_BLOCK_ROWS)
    while len(_workers) < parts - 1:
        _workers.append(_Worker())
    j = _Job(job, [m * i // blocks for i in range(blocks + 1)])
    _blas.enter()
    try:
        for w in _workers[:parts - 1]:
            w.jobs.put(j)
        j.work()
        j.done.wait()
    finally:
        _blas.exit()
    if j.error is not None:
        raise j.error


def _split_dot(a: np.ndarray, b: np.ndarray, m: int, n: int) -> np.ndarray:
    out = np.empty((m, n), a.dtype)
    _run_blocks(lambda lo, hi: _dot_into(a[lo:hi], b, out[lo:hi]), m)
    return out


# --- C += alpha * A @ B in place (one GEMM instead of a product and an update) --------------
_NO_TRANS, _TRANS, _ROW_MAJOR = 111, 112, 101


def _operand(x: np.ndarray) -> tuple:
    """``(array, trans flag, leading dimension)`` of a 2-D operand for row-major cblas."""
    isz = x.itemsize
    s0, s1 = x.strides
    rows, cols = x.shape
    if s1 == isz and s0 >= max(cols, 1) * isz and s0 % isz == 0:
        return x, _NO_TRANS, s0 // isz
    if s0 == isz and s1 >= max(rows, 1) * isz and s1 % isz == 0:
        return x, _TRANS, s1 // isz
    x = np.ascontiguousarray(x)
    return x, _NO_TRANS, max(cols, 1)


def can_update(dtype: Any) -> bool:
    """True when ``gemm_update`` runs as one BLAS call for ``dtype`` (float32/64 with
    NumPy's OpenBLAS cblas found)."""
    return np.dtype(dtype).char in _GEMM


def gemm_update(c: np.ndarray, a: np.ndarray, b: np.ndarray, alpha: Any) -> None:
    """``c += alpha * (a @ b)`` in place, as one GEMM (``beta = 1``).

    ``c``: C-contiguous, writable, ``(m, n)``; ``a`` ``(m, k)`` and ``b``
    ``(k, n)`` of ``c``'s dtype, any BLAS layout (transposed views are read
    as such). Same result, bit for bit, as computing ``g = a @ b`` then the
    fused update ``c = fma(alpha, g, c)``: the GEMM kernel accumulates each
    dot product in a register and applies ``alpha`` and ``c`` once. Row
    blocks run on graphflow's threads like ``matmul``. Requires
    ``can_update(c.dtype)``.
    """
    m, n = c.shape
    k = a.shape[1]
    if (a.dtype != c.dtype or b.dtype != c.dtype or a.shape != (m, k) or b.shape != (k, n)
            or not (c.flags.c_contiguous and c.flags.writeable)):
        raise ValueError("gemm_update: c %s%s (C-contiguous, writable) += a %s%s @ b %s%s"
                         % (c.dtype, c.shape, a.dtype, a.shape, b.dtype, b.shape))
    if m == 0 or n == 0 or k == 0:
        return
    gemm = _GEMM[c.dtype.char]
    alpha = float(alpha)
    a, ta, lda = _operand(a)
    b, tb, ldb = _operand(b)
    isz = c.itemsize
    pa, pb, pc = a.ctypes.data, b.ctypes.data, c.ctypes.data
    step_a = (lda if ta == _NO_TRANS else 1) * isz  # bytes from one row of op(a) to the next

    def job(lo: int, hi: int) -> None:
        gemm(_ROW_MAJOR, ta, tb, hi - lo, n, k, alpha, pa + lo * step_a, lda, pb, ldb,
             1.0, pc + lo * n * isz, n)

    key = (m, n, k, c.dtype.char, "update")
    split = (_blas is not None and m * n * k >= MIN_SPLIT_FLOPS and m >= 2 * MIN_BLOCK_ROWS
             and _chooser.split(key))
    if split and _pool_lock.acquire(blocking=False):
        try:
            t0 = _clock()
            _run_blocks(job, m)
            _chooser.record(key, True, _clock() - t0)
        finally:
            _pool_lock.release()
        return
    if _blas is not None:
        _blas.enter()
    try:
        t0 = _clock()
        job(0, m)
        if split is False and _blas is not None and m * n * k >= MIN_SPLIT_FLOPS \
                and m >= 2 * MIN_BLOCK_ROWS:
            _chooser.record(key, False, _clock() - t0)
    finally:
        if _blas is not None:
            _blas.exit()


def info() -> dict:
    """The policy in effect and, per GEMM shape seen, the recent time of each way:
    ``{"threads", "openblas", "min_split_flops", "shapes": {(m, n, k, dtype):
    (split seconds, single seconds, calls)}}``."""
    return {"threads": THREADS, "openblas": _FUNCS is not None, "cblas_gemm": sorted(_GEMM),
            "min_split_flops": MIN_SPLIT_FLOPS,
            "shapes": {k: tuple(v) for k, v in _chooser.stats.items()}}
