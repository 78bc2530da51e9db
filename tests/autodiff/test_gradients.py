"""tf.gradients contract and backward walk (spec gradients.md §1, §2).

Expected values are the spec's numbers or closed-form derivatives.
"""
import numpy as np
import pytest

import graphflow as tf
from graphflow.framework.op_def import RegisterGradient


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict)


def _ops(graph=None, prefix="gradients"):
    g = graph or tf.get_default_graph()
    return [op for op in g.get_operations() if op.name.startswith(prefix + "/")]


# --- §1 contract ----------------------------------------------------------------------------
def test_several_ys_are_summed():
    x = tf.constant(3.0)
    g = tf.gradients([2.0 * x, 3.0 * x], x)
    assert isinstance(g, list) and len(g) == 1
    assert _run(g) == [5.0]


def test_result_is_a_list_with_one_entry_per_x_including_duplicates():
    x = tf.constant(3.0)
    y = tf.constant(4.0)
    g = tf.gradients(x * y, (x, y, x))
    assert isinstance(g, list) and len(g) == 3
    assert _run(g) == [4.0, 3.0, 4.0]


def test_grad_ys_length_mismatch():
    x = tf.constant(3.0)
    with pytest.raises(ValueError, match=r"^Length mismatch. Passed 2 grad_ys for 1 ys$"):
        tf.gradients(2.0 * x, x, grad_ys=[1.0, 2.0])


def test_default_grad_ys_is_fill_of_shape_and_const():
    x = tf.constant(3.0)
    y = tf.identity(x)
    (g,) = tf.gradients(y, x)
    g_op = tf.get_default_graph().get_operation_by_name("gradients/grad_ys_0")
    assert g_op.type == "Fill"
    assert [t.op.name for t in g_op.inputs] == ["gradients/Shape", "gradients/grad_ys_0/Const"]
    assert g.name == "gradients/grad_ys_0:0"
    assert _run(g) == 1.0


def test_default_grad_ys_for_unknown_shape_uses_shape_op():
    p = tf.placeholder(tf.float32, [None, 2])
    (g,) = tf.gradients(tf.identity(p), p)
    shape_op = tf.get_default_graph().get_operation_by_name("gradients/Shape")
    assert shape_op.type == "Shape"
    np.testing.assert_array_equal(_run(g, {p: np.zeros((3, 2))}), np.ones((3, 2)))


def test_given_grad_ys_go_through_identity():
    x = tf.constant(3.0)
    (g,) = tf.gradients(2.0 * x, x, grad_ys=10.0)
    op = tf.get_default_graph().get_operation_by_name("gradients/grad_ys_0")
    assert op.type == "Identity"
    assert _run(g) == 20.0
    (g2,) = tf.gradients([2.0 * x, 3.0 * x], x, grad_ys=[None, 5.0])
    ops = {op.name: op.type for op in tf.get_default_graph().get_operations()}
    assert ops["gradients_1/grad_ys_0"] == "Fill" and ops["gradients_1/grad_ys_1"] == "Identity"
    assert _run(g2) == 17.0


def test_complex_ys_need_grad_ys():
    c = tf.constant(np.complex64(1 + 2j))
    with pytest.raises(TypeError, match="must set grad_ys"):
        tf.gradients(tf.identity(c), c)


def test_name_scope_is_uniquified_and_grad_ops_are_under_op_grad():
    x = tf.constant(3.0)
    w = tf.constant(2.0)
    y = tf.multiply(x, w, name="mul")
    (g1,) = tf.gradients(y, x)
    (g2,) = tf.gradients(y, x)
    assert g1.name.startswith("gradients/mul_grad/")
    assert g2.name.startswith("gradients_1/mul_grad/")
    assert _run([g1, g2]) == [2.0, 2.0]


def test_custom_name_scope_holds_the_addn():
    x = tf.constant(3.0)
    y = x * 2.0
    z = tf.identity(y) + tf.identity(y)
    (g,) = tf.gradients(z, y, name="mygrads")
    assert g.name == "mygrads/AddN:0"
    assert _run(g) == 2.0


def test_gradients_nest_inside_an_outer_name_scope():
    x = tf.constant(3.0)
    with tf.name_scope("outer"):
        (g,) = tf.gradients(tf.identity(x), x)
    assert g.name == "outer/gradients/grad_ys_0:0"


def test_stop_gradients_argument_and_stop_gradient_op():
    x = tf.constant(3.0)
    a = 2.0 * x
    b = a * x
    assert _run(tf.gradients(b, x)) == [12.0]
    assert _run(tf.gradients(b, x, stop_gradients=[a])) == [6.0]
    assert _run(tf.gradients(b, x, stop_gradients=a)) == [6.0]
    c = tf.stop_gradient(a) * x
    assert _run(tf.gradients(c, x)) == [6.0]


def test_unconnected_none_and_zero():
    x = tf.constant(3.0)
    u = tf.constant([1.0, 2.0])
    y = 2.0 * x
    assert tf.gradients(y, u) == [None]
    assert tf.gradients(y, u, unconnected_gradients="none") == [None]
    (z,) = tf.gradients(y, u, unconnected_gradients="zero")
    assert z.name == "zeros_like:0"  # outside the gradients scope
    (z1,) = tf.gradients(y, u, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    assert z1.name == "zeros_like_1:0"
    np.testing.assert_array_equal(_run(z), [0.0, 0.0])
    assert tf.UnconnectedGradients.NONE.value == "none"
    assert tf.UnconnectedGradients.ZERO.value == "zero"


def test_unknown_unconnected_value():
    x = tf.constant(3.0)
    with pytest.raises(ValueError, match=r"^Unknown value for unconnected_gradients: 'foo'$"):
        tf.gradients(2.0 * x, x, unconnected_gradients="foo")


def test_x_that_is_a_y_gets_its_grad_y():
    x = tf.constant(3.0)
    (g,) = tf.gradients(x, x)
    assert g.name == "gradients/grad_ys_0:0"
    assert _run(g) == 1.0


# --- differentiable dtypes --------------------------------------------------------------------
def test_integer_x_has_no_gradient():
    xi = tf.constant(3)
    assert tf.gradients(xi * 2, xi) == [None]


def test_integer_path_is_cut():
    xf = tf.constant(3.0)
    y = tf.cast(tf.cast(xf, tf.int32), tf.float32) * 2.0
    assert tf.gradients(y, xf) == [None]
    assert tf.gradients(tf.cast(xf, tf.int32), xf) == [None]


def test_float64_path():
    x = tf.constant(np.float64(1.5))
    (g,) = tf.gradients(x * x * x, x)
    assert g.dtype == tf.float64
    assert _run(g) == pytest.approx(3 * 1.5 ** 2)


# --- non-differentiable and missing gradients ----------------------------------------------------
def test_registered_non_differentiable_ops_give_none():
    x = tf.constant([1.4, -2.6])
    assert tf.gradients(tf.round(x), x) == [None]
    assert tf.gradients(tf.floor(x) * x, x)[0] is not None
    assert tf.gradients(tf.cast(tf.argmax(x), tf.float32), x) == [None]
    assert tf.gradients(tf.floor(x), x) == [None]
    assert tf.gradients(tf.random_shuffle(x), x) == [None]
    assert tf.gradients(tf.stop_gradient(x), x) == [None]
    assert tf.gradients(tf.cast(tf.shape(x), tf.float32), x) == [None]


def test_op_without_any_registration_raises_lookup_error():
    x = tf.constant(3.0)
    g = tf.get_default_graph()
    with g.gradient_override_map({"Identity": "GfTestNoSuchGradient"}):
        y = tf.identity(x, name="ident")
    with pytest.raises(LookupError) as e:
        tf.gradients(y, x)
    assert str(e.value).startswith(
        "No gradient defined for operation'ident' (op type: GfTestNoSuchGradient). In general "
        "every operation must have an associated `@tf.RegisterGradient` for correct autodiff")


def test_lookup_error_only_when_a_real_gradient_arrives():
    x = tf.constant(3.0)
    g = tf.get_default_graph()
    with g.gradient_override_map({"Identity": "GfTestNoSuchGradient"}):
        y = tf.identity(x)
    z = 2.0 * x + tf.stop_gradient(y)
    assert _run(tf.gradients(z, x)) == [2.0]


@RegisterGradient("GfTestDoubleGrad")
def _double_grad(op, dy):
    return [2.0 * dy]


@RegisterGradient("GfTestWrongCount")
def _wrong_count(op, dy):
    return [dy, dy]


@RegisterGradient("GfTestWrongShape")
def _wrong_shape(op, dy):
    return [tf.constant([1.0, 2.0, 3.0])]


@RegisterGradient("GfTestUnknownShape")
def _unknown_shape(op, dy):
    return [tf.placeholder_with_default(dy, shape=None)]


def test_register_gradient_and_override_map():
    x = tf.constant(3.0)
    with tf.get_default_graph().gradient_override_map({"Identity": "GfTestDoubleGrad"}):
        y = tf.identity(x)
    assert _run(tf.gradients(y, x)) == [2.0]


def test_not_differentiable_registration():
    tf.NotDifferentiable("GfTestNotDiff")
    x = tf.constant(3.0)
    with tf.get_default_graph().gradient_override_map({"Identity": "GfTestNotDiff"}):
        y = tf.identity(x)
    assert tf.gradients(y, x) == [None]


def test_gradient_count_mismatch():
    x = tf.constant(3.0)
    with tf.get_default_graph().gradient_override_map({"Identity": "GfTestWrongCount"}):
        y = tf.identity(x)
    with pytest.raises(ValueError, match=r"(?s)Num gradients 2 generated for op .* do not "
                                         r"match num inputs 1"):
        tf.gradients(y, x)


def test_incompatible_gradient_shape():
    x = tf.constant([1.0, 2.0])
    with tf.get_default_graph().gradient_override_map({"Identity": "GfTestWrongShape"}):
        y = tf.identity(x, name="ident")
    with pytest.raises(ValueError, match=r"^Incompatible shapes between op input and calculated "
                                         r"input gradient\. Forward operation: ident\. Input "
                                         r"index: 0\."):
        tf.gradients(y, x)


def test_input_gradient_gets_the_input_static_shape():
    x = tf.constant([[1.0, 2.0]])
    with tf.get_default_graph().gradient_override_map({"Identity": "GfTestUnknownShape"}):
        y = tf.identity(x)
    (g,) = tf.gradients(y, x)
    assert g.shape.as_list() == [1, 2]


# --- §2 the walk ------------------------------------------------------------------------------
def test_unused_outputs_of_multi_output_ops_get_zeros():
    x = tf.constant([1.0, 2.0, 3.0, 4.0])
    a, b = tf.split(x, 2)
    (g,) = tf.gradients(3.0 * a, x)
    np.testing.assert_array_equal(_run(g), [3.0, 3.0, 0.0, 0.0])
    types = {op.type for op in _ops()}
    assert "ZerosLike" in types or "Const" in types


def test_diamond_and_repeated_inputs():
    x = tf.constant(1.5)
    y = x * x + x           # 2x + 1
    z = y * y               # 2y (2x + 1)
    (g,) = tf.gradients(z, x)
    yv = 1.5 * 1.5 + 1.5
    assert _run(g) == pytest.approx(2 * yv * (2 * 1.5 + 1))


def test_backprop_continues_through_an_x_when_another_x_is_upstream():
    x = tf.constant(3.0)
    y = x * 2.0
    z = tf.identity(y) + tf.identity(y) + tf.identity(y) + tf.identity(y)
    assert _run(tf.gradients(z, [x, y])) == [8.0, 4.0]
    assert _run(tf.gradients(z, [y, x])) == [4.0, 8.0]


def test_stop_op_at_requested_x_without_other_x_upstream():
    x = tf.constant(3.0)
    y = x * 2.0
    z = y * y
    (gy,) = tf.gradients(z, y)
    # y is a stop op: its gradient function (Mul) is not called
    assert not any(op.name.startswith("gradients/mul_grad/") for op in _ops())
    assert _run(gy) == 12.0


def test_y_depending_on_another_y():
    x = tf.constant(2.0)
    y1 = x * 3.0
    y2 = y1 * y1
    (g,) = tf.gradients([y1, y2], x)
    # d/dx (3x + 9x^2) = 3 + 18x
    assert _run(g) == pytest.approx(3 + 18 * 2.0)


def test_unreached_y():
    x = tf.constant(2.0)
    c = tf.constant(5.0)
    assert tf.gradients([c * 2.0], x) == [None]


def test_control_dependencies_are_not_followed_or_copied():
    x = tf.constant(3.0)
    other = tf.constant(1.0)
    with tf.control_dependencies([other]):
        y = x * 2.0
    (g,) = tf.gradients(y, [x, other])[:1]
    for op in _ops():
        assert op.control_inputs == [] or all(
            c.name.startswith("gradients/") for c in op.control_inputs), op
    assert _run(g) == 2.0
    assert tf.gradients(y, other) == [None]


def test_identity_and_add_gradients_create_no_ops():
    x1 = tf.constant([1.0, 2.0])
    x2 = tf.constant([3.0, 4.0])
    y = tf.identity(x1) + tf.identity(x2)
    before = len(tf.get_default_graph().get_operations())
    g1, g2 = tf.gradients(y, [x1, x2])
    assert g1 is g2
    new = tf.get_default_graph().get_operations()[before:]
    assert sorted(op.name for op in new) == [
        "gradients/Shape", "gradients/grad_ys_0", "gradients/grad_ys_0/Const"]


def test_colocate_gradients_with_ops_is_accepted():
    x = tf.constant(3.0)
    (g,) = tf.gradients(x * x, x, colocate_gradients_with_ops=True)
    assert _run(g) == 6.0


def test_invalid_aggregation_method():
    x = tf.constant(3.0)
    with pytest.raises(ValueError, match=r"^Invalid `aggregation_method` specified 7\. Accepted "
                                         r"values are \[0, 1, 2\]\.$"):
        tf.gradients(2.0 * x, x, aggregation_method=7)
    # not raised when no op is processed
    assert tf.gradients(tf.constant(1.0) * 2.0, x, aggregation_method=7) == [None]


def test_variables_as_xs_and_ys():
    v = tf.Variable(2.0, name="v")
    (g,) = tf.gradients(v * 3.0, v)
    (gv,) = tf.gradients(v, v)
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run([g, gv]) == [3.0, 1.0]


def test_matrix_chain_matches_closed_form():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4))
    b = rng.standard_normal((4, 2))
    x = tf.constant(a)
    w = tf.constant(b)
    loss = tf.reduce_sum(tf.square(tf.matmul(x, w)))
    gx, gw = tf.gradients(loss, [x, w])
    vx, vw = _run([gx, gw])
    np.testing.assert_allclose(vx, 2 * (a @ b) @ b.T, rtol=1e-12)
    np.testing.assert_allclose(vw, a.T @ (2 * (a @ b)), rtol=1e-12)


def test_hessians_of_a_quadratic():
    m = np.array([[2.0, 1.0], [1.0, 3.0]])
    x = tf.constant(np.array([0.5, -1.0]))
    y = tf.reduce_sum(x * tf.reshape(tf.matmul(tf.constant(m), tf.reshape(x, [2, 1])), [2]))
    (h,) = tf.hessians(y, x)
    np.testing.assert_allclose(_run(h), 2 * m, rtol=1e-12)


def test_unique_has_no_gradient_like_tf():
    x = tf.constant([1.0, 2.0, 1.0])
    y, _ = tf.unique(x)
    with pytest.raises(LookupError, match=r"^No gradient defined for operation'Unique' "
                                          r"\(op type: Unique\)"):
        tf.gradients(y, x)


def test_unconnected_zero_for_a_variable():
    v = tf.Variable([1.0, 2.0])
    x = tf.constant(1.0)
    (z,) = tf.gradients(x * 2.0, v, unconnected_gradients="zero")
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(z), [0.0, 0.0])


def test_python_grad_ys_take_the_dtype_of_y():
    x = tf.constant(np.float64(2.0))
    (g,) = tf.gradients(x * x, x, grad_ys=0.5)
    assert g.dtype == tf.float64
    assert _run(g) == 2.0
