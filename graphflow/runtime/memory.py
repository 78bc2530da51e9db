"""Peak live memory of a plan run, measured from value-slot liveness.

While tracking is on (``with memory.tracking():``), ``executor.execute``
runs plans through ``execute_tracked``: a slot's value is released right
after its last consumer step (fetched slots live to the end), and the bytes
of the distinct array buffers held by live slots are summed after every step.
The maximum is stored as ``plan.peak_bytes`` (and ``plan.peak_step``, the op
after which it was reached). Buffers shared by several slots (an Identity
forwarding its input, views) count once.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy as np

TRACKING = False


@contextlib.contextmanager
def tracking(enabled: bool = True) -> Iterator[None]:
    """Record ``plan.peak_bytes`` for every plan executed inside the block."""
    global TRACKING
    saved, TRACKING = TRACKING, enabled
    try:
        yield
    finally:
        TRACKING = saved


def liveness(plan: Any) -> list:
    """Per step: the slots whose value is dead after that step (cached on the plan)."""
    dead = getattr(plan, "_dead_after", None)
    if dead is not None:
        return dead
    last: dict = {}
    for k, (_, ins, outs, _) in enumerate(plan.steps):
        for s in outs:
            last.setdefault(s, k)
        for s in ins:
            last[s] = k
    for s in plan.feed_slots:
        last.setdefault(s, -1)
    keep = set(plan.fetch_slots)
    dead = [[] for _ in plan.steps]
    early = []
    for s, k in last.items():
        if s in keep:
            continue
        if k < 0:
            early.append(s)
        else:
            dead[k].append(s)
    plan._dead_after = [tuple(d) for d in dead]
    plan._dead_before = tuple(early)
    return plan._dead_after


def _root(v: Any) -> Any:
    while isinstance(getattr(v, "base", None), np.ndarray):
        v = v.base
    return v


class _Live:
    """Reference-counted bytes of the buffers held by live slots."""

    def __init__(self) -> None:
        self.count: dict = {}
        self.bytes = 0

    def hold(self, v: Any) -> None:
        if isinstance(v, np.ndarray):
            r = _root(v)
            k = id(r)
            c = self.count.get(k)
            if c is None:
                self.count[k] = [1, r.nbytes, r]
                self.bytes += r.nbytes
            else:
                c[0] += 1

    def drop(self, v: Any) -> None:
        if isinstance(v, np.ndarray):
            k = id(_root(v))
            c = self.count[k]
            c[0] -= 1
            if c[0] == 0:
                self.bytes -= c[1]
                del self.count[k]


def execute_tracked(plan: Any, feed_values: list) -> list:
    """``executor.execute`` that frees dead slots and records ``plan.peak_bytes``."""
    from graphflow.runtime.executor import node_error
    from graphflow.runtime.journal import LoopJournal
    dead = liveness(plan)
    vals: list = [None] * plan.nslots
    live = _Live()
    for s, v in zip(plan.feed_slots, feed_values):
        vals[s] = v
        live.hold(v)
    peak, peak_op = live.bytes, None
    for s in plan._dead_before:
        live.drop(vals[s])
        vals[s] = None
    step = None
    jr = LoopJournal(plan)  # a failed run changes no variable
    try:
        for k, step in enumerate(plan.steps):
            fn, ins, outs, op = step
            args = [vals[i] for i in ins]
            jr.before(k, args, vals)
            r = fn(*args)
            results = (r,) if len(outs) == 1 else (r if outs else ())
            for s, v in zip(outs, results):
                live.hold(v)
                live.drop(vals[s])
                vals[s] = v
            if live.bytes > peak:
                peak, peak_op = live.bytes, op
            for s in dead[k]:
                live.drop(vals[s])
                vals[s] = None
        step = None
        jr.finish(vals)
    except BaseException as e:  # noqa: BLE001 - reported like executor.execute does
        jr.undo()
        if step is None or not isinstance(e, Exception):
            raise
        raise node_error(step[3], e) from e
    plan.peak_bytes = peak
    plan.peak_step = peak_op
    return [vals[s] for s in plan.fetch_slots]
