"""Numba kernels of the random family on the Philox-4x32-10 counter-based generator.

Philox (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11)
maps a 128-bit counter and a 64-bit key to 128 random bits. Each random op
owns a ``Stream`` per (session, op): its key comes from the op's
``(seed, seed2)`` attrs, and each run reserves a fresh range of counter
blocks, so a fixed seed pair gives the same numbers in every process, later
runs in a session give new numbers, and a new session starts over.

Counter layout: words 0-1 = block index (64 bits), word 2 = redraw attempt
(truncated normal), word 3 = 0. A block yields four 32-bit words: four
float32 values or two float64/int64 values.
"""
from __future__ import annotations

import secrets
import threading

import numpy as np
from numba import njit

_FLAGS = dict(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_MASK = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_ZERO = np.uint64(0)
_TWO_PI = 2.0 * np.pi
_MASK64 = (1 << 64) - 1


@njit(**_FLAGS)
def philox4x32(c0, c1, c2, c3, k0, k1):
    """Ten Philox-4x32 rounds; all arguments and results are uint64 holding 32 bits."""
    for _ in range(10):
        p0 = _M0 * c0
        p1 = _M1 * c2
        c0, c1, c2, c3 = ((p1 >> _S32) ^ c1 ^ k0, p1 & _MASK,
                          (p0 >> _S32) ^ c3 ^ k1, p0 & _MASK)
        k0 = (k0 + _W0) & _MASK
        k1 = (k1 + _W1) & _MASK
    return c0, c1, c2, c3


_CHUNK = 512  # blocks generated per vectorised batch
_K0 = np.uint32(0x9E3779B9)
_K1 = np.uint32(0xBB67AE85)
_M0_32 = np.uint64(0xD2511F53)
_M1_32 = np.uint64(0xCD9E8D57)


@njit(**_FLAGS)
def _philox_rounds(c0, c1, c2, c3, nb, k0, k1):
    """``philox4x32`` on ``nb`` counters held in four uint32 arrays (SIMD-friendly)."""
    for _ in range(10):
        for i in range(nb):
            p0 = np.uint64(c0[i]) * _M0_32
            p1 = np.uint64(c2[i]) * _M1_32
            a = np.uint32(p1 >> _S32) ^ c1[i] ^ k0
            b = np.uint32(p0 >> _S32) ^ c3[i] ^ k1
            c1[i] = np.uint32(p1)
            c3[i] = np.uint32(p0)
            c0[i] = a
            c2[i] = b
        k0 = k0 + _K0
        k1 = k1 + _K1


@njit(**_FLAGS)
def _words(start, b0, nb, k0, k1, flat):
    """Random words of blocks ``start + b0 .. + nb`` (attempt 0), block-major in ``flat``."""
    c0 = np.empty(nb, np.uint32)
    c1 = np.empty(nb, np.uint32)
    c2 = np.zeros(nb, np.uint32)
    c3 = np.zeros(nb, np.uint32)
    for i in range(nb):
        blk = start + np.uint64(b0 + i)
        c0[i] = np.uint32(blk & _MASK)
        c1[i] = np.uint32(blk >> _S32)
    _philox_rounds(c0, c1, c2, c3, nb, np.uint32(k0), np.uint32(k1))
    for i in range(nb):
        flat[4 * i] = c0[i]
        flat[4 * i + 1] = c1[i]
        flat[4 * i + 2] = c2[i]
        flat[4 * i + 3] = c3[i]


@njit(**_FLAGS)
def _block(start, b, attempt, k0, k1):
    """One block's words (scalar path, used for truncated-normal redraws)."""
    blk = start + np.uint64(b)
    return philox4x32(blk & _MASK, blk >> _S32, np.uint64(attempt), _ZERO, k0, k1)


@njit(**_FLAGS)
def uniform32(out, k0, k1, start, bits):
    """Uniform [0, 1) float32 on a ``2**-bits`` grid, four per block (24 bits;
    11 for float16 so the cast down is exact)."""
    n = out.size
    shift = np.uint32(32 - bits)
    scale = np.float32(2.0 ** -bits)
    flat = np.empty(4 * _CHUNK, np.uint32)
    for b0 in range(0, (n + 3) // 4, _CHUNK):
        nb = min(_CHUNK, (n + 3) // 4 - b0)
        _words(start, b0, nb, k0, k1, flat)
        base = 4 * b0
        for t in range(min(4 * nb, n - base)):
            out[base + t] = np.float32(flat[t] >> shift) * scale


@njit(**_FLAGS)
def _u53(hi, lo):
    """A float64 in [0, 1) from 53 bits of two 32-bit words."""
    return ((np.uint64(hi) >> np.uint64(5)) * 67108864.0
            + (np.uint64(lo) >> np.uint64(6))) * (2.0 ** -53)


@njit(**_FLAGS)
def uniform64(out, k0, k1, start):
    """Uniform [0, 1) float64 with 53 random bits, two per block."""
    n = out.size
    flat = np.empty(4 * _CHUNK, np.uint32)
    for b0 in range(0, (n + 1) // 2, _CHUNK):
        nb = min(_CHUNK, (n + 1) // 2 - b0)
        _words(start, b0, nb, k0, k1, flat)
        base = 2 * b0
        for t in range(min(2 * nb, n - base)):
            out[base + t] = _u53(flat[2 * t], flat[2 * t + 1])


@njit(**_FLAGS)
def _bm32(wa, wb):
    """Box-Muller pair (cos, sin) in float32 from two words; the radius uniform is
    in (0, 1] so log stays finite (|z| <= 5.77)."""
    u1 = (np.float32(np.uint32(wa) >> np.uint32(8)) + np.float32(1)) * np.float32(2.0 ** -24)
    u2 = np.float32(np.uint32(wb) >> np.uint32(8)) * np.float32(2.0 ** -24)
    r = np.sqrt(np.float32(-2) * np.log(u1))
    a = np.float32(_TWO_PI) * u2
    return r * np.cos(a), r * np.sin(a)


@njit(**_FLAGS)
def _bm64(w0, w1, w2, w3):
    """Box-Muller pair (cos, sin) in float64 from four words (53-bit uniforms)."""
    u1 = 1.0 - _u53(w0, w1)  # (0, 1]: log stays finite
    a = _TWO_PI * _u53(w2, w3)
    r = np.sqrt(-2.0 * np.log(u1))
    return r * np.cos(a), r * np.sin(a)


@njit(**_FLAGS)
def _normal32_at(start, b, attempt, j, k0, k1):
    """Normal j (0..3) of block b at a redraw attempt (scalar path)."""
    r = _block(start, b, attempt, k0, k1)
    p = (j // 2) * 2
    return _bm32(r[p], r[p + 1])[j % 2]


@njit(**_FLAGS)
def _normal64_at(start, b, attempt, j, k0, k1):
    """Normal j (0..1) of block b at a redraw attempt (scalar path)."""
    r = _block(start, b, attempt, k0, k1)
    return _bm64(r[0], r[1], r[2], r[3])[j]


@njit(**_FLAGS)
def normal32(out, k0, k1, start, truncate):
    """Standard normals into float32 ``out``, four per block (two Box-Muller pairs).
    With ``truncate``, a value with |z| >= 2 is redrawn from its block at attempts
    1, 2, ... (counter word 2), keeping its position in the block."""
    n = out.size
    flat = np.empty(4 * _CHUNK, np.uint32)
    for b0 in range(0, (n + 3) // 4, _CHUNK):
        nb = min(_CHUNK, (n + 3) // 4 - b0)
        _words(start, b0, nb, k0, k1, flat)
        base = 4 * b0
        m = min(4 * nb, n - base)
        for q in range(0, m, 2):
            z0, z1 = _bm32(flat[q], flat[q + 1])
            out[base + q] = z0
            if q + 1 < m:
                out[base + q + 1] = z1
        if truncate:
            for t in range(min(4 * nb, n - base)):
                v = out[base + t]
                attempt = 1
                while abs(v) >= 2.0:
                    v = _normal32_at(start, b0 + t // 4, attempt, t % 4, k0, k1)
                    attempt += 1
                out[base + t] = v


@njit(**_FLAGS)
def normal64(out, k0, k1, start, truncate):
    """Standard normals into float64 ``out``, two per block (see ``normal32``)."""
    n = out.size
    flat = np.empty(4 * _CHUNK, np.uint32)
    for b0 in range(0, (n + 1) // 2, _CHUNK):
        nb = min(_CHUNK, (n + 1) // 2 - b0)
        _words(start, b0, nb, k0, k1, flat)
        base = 2 * b0
        m = min(2 * nb, n - base)
        for t in range(0, m, 2):
            q = 2 * t
            z0, z1 = _bm64(flat[q], flat[q + 1], flat[q + 2], flat[q + 3])
            out[base + t] = z0
            if t + 1 < m:
                out[base + t + 1] = z1
        if truncate:
            for t in range(min(2 * nb, n - base)):
                v = out[base + t]
                attempt = 1
                while abs(v) >= 2.0:
                    v = _normal64_at(start, b0 + t // 2, attempt, t % 2, k0, k1)
                    attempt += 1
                out[base + t] = v


@njit(**_FLAGS)
def uniform_int(out, lo, span, k0, k1, start):
    """Integers ``lo + (r64 mod span)`` with 64-bit draws, two per block
    (``RandomUniformInt``; the modulo bias is below 2**-32 for int32 ranges)."""
    n = out.size
    flat = np.empty(4 * _CHUNK, np.uint32)
    for b0 in range(0, (n + 1) // 2, _CHUNK):
        nb = min(_CHUNK, (n + 1) // 2 - b0)
        _words(start, b0, nb, k0, k1, flat)
        base = 2 * b0
        for t in range(min(2 * nb, n - base)):
            x = (np.uint64(flat[2 * t]) << _S32) | np.uint64(flat[2 * t + 1])
            out[base + t] = lo + np.int64(x % span)


@njit(**_FLAGS)
def permutation(perm, k0, k1, start):
    """Fisher-Yates shuffle of ``perm`` in place; swap d uses the 64-bit draw d
    (two per block) to pick j uniformly in [0, n - 1 - d]."""
    n = perm.size
    flat = np.empty(4 * _CHUNK, np.uint32)
    ndraws = n - 1
    for b0 in range(0, (ndraws + 1) // 2, _CHUNK):
        nb = min(_CHUNK, (ndraws + 1) // 2 - b0)
        _words(start, b0, nb, k0, k1, flat)
        base = 2 * b0
        for t in range(min(2 * nb, ndraws - base)):
            x = (np.uint64(flat[2 * t]) << _S32) | np.uint64(flat[2 * t + 1])
            i = n - 1 - (base + t)
            j = np.int64(x % np.uint64(i + 1))
            tmp = perm[i]
            perm[i] = perm[j]
            perm[j] = tmp


# --- per-(session, op) streams ---------------------------------------------------------
def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


class Stream:
    """The generator state of one random op in one session.

    ``seed == seed2 == 0`` means "not seeded" (TF's convention): the key is
    then drawn from the OS, so each session gives different numbers.
    """

    __slots__ = ("k0", "k1", "next_block", "lock")

    def __init__(self, seed: int, seed2: int) -> None:
        seed, seed2 = int(seed or 0), int(seed2 or 0)
        if seed == 0 and seed2 == 0:
            key = secrets.randbits(64)
        else:
            key = _splitmix64((seed & _MASK64) ^ _splitmix64(seed2 & _MASK64))
        self.k0 = np.uint64(key & 0xFFFFFFFF)
        self.k1 = np.uint64(key >> 32)
        self.next_block = 0
        self.lock = threading.Lock()

    def reserve(self, nblocks: int) -> np.uint64:
        """First block of a fresh range of ``nblocks`` counter blocks."""
        with self.lock:
            start = self.next_block
            self.next_block = (start + nblocks) & _MASK64
        return np.uint64(start)


def standard_normal(stream: Stream, shape: tuple, dtype: np.dtype, truncate: bool) -> np.ndarray:
    """Standard (optionally truncated to |z| < 2) normals of ``shape`` and ``dtype``."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape, dtype=np.int64))
    if dtype == np.float64:
        out = np.empty(n, np.float64)
        if n:
            normal64(out, stream.k0, stream.k1, stream.reserve((n + 1) // 2), truncate)
        return out.reshape(shape)
    out = np.empty(n, np.float32)
    if n:
        normal32(out, stream.k0, stream.k1, stream.reserve((n + 3) // 4), truncate)
    return out.reshape(shape).astype(dtype, copy=False)


def uniform(stream: Stream, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """Uniform [0, 1) values of ``shape`` and a float ``dtype``."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape, dtype=np.int64))
    if dtype == np.float64:
        out = np.empty(n, np.float64)
        if n:
            uniform64(out, stream.k0, stream.k1, stream.reserve((n + 1) // 2))
        return out.reshape(shape)
    out = np.empty(n, np.float32)
    if n:
        bits = 11 if dtype == np.float16 else 24
        uniform32(out, stream.k0, stream.k1, stream.reserve((n + 3) // 4), bits)
    return out.reshape(shape).astype(dtype, copy=False)


def uniform_integers(stream: Stream, shape: tuple, lo: int, hi: int, dtype: np.dtype) -> np.ndarray:
    """Integers uniform in [lo, hi) (the caller checks lo < hi)."""
    n = int(np.prod(shape, dtype=np.int64))
    out = np.empty(n, np.int64)
    if n:
        uniform_int(out, np.int64(lo), np.uint64(int(hi) - int(lo)), stream.k0, stream.k1,
                    stream.reserve((n + 1) // 2))
    return out.reshape(shape).astype(dtype, copy=False)


def shuffle_first_dim(stream: Stream, value: np.ndarray) -> np.ndarray:
    """A copy of ``value`` with its first dimension randomly permuted."""
    if value.ndim == 0 or value.shape[0] <= 1:
        return value.copy()
    n = value.shape[0]
    perm = np.arange(n, dtype=np.int64)
    permutation(perm, stream.k0, stream.k1, stream.reserve(n // 2))
    return value[perm]
