"""Run graphflow's benchmarks against its baselines and print a ratio table.

    python bench/run.py                  # every workload, every available engine
    python bench/run.py --only W1 --repeats 15

Each workload (bench/workloads.py) is built once per engine, called once cold
(compilation, plan building), then timed in ``repeats`` rounds of ``number``
calls. Rounds interleave the engines so a change of machine load hits them
alike. The table shows the median time per call of each engine and the ratio
graphflow / baseline (below 1: graphflow is faster), checked against the
issue's targets. A JSON record (machine, load averages, every round) goes to
bench/results/ unless --no-json.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import os
import platform
import statistics
import sys
import time
import traceback
from typing import Any, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))  # the repository, when graphflow is not installed

import numpy as np  # noqa: E402

from workloads import ENGINES, WORKLOADS, Unsupported  # noqa: E402


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


def _agree(a: Any, b: Any, rtol: float) -> bool:
    try:
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=rtol))
    except (TypeError, ValueError):
        return False


def run_workload(wl: Any, engines: list, repeats: int, number_scale: float) -> dict:
    """Build, cold-call and time ``wl`` on each engine; returns its JSON record."""
    number = max(1, int(wl.number * number_scale))
    rec: dict = {"title": wl.title, "unit": wl.unit, "number": number, "engines": {}}
    fns: dict = {}
    results: dict = {}
    for eng in engines:
        e: dict = rec["engines"].setdefault(eng, {})
        try:
            t0 = time.perf_counter()
            fn = wl.build(eng)
            t1 = time.perf_counter()
            results[eng] = fn()
            t2 = time.perf_counter()
        except Unsupported as ex:
            e.update(status="skipped", note=str(ex))
            continue
        except Exception as ex:  # noqa: BLE001 - one broken engine must not stop the run
            e.update(status="error", note="%s: %s" % (type(ex).__name__, ex),
                     traceback=traceback.format_exc(limit=4))
            continue
        e.update(status="ok", build_s=t1 - t0, first_call_s=t2 - t1, rounds=[])
        fns[eng] = fn
    ref = results.get("numpy")
    for eng in fns:
        if ref is not None and eng != "numpy":
            rec["engines"][eng]["agrees_with_numpy"] = _agree(results[eng], ref, wl.rtol)
    for _ in range(repeats):
        for eng, fn in fns.items():
            gc.collect()
            gc.disable()
            try:
                t0 = time.perf_counter()
                for _ in range(number):
                    fn()
                dt = time.perf_counter() - t0
            finally:
                gc.enable()
            rec["engines"][eng]["rounds"].append(dt / number)
    for eng in fns:
        rounds = rec["engines"][eng]["rounds"]
        rec["engines"][eng]["median_s"] = statistics.median(rounds)
        rec["engines"][eng]["min_s"] = min(rounds)
    gf = rec["engines"].get("graphflow", {}).get("median_s")
    rec["ratios"] = {}
    for eng in fns:
        if eng != "graphflow" and gf is not None:
            rec["ratios"][eng] = gf / rec["engines"][eng]["median_s"]
    rec["targets"] = {eng: {"max_ratio": t, "met": (rec["ratios"][eng] <= t)
                            if eng in rec["ratios"] else None}
                      for eng, t in wl.targets.items()}
    return rec


def print_table(records: dict, engines: list) -> None:
    """Median time per unit for each engine, then graphflow/baseline ratios."""
    baselines = [e for e in engines if e != "graphflow"]
    head = ["workload", "unit"] + engines + ["gf/" + e for e in baselines]
    rows = []
    for key, rec in records.items():
        row = [key, rec["unit"]]
        for eng in engines:
            e = rec["engines"].get(eng, {})
            row.append(fmt_time(e.get("median_s")) if e.get("status") == "ok"
                       else e.get("status", "-"))
        for eng in baselines:
            r = rec["ratios"].get(eng)
            cell = "-" if r is None else "%.3g" % r
            t = rec["targets"].get(eng)
            if t and t["met"] is not None:
                cell += " (<=%g %s)" % (t["max_ratio"], "ok" if t["met"] else "MISS")
            row.append(cell)
        rows.append(row)
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))


def main(argv: Optional[list] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default="", help="comma-separated workload keys (default: all)")
    p.add_argument("--engines", default=",".join(ENGINES),
                   help="comma-separated engines (default: %(default)s)")
    p.add_argument("--repeats", type=int, default=7, help="timed rounds per engine (default 7)")
    p.add_argument("--quick", action="store_true", help="3 rounds of 1/5 the calls (smoke run)")
    p.add_argument("--out", default=os.path.join(HERE, "results"), help="JSON directory")
    p.add_argument("--no-json", action="store_true", help="do not write the JSON record")
    args = p.parse_args(argv)
    keys = [k.strip() for k in args.only.split(",") if k.strip()] or list(WORKLOADS)
    unknown = [k for k in keys if k not in WORKLOADS]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    bad_eng = [e for e in engines if e not in ENGINES]
    if unknown or bad_eng or args.repeats < 1:
        p.error("unknown workload(s) %s / engine(s) %s (known: %s / %s), or repeats < 1"
                % (unknown, bad_eng, ", ".join(WORKLOADS), ", ".join(ENGINES)))
    repeats, scale = (3, 0.2) if args.quick else (args.repeats, 1.0)
    started = _dt.datetime.now(_dt.timezone.utc)
    load_before = os.getloadavg()
    records = {}
    for k in keys:
        print("running %s: %s ..." % (k, WORKLOADS[k].title), file=sys.stderr, flush=True)
        records[k] = run_workload(WORKLOADS[k], engines, repeats, scale)
    load_after = os.getloadavg()
    out = {
        "date_utc": started.isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpu": _cpu_model(),
                    "cpus": os.cpu_count(), "load_before": load_before,
                    "load_after": load_after},
        "versions": _versions(),
        "repeats": repeats,
        "workloads": records,
    }
    print("graphflow benchmarks %s  |  %s, %d cpus  |  load %s -> %s  |  median of %d rounds"
          % (out["date_utc"], out["machine"]["cpu"], out["machine"]["cpus"],
             "/".join("%.2f" % x for x in load_before),
             "/".join("%.2f" % x for x in load_after), repeats))
    print_table(records, engines)
    for k, rec in records.items():
        for eng, e in rec["engines"].items():
            if e.get("status") != "ok":
                print("note: %s %s %s: %s" % (k, eng, e.get("status"), e.get("note")))
            elif e.get("agrees_with_numpy") is False:
                print("note: %s %s result differs from numpy's" % (k, eng))
    if not args.no_json:
        os.makedirs(args.out, exist_ok=True)
        path = os.path.join(args.out, "bench-%s.json" % started.strftime("%Y%m%d-%H%M%S"))
        with open(path, "w") as f:
            json.dump(out, f, indent=1, default=float)
        print("wrote %s" % path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
