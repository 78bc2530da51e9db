"""Ordering constraints that passes must keep, and the final step order.

The order of the pruned graph (``prune.toposort``: TF1's order, with
in-place updates and what depends on them delayed until nothing else is
ready) is the reference schedule. Passes that move work (fusion runs a
whole group at one place) must not change what effects see, so besides data
and control edges the compiler keeps *sequence edges* (``sequence_edges``):

* stateful ops keep their relative order (random streams, queues, updates);
* for each variable some op of the plan updates in place, every op reading
  the variable's buffer (a ref input, ``<v>/read`` or a view of it) stays on
  the same side of each update as in TF1's order.

Sequence edges are used only to decide what may be fused and to order the
steps; they are not dependencies of the plan (``ExecutionPlan.deps`` holds
data and control edges only), so the parallel executor may still race an
unordered read against an update exactly as TF does.
"""
from __future__ import annotations

import heapq
from typing import Any

from graphflow.compiler.ir import IRGraph, Node


def sequence_edges(ir: IRGraph) -> dict:
    """op -> set of ops that must stay after it (see the module docstring)."""
    edges: dict = {}

    def add(a: Node, b: Node) -> None:
        if a is not b:
            edges.setdefault(a.op, set()).add(b.op)

    order = ir.ordered()
    prev = None
    for n in order:
        if n.stateful:
            if prev is not None:
                add(prev, n)
            prev = n
    mutated = ir.mutated()
    if not mutated:
        return edges
    roots = ir.state_roots()
    last_write: dict = {}
    readers: dict = {}
    for n in order:
        d = n.op.op_def
        writes: set = set()
        if d.ref_inputs and (d.mutates or d.stateful):
            for i in d.ref_inputs:
                if i < len(n.inputs):
                    writes.update(roots.get(n.inputs[i], ()))
        reads: set = set()
        for t in n.inputs:
            reads.update(roots.get(t, ()))
        reads &= mutated
        for v in reads | writes:
            w = last_write.get(v)
            if w is not None:
                add(w, n)
        for v in writes:
            for r in readers.pop(v, ()):
                add(r, n)
            last_write[v] = n
        for v in reads - writes:
            readers.setdefault(v, []).append(n)
    return edges


def successors(ir: IRGraph, seq: dict) -> dict:
    """op -> set of ops that depend on it (data, control and sequence edges)."""
    succ: dict = {op: set() for op in ir.nodes}
    fed = ir.fed
    for n in ir.nodes.values():
        for t in n.inputs:
            if t not in fed:
                s = succ.get(t._op)
                if s is not None:
                    s.add(n.op)
        for c in n.control:
            if c in succ:
                succ[c].add(n.op)
    for a, bs in seq.items():
        if a in succ:
            succ[a].update(b for b in bs if b in ir.nodes)
    return succ


def _contract(ir: IRGraph, seq: dict) -> tuple:
    """(units, priorities, unit successor sets, in-degrees) with groups contracted."""
    unit_of: dict = {}
    units: list = []
    for g in ir.groups:
        for op in g.ops:
            unit_of[op] = len(units)
        units.append(g)
    for op, n in ir.nodes.items():
        if op not in unit_of:
            unit_of[op] = len(units)
            units.append(n)
    prio = [u.pos if isinstance(u, Node) else min(ir.nodes[op].pos for op in u.ops)
            for u in units]
    users: list = [set() for _ in units]
    indeg = [0] * len(units)
    cached = ir.order_edges
    succ = cached[1] if cached is not None and cached[0] is seq else successors(ir, seq)
    for a, bs in succ.items():
        ua = unit_of[a]
        for b in bs:
            ub = unit_of[b]
            if ub != ua and ub not in users[ua]:
                users[ua].add(ub)
                indeg[ub] += 1
    return units, prio, users, indeg


def _kahn(units: list, prio: list, users: list, indeg: list) -> list:
    indeg = list(indeg)
    ready = [(prio[u], u) for u in range(len(units)) if indeg[u] == 0]
    heapq.heapify(ready)
    out: list = []
    while ready:
        _, u = heapq.heappop(ready)
        out.append(u)
        for v in users[u]:
            indeg[v] -= 1
            if indeg[v] == 0:
                heapq.heappush(ready, (prio[v], v))
    return out


def final_order(ir: IRGraph, seq: dict) -> list:
    """Plan units (nodes, and fusion groups in place of their members) in run order.

    Kahn's algorithm over data, control and sequence edges between units;
    among ready units the one whose first member came first in TF1's order
    runs first, so without fusion this is TF1's order itself.
    """
    units, prio, users, indeg = _contract(ir, seq)
    order = _kahn(units, prio, users, indeg)
    if len(order) != len(units):
        raise AssertionError("compiler: fusion produced a cycle")  # fuse.py breaks cycles
    return [units[u] for u in order]


def group_cycle(ir: IRGraph, seq: dict) -> tuple:
    """``(groups on one cycle of the contracted graph, [])``, or ``([], final order)``
    when it is acyclic (the order ``final_order`` would give).

    Each group is convex on its own, but two groups can still feed each
    other (a -> b and b' -> a' with {a, a'} and {b, b'} fused).
    """
    units, prio, users, indeg = _contract(ir, seq)
    order = _kahn(units, prio, users, indeg)
    if len(order) == len(units):
        return [], [units[u] for u in order]
    done = set(order)
    stuck = [u for u in range(len(units)) if u not in done]
    prev: dict = {}
    for u in stuck:  # a stuck unit always has a stuck predecessor: walk backwards
        for v in users[u]:
            if v not in done:
                prev.setdefault(v, u)
    u, path, seen = stuck[0], [], {}
    while u not in seen:
        seen[u] = len(path)
        path.append(u)
        u = prev[u]
    cycle = path[seen[u]:]
    return [units[w] for w in cycle if not isinstance(units[w], Node)], []


def reaches(succ: dict, pos: dict, starts: Any, targets: set, limit: int, budget: int = 512) -> bool:
    """True when some op in ``starts`` reaches ``targets`` (or when unsure).

    Only ops positioned before ``limit`` can lie on such a path (TF1's order
    is topological for every edge kind); the search gives up, answering True,
    after ``budget`` ops.
    """
    stack = [s for s in starts if pos[s] < limit or s in targets]
    seen: set = set()
    while stack:
        op = stack.pop()
        if op in targets:
            return True
        if op in seen:
            continue
        seen.add(op)
        if len(seen) > budget:
            return True
        for s in succ.get(op, ()):
            if s in targets or (pos[s] < limit and s not in seen):
                stack.append(s)
    return False
