"""``compare(build_fn, gate_modes, aggregation_methods)``: one model, every way of building it.

For each (gate mode, aggregation method) the model is built in a fresh graph
with the same seed, and one table row records:

- structure (``structure_report``): ops, control edges, barriers, critical
  path in ops, parallel width (widest antichain of kernels), levels;
- ``races``: the (reader, update) pairs no edge orders (``races``);
- ``peak_bytes``: the compiler's static memory plan for one training step;
- ``seq_ms`` / ``par_ms``: median step time with the sequential executor and
  with the parallel one (``inter_op_parallelism_threads=threads``);
- ``identical`` / ``outcomes``: every schedule policy (``schedules``) and
  both executors train ``steps`` steps from the same initial values, each run
  twice; ``outcomes`` counts the distinct results (variables and loss,
  bitwise), ``identical`` is ``outcomes == 1``;
- ``result``: the first 8 hex digits of a hash of the result of the first
  schedule (``default`` unless changed) on the sequential executor
  (rows with the same ``result`` computed bitwise the same
  numbers); ``loss``: the loss it ends with.

TensorFlow has no equivalent; this is what ``graphflow study`` prints.
"""
from __future__ import annotations

import hashlib
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Sequence

from graphflow.analysis.races import races as find_races
from graphflow.analysis.report import StructureReport, format_rows, structure_report

__all__ = ["compare", "Comparison", "Combination", "GATE_NAMES", "AGGREGATION_NAMES",
           "parse_gate", "parse_aggregation", "COLUMNS"]

GATE_NAMES = {0: "GATE_NONE", 1: "GATE_OP", 2: "GATE_GRAPH"}
AGGREGATION_NAMES = {0: "ADD_N", 1: "EXPERIMENTAL_TREE", 2: "EXPERIMENTAL_ACCUMULATE_N"}
DEFAULT_SCHEDULES = ("default", "asap", "alap", "random:0", "random:1")
COLUMNS = ("ops", "control_edges", "barriers", "critical_path_ops", "parallel_width",
           "races", "peak_bytes", "seq_ms", "par_ms", "outcomes", "identical", "result",
           "loss")


def _parse(value: Any, names: dict, what: str) -> int:
    if isinstance(value, bool):
        raise TypeError("%s must be an int or a name, got a bool" % what)
    if isinstance(value, int):
        if value in names:
            return value
    elif isinstance(value, str):
        key = value.strip().upper()
        aliases = {n: k for k, n in names.items()}
        aliases.update({n.replace("EXPERIMENTAL_", ""): k for k, n in names.items()})
        aliases.update({n.replace("GATE_", ""): k for k, n in names.items()})
        if what == "aggregation method":
            aliases["DEFAULT"] = 0
        if key in aliases:
            return aliases[key]
    else:
        raise TypeError("%s must be an int or a name, got %s" % (what, type(value).__name__))
    raise ValueError("Unknown %s %r: expected one of %s" % (what, value, ", ".join(
        "%s (%d)" % (n, k) for k, n in names.items())))


def parse_gate(value: Any) -> int:
    """0/1/2 or a name (``GATE_NONE``, ``op``, ``graph``, ...) -> the gate mode."""
    return _parse(value, GATE_NAMES, "gate mode")


def parse_aggregation(value: Any) -> int:
    """0/1/2 or a name (``ADD_N``, ``tree``, ``accumulate_n``, ``DEFAULT``) -> the method."""
    return _parse(value, AGGREGATION_NAMES, "aggregation method")


@dataclass
class Combination:
    """One (gate mode, aggregation method) build of the model and what was measured."""

    gate: int
    aggregation: int
    row: dict
    report: StructureReport
    races: list
    step_ms: dict = field(default_factory=dict)  # executor -> all measured step times (ms)
    trace_file: Optional[str] = None

    @property
    def name(self) -> str:
        """``"GATE_OP/ADD_N"`` style label."""
        return "%s/%s" % (GATE_NAMES[self.gate], AGGREGATION_NAMES[self.aggregation])


@dataclass
class Comparison:
    """The table ``compare`` returns: ``rows`` (dicts) and the ``combinations`` behind them."""

    combinations: list
    steps: int
    schedules: tuple
    threads: int

    @property
    def rows(self) -> list:
        """One dict per combination (the table's rows)."""
        return [c.row for c in self.combinations]

    def format(self, columns: Sequence[str] = COLUMNS) -> str:
        """The table as aligned text, one line per combination."""
        return format_rows(self.rows, columns=list(columns), keys=("gate", "aggregation"))

    __str__ = format


def _model(out: Any) -> tuple:
    """(train_op, loss or None, feed_dict) from what a build function returned."""
    if isinstance(out, dict):
        if "train_op" not in out:
            raise ValueError("build_fn returned a dict without a 'train_op' key")
        return out["train_op"], out.get("loss"), dict(out.get("feed_dict") or {})
    if isinstance(out, tuple) and len(out) in (2, 3):
        if len(out) == 2:
            return out[0], None, dict(out[1] or {})
        return out[0], out[1], dict(out[2] or {})
    return out, None, {}


def _digest(values: Iterable[Any]) -> str:
    import numpy as np
    h = hashlib.sha1()
    for v in values:
        a = np.ascontiguousarray(v)
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _session(graph: Any, threads: int) -> Any:
    from graphflow.runtime.config import ConfigProto
    from graphflow.runtime.session import Session
    return Session(graph=graph, config=ConfigProto(inter_op_parallelism_threads=threads))


def _train(sess: Any, model: tuple, variables: list, start: list, steps: int,
           schedule: str) -> str:
    """Train ``steps`` steps from ``start`` under ``schedule``; digest of the result."""
    from graphflow.runtime.config import RunOptions
    train, loss, feed = model
    for v, value in zip(variables, start):
        v.load(value, sess)
    options = RunOptions(schedule=schedule)
    for _ in range(steps):
        sess.run(train, feed, options=options)
    fetch = list(variables) + ([loss] if loss is not None else [])
    return _digest(sess.run(fetch, feed))


def _time_steps(sess: Any, model: tuple, n: int) -> list:
    train, _, feed = model
    sess.run(train, feed)  # warm: plan built, kernels loaded
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        sess.run(train, feed)
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def _write_trace(sess: Any, model: tuple, path: str) -> None:
    from graphflow.client.timeline import Timeline
    from graphflow.runtime.config import RunMetadata, RunOptions
    train, _, feed = model
    md = RunMetadata()
    sess.run(train, feed, options=RunOptions(trace_level=RunOptions.FULL_TRACE),
             run_metadata=md)
    with open(path, "w", encoding="utf-8") as f:
        f.write(Timeline(md.step_stats).generate_chrome_trace_format())


def _combination(build_fn: Callable, gate: int, agg: int, *, steps: int, schedules: tuple,
                 threads: int, timing_steps: int, seed: int,
                 trace_dir: Optional[str]) -> Combination:
    from graphflow.framework.graph import Graph
    from graphflow.ops import variables as variables_mod
    from graphflow.ops.random_ops import set_random_seed
    graph = Graph()
    with graph.as_default():
        set_random_seed(seed)
        model = _model(build_fn(gate, agg))
        init = variables_mod.global_variables_initializer()
        variables = variables_mod.global_variables()
    train, loss, feed = model
    report = structure_report(graph, train, feeds=list(feed))
    pairs = find_races(graph, train)
    row = {"gate": GATE_NAMES[gate], "aggregation": AGGREGATION_NAMES[agg]}
    row.update(report.row())
    row["races"] = len(pairs)
    digests: set = set()
    step_ms: dict = {}
    loss_value = None
    trace_file = None
    for executor, n_threads in (("seq", 1), ("par", threads)):
        sess = _session(graph, n_threads)
        try:
            sess.run(init)
            start = sess.run(variables)
            if executor == "seq":
                row["peak_bytes"] = sess.compiled_plan(train, feed).peak_bytes
            for schedule in schedules:
                for _ in range(2):
                    d = _train(sess, model, variables, start, steps, schedule)
                    digests.add(d)
                if executor == "seq" and schedule == schedules[0]:
                    row["result"] = d[:8]
                    if loss is not None:
                        loss_value = float(sess.run(loss, feed))
            if timing_steps > 0:
                for v, value in zip(variables, start):
                    v.load(value, sess)
                step_ms[executor] = _time_steps(sess, model, timing_steps)
                row[executor + "_ms"] = statistics.median(step_ms[executor])
            if trace_dir is not None and executor == "par":
                trace_file = os.path.join(trace_dir, "trace_%s_%s.json" % (
                    GATE_NAMES[gate].lower(), AGGREGATION_NAMES[agg].lower()))
                _write_trace(sess, model, trace_file)
        finally:
            sess.close()
    row["outcomes"] = len(digests)
    row["identical"] = len(digests) == 1
    if loss_value is not None:
        row["loss"] = loss_value
    return Combination(gate, agg, row, report, pairs, step_ms, trace_file)


def compare(build_fn: Callable[[int, int], Any],
            gate_modes: Sequence[Any] = (0, 1, 2),
            aggregation_methods: Sequence[Any] = (0, 1, 2), *,
            steps: int = 3, schedules: Sequence[Any] = DEFAULT_SCHEDULES, threads: int = 2,
            timing_steps: int = 10, seed: int = 0,
            trace_dir: Optional[str] = None) -> Comparison:
    """Build ``build_fn(gate, aggregation)`` for every combination and measure each.

    ``build_fn`` builds the model in the (fresh, default) graph and returns its
    train op, or a dict with ``train_op`` and optional ``loss`` and
    ``feed_dict`` (``analysis.models`` has examples). Gate modes and
    aggregation methods are ints (``tf.train.Optimizer.GATE_OP``,
    ``tf.AggregationMethod.ADD_N``) or their names. ``steps`` training steps
    run per schedule policy and executor (twice each) for the ``identical``
    column; ``timing_steps`` steps are timed per executor (0: no timing);
    ``trace_dir`` receives one Chrome trace (parallel executor) per
    combination. Returns a :class:`Comparison` (``print`` it for the table).
    """
    if not callable(build_fn):
        raise TypeError("build_fn must be callable, got %s" % type(build_fn).__name__)
    gates = [parse_gate(g) for g in gate_modes]
    aggs = [parse_aggregation(a) for a in aggregation_methods]
    if not gates or not aggs:
        raise ValueError("compare needs at least one gate mode and one aggregation method")
    if steps < 1:
        raise ValueError("steps must be at least 1, got %d" % steps)
    if threads < 2:
        raise ValueError("threads (the parallel executor's) must be at least 2, got %d"
                         % threads)
    from graphflow.runtime.policies import get_policy
    schedules = tuple(schedules) or ("default",)
    for s in schedules:
        get_policy(s)  # ValueError now, not after the first combination
    if trace_dir is not None:
        os.makedirs(trace_dir, exist_ok=True)
    combos = [_combination(build_fn, g, a, steps=steps, schedules=schedules, threads=threads,
                           timing_steps=timing_steps, seed=seed, trace_dir=trace_dir)
              for g in gates for a in aggs]
    return Comparison(combos, steps, schedules, threads)
