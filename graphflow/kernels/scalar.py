"""Scalar helpers inlined into generated elementwise kernels.

Each is an ``njit(inline='always')`` function (or an inlined overload) of
scalars, so a generated loop stays one loop. Keep names short: they appear in
expression strings. ``fexp``/``flog``/``ftanh``/``fsigmoid`` dispatch on the
argument type: float32 uses the vectorizable versions in ``kernels.fastmath``
(error bounds stated there), any other type uses ``np.*``.
"""
import math

import numpy as np
from numba import njit, types
from numba.extending import overload

from graphflow.kernels.fastmath import exp32, log32, sigmoid32, tanh32

__all__ = ["fexp", "flog", "ftanh", "fsigmoid", "sigmoid", "softplus", "sign", "rint",
           "floordiv_i", "floormod_i", "relu6", "elu", "np", "math"]


def _is_f32(x) -> bool:
    return isinstance(x, types.Float) and x.bitwidth == 32


def fexp(x):
    """e**x (tf.exp); float32 through ``fastmath.exp32`` inside kernels."""
    return np.exp(x)


def flog(x):
    """Natural log (tf.log); float32 through ``fastmath.log32`` inside kernels."""
    return np.log(x)


def ftanh(x):
    """tanh (tf.tanh); float32 through ``fastmath.tanh32`` inside kernels."""
    return np.tanh(x)


def fsigmoid(x):
    """1 / (1 + e**-x) (tf.sigmoid); float32 through ``fastmath.sigmoid32``."""
    return 1 / (1 + np.exp(-x))


def _np_exp(x):
    return np.exp(x)


def _np_log(x):
    return np.log(x)


def _np_tanh(x):
    return np.tanh(x)


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


# The overloads return plain Python functions (inlined at Numba IR level);
# wrapping the fast versions in lambdas trips Numba's SSA check when one
# kernel inlines the same helper twice.
@overload(fexp, inline="always")
def _fexp(x):
    return exp32.py_func if _is_f32(x) else _np_exp


@overload(flog, inline="always")
def _flog(x):
    return log32.py_func if _is_f32(x) else _np_log


@overload(ftanh, inline="always")
def _ftanh(x):
    return tanh32.py_func if _is_f32(x) else _np_tanh


@overload(fsigmoid, inline="always")
def _fsigmoid(x):
    return sigmoid32.py_func if _is_f32(x) else _np_sigmoid


@njit(inline="always")
def sigmoid(x):
    return fsigmoid(x)


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
