"""Prune and order: the ops one (feeds, fetches, targets) signature needs, in TF1's order.

``prune`` walks data and control edges back from the fetches and targets,
stopping at fed tensors; ``toposort`` orders the result (Kahn's algorithm,
ties broken by creation order, so a graph always runs in the same order;
in-place variable updates and what depends on them come after everything
else: the reference order the compiler keeps).
Both work on the user's graph read-only; the passes then work on the
``ir.IRGraph`` built from their result.
"""
from __future__ import annotations

import heapq
from typing import Any, Sequence

# A fed op of these types does not run, so control edges from it are satisfied by the feed.
FEED_SATISFIES_CONTROL = ("Placeholder", "PlaceholderV2")


class PlanError(Exception):
    """A graph that cannot be planned (e.g. a control-dependency cycle)."""


def prune(fetches: Sequence[Any], targets: Sequence[Any], feeds: Sequence[Any]) -> list:
    """Ops needed for ``fetches``/``targets`` (data + control closure), stopping at feeds.

    As in TF, a control edge from a fed Placeholder is satisfied by the feed
    (the Placeholder itself does not run); other fed ops keep their control
    edges.
    """
    fed = set(feeds)
    fed_placeholders = {t.op for t in fed if t.op.type in FEED_SATISFIES_CONTROL}
    needed: dict = dict.fromkeys(fed_placeholders - set(targets), False)
    stack = [t.op for t in fetches if t not in fed] + list(targets)
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        needed[op] = True
        for t in op._inputs:
            if t not in fed and t.op not in needed:
                stack.append(t.op)
        for c in op._control_inputs:
            if c not in needed:
                stack.append(c)
    return [op for op, keep in needed.items() if keep]


def toposort(ops: list, feeds: Sequence[Any]) -> list:
    """Kahn's order over data and control edges; ties broken by creation order,
    except that ops updating a variable in place (``OpDef.mutates``) and every op
    depending on one wait until no other op is ready.

    So a run computes everything that does not depend on an update before the
    first update writes ("reads before updates": a ``GATE_NONE`` step gives
    ``GATE_OP``'s numbers), and a run failing in that part has written nothing
    (runtime/journal.py).
    """
    fed = set(feeds)
    opset = set(ops)
    indeg = {op: 0 for op in ops}
    users: dict = {op: [] for op in ops}
    late: dict = {}  # op -> True when it updates a variable or depends on an update
    for op in ops:
        deps = {t.op for t in op._inputs if t not in fed and t.op in opset}
        deps.update(c for c in op._control_inputs if c in opset)
        indeg[op] = len(deps)
        for d in deps:
            users[d].append(op)
        if op._op_def.mutates:
            late[op] = True
    ready = [(op in late, op._id, op) for op in ops if indeg[op] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        is_late, _, op = heapq.heappop(ready)
        order.append(op)
        for u in users[op]:
            if is_late:
                late[u] = True
            indeg[u] -= 1
            if indeg[u] == 0:
                heapq.heappush(ready, (u in late, u._id, u))
    if len(order) != len(ops):
        stuck = sorted((op for op in ops if indeg[op] > 0), key=lambda o: o._id)
        raise PlanError("Graph has a cycle through control or data edges involving node %s"
                        % stuck[0].name)
    return order
