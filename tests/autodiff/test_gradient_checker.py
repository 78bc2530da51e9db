"""tf.test.compute_gradient / compute_gradient_error (TF 1.x semantics)."""
import numpy as np
import pytest

import graphflow as tf
from graphflow.framework.op_def import RegisterGradient
from graphflow.testing.gradient_checker import compute_gradient, compute_gradient_error


def test_namespace():
    assert tf.test.compute_gradient is compute_gradient
    assert tf.test.compute_gradient_error is compute_gradient_error


def test_jacobians_of_square_are_diagonal():
    xv = np.array([[0.5, -1.0, 2.0]])
    x = tf.placeholder(tf.float64, [1, 3])
    y = x * x
    with tf.Session():
        jt, jn = compute_gradient(x, [1, 3], y, [1, 3], x_init_value=xv)
    assert jt.shape == (3, 3) and jn.shape == (3, 3)
    np.testing.assert_allclose(jt, np.diag(2 * xv.ravel()), rtol=1e-12)
    np.testing.assert_allclose(jn, np.diag(2 * xv.ravel()), rtol=1e-6)


def test_layout_is_x_size_by_y_size():
    x = tf.placeholder(tf.float64, [2])
    w = tf.constant(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    y = tf.matmul(tf.reshape(x, [1, 2]), w)  # shape [1, 3]
    with tf.Session():
        jt, jn = compute_gradient(x, [2], y, [1, 3], x_init_value=np.array([1.0, 1.0]))
    np.testing.assert_allclose(jt, w.op.get_attr("value"), rtol=1e-12)
    np.testing.assert_allclose(jn, w.op.get_attr("value"), rtol=1e-6)


def test_list_of_xs():
    a = tf.placeholder(tf.float64, [2])
    b = tf.placeholder(tf.float64, [2])
    y = a * b
    av, bv = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    with tf.Session():
        # each x is fed its own value; the other one comes from extra_feed_dict
        res = compute_gradient([a, b], [[2], [2]], y, [2], x_init_value=[av, bv],
                               extra_feed_dict={a: av, b: bv})
    assert isinstance(res, list) and len(res) == 2
    (ja_t, ja_n), (jb_t, jb_n) = res
    np.testing.assert_allclose(ja_t, np.diag(bv), rtol=1e-12)
    np.testing.assert_allclose(jb_t, np.diag(av), rtol=1e-12)
    np.testing.assert_allclose(ja_n, np.diag(bv), rtol=1e-6)
    np.testing.assert_allclose(jb_n, np.diag(av), rtol=1e-6)


def test_random_init_and_error_is_small():
    x = tf.placeholder(tf.float64, [3, 2])
    y = tf.tanh(x) * 2.0
    with tf.Session():
        err = compute_gradient_error(x, [3, 2], y, [3, 2])
    assert err < 1e-6


def test_float32_default_delta():
    x = tf.constant(np.array([0.3, 0.7], np.float32))
    y = tf.sigmoid(x)
    with tf.Session():
        err = compute_gradient_error(x, [2], y, [2])
    assert err < 1e-2


@RegisterGradient("GfCheckerWrongGrad")
def _wrong(op, dy):
    return [3.0 * dy]


def test_detects_a_wrong_gradient():
    x = tf.placeholder(tf.float64, [2])
    with tf.get_default_graph().gradient_override_map({"Identity": "GfCheckerWrongGrad"}):
        y = tf.identity(x)
    with tf.Session():
        err = compute_gradient_error(x, [2], y, [2], x_init_value=np.array([1.0, 2.0]))
    assert err == pytest.approx(2.0)


def test_unconnected_x_gives_zero_theoretical():
    x = tf.placeholder(tf.float64, [2])
    c = tf.constant(np.array([1.0, 2.0]))
    y = c * 2.0
    with tf.Session():
        jt, jn = compute_gradient(x, [2], y, [2], x_init_value=np.array([1.0, 1.0]))
    assert not jt.any() and not jn.any()


def test_indexed_slices_gradient_is_densified():
    x = tf.placeholder(tf.float64, [3, 2])
    y = tf.gather(x, [0, 2, 0]) * 2.0
    with tf.Session():
        err = compute_gradient_error(x, [3, 2], y, [3, 2])
    assert err < 1e-6


def test_init_targets_and_extra_feeds():
    v = tf.Variable(np.array([2.0, 3.0]))
    s = tf.placeholder(tf.float64, [])
    y = v * v * s
    with tf.Session():
        jt, jn = compute_gradient(v, [2], y, [2], init_targets=[v.initializer],
                                  x_init_value=np.array([2.0, 3.0]),
                                  extra_feed_dict={s: 0.5})
    np.testing.assert_allclose(jt, np.diag([2.0, 3.0]), rtol=1e-12)
    np.testing.assert_allclose(jn, np.diag([2.0, 3.0]), rtol=1e-6)


def test_needs_a_default_session():
    x = tf.placeholder(tf.float64, [1])
    with pytest.raises(ValueError, match="No default session"):
        compute_gradient(x, [1], x * 2.0, [1])


def test_rejects_integer_x():
    x = tf.placeholder(tf.int32, [1])
    with tf.Session():
        with pytest.raises(AssertionError, match="Don't support type int32 for x"):
            compute_gradient(x, [1], tf.cast(x, tf.float32), [1])


# --- the contract-test harness (graphflow/testing/op_harness.py) ------------------------------
def _temporary_op(name, grad):
    from graphflow.framework import op_def

    class Tmp(op_def.OpDef):
        inputs = ("x",)

        @staticmethod
        def reference(x):
            return x * 3.0

        @classmethod
        def examples(cls):
            return [([np.array([0.5, -1.0], np.float32)], {}),
                    ([np.array([0.5, -1.0], np.float64)], {}),
                    ([np.array([1, 2], np.int32)], {})]
    Tmp.op_type = name
    Tmp.grad = grad
    return op_def.register_op(Tmp)


def test_harness_flags_an_op_without_gradient_declaration():
    from graphflow.framework import op_def
    from graphflow.testing import op_harness
    _temporary_op("GfHarnessNoGrad", None)
    try:
        assert op_harness.gradient_declaration("GfHarnessNoGrad") == "missing"
    finally:
        op_def._REGISTRY.pop("GfHarnessNoGrad")
    assert op_harness.gradient_declaration("Shape") == "not_differentiable"
    assert op_harness.gradient_declaration("Mul") == "function"


def test_harness_gradient_check_catches_a_wrong_gradient():
    from graphflow.framework import op_def
    from graphflow.testing import op_harness
    _temporary_op("GfHarnessWrong", staticmethod(lambda op, dy: [dy * 2.0]))
    _temporary_op("GfHarnessRight", staticmethod(lambda op, dy: [dy * 3.0]))
    try:
        cases = op_harness.gradient_cases("GfHarnessWrong")
        # float32 and float64 examples collapse into one float64 case; the int case is dropped
        assert len(cases) == 1 and cases[0][0][0].dtype == np.float64
        failures = op_harness.check_gradient("GfHarnessWrong", *cases[0])
        assert failures and "theoretical 2 != numerical 3 " in failures[0]
        (case,) = op_harness.gradient_cases("GfHarnessRight")
        assert op_harness.check_gradient("GfHarnessRight", *case) == []
    finally:
        op_def._REGISTRY.pop("GfHarnessWrong")
        op_def._REGISTRY.pop("GfHarnessRight")
