"""Numba kernels for small dense linear algebra, called inside segment functions.

``matmul_small`` is MatMul's small case (fewer than
``blas.SINGLE_THREAD_FLOPS`` multiply-adds, e.g. W5's 16x16 chain) as njit
code: ``np.dot`` inside Numba calls the BLAS GEMM directly (SciPy's OpenBLAS,
one thread at these sizes) without the Python call around it. A plain
i-k-j loop was measured slower at these sizes (16x16: 0.55-0.65 us against
0.4 us): rows of 16 floats are shorter than LLVM's vector loop.
"""
from __future__ import annotations

import numpy as np
from numba import njit

_FLAGS = dict(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})


@njit(**_FLAGS)
def matmul_small(a, b):
    """``a @ b`` for 2-D ``a`` (m x k) and ``b`` (k x n); ValueError when the
    inner dimensions differ."""
    if a.shape[1] != b.shape[0]:
        raise ValueError("Matrix size-incompatible")
    return np.dot(a, b)
