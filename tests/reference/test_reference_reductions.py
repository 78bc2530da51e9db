"""Reductions against TensorFlow: every axis form, keepdims, dtypes (integer
means truncate), empty inputs, unknown shapes and out-of-range axes."""
import numpy as np
import pytest

RNG = np.random.default_rng(7)
REDUCERS = ("reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod")
AXES_2D = [None, 0, 1, -1, -2, [0, 1], [1, 0], [], [-1]]


def _data(shape, dtype):
    if np.dtype(dtype).kind in "iu":
        return RNG.integers(-4, 5, size=shape).astype(dtype)
    return RNG.uniform(-2, 2, size=shape).astype(dtype)


def _reduce_graph(reducer, x, axis, keepdims, feed_shape=True):
    def build(tf):
        p = tf.placeholder(tf.as_dtype(x.dtype), x.shape if feed_shape else None)
        return getattr(tf, reducer)(p, axis=axis, keepdims=keepdims), {p: x}
    return build


@pytest.mark.parametrize("reducer", REDUCERS)
@pytest.mark.parametrize("axis", AXES_2D, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_reduce_2d(oracle, reducer, axis, keepdims, dtype):
    x = _data((3, 4), dtype)
    build = _reduce_graph(reducer, x, axis, keepdims)
    oracle.run(build, rtol=1e-5)
    oracle.static(build)


@pytest.mark.parametrize("reducer", REDUCERS)
@pytest.mark.parametrize("axis", [None, 1, [0, 2], -1], ids=str)
def test_reduce_3d_unknown_shape(oracle, reducer, axis):
    """Fed through a placeholder of unknown shape: the static shape is unknown too."""
    x = _data((2, 3, 4), np.float32)
    build = _reduce_graph(reducer, x, axis, False, feed_shape=False)
    oracle.run(build, rtol=1e-5)
    oracle.static(build)


@pytest.mark.parametrize("reducer", REDUCERS)
@pytest.mark.parametrize("axis", [None, 0, 1], ids=str)
def test_reduce_empty(oracle, reducer, axis):
    x = np.zeros((0, 3), np.float32)
    oracle.same(_reduce_graph(reducer, x, axis, False))


@pytest.mark.parametrize("reducer", REDUCERS)
def test_reduce_scalar_input(oracle, reducer):
    oracle.run(_reduce_graph(reducer, np.array(2.5, np.float32), None, False))


@pytest.mark.parametrize("reducer", ["reduce_all", "reduce_any"])
@pytest.mark.parametrize("axis", [None, 0, 1, [0, 1]], ids=str)
def test_logical_reductions(oracle, reducer, axis):
    x = RNG.random((3, 4)) < 0.7
    oracle.run(_reduce_graph(reducer, x, axis, False))


@pytest.mark.parametrize("axis", [None, 0, -1])
def test_reduce_logsumexp(oracle, axis):
    x = _data((3, 4), np.float32) * 40  # large values: must not overflow
    oracle.run(_reduce_graph("reduce_logsumexp", x, axis, False), rtol=1e-5)


@pytest.mark.parametrize("fn", ["argmax", "argmin"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_argmax_argmin(oracle, fn, axis):
    x = _data((4, 5), np.float32)

    def build(tf):
        p = tf.placeholder(tf.float32, [4, 5])
        return [getattr(tf, fn)(p, axis=axis),
                getattr(tf, fn)(p, axis=axis, output_type=tf.int32)], {p: x}
    oracle.run(build)


def test_argmax_ties_pick_first(oracle):
    x = np.array([[1, 3, 3], [2, 2, 0]], np.float32)

    def build(tf):
        p = tf.placeholder(tf.float32, [2, 3])
        return [tf.argmax(p, axis=1), tf.argmin(p, axis=0)], {p: x}
    oracle.run(build)


@pytest.mark.parametrize("axis", [2, -3, [0, 2]], ids=str)
def test_axis_out_of_range_at_build(oracle, axis):
    def build(tf):
        p = tf.placeholder(tf.float32, [3, 4])
        return tf.reduce_sum(p, axis=axis), {p: np.zeros((3, 4), np.float32)}
    g, t = oracle.error(build, at="build")
    assert isinstance(g, ValueError)


def test_default_names(oracle):
    def build(tf):
        p = tf.placeholder(tf.float32, [3, 4])
        return [(t.op.name, t.op.type) for t in
                (tf.reduce_sum(p), tf.reduce_mean(p), tf.reduce_max(p), tf.reduce_min(p),
                 tf.reduce_prod(p), tf.reduce_sum(p, 1))]
    import graphflow as gf
    assert oracle.build(gf, build)[1] == oracle.build(oracle.tf1, build)[1]
