"""Combining gradient contributions: AggregationMethod graphs, IndexedSlices rules,
AccumulateNV2 and its memory behaviour (spec gradients.md §3)."""
import numpy as np
import pytest

import graphflow as tf
from graphflow.autodiff import aggregation
from graphflow.runtime import memory

AM = tf.AggregationMethod


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict)


def _listing(prefix="gradients/"):
    """(name, type, [input op names]) of the ops under ``prefix``, in creation order."""
    return [(op.name, op.type, [t.op.name for t in op.inputs])
            for op in tf.get_default_graph().get_operations() if op.name.startswith(prefix)]


def _spec_graph():
    x = tf.constant(3.0, name="x")
    y = x * 2.0
    z = tf.identity(y) + tf.identity(y) + tf.identity(y) + tf.identity(y)
    return x, y, z


def test_constants():
    assert (AM.ADD_N, AM.DEFAULT, AM.EXPERIMENTAL_TREE, AM.EXPERIMENTAL_ACCUMULATE_N) == (
        0, 0, 1, 2)


@pytest.mark.parametrize("method", [None, AM.ADD_N, AM.DEFAULT])
def test_spec_example_add_n(method):
    x, y, z = _spec_graph()
    gx, gy = tf.gradients(z, [x, y], aggregation_method=method)
    assert (gx.name, gy.name) == ("gradients/mul_grad/Mul:0", "gradients/AddN:0")
    g4 = ["gradients/grad_ys_0"] * 4
    assert _listing() == [
        ("gradients/Shape", "Const", []),
        ("gradients/grad_ys_0/Const", "Const", []),
        ("gradients/grad_ys_0", "Fill", ["gradients/Shape", "gradients/grad_ys_0/Const"]),
        ("gradients/AddN", "AddN", g4),
        ("gradients/mul_grad/Mul", "Mul", ["gradients/AddN", "mul/y"]),
        ("gradients/mul_grad/Mul_1", "Mul", ["gradients/AddN", "x"]),
    ]
    assert _run([gx, gy]) == [8.0, 4.0]


def test_spec_example_tree():
    x, y, z = _spec_graph()
    gx, gy = tf.gradients(z, [x, y], aggregation_method=AM.EXPERIMENTAL_TREE)
    assert gy.name == "gradients/mul_gradient_sum/AddN_2:0"
    s = "gradients/mul_gradient_sum/"
    assert _listing()[3:] == [
        (s + "AddN", "AddN", ["gradients/grad_ys_0", "gradients/grad_ys_0"]),
        (s + "AddN_1", "AddN", [s + "AddN", "gradients/grad_ys_0"]),
        (s + "AddN_2", "AddN", [s + "AddN_1", "gradients/grad_ys_0"]),
        ("gradients/mul_grad/Mul", "Mul", [s + "AddN_2", "mul/y"]),
        ("gradients/mul_grad/Mul_1", "Mul", [s + "AddN_2", "x"]),
    ]
    assert _run([gx, gy]) == [8.0, 4.0]


def test_accumulate_n_is_one_accumulate_nv2_op_as_in_tf1():
    x, y, z = _spec_graph()
    gx, gy = tf.gradients(z, [x, y], aggregation_method=AM.EXPERIMENTAL_ACCUMULATE_N)
    assert gy.name == "gradients/AccumulateNV2:0"
    assert _listing()[3] == ("gradients/AccumulateNV2", "AccumulateNV2",
                             ["gradients/grad_ys_0"] * 4)
    assert gy.op.get_attr("shape").as_list() == []
    assert _run([gx, gy]) == [8.0, 4.0]


def _consumers_graph(k, shape=(2, 3), placeholder_shape=None):
    if placeholder_shape is not None:
        x = tf.placeholder(tf.float32, placeholder_shape, name="x")
    else:
        x = tf.constant(np.ones(shape, np.float32), name="x")
    terms = [x * float(i + 1) for i in range(k)]
    z = terms[0]
    for t in terms[1:]:
        z = z + t
    return x, z


def _count(op_type, prefix="gradients/"):
    return [op for op in tf.get_default_graph().get_operations()
            if op.type == op_type and op.name.startswith(prefix)]


@pytest.mark.parametrize("k", [2, 3, 5, 8])
def test_op_counts_per_method(k):
    want = np.full((2, 3), k * (k + 1) / 2, np.float32)
    x, z = _consumers_graph(k)
    (g,) = tf.gradients(z, x)
    addn = _count("AddN")
    assert len(addn) == 1 and len(addn[0].inputs) == k and addn[0].name == "gradients/AddN"
    np.testing.assert_allclose(_run(g), want)

    tf.reset_default_graph()
    x, z = _consumers_graph(k)
    (g,) = tf.gradients(z, x, aggregation_method=AM.EXPERIMENTAL_TREE)
    chain = _count("AddN")
    assert len(chain) == k - 1
    assert all(len(op.inputs) == 2 for op in chain)
    assert all(op.name.startswith("gradients/x_gradient_sum/AddN") for op in chain)
    for prev, nxt in zip(chain, chain[1:]):  # a left-folded chain, not a tree
        assert nxt.inputs[0].op is prev
    np.testing.assert_allclose(_run(g), want)

    tf.reset_default_graph()
    x, z = _consumers_graph(k)
    (g,) = tf.gradients(z, x, aggregation_method=AM.EXPERIMENTAL_ACCUMULATE_N)
    acc = _count("AccumulateNV2")
    if k > 2:
        assert len(acc) == 1 and len(acc[0].inputs) == k and not _count("AddN")
    else:
        assert not acc and len(_count("AddN")) == k - 1
    np.testing.assert_allclose(_run(g), want)


def test_accumulate_n_falls_back_to_tree_for_unknown_shape():
    x, z = _consumers_graph(4, placeholder_shape=[None, 3])
    (g,) = tf.gradients(z, x, aggregation_method=AM.EXPERIMENTAL_ACCUMULATE_N)
    assert not _count("AccumulateNV2")
    assert len(_count("AddN")) == 3
    np.testing.assert_allclose(_run(g, {x: np.ones((2, 3))}), np.full((2, 3), 10.0))


def test_aggregate_drops_none_and_passes_single_terms():
    x = tf.constant(1.0)
    assert aggregation.aggregate([], x.op, 0) is None
    assert aggregation.aggregate([None], x.op, 0) is None
    assert aggregation.aggregate([None, x, None], x.op, 0) is x


def test_check_method():
    assert aggregation.check_method(None) == 0
    for bad in (7, -1, "tree", True):
        with pytest.raises(ValueError, match="Invalid `aggregation_method` specified"):
            aggregation.check_method(bad)


# --- IndexedSlices aggregation ----------------------------------------------------------------
def _emb():
    return tf.constant(np.arange(6, dtype=np.float32).reshape(3, 2), name="emb")


def test_all_indexed_slices_are_concatenated():
    emb = _emb()
    l1 = tf.reduce_sum(tf.gather(emb, [0, 1]))
    l2 = tf.reduce_sum(tf.gather(emb, [1, 2]) * 2.0)
    for method in (None, AM.EXPERIMENTAL_TREE, AM.EXPERIMENTAL_ACCUMULATE_N):
        (g,) = tf.gradients(l1 + l2, emb, aggregation_method=method)
        assert isinstance(g, tf.IndexedSlices)
        v = _run(g)
        assert isinstance(v, tf.IndexedSlicesValue)
        np.testing.assert_array_equal(v.values, [[1, 1], [1, 1], [2, 2], [2, 2]])
        np.testing.assert_array_equal(v.indices, [0, 1, 1, 2])
        np.testing.assert_array_equal(v.dense_shape, [3, 2])
    (g,) = tf.gradients(l1 + l2, emb, name="sparse")
    assert g.values.op.name == "sparse/concat"
    assert g.indices.op.name == "sparse/concat_1"


def test_mixed_dense_and_sparse_is_one_dense_addn():
    emb = _emb()
    l1 = tf.reduce_sum(tf.gather(emb, [0, 1]))
    l3 = tf.reduce_sum(3.0 * emb)
    for method in (None, AM.EXPERIMENTAL_TREE, AM.EXPERIMENTAL_ACCUMULATE_N):
        (g,) = tf.gradients(l1 + l3, emb, aggregation_method=method)
        assert isinstance(g, tf.Tensor) and g.op.type == "AddN"
        np.testing.assert_array_equal(_run(g), [[4, 4], [4, 4], [3, 3]])


def test_index_dtypes_that_differ_are_cast_to_int64():
    emb = _emb()
    l1 = tf.reduce_sum(tf.gather(emb, tf.constant([0, 2], tf.int32)))
    l2 = tf.reduce_sum(tf.gather(emb, tf.constant([2], tf.int64)))
    (g,) = tf.gradients(l1 + l2, emb)
    assert g.indices.dtype == tf.int64
    v = _run(g)
    np.testing.assert_array_equal(v.indices, [0, 2, 2])


# --- AccumulateNV2 and memory ----------------------------------------------------------------
def test_accumulate_n_builder_and_values():
    from graphflow.ops.aggregation_ops import accumulate_n
    a = tf.constant([1.0, 2.0])
    b = tf.constant([10.0, 20.0])
    assert accumulate_n([a]) is a
    s = accumulate_n([a, b, a])
    assert s.op.type == "AccumulateNV2" and s.shape.as_list() == [2]
    np.testing.assert_array_equal(_run(s), [12.0, 24.0])
    with pytest.raises(ValueError):
        accumulate_n([])


def test_accumulate_nv2_runs_one_add_step_per_term():
    from graphflow.ops.aggregation_ops import accumulate_n
    ps = [tf.placeholder(tf.float64, [3]) for _ in range(4)]
    s = accumulate_n([tf.identity(p) for p in ps])
    feeds = {p: np.full(3, i + 1.0) for i, p in enumerate(ps)}
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(s, feeds), [10.0] * 3)
        np.testing.assert_array_equal(sess.run(s, feeds), [10.0] * 3)  # fresh buffer per run
        (plan,) = sess._plans.values()
    steps = [st[3].type for st in plan.steps]
    assert steps.count("AccumulateNV2") == 4
    # each add right after the Identity producing its term
    for i, st in enumerate(plan.steps):
        if st[3].type == "AccumulateNV2":
            assert plan.steps[i - 1][3].type in ("Identity", "AccumulateNV2")
    for v in feeds.values():  # inputs untouched
        assert v[0] == v[1] == v[2]


def test_accumulate_nv2_shape_mismatch_at_run_time():
    from graphflow.ops.aggregation_ops import accumulate_n
    p = tf.placeholder(tf.float32, [None])
    q = tf.placeholder(tf.float32, [None])
    s = accumulate_n([p, q, p])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Shapes of all inputs must match"):
            sess.run(s, {p: [1.0, 2.0], q: [1.0]})


def test_memory_tracking_counts_live_buffers():
    a = tf.placeholder(tf.float64, [1000])
    b = a * 2.0
    c = b * 3.0
    d = c * 4.0
    with memory.tracking(), tf.Session() as sess:
        sess.run(d, {a: np.ones(1000)})
        (plan,) = sess._plans.values()
    # at most the feed, one intermediate and the new output are alive at once
    assert 16000 <= plan.peak_bytes <= 3 * 8000


def test_accumulate_n_peak_memory_below_add_n():
    """64 consumers of a 1000x1000 float32 tensor: ADD_N keeps all 64 gradient terms
    alive for one AddN; ACCUMULATE_N adds each term as soon as it is produced."""
    peaks = {}
    value = np.random.default_rng(0).standard_normal((1000, 1000)).astype(np.float32)
    results = {}
    for method in (AM.ADD_N, AM.EXPERIMENTAL_ACCUMULATE_N):
        tf.reset_default_graph()
        x = tf.placeholder(tf.float32, [1000, 1000])
        terms = [x * float(i % 7 + 1) for i in range(64)]
        z = terms[0]
        for t in terms[1:]:
            z = z + t
        (g,) = tf.gradients(z, x, aggregation_method=method)
        # passes off (opt_level L0): folding would make the whole gradient a constant
        off = tf.OptimizerOptions(opt_level=tf.OptimizerOptions.L0)
        config = tf.ConfigProto(graph_options=tf.GraphOptions(optimizer_options=off))
        with memory.tracking(), tf.Session(config=config) as sess:
            results[method] = sess.run(g, {x: value})
            (plan,) = sess._plans.values()
        peaks[method] = plan.peak_bytes
    term = 1000 * 1000 * 4
    want = float(sum(i % 7 + 1 for i in range(64)))
    for r in results.values():
        np.testing.assert_allclose(r, want, rtol=1e-6)
    assert peaks[AM.ADD_N] >= 64 * term
    assert peaks[AM.EXPERIMENTAL_ACCUMULATE_N] <= 8 * term
