"""Array ops, part 5: selection and encoding: Select / Where (``tf.where``),
OneHot and Unique. Same as TF's; re-exported by ``graphflow.ops.array_ops``.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from graphflow import dtypes
from graphflow.errors import InvalidArgumentError, KernelError
from graphflow.framework.graph import name_scope
from graphflow.framework.op_def import (NOT_DIFFERENTIABLE, ConstInput, OpDef, apply_op,
                                        register_op)
from graphflow.framework.operation import Operation, Tensor, convert_to_tensor
from graphflow.framework.tensor_shape import TensorShape
from graphflow.ops._array_util import (build, check_alloc, const_ints, graph_values,
                                       rank_error, require_rank, shape_error)
from graphflow.ops.array_ops import zeros_like

__all__ = ["where", "one_hot", "unique"]


def _kerr(msg: str) -> KernelError:
    return KernelError(InvalidArgumentError, msg)


def _fmt(dims: Any) -> str:
    return "[%s]" % ",".join("?" if d is None else str(d) for d in dims)


# --- Select (3-argument tf.where) -----------------------------------------------------
@register_op
class Select(OpDef):
    """``t`` where ``condition`` else ``e``. TF1 rule: a vector condition picks
    whole rows (first dimension) of ``t``/``e``; a scalar picks all of one."""
    inputs = ("condition", "t", "e")
    same_dtype = ("t", "e")
    input_dtypes = {"condition": dtypes.bool}

    @classmethod
    def infer(cls, op: Operation) -> list:
        c, t, e = op.inputs
        if c.dtype.base_dtype != dtypes.bool:
            raise TypeError("Input 'condition' of 'Select' Op has type %s that does not match "
                            "expected type of bool." % c.dtype.base_dtype.name)
        dt = t.dtype.base_dtype
        out = t.shape
        if t.shape.ndims is not None and e.shape.ndims is not None:
            if t.shape.ndims != e.shape.ndims:
                raise shape_error(op, "Shapes must be equal rank, but are %d and %d"
                                  % (t.shape.ndims, e.shape.ndims))
            out = TensorShape(_merge(op, t.shape.as_list(), e.shape.as_list()))
        elif t.shape.ndims is None:
            out = e.shape
        cn = c.shape.ndims
        if cn is None or cn == 0 or out.ndims is None:
            return [(dt, out)]
        if cn == 1 and out.ndims > 1:
            _merge(op, c.shape.as_list(), out.as_list()[:1])
        elif cn != out.ndims:
            raise shape_error(op, "Shapes must be equal rank, but are %d and %d"
                              % (cn, out.ndims))
        else:
            out = TensorShape(_merge(op, out.as_list(), c.shape.as_list()))
        return [(dt, out)]

    @staticmethod
    def reference(c: Any, t: Any, e: Any) -> np.ndarray:
        c, t, e = np.asarray(c), np.asarray(t), np.asarray(e)
        if t.shape != e.shape:
            raise _kerr("'then' and 'else' must have the same size.  but received: %s vs. %s"
                        % (_fmt(t.shape), _fmt(e.shape)))
        if c.ndim == 0:
            return np.array(t if c else e, order="C")
        if c.ndim == 1 and t.ndim > 1:
            if c.shape[0] != t.shape[0]:
                raise _kerr("Number of batches of 'then' must match size of 'cond', but saw: "
                            "%d vs. %d" % (t.shape[0], c.shape[0]))
            c = c.reshape(c.shape + (1,) * (t.ndim - 1))
        elif c.shape != t.shape:
            raise _kerr("'cond' and 'then' must have the same size.  but received: %s vs. %s"
                        % (_fmt(c.shape), _fmt(t.shape)))
        return np.where(c, t, e)

    @staticmethod
    def grad(op: Operation, dy: Any) -> list:
        c, x, _ = op.inputs
        zeros = zeros_like(x)
        return [None, apply_op("Select", c, dy, zeros), apply_op("Select", c, zeros, dy)]

    @classmethod
    def examples(cls) -> list:
        rng = np.random.default_rng(3)
        a = rng.normal(size=(3, 2)).astype(np.float32)
        b = rng.normal(size=(3, 2)).astype(np.float32)
        return [([a > 0, a, b], {}), ([np.array([True, False, True]), a, b], {}),
                ([np.bool_(False), a, b], {}),
                ([np.array([True, False]), np.array([1, 2], np.int64),
                  np.array([3, 4], np.int64)], {})]


def _merge(op: Operation, a: list, b: list) -> list:
    out = []
    for i, (p, q) in enumerate(zip(a, b)):
        if p is not None and q is not None and p != q:
            raise shape_error(op, "Dimension %d in both shapes must be equal, but are %d and %d. "
                                  "Shapes are %s and %s." % (i, p, q, _fmt(a), _fmt(b)))
        out.append(p if p is not None else q)
    return out


@register_op
class Where(OpDef):
    """Coordinates (int64, [num_true, rank]) of the true / nonzero elements."""
    inputs = ("input",)
    grad = NOT_DIFFERENTIABLE
    contract_exempt = ("data-dependent output shape; covered by "
                       "tests/ops/test_array_ops.py::test_where_coordinates")

    @classmethod
    def infer(cls, op: Operation) -> list:
        return [(dtypes.int64, TensorShape([None, op.inputs[0].shape.ndims])
                 if op.inputs[0].shape.ndims is not None else TensorShape([None, None]))]

    @staticmethod
    def reference(x: Any) -> np.ndarray:
        return np.argwhere(np.asarray(x)).astype(np.int64)


def where(condition: Any, x: Any = None, y: Any = None, name: Optional[str] = None) -> Tensor:
    """``tf.where`` (TF1): with ``x`` and ``y`` a Select (a vector condition picks
    rows); with neither, the int64 coordinates of true elements (Where)."""
    if x is None and y is None:
        with name_scope(name, "Where", graph_values(condition)) as scope:
            c = convert_to_tensor(condition, preferred_dtype=dtypes.bool, name="input")
            return apply_op("Where", c, name=scope)
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    return build("Select", name, "Select", condition, x, y)


# --- OneHot ---------------------------------------------------------------------------------
@register_op
class OneHot(OpDef):
    """One-hot encoding of ``indices`` with ``depth`` classes along ``axis``.

    Out-of-range (including negative) indices give an all-``off_value`` row.
    """
    inputs = ("indices", "depth", "on_value", "off_value")
    same_dtype = ("on_value", "off_value")
    input_dtypes = {"indices": dtypes.int64, "depth": dtypes.int32}
    attrs = {"axis": -1}
    index_attrs = {"TI": 0}
    tensor_inputs = (1,)
    grad = NOT_DIFFERENTIABLE

    @classmethod
    def infer(cls, op: Operation) -> list:
        idx = op.inputs[0]
        if idx.dtype.base_dtype not in (dtypes.uint8, dtypes.int32, dtypes.int64):
            raise TypeError("Value passed to parameter 'indices' has DataType %s not in list of "
                            "allowed values: uint8, int32, int64" % idx.dtype.base_dtype.name)
        if op.inputs[1].dtype.base_dtype != dtypes.int32:
            raise TypeError("Input 'depth' of 'OneHot' Op has type %s that does not match "
                            "expected type of int32." % op.inputs[1].dtype.base_dtype.name)
        for i in (1, 2, 3):
            require_rank(op, i, 0)
        dt = op.inputs[2].dtype.base_dtype
        a = op.get_attr("axis")
        nd = idx.shape.ndims
        if nd is None or a < -1 or a > nd:  # a bad axis fails at run time, as in TF
            return [(dt, TensorShape(None))]
        depth = const_ints(op.inputs[1])
        if depth is not None and depth < 0:
            raise shape_error(op, "Dimension size, given by scalar input 1, must be "
                                  "non-negative but is %d" % depth)
        dims = idx.shape.as_list()
        dims.insert(nd if a == -1 else a, None if depth is None else int(depth))
        return [(dt, TensorShape(dims))]

    @staticmethod
    def reference(indices: Any, depth: Any, on_value: Any, off_value: Any,
                  axis: int = -1) -> np.ndarray:
        indices, on, off = np.asarray(indices), np.asarray(on_value), np.asarray(off_value)
        if axis < -1 or axis > indices.ndim:
            raise _kerr("Expected axis to be -1 or between [0, %d).  But received: %d"
                        % (indices.ndim + 1, axis))
        d = int(depth)
        if d < 0:
            raise _kerr("depth must be non-negative, got: %d" % d)
        check_alloc(list(indices.shape) + [d], on.dtype)
        hot = indices.astype(np.int64)[..., None] == np.arange(d)
        out = np.where(hot, on, off).astype(on.dtype)
        return np.ascontiguousarray(np.moveaxis(out, -1, axis)) if axis != -1 else out

    @classmethod
    def examples(cls) -> list:
        f32 = np.float32
        return [([np.array([0, 2, -1, 5], np.int32), ConstInput(4, np.int32), f32(1), f32(0)],
                 {}),
                ([np.array([[1, 0], [3, 2]], np.int64), ConstInput(3, np.int32), np.int32(5),
                  np.int32(-1)], {"axis": 0}),
                ([np.array([1, 0], np.uint8), ConstInput(2, np.int32), np.float64(2.5),
                  np.float64(0.5)], {"axis": 1}),
                ([np.int32(1), ConstInput(3, np.int32), np.bool_(True), np.bool_(False)], {})]


def one_hot(indices: Any, depth: Any, on_value: Any = None, off_value: Any = None,
            axis: Optional[int] = None, dtype: Any = None, name: Optional[str] = None) -> Tensor:
    """One-hot tensor (``tf.one_hot``): ``on_value`` (1) where ``indices`` hit,
    ``off_value`` (0) elsewhere; dtype from the values, else float32."""
    with name_scope(name, "one_hot", graph_values(indices, depth, on_value, off_value)) as scope:
        def dt_of(v: Any) -> Any:
            if v is None:
                return None
            return (v.dtype.base_dtype if graph_values(v) else dtypes.infer_dtype(v))
        on_dt, off_dt = dt_of(on_value), dt_of(off_value)
        if dtype is not None:
            dtype = dtypes.as_dtype(dtype)
            for what, d in (("on_value", on_dt), ("off_value", off_dt)):
                if d is not None and d != dtype:
                    raise TypeError("dtype %s of %s does not match dtype parameter %s"
                                    % (d, what, dtype))
        else:
            dtype = on_dt or off_dt or dtypes.float32
        if on_dt is not None and off_dt is not None and on_dt != off_dt:
            raise TypeError("dtype %s of on_value does not match dtype %s of off_value"
                            % (on_dt, off_dt))
        on = convert_to_tensor(1 if on_value is None else on_value, dtype=dtype, name="on_value")
        off = convert_to_tensor(0 if off_value is None else off_value, dtype=dtype,
                                name="off_value")
        idx = convert_to_tensor(indices, name="indices")
        dep = convert_to_tensor(depth, dtype=dtypes.int32, name="depth")
        return apply_op("OneHot", idx, dep, on, off, name=scope,
                        axis=-1 if axis is None else int(axis))


# --- Unique ---------------------------------------------------------------------------------
@register_op
class Unique(OpDef):
    """Distinct elements of a vector in first-seen order, and each element's position.

    Deliberately has no gradient registration (``tf.gradients`` raises LookupError).
    """
    inputs = ("x",)
    attrs = {"out_idx": dtypes.int32}
    num_outputs = 2
    no_gradient = "TF registers no gradient for Unique (tf.gradients raises LookupError)"
    contract_exempt = ("data-dependent output shape; covered by "
                       "tests/ops/test_array_ops.py::test_unique")

    @classmethod
    def infer(cls, op: Operation) -> list:
        x = op.inputs[0]
        if x.shape.ndims not in (None, 1):
            raise rank_error(op, 1, x.shape.ndims)
        idx_dt = dtypes.as_dtype(op.get_attr("out_idx"))
        if idx_dt not in (dtypes.int32, dtypes.int64):
            raise TypeError("Value passed to parameter 'out_idx' has DataType %s not in list of "
                            "allowed values: int32, int64" % idx_dt.name)
        return [(x.dtype.base_dtype, TensorShape([None])), (idx_dt, x.shape.with_rank(1))]

    @staticmethod
    def reference(x: Any, out_idx: Any = dtypes.int32) -> tuple:
        x = np.asarray(x)
        if x.ndim != 1:
            raise _kerr("unique expects a 1D vector.")
        idx_dt = dtypes.as_dtype(out_idx).np
        if x.size == 0:
            return x.copy(), np.zeros(0, idx_dt)
        _, first, inverse = np.unique(x, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        return x[np.sort(first)], rank[inverse.reshape(-1)].astype(idx_dt)


def unique(x: Any, out_idx: Any = dtypes.int32, name: Optional[str] = None) -> tuple:
    """``(y, idx)``: distinct values of vector ``x`` in first-seen order and, for
    each element of ``x``, its position in ``y`` (``tf.unique``)."""
    return build("Unique", name, "Unique", x, out_idx=dtypes.as_dtype(out_idx))
