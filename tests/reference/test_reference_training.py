"""Training machinery against TensorFlow's ``compat.v1`` (issue 4).

The same graph is built with graphflow and with TF1 (each in its own Graph,
same numpy initial values and data) and run in lockstep: every optimizer on a
small MLP for 20 steps (all variables, slots and global_step after every
step), the learning-rate decays, the clipping functions and their gradients,
ExponentialMovingAverage, and ``tf.contrib.layers.optimize_loss`` against a
reference written from /work/shared/spec/optimize_loss.md. Skipped without
TensorFlow.
"""
import os

import numpy as np
import pytest

import graphflow as gf

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tensorflow = pytest.importorskip("tensorflow",
                                 reason="needs the reference extra (tensorflow-cpu)")
tf1 = tensorflow.compat.v1
tf1.disable_eager_execution()
tf1.disable_resource_variables()

pytestmark = pytest.mark.reference

RTOL, ATOL = 1e-5, 1e-6

_rng = np.random.RandomState(1234)
X = _rng.randn(16, 4).astype(np.float32)
Y = _rng.randint(0, 3, size=16).astype(np.int32)
INIT = {
    "w1": (_rng.randn(4, 8) * 0.5).astype(np.float32),
    "b1": (_rng.randn(8) * 0.1).astype(np.float32),
    "w2": (_rng.randn(8, 3) * 0.5).astype(np.float32),
    "b2": (_rng.randn(3) * 0.1).astype(np.float32),
}


def _mlp(tf):
    """4-8-3 relu MLP with mean sparse softmax cross-entropy; returns (loss, vars)."""
    vs = {k: tf.Variable(v, name=k) for k, v in sorted(INIT.items())}
    h = tf.nn.relu(tf.matmul(tf.constant(X), vs["w1"]) + vs["b1"])
    logits = tf.matmul(h, vs["w2"]) + vs["b2"]
    xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant(Y),
                                                         logits=logits)
    return tf.reduce_mean(xent), vs


def _close(got, want, what, rtol=RTOL, atol=ATOL):
    g, w = np.asarray(got), np.asarray(want)
    assert g.dtype == w.dtype and g.shape == w.shape, (what, g.dtype, g.shape, w.dtype, w.shape)
    if g.dtype.kind in "fc":
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=what)
    else:
        np.testing.assert_array_equal(g, w, err_msg=what)


def _close_dicts(got, want, what, rtol=RTOL, atol=ATOL):
    assert sorted(got) == sorted(want), what
    for k in sorted(want):
        _close(got[k], want[k], "%s: %s" % (what, k), rtol, atol)


def _lockstep(build, steps, rtol=RTOL, atol=ATOL):
    """Build ``build(tf) -> (step_target, fetch_dict)`` in both; compare after each step.

    The fetch dict is compared before the first step and after every step.
    """
    sessions = []
    for mod in (gf, tf1):
        g = mod.Graph()
        with g.as_default():
            target, fetch = build(mod)
            # One variable at a time, in creation order: TF's EMA shadow
            # initializer reads its (possibly uninitialized) source variable.
            inits = [v.initializer for v in mod.global_variables()]
        s = mod.Session(graph=g)
        for init in inits:
            s.run(init)
        sessions.append((s, target, fetch))
    try:
        (gs_, gt, gfetch), (ts, tt, tfetch) = sessions
        _close_dicts(gs_.run(gfetch), ts.run(tfetch), "initial", rtol, atol)
        for step in range(steps):
            got_t = gs_.run(gt)
            want_t = ts.run(tt)
            if got_t is not None or want_t is not None:
                _close(got_t, want_t, "step %d result" % step, rtol, atol)
            _close_dicts(gs_.run(gfetch), ts.run(tfetch), "after step %d" % step, rtol, atol)
    finally:
        for s, _, _ in sessions:
            s.close()


# ---------------------------------------------------------------------------
# 1. Optimizers on an MLP, 20 steps

OPTIMIZERS = {
    "gd": lambda tf: tf.train.GradientDescentOptimizer(0.5),
    "momentum": lambda tf: tf.train.MomentumOptimizer(0.1, 0.9),
    "nesterov": lambda tf: tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
    "adagrad": lambda tf: tf.train.AdagradOptimizer(0.3),
    "adadelta": lambda tf: tf.train.AdadeltaOptimizer(1.0, rho=0.9),
    "adam": lambda tf: tf.train.AdamOptimizer(0.05),
    "ftrl": lambda tf: tf.train.FtrlOptimizer(0.3, l1_regularization_strength=0.01,
                                              l2_regularization_strength=0.01),
    "rmsprop": lambda tf: tf.train.RMSPropOptimizer(0.01),
    "rmsprop_centered": lambda tf: tf.train.RMSPropOptimizer(0.01, momentum=0.5,
                                                             centered=True),
}


@pytest.mark.parametrize("key", sorted(OPTIMIZERS))
def test_optimizer_mlp_20_steps(key):
    def build(tf):
        loss, vs = _mlp(tf)
        gs = tf.train.get_or_create_global_step()
        opt = OPTIMIZERS[key](tf)
        train = opt.minimize(loss, global_step=gs)
        fetch = {"global_step": gs, "loss": loss}
        fetch.update({v.op.name: v for v in tf.global_variables()})
        for name in opt.get_slot_names():
            for vname, v in vs.items():
                fetch["slot/%s/%s" % (vname, name)] = opt.get_slot(v, name)
        with tf.control_dependencies([train]):
            step = tf.identity(gs)
        return step, fetch

    _lockstep(build, 20)


# ---------------------------------------------------------------------------
# 2. Learning-rate decays driven by a global step, 10 steps

DECAYS = {
    "exponential": lambda tf, gs: tf.train.exponential_decay(0.1, gs, 3, 0.5),
    "exponential_staircase": lambda tf, gs: tf.train.exponential_decay(
        0.1, gs, 3, 0.5, staircase=True),
    "natural_exp": lambda tf, gs: tf.train.natural_exp_decay(0.1, gs, 3, 0.5),
    "natural_exp_staircase": lambda tf, gs: tf.train.natural_exp_decay(
        0.1, gs, 3, 0.5, staircase=True),
    "inverse_time": lambda tf, gs: tf.train.inverse_time_decay(0.1, gs, 3, 0.5),
    "inverse_time_staircase": lambda tf, gs: tf.train.inverse_time_decay(
        0.1, gs, 3, 0.5, staircase=True),
    "polynomial": lambda tf, gs: tf.train.polynomial_decay(0.1, gs, 4, 0.01, power=2.0),
    "polynomial_cycle": lambda tf, gs: tf.train.polynomial_decay(
        0.1, gs, 4, 0.01, power=0.5, cycle=True),
    "cosine": lambda tf, gs: tf.train.cosine_decay(0.1, gs, 7, alpha=0.1),
    "cosine_restarts": lambda tf, gs: tf.train.cosine_decay_restarts(
        0.1, gs, 2, t_mul=2.0, m_mul=0.5, alpha=0.1),
    "linear_cosine": lambda tf, gs: tf.train.linear_cosine_decay(
        0.1, gs, 7, num_periods=1.5, alpha=0.1, beta=0.01),
    "piecewise_constant": lambda tf, gs: tf.train.piecewise_constant(
        gs, [3, 6], [0.1, 0.05, 0.01]),
}


@pytest.mark.parametrize("key", sorted(DECAYS))
def test_learning_rate_decay(key):
    def build(tf):
        gs = tf.train.get_or_create_global_step()
        lr = DECAYS[key](tf, gs)
        return tf.assign_add(gs, 1), {"lr": lr, "gs": gs}

    _lockstep(build, 10)


# ---------------------------------------------------------------------------
# 3. Clipping values and gradients

A = _rng.randn(3, 4).astype(np.float32) * 2
B = _rng.randn(5).astype(np.float32)
W_A = _rng.randn(3, 4).astype(np.float32)
W_B = _rng.randn(5).astype(np.float32)


def _with_grads(tf, inputs, outputs):
    """Fetches of the outputs and d(sum(w * out))/d(inputs) (None grads dropped)."""
    weights = {A.shape: W_A, B.shape: W_B}
    obj = tf.add_n([tf.reduce_sum(o * tf.constant(weights[tuple(o.shape.as_list())]))
                    for o in outputs])
    grads = tf.gradients(obj, inputs)
    fetch = {"out%d" % i: o for i, o in enumerate(outputs)}
    fetch.update({"grad%d" % i: g for i, g in enumerate(grads) if g is not None})
    return fetch


CLIPS = {
    "by_value": lambda tf, a, b: [tf.clip_by_value(a, -1.0, 0.5)],
    "by_value_tensor": lambda tf, a, b: [tf.clip_by_value(
        a, tf.constant(-0.5), tf.constant(1.0))],
    "by_norm": lambda tf, a, b: [tf.clip_by_norm(a, 1.5)],
    "by_norm_unclipped": lambda tf, a, b: [tf.clip_by_norm(b, 100.0)],
    "by_norm_axes1": lambda tf, a, b: [tf.clip_by_norm(a, 1.0, axes=[1])],
    "by_norm_axes0": lambda tf, a, b: [tf.clip_by_norm(a, 1.0, axes=[0])],
    "by_average_norm": lambda tf, a, b: [tf.clip_by_average_norm(a, 0.2)],
    "global_norm": lambda tf, a, b: [tf.reshape(tf.global_norm([a, None, b]), [1, 1])
                                     * tf.ones([3, 4])],
    "by_global_norm": lambda tf, a, b: tf.clip_by_global_norm([a, b], 2.0)[0],
    "by_global_norm_none": lambda tf, a, b: [
        t for t in tf.clip_by_global_norm([a, None, b], 2.0)[0] if t is not None],
    "by_global_norm_use_norm": lambda tf, a, b: tf.clip_by_global_norm(
        [a, b], 2.0, use_norm=tf.constant(5.0))[0],
    "by_global_norm_returned_norm": lambda tf, a, b: [
        tf.clip_by_global_norm([a, None, b], 2.0)[1] * tf.ones([5])],
}


@pytest.mark.parametrize("key", sorted(CLIPS))
def test_clipping(key):
    results = []
    for mod in (gf, tf1):
        g = mod.Graph()
        with g.as_default():
            a, b = mod.constant(A), mod.constant(B)
            outs = CLIPS[key](mod, a, b)
            fetch = _with_grads(mod, [a, b], outs)
        with mod.Session(graph=g) as s:
            results.append(s.run(fetch))
    _close_dicts(results[0], results[1], key)


def test_clip_by_global_norm_keeps_none():
    for mod in (gf, tf1):
        with mod.Graph().as_default():
            out, _ = mod.clip_by_global_norm([mod.constant(A), None], 1.0)
            assert out[1] is None, mod.__name__


# ---------------------------------------------------------------------------
# 4. ExponentialMovingAverage over training steps

@pytest.mark.parametrize("num_updates", [False, True], ids=["plain", "num_updates"])
def test_exponential_moving_average(num_updates):
    def build(tf):
        loss, vs = _mlp(tf)
        gs = tf.train.get_or_create_global_step()
        train_op = tf.train.GradientDescentOptimizer(0.5).minimize(loss, global_step=gs)
        ema = tf.train.ExponentialMovingAverage(
            0.9, num_updates=gs if num_updates else None, zero_debias=False)
        with tf.control_dependencies([train_op]):
            train = ema.apply(list(vs.values()))
        fetch = {"avg/" + k: ema.average(v) for k, v in vs.items()}
        fetch.update({k: v for k, v in vs.items()})
        fetch["gs"] = gs
        return train, fetch

    _lockstep(build, 10)


# ---------------------------------------------------------------------------
# 5. contrib.layers.optimize_loss vs a TF1 reference built per the spec

def _optimize_loss_reference(tf, loss, gs, lr_value, opt_name, clip):
    """optimize_loss per /work/shared/spec/optimize_loss.md §3 (float lr, string optimizer)."""
    with tf.variable_scope(None, default_name="OptimizeLoss"):
        lr = tf.get_variable("learning_rate", [], dtype=tf.float32, trainable=False,
                             initializer=tf.constant_initializer(lr_value))
        opt = {"SGD": tf.train.GradientDescentOptimizer,
               "Adam": tf.train.AdamOptimizer}[opt_name](learning_rate=lr)
        grads = opt.compute_gradients(loss, tf.trainable_variables())
        clipped, _ = tf.clip_by_global_norm([g for g, _ in grads], clip)
        grads = list(zip(clipped, [v for _, v in grads]))
        train = opt.apply_gradients(grads, global_step=gs, name="train")
        with tf.control_dependencies([train]):
            return tf.identity(loss)


@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_optimize_loss(opt_name):
    def build(tf):
        loss, _ = _mlp(tf)
        gs = tf.train.get_or_create_global_step()
        if tf is gf:
            out = gf.contrib.layers.optimize_loss(loss, gs, 0.1, opt_name,
                                                  clip_gradients=0.5)
        else:
            out = _optimize_loss_reference(tf, loss, gs, 0.1, opt_name, 0.5)
        return out, {v.op.name: v for v in tf.global_variables()}

    _lockstep(build, 5)
