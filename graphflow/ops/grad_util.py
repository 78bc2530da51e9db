"""Shared gradient helper: sum a broadcast gradient back to an input's shape.

TF's binary-op gradients end with ``reshape(reduce_sum(g, rx), shape(x))``
where ``rx`` comes from ``BroadcastGradientArgs``. ``unbroadcast`` does the
same, but decides from static shapes whenever it can: it emits no op when the
gradient already has the input's shape, one ``Sum`` when the summed axes are
known (plus a ``Reshape``, or a second ``Sum`` if ``x`` has unknown dims, only
when both leading axes and axes of size 1 are summed), and the dynamic
``Shape``/``BroadcastGradientArgs``/``Sum``/``Reshape`` chain only when a
dimension's broadcast cannot be decided at build time.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from graphflow.framework.op_def import apply_op
from graphflow.framework.operation import Tensor, convert_to_tensor
from graphflow.framework.tensor_shape import TensorShape, broadcast_shapes
from graphflow.ops import array_ops  # (a partial module during a circular import is fine)


def unbroadcast(grad: Any, x: Tensor, others: Optional[Sequence[Tensor]] = None) -> Any:
    """Reduce ``grad`` (shaped like the broadcast of ``x`` with ``others``) to ``x``'s shape.

    Args:
      grad: gradient with respect to the broadcast result (None passes through).
      x: the input whose gradient is wanted.
      others: the other operands of the broadcast, when known. Their static
        shapes prove that a dimension of unknown size in ``x`` was not
        broadcast (no other operand has that axis, or all have size 1 there),
        which keeps ``matmul(x, w) + b`` free of dynamic shape ops. None means
        "unknown": every unknown dimension of ``x`` then needs the dynamic path.

    Returns:
      ``grad`` itself when no reduction is needed, else a reduced tensor.
    """
    if grad is None:
        return None
    if not isinstance(grad, Tensor):
        grad = convert_to_tensor(grad)  # e.g. IndexedSlices -> dense
    gdims = grad.shape._dims
    if gdims is not None and gdims == x.shape._dims and None not in gdims:
        return grad  # already x's (fully known) shape: nothing was broadcast
    oshapes = None if others is None else [o.shape for o in others]
    axes = _static_axes(grad.shape, x.shape, oshapes)
    if axes is None:
        return _dynamic_unbroadcast(grad, x)
    lead, ones = axes
    if not lead and not ones:
        return grad
    if lead and ones and x.shape.is_fully_defined():
        summed = _reduce_sum(grad, lead + ones, keepdims=False)
        return array_ops.reshape(summed, x.shape.as_list())
    if ones:
        grad = _reduce_sum(grad, ones, keepdims=True)
    if lead:
        grad = _reduce_sum(grad, lead, keepdims=False)
    return grad


def _reduce_sum(grad: Tensor, axes: list, keepdims: bool) -> Tensor:
    """``tf.reduce_sum(grad, axes, keepdims)`` for static axes: the same ops and
    names (``Sum/reduction_indices`` Const, ``Sum``) as the public builder,
    without its argument handling (a gradient pass builds thousands of them)."""
    g = grad._op._graph
    with g.as_default(), g.name_scope("Sum") as scope:
        idx = array_ops.constant(np.asarray(axes, dtype=np.int32), name="reduction_indices")
        return apply_op("Sum", grad, idx, name=scope, keep_dims=bool(keepdims))


def _static_axes(gshape: TensorShape, xshape: TensorShape,
                 oshapes: Optional[list]) -> Optional[tuple]:
    """(leading axes, size-1 axes) of the gradient to sum, or None if undecidable."""
    if xshape.ndims is None:
        return None
    out = xshape
    for s in oshapes or ():
        b = broadcast_shapes(out, s)
        out = out if b is None else b
    if gshape.ndims is not None:  # the gradient has the broadcast shape
        if out.ndims == gshape.ndims and out.is_compatible_with(gshape):
            out = out.merge_with(gshape)
        else:
            out = gshape
    elif oshapes is None:
        return None
    if out.ndims is None or out.ndims < xshape.ndims:
        return None
    n, m = out.ndims, xshape.ndims
    lead = list(range(n - m))
    ones = []
    for j, d in enumerate(xshape.as_list()):
        axis = n - m + j
        g = out[axis]
        if d == 1:
            if g != 1:
                ones.append(axis)  # a size-1 axis that was (or may have been) stretched
        elif d is None and g != 1:
            if oshapes is None or not _only_owner(axis - n, oshapes):
                return None
    return lead, ones


def _only_owner(neg_axis: int, oshapes: list) -> bool:
    """True when no other operand can have stretched axis ``neg_axis`` (from the right)."""
    for s in oshapes:
        if s.ndims is None:
            return False
        if s.ndims >= -neg_axis and s[neg_axis] != 1:
            return False
    return True


def _dynamic_unbroadcast(grad: Tensor, x: Tensor) -> Tensor:
    """``reshape(reduce_sum(grad, rx), shape(x))`` with ``rx`` from BroadcastGradientArgs."""
    from graphflow.ops import array_ops, reduction_ops
    sx = array_ops.shape(x)
    rx, _ = reduction_ops.broadcast_gradient_args(sx, array_ops.shape(grad))
    return array_ops.reshape(reduction_ops.reduce_sum(grad, rx, keepdims=False), sx)
