"""Elementwise fusion: groups of elementwise ops become one generated Numba kernel.

A group is a connected set of elementwise nodes (``OpDef.elementwise`` with
an ``expr``) of one computation dtype and one static output shape; it reads
each external input once per element and writes each group output once
(``kernels.codegen.fused_kernel`` through ``kernels.elementwise.FusedLauncher``;
broadcasting inputs are read through stride vectors). A member's value is a
group output when something outside the group reads it or it is fetched.

Groups grow greedily from the last node of TF1's order backwards through
producers, up to ``CompileOptions.fuse_max_ops`` members (so a long chain
becomes several structurally identical groups sharing one compiled kernel).
A producer joins only if the group stays *convex*: no path leaves the group
and re-enters it, over data, control and sequence edges
(``schedule.sequence_edges``: reads of a variable stay on their side of its
in-place updates). Not fused: float16 ops (their kernels widen to float32),
ops with a ``check`` hook (integer division), ops reading refs, stateful ops.

At run time a group whose outputs would not all have the full broadcast
shape (possible only with unknown static dims), or whose kernel raises (an
incompatible broadcast), runs op by op instead, so results and error
messages are those of the individual ops.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from graphflow import dtypes
from graphflow.compiler import schedule
from graphflow.compiler.ir import IRGraph, Node
from graphflow.framework.op_def import OpDef

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
    d = op.op_def
    if (n.folded is not None or not d.elementwise or not getattr(d, "expr", "")
            or getattr(d, "check", None) is not None or d.stateful
            or len(op._outputs) != 1 or op._outputs[0] in ir.fed or not n.inputs
            or any(t.dtype.is_ref_dtype for t in n.inputs)):
        return None
    comp = n.inputs[0].dtype.base_dtype
    if comp not in FUSIBLE_DTYPES or any(t.dtype.base_dtype != comp for t in n.inputs):
        return None
    if op._outputs[0].shape.ndims is None:
        return None
    return comp


def run(ir: IRGraph, ctx: Any, options: Any) -> dict:
    """Form fusion groups (``ir.groups``); returns ``{"groups": [[op names]...]}``."""
    cand = {}
    for n in ir.nodes.values():
        dt = fusible_dtype(ir, n)
        if dt is not None:
            cand[n.op] = dt
    if len(cand) < 2:
        return {"groups": []}
    seq = schedule.sequence_edges(ir)
    succ = schedule.successors(ir, seq)
    pos = {op: n.pos for op, n in ir.nodes.items()}
    assigned: set = set()
    limit = max(2, options.fuse_max_ops)
    for n in reversed(ir.ordered()):
        if n.op not in cand or n.op in assigned:
            continue
        members = _grow(ir, n, cand, assigned, succ, pos, limit)
        if len(members) >= 2:
            ir.groups.append(_make_group(ir, members))
            assigned.update(members)
    dissolved = 0
    while ir.groups:  # groups are convex one by one; two may still feed each other
        cycle = schedule.group_cycle(ir, seq)
        if not cycle:
            break
        victim = min(cycle, key=lambda g: len(g.ops))
        ir.groups.remove(victim)
        dissolved += 1
    return {"groups": [[op.name for op in g.ops] for g in ir.groups],
            "dissolved": ["%d groups (cycles)" % dissolved] if dissolved else []}


def _grow(ir: IRGraph, root: Node, cand: dict, assigned: set, succ: dict, pos: dict,
          limit: int) -> set:
    dt = cand[root.op]
    shape = root.op._outputs[0].shape
    members = {root.op}
    escape: set = set()  # ops outside the group that members feed
    frontier = [root]
    while frontier and len(members) < limit:
        m = frontier.pop()
        for t in dict.fromkeys(m.inputs):
            p = ir.producer(t)
            if (p is None or p.op in members or p.op in assigned or cand.get(p.op) != dt
                    or p.op._outputs[0].shape != shape):
                continue
            outside = [s for s in succ[p.op] if s not in members]
            if outside and schedule.reaches(succ, pos, outside, members, pos[root.op]):
                continue  # p -> outside -> group: contracting would make a cycle
            others = escape - {p.op}
            if others and schedule.reaches(succ, pos, others, {p.op}, pos[p.op]):
                continue  # group -> outside -> p
            members.add(p.op)
            escape.discard(p.op)
            escape.update(outside)
            escape -= members
            frontier.append(p)
            if len(members) >= limit:
                break
    return members


def _make_group(ir: IRGraph, members: set) -> FusedGroup:
    nodes = sorted((ir.nodes[op] for op in members), key=lambda n: n.pos)
    consumers = ir.consumers()
    fetched = set(ir.fetches)
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
    cnodes = [(m.op.op_def.expr_for(m.op), tuple(value[t] for t in m.inputs)) for m in nodes]
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
            b = bindings.get((tuple([x.shape for x in xs]), None))
            if b is None:
                b = launcher.bind([x.shape for x in xs])
            j, q = inplace
            x = xs[j]
            if not (b.size and x.base is None and x.size == b.size and x.dtype == out_dtypes[q]
                    and x.flags.writeable and x.flags.c_contiguous):
                return launcher(*xs)
            xo = x if x.shape == b.out_shape else x.reshape(b.out_shape)
            outs = [xo if i == q else np.empty(b.out_shape, d) for i, d in enumerate(out_dtypes)]
            b.kernel(*[xs[p].ravel() for p in b.in_order],
                     *[outs[i].reshape(-1) for i in b.out_order], *b.extra)
            return outs
        except KernelError:
            if fallback is None:
                raise
            return fallback(xs)

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
