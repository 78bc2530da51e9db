"""tf.losses against NumPy: every loss, weight shapes and reduction, label
smoothing, the LOSSES collection, gradients and argument errors."""
import numpy as np
import pytest

import graphflow as tf

R = tf.losses.Reduction
RNG = np.random.RandomState(7)
LABELS = RNG.randn(4, 3).astype(np.float32)
PREDS = RNG.randn(4, 3).astype(np.float32)
WEIGHTS = {
    "scalar": np.float32(2.5),
    "per_example": np.array([[1.0], [0.0], [2.0], [0.5]], np.float32),
    "full": np.abs(RNG.randn(4, 3)).astype(np.float32) * (RNG.rand(4, 3) > 0.3),
    "row": np.array([[0.0, 1.5, 3.0]], np.float32),
}


def _run(t, feed=None):
    with tf.Session() as sess:
        return sess.run(t, feed)


def _reduce(per_elem, weights, reduction):
    """TF1's compute_weighted_loss in float64."""
    per_elem = np.asarray(per_elem, np.float64)
    w = np.broadcast_to(np.asarray(weights, np.float64), per_elem.shape)
    weighted = per_elem * w
    if reduction == R.NONE:
        return weighted
    total = weighted.sum()
    if reduction == R.SUM:
        return total
    if reduction == R.MEAN:
        denom = w.sum()
    elif reduction == R.SUM_OVER_BATCH_SIZE:
        denom = per_elem.size
    else:
        denom = np.count_nonzero(w)
    return 0.0 if denom == 0 else total / denom


def _softmax_xent(labels, logits):
    z = logits - logits.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    return -(labels * logp).sum(-1)


def _sigmoid_xent(z, x):
    return np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))


def _log_loss(y, q, eps=1e-7):
    return -y * np.log(q + eps) - (1 - y) * np.log(1 - q + eps)


def _huber(e, delta):
    a = np.abs(e)
    return np.where(a <= delta, 0.5 * a * a, 0.5 * delta * delta + delta * (a - delta))


REGRESSION = {
    "mean_squared_error": (lambda l, p, **k: tf.losses.mean_squared_error(l, p, **k),
                           lambda l, p: (p - l) ** 2),
    "absolute_difference": (lambda l, p, **k: tf.losses.absolute_difference(l, p, **k),
                            lambda l, p: np.abs(p - l)),
    "huber_loss": (lambda l, p, **k: tf.losses.huber_loss(l, p, delta=0.7, **k),
                   lambda l, p: _huber(p - l, 0.7)),
    "hinge_loss": (lambda l, p, **k: tf.losses.hinge_loss((l > 0).astype(np.float32), p, **k),
                   lambda l, p: np.maximum(0, 1 - (2 * (l > 0) - 1) * p)),
    "log_loss": (lambda l, p, **k: tf.losses.log_loss((l > 0).astype(np.float32),
                                                      1 / (1 + np.exp(-p)), **k),
                 lambda l, p: _log_loss((l > 0).astype(np.float64), 1 / (1 + np.exp(-p)))),
    "sigmoid_cross_entropy": (
        lambda l, p, **k: tf.losses.sigmoid_cross_entropy((l > 0).astype(np.float32), p, **k),
        lambda l, p: _sigmoid_xent((l > 0).astype(np.float64), p)),
}


@pytest.mark.parametrize("reduction", [R.NONE, R.SUM, R.MEAN, R.SUM_OVER_BATCH_SIZE,
                                       R.SUM_BY_NONZERO_WEIGHTS])
@pytest.mark.parametrize("wkey", sorted(WEIGHTS))
@pytest.mark.parametrize("loss", sorted(REGRESSION))
def test_elementwise_losses_weights_and_reductions(loss, wkey, reduction):
    build, truth = REGRESSION[loss]
    w = WEIGHTS[wkey]
    out = build(LABELS, PREDS, weights=w, reduction=reduction)
    assert out.dtype == tf.float32
    want = _reduce(truth(LABELS.astype(np.float64), PREDS.astype(np.float64)), w, reduction)
    np.testing.assert_allclose(_run(out), want, rtol=2e-5, atol=1e-6)
    assert tf.get_collection(tf.GraphKeys.LOSSES) == [out]


def test_default_reduction_is_sum_by_nonzero_weights():
    assert R.SUM_OVER_NONZERO_WEIGHTS == R.SUM_BY_NONZERO_WEIGHTS == \
        "weighted_sum_by_nonzero_weights"
    w = WEIGHTS["per_example"]
    out = tf.losses.mean_squared_error(LABELS, PREDS, weights=w)
    want = ((PREDS - LABELS).astype(np.float64) ** 2 * w).sum() / 9.0  # 3 rows x 3 nonzero
    np.testing.assert_allclose(_run(out), want, rtol=1e-5)
    assert out.name == "mean_squared_error/value:0"
    assert set(R.all()) == set({R.NONE, R.SUM, R.MEAN, R.SUM_OVER_BATCH_SIZE,
                                      R.SUM_BY_NONZERO_WEIGHTS, R.SUM_OVER_NONZERO_WEIGHTS})


@pytest.mark.parametrize("reduction", [R.MEAN, R.SUM_BY_NONZERO_WEIGHTS])
def test_all_zero_weights_give_zero_not_nan(reduction):
    out = tf.losses.absolute_difference(LABELS, PREDS, weights=0.0, reduction=reduction)
    assert _run(out) == 0.0
    p = tf.placeholder(tf.float32, [None, 3])
    empty = tf.losses.mean_squared_error(p, p, reduction=R.SUM_OVER_BATCH_SIZE)
    assert _run(empty, {p: np.zeros((0, 3), np.float32)}) == 0.0


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("wkey", ["scalar", "vector"])
def test_softmax_cross_entropy(smoothing, wkey):
    onehot = np.eye(3, dtype=np.float32)[[0, 2, 1, 2]]
    w = np.float32(1.5) if wkey == "scalar" else np.array([1.0, 0.0, 2.0, 3.0], np.float32)
    out = tf.losses.softmax_cross_entropy(onehot, PREDS, weights=w, label_smoothing=smoothing)
    smoothed = onehot * (1 - smoothing) + smoothing / 3
    per = _softmax_xent(smoothed.astype(np.float64), PREDS.astype(np.float64))
    np.testing.assert_allclose(_run(out), _reduce(per, w, R.SUM_BY_NONZERO_WEIGHTS),
                               rtol=1e-5)
    assert out.op.name.startswith("softmax_cross_entropy_loss/")


def test_sigmoid_cross_entropy_label_smoothing():
    z = (LABELS > 0).astype(np.float32)
    out = tf.losses.sigmoid_cross_entropy(z, PREDS, label_smoothing=0.3, reduction=R.NONE)
    want = _sigmoid_xent(z * 0.7 + 0.15, PREDS.astype(np.float64))
    np.testing.assert_allclose(_run(out), want, rtol=1e-5, atol=1e-6)


def test_sparse_softmax_cross_entropy_shapes():
    ids = np.array([0, 2, 1, 2], np.int32)
    w = np.array([1.0, 0.5, 0.0, 2.0], np.float32)
    per = _softmax_xent(np.eye(3)[ids], PREDS.astype(np.float64))
    want = _reduce(per, w, R.SUM_BY_NONZERO_WEIGHTS)
    a = tf.losses.sparse_softmax_cross_entropy(ids, PREDS, weights=w)
    b = tf.losses.sparse_softmax_cross_entropy(ids[:, None], PREDS, weights=w[:, None])
    c = tf.losses.sparse_softmax_cross_entropy(ids, PREDS, reduction=R.NONE)
    got = _run([a, b, c])
    np.testing.assert_allclose(got[0], want, rtol=1e-5)
    np.testing.assert_allclose(got[1], want, rtol=1e-5)
    np.testing.assert_allclose(got[2], per, rtol=1e-5)
    assert c.shape.as_list() == [4]


def test_cosine_distance():
    l = LABELS / np.linalg.norm(LABELS, axis=1, keepdims=True)
    p = PREDS / np.linalg.norm(PREDS, axis=1, keepdims=True)
    none = tf.losses.cosine_distance(l, p, axis=1, reduction=R.NONE)
    assert none.shape.as_list() == [4, 1]
    np.testing.assert_allclose(_run(none), 1 - (l * p).sum(1, keepdims=True), rtol=1e-5,
                               atol=1e-6)
    mean = tf.losses.cosine_distance(l, p, dim=1)
    np.testing.assert_allclose(_run(mean), (1 - (l * p).sum(1)).mean(), rtol=1e-5)
    with pytest.raises(ValueError, match="You must specify argument `axis`."):
        tf.losses.cosine_distance(l, p)


def test_float64_inputs_come_back_as_float64():
    logits = tf.constant(PREDS.astype(np.float64))
    out = tf.losses.softmax_cross_entropy(np.eye(3)[[0, 1, 2, 0]], logits)
    assert out.dtype == tf.float64
    per = _softmax_xent(np.eye(3)[[0, 1, 2, 0]], PREDS.astype(np.float64))
    np.testing.assert_allclose(_run(out), per.mean(), rtol=1e-6)  # reduced in float32, as TF


def test_compute_weighted_loss_and_collections():
    per = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    a = tf.losses.compute_weighted_loss(per, weights=[[1.0], [0.0]])
    b = tf.losses.compute_weighted_loss(per, loss_collection=None, reduction=R.SUM)
    c = tf.losses.compute_weighted_loss(per, weights=2.0, reduction=R.MEAN)
    assert _run([a, b, c]) == [1.5, 10.0, 2.5]
    assert tf.losses.get_losses() == [a, c]
    reg = tf.constant(0.25)
    tf.add_to_collection(tf.GraphKeys.REGULARIZATION_LOSSES, reg)
    assert tf.losses.get_regularization_losses() == [reg]
    assert _run(tf.losses.get_regularization_loss()) == 0.25
    assert _run(tf.losses.get_total_loss()) == 1.5 + 2.5 + 0.25
    assert _run(tf.losses.get_total_loss(add_regularization_losses=False)) == 4.0
    assert tf.losses.get_total_loss().op.name.startswith("total_loss")
    extra = tf.constant(9.0)
    tf.losses.add_loss(extra)
    tf.losses.add_loss(tf.constant(1.0), loss_collection=None)
    assert tf.losses.get_losses()[-1] is extra


def test_empty_collections():
    assert _run(tf.losses.get_regularization_loss()) == 0.0
    with pytest.raises(ValueError):
        tf.losses.get_total_loss()


def test_regularizer_losses_from_get_variable():
    w = tf.get_variable("w", [2], initializer=tf.constant_initializer(3.0),
                        regularizer=lambda t: tf.reduce_sum(t * t) * 0.5)
    assert len(tf.losses.get_regularization_losses()) == 1
    with tf.Session() as sess:
        sess.run(w.initializer)
        assert sess.run(tf.losses.get_regularization_loss()) == 9.0


def test_argument_errors():
    with pytest.raises(ValueError, match="Invalid Reduction Key bogus."):
        tf.losses.mean_squared_error(LABELS, PREDS, reduction="bogus")
    with pytest.raises(ValueError, match="Argument `labels` must not be None."):
        tf.losses.mean_squared_error(None, PREDS)
    with pytest.raises(ValueError, match="Argument `logits` must not be None."):
        tf.losses.softmax_cross_entropy(LABELS, None)
    with pytest.raises(ValueError, match="weights can not be broadcast to values"):
        tf.losses.mean_squared_error(LABELS, PREDS, weights=np.ones(3, np.float32))
    with pytest.raises(ValueError, match="Mismatch at dim 0"):
        tf.losses.mean_squared_error(LABELS, PREDS, weights=np.ones((2, 3), np.float32))
    with pytest.raises(ValueError):
        tf.losses.absolute_difference(LABELS, PREDS[:, :2])


def test_softmax_gradient_flows_to_logits_only():
    onehot = tf.constant(np.eye(3, dtype=np.float32)[[0, 2, 1, 2]])
    logits = tf.constant(PREDS)
    w = np.array([1.0, 0.0, 2.0, 3.0], np.float32)
    loss = tf.losses.softmax_cross_entropy(onehot, logits, weights=w)
    g_logits, g_labels = tf.gradients(loss, [logits, onehot])
    assert g_labels is None
    e = np.exp(PREDS - PREDS.max(1, keepdims=True))
    sm = e / e.sum(1, keepdims=True)
    want = (sm - np.eye(3)[[0, 2, 1, 2]]) * w[:, None] / 3.0
    np.testing.assert_allclose(_run(g_logits), want, rtol=1e-5, atol=1e-6)


def test_huber_gradient_not_doubled_at_delta():
    p = tf.constant([0.0, 1.0, 3.0])
    loss = tf.losses.huber_loss([0.0, 0.0, 0.0], p, delta=1.0, reduction=R.SUM)
    np.testing.assert_allclose(_run(tf.gradients(loss, p)[0]), [0.0, 1.0, 1.0])
