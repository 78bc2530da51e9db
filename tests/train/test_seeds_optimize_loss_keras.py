"""Seeds 000 (optimize_loss usage forms) and 002 (Keras OptimizerV2 API, GradientTape
+ apply_gradients) from shared/seeds/, run with ``import graphflow as tf``.

Neither seed prints numbers; each form runs a few steps and is checked against
a NumPy re-derivation of the optimizer's formula.
"""
import inspect

import numpy as np
import pytest

import graphflow as tf


# --- seed 000: tf.contrib.layers.optimize_loss ---------------------------------------------
def _quadratic():
    """loss = sum((w - target)^2), gradient 2 (w - target)."""
    w = tf.get_variable("w", [2], initializer=tf.constant_initializer([1.0, -1.0]))
    loss = tf.reduce_sum(tf.square(w - tf.constant([3.0, 2.0])))
    return w, loss


def _np_grad(w):
    return 2.0 * (w - np.array([3.0, 2.0]))


def _np_momentum(lr, mom, steps):
    w, acc = np.array([1.0, -1.0]), np.zeros(2)
    for _ in range(steps):
        acc = acc * mom + _np_grad(w)
        w = w - lr * acc
    return w


def _np_adagrad(lr, steps):
    w, acc = np.array([1.0, -1.0]), np.full(2, 0.1)
    for _ in range(steps):
        g = _np_grad(w)
        acc = acc + g * g
        w = w - lr * g / np.sqrt(acc)
    return w


def test_seed_optimizer_cls_names():
    names = tf.contrib.layers.OPTIMIZER_CLS_NAMES
    assert names["Adagrad"] is tf.train.AdagradOptimizer
    assert names["Adam"] is tf.train.AdamOptimizer
    assert names["Ftrl"] is tf.train.FtrlOptimizer
    assert names["RMSProp"] is tf.train.RMSPropOptimizer
    assert names["SGD"] is tf.train.GradientDescentOptimizer
    mom = names["Momentum"](learning_rate=0.1)
    assert isinstance(mom, tf.train.MomentumOptimizer) and mom._momentum == 0.9


@pytest.mark.parametrize("kwargs,expected", [
    (dict(learning_rate=0.05, optimizer=lambda lr: tf.train.MomentumOptimizer(lr, momentum=0.5)),
     lambda n: _np_momentum(0.05, 0.5, n)),
    (dict(learning_rate=None, optimizer=lambda: tf.train.MomentumOptimizer(0.05, momentum=0.5)),
     lambda n: _np_momentum(0.05, 0.5, n)),
    (dict(learning_rate=0.5, optimizer=tf.train.AdagradOptimizer),
     lambda n: _np_adagrad(0.5, n)),
    (dict(learning_rate=0.1, optimizer=tf.train.AdagradOptimizer(0.5)),
     lambda n: _np_adagrad(0.5, n)),
    (dict(learning_rate=0.05, optimizer="Momentum"), lambda n: _np_momentum(0.05, 0.9, n)),
], ids=["lambda-lr", "lambda-no-lr", "class", "instance", "string"])
def test_seed_optimizer_forms(kwargs, expected):
    w, loss = _quadratic()
    global_step = tf.train.get_or_create_global_step()
    train = tf.contrib.layers.optimize_loss(loss, global_step, **kwargs)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        losses = [sess.run(train) for _ in range(4)]
        np.testing.assert_allclose(sess.run(w), expected(4), rtol=1e-5)
        assert sess.run(global_step) == 4
    # each evaluation returns the loss computed before that step's update
    assert losses[0] == pytest.approx(4.0 + 9.0)
    assert losses[1] == pytest.approx(np.sum((expected(1) - [3.0, 2.0]) ** 2), rel=1e-5)


def test_seed_decay_fn_and_clipping():
    w, loss = _quadratic()
    global_step = tf.train.get_or_create_global_step()
    train = tf.contrib.layers.optimize_loss(
        loss, global_step, learning_rate=0.1, optimizer="SGD", clip_gradients=1.0,
        learning_rate_decay_fn=lambda lr, gs: tf.train.exponential_decay(lr, gs, 1, 0.5))
    want = np.array([1.0, -1.0])
    for step in range(3):
        g = _np_grad(want)
        g = g * min(1.0, 1.0 / np.linalg.norm(g))
        want = want - 0.1 * 0.5 ** step * g
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
        np.testing.assert_allclose(sess.run(w), want, rtol=1e-5)


# --- seed 002: the OptimizerV2 API ---------------------------------------------------------
class _Linear:
    """A tiny model: ``predictions = images @ kernel + bias``."""

    def __init__(self):
        self.kernel = tf.Variable([[0.5], [-0.5]], name="kernel")
        self.bias = tf.Variable([0.0], name="bias")
        self.trainable_variables = [self.kernel, self.bias]

    def __call__(self, x):
        return tf.matmul(x, self.kernel) + self.bias


def test_seed_gradient_tape_apply_gradients_loop():
    images = tf.placeholder(tf.float32, [None, 2])
    labels = tf.placeholder(tf.float32, [None, 1])
    model = _Linear()
    optimizer = tf.keras.optimizers.Adam(0.1)

    def loss_object(y, p):
        return tf.reduce_mean(tf.square(y - p))
    with tf.GradientTape() as tape:
        predictions = model(images)
        loss = loss_object(labels, predictions)
    gradients = tape.gradient(loss, model.trainable_variables)
    train = optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    assert isinstance(train, tf.Operation)

    rng = np.random.RandomState(0)
    xs = rng.uniform(-1, 1, (8, 2)).astype(np.float32)
    ys = (xs @ np.array([[2.0], [1.0]]) + 0.5).astype(np.float32)
    params = [np.array([[0.5], [-0.5]]), np.array([0.0])]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for t in range(1, 6):
            sess.run(train, {images: xs, labels: ys})
            err = xs @ params[0] + params[1] - ys
            grads = [2.0 * xs.T @ err / len(xs), 2.0 * err.mean(axis=0)]
            alpha = 0.1 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
            for k, g in enumerate(grads):
                m[k] = m[k] + (g - m[k]) * 0.1
                v[k] = v[k] + (g * g - v[k]) * 0.001
                params[k] = params[k] - m[k] * alpha / (np.sqrt(v[k]) + 1e-7)
        np.testing.assert_allclose(sess.run(model.kernel), params[0], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(sess.run(model.bias), params[1], rtol=1e-4, atol=1e-6)
        assert sess.run(optimizer.iterations) == 5


@pytest.mark.parametrize("method,params", [
    ("add_slot", ["var", "slot_name", "initializer"]),
    ("add_weight", ["name", "shape", "dtype", "initializer", "trainable", "synchronization",
                    "aggregation"]),
    ("apply_gradients", ["grads_and_vars", "name"]),
    ("from_config", ["config", "custom_objects"]),
    ("get_config", []),
    ("get_gradients", ["loss", "params"]),
    ("get_slot", ["var", "slot_name"]),
    ("get_slot_names", []),
    ("get_updates", ["loss", "params"]),
    ("get_weights", []),
    ("minimize", ["loss", "var_list", "grad_loss", "name"]),
    ("set_weights", ["weights"]),
    ("variables", []),
])
def test_seed_method_signatures(method, params):
    sig = inspect.signature(getattr(tf.keras.optimizers.SGD(), method))
    names = [p for p in sig.parameters if p not in ("self", "cls")]
    assert names[:len(params)] == params


def test_seed_documented_behaviour():
    v = tf.Variable([1.0, 2.0], name="v")
    opt = tf.keras.optimizers.SGD(0.1, momentum=0.9)
    step = opt.minimize(lambda: tf.reduce_sum(v * v), var_list=[v])  # iterations += 1
    config = opt.get_config()
    clone = tf.keras.optimizers.SGD.from_config(config)
    assert clone.get_config() == config
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        assert sess.run(opt.iterations) == 1
        np.testing.assert_allclose(sess.run(v), [0.8, 1.6], rtol=1e-6)
        assert opt.get_slot_names() == ["momentum"]
        assert [w.name for w in opt.variables()] == ["SGD/iter:0", "SGD/v/momentum:0"]
        weights = opt.get_weights()
        assert weights[0] == 1
        np.testing.assert_allclose(weights[1], [-0.2, -0.4], rtol=1e-6)
