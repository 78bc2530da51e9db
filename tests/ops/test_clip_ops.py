"""Clipping functions: the examples of spec/training_utils.md section 3, NumPy
truth for norms, IndexedSlices, names and gradients."""
import numpy as np
import pytest

import graphflow as tf
from graphflow.ops import clip_ops

T = [[3.0, 4.0], [6.0, 8.0]]


def _run(t, feed=None):
    with tf.Session() as sess:
        return sess.run(t, feed)


def test_clip_by_value_spec_examples():
    t = tf.constant(T)
    c = tf.clip_by_value(t, 3.5, 7.0)
    assert c.op.name == "clip_by_value" and c.op.type == "Maximum"
    assert c.op.inputs[0].op.name == "clip_by_value/Minimum"
    np.testing.assert_allclose(_run(c), [[3.5, 4], [6, 7]])
    np.testing.assert_allclose(_run(tf.clip_by_value(t, 7.0, 3.0)), np.full((2, 2), 7.0))
    ints = tf.clip_by_value(tf.constant([[1, 5], [9, -2]]), 0, 4)
    np.testing.assert_array_equal(_run(ints), [[1, 4], [4, 0]])
    assert _run(ints).dtype == np.int32


def test_clip_by_value_broadcast_bounds_and_shape_check():
    t = tf.constant(T)
    lo, hi = tf.constant([3.5, 0.0]), tf.constant([[10.0], [7.0]])
    np.testing.assert_allclose(_run(tf.clip_by_value(t, lo, hi)), np.clip(T, [3.5, 0], [[10], [7]]))
    with pytest.raises(ValueError):
        tf.clip_by_value(tf.constant([1.0, 2.0]), 0.0, tf.constant([[1.0], [2.0]]))


def test_clip_by_norm_spec_examples():
    t = tf.constant(T)
    got = _run([tf.clip_by_norm(t, 5.0), tf.clip_by_norm(t, 5.0, axes=[1]),
                tf.clip_by_norm(t, 5.0, axes=0), tf.clip_by_norm(t, 100.0)])
    np.testing.assert_allclose(got[0], [[1.34164083, 1.78885436], [2.68328166, 3.57770872]],
                               rtol=1e-6)
    np.testing.assert_allclose(got[1], [[3, 4], [3, 4]], rtol=1e-6)
    np.testing.assert_allclose(got[2], [[2.23606801, 2.23606801], [4.47213602, 4.47213602]],
                               rtol=1e-6)
    np.testing.assert_allclose(got[3], T)
    assert tf.clip_by_norm(t, 1.0).op.name == "clip_by_norm_4"


def test_clip_by_norm_zero_norm_and_negative_clip():
    z = tf.constant([[0.0, 0.0], [3.0, 4.0]])
    got = _run([tf.clip_by_norm(z, 1.0, axes=[1]), tf.clip_by_norm(tf.constant(T), -1.0)])
    np.testing.assert_allclose(got[0], [[0, 0], [0.6, 0.8]], rtol=1e-6)
    assert not np.isnan(got[0]).any()
    np.testing.assert_array_equal(got[1], np.zeros((2, 2)))
    x = tf.placeholder(tf.float64, [2, 2])
    g, = tf.gradients(tf.reduce_sum(tf.clip_by_norm(x, 1.0, axes=[1])), x)
    assert not np.isnan(_run(g, {x: [[0.0, 0.0], [3.0, 4.0]]})).any()


def test_clip_by_average_norm_spec_examples():
    t = tf.constant(T)
    got = _run([tf.clip_by_average_norm(t, 1.0), tf.clip_by_average_norm(t, 5.0)])
    np.testing.assert_allclose(got[0], [[1.07331264, 1.43108356], [2.14662528, 2.86216712]],
                               rtol=1e-6)
    np.testing.assert_allclose(got[1], T, rtol=1e-6)


def test_global_norm_spec_examples():
    a, b = tf.constant([3.0, 4.0]), tf.constant([[12.0]])
    n = tf.global_norm([a, b])
    assert n.op.name == "global_norm/global_norm"
    assert float(_run(n)) == pytest.approx(13.0)
    assert float(_run(tf.global_norm([a, None, b]))) == pytest.approx(13.0)
    assert float(_run(tf.global_norm([]))) == 0.0
    assert float(_run(tf.global_norm([None]))) == 0.0
    with pytest.raises(TypeError, match="`t_list` should be a sequence of tensors. Received "):
        tf.global_norm(a)
    rng = np.random.default_rng(0)
    vals = [rng.standard_normal(s) for s in ((3,), (2, 4), ())]
    truth = np.sqrt(sum(float(np.sum(v * v)) for v in vals))
    got = _run(tf.global_norm([tf.constant(v) for v in vals]))
    assert got.dtype == np.float64 and float(got) == pytest.approx(truth, rel=1e-12)


def test_clip_by_global_norm_spec_examples():
    a, b = tf.constant([3.0, 4.0]), tf.constant([[12.0]])
    clipped, norm = tf.clip_by_global_norm([a, None, b], 6.5)
    assert clipped[1] is None
    assert clipped[0].name == "clip_by_global_norm/clip_by_global_norm/_0:0"
    assert clipped[2].name == "clip_by_global_norm/clip_by_global_norm/_2:0"
    got = _run([clipped[0], clipped[2], norm])
    np.testing.assert_allclose(got[0], [1.5, 2.0], rtol=1e-6)
    np.testing.assert_allclose(got[1], [[6.0]], rtol=1e-6)
    assert float(got[2]) == pytest.approx(13.0)
    same, n2 = tf.clip_by_global_norm([a, b], 100.0)
    got = _run(same + [n2])
    np.testing.assert_allclose(got[0], [3, 4], rtol=1e-6)
    np.testing.assert_allclose(got[1], [[12]], rtol=1e-6)
    assert float(got[2]) == pytest.approx(13.0)
    used, n3 = tf.clip_by_global_norm([a, b], 1.0, use_norm=2.0)
    got = _run(used + [n3])
    np.testing.assert_allclose(got[0], [1.5, 2.0], rtol=1e-6)
    np.testing.assert_allclose(got[1], [[6.0]], rtol=1e-6)
    assert float(got[2]) == 2.0


def test_clip_by_global_norm_non_finite_gives_nan():
    clipped, norm = tf.clip_by_global_norm([tf.constant([3.0, 4.0]), tf.constant([np.inf])],
                                           1.0)
    got = _run(clipped + [norm])
    assert np.isnan(got[0]).all() and np.isnan(got[1]).all()
    assert got[2] == np.inf
    with pytest.raises(TypeError, match="should be a sequence"):
        tf.clip_by_global_norm(tf.constant([1.0]), 1.0)


def test_zero_global_norm_keeps_zeros():
    clipped, norm = tf.clip_by_global_norm([tf.zeros([3])], 1.0)
    got = _run(clipped + [norm])
    np.testing.assert_array_equal(got[0], np.zeros(3))
    assert float(got[1]) == 0.0


def test_indexed_slices_inputs():
    values = tf.constant([[3.0, 4.0], [6.0, 8.0]])
    s = tf.IndexedSlices(values, tf.constant([0, 2]), tf.constant([4, 2]))
    cv = tf.clip_by_value(s, 3.5, 7.0)
    cn = tf.clip_by_norm(s, 5.0)
    assert isinstance(cv, tf.IndexedSlices) and isinstance(cn, tf.IndexedSlices)
    assert cv.indices is s.indices and cn.dense_shape is s.dense_shape
    np.testing.assert_allclose(_run(cv.values), [[3.5, 4], [6, 7]])
    np.testing.assert_allclose(_run(cn.values), [[1.34164083, 1.78885436],
                                                 [2.68328166, 3.57770872]], rtol=1e-6)
    assert float(_run(tf.global_norm([s]))) == pytest.approx(np.sqrt(125.0))
    clipped, _ = tf.clip_by_global_norm([s, tf.constant([1.0])], 1.0)
    assert isinstance(clipped[0], tf.IndexedSlices) and clipped[0].indices is s.indices
    np.testing.assert_allclose(_run(clipped[0].values), np.array(T) / np.sqrt(126.0),
                               rtol=1e-6)


def test_gradients_through_clipping():
    x0 = np.array([[3.0, 4.0], [0.5, -0.25]])
    for build in (lambda x: tf.clip_by_value(x, -0.3, 3.5),
                  lambda x: tf.clip_by_norm(x, 2.0, axes=[1]),
                  lambda x: tf.clip_by_global_norm([x, x * 2.0], 3.0)[0][1]):
        x = tf.placeholder(tf.float64, [2, 2])
        y = build(x)
        with tf.Session():
            err = tf.test.compute_gradient_error(x, [2, 2], y, [2, 2], x_init_value=x0,
                                                 delta=1e-6)
        assert err < 1e-7


def test_public_names():
    assert sorted(clip_ops.__all__) == sorted(["clip_by_value", "clip_by_norm",
                                               "clip_by_average_norm", "global_norm",
                                               "clip_by_global_norm"])
    for n in clip_ops.__all__:
        assert getattr(tf, n) is getattr(clip_ops, n)
