"""Numba kernels for AccumulateNV2: add arrays into one accumulator in place.

The accumulator is a C-contiguous buffer owned by the step that allocated it;
inputs are only read. Both functions work on flat (1-D) views.
"""
from __future__ import annotations

from numba import njit

_FLAGS = dict(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})


@njit(**_FLAGS)
def accumulate_into(acc, x):
    """acc[i] += x[i] for every i (same length, same dtype)."""
    for i in range(acc.shape[0]):
        acc[i] += x[i]


@njit(**_FLAGS)
def copy_into(acc, x):
    """acc[i] = x[i]: start an accumulation from its first term."""
    for i in range(acc.shape[0]):
        acc[i] = x[i]
