"""Numba kernels of the array family (``ops/slicing_ops.py``): gathers.

Rows are copied as unsigned integers of the element's width, so one compiled
kernel per width serves every dtype (float16 and bool included). Indices are
validated by ``first_out_of_range`` before ``gather_rows`` runs: the kernel
itself never checks bounds (numba-facts.md §7).
"""
from __future__ import annotations

import numpy as np
from numba import njit

_FLAGS = dict(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
_UINT = {8: np.uint64, 4: np.uint32, 2: np.uint16, 1: np.uint8}


@njit(**_FLAGS)
def first_out_of_range(idx, n):  # pragma: no cover - compiled
    """Position of the first ``idx[i]`` outside ``[0, n)``, or -1."""
    for i in range(idx.size):
        v = idx[i]
        if v < 0 or v >= n:
            return i
    return -1


@njit(**_FLAGS)
def gather_rows(params, idx, out):  # pragma: no cover - compiled
    """``out[o, j, :] = params[o, idx[j], :]`` on 3-D (outer, rows, inner) views."""
    inner = params.shape[2]
    for o in range(params.shape[0]):
        for j in range(idx.size):
            r = idx[j]
            for k in range(inner):
                out[o, j, k] = params[o, r, k]


def _as_words(a: np.ndarray, outer: int, rows: int, inner: int) -> np.ndarray:
    """A C-contiguous array viewed as (outer, rows, inner * k) unsigned words."""
    size = a.dtype.itemsize
    width = min(8, size & -size)  # the largest power of two dividing the element size
    return a.reshape(outer, rows, inner).view(_UINT[width])


def gather(params: np.ndarray, flat_idx: np.ndarray, axis: int,
           idx_shape: tuple) -> np.ndarray:
    """``np.take(params, idx, axis)`` for already validated indices."""
    shp = params.shape
    out = np.empty(shp[:axis] + tuple(idx_shape) + shp[axis + 1:], dtype=params.dtype)
    if out.size == 0:
        return out
    if params.dtype == object:
        return np.take(params, flat_idx.reshape(idx_shape), axis=axis)
    outer = int(np.prod(shp[:axis], dtype=np.int64))
    inner = int(np.prod(shp[axis + 1:], dtype=np.int64))
    src = _as_words(np.ascontiguousarray(params), outer, shp[axis], inner)
    gather_rows(src, flat_idx, _as_words(out, outer, flat_idx.size, inner))
    return out
