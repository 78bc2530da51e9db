"""W3: tanh(x*a + b) * sigmoid(x) + exp(-x*x) on 10M float32, one fused kernel.

    python bench/bench_w3.py                 # the table (medians, ratios)
    python bench/bench_w3.py --threshold     # serial vs prange by size

Engines: graphflow's generated kernel (kernels/codegen.py) serial and prange,
each with a preallocated output and through the launcher (allocates the
output, as a plan step does); NumPy by hand; the memory-bandwidth bound
(np.copyto of 40 MB: 40 MB read + 40 MB write); TF1 graph mode
(tensorflow.compat.v1, eager off) when TensorFlow imports. Rounds interleave
the engines so a change of machine load hits them alike; the load averages
are printed because this machine is shared. ``run_w3()`` returns the figures
for the suite runner.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402

from graphflow.kernels.elementwise import FusedLauncher  # noqa: E402

N = 10_000_000
A, B = 0.7, -0.2
# W3 as a fused group: inputs 0 = x (f), 1 = a (s), 2 = b (s); value 11 is the result.
W3_NODES = [("{0} * {1}", (0, 1)), ("{0} + {1}", (3, 2)), ("ftanh({0})", (4,)),
            ("fsigmoid({0})", (0,)), ("{0} * {1}", (5, 6)), ("{0} * {1}", (0, 0)),
            ("-{0}", (8,)), ("fexp({0})", (9,)), ("{0} + {1}", (7, 10))]


def w3_numpy(x: np.ndarray, a: np.float32, b: np.float32) -> np.ndarray:
    """The chain by hand in NumPy (float32 throughout)."""
    return np.tanh(x * a + b) * (np.float32(1) / (np.float32(1) + np.exp(-x))) + np.exp(-x * x)


def w3_launcher() -> FusedLauncher:
    return FusedLauncher(W3_NODES, 3, [11], np.float32, [np.float32])


def _tf_engines(x: np.ndarray) -> dict:
    """TF1 graph-mode sessions (x fed / x held in a variable), or {} without TF."""
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow.compat.v1 as tf
    except Exception:  # noqa: BLE001 - any import failure means "no baseline"
        return {}
    tf.disable_eager_execution()
    g = tf.Graph()
    with g.as_default():
        a = tf.constant(A, tf.float32)
        b = tf.constant(B, tf.float32)
        xp = tf.placeholder(tf.float32, [N])
        xv = tf.Variable(x)

        def chain(t):
            return tf.tanh(t * a + b) * tf.sigmoid(t) + tf.exp(-t * t)
        yp, yv = chain(xp), chain(xv)
        sess = tf.Session(graph=g)
        sess.run(tf.global_variables_initializer())
    return {"tf1 graph (x fed)": lambda: sess.run(yp, {xp: x}),
            "tf1 graph (x variable)": lambda: sess.run(yv)}


def _time(fn: Callable, number: int = 1) -> float:
    t = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t) / number


def run_w3(repeats: int = 15, with_tf: bool = True) -> dict:
    """Median seconds per call of each engine (and the max abs error vs float64)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(N).astype(np.float32)
    a, b = np.array([A], np.float32), np.array([B], np.float32)
    out = np.empty_like(x)
    dst = np.empty_like(x)
    fl = w3_launcher()
    serial = fl.bind([x.shape, a.shape, b.shape], parallel=False)
    par = fl.bind([x.shape, a.shape, b.shape], parallel=True)
    engines: dict = {
        "fused serial": lambda: serial.kernel(x, a, b, out),
        "fused prange": lambda: par.kernel(x, a, b, out),
        "fused launcher (allocates)": lambda: fl(x, a, b),
        "numpy by hand": lambda: w3_numpy(x, a[0], b[0]),
        "copy 40MB (np.copyto)": lambda: np.copyto(dst, x),
    }
    if with_tf:
        engines.update(_tf_engines(x))
    for fn in engines.values():  # compile / warm up
        fn()
    times: dict = {k: [] for k in engines}
    for _ in range(repeats):
        for k, fn in engines.items():
            times[k].append(_time(fn))
    x64 = x.astype(np.float64)
    exact = np.tanh(x64 * A + B) / (1 + np.exp(-x64)) + np.exp(-x64 * x64)
    serial.kernel(x, a, b, out)
    return {"median_s": {k: statistics.median(v) for k, v in times.items()},
            "min_s": {k: min(v) for k, v in times.items()},
            "max_abs_err_fused": float(np.abs(out - exact).max()),
            "max_abs_err_numpy": float(np.abs(w3_numpy(x, a[0], b[0]) - exact).max()),
            "loadavg": os.getloadavg()}


def threshold_table(sizes: Optional[list] = None, repeats: int = 30) -> list:
    """Serial vs prange time per size for W3 and for a cheap ``x*a + b``."""
    sizes = sizes or [2 ** k for k in range(10, 24, 1)]
    cheap = FusedLauncher([("{0} * {1} + {2}", (0, 1, 2))], 3, [3], np.float32, [np.float32])
    rows = []
    for name, fl in (("w3", w3_launcher()), ("x*a+b", cheap)):
        for n in sizes:
            x = np.random.default_rng(0).standard_normal(n).astype(np.float32)
            a, b = np.array([A], np.float32), np.array([B], np.float32)
            out = np.empty_like(x)
            ks = [fl.bind([x.shape, a.shape, b.shape], parallel=p).kernel for p in (False, True)]
            number = max(1, int(2e5 // n))
            for k in ks:
                k(x, a, b, out)
            ts: list = [[], []]
            for _ in range(repeats):
                for i, k in enumerate(ks):
                    ts[i].append(_time(lambda: k(x, a, b, out), number))
            rows.append((name, n, statistics.median(ts[0]), statistics.median(ts[1])))
    return rows


def _fmt(s: float) -> str:
    return "%.3g ms" % (s * 1e3) if s >= 1e-3 else "%.3g us" % (s * 1e6)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--no-tf", action="store_true")
    ap.add_argument("--threshold", action="store_true")
    args = ap.parse_args()
    import numba
    print("numba %s, %d threads (%s layer), load %s" % (
        numba.__version__, numba.get_num_threads(), numba.config.THREADING_LAYER,
        " ".join("%.2f" % v for v in os.getloadavg())))
    if args.threshold:
        for name, n, s, p in threshold_table():
            print("%-6s n=%-9d serial %-10s prange %-10s prange/serial %.2f"
                  % (name, n, _fmt(s), _fmt(p), p / s))
        return
    r = run_w3(args.repeats, not args.no_tf)
    med = r["median_s"]
    copy = med["copy 40MB (np.copyto)"]
    tf = med.get("tf1 graph (x fed)")
    print("%-28s %10s %10s %9s %9s" % ("engine", "median", "min", "/copy", "/tf(fed)"))
    for k, v in med.items():
        print("%-28s %10s %10s %9.2f %9s" % (k, _fmt(v), _fmt(r["min_s"][k]), v / copy,
                                             "%.3f" % (v / tf) if tf else "-"))
    print("max abs error vs float64: fused %.2e, numpy %.2e" % (
        r["max_abs_err_fused"], r["max_abs_err_numpy"]))
    print("load after: %s" % " ".join("%.2f" % v for v in r["loadavg"]))


if __name__ == "__main__":
    main()
