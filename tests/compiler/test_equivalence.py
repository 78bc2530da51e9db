"""Every pass preserves results: random DAGs of elementwise (broadcasting),
matmul and reduction ops, with shared subexpressions, constant subgraphs and
no-op arithmetic, give the same values with all passes on and all off, and
both equal a float64 NumPy evaluation."""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphflow as tf
from compiler_util import session

UNARY = {
    "tanh": (tf.tanh, np.tanh),
    "sigmoid": (tf.sigmoid, lambda a: 1 / (1 + np.exp(-a))),
    "neg": (tf.negative, np.negative),
    "abs": (tf.abs, np.abs),
    "relu": (tf.nn.relu, lambda a: np.maximum(a, 0)),
    "sin": (tf.sin, np.sin),
    "gauss": (lambda t: tf.exp(-t * t), lambda a: np.exp(-a * a)),
    "half": (lambda t: t * 0.5, lambda a: a * 0.5),
    "plus1": (lambda t: t + 1.0, lambda a: a + 1.0),
    "times1": (lambda t: t * 1.0, lambda a: a),
    "plus0": (lambda t: t + 0.0, lambda a: a),
    "identity": (tf.identity, lambda a: a),
    "softplus": (tf.nn.softplus, lambda a: np.logaddexp(0, a)),
}
BINARY = {
    "add": (tf.add, np.add), "sub": (tf.subtract, np.subtract),
    "mul": (tf.multiply, np.multiply), "max": (tf.maximum, np.maximum),
    "min": (tf.minimum, np.minimum),
}
SHAPES = lambda m, n: [(m, n), (n,), (m, 1), (), (1, n)]  # noqa: E731


@st.composite
def programs(draw):
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    shapes = SHAPES(m, n)
    leaves = []
    for i in range(draw(st.integers(1, 3))):
        shape = draw(st.sampled_from(shapes))
        const = i > 0 and draw(st.booleans())
        leaves.append((shape, const))
    ops = []
    for _ in range(draw(st.integers(1, 14))):
        kind = draw(st.sampled_from(["unary"] * 4 + ["binary"] * 4 + ["matmul", "reduce",
                                                                       "repeat"]))
        ops.append((kind, draw(st.integers(0, 10 ** 6)), draw(st.integers(0, 10 ** 6)),
                    draw(st.integers(0, 10 ** 6))))
    return m, n, leaves, ops, draw(st.integers(0, 2 ** 31 - 1))


def build(prog, dtype):
    """(fetches, feeds, float64 truths) of a program in the default graph."""
    m, n, leaves, ops, seed = prog
    rng = np.random.default_rng(seed)
    np_dt = tf.as_dtype(dtype).np
    vals, feeds = [], {}
    for i, (shape, const) in enumerate(leaves):
        v = rng.uniform(-2, 2, shape).astype(np_dt)
        t = tf.constant(v) if const else tf.placeholder(dtype, shape, name="in%d" % i)
        if not const:
            feeds[t] = v
        vals.append((t, v.astype(np.float64)))
    made = []
    for kind, a, b, c in ops:
        if kind == "repeat" and made:
            made.append(made[a % len(made)])
            f, args = made[-1]
        elif kind == "unary":
            name = sorted(UNARY)[b % len(UNARY)]
            f, args = ("u", name), (a % len(vals),)
        elif kind == "binary":
            i = a % len(vals)
            ok = [j for j, (_, v) in enumerate(vals) if _broadcasts(v.shape, vals[i][1].shape)]
            f, args = ("b", sorted(BINARY)[c % len(BINARY)]), (i, ok[b % len(ok)])
        elif kind == "matmul":
            two_d = [j for j, (_, v) in enumerate(vals) if v.ndim == 2]
            if not two_d:
                continue
            f, args = ("m", int(rng.integers(1 << 30))), (two_d[a % len(two_d)],)
        elif kind == "reduce":
            nd = [j for j, (_, v) in enumerate(vals) if v.ndim >= 1]
            if not nd:
                continue
            f, args = ("r", b % 2), (nd[a % len(nd)],)
        else:
            continue
        vals.append(_apply(f, [vals[i] for i in args], np_dt))
        made.append((f, args))
    picks = {len(vals) - 1} | {len(leaves) + (k % max(1, len(vals) - len(leaves)))
                               for k in (ops[0][1], ops[-1][2])}
    picks = sorted(p for p in picks if p < len(vals))
    return [vals[p][0] for p in picks], feeds, [vals[p][1] for p in picks]


def _broadcasts(a, b):
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def _apply(f, args, np_dt):
    kind, arg = f
    if kind == "u":
        tf_fn, np_fn = UNARY[arg]
        (t, v), = args
        return tf_fn(t), np_fn(v)
    if kind == "b":
        tf_fn, np_fn = BINARY[arg]
        (t, v), (u, w) = args
        return tf_fn(t, u), np_fn(v, w)
    if kind == "m":
        (t, v), = args
        w = np.random.default_rng(arg).uniform(-1, 1, (v.shape[1], v.shape[1])).astype(np_dt)
        return tf.matmul(t, tf.constant(w)) * 0.5, (v @ w.astype(np.float64)) * 0.5
    (t, v), = args
    if arg == 0:
        return tf.reduce_sum(t, axis=-1, keepdims=True), v.sum(axis=-1, keepdims=True)
    return tf.reduce_mean(t, axis=0), v.mean(axis=0)


def _run(prog, dtype, **switches):
    with tf.Graph().as_default():
        fetches, feeds, truth = build(prog, dtype)
        with session(**switches) as s:
            got = s.run(fetches, feeds)
            report = s.compiled_plan(fetches, feeds)
    return got, truth, report


TOL = {tf.float32: (2e-5, 2e-5), tf.float64: (1e-12, 1e-12)}


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(prog=programs(), dtype=st.sampled_from([tf.float32, tf.float64]))
def test_passes_on_equal_passes_off_and_numpy(prog, dtype):
    on, truth, report = _run(prog, dtype)
    off, _, report_off = _run(prog, dtype, off=True)
    assert report.num_steps <= report_off.num_steps
    rtol, atol = TOL[dtype]
    for a, b, want in zip(on, off, truth):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape == want.shape and a.dtype == b.dtype == dtype.np
        scale = 1 + np.max(np.abs(want), initial=0.0)
        np.testing.assert_allclose(a, b, rtol=rtol * 4, atol=atol * 4 * scale)
        np.testing.assert_allclose(a, want, rtol=rtol * 20, atol=atol * 20 * scale)
