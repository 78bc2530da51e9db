"""Run graphflow's benchmark suite against its baselines; print times and target ratios.

    python bench/run.py                      # every workload, every available engine
    python bench/run.py --only W2,W3         # W2 means W2-SGD and W2-Adam
    python bench/run.py --quick              # smoke run: 3 rounds of 1/5 the calls, W4 N=200
    python bench/run.py --only W4 --w4-n 1000

Timed workloads (bench/workloads.py, w2_mlp.py, w7_aggregation.py) are built
once per engine, called once cold (plan building, compilation), then timed in
``repeats`` rounds of ``number`` calls, the rounds of different engines
interleaved so a change of machine load hits them alike; the table shows
medians. W4 and W6 time phases in fresh processes (w4_w6_processes.py).
Two tables follow: median time per unit of each engine, and every target
of issue 6 as a ratio graphflow / baseline (below 1: graphflow is faster)
with met / MISS and the margin. ``os.getloadavg()`` is recorded before and
after each workload. A JSON record goes to bench/results/ unless --no-json.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import sys
import time
import traceback
from typing import Any, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))  # the repository, when graphflow is not installed

import numpy as np  # noqa: E402

import harness  # noqa: E402
from harness import ENGINES, run_timed, stat  # noqa: E402
from workloads import WORKLOADS  # noqa: E402


def fmt_time(s: Optional[float]) -> str:
    """Seconds as a short human string (ns/us/ms/s)."""
    if s is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return "%.3g %s" % (s / scale, unit)
    return "%.3g ns" % (s / 1e-9)


def _versions() -> dict:
    out = {"python": platform.python_version(), "numpy": np.__version__}
    for mod in ("numba", "tensorflow", "pytensor"):
        m = sys.modules.get(mod)
        out[mod] = getattr(m, "__version__", None) if m else None
    try:
        import graphflow
        out["graphflow"] = graphflow.__version__
    except Exception:  # noqa: BLE001
        out["graphflow"] = None
    return out


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _load() -> str:
    return "/".join("%.2f" % x for x in os.getloadavg())


def select(only: str) -> list:
    """Workload keys for ``--only`` (``W2`` selects ``W2-SGD`` and ``W2-Adam``)."""
    want = [k.strip() for k in only.split(",") if k.strip()]
    if not want:
        return list(WORKLOADS)
    keys = [k for k in WORKLOADS if k in want or k.split("-")[0] in want]
    unknown = [w for w in want if not any(k == w or k.split("-")[0] == w for k in WORKLOADS)]
    if unknown:
        raise ValueError("unknown workload(s) %s (known: %s)"
                         % (unknown, ", ".join(WORKLOADS)))
    return keys


def run_one(key: str, opts: Any) -> dict:
    """One workload: its parts (table rows), load averages and wall time."""
    wl = WORKLOADS[key]
    before, t0 = os.getloadavg(), time.perf_counter()
    try:
        if wl.measure is not None:
            parts = wl.measure(opts)
        else:
            parts = {key: run_timed(wl, opts.engines, opts.repeats, opts.scale)}
    except Exception as ex:  # noqa: BLE001 - one broken workload must not stop the suite
        parts = {}
        err = {"error": "%s: %s" % (type(ex).__name__, ex),
               "traceback": traceback.format_exc(limit=8)}
    else:
        err = None
    out = {"title": wl.title, "load_before": before, "load_after": os.getloadavg(),
           "wall_s": time.perf_counter() - t0, "parts": parts}
    if err:
        out.update(err)
    return out


def _table(head: list, rows: list) -> None:
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))


def print_times(records: dict, engines: list) -> None:
    """Median time per unit: one row per part, one column per engine, then extras."""
    rows = []
    for rec in records.values():
        for pk, part in rec["parts"].items():
            row = [pk, part["unit"]]
            for eng in engines:
                e = part["engines"].get(eng, {})
                row.append((">" if e.get("lower_bound") else "") + fmt_time(stat(e))
                           if e.get("status") == "ok"
                           else {"skipped": "skip"}.get(e.get("status"), e.get("status", "")))
            extras = ["%s %s" % (n, fmt_time(stat(e)))
                      for n, e in part["engines"].items()
                      if n not in engines and e.get("status") == "ok"]
            row.append(", ".join(extras))
            rows.append(row)
    _table(["part", "unit"] + engines + ["other baselines"], rows)


def target_rows(records: dict) -> list:
    rows = []
    for rec in records.values():
        for pk, part in rec["parts"].items():
            for t in part["targets"]:
                v, mx = t["value"], t["max"]
                low = t.get("lower_bound")
                if v is None:
                    verdict = "not measured"
                elif t["met"] is None:
                    verdict = "unknown (a lower bound below the target)"
                elif t["met"]:
                    verdict = "met (margin %.2fx)" % (mx / v) if v > 0 else "met"
                else:
                    verdict = "MISS (%s%.2fx too slow/large)" % ("at least " if low else "",
                                                                 v / mx)
                shown = "-" if v is None else (">" if low else "") + "%.3g" % v
                rows.append([pk, t["what"], shown,
                             "%s %.3g" % ("<" if t["strict"] else "<=", mx), t["goal"],
                             verdict])
    return rows


def print_targets(records: dict) -> None:
    _table(["part", "ratio", "measured", "target", "goal", "verdict"], target_rows(records))


def main(argv: Optional[list] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default="", help="comma-separated workload keys (default: all)")
    p.add_argument("--engines", default=",".join(ENGINES),
                   help="comma-separated engines (default: %(default)s)")
    p.add_argument("--repeats", type=int, default=7, help="timed rounds per engine (default 7)")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 3 rounds of 1/5 the calls, W4 N=200, one W6 process each")
    p.add_argument("--stat", choices=("median", "min"), default="median",
                   help="statistic of the rounds that times and ratios use (default median; "
                   "min resists a busy machine)")
    p.add_argument("--w4-n", type=int, default=None, help="W4 chain length (default 2000)")
    p.add_argument("--w4-timeout", type=int, default=150,
                   help="seconds before a W4 child is stopped (its phase then shows as a "
                        "lower bound; default 150)")
    p.add_argument("--out", default=os.path.join(HERE, "results"), help="JSON directory")
    p.add_argument("--no-json", action="store_true", help="do not write the JSON record")
    args = p.parse_args(argv)
    try:
        keys = select(args.only)
    except ValueError as e:
        p.error(str(e))
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    bad = [e for e in args.engines if e not in ENGINES]
    if bad or args.repeats < 1:
        p.error("unknown engine(s) %s (known: %s), or repeats < 1" % (bad, ", ".join(ENGINES)))
    if args.quick:
        args.repeats, args.scale = 3, 0.2
    else:
        args.scale = 1.0
    if args.w4_n is None:
        args.w4_n = 200 if args.quick else 2000
    harness.STAT = args.stat + "_s"
    started = _dt.datetime.now(_dt.timezone.utc)
    load_before = os.getloadavg()
    records = {}
    for k in keys:
        print("running %s: %s (load %s) ..." % (k, WORKLOADS[k].title, _load()),
              file=sys.stderr, flush=True)
        records[k] = run_one(k, args)
    load_after = os.getloadavg()
    out = {
        "date_utc": started.isoformat(timespec="seconds"),
        "argv": sys.argv[1:] if argv is None else list(argv),
        "machine": {"platform": platform.platform(), "cpu": _cpu_model(),
                    "cpus": os.cpu_count(), "load_before": load_before,
                    "load_after": load_after,
                    "thread_env": {k: os.environ.get(k) for k in (
                        "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS",
                        "OMP_WAIT_POLICY", "NUMBA_THREADING_LAYER", "GRAPHFLOW_PASSES",
                        "GRAPHFLOW_PARALLEL_MIN_SIZE", "GRAPHFLOW_MATMUL_THREADS",
                        "GRAPHFLOW_MALLOPT", "GRAPHFLOW_BACKGROUND_INIT",
                        "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
                        if os.environ.get(k)}},
        "versions": _versions(),
        "repeats": args.repeats, "w4_n": args.w4_n, "stat": args.stat,
        "workloads": records,
    }
    print("graphflow benchmarks %s  |  %s, %d cpus  |  load %s -> %s  |  %s of %d rounds"
          % (out["date_utc"], out["machine"]["cpu"], out["machine"]["cpus"],
             "/".join("%.2f" % x for x in load_before),
             "/".join("%.2f" % x for x in load_after), args.stat, args.repeats))
    print()
    print_times(records, args.engines)
    print()
    print_targets(records)
    print()
    for k, rec in records.items():
        print("note: %s load %s -> %s, %.1f s" % (
            k, "/".join("%.2f" % x for x in rec["load_before"]),
            "/".join("%.2f" % x for x in rec["load_after"]), rec["wall_s"]))
        if "error" in rec:
            print("note: %s failed: %s" % (k, rec["error"]))
        for pk, part in rec["parts"].items():
            for eng, e in part["engines"].items():
                if e.get("status") == "error":
                    print("note: %s %s error: %s" % (pk, eng, e.get("note")))
                elif e.get("agrees_with_numpy") is False:
                    print("note: %s %s result differs from numpy's" % (pk, eng))
            for name, v in part.get("info", {}).items():
                if name != "children":
                    print("note: %s %s = %s" % (pk, name, v))
    skipped = {e.get("note") for rec in records.values() for part in rec["parts"].values()
               for e in part["engines"].values() if e.get("status") == "skipped"}
    for note in sorted(n for n in skipped if n):
        print("skipped: %s" % note)
    if not args.no_json:
        os.makedirs(args.out, exist_ok=True)
        path = os.path.join(args.out, "bench-%s.json" % started.strftime("%Y%m%d-%H%M%S"))
        with open(path, "w") as f:
            json.dump(out, f, indent=1, default=float)
        print("wrote %s" % path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
