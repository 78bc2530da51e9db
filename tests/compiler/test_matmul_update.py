"""The matmul_update pass: ``var -= lr * (a @ b)`` as one GEMM into the variable.

Checked: the W2 SGD plan loses its two large weight-gradient MatMul steps
(their updates compute them); training gives bitwise the same variables with
the pass on and off (NumPy's float64 product as independent truth for the
first step); products that are fetched, read elsewhere, small, of a mutated
variable, or of unknown shape are left alone; gating order is kept.
"""
import numpy as np
import pytest

import graphflow as tf
from graphflow.kernels import blas
from compiler_util import session, step_types

pytestmark = pytest.mark.skipif(not blas.can_update(np.float32),
                                reason="NumPy's OpenBLAS cblas_sgemm not found")


def _mlp(gate=tf.train.Optimizer.GATE_OP, optimizer="sgd", sizes=(784, 512, 512, 10),
         batch=256, seed=2):
    rng = np.random.default_rng(seed)
    x = tf.placeholder(tf.float32, [batch, sizes[0]], name="x")
    y = tf.placeholder(tf.int32, [batch], name="y")
    h = x
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        lim = np.sqrt(6.0 / (n_in + n_out))
        w = tf.Variable(rng.uniform(-lim, lim, (n_in, n_out)).astype(np.float32), name="w%d" % k)
        b = tf.Variable(np.full(n_out, 0.01, np.float32), name="b%d" % k)
        h = tf.matmul(h, w) + b
        if k < len(sizes) - 2:
            h = tf.nn.relu(h)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h))
    opt = (tf.train.GradientDescentOptimizer(0.05) if optimizer == "sgd"
           else tf.train.MomentumOptimizer(0.05, 0.9))
    train = opt.minimize(loss, global_step=tf.train.get_or_create_global_step(),
                         gate_gradients=gate)
    feeds = {x: rng.uniform(0, 1, (batch, sizes[0])).astype(np.float32),
             y: rng.integers(0, sizes[-1], batch).astype(np.int32)}
    return train, loss, feeds


def test_w2_sgd_updates_compute_their_gradients():
    train, loss, feeds = _mlp()
    with session() as s:
        rep = s.compiled_plan([train, loss], feeds)
    merged = rep.pass_report("matmul_update").changes["merged"]
    assert merged == [("GradientDescent/update_w0/ApplyGradientDescent",
                       "gradients/MatMul_grad/MatMul_1"),
                      ("GradientDescent/update_w1/ApplyGradientDescent",
                       "gradients/MatMul_1_grad/MatMul_1")]
    # 8 GEMMs: 3 forward, dW3 and dh2, dh1, and the two in the updates
    assert step_types(rep).count("MatMul") == 6
    names = [n for n, _, _ in rep.steps]
    assert "gradients/MatMul_grad/MatMul_1" not in names
    assert "GradientDescent/update_w0/ApplyGradientDescent" in names


@pytest.mark.parametrize("gate", [tf.train.Optimizer.GATE_NONE, tf.train.Optimizer.GATE_OP,
                                  tf.train.Optimizer.GATE_GRAPH])
def test_training_is_bitwise_equal_with_the_pass_on_and_off(gate):
    out = []
    for switch in (True, False):
        g = tf.Graph()
        with g.as_default():
            train, loss, feeds = _mlp(gate, sizes=(300, 160, 140, 5), batch=128)
            init = tf.global_variables_initializer()
            vs = tf.global_variables()
            w0 = [v for v in vs if v.op.name == "w0"][0]
        with session(graph=g, matmul_update=switch) as s:
            s.run(init)
            w0_before = s.run(w0)
            rep = s.compiled_plan([train, loss], feeds)
            losses = [s.run([train, loss], feeds)[1] for _ in range(3)]
            out.append((losses, s.run(vs), w0_before))
        merged = rep.pass_report("matmul_update").changes.get("merged", [])
        assert len(merged) == (2 if switch else 0)
    (l_on, v_on, _), (l_off, v_off, _) = out
    assert np.array_equal(np.array(l_on), np.array(l_off))
    for a, b in zip(v_on, v_off):
        assert np.array_equal(a, b)


def test_first_update_matches_numpy():
    """One step with the pass on, against the gradient computed by hand in float64."""
    rng = np.random.default_rng(9)
    xv = rng.uniform(-1, 1, (200, 150)).astype(np.float32)
    tv = rng.uniform(-1, 1, (200, 120)).astype(np.float32)
    wv = rng.uniform(-0.1, 0.1, (150, 120)).astype(np.float32)
    x = tf.placeholder(tf.float32, [200, 150])
    w = tf.Variable(wv)
    loss = 0.5 * tf.reduce_sum(tf.square(tf.matmul(x, w) - tv))
    train = tf.train.GradientDescentOptimizer(0.001).minimize(loss)
    with session() as s:
        s.run(w.initializer)
        rep = s.compiled_plan(train, {x: xv})
        s.run(train, {x: xv})
        got = s.run(w)
    assert len(rep.pass_report("matmul_update").changes["merged"]) == 1
    x64, w64 = xv.astype(np.float64), wv.astype(np.float64)
    want = w64 - 0.001 * x64.T @ (x64 @ w64 - tv)
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-6)


def test_fetched_or_shared_products_and_small_ones_are_left_alone():
    rng = np.random.default_rng(1)
    xv = rng.uniform(-1, 1, (256, 256)).astype(np.float32)
    x = tf.placeholder(tf.float32, [256, 256])
    w = tf.Variable(np.zeros((256, 256), np.float32))
    g = tf.matmul(x, x, transpose_a=True, name="g")
    upd = tf.train.GradientDescentOptimizer(0.5).apply_gradients([(g, w)])
    small_w = tf.Variable(np.zeros((8, 8), np.float32))
    xs = tf.placeholder(tf.float32, [8, 8])
    small = tf.train.GradientDescentOptimizer(0.5).apply_gradients([(tf.matmul(xs, xs), small_w)])
    feeds = {x: xv, xs: np.ones((8, 8), np.float32)}
    with session() as s:
        s.run(tf.global_variables_initializer())
        assert len(s.compiled_plan(upd, feeds).pass_report("matmul_update")
                   .changes["merged"]) == 1
        rep = s.compiled_plan([upd, g], feeds)  # the product is fetched: kept
        assert rep.pass_report("matmul_update").changes["merged"] == []
        got_g = s.run([upd, g], feeds)[1]
        np.testing.assert_allclose(got_g, xv.T @ xv, rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(s.run(w), -0.5 * (xv.T @ xv), rtol=1e-4, atol=1e-3)
        assert s.compiled_plan(small, feeds).pass_report("matmul_update").changes["merged"] == []


def test_product_of_a_variable_updated_in_the_same_run_is_left_alone():
    """g = w^T w is read by w's own update: computing it at the update would be the same,
    but a product reading a variable some op updates is never moved."""
    wv = np.random.default_rng(2).uniform(-1, 1, (128, 128)).astype(np.float32)
    w = tf.Variable(wv)
    v = tf.Variable(np.zeros((128, 128), np.float32))
    g = tf.matmul(w, w, transpose_a=True)
    with tf.control_dependencies([g]):
        upd_w = tf.assign_add(w, tf.ones_like(w))
    upd_v = tf.train.GradientDescentOptimizer(1.0).apply_gradients([(g, v)])
    with session() as s:
        s.run(tf.global_variables_initializer())
        rep = s.compiled_plan([upd_v, upd_w], None)
        assert rep.pass_report("matmul_update").changes["merged"] == []
        s.run([upd_v, upd_w])
        np.testing.assert_allclose(s.run(v), -(wv.T @ wv), rtol=1e-4, atol=1e-3)


def test_unknown_shapes_are_left_alone():
    x = tf.placeholder(tf.float32, [None, 256])
    w = tf.Variable(np.zeros((256, 256), np.float32))
    upd = tf.train.GradientDescentOptimizer(0.5).apply_gradients(
        [(tf.matmul(x, x, transpose_a=True), w)])
    with session() as s:
        s.run(w.initializer)
        rep = s.compiled_plan(upd, {x: np.ones((4, 256), np.float32)})
        assert rep.pass_report("matmul_update").changes["merged"] == []
