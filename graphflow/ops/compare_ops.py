"""Comparison and logical ops (bool results, not differentiable) and ``Cast``.

Part of the math family: ``math_ops`` re-exports these builders and binds
their Python operators (``<``, ``&``, ``~`` ...).
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from graphflow import dtypes
from graphflow.framework.graph import name_scope
from graphflow.framework.op_def import NOT_DIFFERENTIABLE, REQUIRED, OpDef, apply_op, register_op
from graphflow.framework.operation import Operation, Tensor, convert_to_tensor, register_operator
from graphflow.ops.elementwise import NUMERIC, Elementwise

MATH_API = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
            "logical_and", "logical_or", "logical_not", "logical_xor", "cast"]
__all__ = MATH_API + ["to_float", "to_double", "to_int32", "to_int64"]

BOOL = (dtypes.bool,)


class _Compare(Elementwise):
    inputs = ("x", "y")
    allowed = NUMERIC
    out_dtype = dtypes.bool
    grad = NOT_DIFFERENTIABLE
    int_domain = (-2, 3)  # small ints so that equal elements occur


class _Equality(_Compare):
    """Equal/NotEqual also compare bools and strings (strings via NumPy)."""
    allowed = NUMERIC + (dtypes.bool, dtypes.string)

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        if op.inputs[0].dtype.base_dtype is dtypes.string:
            ref = cls.reference
            return lambda x, y: np.asarray(ref(x, y), dtype=np.bool_)
        return super().kernel(op, ctx)


@register_op
class Equal(_Equality):
    expr = "{0} == {1}"
    reference = staticmethod(np.equal)


@register_op
class NotEqual(_Equality):
    expr = "{0} != {1}"
    reference = staticmethod(np.not_equal)


@register_op
class Less(_Compare):
    expr = "{0} < {1}"
    reference = staticmethod(np.less)


@register_op
class LessEqual(_Compare):
    expr = "{0} <= {1}"
    reference = staticmethod(np.less_equal)


@register_op
class Greater(_Compare):
    expr = "{0} > {1}"
    reference = staticmethod(np.greater)


@register_op
class GreaterEqual(_Compare):
    expr = "{0} >= {1}"
    reference = staticmethod(np.greater_equal)


@register_op
class LogicalAnd(_Compare):
    allowed = BOOL
    expr = "{0} & {1}"
    reference = staticmethod(np.logical_and)


@register_op
class LogicalOr(_Compare):
    allowed = BOOL
    expr = "{0} | {1}"
    reference = staticmethod(np.logical_or)


@register_op
class LogicalNot(_Compare):
    inputs = ("x",)
    allowed = BOOL
    expr = "not {0}"
    reference = staticmethod(np.logical_not)


# --- Cast ------------------------------------------------------------------------------
_FLOAT_GRAD = (dtypes.float16, dtypes.float32, dtypes.float64)


@register_op
class Cast(OpDef):
    """Convert element type. Float -> int truncates toward zero; -> bool is ``x != 0``.

    ``Truncate`` (mantissa truncation for float narrowing) is accepted and
    ignored: conversions round to nearest.
    """
    inputs = ("x",)
    same_dtype = ()
    attrs = {"SrcT": REQUIRED, "DstT": REQUIRED, "Truncate": False}
    elementwise = True

    @classmethod
    def infer(cls, op: Operation) -> list:
        return [(dtypes.as_dtype(op.get_attr("DstT")), op.inputs[0].shape)]

    @staticmethod
    def reference(x: np.ndarray, SrcT: Any, DstT: Any, Truncate: bool = False) -> np.ndarray:  # noqa: N803
        with np.errstate(invalid="ignore", over="ignore"):
            return np.asarray(x).astype(dtypes.as_dtype(DstT).np)

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        dst = op.outputs[0].dtype.np
        if op.inputs[0].dtype.is_floating and not op.outputs[0].dtype.is_floating:
            def run(x: np.ndarray) -> np.ndarray:
                with np.errstate(invalid="ignore", over="ignore"):
                    return x.astype(dst)
            return run
        return lambda x: x.astype(dst)

    @staticmethod
    def grad(op: Operation, dy: Any) -> list:
        src = op.inputs[0].dtype.base_dtype
        if src in _FLOAT_GRAD and dy.dtype.base_dtype in _FLOAT_GRAD:
            return [cast(dy, src)]
        return [None]

    @classmethod
    def examples(cls) -> list:
        rng = np.random.default_rng(7)
        f = rng.uniform(-5, 5, size=(2, 3))
        f[0, :] = [-2.5, -0.5, 2.7]  # truncation toward zero, not floor/rounding
        i = rng.integers(-3, 4, size=(4,))
        pairs = [(f.astype(np.float32), dtypes.int32), (f, dtypes.int64),
                 (f.astype(np.float32), dtypes.float64), (f, dtypes.float32),
                 (f.astype(np.float16), dtypes.float32), (f.astype(np.float32), dtypes.float16),
                 (f.astype(np.float32), dtypes.bool), (i.astype(np.int32), dtypes.float32),
                 (i.astype(np.int64), dtypes.int32), (i.astype(np.int32), dtypes.bool),
                 (i.astype(np.int32) > 0, dtypes.float32), (np.array(True), dtypes.int32),
                 (np.abs(i).astype(np.uint8), dtypes.int64)]
        return [([x], {"SrcT": dtypes.as_dtype(x.dtype), "DstT": d}) for x, d in pairs]


# --- builders ------------------------------------------------------------------------
def cast(x: Any, dtype: Any, name: Optional[str] = None) -> Any:
    """Cast ``x`` to ``dtype``; a tensor already of that dtype is returned as is.
    Same as tf.cast (op Cast)."""
    base = dtypes.as_dtype(dtype).base_dtype
    if isinstance(x, Tensor) and x.dtype == base:
        return x
    with name_scope(name, "Cast", [x]) as scope:
        x = convert_to_tensor(x, name="x")
        src = x.dtype.base_dtype
        if src != base:
            x = apply_op("Cast", x, name=scope, SrcT=src, DstT=base, Truncate=False)
        return x


def to_float(x: Any, name: str = "ToFloat") -> Any:
    """Cast to float32. Same as TF1's tf.to_float."""
    return cast(x, dtypes.float32, name=name)


def to_double(x: Any, name: str = "ToDouble") -> Any:
    """Cast to float64. Same as TF1's tf.to_double."""
    return cast(x, dtypes.float64, name=name)


def to_int32(x: Any, name: str = "ToInt32") -> Any:
    """Cast to int32. Same as TF1's tf.to_int32."""
    return cast(x, dtypes.int32, name=name)


def to_int64(x: Any, name: str = "ToInt64") -> Any:
    """Cast to int64. Same as TF1's tf.to_int64."""
    return cast(x, dtypes.int64, name=name)


def _binary(op_type: str, doc: str) -> Callable:
    def build(x: Any, y: Any, name: Optional[str] = None) -> Any:
        return apply_op(op_type, x, y, name=name or op_type)
    build.__doc__ = doc + " (op %s)." % op_type
    return build


equal = _binary("Equal", "x == y elementwise, bool result. Same as tf.equal")
not_equal = _binary("NotEqual", "x != y elementwise. Same as tf.not_equal")
less = _binary("Less", "x < y elementwise. Same as tf.less")
less_equal = _binary("LessEqual", "x <= y elementwise. Same as tf.less_equal")
greater = _binary("Greater", "x > y elementwise. Same as tf.greater")
greater_equal = _binary("GreaterEqual", "x >= y elementwise. Same as tf.greater_equal")
logical_and = _binary("LogicalAnd", "x AND y on bool tensors. Same as tf.logical_and")
logical_or = _binary("LogicalOr", "x OR y on bool tensors. Same as tf.logical_or")


def logical_not(x: Any, name: Optional[str] = None) -> Any:
    """NOT x on a bool tensor. Same as tf.logical_not (op LogicalNot)."""
    return apply_op("LogicalNot", x, name=name or "LogicalNot")


def logical_xor(x: Any, y: Any, name: str = "LogicalXor") -> Any:
    """x XOR y, built as (x OR y) AND NOT (x AND y) like TF. Same as tf.logical_xor."""
    return logical_and(logical_or(x, y), logical_not(logical_and(x, y)), name=name)


def register_operators(operator: Callable) -> None:
    """Bind comparison and logical operators with math_ops' operator helper."""
    operator("lt", "Less", less)
    operator("le", "LessEqual", less_equal)
    operator("gt", "Greater", greater)
    operator("ge", "GreaterEqual", greater_equal)
    operator("and", "and", logical_and)
    operator("or", "or", logical_or)
    operator("xor", "xor", logical_xor)
    register_operator("invert", lambda x: logical_not(x))
