"""Traced execution for ``RunOptions(trace_level=FULL_TRACE)`` and RunMetadata.

``Session.run`` calls :func:`execute_traced` instead of ``executor.execute``
only when ``options.trace_level > 0``, so untraced runs pay nothing. It runs
the same plan steps and records, per executed op, its start and end time,
the thread and the outputs' dtypes, shapes and bytes; :func:`fill_run_metadata`
turns that into a ``StepStats`` proto (one ``DeviceStepStats`` for the CPU,
one ``NodeExecStats`` per op, labels ``"<name> = <Type>(<inputs>)"``) that
``client.timeline.Timeline`` and ``summary.FileWriter.add_run_metadata`` take,
and the executed subgraph as the partition graph.
"""
from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from graphflow.runtime import executor, journal, memory

DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"
ALLOCATOR = "cpu"


class _OpRecord:
    __slots__ = ("op", "start", "end", "thread", "outputs")

    def __init__(self, op: Any, start: int, end: int, thread: int) -> None:
        self.op = op
        self.start = start
        self.end = end
        self.thread = thread
        self.outputs: dict = {}  # output index -> value


def execute_traced(plan: Any, feed_values: list, timeout_ms: int = 0) -> tuple:
    """Run ``plan`` like ``executor.execute``; returns (fetched values, trace).

    The trace is ``(wall-clock ns at start, perf_counter ns at start, records)``
    with one record per op in first-execution order (an op split into several
    steps, such as an accumulation, spans its first to its last step).
    """
    saved = getattr(executor._RUN, "deadline", None)
    if timeout_ms > 0:
        executor._RUN.deadline = time.monotonic() + timeout_ms / 1000.0
    try:
        return _execute_traced(plan, feed_values)
    finally:
        executor._RUN.deadline = saved


def _execute_traced(plan: Any, feed_values: list) -> tuple:
    dead_after = memory.liveness(plan)
    vals: list = [None] * plan.nslots
    for s, v in zip(plan.feed_slots, feed_values):
        vals[s] = v
    records: dict = {}
    thread = threading.get_native_id()
    clock = time.perf_counter_ns
    wall0, perf0 = time.time_ns(), clock()
    step = None
    jr = journal.LoopJournal(plan)  # a failed run changes no variable
    try:
        for k, (step, dead) in enumerate(zip(plan.steps, dead_after)):
            fn, ins, outs, op = step
            args = [vals[i] for i in ins]
            jr.before(k, args, vals)
            t0 = clock()
            r = fn(*args)
            t1 = clock()
            rec = records.get(op)
            if rec is None:
                rec = records[op] = _OpRecord(op, t0, t1, thread)
            else:
                rec.end = t1
            results = (r,) if len(outs) == 1 else (tuple(r) if outs else ())
            for s, v in zip(outs, results):
                vals[s] = v
                rec.outputs[s] = v
            for s in dead:
                vals[s] = None
        step = None
        jr.finish(vals)
    except BaseException as e:  # noqa: BLE001 - reported like executor.execute does
        jr.undo()
        if step is None or not isinstance(e, Exception):
            raise
        raise executor.node_error(step[3], e) from e
    return [vals[s] for s in plan.fetch_slots], (wall0, perf0, list(records.values()))


def _nbytes(v: Any) -> int:
    if isinstance(v, executor.VariableCell):
        v = v.value
    return int(v.nbytes) if isinstance(v, np.ndarray) else 0


def _input_label(t: Any) -> str:
    return t.op.name if t.value_index == 0 else "%s:%d" % (t.op.name, t.value_index)


def step_stats(plan: Any, trace: tuple) -> Any:
    """The ``StepStats`` proto of one traced run."""
    from graphflow.io import proto
    from graphflow.io.tensor_proto import shape_to_proto
    wall0, perf0, records = trace
    ss = proto.StepStats()
    dev = ss.dev_stats.add(device=DEVICE)
    for rec in records:
        op = rec.op
        start_ns = wall0 + (rec.start - perf0)
        dur_ns = max(rec.end - rec.start, 0)
        ns = dev.node_stats.add(
            node_name=op.name, all_start_micros=start_ns // 1000, op_start_rel_micros=0,
            op_end_rel_micros=dur_ns // 1000, all_end_rel_micros=dur_ns // 1000,
            scheduled_micros=start_ns // 1000, thread_id=rec.thread & 0xFFFFFFFF,
            all_start_nanos=start_ns, op_start_rel_nanos=0, op_end_rel_nanos=dur_ns,
            all_end_rel_nanos=dur_ns, scheduled_nanos=start_ns,
            timeline_label="%s = %s(%s)" % (op.name, op.type,
                                            ", ".join(_input_label(t) for t in op._inputs)))
        total = 0
        index = {plan.slot_of[t]: k for k, t in enumerate(op._outputs) if t in plan.slot_of}
        for slot, v in rec.outputs.items():
            k = index.get(slot)
            if k is None:
                continue
            t = op._outputs[k]
            nbytes = _nbytes(v)
            total += nbytes
            out = ns.output.add(slot=k)
            desc = out.tensor_description
            desc.dtype = t.dtype.base_dtype.as_datatype_enum
            arr = v.value if isinstance(v, executor.VariableCell) else v
            shape = arr.shape if isinstance(arr, np.ndarray) else t.shape
            desc.shape.CopyFrom(shape_to_proto(shape))
            desc.allocation_description.requested_bytes = nbytes
            desc.allocation_description.allocated_bytes = nbytes
            desc.allocation_description.allocator_name = ALLOCATOR
        if rec.outputs:
            ns.memory.add(allocator_name=ALLOCATOR, total_bytes=total, peak_bytes=total,
                          live_bytes=total)
    for tid in sorted({rec.thread & 0xFFFFFFFF for rec in records}):
        dev.thread_names[tid] = "graphflow executor %d" % tid
    return ss


def fill_run_metadata(run_metadata: Any, plan: Any, trace: Any, partition_graphs: bool) -> None:
    """Store step stats (when traced) and the executed subgraph into ``run_metadata``.

    ``run_metadata`` is ``tf.RunMetadata()`` (an attribute bag) or a
    RunMetadata proto.
    """
    stats = step_stats(plan, trace) if trace is not None else None
    graphs = [_partition_graph(plan)] if partition_graphs else []
    if hasattr(run_metadata, "CopyFrom"):  # a protobuf message
        if stats is not None:
            run_metadata.step_stats.CopyFrom(stats)
        if graphs:
            del run_metadata.partition_graphs[:]
            run_metadata.partition_graphs.extend(graphs)
        return
    if stats is not None:
        run_metadata.step_stats = stats
    if graphs:
        run_metadata.partition_graphs = graphs


def _partition_graph(plan: Any) -> Any:
    from graphflow.io import graph_def, proto
    gd = proto.GraphDef()
    for op in plan.ops:
        gd.node.add().CopyFrom(graph_def.node_def(op))
    gd.versions.CopyFrom(graph_def.graph_def_versions())
    return gd
