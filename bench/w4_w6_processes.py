"""W4 (scale) and W6 (cold start): phases timed in fresh processes.

W4: a chain of N (default 2000) steps ``h = tanh(h * w_i + h)`` over a fed
100-vector with N scalar variables, ``loss = reduce_sum(h)``. One child
process per engine times: building the graph (variables, chain, initializer),
``tf.gradients(loss, ws)``, the first ``sess.run([loss] + grads)`` (plan +
compile) and later runs (median). Before timing, each child warms its engine
up with a one-op graph (c = a + b), so the process-wide start-up (Numba's
target initialisation, TF's runtime) is not charged to W4. graphflow's child
runs twice: first with an empty generated-kernel cache (a new
``GRAPHFLOW_CACHE_DIR``; Numba's cache of the library kernels in
graphflow/kernels/ stays as installed), then again on that now warm cache.
NumPy by hand (forward and backward loops) gives a later-run reference.

W6: a fresh ``python`` process imports the engine, builds W2 (SGD with
global_step), runs the initializer and one training step; the parent times
the whole process (interpreter start to exit). graphflow runs with an empty
cache -- new temp dirs for both ``GRAPHFLOW_CACHE_DIR`` (generated kernels)
and ``NUMBA_CACHE_DIR`` (Numba's on-disk cache of every ``cache=True``
function, which otherwise lives in ``__pycache__`` next to graphflow/kernels/
*.py; when set, Numba's user-provided locator takes precedence for all of
them) -- and with a warm one (the same dirs again). Python's own bytecode
caches stay warm in both cases: graphflow's ``.pyc`` files are written before
the children start (``precompile_graphflow``), as installing the package would.

    python bench/w4_w6_processes.py child-w4 ENGINE N RUNS   # one W4 child
    python bench/w4_w6_processes.py child-w6 ENGINE          # one W6 child
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
for _p in (HERE, os.path.dirname(HERE)):  # bench/, and the repository (graphflow)
    if _p not in sys.path:
        sys.path.insert(0 if _p == HERE else 1, _p)

import numpy as np  # noqa: E402

from harness import (add_target, agree, custom, engine_module, error_entry,  # noqa: E402
                     gf_compile_report, new_record, ratios)

W4_WIDTH = 100


def w4_data(n: int) -> tuple:
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, W4_WIDTH).astype(np.float32)
    w = rng.uniform(-0.2, 0.4, n).astype(np.float32)
    return x, w


def _warm_up(tf: Any) -> None:
    g = tf.Graph()
    with g.as_default():
        a = tf.placeholder(tf.float32, [], name="a")
        c = a + a
    with tf.Session(graph=g) as s:
        s.run(c, feed_dict={a: 1.0})


def _emit(res: dict) -> None:
    """Print the figures so far (one JSON line; the parent keeps the last one)."""
    res["emitted_at"] = time.time()
    print(json.dumps(res), flush=True)


def child_w4(engine: str, n: int, runs: int) -> dict:
    """Time W4's phases in this process (run as a child), printing them as they come."""
    res: dict = {}
    t0 = time.perf_counter()
    tf = engine_module(engine)
    t1 = time.perf_counter()
    _warm_up(tf)
    t2 = time.perf_counter()
    res.update(import_s=t1 - t0, warm_up_s=t2 - t1)
    x0, w0 = w4_data(n)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [W4_WIDTH], name="x")
        ws = [tf.Variable(w0[i], name="w%d" % i) for i in range(n)]
        h = x
        for w in ws:
            h = tf.tanh(h * w + h)
        loss = tf.reduce_sum(h)
        init = tf.global_variables_initializer()
        t3 = time.perf_counter()
        res["build_s"] = t3 - t2
        _emit(res)
        grads = tf.gradients(loss, ws)
        t4 = time.perf_counter()
    res["gradients_s"] = t4 - t3
    _emit(res)
    sess = tf.Session(graph=g)
    sess.run(init)
    t5 = time.perf_counter()
    res["init_s"] = t5 - t4
    _emit(res)
    fetches, feed = [loss] + grads, {x: x0}
    first = sess.run(fetches, feed_dict=feed)
    t6 = time.perf_counter()
    res["first_run_s"] = t6 - t5
    if engine == "graphflow":
        res["compile_report"] = gf_compile_report(sess, fetches, feed)
    _emit(res)
    later = []
    for _ in range(runs):
        s = time.perf_counter()
        sess.run(fetches, feed_dict=feed)
        later.append(time.perf_counter() - s)
    res.update(later_runs_s=later, later_run_s=statistics.median(later),
               result=[float(v) for v in first])
    return res


def numpy_w4(n: int) -> Any:
    """W4 forward and backward by hand: ([loss] + grads)."""
    x0, w0 = w4_data(n)
    w1 = [np.float32(1) + w for w in w0]

    def run() -> list:
        hs = [x0]
        h = x0
        for wp in w1:
            h = np.tanh(h * wp)
            hs.append(h)
        dh = np.ones_like(x0)
        grads = [None] * n
        for i in range(n - 1, -1, -1):
            t = hs[i + 1]
            da = dh * (np.float32(1) - t * t)
            grads[i] = np.dot(da, hs[i])
            dh = da * w1[i]
        return [float(h.sum())] + [float(v) for v in grads]
    return run


def child_w6(engine: str) -> dict:
    """Import, build W2 SGD, init, one step, timed in this fresh process."""
    t0 = time.perf_counter()
    tf = engine_module(engine)
    t1 = time.perf_counter()
    import w2_mlp
    x0, y0, _ = w2_mlp.data()
    g = tf.Graph()
    with g.as_default():
        x, y, train, loss, init = w2_mlp.build_graph(tf, "sgd")
    t2 = time.perf_counter()
    sess = tf.Session(graph=g)
    sess.run(init)
    t3 = time.perf_counter()
    out = sess.run([train, loss], feed_dict={x: x0, y: y0})[1]
    t4 = time.perf_counter()
    return {"import_s": t1 - t0, "build_s": t2 - t1, "init_s": t3 - t2, "step_s": t4 - t3,
            "loss": float(out)}


def spawn(args: list, env_extra: dict, timeout: float) -> tuple:
    """Run this file as a child; returns (wall seconds, parsed JSON of its last line)."""
    env = dict(os.environ)
    env.update(env_extra)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    t0 = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, os.path.abspath(__file__)]
                           + [str(a) for a in args], env=env, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:  # keep what the child reported before the kill
        killed_at = time.time()
        text = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        lines = [ln for ln in text.splitlines() if ln.startswith("{")]
        out = json.loads(lines[-1]) if lines else {}
        out.update(timed_out=True, timeout_s=timeout,
                   running_since_s=killed_at - out.get("emitted_at", killed_at - timeout))
        return time.perf_counter() - t0, out
    wall = time.perf_counter() - t0
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        raise RuntimeError("child %s failed (rc %s): %s" % (args, p.returncode,
                                                            p.stderr.strip()[-800:]))
    out = json.loads(lines[-1])
    if "error" in out:
        raise RuntimeError("child %s: %s" % (args, out["error"]))
    return wall, out


def precompile_graphflow() -> None:
    """Write graphflow's ``.pyc`` files (only stale ones), as installing a package
    does: the children then import graphflow from bytecode, like numpy, Numba and
    TF from site-packages, even when ``PYTHONDONTWRITEBYTECODE`` is set (it stops
    Python from writing them, not from reading them; without them every child
    compiled graphflow's ~120 modules again, +0.3 s per process)."""
    import compileall
    compileall.compile_dir(os.path.join(os.path.dirname(HERE), "graphflow"), quiet=1)


def _fresh_dirs() -> dict:
    return {"GRAPHFLOW_CACHE_DIR": tempfile.mkdtemp(prefix="gf-bench-kernels-"),
            "NUMBA_CACHE_DIR": tempfile.mkdtemp(prefix="gf-bench-numba-")}


def _count_files(d: str, suffix: str) -> int:
    return sum(f.endswith(suffix) for _, _, fs in os.walk(d) for f in fs)


# --- W4 -------------------------------------------------------------------------------------
@custom("W4", "scale: N-op chain h = tanh(h*w_i + h), 100-vector, N scalar variables")
def measure_w4(opts: Any) -> dict:
    precompile_graphflow()
    n = opts.w4_n
    runs = 3 if opts.quick else 7
    engines: dict = {}
    kdir = tempfile.mkdtemp(prefix="gf-bench-w4-")
    jobs = [("tensorflow", "tensorflow"), ("graphflow", "graphflow"),
            ("graphflow_warm", "graphflow")]
    try:
        for name, eng in jobs:
            if eng not in opts.engines:
                continue
            if name == "graphflow_warm" and engines.get("graphflow", {}).get("status") != "ok":
                continue  # the cold child did not finish: no complete cache to reuse
            print("  W4 N=%d %s (limit %d s) ..." % (n, name, opts.w4_timeout),
                  file=sys.stderr, flush=True)
            env = {"GRAPHFLOW_CACHE_DIR": kdir} if eng == "graphflow" else {}
            try:
                wall, out = spawn(["child-w4", eng, n, runs], env, timeout=opts.w4_timeout)
            except Exception as ex:  # noqa: BLE001
                engines[name] = error_entry(ex)
                continue
            out["process_wall_s"] = wall
            out["status"] = "timeout" if out.get("timed_out") else "ok"
            engines[name] = out
        if "graphflow" in engines:
            engines["graphflow"]["generated_kernels"] = _count_files(kdir, ".py")
    finally:
        shutil.rmtree(kdir, ignore_errors=True)
    np_times: list = []
    if "numpy" in opts.engines:
        np_run = numpy_w4(n)
        np_result = np.asarray(np_run())
        for _ in range(runs):
            s = time.perf_counter()
            np_run()
            np_times.append(time.perf_counter() - s)
        scale = max(1e-6, float(np.max(np.abs(np_result))))
        for e in engines.values():  # agreement of [loss] + grads with NumPy's
            res = e.pop("result", None)
            if res is not None:
                e["agrees_with_numpy"] = agree(np.asarray(res) / scale, np_result / scale,
                                               1e-3)
    parts = {}
    for label, field, mx, goal in W4_PHASES:
        rec = new_record("W4 N=%d: %s" % (n, label), "run" if field == "later_run_s" else "once")
        for name in ("graphflow", "tensorflow"):
            if name in engines:
                rec["engines"][name] = _phase_entry(engines[name], field)
        if field == "later_run_s" and np_times:
            rec["engines"]["numpy"] = {"status": "ok", "median_s": statistics.median(np_times),
                                       "min_s": min(np_times), "rounds": np_times}
        ratios(rec)
        add_target(rec, "graphflow / tensorflow", rec["ratios"].get("tensorflow"), mx, goal)
        if rec["engines"].get("graphflow", {}).get("lower_bound"):
            rec["targets"][-1]["lower_bound"] = True
            if rec["targets"][-1]["met"]:
                rec["targets"][-1]["met"] = None  # a lower bound cannot show a target met
        parts["W4-" + label.replace(" ", "-")] = rec
    warm = engines.get("graphflow_warm")
    if warm is not None:
        rec = new_record("W4 N=%d: first run, warm kernel cache (second process)" % n, "once")
        rec["engines"]["graphflow"] = _phase_entry(warm, "first_run_s")
        if "tensorflow" in engines:
            rec["engines"]["tensorflow"] = _phase_entry(engines["tensorflow"], "first_run_s")
        ratios(rec)
        parts["W4-first-run-warm"] = rec
    for e in engines.values():
        e.pop("result", None)
    parts["W4-build"]["info"]["children"] = engines
    return parts


W4_PHASES = (("build", "build_s", 0.1, "10x faster than TF"),
             ("gradients", "gradients_s", 0.1, "10x faster than TF"),
             ("first run", "first_run_s", 0.1, "10x faster than TF"),
             ("later run", "later_run_s", 0.2, "5x faster than TF"))
_CHILD_ORDER = ("build_s", "gradients_s", "init_s", "first_run_s", "later_run_s")


def _phase_entry(child: dict, field: str) -> dict:
    """One engine's entry for one W4 phase (a lower bound for the phase a timeout cut)."""
    if child.get("status") not in ("ok", "timeout"):
        return child
    if field in child:
        e = {"status": "ok", "median_s": child[field], "min_s": child[field]}
        if field == "later_run_s":
            e.update(rounds=child["later_runs_s"], min_s=min(child["later_runs_s"]))
        e["agrees_with_numpy"] = child.get("agrees_with_numpy")
        return e
    running = next((f for f in _CHILD_ORDER if f not in child), None)
    if field == running:
        v = child["running_since_s"]
        return {"status": "ok", "median_s": v, "min_s": v, "lower_bound": True,
                "note": "killed after %d s; this phase had run %.0f s"
                        % (child["timeout_s"], v)}
    return {"status": "timeout", "note": "not reached before the %d s limit"
            % child.get("timeout_s", 0)}


# --- W6 -------------------------------------------------------------------------------------
@custom("W6", "cold start: fresh process imports, builds W2 (SGD), runs one step")
def measure_w6(opts: Any) -> dict:
    precompile_graphflow()
    reps = 1 if opts.quick else 3
    walls: dict = {"graphflow_cold": [], "graphflow_warm": [], "tensorflow": []}
    phases: dict = {k: [] for k in walls}
    errors: dict = {}
    cache_files: dict = {}
    for r in range(reps):
        dirs = _fresh_dirs()
        try:
            jobs = []
            if "graphflow" in opts.engines:
                jobs += [("graphflow_cold", "graphflow"), ("graphflow_warm", "graphflow")]
            if "tensorflow" in opts.engines:
                jobs.append(("tensorflow", "tensorflow"))
            for name, eng in jobs:
                print("  W6 %s (%d/%d) ..." % (name, r + 1, reps), file=sys.stderr, flush=True)
                try:
                    wall, out = spawn(["child-w6", eng], dirs if eng == "graphflow" else {},
                                      timeout=600)
                except Exception as ex:  # noqa: BLE001
                    errors[name] = error_entry(ex)
                    continue
                walls[name].append(wall)
                phases[name].append(out)
                if name == "graphflow_cold" and r == 0:
                    cache_files = {
                        "generated_kernel_sources": _count_files(
                            dirs["GRAPHFLOW_CACHE_DIR"], ".py"),
                        "numba_index_files": _count_files(dirs["NUMBA_CACHE_DIR"], ".nbi"),
                        "numba_cache_mb": round(sum(
                            os.path.getsize(os.path.join(p, f))
                            for p, _, fs in os.walk(dirs["NUMBA_CACHE_DIR"]) for f in fs)
                            / 1e6, 1)}
        finally:
            for d in dirs.values():
                shutil.rmtree(d, ignore_errors=True)
    parts = {}
    for label, gf_name, mx, goal in (("empty cache", "graphflow_cold", 1.0,
                                      "no slower than TF"),
                                     ("warm cache", "graphflow_warm", 1 / 3,
                                      "1/3 of TF's import-build-step")):
        rec = new_record("W6 import + build W2 + 1 step, %s" % label, "process")
        for name, eng in ((gf_name, "graphflow"), ("tensorflow", "tensorflow")):
            if walls[name]:
                rec["engines"][eng] = {
                    "status": "ok", "median_s": statistics.median(walls[name]),
                    "min_s": min(walls[name]), "rounds": walls[name],
                    "phases_median_s": {k: statistics.median(p[k] for p in phases[name])
                                        for k in phases[name][0] if k.endswith("_s")}}
            elif name in errors:
                rec["engines"][eng] = errors[name]
        ratios(rec)
        add_target(rec, "graphflow / tensorflow", rec["ratios"].get("tensorflow"), mx, goal)
        if gf_name == "graphflow_cold":
            rec["info"]["cold_cache_contents"] = cache_files
        parts["W6-" + label.split()[0]] = rec
    return parts


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    cmd = sys.argv[1]
    try:
        if cmd == "child-w4":
            res = child_w4(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        elif cmd == "child-w6":
            res = child_w6(sys.argv[2])
        else:
            raise SystemExit("unknown command %r" % cmd)
    except Exception as ex:  # noqa: BLE001 - reported to the parent
        res = {"error": "%s: %s" % (type(ex).__name__, ex)}
    print(json.dumps(res))
