"""Gradients of the elementwise math ops: each OpDef's grad function is called
directly on a small float64 graph and compared with central finite differences
of the forward op; second order goes through tf.gradients; unbroadcast's
emitted ops are checked for static, partially known and dynamic shapes."""
import numpy as np
import pytest

import graphflow as tf
from graphflow.framework.op_def import apply_op, get_gradient_function, registered_ops
from graphflow.ops import grad_util
from graphflow.ops.elementwise import sample

EPS = 1e-6


def _numeric_vjp(sess, y, feeds, x_ph, dyv):
    """d/dx sum(y * dy) by central differences, perturbing the fed value of x_ph."""
    base = np.array(feeds[x_ph], dtype=np.float64)
    out = np.zeros_like(base)
    flat = base.reshape(-1)
    for i in range(flat.size):
        vals = []
        for step in (EPS, -EPS):
            pert = flat.copy()
            pert[i] += step
            f = dict(feeds)
            f[x_ph] = pert.reshape(base.shape)
            vals.append(np.sum(sess.run(y, f) * dyv))
        out.reshape(-1)[i] = (vals[0] - vals[1]) / (2 * EPS)
    return out


def _check_first_order(op_type, shapes, seed=0):
    opdef = registered_ops()[op_type]
    rng = np.random.default_rng(seed)
    xs = [sample(rng, s, tf.float64, opdef) for s in shapes]
    phs = [tf.placeholder(tf.float64, s) for s in shapes]
    y = apply_op(op_type, *phs)
    dyv = rng.normal(size=tuple(y.shape.as_list()))
    dy = tf.placeholder(tf.float64, y.shape)
    grads = opdef.grad(y.op, dy)
    assert len(grads) == len(phs)
    feeds = dict(zip(phs, xs))
    with tf.Session() as sess:
        for ph, g in zip(phs, grads):
            assert g is not None and g.dtype == tf.float64
            assert tuple(g.shape.as_list()) == tuple(ph.shape.as_list())
            got = sess.run(g, {**feeds, dy: dyv})
            want = _numeric_vjp(sess, y, feeds, ph, dyv)
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7,
                                       err_msg="%s d/d%s" % (op_type, ph.name))


UNARY = ["Abs", "Neg", "Square", "Sqrt", "Rsqrt", "Exp", "Expm1", "Log", "Log1p", "Tanh", "Sigmoid",
         "Sin", "Cos", "Reciprocal"]
BINARY = ["AddV2", "Sub", "Mul", "RealDiv", "Div", "FloorMod", "Pow", "Maximum", "Minimum",
          "SquaredDifference"]
SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)), ((4, 1, 3), (2, 1))]


@pytest.mark.parametrize("op_type", UNARY)
@pytest.mark.parametrize("shape", [(), (2, 3)])
def test_unary_gradient_matches_finite_differences(op_type, shape):
    _check_first_order(op_type, [shape])


@pytest.mark.parametrize("op_type", BINARY)
@pytest.mark.parametrize("shapes", SHAPES, ids=[str(s) for s in SHAPES])
def test_binary_gradient_matches_finite_differences(op_type, shapes):
    _check_first_order(op_type, list(shapes))


@pytest.mark.parametrize("op_type", ["FloorDiv", "Floor", "Ceil", "Round", "Equal", "Less",
                                     "GreaterEqual", "LogicalAnd", "LogicalNot"])
def test_not_differentiable_ops(op_type):
    x = tf.placeholder(tf.bool if op_type.startswith("Logical") else tf.float32)
    args = [x] * len(registered_ops()[op_type].inputs)
    y = apply_op(op_type, *args)
    assert get_gradient_function(y.op) is None


def test_sign_gradient_is_zero():
    x = tf.constant([-2.0, 0.0, 3.0])
    g = registered_ops()["Sign"].grad(tf.sign(x).op, tf.constant([1.0, 1.0, 1.0]))[0]
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(g), [0.0, 0.0, 0.0])


def test_cast_gradient():
    x = tf.placeholder(tf.float64, [2])
    y = tf.cast(x, tf.float32)
    dy = tf.constant([1.5, -2.0], tf.float32)
    (g,) = registered_ops()["Cast"].grad(y.op, dy)
    assert g.dtype == tf.float64 and g.op.type == "Cast"
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(g), [1.5, -2.0])
    yi = tf.cast(x, tf.int32)
    assert registered_ops()["Cast"].grad(yi.op, tf.constant([1, 1]))[0] is None


def test_pow_gradient_at_nonpositive_base_has_no_false_singularity():
    x = tf.constant([0.0, -2.0, 3.0], tf.float64)
    y = tf.constant([2.0, 2.0, 2.0], tf.float64)
    z = tf.pow(x, y)
    gx, gy = registered_ops()["Pow"].grad(z.op, tf.ones_like(z))
    with tf.Session() as sess:
        gxv, gyv = sess.run([gx, gy])
    np.testing.assert_allclose(gxv, [0.0, -4.0, 6.0])
    np.testing.assert_allclose(gyv, [0.0, 0.0, 9.0 * np.log(3.0)])


def test_maximum_minimum_ties_go_to_x():
    x = tf.constant([1.0, 2.0, 3.0])
    y = tf.constant([2.0, 2.0, 2.0])
    dy = tf.constant([10.0, 20.0, 30.0])
    with tf.Session() as sess:
        mx = sess.run(registered_ops()["Maximum"].grad(tf.maximum(x, y).op, dy))
        mn = sess.run(registered_ops()["Minimum"].grad(tf.minimum(x, y).op, dy))
    np.testing.assert_array_equal(mx, [[0, 20, 30], [10, 0, 0]])
    np.testing.assert_array_equal(mn, [[10, 20, 0], [0, 0, 30]])


# --- second order ------------------------------------------------------------------------
SECOND = {"tanh": tf.tanh, "sigmoid": tf.sigmoid, "square": tf.square, "sin": tf.sin,
          "exp": tf.exp, "sqrt": tf.sqrt, "log": tf.log, "reciprocal": tf.reciprocal,
          "rsqrt": tf.rsqrt, "cos": tf.cos}


@pytest.mark.parametrize("name", sorted(SECOND))
def test_second_order_unary(name):
    """The gradient graph of each op is itself differentiable (library checker)."""
    xv = np.random.default_rng(3).uniform(0.5, 2.0, size=(3,))
    x = tf.placeholder(tf.float64, [3])
    (g,) = tf.gradients(SECOND[name](x), x)
    with tf.Session():
        err = tf.test.compute_gradient_error(x, [3], g, [3], x_init_value=xv, delta=1e-5)
    assert err < 1e-5


@pytest.mark.parametrize("op_type", UNARY + BINARY)
def test_library_gradient_checker_agrees(op_type):
    """Same ops through tf.gradients and tf.test.compute_gradient_error, broadcasting."""
    opdef = registered_ops()[op_type]
    shapes = [(2, 3)] if op_type in UNARY else [(2, 1), (3,)]
    rng = np.random.default_rng(6)
    xs = [sample(rng, s, tf.float64, opdef) for s in shapes]
    phs = [tf.placeholder(tf.float64, s) for s in shapes]
    y = apply_op(op_type, *phs)
    with tf.Session():
        for i, (ph, s) in enumerate(zip(phs, shapes)):
            extra = {p: v for j, (p, v) in enumerate(zip(phs, xs)) if j != i}
            err = tf.test.compute_gradient_error(ph, list(s), y, y.shape.as_list(),
                                                 x_init_value=xs[i], extra_feed_dict=extra,
                                                 delta=1e-5)
            assert err < 1e-5, (op_type, i, err)


@pytest.mark.parametrize("op", ["mul", "div", "pow", "squared_difference"])
def test_second_order_binary_cross_term(op):
    build = {"mul": tf.multiply, "div": tf.divide, "pow": tf.pow,
             "squared_difference": tf.squared_difference}[op]
    rng = np.random.default_rng(4)
    xv, wv = rng.uniform(0.5, 2.0, size=(2, 3)), rng.uniform(0.5, 2.0, size=(3,))
    dyv, vv = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    x, w = tf.placeholder(tf.float64, [2, 3]), tf.placeholder(tf.float64, [3])
    (gx,) = tf.gradients(build(x, w), x, grad_ys=tf.constant(dyv))
    hx, hw = tf.gradients(gx, [x, w], grad_ys=tf.constant(vv))
    feeds = {x: xv, w: wv}
    with tf.Session() as sess:
        for ph, h in ((x, hx), (w, hw)):
            want = _numeric_vjp(sess, gx, feeds, ph, vv)
            if h is None:  # gx does not depend on ph (mul/div wrt x)
                np.testing.assert_allclose(want, 0.0, atol=1e-7)
            else:
                np.testing.assert_allclose(sess.run(h, feeds), want, rtol=1e-6, atol=1e-7)


# --- unbroadcast: which ops appear ----------------------------------------------------------
def _new_ops(fn):
    g = tf.get_default_graph()
    before = len(g.get_operations())
    out = fn()
    return out, [op.type for op in g.get_operations()[before:]]


def test_equal_shapes_add_no_ops():
    x, y = tf.placeholder(tf.float32, [2, 3]), tf.placeholder(tf.float32, [2, 3])
    z = x + y
    dy = tf.placeholder(tf.float32, [2, 3])
    grads, new = _new_ops(lambda: registered_ops()["AddV2"].grad(z.op, dy))
    assert grads[0] is dy and grads[1] is dy and new == []


def test_mul_equal_shapes_emits_two_muls_named_like_tf():
    x = tf.placeholder(tf.float32, [], name="x")
    y = x * 2.0
    dy = tf.placeholder(tf.float32, [])
    with tf.name_scope("gradients/mul_grad"):
        gx, gy = registered_ops()["Mul"].grad(y.op, dy)
    assert gx.op.name == "gradients/mul_grad/Mul"
    assert [t.op.name for t in gx.op.inputs] == [dy.op.name, "mul/y"]
    assert gy.op.name == "gradients/mul_grad/Mul_1"
    assert [t.op.name for t in gy.op.inputs] == [dy.op.name, "x"]


def test_static_leading_axes_emit_one_sum():
    x, b = tf.placeholder(tf.float32, [None, 10]), tf.placeholder(tf.float32, [10])
    dy = tf.placeholder(tf.float32, [None, 10])
    z = x + b
    (gx, gb), new = _new_ops(lambda: registered_ops()["AddV2"].grad(z.op, dy))
    assert gx is dy  # x's unknown batch dimension cannot have been broadcast
    assert new == ["Const", "Sum"] or new == ["Sum"]
    assert gb.shape.as_list() == [10]
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(gb, {dy: np.ones((5, 10))}), np.full(10, 5.0))


def test_static_size_one_axes_keep_dims_without_reshape():
    x, y = tf.placeholder(tf.float64, [2, 1]), tf.placeholder(tf.float64, [1, 3])
    dy = tf.placeholder(tf.float64, [2, 3])
    gx, new = _new_ops(lambda: grad_util.unbroadcast(dy, x, [y]))
    assert "Reshape" not in new and new.count("Sum") == 1
    assert gx.shape.as_list() == [2, 1]


def test_static_mixed_axes_sum_then_reshape():
    y, x = tf.placeholder(tf.float64, [4, 1, 3]), tf.placeholder(tf.float64, [2, 1])
    dy = tf.placeholder(tf.float64, [4, 2, 3])
    gx, new = _new_ops(lambda: grad_util.unbroadcast(dy, x, [y]))
    assert new.count("Sum") == 1 and new.count("Reshape") == 1
    assert "BroadcastGradientArgs" not in new
    dv = np.arange(24.0).reshape(4, 2, 3)
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(gx, {dy: dv}), dv.sum(axis=(0, 2)).reshape(2, 1))


@pytest.mark.parametrize("xs,ys", [((3,), (2, 3)), ((2, 1), (1, 3)), ((1,), (4,)),
                                   ((2, 3), (2, 3)), ((), (2, 2))])
def test_dynamic_shapes_use_broadcast_gradient_args(xs, ys):
    x, y = tf.placeholder(tf.float64), tf.placeholder(tf.float64)
    z = x * y
    dy = tf.placeholder(tf.float64)
    (gx, gy), new = _new_ops(lambda: registered_ops()["Mul"].grad(z.op, dy))
    assert "BroadcastGradientArgs" in new
    rng = np.random.default_rng(5)
    xv, yv = rng.normal(size=xs), rng.normal(size=ys)
    dyv = rng.normal(size=np.broadcast_shapes(xs, ys))
    with tf.Session() as sess:
        gxv, gyv = sess.run([gx, gy], {x: xv, y: yv, dy: dyv})
    lead_x = len(dyv.shape) - len(xs)
    want_x = (dyv * yv).sum(axis=tuple(range(lead_x))) if lead_x else dyv * yv
    want_x = want_x.sum(axis=tuple(i for i, d in enumerate(xs) if d == 1), keepdims=True) \
        if xs else np.sum(want_x)
    np.testing.assert_allclose(gxv, np.broadcast_to(want_x, xs) if xs else want_x)
    assert gyv.shape == ys


def test_partially_known_shapes_fall_back_to_dynamic():
    x, y = tf.placeholder(tf.float64, [None, 3]), tf.placeholder(tf.float64, [None, 3])
    dy = tf.placeholder(tf.float64, [None, 3])
    gy, new = _new_ops(lambda: grad_util.unbroadcast(dy, y, [x]))
    assert "BroadcastGradientArgs" in new
    with tf.Session() as sess:
        got = sess.run(gy, {x: np.ones((4, 3)), y: np.ones((1, 3)), dy: np.ones((4, 3))})
    np.testing.assert_array_equal(got, np.full((1, 3), 4.0))


def test_unbroadcast_passes_none_through():
    assert grad_util.unbroadcast(None, tf.constant(1.0)) is None
