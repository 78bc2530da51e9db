"""Run an ExecutionPlan: walk its steps over a slot list; errors become OpErrors.

Per-session state (variable cells, random-op states) lives in ``SessionState``
and reaches kernels through the context their factories receive.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

from graphflow import errors
from graphflow.errors import KernelError, OpError


class VariableCell:
    """A variable's storage in one session: ``value`` is None until assigned."""

    __slots__ = ("name", "value", "lock")

    def __init__(self, name: str) -> None:
        self.name = name
        self.value = None
        self.lock = threading.Lock()

    def read(self) -> Any:
        v = self.value
        if v is None:
            raise KernelError(errors.FailedPreconditionError,
                              "Attempting to use uninitialized value %s" % self.name)
        return v


class SessionState:
    """Everything a session owns at run time: variable cells and op states."""

    def __init__(self) -> None:
        self.cells: dict = {}
        self.op_state: dict = {}
        self.lock = threading.RLock()

    def cell(self, op: Any) -> VariableCell:
        c = self.cells.get(op.name)
        if c is None:
            with self.lock:
                c = self.cells.setdefault(op.name, VariableCell(op.name))
        return c

    def state(self, op: Any, factory: Callable) -> Any:
        """Per-(session, op) mutable state, created once by ``factory()``."""
        s = self.op_state.get(op.name)
        if s is None:
            with self.lock:
                s = self.op_state.get(op.name)
                if s is None:
                    s = self.op_state[op.name] = factory()
        return s


def node_error(op: Any, exc: BaseException) -> OpError:
    """Turn a kernel failure into the OpError subclass naming ``op``."""
    if isinstance(exc, KernelError):
        cls, msg = exc.cls, exc.message
    elif isinstance(exc, OpError):
        return exc
    elif isinstance(exc, MemoryError):
        cls, msg = errors.ResourceExhaustedError, "OOM when allocating tensor: %s" % exc
    elif isinstance(exc, (ValueError, IndexError, TypeError, ZeroDivisionError)):
        cls, msg = errors.InvalidArgumentError, str(exc)
    else:
        cls, msg = errors.InternalError, "%s: %s" % (type(exc).__name__, exc)
    return cls(None, op, "%s\n\t [[{{node %s}}]]" % (msg, op.name))


def execute(plan: Any, feed_values: list) -> list:
    """Run ``plan`` with ``feed_values`` (in ``plan.feed_slots`` order)."""
    vals: list = [None] * plan.nslots
    for s, v in zip(plan.feed_slots, feed_values):
        vals[s] = v
    step = None
    try:
        for step in plan.steps:
            fn, ins, outs, _ = step
            r = fn(*[vals[i] for i in ins])
            if len(outs) == 1:
                vals[outs[0]] = r
            elif outs:
                for s, v in zip(outs, r):
                    vals[s] = v
    except Exception as e:  # noqa: BLE001 - every failure is reported as an OpError
        if step is None:
            raise
        raise node_error(step[3], e) from e
    return [vals[s] for s in plan.fetch_slots]
