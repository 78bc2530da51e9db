"""tf.gradients against TensorFlow's on small losses: broadcasting sums,
reductions, matmul, activations, softmax cross-entropy, shape ops."""
import numpy as np
import pytest

RNG = np.random.default_rng(21)
X = RNG.uniform(-1, 1, size=(4, 3)).astype(np.float32)
W = RNG.uniform(-1, 1, size=(3, 5)).astype(np.float32)
B = RNG.uniform(-1, 1, size=(5,)).astype(np.float32)
Y = np.eye(5, dtype=np.float32)[[0, 3, 1, 4]]

LOSSES = {
    "broadcast-add": lambda tf, x, w, b: tf.reduce_sum((x[:, :1] + b) * (x[:, :1] + b)),
    "matmul-bias-tanh": lambda tf, x, w, b: tf.reduce_mean(tf.tanh(tf.matmul(x, w) + b)),
    "mlp-softmax-ce": lambda tf, x, w, b: tf.reduce_mean(
        tf.nn.softmax_cross_entropy_with_logits_v2(labels=Y, logits=tf.nn.relu(
            tf.matmul(x, w)) + b)),
    "sparse-ce": lambda tf, x, w, b: tf.reduce_sum(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0, 3, 1, 4],
                                                       logits=tf.matmul(x, w) + b)),
    "shape-ops": lambda tf, x, w, b: tf.reduce_sum(tf.square(tf.concat(
        [tf.reshape(tf.transpose(w), [-1]), b * 3.0], 0))),
    "sigmoid-exp-log": lambda tf, x, w, b: tf.reduce_sum(
        tf.sigmoid(w) * tf.exp(x[:3, :1]) + tf.log(tf.abs(b) + 1.0)),
    "division-pow": lambda tf, x, w, b: tf.reduce_sum(
        tf.pow(tf.abs(b) + 1.0, 1.5) / (tf.abs(w[0]) + 1.0)),
    "reductions": lambda tf, x, w, b: tf.reduce_sum(
        tf.reduce_max(w, axis=0) * tf.reduce_min(b)) + tf.reduce_sum(
        tf.reduce_prod(x + 2.0, axis=1)),
}


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_gradients_match(oracle, loss):
    fn = LOSSES[loss]

    def build(tf):
        x = tf.placeholder(tf.float32, X.shape)
        w = tf.placeholder(tf.float32, W.shape)
        b = tf.placeholder(tf.float32, B.shape)
        value = fn(tf, x, w, b)
        grads = tf.gradients(value, [x, w, b])
        grads = [tf.zeros_like(v) if g is None else g for g, v in zip(grads, (x, w, b))]
        return [value] + grads, {x: X, w: W, b: B}
    oracle.run(build, rtol=1e-5, atol=1e-6)


def test_gradient_of_unconnected_is_none(oracle):
    def build(tf):
        x = tf.placeholder(tf.float32, [2])
        y = tf.placeholder(tf.float32, [2])
        return tf.gradients(tf.reduce_sum(x * 2.0), [x, y])[1] is None
    import graphflow as gf
    assert oracle.build(gf, build)[1] is True and oracle.build(oracle.tf1, build)[1] is True


def test_gradient_ys_list_and_grad_ys(oracle):
    def build(tf):
        x = tf.placeholder(tf.float32, [3])
        y1, y2 = x * x, tf.reduce_sum(x) * 2.0
        g = tf.gradients([y1, y2], x, grad_ys=[tf.constant([1.0, 2.0, 3.0]), None])
        return g, {x: np.array([1.0, -2.0, 0.5], np.float32)}
    oracle.run(build)
