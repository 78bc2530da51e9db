"""Array ops: constants, placeholders, identity, shapes, reshapes, slicing,
concatenation and gathers.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from graphflow import dtypes
from graphflow.errors import InvalidArgumentError, KernelError
from graphflow.framework.op_def import OpDef, REQUIRED, apply_op, register_op, NOT_DIFFERENTIABLE
from graphflow.framework.operation import Operation, register_operator
from graphflow.framework.tensor_shape import TensorShape, as_shape

__all__ = ["constant", "placeholder", "placeholder_with_default", "identity"]


tf_shape = as_shape


def _to_numpy(value: Any, dtype: Any, name: str) -> np.ndarray:
    """Convert a Python/numpy value to an array of ``dtype`` (TF's checks)."""
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.infer_dtype(value)
    if dt is dtypes.string:
        arr = np.asarray(value, dtype=object)
        flat = [v.encode() if isinstance(v, str) else v for v in arr.reshape(-1)]
        out = np.empty(arr.shape, dtype=object)
        out.reshape(-1)[:] = flat if flat else []
        return out
    src = np.asarray(value)
    if src.dtype == object or src.dtype.kind in "US":
        raise TypeError("Expected %s, got %r of type '%s' instead." % (
            dt.name, value, type(value).__name__))
    if dt.is_integer and src.dtype.kind in "fc":
        if src.size and not np.all(np.equal(np.mod(src, 1), 0)):
            raise TypeError("Expected %s, got %r of type '%s' instead." % (
                dt.name, value, type(value).__name__))
    if dt.is_integer and src.dtype.kind in "iu" and src.size:
        info = np.iinfo(dt.np)
        if src.min() < info.min or src.max() > info.max:
            raise TypeError("Value out of range for %s: %r" % (dt.name, value))
    if dt.is_bool and src.dtype.kind != "b":
        raise TypeError("Expected bool, got %r of type '%s' instead." % (
            value, type(value).__name__))
    if not dt.is_bool and src.dtype.kind == "b" and not isinstance(value, np.ndarray):
        raise TypeError("Expected %s, got %r of type '%s' instead." % (
            dt.name, value, type(value).__name__))
    return np.array(src, dtype=dt.np)


@register_op
class Const(OpDef):
    """A constant tensor; its value lives in the ``value`` attr."""
    inputs = ()
    attrs = {"value": REQUIRED, "dtype": REQUIRED}
    grad = NOT_DIFFERENTIABLE

    @classmethod
    def infer(cls, op: Operation) -> list:
        return [(op.get_attr("dtype"), TensorShape(op.get_attr("value").shape))]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        value = op.get_attr("value")
        value.setflags(write=False)
        return lambda: value

    @staticmethod
    def reference(value: Any, dtype: Any) -> np.ndarray:
        return value

    @classmethod
    def examples(cls) -> list:
        return [([], {"value": np.asarray(v, dtype=dt.np), "dtype": dt})
                for v, dt in ((1.5, dtypes.float32), ([[1, 2], [3, 4]], dtypes.int32),
                              ([True, False], dtypes.bool), (np.zeros((0, 3)), dtypes.float64))]


def constant(value: Any, dtype: Any = None, shape: Any = None, name: str = "Const",
             verify_shape: bool = False) -> Any:
    """A constant tensor (``tf.constant``). ``shape`` broadcasts a scalar or reshapes."""
    arr = _to_numpy(value, dtype, name)
    if shape is not None:
        shape = tuple(as_shape(shape).as_list())
        n = int(np.prod(shape)) if shape else 1
        if arr.size == n:
            arr = arr.reshape(shape)
        elif arr.size == 1 and not verify_shape:
            arr = np.full(shape, arr.reshape(-1)[0], dtype=arr.dtype)
        else:
            raise TypeError("Expected Tensor's shape: %s, but got %s." % (shape, arr.shape)) \
                if verify_shape else ValueError(
                    "Eager execution of tf.constant with unsupported shape. Tensor %s (converted "
                    "from %r) has %d elements, but got `shape` %s with %d elements)."
                    % (name, value, arr.size, shape, n))
    return apply_op("Const", name=name, value=arr, dtype=dtypes.as_dtype(arr.dtype)
                    if dtype is None else dtypes.as_dtype(dtype))


register_operator("constant", constant)


@register_op
class Placeholder(OpDef):
    """A value that must be fed; running it unfed is an InvalidArgumentError."""
    inputs = ()
    attrs = {"dtype": REQUIRED, "shape": None}
    stateful = True  # never folded or merged
    grad = NOT_DIFFERENTIABLE
    contract_exempt = "has no value of its own; feeding is tested in tests/test_session.py"

    @classmethod
    def infer(cls, op: Operation) -> list:
        return [(op.get_attr("dtype"), as_shape(op.get_attr("shape")))]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        msg = "You must feed a value for placeholder tensor '%s' with dtype %s" % (
            op.name, _tf_type_name(op.get_attr("dtype")))
        shape = as_shape(op.get_attr("shape"))
        if shape.ndims is not None:
            msg += " and shape %s" % shape.to_tf_string()

        def run() -> Any:
            raise KernelError(InvalidArgumentError, msg)
        return run


def _tf_type_name(dt: Any) -> str:
    n = dtypes.as_dtype(dt).name
    return {"float32": "float", "float64": "double", "float16": "half"}.get(n, n)


def placeholder(dtype: Any, shape: Any = None, name: Optional[str] = None) -> Any:
    """A tensor to be fed (``tf.placeholder``)."""
    return apply_op("Placeholder", name=name or "Placeholder", dtype=dtypes.as_dtype(dtype),
                    shape=as_shape(shape))


@register_op
class PlaceholderWithDefault(OpDef):
    """Returns its input unless fed."""
    inputs = ("input",)
    attrs = {"shape": None}
    forwards = 0

    @classmethod
    def infer(cls, op: Operation) -> list:
        return [(op.inputs[0].dtype.base_dtype, as_shape(op.get_attr("shape")))]

    @staticmethod
    def reference(x: Any, shape: Any = None) -> Any:
        return x

    @classmethod
    def examples(cls) -> list:
        return [([np.arange(6.0).reshape(2, 3)], {"shape": tf_shape((2, 3))}),
                ([np.float32(2.0)], {"shape": tf_shape(())})]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        return lambda x: x

    @staticmethod
    def grad(op: Operation, dy: Any) -> list:
        return [dy]


def placeholder_with_default(input: Any, shape: Any, name: Optional[str] = None) -> Any:  # noqa: A002
    """``input`` unless fed (``tf.placeholder_with_default``)."""
    x = constant(input) if not hasattr(input, "dtype") or isinstance(input, np.ndarray) else input
    shape = as_shape(shape)
    if not x.shape.is_compatible_with(shape):
        raise ValueError("Shapes %s and %s are incompatible" % (x.shape, shape))
    return apply_op("PlaceholderWithDefault", x, name=name or "PlaceholderWithDefault",
                    shape=shape)


@register_op
class Identity(OpDef):
    """Forwards its input (reading a variable when given its reference)."""
    inputs = ("input",)
    forwards = 0

    @staticmethod
    def reference(x: Any) -> Any:
        return x

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        return lambda x: x

    @staticmethod
    def grad(op: Operation, dy: Any) -> list:
        return [dy]

    @classmethod
    def examples(cls) -> list:
        return [([np.arange(6, dtype=np.int32).reshape(3, 2)], {}), ([np.float64(1.5)], {})]


def identity(input: Any, name: Optional[str] = None) -> Any:  # noqa: A002
    """Forward ``input`` (``tf.identity``)."""
    return apply_op("Identity", input, name=name or "Identity")


register_operator("deref", lambda t: apply_op("Identity", t, name="read"))
