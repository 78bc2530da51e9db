"""W7: gradient aggregation -- one 1000x1000 float32 tensor with 64 consumers.

``x`` is a variable; consumer i is a slice of 40 rows starting at row 15 i
(``tf.slice``: the slices overlap and differ, so no pass merges them),
``loss = add_n([reduce_sum(square(slice_i))])``, and one unit is
``sess.run(tf.gradients(loss, x, aggregation_method=M))`` for M in ADD_N,
EXPERIMENTAL_TREE and EXPERIMENTAL_ACCUMULATE_N. Each consumer's gradient
path is small (40x1000) until the Slice gradient pads it to a full 4 MB
term, so the 64 terms dominate memory: ADD_N needs all of them alive at
once, an accumulation can free each as it arrives. Timed against TF1 graph
mode and NumPy by hand (``grad[rows_i] += 2 x[rows_i]``). graphflow's peak live bytes per run come
from ``graphflow.runtime.memory.tracking()`` (``plan.peak_bytes``), with the
compiler's passes on (default ``ConfigProto``) and off
(``OptimizerOptions(opt_level=L0)``); the issue asks ACCUMULATE_N's peak
with passes off to be measurably below ADD_N's.
"""
from __future__ import annotations

import sys
from typing import Any, Callable

import numpy as np

from harness import Workload, add_target, custom, engine_module, gf_memory, run_timed

SIZE = 1000
CONSUMERS = 64
ROWS, STRIDE = 40, 15  # consumer i reads rows [STRIDE*i, STRIDE*i + ROWS)
METHODS = ("ADD_N", "EXPERIMENTAL_TREE", "EXPERIMENTAL_ACCUMULATE_N")


def w7_data() -> np.ndarray:
    return np.random.default_rng(7).uniform(-1, 1, (SIZE, SIZE)).astype(np.float32)


def build_session(tf: Any, method: str, config: Any = None) -> tuple:
    """(session, gradient tensor) for one aggregation method."""
    g = tf.Graph()
    with g.as_default():
        x = tf.Variable(w7_data(), name="x")
        terms = [tf.reduce_sum(tf.square(tf.slice(x, [STRIDE * i, 0], [ROWS, SIZE])))
                 for i in range(CONSUMERS)]
        loss = tf.add_n(terms)
        (grad,) = tf.gradients(loss, [x],
                               aggregation_method=getattr(tf.AggregationMethod, method))
        init = tf.global_variables_initializer()
    sess = tf.Session(graph=g, config=config)
    sess.run(init)
    return sess, grad


def passes_off_config(tf: Any) -> Any:
    """TF1's opt_level=L0: graphflow turns every compiler pass off."""
    return tf.ConfigProto(graph_options=tf.GraphOptions(optimizer_options=tf.OptimizerOptions(
        opt_level=tf.OptimizerOptions.L0)))


def numpy_w7() -> Callable[[], Any]:
    x = w7_data()

    def run() -> np.ndarray:
        grad = np.zeros_like(x)
        for i in range(CONSUMERS):
            rows = slice(STRIDE * i, STRIDE * i + ROWS)
            grad[rows] += np.float32(2) * x[rows]
        return grad
    return run


def _build(method: str) -> Callable[[str], Callable[[], Any]]:
    def build(engine: str) -> Callable[[], Any]:
        if engine == "numpy":
            return numpy_w7()
        tf = engine_module(engine)
        sess, grad = build_session(tf, method)
        fn = lambda: sess.run(grad)  # noqa: E731
        if engine == "graphflow":
            def after() -> dict:
                info = {"passes_on": gf_memory(sess, grad)}
                off, g2 = build_session(tf, method, passes_off_config(tf))
                info["passes_off"] = gf_memory(off, g2)
                off.close()
                return info
            fn.after = after
        return fn
    return build


@custom("W7", "aggregation: 64 slices of one 1000x1000 float32, tf.gradients per method")
def measure_w7(opts: Any) -> dict:
    parts = {}
    for method in METHODS:
        wl = Workload("W7", "W7 %s: gradient of 64 slices of a 1000x1000 tensor" % method,
                      "run", 5, {"tensorflow": (1 / 3, "3x faster than TF")}, _build(method),
                      1e-3)
        print("  W7 %s ..." % method, file=sys.stderr, flush=True)
        parts["W7-" + method.replace("EXPERIMENTAL_", "")] = run_timed(
            wl, list(opts.engines), opts.repeats, opts.scale)
    peaks = {}
    for key, rec in parts.items():
        info = rec["engines"].get("graphflow", {}).get("info", {})
        for mode in ("passes_on", "passes_off"):
            m = info.get(mode, {})
            rec["info"]["peak_bytes_" + mode] = m.get("measured_peak_bytes")
            rec["info"]["plan_peak_bytes_" + mode] = m.get("plan_peak_bytes")
        peaks[key] = rec["info"].get("peak_bytes_passes_off")
    add_n, acc = peaks.get("W7-ADD_N"), peaks.get("W7-ACCUMULATE_N")
    rec = parts["W7-ACCUMULATE_N"]
    add_target(rec, "peak bytes ACCUMULATE_N / ADD_N, passes off",
               acc / add_n if acc and add_n else None, 1.0,
               "ACCUMULATE_N's peak below ADD_N's", strict=True)
    return parts

