"""Padded gradient terms added into their region of an accumulator
(``CompileOptions.accumulate_pads``, compiler/accumulate.py): results equal
NumPy and the passes-off plan for every aggregation method, no ``Pad`` step
and no full-size term remain, and every case the rewrite must not touch
(a term read elsewhere, a fetched partial sum, paddings known only at run
time, mismatched shapes) keeps TF's results and errors."""
import numpy as np
import pytest

import graphflow as tf
from graphflow import errors
from graphflow.compiler.options import CompileOptions

METHODS = [tf.AggregationMethod.ADD_N, tf.AggregationMethod.EXPERIMENTAL_TREE,
           tf.AggregationMethod.EXPERIMENTAL_ACCUMULATE_N]


def session(on, graph=None):
    opts = CompileOptions() if on else CompileOptions.all_off()
    return tf.Session(graph=graph, config=tf.ConfigProto(
        graph_options=tf.GraphOptions(compile_options=opts)))


def step_types(sess, fetches, feed=None):
    return [t for _, t, _ in sess.compiled_plan(fetches, feed).steps]


@pytest.mark.parametrize("method", METHODS)
def test_slice_gradients_match_numpy(method):
    xv = np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32)
    x = tf.Variable(xv, name="x")
    starts = [0, 3, 7, 20, 21, 40]
    terms = [tf.reduce_sum(tf.square(tf.slice(x, [s, 0], [10, 8]))) for s in starts]
    terms.append(tf.reduce_sum(x[5:9, 2:6] * 3.0))  # a StridedSlice gradient too
    (grad,) = tf.gradients(tf.add_n(terms), [x], aggregation_method=method)
    want = np.zeros_like(xv)
    for s in starts:
        want[s:s + 10] += 2 * xv[s:s + 10]
    want[5:9, 2:6] += 3.0
    results = {}
    for on in (True, False):
        sess = session(on)
        sess.run(tf.global_variables_initializer())
        results[on] = sess.run(grad)
        types = step_types(sess, grad)
        assert ("Pad" in types) != on, types
        if on:
            peak = sess.compiled_plan(grad).peak_bytes
            assert peak < 4 * xv.nbytes  # not one full-size term per slice
    np.testing.assert_allclose(results[True], want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(results[False], want, rtol=1e-5, atol=1e-5)


def test_pad_read_elsewhere_is_kept():
    a = tf.placeholder(tf.float32, [2, 3], name="a")
    b = tf.placeholder(tf.float32, [4, 5], name="b")
    p = tf.pad(a, [[1, 1], [0, 2]])
    s = tf.add_n([p, b, p * 2.0])
    av = np.arange(6, dtype=np.float32).reshape(2, 3)
    bv = np.ones((4, 5), np.float32)
    pv = np.pad(av, [[1, 1], [0, 2]])
    got_s, got_p = session(True).run([s, p], {a: av, b: bv})
    np.testing.assert_allclose(got_s, pv + bv + 2 * pv)
    np.testing.assert_array_equal(got_p, pv)


def test_fetched_pad_term_is_kept():
    """A Pad read once by the sum but also fetched still produces its value."""
    a = tf.placeholder(tf.float32, [2, 3], name="a")
    b = tf.placeholder(tf.float32, [4, 5], name="b")
    p = tf.pad(a, [[1, 1], [0, 2]])
    s = tf.add_n([p, b])
    av = np.arange(6, dtype=np.float32).reshape(2, 3)
    bv = np.ones((4, 5), np.float32)
    pv = np.pad(av, [[1, 1], [0, 2]])
    sess = session(True)
    got_s, got_p = sess.run([s, p], {a: av, b: bv})
    np.testing.assert_allclose(got_s, pv + bv)
    np.testing.assert_array_equal(got_p, pv)
    assert "Pad" not in step_types(sess, s, {a: av, b: bv})  # fetched alone: folded


def test_fetched_partial_sum_is_not_merged():
    a = tf.placeholder(tf.float32, [2, 2], name="a")
    pads = [tf.pad(a * float(i + 1), [[i, 3 - i], [0, 1]]) for i in range(4)]
    s1 = tf.add_n(pads[:2])
    s2 = tf.add_n([s1, pads[2]])
    s3 = tf.add_n([s2, pads[3]])
    av = np.array([[1, 2], [3, 4]], np.float32)
    np_pads = [np.pad(av * (i + 1), [[i, 3 - i], [0, 1]]) for i in range(4)]
    sess = session(True)
    got1, got3 = sess.run([s1, s3], {a: av})
    np.testing.assert_allclose(got1, np_pads[0] + np_pads[1])
    np.testing.assert_allclose(got3, sum(np_pads))
    assert "Pad" not in step_types(sess, s3, {a: av})  # alone, the chain is one accumulation
    np.testing.assert_allclose(sess.run(s3, {a: av}), sum(np_pads))


def test_runtime_paddings_are_not_folded():
    a = tf.placeholder(tf.float32, [2, 2], name="a")
    pad_spec = tf.placeholder(tf.int32, [2, 2], name="pad_spec")
    s = tf.add_n([tf.pad(a, pad_spec), tf.pad(a, [[1, 0], [0, 1]])])
    av = np.ones((2, 2), np.float32)
    spec = np.array([[0, 1], [1, 0]], np.int32)
    got = session(True).run(s, {a: av, pad_spec: spec})
    np.testing.assert_allclose(got, np.pad(av, spec) + np.pad(av, [[1, 0], [0, 1]]))


def test_mismatched_terms_raise_like_the_unrewritten_plan():
    a = tf.placeholder(tf.float32, None, name="a")
    b = tf.placeholder(tf.float32, None, name="b")
    s = tf.add_n([tf.pad(a, [[1, 1]]), b], name="total")
    feed = {a: np.ones(3, np.float32), b: np.ones(4, np.float32)}
    for on in (True, False):
        sess = session(on)
        with pytest.raises(errors.InvalidArgumentError, match="total"):
            sess.run(s, feed)
        ok = {a: np.ones(2, np.float32), b: np.ones(4, np.float32)}
        np.testing.assert_allclose(sess.run(s, ok), [1, 2, 2, 1])  # the session still works
