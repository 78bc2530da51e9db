"""Random ops: normal, uniform (float and int), truncated normal, shuffle.

The ops are stateful, carry TF's ``seed``/``seed2`` attrs (from
``get_seed(op_seed)``) and draw from a Philox stream kept per (session, op)
(``kernels.random_kernels``): a fixed (graph seed, op seed) gives the same
numbers in every fresh process, successive runs give new numbers, a new
session starts the sequence again, and no seed at all gives OS entropy.
``mean``/``stddev``/``minval``/``maxval`` are applied by ordinary ops, so they
are differentiable; the random ops themselves are not.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from graphflow import dtypes
from graphflow.errors import InvalidArgumentError, KernelError
from graphflow.framework.graph import get_seed, name_scope, set_random_seed
from graphflow.framework.op_def import NOT_DIFFERENTIABLE, OpDef, apply_op, constant_value, \
    register_op
from graphflow.framework.operation import Operation, Tensor, convert_to_tensor
from graphflow.framework.tensor_shape import TensorShape
from graphflow.kernels import random_kernels
from graphflow.ops._array_util import check_alloc

__all__ = ["random_normal", "random_uniform", "truncated_normal", "random_shuffle"]

_MAXINT32 = 2 ** 31 - 1
_FLOAT_DTYPES = (dtypes.float16, dtypes.float32, dtypes.float64)
_EXEMPT = ("random values have no fixed reference; moments, ranges, seeding and determinism "
           "are covered by tests/ops/test_random_ops.py")


def _op_seeds(op_seed: Optional[int]) -> tuple:
    """TF's (seed, seed2) attrs: (0, 0) means unseeded, so a real (0, 0) is remapped."""
    seed, seed2 = get_seed(op_seed)
    if seed is None and seed2 is None:
        return 0, 0
    seed, seed2 = int(seed or 0), int(seed2 or 0)
    if (seed, seed2) == (0, 0):
        return 0, _MAXINT32
    return seed, seed2


def _stream(op: Operation, ctx: Any) -> random_kernels.Stream:
    seed, seed2 = op.get_attr("seed"), op.get_attr("seed2")
    return ctx.state(op, lambda: random_kernels.Stream(seed, seed2))


def _shape_infer(t: Tensor) -> TensorShape:
    """Static output shape from a shape tensor: its value, else its length."""
    val = constant_value(t)
    if val is not None:
        dims = [int(d) for d in np.reshape(val, -1)]
        for d in dims:
            if d < -1:
                raise ValueError("Dimension %d must be >= -1" % d)
        return TensorShape([d if d >= 0 else None for d in dims])  # -1: unknown until run
    if t.shape.ndims == 1:
        return TensorShape([None] * t.shape[0]) if t.shape[0] is not None else TensorShape(None)
    return TensorShape(None)


def _runtime_shape(shape: np.ndarray, dt: Any = None) -> tuple:
    if shape.ndim != 1:
        raise KernelError(InvalidArgumentError, "shape must be a vector of {int32,int64}, got "
                          "shape [%s]" % ",".join(str(d) for d in shape.shape))
    dims = tuple(int(d) for d in shape)
    for d in dims:
        if d < 0:
            raise KernelError(InvalidArgumentError, "Dimension %d must be >= 0" % d)
    if dt is not None:
        check_alloc(dims, dt)
    return dims


class _RandomOp(OpDef):
    """Shared declaration: a shape input, dtype/seed/seed2 attrs, stateful."""
    inputs = ("shape",)
    attrs = {"dtype": dtypes.float32, "seed": 0, "seed2": 0}
    allowed = (dtypes.int32, dtypes.int64)
    stateful = True
    grad = NOT_DIFFERENTIABLE
    contract_exempt = _EXEMPT

    @classmethod
    def infer(cls, op: Operation) -> list:
        return [(dtypes.as_dtype(op.get_attr("dtype")), _shape_infer(op.inputs[0]))]


@register_op
class RandomStandardNormal(_RandomOp):
    """Samples of N(0, 1)."""

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        stream, dt = _stream(op, ctx), op.outputs[0].dtype.np
        return lambda shape: random_kernels.standard_normal(
            stream, _runtime_shape(shape, dt), dt, False)


@register_op
class TruncatedNormal(_RandomOp):
    """Samples of N(0, 1) redrawn until |z| < 2."""

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        stream, dt = _stream(op, ctx), op.outputs[0].dtype.np
        return lambda shape: random_kernels.standard_normal(
            stream, _runtime_shape(shape, dt), dt, True)


@register_op
class RandomUniform(_RandomOp):
    """Samples uniform in [0, 1)."""

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        stream, dt = _stream(op, ctx), op.outputs[0].dtype.np
        return lambda shape: random_kernels.uniform(stream, _runtime_shape(shape, dt), dt)


@register_op
class RandomUniformInt(OpDef):
    """Integers uniform in [minval, maxval)."""
    inputs = ("shape", "minval", "maxval")
    same_dtype = ("minval", "maxval")
    attrs = {"seed": 0, "seed2": 0}
    allowed = (dtypes.int32, dtypes.int64)
    stateful = True
    grad = NOT_DIFFERENTIABLE
    contract_exempt = _EXEMPT

    @classmethod
    def infer(cls, op: Operation) -> list:
        shape, lo, hi = op.inputs
        if shape.dtype.base_dtype not in (dtypes.int32, dtypes.int64):
            raise TypeError("Value passed to parameter 'shape' has DataType %s not in list of "
                            "allowed values: int32, int64" % shape.dtype.base_dtype.name)
        for t, n in ((lo, "minval"), (hi, "maxval")):
            if t.shape.ndims not in (None, 0):
                raise ValueError("Shape must be rank 0 but is rank %d for '%s' (%s)"
                                 % (t.shape.ndims, op.name, n))
        return [(lo.dtype.base_dtype, _shape_infer(shape))]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        stream, dt = _stream(op, ctx), op.outputs[0].dtype.np

        def run(shape: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
            dims = _runtime_shape(shape, dt)
            for v, n in ((lo, "minval"), (hi, "maxval")):
                if v.ndim != 0:
                    raise KernelError(InvalidArgumentError, "%s must be 0-D, got shape [%s]" % (
                        n, ",".join(str(d) for d in v.shape)))
            n = int(np.prod(dims, dtype=np.int64))
            if n and not int(lo) < int(hi):
                raise KernelError(InvalidArgumentError, "Need minval < maxval, got %d >= %d"
                                  % (int(lo), int(hi)))
            return random_kernels.uniform_integers(stream, dims, int(lo), int(hi), dt)
        return run


@register_op
class RandomShuffle(OpDef):
    """``value`` with its first dimension randomly permuted."""
    inputs = ("value",)
    attrs = {"seed": 0, "seed2": 0}
    stateful = True
    grad = NOT_DIFFERENTIABLE
    contract_exempt = _EXEMPT

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        stream = _stream(op, ctx)
        return lambda value: random_kernels.shuffle_first_dim(stream, value)


# --- builders -------------------------------------------------------------------------------
def _shape_tensor(shape: Any) -> Tensor:
    """Convert a shape argument (list, tuple, TensorShape or tensor) to an int tensor."""
    if isinstance(shape, TensorShape):
        if not shape.is_fully_defined():
            raise ValueError("Cannot convert a partially known TensorShape to a Tensor: %s"
                             % shape)
        shape = shape.as_list()
    if isinstance(shape, (list, tuple)) and not any(isinstance(d, Tensor) for d in shape):
        if not shape:
            return convert_to_tensor(np.zeros(0, np.int32), name="shape")
        return convert_to_tensor(shape, dtype=dtypes.int32 if all(
            abs(int(d)) < 2 ** 31 for d in shape) else dtypes.int64, name="shape")
    if isinstance(shape, (list, tuple)):
        from graphflow.ops import array_ops
        return array_ops.stack(list(shape))
    return convert_to_tensor(shape, name="shape")


def _float_dtype(dtype: Any, what: str) -> dtypes.DType:
    dt = dtypes.as_dtype(dtype)
    if dt.base_dtype not in _FLOAT_DTYPES:
        raise TypeError("Value passed to parameter 'dtype' has DataType %s not in list of "
                        "allowed values: float16, bfloat16, float32, float64" % dt.name)
    return dt.base_dtype


def _scaled(op_type: str, default: str, shape: Any, loc: Any, scale: Any, dtype: Any,
            seed: Optional[int], name: Optional[str]) -> Tensor:
    """``op(shape) * scale + loc`` inside a name scope, as TF1's random_normal."""
    dtype = _float_dtype(dtype, default)
    with name_scope(name, default, [shape, loc, scale]) as scope:
        shape_t = _shape_tensor(shape)
        loc_t = convert_to_tensor(loc, dtype=dtype, name="mean")
        scale_t = convert_to_tensor(scale, dtype=dtype, name="stddev")
        seed1, seed2 = _op_seeds(seed)
        rnd = apply_op(op_type, shape_t, dtype=dtype, seed=seed1, seed2=seed2)
        from graphflow.ops import math_ops
        return math_ops.add(rnd * scale_t, loc_t, name=scope)


def random_normal(shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = dtypes.float32,
                  seed: Optional[int] = None, name: Optional[str] = None) -> Tensor:
    """Samples of N(mean, stddev**2). Same as tf.random_normal (op RandomStandardNormal)."""
    return _scaled("RandomStandardNormal", "random_normal", shape, mean, stddev, dtype, seed, name)


def truncated_normal(shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = dtypes.float32,
                     seed: Optional[int] = None, name: Optional[str] = None) -> Tensor:
    """Normal samples redrawn beyond 2 stddev. Same as tf.truncated_normal (op TruncatedNormal)."""
    return _scaled("TruncatedNormal", "truncated_normal", shape, mean, stddev, dtype, seed, name)


def random_uniform(shape: Any, minval: Any = 0, maxval: Any = None, dtype: Any = dtypes.float32,
                   seed: Optional[int] = None, name: Optional[str] = None) -> Tensor:
    """Samples uniform in [minval, maxval). Same as tf.random_uniform.

    Float dtypes use RandomUniform scaled by ops; int32/int64 use RandomUniformInt
    and need ``maxval``.
    """
    dtype = dtypes.as_dtype(dtype).base_dtype
    if dtype not in _FLOAT_DTYPES + (dtypes.int32, dtypes.int64):
        raise ValueError("Invalid dtype %r" % dtype)
    if maxval is None:
        if dtype.is_integer:
            raise ValueError("Must specify maxval for integer dtype %r" % dtype)
        maxval = 1
    with name_scope(name, "random_uniform", [shape, minval, maxval]) as scope:
        shape_t = _shape_tensor(shape)
        lo = convert_to_tensor(minval, dtype=dtype, name="min")
        hi = convert_to_tensor(maxval, dtype=dtype, name="max")
        seed1, seed2 = _op_seeds(seed)
        if dtype.is_integer:
            return apply_op("RandomUniformInt", shape_t, lo, hi, seed=seed1, seed2=seed2,
                            name=scope)
        rnd = apply_op("RandomUniform", shape_t, dtype=dtype, seed=seed1, seed2=seed2)
        from graphflow.ops import math_ops
        return math_ops.add(rnd * (hi - lo), lo, name=scope)


def random_shuffle(value: Any, seed: Optional[int] = None, name: Optional[str] = None) -> Tensor:
    """``value`` shuffled along its first dimension. Same as tf.random_shuffle."""
    seed1, seed2 = _op_seeds(seed)
    return apply_op("RandomShuffle", value, seed=seed1, seed2=seed2, name=name or "RandomShuffle")


# tf.random.* names (TF 1.15's compat.v1.random plus TF2's set_seed spelling)
normal = random_normal
uniform = random_uniform
shuffle = random_shuffle
set_seed = set_random_seed
RANDOM_API = ["normal", "uniform", "truncated_normal", "shuffle", "set_seed", "set_random_seed",
              "get_seed"]
