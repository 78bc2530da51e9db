"""Array ops, part 2: the reshape family (Reshape, ExpandDims, Squeeze,
Transpose, InvertPermutation, BroadcastTo, Tile). Same as TF's ``array_ops``;
re-exported by ``graphflow.ops.array_ops``.
"""
from __future__ import annotations

import builtins
from typing import Any, Optional

import numpy as np

from graphflow import dtypes
from graphflow.errors import InvalidArgumentError, KernelError
from graphflow.framework.graph import name_scope
from graphflow.framework.op_def import (NOT_DIFFERENTIABLE, ConstInput, OpDef, apply_op,
                                        register_op, registered_ops)
from graphflow.framework.operation import Operation, Tensor, convert_to_tensor
from graphflow.framework.tensor_shape import TensorShape
from graphflow.ops._array_util import (INDEX_DTYPES, build, check_alloc, check_index_dtype,
                                       const_ints,
                                       graph_values, partial_vector, rank_error, require_rank,
                                       shape_error)
from graphflow.ops.array_ops import constant, range, shape, size

__all__ = ["reshape", "expand_dims", "squeeze", "transpose", "invert_permutation",
           "broadcast_to", "tile"]

_pyrange = builtins.range  # ``range`` here is tf.range


def _kerr(msg: str) -> KernelError:
    return KernelError(InvalidArgumentError, msg)


def _ints(a: Any) -> list:
    return [int(v) for v in np.asarray(a).reshape(-1)]


def _fmt_dims(dims: Any) -> str:
    return "[%s]" % ",".join("?" if d is None or d < 0 else str(d) for d in dims)


def _reduce_sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    from graphflow.ops.reduction_ops import reduce_sum  # written by the reductions family
    return reduce_sum(x, axis=axis, keepdims=keepdims)


# --- Reshape -----------------------------------------------------------------------
def _shape_of(x: Tensor, out_type: Any = dtypes.int32) -> Tensor:
    return shape(x, out_type=out_type)


@register_op
class Reshape(OpDef):
    """``tensor`` with a new shape of the same size; one entry may be -1."""
    failures = "shapes"
    const_args = (1,)
    inputs = ("tensor", "shape")
    same_dtype = ("tensor",)
    input_dtypes = {"shape": dtypes.int32}
    view_of = 0  # the result may be a view of input 0 (plan copies it when fetched)
    index_attrs = {"Tshape": 1}
    partial_inputs = (1,)

    @classmethod
    def infer(cls, op: Operation) -> list:
        check_index_dtype(op, 1, "shape")
        require_rank(op, 1, 1)
        x = op.inputs[0]
        dt = x.dtype.base_dtype
        target = partial_vector(op.inputs[1])
        if target is None:
            return [(dt, TensorShape(None))]
        for d in target:
            if d is not None and d < -1:
                raise shape_error(op, "Invalid value in tensor used for shape: %d" % d)
        neg = [i for i, d in enumerate(target) if d == -1]
        out = [None if d == -1 else d for d in target]
        if len(neg) > 1:  # an error at run time, as in TF
            return [(dt, TensorShape(out))]
        n_in = x.shape.num_elements()
        unknown = [i for i, d in enumerate(out) if d is None]
        if n_in is None:
            return [(dt, TensorShape(out))]
        known = int(np.prod([d for d in out if d is not None], dtype=np.int64))
        if not unknown:
            if known != n_in:
                raise shape_error(op, "Cannot reshape a tensor with %d elements to shape %s "
                                      "(%d elements)" % (n_in, _fmt_dims(target), known))
        elif len(unknown) == 1 and known > 0:
            if n_in % known:
                raise shape_error(op, "Dimension size must be evenly divisible by %d but is %d"
                                  % (known, n_in))
            out[unknown[0]] = n_in // known
        elif known == 0 and n_in and len(unknown) == len(neg):
            raise shape_error(op, "Cannot reshape a tensor with %d elements to shape %s "
                                  "(0 elements)" % (n_in, _fmt_dims(target)))
        return [(dt, TensorShape(out))]

    @staticmethod
    def reference(x: Any, shape: Any) -> np.ndarray:
        x = np.asarray(x)
        s = _ints(shape)
        for i, d in enumerate(s):
            if d < -1:
                raise _kerr("Size %d must be non-negative, not %d" % (i, d))
        neg = [i for i, d in enumerate(s) if d == -1]
        if len(neg) > 1:
            raise _kerr("Only one input size may be -1, not both %d and %d" % (neg[0], neg[1]))
        known = int(np.prod([d for d in s if d != -1], dtype=np.int64))
        if neg:
            if known == 0:
                raise _kerr("Reshape cannot infer the missing input size for an empty tensor "
                            "unless all specified input sizes are non-zero")
            if x.size % known:
                raise _kerr("Input to reshape is a tensor with %d values, but the requested "
                            "shape requires a multiple of %d" % (x.size, known))
            s[neg[0]] = x.size // known
        elif known != x.size:
            raise _kerr("Input to reshape is a tensor with %d values, but the requested shape "
                        "has %d" % (x.size, known))
        return x.reshape(s)

    @staticmethod
    def grad(op: Operation, dy: Any) -> list:
        return [reshape(dy, _shape_of(op.inputs[0])), None]

    @classmethod
    def examples(cls) -> list:
        c = ConstInput
        x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
        return [([x, c([6, 4], np.int32)], {}), ([x, c([-1], np.int32)], {}),
                ([x, c([4, -1, 2], np.int64)], {}), ([np.float64(3), c([1, 1], np.int32)], {}),
                ([np.zeros((0, 3), np.int32), c([3, 0], np.int32)], {}),
                ([np.array([7], np.int64), c([], np.int32)], {})]


def reshape(tensor: Any, shape: Any, name: Optional[str] = None) -> Tensor:  # noqa: F811
    """``tensor`` with shape ``shape`` (``tf.reshape``); one entry may be -1."""
    return build("Reshape", name, "Reshape", tensor, shape)


@register_op
class ExpandDims(OpDef):
    """Insert a dimension of size 1 at index ``dim``."""
    failures = "shapes"
    const_args = (1,)
    inputs = ("input", "dim")
    same_dtype = ("input",)
    input_dtypes = {"dim": dtypes.int32}
    view_of = 0
    index_attrs = {"Tdim": 1}
    tensor_inputs = (1,)

    @classmethod
    def infer(cls, op: Operation) -> list:
        check_index_dtype(op, 1, "dim")
        x = op.inputs[0]
        dt = x.dtype.base_dtype
        nd = x.shape.ndims
        dim = const_ints(op.inputs[1])
        if dim is None or nd is None:
            return [(dt, TensorShape(None if nd is None else [None] * (nd + 1)))]
        d = int(dim.reshape(-1)[0]) if dim.size == 1 else None
        if d is None:
            raise shape_error(op, "'dim' input must be a tensor with a single value")
        if d < -nd - 1 or d > nd:
            raise shape_error(op, "dim %d not in the interval [%d, %d]." % (d, -nd - 1, nd))
        d = d + nd + 1 if d < 0 else d
        dims = x.shape.as_list()
        dims.insert(d, 1)
        return [(dt, TensorShape(dims))]

    @staticmethod
    def reference(x: Any, dim: Any) -> np.ndarray:
        x = np.asarray(x)
        return np.expand_dims(x, _expand_axis(np.asarray(dim), x.ndim))

    @staticmethod
    def grad(op: Operation, dy: Any) -> list:
        return [reshape(dy, _shape_of(op.inputs[0])), None]

    @classmethod
    def examples(cls) -> list:
        c = ConstInput
        x = np.arange(6.0).reshape(2, 3)
        return [([x, c(0, np.int32)], {}), ([x, c(-1, np.int32)], {}),
                ([x, c([1], np.int64)], {}), ([np.int32(5), c(0, np.int32)], {})]


def _expand_axis(dim: np.ndarray, nd: int) -> int:
    if dim.size != 1:
        raise _kerr("'dim' must be a tensor with a single value")
    d = int(dim.reshape(-1)[0])
    if d < -nd - 1 or d > nd:
        raise _kerr("Tried to expand dim index %d for tensor with %d dimensions." % (d, nd))
    return d + nd + 1 if d < 0 else d


def expand_dims(input: Any, axis: Any = None, name: Optional[str] = None,  # noqa: A002
                dim: Any = None) -> Tensor:
    """Insert a size-1 dimension at ``axis`` (``tf.expand_dims``)."""
    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    axis = dim if axis is None else axis
    if axis is None:
        raise ValueError("Must specify an axis argument to tf.expand_dims()")
    return build("ExpandDims", name, "ExpandDims", input, axis)


@register_op
class Squeeze(OpDef):
    """Remove size-1 dimensions (all of them, or those in ``squeeze_dims``)."""
    failures = "shapes"
    inputs = ("input",)
    attrs = {"squeeze_dims": ()}
    view_of = 0

    @classmethod
    def infer(cls, op: Operation) -> list:
        x = op.inputs[0]
        dt = x.dtype.base_dtype
        if x.shape.ndims is None:
            return [(dt, TensorShape(None))]
        nd = x.shape.ndims
        for i, a in enumerate(op.get_attr("squeeze_dims") or ()):
            if a < -nd or a >= nd:
                raise shape_error(op, "squeeze_dims[%d] not in [%d,%d)." % (i, -nd, nd))
        try:
            dims = _squeezed(x.shape.as_list(), op.get_attr("squeeze_dims"))
        except KernelError as e:
            raise shape_error(op, e.message) from None
        return [(dt, TensorShape(dims))]

    @staticmethod
    def reference(x: Any, squeeze_dims: Any = ()) -> np.ndarray:
        x = np.asarray(x)
        return x.reshape(_squeezed(list(x.shape), squeeze_dims))

    @staticmethod
    def grad(op: Operation, dy: Any) -> list:
        return [reshape(dy, _shape_of(op.inputs[0]))]

    @classmethod
    def examples(cls) -> list:
        x = np.arange(6.0).reshape(1, 2, 1, 3)
        return [([x], {}), ([x], {"squeeze_dims": [2]}), ([x], {"squeeze_dims": [0, -2]}),
                ([np.ones((1, 1), np.int32)], {})]


def _squeezed(dims: list, axes: Any) -> Optional[list]:
    """Dims after squeezing ``axes`` (all size-1 dims when empty); None when unknown."""
    nd = len(dims)
    axes = list(axes or ())
    want = set()
    for a in axes:
        if a < -nd or a >= nd:
            raise _kerr("Tried to squeeze dim index %d for tensor with %d dimensions." % (a, nd))
        want.add(a + nd if a < 0 else a)
    out = []
    for i, d in enumerate(dims):
        if want:
            if i in want:
                if d is not None and d != 1:
                    raise _kerr("Can not squeeze dim[%d], expected a dimension of 1, got %d"
                                % (i, d))
                continue
        elif d is None:
            return None
        elif d == 1:
            continue
        out.append(d)
    return out


def squeeze(input: Any, axis: Any = None, name: Optional[str] = None,  # noqa: A002
            squeeze_dims: Any = None) -> Tensor:
    """Remove size-1 dimensions (``tf.squeeze``); ``axis`` picks which."""
    if axis is not None and squeeze_dims is not None:
        raise ValueError("Cannot specify both 'axis' and 'squeeze_dims'")
    axis = squeeze_dims if axis is None else axis
    if axis is None:
        axis = []
    elif np.isscalar(axis):
        axis = [int(axis)]
    return build("Squeeze", name, "Squeeze", input, squeeze_dims=[int(a) for a in axis])


def _check_perm(perm: Any, n: int) -> list:
    p = _ints(perm)
    if len(p) != n:
        raise _kerr("transpose expects a vector of size %d. But input(1) is a vector of size %d"
                    % (n, len(p)))
    for d in p:
        if d < 0 or d >= n:
            raise _kerr("%d is out of range [0 .. %d)" % (d, n))
    for i in _pyrange(n):
        if i not in p:
            raise _kerr("%d is missing from {%s}." % (i, ",".join(str(d) for d in p)))
    return p


@register_op
class Transpose(OpDef):
    """Permute the dimensions of ``x``: output dim ``i`` is input dim ``perm[i]``."""
    failures = "shapes"
    const_args = (1,)
    inputs = ("x", "perm")
    same_dtype = ("x",)
    input_dtypes = {"perm": dtypes.int32}
    index_attrs = {"Tperm": 1}
    tensor_inputs = (1,)

    @classmethod
    def infer(cls, op: Operation) -> list:
        check_index_dtype(op, 1, "perm")
        require_rank(op, 1, 1)
        x, p = op.inputs
        dt = x.dtype.base_dtype
        nd = x.shape.ndims
        if nd is None and p.shape.ndims == 1:
            nd = p.shape[0]
        if nd is not None and p.shape.ndims == 1 and p.shape[0] not in (None, nd):
            raise shape_error(op, "Dimension must be %d but is %d" % (nd, p.shape[0]),
                              computed=False)
        perm = const_ints(p)
        if perm is None:
            return [(dt, TensorShape(None if nd is None else [None] * nd))]
        for d in perm:  # duplicates are only found at run time, as in TF
            if d < -nd or d >= nd:
                raise shape_error(op, "perm dim %d is out of range of input rank %d" % (d, nd))
        if x.shape.ndims is None:
            return [(dt, TensorShape([None] * nd))]
        return [(dt, TensorShape([x.shape[int(i)] for i in perm]))]

    @staticmethod
    def reference(x: Any, perm: Any) -> np.ndarray:
        x = np.asarray(x)
        return np.array(np.transpose(x, _check_perm(perm, x.ndim)), order="C")

    @staticmethod
    def grad(op: Operation, dy: Any) -> list:
        perm = const_ints(op.inputs[1])
        if perm is not None:
            inv = np.argsort(perm).astype(np.int32)
        else:
            inv = invert_permutation(op.inputs[1])
        return [transpose(dy, inv), None]

    @classmethod
    def examples(cls) -> list:
        c = ConstInput
        x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
        return [([x, c([2, 0, 1], np.int32)], {}), ([x, c([0, 1, 2], np.int64)], {}),
                ([np.float64(2), c(np.zeros(0), np.int32)], {}),
                ([np.zeros((0, 2), np.int32), c([1, 0], np.int32)], {})]


def transpose(a: Any, perm: Any = None, name: str = "transpose",
              conjugate: bool = False) -> Tensor:
    """Permute dimensions (``tf.transpose``); ``perm`` defaults to reversing them."""
    with name_scope(name, "transpose", graph_values(a) or None) as scope:
        x = convert_to_tensor(a, name="a")
        if perm is None:
            nd = x.shape.ndims
            if nd is None:
                r = apply_op("Rank", x)
                perm = apply_op("Range", r - 1, constant(-1), constant(-1))
            else:
                perm = np.arange(nd - 1, -1, -1, dtype=np.int32)
        if not graph_values(perm):
            perm = convert_to_tensor(perm, dtype=dtypes.int32, name="perm")
        return apply_op("Transpose", x, perm, name=scope)


@register_op
class InvertPermutation(OpDef):
    """The inverse permutation: ``y[x[i]] = i``."""
    inputs = ("x",)
    allowed = INDEX_DTYPES
    grad = NOT_DIFFERENTIABLE

    @classmethod
    def infer(cls, op: Operation) -> list:
        require_rank(op, 0, 1)
        return [(op.inputs[0].dtype.base_dtype, op.inputs[0].shape.with_rank(1))]

    @staticmethod
    def reference(x: Any) -> np.ndarray:
        p = _ints(x)
        n = len(p)
        out = np.full(n, -1, dtype=np.asarray(x).dtype)
        for i, d in enumerate(p):
            if d < 0 or d >= n:
                raise _kerr("%d is not between 0 and %d" % (d, n))
            if out[d] != -1:
                raise _kerr("%d is duplicated in the input." % d)
            out[d] = i
        return out

    @classmethod
    def examples(cls) -> list:
        return [([np.array([2, 0, 1], np.int32)], {}), ([np.array([0], np.int64)], {}),
                ([np.zeros(0, np.int32)], {})]


def invert_permutation(x: Any, name: Optional[str] = None) -> Tensor:
    """The inverse of permutation ``x`` (``tf.invert_permutation``)."""
    return build("InvertPermutation", name, "InvertPermutation", x)


@register_op
class BroadcastTo(OpDef):
    """``input`` broadcast (numpy rules) to ``shape``."""
    inputs = ("input", "shape")
    same_dtype = ("input",)
    input_dtypes = {"shape": dtypes.int32}
    index_attrs = {"Tidx": 1}
    partial_inputs = (1,)

    @classmethod
    def infer(cls, op: Operation) -> list:
        check_index_dtype(op, 1, "shape")
        require_rank(op, 1, 1)
        x = op.inputs[0]
        dt = x.dtype.base_dtype
        target = partial_vector(op.inputs[1])
        if target is None:
            return [(dt, TensorShape(None))]
        target = [None if d is None or d < 0 else d for d in target]
        if x.shape.ndims is not None:
            ins = x.shape.as_list()
            if len(ins) > len(target):
                raise shape_error(op, "Shape must be at most rank %d but is rank %d"
                                  % (len(target), len(ins)), computed=False)
            for i in _pyrange(1, len(ins) + 1):
                a, b = ins[-i], target[-i]
                if a is not None and b is not None and a != 1 and a != b:
                    raise shape_error(op, "Dimensions must be equal, but are %d and %d"
                                      % (a, b))
                if b is None and a not in (None, 1):
                    target[-i] = a
        return [(dt, TensorShape(target))]

    @staticmethod
    def reference(x: Any, shape: Any) -> np.ndarray:
        x = np.asarray(x)
        s = _ints(shape)
        try:
            b = np.broadcast_to(x, s)
        except ValueError:
            raise _kerr("Incompatible shapes: %s vs. %s"
                        % (_fmt_dims(x.shape), _fmt_dims(s))) from None
        check_alloc(b.shape, x.dtype)
        try:
            return np.array(b, order="C")
        except ValueError:
            raise _kerr("Incompatible shapes: %s vs. %s"
                        % (_fmt_dims(x.shape), _fmt_dims(s))) from None

    @staticmethod
    def grad(op: Operation, dy: Any) -> list:
        x = op.inputs[0]
        in_dims = x.shape.dims
        out_rank = op.outputs[0].shape.ndims
        if in_dims is None or out_rank is None or None in in_dims:
            if "BroadcastGradientArgs" not in registered_ops():
                raise NotImplementedError("BroadcastTo gradient needs static input shapes")
            _, axes = apply_op("BroadcastGradientArgs", op.inputs[1], _shape_of(x))
        else:
            lead = out_rank - len(in_dims)
            axes = list(_pyrange(lead)) + [lead + i for i, d in enumerate(in_dims) if d == 1]
            if not axes:
                return [dy, None]
        return [reshape(_reduce_sum(dy, axes, keepdims=True), _shape_of(x)), None]

    @classmethod
    def examples(cls) -> list:
        c = ConstInput
        return [([np.arange(3.0, dtype=np.float32), c([2, 3], np.int32)], {}),
                ([np.arange(2, dtype=np.int64).reshape(2, 1), c([3, 2, 4], np.int64)], {}),
                ([np.float64(1.5), c([2], np.int32)], {}),
                ([np.ones((1, 3)), c([0, 3], np.int32)], {})]


def broadcast_to(input: Any, shape: Any, name: Optional[str] = None) -> Tensor:  # noqa: A002,F811
    """``input`` broadcast to ``shape`` (``tf.broadcast_to``)."""
    return build("BroadcastTo", name, "BroadcastTo", input, shape)


@register_op
class Tile(OpDef):
    """``input`` repeated ``multiples[i]`` times along dimension ``i``."""
    failures = "shapes"
    const_args = (1,)
    inputs = ("input", "multiples")
    same_dtype = ("input",)
    input_dtypes = {"multiples": dtypes.int32}
    index_attrs = {"Tmultiples": 1}

    @classmethod
    def infer(cls, op: Operation) -> list:
        check_index_dtype(op, 1, "multiples")
        require_rank(op, 1, 1)
        x = op.inputs[0]
        dt = x.dtype.base_dtype
        m = partial_vector(op.inputs[1])
        if x.shape.ndims is None:
            return [(dt, TensorShape(None if m is None else [None] * len(m)))]
        ins = x.shape.as_list()
        if m is None:
            m = [None] * len(ins)
        if len(m) != len(ins):
            raise rank_error(op, len(ins), len(m))
        out = []
        for i, (a, b) in enumerate(zip(ins, m)):
            if b is not None and b < 0:
                raise shape_error(op, "Expected multiples[%d] >= 0, but got %d" % (i, b))
            out.append(a * b if a is not None and b is not None else
                       0 if 0 in (a, b) else None)
        return [(dt, TensorShape(out))]

    @staticmethod
    def reference(x: Any, multiples: Any) -> np.ndarray:
        x = np.asarray(x)
        m = _ints(multiples)
        if len(m) != x.ndim:
            raise _kerr("Expected multiples argument to be a vector of length %d but got "
                        "length %d" % (x.ndim, len(m)))
        for i, v in enumerate(m):
            if v < 0:
                raise _kerr("Expected multiples[%d] >= 0, but got %d" % (i, v))
        check_alloc([d * k for d, k in zip(x.shape, m)], x.dtype)
        return np.tile(x, m) if m else x.copy()

    @staticmethod
    def grad(op: Operation, dy: Any) -> list:
        x, m = op.inputs
        from graphflow.ops.concat_ops import stack
        split_shape = reshape(transpose(stack([m, _shape_of(x, m.dtype.base_dtype)])), [-1])
        axes = range(0, size(split_shape), 2)
        g = _reduce_sum(reshape(dy, split_shape), axes)
        g.set_shape(x.shape)
        return [g, None]

    @classmethod
    def examples(cls) -> list:
        c = ConstInput
        return [([np.arange(6, dtype=np.float32).reshape(2, 3), c([2, 1], np.int32)], {}),
                ([np.arange(3, dtype=np.int64), c([0], np.int32)], {}),
                ([np.ones((1, 2, 1)), c([3, 1, 2], np.int64)], {}),
                ([np.float32(2), c(np.zeros(0), np.int32)], {})]


def tile(input: Any, multiples: Any, name: Optional[str] = None) -> Tensor:  # noqa: A002
    """Repeat ``input`` along each dimension (``tf.tile``)."""
    return build("Tile", name, "Tile", input, multiples)


