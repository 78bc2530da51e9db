"""Run generated elementwise kernels on arrays: broadcasting, patterns, threads.

``FusedLauncher`` is the callable a plan step binds for a fused group (and,
through ``make_elementwise``, for a single elementwise op): per distinct tuple
of input shapes it computes the broadcast output shape once, picks each
input's read pattern (``f``/``s``/``b``/``c``), collapses dimensions that
broadcast alike, and chooses the serial or the ``prange`` kernel by output size
(``PARALLEL_MIN_SIZE``); each call then allocates the outputs and runs the
cached njit kernel on flat contiguous views.
"""
from __future__ import annotations

import os
from typing import Any, Callable, NamedTuple, Optional, Sequence

import numpy as np

from graphflow.errors import InvalidArgumentError, KernelError
from graphflow.kernels.codegen import fused_kernel

# Output size from which the prange kernel runs (numba's thread count; 2 here).
# bench/bench_w3.py --threshold, machine quiet: prange wins from ~4K elements
# for the W3 chain and from ~64K for x*a+b, reaching 0.5x serial at ~1M. With
# the cores busy (load 10 on 2 cores) a parallel region often stalls 25-45 ms
# waiting for its second thread, whatever the size: 1M keeps that risk to
# kernels that take >= ~0.3-1.5 ms serial (numba-facts recommendation 8).
PARALLEL_MIN_SIZE = int(os.environ.get("GRAPHFLOW_PARALLEL_MIN_SIZE", 1 << 20))


def broadcast_error(shapes: list) -> KernelError:
    dims = " vs. ".join("[%s]" % ",".join(str(d) for d in s) for s in shapes)
    return KernelError(InvalidArgumentError, "Incompatible shapes: %s" % dims)


def _strides(shape: tuple, out_shape: tuple) -> np.ndarray:
    """Element strides of a C-contiguous array of ``shape`` broadcast to ``out_shape``."""
    nd = len(out_shape)
    full = (1,) * (nd - len(shape)) + tuple(shape)
    st = np.zeros(nd, np.int64)
    acc = 1
    for d in range(nd - 1, -1, -1):
        st[d] = 0 if full[d] == 1 else acc
        acc *= full[d]
    return st


def collapse(out_shape: tuple, strides: list) -> tuple:
    """Drop extent-1 dims and merge neighbours every stride vector walks alike.

    Returns ``(shape, strides)`` with at least one dimension.
    """
    dims = [d for d in range(len(out_shape)) if out_shape[d] != 1] or [len(out_shape) - 1]
    shape = [int(out_shape[dims[0]])]
    sts = [[int(st[dims[0]])] for st in strides]
    for d in dims[1:]:
        ext = int(out_shape[d])
        if all(st[-1] == int(s[d]) * ext for st, s in zip(sts, strides)):
            shape[-1] *= ext
            for st, s in zip(sts, strides):
                st[-1] = int(s[d])
        else:
            shape.append(ext)
            for st, s in zip(sts, strides):
                st.append(int(s[d]))
    return np.array(shape, np.int64), [np.array(st, np.int64) for st in sts]


class Binding(NamedTuple):
    """A group prepared for one tuple of input shapes (see ``FusedLauncher.bind``)."""
    kernel: Any
    in_order: tuple
    out_order: tuple
    out_shape: tuple
    size: int
    extra: tuple  # (shape, stride vectors of the b inputs) or ()
    inplace: bool = False  # the kernel writes output q into input j (bind(inplace=(j, q)))


class FusedLauncher:
    """Calls one elementwise group's generated kernels on arrays.

    Args:
        nodes: ``(expr, refs)`` per node, numbered after the ``n_inputs`` inputs
            (see ``kernels.codegen``).
        n_inputs: number of external inputs.
        outputs: value indices of the outputs.
        dtype: computation dtype (``T`` in expressions).
        out_dtypes: NumPy dtype of each output array.
        check: optional ``check(*arrays)`` raising KernelError before any work.
    """

    def __init__(self, nodes: Sequence[tuple], n_inputs: int, outputs: Sequence[int],
                 dtype: Any, out_dtypes: Sequence[Any], check: Optional[Callable] = None):
        self.nodes = [(e, tuple(r)) for e, r in nodes]
        self.n_inputs = n_inputs
        self.outputs = tuple(outputs)
        self.dtype = np.dtype(dtype).name
        self.out_dtypes = [np.dtype(d) for d in out_dtypes]
        self.check = check
        self._bindings: dict = {}

    def bind(self, shapes: Sequence[tuple], parallel: Optional[bool] = None,
             inplace: Optional[tuple] = None) -> Binding:
        """Kernel and call arguments for inputs of ``shapes`` (cached per shapes).

        ``inplace = (j, q)``: prefer the kernel writing output ``q`` into
        input ``j`` (``Binding.inplace`` says whether it is; the kernel then
        takes no array for output ``q``). Key ``(shapes, parallel)``, or
        ``(shapes, parallel, inplace)``.
        """
        shapes = tuple(tuple(s) for s in shapes)
        key = (shapes, parallel) if inplace is None else (shapes, parallel, inplace)
        b = self._bindings.get(key)
        if b is not None:
            return b
        try:
            out_shape = tuple(np.broadcast_shapes(*shapes))
        except ValueError:
            raise broadcast_error(list(shapes)) from None
        size = int(np.prod(out_shape, dtype=np.int64))
        pats = []
        for s in shapes:
            n = int(np.prod(s, dtype=np.int64))
            pats.append("f" if n == size else "s" if n == 1 else "b")
        bs = [p for p, c in enumerate(pats) if c == "b"]
        st_of: dict = {}
        if bs:
            shape, sts = collapse(out_shape, [_strides(shapes[p], out_shape) for p in bs])
            st_of = dict(zip(bs, sts))
        for p in bs:  # inner stride 1 (runs along the last dim) or 0 (constant along it)
            pats[p] = "b" if st_of[p][-1] else "c"
        if parallel is None:
            parallel = size >= PARALLEL_MIN_SIZE
        fk = fused_kernel(self.nodes, "".join(pats), self.outputs, self.dtype, parallel,
                          inplace if inplace is not None and size else None)
        used = [st_of[p] for p in fk.in_order if p in st_of]
        extra = (shape, *used) if used else ()
        b = Binding(fk.kernel, fk.in_order, fk.out_order, out_shape, size, extra,
                    fk.inplace is not None)
        self._bindings[key] = b
        return b

    def __call__(self, *xs: np.ndarray) -> list:
        """The outputs (new arrays, in the caller's output order) for inputs ``xs``."""
        if self.check is not None:
            self.check(*xs)
        b = self._bindings.get((tuple([x.shape for x in xs]), None))
        if b is None:
            b = self.bind([x.shape for x in xs])
        outs = [np.empty(b.out_shape, d) for d in self.out_dtypes]
        if b.size:
            b.kernel(*[xs[p].ravel() for p in b.in_order],
                     *[outs[q].reshape(-1) for q in b.out_order], *b.extra)
        return outs


def make_elementwise(expr: str, out_dtype: Any, check: Optional[Callable] = None) -> Callable:
    """Kernel callable for ``expr`` (inputs ``{0}``, ``{1}``...) producing ``out_dtype``.

    ``check(*arrays)`` may raise KernelError before any work (e.g. integer
    division by zero), so kernels never see invalid input. One or two inputs
    of one shape below ``PARALLEL_MIN_SIZE`` elements (the common case) call
    the serial all-``f`` kernel directly; everything else goes through a
    ``FusedLauncher``, which picks the same kernel for that case.
    """
    launchers: dict = {}
    out_np = np.dtype(out_dtype)
    direct: dict = {}  # number of inputs -> serial all-"f" kernel (False: use the launcher)

    def direct_kernel(n: int) -> Any:
        fk = fused_kernel([(expr, tuple(range(n)))], "f" * n, [n], out_np.name, False)
        ok = fk.in_order == tuple(range(n)) and fk.out_order == (0,)
        k = direct[n] = fk.kernel if ok else False
        return k

    def run(*xs: np.ndarray) -> np.ndarray:
        n = len(xs)
        if check is None and n <= 2:
            shape = xs[0].shape
            if n == 1 or xs[1].shape == shape:
                out = np.empty(shape, out_np)
                size = out.size
                if size < PARALLEL_MIN_SIZE:
                    k = direct.get(n)
                    if k is None:
                        k = direct_kernel(n)
                    if k is not False:
                        if size == 0:
                            return out
                        if n == 1:
                            k(xs[0].ravel(), out.ravel())
                        else:
                            k(xs[0].ravel(), xs[1].ravel(), out.ravel())
                        return out
        fl = launchers.get(n)
        if fl is None:
            fl = launchers[n] = FusedLauncher([(expr, range(n))], n, [n], out_dtype,
                                              [out_dtype], check)
        return fl(*xs)[0]

    return run
