"""Softmax, cross-entropies and activations against TensorFlow, including
large logits (numerical stability) and the losses' shapes."""
import numpy as np
import pytest

RNG = np.random.default_rng(5)
LOGITS = {
    "small": RNG.uniform(-2, 2, size=(4, 5)).astype(np.float32),
    "large": (RNG.uniform(-1, 1, size=(4, 5)) * 500).astype(np.float32),
    "3d": RNG.uniform(-3, 3, size=(2, 3, 4)).astype(np.float32),
}


def _one(fn, x):
    def build(tf):
        p = tf.placeholder(tf.as_dtype(x.dtype), x.shape)
        return fn(tf, p), {p: x}
    return build


@pytest.mark.parametrize("which", sorted(LOGITS))
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax(oracle, which, fn):
    x = LOGITS[which]
    oracle.run(_one(lambda tf, p: getattr(tf.nn, fn)(p), x), rtol=1e-5, atol=1e-6)
    oracle.run(_one(lambda tf, p: getattr(tf.nn, fn)(p, axis=0), x), rtol=1e-5, atol=1e-6)


def test_softmax_float64(oracle):
    x = LOGITS["small"].astype(np.float64)
    oracle.run(_one(lambda tf, p: tf.nn.softmax(p), x))


def _labels(shape):
    z = RNG.uniform(0, 1, size=shape)
    return (z / z.sum(axis=-1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("which", ["small", "large"])
def test_softmax_cross_entropy(oracle, which):
    x = LOGITS[which]
    y = _labels(x.shape)

    def build(tf):
        logits = tf.placeholder(tf.float32, x.shape)
        labels = tf.placeholder(tf.float32, y.shape)
        return tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits), \
            {logits: x, labels: y}
    oracle.run(build, rtol=1e-5, atol=1e-5)
    oracle.static(build)


@pytest.mark.parametrize("which", ["small", "large"])
def test_sparse_softmax_cross_entropy(oracle, which):
    x = LOGITS[which]
    y = RNG.integers(0, x.shape[1], size=x.shape[0]).astype(np.int32)

    def build(tf):
        logits = tf.placeholder(tf.float32, x.shape)
        labels = tf.placeholder(tf.int32, y.shape)
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits), \
            {logits: x, labels: y}
    oracle.run(build, rtol=1e-5, atol=1e-5)
    oracle.static(build)


def test_sparse_softmax_cross_entropy_bad_label(oracle):
    def build(tf):
        logits = tf.placeholder(tf.float32, [2, 3])
        labels = tf.placeholder(tf.int32, [2])
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits), \
            {logits: np.zeros((2, 3), np.float32), labels: np.array([0, 3], np.int32)}
    oracle.error(build)


def test_sigmoid_cross_entropy(oracle):
    x = LOGITS["large"]
    y = (RNG.random(x.shape) < 0.5).astype(np.float32)

    def build(tf):
        logits = tf.placeholder(tf.float32, x.shape)
        labels = tf.placeholder(tf.float32, y.shape)
        return tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits), \
            {logits: x, labels: y}
    oracle.run(build, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("fn", ["relu", "relu6", "elu", "softplus", "sigmoid", "tanh"])
def test_activations(oracle, fn):
    x = LOGITS["small"] * 4
    oracle.run(_one(lambda tf, p: getattr(tf.nn, fn)(p), x), rtol=1e-5, atol=1e-6)


def test_bias_add_and_l2_loss(oracle):
    x = LOGITS["small"]
    b = RNG.uniform(-1, 1, size=(5,)).astype(np.float32)

    def build(tf):
        p = tf.placeholder(tf.float32, x.shape)
        return [tf.nn.bias_add(p, b), tf.nn.l2_loss(p)], {p: x}
    oracle.run(build, rtol=1e-5, atol=1e-6)


def test_mean_cross_entropy_loss(oracle):
    """The usual classifier loss: mean over the batch of softmax cross-entropy."""
    x = LOGITS["small"]
    y = np.eye(5, dtype=np.float32)[[0, 3, 1, 4]]

    def build(tf):
        logits = tf.placeholder(tf.float32, [None, 5])
        labels = tf.placeholder(tf.float32, [None, 5])
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(
            labels=labels, logits=logits))
        return loss, {logits: x, labels: y}
    oracle.run(build, rtol=1e-5, atol=1e-6)
