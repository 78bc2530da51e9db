"""The fused Apply*/SparseApply* ops against the NumPy formulas of spec optimizers.md §4.

Several steps on random data, float32/float64/float16 and 0-d to 2-D shapes;
sparse ops apply the dense formula row by row in index order (duplicates twice)
and leave every other row, slots included, untouched. Kernel-time errors
(uninitialized values, shapes, scalars, indices) and build-time shape errors.
"""
import numpy as np
import pytest

import graphflow as tf
from graphflow.ops import training_ops as T

from . import np_reference as R

# op -> (builder, slot count, slot value ranges, hyperparameters, NumPy update)
# builder(var, slots, hyper, grad) builds the op; the NumPy update takes
# (var, *slots, grad, *hyper) and returns (var, *slots).
ANY, POS = (-0.5, 0.5), (0.05, 0.6)  # slot value ranges (accumulators stay positive)
DENSE = {
    "ApplyGradientDescent": (lambda v, s, h, g: T.apply_gradient_descent(v, h[0], g), 0, [],
                             [0.1], lambda v, g, lr: R.gradient_descent(v, g, lr)),
    "ApplyMomentum": (lambda v, s, h, g: T.apply_momentum(v, s[0], h[0], g, h[1]), 1, [ANY],
                      [0.1, 0.9], R.momentum),
    "ApplyMomentumNesterov": (
        lambda v, s, h, g: T.apply_momentum(v, s[0], h[0], g, h[1], use_nesterov=True), 1, [ANY],
        [0.1, 0.9], lambda v, a, g, lr, m: R.momentum(v, a, g, lr, m, nesterov=True)),
    "ApplyAdagrad": (lambda v, s, h, g: T.apply_adagrad(v, s[0], h[0], g), 1, [POS], [0.1],
                     R.adagrad),
    "ApplyAdadelta": (lambda v, s, h, g: T.apply_adadelta(v, s[0], s[1], h[0], h[1], h[2], g),
                      2, [POS, POS], [1.0, 0.95, 1e-6], R.adadelta),
    "ApplyAdam": (lambda v, s, h, g: T.apply_adam(v, s[0], s[1], *h, g), 2, [ANY, POS],
                  [0.81, 0.998, 0.1, 0.9, 0.999, 1e-7], R.adam),
    "ApplyFtrl": (lambda v, s, h, g: T.apply_ftrl(v, s[0], s[1], g, *h), 2, [POS, ANY],
                  [0.1, 0.01, 0.05, -0.5], R.ftrl),
    "ApplyFtrlPower": (lambda v, s, h, g: T.apply_ftrl(v, s[0], s[1], g, *h), 2, [POS, ANY],
                       [0.1, 0.001, 0.0, -0.7], R.ftrl),
    "ApplyFtrlV2": (lambda v, s, h, g: T.apply_ftrl_v2(v, s[0], s[1], g, *h), 2, [POS, ANY],
                    [0.1, 0.01, 0.05, 0.1, -0.5],
                    lambda v, a, lin, g, lr, l1, l2, l2s, p: R.ftrl(v, a, lin, g, lr, l1, l2, p,
                                                                     l2_shrinkage=l2s)),
    "ApplyRMSProp": (lambda v, s, h, g: T.apply_rms_prop(v, s[0], s[1], *h, g), 2, [POS, ANY],
                     [0.1, 0.9, 0.5, 1e-10], R.rms_prop),
    "ApplyCenteredRMSProp": (lambda v, s, h, g: T.apply_centered_rms_prop(v, *s, *h, g), 3,
                             [ANY, (1.0, 2.0), ANY], [0.1, 0.9, 0.5, 1e-3],
                             R.centered_rms_prop),
}

SPARSE = {
    "SparseApplyMomentum": (lambda v, s, h, g, i: T.sparse_apply_momentum(v, s[0], h[0], g, i,
                                                                           h[1]), "ApplyMomentum"),
    "SparseApplyAdagrad": (lambda v, s, h, g, i: T.sparse_apply_adagrad(v, s[0], h[0], g, i),
                           "ApplyAdagrad"),
    "SparseApplyAdadelta": (lambda v, s, h, g, i: T.sparse_apply_adadelta(v, s[0], s[1], *h, g,
                                                                           i), "ApplyAdadelta"),
    "SparseApplyFtrl": (lambda v, s, h, g, i: T.sparse_apply_ftrl(v, s[0], s[1], g, i, *h),
                        "ApplyFtrl"),
    "SparseApplyFtrlV2": (lambda v, s, h, g, i: T.sparse_apply_ftrl_v2(v, s[0], s[1], g, i, *h),
                          "ApplyFtrlV2"),
    "SparseApplyRMSProp": (lambda v, s, h, g, i: T.sparse_apply_rms_prop(v, s[0], s[1], *h, g,
                                                                          i), "ApplyRMSProp"),
    "SparseApplyCenteredRMSProp": (lambda v, s, h, g, i: T.sparse_apply_centered_rms_prop(
        v, *s, *h, g, i), "ApplyCenteredRMSProp"),
}

TOL = {np.float32: dict(rtol=2e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-14),
       np.float16: dict(rtol=2e-2, atol=2e-3)}


def _slot_values(spec, n, shape, dtype, rng):
    return [np.asarray(rng.uniform(lo, hi, shape), dtype=dtype) for lo, hi in spec[2][:n]]


def _build(builder, var0, slots0, hyper, dtype, sparse_rows=None):
    var = tf.Variable(var0, name="var")
    slots = [tf.Variable(s, name="slot") for s in slots0]
    h = [tf.constant(x, dtype=tf.as_dtype(dtype)) for x in hyper]
    g = tf.placeholder(tf.as_dtype(dtype))
    if sparse_rows is None:
        return var, slots, builder(var, slots, h, g), g, None
    idx = tf.placeholder(tf.int32, [None])
    return var, slots, builder(var, slots, h, g, idx), g, idx


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("shape", [(3, 4), (), (7,)])
@pytest.mark.parametrize("name", sorted(DENSE))
def test_dense_matches_numpy(name, shape, dtype):
    spec = DENSE[name]
    builder, nslots, _, hyper, ref = spec
    rng = np.random.RandomState(1)
    var0 = rng.uniform(-1, 1, shape).astype(dtype)
    slots0 = _slot_values(spec, nslots, shape, dtype, rng)
    var, slots, upd, g, _ = _build(builder, var0, slots0, hyper, dtype)
    assert upd.dtype == var.dtype and upd.op.type == name.replace("Nesterov", "").replace(
        "Power", "")
    work = np.float32 if dtype == np.float16 else dtype
    state = [var0.astype(work)] + [s.astype(work) for s in slots0]
    h = [work(x) for x in hyper]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(3):
            grad = rng.uniform(-1, 1, shape).astype(dtype)
            out = sess.run(upd, {g: grad})
            state = list(ref(*state, grad.astype(work), *h))
            if dtype == np.float16:  # the kernel stores float16 after each step
                state = [s.astype(np.float16).astype(np.float32) for s in state]
            got = sess.run([var] + slots)
            np.testing.assert_allclose(out, got[0])
            for a, b in zip(got, state):
                assert a.dtype == dtype
                np.testing.assert_allclose(a, b, **TOL[dtype])


@pytest.mark.parametrize("name", sorted(SPARSE))
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_sparse_rows_match_numpy(name, index_dtype):
    builder, dense_name = SPARSE[name]
    spec = DENSE[dense_name]
    _, nslots, _, hyper, ref = spec
    rng = np.random.RandomState(2)
    shape = (6, 3)
    var0 = rng.uniform(-1, 1, shape).astype(np.float32)
    slots0 = _slot_values(spec, nslots, shape, np.float32, rng)
    var = tf.Variable(var0, name="var")
    slots = [tf.Variable(s, name="slot") for s in slots0]
    h = [tf.constant(x, dtype=tf.float32) for x in hyper]
    g = tf.placeholder(tf.float32, [None, 3])
    idx = tf.placeholder(tf.as_dtype(index_dtype), [None])
    upd = builder(var, slots, h, g, idx)
    assert upd.op.type == name
    indices = np.array([4, 0, 4, 2], dtype=index_dtype)  # a duplicate: applied twice
    grad = rng.uniform(-1, 1, (4, 3)).astype(np.float32)
    state = [var0.copy()] + [s.copy() for s in slots0]
    hs = [np.float32(x) for x in hyper]
    for k, r in enumerate(indices):
        rows = ref(*[s[r] for s in state], grad[k], *hs)
        for s, new in zip(state, rows):
            s[r] = new
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(upd, {g: grad, idx: indices})
        got = sess.run([var] + slots)
    for a, b, before in zip(got, state, [var0] + slots0):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)
        np.testing.assert_array_equal(a[[1, 3, 5]], before[[1, 3, 5]])  # untouched rows


def test_sparse_one_dimensional_and_empty_indices():
    var = tf.Variable([1.0, 2.0, 3.0], name="v")
    acc = tf.Variable([0.1, 0.1, 0.1], name="acc")
    g = tf.placeholder(tf.float32, [None])
    idx = tf.placeholder(tf.int32, [None])
    upd = T.sparse_apply_adagrad(var, acc, 0.5, g, idx)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(upd, {g: np.zeros(0, np.float32), idx: np.zeros(0, np.int32)})
        np.testing.assert_array_equal(sess.run(var), [1, 2, 3])
        sess.run(upd, {g: [1.0], idx: [1]})
        acc1 = np.float32(0.1) + np.float32(1)
        np.testing.assert_allclose(sess.run(var), [1, 2 - 0.5 / np.sqrt(acc1), 3], rtol=1e-6)


def test_gradient_aliasing_the_variable_buffer():
    """grad = var (same buffer at run time): every element reads before it writes."""
    w = tf.Variable([1.0, -2.0, 4.0], name="w")
    acc = tf.Variable(tf.zeros([3]), name="acc")
    upd = T.apply_momentum(w, acc, 0.25, w.value(), 0.5)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(upd)
        np.testing.assert_allclose(sess.run(w), [0.75, -1.5, 3.0])
        np.testing.assert_allclose(sess.run(acc), [1.0, -2.0, 4.0])


def test_op_declaration_flags():
    from graphflow.framework.op_def import NOT_DIFFERENTIABLE, get_op_def
    for name in ["ApplyGradientDescent", "ApplyAdam", "SparseApplyCenteredRMSProp"]:
        d = get_op_def(name)
        assert d.stateful and d.grad is NOT_DIFFERENTIABLE and d.mutates == d.ref_inputs
    assert get_op_def("ApplyAdam").ref_inputs == (0, 1, 2)
    assert get_op_def("ApplyCenteredRMSProp").ref_inputs == (0, 1, 2, 3)


# --- errors ---------------------------------------------------------------------------
def _run_expect(op, feeds, cls, text):
    with tf.Session() as sess:
        for v in tf.global_variables():
            if v.op.name != "uninit":
                sess.run(v.initializer)
        with pytest.raises(cls) as e:
            sess.run(op, feeds)
    assert text in str(e.value)
    assert "[[{{node %s}}]]" % op.op.name in str(e.value)


def test_uninitialized_slot_is_failed_precondition():
    w = tf.Variable([1.0, 2.0], name="w")
    acc = tf.Variable([0.0, 0.0], name="uninit")
    upd = T.apply_momentum(w, acc, 0.1, [1.0, 1.0], 0.9)
    _run_expect(upd, {}, tf.errors.FailedPreconditionError,
                "Attempting to use uninitialized value uninit")


def test_kernel_shape_errors():
    w = tf.Variable([1.0, 2.0], name="w")
    acc = tf.Variable([0.1, 0.1], name="acc")
    g = tf.placeholder(tf.float32)
    lr = tf.placeholder(tf.float32)
    _run_expect(T.apply_adagrad(w, acc, 0.1, g), {g: [1.0, 2.0, 3.0]},
                tf.errors.InvalidArgumentError, "var and grad do not have the same shape[2] [3]")
    _run_expect(T.apply_gradient_descent(w, lr, [1.0, 1.0]), {lr: [0.1, 0.2]},
                tf.errors.InvalidArgumentError, "alpha is not a scalar: [2]")
    acc3 = tf.Variable(tf.placeholder_with_default([0.1, 0.1, 0.1], [None]), name="acc3",
                       validate_shape=False)
    _run_expect(T.apply_adagrad(w, acc3, 0.1, [1.0, 1.0]), {}, tf.errors.InvalidArgumentError,
                "var and accum do not have the same shape[2] [3]")


def test_sparse_kernel_errors():
    emb = tf.Variable(np.zeros((4, 2), np.float32), name="emb")
    acc = tf.Variable(np.ones((4, 2), np.float32), name="acc")
    g = tf.placeholder(tf.float32)
    idx = tf.placeholder(tf.int32)
    upd = T.sparse_apply_adagrad(emb, acc, 0.1, g, idx)
    ok = np.ones((2, 2), np.float32)
    _run_expect(upd, {g: ok, idx: [1, 4]}, tf.errors.InvalidArgumentError,
                "Index 4 at offset 1 in indices is out of range")
    _run_expect(upd, {g: ok, idx: [-1, 0]}, tf.errors.InvalidArgumentError,
                "Index -1 at offset 0 in indices is out of range")
    _run_expect(upd, {g: ok, idx: [0, 1, 2]}, tf.errors.InvalidArgumentError,
                "grad must be the same size as indices in the first dimension.")
    _run_expect(upd, {g: np.ones((2, 3), np.float32), idx: [0, 1]},
                tf.errors.InvalidArgumentError, "var and grad must match in dimension 1")
    _run_expect(upd, {g: ok, idx: [[0, 1]]}, tf.errors.InvalidArgumentError,
                "indices must be one-dimensional")


def test_build_time_errors():
    w = tf.Variable([1.0, 2.0], name="w")
    acc = tf.Variable([0.1, 0.1, 0.1], name="acc")
    with pytest.raises(ValueError, match="Dimension 0 in both shapes must be equal"):
        T.apply_gradient_descent(w, 0.1, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Dimension 0 in both shapes must be equal"):
        T.apply_adagrad(w, acc, 0.1, [1.0, 2.0])
    with pytest.raises(ValueError, match="Shape must be rank 0 but is rank 1"):
        T.apply_gradient_descent(w, [0.1], [1.0, 2.0])
    with pytest.raises(TypeError, match="mutable tensor"):
        T.apply_gradient_descent(tf.constant([1.0, 2.0]), 0.1, [1.0, 2.0])
    with pytest.raises(TypeError):
        T.apply_gradient_descent(w, 0.1, tf.constant([1.0, 2.0], tf.float64))
    emb = tf.Variable(np.zeros((4, 2), np.float32), name="emb")
    eacc = tf.Variable(np.zeros((4, 2), np.float32), name="eacc")
    with pytest.raises(ValueError):
        T.sparse_apply_adagrad(emb, eacc, 0.1, np.ones((2, 3), np.float32), [0, 1])
    with pytest.raises(TypeError, match="indices"):
        T.sparse_apply_adagrad(emb, eacc, 0.1, np.ones((2, 2), np.float32),
                               tf.constant([0.0, 1.0]))
