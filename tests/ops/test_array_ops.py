"""Array ops (array_ops, shape_ops, slicing_ops, concat_ops, selection_ops):
values against NumPy, static shapes against runtime shapes, TF's default
names, error classes and messages, and gradients against float64 central
differences."""
import numpy as np
import pytest

import graphflow as tf
from graphflow.framework.op_def import get_gradient_function

RNG = np.random.default_rng(7)
X = np.arange(60, dtype=np.float32).reshape(3, 4, 5)


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def _check(t, want, feed=None):
    """Value equals ``want``; the static shape is compatible (and exact when fully known)."""
    got = np.asarray(_run(t, feed))
    want = np.asarray(want)
    assert got.shape == want.shape, (t, got.shape, want.shape)
    assert t.shape.is_compatible_with(got.shape), (t, t.shape, got.shape)
    if t.shape.is_fully_defined():
        assert tuple(t.shape.as_list()) == got.shape
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    else:
        np.testing.assert_array_equal(got, want)
    return got


def _grad_error(x_val, fn):
    """max |theoretical - numerical| Jacobian entry of ``fn`` at float64 ``x_val``."""
    x = tf.placeholder(tf.float64, x_val.shape)
    y = fn(x)
    with tf.Session():
        return tf.test.compute_gradient_error(x, x_val.shape, y, y.shape.as_list(),
                                              x_init_value=x_val, delta=1e-6)


# --- names and types ---------------------------------------------------------------------
NAME_CASES = [
    (lambda x, p: tf.zeros([2, 3]), "zeros", "Const"),
    (lambda x, p: tf.ones([2]), "ones", "Const"),
    (lambda x, p: tf.zeros([100, 100]), "zeros", "Fill"),
    (lambda x, p: tf.ones(tf.shape(p)), "ones", "Fill"),
    (lambda x, p: tf.zeros_like(x), "zeros_like", "Const"),
    (lambda x, p: tf.zeros_like(p), "zeros_like", "ZerosLike"),
    (lambda x, p: tf.ones_like(x), "ones_like", "Fill"),
    (lambda x, p: tf.ones_like(p), "ones_like", "Fill"),
    (lambda x, p: tf.ones(3), "ones", "Fill"),
    (lambda x, p: tf.fill([2], 3.0), "Fill", "Fill"),
    (lambda x, p: tf.range(4), "range", "Range"),
    (lambda x, p: tf.stop_gradient(x), "StopGradient", "StopGradient"),
    (lambda x, p: tf.reshape(x, [-1]), "Reshape", "Reshape"),
    (lambda x, p: tf.transpose(x), "transpose", "Transpose"),
    (lambda x, p: tf.concat([x, x], 0), "concat", "ConcatV2"),
    (lambda x, p: tf.stack([x, x]), "stack", "Pack"),
    (lambda x, p: tf.slice(x, [0, 0, 0], [1, 1, 1]), "Slice", "Slice"),
    (lambda x, p: tf.strided_slice(x, [0], [1]), "StridedSlice", "StridedSlice"),
    (lambda x, p: x[0], "strided_slice", "StridedSlice"),
    (lambda x, p: tf.gather(x, [0]), "GatherV2", "GatherV2"),
    (lambda x, p: tf.expand_dims(x, 0), "ExpandDims", "ExpandDims"),
    (lambda x, p: tf.squeeze(p), "Squeeze", "Squeeze"),
    (lambda x, p: tf.shape(x), "Shape", "Const"),
    (lambda x, p: tf.shape(p), "Shape", "Shape"),
    (lambda x, p: tf.size(p), "Size", "Size"),
    (lambda x, p: tf.rank(p), "Rank", "Const"),
    (lambda x, p: tf.tile(x, [1, 1, 2]), "Tile", "Tile"),
    (lambda x, p: tf.one_hot([1], 3), "one_hot", "OneHot"),
    (lambda x, p: tf.pad(x, [[1, 0], [0, 0], [0, 0]]), "Pad", "Pad"),
    (lambda x, p: tf.pad(x, [[1, 0], [0, 0], [0, 0]], constant_values=1.0), "PadV2", "PadV2"),
    (lambda x, p: tf.pad(x, [[1, 0], [0, 0], [0, 0]], "reflect"), "MirrorPad", "MirrorPad"),
    (lambda x, p: tf.where(x > 1.0), "Where", "Where"),
    (lambda x, p: tf.where([True], [1], [2]), "Select", "Select"),
    (lambda x, p: tf.broadcast_to(1.0, [2]), "BroadcastTo", "BroadcastTo"),
    (lambda x, p: tf.invert_permutation([1, 0]), "InvertPermutation", "InvertPermutation"),
]


@pytest.mark.parametrize("fn,name,typ", NAME_CASES, ids=[c[1] + "-" + c[2] for c in NAME_CASES])
def test_default_name_and_type(fn, name, typ):
    x = tf.constant(X, name="x")
    p = tf.placeholder(tf.float32, [None, 5], name="p")
    t = fn(x, p)
    assert (t.op.name, t.op.type) == (name, typ)


def test_multi_output_names_and_input_constants():
    x = tf.constant(X)
    assert [t.name for t in tf.split(x, 3)] == ["split:0", "split:1", "split:2"]
    assert tf.split(x, [1, 2], 0)[1].name == "split_1:1"
    assert tf.split(x, [1, 2], 0)[0].op.type == "SplitV"
    assert [t.name for t in tf.unstack(x)] == ["unstack:0", "unstack:1", "unstack:2"]
    y, idx = tf.unique([1, 2, 1])
    assert (y.name, idx.name, y.op.type) == ("Unique:0", "Unique:1", "Unique")
    assert tf.reshape(x, [2, -1]).op.inputs[1].op.name == "Reshape/shape"
    assert tf.concat([x, x], 1, name="cc").op.inputs[-1].op.name == "cc/axis"
    assert tf.newaxis is None


# --- filled tensors, shapes, range -----------------------------------------------------------
def test_zeros_ones_fill_like():
    _check(tf.zeros([2, 3]), np.zeros((2, 3), np.float32))
    _check(tf.ones(3, dtype=tf.int64), np.ones(3, np.int64))
    _check(tf.zeros([2], tf.bool), np.zeros(2, bool))
    _check(tf.ones([]), np.float32(1))
    _check(tf.zeros([0, 4]), np.zeros((0, 4), np.float32))
    _check(tf.ones([40, 30]), np.ones((40, 30), np.float32))  # Fill path
    p = tf.placeholder(tf.int32, [None, 2])
    feed = {p: np.zeros((3, 2), np.int32)}
    _check(tf.zeros_like(p), np.zeros((3, 2), np.int32), feed)
    _check(tf.ones_like(p, dtype=tf.float64), np.ones((3, 2)), feed)
    _check(tf.zeros(tf.shape(p), tf.float32), np.zeros((3, 2), np.float32), feed)
    _check(tf.ones_like(tf.constant([True, False])), np.ones(2, bool))
    _check(tf.fill([2, 2], 7), np.full((2, 2), 7, np.int32))
    with pytest.raises(ValueError, match="partially known TensorShape"):
        tf.zeros([None, 2])
    n = tf.placeholder(tf.int32, [1])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Dimension -3 must be >= 0"):
        _run(tf.fill(n, 1.0), {n: [-3]})


def test_shape_size_rank():
    p = tf.placeholder(tf.float32, [None, 3, None])
    v = np.zeros((2, 3, 0), np.float32)
    _check(tf.shape(p), np.array([2, 3, 0], np.int32), {p: v})
    assert tf.shape(p, out_type=tf.int64).dtype == tf.int64
    _check(tf.size(p), np.int32(0), {p: v})
    u = tf.placeholder(tf.float32)
    _check(tf.rank(u), np.int32(3), {u: v})
    assert tf.shape(p).shape.as_list() == [3]
    _check(tf.shape(tf.constant(1.0)), np.zeros(0, np.int32))
    with pytest.raises(TypeError, match="out_type"):
        tf.shape(p, out_type=tf.float32)


@pytest.mark.parametrize("args,kw,want", [
    ((5,), {}, np.arange(5, dtype=np.int32)),
    ((2, 11, 3), {}, np.arange(2, 11, 3, dtype=np.int32)),
    ((10, 1, -4), {}, np.arange(10, 1, -4, dtype=np.int32)),
    ((3, 3), {}, np.zeros(0, np.int32)),
    ((0, 1.0, 0.25), {}, np.arange(0, 1.0, 0.25, dtype=np.float32)),
    ((1.5,), {}, np.arange(1.5, dtype=np.float32)),
    ((4,), {"dtype": tf.float64}, np.arange(4.0)),
    ((np.int64(2), 5), {}, np.arange(2, 5, dtype=np.int64)),
])
def test_range(args, kw, want):
    t = tf.range(*args, **kw)
    assert t.dtype == tf.as_dtype(want.dtype)
    _check(t, want)


def test_range_errors():
    with pytest.raises(ValueError, match="Requires delta != 0"):
        tf.range(0, 5, 0)
    with pytest.raises(ValueError, match="Requires start <= limit when delta > 0: 5/1"):
        tf.range(5, 1)
    lim = tf.placeholder(tf.int32, [])
    r = tf.range(3, lim)
    assert r.shape.as_list() == [None]
    _check(r, np.arange(3, 7, dtype=np.int32), {lim: 7})
    with pytest.raises(tf.errors.InvalidArgumentError, match="Requires start <= limit"):
        _run(r, {lim: 0})


def test_stop_gradient():
    x = tf.constant([1.0, 2.0])
    y = tf.stop_gradient(x * 3.0)
    _check(y, [3.0, 6.0])
    assert tf.gradients(tf.reduce_sum(y * x), x)[0] is not None
    assert tf.gradients(tf.reduce_sum(y), x) == [None]
    assert get_gradient_function(y.op) is None


# --- reshape family ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [[60], [-1], [3, -1], [5, 3, 4], [-1, 2, 5], [1, 60, 1]])
def test_reshape(shape):
    _check(tf.reshape(X, shape), X.reshape(shape))


def test_reshape_errors_and_partial_shapes():
    with pytest.raises(ValueError, match=r"Cannot reshape a tensor with 6 elements to shape "
                                         r"\[4\] \(4 elements\) for '\{\{node Reshape\}\}"):
        tf.reshape(tf.zeros([2, 3]), [4])
    with pytest.raises(ValueError, match="Dimension size must be evenly divisible by 4 but is "
                                         "6"):
        tf.reshape(tf.zeros([2, 3]), [4, -1])
    with pytest.raises(ValueError, match="Invalid value in tensor used for shape: -2"):
        tf.reshape(tf.zeros([2, 3]), [-2, 3])
    two = tf.reshape(tf.zeros([2, 3]), [-1, -1])  # TF: a run-time error
    assert two.shape.as_list() == [None, None]
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="Only one input size may be -1, not both 0 and 1"):
        _run(two)
    p = tf.placeholder(tf.float32, [None, 3])
    r = tf.reshape(p, [4])
    assert r.shape.as_list() == [4]
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="Input to reshape is a tensor with 6 values, but the requested "
                             "shape has 4") as e:
        _run(r, {p: np.zeros((2, 3))})
    assert str(e.value).endswith("[[{{node %s}}]]" % r.op.name)
    with pytest.raises(tf.errors.InvalidArgumentError, match="requires a multiple of 4"):
        _run(tf.reshape(p, [4, -1]), {p: np.zeros((2, 3))})
    # a shape list holding tensors is packed (TF's autopacking)
    q = tf.reshape(p, [tf.shape(p)[0], 3, -1])
    assert q.op.inputs[1].op.type == "Pack" and q.shape.as_list() == [None, 3, None]
    _check(q, np.zeros((2, 3, 1), np.float32), {p: np.zeros((2, 3))})
    assert tf.reshape(tf.zeros([4, 6]), [2, -1, 3]).shape.as_list() == [2, 4, 3]


def test_transpose_expand_squeeze():
    _check(tf.transpose(X), X.T)
    _check(tf.transpose(X, [1, 0, 2]), X.transpose(1, 0, 2))
    _check(tf.transpose(tf.constant(3.0)), np.float32(3))
    p = tf.placeholder(tf.float32)
    _check(tf.transpose(p), X.T, {p: X})
    dup = tf.transpose(X, [0, 0, 2])  # TF finds duplicates at run time
    assert dup.shape.as_list() == [3, 3, 5]
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"1 is missing from \{0,0,2\}\."):
        _run(dup)
    with pytest.raises(ValueError, match="perm dim 3 is out of range of input rank 3"):
        tf.transpose(X, [0, 1, 3])
    with pytest.raises(ValueError, match="Dimension must be 3 but is 2"):
        tf.transpose(X, [0, 1])
    for axis in (0, 1, 3, -1, -4):
        _check(tf.expand_dims(X, axis), np.expand_dims(X, axis))
    with pytest.raises(ValueError, match=r"dim 4 not in the interval \[-4, 3\]\."):
        tf.expand_dims(X, 4)
    with pytest.raises(ValueError, match=r"squeeze_dims\[0\] not in \[-3,3\)\."):
        tf.squeeze(X, [3])
    u = tf.placeholder(tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="Tried to expand dim index 4 for tensor with 3 dimensions."):
        _run(tf.expand_dims(u, 4), {u: X})
    with pytest.raises(ValueError, match="Must specify an axis"):
        tf.expand_dims(X)
    y = np.zeros((1, 2, 1, 3), np.float32)
    _check(tf.squeeze(y), y.squeeze())
    _check(tf.squeeze(y, [2]), y.squeeze(2))
    _check(tf.squeeze(y, axis=-4), y.squeeze(0))
    _check(tf.squeeze(np.zeros((1, 1))), np.float64(0))
    with pytest.raises(ValueError, match=r"Can not squeeze dim\[1\], expected a dimension of "
                                         r"1, got 2"):
        tf.squeeze(y, [1])
    q = tf.placeholder(tf.float32, [None, 2])
    assert tf.squeeze(q).shape.ndims is None
    assert tf.squeeze(q, [0]).shape.as_list() == [2]
    with pytest.raises(tf.errors.InvalidArgumentError, match="Can not squeeze dim"):
        _run(tf.squeeze(q, [0]), {q: np.zeros((3, 2))})


def test_tile_and_broadcast_to():
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    _check(tf.tile(a, [2, 3]), np.tile(a, (2, 3)))
    _check(tf.tile(a, [0, 1]), np.zeros((0, 3), np.int32))
    with pytest.raises(ValueError, match="Shape must be rank 2 but is rank 1"):
        tf.tile(a, [2])
    _check(tf.broadcast_to(np.arange(3.0), [2, 3]), np.broadcast_to(np.arange(3.0), (2, 3)))
    _check(tf.broadcast_to(a[:, :1], [4, 2, 5]), np.broadcast_to(a[:, :1], (4, 2, 5)))
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 2 and 4"):
        tf.broadcast_to(a, [4, 3])
    s = tf.placeholder(tf.int32, [2])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"Incompatible shapes: \[2,3\] vs. \[4,3\]"):
        _run(tf.broadcast_to(a, s), {s: [4, 3]})


# --- concat / stack / split --------------------------------------------------------------------
def test_concat_stack_unstack():
    a, b = X[:, :2], X[:, 2:]
    _check(tf.concat([a, b], 1), X)
    _check(tf.concat([a, b], -2), X)
    _check(tf.concat([X, X[:0]], 0), X)
    _check(tf.concat([X], 2), X)
    p = tf.placeholder(tf.float32, [3, None, 5])
    c = tf.concat([p, a], 1)
    assert c.shape.as_list() == [3, None, 5]
    _check(c, np.concatenate([b, a], 1), {p: b})
    with pytest.raises(ValueError, match=r"Dimension 1 in both shapes must be equal, but are "
                                         r"5 and 2"):
        tf.concat([X, X[:, :, :2]], 0)
    with pytest.raises(ValueError, match="Shape must be rank 3 but is rank 2"):
        tf.concat([X, X[0]], 0)
    with pytest.raises(ValueError, match="Can't concatenate scalars"):
        tf.concat([1.0, 2.0], 0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="ConcatOp"):
        _run(tf.concat([p, X], 0), {p: b})
    for axis in (0, 1, 3, -1):
        _check(tf.stack([X, X + 1], axis=axis), np.stack([X, X + 1], axis=axis))
    _check(tf.stack([1, 2]), np.array([1, 2], np.int32))
    with pytest.raises(ValueError, match="not in range"):
        tf.stack([X], axis=4)
    with pytest.raises(ValueError, match="Shapes must be equal rank"):
        tf.stack([X, X[0]])
    for axis in (0, 1, -1):
        outs = tf.unstack(X, axis=axis)
        for t, w in zip(outs, np.moveaxis(X, axis, 0)):
            _check(t, w)
    with pytest.raises(ValueError, match="Cannot infer argument `num` from shape"):
        tf.unstack(tf.placeholder(tf.float32, [None, 2]))


def test_split():
    for t, w in zip(tf.split(X, 2, axis=1), np.split(X, 2, axis=1)):
        _check(t, w)
    for t, w in zip(tf.split(X, [1, -1, 2], axis=-1), np.split(X, [1, 3], axis=-1)):
        _check(t, w)
    assert [t.shape.as_list() for t in tf.split(X, [3, 1], 1)] == [[3, 3, 5], [3, 1, 5]]
    with pytest.raises(ValueError, match="evenly divisible by 2 but is 3"):
        tf.split(X, 2)
    with pytest.raises(ValueError, match="Rank-0 tensors are not supported"):
        tf.split(X, np.array(2))
    p = tf.placeholder(tf.float32, [None])
    with pytest.raises(tf.errors.InvalidArgumentError, match="evenly divide"):
        _run(tf.split(p, 2), {p: np.zeros(3)})


# --- slicing -----------------------------------------------------------------------------------
def test_slice_and_strided_slice():
    _check(tf.slice(X, [1, 0, 2], [2, -1, 3]), X[1:3, :, 2:5])
    _check(tf.slice(X, [0, 4, 0], [-1, 0, -1]), X[:, 4:4, :])
    bad = tf.slice(X, [0, 0, 3], [1, 1, 3])  # out-of-range sizes fail at run time, as in TF
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"Expected size\[2\] in \[0, 2\], but got 3"):
        _run(bad)
    with pytest.raises(ValueError, match="Shape must be rank 2 but is rank 3"):
        tf.slice(X, [0, 0], [1, 1])
    _check(tf.strided_slice(X, [0, 3], [3, 0], [2, -1]), X[0:3:2, 3:0:-1])
    _check(tf.strided_slice(X, [0, 1], [0, 2], [1, 1], ellipsis_mask=1, shrink_axis_mask=2),
           X[..., 1])
    _check(tf.strided_slice(X, [1, 0], [0, 0], [1, 1], begin_mask=0, end_mask=1,
                            new_axis_mask=2), X[1:, np.newaxis])


KEYS = [
    0, -1, 2, slice(1, 3), slice(None, None, -1), slice(-2, None), slice(None, None, 2),
    (1, 2), (slice(None), 1), (Ellipsis, 1), (Ellipsis, slice(None, None, -2)), (None,),
    (slice(None), None, 1), (1, Ellipsis, None), (-1, slice(3, 0, -1), slice(None, None, 2)),
    slice(10, 20), slice(-10, 2), (0, 0, 0), Ellipsis, (None, Ellipsis, None),
    (slice(4, None, -2), -2), (), (slice(None, None, -3), slice(-1, -5, -2), -5),
    (np.int64(1), slice(np.int32(1), None)),
]


@pytest.mark.parametrize("key", KEYS, ids=[repr(k) for k in KEYS])
def test_getitem_matches_numpy(key):
    t = tf.constant(X)[key]
    _check(t, X[key])
    assert t.op.name == "strided_slice"


def test_getitem_tensor_indices_and_errors():
    i = tf.placeholder(tf.int32, [])
    p = tf.placeholder(tf.float32, [3, None, 5])
    feed = {p: X}
    for key_fn, want in [(lambda: p[i], X[2]), (lambda: p[:, i], X[:, 2]),
                         (lambda: p[i:], X[2:]), (lambda: p[..., i::-1], X[..., 2::-1])]:
        t = key_fn()
        feed[i] = 2
        _check(t, want, feed)
    assert p[i].shape.as_list() == [None, 5]
    assert p[:, 1].shape.as_list() == [3, 5]
    v = tf.placeholder(tf.float32)  # unknown rank
    assert v[0].shape.ndims is None
    for bad in ([0, 1], 1.5, tf.constant([1]), tf.constant(1.0), "a"):
        with pytest.raises(TypeError, match="Only integers, slices"):
            tf.constant(X)[bad]
    with pytest.raises(ValueError, match="slice index 3 of dimension 0 out of bounds"):
        tf.constant(X)[3]
    with pytest.raises(ValueError, match="slice index -1 of dimension 1 out of bounds"):
        tf.constant(X)[0, -5]
    with pytest.raises(ValueError, match="Index out of range"):
        tf.constant(X)[0, 0, 0, 0]
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="slice index 7 of dimension 0 out of bounds") as e:
        _run(p[i], {p: X, i: 7})
    assert "[[{{node strided_slice" in str(e.value)


# --- gather --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.float64, np.int64, np.bool_,
                                   np.uint8, np.complex64])
def test_gather_dtypes(dtype):
    params = (RNG.uniform(-4, 4, size=(5, 3, 2)) > 0 if dtype is np.bool_ else
              RNG.uniform(0, 9, size=(5, 3, 2))).astype(dtype)
    idx = np.array([[4, 0], [2, 2], [1, 4]], np.int32)
    for axis in (0, 1, -1, 2):
        ix = idx % params.shape[axis]
        _check(tf.gather(params, ix, axis=axis), np.take(params, ix, axis=axis))


def test_gather_edge_cases():
    _check(tf.gather(X, np.int64(2)), X[2])
    _check(tf.gather(X, np.zeros(0, np.int32)), X[:0])
    _check(tf.gather(X[:, :0], [1, 1]), X[[1, 1], :0])
    p = tf.placeholder(tf.float32, [None, 4, 5])
    g = tf.gather(p, [0], axis=1)
    assert g.shape.as_list() == [None, 1, 5]
    with pytest.raises(ValueError, match="Shape must be at least rank 4 but is rank 3"):
        tf.gather(X, [0], axis=3)
    with pytest.raises(TypeError):
        tf.gather(X, [0.5])


def test_gather_out_of_range_is_invalid_argument_and_session_survives():
    ids = tf.placeholder(tf.int32, [None])
    g = tf.gather(tf.constant([[1.0], [2.0], [3.0]]), ids)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            sess.run(g, {ids: [0, 7]})
        assert str(e.value) == "indices[1] = 7 is not in [0, 3)\n\t [[{{node GatherV2}}]]"
        assert e.value.op is g.op
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[0\] = -1 is not"):
            sess.run(g, {ids: [-1]})
        np.testing.assert_array_equal(sess.run(g, {ids: [2, 0]}), [[3.0], [1.0]])
    ids2 = tf.placeholder(tf.int64, [2, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1,0\] = 5 is not in "
                                                             r"\[0, 3\)"):
        _run(tf.gather(tf.constant([1, 2, 3]), ids2), {ids2: [[0, 1], [5, 0]]})


def test_gather_gradient_is_indexed_slices():
    emb = tf.constant(np.arange(8.0).reshape(4, 2))
    ids = tf.constant([0, 2, 0])
    w = np.array([[1, 2], [3, 4], [5, 6]], np.float64)
    g = tf.gradients(tf.reduce_sum(tf.gather(emb, ids) * w), emb)[0]
    assert type(g).__name__ == "IndexedSlices"
    assert g.indices is ids
    v = _run(g)
    np.testing.assert_array_equal(v.values, w)
    np.testing.assert_array_equal(v.indices, [0, 2, 0])
    np.testing.assert_array_equal(v.dense_shape, [4, 2])
    g2 = tf.gradients(tf.reduce_sum(tf.gather(emb, [[1, 1]])), emb)[0]
    v2 = _run(g2)
    np.testing.assert_array_equal(v2.indices, [1, 1])
    assert v2.values.shape == (2, 2)
    assert tf.gradients(tf.reduce_sum(tf.gather(emb, ids)), ids) == [None]


# --- selection -----------------------------------------------------------------------------------
def test_where_select_and_coordinates():
    x, y = np.arange(6.0).reshape(3, 2), -np.arange(6.0).reshape(3, 2)
    c = np.array([[True, False], [False, False], [True, True]])
    _check(tf.where(c, x, y), np.where(c, x, y))
    rows = np.array([True, False, True])
    _check(tf.where(rows, x, y), np.where(rows[:, None], x, y))
    _check(tf.where(False, x, y), y)
    with pytest.raises(ValueError, match="must both be non-None"):
        tf.where(c, x)
    with pytest.raises(ValueError):
        tf.where(np.array([True, False]), x, y)
    cp = tf.placeholder(tf.bool, [None])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Number of batches"):
        _run(tf.where(cp, x, y), {cp: [True]})


def test_where_coordinates():
    c = np.array([[True, False], [False, False], [True, True]])
    w = tf.where(c)
    assert w.dtype == tf.int64 and w.shape.as_list() == [None, 2]
    _check(w, np.argwhere(c))
    _check(tf.where(np.array([0, 3, 0, -1])), np.array([[1], [3]], np.int64))
    _check(tf.where(np.zeros((0, 3), bool)), np.zeros((0, 2), np.int64))
    assert get_gradient_function(w.op) is None


def test_one_hot():
    idx = np.array([[0, 3], [-1, 1]])
    want = (idx[..., None] == np.arange(3)).astype(np.float32)
    _check(tf.one_hot(idx, 3), want)
    _check(tf.one_hot(idx, 3, axis=0), np.moveaxis(want, -1, 0))
    _check(tf.one_hot([1, 5], 2, on_value=5, off_value=-1),
           np.array([[-1, 5], [-1, -1]], np.int32))
    t = tf.one_hot([0], 2, dtype=tf.float64)
    assert t.dtype == tf.float64
    _check(tf.one_hot([0], 2, on_value=True, off_value=False), np.array([[True, False]]))
    with pytest.raises(TypeError, match="does not match"):
        tf.one_hot([0], 2, on_value=1.0, dtype=tf.int32)
    with pytest.raises(TypeError, match="does not match"):
        tf.one_hot([0], 2, on_value=1, off_value=0.0)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"Expected axis to be -1 or between \[0, 2\)\.  But received: 3"):
        _run(tf.one_hot([0], 2, axis=3))
    with pytest.raises(ValueError, match="must be non-negative but is -1"):
        tf.one_hot([0], -1)
    assert get_gradient_function(t.op) is None


def test_unique():
    for x in ([1, 1, 2, 4, 4, 4, 7, 8, 8], [5, -1, 5, 0, -1], [3.5, 2.0, 3.5], []):
        arr = np.array(x, dtype=np.float32 if x and isinstance(x[0], float) else np.int32)
        y, idx = tf.unique(arr)
        yv, iv = _run([y, idx])
        seen = []
        for v in arr.tolist():
            if v not in seen:
                seen.append(v)
        np.testing.assert_array_equal(yv, np.array(seen, dtype=arr.dtype))
        np.testing.assert_array_equal(iv, [seen.index(v) for v in arr.tolist()])
        np.testing.assert_array_equal(yv[iv], arr)
        assert idx.shape.as_list() == [arr.size]
    assert tf.unique([1, 2], out_idx=tf.int64)[1].dtype == tf.int64
    with pytest.raises(ValueError, match="Shape must be rank 1 but is rank 2"):
        tf.unique([[1, 2]])
    xf = tf.constant([1.0, 2.0, 1.0])
    with pytest.raises(LookupError, match="No gradient defined for operation'Unique_"):
        tf.gradients(tf.reduce_sum(tf.unique(xf * 2.0)[0]), xf)


# --- pad ---------------------------------------------------------------------------------
@pytest.mark.parametrize("mode,np_mode", [("CONSTANT", "constant"), ("REFLECT", "reflect"),
                                          ("symmetric", "symmetric")])
def test_pad_modes(mode, np_mode):
    pads = [[1, 2], [3, 0], [0, 4]]
    _check(tf.pad(X, pads, mode), np.pad(X, pads, mode=np_mode))


def test_pad_constant_values_and_errors():
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    _check(tf.pad(a, [[1, 0], [0, 2]], constant_values=9),
           np.pad(a, [[1, 0], [0, 2]], constant_values=9))
    _check(tf.pad(np.float32(2), np.zeros((0, 2), np.int32)), np.float32(2))
    with pytest.raises(ValueError, match="Unknown padding mode: FOO"):
        tf.pad(a, [[0, 0], [0, 0]], "foo")
    with pytest.raises(ValueError, match="Shape must be rank 1 but is rank 2"):
        tf.pad(a, [[1, 1]])
    with pytest.raises(ValueError, match="Paddings must be non-negative"):
        tf.pad(a, [[1, 1], [0, -1]])
    pp = tf.placeholder(tf.int32, [2, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="paddings must be less than the "
                                                             "dimension size: 2, 0 not less "
                                                             "than 2"):
        _run(tf.pad(a, pp, "REFLECT"), {pp: [[2, 0], [0, 0]]})
    _check(tf.pad(a, pp, "SYMMETRIC"), np.pad(a, [[2, 0], [0, 0]], mode="symmetric"),
           {pp: [[2, 0], [0, 0]]})


# --- gradients vs central differences -------------------------------------------------------
GRAD_CASES = [
    ("getitem", (3, 4, 5), lambda x: x[1:, ::-2, 3]),
    ("getitem_newaxis", (3, 4), lambda x: x[None, ..., -1]),
    ("strided_slice", (4, 3), lambda x: tf.strided_slice(x, [3, 0], [0, 3], [-2, 2])),
    ("slice", (3, 4), lambda x: tf.slice(x, [1, 1], [-1, 2])),
    ("slice_dynamic_begin", (3, 4),
     lambda x: tf.slice(x, tf.placeholder_with_default([1, 0], [2]), [2, 3])),
    ("gather_axis0", (4, 3), lambda x: tf.gather(x, [3, 1, 3])),
    ("gather_axis1", (2, 4, 3), lambda x: tf.gather(x, [[0, 3], [3, 3]], axis=1)),
    ("concat", (2, 3), lambda x: tf.concat([x, 2.0 * x, x[:, :1]], 1)),
    ("stack_unstack", (2, 3), lambda x: tf.stack(tf.unstack(x, axis=1)[::-1], axis=0)),
    ("split", (4, 3), lambda x: tf.split(x, 2)[1] * 3.0),
    ("splitv", (4, 3), lambda x: tf.split(x, [1, -1], axis=1)[1]),
    ("reshape", (2, 6), lambda x: tf.reshape(x, [3, -1]) * tf.constant(np.arange(4.0))),
    ("transpose", (2, 3, 4), lambda x: tf.transpose(x, [2, 0, 1])),
    ("expand_squeeze", (3, 1), lambda x: tf.squeeze(tf.expand_dims(x, 0))),
    ("tile", (2, 3), lambda x: tf.tile(x, [2, 2]) * tf.constant(np.arange(24.0).reshape(4, 6))),
    ("broadcast_to", (3, 1), lambda x: tf.broadcast_to(x, [2, 3, 4])),
    ("pad", (2, 3), lambda x: tf.pad(x, [[1, 0], [2, 1]]) * 2.0),
    ("pad_reflect", (3, 4), lambda x: tf.pad(x, [[2, 1], [1, 3]], "REFLECT")),
    ("pad_symmetric", (3, 4), lambda x: tf.pad(x, [[3, 1], [0, 4]], "SYMMETRIC")),
    ("where", (2, 3), lambda x: tf.where([True, False], x, x * x)),
    ("fill", (), lambda x: tf.fill([2, 3], x)),
    ("identity", (3,), lambda x: tf.identity(x) + tf.placeholder_with_default(x, [3])),
]


@pytest.mark.parametrize("name,shape,fn", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients_match_central_differences(name, shape, fn):
    x = RNG.uniform(-1, 1, size=shape)
    assert _grad_error(x, fn) < 1e-6


def test_second_order_strided_slice_and_mirror_pad():
    """The gradient ops (StridedSliceGrad, MirrorPadGrad) are differentiable too."""
    x0 = RNG.uniform(-1, 1, size=(4, 3))

    def grad_of(f):
        def g(x):
            y = f(x)
            return tf.gradients(tf.reduce_sum(y * y), x)[0]
        return g
    assert _grad_error(x0, grad_of(lambda x: x[1::2, ::-1])) < 1e-6
    assert _grad_error(x0, grad_of(lambda x: tf.pad(x, [[2, 1], [1, 1]], "REFLECT"))) < 1e-6


def test_spec_gradient_examples():
    x = tf.constant([1.0, 2.0, 3.0, 4.0])
    a, _ = tf.split(x, 2)
    np.testing.assert_array_equal(_run(tf.gradients(3.0 * a, x)[0]), [3, 3, 0, 0])
    emb = tf.constant(np.arange(6.0).reshape(3, 2))
    l1 = tf.reduce_sum(tf.gather(emb, [0, 1]))
    l2 = tf.reduce_sum(tf.gather(emb, [1, 2]) * 2.0)
    v = _run(tf.gradients(l1 + l2, emb)[0])
    np.testing.assert_array_equal(v.values, [[1, 1], [1, 1], [2, 2], [2, 2]])
    np.testing.assert_array_equal(v.indices, [0, 1, 1, 2])
    np.testing.assert_array_equal(v.dense_shape, [3, 2])
    dense = _run(tf.gradients(l1 + tf.reduce_sum(3.0 * emb), emb)[0])
    np.testing.assert_array_equal(dense, [[4, 4], [4, 4], [3, 3]])


def test_fetched_views_do_not_alias_feeds_or_variables():
    """Reshape/ExpandDims/Squeeze may return views; fetched results are still copies."""
    p = tf.placeholder(tf.float32, [2, 3])
    a = np.zeros((2, 3), np.float32)
    for t in (tf.reshape(p, [6]), tf.expand_dims(p, 0), tf.squeeze(tf.expand_dims(p, 1))):
        r = _run(t, {p: a})
        r[...] = 5.0
        assert not a.any()
    v = tf.Variable(np.zeros((2, 3), np.float32))
    r = tf.reshape(v, [-1])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before = sess.run(r)
        sess.run(tf.assign_add(v, np.ones((2, 3), np.float32)))
        np.testing.assert_array_equal(before, np.zeros(6))
        np.testing.assert_array_equal(sess.run(r), np.ones(6))


def test_gather_of_gather_gradient_is_densified_once():
    emb = tf.constant(np.arange(8.0).reshape(4, 2))
    inner = tf.gather(emb, [0, 1, 3])
    g = tf.gradients(tf.reduce_sum(tf.gather(inner, [2, 2, 0]) * 2.0), emb)[0]
    v = _run(g)
    np.testing.assert_array_equal(v.indices, [0, 1, 3])
    np.testing.assert_array_equal(v.values, [[2, 2], [0, 0], [4, 4]])
