"""Scalar helpers inlined into generated elementwise kernels.

Each is an ``njit(inline='always')`` function of scalars, so a generated loop
stays one loop. Keep names short: they appear in expression strings.
"""
import math

import numpy as np
from numba import njit

__all__ = ["sigmoid", "softplus", "sign", "rint", "floordiv_i", "floormod_i",
           "relu6", "elu", "np", "math"]


@njit(inline="always")
def sigmoid(x):
    return 1 / (1 + np.exp(-x))


@njit(inline="always")
def softplus(x):
    # log(1 + exp(x)) without overflow, as TF: x for large x, exp(x) for very negative x
    if x > 20:
        return x
    if x < -20:
        return np.exp(x)
    return np.log1p(np.exp(x))


@njit(inline="always")
def sign(x):
    if x > 0:
        return 1
    if x < 0:
        return -1
    return x * 0


@njit(inline="always")
def rint(x):
    # round half to even, as tf.round
    return np.rint(x)


@njit(inline="always")
def floordiv_i(a, b):
    q = a // b
    return q


@njit(inline="always")
def floormod_i(a, b):
    return a % b


@njit(inline="always")
def relu6(x):
    return min(max(x, 0), 6)


@njit(inline="always")
def elu(x):
    return x if x > 0 else np.expm1(x)
