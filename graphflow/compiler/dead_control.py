"""Drop pure computations that only gate other ops (reached through control edges alone).

TF1's default ``gate_gradients=GATE_OP`` groups each op's input gradients with
``tf.tuple``: a ``NoOp`` waits (control edges) for all of them, so a gradient
nobody reads still runs. In a training step that is the first layer's
``d(input) = dz @ W^T`` for a fed ``x``, the largest matmul of the step, whose
value reaches no fetch. TF computes it; this pass does not.

A node is dropped when

* none of its outputs is read by another node or fetched, it is not a
  target, and some node waits for it (otherwise pruning would have left it
  out);
* it is *pure*: not stateful, mutates nothing, reads no ref;
* it *cannot fail*: its OpDef declares ``failures = "shapes"`` (``MatMul``,
  elementwise ops without a value ``check``, reductions and reshapes whose
  ``const_args`` -- axis, shape -- are constants, ...; ``op_def.run_failures``)
  or it is an identity, and every input and output shape is fully known
  statically (so the run-time shapes are the static ones and were checked
  when the graph was built). Ops that fail on values (``CheckNumerics``,
  ``Assert``, integer division, gathers, ``Print`` ...) always stay.

Dropping such an op can only let the ops waiting for it start earlier; no
value changes. Its control users inherit what it waited for (its control
inputs and the producers of its inputs), so everything that ran before
still runs before. Nodes are visited in reverse order, so a whole pure chain
under a control dependency goes. The user's graph is never touched (the pass
rewrites the IR copy), and study tools reading the graph still see the op.
"""
from __future__ import annotations

from typing import Any

from graphflow.compiler.ir import IDENTITY_TYPES, IRGraph, Node
from graphflow.framework.op_def import run_failures


def run(ir: IRGraph, ctx: Any, options: Any) -> dict:
    """Drop the qualifying nodes; returns ``{"dropped": [op names]}``."""
    ctl_users = ir.control_users()
    if not ctl_users:
        return {"dropped": []}
    consumers = ir.consumers()
    fetched = set(ir.fetches)
    targets = set(ir.targets)
    dropped: list = []
    for n in reversed(ir.ordered()):
        op = n.op
        if op in targets or not ctl_users.get(op) or op not in ir.nodes:
            continue
        if any(consumers.get(t) or t in fetched for t in op._outputs):
            continue
        if not droppable(ir, n):
            continue
        for t in n.inputs:
            readers = consumers.get(t)
            if readers:
                readers.remove(n)
        ir.remove(n, ctl_users=ctl_users)
        dropped.append(op.name)
    if dropped:
        ir.sweep()
    return {"dropped": dropped}


def droppable(ir: IRGraph, n: Node) -> bool:
    """True when ``n`` is pure and cannot fail at run time (see the module docstring)."""
    op = n.op
    d = op._op_def
    t = op.type
    if d.stateful or getattr(d, "mutates", False) or d.ref_inputs:
        return False
    if n.folded is not None:
        return True
    if run_failures(d) != "shapes" and t not in IDENTITY_TYPES:
        return False
    for x in list(n.inputs) + list(op._outputs):
        if x.dtype.is_ref_dtype or not x.shape.is_fully_defined():
            return False
    for i in d.const_args:
        if i >= len(n.inputs):
            return False
        p = ir.producer(n.inputs[i])
        if p is None or (p.folded is None and p.op.type != "Const"):
            return False
    return True
