"""Schedule policies: which ready step of a plan runs next.

A plan's steps form a partial order (``ExecutionPlan.deps``: data and control
edges, plus the slot hazards ``parallel.step_deps`` derives). Any linear
extension of it is a valid run; a *policy* picks one. It changes only the
order among ready steps, never an edge, so on a graph without races every
policy gives the same numbers; on a graph with races (``analysis.races``:
reads of a variable that no edge orders against its in-place update) the
policies expose both outcomes, reproducibly.

Chosen per run with ``RunOptions(schedule=...)`` or per session with
``ConfigProto(schedule=...)`` (graphflow fields; TF has neither):

- ``"default"``: plan order (the compiler's order: TF1's order of the
  pruned graph with in-place updates delayed until nothing else is ready,
  ``compiler/prune.py``);
- ``"asap"``: in-place updates as early as the graph allows (the update
  needing the fewest steps first, with just those steps before it, then the
  next update; steps leading to no update last);
- ``"alap"``: in-place updates as late as the graph allows (an update runs
  only when no other step is ready);
- ``"random:SEED"``: a uniformly random ready step, from a generator seeded
  with SEED at the start of every run (the same seed gives the same order);
- a :class:`SchedulePolicy` object (subclass it, or wrap a function with
  :class:`FunctionPolicy`).

With the sequential executor the policy fixes the whole order (a reordered
copy of the plan, cached per policy). With the parallel executor
(``inter_op_parallelism_threads > 1``) it orders the *start* of ready steps;
steps still overlap, so only the sequential executor makes a racy graph's
result a function of the policy alone.
"""
from __future__ import annotations

import copy
import heapq
import random
from typing import Any, Callable, Optional, Union

__all__ = ["SchedulePolicy", "FunctionPolicy", "PriorityPolicy", "RandomPolicy",
           "PLAN_ORDER", "ASAP", "ALAP", "get_policy", "update_steps", "plan_order",
           "ordered_plan"]


class SchedulePolicy:
    """Chooses which ready step starts next; the default is plan order.

    ``prepare(plan)`` is called once per plan and returns the policy that
    serves its runs (self by default; ``asap``/``alap`` return one holding
    per-step priorities). Per run, ``new_ready()`` makes the container of
    ready step indices; ``push(ready, k)`` adds a step that became ready and
    ``pick(ready)`` removes and returns the one to start. The parallel
    executor calls both under its run lock. ``key`` names the policy for
    caching its orders (None: not cached).
    """

    key: Any = "default"

    def prepare(self, plan: Any) -> "SchedulePolicy":
        """The policy serving ``plan``'s runs (computed once per plan)."""
        return self

    def new_ready(self) -> list:
        """A new, empty container of ready steps (one per run)."""
        return []

    def push(self, ready: list, k: int) -> None:
        """Step ``k`` became ready."""
        heapq.heappush(ready, k)

    def pick(self, ready: list) -> int:
        """Remove and return the ready step to start next."""
        return heapq.heappop(ready)

    def __repr__(self) -> str:
        return "<SchedulePolicy %s>" % (self.key,)


class FunctionPolicy(SchedulePolicy):
    """A policy from one function ``choose(ready: list[int]) -> step``.

    ``ready`` is the list of ready step indices, in the order they became
    ready; the chosen step is removed from it. Not cached (``key`` None).
    """

    key = None

    def __init__(self, choose: Callable[[list], int]) -> None:
        self.choose = choose

    def push(self, ready: list, k: int) -> None:
        """Append ``k`` (``ready`` keeps the order steps became ready in)."""
        ready.append(k)

    def pick(self, ready: list) -> int:
        """The step ``choose(ready)`` returns, removed from ``ready``."""
        k = self.choose(ready)
        ready.remove(k)
        return k


class PriorityPolicy(SchedulePolicy):
    """Ready steps ordered by ``rank(plan) -> list of per-step sort keys``
    (lowest first; plan order breaks ties)."""

    def __init__(self, key: Any, rank: Callable[[Any], list]) -> None:
        self.key = key
        self.rank = rank
        self.keys: Optional[list] = None

    def prepare(self, plan: Any) -> "PriorityPolicy":
        bound = PriorityPolicy(self.key, self.rank)
        bound.keys = self.rank(plan)
        return bound

    def push(self, ready: list, k: int) -> None:
        heapq.heappush(ready, (self.keys[k], k))

    def pick(self, ready: list) -> int:
        return heapq.heappop(ready)[1]


class _SeededReady(list):
    __slots__ = ("rng",)


class RandomPolicy(SchedulePolicy):
    """A uniformly random ready step; each run restarts the generator at ``seed``."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self.key = "random:%d" % self.seed

    def new_ready(self) -> list:
        ready = _SeededReady()
        ready.rng = random.Random(self.seed)
        return ready

    def push(self, ready: list, k: int) -> None:
        ready.append(k)

    def pick(self, ready: list) -> int:
        i = ready.rng.randrange(len(ready))
        ready[i], ready[-1] = ready[-1], ready[i]
        return ready.pop()


# --- which steps update a variable --------------------------------------------------------
def _step_ops(node: Any) -> tuple:
    ops = getattr(node, "ops", None)
    return tuple(ops) if ops is not None else (node,)


def update_steps(plan: Any) -> list:
    """Per step, True when it updates a variable in place (an op whose OpDef
    ``mutates`` a ref input: ``Apply*``, ``Assign*``, ``Scatter*``)."""
    out = []
    for _, _, _, node in plan.steps:
        flag = False
        for op in _step_ops(node):
            d = getattr(op, "op_def", None)
            if d is not None and d.mutates:
                flag = True
                break
        out.append(flag)
    return out


def _deps(plan: Any) -> list:
    from graphflow.runtime.parallel import step_deps
    deps = plan.__dict__.get("_policy_deps")
    if deps is None or deps[0] is not plan.steps:
        deps = plan._policy_deps = (plan.steps, step_deps(plan))
    return deps[1]


def _asap_rank(plan: Any) -> list:
    """Updates one after another, each as soon as possible: the update with the
    fewest steps before it first, then the next; a step's rank is the index of
    the first update it leads to (steps leading to none come last)."""
    updates = [k for k, u in enumerate(update_steps(plan)) if u]
    deps = _deps(plan)
    if not updates:
        return [0] * len(deps)
    anc = [0] * len(deps)  # bit set of each step's ancestors (steps come in a valid order)
    for k, ds in enumerate(deps):
        a = 0
        for d in ds:
            a |= anc[d] | (1 << d)
        anc[k] = a
    first = sorted(updates, key=lambda k: (bin(anc[k]).count("1"), k))
    none = len(updates)
    rank = [none] * len(deps)
    for i, k in enumerate(first):
        rank[k] = i
    for k in range(len(deps) - 1, -1, -1):
        r = rank[k]
        for d in deps[k]:
            if r < rank[d]:
                rank[d] = r
    return rank


def _alap_rank(plan: Any) -> list:
    return [1 if u else 0 for u in update_steps(plan)]


PLAN_ORDER = SchedulePolicy()
ASAP = PriorityPolicy("asap", _asap_rank)
ALAP = PriorityPolicy("alap", _alap_rank)
_NAMED = {"default": PLAN_ORDER, "asap": ASAP, "alap": ALAP}


def get_policy(spec: Union[None, str, SchedulePolicy]) -> SchedulePolicy:
    """The policy a ``schedule`` option names (None or "" is ``"default"``).

    Raises ValueError for an unknown name or a malformed seed, TypeError for
    anything that is neither a string nor a SchedulePolicy.
    """
    if spec is None or spec == "":
        return PLAN_ORDER
    if isinstance(spec, SchedulePolicy):
        return spec
    if not isinstance(spec, str):
        raise TypeError("schedule must be a string or a SchedulePolicy, got %s"
                        % type(spec).__name__)
    p = _NAMED.get(spec)
    if p is not None:
        return p
    if spec.startswith("random:"):
        try:
            return RandomPolicy(int(spec[len("random:"):]))
        except ValueError:
            pass
    raise ValueError('Unknown schedule %r: expected "default", "asap", "alap" or '
                     '"random:SEED" (SEED an integer)' % (spec,))


# --- whole orders for the sequential executor ----------------------------------------------
def plan_order(plan: Any, policy: SchedulePolicy) -> list:
    """The step order ``policy`` gives ``plan`` when one thread runs it."""
    deps = _deps(plan)
    bound = policy.prepare(plan)
    users: list = [[] for _ in deps]
    pending = [len(ds) for ds in deps]
    for k, ds in enumerate(deps):
        for d in ds:
            users[d].append(k)
    ready = bound.new_ready()
    for k, n in enumerate(pending):
        if n == 0:
            bound.push(ready, k)
    order = []
    while ready:
        k = bound.pick(ready)
        order.append(k)
        for u in users[k]:
            pending[u] -= 1
            if pending[u] == 0:
                bound.push(ready, u)
    if len(order) != len(deps):
        raise RuntimeError("schedule policy %r dropped steps of the plan" % (policy,))
    return order


_MAX_ORDERS = 64


def ordered_plan(plan: Any, policy: SchedulePolicy) -> Any:
    """A copy of ``plan`` whose steps run in ``policy``'s order (cached per policy key).

    The copy shares kernels and slots with ``plan``; only the step list (and
    what executors derive from it) differs.
    """
    if policy is PLAN_ORDER:
        return plan
    cache = plan.__dict__.get("_policy_plans")
    if cache is None or cache[0] is not plan.steps or cache[1] is not plan.feed_slots:
        cache = plan._policy_plans = (plan.steps, plan.feed_slots, {})
    key = policy.key
    view = cache[2].get(key) if key is not None else None
    if view is None:
        order = plan_order(plan, policy)
        view = copy.copy(plan)
        for attr in ("_prepared", "_parallel_graph", "_policy_plans", "_policy_deps",
                     "_dead_after", "_dead_before"):  # caches derived from the step list
            view.__dict__.pop(attr, None)
        view.steps = [plan.steps[k] for k in order]
        new_index = {k: i for i, k in enumerate(order)}
        deps = _deps(plan)
        view.deps = [tuple(sorted(new_index[d] for d in deps[k])) for k in order]
        view.schedule_order = order
        if key is not None:
            if len(cache[2]) >= _MAX_ORDERS:
                cache[2].clear()
            cache[2][key] = view
    return view
