"""Plan pass: split accumulating ops (``AccumulateNV2``) into per-term steps.

An op whose OpDef defines ``accumulator(op, ctx) -> add(acc, x) -> acc`` can
take its terms one at a time. Its single plan step (which would need every
term alive at once, like ``AddN``) is replaced by one step per input, each
placed directly after the step that produces that input (terms that are fed
or produced by no step are added first). The accumulator lives in the op's
output slot: the first add allocates it, later adds update it in place.
Consumers of the output still come after the op's original position, which
follows every producer, so they see the complete sum.

Ops with control inputs, ref-typed inputs, a fed output or an input produced
by another split accumulation keep their single step.
"""
from __future__ import annotations

from typing import Any


def split_accumulations(steps: list, feed_slots: list, ctx: Any) -> list:
    """Return ``steps`` with every splittable accumulation spread over its producers."""
    candidates = [i for i, st in enumerate(steps)
                  if getattr(st[3].op_def, "accumulator", None) is not None]
    if not candidates:
        return steps
    producer: dict = {}
    for i, (_, _, outs, _) in enumerate(steps):
        for s in outs:
            producer[s] = i
    split: set = set()
    for i in candidates:
        _, ins, outs, op = steps[i]
        if (op._control_inputs or len(outs) != 1 or not ins
                or any(t.dtype.is_ref_dtype for t in op._inputs)
                or any(producer.get(s) in split for s in ins)):
            continue
        split.add(i)
    if not split:
        return steps
    adds_after: dict = {}
    for i in sorted(split):
        _, ins, outs, op = steps[i]
        add = op.op_def.accumulator(op, ctx)
        acc = outs[0]
        for s in ins:
            adds_after.setdefault(producer.get(s, -1), []).append((add, (acc, s), (acc,), op))
    new = list(adds_after.get(-1, ()))
    for i, st in enumerate(steps):
        if i in split:
            continue
        new.append(st)
        new.extend(adds_after.get(i, ()))
    return new
