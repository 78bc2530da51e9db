"""Learning-rate decays: every verified table of spec/training_utils.md §2 (float32),
float64 formulas against NumPy, names, dtype rules and argument errors."""
import math

import numpy as np
import pytest

import graphflow as tf

STEPS = [0, 1, 5, 9, 10, 11, 15, 25]

# spec/training_utils.md §2, "Verified values" (lr 0.1, decay_steps 10, rate 0.5)
SPEC = [
    ("exponential_decay", (0.5,), {},
     "0.100000001 0.0933033004 0.0707106814 0.0535886697 0.0500000007 0.0466516502 "
     "0.0353553407 0.0176776703"),
    ("exponential_decay", (0.5,), {"staircase": True},
     "0.100000001 0.100000001 0.100000001 0.100000001 0.0500000007 0.0500000007 "
     "0.0500000007 0.0250000004"),
    ("natural_exp_decay", (0.5,), {},
     "0.100000001 0.0951229483 0.0778800771 0.0637628138 0.0606530681 0.0576949827 "
     "0.0472366586 0.0286504813"),
    ("natural_exp_decay", (0.5,), {"staircase": True},
     "0.100000001 0.100000001 0.100000001 0.100000001 0.0606530681 0.0606530681 "
     "0.0606530681 0.0367879458"),
    ("inverse_time_decay", (0.5,), {},
     "0.100000001 0.0952381045 0.0799999982 0.068965517 0.0666666701 0.0645161346 "
     "0.0571428575 0.0444444455"),
    ("inverse_time_decay", (0.5,), {"staircase": True},
     "0.100000001 0.100000001 0.100000001 0.100000001 0.0666666701 0.0666666701 "
     "0.0666666701 0.0500000007"),
    ("polynomial_decay", (), {},
     "0.100000001 0.0900100023 0.0500500016 0.0100899963 9.99999975e-05 9.99999975e-05 "
     "9.99999975e-05 9.99999975e-05"),
    ("polynomial_decay", (0.01,), {"power": 2.0},
     "0.100000001 0.0828999951 0.0324999988 0.0108999992 0.00999999978 0.00999999978 "
     "0.00999999978 0.00999999978"),
    ("polynomial_decay", (0.01,), {"cycle": True},
     "0.100000001 0.0909999982 0.0549999997 0.0190000013 0.00999999978 0.050499998 "
     "0.0324999988 0.0250000022"),
    ("cosine_decay", (), {},
     "0.100000001 0.0975528285 0.049999997 0.00244716997 0 0 0 0"),
    ("cosine_decay", (), {"alpha": 0.1},
     "0.100000001 0.0977975428 0.054999996 0.0122024529 0.0100000007 0.0100000007 "
     "0.0100000007 0.0100000007"),
    ("cosine_decay_restarts", (), {},
     "0.100000001 0.0975528285 0.049999997 0.00244716997 0.100000001 0.0993844196 "
     "0.0853553414 0.0146446619"),
    ("linear_cosine_decay", (), {},
     "0.100100003 0.0878975466 0.0250999983 0.000344717002 0.000100000005 0.000100000005 "
     "0.000100000005 0.000100000005"),
]

# float32 precision at the scale of the learning rate (ulp(0.1) = 7.45e-9): the
# spec's numbers come from TF's float32 kernels, whose pow/cos may differ from
# ours by an ulp; 1 - cos near pi turns that ulp into a larger relative error.
ATOL, RTOL = 1.5e-8, 1e-6


def _values(tensor, step):
    with tf.Session() as sess:
        return np.array([sess.run(tensor, {step: s}) for s in STEPS])


@pytest.mark.parametrize("fn,args,kwargs,want", SPEC,
                         ids=["%s%s" % (f, "-" + ",".join(k) if k else "") for f, _, k, _ in SPEC])
def test_spec_table(fn, args, kwargs, want):
    step = tf.placeholder(tf.int32, [])
    lr = getattr(tf.train, fn)(0.1, step, 10, *args, **kwargs)
    assert lr.dtype == tf.float32 and lr.shape.ndims == 0
    got = _values(lr, step)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.array(want.split(), dtype=np.float32),
                               rtol=RTOL, atol=ATOL)


def test_piecewise_constant_spec_table():
    step = tf.placeholder(tf.int32, [])
    lr = tf.train.piecewise_constant(step, [5, 10], [1.0, 0.5, 0.1])
    np.testing.assert_allclose(_values(lr, step), [1, 1, 1, 0.5, 0.5, 0.1, 0.1, 0.1])
    assert lr.dtype == tf.float32 and lr.op.name == "PiecewiseConstant"
    assert tf.train.piecewise_constant_decay is tf.train.piecewise_constant


def _numpy_truth(fn, s, lr=0.1, d=10.0, rate=0.5):
    """The spec's formulas in float64."""
    if fn == "exponential":
        return lr * rate ** (s / d)
    if fn == "natural":
        return lr * math.exp(-rate * s / d)
    if fn == "inverse":
        return lr / (1 + rate * s / d)
    if fn == "polynomial_cycle":
        dd = d * (1 if s == 0 else math.ceil(s / d))
        return (lr - 0.01) * (1 - s / dd) ** 2 + 0.01
    if fn == "cosine":
        return lr * (0.5 * (1 + math.cos(math.pi * min(s, d) / d)))
    if fn == "restarts_t3":  # t_mul=3, m_mul=0.5, alpha=0.1
        f = s / d
        i = math.floor(math.log(1 - f * (1 - 3.0)) / math.log(3.0))
        f = (f - (1 - 3.0 ** i) / (1 - 3.0)) / 3.0 ** i
        c = 0.5 * 0.5 ** i * (1 + math.cos(math.pi * f))
        return lr * (0.9 * c + 0.1)
    if fn == "restarts_t1":  # t_mul=1
        f = s / d
        f -= math.floor(f)
        return lr * 0.5 * (1 + math.cos(math.pi * f))
    if fn == "linear_cosine":  # num_periods=2, alpha=0.2, beta=0.01
        ss = min(s, d)
        c = 0.5 * (1 + math.cos(math.pi * 2 * 2 * ss / d))
        return lr * ((0.2 + (d - ss) / d) * c + 0.01)
    raise KeyError(fn)


BUILDERS = {
    "exponential": lambda lr, s: tf.train.exponential_decay(lr, s, 10, 0.5),
    "natural": lambda lr, s: tf.train.natural_exp_decay(lr, s, 10, 0.5),
    "inverse": lambda lr, s: tf.train.inverse_time_decay(lr, s, 10, 0.5),
    "polynomial_cycle": lambda lr, s: tf.train.polynomial_decay(lr, s, 10, 0.01, power=2.0,
                                                                cycle=True),
    "cosine": lambda lr, s: tf.train.cosine_decay(lr, s, 10),
    "restarts_t3": lambda lr, s: tf.train.cosine_decay_restarts(lr, s, 10, t_mul=3.0,
                                                                 m_mul=0.5, alpha=0.1),
    "restarts_t1": lambda lr, s: tf.train.cosine_decay_restarts(lr, s, 10, t_mul=1.0),
    "linear_cosine": lambda lr, s: tf.train.linear_cosine_decay(lr, s, 10, num_periods=2,
                                                                alpha=0.2, beta=0.01),
}


@pytest.mark.parametrize("fn", sorted(BUILDERS))
def test_float64_learning_rate_matches_numpy(fn):
    """A float64 learning rate makes the whole schedule float64 (no float32 detour)."""
    step = tf.placeholder(tf.int64, [])
    lr = BUILDERS[fn](tf.constant(0.1, tf.float64), step)
    assert lr.dtype == tf.float64
    with tf.Session() as sess:
        for s in STEPS + [3, 37, 61]:
            got = sess.run(lr, {step: s})
            assert got.dtype == np.float64
            np.testing.assert_allclose(got, _numpy_truth(fn, s), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("fn", sorted(BUILDERS))
def test_float32_learning_rate_close_to_numpy(fn):
    step = tf.placeholder(tf.int32, [])
    lr = BUILDERS[fn](0.1, step)
    assert lr.dtype == tf.float32
    with tf.Session() as sess:
        for s in STEPS + [3, 37, 61]:
            np.testing.assert_allclose(sess.run(lr, {step: s}), _numpy_truth(fn, s),
                                       rtol=2e-6, atol=5e-8)


def test_tensor_t_mul_picks_the_right_branch():
    step = tf.placeholder(tf.int32, [])
    t_mul = tf.placeholder(tf.float32, [])
    lr = tf.train.cosine_decay_restarts(0.1, step, 10, t_mul=t_mul)
    with tf.Session() as sess:
        for s in (0, 7, 13, 25):
            np.testing.assert_allclose(sess.run(lr, {step: s, t_mul: 1.0}),
                                       _numpy_truth("restarts_t1", s), rtol=2e-6, atol=5e-8)
            f = s / 10.0
            i = math.floor(math.log(1 + f) / math.log(2.0))
            f = (f - (2.0 ** i - 1)) / 2.0 ** i
            np.testing.assert_allclose(sess.run(lr, {step: s, t_mul: 2.0}),
                                       0.05 * (1 + math.cos(math.pi * f)), rtol=2e-6, atol=5e-8)


def test_global_step_variable_and_training_loop():
    """The seed's idiom: an int variable as global_step, incremented each step."""
    gs = tf.Variable(0, trainable=False, dtype=tf.int64, name="global_step")
    lr = tf.train.exponential_decay(0.1, gs, 2, 0.96, staircase=True)
    inc = tf.assign_add(gs, 1)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        seen = []
        for _ in range(5):
            seen.append(sess.run(lr))
            sess.run(inc)
    want = [np.float32(0.1) * np.float32(0.96) ** np.floor(s / 2) for s in range(5)]
    np.testing.assert_allclose(seen, want, rtol=1e-6)


def test_python_int_step_and_tensor_parameters():
    lr = tf.train.exponential_decay(tf.constant(0.2), 5, tf.constant(10), tf.constant(0.25))
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(lr), 0.2 * 0.25 ** 0.5, rtol=1e-6)


def test_names_and_scopes():
    s = tf.constant(3)
    assert tf.train.exponential_decay(0.1, s, 10, 0.5).op.name == "ExponentialDecay"
    assert tf.train.exponential_decay(0.1, s, 10, 0.5).op.name == "ExponentialDecay_1"
    assert tf.train.natural_exp_decay(0.1, s, 10, 0.5).op.name == "ExponentialDecay_2"
    assert tf.train.inverse_time_decay(0.1, s, 10, 0.5).op.name == "InverseTimeDecay"
    assert tf.train.polynomial_decay(0.1, s, 10).op.name == "PolynomialDecay"
    assert tf.train.cosine_decay(0.1, s, 10).op.name == "CosineDecay"
    assert tf.train.cosine_decay_restarts(0.1, s, 10).op.name == "SGDRDecay"
    assert tf.train.linear_cosine_decay(0.1, s, 10).op.name == "LinearCosineDecay"
    assert tf.train.exponential_decay(0.1, s, 10, 0.5, name="lr").name == "lr:0"
    with tf.name_scope("outer"):
        assert tf.train.cosine_decay(0.1, s, 10).op.name == "outer/CosineDecay"


@pytest.mark.parametrize("fn,args", [
    ("exponential_decay", (10, 0.5)), ("natural_exp_decay", (10, 0.5)),
    ("inverse_time_decay", (10, 0.5)), ("polynomial_decay", (10,)), ("cosine_decay", (10,)),
    ("cosine_decay_restarts", (10,)), ("linear_cosine_decay", (10,))])
def test_global_step_none_raises(fn, args):
    with pytest.raises(ValueError, match="global_step is required for %s" % fn):
        getattr(tf.train, fn)(0.1, None, *args)


def test_piecewise_constant_errors_and_int64_promotion():
    with pytest.raises(ValueError, match="The length of boundaries should be 1 less than the "
                                         "length of values"):
        tf.train.piecewise_constant(tf.constant(1), [1, 2], [1.0, 2.0])
    x64 = tf.constant(7, tf.int64)
    with pytest.raises(ValueError) as e:
        tf.train.piecewise_constant(x64, [5.0], [1.0, 0.5])
    assert str(e.value) == ("Boundaries (<dtype: 'float32'>) must have the same dtype as x "
                            "(<dtype: 'int64'>).")
    with pytest.raises(ValueError) as e:
        tf.train.piecewise_constant(x64, [5], [1.0, 1])
    assert str(e.value) == ("Values must have elements all with the same dtype (<dtype: "
                            "'float32'> vs <dtype: 'int32'>).")
    lr = tf.train.piecewise_constant(x64, [5, 10], [1.0, 0.5, 0.1])  # int32 bounds promoted
    with tf.Session() as sess:
        assert sess.run(lr) == np.float32(0.5)


def test_piecewise_constant_float_x_and_int_values():
    x = tf.placeholder(tf.float32, [])
    out = tf.train.piecewise_constant(x, [0.5, 1.5, 2.5], [10, 20, 30, 40])
    assert out.dtype == tf.int32
    with tf.Session() as sess:
        got = [sess.run(out, {x: v}) for v in (-1.0, 0.5, 0.51, 1.5, 2.0, 2.5, 2.6, 9.0)]
    assert got == [10, 10, 20, 20, 30, 30, 40, 40]


def test_seed_blog_example_runs():
    """Seed 003's decay example with `import graphflow as tf` (tf.train namespace)."""
    global_step = tf.Variable(0, trainable=False)
    starter_learning_rate = 0.1
    learning_rate = tf.train.exponential_decay(starter_learning_rate, global_step,
                                               100000, 0.96, staircase=True)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(learning_rate) == np.float32(0.1)
        sess.run(tf.assign(global_step, 100000))
        np.testing.assert_allclose(sess.run(learning_rate), 0.096, rtol=1e-6)
