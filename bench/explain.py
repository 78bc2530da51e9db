"""Why is a workload slow? cProfile's top entries and a per-op trace of graphflow's runs.

    python bench/explain.py W2-SGD              # cProfile of 10 calls + per-op-type trace
    python bench/explain.py W5 --calls 50 --top 20
    python bench/explain.py W7-ADD_N            # W7 parts: W7-ADD_N, W7-TREE, W7-ACCUMULATE_N

Builds graphflow's version of a timed workload (bench/workloads.py), makes
the cold call, then (1) profiles ``--calls`` calls with cProfile and prints
the top entries by own time, and (2) repeats them with every
``Session.run`` traced (``RunOptions(trace_level=FULL_TRACE)`` and
``RunMetadata``, the public API) and prints the time per op type (the
timeline label's type; a fused step is charged to the op the tracer names)
summed over the traced runs, with the number of steps per run. Tracing adds
a little per-step overhead of its own.
"""
from __future__ import annotations

import argparse
import cProfile
import collections
import os
import pstats
import re
import sys
import time
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))

from workloads import WORKLOADS  # noqa: E402


def graphflow_callable(key: str) -> Callable[[], Any]:
    """graphflow's one-unit callable for a timed workload or a W7 part."""
    if key.startswith("W7-"):
        import w7_aggregation
        method = {"ADD_N": "ADD_N", "TREE": "EXPERIMENTAL_TREE",
                  "ACCUMULATE_N": "EXPERIMENTAL_ACCUMULATE_N"}[key[3:]]
        return w7_aggregation._build(method)("graphflow")
    wl = WORKLOADS[key]
    if wl.build is None:
        raise SystemExit("%s is measured in child processes; profile one of the timed "
                         "workloads (%s) or W7-<method>"
                         % (key, ", ".join(k for k, w in WORKLOADS.items() if w.build)))
    return wl.build("graphflow")


def traced(fn: Callable[[], Any], calls: int) -> tuple:
    """Run ``fn`` ``calls`` times with every Session.run traced; (per-type stats, steps)."""
    import graphflow as tf
    from graphflow.runtime.session import BaseSession
    orig = BaseSession.run
    metas: list = []

    def run(self: Any, fetches: Any, feed_dict: Any = None, options: Any = None,
            run_metadata: Any = None) -> Any:
        md = tf.RunMetadata()
        out = orig(self, fetches, feed_dict=feed_dict,
                   options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                   run_metadata=md)
        metas.append(md)
        return out

    BaseSession.run = run
    try:
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        wall = time.perf_counter() - t0
    finally:
        BaseSession.run = orig
    per_type: dict = collections.defaultdict(lambda: [0, 0.0])
    steps = 0
    for md in metas:
        for dev in md.step_stats.dev_stats:
            for ns in dev.node_stats:
                m = re.match(r"[^=]*= (\w+)", ns.timeline_label or "")
                kind = m.group(1) if m else ns.node_name
                per_type[kind][0] += 1
                per_type[kind][1] += ns.all_end_rel_nanos / 1e9 if ns.all_end_rel_nanos \
                    else ns.all_end_rel_micros / 1e6
                steps += 1
    return per_type, steps / max(1, len(metas)), wall, len(metas)


def main(argv: Any = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("workload", help="a timed workload key (W1, W2-SGD, W3, W5) or W7-<method>")
    p.add_argument("--calls", type=int, default=10)
    p.add_argument("--top", type=int, default=15)
    p.add_argument("--no-trace", action="store_true")
    args = p.parse_args(argv)
    fn = graphflow_callable(args.workload)
    t0 = time.perf_counter()
    fn()
    print("cold call %.3f s; load %s" % (time.perf_counter() - t0,
                                         "/".join("%.2f" % x for x in os.getloadavg())))
    pr = cProfile.Profile()
    t0 = time.perf_counter()
    pr.enable()
    for _ in range(args.calls):
        fn()
    pr.disable()
    wall = time.perf_counter() - t0
    print("cProfile: %d calls, %.3f ms per call (profiled)" % (args.calls,
                                                              wall / args.calls * 1e3))
    pstats.Stats(pr).sort_stats("tottime").print_stats(args.top)
    if not args.no_trace:
        per_type, steps, wall, runs = traced(fn, args.calls)
        print("trace: %d Session.run calls, %.3f ms per call (traced), %.0f steps per run"
              % (runs, wall / max(1, runs) * 1e3, steps))
        print("%-28s %8s %12s %10s" % ("op type", "steps", "ms per run", "share"))
        total = sum(v[1] for v in per_type.values()) or 1.0
        for kind, (n, t) in sorted(per_type.items(), key=lambda kv: -kv[1][1])[:args.top]:
            print("%-28s %8.1f %12.3f %9.1f%%" % (kind, n / max(1, runs), t / max(1, runs) * 1e3,
                                                 100 * t / total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
