"""``tf.losses`` (TF1 ``losses_impl``): weighted losses and the LOSSES collection.

Every loss computes per-element values, then ``compute_weighted_loss``
multiplies them by ``weights`` (a scalar or a tensor of the losses' rank whose
dims are 1 or equal to the losses' dims), reduces them according to
``reduction`` and adds the result to ``loss_collection``. As in TF, the
weighting and reduction run in float32 and the result is cast back to the
losses' dtype; the regression losses cast their inputs to float32 first.

Reductions (``tf.losses.Reduction``): ``NONE`` (per element), ``SUM``,
``MEAN`` (sum / sum of broadcast weights), ``SUM_OVER_BATCH_SIZE`` (sum /
number of elements) and the default ``SUM_BY_NONZERO_WEIGHTS`` (=
``SUM_OVER_NONZERO_WEIGHTS``: sum / number of elements with a non-zero
weight). A zero denominator gives 0, never NaN.
"""
from __future__ import annotations

from typing import Any, Optional

from graphflow import dtypes
from graphflow.framework import graph as graph_mod
from graphflow.framework.graph import GraphKeys
from graphflow.framework.operation import Tensor, convert_to_tensor
from graphflow.ops import array_ops, math_ops, nn_impl, nn_ops, reduction_ops, shape_ops, \
    xent_ops
from graphflow.ops.compare_ops import cast, equal
from graphflow.ops.selection_ops import where

__all__: list = []  # tf.losses names are not top-level tf names

LOSSES_API = ["Reduction", "absolute_difference", "add_loss", "compute_weighted_loss",
              "cosine_distance", "get_losses", "get_regularization_loss",
              "get_regularization_losses", "get_total_loss", "hinge_loss", "huber_loss",
              "log_loss", "mean_squared_error", "sigmoid_cross_entropy",
              "softmax_cross_entropy", "sparse_softmax_cross_entropy"]


class Reduction:
    """Ways to reduce weighted losses (``tf.losses.Reduction``)."""

    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls) -> tuple:
        """Every reduction key."""
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE,
                cls.SUM_OVER_NONZERO_WEIGHTS, cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key: Any) -> None:
        """ValueError unless ``key`` is a reduction key."""
        if key not in cls.all():
            raise ValueError("Invalid Reduction Key %s." % key)


_DEFAULT = Reduction.SUM_BY_NONZERO_WEIGHTS


# --- collections --------------------------------------------------------------------
def add_loss(loss: Any, loss_collection: Optional[str] = GraphKeys.LOSSES) -> None:
    """Add ``loss`` to ``loss_collection`` (``tf.losses.add_loss``)."""
    if loss_collection:
        graph_mod.add_to_collection(loss_collection, loss)


def get_losses(scope: Optional[str] = None, loss_collection: str = GraphKeys.LOSSES) -> list:
    """The losses in ``loss_collection`` (optionally filtered by ``scope``)."""
    return graph_mod.get_collection(loss_collection, scope)


def get_regularization_losses(scope: Optional[str] = None) -> list:
    """The tensors in ``REGULARIZATION_LOSSES``."""
    return graph_mod.get_collection(GraphKeys.REGULARIZATION_LOSSES, scope)


def get_regularization_loss(scope: Optional[str] = None,
                            name: str = "total_regularization_loss") -> Tensor:
    """The sum of the regularization losses, or a constant 0.0 when there are none."""
    losses = get_regularization_losses(scope)
    if losses:
        return reduction_ops.add_n(losses, name=name)
    return array_ops.constant(0.0)


def get_total_loss(add_regularization_losses: bool = True, name: str = "total_loss",
                   scope: Optional[str] = None) -> Tensor:
    """``add_n`` of the LOSSES collection (and the regularization losses).

    Raises ValueError when there is no loss at all (TF's ``add_n`` error).
    """
    losses = get_losses(scope=scope)
    if add_regularization_losses:
        losses = losses + get_regularization_losses(scope=scope)
    return reduction_ops.add_n(losses, name=name)


# --- weighting and reduction ---------------------------------------------------------------
def _check_broadcastable(weights: Tensor, values: Tensor) -> None:
    """TF's static ``assert_broadcastable``: weights are a scalar or have the
    values' rank with each dim 1 or equal."""
    ws, vs = weights.shape, values.shape
    if ws.ndims is None or vs.ndims is None or ws.ndims == 0:
        return
    if ws.ndims != vs.ndims:
        raise ValueError("weights can not be broadcast to values. values.rank=%d. "
                         "weights.rank=%d. values.shape=%s. weights.shape=%s."
                         % (vs.ndims, ws.ndims, vs, ws))
    for i, (w, v) in enumerate(zip(ws.as_list(), vs.as_list())):
        if w is not None and v is not None and w != 1 and w != v:
            raise ValueError("weights can not be broadcast to values. Mismatch at dim %d. "
                             "values.shape=%s, weights.shape=%s." % (i, vs, ws))


def _safe_div(numerator: Tensor, denominator: Tensor, name: str = "value") -> Tensor:
    """``numerator / denominator``, 0 where the denominator is 0 (TF's ``div_no_nan``);
    the double ``where`` keeps gradients finite."""
    zero = array_ops.zeros_like(denominator)
    is_zero = equal(denominator, zero)
    safe = where(is_zero, array_ops.ones_like(denominator), denominator)
    return where(is_zero, zero, math_ops.truediv(numerator, safe), name=name)


def _num_present(losses: Tensor, weights: Tensor) -> Tensor:
    """Number of loss elements whose (broadcast) weight is non-zero."""
    with graph_mod.name_scope(None, "num_present", [losses, weights]) as scope:
        weights = cast(weights, dtypes.float32)
        present = where(equal(weights, array_ops.zeros_like(weights)),
                        array_ops.zeros_like(weights), array_ops.ones_like(weights))
        present = math_ops.multiply(present, array_ops.ones_like(losses))
        return reduction_ops.reduce_sum(present, name=scope)


def _num_elements(losses: Tensor) -> Tensor:
    with graph_mod.name_scope(None, "num_elements", [losses]) as scope:
        return cast(array_ops.size(losses, name=scope), losses.dtype.base_dtype)


def compute_weighted_loss(losses: Any, weights: Any = 1.0, scope: Optional[str] = None,
                          loss_collection: Optional[str] = GraphKeys.LOSSES,
                          reduction: str = _DEFAULT) -> Tensor:
    """Weight ``losses`` and reduce them (``tf.losses.compute_weighted_loss``).

    Returns a scalar, or the weighted per-element losses for ``Reduction.NONE``,
    in the dtype of ``losses``; the result is added to ``loss_collection``.
    """
    Reduction.validate(reduction)
    with graph_mod.name_scope(scope, "weighted_loss", [losses, weights]):
        losses = convert_to_tensor(losses)
        input_dtype = losses.dtype.base_dtype
        weights_t = convert_to_tensor(weights)
        _check_broadcastable(weights_t, losses)
        losses = cast(losses, dtypes.float32)
        weights_t = cast(weights_t, dtypes.float32)
        weighted = math_ops.multiply(losses, weights_t)
        if reduction == Reduction.NONE:
            loss = weighted
        else:
            loss = reduction_ops.reduce_sum(weighted)
            if reduction == Reduction.MEAN:
                loss = _safe_div(loss, reduction_ops.reduce_sum(
                    math_ops.multiply(array_ops.ones_like(losses), weights_t)))
            elif reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
                loss = _safe_div(loss, _num_present(losses, weights_t))
            elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
                loss = _safe_div(loss, _num_elements(losses))
        loss = cast(loss, input_dtype)
        add_loss(loss, loss_collection)
        return loss


def _require(value: Any, what: str) -> None:
    if value is None:
        raise ValueError("Argument `%s` must not be None." % what)


def _float_pair(labels: Any, predictions: Any) -> tuple:
    predictions = cast(predictions, dtypes.float32)
    labels = cast(labels, dtypes.float32)
    predictions.shape.assert_is_compatible_with(labels.shape)
    return labels, predictions


# --- regression losses ------------------------------------------------------------------------
def absolute_difference(labels: Any, predictions: Any, weights: Any = 1.0,
                        scope: Optional[str] = None,
                        loss_collection: Optional[str] = GraphKeys.LOSSES,
                        reduction: str = _DEFAULT) -> Tensor:
    """Weighted ``|predictions - labels|`` (``tf.losses.absolute_difference``)."""
    _require(labels, "labels")
    _require(predictions, "predictions")
    with graph_mod.name_scope(scope, "absolute_difference",
                              [predictions, labels, weights]) as scope:
        labels, predictions = _float_pair(labels, predictions)
        losses = math_ops.abs(math_ops.subtract(predictions, labels))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def mean_squared_error(labels: Any, predictions: Any, weights: Any = 1.0,
                       scope: Optional[str] = None,
                       loss_collection: Optional[str] = GraphKeys.LOSSES,
                       reduction: str = _DEFAULT) -> Tensor:
    """Weighted ``(predictions - labels)**2`` (``tf.losses.mean_squared_error``)."""
    _require(labels, "labels")
    _require(predictions, "predictions")
    with graph_mod.name_scope(scope, "mean_squared_error",
                              [predictions, labels, weights]) as scope:
        labels, predictions = _float_pair(labels, predictions)
        losses = math_ops.squared_difference(predictions, labels)
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def huber_loss(labels: Any, predictions: Any, weights: Any = 1.0, delta: float = 1.0,
               scope: Optional[str] = None, loss_collection: Optional[str] = GraphKeys.LOSSES,
               reduction: str = _DEFAULT) -> Tensor:
    """Weighted Huber loss: ``0.5 e**2`` for ``|e| <= delta``, else
    ``0.5 delta**2 + delta (|e| - delta)`` (``tf.losses.huber_loss``)."""
    _require(labels, "labels")
    _require(predictions, "predictions")
    with graph_mod.name_scope(scope, "huber_loss", [predictions, labels, weights]) as scope:
        labels, predictions = _float_pair(labels, predictions)
        abs_error = math_ops.abs(math_ops.subtract(predictions, labels))
        d = convert_to_tensor(delta, dtype=dtypes.float32)
        quadratic = math_ops.minimum(abs_error, d)
        # |e| - min(|e|, delta): its gradient at |e| == delta is 0 (unlike maximum).
        linear = math_ops.subtract(abs_error, quadratic)
        losses = math_ops.add(
            math_ops.multiply(convert_to_tensor(0.5, dtype=dtypes.float32),
                              math_ops.multiply(quadratic, quadratic)),
            math_ops.multiply(d, linear))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def log_loss(labels: Any, predictions: Any, weights: Any = 1.0, epsilon: float = 1e-7,
             scope: Optional[str] = None, loss_collection: Optional[str] = GraphKeys.LOSSES,
             reduction: str = _DEFAULT) -> Tensor:
    """Weighted ``-y log(p + eps) - (1 - y) log(1 - p + eps)`` (``tf.losses.log_loss``)."""
    _require(labels, "labels")
    _require(predictions, "predictions")
    with graph_mod.name_scope(scope, "log_loss", [predictions, labels, weights]) as scope:
        labels, predictions = _float_pair(labels, predictions)
        eps = convert_to_tensor(epsilon, dtype=dtypes.float32)
        one = convert_to_tensor(1.0)
        losses = math_ops.subtract(
            math_ops.negative(math_ops.multiply(
                labels, math_ops.log(math_ops.add(predictions, eps)))),
            math_ops.multiply(math_ops.subtract(one, labels), math_ops.log(
                math_ops.add(math_ops.subtract(one, predictions), eps))))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def cosine_distance(labels: Any, predictions: Any, axis: Optional[int] = None,
                    weights: Any = 1.0, scope: Optional[str] = None,
                    loss_collection: Optional[str] = GraphKeys.LOSSES,
                    reduction: str = _DEFAULT, dim: Optional[int] = None) -> Tensor:
    """Weighted ``1 - sum(labels * predictions, axis)`` for unit-normalized inputs
    (``tf.losses.cosine_distance``; the per-example losses keep ``axis`` as size 1)."""
    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    axis = dim if axis is None else axis
    if axis is None:
        raise ValueError("You must specify argument `axis`.")
    _require(labels, "labels")
    _require(predictions, "predictions")
    with graph_mod.name_scope(scope, "cosine_distance_loss",
                              [predictions, labels, weights]) as scope:
        labels, predictions = _float_pair(labels, predictions)
        dots = reduction_ops.reduce_sum(math_ops.multiply(predictions, labels), axis=(axis,),
                                        keepdims=True)
        losses = math_ops.subtract(convert_to_tensor(1.0), dots)
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def hinge_loss(labels: Any, logits: Any, weights: Any = 1.0, scope: Optional[str] = None,
               loss_collection: Optional[str] = GraphKeys.LOSSES,
               reduction: str = _DEFAULT) -> Tensor:
    """Weighted ``relu(1 - (2 labels - 1) * logits)`` for 0/1 labels (``tf.losses.hinge_loss``)."""
    _require(labels, "labels")
    _require(logits, "logits")
    with graph_mod.name_scope(scope, "hinge_loss", [logits, labels, weights]) as scope:
        labels, logits = _float_pair(labels, logits)
        ones = array_ops.ones_like(labels)
        signs = math_ops.subtract(math_ops.multiply(convert_to_tensor(2.0), labels), ones)
        losses = nn_ops.relu(math_ops.subtract(ones, math_ops.multiply(signs, logits)))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


# --- classification losses ----------------------------------------------------------------
def sigmoid_cross_entropy(multi_class_labels: Any, logits: Any, weights: Any = 1.0,
                          label_smoothing: float = 0, scope: Optional[str] = None,
                          loss_collection: Optional[str] = GraphKeys.LOSSES,
                          reduction: str = _DEFAULT) -> Tensor:
    """Weighted sigmoid cross-entropy (``tf.losses.sigmoid_cross_entropy``).

    ``label_smoothing`` s moves labels towards 1/2: ``y (1 - s) + s / 2``.
    """
    _require(multi_class_labels, "multi_class_labels")
    _require(logits, "logits")
    with graph_mod.name_scope(scope, "sigmoid_cross_entropy_loss",
                              [logits, multi_class_labels, weights]) as scope:
        logits = convert_to_tensor(logits)
        labels = cast(multi_class_labels, logits.dtype.base_dtype)
        logits.shape.assert_is_compatible_with(labels.shape)
        if label_smoothing > 0:
            labels = math_ops.add(
                math_ops.multiply(labels, _const(1 - label_smoothing, logits)),
                _const(0.5 * label_smoothing, logits))
        losses = nn_impl.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits,
                                                           name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def softmax_cross_entropy(onehot_labels: Any, logits: Any, weights: Any = 1.0,
                          label_smoothing: float = 0, scope: Optional[str] = None,
                          loss_collection: Optional[str] = GraphKeys.LOSSES,
                          reduction: str = _DEFAULT) -> Tensor:
    """Weighted softmax cross-entropy over the last axis (``tf.losses.softmax_cross_entropy``).

    ``label_smoothing`` s: ``y (1 - s) + s / num_classes``. ``weights`` apply
    per example (shape ``[batch]``) or as a scalar. No gradient flows into labels.
    """
    _require(onehot_labels, "onehot_labels")
    _require(logits, "logits")
    with graph_mod.name_scope(scope, "softmax_cross_entropy_loss",
                              [logits, onehot_labels, weights]) as scope:
        logits = convert_to_tensor(logits)
        labels = cast(onehot_labels, logits.dtype.base_dtype)
        logits.shape.assert_is_compatible_with(labels.shape)
        if label_smoothing > 0:
            num_classes = cast(_last_dim(labels), logits.dtype.base_dtype)
            labels = math_ops.add(
                math_ops.multiply(labels, _const(1 - label_smoothing, logits)),
                math_ops.truediv(_const(label_smoothing, logits), num_classes))
        labels = array_ops.stop_gradient(labels, name="labels_stop_gradient")
        losses = xent_ops.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits,
                                                               name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction)


def sparse_softmax_cross_entropy(labels: Any, logits: Any, weights: Any = 1.0,
                                 scope: Optional[str] = None,
                                 loss_collection: Optional[str] = GraphKeys.LOSSES,
                                 reduction: str = _DEFAULT) -> Tensor:
    """Weighted cross-entropy with integer class ids (``tf.losses.sparse_softmax_cross_entropy``).

    Labels of shape ``[batch, 1]`` (and weights of shape ``[batch, 1]``) are
    squeezed to ``[batch]``, as in TF.
    """
    _require(labels, "labels")
    _require(logits, "logits")
    with graph_mod.name_scope(scope, "sparse_softmax_cross_entropy_loss",
                              [logits, labels, weights]) as scope:
        labels = convert_to_tensor(labels)
        logits = convert_to_tensor(logits)
        weights_t = convert_to_tensor(weights)
        lr, xr, wr = labels.shape.ndims, logits.shape.ndims, weights_t.shape.ndims
        if lr is not None and xr is not None:
            if xr - lr == 0 and labels.shape.as_list()[-1] in (None, 1):
                labels = shape_ops.squeeze(labels, [-1])
                lr -= 1
            elif xr - lr == 2 and logits.shape.as_list()[-1] in (None, 1):
                logits = shape_ops.squeeze(logits, [-1])
                xr -= 1
        if lr is not None and wr is not None and wr - lr == 1:
            weights_t = shape_ops.squeeze(weights_t, [-1])
        losses = xent_ops.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits,
                                                                   name="xentropy")
        return compute_weighted_loss(losses, weights_t, scope, loss_collection, reduction)


def _const(value: float, like: Tensor) -> Tensor:
    return convert_to_tensor(value, dtype=like.dtype.base_dtype)


def _last_dim(t: Tensor) -> Tensor:
    """The size of ``t``'s last axis: a constant when static, else a shape slice."""
    last = t.shape.as_list()[-1] if t.shape.ndims else None
    if last is not None:
        return array_ops.constant(last, dtype=dtypes.int32)
    return array_ops.shape(t)[-1]

