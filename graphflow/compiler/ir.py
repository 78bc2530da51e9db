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

    __slots__ = ("op", "inputs", "control", "pos", "folded", "kernel")

    def __init__(self, op: Any, inputs: list, control: list, pos: int) -> None:
        self.op = op
        self.inputs = inputs      # current input tensors
        self.control = control    # control predecessors (Operations with a node)
        self.pos = pos            # index in TF1's order of the pruned graph
        self.folded: Optional[tuple] = None  # constant output values (fold_constants)
        # kernel factory ``(ctx) -> fn(*inputs)`` replacing the op's, for a node a
        # pass gave other inputs (compiler/matmul_update.py); None: the op's own
        self.kernel: Optional[Any] = None

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
        return bool(self.op._op_def.stateful)

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
        self._fetch_pos: dict = {}
        for i, t in enumerate(self.fetches):
            self._fetch_pos.setdefault(t, []).append(i)
        self.orig_fetches = tuple(fetches)
        self.targets = list(targets)          # ops that must run
        self.replaced: dict = {}              # tensor -> the tensor now standing for it
        self.groups: list = []                # fusion groups (compiler/fuse.py)
        self._roots: Optional[dict] = None
        self._mutated: Optional[frozenset] = None
        self.order_edges: Optional[tuple] = None  # (sequence edges, successors) of fuse
        self.unit_order: Optional[list] = None    # final step units, when fuse found them

    # --- queries -----------------------------------------------------------------------------
    def producer(self, t: Any) -> Optional[Node]:
        """The node computing ``t`` (None for a fed tensor)."""
        if t in self.fed:
            return None
        return self.nodes.get(t._op)

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
        """Variables some op of the plan updates (an op with ref inputs that mutates them).

        Cached: passes never remove stateful ops, so the set never changes."""
        if self._mutated is not None:
            return self._mutated
        roots = self.state_roots()
        out: set = set()
        for n in self.nodes.values():
            d = n.op.op_def
            if d.ref_inputs and (d.mutates or d.stateful):
                for i in d.ref_inputs:
                    if i < len(n.inputs):
                        out.update(roots.get(n.inputs[i], ()))
        self._mutated = frozenset(out)
        return self._mutated

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
        pos = self._fetch_pos.pop(old, None)
        if pos is not None:
            for i in pos:
                self.fetches[i] = new
            self._fetch_pos.setdefault(new, []).extend(pos)
        self.replaced[old] = new
        # state_roots stay valid: passes only replace a tensor by one aliasing the
        # same variables (identities, equal ops) or by one aliasing no mutated one

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

    def sweep(self) -> list:
        """Remove nodes nothing needs any more; returns their ops.

        Kept: producers of fetches, targets, stateful ops, ops with control
        inputs (their gating may matter) and everything those read or wait for.
        """
        nodes, fed = self.nodes, self.fed
        live: set = set()
        stack = [t._op for t in self.fetches if t not in fed]
        stack += self.targets
        stack += [op for op, n in nodes.items() if n.control or op._op_def.stateful]
        while stack:
            op = stack.pop()
            if op in live:
                continue
            n = nodes.get(op)
            if n is None:
                continue
            live.add(op)
            for t in n.inputs:
                if t not in fed and t._op not in live:
                    stack.append(t._op)
            stack.extend(n.control)
        dead = [op for op in self.nodes if op not in live]
        for op in dead:
            del self.nodes[op]
        return dead

    def snapshot(self) -> "Snapshot":
        """The nodes now, in order (for compile reports; names are made on demand)."""
        group_of = {op: g for g in self.groups for op in g.ops}
        return Snapshot(tuple(self.nodes),
                        frozenset(op for op, n in self.nodes.items() if n.folded is not None),
                        group_of)


class Snapshot:
    """The IR's nodes after a pass: iterating gives ``(name, type)`` pairs, a
    fusion group once, where its first member was."""

    __slots__ = ("_ops", "_folded", "_group_of", "_items")

    def __init__(self, ops: tuple, folded: frozenset, group_of: dict) -> None:
        self._ops, self._folded, self._group_of = ops, folded, group_of
        self._items: Optional[tuple] = None

    def items(self) -> tuple:
        if self._items is None:
            out, shown = [], set()
            for op in self._ops:
                g = self._group_of.get(op)
                if g is None:
                    out.append((op.name, "Const" if op in self._folded else op.type))
                elif g not in shown:
                    shown.add(g)
                    out.append((g.name, g.type))
            self._items = tuple(out)
        return self._items

    def __iter__(self) -> Any:
        return iter(self.items())

    def __len__(self) -> int:
        return len(self.items())

    def __eq__(self, other: Any) -> bool:
        return tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(self.items())

    def __repr__(self) -> str:
        return "Snapshot(%r)" % (self.items(),)


def _unique(items: Iterable) -> list:
    return list(dict.fromkeys(items))
