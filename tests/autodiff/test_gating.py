"""gate_gradients=True: tf.tuple around every op's input gradients when more than
one is not None (spec gradients.md §4, optimizers.md §2 GATE_OP graph)."""
import numpy as np

import graphflow as tf


def _op(name):
    return tf.get_default_graph().get_operation_by_name(name)


def _inputs(name):
    return [t.op.name for t in _op(name).inputs]


def _ctrl(name):
    return [c.name for c in _op(name).control_inputs]


def _loss():
    x = tf.constant(1.5, name="x")
    w = tf.Variable(2.0, name="w")
    b = tf.Variable(0.5, name="b")
    loss = tf.square(x * w + b, name="loss")
    return x, w, b, loss


def _values(grads, w, b):
    with tf.Session() as sess:
        sess.run([w.initializer, b.initializer])
        return sess.run(grads)


def test_ungated_graph_gate_none():
    x, w, b, loss = _loss()
    gw, gb = tf.gradients(loss, [w, b])
    assert gw.name == "gradients/mul_grad/Mul_1:0"
    assert gb.name == "gradients/loss_grad/Mul_1:0"
    assert not [op for op in tf.get_default_graph().get_operations() if "tuple" in op.name]
    # d/dw (xw+b)^2 = 2(xw+b)x ; d/db = 2(xw+b)
    np.testing.assert_allclose(_values([gw, gb], w, b), [2 * 3.5 * 1.5, 2 * 3.5])


def test_gated_graph_gate_op():
    x, w, b, loss = _loss()
    gw, gb = tf.gradients(loss, [w, b], gate_gradients=True)
    assert gw.name == "gradients/mul_grad/tuple/control_dependency_1:0"
    assert gb.name == "gradients/add_grad/tuple/control_dependency_1:0"
    a = "gradients/add_grad/tuple/"
    assert _op(a + "group_deps").type == "NoOp"
    assert _ctrl(a + "group_deps") == ["gradients/loss_grad/Mul_1"]
    for n in ("control_dependency", "control_dependency_1"):
        assert _op(a + n).type == "Identity"
        assert _inputs(a + n) == ["gradients/loss_grad/Mul_1"]
        assert _ctrl(a + n) == [a + "group_deps"]
    assert _inputs("gradients/mul_grad/Mul") == [a + "control_dependency", "w/read"]
    assert _inputs("gradients/mul_grad/Mul_1") == [a + "control_dependency", "x"]
    m = "gradients/mul_grad/tuple/"
    assert sorted(_ctrl(m + "group_deps")) == ["gradients/mul_grad/Mul", "gradients/mul_grad/Mul_1"]
    assert _inputs(m + "control_dependency") == ["gradients/mul_grad/Mul"]
    assert _inputs(m + "control_dependency_1") == ["gradients/mul_grad/Mul_1"]
    # Square has a single input gradient: not gated
    assert not [op for op in tf.get_default_graph().get_operations()
                if op.name.startswith("gradients/loss_grad/tuple")]
    np.testing.assert_allclose(_values([gw, gb], w, b), [2 * 3.5 * 1.5, 2 * 3.5])


def test_gating_keeps_values_on_a_larger_graph():
    rng = np.random.default_rng(1)
    xv = rng.standard_normal((4, 3))
    wv = rng.standard_normal((3, 2))
    res = []
    for gate in (False, True):
        tf.reset_default_graph()
        x = tf.constant(xv)
        w = tf.constant(wv)
        h = tf.tanh(tf.matmul(x, w))
        loss = tf.reduce_sum(h * h + 2.0 * h)
        res.append(tf.gradients(loss, [x, w], gate_gradients=gate))
        with tf.Session() as sess:
            res[-1] = sess.run(res[-1])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_gate_none_entries_stay_none():
    x = tf.constant(2.0)
    c = tf.constant(3, dtype=tf.int32)
    y = x * tf.cast(c, tf.float32)
    (g,) = tf.gradients(y, x, gate_gradients=True)
    assert g.op.type == "Identity"
    with tf.Session() as sess:
        assert sess.run(g) == 3.0
