"""Reductions (Sum, Mean, Prod, Max, Min, ArgMax, ArgMin), AddN,
UnsortedSegmentSum and BroadcastGradientArgs.

Each ``@register_op`` class is the single declaration of one TF op type; the
builders below them (``tf.reduce_sum``, ``tf.argmax``, ``tf.add_n`` ...) keep
TF 1.x's signatures, defaults and op names. Kernels live in
``kernels/reduction_kernels.py``. Gradients are built from ordinary ops, so
they can be differentiated again.
"""
from __future__ import annotations

import warnings
from typing import Any, Optional

import numpy as np

from graphflow import dtypes
from graphflow.errors import InvalidArgumentError, KernelError
from graphflow.framework.op_def import (NOT_DIFFERENTIABLE, ConstInput, OpDef, apply_op,
                                        constant_value, register_op)
from graphflow.framework.operation import Operation, Tensor, convert_to_tensor
from graphflow.framework.tensor_shape import TensorShape, unknown_shape
from graphflow.kernels import jitcall
from graphflow.kernels import reduction_kernels as rk
from graphflow.ops import _array_util

__all__ = ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_all",
           "reduce_any", "reduce_logsumexp", "argmax", "argmin", "add_n", "unsorted_segment_sum"]
MATH_API = list(__all__)

INDEX_DTYPES = _array_util.INDEX_DTYPES
_SAMPLE_DTYPES = (dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64, dtypes.float16)


def _static_axes(op: Operation, index: int = 1) -> Optional[list]:
    """Build-time reduction axes of ``op`` (non-negative, checked), or None.

    Raises TF's shape-function ValueError for an axis outside ``[-rank, rank)``.
    """
    val = constant_value(op._inputs[index])
    rank = op._inputs[0]._shape.ndims
    if val is None or rank is None:
        return None
    out = []
    for a in (val.reshape(-1) if isinstance(val, np.ndarray) else np.reshape(val, -1)).tolist():
        if not -rank <= a < rank:
            err = _array_util.shape_error(
                op, "Invalid reduction dimension %d for input with %d dimensions." % (a, rank))
            raise ValueError("%s and with computed input tensors: input[%d] = <%s>." % (
                str(err)[:-1], index, " ".join(str(v) for v in np.reshape(val, -1))))
        out.append(a + rank if a < 0 else a)
    return out


def _reduced_shape(op: Operation) -> TensorShape:
    """Static output shape of a reduction (TF's ReductionShape rule)."""
    _array_util.check_index_dtype(op, 1, "reduction_indices")
    x, axis_t = op._inputs
    keep = op._attrs["keep_dims"]
    if axis_t.shape.ndims is not None and axis_t.shape.ndims > 1:
        raise _array_util.shape_error(op, "Shape must be at most rank 1 but is rank %d"
                                      % axis_t.shape.ndims)
    axes = _static_axes(op)
    if axes is None:
        if axis_t.shape.num_elements() == 0:
            return x.shape
        if keep and x.shape.ndims is not None:
            return unknown_shape(x.shape.ndims)
        return TensorShape(None)
    dims = x.shape.as_list()
    if keep:
        return TensorShape([1 if d in axes else n for d, n in enumerate(dims)])
    return TensorShape([n for d, n in enumerate(dims) if d not in axes])


def _np_axes(x: np.ndarray, axis: Any) -> tuple:
    return tuple(int(a) for a in np.reshape(axis, -1))


def _count(x: np.ndarray, axes: tuple) -> int:
    return int(np.prod([x.shape[a] for a in axes]))


def _reduce_examples(dts: tuple = _SAMPLE_DTYPES) -> list:
    rng = np.random.default_rng(7)
    cases = [((2, 3, 4), [1], False), ((2, 3, 4), [0, 2], True), ((2, 3, 4), -1, False),
             ((3, 4), [0, 1], False), ((3, 4), [], False), ((5,), 0, True), ((), [], False),
             ((0, 3), 0, False), ((2, 0), [1], True), ((4, 1, 3), [-3, 1], False),
             ((2, 3, 2, 3), [0, 2], False)]
    out = []
    for dt in dts:
        for shape, axis, keep in cases:
            if dt.is_floating:
                x = rng.uniform(-2, 2, size=shape)
            else:
                x = rng.integers(-9, 10, size=shape)
            out.append(([x.astype(dt.np), ConstInput(axis, np.int32)], {"keep_dims": keep}))
    return out


# --- gradients (built from ordinary ops, so they differentiate again) -----------------------
def _kept_shape(op: Operation) -> Any:
    """Shape of a reduction's output with ``keep_dims=True``: a list when static,
    else an int32 tensor (reduced dims set to 1 in ``shape(input)``)."""
    from graphflow.ops import array_ops, math_ops
    x = op.inputs[0]
    axes = _static_axes(op)
    if axes is not None and x.shape.is_fully_defined():
        return [1 if d in axes else n for d, n in enumerate(x.shape.as_list())]
    sx = array_ops.shape(x)
    if axes is not None:
        red = np.array([1 if d in axes else 0 for d in range(x.shape.ndims)], np.int32)
    else:  # axes known only at run time: mark them with a segment sum
        rank = array_ops.size(sx)
        ax = math_ops.cast(array_ops.reshape(op.inputs[1], [-1]), dtypes.int32)
        ax = math_ops.floormod(ax + rank, rank)
        red = math_ops.minimum(unsorted_segment_sum(ax * 0 + 1, ax, rank), 1)
    return sx - (sx - 1) * red


def _to_kept(op: Operation, t: Any, kept: Any) -> Any:
    """Reshape an output-shaped tensor to the keep-dims shape (no-op if kept)."""
    from graphflow.ops import array_ops
    if op.get_attr("keep_dims"):
        return t
    return array_ops.reshape(t, kept)


def _sum_grad(op: Operation, dy: Any) -> list:
    """dy reshaped to the keep-dims shape and tiled back over the reduced axes."""
    from graphflow.ops import array_ops, math_ops
    x = op.inputs[0]
    kept = _kept_shape(op)
    if isinstance(kept, list):
        dims = x.shape.as_list()
        if kept == dims and dy.shape.is_compatible_with(dims):
            return [dy, None]  # nothing of size > 1 was reduced
        g = _to_kept(op, dy, kept)
        multiples = [n if k == 1 and n != 1 else 1 for n, k in zip(dims, kept)]
        if all(m == 1 for m in multiples):
            return [g, None]  # only size-1 axes were reduced
        return [array_ops.tile(g, multiples), None]
    g = _to_kept(op, dy, kept)
    sx = array_ops.shape(x)
    return [array_ops.tile(g, math_ops.floordiv(sx, math_ops.maximum(kept, 1))), None]


def _mean_grad(op: Operation, dy: Any) -> list:
    """The Sum gradient divided by the number of elements averaged."""
    from graphflow.ops import array_ops, math_ops
    g = _sum_grad(op, dy)[0]
    x, y = op.inputs[0], op.outputs[0]
    dt = g.dtype.base_dtype
    if x.shape.is_fully_defined() and y.shape.is_fully_defined():
        factor = x.shape.num_elements() // max(y.shape.num_elements(), 1)
        return [g / np.asarray(factor, dt.np), None]
    nx = reduce_prod(array_ops.shape(x))
    ny = reduce_prod(array_ops.shape(y))
    factor = math_ops.floordiv(nx, math_ops.maximum(ny, 1))
    return [g / math_ops.cast(factor, dt), None]


def _prod_grad(op: Operation, dy: Any) -> list:
    """d prod / d x_i = product of the other elements, zeros included.

    With z = (x == 0) and x_safe = x + z (zeros replaced by 1):
    grad_i = prod(x_safe) / x_safe_i when no *other* element is zero, else 0.
    Exact for any number of zeros; its own derivative (second order) treats the
    zero mask as constant, so it is wrong only at points where some x_j is
    exactly 0 (TF uses an exclusive-cumprod construction instead).
    """
    from graphflow.ops import math_ops
    x, axes = op.inputs
    dt = x.dtype.base_dtype
    kept = _kept_shape(op)
    g = _to_kept(op, dy, kept)
    zero = math_ops.cast(math_ops.equal(x, np.asarray(0, dt.np)), dt)
    safe = x + zero
    others = reduce_prod(safe, axes, keepdims=True) / safe
    other_zeros = reduce_sum(zero, axes, keepdims=True) - zero
    mask = math_ops.cast(math_ops.equal(other_zeros, np.asarray(0, dt.np)), dt)
    return [g * others * mask, None]


def _min_or_max_grad(op: Operation, dy: Any) -> list:
    """TF's rule: the gradient is split equally among the tied extreme elements."""
    from graphflow.ops import math_ops
    x, axes = op.inputs
    kept = _kept_shape(op)
    y = _to_kept(op, op.outputs[0], kept)
    g = _to_kept(op, dy, kept)
    hits = math_ops.cast(math_ops.equal(y, x), g.dtype.base_dtype)
    count = reduce_sum(hits, axes, keepdims=True)
    return [hits / count * g, None]


def _add_n_grad(op: Operation, dy: Any) -> list:
    return [dy] * len(op.inputs)


def _unsorted_segment_sum_grad(op: Operation, dy: Any) -> list:
    """Gather the output gradient at each id; rows with a negative id get zeros."""
    return [_gather_drop_negatives(dy, op.inputs[1]), None, None]


def _gather_drop_negatives(params: Any, ids: Tensor) -> Any:
    from graphflow.ops import array_ops, math_ops
    val = constant_value(ids)
    if val is not None and np.all(val >= 0):
        return array_ops.gather(params, ids)
    zero = np.asarray(0, ids.dtype.base_dtype.np)
    gathered = array_ops.gather(params, math_ops.maximum(ids, zero))
    keep = math_ops.cast(math_ops.greater_equal(ids, zero), gathered.dtype.base_dtype)
    if gathered.shape.ndims is not None and ids.shape.ndims is not None:
        for _ in range(gathered.shape.ndims - ids.shape.ndims):
            keep = array_ops.expand_dims(keep, -1)
    else:
        extra = array_ops.rank(gathered) - array_ops.rank(ids)
        ones = array_ops.fill(array_ops.reshape(extra, [1]), 1)
        keep = array_ops.reshape(keep, array_ops.concat([array_ops.shape(ids), ones], 0))
    return gathered * keep


class _Reduce(OpDef):
    """Shared declaration of Sum/Mean/Prod/Max/Min: ``input`` reduced over the
    int32/int64 ``reduction_indices`` (scalar or vector), attr ``keep_dims``."""
    failures = "shapes"
    const_args = (1,)

    inputs = ("input", "reduction_indices")
    same_dtype = ("input",)
    input_dtypes = {"reduction_indices": dtypes.int32}
    attrs = {"keep_dims": False}
    allowed = dtypes.NUMERIC
    kind = ""
    contract_dtypes = _SAMPLE_DTYPES

    @classmethod
    def infer(cls, op: Operation) -> list:
        return [(op._inputs[0]._dtype._base, _reduced_shape(op))]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Any:
        return rk.make_reducer(cls.kind, op.inputs[0].dtype.base_dtype.np,
                               op.get_attr("keep_dims"))

    @classmethod
    def jit_call(cls, op: Operation) -> Any:
        """Float sums and means that are one rows pass (trailing axes) inside a segment:
        the kernel's own ``sum_rows_f`` call, so the same bits."""
        x, axis = op._inputs
        shape = jitcall.static_shape(x)
        value = constant_value(axis)
        if (cls.kind not in ("sum", "mean") or x._dtype not in (dtypes.float32, dtypes.float64)
                or shape is None or value is None or not jitcall.small(shape)):
            return None
        try:
            axes = rk.normalize_axes(np.asarray(value), len(shape))
        except Exception:  # noqa: BLE001 - a bad axis: the kernel reports it
            return None
        passes = rk.reduce_passes(shape, axes)
        out_shape = jitcall.static_shape(op._outputs[0])
        if 0 in shape or len(passes) != 1 or passes[0][0] != "rows" or out_shape is None:
            return None
        m, n = passes[0][1]
        div = n if cls.kind == "mean" else 1
        return jitcall.JitCall(
            ("{g0}({i0}.reshape(%d, %d), {o0}.reshape(%d), %d)" % (m, n, m, div),),
            ("graphflow.kernels.reduction_kernels:sum_rows_f",), (0,), 4,
            ((out_shape, np.dtype(x._dtype.np).name),))

    @classmethod
    def examples(cls) -> list:
        return _reduce_examples(cls.contract_dtypes)


@register_op
class Sum(_Reduce):
    kind = "sum"
    grad = staticmethod(_sum_grad)

    @staticmethod
    def reference(x: np.ndarray, axis: Any, keep_dims: bool = False) -> np.ndarray:
        return np.sum(x, axis=_np_axes(x, axis), keepdims=keep_dims, dtype=x.dtype)


@register_op
class Mean(_Reduce):
    kind = "mean"
    grad = staticmethod(_mean_grad)

    @staticmethod
    def reference(x: np.ndarray, axis: Any, keep_dims: bool = False) -> np.ndarray:
        axes = _np_axes(x, axis)
        n = _count(x, axes)
        if x.dtype.kind == "f":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                m = np.mean(x.astype(np.float64), axis=axes, keepdims=keep_dims)
            return np.asarray(m).astype(x.dtype)
        total = np.sum(x, axis=axes, keepdims=keep_dims, dtype=x.dtype).astype(np.float64)
        return np.trunc(total / n).astype(x.dtype) if n else np.zeros_like(total, x.dtype)


@register_op
class Prod(_Reduce):
    kind = "prod"
    grad = staticmethod(_prod_grad)
    domain = (0.5, 1.5)

    @staticmethod
    def reference(x: np.ndarray, axis: Any, keep_dims: bool = False) -> np.ndarray:
        return np.prod(x, axis=_np_axes(x, axis), keepdims=keep_dims, dtype=x.dtype)


def _extreme_reference(fn: Any, kind: str) -> Any:
    def reference(x: np.ndarray, axis: Any, keep_dims: bool = False) -> np.ndarray:
        axes = _np_axes(x, axis)
        if x.size == 0:
            shape = np.sum(x, axis=axes, keepdims=keep_dims).shape
            return np.full(shape, rk.identity_value(kind, x.dtype), x.dtype)
        return fn(x, axis=axes, keepdims=keep_dims)
    return staticmethod(reference)


@register_op
class Max(_Reduce):
    """Maximum over axes; NaN propagates; the max of no elements is -inf (ints: min)."""
    kind = "max"
    grad = staticmethod(_min_or_max_grad)
    reference = _extreme_reference(np.max, "max")


@register_op
class Min(_Reduce):
    """Minimum over axes; NaN propagates; the min of no elements is +inf (ints: max)."""
    kind = "min"
    grad = staticmethod(_min_or_max_grad)
    reference = _extreme_reference(np.min, "min")


class _LogicalReduce(_Reduce):
    """All/Any: logical and/or of a bool tensor over axes."""
    allowed = (dtypes.bool,)
    grad = NOT_DIFFERENTIABLE

    @classmethod
    def examples(cls) -> list:
        rng = np.random.default_rng(13)
        return [([rng.random(shape) < 0.6, ConstInput(axis, np.int32)], {"keep_dims": keep})
                for shape, axis, keep in (((3, 4), [1], False), ((3, 4), [0], True),
                                          ((2, 3, 4), [0, 2], False), ((5,), [], False),
                                          ((0, 2), [0], False), ((3, 2), [0, 1], False))]


@register_op
class All(_LogicalReduce):
    kind = "all"

    @staticmethod
    def reference(x: np.ndarray, axis: Any, keep_dims: bool = False) -> np.ndarray:
        return np.all(x, axis=_np_axes(x, axis), keepdims=keep_dims)


@register_op
class AnyOp(_LogicalReduce):
    op_type = "Any"  # the class is not called Any, which would shadow typing.Any
    kind = "any"

    @staticmethod
    def reference(x: np.ndarray, axis: Any, keep_dims: bool = False) -> np.ndarray:
        return np.any(x, axis=_np_axes(x, axis), keepdims=keep_dims)


# --- ArgMax / ArgMin -----------------------------------------------------------------------
class _ArgReduce(OpDef):
    """Index of the largest/smallest value along the scalar axis ``dimension``; ties
    give the first index and NaN is never chosen (TF's rule)."""

    inputs = ("input", "dimension")
    same_dtype = ("input",)
    input_dtypes = {"dimension": dtypes.int32}
    attrs = {"output_type": dtypes.int64}
    allowed = dtypes.NUMERIC
    grad = NOT_DIFFERENTIABLE
    kind = ""

    @classmethod
    def infer(cls, op: Operation) -> list:
        _array_util.check_index_dtype(op, 1, "dimension")
        out_t = dtypes.as_dtype(op.get_attr("output_type"))
        if out_t not in INDEX_DTYPES:
            raise TypeError("Value passed to parameter 'output_type' has DataType %s not in "
                            "list of allowed values: int32, int64" % out_t.name)
        x = op.inputs[0]
        rank = x.shape.ndims
        val = constant_value(op.inputs[1])
        if rank is None:
            return [(out_t, TensorShape(None))]
        if val is None:
            return [(out_t, unknown_shape(max(rank - 1, 0)))]
        d = int(np.reshape(val, -1)[0]) if np.size(val) == 1 else None
        if d is None or not -rank <= d < rank:
            raise _array_util.shape_error(
                op, "Expected dimension in the range [%d, %d), but got %s"
                % (-rank, rank, d if d is not None else np.asarray(val).tolist()))
        d = d + rank if d < 0 else d
        dims = x.shape.as_list()
        return [(out_t, TensorShape(dims[:d] + dims[d + 1:]))]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Any:
        return rk.make_arg_reducer(cls.kind, dtypes.as_dtype(op.get_attr("output_type")).np)

    @classmethod
    def examples(cls) -> list:
        rng = np.random.default_rng(3)
        out = []
        for dt in (dtypes.float32, dtypes.float64, dtypes.int32, dtypes.uint8):
            for shape, d in (((5,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), 1), ((2, 3, 4), -1)):
                x = rng.integers(0, 6, size=shape) if dt.is_integer else rng.uniform(-2, 2, shape)
                out.append(([x.astype(dt.np), ConstInput(d, np.int32)],
                             {"output_type": dtypes.int64}))
        nans = np.array([[1.0, np.nan, 3.0], [2.0, 1.0, 0.5], [np.nan, -np.inf, 2.0],
                         [np.nan, np.nan, np.nan], [-np.inf, np.nan, -np.inf]])
        out.append(([nans, ConstInput(1, np.int32)], {"output_type": dtypes.int32}))
        out.append(([nans, ConstInput(0, np.int32)], {"output_type": dtypes.int64}))
        return out


def _arg_reference(fn: Any, kind: str) -> Any:
    def reference(x: np.ndarray, dimension: Any, output_type: Any = dtypes.int64) -> np.ndarray:
        # TF never picks NaN, nor a value at the starting bound after index 0
        bound = rk.arg_start(kind, x.dtype)
        beyond = (x <= bound) if kind == "max" else (x >= bound)
        if x.dtype.kind == "f":
            beyond = beyond | np.isnan(x)
        x = np.where(beyond, bound, x)
        return fn(x, axis=int(dimension)).astype(dtypes.as_dtype(output_type).np)
    return staticmethod(reference)


@register_op
class ArgMax(_ArgReduce):
    kind = "max"
    reference = _arg_reference(np.argmax, "max")


@register_op
class ArgMin(_ArgReduce):
    kind = "min"
    reference = _arg_reference(np.argmin, "min")


# --- AddN ------------------------------------------------------------------------------------
@register_op
class AddN(OpDef):
    """Elementwise sum of a list of tensors of one shape and dtype (no broadcasting)."""
    failures = "shapes"

    inputs = ("*inputs",)
    allowed = dtypes.NUMERIC
    grad = staticmethod(_add_n_grad)

    @classmethod
    def infer(cls, op: Operation) -> list:
        if not op.inputs:
            raise ValueError("AddN needs at least one input")
        shape = op.inputs[0].shape
        for i, t in enumerate(op.inputs[1:], 1):
            if not shape.is_compatible_with(t.shape):
                raise _array_util.shape_error(op, "%s From merging shape 0 with other shapes."
                                              % _merge_message(shape, t.shape))
            shape = shape.merge_with(t.shape)
        return [(op.inputs[0].dtype.base_dtype, shape)]

    @staticmethod
    def reference(values: list) -> np.ndarray:
        return np.sum(np.stack(values), axis=0, dtype=values[0].dtype)

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Any:
        name = op.name

        def run(*xs: np.ndarray) -> np.ndarray:
            shape = xs[0].shape
            for i, x in enumerate(xs[1:], 1):
                if x.shape != shape:
                    raise KernelError(InvalidArgumentError, "Inputs to operation %s of type AddN "
                                      "must have the same size and shape.  Input 0: %s != input "
                                      "%d: %s" % (name, rk._fmt(shape), i, rk._fmt(x.shape)))
            if len(xs) == 1:
                return np.array(xs[0])
            out = np.empty(shape, xs[0].dtype)
            np.add(xs[0], xs[1], out=out)
            for x in xs[2:]:
                np.add(out, x, out=out)
            return out
        return run

    @classmethod
    def examples(cls) -> list:
        rng = np.random.default_rng(5)
        out = []
        for dt in (dtypes.float32, dtypes.float64, dtypes.int32, dtypes.float16):
            for shape, n in (((), 2), ((5,), 3), ((2, 3), 1), ((2, 3), 4), ((0, 2), 2)):
                vals = [rng.uniform(-3, 3, size=shape).astype(dt.np) for _ in range(n)]
                out.append(([vals], {}))
        return out


def _merge_message(a: TensorShape, b: TensorShape) -> str:
    if a.ndims != b.ndims:
        return "Shapes must be equal rank, but are %d and %d" % (a.ndims, b.ndims)
    for d, (p, q) in enumerate(zip(a.as_list(), b.as_list())):
        if p is not None and q is not None and p != q:
            return ("Dimension %d in both shapes must be equal, but are %d and %d. Shapes are %s "
                    "and %s." % (d, p, q, a.to_tf_string(), b.to_tf_string()))
    return "Shapes %s and %s are not compatible" % (a, b)


# --- UnsortedSegmentSum ----------------------------------------------------------------------
@register_op
class UnsortedSegmentSum(OpDef):
    """``out[ids[i], ...] += data[i, ...]`` into ``num_segments`` rows; negative ids are dropped."""

    inputs = ("data", "segment_ids", "num_segments")
    same_dtype = ("data",)
    input_dtypes = {"segment_ids": dtypes.int32, "num_segments": dtypes.int32}
    allowed = dtypes.NUMERIC
    grad = staticmethod(_unsorted_segment_sum_grad)

    @classmethod
    def infer(cls, op: Operation) -> list:
        _array_util.check_index_dtype(op, 1, "segment_ids")
        _array_util.check_index_dtype(op, 2, "num_segments")
        data, ids, num = op.inputs
        if num.shape.ndims not in (None, 0):
            raise _array_util.rank_error(op, 0, num.shape.ndims)
        dt = data.dtype.base_dtype
        n = constant_value(num)
        if data.shape.ndims is None or ids.shape.ndims is None:
            return [(dt, TensorShape(None))]
        k = ids.shape.ndims
        if data.shape.ndims < k:
            raise _array_util.shape_error(op, "Shape must be at least rank %d but is rank %d"
                                          % (k, data.shape.ndims))
        prefix = data.shape[:k]
        if not prefix.is_compatible_with(ids.shape):
            raise _array_util.shape_error(op, _merge_message(prefix, ids.shape))
        lead = None if n is None else int(n)
        return [(dt, TensorShape([lead] + data.shape.as_list()[k:]))]

    @staticmethod
    def reference(data: np.ndarray, segment_ids: np.ndarray, num_segments: Any) -> np.ndarray:
        n = int(num_segments)
        ids = np.asarray(segment_ids)
        if np.any(ids >= n):
            raise ValueError("segment id out of range")
        out = np.zeros((n,) + data.shape[ids.ndim:], data.dtype)
        keep = ids >= 0
        np.add.at(out, ids[keep], data[keep])
        return out

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Any:
        return rk.unsorted_segment_sum

    @classmethod
    def examples(cls) -> list:
        rng = np.random.default_rng(11)
        out = []
        for dt in (dtypes.float32, dtypes.float64, dtypes.int32, dtypes.float16):
            data = rng.uniform(-3, 3, size=(5, 2)).astype(dt.np)
            out.append(([data, np.array([0, 2, 0, -1, 3], np.int32), ConstInput(4, np.int32)], {}))
            out.append(([data[:, 0].copy(), np.array([1, 1, 1, 1, 1], np.int64),
                         ConstInput(2, np.int32)], {}))
            d3 = rng.uniform(-3, 3, size=(2, 3, 2)).astype(dt.np)
            out.append(([d3, np.array([[0, 1, 0], [2, 2, 1]], np.int32), ConstInput(3, np.int32)],
                        {}))
            out.append(([data[:0], np.zeros(0, np.int32), ConstInput(2, np.int32)], {}))
        return out


# --- BroadcastGradientArgs -------------------------------------------------------------------
def bcast_reduction_axes(s0: Any, s1: Any) -> Optional[tuple]:
    """TF's BCast reduction indices for two shapes, or None when they don't broadcast.

    Equal shapes need no reduction. Otherwise an axis goes to ``r0`` when ``s0``
    is 1 (or missing) there, to ``r1`` when ``s1`` is; an axis where both are 1
    goes to both.
    """
    a, b = [int(d) for d in s0], [int(d) for d in s1]
    if a == b:
        return [], []
    n = max(len(a), len(b))
    a = [1] * (n - len(a)) + a
    b = [1] * (n - len(b)) + b
    r0, r1 = [], []
    for i, (p, q) in enumerate(zip(a, b)):
        if p == 1:
            r0.append(i)
        if q == 1:
            r1.append(i)
        if p != 1 and q != 1 and p != q:
            return None
    return r0, r1


@register_op
class BroadcastGradientArgs(OpDef):
    """Reduction axes for the gradients of two broadcast operands with shapes s0, s1."""

    inputs = ("s0", "s1")
    allowed = INDEX_DTYPES
    num_outputs = 2
    grad = NOT_DIFFERENTIABLE

    @classmethod
    def infer(cls, op: Operation) -> list:
        dt = op.inputs[0].dtype.base_dtype
        for t in op.inputs:
            if t.shape.ndims not in (None, 1):
                raise _array_util.rank_error(op, 1, t.shape.ndims)
        v0, v1 = constant_value(op.inputs[0]), constant_value(op.inputs[1])
        if v0 is not None and v1 is not None:
            r = bcast_reduction_axes(v0, v1)
            if r is not None:
                return [(dt, TensorShape([len(r[0])])), (dt, TensorShape([len(r[1])]))]
        return [(dt, TensorShape([None]))] * 2

    @staticmethod
    def reference(s0: np.ndarray, s1: np.ndarray) -> tuple:
        r = bcast_reduction_axes(s0, s1)
        if r is None:
            raise ValueError("Incompatible shapes: %s vs. %s" % (rk._fmt(s0), rk._fmt(s1)))
        return np.array(r[0], s0.dtype), np.array(r[1], s0.dtype)

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Any:
        def run(s0: np.ndarray, s1: np.ndarray) -> tuple:
            r = bcast_reduction_axes(s0, s1)
            if r is None:
                raise KernelError(InvalidArgumentError, "Incompatible shapes: %s vs. %s"
                                  % (rk._fmt(s0.tolist()), rk._fmt(s1.tolist())))
            return np.array(r[0], s0.dtype), np.array(r[1], s0.dtype)
        return run

    @classmethod
    def examples(cls) -> list:
        pairs = [([2, 3], [3]), ([2, 1], [1]), ([1], [1]), ([4, 1, 3], [2, 1]), ([], [5, 2]),
                 ([2, 3], [2, 3]), ([0, 3], [1, 3])]
        out = []
        for dt in (np.int32, np.int64):
            for a, b in pairs:
                out.append(([ConstInput(a, dt), ConstInput(b, dt)], {}))
        return out


def broadcast_gradient_args(s0: Any, s1: Any, name: Optional[str] = None) -> tuple:
    """Reduction axes ``(r0, r1)`` for broadcast gradients (TF's raw op, two outputs)."""
    return apply_op("BroadcastGradientArgs", s0, s1, name=name or "BroadcastGradientArgs")


# --- builders --------------------------------------------------------------------------------
def _lookup(new_name: str, new: Any, old_name: str, old: Any) -> Any:
    """TF's deprecated_argument_lookup."""
    if old is not None:
        if new is not None:
            raise ValueError("Cannot specify both '%s' and '%s'" % (old_name, new_name))
        return old
    return new


def _reduction_dims(x: Tensor, axis: Any) -> Any:
    """``axis`` itself, else all axes: a Const range when the rank is known."""
    if axis is not None:
        return axis
    from graphflow.ops import array_ops
    rank = x.shape.ndims
    if rank is not None:
        return array_ops.constant(np.arange(rank, dtype=np.int32))
    return array_ops.range(0, array_ops.rank(x))


def _reduce(op_type: str, input_tensor: Any, axis: Any, keepdims: Any, name: Optional[str],
            reduction_indices: Any, keep_dims: Any) -> Tensor:
    axis = _lookup("axis", axis, "reduction_indices", reduction_indices)
    keepdims = _lookup("keepdims", keepdims, "keep_dims", keep_dims)
    keepdims = False if keepdims is None else bool(keepdims)
    x = convert_to_tensor(input_tensor)
    out = _array_util.build(op_type, name, op_type, x, _reduction_dims(x, axis),
                            keep_dims=keepdims)
    if not keepdims and axis is None and not out.shape.is_fully_defined():
        out.set_shape(())
    return out


def reduce_sum(input_tensor: Any, axis: Any = None, keepdims: Any = None,
               name: Optional[str] = None, reduction_indices: Any = None,
               keep_dims: Any = None) -> Tensor:
    """Sum over ``axis`` (all axes when None). Same as tf.reduce_sum (op ``Sum``)."""
    return _reduce("Sum", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_mean(input_tensor: Any, axis: Any = None, keepdims: Any = None,
                name: Optional[str] = None, reduction_indices: Any = None,
                keep_dims: Any = None) -> Tensor:
    """Mean over ``axis``; integer means truncate toward zero. Same as tf.reduce_mean."""
    return _reduce("Mean", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_max(input_tensor: Any, axis: Any = None, keepdims: Any = None,
               name: Optional[str] = None, reduction_indices: Any = None,
               keep_dims: Any = None) -> Tensor:
    """Maximum over ``axis``. Same as tf.reduce_max (op ``Max``)."""
    return _reduce("Max", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_min(input_tensor: Any, axis: Any = None, keepdims: Any = None,
               name: Optional[str] = None, reduction_indices: Any = None,
               keep_dims: Any = None) -> Tensor:
    """Minimum over ``axis``. Same as tf.reduce_min (op ``Min``)."""
    return _reduce("Min", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_prod(input_tensor: Any, axis: Any = None, keepdims: Any = None,
                name: Optional[str] = None, reduction_indices: Any = None,
                keep_dims: Any = None) -> Tensor:
    """Product over ``axis``. Same as tf.reduce_prod (op ``Prod``)."""
    return _reduce("Prod", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_all(input_tensor: Any, axis: Any = None, keepdims: Any = None,
               name: Optional[str] = None, reduction_indices: Any = None,
               keep_dims: Any = None) -> Tensor:
    """Logical and over ``axis`` of a bool tensor. Same as tf.reduce_all (op ``All``)."""
    return _reduce("All", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_any(input_tensor: Any, axis: Any = None, keepdims: Any = None,
               name: Optional[str] = None, reduction_indices: Any = None,
               keep_dims: Any = None) -> Tensor:
    """Logical or over ``axis`` of a bool tensor. Same as tf.reduce_any (op ``Any``)."""
    return _reduce("Any", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_logsumexp(input_tensor: Any, axis: Any = None, keepdims: Any = None,
                     name: Optional[str] = None, reduction_indices: Any = None,
                     keep_dims: Any = None) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, shifted by the (finite) max so it cannot
    overflow. Same as tf.reduce_logsumexp (scope ``ReduceLogSumExp``)."""
    from graphflow.framework.graph import name_scope
    from graphflow.ops import array_ops, math_ops
    axis = _lookup("axis", axis, "reduction_indices", reduction_indices)
    keepdims = bool(_lookup("keepdims", keepdims, "keep_dims", keep_dims))
    with name_scope(name, "ReduceLogSumExp", _array_util.graph_values(input_tensor) or None):
        x = convert_to_tensor(input_tensor)
        raw_max = reduce_max(x, axis, keepdims=True)
        finite = math_ops.equal(raw_max - raw_max, np.asarray(0, x.dtype.base_dtype.np))
        shift = array_ops.stop_gradient(
            array_ops.where(finite, raw_max, array_ops.zeros_like(raw_max)))
        result = math_ops.log(reduce_sum(math_ops.exp(x - shift), axis, keepdims=keepdims))
        if not keepdims:
            shape = result.shape
            shift = array_ops.reshape(shift, shape.as_list() if shape.is_fully_defined()
                                      else array_ops.shape(result))
        result = result + shift
    if not keepdims and axis is None and not result.shape.is_fully_defined():
        result.set_shape(())
    return result


def _arg(op_type: str, input: Any, axis: Any, name: Optional[str], dimension: Any,  # noqa: A002
         output_type: Any) -> Tensor:
    axis = _lookup("axis", axis, "dimension", dimension)
    axis = 0 if axis is None else axis
    return _array_util.build(op_type, name, op_type, input, axis,
                             output_type=dtypes.as_dtype(output_type))


def argmax(input: Any, axis: Any = None, name: Optional[str] = None,  # noqa: A002
           dimension: Any = None, output_type: Any = dtypes.int64) -> Tensor:
    """Index of the largest value along ``axis`` (default 0). Same as tf.argmax."""
    return _arg("ArgMax", input, axis, name, dimension, output_type)


def argmin(input: Any, axis: Any = None, name: Optional[str] = None,  # noqa: A002
           dimension: Any = None, output_type: Any = dtypes.int64) -> Tensor:
    """Index of the smallest value along ``axis`` (default 0). Same as tf.argmin."""
    return _arg("ArgMin", input, axis, name, dimension, output_type)


def add_n(inputs: Any, name: Optional[str] = None) -> Tensor:
    """Sum of a list of same-shaped tensors. Same as tf.add_n (op ``AddN``)."""
    if not inputs or not isinstance(inputs, (list, tuple)):
        raise ValueError("inputs must be a list of at least one Tensor/IndexedSlices with the "
                         "same dtype and shape")
    if len(inputs) == 1:
        x = convert_to_tensor(inputs[0])
        if name:
            from graphflow.ops import array_ops
            return array_ops.identity(x, name=name)
        return x
    return apply_op("AddN", list(inputs), name=name or "AddN")


def unsorted_segment_sum(data: Any, segment_ids: Any, num_segments: Any,
                         name: Optional[str] = None) -> Tensor:
    """Sum rows of ``data`` into ``num_segments`` segments. Same as tf.unsorted_segment_sum."""
    return _array_util.build("UnsortedSegmentSum", name, "UnsortedSegmentSum", data,
                             segment_ids, num_segments)
