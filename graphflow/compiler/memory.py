"""In-place updates and the static memory plan, from liveness over the plan steps.

In place (``CompileOptions.inplace``): an elementwise step (a fused group or a
single elementwise op) writes its output into the buffer of an input that
dies with it. A buffer qualifies only when the executor owns it outright:

* the input slot is read by this step alone (so no other step, in any
  executor order, reads it, and no view of it exists) and written by one step;
* that step allocates fresh arrays (an elementwise op, a fused group, a
  matmul), so the buffer is never a fed array, a constant, a variable's
  buffer or something a stateful op kept -- or it is an identity (e.g. the
  gate ``tf.tuple`` puts after each gradient) forwarding a slot that
  qualifies by the same rules;
* it is not fetched;
* statically, dtype and element count match the output, and the output is
  at least ``CompileOptions.inplace_min_bytes`` (64 KiB; unknown sizes
  qualify): below that a fresh allocation is cheaper than the checks.

At run time the step still checks that the array owns its memory, is
writable, contiguous and of the right size, and allocates otherwise.

The static memory plan (``static_memory``) replays the steps with the
liveness of ``runtime.memory.liveness`` and the static shapes: buffers
shared by views, identities and in-place steps count once, like
``runtime.memory.execute_tracked`` measures them (which then overwrites
``plan.peak_bytes`` with the measured value).
"""
from __future__ import annotations

from typing import Any, NamedTuple, Optional

import numpy as np

from graphflow.compiler.fuse import FUSIBLE_DTYPES, FusedGroup, group_fn, launch_fn
from graphflow.compiler.ir import IDENTITY_TYPES, IRGraph, may_view

FRESH_TYPES = frozenset(("MatMul", "BatchMatMulV2"))


class MemoryStats(NamedTuple):
    buffers: int         # arrays the steps allocate in one run (shared ones once)
    peak_bytes: int      # most bytes held by live slots after any step
    exact: bool          # False when some static shape was unknown (counted as 0)


def plan_inplace(plan: Any, ir: IRGraph, ctx: Any, min_bytes: int = 0) -> list:
    """Switch qualifying steps to in-place kernels; returns ``[(step, input, output)]``.

    Outputs whose static size is below ``min_bytes`` keep their fresh allocation.
    """
    steps = plan.steps
    reads: dict = {}
    writes: dict = {}
    producer: dict = {}
    for k, (_, ins, outs, _) in enumerate(steps):
        for s in set(ins):
            reads[s] = reads.get(s, 0) + 1
        for s in outs:
            writes[s] = writes.get(s, 0) + 1
            producer[s] = k
    keep = set(plan.feed_slots) | set(plan.fetch_slots)
    done = []
    for k, (fn, ins, outs, node) in enumerate(steps):
        io = _elementwise_io(node, ir)
        if io is None or writes.get(outs[0] if outs else -1, 0) != 1:
            continue
        in_ts, out_ts = io
        if len(outs) != len(out_ts):
            continue
        choice = None
        for j, s in enumerate(ins):
            if not _owned(s, steps, producer, reads, writes, keep, ir):
                continue
            for q, t in enumerate(out_ts):
                if (t.dtype.base_dtype == in_ts[j].dtype.base_dtype and _sizes_match(in_ts[j], t)
                        and _big_enough(t, min_bytes)):
                    choice = (j, q)
                    break
            if choice is not None:
                break
        if choice is None:
            continue
        new_fn = _inplace_fn(node, ctx, choice)
        if new_fn is not None:
            steps[k] = (new_fn, ins, outs, node)
            done.append((k, choice[0], choice[1]))
    return done


def _elementwise_io(node: Any, ir: IRGraph) -> Optional[tuple]:
    """(input tensors, output tensors) of an elementwise step that may run in place."""
    if isinstance(node, FusedGroup):
        return node._inputs, node._outputs
    n = ir.nodes.get(node)
    if n is None or n.folded is not None:
        return None
    d = node.op_def
    if (not d.elementwise or not getattr(d, "expr", "") or len(node._outputs) != 1
            or not n.inputs or any(t.dtype.is_ref_dtype for t in n.inputs)):
        return None
    comp = n.inputs[0].dtype.base_dtype
    if comp not in FUSIBLE_DTYPES or any(t.dtype.base_dtype != comp for t in n.inputs):
        return None
    return n.inputs, node._outputs


def _owned(s: int, steps: list, producer: dict, reads: dict, writes: dict, keep: set,
           ir: IRGraph, depth: int = 0) -> bool:
    """True when slot ``s``'s buffer belongs to its one reader: not kept, read once,
    written once, by a step returning fresh arrays -- or by an identity forwarding
    such a slot (``tf.tuple``'s gates between a gradient and its reader)."""
    if s in keep or s not in producer or reads.get(s) != 1 or writes.get(s) != 1:
        return False
    _, ins, outs, node = steps[producer[s]]
    if _fresh(node, ir):
        return True
    if depth >= 8 or isinstance(node, FusedGroup) or node.type not in IDENTITY_TYPES:
        return False
    n = ir.nodes.get(node)
    if (n is None or n.folded is not None or len(ins) != 1 or len(outs) != 1
            or n.inputs[0].dtype.is_ref_dtype):
        return False
    return _owned(ins[0], steps, producer, reads, writes, keep, ir, depth + 1)


def _fresh(node: Any, ir: IRGraph) -> bool:
    """True when the step running ``node`` returns arrays nobody else holds."""
    if isinstance(node, FusedGroup):
        return True
    n = ir.nodes.get(node)
    if n is None or n.folded is not None:
        return False
    d = node.op_def
    return bool((d.elementwise and getattr(d, "expr", "")) or node.type in FRESH_TYPES)


def _big_enough(t: Any, min_bytes: int) -> bool:
    n = t.shape.num_elements()
    return n is None or n * np.dtype(t.dtype.base_dtype.np).itemsize >= min_bytes


def _sizes_match(a: Any, b: Any) -> bool:
    na, nb = a.shape.num_elements(), b.shape.num_elements()
    return na is None or nb is None or na == nb


def _inplace_fn(node: Any, ctx: Any, choice: tuple) -> Any:
    if isinstance(node, FusedGroup):
        return group_fn(node, ctx, inplace=choice)
    from graphflow.kernels.elementwise import FusedLauncher
    op = node
    d = op.op_def
    n_in = len(op._inputs)
    chk = getattr(d, "check", None)
    check = None
    if chk is not None:
        def check(*xs: Any) -> None:
            chk(op, *xs)
    launcher = FusedLauncher([(d.expr_for(op), tuple(range(n_in)))], n_in, [n_in],
                             op._inputs[0].dtype.base_dtype.np,
                             [op._outputs[0].dtype.base_dtype.np], check)
    return launch_fn(launcher, 1, inplace=choice)


# --- static memory plan ---------------------------------------------------------------------
def static_memory(plan: Any, ir: IRGraph) -> MemoryStats:
    """Peak live bytes and buffer count of one run, from static shapes (see module doc)."""
    tensor_of: dict = {}
    for t, s in plan.slot_of.items():
        if s not in tensor_of or t is ir.current(t):
            tensor_of[s] = t
    exact = True

    def nbytes(s: int) -> int:
        nonlocal exact
        t = tensor_of.get(s)
        if t is None or t.dtype.is_ref_dtype:
            return 0
        n = t.shape.num_elements()
        if n is None:
            exact = False
            return 0
        return n * np.dtype(t.dtype.base_dtype.np).itemsize

    roots = ir.state_roots()
    inplace = {k: (j, q) for k, j, q in getattr(plan, "inplace", ())}
    buf: dict = {}       # slot -> buffer key
    size: dict = {}      # buffer key -> bytes
    count: dict = {}     # buffer key -> live slots holding it
    live = 0
    created = set()

    def hold(s: int, key: Any, b: int) -> None:
        nonlocal live
        old = buf.get(s)
        if old == key:
            return
        if old is not None:
            drop(s)
        buf[s] = key
        if key not in count:
            count[key] = 0
            size[key] = b
            live += b
        count[key] += 1

    def drop(s: int) -> None:
        nonlocal live
        key = buf.pop(s, None)
        if key is None:
            return
        count[key] -= 1
        if count[key] == 0:
            live -= size.pop(key)
            del count[key]

    for s in plan.feed_slots:
        hold(s, ("feed", s), nbytes(s))
    peak = live
    for s in getattr(plan, "_dead_before", ()):
        drop(s)
    for k, ((_, ins, outs, node), dead) in enumerate(zip(plan.steps, plan._dead_after)):
        for q, s in enumerate(outs):
            t = tensor_of.get(s)
            key = None
            if k in inplace and inplace[k][1] == q:
                key = buf.get(ins[inplace[k][0]])
            elif t is not None and not t.dtype.is_ref_dtype and roots.get(t):
                key = ("var",) + tuple(sorted(op.name for op in roots[t]))
            elif not isinstance(node, FusedGroup) and ins and may_view(node):
                key = max((buf.get(i) for i in ins if i in buf),
                          key=lambda b: size.get(b, 0), default=None)
            if key is None:
                key = ("step", s) if s in buf and buf[s][0] == "step" else ("step", k, q)
                created.add(key)
            hold(s, key, nbytes(s))
        peak = max(peak, live)
        for s in dead:
            drop(s)
    return MemoryStats(len(created), int(peak), exact)
