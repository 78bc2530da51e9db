"""The compiler's light IR: a pruned copy of the graph that passes rewrite.

Each :class:`Node` references one original :class:`Operation` (never
modified) and holds its *current* inputs (tensors, after the replacements
passes made), its control predecessors and its position in TF1's order.
Values are the original tensors; a pass that removes an op redirects its
outputs to other tensors with :meth:`IRGraph.replace`. A folded node keeps
its op but carries the constant values of its outputs and no inputs.
Fusion groups (compiler/fuse.py) are recorded in ``IRGraph.groups``.

Alias analysis for TF1 reference semantics lives here too:
:meth:`IRGraph.state_roots` says which variables a tensor's buffer may be
(a ``<v>/read`` or a view of one), so passes can keep reads of a variable
at their place relative to the ops updating it in place.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional, Sequence

# Ops whose output may be (a view of) one of their inputs' buffers, besides the
# ones declaring ``forwards``/``view_of`` (NumPy slicing/transposing returns views).
VIEW_TYPES = frozenset(("Transpose", "StridedSlice", "Slice", "Split", "SplitV", "Unpack",
                        "BroadcastTo", "Squeeze", "ExpandDims", "Reshape"))
# Ops that forward their input unchanged (removable by simplify when harmless).
IDENTITY_TYPES = frozenset(("Identity", "StopGradient", "Snapshot", "PlaceholderWithDefault"))


def may_view(op: Any) -> bool:
    """True when ``op``'s outputs may share a buffer with one of its inputs."""
    d = op.op_def
    return (getattr(d, "forwards", None) is not None or getattr(d, "view_of", None) is not None
            or op.type in VIEW_TYPES)


class Node:
    """One op of the IR (see the module docstring)."""

    __slots__ = ("op", "inputs", "control", "pos", "folded")

    def __init__(self, op: Any, inputs: list, control: list, pos: int) -> None:
        self.op = op
        self.inputs = inputs      # current input tensors
        self.control = control    # control predecessors (Operations with a node)
        self.pos = pos            # index in TF1's order of the pruned graph
        self.folded: Optional[tuple] = None  # constant output values (fold_constants)

    @property
    def name(self) -> str:
        return self.op.name

    @property
    def type(self) -> str:
        return "Const" if self.folded is not None and self.op.type != "Const" else self.op.type

    @property
    def outputs(self) -> list:
        return self.op._outputs

    @property
    def stateful(self) -> bool:
        return bool(self.op.op_def.stateful)

    def __repr__(self) -> str:
        return "<Node %s %s>" % (self.op.name, self.type)


class IRGraph:
    """A pruned, ordered copy of the graph for one (feeds, fetches, targets) signature."""

    def __init__(self, order: Sequence[Any], feeds: Sequence[Any], fetches: Sequence[Any],
                 targets: Sequence[Any] = ()) -> None:
        self.feeds = tuple(feeds)
        self.fed = frozenset(feeds)
        self.nodes: dict = {}
        for i, op in enumerate(order):
            self.nodes[op] = Node(op, list(op._inputs), list(op._control_inputs), i)
        for n in self.nodes.values():  # control edges from fed placeholders are satisfied
            if any(c not in self.nodes for c in n.control):
                n.control = [c for c in n.control if c in self.nodes]
        self.fetches = list(fetches)          # current value of each fetch
        self.orig_fetches = tuple(fetches)
        self.targets = list(targets)          # ops that must run
        self.replaced: dict = {}              # tensor -> the tensor now standing for it
        self.groups: list = []                # fusion groups (compiler/fuse.py)
        self._roots: Optional[dict] = None

    # --- queries -----------------------------------------------------------------------------
    def producer(self, t: Any) -> Optional[Node]:
        """The node computing ``t`` (None for a fed tensor)."""
        if t in self.fed:
            return None
        return self.nodes.get(t.op)

    def ordered(self) -> list:
        """Nodes in their original order (nodes are only ever removed, so the
        dict keeps that order)."""
        return list(self.nodes.values())

    def consumers(self) -> dict:
        """tensor -> nodes reading it (a node reading it twice appears twice)."""
        out: dict = {}
        for n in self.nodes.values():
            for t in n.inputs:
                out.setdefault(t, []).append(n)
        return out

    def control_users(self) -> dict:
        """op -> nodes having it as a control input."""
        out: dict = {}
        for n in self.nodes.values():
            for c in n.control:
                out.setdefault(c, []).append(n)
        return out

    def current(self, t: Any) -> Any:
        """The tensor now standing for original tensor ``t``."""
        seen = 0
        while t in self.replaced and seen < 1 << 20:
            t = self.replaced[t]
            seen += 1
        return t

    def state_roots(self) -> dict:
        """tensor -> frozenset of VariableV2 ops whose buffer it may alias (cached).

        A ref-typed tensor aliases its variable; an op that may return a view
        of its inputs (``may_view``) aliases what they alias. Fed tensors and
        every other op's outputs alias nothing.
        """
        if self._roots is not None:
            return self._roots
        roots: dict = {}
        empty: frozenset = frozenset()
        for n in self.ordered():
            op = n.op
            if n.folded is not None:
                for t in op._outputs:
                    roots[t] = empty
                continue
            view = may_view(op)
            ref_in = [t for t in n.inputs if t.dtype.is_ref_dtype]
            for t in op._outputs:
                if t in self.fed:
                    roots[t] = empty
                elif t.dtype.is_ref_dtype:
                    if op.type == "VariableV2":
                        roots[t] = frozenset((op,))
                    else:
                        roots[t] = frozenset().union(*[roots.get(x, empty) for x in ref_in])
                elif view:
                    roots[t] = frozenset().union(*[roots.get(x, empty) for x in n.inputs])
                else:
                    roots[t] = empty
        self._roots = roots
        return roots

    def mutated(self) -> frozenset:
        """Variables some op of the plan updates (an op with ref inputs that mutates them)."""
        roots = self.state_roots()
        out: set = set()
        for n in self.nodes.values():
            d = n.op.op_def
            if d.ref_inputs and (d.mutates or d.stateful):
                for i in d.ref_inputs:
                    if i < len(n.inputs):
                        out.update(roots.get(n.inputs[i], ()))
        return frozenset(out)

    def reads_mutated(self, n: Node, mutated: frozenset) -> bool:
        """True when ``n`` reads a ref or a buffer that may alias a mutated variable."""
        if not mutated:
            return any(t.dtype.is_ref_dtype for t in n.inputs)
        roots = self.state_roots()
        return any(t.dtype.is_ref_dtype or roots.get(t, frozenset()) & mutated
                   for t in n.inputs)

    # --- rewriting -----------------------------------------------------------------------------
    def invalidate(self) -> None:
        self._roots = None

    def replace(self, old: Any, new: Any, consumers: Optional[dict] = None) -> None:
        """Make every reader of ``old`` (nodes and fetches) read ``new`` instead."""
        if old is new:
            return
        users = consumers.get(old, ()) if consumers is not None else self.nodes.values()
        for n in set(users):
            n.inputs = [new if t is old else t for t in n.inputs]
        if consumers is not None and old in consumers:
            consumers.setdefault(new, []).extend(consumers.pop(old))
        self.fetches = [new if t is old else t for t in self.fetches]
        self.replaced[old] = new
        self._roots = None

    def remove(self, node: Node, instead: Optional[Any] = None,
               ctl_users: Optional[dict] = None) -> None:
        """Drop ``node``; control edges on it move to ``instead`` (an op), or to
        what ``node`` waited for. ``ctl_users``: a ``control_users()`` map to use
        and keep up to date."""
        op = node.op
        del self.nodes[op]
        preds = [instead] if instead is not None else (
            list(node.control) + [t.op for t in node.inputs if self.producer(t) is not None])
        users = ctl_users.pop(op, ()) if ctl_users is not None else [
            n for n in self.nodes.values() if op in n.control]
        for n in users:
            if n.op in self.nodes:
                n.control = _unique([c for c in n.control if c is not op] + preds)
                if ctl_users is not None:
                    for p in preds:
                        ctl_users.setdefault(p, []).append(n)
        if op in self.targets:
            self.targets = _unique([t for t in self.targets if t is not op] +
                                   [p for p in preds if p in self.nodes])
        self._roots = None

    def sweep(self) -> list:
        """Remove nodes nothing needs any more; returns their ops.

        Kept: producers of fetches, targets, stateful ops, ops with control
        inputs (their gating may matter) and everything those read or wait for.
        """
        live: set = set()
        stack = [self.producer(t) for t in self.fetches]
        stack += [self.nodes.get(op) for op in self.targets]
        stack += [n for n in self.nodes.values() if n.stateful or n.control]
        while stack:
            n = stack.pop()
            if n is None or n.op in live:
                continue
            live.add(n.op)
            stack.extend(self.producer(t) for t in n.inputs)
            stack.extend(self.nodes.get(c) for c in n.control)
        dead = [op for op in self.nodes if op not in live]
        for op in dead:
            del self.nodes[op]
        if dead:
            self._roots = None
        return dead

    def snapshot(self) -> tuple:
        """``((name, type), ...)`` of the nodes in order (for compile reports)."""
        return tuple((n.op.name, n.type) for n in self.ordered())


def _unique(items: Iterable) -> list:
    return list(dict.fromkeys(items))
