"""Run an ExecutionPlan: walk its steps over a slot list; errors become OpErrors.

The sequential executor (TF1's executor with ``inter_op_parallelism_threads``
of 0 or 1; runtime/parallel.py has the inter-op parallel one). On first use a
plan is *prepared* (:class:`_Prepared`, cached on the plan): constant steps
(``Const``, variable cells, folded values) run once and seed a slot template,
and the other steps become flat tuples specialised by arity, so a run costs
one list copy and, per step, one kernel call plus a few list operations
(~0.1 us). Errors become the OpError naming the failing node, after the
variables the run updated are restored (runtime/journal.py: a failed run
changes no variable).

Once a plan is reused, its runs of small steps may be compiled into segments
(compiler/segments.py): ``_Prepared.fast`` then replaces ``steps``.

Per-session state (variable cells, random-op states) lives in ``SessionState``
and reaches kernels through the context their factories receive.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Sequence

from graphflow import errors
from graphflow.compiler import segments
from graphflow.compiler.options import CompileOptions
from graphflow.errors import KernelError, OpError
from graphflow.runtime import journal, memory


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


# Ops whose kernel returns the same object on every run of a plan (a constant's
# array, a variable's cell): their steps run once when the plan is prepared.
_CONSTANT_TYPES = frozenset(("Const", "VariableV2"))
_ARITY_KIND = {0: 0, 1: 1, 2: 2}


def constant_step(step: tuple) -> bool:
    """True when ``step`` returns a value fixed for the plan's life: no inputs, no
    control inputs (a gated constant still runs when its gate opens), and a
    ``Const``/``VariableV2`` node or a kernel marked ``gf_constant`` (a folded value)."""
    fn, ins, outs, node = step
    return (not ins and len(outs) == 1
            and (getattr(node, "type", None) in _CONSTANT_TYPES
                 or getattr(fn, "gf_constant", False))
            and not getattr(node, "_control_inputs", None))


def dead_after(steps: list, feed_slots: Sequence[int], fetch_slots: Sequence[int]) -> list:
    """Per step, the slots no later step reads (fetched slots live to the end).

    The same rule as ``runtime.memory.liveness``, computed from ``steps`` itself
    so that a plan whose steps were replaced is never paired with stale lists.
    """
    last: dict = {}
    for k, (_, ins, outs, _) in enumerate(steps):
        for s in outs:
            last.setdefault(s, k)
        for s in ins:
            last[s] = k
    keep = set(fetch_slots) | set(feed_slots)
    dead: list = [[] for _ in steps]
    for s, k in last.items():
        if s not in keep:
            dead[k].append(s)
    return [tuple(d) for d in dead]


class _Prepared:
    """A plan compiled for the sequential loop (cached on the plan).

    ``template`` holds the values of constant steps, copied into each run's
    slot list; every other step becomes ``(kind, fn, a, b, out, dead, node)``:
    kind 0/1/2 = that many single-slot inputs and one output (``a``/``b`` the
    input slots), kind 3 = any other arity (``a`` = input slots, ``out`` = the
    output slots). ``dead`` are the slots released after the step (liveness),
    or None. Plans updating variables get three more (runtime/journal.py): kind
    4, the commit step before the first update (which updates this run
    journals), kind 5, an update that may need its undo copy (as kind 3, ``b``
    = (step index, written input positions)), and kind 6, the last step,
    checking that fetched variable references are initialized.
    """

    __slots__ = ("source", "feed_slots", "nfeeds", "template", "steps", "fetch_slots",
                 "fast", "runs", "tier")

    def __init__(self, plan: Any) -> None:
        source = plan.steps  # one snapshot: a compiler may swap in new steps later
        self.source = source
        self.feed_slots = plan.feed_slots
        # feeds usually own the first slots, in order: one slice assignment places them
        n = len(plan.feed_slots)
        self.nfeeds = n if list(plan.feed_slots) == list(range(n)) else -1
        self.fetch_slots = tuple(plan.fetch_slots)
        nslots = max([plan.nslots] + [s + 1 for _, ins, outs, _ in source for s in (*ins, *outs)])
        template: list = [None] * nslots
        steps = []
        # a failed run changes no variable (runtime/journal.py): before the first
        # in-place update, a commit step picks the updates to journal (kind 4);
        # those that may need it become kind 5; fetched refs are checked last (kind 6)
        info = journal.analyse(plan, source)
        sets = info.sequential_sets() if info is not None else ((), (), ())
        safe = sets[0]
        for k, (st, dead) in enumerate(zip(source, dead_after(source, self.feed_slots,
                                                              self.fetch_slots))):
            fn, ins, outs, node = st
            dead = dead or None
            if constant_step(st):
                if not dead or outs[0] not in dead:
                    template[outs[0]] = fn()
                continue
            if info is not None and k == info.updates[0] and (safe or info.fetch_checks):
                steps.append((4, _Commit(info, sets), None, None, None, None, None))
            kind = _ARITY_KIND.get(len(ins), 3) if len(outs) == 1 else 3
            if k in safe:
                steps.append((5, fn, tuple(ins), (k, info.writes[k]), tuple(outs), dead, node))
            elif kind == 3:
                steps.append((3, fn, tuple(ins), None, tuple(outs), dead, node))
            else:
                a = ins[0] if ins else None
                b = ins[1] if kind == 2 else None
                steps.append((kind, fn, a, b, outs[0], dead, node))
        if info is not None and info.fetch_checks:
            steps.append((6, None, None, info.fetch_checks, None, None, None))
        self.template = template
        self.steps = steps
        # the second tier (compiler/segments.py): ``fast`` replaces ``steps`` once compiled
        self.fast = None
        self.runs = 0
        report = getattr(plan, "report", None)
        self.tier = segments.Tier(report.options if report is not None else CompileOptions())
        if report is not None:
            report.tier = self.tier


class _Commit:
    """The sequential executor's commit step: which updates of this run to journal
    (``journal.Analysis.choose``: guard and prechecks, before any update writes)."""

    __slots__ = ("info", "sets")

    def __init__(self, info: Any, sets: tuple) -> None:
        self.info, self.sets = info, sets

    def __call__(self, vals: list) -> frozenset:
        return self.info.choose(self.sets, vals)


def prepared(plan: Any) -> _Prepared:
    """The sequential form of ``plan`` (built on first use, rebuilt if its steps change)."""
    p = plan.__dict__.get("_prepared")
    if p is None or p.source is not plan.steps or p.feed_slots is not plan.feed_slots:
        p = plan._prepared = _Prepared(plan)
    return p


def execute(plan: Any, feed_values: list) -> list:
    """Run ``plan`` with ``feed_values`` (in ``plan.feed_slots`` order)."""
    if memory.TRACKING:  # peak live bytes per run (runtime/memory.py, autodiff helper)
        return memory.execute_tracked(plan, feed_values)
    p = plan.__dict__.get("_prepared")
    if p is None or p.source is not plan.steps or p.feed_slots is not plan.feed_slots:
        p = prepared(plan)
    steps = p.fast
    if steps is None:
        steps = p.steps
        p.runs += 1
        if p.runs == p.tier.after:  # the plan is reused: compile its segments
            segments.start(p)
            steps = p.fast or steps
    vals = p.template.copy()
    if p.nfeeds >= 0 and len(feed_values) == p.nfeeds:
        vals[:p.nfeeds] = feed_values
    else:
        for s, v in zip(p.feed_slots, feed_values):
            vals[s] = v
    node = None
    saved = None  # journal of this run: undo copies of updated variables
    chosen: Any = ()
    try:
        for kind, fn, a, b, o, dead, node in steps:
            if kind == 2:
                vals[o] = fn(vals[a], vals[b])
            elif kind == 1:
                vals[o] = fn(vals[a])
            elif kind == 0:
                vals[o] = fn()
            elif kind <= 3 or kind == 5:
                args = [vals[i] for i in a]
                if kind == 5 and b[0] in chosen:  # an update a later step may undo
                    for i in b[1]:
                        journal.save(saved, args[i])
                r = fn(*args)
                if len(o) == 1:
                    vals[o[0]] = r
                elif o:
                    for s, v in zip(o, r):
                        vals[s] = v
            elif kind == 4:  # commit: the first in-place update is next
                saved = {}
                chosen = fn(vals)
            else:  # kind 6: fetched variable references must be initialized
                journal.check_fetched_refs(b, vals)
            if dead:  # release values after their last consumer (liveness)
                for s in dead:
                    vals[s] = None
    except BaseException as e:  # noqa: BLE001 - every failure is reported as an OpError
        if saved:  # a failed run changes no variable
            journal.restore(saved)
        if node is None or not isinstance(e, Exception):
            raise
        raise node_error(node, e) from e
    return [vals[s] for s in p.fetch_slots]
