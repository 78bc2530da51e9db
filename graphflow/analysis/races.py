"""``races(graph, train_op)``: reads of a variable that race with its update.

TF1 variables are updated in place (``Assign*``, ``Apply*``, ``SparseApply*``,
``Scatter*``: the ops whose OpDef lists the variable's ref input in
``mutates``). A read of the variable is not a copy either: ``w/read`` and the
other ops that forward or view their input (``forwards``/``view_of``) hand the
variable's own buffer to their consumers, and an op taking the reference at a
value position reads the buffer when it runs. So the value an op computes
with is the variable's content *at the moment that op runs*.

For each update ``U`` of a variable ``v`` in the subgraph of ``train_op``, a
reader ``R`` of ``v`` (the first op that computes with v's buffer, found by
following the forwarding ops from each of v's references) races with ``U``
when no path of data/control edges orders them either way: an executor may
run ``R`` before ``U`` (old value) or after it (new value), and both orders
respect every edge. TF documents this for ``gate_gradients=GATE_NONE``: the
gradient of a matmul reads the weight that another gradient already updated.
GATE_OP gates each op's input gradients with ``tf.tuple``, GATE_GRAPH all
gradients together, and the finder shows which pairs each mode removes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from graphflow.analysis.subgraph import Subgraph
from graphflow.framework.operation import Operation, Tensor

__all__ = ["Race", "races", "variable_accesses", "format_races"]

_VARIABLE_TYPES = ("VariableV2", "Variable", "TemporaryVariable", "VarHandleOp")
# Ops that take a ref without reading its value: they only see whether the
# variable is initialized, which only an ``Assign`` can change.
_INIT_STATE_READS = ("IsVariableInitialized",)


@dataclass(frozen=True)
class Race:
    """An unordered (reader, update) pair on one variable.

    Attributes:
      reader: the op that computes with the variable's value.
      update: the op that changes the variable in place.
      variable: the variable's op (``VariableV2``).
      via: the forwarding ops between the variable and ``reader`` (e.g.
        ``(w/read,)``); empty when ``reader`` takes the reference itself.
    """

    reader: Operation
    update: Operation
    variable: Operation
    via: tuple = field(default=())

    @property
    def names(self) -> tuple:
        """``(reader name, update name)``."""
        return (self.reader.name, self.update.name)

    def explain(self) -> str:
        """One sentence saying what the race is and what it changes."""
        if self.via:
            how = "through %s" % " -> ".join(op.name for op in self.via)
        else:
            how = "directly (it takes the variable's reference)"
        return ("%s reads %s %s and is not ordered before %s: if the update runs first it "
                "reads the new value, otherwise the old one."
                % (self.reader.name, self.variable.name, how, self.update.name))

    def __repr__(self) -> str:
        return "Race(reader=%r, update=%r, variable=%r)" % (
            self.reader.name, self.update.name, self.variable.name)


def _variable_of(t: Tensor) -> Optional[Operation]:
    """The variable op behind a ref tensor (through ops that output their ref
    input, e.g. ``Assign``), or None for a non-ref tensor."""
    for _ in range(256):
        if not t.dtype.is_ref_dtype:
            return None
        op = t.op
        if op.type in _VARIABLE_TYPES:
            return op
        refs = [x for x in op._inputs if x.dtype.is_ref_dtype]
        if not refs:
            return op  # an op of unknown kind producing a reference: treat it as the variable
        t = refs[0]
    return None


def _forwarded_index(op: Operation) -> Optional[int]:
    """The input an op passes through to output 0 as the same buffer (or a view)."""
    od = op.op_def
    fwd = getattr(od, "forwards", None)
    return fwd if fwd is not None else getattr(od, "view_of", None)


def variable_accesses(sub: Subgraph) -> tuple:
    """The in-place updates and the value reads of each variable in ``sub``.

    Returns:
      ``(updates, reads)``: ``updates`` maps a variable op to the ops that
      mutate it; ``reads`` maps it to ``{reader op: via tuple}`` (the shortest
      chain of forwarding ops found, in creation order of discovery).
    """
    updates: dict = {}
    reads: dict = {}
    for op in sub.order:
        od = op.op_def
        mutates = set(getattr(od, "mutates", ()) or ())
        refs = set(getattr(od, "ref_inputs", ()) or ())
        for j, t in enumerate(op._inputs):
            if t in sub.feeds or not t.dtype.is_ref_dtype:
                continue
            var = _variable_of(t)
            if var is None:
                continue
            if j in mutates:
                lst = updates.setdefault(var, [])
                if op not in lst:
                    lst.append(op)
            elif j in refs:
                if op.type not in _INIT_STATE_READS:
                    reads.setdefault(var, {}).setdefault(op, ())
            elif _forwarded_index(op) == j and op._outputs:
                _follow(sub, op, (op,), reads.setdefault(var, {}))
            else:  # the plan reads the cell's current value when ``op`` runs
                reads.setdefault(var, {}).setdefault(op, ())
    return updates, reads


def _follow(sub: Subgraph, alias_op: Operation, via: tuple, found: dict) -> None:
    """Record the consumers of ``alias_op``'s output that compute with it."""
    stack = [(alias_op, via)]
    while stack:
        src, chain = stack.pop()
        out = src._outputs[0]
        if out in sub.feeds:
            continue
        for c in out.consumers():
            if c not in sub.opset:
                continue
            for j, t in enumerate(c._inputs):
                if t is not out:
                    continue
                if _forwarded_index(c) == j and c._outputs and len(chain) < 64:
                    stack.append((c, chain + (c,)))
                elif c not in found or len(found[c]) > len(chain):
                    found[c] = chain


def races(graph: Any, train_op: Any, feeds: Optional[Iterable[Any]] = None) -> list:
    """The (reader, update) pairs of ``train_op``'s subgraph that no edge orders.

    Args:
      graph: a ``graphflow.Graph``.
      train_op: what a step runs (an Operation, Tensor, name or a list of
        them), e.g. the op returned by ``optimizer.minimize``.
      feeds: tensors fed in that step (their producers do not run).

    Returns:
      :class:`Race` objects sorted by update then reader (creation order).
      Pairs ordered either way are not races: ``reader -> ... -> update``
      always sees the old value, ``update -> ... -> reader`` the new one.
      Init-state checks (``IsVariableInitialized``) race only with
      ``Assign``. Two unordered updates of one variable are not reported.
    """
    sub = Subgraph(graph, train_op, feeds)
    updates, reads = variable_accesses(sub)
    found = []
    for var, ups in updates.items():
        readers = reads.get(var, {})
        for u in ups:
            for r, via in readers.items():
                if r is u or sub.reaches(r, u) or sub.reaches(u, r):
                    continue
                found.append(Race(r, u, var, via))
            if u.type == "Assign":
                for r in sub.ops:
                    if r.type in _INIT_STATE_READS and any(
                            _variable_of(t) is var for t in r._inputs) \
                            and not (sub.reaches(r, u) or sub.reaches(u, r)):
                        found.append(Race(r, u, var, ()))
    found.sort(key=lambda x: (x.update._id, x.reader._id))
    return found


def format_races(found: list) -> str:
    """The races as numbered sentences (or a line saying there are none)."""
    if not found:
        return "No races: every read of an updated variable is ordered against its update."
    lines = ["%d race(s):" % len(found)]
    lines += ["%3d. %s" % (i + 1, r.explain()) for i, r in enumerate(found)]
    return "\n".join(lines)
