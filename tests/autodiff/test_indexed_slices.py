"""IndexedSlices: attributes, fetching, densifying, gather gradients (spec gradients.md §3)."""
import numpy as np
import pytest

import graphflow as tf


def test_attributes():
    v = tf.constant([[1.0, 2.0], [3.0, 4.0]], name="vals")
    i = tf.constant([0, 2], name="idx")
    d = tf.constant([3, 2], name="shape")
    s = tf.IndexedSlices(v, i, d)
    assert s.values is v and s.indices is i and s.dense_shape is d
    assert s.dtype == tf.float32
    assert s.name == "vals:0"
    assert s.op is v.op and s.graph is v.graph and s.device == v.device
    assert s.shape.as_list() == [3, 2]
    assert "IndexedSlices(indices=" in str(s)
    assert tf.IndexedSlices(v, i).dense_shape is None


def test_fetch_gives_indexed_slices_value():
    v = tf.constant([[1.0, 2.0]])
    i = tf.constant([1])
    s = tf.IndexedSlices(v, i, tf.constant([2, 2]))
    with tf.Session() as sess:
        out = sess.run(s)
        both = sess.run({"s": s, "n": [tf.IndexedSlices(v, i)]})
    assert isinstance(out, tf.IndexedSlicesValue)
    np.testing.assert_array_equal(out.values, [[1.0, 2.0]])
    np.testing.assert_array_equal(out.indices, [1])
    np.testing.assert_array_equal(out.dense_shape, [2, 2])
    assert both["n"][0].dense_shape is None
    assert tf.IndexedSlicesValue._fields == ("values", "indices", "dense_shape")


def test_convert_to_tensor_densifies_with_unsorted_segment_sum():
    v = tf.constant([[1.0, 1.0], [2.0, 2.0], [5.0, 5.0]])
    i = tf.constant([0, 2, 0])
    s = tf.IndexedSlices(v, i, tf.constant([3, 2]))
    d = tf.convert_to_tensor(s)
    assert d.op.type == "UnsortedSegmentSum"
    assert d.shape.as_list() == [3, 2]
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(d), [[6.0, 6.0], [0.0, 0.0], [2.0, 2.0]])
    # usable wherever a Tensor is expected
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(tf.add(s, 1.0)), [[7, 7], [1, 1], [3, 3]])


def test_densify_requires_dense_shape():
    s = tf.IndexedSlices(tf.constant([[1.0]]), tf.constant([0]))
    with pytest.raises(ValueError, match="without dense_shape"):
        tf.convert_to_tensor(s)


def test_densify_dtype_mismatch():
    s = tf.IndexedSlices(tf.constant([[1.0]]), tf.constant([0]), tf.constant([1, 1]))
    with pytest.raises(ValueError):
        tf.convert_to_tensor(s, dtype=tf.int32)


def test_gather_gradient_keeps_duplicate_indices():
    params = tf.constant(np.arange(6, dtype=np.float32).reshape(3, 2))
    y = tf.reduce_sum(tf.gather(params, [0, 2, 0]) * tf.constant([[1.0], [2.0], [3.0]]))
    (g,) = tf.gradients(y, params)
    assert isinstance(g, tf.IndexedSlices)
    with tf.Session() as sess:
        v = sess.run(g)
        dense = sess.run(tf.convert_to_tensor(g))
    np.testing.assert_array_equal(v.indices, [0, 2, 0])
    np.testing.assert_array_equal(v.values, [[1, 1], [2, 2], [3, 3]])
    np.testing.assert_array_equal(dense, [[4, 4], [0, 0], [2, 2]])


def test_indexed_slices_as_control_dependency():
    s = tf.IndexedSlices(tf.constant([[1.0]]), tf.constant([0]))
    with tf.control_dependencies([s]):
        c = tf.constant(1.0)
    assert c.op.control_inputs == [s.op]


def test_indexed_slices_grad_ys_pass_through():
    params = tf.constant(np.ones((3, 2), np.float32))
    y = tf.identity(params)
    gy = tf.IndexedSlices(tf.constant([[5.0, 5.0]]), tf.constant([1]), tf.constant([3, 2]))
    (g,) = tf.gradients(y, params, grad_ys=gy)
    assert isinstance(g, tf.IndexedSlices)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(tf.convert_to_tensor(g)),
                                      [[0, 0], [5, 5], [0, 0]])
