"""Array ops, part 3: Slice, StridedSlice (with StridedSliceGrad), the
``Tensor.__getitem__`` operator and GatherV2 (Numba kernel). Same as TF's
slicing ops; re-exported by ``graphflow.ops.array_ops``.

A strided-slice spec (begin/end/strides plus the five masks) is decoded once
into items (``...``, new axis, index, slice) that both the static shape rule
and the NumPy reference walk, so build-time and run-time shapes agree.
"""
from __future__ import annotations

import builtins
import numbers
from typing import Any, Optional

import numpy as np

from graphflow import dtypes
from graphflow.errors import InvalidArgumentError, KernelError
from graphflow.framework.graph import name_scope
from graphflow.framework.op_def import ConstInput, OpDef, apply_op, register_op
from graphflow.framework.operation import (Operation, Tensor, convert_to_tensor,
                                           register_operator)
from graphflow.framework.tensor_shape import Dimension, TensorShape
from graphflow.kernels import array_kernels
from graphflow.ops._array_util import (INDEX_DTYPES, build, check_alloc, check_index_dtype,
                                       const_ints, graph_values, partial_vector, rank_error,
                                       require_rank, shape_error)
from graphflow.ops.array_ops import constant, shape

__all__ = ["slice", "strided_slice", "gather"]

_pyslice = builtins.slice  # ``slice`` here is tf.slice
_UNK = object()  # a spec value not known at build time
_MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")


def _kerr(msg: str) -> KernelError:
    return KernelError(InvalidArgumentError, msg)


def _vals(v: Any, n: int) -> list:
    """Spec values as ints, ``_UNK`` where unknown (``v``: array, partial list or None)."""
    if v is None:
        return [_UNK] * n
    return [_UNK if x is None else int(x) for x in (np.asarray(v).reshape(-1)
                                                     if isinstance(v, np.ndarray) else v)]


# --- strided-slice specs ----------------------------------------------------------------
def _spec_items(begin: list, end: list, strides: list, masks: dict) -> list:
    """Decode a spec into items: ("...",), ("new",), ("index", b, s), ("slice", b, e, s).

    In a slice item ``None`` means "from the start/to the end" (mask bit set).
    """
    items = []
    for i, (b, e, s) in enumerate(zip(begin, end, strides)):
        bit = 1 << i
        if s == 0:
            raise _kerr("strides[%d] must be non-zero" % i)
        if masks["ellipsis_mask"] & bit:
            if any(it[0] == "..." for it in items):
                raise _kerr("Multiple ellipses in slice spec not allowed")
            items.append(("...",))
        elif masks["new_axis_mask"] & bit:
            items.append(("new",))
        elif masks["shrink_axis_mask"] & bit:
            items.append(("index", b, s))
        else:
            items.append(("slice", None if masks["begin_mask"] & bit else b,
                          None if masks["end_mask"] & bit else e, s))
    return items


def _resolve(items: list, dims: Optional[list]) -> Optional[list]:
    """Output dims of slicing ``dims`` by ``items`` (None entries unknown).

    Raises KernelError for an out-of-bounds index or too many indices.
    Returns None when the input rank is unknown.
    """
    if dims is None:
        return None
    nd = len(dims)
    n_real = sum(1 for it in items if it[0] in ("index", "slice"))
    if n_real > nd:
        raise _kerr("Index out of range using input dim %d; input has only %d dims"
                    % (nd, nd))
    out, d = [], 0
    for it in items:
        kind = it[0]
        if kind == "...":
            k = nd - n_real
            out.extend(dims[d:d + k])
            d += k
        elif kind == "new":
            out.append(1)
        elif kind == "index":
            b, s, dim = it[1], it[2], dims[d]
            if s is not _UNK and s < 0:
                raise _kerr("only stride 1 allowed on non-range indexing.")
            if b is not _UNK and dim is not None:
                fwd = b + dim if b < 0 else b
                if fwd < 0 or fwd >= dim:
                    raise _kerr("slice index %d of dimension %d out of bounds." % (fwd, d))
            d += 1
        else:
            b, e, s = it[1:]
            dim = dims[d]
            if dim is None or _UNK in (b, e, s):
                out.append(dim if (b, e, s) == (None, None, 1) else None)
            else:
                out.append(len(range(*_pyslice(b, e, s).indices(dim))))
            d += 1
    return out + list(dims[d:])


def _np_index(items: list) -> tuple:
    conv = {"...": lambda it: Ellipsis, "new": lambda it: None,
            "index": lambda it: it[1], "slice": lambda it: _pyslice(*it[1:])}
    return tuple(conv[it[0]](it) for it in items)


def _spec_from_arrays(begin: Any, end: Any, strides: Any, masks: dict) -> list:
    b, e, s = (_vals(np.asarray(v), 0) for v in (begin, end, strides))
    if not len(b) == len(e) == len(s):
        raise _kerr("Expected begin, end, and strides to be 1D equal size tensors, but got "
                    "shapes [%d], [%d], and [%d] instead." % (len(b), len(e), len(s)))
    return _spec_items(b, e, s, masks)


@register_op
class StridedSlice(OpDef):
    """Python-style slicing ``input[begin:end:strides]`` with TF's five masks."""
    inputs = ("input", "begin", "end", "strides")
    same_dtype = ("input",)
    input_dtypes = {"begin": dtypes.int32, "end": dtypes.int32, "strides": dtypes.int32}
    attrs = {m: 0 for m in _MASKS}
    index_attrs = {"Index": 1}
    tensor_inputs = (1, 2, 3)

    @classmethod
    def spec_rule(cls, op: Operation, first: int) -> Optional[list]:
        """Checks the index inputs at ``first..first+2``; the decoded spec or None."""
        names = ("begin", "end", "strides")
        for i, n in enumerate(names):
            check_index_dtype(op, first + i, n)
            require_rank(op, first + i, 1)
        dt0 = op.inputs[first].dtype.base_dtype
        for i, n in enumerate(names[1:], 1):
            if op.inputs[first + i].dtype.base_dtype != dt0:
                raise TypeError("Input '%s' of '%s' Op has type %s that does not match type %s "
                                "of argument 'begin'." % (n, op.type, op.inputs[first + i]
                                                          .dtype.base_dtype.name, dt0.name))
        parts = [partial_vector(op.inputs[first + i]) for i in range(3)]
        lens = {len(p) for p in parts if p is not None}
        if len(lens) > 1:
            raise shape_error(op, "Expected begin, end, and strides to be 1D equal size "
                                  "tensors")
        if not lens:
            return None
        n = lens.pop()
        masks = {m: op.get_attr(m) for m in _MASKS}
        try:
            return _spec_items(*[_vals(p, n) for p in parts], masks)
        except KernelError as e:
            raise shape_error(op, e.message) from None

    @classmethod
    def infer(cls, op: Operation) -> list:
        x = op.inputs[0]
        dt = x.dtype.base_dtype
        if x.shape.ndims is None:  # TF checks the spec only at run time then
            for i, n in enumerate(("begin", "end", "strides"), 1):
                check_index_dtype(op, i, n)
            return [(dt, TensorShape(None))]
        items = cls.spec_rule(op, 1)
        if items is None:
            return [(dt, TensorShape(None))]
        try:
            return [(dt, TensorShape(_resolve(items, x.shape.as_list())))]
        except KernelError as e:
            raise shape_error(op, e.message) from None

    @staticmethod
    def reference(x: Any, begin: Any, end: Any, strides: Any, begin_mask: int = 0,
                  end_mask: int = 0, ellipsis_mask: int = 0, new_axis_mask: int = 0,
                  shrink_axis_mask: int = 0) -> np.ndarray:
        x = np.asarray(x)
        masks = dict(zip(_MASKS, (begin_mask, end_mask, ellipsis_mask, new_axis_mask,
                                  shrink_axis_mask)))
        items = _spec_from_arrays(begin, end, strides, masks)
        _resolve(items, list(x.shape))
        return np.array(x[_np_index(items)], dtype=x.dtype, order="C")

    @staticmethod
    def grad(op: Operation, dy: Any) -> list:
        x, b, e, s = op.inputs
        masks = {m: op.get_attr(m) for m in _MASKS}
        g = apply_op("StridedSliceGrad", shape(x, out_type=b.dtype.base_dtype), b, e, s, dy,
                     **masks)
        return [g, None, None, None]

    @classmethod
    def examples(cls) -> list:
        c = ConstInput
        x = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
        i32 = np.int32
        return [
            ([x, c([1, 0, 0], i32), c([3, 4, 5], i32), c([1, 2, 1], i32)], {}),
            ([x, c([-1, 3], i32), c([0, 0], i32), c([-1, -2], i32)],
             {"begin_mask": 1, "end_mask": 3}),
            ([x, c([0, 1], i32), c([0, 2], i32), c([1, 1], i32)],
             {"ellipsis_mask": 1, "shrink_axis_mask": 2}),
            ([x, c([0, 0, 2], np.int64), c([0, 0, 4], np.int64), c([1, 1, 1], np.int64)],
             {"new_axis_mask": 2, "begin_mask": 1, "end_mask": 1}),
            ([np.arange(5, dtype=np.int32), c([-1], i32), c([0], i32), c([1], i32)],
             {"shrink_axis_mask": 1}),
            ([np.arange(4.0), c([10], i32), c([20], i32), c([1], i32)], {}),
        ]


@register_op
class StridedSliceGrad(OpDef):
    """Zeros of ``shape`` with ``dy`` written where StridedSlice read (its gradient)."""
    inputs = ("shape", "begin", "end", "strides", "dy")
    same_dtype = ("dy",)
    input_dtypes = {"shape": dtypes.int32, "begin": dtypes.int32, "end": dtypes.int32,
                    "strides": dtypes.int32}
    attrs = {m: 0 for m in _MASKS}
    index_attrs = {"Index": 0}
    tensor_inputs = (1, 2, 3)
    partial_inputs = (0,)

    @classmethod
    def infer(cls, op: Operation) -> list:
        check_index_dtype(op, 0, "shape")
        StridedSlice.spec_rule(op, 1)
        return [(op.inputs[4].dtype.base_dtype, TensorShape(partial_vector(op.inputs[0])))]

    @staticmethod
    def reference(shape: Any, begin: Any, end: Any, strides: Any, dy: Any,
                  begin_mask: int = 0, end_mask: int = 0, ellipsis_mask: int = 0,
                  new_axis_mask: int = 0, shrink_axis_mask: int = 0) -> np.ndarray:
        dy = np.asarray(dy)
        masks = dict(zip(_MASKS, (begin_mask, end_mask, ellipsis_mask, new_axis_mask,
                                  shrink_axis_mask)))
        dims = [int(d) for d in np.asarray(shape).reshape(-1)]
        check_alloc(dims, dy.dtype)
        out = np.zeros(dims, dtype=dy.dtype)
        items = _spec_from_arrays(begin, end, strides, masks)
        want = _resolve(items, list(out.shape))
        if tuple(want) != dy.shape:
            raise _kerr("shape of dy was %s instead of %s" % (list(dy.shape), want))
        out[_np_index(items)] = dy
        return out

    @staticmethod
    def grad(op: Operation, ddx: Any) -> list:
        masks = {m: op.get_attr(m) for m in _MASKS}
        return [None, None, None, None,
                apply_op("StridedSlice", ddx, *op.inputs[1:4], **masks)]

    @classmethod
    def examples(cls) -> list:
        c = ConstInput
        i32 = np.int32
        return [([c([3, 4], i32), c([1, 0], i32), c([3, 4], i32), c([1, 2], i32),
                  np.ones((2, 2), np.float32)], {}),
                ([c([4, 2], i32), c([-1, 0], i32), c([0, 0], i32), c([-1, 1], i32),
                  np.arange(8.0).reshape(4, 2)], {"begin_mask": 1, "end_mask": 3}),
                ([c([3, 4], i32), c([0, 1], i32), c([0, 2], i32), c([1, 1], i32),
                  np.arange(3.0)], {"ellipsis_mask": 1, "shrink_axis_mask": 2})]


def _index_dtype(values: list) -> Any:
    return dtypes.int64 if any(isinstance(v, Tensor) and v.dtype.base_dtype == dtypes.int64
                               for v in values) else dtypes.int32


def _index_tensors(values: list, names: tuple) -> list:
    """Convert begin/end/strides-like arguments to one common index dtype (int64 when
    a given tensor is int64, else int32)."""
    given = [convert_to_tensor(v) if graph_values(v) else None for v in values]
    dt = _index_dtype([t for t in given if t is not None])
    out = []
    for v, t, n in zip(values, given, names):
        if t is None:
            t = convert_to_tensor(v, dtype=dt, name=n)
        elif t.dtype.base_dtype != dt:
            from graphflow.ops.math_ops import cast
            t = cast(t, dt)
        out.append(t)
    return out


def strided_slice(input_: Any, begin: Any, end: Any, strides: Any = None, begin_mask: int = 0,
                  end_mask: int = 0, ellipsis_mask: int = 0, new_axis_mask: int = 0,
                  shrink_axis_mask: int = 0, var: Any = None,
                  name: Optional[str] = None) -> Tensor:
    """Strided slice of ``input_`` (``tf.strided_slice``); strides default to ones."""
    with name_scope(name, "StridedSlice", graph_values(input_, begin, end, strides)) as scope:
        if strides is None:
            b = convert_to_tensor(begin) if graph_values(begin) else None
            strides = (apply_op("OnesLike", b) if b is not None and b.shape.ndims is None
                       else [1] * (b.shape[0] if b is not None else len(begin)))
        ts = _index_tensors([begin, end, strides], ("begin", "end", "strides"))
        return apply_op("StridedSlice", input_, *ts, name=scope, begin_mask=begin_mask,
                        end_mask=end_mask, ellipsis_mask=ellipsis_mask,
                        new_axis_mask=new_axis_mask, shrink_axis_mask=shrink_axis_mask)


# --- Tensor.__getitem__ -------------------------------------------------------------------
_SLICE_TYPE_ERROR = ("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and "
                     "scalar tf.int32/tf.int64 tensors are valid indices")


def _check_index(idx: Any) -> None:
    if isinstance(idx, (numbers.Integral, Dimension)):
        return
    dt = getattr(idx, "dtype", None)
    nd = getattr(getattr(idx, "shape", None), "ndims", 0)
    if (not graph_values(idx) or dt is None or dt.base_dtype not in INDEX_DTYPES
            or nd not in (0, None)):
        raise TypeError(_SLICE_TYPE_ERROR + ", got %r" % (idx,))


def _int(v: Any) -> Any:
    return int(v.value if isinstance(v, Dimension) else v) if not graph_values(v) else v


def _getitem(tensor: Any, key: Any) -> Tensor:
    """``tensor[key]`` as one StridedSlice (TF's ``_slice_helper``)."""
    x = convert_to_tensor(tensor)
    key = key if isinstance(key, tuple) else (key,)
    begin, end, strides = [], [], []
    masks = dict.fromkeys(_MASKS, 0)
    for i, s in enumerate(key):
        bit = 1 << i
        if isinstance(s, _pyslice):
            for part in (s.start, s.stop, s.step):
                if part is not None:
                    _check_index(part)
            begin.append(0 if s.start is None else _int(s.start))
            end.append(0 if s.stop is None else _int(s.stop))
            strides.append(1 if s.step is None else _int(s.step))
            masks["begin_mask"] |= bit if s.start is None else 0
            masks["end_mask"] |= bit if s.stop is None else 0
        elif s is Ellipsis or s is None:
            begin.append(0)
            end.append(0)
            strides.append(1)
            masks["ellipsis_mask" if s is Ellipsis else "new_axis_mask"] |= bit
        else:
            _check_index(s)
            s = _int(s)
            begin.append(s)
            end.append(s + 1 if isinstance(s, int) else s)  # end is ignored when shrinking
            strides.append(1)
            masks["shrink_axis_mask"] |= bit
    with name_scope(None, "strided_slice", [x] + graph_values(*key)) as scope:
        if begin:
            dt = _index_dtype(begin + end + strides)
            packed = [_stack_indices(v, dt) for v in (begin, end, strides)]
        else:
            packed = [constant(np.zeros(0, np.int32))] * 3
        return apply_op("StridedSlice", x, *packed, name=scope, **masks)


def _stack_indices(values: list, dt: Any) -> Tensor:
    if not graph_values(values):
        if any(abs(v) >= 2**31 for v in values):
            dt = dtypes.int64
        return constant(values, dtype=dt, name="stack")
    elems = []
    for v in values:
        t = convert_to_tensor(v, dtype=None if graph_values(v) else dt)
        if t.dtype.base_dtype != dt:
            from graphflow.ops.math_ops import cast
            t = cast(t, dt)
        elems.append(t)
    return apply_op("Pack", elems, name="stack", axis=0)


register_operator("getitem", _getitem)


# --- Slice ------------------------------------------------------------------------------------
def _slice_dims(dims: list, begin: list, size: list) -> list:
    """Output dims of Slice; with all values known, TF's run-time checks."""
    if not len(begin) == len(size) == len(dims):
        raise _kerr("Expected begin and size arguments to be 1-D tensors of size %d, but got "
                    "shapes [%d] and [%d] instead." % (len(dims), len(begin), len(size)))
    out = []
    for i, (d, b, s) in enumerate(zip(dims, begin, size)):
        if s == -1:
            s = d - b if d is not None and b is not None else None
        if None not in (d, b, s):
            if not 0 <= b <= d:
                raise _kerr("Expected begin[%d] in [0, %d], but got %d" % (i, d, b))
            if not 0 <= s <= d - b:
                raise _kerr("Expected size[%d] in [0, %d], but got %d" % (i, d - b, s))
        out.append(s)
    return out


@register_op
class Slice(OpDef):
    """``input[begin[i] : begin[i] + size[i]]`` per dimension; size -1 means "to the end"."""
    inputs = ("input", "begin", "size")
    same_dtype = ("input",)
    input_dtypes = {"begin": dtypes.int32, "size": dtypes.int32}
    index_attrs = {"Index": 1}
    tensor_inputs = (1, 2)

    @classmethod
    def infer(cls, op: Operation) -> list:
        check_index_dtype(op, 1, "begin")
        check_index_dtype(op, 2, "size")
        require_rank(op, 1, 1)
        require_rank(op, 2, 1)
        x = op.inputs[0]
        dt = x.dtype.base_dtype
        begin, size = partial_vector(op.inputs[1]), partial_vector(op.inputs[2])
        nd = x.shape.ndims
        for s in size or ():
            if s is not None and s < -1:
                raise ValueError("Invalid value in tensor used for shape: %d" % s)
        n = len(begin) if begin is not None else len(size) if size is not None else None
        if nd is None:
            if size is not None:
                return [(dt, TensorShape([None if d is None or d < 0 else d for d in size]))]
            return [(dt, TensorShape(None if n is None else [None] * n))]
        if n is not None and n != nd:
            raise shape_error(op, "Shape must be rank %d but is rank %d" % (n, nd),
                              computed=False)
        begin, size = begin or [None] * nd, size or [None] * nd
        out = []  # out-of-range begin/size are run-time errors, as in TF
        for d, b, s in zip(x.shape.as_list(), begin, size):
            if s == -1:
                s = d - b if None not in (d, b) and 0 <= b <= d else None
            out.append(s)
        return [(dt, TensorShape(out))]

    @staticmethod
    def reference(x: Any, begin: Any, size: Any) -> np.ndarray:
        x = np.asarray(x)
        b = [int(v) for v in np.asarray(begin).reshape(-1)]
        s = _slice_dims(list(x.shape), b, [int(v) for v in np.asarray(size).reshape(-1)])
        return np.array(x[tuple(_pyslice(i, i + n) for i, n in zip(b, s))], order="C")

    @staticmethod
    def grad(op: Operation, dy: Any) -> list:
        from graphflow.ops.concat_ops import concat
        from graphflow.ops.pad_ops import pad
        x, begin, _ = op.inputs
        b = const_ints(begin)
        xs, ys = x.shape, op.outputs[0].shape
        if b is not None and xs.is_fully_defined() and ys.is_fully_defined():
            after = np.array(xs.as_list()) - np.array(ys.as_list()) - b
            paddings = np.stack([b, after], axis=1).astype(np.int32)
        else:
            r = [-1, 1]
            bt = begin
            after = shape(x, out_type=bt.dtype.base_dtype) - shape(
                op.outputs[0], out_type=bt.dtype.base_dtype) - bt
            paddings = concat([apply_op("Reshape", bt, r), apply_op("Reshape", after, r)], 1)
        return [pad(dy, paddings), None, None]

    @classmethod
    def examples(cls) -> list:
        c = ConstInput
        x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
        return [([x, c([1, 0, 1], np.int32), c([1, 2, -1], np.int32)], {}),
                ([x, c([0, 3, 0], np.int64), c([-1, 0, 2], np.int64)], {}),
                ([np.float64(3), c(np.zeros(0), np.int32), c(np.zeros(0), np.int32)], {})]


def slice(input_: Any, begin: Any, size: Any, name: Optional[str] = None) -> Tensor:  # noqa: A001
    """``size`` elements from ``begin`` per dimension (``tf.slice``); -1 = to the end."""
    with name_scope(name, "Slice", graph_values(input_, begin, size)) as scope:
        b, s = _index_tensors([begin, size], ("begin", "size"))
        return apply_op("Slice", input_, b, s, name=scope)


# --- GatherV2 ---------------------------------------------------------------------------------
def _gather_axis(axis: Any, nd: int) -> int:
    a = int(np.asarray(axis).reshape(-1)[0])
    if a < -nd or a >= nd:
        raise _kerr("Shape must be at least rank %d but is rank %d" % (-a if a < 0 else a + 1,
                                                                        nd))
    return a + nd if a < 0 else a


def _index_error(indices: np.ndarray, flat: np.ndarray, pos: int, n: int) -> KernelError:
    where = np.unravel_index(pos, indices.shape) if indices.ndim else ()
    label = "[%s]" % ",".join(str(int(i)) for i in where) if indices.ndim else ""
    return _kerr("indices%s = %d is not in [0, %d)" % (label, int(flat[pos]), n))


@register_op
class GatherV2(OpDef):
    """Rows of ``params`` along ``axis`` picked by ``indices`` (``tf.gather``)."""
    inputs = ("params", "indices", "axis")
    same_dtype = ("params",)
    input_dtypes = {"indices": dtypes.int32, "axis": dtypes.int32}
    attrs = {"batch_dims": 0}
    type_attr = "Tparams"
    index_attrs = {"Tindices": 1, "Taxis": 2}
    tensor_inputs = (2,)

    @classmethod
    def infer(cls, op: Operation) -> list:
        check_index_dtype(op, 1, "indices")
        check_index_dtype(op, 2, "axis")
        require_rank(op, 2, 0)
        if op.get_attr("batch_dims") != 0:
            raise NotImplementedError("GatherV2 with batch_dims != 0 is not supported")
        p, idx = op.inputs[0].shape, op.inputs[1].shape
        dt = op.inputs[0].dtype.base_dtype
        if p.ndims == 0:
            raise rank_error(op, 1, 0, at_least=True)
        axis = const_ints(op.inputs[2])
        if axis is None or p.ndims is None or idx.ndims is None:
            known = p.ndims is not None and idx.ndims is not None
            return [(dt, TensorShape([None] * (p.ndims + idx.ndims - 1) if known else None))]
        try:
            a = _gather_axis(axis, p.ndims)
        except KernelError as e:
            raise shape_error(op, e.message) from None
        dims = p.as_list()
        return [(dt, TensorShape(dims[:a] + idx.as_list() + dims[a + 1:]))]

    @staticmethod
    def reference(params: Any, indices: Any, axis: Any, batch_dims: int = 0) -> np.ndarray:
        params, indices = np.asarray(params), np.asarray(indices)
        a = _gather_axis(axis, params.ndim)
        n = params.shape[a]
        flat = indices.reshape(-1)
        bad = np.flatnonzero((flat < 0) | (flat >= n))
        if bad.size:
            raise _index_error(indices, flat, int(bad[0]), n)
        return np.take(params, indices, axis=a)

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Any:
        def run(params: np.ndarray, indices: np.ndarray, axis: np.ndarray) -> np.ndarray:
            a = _gather_axis(axis, params.ndim)
            n = params.shape[a]
            flat = np.ascontiguousarray(indices).reshape(-1)
            pos = array_kernels.first_out_of_range(flat, n) if flat.size else -1
            if pos >= 0:
                raise _index_error(indices, flat, pos, n)
            return array_kernels.gather(params, flat, a, indices.shape)
        return run

    @staticmethod
    def grad(op: Operation, dy: Any) -> list:
        from graphflow.framework.indexed_slices import IndexedSlices
        from graphflow.ops.concat_ops import concat
        from graphflow.ops.shape_ops import reshape, transpose
        params, indices, axis_t = op.inputs
        if not isinstance(dy, Tensor):  # e.g. the IndexedSlices of a gather of this gather
            dy = convert_to_tensor(dy)
        params_shape = shape(params)
        axis = const_ints(axis_t)
        nd = params.shape.ndims
        if axis is None or nd is None:
            raise NotImplementedError("GatherV2 gradient needs a constant axis and known rank")
        a = _gather_axis(axis, nd)
        if a == 0:
            if indices.shape.ndims != 1:
                dy = reshape(dy, concat([[-1], params_shape[1:]], 0))
                indices = reshape(indices, [-1])
            return [IndexedSlices(dy, indices, params_shape), None, None]
        # other axes: move the gathered axis first, sum rows into segments, move back
        values = reshape(dy, concat([params_shape[:a], [-1], params_shape[a + 1:]], 0))
        perm = [a] + list(range(a)) + list(range(a + 1, nd))
        flat = reshape(indices, [-1])
        summed = apply_op("UnsortedSegmentSum", transpose(values, perm), flat, params_shape[a])
        return [transpose(summed, np.argsort(perm).astype(np.int32)), None, None]

    @classmethod
    def examples(cls) -> list:
        c = ConstInput
        p = np.arange(24, dtype=np.float32).reshape(4, 3, 2)
        return [([p, np.array([3, 0, 3], np.int32), c(0, np.int32)], {}),
                ([p, np.array([[2, 1], [0, 0]], np.int64), c(1, np.int32)], {}),
                ([p, np.int32(1), c(-1, np.int64)], {}),
                ([np.array([True, False]), np.zeros((0,), np.int32), c(0, np.int32)], {}),
                ([np.arange(6, dtype=np.float16).reshape(3, 2), np.array([2, 1], np.int32),
                  c(0, np.int32)], {}),
                ([np.arange(6, dtype=np.complex128), np.array([5, 0], np.int32),
                  c(0, np.int32)], {})]


def gather(params: Any, indices: Any, validate_indices: Any = None, name: Optional[str] = None,
           axis: Any = None, batch_dims: int = 0) -> Tensor:
    """Gather slices of ``params`` along ``axis`` (default 0) at ``indices`` (``tf.gather``).

    Out-of-range indices fail at run time with InvalidArgumentError.
    """
    if batch_dims != 0:
        raise NotImplementedError("tf.gather with batch_dims != 0 is not supported")
    return build("GatherV2", name, "GatherV2", params, indices, 0 if axis is None else axis)
