"""Common-subexpression elimination over stateless ops.

Same as TF's ``OptimizerOptions.do_common_subexpression_elimination``: two
nodes with the same type, the same (current) inputs in the same order, equal
attrs and the same control inputs compute the same values, so the later one
is removed and its readers, fetches and control users move to the first.
Walking in TF1's order makes the survivor the earliest, so every reader
still comes after it.

Skipped: stateful ops (variables, random ops, assigns, ``Apply*``, queues,
placeholders), ops without outputs (``NoOp``: targets are run for their
control edges), folded nodes, and ops reading a ref or a buffer that may
alias a variable updated in place by the plan (two reads at different
places may see different values: TF1 reference semantics). Constants are
merged by value.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from graphflow.compiler.ir import IRGraph

_MAX_CONST_KEY = 1 << 16  # elements: bigger constants compare by identity


def run(ir: IRGraph, ctx: Any, options: Any) -> dict:
    """Merge duplicates; returns ``{"merged": [(removed name, kept name)]}``."""
    merged: list = []
    seen: dict = {}  # (type, inputs, control, #outputs) -> node, or {attrs key: node}
    consumers = ir.consumers()
    ctl_users = ir.control_users()
    mutated = ir.mutated()
    fed = ir.fed
    for n in ir.ordered():
        op = n.op
        if (n.folded is not None or op._op_def.stateful or not op._outputs
                or any(t in fed for t in op._outputs) or ir.reads_mutated(n, mutated)):
            continue
        key = (op.type, tuple(n.inputs), frozenset(n.control) if n.control else None,
               len(op._outputs))
        entry = seen.get(key)
        if entry is None:  # attrs are compared only between ops agreeing on the rest
            seen[key] = n
            continue
        try:
            if not isinstance(entry, dict):
                entry = seen[key] = {_attrs_key(entry.op._attrs): entry}
            akey = _attrs_key(op._attrs)
        except TypeError:  # an attr value that cannot be compared: never merged
            continue
        first = entry.get(akey)
        if first is None:
            entry[akey] = n
            continue
        for old, new in zip(op._outputs, first.op._outputs):
            ir.replace(old, new, consumers)
        ir.remove(n, instead=first.op, ctl_users=ctl_users)
        merged.append((op.name, first.op.name))
    if merged:
        ir.sweep()
    return {"merged": merged}


def _attrs_key(attrs: dict) -> tuple:
    return tuple(sorted((k, _canon(v)) for k, v in attrs.items() if k != "_class"))


def _canon(v: Any) -> Any:
    """A hashable stand-in for an attr value, equal exactly when the values are."""
    if isinstance(v, np.ndarray):
        if v.size > _MAX_CONST_KEY or v.dtype == object:
            return ("array-id", id(v))
        return ("array", v.dtype.str, v.shape, v.tobytes())
    if isinstance(v, (list, tuple)):
        return (type(v).__name__,) + tuple(_canon(x) for x in v)
    if isinstance(v, dict):
        return ("dict",) + tuple(sorted((k, _canon(x)) for k, x in v.items()))
    if isinstance(v, float):  # -0.0 != 0.0 here; nan == nan
        return ("float", v.hex())
    if isinstance(v, (np.generic,)):
        return ("scalar", v.dtype.str, v.tobytes())
    hash(v)
    return (type(v).__name__, v)
