"""The pruned subgraph a run needs, as a small DAG helper for the analyses.

``Subgraph(graph, fetches)`` holds the ops ``Session.run(fetches)`` would
execute (the compiler's own ``prune``), each op's predecessors inside that set
(data producers and control inputs, fed tensors excluded), a topological order
and, on demand, reachability as bitsets (``reaches(a, b)``: a path a -> b).
"""
from __future__ import annotations

from typing import Any, Iterable, Optional

from graphflow.compiler import plan as plan_mod
from graphflow.framework.operation import Operation, Tensor

__all__ = ["Subgraph", "resolve_fetches"]


def _flatten(x: Any, out: list) -> list:
    if isinstance(x, (list, tuple, set, frozenset)):
        for v in x:
            _flatten(v, out)
    elif isinstance(x, dict):
        for v in x.values():
            _flatten(v, out)
    else:
        out.append(x)
    return out


def resolve_fetches(graph: Any, fetches: Any) -> tuple:
    """``fetches`` (Tensors, Operations, Variables, names, nested) ->
    ``(tensors, operations)`` of ``graph``."""
    tensors: list = []
    targets: list = []
    for f in _flatten(fetches, []):
        if not isinstance(f, (Tensor, Operation, str)):
            conv = getattr(f, "_as_graph_element", None)
            f = conv() if conv is not None else getattr(f, "op", f)
        el = graph.as_graph_element(f)
        (tensors if isinstance(el, Tensor) else targets).append(el)
    if not tensors and not targets:
        raise ValueError("Nothing to analyse: fetches is empty.")
    return tensors, targets


class Subgraph:
    """The ops needed for ``fetches`` given ``feeds`` (tensors), with its edges."""

    def __init__(self, graph: Any, fetches: Any, feeds: Optional[Iterable[Any]] = None) -> None:
        self.graph = graph
        self.fetch_tensors, self.fetch_ops = resolve_fetches(graph, fetches)
        fed = [graph.as_graph_element(f, allow_operation=False) if isinstance(f, str)
               else f for f in (feeds or ())]
        self.feeds = frozenset(fed)
        ops = plan_mod.prune(self.fetch_tensors, self.fetch_ops, list(self.feeds))
        self.ops = sorted(ops, key=lambda o: o._id)
        self.opset = frozenset(self.ops)
        self.preds: dict = {}
        self.succs: dict = {op: [] for op in self.ops}
        for op in self.ops:
            ps = dict.fromkeys(t.op for t in op._inputs
                               if t not in self.feeds and t.op in self.opset)
            ps.update(dict.fromkeys(c for c in op._control_inputs if c in self.opset))
            ps.pop(op, None)
            self.preds[op] = list(ps)
            for p in ps:
                self.succs[p].append(op)
        self.order = plan_mod.toposort(self.ops, list(self.feeds))
        self._index = {op: i for i, op in enumerate(self.order)}
        self._desc: Optional[dict] = None

    def __len__(self) -> int:
        return len(self.ops)

    def __contains__(self, op: Any) -> bool:
        return op in self.opset

    def descendants_bits(self) -> dict:
        """op -> int bitset (over topological positions) of the ops reachable from it."""
        if self._desc is None:
            desc: dict = {}
            for op in reversed(self.order):
                bits = 0
                for s in self.succs[op]:
                    bits |= desc[s] | (1 << self._index[s])
                desc[op] = bits
            self._desc = desc
        return self._desc

    def reaches(self, a: Operation, b: Operation) -> bool:
        """True when a path of data/control edges leads from ``a`` to ``b``."""
        if a is b:
            return True
        if self._index[a] > self._index[b]:
            return False
        return bool(self.descendants_bits()[a] >> self._index[b] & 1)

    def levels(self) -> dict:
        """op -> ASAP level: 0 for ops with no predecessor, else 1 + max over preds."""
        lev: dict = {}
        for op in self.order:
            ps = self.preds[op]
            lev[op] = 1 + max(lev[p] for p in ps) if ps else 0
        return lev
