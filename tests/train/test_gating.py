"""Optimizer.compute_gradients gating modes: the exact graph constructs of spec
optimizers.md §2 and identical numbers in all three modes."""
import numpy as np
import pytest

import graphflow as tf

GATES = [tf.train.Optimizer.GATE_NONE, tf.train.Optimizer.GATE_OP,
         tf.train.Optimizer.GATE_GRAPH]


def _model():
    x = tf.constant(2.0, name="x")
    w = tf.Variable(1.5, name="w")
    b = tf.Variable(-0.5, name="b")
    loss = tf.square(x * w + b, name="loss")
    return x, w, b, loss


def _new_ops(gate):
    _, w, b, loss = _model()
    n = len(tf.get_default_graph().get_operations())
    gv = tf.train.GradientDescentOptimizer(0.1).compute_gradients(loss, gate_gradients=gate)
    ops = {op.name: op for op in tf.get_default_graph().get_operations()[n:]}
    return gv, ops, w, b


def _inputs(op):
    return [t.op.name for t in op.inputs]


def _ctrl(op):
    return [c.name for c in op.control_inputs]


def _ungated_names():
    """Names ``tf.gradients`` (no gating) builds for the model: the base of §2."""
    with tf.Graph().as_default():
        _, w, b, loss = _model()
        n = len(tf.get_default_graph().get_operations())
        tf.gradients(loss, [w, b])
        return [op.name for op in tf.get_default_graph().get_operations()[n:]]


def test_gate_none_is_plain_gradients():
    gv, ops, w, b = _new_ops(tf.train.Optimizer.GATE_NONE)
    assert [v for _, v in gv] == [w, b]
    assert [g.name for g, _ in gv] == ["gradients/mul_grad/Mul_1:0",
                                       "gradients/loss_grad/Mul_1:0"]
    assert list(ops) == _ungated_names()
    assert not any(op.type == "NoOp" for op in ops.values())
    assert _inputs(ops["gradients/mul_grad/Mul"]) == ["gradients/loss_grad/Mul_1", "w/read"]
    assert _inputs(ops["gradients/mul_grad/Mul_1"]) == ["gradients/loss_grad/Mul_1", "x"]


def test_gate_op_tuples_per_op():
    gv, ops, _, _ = _new_ops(tf.train.Optimizer.GATE_OP)
    assert [g.name for g, _ in gv] == ["gradients/mul_grad/tuple/control_dependency_1:0",
                                       "gradients/add_grad/tuple/control_dependency_1:0"]
    assert "gradients/loss_grad/tuple/group_deps" not in ops  # Square: one input, no tuple
    for prefix, srcs in (("gradients/add_grad/tuple/", ["gradients/loss_grad/Mul_1"] * 2),
                         ("gradients/mul_grad/tuple/", ["gradients/mul_grad/Mul",
                                                        "gradients/mul_grad/Mul_1"])):
        gate = ops[prefix + "group_deps"]
        assert gate.type == "NoOp" and _ctrl(gate) == sorted(set(srcs))
        for i, suffix in enumerate(["control_dependency", "control_dependency_1"]):
            ident = ops[prefix + suffix]
            assert ident.type == "Identity"
            assert _inputs(ident) == [srcs[i]] and _ctrl(ident) == [prefix + "group_deps"]
    assert _inputs(ops["gradients/mul_grad/Mul"]) == [
        "gradients/add_grad/tuple/control_dependency", "w/read"]
    assert _inputs(ops["gradients/mul_grad/Mul_1"]) == [
        "gradients/add_grad/tuple/control_dependency", "x"]


def test_gate_graph_one_top_level_tuple():
    gv, ops, _, _ = _new_ops(tf.train.Optimizer.GATE_GRAPH)
    assert [g.name for g, _ in gv] == ["tuple/control_dependency:0",
                                       "tuple/control_dependency_1:0"]
    assert list(ops) == _ungated_names() + ["tuple/group_deps", "tuple/control_dependency",
                                            "tuple/control_dependency_1"]
    assert _ctrl(ops["tuple/group_deps"]) == ["gradients/loss_grad/Mul_1",
                                              "gradients/mul_grad/Mul_1"]
    assert _inputs(ops["tuple/control_dependency"]) == ["gradients/mul_grad/Mul_1"]
    assert _inputs(ops["tuple/control_dependency_1"]) == ["gradients/loss_grad/Mul_1"]
    for n in ("tuple/control_dependency", "tuple/control_dependency_1"):
        assert _ctrl(ops[n]) == ["tuple/group_deps"]


def test_gate_graph_skips_none_gradients():
    _, w, b, loss = _model()
    unused = tf.Variable(0.0, name="unused")
    gv = tf.train.GradientDescentOptimizer(0.1).compute_gradients(
        loss, var_list=[w, unused, b], gate_gradients=tf.train.Optimizer.GATE_GRAPH)
    assert gv[1][0] is None
    assert [gv[0][0].name, gv[2][0].name] == ["tuple/control_dependency:0",
                                              "tuple/control_dependency_1:0"]


def test_same_numbers_in_all_modes():
    results = []
    for gate in GATES:
        tf.reset_default_graph()
        x, w, b, loss = _model()
        opt = tf.train.MomentumOptimizer(0.1, 0.9)
        gv = opt.compute_gradients(loss, gate_gradients=gate)
        train = opt.apply_gradients(gv)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            grads = sess.run([g for g, _ in gv])
            for _ in range(3):
                sess.run(train)
            results.append((grads, sess.run([w, b])))
    # loss = (2w + b)^2 at w=1.5, b=-0.5: dL/dw = 2 * 2.5 * 2 = 10, dL/db = 5
    np.testing.assert_allclose(results[0][0], [10.0, 5.0])
    for grads, values in results[1:]:
        np.testing.assert_array_equal(grads, results[0][0])
        np.testing.assert_array_equal(values, results[0][1])


def test_minimize_passes_gating():
    _, w, b, loss = _model()
    tf.train.GradientDescentOptimizer(0.1).minimize(
        loss, gate_gradients=tf.train.Optimizer.GATE_GRAPH)
    names = [op.name for op in tf.get_default_graph().get_operations()]
    assert "tuple/group_deps" in names
    with pytest.raises(ValueError, match="gate_gradients must be one of"):
        tf.train.GradientDescentOptimizer(0.1).minimize(loss, gate_gradients=-1)
