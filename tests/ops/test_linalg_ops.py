"""tf.matmul: MatMul / BatchMatMulV2 values against NumPy, TF's names and shape
errors, and gradients (all transpose/adjoint cases, broadcast batches, second
order) against float64 central differences."""
import numpy as np
import pytest

import graphflow as tf
from graphflow.ops import linalg_ops

RNG = np.random.default_rng(99)


def _run(t, feed=None):
    with tf.Session() as sess:
        return sess.run(t, feed)


def _mat(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_matmul_transposes_match_numpy(dtype, ta, tb):
    a = _mat(*((5, 3) if ta else (3, 5)), dtype=dtype)
    b = _mat(*((4, 5) if tb else (5, 4)), dtype=dtype)
    pa, pb = tf.placeholder(tf.as_dtype(dtype), a.shape), tf.placeholder(tf.as_dtype(dtype),
                                                                         b.shape)
    c = tf.matmul(pa, pb, transpose_a=ta, transpose_b=tb)
    assert c.op.type == "MatMul" and c.shape.as_list() == [3, 4]
    assert c.op.get_attr("transpose_a") == ta and c.op.get_attr("transpose_b") == tb
    want = (a.T if ta else a).astype(np.float64) @ (b.T if tb else b).astype(np.float64)
    got = _run(c, {pa: a, pb: b})
    assert got.dtype == dtype
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-5 if dtype == np.float32 else 1e-12)
    adj = tf.matmul(pa, pb, adjoint_a=ta, adjoint_b=tb)  # the same for real matrices
    np.testing.assert_allclose(_run(adj, {pa: a, pb: b}), got, rtol=1e-6)


def test_matmul_integers_and_large_shapes():
    a = RNG.integers(-5, 5, size=(4, 6)).astype(np.int32)
    b = RNG.integers(-5, 5, size=(6, 3)).astype(np.int32)
    got = _run(tf.matmul(a, b))
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, a @ b)
    x, w = _mat(256, 784), _mat(784, 512)
    got = _run(tf.matmul(tf.constant(x), tf.constant(w)))
    np.testing.assert_allclose(got, x.astype(np.float64) @ w.astype(np.float64), rtol=1e-4,
                               atol=1e-3)


def test_matmul_names_and_operator():
    with tf.Graph().as_default():
        a, b = tf.constant(_mat(2, 3)), tf.constant(_mat(3, 4))
        c = a @ b
        assert c.op.name == "matmul" and c.op.type == "MatMul"
        assert (a @ b).op.name == "matmul_1"
        assert tf.matmul(a, b).op.name == "MatMul_2"  # unique names are case-insensitive
        assert tf.matmul(a, b, name="prod").op.name == "prod"
        d = np.ones((4, 2), np.float32)
        e = (a @ b) @ d  # numpy operand converted with the tensor's dtype
        np.testing.assert_allclose(_run(e), _run(a @ b) @ d, rtol=1e-5)


@pytest.mark.parametrize("sx,sy,ax,ay", [
    ((2, 3, 4), (2, 4, 5), False, False), ((2, 4, 3), (2, 4, 5), True, False),
    ((2, 3, 4), (2, 5, 4), False, True), ((2, 4, 3), (2, 5, 4), True, True),
    ((3, 1, 3, 4), (2, 4, 5), False, False), ((3, 4), (2, 4, 5), False, False),
    ((2, 2, 3, 4), (4, 5), False, False), ((0, 3, 4), (4, 2), False, False)])
def test_batch_matmul_matches_numpy(sx, sy, ax, ay):
    x, y = _mat(*sx, dtype=np.float64), _mat(*sy, dtype=np.float64)
    px, py = tf.placeholder(tf.float64, sx), tf.placeholder(tf.float64, sy)
    c = tf.matmul(px, py, adjoint_a=ax, adjoint_b=ay)
    assert c.op.type == "BatchMatMulV2"
    assert c.op.get_attr("adj_x") == ax and c.op.get_attr("adj_y") == ay
    want = np.matmul(np.swapaxes(x, -1, -2) if ax else x, np.swapaxes(y, -1, -2) if ay else y)
    got = _run(c, {px: x, py: y})
    assert tuple(c.shape.as_list()) == want.shape == got.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    t = tf.matmul(px, py, transpose_a=ax, transpose_b=ay)  # transposes become adjoints
    assert t.op.type == "BatchMatMulV2" and t.op.get_attr("adj_x") == ax


def test_unknown_rank_uses_batch_matmul():
    u = tf.placeholder(tf.float32)
    m = tf.constant(_mat(3, 2))
    c = tf.matmul(u, m)
    assert c.op.type == "BatchMatMulV2" and c.shape.ndims is None
    x = _mat(2, 4, 3)
    np.testing.assert_allclose(_run(c, {u: x}), x @ _run(m), rtol=1e-5)


def test_shape_errors():
    a = tf.placeholder(tf.float32, [2, 3], name="a")
    b = tf.placeholder(tf.float32, [4, 5], name="b")
    with pytest.raises(ValueError) as e:
        tf.matmul(a, b)
    assert str(e.value) == (
        "Dimensions must be equal, but are 3 and 4 for '{{node MatMul}} = MatMul[T=DT_FLOAT, "
        "transpose_a=false, transpose_b=false](a, b)' with input shapes: [2,3], [4,5].")
    with pytest.raises(ValueError, match="Shape must be rank 2 but is rank 1"):
        tf.matmul(tf.constant([1.0, 2.0]), tf.constant([[1.0], [2.0]]))
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 4 and 3"):
        tf.matmul(tf.placeholder(tf.float32, [2, 3, 4]), tf.placeholder(tf.float32, [2, 3, 4]))
    with pytest.raises(ValueError, match="Only one of transpose_a and adjoint_a can be True."):
        tf.matmul(a, a, transpose_a=True, adjoint_a=True)
    with pytest.raises(ValueError, match="Only one of transpose_b and adjoint_b can be True."):
        tf.matmul(a, a, transpose_b=True, adjoint_b=True)
    with pytest.raises(TypeError):
        tf.matmul(a, tf.constant([[1.0]], tf.float64))


def test_runtime_shape_errors():
    a, b = tf.placeholder(tf.float32, [None, None]), tf.placeholder(tf.float32, [None, None])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"Matrix size-incompatible: In\[0\]: \[2,3\], In\[1\]: \[4,5\]"):
            sess.run(tf.matmul(a, b), {a: np.ones((2, 3)), b: np.ones((4, 5))})
        u = tf.placeholder(tf.float32)  # unknown rank: BatchMatMulV2
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"In\[0\] ndims must be >= 2"):
            sess.run(tf.matmul(u, b), {u: np.ones(3), b: np.ones((3, 5))})
        x, y = tf.placeholder(tf.float32, [None, 2, None]), tf.placeholder(tf.float32,
                                                                            [None, None, 5])
        c = tf.matmul(x, y)
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"In\[0\] mismatch In\[1\] shape: 3 vs. 4: \[1,2,3\] \[1,4,5\]"):
            sess.run(c, {x: np.ones((1, 2, 3)), y: np.ones((1, 4, 5))})
        with pytest.raises(tf.errors.InvalidArgumentError, match="compatible batch dimensions"):
            sess.run(c, {x: np.ones((2, 2, 3)), y: np.ones((3, 3, 5))})


# --- gradients --------------------------------------------------------------------------------
def _grad_errors(build, xs0, delta=1e-6):
    """Max |analytic - central difference| over each input of y = build(*xs)."""
    xs = [tf.placeholder(tf.float64, x.shape) for x in xs0]
    y = build(*xs)
    errs = []
    with tf.Session():
        for x, x0 in zip(xs, xs0):
            others = {p: v for p, v in zip(xs, xs0) if p is not x}
            errs.append(tf.test.compute_gradient_error(x, x0.shape, y, y.shape.as_list(),
                                                       x_init_value=x0, delta=delta,
                                                       extra_feed_dict=others))
    return errs


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_matmul_gradients(ta, tb):
    a0 = _mat(*((4, 3) if ta else (3, 4)), dtype=np.float64)
    b0 = _mat(*((5, 4) if tb else (4, 5)), dtype=np.float64)
    errs = _grad_errors(lambda a, b: tf.matmul(a, b, transpose_a=ta, transpose_b=tb), [a0, b0])
    assert max(errs) < 1e-8


@pytest.mark.parametrize("sx,sy,ax,ay", [
    ((2, 3, 4), (2, 4, 5), False, False), ((2, 4, 3), (2, 4, 5), True, False),
    ((2, 3, 4), (2, 5, 4), False, True), ((2, 4, 3), (2, 5, 4), True, True),
    ((3, 1, 3, 4), (2, 4, 5), False, False), ((3, 4), (2, 4, 5), False, False),
    ((2, 2, 3, 4), (5, 4), False, True)])
def test_batch_matmul_gradients(sx, sy, ax, ay):
    x0, y0 = _mat(*sx, dtype=np.float64), _mat(*sy, dtype=np.float64)
    errs = _grad_errors(lambda x, y: tf.matmul(x, y, adjoint_a=ax, adjoint_b=ay), [x0, y0])
    assert max(errs) < 1e-8


def test_batch_matmul_gradient_with_unknown_batch_dims():
    x0, y0 = _mat(3, 1, 3, 4, dtype=np.float64), _mat(2, 4, 5, dtype=np.float64)
    px = tf.placeholder(tf.float64, [None, None, 3, 4])
    py = tf.placeholder(tf.float64, [None, 4, 5])
    y = tf.matmul(px, py)
    gx, gy = tf.gradients(y, [px, py])
    got = _run([gx, gy], {px: x0, py: y0})
    ones = np.ones((3, 2, 3, 5))
    np.testing.assert_allclose(got[0], (ones @ np.swapaxes(y0, -1, -2)).sum(1, keepdims=True))
    np.testing.assert_allclose(got[1], (np.swapaxes(x0, -1, -2) @ ones).sum(0))


def test_matmul_second_order():
    a0, b0, c0 = (_mat(3, 4, dtype=np.float64), _mat(4, 5, dtype=np.float64),
                  _mat(3, 5, dtype=np.float64))

    def grad_a(a, b):
        y = tf.matmul(a, b)
        g, = tf.gradients(tf.reduce_sum(y * y * tf.constant(c0)), a)
        return g
    assert max(_grad_errors(grad_a, [a0, b0])) < 1e-6


def test_namespace():
    assert tf.matmul is linalg_ops.matmul and tf.math.matmul is linalg_ops.matmul
