"""Reductions, ArgMax/ArgMin, AddN, UnsortedSegmentSum, BroadcastGradientArgs:
values against NumPy, TF's shapes/names/errors, gradients against float64
central differences (first and second order)."""
import numpy as np
import pytest

import graphflow as tf
from graphflow.ops import reduction_ops

RNG = np.random.default_rng(1234)

REDUCERS = {
    "Sum": (tf.reduce_sum, np.sum),
    "Mean": (tf.reduce_mean, np.mean),
    "Max": (tf.reduce_max, np.max),
    "Min": (tf.reduce_min, np.min),
    "Prod": (tf.reduce_prod, np.prod),
}
AXES = [None, 0, 1, -1, 2, [0, 2], [-1, 0], [1], [], [0, 1, 2], (2, -2)]


def _truth(np_fn, x, axis, keepdims):
    """NumPy truth in the input dtype (integer means truncate toward zero, as TF)."""
    ax = None if axis is None else tuple(np.atleast_1d(axis).tolist())
    if np_fn is np.mean and x.dtype.kind in "iu":
        s = np.sum(x, axis=ax, keepdims=keepdims, dtype=np.int64)
        n = x.size if ax is None else int(np.prod([x.shape[a] for a in ax]))
        return np.trunc(s / n).astype(x.dtype)
    if np_fn in (np.sum, np.prod):
        return np_fn(x.astype(np.float64) if x.dtype.kind == "f" else x, axis=ax,
                     keepdims=keepdims, dtype=None if x.dtype.kind == "f" else x.dtype
                     ).astype(x.dtype)
    if np_fn is np.mean:
        return np.mean(x.astype(np.float64), axis=ax, keepdims=keepdims).astype(x.dtype)
    return np_fn(x, axis=ax, keepdims=keepdims)


def _run(t, feed=None):
    with tf.Session() as sess:
        return sess.run(t, feed)


@pytest.mark.parametrize("op", sorted(REDUCERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_reductions_match_numpy(op, dtype):
    tf_fn, np_fn = REDUCERS[op]
    x = RNG.uniform(-3, 3, size=(3, 4, 5))
    if np.dtype(dtype).kind == "i":
        x = np.round(x * 3)
    x = x.astype(dtype)
    ph = tf.placeholder(tf.as_dtype(dtype), x.shape)
    outs, wants = [], []
    for axis in AXES:
        for keep in (False, True):
            outs.append(tf_fn(ph, axis=axis, keepdims=keep))
            wants.append(_truth(np_fn, x, axis, keep))
    got = _run(outs, {ph: x})
    for t, g, w in zip(outs, got, wants):
        assert g.dtype == dtype, t
        assert g.shape == w.shape, t
        assert tuple(t.shape.as_list()) == w.shape
        if np.dtype(dtype).kind == "f":
            tol = 1e-6 if dtype == np.float32 else 1e-13
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol, err_msg=t.name)
        else:
            np.testing.assert_array_equal(g, w, err_msg=t.name)


@pytest.mark.parametrize("shape,axis", [((2, 3, 4, 5), [0, 2]), ((2, 3, 4, 5), [1, 3]),
                                        ((2, 3, 4, 5), [0, 3]), ((6, 1, 7), [0]),
                                        ((6, 1, 7), [1, 2]), ((3, 1, 1, 4), [1, 2]),
                                        ((200, 37), [1]), ((37, 200), [0]), ((1000,), [0])])
def test_layouts_rows_mid_and_transposed(shape, axis):
    x = RNG.standard_normal(shape).astype(np.float32)
    ph = tf.placeholder(tf.float32, shape)
    fns = [tf.reduce_sum(ph, axis), tf.reduce_max(ph, axis), tf.reduce_min(ph, axis),
           tf.reduce_mean(ph, axis, keepdims=True)]
    got = _run(fns, {ph: x})
    ax = tuple(axis)
    np.testing.assert_allclose(got[0], x.astype(np.float64).sum(ax), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(got[1], x.max(ax))
    np.testing.assert_array_equal(got[2], x.min(ax))
    np.testing.assert_allclose(got[3], x.astype(np.float64).mean(ax, keepdims=True), rtol=1e-5,
                               atol=1e-6)


def test_float32_sum_is_accurate_and_stays_float32():
    x = RNG.uniform(0, 1, size=1_000_003).astype(np.float32)
    ph = tf.placeholder(tf.float32, [None])
    s, m = _run([tf.reduce_sum(ph), tf.reduce_mean(ph)], {ph: x})
    exact = np.sum(x, dtype=np.float64)
    assert s.dtype == np.float32 and m.dtype == np.float32
    assert abs(float(s) - exact) / exact < 2e-7  # within float32 rounding of the exact sum
    assert abs(float(m) - exact / x.size) / (exact / x.size) < 2e-7


def test_integer_sum_wraps_like_int32():
    x = np.array([2**31 - 1, 1, 5], np.int32)
    got = _run(tf.reduce_sum(tf.constant(x)))
    assert got.dtype == np.int32
    assert int(got) == int(np.sum(x, dtype=np.int32))


def test_integer_mean_truncates_toward_zero():
    x = tf.constant([[-3, -4], [5, 7], [1, 2], [-1, -2]], tf.int32)
    got = _run(tf.reduce_mean(x, 1))
    np.testing.assert_array_equal(got, [-3, 6, 1, -1])  # -3.5 -> -3, 6, 1.5 -> 1, -1.5 -> -1
    assert got.dtype == np.int32


def test_zero_d_and_empty_inputs():
    s = tf.constant(3.5)
    got = _run([tf.reduce_sum(s), tf.reduce_max(s), tf.reduce_mean(s, keepdims=True)])
    assert [float(g) for g in got] == [3.5, 3.5, 3.5]
    assert got[2].shape == ()
    e = tf.placeholder(tf.float32, [0, 3])
    feed = {e: np.zeros((0, 3), np.float32)}
    outs = [tf.reduce_sum(e), tf.reduce_prod(e), tf.reduce_max(e), tf.reduce_min(e),
            tf.reduce_mean(e), tf.reduce_sum(e, 0), tf.reduce_sum(e, 1), tf.reduce_max(e, 0)]
    got = _run(outs, feed)
    assert float(got[0]) == 0.0 and float(got[1]) == 1.0
    assert got[2] == -np.inf and got[3] == np.inf  # TF's identity values
    assert np.isnan(got[4])
    np.testing.assert_array_equal(got[5], np.zeros(3, np.float32))
    assert got[6].shape == (0,)
    np.testing.assert_array_equal(got[7], np.full(3, -np.inf, np.float32))
    ei = tf.placeholder(tf.int32, [0])
    got = _run([tf.reduce_max(ei), tf.reduce_min(ei)], {ei: np.zeros(0, np.int32)})
    assert got == [np.iinfo(np.int32).min, np.iinfo(np.int32).max]


def test_nan_propagates_in_max_and_min():
    x = tf.constant([[1.0, np.nan, 3.0], [2.0, 5.0, 4.0]] + [[0.5] * 3] * 20, tf.float32)
    got = _run([tf.reduce_max(x, 1), tf.reduce_min(x, 1), tf.reduce_max(x, 0)])
    assert np.isnan(got[0][0]) and got[0][1] == 5.0
    assert np.isnan(got[1][0]) and got[1][1] == 2.0
    assert np.isnan(got[2][1]) and got[2][0] == 2.0


def test_static_shapes_and_names():
    x = tf.placeholder(tf.float32, [2, None, 4])
    assert tf.reduce_sum(x).shape.as_list() == []
    assert tf.reduce_sum(x, 1).shape.as_list() == [2, 4]
    assert tf.reduce_sum(x, [0, -1], keepdims=True).shape.as_list() == [1, None, 1]
    ax = tf.placeholder(tf.int32, [None])
    assert tf.reduce_sum(x, ax).shape.ndims is None
    assert tf.reduce_sum(x, ax, keepdims=True).shape.as_list() == [None, None, None]
    u = tf.placeholder(tf.float32)
    assert tf.reduce_sum(u).shape.as_list() == []  # axis=None reduces to a scalar
    with tf.Graph().as_default():
        z = tf.placeholder(tf.float32, [2, 3])
        names = [f(z).op.name for f in (tf.reduce_sum, tf.reduce_mean, tf.reduce_max,
                                        tf.reduce_min, tf.reduce_prod)]
        assert names == ["Sum", "Mean", "Max", "Min", "Prod"]
        assert tf.reduce_sum(z, 1).op.inputs[1].op.name == "Sum_1/reduction_indices"
    t = tf.reduce_sum(x, 1)
    assert t.op.type == "Sum" and t.op.inputs[1].op.type == "Const"
    assert t.op.get_attr("keep_dims") is False
    assert tf.reduce_sum(x, name="total").op.name == "total"
    assert tf.reduce_sum(x).op.inputs[1].op.name.startswith("Const")


def test_unknown_rank_input_reduces_all_axes():
    u = tf.placeholder(tf.float32)
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    assert float(_run(tf.reduce_sum(u), {u: x})) == float(x.sum())


def test_deprecated_aliases():
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    a = tf.reduce_sum(x, reduction_indices=[1], keep_dims=True)
    assert a.shape.as_list() == [2, 1]
    np.testing.assert_array_equal(_run(a), [[3.0], [7.0]])
    with pytest.raises(ValueError, match="Cannot specify both 'reduction_indices' and 'axis'"):
        tf.reduce_sum(x, axis=0, reduction_indices=0)
    with pytest.raises(ValueError, match="Cannot specify both 'keep_dims' and 'keepdims'"):
        tf.reduce_mean(x, keepdims=True, keep_dims=True)


def test_invalid_axis_at_build_time():
    x = tf.placeholder(tf.float32, [2, 3])
    with pytest.raises(ValueError, match="Invalid reduction dimension 2 for input with 2 "
                                         "dimensions") as e:
        tf.reduce_sum(x, 2)
    assert "{{node Sum}}" in str(e.value) and "[2,3]" in str(e.value)
    with pytest.raises(ValueError, match="Invalid reduction dimension -3 for input"):
        tf.reduce_max(x, [0, -3])


def test_invalid_axis_at_run_time():
    x = tf.placeholder(tf.float32, [2, 3])
    ax = tf.placeholder(tf.int32)
    s = tf.reduce_sum(x, ax)
    feed = {x: np.ones((2, 3), np.float32)}
    with tf.Session() as sess:
        assert float(sess.run(s, {**feed, ax: -1}).sum()) == 6.0
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"Invalid reduction dimension \(2 for input with 2 dimension"):
            sess.run(s, {**feed, ax: 2})
        with pytest.raises(tf.errors.InvalidArgumentError, match="duplicate dimension: 1"):
            sess.run(s, {**feed, ax: [1, -1]})


def test_dtype_checks():
    with pytest.raises(TypeError):
        tf.reduce_sum(tf.constant([True, False]))
    with pytest.raises(TypeError):
        tf.reduce_sum(tf.constant([1.0, 2.0]), tf.constant(0.0))


def test_reduce_all_any():
    x = RNG.random((3, 4, 2)) < 0.6
    ph = tf.placeholder(tf.bool, x.shape)
    outs, wants = [], []
    for axis in (None, 0, -1, [0, 2], []):
        for keep in (False, True):
            ax = None if axis is None else tuple(np.atleast_1d(axis).tolist())
            outs += [tf.reduce_all(ph, axis, keepdims=keep), tf.reduce_any(ph, axis, keepdims=keep)]
            wants += [np.all(x, ax, keepdims=keep), np.any(x, ax, keepdims=keep)]
    for t, g, w in zip(outs, _run(outs, {ph: x}), wants):
        assert g.dtype == np.bool_ and tuple(t.shape.as_list()) == w.shape
        np.testing.assert_array_equal(g, w)
    e = tf.zeros([0, 2], tf.bool)
    assert _run([tf.reduce_all(e), tf.reduce_any(e)]) == [True, False]
    assert tf.reduce_all(ph).op.type == "All" and tf.reduce_any(ph).op.type == "Any"
    with pytest.raises(TypeError):
        tf.reduce_all(tf.constant([1.0]))


def test_reduce_logsumexp():
    x = (RNG.uniform(-2, 2, size=(3, 4)) * 300).astype(np.float32)  # exp would overflow
    x[1] = -np.inf
    ph = tf.placeholder(tf.float32, x.shape)
    outs = [tf.reduce_logsumexp(ph), tf.reduce_logsumexp(ph, 1), tf.reduce_logsumexp(ph, 0, True)]
    got = _run(outs, {ph: x})
    x64 = x.astype(np.float64)
    for g, axis, keep in zip(got, (None, 1, 0), (False, False, True)):
        m = np.max(x64, axis=axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        with np.errstate(divide="ignore"):  # the all -inf row: log(0) = -inf, as in TF
            want = np.log(np.sum(np.exp(x64 - m), axis=axis, keepdims=True)) + m
        want = want if keep else np.reshape(want, np.max(x64, axis=axis).shape)
        np.testing.assert_allclose(g, want, rtol=1e-6)
    assert outs[0].op.name.startswith("ReduceLogSumExp/")
    x0 = RNG.uniform(-2, 2, size=(3, 4))
    assert _grad_error(lambda v: tf.reduce_logsumexp(v, 1), x0) < 1e-7


# --- argmax / argmin --------------------------------------------------------------------------
def test_argmax_argmin_match_numpy():
    x = RNG.integers(0, 5, size=(4, 5, 6)).astype(np.float32)  # many ties: first index wins
    ph = tf.placeholder(tf.float32, x.shape)
    outs, wants = [], []
    for axis in (0, 1, 2, -1, -3):
        outs += [tf.argmax(ph, axis), tf.argmin(ph, axis, output_type=tf.int32)]
        wants += [np.argmax(x, axis), np.argmin(x, axis)]
    got = _run(outs, {ph: x})
    for t, g, w in zip(outs, got, wants):
        np.testing.assert_array_equal(g, w)
        assert tuple(t.shape.as_list()) == w.shape
    assert got[0].dtype == np.int64 and got[1].dtype == np.int32


def test_argmax_defaults_alias_and_names():
    x = tf.constant([[1, 9, 3], [7, 2, 8]])
    a = tf.argmax(x)
    assert a.op.name == "ArgMax" and a.dtype == tf.int64 and a.op.type == "ArgMax"
    np.testing.assert_array_equal(_run(a), [1, 0, 1])
    assert tf.argmin(x).op.name == "ArgMin"
    np.testing.assert_array_equal(_run(tf.argmin(x, dimension=1)), [0, 1])
    with pytest.raises(ValueError, match="Cannot specify both 'dimension' and 'axis'"):
        tf.argmax(x, axis=0, dimension=1)
    with pytest.raises(ValueError, match=r"Expected dimension in the range \[-2, 2\), but got 2"):
        tf.argmax(x, 2)


def test_argmax_nan_and_empty_axis():
    # TF never picks NaN (checked against TF 2.21): an all-NaN row gives 0
    x = tf.constant([[1.0, np.nan, 3.0], [2.0, 1.0, 0.5], [np.nan, 1.0, 3.0],
                     [np.nan, np.nan, np.nan], [-np.inf, np.nan, -np.inf], [np.nan, -np.inf, 1]])
    np.testing.assert_array_equal(_run(tf.argmax(x, 1)), [2, 0, 2, 0, 0, 2])
    np.testing.assert_array_equal(_run(tf.argmin(x, 1)), [0, 2, 1, 0, 0, 1])
    np.testing.assert_array_equal(_run(tf.argmax(x, 0)), [1, 1, 0])
    e = tf.placeholder(tf.float32, [2, None])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"Reduction axis 1 is empty in shape \[2,0\]"):
            sess.run(tf.argmax(e, 1), {e: np.zeros((2, 0), np.float32)})


def test_argmax_not_differentiable():
    x = tf.placeholder(tf.float32, [3])
    y = tf.cast(tf.argmax(x), tf.float32)
    assert tf.gradients(y, x) == [None]


# --- add_n ------------------------------------------------------------------------------------
def test_add_n_values_and_names():
    vals = [RNG.standard_normal((2, 3)).astype(np.float32) for _ in range(4)]
    s = tf.add_n([tf.constant(v) for v in vals])
    assert s.op.type == "AddN" and s.op.name == "AddN" and len(s.op.inputs) == 4
    np.testing.assert_allclose(_run(s), np.sum(vals, axis=0), rtol=1e-6)
    x = tf.constant(vals[0])
    assert tf.add_n([x]) is x
    named = tf.add_n([x], name="one")
    assert named.op.type == "Identity" and named.op.name == "one"
    ints = tf.add_n([tf.constant([1, 2]), tf.constant([3, 4]), tf.constant([5, 6])])
    np.testing.assert_array_equal(_run(ints), [9, 12])


def test_add_n_errors():
    with pytest.raises(ValueError, match="inputs must be a list of at least one"):
        tf.add_n([])
    with pytest.raises(ValueError, match="Dimension 0 in both shapes must be equal"):
        tf.add_n([tf.constant([1.0, 2.0]), tf.constant([1.0, 2.0, 3.0])])
    with pytest.raises(TypeError):
        tf.add_n([tf.constant([1.0]), tf.constant([1])])
    a, b = tf.placeholder(tf.float32), tf.placeholder(tf.float32)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="same size and shape"):
            sess.run(tf.add_n([a, b]), {a: [1.0, 2.0], b: [1.0]})


# --- unsorted_segment_sum ---------------------------------------------------------------------
def _segment_truth(data, ids, n):
    out = np.zeros((n,) + data.shape[ids.ndim:], data.dtype)
    for idx in np.ndindex(*ids.shape):
        if ids[idx] >= 0:
            out[ids[idx]] += data[idx]
    return out


def test_unsorted_segment_sum_values():
    data = RNG.standard_normal((6, 3)).astype(np.float32)
    ids = np.array([0, 2, 0, -1, 2, 1], np.int32)
    s = tf.unsorted_segment_sum(tf.constant(data), tf.constant(ids), 4)
    assert s.op.name == "UnsortedSegmentSum" and s.shape.as_list() == [4, 3]
    np.testing.assert_allclose(_run(s), _segment_truth(data, ids, 4), rtol=1e-6)
    d3 = RNG.integers(-5, 5, size=(2, 3, 2)).astype(np.int64)
    ids2 = np.array([[0, 1, 0], [2, 2, 1]], np.int64)
    t = tf.unsorted_segment_sum(d3, ids2, 3)
    np.testing.assert_array_equal(_run(t), _segment_truth(d3, ids2, 3))


def test_unsorted_segment_sum_out_of_range():
    ids = tf.placeholder(tf.int32, [None])
    s = tf.unsorted_segment_sum(tf.constant([1.0, 2.0, 3.0]), ids, 3)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"segment_ids\[1\] = 7 is out of range \[0, 3\)"):
            sess.run(s, {ids: [0, 7, 1]})
    with pytest.raises(ValueError, match="must be equal"):
        tf.unsorted_segment_sum(tf.constant([1.0, 2.0, 3.0]), tf.constant([0, 1]), 2)


# --- broadcast_gradient_args -----------------------------------------------------------------
# expected values checked against tf.raw_ops.BroadcastGradientArgs (TF 2.21)
@pytest.mark.parametrize("s0,s1,r0,r1", [
    ([2, 3], [3], [], [0]), ([2, 1], [1], [1], [0, 1]), ([1], [1], [], []),
    ([], [1], [0], [0]), ([1, 1], [1, 1, 1], [0, 1, 2], [0, 1, 2]),
    ([4, 1, 3], [2, 1], [1], [0, 2]), ([], [5, 2], [0, 1], []), ([2, 3], [2, 3], [], [])])
def test_broadcast_gradient_args_tf_semantics(s0, s1, r0, r1):
    a, b = tf.placeholder(tf.int32, [None]), tf.placeholder(tf.int32, [None])
    g0, g1 = reduction_ops.broadcast_gradient_args(a, b)
    assert g0.op.type == "BroadcastGradientArgs"
    got = _run([g0, g1], {a: s0, b: s1})
    assert got[0].tolist() == r0 and got[1].tolist() == r1
    # summing a broadcast-shaped gradient over r_i gives back shape s_i (NumPy truth)
    full = np.ones(np.broadcast_shapes(tuple(s0), tuple(s1)))
    for s, r in ((s0, r0), (s1, r1)):
        assert full.sum(axis=tuple(r)).size == int(np.prod(s))


def test_broadcast_gradient_args_errors_and_static():
    a, b = tf.placeholder(tf.int32, [None]), tf.placeholder(tf.int32, [None])
    r = reduction_ops.broadcast_gradient_args(a, b)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"Incompatible shapes: \[2,3\] vs. \[4\]"):
            sess.run(r, {a: [2, 3], b: [4]})
    c0, c1 = reduction_ops.broadcast_gradient_args(tf.constant([2, 3]), tf.constant([3]))
    assert c0.shape.as_list() == [0] and c1.shape.as_list() == [1]
    assert tf.gradients(tf.cast(c1, tf.float32), a) == [None]


# --- gradients --------------------------------------------------------------------------------
def _grad_error(build, x0, delta=1e-6):
    """Max |analytic - central difference| Jacobian entry for y = build(x) in float64."""
    x = tf.placeholder(tf.float64, x0.shape)
    y = build(x)
    with tf.Session():
        return tf.test.compute_gradient_error(x, x0.shape, y, y.shape.as_list(),
                                              x_init_value=x0, delta=delta)


X0 = RNG.uniform(0.5, 1.5, size=(3, 4, 2)) * RNG.choice([-1, 1], size=(3, 4, 2))


@pytest.mark.parametrize("op", sorted(REDUCERS))
@pytest.mark.parametrize("axis,keep", [(None, False), (1, False), ([0, 2], True), (-1, True),
                                       ([], False), ([0, 1, 2], False)])
def test_reduction_gradients(op, axis, keep):
    fn = REDUCERS[op][0]
    assert _grad_error(lambda x: fn(x, axis, keepdims=keep), X0) < 1e-7


@pytest.mark.parametrize("op", ["Sum", "Mean", "Max", "Prod"])
def test_reduction_gradients_unknown_shapes(op):
    fn = REDUCERS[op][0]
    x = tf.placeholder(tf.float64, [None, 4, None])
    ax = tf.placeholder(tf.int32)
    outs = [fn(x, 1), fn(x, [0, -1], keepdims=True), fn(x, ax)]
    feed = {x: X0, ax: [0, 2]}
    with tf.Session() as sess:
        for y in outs:
            err = tf.test.compute_gradient_error(x, X0.shape, y, sess.run(y, feed).shape,
                                                 x_init_value=X0, delta=1e-6,
                                                 extra_feed_dict={ax: [0, 2]})
            assert err < 1e-7, y


def test_max_gradient_split_among_ties():
    x = tf.constant([[3.0, 1.0, 3.0], [2.0, 2.0, 2.0]], tf.float64)
    g, = tf.gradients(tf.reduce_max(x, 1), x)
    np.testing.assert_allclose(_run(g), [[0.5, 0.0, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    g2, = tf.gradients(tf.reduce_min(x), x)
    np.testing.assert_allclose(_run(g2), [[0, 1, 0], [0, 0, 0]])


def test_prod_gradient_with_zeros():
    x0 = np.array([[2.0, 0.0, 3.0, 4.0], [0.0, 5.0, 0.0, 1.0], [1.5, 2.0, -1.0, 0.5]])
    x = tf.constant(x0)
    g, = tf.gradients(tf.reduce_prod(x, 1), x)
    want = np.array([[np.prod(np.delete(r, j)) for j in range(4)] for r in x0])
    np.testing.assert_allclose(_run(g), want)


def test_second_order_gradients():
    # d2/dx2 of prod and mean-of-squares style compositions: Hessian-vector vs differences
    def prod_grad(x):
        return tf.gradients(tf.reduce_prod(x, 1), x)[0]

    def max_grad(x):
        return tf.gradients(tf.reduce_sum(tf.reduce_max(x, 0) * tf.reduce_mean(x, 0)), x)[0]

    def sum_grad(x):
        return tf.gradients(tf.reduce_sum(tf.reduce_sum(x, 1) * tf.reduce_sum(x, 1)), x)[0]

    x0 = RNG.uniform(0.5, 1.5, size=(3, 4))
    for build in (prod_grad, max_grad, sum_grad):
        assert _grad_error(build, x0) < 1e-6, build.__name__


def test_add_n_and_segment_sum_gradients():
    x0 = RNG.standard_normal((4, 3))
    assert _grad_error(lambda x: tf.add_n([x, x * x, x]), x0) < 1e-7
    ids = np.array([1, -1, 0, 1], np.int32)
    assert _grad_error(lambda x: tf.unsorted_segment_sum(x, ids, 3), x0) < 1e-7
    assert _grad_error(lambda x: tf.unsorted_segment_sum(x, np.array([0, 2, 2, 1]), 3),
                       x0) < 1e-7


def test_segment_sum_gradient_unknown_ranks():
    x, ids = tf.placeholder(tf.float64), tf.placeholder(tf.int32)
    w = RNG.standard_normal((3, 2))
    y = tf.reduce_sum(tf.unsorted_segment_sum(x, ids, 3) * w)
    g, = tf.gradients(y, x)
    ids0 = np.array([2, -1, 0, 2])
    got = _run(g, {x: RNG.standard_normal((4, 2)), ids: ids0})
    want = np.where((ids0 >= 0)[:, None], w[np.maximum(ids0, 0)], 0.0)
    np.testing.assert_allclose(got, want)


def test_namespaces():
    for name in reduction_ops.MATH_API:
        assert getattr(tf.math, name) is getattr(reduction_ops, name)
        assert getattr(tf, name) is getattr(reduction_ops, name)
