"""``tf.nn`` builders composed from other ops (TF's ``nn_impl.py`` / ``embedding_ops.py``).

Nothing here registers an op: dropout, embedding lookup, moments, the sigmoid
cross-entropy, L2 normalisation and ``xw_plus_b`` build graphs of ordinary
ops, so their gradients come from those ops. Other op families are reached
through the public namespace (``tf_api()``) at call time.
"""
from __future__ import annotations

import numbers
from typing import Any, Optional

import numpy as np

from graphflow.framework.graph import name_scope
from graphflow.framework.op_def import constant_value
from graphflow.framework.operation import Tensor, convert_to_tensor
from graphflow.framework.tensor_shape import TensorShape, as_shape
from graphflow.ops._nn_util import tf_api


def sigmoid_cross_entropy_with_logits(_sentinel: Any = None, labels: Any = None,
                                      logits: Any = None, name: Optional[str] = None) -> Tensor:
    """Elementwise logistic loss ``max(x, 0) - x * z + log(1 + exp(-|x|))``.

    Same as tf.nn.sigmoid_cross_entropy_with_logits (scope ``logistic_loss``);
    stable for large |x|, and gradients flow into both logits and labels.
    """
    if _sentinel is not None:
        raise ValueError("Only call `sigmoid_cross_entropy_with_logits` with named arguments "
                         "(labels=..., logits=..., ...)")
    if labels is None or logits is None:
        raise ValueError("Both labels and logits must be provided.")
    tf = tf_api()
    with name_scope(name, "logistic_loss", [logits, labels]) as scope:
        logits = convert_to_tensor(logits, name="logits")
        labels = convert_to_tensor(labels, dtype=logits.dtype.base_dtype, name="labels")
        if not labels.shape.is_compatible_with(logits.shape):
            raise ValueError("logits and labels must have the same shape (%s vs %s)"
                             % (logits.shape, labels.shape))
        zeros = tf.zeros_like(logits)
        cond = logits >= zeros
        relu_logits = tf.where(cond, logits, zeros)
        neg_abs_logits = tf.where(cond, -logits, logits)
        return tf.add(relu_logits - logits * labels, tf.log1p(tf.exp(neg_abs_logits)), name=scope)


def weighted_cross_entropy_with_logits(targets: Any, logits: Any, pos_weight: Any,
                                       name: Optional[str] = None) -> Tensor:
    """Logistic loss with positive examples weighted by ``pos_weight``:
    ``(1 - z) * x + (1 + (q - 1) * z) * (log1p(exp(-|x|)) + max(-x, 0))``.
    Same as TF1's tf.nn.weighted_cross_entropy_with_logits (scope ``logistic_loss``)."""
    from graphflow.ops.nn_ops import relu
    tf = tf_api()
    with name_scope(name, "logistic_loss", [logits, targets]) as scope:
        logits = convert_to_tensor(logits, name="logits")
        targets = convert_to_tensor(targets, dtype=logits.dtype.base_dtype, name="targets")
        if not targets.shape.is_compatible_with(logits.shape):
            raise ValueError("logits and targets must have the same shape (%s vs %s)"
                             % (logits.shape, targets.shape))
        log_weight = 1 + (pos_weight - 1) * targets
        return tf.add((1 - targets) * logits,
                      log_weight * (tf.log1p(tf.exp(-tf.abs(logits))) + relu(-logits)),
                      name=scope)


def batch_normalization(x: Any, mean: Any, variance: Any, offset: Any, scale: Any,
                        variance_epsilon: float, name: Optional[str] = None) -> Tensor:
    """``scale * (x - mean) / sqrt(variance + eps) + offset`` (offset/scale may be None).

    Same as tf.nn.batch_normalization (scope ``batchnorm``).
    """
    tf = tf_api()
    with name_scope(name, "batchnorm", [x, mean, variance, scale, offset]):
        x = convert_to_tensor(x, name="x")
        inv = tf.rsqrt(variance + variance_epsilon)
        if scale is not None:
            inv = inv * scale
        scaled = x * tf.cast(inv, x.dtype.base_dtype)
        shift = offset - mean * inv if offset is not None else -mean * inv
        return scaled + tf.cast(shift, x.dtype.base_dtype)


def l2_normalize(x: Any, axis: Any = None, epsilon: float = 1e-12, name: Optional[str] = None,
                 dim: Any = None) -> Tensor:
    """x / sqrt(max(sum(x ** 2, axis), epsilon)). Same as tf.nn.l2_normalize."""
    if dim is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'dim'")
        axis = dim
    tf = tf_api()
    with name_scope(name, "l2_normalize", [x]) as scope:
        x = convert_to_tensor(x, name="x")
        square_sum = tf.reduce_sum(tf.square(x), axis, keepdims=True)
        x_inv_norm = tf.rsqrt(tf.maximum(square_sum, epsilon))
        return tf.multiply(x, x_inv_norm, name=scope)


def xw_plus_b(x: Any, weights: Any, biases: Any, name: Optional[str] = None) -> Tensor:
    """matmul(x, weights) + biases. Same as tf.nn.xw_plus_b."""
    from graphflow.ops.nn_ops import bias_add
    with name_scope(name, "xw_plus_b", [x, weights, biases]) as scope:
        mm = tf_api().matmul(convert_to_tensor(x, name="x"), weights)
        return bias_add(mm, biases, name=scope)


def moments(x: Any, axes: Any, shift: Any = None, name: Optional[str] = None,
            keep_dims: Optional[bool] = None, keepdims: Optional[bool] = None) -> tuple:
    """(mean, variance) of ``x`` over ``axes``. Same as tf.nn.moments.

    float16 input is computed in float32 and cast back, as TF does; ``shift``
    is accepted and unused (TF ignores it too).
    """
    if keepdims is not None:
        if keep_dims is not None:
            raise ValueError("Cannot specify both 'keep_dims' and 'keepdims'")
        keep_dims = keepdims
    keep_dims = bool(keep_dims)
    tf = tf_api()
    with name_scope(name, "moments", [x, axes]):
        x = convert_to_tensor(x, name="x")
        half = x.dtype.base_dtype == tf.float16
        y = tf.cast(x, tf.float32) if half else x
        mean = tf.reduce_mean(y, axes, keepdims=True, name="mean")
        variance = tf.reduce_mean(tf.squared_difference(y, tf.stop_gradient(mean)), axes,
                                  keepdims=True, name="variance")
        if not keep_dims:
            mean = tf.squeeze(mean, axes)
            variance = tf.squeeze(variance, axes)
        if half:
            return tf.cast(mean, tf.float16), tf.cast(variance, tf.float16)
        return mean, variance


# --- dropout ------------------------------------------------------------------------------
def _noise_shape(x: Tensor, noise_shape: Any) -> Any:
    """TF's rule: ``shape(x)`` by default; None entries of a static noise shape come from x."""
    if noise_shape is None:
        return tf_api().shape(x)
    if isinstance(noise_shape, Tensor):
        return noise_shape
    try:
        ns = as_shape(noise_shape)
    except (TypeError, ValueError):
        return noise_shape
    if x.shape.ndims is not None and ns.ndims == x.shape.ndims:
        return TensorShape([xd if nd is None else nd for xd, nd in zip(x.shape, ns)])
    return ns


def dropout(x: Any, keep_prob: Any = None, noise_shape: Any = None, seed: Optional[int] = None,
            name: Optional[str] = None, rate: Any = None) -> Tensor:
    """Keep each element with probability ``keep_prob`` scaled by 1 / keep_prob, else 0.

    Same as TF1's tf.nn.dropout: ``floor(keep_prob + random_uniform(noise_shape))``
    is the 0/1 mask, and ``rate`` (= 1 - keep_prob) may be given instead.
    """
    if rate is not None:
        if keep_prob is not None:
            raise ValueError("Cannot specify both 'keep_prob' and 'rate'")
        if isinstance(rate, numbers.Real):
            if not 0 <= rate < 1:
                raise ValueError("rate must be a scalar tensor or a float in the range [0, 1), "
                                 "got %g" % rate)
            keep_prob = 1.0 - float(rate)
        else:
            keep_prob = 1 - convert_to_tensor(rate)
    if keep_prob is None:
        raise ValueError("You must provide a rate to dropout.")
    from graphflow.ops.random_ops import random_uniform
    tf = tf_api()
    with name_scope(name, "dropout", [x]):
        x = convert_to_tensor(x, name="x")
        if not x.dtype.is_floating:
            raise ValueError("x has to be a floating point tensor since it's going to be scaled. "
                             "Got a %s tensor instead." % x.dtype.base_dtype.name)
        if isinstance(keep_prob, numbers.Real) and not 0 < keep_prob <= 1:
            raise ValueError("keep_prob must be a scalar tensor or a float in the range (0, 1], "
                             "got %g" % keep_prob)
        if isinstance(keep_prob, numbers.Real) and float(keep_prob) == 1.0:
            return x
        keep_prob = convert_to_tensor(keep_prob, dtype=x.dtype.base_dtype, name="keep_prob")
        keep_prob.shape.assert_is_compatible_with(TensorShape([]))
        kp = constant_value(keep_prob)
        if kp is not None and np.all(kp == 1):
            return x
        random_tensor = keep_prob + random_uniform(_noise_shape(x, noise_shape), seed=seed,
                                                   dtype=x.dtype.base_dtype)
        binary_tensor = tf.floor(random_tensor)  # 1 with probability keep_prob, else 0
        ret = tf.div(x, keep_prob) * binary_tensor
        ret.set_shape(x.shape)
        return ret


# --- embedding lookup ---------------------------------------------------------------------
def _clip(rows: Tensor, ids: Tensor, max_norm: Any) -> Tensor:
    """Clip each looked-up embedding to L2 norm ``max_norm`` (TF's ``_clip``)."""
    if max_norm is None:
        return rows
    ids_rank, rows_rank = ids.shape.ndims, rows.shape.ndims
    if ids_rank is None or rows_rank is None:
        raise ValueError("embedding_lookup with max_norm needs ids and params of known rank")
    return tf_api().clip_by_norm(rows, max_norm, axes=list(range(ids_rank, rows_rank)))


def embedding_lookup(params: Any, ids: Any, partition_strategy: str = "mod",
                     name: Optional[str] = None, validate_indices: bool = True,
                     max_norm: Any = None) -> Tensor:
    """Rows of ``params`` selected by ``ids``. Same as tf.nn.embedding_lookup.

    One params tensor (or a one-element list) is a ``gather``, so the
    gradient reaching a variable is an IndexedSlices. Several partitions are
    concatenated and the ids remapped by ``partition_strategy`` ("mod": id
    lives in partition id % n at row id // n; "div": contiguous ranges);
    their shapes must be static, and their gradients are dense.
    """
    if params is None or (isinstance(params, (list, tuple)) and len(params) == 0):
        raise ValueError("Need at least one param")
    if hasattr(params, "_get_variable_list"):  # PartitionedVariable
        params = list(params)
    if not isinstance(params, (list, tuple)):
        params = [params]
    params = list(params)
    tf = tf_api()
    with name_scope(name, "embedding_lookup", params + [ids]) as scope:
        ids = convert_to_tensor(ids, name="ids")
        if len(params) == 1:
            result = tf.gather(params[0], ids, name=scope)
            return tf.identity(_clip(result, ids, max_norm))
        if partition_strategy not in ("mod", "div"):
            raise ValueError("Unrecognized partition strategy: " + partition_strategy)
        parts = [convert_to_tensor(p, name="params") for p in params]
        sizes = [p.shape[0] if p.shape.ndims else None for p in parts]
        if any(s is None for s in sizes):
            raise NotImplementedError("embedding_lookup over several partitions needs a static "
                                      "first dimension in every partition")
        table = tf.concat(parts, 0)
        flat_ids = ids
        if partition_strategy == "mod":
            n = len(parts)
            offsets = tf.constant(np.concatenate([[0], np.cumsum(sizes)[:-1]]),
                                  dtype=ids.dtype.base_dtype)
            flat_ids = tf.gather(offsets, ids % n) + ids // n
        result = tf.gather(table, flat_ids, name=scope)
        return tf.identity(_clip(result, ids, max_norm))
