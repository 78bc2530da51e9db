"""Array ops, part 4: joining and splitting: ConcatV2, Pack, Unpack, Split and
SplitV. Same as TF's ``concat``/``stack``/``unstack``/``split``; re-exported by
``graphflow.ops.array_ops``.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from graphflow import dtypes
from graphflow.errors import InvalidArgumentError, KernelError
from graphflow.framework.graph import name_scope
from graphflow.framework.op_def import ConstInput, OpDef, REQUIRED, apply_op, register_op
from graphflow.framework.operation import Operation, Tensor, convert_to_tensor
from graphflow.framework.tensor_shape import TensorShape
from graphflow.ops._array_util import (build, check_index_dtype, const_ints, graph_values,
                                       partial_vector, require_rank, shape_error)
from graphflow.ops.array_ops import constant, identity, shape

__all__ = ["concat", "stack", "unstack", "split"]


def _kerr(msg: str) -> KernelError:
    return KernelError(InvalidArgumentError, msg)


def _fmt(dims: Any) -> str:
    return "[%s]" % ",".join("?" if d is None else str(d) for d in dims)


def _merge_dims(op: Operation, a: list, b: list, extra: str = "") -> list:
    """Merge two same-rank partial shapes with TF's error text."""
    out = []
    for i, (p, q) in enumerate(zip(a, b)):
        if p is not None and q is not None and p != q:
            raise shape_error(op, "Dimension %d in both shapes must be equal, but are %d and %d. "
                                  "Shapes are %s and %s.%s" % (i, p, q, _fmt(a), _fmt(b), extra))
        out.append(p if p is not None else q)
    return out


def _outs(parts: list) -> Any:
    """A multi-output reference result: a tuple, or the array itself for one output
    (the executor stores a single output as is)."""
    parts = [np.array(p, order="C") for p in parts]
    return parts[0] if len(parts) == 1 else tuple(parts)


# --- ConcatV2 ---------------------------------------------------------------------------
def _concat_axis(axis: Any, nd: int) -> int:
    a = int(np.asarray(axis).reshape(-1)[0])
    if a < -nd or a >= nd:
        raise _kerr("ConcatOp : Expected concatenating dimensions in the range [%d, %d), but "
                    "got %d" % (-nd, nd, a))
    return a + nd if a < 0 else a


@register_op
class ConcatV2(OpDef):
    """Join ``values`` along ``axis`` (``tf.concat``)."""
    inputs = ("*values", "axis")
    same_dtype = ("*values",)
    input_dtypes = {"axis": dtypes.int32}
    index_attrs = {"Tidx": -1}
    tensor_inputs = (-1,)

    @classmethod
    def infer(cls, op: Operation) -> list:
        check_index_dtype(op, len(op.inputs) - 1, "axis")
        require_rank(op, len(op.inputs) - 1, 0)
        values = op.inputs[:-1]
        dt = values[0].dtype.base_dtype
        ranks = [v.shape.ndims for v in values if v.shape.ndims is not None]
        if not ranks:
            return [(dt, TensorShape(None))]
        nd = ranks[0]
        if nd == 0:
            raise shape_error(op, "Can't concatenate scalars (use tf.stack instead)",
                              computed=False)
        for r in ranks[1:]:
            if r != nd:
                raise shape_error(op, "Shape must be rank %d but is rank %d" % (nd, r),
                                  computed=False)
        axis = const_ints(op.inputs[-1])
        if axis is None:
            return [(dt, TensorShape([None] * nd))]
        a = int(axis)
        if a < -nd or a >= nd:
            raise shape_error(op, "Shape must be at least rank %d but is rank %d"
                              % (-a if a < 0 else a + 1, nd))
        a = a + nd if a < 0 else a
        known = [v.shape.as_list() for v in values if v.shape.ndims is not None]
        rest = [d[:a] + d[a + 1:] for d in known]
        merged = rest[0]
        for r in rest[1:]:
            merged = _merge_dims(op, merged, r)
        total = sum(d[a] for d in known) if len(known) == len(values) and all(
            d[a] is not None for d in known) else None
        return [(dt, TensorShape(merged[:a] + [total] + merged[a:]))]

    @staticmethod
    def reference(values: list, axis: Any) -> np.ndarray:
        values = [np.asarray(v) for v in values]
        nd = values[0].ndim
        if nd == 0:
            raise _kerr("ConcatOp : Can't concatenate scalars (use tf.stack instead)")
        a = _concat_axis(axis, nd)
        s0 = values[0].shape
        for i, v in enumerate(values[1:], 1):
            if v.ndim != nd:
                raise _kerr("ConcatOp : Ranks of all input tensors should match: shape[0] = %s "
                            "vs. shape[%d] = %s" % (_fmt(s0), i, _fmt(v.shape)))
            for j in range(nd):
                if j != a and v.shape[j] != s0[j]:
                    raise _kerr("ConcatOp : Dimension %d in both shapes must be equal: shape[0] "
                                "= %s vs. shape[%d] = %s" % (j, _fmt(s0), i, _fmt(v.shape)))
        return np.concatenate(values, axis=a)

    @staticmethod
    def grad(op: Operation, dy: Any) -> list:
        values, axis_t = op.inputs[:-1], op.inputs[-1]
        axis = const_ints(axis_t)
        nd = next((v.shape.ndims for v in values if v.shape.ndims is not None), None)
        if axis is not None and nd is not None:
            a = _concat_axis(axis, nd)
            sizes = [v.shape[a] for v in values]
            if None in sizes:
                sizes = stack([shape(v)[a] for v in values])
        else:
            a = axis_t % apply_op("Rank", values[0])
            sizes = stack([apply_op("GatherV2", shape(v), a, 0) for v in values])
        return list(split(dy, sizes, a, num=len(values))) + [None]

    @classmethod
    def examples(cls) -> list:
        c = ConstInput
        a = np.arange(6, dtype=np.float32).reshape(2, 3)
        b = np.arange(4, dtype=np.float32).reshape(2, 2)
        return [([[a, b], c(1, np.int32)], {}), ([[a, a, a], c(-2, np.int64)], {}),
                ([[np.zeros((0, 3), np.int32), np.ones((2, 3), np.int32)], c(0, np.int32)], {}),
                ([[np.array([True])], c(0, np.int32)], {})]


def concat(values: Any, axis: Any, name: str = "concat") -> Tensor:
    """Join tensors along ``axis`` (``tf.concat``); one value gives an Identity."""
    if not isinstance(values, (list, tuple)):
        values = [values]
    if len(values) == 1:
        with name_scope(name, "concat", graph_values(values, axis)) as scope:
            t = convert_to_tensor(axis, dtype=dtypes.int32, name="concat_dim")
            t.shape.assert_has_rank(0)
            return identity(values[0], name=name)
    return build("ConcatV2", name, "concat", list(values), axis)


# --- Pack / Unpack ----------------------------------------------------------------------------
@register_op
class Pack(OpDef):
    """Stack N same-shape tensors along a new dimension ``axis`` (``tf.stack``)."""
    inputs = ("*values",)
    attrs = {"axis": 0}

    @classmethod
    def infer(cls, op: Operation) -> list:
        values = op.inputs
        dt = values[0].dtype.base_dtype
        merged = None
        for i, v in enumerate(values):
            if v.shape.ndims is None:
                continue
            d = v.shape.as_list()
            if merged is None:
                merged = d
            elif len(d) != len(merged):
                raise shape_error(op, "Shapes must be equal rank, but are %d and %d\n\tFrom "
                                      "merging shape %d with other shapes." % (
                                          len(merged), len(d), i - 1))
            else:
                merged = _merge_dims(op, merged, d, "\n\tFrom merging shape %d with other "
                                                    "shapes." % (i - 1))
        if merged is None:
            return [(dt, TensorShape(None))]
        a = op.get_attr("axis")
        r = len(merged) + 1
        if a < -r or a >= r:
            raise shape_error(op, "Invalid axis: %d; must be in [%d,%d)" % (a, -r, r))
        a = a + r if a < 0 else a
        return [(dt, TensorShape(merged[:a] + [len(values)] + merged[a:]))]

    @staticmethod
    def reference(values: list, axis: int = 0) -> np.ndarray:
        values = [np.asarray(v) for v in values]
        for i, v in enumerate(values[1:], 1):
            if v.shape != values[0].shape:
                raise _kerr("Shapes of all inputs must match: values[0].shape = %s != "
                            "values[%d].shape = %s" % (_fmt(values[0].shape), i, _fmt(v.shape)))
        return np.stack(values, axis=axis)

    @staticmethod
    def grad(op: Operation, dy: Any) -> list:
        return list(unstack(dy, num=len(op.inputs), axis=op.get_attr("axis")))

    @classmethod
    def examples(cls) -> list:
        a = np.arange(6, dtype=np.float32).reshape(2, 3)
        return [([[a, a + 1]], {"axis": 0}), ([[a, a, a]], {"axis": -1}),
                ([[np.int64(1), np.int64(2)]], {}), ([[np.zeros((0, 2))]], {"axis": 1})]


def stack(values: Any, axis: int = 0, name: str = "stack") -> Tensor:
    """Stack tensors along a new ``axis`` (``tf.stack``); constant lists become a Const."""
    if axis == 0 and not graph_values(values):
        try:
            return constant(values, name=name)
        except (TypeError, ValueError):
            pass
    first = convert_to_tensor(values[0])
    if first.shape.ndims is not None:
        r = first.shape.ndims + 1
        if axis < -r or axis >= r:
            raise ValueError("Argument `axis` = %d not in range [%d, %d)" % (axis, -r, r))
    return build("Pack", name, "stack", list(values), axis=axis)


@register_op
class Unpack(OpDef):
    """Split ``value`` into ``num`` tensors along ``axis`` (``tf.unstack``)."""
    inputs = ("value",)
    attrs = {"num": REQUIRED, "axis": 0}

    @classmethod
    def output_count(cls, op: Operation) -> int:
        return op.get_attr("num")

    @classmethod
    def infer(cls, op: Operation) -> list:
        x = op.inputs[0]
        dt = x.dtype.base_dtype
        num = op.get_attr("num")
        if x.shape.ndims is None:
            return [(dt, TensorShape(None))] * num
        d = x.shape.as_list()
        a = op.get_attr("axis")
        if a < -len(d) or a >= len(d):
            raise shape_error(op, "axis = %d not in [%d, %d)" % (a, -len(d), len(d)))
        a = a + len(d) if a < 0 else a
        if d[a] is not None and d[a] != num:
            raise shape_error(op, "Dimension must be %d but is %d" % (num, d[a]))
        return [(dt, TensorShape(d[:a] + d[a + 1:]))] * num

    @staticmethod
    def reference(x: Any, num: int, axis: int = 0) -> tuple:
        x = np.asarray(x)
        a = axis + x.ndim if axis < 0 else axis
        if x.shape[a] != num:
            raise _kerr("Input shape axis %d must equal %d, got shape %s"
                        % (a, num, _fmt(x.shape)))
        return _outs([np.take(x, i, axis=a) for i in range(num)])

    @staticmethod
    def grad(op: Operation, *dys: Any) -> list:
        return [stack(list(dys), axis=op.get_attr("axis"))]

    @classmethod
    def examples(cls) -> list:
        x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
        return [([x], {"num": 2}), ([x], {"num": 4, "axis": -1}),
                ([np.array([1, 2, 3], np.int32)], {"num": 3})]


def unstack(value: Any, num: Optional[int] = None, axis: int = 0,
            name: str = "unstack") -> list:
    """Split ``value`` along ``axis`` into a list of tensors (``tf.unstack``)."""
    if num is None:
        x = convert_to_tensor(value)
        s = x.shape
        if s.ndims is None:
            raise ValueError("Cannot infer argument `num` from shape %s" % s)
        a = axis + s.ndims if axis < 0 else axis
        if not 0 <= a < s.ndims:
            raise ValueError("Argument `axis` = %d not in range [%d, %d)"
                             % (axis, -s.ndims, s.ndims))
        num = s[a]
        if num is None:
            raise ValueError("Cannot infer argument `num` from shape %s" % s)
        value = x
    out = build("Unpack", name, "unstack", value, num=num, axis=axis)
    return list(out) if isinstance(out, tuple) else [out]


# --- Split / SplitV ---------------------------------------------------------------------------
def _split_axis(axis: Any, nd: int) -> int:
    a = int(np.asarray(axis).reshape(-1)[0])
    if a < -nd or a >= nd:
        raise _kerr("-%d <= split_dim < %d, but got %d" % (nd, nd, a) if nd else
                    "Split requires a tensor of rank >= 1")
    return a + nd if a < 0 else a


def _static_split_axis(op: Operation, axis: np.ndarray, nd: int) -> int:
    a = int(axis)
    if a < -nd or a >= nd:
        raise shape_error(op, "Dimension size, given by scalar input %d must be in range "
                              "[%d, %d)" % (a, -nd, nd))
    return a + nd if a < 0 else a


@register_op
class Split(OpDef):
    """Split ``value`` into ``num_split`` equal parts along ``split_dim``."""
    inputs = ("split_dim", "value")
    same_dtype = ("value",)
    input_dtypes = {"split_dim": dtypes.int32}
    attrs = {"num_split": REQUIRED}
    tensor_inputs = (0,)

    @classmethod
    def output_count(cls, op: Operation) -> int:
        return op.get_attr("num_split")

    @classmethod
    def infer(cls, op: Operation) -> list:
        check_index_dtype(op, 0, "split_dim")
        require_rank(op, 0, 0)
        x = op.inputs[1]
        n = op.get_attr("num_split")
        dt = x.dtype.base_dtype
        axis = const_ints(op.inputs[0])
        if x.shape.ndims is None:
            return [(dt, TensorShape(None))] * n
        d = x.shape.as_list()
        if axis is None:
            return [(dt, TensorShape([None] * len(d)))] * n
        a = _static_split_axis(op, axis, len(d))
        if d[a] is not None:
            if d[a] % n:  # TF's shape function error, with the node context attached
                raise shape_error(op, "Dimension size must be evenly divisible by %d but is %d"
                                  % (n, d[a]))
            d[a] //= n
        return [(dt, TensorShape(d))] * n

    @staticmethod
    def reference(split_dim: Any, value: Any, num_split: int) -> tuple:
        x = np.asarray(value)
        a = _split_axis(split_dim, x.ndim)
        if x.shape[a] % num_split:
            raise _kerr("Number of ways to split should evenly divide the split dimension, but "
                        "got split_dim %d (size = %d) and num_split %d"
                        % (a, x.shape[a], num_split))
        return _outs(np.split(x, num_split, axis=a))

    @staticmethod
    def grad(op: Operation, *dys: Any) -> list:
        return [None, concat(list(dys), op.inputs[0])]

    @classmethod
    def examples(cls) -> list:
        c = ConstInput
        x = np.arange(24, dtype=np.float32).reshape(4, 6)
        return [([c(1, np.int32), x], {"num_split": 3}), ([c(-2, np.int32), x], {"num_split": 2}),
                ([c(0, np.int32), np.arange(3, dtype=np.int64)], {"num_split": 1})]


def _split_sizes(sizes: list, dim: Optional[int]) -> list:
    neg = [i for i, s in enumerate(sizes) if s == -1]
    if len(neg) > 1:
        raise _kerr("There can only be one -1 in the input.")
    known = [s for s in sizes if s is not None and s != -1]
    if dim is None or any(s is None for s in sizes):
        return [None if s == -1 else s for s in sizes]
    total = sum(known)
    if (neg and total > dim) or (not neg and total != dim):
        raise _kerr("Determined shape must either match input shape along split_dim exactly "
                    "if fully specified, or be less than the size of the input along split_dim "
                    "if not fully specified.  Got: %d" % total)
    return [dim - total if s == -1 else s for s in sizes]


@register_op
class SplitV(OpDef):
    """Split ``value`` into pieces of ``size_splits`` along ``axis`` (one size may be -1)."""
    inputs = ("value", "size_splits", "split_dim")
    same_dtype = ("value",)
    input_dtypes = {"size_splits": dtypes.int32, "split_dim": dtypes.int32}
    attrs = {"num_split": REQUIRED}
    index_attrs = {"Tlen": 1}
    tensor_inputs = (1, 2)

    @classmethod
    def output_count(cls, op: Operation) -> int:
        return op.get_attr("num_split")

    @classmethod
    def infer(cls, op: Operation) -> list:
        check_index_dtype(op, 1, "size_splits")
        check_index_dtype(op, 2, "split_dim")
        require_rank(op, 1, 1)
        require_rank(op, 2, 0)
        x = op.inputs[0]
        n = op.get_attr("num_split")
        dt = x.dtype.base_dtype
        sizes = partial_vector(op.inputs[1]) or [None] * n
        if len(sizes) != n:
            raise shape_error(op, "Length of size_splits should be equal to num_outputs")
        axis = const_ints(op.inputs[2])
        if x.shape.ndims is None:
            return [(dt, TensorShape(None))] * n
        d = x.shape.as_list()
        if axis is None:
            return [(dt, TensorShape([None] * len(d)))] * n
        a = _static_split_axis(op, axis, len(d))
        if sizes.count(-1) > 1:
            raise shape_error(op, "size_splits can only have one -1")
        try:
            sizes = _split_sizes(sizes, d[a])
        except KernelError:
            raise shape_error(op, "can't split axis of size %d into pieces of size [%s]" % (
                d[a], ",".join(str(s) for s in sizes))) from None
        return [(dt, TensorShape(d[:a] + [s] + d[a + 1:])) for s in sizes]

    @staticmethod
    def reference(value: Any, size_splits: Any, split_dim: Any, num_split: int) -> tuple:
        x = np.asarray(value)
        a = _split_axis(split_dim, x.ndim)
        sizes = _split_sizes([int(s) for s in np.asarray(size_splits).reshape(-1)], x.shape[a])
        if len(sizes) != num_split:
            raise _kerr("size_splits must have num_split (%d) elements, got %d"
                        % (num_split, len(sizes)))
        cuts = np.cumsum(sizes)[:-1]
        return _outs(np.split(x, cuts, axis=a))

    @staticmethod
    def grad(op: Operation, *dys: Any) -> list:
        return [concat(list(dys), op.inputs[2]), None, None]

    @classmethod
    def examples(cls) -> list:
        c = ConstInput
        x = np.arange(24, dtype=np.float32).reshape(4, 6)
        return [([x, c([1, 2, 3], np.int32), c(1, np.int32)], {"num_split": 3}),
                ([x, c([-1, 1], np.int64), c(0, np.int32)], {"num_split": 2}),
                ([x, c([0, 4], np.int32), c(-2, np.int32)], {"num_split": 2})]


def split(value: Any, num_or_size_splits: Any, axis: Any = 0, num: Optional[int] = None,
          name: str = "split") -> list:
    """Split ``value`` along ``axis`` (``tf.split``): an int gives equal parts (Split),
    a list of sizes gives SplitV. Returns a list of tensors."""
    if isinstance(num_or_size_splits, (int, np.integer)) and not isinstance(
            num_or_size_splits, bool):
        out = build("Split", name, "split", axis, value, num_split=int(num_or_size_splits))
    else:
        sizes = num_or_size_splits
        if num is None:
            if not graph_values(sizes):
                arr = np.asarray(sizes)
                if arr.ndim == 0:
                    raise ValueError("Rank-0 tensors are not supported as the "
                                     "num_or_size_splits argument to split. Argument provided: "
                                     "%s" % (num_or_size_splits,))
                num = arr.shape[0]
            else:
                t = convert_to_tensor(sizes)
                if t.shape.ndims == 0:
                    raise ValueError("Rank-0 tensors are not supported as the "
                                     "num_or_size_splits argument to split. Argument provided: "
                                     "%s" % (num_or_size_splits,))
                num = t.shape[0] if t.shape.ndims == 1 else None
                sizes = t
            if num is None:
                raise ValueError("Cannot infer num from shape %s" % (num_or_size_splits,))
        if not graph_values(sizes):
            sizes = convert_to_tensor(sizes)  # outside the op's scope, as in TF ("Const")
        out = build("SplitV", name, "split", value, sizes, axis, num_split=num)
    return list(out) if isinstance(out, tuple) else [out]
