"""Inter-op parallel executor: run ready plan steps concurrently on a thread pool.

The TF1 equivalent is the executor behind ``ConfigProto(inter_op_parallelism_threads=N)``.
A run starts every step whose dependencies (``plan.deps``: data slots and
control edges) have finished; kernels release the GIL (njit ``nogil=True``,
NumPy BLAS), so independent steps overlap. The calling thread works on its own
run and up to ``N - 1`` pooled workers, shared by the session's concurrent
runs, join it while more than one step is ready: a run uses at most ``N``
threads. The first failing step stops the start of new steps; the run waits for
steps already running, restores the variables it updated (runtime/journal.py)
and raises that step's OpError. Plans whose steps form
a single chain (one valid order) and runs measuring peak memory
(``memory.tracking``) use the sequential executor instead.

Which ready step starts next is decided by one object, the
:class:`~graphflow.runtime.policies.SchedulePolicy` (default: plan order;
``RunOptions(schedule=...)`` picks another per run). Variable reads keep TF1
reference semantics, as in the sequential executor: a read aliases the
variable's buffer, so what an unordered read sees depends on the schedule,
exactly as in TF.
"""
from __future__ import annotations

import queue
import threading
import time
import weakref
from typing import Any, Callable, Optional, Sequence

from graphflow.runtime import executor, journal, memory
from graphflow.runtime.policies import (PLAN_ORDER, FunctionPolicy,  # noqa: F401 (re-exported)
                                        SchedulePolicy)

_NO_FREE = 1 << 30  # use count of slots that live to the end of the run (fetches)


# --- dependencies ------------------------------------------------------------------------
def node_ops(node: Any) -> tuple:
    """The operations a plan step runs (a fused group's ``ops``, else the op itself)."""
    ops = getattr(node, "ops", None)
    return tuple(ops) if ops is not None else (node,)


def step_deps(plan: Any, steps: Optional[list] = None) -> list:
    """Per step, the sorted tuple of earlier steps that must finish before it starts.

    The union of ``plan.deps`` (the compiler's, used when it matches ``steps``)
    and what this function derives from the steps themselves: read-after-write,
    write-after-read and write-after-write hazards on value slots (an
    accumulation writes one slot from several steps), and the control inputs of
    every op a step runs.
    """
    steps = plan.steps if steps is None else steps
    given = getattr(plan, "deps", None)
    if given is not None and (len(given) != len(steps) or any(
            d >= k for k, ds in enumerate(given) for d in ds)):
        given = None  # not this list of steps (replaced since): derive everything
    step_of_op: dict = {}
    for k, st in enumerate(steps):
        for op in node_ops(st[3]):
            step_of_op.setdefault(op, []).append(k)
    writer: dict = {}   # slot -> last step writing it
    readers: dict = {}  # slot -> steps reading it since that write
    out = []
    for k, (_, ins, outs, node) in enumerate(steps):
        deps = set(given[k]) if given is not None else set()
        for s in ins:
            w = writer.get(s)
            if w is not None:
                deps.add(w)
        for s in outs:
            w = writer.get(s)
            if w is not None:
                deps.add(w)
            deps.update(readers.get(s, ()))
        for op in node_ops(node):
            for c in op._control_inputs:
                deps.update(d for d in step_of_op.get(c, ()) if d < k)
        for s in ins:
            readers.setdefault(s, []).append(k)
        for s in outs:
            writer[s] = k
            readers[s] = []
        deps.discard(k)
        out.append(tuple(sorted(deps)))
    return out


class _Graph:
    """What every parallel run of one plan shares (built once, cached on the plan).

    Steps that only return a value fixed for the plan's life (constants,
    variable cells: ``executor.constant_step``) run here once; their values
    seed every run's slots and their dependencies pass on to their users, so
    control edges through them still hold.
    """

    __slots__ = ("source", "feed_slots", "steps", "users", "ndeps", "roots", "uses",
                 "frees", "template", "nsteps", "fetch_slots", "chain", "policies", "journal")

    def __init__(self, plan: Any) -> None:
        source = plan.steps  # one snapshot: a compiler may swap in new steps later
        self.source = source
        self.feed_slots = plan.feed_slots
        self.fetch_slots = list(plan.fetch_slots)
        steps = [(fn, tuple(ins), tuple(outs), node) for fn, ins, outs, node in source]
        deps = step_deps(plan, steps)
        nslots = max([plan.nslots] + [s + 1 for _, ins, outs, _ in steps for s in ins + outs])
        template: list = [None] * nslots
        folded: dict = {}  # prefilled step -> the live steps it waited for
        live_deps: list = []
        for k, st in enumerate(steps):
            ds: set = set()
            for d in deps[k]:
                if d in folded:
                    ds.update(folded[d])
                else:
                    ds.add(d)
            if executor.constant_step(st):
                template[st[2][0]] = st[0]()
                folded[k] = ds
                live_deps.append(None)
            else:
                live_deps.append(ds)
        users: list = [[] for _ in steps]
        for k, ds in enumerate(live_deps):
            for d in ds or ():
                users[d].append(k)
        self.steps = steps
        live = [k for k, ds in enumerate(live_deps) if ds is not None]
        # One valid order only (each step waits for the one before): no parallelism.
        self.chain = all(a in live_deps[b] for a, b in zip(live, live[1:]))
        self.users = [tuple(sorted(u)) for u in users]
        self.ndeps = [len(ds) if ds is not None else -1 for ds in live_deps]
        self.roots = [k for k, n in enumerate(self.ndeps) if n == 0]
        self.nsteps = len(steps) - len(folded)
        # A slot is freed when its last reading step is done; fetched slots live on,
        # as do prefilled values (they are read again by every run).
        uses = [0] * nslots
        distinct = [tuple(set(st[1])) if k not in folded else () for k, st in enumerate(steps)]
        for ins in distinct:
            for s in ins:
                uses[s] += 1
        for s in self.fetch_slots:
            uses[s] = _NO_FREE
        for k in folded:
            uses[steps[k][2][0]] = _NO_FREE
        frees = []
        for k, st in enumerate(steps):  # outputs nobody reads are freed at once
            unread = tuple(s for s in st[2] if uses[s] == 0 and s not in distinct[k])
            for s in unread:
                uses[s] = 1
            frees.append(distinct[k] + unread)
        self.uses = uses
        self.frees = frees
        self.template = template
        self.policies: dict = {}  # policy key -> the policy prepared for this plan
        # a failed run changes no variable: (writes per step, analysis, (safe, fast))
        info = journal.analyse(plan, source)
        self.journal = None
        if info is not None:
            sets = info.parallel_sets(deps)
            if sets[0] or info.fetch_checks:
                self.journal = (info.writes, info, sets)

    def bound(self, plan: Any, policy: SchedulePolicy) -> SchedulePolicy:
        """``policy`` prepared for this plan (cached when it has a key)."""
        key = policy.key
        if key is None:
            return policy.prepare(plan)
        p = self.policies.get(key)
        if p is None:
            p = self.policies[key] = policy.prepare(plan)
        return p


def _graph_of(plan: Any) -> _Graph:
    g = plan.__dict__.get("_parallel_graph")
    if g is None or g.feed_slots is not plan.feed_slots or g.source is not plan.steps:
        g = _Graph(plan)
        plan._parallel_graph = g
    return g


# --- one run -----------------------------------------------------------------------------
class _Run:
    __slots__ = ("g", "vals", "pending", "uses", "ready", "lock", "cond", "remaining", "active",
                 "helpers", "waiting", "error", "deadline", "observer", "policy", "journal")

    def __init__(self, g: _Graph, feed_values: Sequence[Any], policy: SchedulePolicy,
                 deadline: Optional[float], observer: Optional[Callable]) -> None:
        self.g = g
        vals = list(g.template)
        for s, v in zip(g.feed_slots, feed_values):
            vals[s] = v
        self.vals = vals
        self.pending = list(g.ndeps)
        self.uses = list(g.uses)
        self.policy = policy
        ready = policy.new_ready()
        for k in g.roots:
            policy.push(ready, k)
        self.ready = ready
        self.lock = threading.Lock()
        self.cond: Any = None  # made when the caller first waits (on ``lock``)
        self.remaining = g.nsteps
        self.active = 0       # steps running now
        self.helpers = 0      # pool workers on this run (or queued to join it)
        self.waiting = False  # the caller sleeps until a step is ready or the run ends
        self.error: Any = None  # (step index, exception) of the first failure
        self.deadline = deadline
        self.observer = observer


class ParallelExecutor:
    """Runs plans with up to ``num_threads`` threads per run (``inter_op_parallelism_threads``).

    Workers are started on first use and stopped by :meth:`shutdown` (the
    session's ``close``). ``policy`` orders the start of ready steps.
    """

    def __init__(self, num_threads: int, policy: Optional[SchedulePolicy] = None) -> None:
        if num_threads < 2:
            raise ValueError("a parallel executor needs at least 2 threads, got %d"
                             % num_threads)
        self.num_threads = num_threads
        self.policy = policy if policy is not None else PLAN_ORDER
        self._tokens: queue.SimpleQueue = queue.SimpleQueue()
        self._workers: list = []
        self._lock = threading.Lock()
        self._closed = False

    # -- pool ----------------------------------------------------------------------------
    def _start_workers(self) -> None:
        with self._lock:
            if self._workers or self._closed:
                return
            for i in range(self.num_threads - 1):
                t = threading.Thread(target=_worker_loop, args=(self._tokens,),
                                     name="graphflow-inter-op-%d" % i, daemon=True)
                t.start()
                self._workers.append(t)

    def shutdown(self) -> None:
        """Stop the workers once they finish what they are doing (idempotent)."""
        with self._lock:
            self._closed = True
            workers, self._workers = self._workers, []
        for _ in workers:
            self._tokens.put(None)

    # -- runs ------------------------------------------------------------------------------
    def execute(self, plan: Any, feed_values: Sequence[Any], timeout_ms: int = 0,
                observer: Optional[Callable] = None,
                policy: Optional[SchedulePolicy] = None) -> list:
        """Run ``plan``; returns the fetched values (like ``executor.execute``).

        ``observer(k, start_ns, end_ns, thread_id, result)`` is called after
        each step ``k`` when given (tracing); ``timeout_ms`` bounds blocking
        kernels as ``RunOptions.timeout_in_ms`` does; ``policy`` (default:
        the executor's) orders the start of ready steps.
        """
        if memory.TRACKING:  # peak-bytes measurement assumes the sequential order
            return (executor.execute_with_timeout(plan, feed_values, timeout_ms)
                    if timeout_ms > 0 else executor.execute(plan, feed_values))
        g = _graph_of(plan)
        if g.chain and observer is None:  # one possible order: the sequential loop
            return (executor.execute_with_timeout(plan, feed_values, timeout_ms)
                    if timeout_ms > 0 else executor.execute(plan, feed_values))
        if timeout_ms > 0:
            deadline = time.monotonic() + timeout_ms / 1000.0
        else:
            deadline = executor.run_deadline()
        run = _Run(g, feed_values, g.bound(plan, policy or self.policy), deadline, observer)
        if not self._workers and not self._closed:
            self._start_workers()
        saved = getattr(executor._RUN, "deadline", None)
        executor._RUN.deadline = deadline
        try:
            _work(run, self, caller=True)
        finally:
            executor._RUN.deadline = saved
        if run.error is not None:
            _undo(run)  # a failed run changes no variable
            k, exc = run.error
            if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit
                raise exc
            raise executor.node_error(g.steps[k][3], exc) from exc
        vals = run.vals
        if g.journal is not None and g.journal[1].fetch_checks:
            try:
                journal.check_fetched_refs(g.journal[1].fetch_checks, vals)
            except BaseException:
                _undo(run)
                raise
        return [vals[s] for s in g.fetch_slots]

    def _offer(self, run: _Run) -> None:
        """Ask one more pooled worker to join ``run`` (called under its lock)."""
        if run.helpers < self.num_threads - 1 and not self._closed:
            run.helpers += 1
            self._tokens.put((run, self))


def _worker_loop(tokens: queue.SimpleQueue) -> None:
    while True:
        item = tokens.get()
        if item is None:
            return
        run, ex = item
        _RUN = executor._RUN
        _RUN.deadline = run.deadline
        try:
            _work(run, ex, caller=False)
        finally:
            _RUN.deadline = None


def _work(run: _Run, ex: ParallelExecutor, caller: bool) -> None:
    """Start ready steps of ``run`` until none is left (a worker) or the run ends (caller).

    A thread that finishes a step making exactly one step ready, with no other
    ready step waiting, runs it next itself (any policy would pick it).
    """
    g = run.g
    steps, users, frees, vals = g.steps, g.users, g.frees, run.vals
    lock, policy, ready = run.lock, run.policy, run.ready
    pending, uses = run.pending, run.uses
    observer = run.observer
    jinfo = g.journal
    clock = time.perf_counter_ns
    tid = threading.get_native_id() if observer is not None else 0
    k = -1
    while True:
        with lock:
            nxt = -1
            if k >= 0:  # finish the step this thread just ran
                run.active -= 1
                run.remaining -= 1
                for u in users[k]:
                    pending[u] -= 1
                    if pending[u] == 0:
                        if nxt < 0 and not ready:
                            nxt = u
                        else:
                            if nxt >= 0:
                                policy.push(ready, nxt)
                                nxt = -2
                            policy.push(ready, u)
                for s in frees[k]:
                    uses[s] -= 1
                    if uses[s] <= 0:
                        vals[s] = None
                if run.waiting and (run.remaining == 0 or (run.error is not None
                                                           and run.active == 0)):
                    run.cond.notify()
            if nxt >= 0 and run.error is None:
                k = nxt
            else:
                while True:
                    if run.error is not None or run.remaining == 0:
                        if not caller:
                            run.helpers -= 1
                            return
                        if run.active == 0:
                            return
                    elif ready:
                        break
                    elif not caller:
                        run.helpers -= 1
                        return
                    if run.cond is None:
                        run.cond = threading.Condition(lock)
                    run.waiting = True
                    run.cond.wait()
                    run.waiting = False
                k = policy.pick(ready)
                if ready:  # more work: wake the caller, else ask the pool for a thread
                    if run.waiting:
                        run.cond.notify()
                    else:
                        ex._offer(run)
            run.active += 1
        fn, ins, outs, node = steps[k]
        try:
            if jinfo is not None and jinfo[0][k] is not None:
                _journal_before(run, jinfo, k, ins, vals)
            if observer is not None:
                t0 = clock()
            n = len(ins)
            if n == 1:
                r = fn(vals[ins[0]])
            elif n == 2:
                r = fn(vals[ins[0]], vals[ins[1]])
            else:
                r = fn(*[vals[i] for i in ins])
            if observer is not None:
                observer(k, t0, clock(), tid, r)
            if len(outs) == 1:
                vals[outs[0]] = r
            elif outs:
                for s, v in zip(outs, r):
                    vals[s] = v
        except BaseException as e:  # noqa: BLE001 - the first failure is the run's error
            with lock:
                if run.error is None:
                    run.error = (k, e)
                run.active -= 1
                if run.waiting and run.active == 0:
                    run.cond.notify()
            k = -1


def _journal_before(run: _Run, jinfo: tuple, k: int, ins: tuple, vals: list) -> None:
    """Before update step ``k``: save what it writes if a failure may still follow.

    The first update of a run creates the run's journal (and checks the guard
    of runtime/journal.py) before any update has written.
    """
    rj = getattr(run, "journal", None)
    if rj is None:
        with run.lock:
            rj = getattr(run, "journal", None)
            if rj is None:
                rj = run.journal = journal.RunJournal(jinfo[1], jinfo[2])
    rj.before(k, [vals[ins[i]] for i in jinfo[0][k]])


def _undo(run: _Run) -> None:
    """Restore the variables the failed ``run`` updated (once no step runs)."""
    rj = getattr(run, "journal", None)
    if rj is not None:
        rj.undo()


def execute_traced(ex: ParallelExecutor, plan: Any, feed_values: Sequence[Any],
                   timeout_ms: int = 0, policy: Optional[SchedulePolicy] = None) -> tuple:
    """``tracing.execute_traced`` on the parallel executor: (fetched values, trace).

    The trace has the same form: ``(wall ns, perf_counter ns, records)``, one
    record per plan node (start, end, native thread id, outputs), ordered by
    start time; records of steps run by pooled workers carry their thread ids.
    """
    from graphflow.runtime import tracing
    events: list = []

    def observer(k: int, t0: int, t1: int, tid: int, r: Any) -> None:
        events.append((t0, t1, tid, k, r))

    wall0, perf0 = time.time_ns(), time.perf_counter_ns()
    values = ex.execute(plan, feed_values, timeout_ms, observer, policy)
    g = _graph_of(plan)
    steps = g.steps
    records: dict = {}
    caller = threading.get_native_id()
    for k in range(len(steps)):  # prefilled steps (constants): zero-length records
        if g.ndeps[k] < 0:
            events.append((perf0, perf0, caller, k, g.template[steps[k][2][0]]))
    for t0, t1, tid, k, r in sorted(events, key=lambda e: e[0]):
        _, _, outs, node = steps[k]
        rec = records.get(node)
        if rec is None:
            rec = records[node] = tracing._OpRecord(node, t0, t1, tid)
        else:
            rec.end = max(rec.end, t1)
        results = (r,) if len(outs) == 1 else (tuple(r) if outs else ())
        for s, v in zip(outs, results):
            rec.outputs[s] = v
    return values, (wall0, perf0, list(records.values()))


# --- executor selection --------------------------------------------------------------------
class ExecutorSet:
    """A session's inter-op executors from its ConfigProto.

    ``ConfigProto(inter_op_parallelism_threads=N)``: N <= 1 runs steps in the
    calling thread (the sequential executor; TF's 0 = "system default" is
    sequential here), N > 1 a parallel executor with N threads.
    ``session_inter_op_thread_pool`` (a list of ``ThreadPoolOptionProto``)
    defines several pools instead; ``RunOptions(inter_op_thread_pool=i)``
    selects pool ``i`` for one run, and ``-1`` the caller's thread.
    """

    def __init__(self, config: Any) -> None:
        pools = list(getattr(config, "session_inter_op_thread_pool", None) or ())
        if pools:
            sizes = [int(getattr(p, "num_threads", 0) or 0) for p in pools]
        else:
            sizes = [int(getattr(config, "inter_op_parallelism_threads", 0) or 0)]
        self.sizes = sizes
        self._executors: list = [None] * len(sizes)
        self._lock = threading.Lock()
        self._finalizer: Any = None

    def get(self, pool: int = 0) -> Optional[ParallelExecutor]:
        """The parallel executor of pool ``pool``, or None for the sequential one."""
        if pool == -1:
            return None
        if not 0 <= pool < len(self.sizes):
            from graphflow import errors
            raise errors.InvalidArgumentError(None, None,
                                              "Invalid inter_op_thread_pool: %d" % pool)
        if self.sizes[pool] <= 1:
            return None
        ex = self._executors[pool]
        if ex is None:
            with self._lock:
                ex = self._executors[pool]
                if ex is None:
                    ex = self._executors[pool] = ParallelExecutor(self.sizes[pool])
        return ex

    def watch(self, owner: Any) -> None:
        """Shut the pools down when ``owner`` (the session) is garbage collected."""
        self._finalizer = weakref.finalize(owner, _shutdown_all, self._executors)

    def shutdown(self) -> None:
        _shutdown_all(self._executors)


def _shutdown_all(executors: list) -> None:
    for ex in executors:
        if ex is not None:
            ex.shutdown()
