"""MatMul and batched matmul against TensorFlow: transposes, dtypes, unknown
dims, batch broadcasting, op names and the shape errors."""
import numpy as np
import pytest

import graphflow as gf

RNG = np.random.default_rng(11)


def _data(shape, dtype):
    if np.dtype(dtype).kind in "iu":
        return RNG.integers(-3, 4, size=shape).astype(dtype)
    return RNG.uniform(-1, 1, size=shape).astype(dtype)


@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_matmul_transposes(oracle, ta, tb, dtype):
    x = _data((4, 3) if ta else (3, 4), dtype)
    y = _data((5, 4) if tb else (4, 5), dtype)

    def build(tf):
        a = tf.placeholder(tf.as_dtype(dtype), x.shape)
        b = tf.placeholder(tf.as_dtype(dtype), y.shape)
        return tf.matmul(a, b, transpose_a=ta, transpose_b=tb), {a: x, b: y}
    oracle.run(build, rtol=1e-5, atol=1e-6)
    oracle.static(build)


@pytest.mark.parametrize("shapes", [((1, 1), (1, 1)), ((1, 7), (7, 1)), ((7, 1), (1, 7)),
                                    ((0, 3), (3, 4)), ((3, 0), (0, 4)), ((16, 16), (16, 16))],
                         ids=str)
def test_matmul_shapes(oracle, shapes):
    x, y = _data(shapes[0], np.float32), _data(shapes[1], np.float32)

    def build(tf):
        a = tf.placeholder(tf.float32, x.shape)
        b = tf.placeholder(tf.float32, y.shape)
        return a @ b, {a: x, b: y}
    oracle.run(build, rtol=1e-5, atol=1e-6)


def test_matmul_unknown_dims(oracle):
    x, y = _data((6, 3), np.float32), _data((3, 2), np.float32)

    def build(tf):
        a = tf.placeholder(tf.float32, [None, 3])
        b = tf.placeholder(tf.float32, [None, None])
        return tf.matmul(a, b), {a: x, b: y}
    oracle.run(build, rtol=1e-5, atol=1e-6)
    oracle.static(build)


@pytest.mark.parametrize("shapes", [((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 5)),
                                    ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (3, 4, 2))], ids=str)
def test_batch_matmul(oracle, shapes):
    x, y = _data(shapes[0], np.float32), _data(shapes[1], np.float32)

    def build(tf):
        a = tf.placeholder(tf.float32, x.shape)
        b = tf.placeholder(tf.float32, y.shape)
        return tf.matmul(a, b), {a: x, b: y}
    oracle.run(build, rtol=1e-5, atol=1e-6)
    oracle.static(build)


def test_names(oracle):
    def build(tf):
        a = tf.placeholder(tf.float32, [2, 2])
        return [(t.op.name, t.op.type) for t in (tf.matmul(a, a), a @ a, tf.matmul(a, a))]
    assert oracle.build(gf, build)[1] == oracle.build(oracle.tf1, build)[1]


def test_inner_dimension_mismatch_message(oracle):
    def build(tf):
        a = tf.placeholder(tf.float32, [3, 4], name="a")
        b = tf.placeholder(tf.float32, [3, 5], name="b")
        return tf.matmul(a, b), {}
    g, t = oracle.error(build, at="build")
    assert isinstance(g, ValueError)
    # TF 2.21's node text also lists its grad_a/grad_b attrs; compare the rest
    head = "Dimensions must be equal, but are 4 and 3 for '{{node MatMul}} = MatMul[T=DT_FLOAT"
    tail = "](a, b)' with input shapes: [3,4], [3,5]."
    for e in (t, g):
        assert str(e).startswith(head) and str(e).endswith(tail), str(e)


def test_rank_1_rejected(oracle):
    def build(tf):
        a = tf.placeholder(tf.float32, [3])
        b = tf.placeholder(tf.float32, [3, 2])
        return tf.matmul(a, b), {}
    g, _ = oracle.error(build, at="build")
    assert isinstance(g, ValueError)


def test_run_time_mismatch(oracle):
    def build(tf):
        a = tf.placeholder(tf.float32, [None, None])
        b = tf.placeholder(tf.float32, [None, None])
        return tf.matmul(a, b), {a: np.zeros((2, 3), np.float32),
                                 b: np.zeros((4, 2), np.float32)}
    oracle.error(build)
