"""Elementwise fusion: groups of elementwise ops become one generated Numba kernel.

A group is a connected set of elementwise nodes (``OpDef.elementwise`` with
an ``expr``, and ``AddN`` when all its inputs have its fully known shape) of
one computation dtype and one static output shape; it reads each external
input once per element and writes each group output once
(``kernels.codegen.fused_kernel`` through ``kernels.elementwise.FusedLauncher``;
broadcasting inputs are read through stride vectors). A member's value is a
group output when something outside the group reads it or it is fetched.

Each group starts at the last unassigned node of TF1's order and grows
breadth-first through the producers and the readers of its members, up to
``CompileOptions.fuse_max_ops`` members (so a long chain becomes several
structurally identical groups sharing one compiled kernel). A node joins
only if the group stays *convex*: no path leaves the group and re-enters it,
over data, control and sequence edges (``schedule.sequence_edges``: reads of
a variable stay on their side of its in-place updates). Two groups can each
be convex and still feed each other; the smaller one is then dissolved. Not
fused: float16 ops (their kernels widen to float32), ops with a ``check``
hook (integer division), ops reading refs, stateful ops.

At run time a group whose outputs would not all have the full broadcast
shape (possible only with unknown static dims), or whose kernel raises (an
incompatible broadcast), runs op by op instead, so results and error
messages are those of the individual ops.
"""
from __future__ import annotations

from collections import deque
from typing import Any, Callable, Optional

import numpy as np

from graphflow import dtypes
from graphflow.compiler import schedule
from graphflow.compiler.accumulate import is_pad_term
from graphflow.compiler.ir import IRGraph, Node
from graphflow.framework.op_def import OpDef

SIBLINGS = True  # also grow groups forwards, through readers of members
FUSIBLE_DTYPES = frozenset((dtypes.float32, dtypes.float64, dtypes.int8, dtypes.int16,
                            dtypes.int32, dtypes.int64, dtypes.uint8, dtypes.uint16,
                            dtypes.bool))


class FusedElementwise(OpDef):
    """The op type a fused group shows in plans and traces (not registered)."""
    op_type = "FusedElementwise"
    elementwise = True


class FusedGroup:
    """Several elementwise ops run as one kernel: a plan step's node.

    Looks like an Operation where plan consumers need it (``name``, ``type``,
    ``_inputs``, ``_outputs``, ``_control_inputs``, ``op_def``) and lists the
    ops it runs in ``ops`` (TF1 order).
    """

    type = "FusedElementwise"
    op_def = FusedElementwise

    def __init__(self, ops: list, inputs: list, outputs: list, nodes: list, out_values: list,
                 dtype: Any, control: list) -> None:
        self.ops = tuple(ops)
        self._inputs = list(inputs)
        self._outputs = list(outputs)
        self._control_inputs = list(control)
        self.nodes = nodes              # codegen (expr, refs) per member
        self.out_values = out_values    # value index of each output
        self.dtype = dtype              # computation dtype (numpy)
        self.out_dtypes = [t.dtype.base_dtype.np for t in outputs]
        self.name = "fused/" + ops[-1].name
        self._id = ops[-1]._id
        self.graph = ops[-1].graph

    @property
    def inputs(self) -> list:
        return list(self._inputs)

    @property
    def outputs(self) -> list:
        return list(self._outputs)

    @property
    def control_inputs(self) -> list:
        return list(self._control_inputs)

    def __repr__(self) -> str:
        return "<FusedGroup %s: %s>" % (self.name, " ".join(op.type for op in self.ops))


def fusible_dtype(ir: IRGraph, n: Node) -> Optional[Any]:
    """The computation dtype when ``n`` may join a fusion group, else None."""
    op = n.op
    d = op._op_def
    if not d.elementwise:
        if op.type == "AddN" and op._outputs[0] not in ir.fed and _addn_fusible(n):
            return n.inputs[0]._dtype
        return None
    if n.folded is not None or not getattr(d, "expr", ""):
        return None
    outs = op._outputs
    if (getattr(d, "check", None) is not None or d.stateful or len(outs) != 1
            or outs[0] in ir.fed or not n.inputs or outs[0]._shape.ndims is None):
        return None
    comp = n.inputs[0]._dtype
    if comp not in FUSIBLE_DTYPES:  # also rules out ref dtypes
        return None
    for t in n.inputs:
        if t._dtype != comp:
            return None
    return comp


def _addn_fusible(n: Node) -> bool:
    """AddN is elementwise when every input has the output's fully known shape
    (its kernel rejects unequal shapes, which a fused kernel would broadcast)."""
    out = n.op._outputs[0]
    if n.folded is not None or len(n.inputs) < 2 or not out._shape.is_fully_defined():
        return False
    comp = n.inputs[0]._dtype
    return comp in FUSIBLE_DTYPES and all(
        t._dtype == comp and t._shape == out._shape for t in n.inputs)


def expr_of(op: Any) -> str:
    """The scalar expression template of a fusible op (``{i}`` = input ``i``)."""
    if op.type == "AddN":
        return " + ".join("{%d}" % i for i in range(len(op._inputs)))
    return op._op_def.expr_for(op)


def run(ir: IRGraph, ctx: Any, options: Any) -> dict:
    """Form fusion groups (``ir.groups``); returns ``{"groups": [[op names]...]}``."""
    cand = {}
    pads = getattr(options, "accumulate_pads", False)
    consumers = ir.consumers()
    for n in ir.nodes.values():
        if pads and n.op.type == "AddN" and any(is_pad_term(ir, t, consumers)
                                                for t in n.inputs):
            continue  # left to the accumulation of padded terms (compiler/accumulate.py)
        dt = fusible_dtype(ir, n)
        if dt is not None:
            cand[n.op] = dt
    if len(cand) < 2:
        return {"groups": []}
    seq = schedule.sequence_edges(ir)
    succ = schedule.successors(ir, seq)
    ir.order_edges = (seq, succ)  # valid until the IR changes: fusion is the last rewrite
    pos = {op: n.pos for op, n in ir.nodes.items()}
    assigned: set = set()
    limit = max(2, options.fuse_max_ops)
    fetched = set(ir.fetches)
    for n in reversed(ir.ordered()):
        if n.op not in cand or n.op in assigned:
            continue
        members = _grow(ir, n, cand, assigned, succ, pos, limit, consumers)
        if len(members) >= 2:
            ir.groups.append(_make_group(ir, members, consumers, fetched))
            assigned.update(members)
    dissolved = 0
    while ir.groups:  # groups are convex one by one; two may still feed each other
        cycle, order = schedule.group_cycle(ir, seq)
        if not cycle:
            ir.unit_order = order
            break
        victim = min(cycle, key=lambda g: len(g.ops))
        ir.groups.remove(victim)
        dissolved += 1
    return {"groups": [[op.name for op in g.ops] for g in ir.groups],
            "dissolved": ["%d groups (cycles)" % dissolved] if dissolved else []}


def _grow(ir: IRGraph, root: Node, cand: dict, assigned: set, succ: dict, pos: dict,
          limit: int, consumers: dict) -> set:
    """A convex group around ``root``, grown breadth-first through the producers
    and the readers of its members (so a layer's ops tend to end up together)."""
    dt = cand[root.op]
    shape = root.op._outputs[0].shape
    members = {root.op}
    escape: set = set(succ[root.op]) - members  # ops outside the group that members feed
    last = [pos[root.op]]

    def try_add(x: Any) -> bool:
        if (x in members or x in assigned or cand.get(x) != dt
                or x._outputs[0].shape != shape):
            return False
        others = escape - {x}
        if others and schedule.reaches(succ, pos, others, {x}, pos[x]):
            return False  # group -> outside -> x
        top = max(last[0], pos[x])
        outside = [s for s in succ[x] if s not in members]
        if outside and schedule.reaches(succ, pos, outside, members, top):
            return False  # x -> outside -> group
        members.add(x)
        escape.discard(x)
        escape.update(outside)
        escape.difference_update(members)
        last[0] = top
        return True

    queue = deque([root])
    while queue and len(members) < limit:
        m = queue.popleft()
        for t in dict.fromkeys(m.inputs):
            p = ir.producer(t)
            if p is not None and try_add(p.op):
                queue.append(p)
                if len(members) >= limit:
                    return members
        if not SIBLINGS:
            continue
        for cn in consumers.get(m.op._outputs[0], ()):
            if try_add(cn.op):
                queue.append(cn)
                if len(members) >= limit:
                    return members
    return members


def _make_group(ir: IRGraph, members: set, consumers: dict, fetched: set) -> FusedGroup:
    nodes = sorted((ir.nodes[op] for op in members), key=lambda n: n.pos)
    ext: dict = {}
    for m in nodes:
        for t in m.inputs:
            p = ir.producer(t)
            if (p is None or p.op not in members) and t not in ext:
                ext[t] = len(ext)
    k = len(ext)
    value = dict(ext)
    for j, m in enumerate(nodes):
        value[m.op._outputs[0]] = k + j
    cnodes = [(expr_of(m.op), tuple(value[t] for t in m.inputs)) for m in nodes]
    outputs, out_values = [], []
    for j, m in enumerate(nodes):
        t = m.op._outputs[0]
        if (j == len(nodes) - 1 or t in fetched
                or any(c.op not in members for c in consumers.get(t, ()))):
            outputs.append(t)
            out_values.append(k + j)
    control = list(dict.fromkeys(c for m in nodes for c in m.control if c not in members))
    return FusedGroup([m.op for m in nodes], list(ext), outputs, cnodes, out_values,
                      nodes[0].inputs[0].dtype.base_dtype.np, control)


# --- step functions ---------------------------------------------------------------------------
def group_fn(group: FusedGroup, ctx: Any, inplace: Optional[tuple] = None) -> Callable:
    """The plan step callable of ``group``: ``fn(*external inputs) -> output(s)``.

    ``inplace = (j, q)``: output ``q`` may be written into input ``j``'s buffer
    when, at run time, that array owns its memory, is writable, contiguous and
    of the output's dtype and size (compiler/memory.py decides when the
    buffer is dead).
    """
    from graphflow.kernels.elementwise import FusedLauncher
    launcher = FusedLauncher(group.nodes, len(group._inputs), group.out_values, group.dtype,
                             group.out_dtypes)
    deps = _output_inputs(group)
    partial = [d for d in deps if len(d) != len(group._inputs)]
    ok_shapes: dict = {}

    def fallback(xs: tuple) -> list:
        return run_members(group, ctx, xs)

    return launch_fn(launcher, len(group._outputs), inplace, fallback,
                     check_shapes=(partial, deps, ok_shapes) if partial else None)


def launch_fn(launcher: Any, n_out: int, inplace: Optional[tuple] = None,
              fallback: Optional[Callable] = None, check_shapes: Any = None) -> Callable:
    """A step callable around a ``FusedLauncher`` (see ``group_fn``)."""
    from graphflow.errors import KernelError
    bindings = launcher._bindings
    out_dtypes = launcher.out_dtypes
    check = launcher.check

    def shapes_ok(xs: tuple) -> bool:
        partial, deps, cache = check_shapes
        key = tuple([x.shape for x in xs])
        ok = cache.get(key)
        if ok is None:
            try:
                full = np.broadcast_shapes(*key)
                ok = all(np.broadcast_shapes(*[key[i] for i in d]) == full for d in deps)
            except ValueError:
                ok = False
            cache[key] = ok
        return ok

    def call(xs: tuple) -> list:
        if check_shapes is not None and not shapes_ok(xs):
            return fallback(xs)
        try:
            if inplace is None:
                return launcher(*xs)
            if check is not None:
                check(*xs)
            shapes = tuple([x.shape for x in xs])
            b = bindings.get((shapes, None, inplace))
            if b is None:
                b = launcher.bind(shapes, inplace=inplace)
            j, q = inplace
            x = xs[j]
            if not (b.size and x.base is None and x.size == b.size and x.dtype == out_dtypes[q]
                    and x.flags.writeable and x.flags.c_contiguous):
                return launcher(*xs)
            xo = x if x.shape == b.out_shape else x.reshape(b.out_shape)
            outs = [xo if i == q else np.empty(b.out_shape, d) for i, d in enumerate(out_dtypes)]
            if b.inplace:  # the kernel writes output q into xs[j] itself
                b.kernel(*[xs[p].ravel() for p in b.in_order],
                         *[outs[i].reshape(-1) for i in b.out_order if i != q], *b.extra)
            else:
                b.kernel(*[xs[p].ravel() for p in b.in_order],
                         *[outs[i].reshape(-1) for i in b.out_order], *b.extra)
            return outs
        except KernelError:
            if fallback is None:
                raise
            return fallback(xs)

    if n_out == 1 and inplace is None and check_shapes is None and check is None:
        odt = out_dtypes[0]

        def lean1(*xs: Any) -> Any:  # the common case, with FusedLauncher.__call__ inlined
            b = bindings.get((tuple([x.shape for x in xs]), None))
            if b is None:
                try:
                    b = launcher.bind([x.shape for x in xs])
                except KernelError:
                    if fallback is None:
                        raise
                    return fallback(xs)[0]
            out = np.empty(b.out_shape, odt)
            if b.size:
                b.kernel(*[xs[p].ravel() for p in b.in_order], out.reshape(-1), *b.extra)
            return out
        return lean1
    if inplace is None and check_shapes is None and check is None:
        def lean(*xs: Any) -> tuple:
            b = bindings.get((tuple([x.shape for x in xs]), None))
            if b is None:
                try:
                    b = launcher.bind([x.shape for x in xs])
                except KernelError:
                    if fallback is None:
                        raise
                    return tuple(fallback(xs))
            outs = [np.empty(b.out_shape, d) for d in out_dtypes]
            if b.size:
                b.kernel(*[xs[p].ravel() for p in b.in_order],
                         *[outs[q].reshape(-1) for q in b.out_order], *b.extra)
            return tuple(outs)
        return lean
    if n_out == 1:
        def run1(*xs: Any) -> Any:
            return call(xs)[0]
        return run1

    def run(*xs: Any) -> tuple:
        return tuple(call(xs))
    return run


def _output_inputs(group: FusedGroup) -> list:
    """Per output, the external input indices it depends on."""
    k = len(group._inputs)
    dep: list = [frozenset((i,)) for i in range(k)]
    for expr, refs in group.nodes:
        dep.append(frozenset().union(*[dep[r] for r in refs]))
    return [dep[v] for v in group.out_values]


def run_members(group: FusedGroup, ctx: Any, xs: tuple) -> list:
    """Run the group's ops one by one (exact per-op shapes and error messages)."""
    from graphflow.runtime.executor import node_error
    vals = dict(zip(group._inputs, xs))
    kernels = group.__dict__.get("_member_kernels")
    if kernels is None:
        kernels = group._member_kernels = [op.op_def.kernel(op, ctx) for op in group.ops]
    ins = group.__dict__.get("_member_inputs")
    if ins is None:  # the members' current inputs, in the kernels' order
        ins = group._member_inputs = [_member_input_tensors(group, j)
                                      for j in range(len(group.ops))]
    for op, fn, tins in zip(group.ops, kernels, ins):
        try:
            vals[op._outputs[0]] = fn(*[vals[t] for t in tins])
        except Exception as e:  # noqa: BLE001 - reported as the member's OpError
            raise node_error(op, e) from e
    return [vals[t] for t in group._outputs]


def _member_input_tensors(group: FusedGroup, j: int) -> list:
    k = len(group._inputs)
    tensors = list(group._inputs) + [op._outputs[0] for op in group.ops]
    return [tensors[r] for r in group.nodes[j][1]]
