"""Plan pass: split accumulating ops (``AccumulateNV2``) into per-term steps.

An op whose OpDef defines ``accumulator(op, ctx) -> add(acc, x) -> acc`` can
take its terms one at a time. Its single plan step (which would need every
term alive at once, like ``AddN``) is replaced by one step per input, each
placed directly after the step that produces that input (terms that are fed
or produced by no step are added first). The accumulator lives in the op's
output slot: the first add allocates it, later adds update it in place.
Consumers of the output still come after the op's original position, which
follows every producer, so they see the complete sum.

Ops with control inputs, ref-typed inputs or a fed output keep their single
step. An input produced by another split accumulation is allowed only with
the padded-term option below, when nothing else reads (or fetches,
``keep_slots``) that partial sum: the two then share one accumulator (the
last op's output), so ``EXPERIMENTAL_TREE``'s chain of two-input ``AddN``
ops becomes one accumulation too.

**Padded terms** (``CompileOptions.accumulate_pads``, on by default, off with
the other passes): the gradient of ``Slice``/``StridedSlice`` is a zero
``Pad`` of a small gradient to the input's full shape, so a tensor read by
many slices gets many full-size, mostly-zero terms. When a term of an
accumulation (an ``AccumulateNV2``, or an ``AddN`` with at least one such
term, which is then split the same way) is the output of a ``Pad`` with
constant paddings that nothing else reads, the ``Pad`` step is dropped and
the small tensor is added into its region of the accumulator
(``acc[region] += g``; the first term allocates zeros). The sum is the same
up to float rounding order; no full-size term is ever made.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from graphflow.errors import InvalidArgumentError, KernelError


def split_accumulations(steps: list, feed_slots: list, ctx: Any, options: Any = None,
                        keep_slots: Any = ()) -> list:
    """Return ``steps`` with every splittable accumulation spread over its producers."""
    pads_on = bool(getattr(options, "accumulate_pads", False))
    producer: dict = {}
    readers: dict = {}
    for i, (_, ins, outs, _) in enumerate(steps):
        for s in outs:
            producer[s] = i
        for s in ins:
            readers[s] = readers.get(s, 0) + 1
    keep = set(keep_slots) | set(feed_slots)
    padded: dict = {}  # term slot -> (small tensor slot, paddings) for foldable Pad terms
    candidates = []
    for i, st in enumerate(steps):
        node = st[3]
        acc_def = getattr(node.op_def, "accumulator", None) if hasattr(node, "op_def") else None
        is_add_n = getattr(node, "type", None) == "AddN"
        if acc_def is None and not (pads_on and is_add_n):
            continue
        if pads_on:
            for s in st[1]:
                p = producer.get(s)
                found = (_pad_term(steps, p, producer, readers)
                         if p is not None and s not in keep else None)
                if found is not None:
                    padded[s] = found
        if acc_def is not None or any(s in padded for s in st[1]):
            candidates.append(i)
    if not candidates:
        return steps
    split: set = set()
    out_of: dict = {}  # output slot of a split accumulation -> its step
    merge: dict = {}   # split step -> the split step its sum feeds (one accumulator)
    for i in candidates:
        _, ins, outs, op = steps[i]
        if (op._control_inputs or len(outs) != 1 or not ins
                or any(t.dtype.is_ref_dtype for t in op._inputs)):
            continue
        chained = [s for s in ins if s in out_of]
        if any(readers.get(s) != 1 or s in keep or not pads_on for s in chained):
            continue  # a partial sum read elsewhere: keep this op whole
        split.add(i)
        out_of[outs[0]] = i
        for s in chained:  # e.g. EXPERIMENTAL_TREE's chain of two-input AddN ops
            merge[out_of[s]] = i
    if not split:
        return steps

    def root(i: int) -> int:
        while i in merge:
            i = merge[i]
        return i
    from graphflow.framework.op_def import get_op_def
    dropped: set = set()
    adds_after: dict = {}
    for i in sorted(split):
        _, ins, _, _ = steps[i]
        r = root(i)
        op = steps[r][3]
        add = get_op_def("AccumulateNV2").accumulator(op, ctx)
        acc = steps[r][2][0]
        for s in ins:
            if s in out_of and merge.get(out_of[s]) == i:
                continue  # a partial sum: its terms go straight into the root accumulator
            p = producer.get(s, -1)
            fold = padded.get(s)
            if fold is not None and ins.count(s) == 1:
                small, pads = fold
                dropped.add(p)
                adds_after.setdefault(p, []).append(
                    (_region_adder(add, pads, op), (acc, small), (acc,), op))
            else:
                adds_after.setdefault(p, []).append((add, (acc, s), (acc,), op))
    new = list(adds_after.get(-1, ()))
    for i, st in enumerate(steps):
        if i not in split and i not in dropped:
            new.append(st)
        new.extend(adds_after.get(i, ()))
    return new


def _pad_term(steps: list, p: int, producer: dict, readers: dict) -> Optional[tuple]:
    """(slot of the padded tensor, paddings) when step ``p`` is a ``Pad`` with
    constant, non-negative paddings whose output one step reads once."""
    fn, ins, outs, node = steps[p]
    if (getattr(node, "type", None) != "Pad" or len(ins) != 2 or len(outs) != 1
            or getattr(node, "_control_inputs", None) or readers.get(outs[0]) != 1):
        return None
    q = producer.get(ins[1])
    if q is None:
        return None
    cfn, cins, couts, cnode = steps[q]
    if cins or getattr(cnode, "_control_inputs", None) or not (
            getattr(cnode, "type", None) == "Const" or getattr(cfn, "gf_constant", False)):
        return None
    pads = usable_paddings(cfn())
    return None if pads is None else (ins[0], pads)


def usable_paddings(value: Any) -> Optional[np.ndarray]:
    """``value`` as int64 ``[rank, 2]`` paddings a term can be added under
    (rank >= 1, no negative padding), else None."""
    try:
        pads = np.array(value, dtype=np.int64)
    except Exception:  # noqa: BLE001 - not a usable constant: keep the Pad
        return None
    if pads.ndim != 2 or pads.shape[1] != 2 or not pads.shape[0] or (pads < 0).any():
        return None
    return pads


def is_pad_term(ir: Any, t: Any, consumers: dict) -> bool:
    """The rule of ``split_accumulations`` on the IR (fusion asks it before the
    plan exists): ``t`` is a ``Pad``'s output with constant usable paddings,
    read by one node once and not fetched."""
    from graphflow.compiler.fold_constants import const_value
    p = ir.producer(t)
    if (p is None or p.op.type != "Pad" or p.folded is not None or p.control
            or len(p.inputs) != 2 or len(consumers.get(t, ())) != 1 or t in ir.fetches):
        return False
    value = const_value(ir, p.inputs[1])
    return value is not None and usable_paddings(value) is not None


def _region_adder(add: Callable, pads: np.ndarray, op: Any) -> Callable:
    """``add(acc, g)`` for a term that is ``g`` zero-padded by ``pads``."""
    before = tuple(int(b) for b in pads[:, 0])
    extra = tuple(int(b + a) for b, a in pads)
    name = op.name
    dtype = op.outputs[0].dtype.base_dtype.np
    static = op.outputs[0].shape

    def add_region(acc: Optional[np.ndarray], g: Any) -> np.ndarray:
        g = np.asarray(g)
        if g.ndim != len(before):
            raise KernelError(InvalidArgumentError, "The first dimension of paddings must be "
                              "the rank of inputs%s, got %d and %d (term of %s)"
                              % (list(pads.shape), len(before), g.ndim, name))
        full = tuple(d + e for d, e in zip(g.shape, extra))
        if acc is None:
            if not static.is_compatible_with(full):
                raise KernelError(InvalidArgumentError, "Input of %s %s has shape %s, which is "
                                  "incompatible with the op's shape %s"
                                  % (op.type, name, list(full), static))
            acc = np.zeros(full, dtype=dtype)
        elif acc.shape != full:
            raise KernelError(InvalidArgumentError, "Shapes of all inputs must match: "
                              "values[0].shape = %s != values[i].shape = %s"
                              % (list(acc.shape), list(full)))
        region = tuple(slice(b, b + d) for b, d in zip(before, g.shape))
        view = acc[region]
        np.add(view, g, out=view)
        return acc
    return add_region
