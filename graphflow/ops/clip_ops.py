"""Clipping: clip_by_value, clip_by_norm, clip_by_average_norm, global_norm and
clip_by_global_norm (same as TF 1.x ``tf.clip_by_*`` / ``tf.global_norm``).

Everything is composed of ordinary ops (Minimum, Maximum, Sum, Sqrt, L2Loss,
Mul ...) under TF's name scopes, so gradients flow through the usual rules.
IndexedSlices inputs are clipped on their ``values`` and come back as
IndexedSlices with the same indices and dense shape. Behaviour and examples:
spec/training_utils.md section 3.
"""
from __future__ import annotations

import collections.abc
from typing import Any, Optional

import numpy as np

from graphflow import dtypes
from graphflow.framework.graph import colocate_with, name_scope
from graphflow.framework.indexed_slices import IndexedSlices
from graphflow.framework.operation import Tensor, convert_to_tensor
from graphflow.ops import _array_util

__all__ = ["clip_by_value", "clip_by_norm", "clip_by_average_norm", "global_norm",
           "clip_by_global_norm"]


def _values(t: Any, name: str) -> Tensor:
    """The dense values to clip (an IndexedSlices contributes its ``values``)."""
    return convert_to_tensor(t.values if isinstance(t, IndexedSlices) else t, name=name)


def _like_input(t: Any, clipped: Tensor) -> Any:
    if isinstance(t, IndexedSlices):
        return IndexedSlices(clipped, t.indices, t.dense_shape)
    return clipped


def _scope_values(*values: Any) -> Optional[list]:
    flat = []
    for v in values:
        for x in (v if isinstance(v, (list, tuple)) else [v]):
            flat.append(x.values if isinstance(x, IndexedSlices) else x)
    return _array_util.graph_values(*flat) or None


def clip_by_value(t: Any, clip_value_min: Any, clip_value_max: Any,
                  name: Optional[str] = None) -> Any:
    """``maximum(minimum(t, max), min)`` elementwise. Same as tf.clip_by_value.

    The bounds broadcast against ``t`` but may not enlarge it (ValueError);
    if ``min > max`` every element becomes ``min``.
    """
    from graphflow.ops import math_ops
    with name_scope(name, "clip_by_value", _scope_values(t, clip_value_min, clip_value_max)) \
            as scope:
        values = _values(t, "t")
        t_min = math_ops.minimum(values, clip_value_max)
        values.shape.merge_with(t_min.shape)
        t_max = math_ops.maximum(t_min, clip_value_min, name=scope)
        values.shape.merge_with(t_max.shape)
    return _like_input(t, t_max)


def clip_by_norm(t: Any, clip_norm: Any, axes: Any = None, name: Optional[str] = None) -> Any:
    """Rescale ``t`` so its L2 norm over ``axes`` is at most ``clip_norm`` (tf.clip_by_norm).

    ``t * clip_norm / max(l2norm, clip_norm)``; a zero-norm slice stays zero
    (the norm is computed NaN-free, also for gradients) and a negative
    ``clip_norm`` acts as 0.
    """
    from graphflow.ops import array_ops, math_ops, reduction_ops
    with name_scope(name, "clip_by_norm", _scope_values(t, clip_norm)) as scope:
        values = _values(t, "t")
        dt = values.dtype.base_dtype
        clip_norm = math_ops.maximum(convert_to_tensor(clip_norm, dtype=dt, name="clip_norm"),
                                     np.asarray(0, dt.np))
        l2sum = reduction_ops.reduce_sum(values * values, axes, keepdims=True)
        positive = math_ops.cast(math_ops.greater(l2sum, np.asarray(0, dt.np)), dt)
        # sqrt of (l2sum, or 1 where it is 0) times the mask: no NaN in value or gradient
        l2norm = math_ops.sqrt(l2sum + (1 - positive)) * positive
        intermediate = values * clip_norm
        values.shape.merge_with(intermediate.shape)
        clipped = array_ops.identity(intermediate / math_ops.maximum(l2norm, clip_norm),
                                     name=scope)
    return _like_input(t, clipped)


def clip_by_average_norm(t: Any, clip_norm: Any, name: Optional[str] = None) -> Tensor:
    """Rescale ``t`` so that ``l2norm(t) / size(t) <= clip_norm``.

    Same as tf.clip_by_average_norm.
    """
    from graphflow.ops import array_ops, math_ops, reduction_ops
    with name_scope(name, "clip_by_average_norm", _scope_values(t, clip_norm)) as scope:
        t = convert_to_tensor(t, name="t")
        dt = t.dtype.base_dtype
        n_element = math_ops.cast(array_ops.size(t), dt)
        l2norm_inv = math_ops.rsqrt(reduction_ops.reduce_sum(t * t))
        clip_norm = convert_to_tensor(clip_norm, dtype=dt, name="clip_norm")
        factor = math_ops.minimum(l2norm_inv * n_element, np.asarray(1.0, dt.np) / clip_norm)
        return array_ops.identity(t * clip_norm * factor, name=scope)


def _check_sequence(t_list: Any) -> list:
    if not isinstance(t_list, collections.abc.Sequence) or isinstance(t_list, (str, bytes)):
        raise TypeError("`t_list` should be a sequence of tensors. Received %s." % type(t_list))
    return list(t_list)


def global_norm(t_list: Any, name: Optional[str] = None) -> Tensor:
    """``sqrt(sum of squares of every element of every non-None tensor)``. Same as tf.global_norm.

    Computed as ``sqrt(2 * sum(l2_loss(t)))`` like TF; an empty (or all-None)
    list gives 0.0.
    """
    from graphflow.ops import array_ops, math_ops, nn_ops, reduction_ops
    t_list = _check_sequence(t_list)
    with name_scope(name, "global_norm", _scope_values(t_list)):
        values = [None if t is None else _values(t, "t_%d" % i) for i, t in enumerate(t_list)]
        halves = []
        for v in values:
            if v is not None:
                with colocate_with(v.op):
                    halves.append(nn_ops.l2_loss(v))
        if halves:
            half = reduction_ops.reduce_sum(array_ops.stack(halves))
        else:
            half = array_ops.constant(0.0, dtype=dtypes.float32)
        dt = half.dtype.base_dtype
        return math_ops.sqrt(half * array_ops.constant(2.0, dtype=dt), name="global_norm")


def clip_by_global_norm(t_list: Any, clip_norm: Any, use_norm: Any = None,
                        name: Optional[str] = None) -> tuple:
    """Scale every tensor by ``clip_norm / max(global_norm, clip_norm)``. Same as
    tf.clip_by_global_norm.

    Returns ``(list_clipped, global_norm)``: None entries stay None, the norm
    is the unclipped one (or ``use_norm``). A non-finite norm makes every
    clipped value NaN (TF 1.x behaviour).
    """
    from graphflow.ops import array_ops, math_ops
    t_list = _check_sequence(t_list)
    if use_norm is None:
        use_norm = global_norm(t_list, name)
    with name_scope(name, "clip_by_global_norm", _scope_values(t_list, clip_norm)) as scope:
        use_norm = convert_to_tensor(use_norm)
        dt = use_norm.dtype.base_dtype
        one = array_ops.constant(1.0, dtype=dt)
        scale_for_finite = clip_norm * math_ops.minimum(1.0 / use_norm, one / clip_norm)
        # a no-op for a finite norm; NaN for inf/NaN norms, so every value becomes NaN
        scale = scale_for_finite + (use_norm - use_norm)
        values = [None if t is None else _values(t, "t_%d" % i) for i, t in enumerate(t_list)]
        clipped = []
        for i, v in enumerate(values):
            if v is None:
                clipped.append(None)
                continue
            with colocate_with(v.op):
                clipped.append(array_ops.identity(v * scale, name="%s_%d" % (scope, i)))
        out = [None if c is None else _like_input(t, c) for c, t in zip(clipped, t_list)]
    return out, use_norm
