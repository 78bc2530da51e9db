"""ApplyAdam's fast path (``kernels.training_kernels.apply_adam_nd``) and its fallbacks.

The fast path computes the bias-corrected step inside the kernel; it must give
the spec formula (optimizers.md §4.5, NumPy below) and the same bits as the
checked path (``ApplyAdam.call``, NumPy-scalar step), for float32/float64,
0-d to 2-D, with and without Nesterov and ``use_locking``. Whatever the fast
path does not take (float16, read-only or strided buffers, shape-[1] or
mistyped hyperparameters, bad shapes, uninitialized slots) goes through the
checked path with its results and TF errors.
"""
import numpy as np
import pytest

import graphflow as tf
from graphflow.errors import FailedPreconditionError, InvalidArgumentError, KernelError
from graphflow.framework.op_def import get_op_def
from graphflow.kernels import training_kernels as K
from graphflow.ops import training_ops as T
from graphflow.runtime.executor import SessionState, VariableCell

HYPER = (0.81, 0.998, 0.1, 0.9, 0.999, 1e-7)  # beta1_power, beta2_power, lr, beta1, beta2, eps
TOL = {np.float32: dict(rtol=2e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-14)}


def np_adam(var, m, v, g, b1p, b2p, lr, b1, b2, eps, nesterov=False):
    """Spec §4.5 in NumPy (TF1's ApplyAdam; Nesterov as TF's use_nesterov)."""
    one = lr.dtype.type(1)
    lr_t = lr * np.sqrt(one - b2p) / (one - b1p)
    m = m + (g - m) * (one - b1)
    v = v + (g * g - v) * (one - b2)
    step = (g * (one - b1) + b1 * m) if nesterov else m
    return var - step * lr_t / (np.sqrt(v) + eps), m, v


@pytest.fixture
def fast_calls(monkeypatch):
    """Counts the calls of the fast kernel that returned True (updates done)."""
    calls = []
    orig = K.apply_adam_nd

    def counting(*args):
        done = orig(*args)
        calls.append(done)
        return done
    monkeypatch.setattr(K, "apply_adam_nd", counting)
    return calls


def _values(shape, dtype, rng):
    var = rng.uniform(-1, 1, shape).astype(dtype)
    m = rng.uniform(-0.5, 0.5, shape).astype(dtype)
    v = rng.uniform(0.05, 0.6, shape).astype(dtype)
    return var, m, v


@pytest.mark.parametrize("use_locking", [False, True])
@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (7,), (3, 5)])
def test_fast_path_matches_spec(shape, dtype, nesterov, use_locking, fast_calls):
    rng = np.random.RandomState(3)
    var0, m0, v0 = _values(shape, dtype, rng)
    var, m, v = (tf.Variable(x, name=n) for x, n in ((var0, "w"), (m0, "m"), (v0, "v")))
    h = [tf.constant(x, dtype=tf.as_dtype(dtype)) for x in HYPER]
    g = tf.placeholder(tf.as_dtype(dtype), shape)
    upd = T.apply_adam(var, m, v, *h, g, use_locking=use_locking, use_nesterov=nesterov)
    state = [var0, m0, v0]
    hs = [dtype(x) for x in HYPER]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            grad = rng.uniform(-1, 1, shape).astype(dtype)
            out = sess.run(upd, {g: grad})
            state = list(np_adam(*state, grad, *hs, nesterov=nesterov))
            got = sess.run([var, m, v])
            np.testing.assert_array_equal(out, got[0])
            for a, b in zip(got, state):
                assert a.dtype == dtype and a.shape == shape
                np.testing.assert_allclose(a, b, **TOL[dtype])
    assert fast_calls == [True] * 3


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_kernel_same_bits_as_checked_path(dtype, nesterov):
    """In-kernel step size == the NumPy-scalar one: identical results, step after step."""
    rng = np.random.RandomState(4)
    fast = list(_values((4, 33), dtype, rng))
    slow = [x.copy() for x in fast]
    b1, b2 = dtype(0.9), dtype(0.999)
    b1p, b2p = b1, b2
    for step in range(5):
        grad = rng.standard_normal((4, 33)).astype(dtype)
        hyper = (b1p, b2p, dtype(10.0 ** -rng.uniform(1, 4)), b1, b2, dtype(1e-8))
        assert K.apply_adam_nd(*fast, grad, *hyper, nesterov)
        T.ApplyAdam.call([x.reshape(-1) for x in slow], grad.reshape(-1), list(hyper),
                         {"use_nesterov": nesterov})
        for a, b in zip(fast, slow):
            np.testing.assert_array_equal(a, b)
        b1p, b2p = b1p * b1, b2p * b2


def test_fast_kernel_refuses_mismatched_shapes():
    f = np.float32
    var, m, v = (np.ones((2, 3), f) for _ in range(3))
    before = var.copy()
    assert not K.apply_adam_nd(var, m, v, np.ones((3, 2), f), *(f(x) for x in HYPER), False)
    assert not K.apply_adam_nd(var, m[:1].copy(), v, np.ones((2, 3), f),
                               *(f(x) for x in HYPER), False)
    np.testing.assert_array_equal(var, before)


# --- the kernel callable directly: fallbacks to the checked path ------------------------
def _kernel(dtype=tf.float32, use_locking=False, nesterov=False):
    var = tf.Variable(np.zeros(3, dtype.as_numpy_dtype), name="w")
    m = tf.Variable(np.zeros(3, dtype.as_numpy_dtype), name="m")
    v = tf.Variable(np.zeros(3, dtype.as_numpy_dtype), name="v")
    h = [tf.placeholder(dtype) for _ in HYPER]
    upd = T.apply_adam(var, m, v, *h, tf.placeholder(dtype), use_locking=use_locking,
                       use_nesterov=nesterov)
    return get_op_def("ApplyAdam").kernel(upd.op, SessionState())


def _cell(a):
    c = VariableCell("c")
    c.value = a
    return c


def _case(rng, n=6, dtype=np.float32):
    var, m, v = _values((n,), dtype, rng)
    grad = rng.uniform(-1, 1, n).astype(dtype)
    return var, m, v, grad


def _run(fn, var, m, v, grad, hyper):
    cells = [_cell(x) for x in (var, m, v)]
    out = fn(*cells, *hyper, grad)
    assert out is cells[0]
    return [c.value for c in cells]


@pytest.mark.parametrize("use_locking", [False, True])
@pytest.mark.parametrize("variant", ["readonly_var", "strided_slot", "strided_grad",
                                     "hyper_shape_1", "hyper_float64", "fast",
                                     "fast_numpy_scalar"])
def test_kernel_fallbacks_give_spec_result(variant, use_locking, fast_calls):
    rng = np.random.RandomState(5)
    var, m, v, grad = _case(rng)
    want = np_adam(var, m, v, grad, *(np.float32(x) for x in HYPER))
    hyper = [np.array(x, np.float32) for x in HYPER]
    if variant == "readonly_var":
        var = var.copy()
        var.flags.writeable = False
    elif variant == "strided_slot":
        wide = np.zeros(12, np.float32)
        wide[::2] = m
        m = wide[::2]
    elif variant == "strided_grad":
        wide = np.zeros(12, np.float32)
        wide[::2] = grad
        grad = wide[::2]
    elif variant == "hyper_shape_1":
        hyper[2] = hyper[2].reshape(1)
    elif variant == "fast_numpy_scalar":
        hyper[5] = np.float32(HYPER[5])  # a NumPy scalar, not a 0-d array: still fast
    elif variant == "hyper_float64":
        hyper[0] = np.array(HYPER[0], np.float64)
    fn = _kernel(use_locking=use_locking)
    got = _run(fn, var, m, v, grad, hyper)
    for a, b in zip(got, want):
        assert a.dtype == np.float32 and a.flags.c_contiguous
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)
    assert (True in fast_calls) == variant.startswith("fast")


@pytest.mark.parametrize("use_locking", [False, True])
def test_kernel_errors_through_checked_path(use_locking):
    rng = np.random.RandomState(6)
    fn = _kernel(use_locking=use_locking)
    var, m, v, grad = _case(rng)
    hyper = [np.array(x, np.float32) for x in HYPER]
    cells = [_cell(x) for x in (var, m, v)]
    cells[2].value = None
    with pytest.raises(KernelError) as e:
        fn(*cells, *hyper, grad)
    assert e.value.cls is FailedPreconditionError
    with pytest.raises(KernelError) as e:
        _run(fn, var, m, v, grad[:4].copy(), hyper)
    assert e.value.cls is InvalidArgumentError and "same shape" in e.value.message
    with pytest.raises(KernelError) as e:
        _run(fn, var, m[:5].copy(), v, grad, hyper)
    assert e.value.cls is InvalidArgumentError and "same shape" in e.value.message
    bad = list(hyper)
    bad[1] = np.array([0.9, 0.9], np.float32)
    with pytest.raises(KernelError) as e:
        _run(fn, var, m, v, grad, bad)
    assert e.value.cls is InvalidArgumentError and "not a scalar" in e.value.message
    assert fn.check is not None


def test_float16_keeps_checked_path(fast_calls):
    rng = np.random.RandomState(7)
    var, m, v, grad = _case(rng, dtype=np.float16)
    fn = _kernel(dtype=tf.float16)
    hyper = [np.array(x, np.float16) for x in HYPER]
    want = np_adam(*(x.astype(np.float32) for x in (var, m, v, grad)),
                   *(np.float32(np.float16(x)) for x in HYPER))
    got = _run(fn, var, m, v, grad, hyper)
    for a, b in zip(got, want):
        assert a.dtype == np.float16
        np.testing.assert_allclose(a.astype(np.float32), b, rtol=2e-2, atol=2e-3)
    assert fast_calls == []


def test_optimizer_steps_use_fast_path(fast_calls):
    """AdamOptimizer.minimize on two variables: spec numbers, every update on the fast path."""
    w = tf.Variable(np.array([1.0, -2.0, 0.5], np.float32), name="w")
    b = tf.Variable(np.float32(0.25), name="b")
    loss = tf.reduce_sum(w * w) + b * b
    train = tf.train.AdamOptimizer(0.1, use_locking=True).minimize(loss)
    state = {k: [x, np.zeros_like(x), np.zeros_like(x)]
             for k, x in (("w", np.array([1.0, -2.0, 0.5], np.float32)),
                          ("b", np.array(0.25, np.float32)))}
    b1p, b2p = np.float32(0.9), np.float32(0.999)
    hs = [np.float32(x) for x in (0.1, 0.9, 0.999, 1e-8)]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
            for k, s in state.items():
                state[k] = list(np_adam(*s, 2 * s[0], b1p, b2p, *hs))
            b1p, b2p = b1p * hs[1], b2p * hs[2]
            got_w, got_b = sess.run([w, b])
            np.testing.assert_allclose(got_w, state["w"][0], rtol=2e-5, atol=1e-6)
            np.testing.assert_allclose(got_b, state["b"][0], rtol=2e-5, atol=1e-6)
    assert fast_calls == [True] * 6
