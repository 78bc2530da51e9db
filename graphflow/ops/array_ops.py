"""Array ops, part 1: constants, placeholders, identity, stop_gradient, filled
tensors (zeros, ones, fill, *_like), shape queries and ``range``. Same as TF's
``array_ops``.

The family continues in ``shape_ops`` (reshape, transpose, tile, ...),
``slicing_ops`` (slice, strided_slice, ``__getitem__``, gather), ``concat_ops``
(concat, stack, split), ``pad_ops`` (pad) and ``selection_ops`` (where, one_hot,
unique); all are re-exported here, so ``array_ops.__all__`` lists every ``tf.*``
array builder.
"""
from __future__ import annotations

import builtins
from typing import Any, Callable, Optional

import numpy as np

from graphflow import dtypes
from graphflow.errors import InvalidArgumentError, KernelError
from graphflow.framework.graph import name_scope
from graphflow.framework.op_def import (NOT_DIFFERENTIABLE, REQUIRED, ConstInput, OpDef,
                                        apply_op, constant_value, register_op)
from graphflow.framework.operation import (Operation, Tensor, convert_to_tensor,
                                           register_operator)
from graphflow.framework.tensor_shape import TensorShape, as_shape
from graphflow.kernels import jitcall
from graphflow.ops._array_util import (INDEX_DTYPES, alloc_message, build, check_alloc,
                                       check_index_dtype, graph_values, partial_vector,
                                       rank_error, require_rank, shape_error)

__all__ = ["constant", "placeholder", "placeholder_with_default", "identity", "stop_gradient",
           "zeros", "ones", "fill", "zeros_like", "ones_like", "shape", "size", "rank", "range",
           "newaxis"]

newaxis = None
_pyrange = builtins.range  # this module defines tf.range
tf_shape = as_shape


def _kerr(msg: str) -> KernelError:
    return KernelError(InvalidArgumentError, msg)


def _ints(a: Any) -> list:
    return [int(v) for v in np.asarray(a).reshape(-1)]


def _reduce_sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    from graphflow.ops.reduction_ops import reduce_sum  # written by the reductions family
    return reduce_sum(x, axis=axis, keepdims=keepdims)


def _to_numpy(value: Any, dtype: Any, name: str) -> np.ndarray:
    """Convert a Python/numpy value to an array of ``dtype`` (TF's checks)."""
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.infer_dtype(value)
    fast = _to_numpy_fast(value, dt)
    if fast is not None:
        return fast
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


_SHORT_LIST = 64
_I64_MIN, _I64_MAX = -2 ** 63, 2 ** 63 - 1  # beyond: numpy makes an object array


def _to_numpy_fast(value: Any, dt: Any) -> Optional[np.ndarray]:
    """``_to_numpy`` for the values gradients and shape arguments build all the
    time (a Python float/int for a float dtype, Python ints or a short list of
    them for an int dtype), with the same results and checks; None otherwise."""
    tv = type(value)
    if (tv is np.ndarray or isinstance(value, np.generic)) and value.dtype is dt.np \
            and value.dtype.kind in "biufc":
        return np.array(value)  # already the wanted numeric dtype: a copy, as below
    if tv is float or tv is int and _I64_MIN <= value <= _I64_MAX:
        if dt.is_floating or dt.is_complex:
            return np.array(value, dtype=dt.np)
        if tv is int and dt.is_integer:
            info = np.iinfo(dt.np)
            if value < info.min or value > info.max:
                raise TypeError("Value out of range for %s: %r" % (dt.name, value))
            return np.array(value, dtype=dt.np)
        return None
    if tv is list and 0 < len(value) <= _SHORT_LIST and dt.is_integer \
            and all(type(v) is int for v in value):
        lo, hi = min(value), max(value)
        if lo < _I64_MIN or hi > _I64_MAX:
            return None
        info = np.iinfo(dt.np)
        if lo < info.min or hi > info.max:
            raise TypeError("Value out of range for %s: %r" % (dt.name, value))
        return np.array(value, dtype=dt.np)
    return None


@register_op
class Const(OpDef):
    """A constant tensor; its value lives in the ``value`` attr."""
    failures = "never"
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
            too_big = alloc_message(shape, arr.dtype)
            if too_big is not None:
                raise ValueError("Cannot create constant '%s' of shape %s: %s"
                                 % (name, list(shape), too_big))
            arr = np.full(shape, arr.reshape(-1)[0], dtype=arr.dtype)
        else:
            raise TypeError("Expected Tensor's shape: %s, but got %s." % (shape, arr.shape)) \
                if verify_shape else ValueError(
                    "Eager execution of tf.constant with unsupported shape. Tensor %s (converted "
                    "from %r) has %d elements, but got `shape` %s with %d elements)."
                    % (name, value, arr.size, shape, n))
    return apply_op("Const", name=name, value=arr, dtype=dtypes.as_dtype(arr.dtype)
                    if dtype is None else dtypes.as_dtype(dtype))


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

    @classmethod
    def jit_call(cls, op: Operation) -> Any:
        """A value (not a variable read) forwards inside a segment too."""
        if op._inputs[0]._dtype.is_ref_dtype or jitcall.static_shape(op._inputs[0]) is None:
            return None
        return jitcall.JitCall(("{o0} = {i0}",))

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
    failures = "never"
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


# --- autopacking: lists holding tensors convert through Pack -------------------------
def _has_graph_value(v: Any) -> bool:
    if isinstance(v, (list, tuple)):
        return any(_has_graph_value(x) for x in v)
    return isinstance(v, Tensor) or hasattr(v, "_as_graph_element")


def _first_dtype(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        for x in v:
            d = _first_dtype(x)
            if d is not None:
                return d
        return None
    if isinstance(v, Tensor) or hasattr(v, "_as_graph_element"):
        return v.dtype.base_dtype
    return None


def _pack_nested(value: Any, dtype: Any, name: str) -> Tensor:
    with name_scope(name) as scope:
        elems = []
        for i, x in enumerate(value):
            if _has_graph_value(x):
                elems.append(_pack_nested(x, dtype, str(i)) if isinstance(x, (list, tuple))
                             else convert_to_tensor(x, dtype=dtype))
            else:
                elems.append(constant(x, dtype=dtype, name=str(i)))
        return apply_op("Pack", elems, name=scope, axis=0)


def _constant_or_pack(value: Any, dtype: Any = None, name: str = "Const") -> Tensor:
    """convert_to_tensor's fallback: a Const, or a Pack when a (nested) list holds
    tensors (TF's autopacking, e.g. ``reshape(x, [tf.shape(x)[0], -1])``)."""
    if isinstance(value, (list, tuple)) and _has_graph_value(value):
        dt = dtypes.as_dtype(dtype) if dtype is not None else _first_dtype(value)
        return _pack_nested(value, dt, "packed" if name in (None, "Const") else name)
    return constant(value, dtype=dtype, name=name)


register_operator("constant", _constant_or_pack)


@register_op
class StopGradient(OpDef):
    """Forwards its input; gradients do not flow through it."""
    failures = "never"
    inputs = ("input",)
    forwards = 0
    grad = NOT_DIFFERENTIABLE

    @staticmethod
    def reference(x: Any) -> Any:
        return x

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        return lambda x: x

    @classmethod
    def examples(cls) -> list:
        return [([np.arange(6.0).reshape(2, 3)], {}), ([np.int32(3)], {})]


def stop_gradient(input: Any, name: Optional[str] = None) -> Tensor:  # noqa: A002
    """``input``, treated as a constant by ``tf.gradients`` (``tf.stop_gradient``)."""
    return build("StopGradient", name, "StopGradient", input)


# --- filled tensors -------------------------------------------------------------------
@register_op
class Fill(OpDef):
    """A tensor of shape ``dims`` filled with the scalar ``value`` (``tf.fill``)."""
    inputs = ("dims", "value")
    same_dtype = ("value",)
    input_dtypes = {"dims": dtypes.int32}
    index_attrs = {"index_type": 0}
    partial_inputs = (0,)

    @classmethod
    def infer(cls, op: Operation) -> list:
        check_index_dtype(op, 0, "dims")
        require_rank(op, 0, 1)
        require_rank(op, 1, 0)
        dims = partial_vector(op.inputs[0])
        for d in dims or ():
            if d is not None and d < -1:
                raise shape_error(op, "Dimension %d must be >= 0" % d)
        return [(op.inputs[1].dtype.base_dtype, TensorShape(dims))]

    @staticmethod
    def reference(dims: Any, value: Any) -> np.ndarray:
        d = _ints(dims)
        for x in d:
            if x < 0:
                raise _kerr("Dimension %d must be >= 0" % x)
        value = np.asarray(value)
        check_alloc(d, value.dtype)
        return np.full(d, value, dtype=value.dtype)

    @staticmethod
    def grad(op: Operation, dy: Any) -> list:
        return [None, _reduce_sum(dy)]

    @classmethod
    def examples(cls) -> list:
        return [([ConstInput([2, 3], np.int32), np.float32(1.5)], {}),
                ([ConstInput([], np.int32), np.int64(7)], {}),
                ([ConstInput([0, 2], np.int64), np.float64(2)], {})]


class _LikeOp(OpDef):
    failures = "shapes"
    inputs = ("x",)
    grad = NOT_DIFFERENTIABLE
    fill_value = 0

    @classmethod
    def reference(cls, x: Any) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype == object:
            return np.full(x.shape, b"" if cls.fill_value == 0 else b"1", dtype=object)
        return np.full(x.shape, cls.fill_value, dtype=x.dtype)

    @classmethod
    def examples(cls) -> list:
        return [([np.arange(6.0, dtype=np.float32).reshape(2, 3)], {}),
                ([np.array([True, False])], {}), ([np.int64(4)], {})]


@register_op
class ZerosLike(_LikeOp):
    """Zeros with the shape and dtype of ``x``."""


@register_op
class OnesLike(_LikeOp):
    """Ones with the shape and dtype of ``x``."""
    fill_value = 1


def _zero(dt: Any) -> Any:
    return False if dt is dtypes.bool else "" if dt is dtypes.string else 0


def _one(dt: Any) -> Any:
    return True if dt is dtypes.bool else 1


def _filled(shape_arg: Any, dt: Any, value: Any, scope: str) -> Tensor:
    """TF's zeros/ones body: a Const when small and static, else a Fill."""
    if not _has_graph_value(shape_arg):
        try:
            s = as_shape(shape_arg)
        except (TypeError, ValueError):
            s = None
        if s is not None:
            if not s.is_fully_defined():
                raise ValueError("Cannot convert a partially known TensorShape to a Tensor: %s"
                                 % s)
            dims = s.as_list()
            # TF: a small list/TensorShape becomes a Const; a bare int shape a Fill
            if s.num_elements() < 1000 and not isinstance(shape_arg, (int, np.integer)):
                return constant(value, dtype=dt, shape=dims, name=scope)
            big = any(d >= 2**31 for d in dims)
            shape_arg = constant(dims, dtype=dtypes.int64 if big else dtypes.int32,
                                 name="shape_as_tensor")
    shape_t = convert_to_tensor(shape_arg, dtype=dtypes.int32 if not isinstance(
        shape_arg, Tensor) else None)
    if shape_t.shape.ndims == 0:
        shape_t = reshape(shape_t, [-1])
    return apply_op("Fill", shape_t, constant(value, dtype=dt), name=scope)


def zeros(shape: Any, dtype: Any = dtypes.float32, name: Optional[str] = None) -> Tensor:
    """A tensor of zeros (``tf.zeros``): a Const when small and static, else a Fill."""
    dt = dtypes.as_dtype(dtype).base_dtype
    with name_scope(name, "zeros", graph_values(shape) or None) as scope:
        return _filled(shape, dt, _zero(dt), scope)


def ones(shape: Any, dtype: Any = dtypes.float32, name: Optional[str] = None) -> Tensor:
    """A tensor of ones (``tf.ones``): a Const when small and static, else a Fill."""
    dt = dtypes.as_dtype(dtype).base_dtype
    with name_scope(name, "ones", graph_values(shape) or None) as scope:
        return _filled(shape, dt, _one(dt), scope)


def fill(dims: Any, value: Any, name: Optional[str] = None) -> Tensor:
    """A tensor of shape ``dims`` filled with ``value`` (``tf.fill``)."""
    return build("Fill", name, "Fill", dims, value)


def _fill_like(x: Tensor, dt: Any, value: Any, scope: str) -> Tensor:
    out = apply_op("Fill", shape(x), constant(value, dtype=dt), name=scope)
    out.set_shape(x.shape)
    return out


def zeros_like(tensor: Any, dtype: Any = None, name: Optional[str] = None,
               optimize: bool = True) -> Tensor:
    """Zeros shaped like ``tensor`` (``tf.zeros_like``): a Const named ``zeros_like``
    when the static shape is fully defined, else a ZerosLike op (a Fill when
    ``dtype`` differs from the tensor's)."""
    with name_scope(name, "zeros_like", graph_values(tensor) or None) as scope:
        x = convert_to_tensor(tensor, name="tensor")
        dt = dtypes.as_dtype(dtype).base_dtype if dtype is not None else x.dtype.base_dtype
        if optimize and x.shape.is_fully_defined():
            return _filled(x.shape.as_list(), dt, _zero(dt), scope)
        if dt != x.dtype.base_dtype:
            return _fill_like(x, dt, _zero(dt), scope)
        return apply_op("ZerosLike", x, name=scope)


def ones_like(tensor: Any, dtype: Any = None, name: Optional[str] = None,
              optimize: bool = True) -> Tensor:
    """Ones shaped like ``tensor`` (``tf.ones_like``): as in TF, a Fill named
    ``ones_like`` of ``Shape`` (a Const when the static shape is known) and 1."""
    with name_scope(name, "ones_like", graph_values(tensor) or None) as scope:
        x = convert_to_tensor(tensor, name="tensor")
        dt = dtypes.as_dtype(dtype).base_dtype if dtype is not None else x.dtype.base_dtype
        return _fill_like(x, dt, _one(dt), scope)


# --- shape queries --------------------------------------------------------------------
class _ShapeQuery(OpDef):
    failures = "shapes"
    inputs = ("input",)
    attrs = {"out_type": dtypes.int32}
    grad = NOT_DIFFERENTIABLE

    @classmethod
    def out_type(cls, op: Operation) -> Any:
        dt = dtypes.as_dtype(op.get_attr("out_type"))
        if dt not in INDEX_DTYPES:
            raise TypeError("Value passed to parameter 'out_type' has DataType %s not in list "
                            "of allowed values: int32, int64" % dt.name)
        return dt

    @classmethod
    def examples(cls) -> list:
        cases = [([np.zeros((2, 3), np.float32)], {}), ([np.float64(1)], {}),
                 ([np.zeros((0, 4, 1), np.int32)], {})]
        if "out_type" in cls.attrs:
            cases.append(([np.zeros((5,), np.bool_)], {"out_type": dtypes.int64}))
        return cases


@register_op
class Shape(_ShapeQuery):
    """The shape of ``input`` as a 1-D integer tensor."""

    @classmethod
    def infer(cls, op: Operation) -> list:
        return [(cls.out_type(op), TensorShape([op.inputs[0].shape.ndims]))]

    @staticmethod
    def reference(x: Any, out_type: Any = dtypes.int32) -> np.ndarray:
        return np.array(np.shape(x), dtype=dtypes.as_dtype(out_type).np)


@register_op
class Size(_ShapeQuery):
    """The number of elements of ``input``."""

    @classmethod
    def infer(cls, op: Operation) -> list:
        return [(cls.out_type(op), TensorShape([]))]

    @staticmethod
    def reference(x: Any, out_type: Any = dtypes.int32) -> np.ndarray:
        return np.array(np.size(x), dtype=dtypes.as_dtype(out_type).np)


@register_op
class Rank(_ShapeQuery):
    """The number of dimensions of ``input`` (int32)."""
    attrs = {}

    @classmethod
    def infer(cls, op: Operation) -> list:
        return [(dtypes.int32, TensorShape([]))]

    @staticmethod
    def reference(x: Any) -> np.ndarray:
        return np.array(np.ndim(x), dtype=np.int32)


def _query(op_type: str, input: Any, name: Optional[str], out_type: Any,  # noqa: A002
           static: Callable) -> Tensor:
    with name_scope(name, op_type, graph_values(input) or None) as scope:
        x = convert_to_tensor(input)
        value = static(x.shape)
        if value is not None:
            return constant(value, dtype=out_type or dtypes.int32, name=scope)
        attrs = {} if out_type is None else {"out_type": dtypes.as_dtype(out_type)}
        return apply_op(op_type, x, name=scope, **attrs)


def shape(input: Any, name: Optional[str] = None,  # noqa: A002
          out_type: Any = dtypes.int32) -> Tensor:
    """The shape of ``input`` (``tf.shape``); a Const named ``Shape`` when static."""
    return _query("Shape", input, name, out_type,
                  lambda s: s.as_list() if s.is_fully_defined() else None)


def size(input: Any, name: Optional[str] = None,  # noqa: A002
         out_type: Any = dtypes.int32) -> Tensor:
    """The element count of ``input`` (``tf.size``); a Const when static."""
    return _query("Size", input, name, out_type, lambda s: s.num_elements())


def rank(input: Any, name: Optional[str] = None) -> Tensor:  # noqa: A002
    """The rank of ``input`` (``tf.rank``); a Const when static."""
    return _query("Rank", input, name, None, lambda s: s.ndims)


# --- range ----------------------------------------------------------------------------
_RANGE_ORDER = [dtypes.int32, dtypes.int64, dtypes.float32, dtypes.float64]


def _num(v: Any) -> str:
    v = np.asarray(v)[()]
    return "%g" % v if isinstance(v, np.floating) else str(v)


def _range_size(start: Any, limit: Any, delta: Any) -> int:
    s, lim, d = (np.asarray(v)[()] for v in (start, limit, delta))
    if d == 0:
        raise _kerr("Requires delta != 0: %s" % _num(d))
    if d > 0 and s > lim:
        raise _kerr("Requires start <= limit when delta > 0: %s/%s" % (_num(s), _num(lim)))
    if d < 0 and s < lim:
        raise _kerr("Requires start >= limit when delta < 0: %s/%s" % (_num(s), _num(lim)))
    if isinstance(s, np.integer):
        return (abs(int(lim) - int(s)) + abs(int(d)) - 1) // abs(int(d))
    return int(np.ceil(np.abs((lim - s) / d)))


@register_op
class Range(OpDef):
    """``start, start + delta, ...`` up to (not including) ``limit``."""
    inputs = ("start", "limit", "delta")
    allowed = (dtypes.float16, dtypes.float32, dtypes.float64, dtypes.int8, dtypes.int16,
               dtypes.int32, dtypes.int64)
    grad = NOT_DIFFERENTIABLE
    type_attr = "Tidx"
    tensor_inputs = (0, 1, 2)

    @classmethod
    def infer(cls, op: Operation) -> list:
        for t in op.inputs:
            if t.shape.ndims not in (None, 0):
                raise rank_error(op, 0, t.shape.ndims)
        dt = op.inputs[0].dtype.base_dtype
        vals = [constant_value(t) for t in op.inputs]
        if any(v is None for v in vals):
            return [(dt, TensorShape([None]))]
        try:
            return [(dt, TensorShape([_range_size(*vals)]))]
        except KernelError as e:
            raise shape_error(op, e.message.split(":")[0] if "delta !=" in e.message
                              else e.message) from None

    @staticmethod
    def reference(start: Any, limit: Any, delta: Any) -> np.ndarray:
        n = _range_size(start, limit, delta)
        dt = np.asarray(start).dtype
        check_alloc([n], dt)
        steps = np.full(n, delta, dtype=dt)  # TF accumulates in the op's dtype
        if n:
            steps[0] = start
        return np.add.accumulate(steps, dtype=dt)

    @classmethod
    def examples(cls) -> list:
        c = ConstInput
        return [([c(0, np.int32), c(10, np.int32), c(3, np.int32)], {}),
                ([c(5, np.int64), c(-4, np.int64), c(-2, np.int64)], {}),
                ([c(0.5, np.float32), c(2.0, np.float32), c(0.1, np.float32)], {}),
                ([c(1.0, np.float64), c(1.0, np.float64), c(0.5, np.float64)], {})]


def range(start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None,  # noqa: A001
          name: str = "range") -> Tensor:
    """``[start, start + delta, ...)`` below ``limit`` (``tf.range``).

    With one argument it is the limit. Without ``dtype`` the result takes the
    widest of the arguments' types in int32 < int64 < float32 < float64.
    """
    if limit is None:
        start, limit = 0, start
    args = (("start", start), ("limit", limit), ("delta", delta))
    with name_scope(name, "Range", graph_values(start, limit, delta) or None) as scope:
        if dtype is not None:
            ts = [convert_to_tensor(v, dtype=dtype, name=k) for k, v in args]
        else:
            dts = [v.dtype.base_dtype if _has_graph_value(v) else dtypes.infer_dtype(v)
                   for _, v in args]
            for d in dts:
                if d not in _RANGE_ORDER:
                    raise TypeError("Range does not support dtype %s" % d.name)
            want = max(dts, key=_RANGE_ORDER.index)
            ts = []
            for k, v in args:
                if _has_graph_value(v):
                    t = convert_to_tensor(v)
                    if t.dtype.base_dtype != want:
                        from graphflow.ops.math_ops import cast
                        t = cast(t, want)
                    ts.append(t)
                else:
                    ts.append(constant(v, dtype=want, name=k))
        return apply_op("Range", *ts, name=scope)


# --- the rest of the array family (re-exported) -----------------------------------------
from graphflow.ops import (concat_ops, debug_ops, pad_ops, selection_ops,  # noqa: E402
                           shape_ops, slicing_ops)
from graphflow.ops.concat_ops import *  # noqa: E402,F401,F403
from graphflow.ops.debug_ops import *  # noqa: E402,F401,F403
from graphflow.ops.pad_ops import *  # noqa: E402,F401,F403
from graphflow.ops.shape_ops import *  # noqa: E402,F401,F403
from graphflow.ops.selection_ops import *  # noqa: E402,F401,F403
from graphflow.ops.slicing_ops import *  # noqa: E402,F401,F403

__all__ += (shape_ops.__all__ + slicing_ops.__all__ + concat_ops.__all__ + pad_ops.__all__
            + selection_ops.__all__ + debug_ops.__all__)
