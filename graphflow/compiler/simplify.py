"""Algebraic simplification: drop ops that return (a copy of) one of their inputs.

Removed, with their readers redirected to the input:

* identities: ``Identity``, ``StopGradient``, ``Snapshot`` and an unfed
  ``PlaceholderWithDefault``;
* ``Cast`` to the dtype it already has;
* ``x * 1``, ``1 * x``, ``x + 0``, ``0 + x``, ``x - 0``, ``x / 1`` where the
  constant (a ``Const`` or a folded value) is all ones/zeros and cannot
  change the result's shape by broadcasting (it is a scalar, or its shape is
  made of 1s and of dims equal to ``x``'s known ones, with no more dims).

Never removed: an op with control inputs or control users (its gating is the
point, e.g. ``with tf.control_dependencies([...]): tf.identity(x)``), an op
reading a ref, and an op reading a buffer that may alias a variable some op
of the plan updates (its copy fixes the value at its place in the schedule:
TF1 reference semantics). Same purpose as TF's arithmetic and dependency
optimizers, reduced to rules that cannot change results.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from graphflow.compiler.fold_constants import const_value
from graphflow.compiler.ir import IDENTITY_TYPES, IRGraph, Node

_ONE_RIGHT = {"Mul": 1, "RealDiv": 1, "Div": 1}
_ZERO_RIGHT = {"AddV2": 0, "Add": 0, "Sub": 0}
_COMMUTES = frozenset(("Mul", "AddV2", "Add"))


def run(ir: IRGraph, ctx: Any, options: Any) -> dict:
    """Apply the rules once over the IR; returns ``{"removed": [(name, why)]}``."""
    removed: list = []
    consumers = ir.consumers()
    ctl_users = ir.control_users()
    mutated = ir.mutated()
    targets = set(ir.targets)
    for n in ir.ordered():
        op = n.op
        if (n.folded is not None or n.control or ctl_users.get(op) or op in targets
                or len(op._outputs) != 1 or op._outputs[0] in ir.fed):
            continue
        keep = _forwarded_input(ir, n)
        if keep is None:
            continue
        x, why = keep
        if x.dtype.is_ref_dtype or ir.reads_mutated(n, mutated):
            continue
        ir.replace(op._outputs[0], x, consumers)
        ir.remove(n, ctl_users=ctl_users)
        removed.append((op.name, why))
    if removed:
        ir.sweep()
    return {"removed": removed}


def _forwarded_input(ir: IRGraph, n: Node) -> Optional[tuple]:
    """(input tensor the op returns unchanged, rule) or None."""
    op = n.op
    t = op.type
    out = op._outputs[0]
    if t in IDENTITY_TYPES and n.inputs:
        return n.inputs[0], t
    if t == "Cast" and n.inputs and n.inputs[0].dtype.base_dtype == out.dtype.base_dtype:
        return n.inputs[0], "Cast to same dtype"
    if len(n.inputs) != 2 or (t not in _ONE_RIGHT and t not in _ZERO_RIGHT):
        return None
    unit = _ONE_RIGHT.get(t, _ZERO_RIGHT.get(t))
    sides = [(0, 1), (1, 0)] if t in _COMMUTES else [(0, 1)]
    for keep, const in sides:
        x, c = n.inputs[keep], n.inputs[const]
        v = const_value(ir, c)
        if v is None or x.dtype.base_dtype != out.dtype.base_dtype:
            continue
        if v.size and np.all(v == unit) and _keeps_shape(x, v):
            return x, "%s by %s" % (t, unit)
    return None


def _keeps_shape(x: Any, c: np.ndarray) -> bool:
    """True when broadcasting ``x`` with a constant of ``c``'s shape returns ``x``'s shape."""
    if c.ndim == 0:
        return True
    dims = x.shape.dims if x.shape.ndims is not None else None
    if dims is None or c.ndim > len(dims):
        return False
    for cd, xd in zip(reversed(c.shape), reversed(dims)):
        xd = getattr(xd, "value", xd)
        if cd != 1 and cd != xd:
            return False
    return True
