"""The benchmark suite's registry, engine loaders, timing loop and target checks.

A *timed* workload is registered with ``@workload(key, title, unit, number,
targets)`` on ``build(engine) -> Callable[[], Any]``: it prepares one engine's
version of the job (graph, session, compilation happen here or in the first
call, which is timed separately as the cold call) and returns a zero-argument
callable doing one unit of work and returning its result (results are
compared with NumPy's). ``build`` raises ``Unsupported`` when the engine has
no version of the job. A workload may name ``extra`` engines of its own (for
example W2's "matmuls8": the step's eight matmuls alone); they are timed like
the others and appear as baselines.

A *custom* workload (``@custom(key, title)``) measures phases that do not fit
"call this repeatedly" (W4's build / gradients / first run, W6's fresh
processes, W7's peak bytes): ``measure(opts) -> {part_key: record}``, using
``new_record`` / ``time_callables`` / ``finish`` below.

A record (one row of the table) is ``{"title", "unit", "engines": {engine:
{"status", "median_s", "rounds", ...}}, "ratios": {baseline: graphflow /
baseline}, "targets": [target rows], "info": {...}}``. A target row is
``{"what", "value", "max", "met", "goal"}``: met when ``value <= max`` (or
``< max`` when ``strict``).
"""
from __future__ import annotations

import gc
import os
import statistics
import time
import traceback
from typing import Any, Callable, NamedTuple, Optional

import numpy as np

ENGINES = ("graphflow", "numpy", "tensorflow", "pytensor")
STAT = "median_s"  # the statistic ratios use: "median_s" (default) or "min_s" (--stat min)


class Unsupported(Exception):
    """The engine has no version of this workload (reported, not an error)."""


class Workload(NamedTuple):
    key: str
    title: str
    unit: str            # what one call of the built callable does, e.g. "call"
    number: int          # calls per timed round (the runner divides by it)
    targets: dict        # baseline engine -> (max graphflow/baseline time ratio, goal text)
    build: Optional[Callable[[str], Callable[[], Any]]]
    rtol: float = 1e-4   # result agreement between engines
    extra: tuple = ()    # workload-specific baseline engines
    measure: Optional[Callable[[Any], dict]] = None  # custom workloads


WORKLOADS: dict = {}


def workload(key: str, title: str, unit: str, number: int, targets: Optional[dict] = None,
             rtol: float = 1e-4, extra: tuple = ()) -> Callable:
    """Register ``build(engine)`` as timed workload ``key``.

    ``targets`` maps a baseline engine to ``max_ratio`` or ``(max_ratio, goal)``.
    """
    def deco(build: Callable) -> Callable:
        t = {e: (v if isinstance(v, tuple) else (v, "")) for e, v in (targets or {}).items()}
        WORKLOADS[key] = Workload(key, title, unit, number, t, build, rtol, tuple(extra))
        return build
    return deco


def custom(key: str, title: str) -> Callable:
    """Register ``measure(opts) -> {part_key: record}`` as workload ``key``."""
    def deco(measure: Callable) -> Callable:
        WORKLOADS[key] = Workload(key, title, "", 0, {}, None, measure=measure)
        return measure
    return deco


# --- engine modules (imported lazily; absent engines are reported) -----------------------
def tf1() -> Any:
    """``tensorflow.compat.v1`` in graph mode with reference variables, or Unsupported."""
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


def engine_module(engine: str) -> Any:
    """The TF1-style module for a graph engine (graphflow or tensorflow)."""
    if engine == "graphflow":
        return graphflow()
    if engine == "tensorflow":
        return tf1()
    if engine == "pytensor":
        pytensor()  # raises Unsupported when not importable
    raise Unsupported("no %s version of this workload" % engine)


# --- timing ------------------------------------------------------------------------------
# OpenBLAS/OpenMP workers spin ~tens of ms after their last task before sleeping.
ROUND_PAUSE_S = 0.05
def time_callables(fns: dict, repeats: int, number: int) -> dict:
    """Time each callable in ``repeats`` interleaved rounds of ``number`` calls.

    Returns ``{engine: {"rounds": [s per call], "median_s", "min_s"}}``.
    Interleaving makes a change of machine load hit every engine alike. A
    short pause before each round lets the previous engine's BLAS/OpenMP
    threads stop spinning (they otherwise compete with the next round).
    """
    out = {eng: {"rounds": []} for eng in fns}
    for _ in range(repeats):
        for eng, fn in fns.items():
            time.sleep(ROUND_PAUSE_S)
            gc.collect()
            gc.disable()
            try:
                t0 = time.perf_counter()
                for _ in range(number):
                    fn()
                dt = time.perf_counter() - t0
            finally:
                gc.enable()
            out[eng]["rounds"].append(dt / number)
    for e in out.values():
        e["median_s"] = statistics.median(e["rounds"])
        e["min_s"] = min(e["rounds"])
    return out


def agree(a: Any, b: Any, rtol: float) -> bool:
    """Same shape and close values (float64 comparison, atol = rtol)."""
    try:
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=rtol))
    except (TypeError, ValueError):
        return False


def new_record(title: str, unit: str) -> dict:
    return {"title": title, "unit": unit, "engines": {}, "ratios": {}, "targets": [],
            "info": {}}


def error_entry(ex: BaseException) -> dict:
    if isinstance(ex, Unsupported):
        return {"status": "skipped", "note": str(ex)}
    return {"status": "error", "note": "%s: %s" % (type(ex).__name__, ex),
            "traceback": traceback.format_exc(limit=6)}


def add_target(rec: dict, what: str, value: Optional[float], max_value: float,
               goal: str = "", strict: bool = False) -> None:
    """Append a target row (``value`` None: not measured)."""
    met = None if value is None else (value < max_value if strict else value <= max_value)
    rec["targets"].append({"what": what, "value": value, "max": max_value, "strict": strict,
                           "met": met, "goal": goal})


def stat(e: dict) -> Optional[float]:
    """An engine entry's time under the chosen statistic (``STAT``)."""
    if e.get("status") != "ok":
        return None
    return e.get(STAT, e.get("median_s"))


def ratios(rec: dict) -> None:
    """Fill ``rec["ratios"]``: graphflow's time / each baseline's.

    A time marked ``lower_bound`` (a phase cut by a time limit) still gives a
    lower bound of the ratio when it is graphflow's, and no ratio when it is
    the baseline's.
    """
    gf = stat(rec["engines"].get("graphflow", {}))
    for eng, e in rec["engines"].items():
        b = stat(e)
        if eng != "graphflow" and gf is not None and b and not e.get("lower_bound"):
            rec["ratios"][eng] = gf / b


def finish(rec: dict, targets: dict) -> dict:
    """Fill ``rec["ratios"]`` (graphflow / each baseline) and the ratio targets."""
    ratios(rec)
    for eng, (mx, goal) in targets.items():
        add_target(rec, "graphflow / " + eng, rec["ratios"].get(eng), mx, goal)
    return rec


def run_timed(wl: Workload, engines: list, repeats: int, number_scale: float) -> dict:
    """Build, cold-call and time ``wl`` on each engine; returns its record."""
    number = max(1, int(wl.number * number_scale))
    rec = new_record(wl.title, wl.unit)
    rec["number"] = number
    fns: dict = {}
    results: dict = {}
    for eng in list(engines) + list(wl.extra):
        try:
            t0 = time.perf_counter()
            fn = wl.build(eng)
            t1 = time.perf_counter()
            results[eng] = fn()
            t2 = time.perf_counter()
        except Exception as ex:  # noqa: BLE001 - one broken engine must not stop the run
            rec["engines"][eng] = error_entry(ex)
            continue
        rec["engines"][eng] = {"status": "ok", "build_s": t1 - t0, "first_call_s": t2 - t1}
        fns[eng] = fn
    ref = results.get("numpy")
    for eng in fns:
        if ref is not None and eng not in ("numpy",) + tuple(wl.extra):
            rec["engines"][eng]["agrees_with_numpy"] = agree(results[eng], ref, wl.rtol)
    for eng, t in time_callables(fns, repeats, number).items():
        rec["engines"][eng].update(t)
    for eng, fn in fns.items():  # optional extra figures (e.g. peak bytes) after timing
        after = getattr(fn, "after", None)
        if after is not None:
            try:
                rec["engines"][eng]["info"] = after()
            except Exception as ex:  # noqa: BLE001
                rec["engines"][eng]["info"] = {"error": "%s: %s" % (type(ex).__name__, ex)}
    return finish(rec, wl.targets)


def gf_memory(sess: Any, fetches: Any, feed_dict: Optional[dict] = None) -> dict:
    """graphflow's peak live bytes for one run of ``fetches``, measured and planned.

    ``measured_peak_bytes``: ``plan.peak_bytes`` recorded under
    ``graphflow.runtime.memory.tracking()`` for the plan the session ran;
    ``plan_peak_bytes`` / ``plan_buffers`` / ``plan_steps``: the compiler's
    static memory plan from ``sess.compiled_plan`` (when the session has it).
    """
    from graphflow.runtime import memory
    for plan in _gf_plans(sess):
        plan.peak_bytes = None
    with memory.tracking():
        sess.run(fetches, feed_dict=feed_dict)
    found = [getattr(p, "peak_bytes", None) for p in _gf_plans(sess)]
    found = [p for p in found if p is not None]
    out: dict = {"measured_peak_bytes": max(found) if found else None}
    if hasattr(sess, "compiled_plan"):
        rep = sess.compiled_plan(fetches, feed_dict)
        out.update(plan_peak_bytes=getattr(rep, "peak_bytes", None),
                   plan_buffers=getattr(rep, "buffers", None),
                   plan_steps=getattr(rep, "num_steps", None))
    return out


def gf_compile_report(sess: Any, fetches: Any, feed_dict: Optional[dict] = None) -> dict:
    """What the compiler did for ``fetches`` (``sess.compiled_plan``), as plain data."""
    if not hasattr(sess, "compiled_plan"):
        return {}
    rep = sess.compiled_plan(fetches, feed_dict)
    return {"compile_s": getattr(rep, "seconds", None), "ops": getattr(rep, "ops_before", None),
            "steps": getattr(rep, "num_steps", None),
            "fused_groups": len(getattr(rep, "fused_groups", ()) or ()),
            "peak_bytes": getattr(rep, "peak_bytes", None),
            "passes": rep.summary() if hasattr(rep, "summary") else None}


def _gf_plans(sess: Any) -> list:
    plans = list(getattr(sess, "_plans", {}).values())
    out = []
    for p in plans:
        out.append(p)
        inner = getattr(p, "plan", None)  # a wrapper around an executable plan
        if inner is not None and inner is not p:
            out.append(inner)
    return out
