"""Chrome trace of a run's step stats (``tensorflow.python.client.timeline``).

``Timeline(run_metadata.step_stats).generate_chrome_trace_format()`` returns
the JSON that chrome://tracing and Perfetto open (formats.md §c): process
metadata (pid 0 "Allocators", then a "Compute" and a "Tensors" pid per
device), one complete ``X`` event per executed node on the first free lane
of its device, dataflow arrows (``s``/``t``) between lanes and, with
``show_memory``, tensor object events (``N``/``O``/``D``) and per-allocator
memory counters (``C``).
"""
from __future__ import annotations

import json
import re
from typing import Any, Optional

__all__ = ["Timeline"]

_LABEL = re.compile(r"(.*) = (.*)\((.*)\)")


class _Tensor:
    """A tensor's life for the memory view."""

    def __init__(self, name: str, object_id: int, create: int, pid: int, allocator: str,
                 num_bytes: int) -> None:
        self.name = name
        self.object_id = object_id
        self.create_time = create
        self.pid = pid
        self.allocator = allocator
        self.num_bytes = num_bytes
        self.last_unref = create

    def unref(self, t: int) -> None:
        self.last_unref = max(self.last_unref, t)


class _Trace:
    """Collects metadata and events; serializes them as TF does."""

    def __init__(self) -> None:
        self.metadata: list = []
        self.events: list = []

    def process(self, pid: int, name: str) -> None:
        self.metadata.append({"name": "process_name", "ph": "M", "pid": pid,
                              "args": {"name": name}})

    def event(self, **fields: Any) -> None:
        self.events.append(fields)

    def to_string(self, pretty: bool = True) -> str:
        trace = {"traceEvents": self.metadata + self.events}
        if pretty:
            return json.dumps(trace, indent=4, separators=(",", ": "))
        return json.dumps(trace, separators=(",", ":"))


def _parse_label(ns: Any) -> tuple:
    m = _LABEL.match(ns.timeline_label or "")
    if m is None:
        return "unknown", []
    inputs = m.group(3)
    return m.group(2), (inputs.split(", ") if inputs else [])


class Timeline:
    """Builds a Chrome trace from a ``StepStats`` (graphflow's or TensorFlow's proto)."""

    def __init__(self, step_stats: Any, graph: Optional[Any] = None) -> None:
        if step_stats is None:
            raise ValueError("Timeline needs step stats: run with RunOptions(trace_level="
                             "RunOptions.FULL_TRACE) and pass run_metadata.step_stats")
        self._step_stats = step_stats
        self._graph = graph

    def generate_chrome_trace_format(self, show_dataflow: bool = True,
                                     show_memory: bool = False,
                                     op_time: str = "schedule") -> str:
        """The trace as a JSON string (``{"traceEvents": [...]}``).

        ``op_time`` ("schedule", "gpu", "all") only matters for GPU kernel
        streams, which graphflow's step stats never contain.
        """
        trace = _Trace()
        trace.process(0, "Allocators")
        devices = []
        pid = 1
        for dev in self._step_stats.dev_stats:
            trace.process(pid, "%s Compute" % dev.device)
            trace.process(pid + 1, "%s Tensors" % dev.device)
            lanes = self._lanes(dev.node_stats)
            devices.append((dev, pid, pid + 1, lanes))
            pid += 2
        tensors: dict = {}
        flow_starts: dict = {}
        # 1) tensors: every output is created at its node's start
        for dev, compute_pid, tensors_pid, lanes in devices:
            for ns, tid in zip(dev.node_stats, lanes):
                start = int(ns.all_start_micros)
                end = start + int(ns.all_end_rel_micros)
                for index, out in enumerate(ns.output):
                    name = "%s:%d" % (ns.node_name, index) if index else ns.node_name
                    alloc = out.tensor_description.allocation_description
                    t = _Tensor(name, len(tensors), start, tensors_pid, alloc.allocator_name,
                                int(alloc.requested_bytes))
                    t.unref(end)
                    tensors[name] = t
                    flow_starts[name] = (end, compute_pid, tid)
                    if show_memory:
                        trace.event(ph="N", cat="Tensor", name=name, pid=tensors_pid,
                                    tid=tid, ts=start, id=t.object_id)
                        desc = str(out.tensor_description).replace('"', "")
                        trace.event(ph="O", cat="Tensor", name=name, pid=tensors_pid,
                                    tid=tid, ts=end - 1, id=t.object_id,
                                    args={"snapshot": {"tensor_description": desc}})
        # 2) ops, and dataflow arrows between lanes
        flow_id = 0
        for dev, compute_pid, tensors_pid, lanes in devices:
            for ns, tid in zip(dev.node_stats, lanes):
                start = int(ns.all_start_micros)
                dur = int(ns.all_end_rel_micros)
                op_type, inputs = _parse_label(ns)
                args = {"name": ns.node_name, "op": op_type}
                for i, name in enumerate(inputs):
                    args["input%d" % i] = name
                trace.event(ph="X", cat="Op", name=op_type, pid=compute_pid, tid=tid,
                            ts=start, dur=dur, args=args)
                for name in inputs:
                    key = self._known(name, tensors)
                    if key is None:
                        continue
                    tensors[key].unref(start + dur - 1)
                    s_ts, s_pid, s_tid = flow_starts[key]
                    if show_dataflow and (s_pid, s_tid) != (compute_pid, tid):
                        trace.event(ph="s", cat="DataFlow", name=key, pid=s_pid, tid=s_tid,
                                    ts=s_ts, id=flow_id)
                        trace.event(ph="t", cat="DataFlow", name=key, pid=compute_pid,
                                    tid=tid, ts=start, id=flow_id)
                        flow_id += 1
        # 3) memory: tensor deletions and per-allocator totals
        if show_memory:
            self._memory(trace, tensors)
        return trace.to_string(pretty=True)

    @staticmethod
    def _lanes(node_stats: Any) -> list:
        """Per node, the first lane free before its start (a new lane if none is)."""
        busy = [0]
        out = []
        for ns in node_stats:
            start = int(ns.all_start_micros)
            end = start + int(ns.all_end_rel_micros)
            for i, until in enumerate(busy):
                if start > until:
                    busy[i] = end
                    out.append(i)
                    break
            else:
                busy.append(end)
                out.append(len(busy) - 1)
        return out

    @staticmethod
    def _known(name: str, table: dict) -> Optional[str]:
        if name in table:
            return name
        cut = name.rfind("/_")  # a Send/Recv suffix: the original node's tensor
        if cut > 0 and name[:cut] in table:
            return name[:cut]
        return None

    @staticmethod
    def _memory(trace: _Trace, tensors: dict) -> None:
        per_alloc: dict = {}
        for t in tensors.values():
            trace.event(ph="D", cat="Tensor", name=t.name, pid=t.pid, tid=0,
                        ts=t.last_unref, id=t.object_id)
            ev = per_alloc.setdefault(t.allocator, [])
            ev.append((t.create_time, t.num_bytes, t.name))
            ev.append((t.last_unref, -t.num_bytes, t.name))
        for alloc, events in per_alloc.items():
            total = 0
            for ts, delta, _ in sorted(events):
                total += delta
                trace.event(ph="C", cat="Memory", name=alloc, pid=0, tid=0, ts=ts,
                            args={alloc: total})
