"""Random ops: distribution checks against scipy/NumPy truth, ranges, seeding and
determinism (TF1 rules: graph + op seed fix the sequence, runs advance it, a
new session restarts it), and the Philox generator's published test vectors."""
import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

import graphflow as tf
from graphflow.kernels import random_kernels

N = 200_000


def run(t, n=1):
    with tf.Session() as sess:
        return [sess.run(t) for _ in range(n)] if n > 1 else sess.run(t)


def test_philox_known_answers():
    # Random123 kat_vectors for philox4x32-10
    u = np.uint64
    cases = [((0, 0, 0, 0), (0, 0), (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
             ((0xffffffff,) * 4, (0xffffffff,) * 2, (0x408f276d, 0x41c83b0e, 0xa20bc7c6,
                                                     0x6d5451fd)),
             ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
              (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1))]
    for ctr, key, want in cases:
        got = random_kernels.philox4x32(*[u(v) for v in ctr + key])
        assert tuple(int(v) for v in got) == want


def test_batched_generator_matches_scalar_philox():
    # the SIMD batch path (chunks of 512 blocks) must produce the scalar Philox words
    u = np.uint64
    k0, k1, start = u(123), u(456), u(2 ** 32 - 700)  # crosses a 32-bit counter carry
    n = 4 * 1100 + 3
    out = np.empty(n, np.float32)
    random_kernels.uniform32(out, k0, k1, start, 24)
    for b in (0, 511, 512, 699, 700, 1099, 1100):
        blk = int(start) + b
        words = random_kernels.philox4x32(u(blk & 0xFFFFFFFF), u(blk >> 32), u(0), u(0), k0, k1)
        want = np.array([int(w) >> 8 for w in words], np.float32) * np.float32(2.0 ** -24)
        np.testing.assert_array_equal(out[4 * b:4 * b + 4], want[:len(out[4 * b:4 * b + 4])])


@pytest.mark.parametrize("dt", [tf.float32, tf.float64, tf.float16])
def test_random_normal_distribution(dt):
    t = tf.random_normal([N], mean=2.0, stddev=3.0, dtype=dt, seed=11)
    assert t.dtype == dt and t.shape.as_list() == [N]
    x = run(t).astype(np.float64)
    assert abs(x.mean() - 2.0) < 5 * 3.0 / np.sqrt(N)
    assert abs(x.std() - 3.0) < 5 * 3.0 / np.sqrt(2 * N)
    if dt != tf.float16:
        assert stats.kstest((x - 2.0) / 3.0, "norm").pvalue > 1e-3


@pytest.mark.parametrize("dt", [tf.float32, tf.float64, tf.float16])
def test_random_uniform_distribution(dt):
    t = tf.random_uniform([N], minval=-1.0, maxval=3.0, dtype=dt, seed=7)
    x = run(t)
    assert x.dtype == dt.as_numpy_dtype
    assert x.min() >= -1.0 and x.max() < 3.0
    x = x.astype(np.float64)
    assert abs(x.mean() - 1.0) < 5 * 4 / np.sqrt(12 * N)
    if dt != tf.float16:
        assert stats.kstest(x, "uniform", args=(-1.0, 4.0)).pvalue > 1e-3


def test_random_uniform_default_range_and_shape_forms():
    for shape in ([3, 4], (3, 4), tf.TensorShape([3, 4]), tf.constant([3, 4])):
        x = run(tf.random_uniform(shape))
        assert x.shape == (3, 4) and x.min() >= 0 and x.max() < 1
    assert run(tf.random_uniform([])).shape == ()
    assert run(tf.random_normal([0, 5])).shape == (0, 5)


def test_dynamic_shape_from_placeholder():
    s = tf.placeholder(tf.int32, [2])
    t = tf.random_normal(s)
    assert t.shape.as_list() == [None, None]
    with tf.Session() as sess:
        assert sess.run(t, {s: [3, 7]}).shape == (3, 7)
        with pytest.raises(tf.errors.InvalidArgumentError, match="Dimension -1 must be >= 0"):
            sess.run(t, {s: [3, -1]})
    # a constant -1 is an unknown dimension at build time (TF's shape rule), an error at run
    u = tf.random_uniform([2, -1])
    assert u.shape.as_list() == [2, None]
    with pytest.raises(tf.errors.InvalidArgumentError, match="Dimension -1 must be >= 0"):
        run(u)


@pytest.mark.parametrize("dt", [tf.int32, tf.int64])
def test_random_uniform_int(dt):
    t = tf.random_uniform([N], minval=-3, maxval=4, dtype=dt, seed=2)
    assert t.op.type == "RandomUniformInt" and t.op.name == "random_uniform"
    x = run(t)
    assert x.dtype == dt.as_numpy_dtype
    counts = np.bincount(x + 3, minlength=7)
    assert x.min() == -3 and x.max() == 3 and len(counts) == 7
    assert stats.chisquare(counts).pvalue > 1e-3
    with pytest.raises(ValueError, match="Must specify maxval for integer dtype"):
        tf.random_uniform([2], dtype=dt)


def test_random_uniform_int_empty_range_is_an_error():
    hi = tf.placeholder(tf.int32, [])
    t = tf.random_uniform([3], minval=5, maxval=hi, dtype=tf.int32)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="Need minval < maxval, got 5 >= 5"):
            sess.run(t, {hi: 5})
        assert set(sess.run(t, {hi: 6})) == {5}


@pytest.mark.parametrize("dt", [tf.float32, tf.float64])
def test_truncated_normal(dt):
    x = run(tf.truncated_normal([N], mean=1.0, stddev=2.0, dtype=dt, seed=3)).astype(np.float64)
    assert x.min() >= 1.0 - 4.0 and x.max() <= 1.0 + 4.0
    truth = stats.truncnorm(-2, 2, loc=1.0, scale=2.0)
    assert abs(x.std() - truth.std()) < 5 * truth.std() / np.sqrt(2 * N)
    assert abs(x.mean() - 1.0) < 5 * truth.std() / np.sqrt(N)
    assert stats.kstest(x, truth.cdf).pvalue > 1e-3


def test_random_shuffle():
    v = np.arange(1000)
    x = run(tf.random_shuffle(v, seed=1))
    assert sorted(x) == list(v) and not np.array_equal(x, v)
    m = np.arange(30).reshape(10, 3)
    y = run(tf.random_shuffle(m))
    assert sorted(map(tuple, y)) == sorted(map(tuple, m))  # rows move intact
    assert run(tf.random_shuffle(np.float32(4.0))) == 4.0
    # uniform over permutations: position of element 0 across many runs
    t = tf.random_shuffle(np.arange(4), seed=9)
    with tf.Session() as sess:
        pos = [int(np.argmax(sess.run(t) == 0)) for _ in range(4000)]
    assert stats.chisquare(np.bincount(pos, minlength=4)).pvalue > 1e-3


def test_graph_names_and_seed_attrs():
    tf.set_random_seed(5)
    t = tf.random_normal([2], seed=9, name="noise")
    rnd = t.op.inputs[0].op.inputs[0].op
    assert t.op.name == "noise"
    assert rnd.type == "RandomStandardNormal" and rnd.name == "noise/RandomStandardNormal"
    assert (rnd.get_attr("seed"), rnd.get_attr("seed2")) == (5, 9)
    s = tf.random_shuffle([1, 2])
    assert s.op.get_attr("seed") == 5 and s.op.name == "RandomShuffle"


def test_random_ops_are_not_differentiable_but_scale_is():
    std = tf.constant(2.0)
    x = tf.random_normal([100], stddev=std, seed=4)
    rnd = x.op.inputs[0].op.inputs[0]
    g = tf.gradients(tf.reduce_sum(x), std)[0]
    with tf.Session() as sess:
        xv, rv, gv = sess.run([x, rnd, g])
    np.testing.assert_allclose(gv, rv.sum(), rtol=1e-5)
    from graphflow.framework.op_def import get_gradient_function
    for t in (rnd, tf.random_uniform([2]), tf.truncated_normal([2]), tf.random_shuffle([1]),
              tf.random_uniform([2], maxval=3, dtype=tf.int32)):
        op = t.op if t.op.type not in ("AddV2", "Add") else t.op.inputs[0].op.inputs[0].op
        assert get_gradient_function(op) is None


def test_runs_advance_and_sessions_restart():
    tf.set_random_seed(1)
    t = tf.random_normal([5])
    with tf.Session() as sess:
        a, b = sess.run(t), sess.run(t)
    with tf.Session() as sess:
        c = sess.run(t)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_op_seed_alone_is_deterministic_and_unseeded_is_not():
    a = run(tf.random_uniform([8], seed=3))
    b = run(tf.random_uniform([8], seed=3))  # same op seed, same graph seed (default)
    np.testing.assert_array_equal(a, b)
    t = tf.random_uniform([8])
    assert not np.array_equal(run(t), run(t))


def test_different_ops_get_different_streams():
    tf.set_random_seed(1)
    a, b = tf.random_normal([6]), tf.random_normal([6])
    x, y = run([a, b])
    assert not np.array_equal(x, y)


_SCRIPT = """
import graphflow as tf
tf.set_random_seed(1)
a = tf.random_normal([4])
b = tf.random_uniform([3], dtype=tf.float64)
c = tf.truncated_normal([3])
d = tf.random_shuffle(list(range(6)))
e = tf.random_uniform([3], maxval=100, dtype=tf.int64)
with tf.Session() as sess:
    for _ in range(2):
        print(repr([v.tolist() for v in sess.run([a, b, c, d, e])]))
"""


def test_same_numbers_in_fresh_processes():
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    outs = [subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True,
                           text=True, timeout=300) for _ in range(2)]
    for o in outs:
        assert o.returncode == 0, o.stderr
    first, second = outs[0].stdout.splitlines(), outs[1].stdout.splitlines()
    assert len(first) == 2 and first == second
    assert first[0] != first[1]  # a second run in the same session gives new numbers


def test_tf_random_namespace():
    assert tf.random.normal is tf.random_normal
    assert tf.random.uniform is tf.random_uniform
    assert tf.random.truncated_normal is tf.truncated_normal
    assert tf.random.shuffle is tf.random_shuffle
    tf.random.set_seed(3)
    assert tf.get_default_graph().seed == 3
    with pytest.raises(TypeError, match="not in list of allowed values"):
        tf.random_normal([2], dtype=tf.int32)
