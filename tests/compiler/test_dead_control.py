"""The dead_control pass: pure ops reached only through control edges are dropped.

Under TF1's default GATE_OP, ``tf.tuple`` makes a NoOp wait for the gradient
of a fed input (``dx = dz @ W^T``) that nothing reads; the pass drops it, and
only ops that cannot fail and have no effects. Checked: the W2 plan loses its
ninth matmul; training gives bitwise the same variables with the pass on and
off under GATE_NONE, GATE_OP and GATE_GRAPH; control dependencies on ops that
can fail or have effects still run.
"""
import numpy as np
import pytest

import graphflow as tf
from graphflow.compiler.options import CompileOptions, apply_env
from compiler_util import config, session, step_types


def _mlp(sizes, batch, optimizer, gate, seed=5):
    """(x, y, train, loss, feeds) of a ReLU MLP with sparse softmax cross-entropy."""
    rng = np.random.default_rng(seed)
    x = tf.placeholder(tf.float32, [batch, sizes[0]], name="x")
    y = tf.placeholder(tf.int32, [batch], name="y")
    h = x
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = tf.Variable(rng.uniform(-0.5, 0.5, (n_in, n_out)).astype(np.float32), name="w%d" % k)
        b = tf.Variable(np.full(n_out, 0.01, np.float32), name="b%d" % k)
        h = tf.matmul(h, w) + b
        if k < len(sizes) - 2:
            h = tf.nn.relu(h)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h))
    gs = tf.train.get_or_create_global_step()
    opt = (tf.train.GradientDescentOptimizer(0.1) if optimizer == "sgd"
           else tf.train.AdamOptimizer(0.01))
    train = opt.minimize(loss, global_step=gs, gate_gradients=gate)
    feeds = {x: rng.uniform(0, 1, (batch, sizes[0])).astype(np.float32),
             y: rng.integers(0, sizes[-1], batch).astype(np.int32)}
    return x, y, train, loss, feeds


def test_w2_plan_drops_the_unused_input_gradient_matmul():
    x, y, train, loss, feeds = _mlp((784, 512, 512, 10), 256, "sgd", tf.train.Optimizer.GATE_OP)
    dx = tf.get_default_graph().get_operation_by_name("gradients/MatMul_grad/MatMul")
    assert dx.type == "MatMul"
    # matmul_update off: it would move the weight gradients into the updates
    with session(matmul_update=False) as s:
        on = s.compiled_plan([train, loss], feeds)
    with session(dead_control=False, matmul_update=False) as s:
        off = s.compiled_plan([train, loss], feeds)
    assert step_types(on).count("MatMul") == 8  # 3 forward + 5 backward
    assert step_types(off).count("MatMul") == 9
    assert on.pass_report("dead_control").changes["dropped"] == [dx.name]
    assert dx.name not in [n for n, _, _ in on.steps]
    assert not off.pass_report("dead_control").enabled
    assert len(on.steps) == len(off.steps) - 1
    # the user's graph still has it (passes rewrite a copy)
    assert tf.get_default_graph().get_operation_by_name(dx.name) is dx


@pytest.mark.parametrize("gate", [tf.train.Optimizer.GATE_NONE, tf.train.Optimizer.GATE_OP,
                                  tf.train.Optimizer.GATE_GRAPH])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_is_bitwise_equal_with_the_pass_on_and_off(gate, optimizer):
    results = []
    for switch in (True, False):
        g = tf.Graph()
        with g.as_default():
            x, y, train, loss, feeds = _mlp((12, 8, 6, 3), 5, optimizer, gate)
            init = tf.global_variables_initializer()
            variables = tf.global_variables()
        with session(graph=g, dead_control=switch) as s:
            s.run(init)
            losses = [s.run([train, loss], feeds)[1] for _ in range(4)]
            results.append((losses, s.run(variables)))
            rep = s.compiled_plan([train, loss], feeds)
        dropped = rep.pass_report("dead_control").changes.get("dropped", [])
        if switch and gate == tf.train.Optimizer.GATE_OP:
            assert dropped == ["gradients/MatMul_grad/MatMul"]
        else:  # GATE_NONE/GATE_GRAPH never build a gradient only a NoOp waits for
            assert dropped == []
    (loss_on, vars_on), (loss_off, vars_off) = results
    assert np.array_equal(np.array(loss_on), np.array(loss_off))
    assert len(vars_on) == len(vars_off) >= 7
    for a, b in zip(vars_on, vars_off):
        assert np.array_equal(a, b)
    assert loss_on[-1] < loss_on[0]  # it trains


def test_control_dependency_on_check_numerics_is_kept():
    x = tf.placeholder(tf.float32, [2, 3], name="x")
    w = tf.constant(np.ones((3, 2), np.float32))
    checked = tf.check_numerics(tf.matmul(x, w), "bad matmul")
    with tf.control_dependencies([checked]):
        y = tf.identity(x * 2.0, name="y")
    ok = {x: np.ones((2, 3), np.float32)}
    with session() as s:
        np.testing.assert_array_equal(s.run(y, ok), 2 * np.ones((2, 3), np.float32))
        rep = s.compiled_plan(y, ok)
        assert "CheckNumerics" in step_types(rep)
        assert rep.pass_report("dead_control").changes["dropped"] == []
        with pytest.raises(tf.errors.InvalidArgumentError, match="bad matmul : Tensor had NaN"):
            s.run(y, {x: np.full((2, 3), np.nan, np.float32)})


def test_pure_chain_under_a_control_dependency_is_dropped_whole():
    x = tf.placeholder(tf.float32, [4, 3], name="x")
    side = tf.reduce_sum(tf.tanh(x * 3.0, name="t"), name="side")
    with tf.control_dependencies([side]):
        y = tf.identity(x + 1.0, name="y")
    feeds = {x: np.arange(12, dtype=np.float32).reshape(4, 3)}
    with session() as s:
        rep = s.compiled_plan(y, feeds)
        got = s.run(y, feeds)
    assert sorted(rep.pass_report("dead_control").changes["dropped"]) == ["mul", "side", "t"]
    assert not {"Tanh", "Sum"} & set(step_types(rep))
    np.testing.assert_array_equal(got, feeds[x] + 1)
    with session(dead_control=False, fuse=False) as s:
        assert {"Mul", "Tanh", "Sum"} <= set(step_types(s.compiled_plan(y, feeds)))


def test_ops_that_can_fail_or_have_effects_are_kept():
    a = tf.placeholder(tf.int32, [3], name="a")
    b = tf.placeholder(tf.int32, [3], name="b")
    v = tf.Variable(0, name="counter")
    idx = tf.placeholder(tf.int32, [2], name="idx")
    params = tf.constant(np.arange(6, dtype=np.float32).reshape(3, 2))
    with tf.control_dependencies([tf.floordiv(a, b, name="div"), tf.assign_add(v, 1),
                                  tf.gather(params, idx, name="gather")]):
        y = tf.identity(a, name="y")
    good = {a: np.array([4, 5, 6], np.int32), b: np.array([1, 2, 3], np.int32),
            idx: np.array([0, 2], np.int32)}
    with session() as s:
        s.run(v.initializer)
        np.testing.assert_array_equal(s.run(y, good), good[a])
        np.testing.assert_array_equal(s.run(y, good), good[a])
        assert s.run(v) == 2  # the assign ran each time
        rep = s.compiled_plan(y, good)
        assert rep.pass_report("dead_control").changes["dropped"] == []
        with pytest.raises(tf.errors.InvalidArgumentError, match="division by zero"):
            s.run(y, {**good, b: np.array([1, 0, 3], np.int32)})
        with pytest.raises(tf.errors.InvalidArgumentError):
            s.run(y, {**good, idx: np.array([0, 7], np.int32)})


def test_unknown_static_shape_keeps_the_op():
    x = tf.placeholder(tf.float32, [None, None], name="x")
    w = tf.constant(np.ones((3, 2), np.float32))
    m = tf.matmul(x, w, name="m")
    with tf.control_dependencies([m]):
        y = tf.identity(x * 1.5, name="y")
    with session() as s:
        rep = s.compiled_plan(y, {x: np.ones((2, 3), np.float32)})
        assert "MatMul" in step_types(rep)
        with pytest.raises(tf.errors.InvalidArgumentError):  # and it can still fail
            s.run(y, {x: np.ones((2, 4), np.float32)})


def test_fetched_or_targeted_ops_are_never_dropped():
    x = tf.placeholder(tf.float32, [2, 2], name="x")
    m = tf.matmul(x, x, name="m")
    with tf.control_dependencies([m]):
        y = tf.identity(x, name="y")
    feeds = {x: np.eye(2, dtype=np.float32) * 3}
    with session() as s:
        got_y, got_m = s.run([y, m], feeds)
        rep = s.compiled_plan([y, m], feeds)
    np.testing.assert_array_equal(got_m, feeds[x] @ feeds[x])
    assert rep.pass_report("dead_control").changes["dropped"] == []


def test_switches():
    assert CompileOptions().dead_control
    assert not apply_env(CompileOptions(), "-gates").dead_control
    assert apply_env(CompileOptions(), "dead_control").enabled() == ("dead_control",)
    l0 = tf.ConfigProto(graph_options=tf.GraphOptions(
        optimizer_options=tf.OptimizerOptions(opt_level=tf.OptimizerOptions.L0)))
    assert not CompileOptions.from_config(l0, env="").dead_control
    assert not CompileOptions.from_config(config(off=True), env="").dead_control
