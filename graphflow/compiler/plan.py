"""ExecutionPlan: prune the graph for one (feeds, fetches, targets) signature,
order it, and bind each op's kernel to value slots.

A plan is a flat list of steps ``(fn, in_slots, out_slots, op)``; the executor
walks it with no per-op lookups. Ref inputs (variables) that an op reads as a
value are dereferenced when the step runs, so in-place updates by earlier
steps are visible (TF1 reference semantics).
"""
from __future__ import annotations

import copy
import heapq
from typing import Any, Callable, Sequence

import numpy as np

from graphflow.compiler.accumulate import split_accumulations



class PlanError(Exception):
    """A graph that cannot be planned (e.g. a control-dependency cycle)."""


def prune(fetches: Sequence[Any], targets: Sequence[Any], feeds: Sequence[Any]) -> list:
    """Ops needed for ``fetches``/``targets`` (data + control closure), stopping at feeds.

    As in TF, a control edge from a fed Placeholder is satisfied by the feed
    (the Placeholder itself does not run); other fed ops keep their control
    edges.
    """
    fed = set(feeds)
    fed_placeholders = {t.op for t in fed if t.op.type in _FEED_SATISFIES_CONTROL}
    needed: dict = dict.fromkeys(fed_placeholders - set(targets), False)
    stack = [t.op for t in fetches if t not in fed] + list(targets)
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        needed[op] = True
        for t in op._inputs:
            if t not in fed and t.op not in needed:
                stack.append(t.op)
        for c in op._control_inputs:
            if c not in needed:
                stack.append(c)
    return [op for op, keep in needed.items() if keep]


_FEED_SATISFIES_CONTROL = ("Placeholder", "PlaceholderV2")


def toposort(ops: list, feeds: Sequence[Any]) -> list:
    """Kahn's order over data and control edges; ties broken by creation order."""
    fed = set(feeds)
    opset = set(ops)
    indeg = {op: 0 for op in ops}
    users: dict = {op: [] for op in ops}
    for op in ops:
        deps = {t.op for t in op._inputs if t not in fed and t.op in opset}
        deps.update(c for c in op._control_inputs if c in opset)
        indeg[op] = len(deps)
        for d in deps:
            users[d].append(op)
    ready = [(op._id, op) for op in ops if indeg[op] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, op = heapq.heappop(ready)
        order.append(op)
        for u in users[op]:
            indeg[u] -= 1
            if indeg[u] == 0:
                heapq.heappush(ready, (u._id, u))
    if len(order) != len(ops):
        stuck = sorted((op for op in ops if indeg[op] > 0), key=lambda o: o._id)
        raise PlanError("Graph has a cycle through control or data edges involving node %s"
                        % stuck[0].name)
    return order


def _wrap_deref(fn: Callable, ref_positions: tuple, nargs: int) -> Callable:
    """Read variable cells at the positions that take values, then call ``fn``."""
    if nargs == 1:
        def run1(a: Any) -> Any:
            return fn(a.read())
        return run1

    def run(*args: Any) -> Any:
        args = list(args)
        for i in ref_positions:
            args[i] = args[i].read()
        return fn(*args)
    return run


class ExecutionPlan:
    """Prepared steps for one run signature."""

    def __init__(self, ops: list, feeds: list, fetches: list, ctx: Any) -> None:
        self.ops = ops
        self.feeds = tuple(feeds)
        slot_of: dict = {}
        for t in feeds:
            slot_of[t] = len(slot_of)
        for op in ops:
            for t in op._outputs:
                if t not in slot_of:
                    slot_of[t] = len(slot_of)
        self.nslots = len(slot_of)
        self.feed_slots = [slot_of[t] for t in feeds]
        fed = set(feeds)
        self.steps = []
        for op in ops:
            fn = op.op_def.kernel(op, ctx)
            ins = tuple(slot_of[t] for t in op._inputs)
            refs = tuple(i for i, t in enumerate(op._inputs)
                         if t.dtype.is_ref_dtype and t not in fed
                         and i not in op.op_def.ref_inputs)
            if refs:
                fn = _wrap_deref(fn, refs, len(ins))
            outs = tuple(slot_of[t] for t in op._outputs if t not in fed)
            if len(outs) != len(op._outputs):
                fn = _drop_fed_outputs(fn, [t not in fed for t in op._outputs])
            self.steps.append((fn, ins, outs, op))
        # AccumulateNV2: one add step per term, right after its producer (autodiff helper)
        self.steps = split_accumulations(self.steps, self.feed_slots, ctx)
        self.slot_of = slot_of
        self.fetch_slots = [slot_of[t] for t in fetches]
        self.fetch_ref = [t.dtype.is_ref_dtype and t not in fed for t in fetches]
        self.fetch_alias = [_may_alias_state(t, fed) for t in fetches]
        # True when every fetched value can be returned as is (0-d -> scalar).
        self.plain_fetches = not any(self.fetch_ref) and not any(self.fetch_alias)
        self.runs = 0

    def with_feed_order(self, feeds: list) -> "ExecutionPlan":
        """The same plan taking its feed values in the order of ``feeds``."""
        view = copy.copy(self)
        view.feeds = tuple(feeds)
        view.feed_slots = [self.slot_of[t] for t in feeds]
        return view


def _drop_fed_outputs(fn: Callable, keep: list) -> Callable:
    def run(*args: Any) -> Any:
        r = fn(*args)
        r = r if isinstance(r, tuple) else (r,)
        kept = tuple(v for v, k in zip(r, keep) if k)
        return kept[0] if len(kept) == 1 else kept
    return run


def _may_alias_state(t: Any, fed: set) -> bool:
    """True when the fetched value may be a variable's buffer or the caller's
    own fed array (it is then copied)."""
    seen = 0
    while seen < 64:
        if t in fed:
            return True
        if t.dtype.is_ref_dtype:
            return True
        fwd = getattr(t.op.op_def, "forwards", None)
        if fwd is None:  # ops whose result may be a view of an input (Reshape, ...)
            fwd = getattr(t.op.op_def, "view_of", None)
        if fwd is None:
            return False
        t = t.op._inputs[fwd]
        seen += 1
    return True


def check_feed(t: Any, value: Any) -> np.ndarray:
    """Convert a fed value to ``t``'s dtype and check it against its static shape."""
    return feed_converter(t)(value)


def feed_converter(t: Any) -> Callable[[Any], np.ndarray]:
    """A function checking and converting values fed to ``t`` (built once per tensor).

    Fast paths: an ndarray of the right dtype is used as is, a Python float
    fed to a float tensor is one ``np.asarray``; everything else goes through
    :func:`convert_feed_value` (TF1's rules, kept strict).
    """
    dt = t.dtype.base_dtype
    want = dt.np
    dims = t._shape._dims
    float_fast = dt.is_floating
    scalar_type = want.type

    def convert(value: Any) -> np.ndarray:
        tv = type(value)
        if tv is np.ndarray and value.dtype is want:
            arr = value
        elif (tv is float and float_fast) or tv is scalar_type:
            arr = np.asarray(value, dtype=want)
        else:
            arr = convert_feed_value(value, dt, t)
        if dims is not None and arr.shape != dims:
            ashape = arr.shape
            if len(dims) != len(ashape) or any(d is not None and d != a
                                               for d, a in zip(dims, ashape)):
                raise ValueError("Cannot feed value of shape %s for Tensor %s, which has "
                                 "shape %s" % (_fmt_shape(ashape), t.name, t._shape))
        return arr
    return convert


def _fmt_shape(s: tuple) -> str:
    return "(%s,)" % s[0] if len(s) == 1 else "(%s)" % ", ".join(str(d) for d in s)


def convert_feed_value(value: Any, dt: Any, t: Any) -> np.ndarray:
    """``np.asarray(value, dt)`` with TF1's feed checks, and stricter ones for ints.

    A Python int must survive the conversion exactly (TF1's TypeError); NaN or
    infinite floats and out-of-range numbers fed to an integer tensor are
    TypeErrors instead of silent wrap-around.
    """
    want = dt.np
    if isinstance(value, np.ndarray) and value.dtype == want:
        return value
    if hasattr(value, "_as_graph_element") or type(value).__name__ in ("Tensor", "Variable"):
        raise TypeError("The value of a feed cannot be a tf.Tensor object. Acceptable feed "
                        "values include Python scalars, strings, lists, numpy ndarrays, or "
                        "TensorHandles. For reference, the tensor object was %s which was "
                        "passed to the argument `feed_dict` with key %s." % (value, t))
    if hasattr(value, "_gf_feed_components"):
        raise TypeError("Feeding composite values is not supported: %r for %s" % (value, t))
    if dt.name == "string":
        arr = np.asarray(value, dtype=object)
        return np.vectorize(lambda v: v.encode() if isinstance(v, str) else v,
                            otypes=[object])(arr) if arr.size else arr
    if isinstance(value, int) and not isinstance(value, bool) and dt.np.kind in "iufcb":
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                exact = dt.as_numpy_dtype(value).item() == value
        except (OverflowError, ValueError):
            exact = False
        if not exact:
            raise TypeError("Type of feed value %d with type %s is not compatible with Tensor "
                            "type %s. Try explicitly setting the type of the feed tensor to a "
                            "larger type (e.g. int64)." % (value, type(value), dt.as_numpy_dtype))
    src = np.asarray(value)
    if dt.is_integer and src.dtype.kind in "iuf" and src.size:
        if src.dtype.kind == "f" and not np.all(np.isfinite(src)):
            raise TypeError("Cannot feed a non-finite value into %s tensor %s"
                            % (dt.name, t.name))
        info = np.iinfo(want)
        lo, hi = src.min(), src.max()
        if lo < info.min or hi > info.max:
            raise TypeError("Type of feed value %s with type %s is not compatible with Tensor "
                            "type %s: a value is out of its range. Try explicitly setting the "
                            "type of the feed tensor to a larger type (e.g. int64)."
                            % (hi if hi > info.max else lo, src.dtype, dt.as_numpy_dtype))
    if src.dtype.kind in "US" and dt.is_numeric:
        return np.asarray(src.astype(np.float64), dtype=want)
    return np.asarray(src, dtype=want)
