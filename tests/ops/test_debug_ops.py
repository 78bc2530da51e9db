"""tf.check_numerics, tf.verify_tensor_all_finite, tf.add_check_numerics_ops
(graphflow/ops/debug_ops.py). Error rows live in tests/test_bad_inputs.py."""
import numpy as np
import pytest

import graphflow as tf


def test_check_numerics_forwards_value_and_gradient():
    x = tf.placeholder(tf.float64, [3])
    y = tf.check_numerics(x * x, "sq")
    (g,) = tf.gradients(tf.reduce_sum(y), x)
    v = np.array([1.0, -2.0, 0.5])
    with tf.Session() as sess:
        yv, gv = sess.run([y, g], {x: v})
    np.testing.assert_array_equal(yv, v * v)
    np.testing.assert_array_equal(gv, 2 * v)
    assert y.op.type == "CheckNumerics" and y.op.get_attr("message") == "sq"
    assert y.shape.as_list() == [3] and y.dtype == tf.float64


def test_fetched_check_does_not_alias_the_fed_array():
    x = tf.placeholder(tf.float32, [2])
    y = tf.check_numerics(x, "m")
    v = np.array([1.0, 2.0], np.float32)
    with tf.Session() as sess:
        out = sess.run(y, {x: v})
    out[0] = 99.0
    assert v[0] == 1.0


def test_message_must_be_a_string():
    with pytest.raises(TypeError, match="message"):
        tf.check_numerics(tf.constant(1.0), 3)


def test_add_check_numerics_ops_checks_every_float_output_in_order():
    a = tf.placeholder(tf.float32, name="a")
    b = tf.log(a, name="b")  # -inf at 0
    c = tf.sqrt(b, name="c")  # nan for negative b
    i = tf.constant(3, name="i")  # not checked: int32
    v = tf.Variable(1.0, name="v")  # ref output not checked, its read is
    check = tf.add_check_numerics_ops()
    checks = [op for op in tf.get_default_graph().get_operations()
              if op.type == "CheckNumerics"]
    messages = [op.get_attr("message") for op in checks]
    assert "a:0" in messages and "b:0" in messages and "c:0" in messages
    assert "i:0" not in messages and "v:0" not in messages and "v/read:0" in messages
    # chained: each check runs after the previous one
    for prev, op in zip(checks, checks[1:]):
        assert prev in op.control_inputs
    assert check.type == "NoOp"
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(check, {a: 4.0})
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"^b:0 : Tensor had Inf"):
            sess.run(check, {a: 0.0})
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"^b:0 : Tensor had NaN"):
            sess.run(check, {a: -1.0})
        assert sess.run(c, {a: 4.0}) == pytest.approx(np.sqrt(np.log(4.0)))
    del i


def test_verify_tensor_all_finite_returns_the_value():
    x = tf.placeholder(tf.float32, [2])
    y = tf.verify_tensor_all_finite(x, "x is finite")
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {x: [1.0, 2.0]}), [1.0, 2.0])
        with pytest.raises(tf.errors.InvalidArgumentError, match="x is finite : Tensor had"):
            sess.run(y, {x: [np.inf, 0.0]})
