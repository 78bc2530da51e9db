"""Run an ExecutionPlan: walk its steps over a slot list; errors become OpErrors.

Per-session state (variable cells, random-op states) lives in ``SessionState``
and reaches kernels through the context their factories receive.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

from graphflow import errors
from graphflow.errors import KernelError, OpError
from graphflow.runtime import memory


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
        self.closed = False

    def close(self) -> None:
        """The session closed: states with a ``session_closed()`` method (queues)
        cancel their waiting ops."""
        with self.lock:
            self.closed = True
            states = list(self.op_state.values())
        for s in states:
            hook = getattr(s, "session_closed", None)
            if hook is not None:
                hook()

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


_RUN = threading.local()  # per-thread context of the Session.run in progress


def run_deadline() -> Any:
    """``time.monotonic()`` deadline of this thread's current run, or None.

    Blocking kernels (queue ops) bound their waits by it and raise
    DeadlineExceededError past it (``RunOptions.timeout_in_ms``).
    """
    return getattr(_RUN, "deadline", None)


def execute_with_timeout(plan: Any, feed_values: list, timeout_ms: int) -> list:
    """``execute`` with blocking kernels limited to ``timeout_ms`` milliseconds."""
    saved = getattr(_RUN, "deadline", None)
    _RUN.deadline = time.monotonic() + timeout_ms / 1000.0
    try:
        return execute(plan, feed_values)
    finally:
        _RUN.deadline = saved


def execute(plan: Any, feed_values: list) -> list:
    """Run ``plan`` with ``feed_values`` (in ``plan.feed_slots`` order)."""
    if memory.TRACKING:  # peak live bytes per run (runtime/memory.py, autodiff helper)
        return memory.execute_tracked(plan, feed_values)
    dead_after = plan._dead_after if hasattr(plan, "_dead_after") else memory.liveness(plan)
    vals: list = [None] * plan.nslots
    for s, v in zip(plan.feed_slots, feed_values):
        vals[s] = v
    step = None
    try:
        for step, dead in zip(plan.steps, dead_after):
            fn, ins, outs, _ = step
            r = fn(*[vals[i] for i in ins])
            if len(outs) == 1:
                vals[outs[0]] = r
            elif outs:
                for s, v in zip(outs, r):
                    vals[s] = v
            for s in dead:  # release values after their last consumer (liveness)
                vals[s] = None
    except Exception as e:  # noqa: BLE001 - every failure is reported as an OpError
        if step is None:
            raise
        raise node_error(step[3], e) from e
    return [vals[s] for s in plan.fetch_slots]
