"""Benchmark workloads W1, W3, W5 and the registry of all of them.

Timed workloads are one ``@workload`` function each: ``build(engine)`` returns
a zero-argument callable doing one unit of work (see harness.py). Engines:
``graphflow``, ``numpy`` (hand-written), ``tensorflow``
(``tensorflow.compat.v1`` graph mode, eager and resource variables disabled)
and ``pytensor`` (skipped with a note when not importable). The other
workloads live in their own modules, imported at the end: W2 (w2_mlp.py),
W4 and W6 (w4_w6_processes.py: phases timed in fresh processes), W7
(w7_aggregation.py).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from harness import (ENGINES, WORKLOADS, Unsupported, engine_module,  # noqa: F401
                     graphflow, pytensor, tf1, workload)


# --- W1: per-call overhead ----------------------------------------------------------------
@workload("W1", "Session.run of c = a + b, two float32 scalar feeds", "call", 2000,
          targets={"tensorflow": (1 / 30, "1/30 of TF's per-call time")})
def w1(engine: str) -> Callable[[], Any]:
    if engine == "numpy":
        a32, b32 = np.float32, np.float32
        return lambda: np.add(a32(1.5), b32(2.25))
    if engine == "pytensor":
        pt = pytensor()
        a, b = pt.tensor.fscalar("a"), pt.tensor.fscalar("b")
        f = pt.function([a, b], a + b)
        return lambda: f(1.5, 2.25)
    tf = graphflow() if engine == "graphflow" else tf1()
    g = tf.Graph()
    with g.as_default():
        a = tf.placeholder(tf.float32, [], name="a")
        b = tf.placeholder(tf.float32, [], name="b")
        c = a + b
    sess = tf.Session(graph=g)
    return lambda: sess.run(c, feed_dict={a: 1.5, b: 2.25})


# --- W5: a long chain of small matmuls ------------------------------------------------------
W5_STEPS = 200
W5_N = 16


def _w5_data() -> tuple:
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, size=(W5_N, W5_N)).astype(np.float32)
    ws = [(rng.normal(0.0, 1.0, size=(W5_N, W5_N)) / np.sqrt(W5_N)).astype(np.float32)
          for _ in range(W5_STEPS)]
    return x, ws


@workload("W5", "chain of %d steps h = tanh(h @ W_i), %dx%d float32, one run"
          % (W5_STEPS, W5_N, W5_N), "run", 20,
          targets={"numpy": (0.8, "1.25x faster than numpy by hand")}, rtol=1e-3)
def w5(engine: str) -> Callable[[], Any]:
    x, ws = _w5_data()
    if engine == "numpy":
        def run() -> np.ndarray:
            h = x
            for w in ws:
                h = np.tanh(h @ w)
            return h
        return run
    if engine == "pytensor":
        pt = pytensor()
        xin = pt.tensor.fmatrix("x")
        h = xin
        for w in ws:
            h = pt.tensor.tanh(pt.tensor.dot(h, pt.tensor.constant(w)))
        f = pt.function([xin], h)
        return lambda: f(x)
    tf = graphflow() if engine == "graphflow" else tf1()
    g = tf.Graph()
    with g.as_default():
        xin = tf.placeholder(tf.float32, [W5_N, W5_N], name="x")
        h = xin
        for w in ws:
            h = tf.tanh(tf.matmul(h, tf.constant(w)))
    sess = tf.Session(graph=g)
    return lambda: sess.run(h, feed_dict={xin: x})


# --- W3: a long elementwise chain on large arrays -------------------------------------------
W3_N = 10_000_000
W3_A, W3_B = 0.7, -0.2


@workload("W3", "tanh(x*a + b) * sigmoid(x) + exp(-x*x), x fed, 10M float32", "run", 5,
          targets={"tensorflow": (0.25, "4x faster than TF")}, rtol=1e-5, extra=("copy",))
def w3(engine: str) -> Callable[[], Any]:
    x = np.random.default_rng(3).standard_normal(W3_N).astype(np.float32)
    if engine == "copy":  # the memory-bandwidth bound: 40 MB read + 40 MB write
        dst = np.empty_like(x)
        return lambda: np.copyto(dst, x)
    if engine == "numpy":
        a, b, one = np.float32(W3_A), np.float32(W3_B), np.float32(1)
        return lambda: np.tanh(x * a + b) * (one / (one + np.exp(-x))) + np.exp(-x * x)
    if engine == "pytensor":
        pytensor()
        raise AssertionError("pytensor version of W3 not written")
    tf = engine_module(engine)
    g = tf.Graph()
    with g.as_default():
        xp = tf.placeholder(tf.float32, [W3_N], name="x")
        a = tf.constant(W3_A, tf.float32, name="a")
        b = tf.constant(W3_B, tf.float32, name="b")
        y = tf.tanh(xp * a + b) * tf.sigmoid(xp) + tf.exp(-xp * xp)
    sess = tf.Session(graph=g)
    return lambda: sess.run(y, feed_dict={xp: x})


# the other workloads register themselves on import (order = table order)
import w2_mlp  # noqa: E402,F401
import w4_w6_processes  # noqa: E402,F401
import w7_aggregation  # noqa: E402,F401

_ORDER = ("W1", "W2-SGD", "W2-Adam", "W3", "W4", "W5", "W6", "W7")
_rest = {k: v for k, v in WORKLOADS.items() if k not in _ORDER}
_sorted = {k: WORKLOADS[k] for k in _ORDER if k in WORKLOADS}
WORKLOADS.clear()
WORKLOADS.update(_sorted)
WORKLOADS.update(_rest)
