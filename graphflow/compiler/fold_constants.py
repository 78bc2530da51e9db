"""Constant folding: evaluate constant subgraphs once, at compile time.

Same idea as TF's ``OptimizerOptions.do_constant_folding``. Walking the IR
in order, a node is folded when it is stateless, has no control inputs and
no ref inputs, and every input is a constant (a ``Const`` without control
inputs, or a node folded before it). ``Shape``/``Size``/``Rank`` of a tensor
whose static shape is fully known fold too (shape materialization), unless
the tensor may alias a variable (``Assign(validate_shape=False)`` can change
its shape) or comes from a stateful op.

Values come from the op's kernel (elementwise ops use their NumPy reference
after their ``check``, so folding compiles nothing); a node whose evaluation
raises, or whose outputs are not fully known or exceed
``CompileOptions.fold_max_elements``, is left to run time, where errors are
reported as usual. Folded values are read-only and shared by every run.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from graphflow.compiler.ir import IRGraph, Node
from graphflow.framework.op_def import _restructure, get_op_def, kernel_attrs

# Never folded: sources meant to vary, and ops with effects beyond their outputs.
NO_FOLD = frozenset(("Const", "Placeholder", "PlaceholderV2", "PlaceholderWithDefault",
                     "NoOp", "CheckNumerics"))
SHAPE_OPS = frozenset(("Shape", "Size", "Rank"))
SMALL_INPUTS = 4096  # elements: ops of unknown output size fold only from inputs this small


class FoldedConstant:
    """The plan-step node of a folded op: a ``Const`` named like the op it
    replaces (as TF's folding names it); ``op`` / ``ops`` give that op."""

    type = "Const"

    def __init__(self, op: Any) -> None:
        self.op = op
        self.ops = (op,)
        self.name = op.name
        self._id = op._id
        self.graph = op.graph
        self._inputs: list = []
        self._outputs = op._outputs
        self._control_inputs: list = []
        self.op_def = get_op_def("Const")

    @property
    def inputs(self) -> list:
        return []

    @property
    def outputs(self) -> list:
        return list(self._outputs)

    def __repr__(self) -> str:
        return "<FoldedConstant %s (was %s)>" % (self.name, self.op.type)


def run(ir: IRGraph, ctx: Any, options: Any) -> dict:
    """Fold what can be folded; returns ``{"folded": [names]}``."""
    limit = options.fold_max_elements
    folded: list = []
    roots = None
    for n in ir.ordered():
        op = n.op
        d = op.op_def
        if (n.folded is not None or op.type in NO_FOLD or d.stateful or n.control
                or not op._outputs or not op._inputs or any(t in ir.fed for t in op._outputs)
                or any(t.dtype.is_ref_dtype for t in n.inputs)):
            continue
        known = _small_and_known(op, limit)
        if known is False:
            continue
        vals = _const_inputs(ir, n)
        if vals is not None and known is None and sum(v.size for v in vals) > SMALL_INPUTS:
            continue  # unknown output size from big inputs: maybe huge, leave to run time
        if vals is None:
            if op.type not in SHAPE_OPS:
                continue
            if roots is None:
                roots = ir.state_roots()
            if not _materializable(ir, n, roots):
                continue
            value = _static_shape_value(op)
            if value is None:
                continue
            result: Any = (value,)
        else:
            result = _evaluate(n, vals, ctx)
            if result is None:
                continue
        if any(r.size > limit for r in result):
            continue
        for r in result:
            r.setflags(write=False)
        n.folded = tuple(result)
        n.inputs = []
        folded.append(op.name)
    if folded:  # state_roots stay valid: folded nodes read only constants
        ir.sweep()
    return {"folded": folded}


def _small_and_known(op: Any, limit: int) -> Any:
    """False: some output is statically too big; None: some size is unknown; else True."""
    known = True
    for t in op._outputs:
        n = t.shape.num_elements()
        if n is None:
            known = None
        elif n > limit:
            return False
    return known


def const_value(ir: IRGraph, t: Any) -> Any:
    """The compile-time value of tensor ``t`` in ``ir`` (a Const or a folded node), or None."""
    p = ir.producer(t)
    if p is None:
        return None
    if p.folded is not None:
        return p.folded[t.value_index]
    if p.op.type == "Const" and not p.control:
        return p.op.get_attr("value")
    return None


def _const_inputs(ir: IRGraph, n: Node) -> Any:
    vals = []
    for t in n.inputs:
        v = const_value(ir, t)
        if v is None:
            return None
        vals.append(v)
    return vals


def _materializable(ir: IRGraph, n: Node, roots: dict) -> bool:
    t = n.inputs[0]
    if not t.shape.is_fully_defined() or roots.get(t):
        return False
    p = ir.producer(t)
    return p is None or not p.stateful


def _static_shape_value(op: Any) -> Any:
    shape = op._inputs[0].shape.as_list()
    dt = op._outputs[0].dtype.base_dtype.np
    if op.type == "Shape":
        return np.array(shape, dtype=dt)
    if op.type == "Size":
        return np.array(int(np.prod(shape, dtype=np.int64)), dtype=dt)
    return np.array(len(shape), dtype=dt)


def _evaluate(n: Node, vals: list, ctx: Any) -> Any:
    """The node's outputs as a tuple of ndarrays, or None when it cannot be folded."""
    op = n.op
    d = op.op_def
    out_dtypes = [t.dtype.base_dtype.np for t in op._outputs]
    try:
        with np.errstate(all="ignore"):
            if d.elementwise and getattr(d, "expr", None) and d.reference is not None:
                if getattr(d, "check", None) is not None:
                    d.check(op, *vals)
                r = d.reference(*_restructure(op, vals), **kernel_attrs(op))
            else:
                r = d.kernel(op, ctx)(*vals)
    except Exception:  # noqa: BLE001 - folding is best effort; run time reports errors
        return None
    rs = r if isinstance(r, tuple) else (r,)
    if len(rs) != len(out_dtypes):
        return None
    out = []
    for v, dt, t in zip(rs, out_dtypes, op._outputs):
        if not isinstance(v, (np.ndarray, np.generic, int, float, bool)):
            return None
        a = np.array(v, dtype=dt, copy=True)  # own, contiguous, never an input's view
        if not t.shape.is_compatible_with(a.shape):
            return None
        out.append(a)
    return tuple(out)
