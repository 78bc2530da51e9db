"""Benchmark workloads: one function per (workload, engine).

A workload is registered with ``@workload(key, title, unit, number, targets)``
on a function ``build(engine) -> Callable[[], Any]`` that prepares one engine's
version of the job (graph building, session creation, compilation happen
here or in the first call, which the runner times separately as the cold
call) and returns a zero-argument callable doing one unit of work. It
returns the unit's result, which the runner compares across engines.
``build`` raises ``Unsupported`` when an engine has no version of the job.

Engines: ``graphflow``, ``numpy`` (hand-written), ``tensorflow``
(``tensorflow.compat.v1`` graph mode, eager disabled) and ``pytensor``.
To add a workload (W2 MLP training step, W3 elementwise chain, W4 scale,
W6 cold start, W7 aggregation) write one more decorated function here.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional

import numpy as np

ENGINES = ("graphflow", "numpy", "tensorflow", "pytensor")


class Unsupported(Exception):
    """The engine has no version of this workload (reported, not an error)."""


class Workload(NamedTuple):
    key: str
    title: str
    unit: str           # what one call of the built callable does, e.g. "call"
    number: int         # calls per timed repeat (the runner divides by it)
    targets: dict       # baseline engine -> max graphflow/baseline ratio (the goals)
    build: Callable[[str], Callable[[], Any]]
    rtol: float = 1e-4  # result agreement between engines


WORKLOADS: dict = {}


def workload(key: str, title: str, unit: str, number: int,
             targets: Optional[dict] = None, rtol: float = 1e-4) -> Callable:
    """Register ``build(engine)`` as workload ``key``."""
    def deco(build: Callable) -> Callable:
        WORKLOADS[key] = Workload(key, title, unit, number, dict(targets or {}), build, rtol)
        return build
    return deco


# --- engine modules (imported lazily; absent engines are reported) -----------------------
def tf1() -> Any:
    """``tensorflow.compat.v1`` in graph mode with reference variables, or Unsupported."""
    import os
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
    except ImportError as e:
        raise Unsupported("tensorflow not importable (%s); install the 'reference' extra"
                          % e) from None
    t = tf.compat.v1
    t.logging.set_verbosity(t.logging.ERROR)
    t.disable_eager_execution()
    t.disable_resource_variables()
    return t


def pytensor() -> Any:
    try:
        import pytensor as pt
        import pytensor.tensor  # noqa: F401
    except ImportError as e:
        raise Unsupported("pytensor not importable (%s)" % e) from None
    return pt


def graphflow() -> Any:
    import graphflow as gf
    return gf


# --- W1: per-call overhead ----------------------------------------------------------------
@workload("W1", "Session.run of c = a + b, two float32 scalar feeds", "call", 2000,
          targets={"tensorflow": 0.1})
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
          % (W5_STEPS, W5_N, W5_N), "run", 20, targets={"tensorflow": 1.0}, rtol=1e-3)
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
