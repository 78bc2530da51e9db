"""ExecutionPlan: the compiled IR bound to kernels and value slots.

A plan is a flat list of steps ``(fn, in_slots, out_slots, node)``; ``node``
is the Operation a step runs or a ``fuse.FusedGroup`` (``.ops``, ``.name``,
``.type``). The executors walk the steps with no per-op lookups. Besides
the steps a plan has ``feed_slots``, ``fetch_slots``, ``nslots``,
``fetch_ref`` (fetches read from a variable cell), ``fetch_alias`` (fetched
values that may alias state, a feed or a shared constant: copied),
``deps`` (per step, the earlier steps it must wait for: producers of its
inputs and the steps of its control inputs, a fused group taking its
members' control edges) and ``_dead_after`` (per step, the slots no later
step reads: ``runtime.memory.liveness``).

Ref inputs (variables) that an op reads as a value are dereferenced when the
step runs, so in-place updates by earlier steps are visible (TF1 reference
semantics). ``ExecutionPlan(order, feeds, fetches, ctx)`` binds an order as
given, with no passes; ``compiler.pipeline.compile_plan`` runs the passes
first and hands over its ``ir``.
"""
from __future__ import annotations

import copy
from typing import Any, Callable, Optional, Sequence

import numpy as np

from graphflow.compiler import memory as memory_plan
from graphflow.compiler import schedule
from graphflow.compiler.accumulate import split_accumulations
from graphflow.compiler.fold_constants import FoldedConstant
from graphflow.compiler.fuse import FusedGroup, group_fn
from graphflow.compiler.ir import IRGraph, Node
from graphflow.compiler.prune import PlanError, prune, toposort  # noqa: F401 - re-exported
from graphflow.runtime import memory


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


def _constant_fn(values: tuple) -> Callable:
    if len(values) == 1:
        v = values[0]
        return lambda: v
    return lambda: values


class ExecutionPlan:
    """Prepared steps for one run signature."""

    def __init__(self, ops: list, feeds: list, fetches: list, ctx: Any,
                 targets: Sequence[Any] = (), ir: Optional[IRGraph] = None,
                 options: Any = None) -> None:
        if ir is None:
            ir = IRGraph(ops, feeds, fetches, targets)
        self.ir = ir
        self.feeds = tuple(feeds)
        fed = ir.fed
        if ir.groups and ir.unit_order is not None:
            units = ir.unit_order
        elif ir.groups:
            seq = ir.order_edges[0] if ir.order_edges else schedule.sequence_edges(ir)
            units = schedule.final_order(ir, seq)
        else:
            units = ir.ordered()
        slot_of: dict = {}
        for t in feeds:
            slot_of[t] = len(slot_of)
        for u in units:
            for t in u._outputs if isinstance(u, FusedGroup) else u.op._outputs:
                if t not in slot_of:
                    slot_of[t] = len(slot_of)
        self.feed_slots = [slot_of[t] for t in feeds]
        self.steps = []
        self.ops = []
        for u in units:
            if isinstance(u, FusedGroup):
                self.ops.extend(u.ops)
                self.steps.append((group_fn(u, ctx), tuple(slot_of[t] for t in u._inputs),
                                   tuple(slot_of[t] for t in u._outputs), u))
                continue
            self.ops.append(u.op)
            self.steps.append(self._node_step(u, ctx, slot_of, fed))
        # AccumulateNV2: one add step per term, right after its producer (autodiff helper)
        fetched = [slot_of.get(ir.current(t)) for t in fetches]
        self.steps = split_accumulations(self.steps, self.feed_slots, ctx, options, fetched)
        for old in ir.replaced:  # tensors passes removed read their replacement's slot
            cur = ir.current(old)
            if cur in slot_of and old not in slot_of:
                slot_of[old] = slot_of[cur]
        self.slot_of = slot_of
        self.nslots = max(slot_of.values(), default=-1) + 1
        cur_fetches = [ir.current(t) for t in fetches]
        self.fetch_slots = [slot_of[t] for t in cur_fetches]
        self.fetch_ref = [t.dtype.is_ref_dtype and t not in fed for t in cur_fetches]
        self.fetch_alias = _fetch_alias(ir, fetches, cur_fetches, self.fetch_slots)
        # True when every fetched value can be returned as is (0-d -> scalar).
        self.plain_fetches = not any(self.fetch_ref) and not any(self.fetch_alias)
        self.deps = _step_deps(self.steps, ir)
        self.inplace: list = []
        if options is not None and getattr(options, "inplace", False):
            self.inplace = memory_plan.plan_inplace(
                self, ir, ctx, getattr(options, "inplace_min_bytes", 0))
        memory.liveness(self)
        stats = memory_plan.static_memory(self, ir)
        self.buffers = stats.buffers
        self.peak_bytes = stats.peak_bytes
        self.peak_bytes_exact = stats.exact
        self.runs = 0

    def _node_step(self, n: Node, ctx: Any, slot_of: dict, fed: frozenset) -> tuple:
        op = n.op
        outs = tuple(slot_of[t] for t in op._outputs if t not in fed)
        keep = [t not in fed for t in op._outputs]
        if n.folded is not None:
            vals = tuple(v for v, k in zip(n.folded, keep) if k)
            return (_constant_fn(vals), (), outs, FoldedConstant(op))
        if n.kernel is None:
            fn = op.op_def.kernel(op, ctx)
        else:  # a pass's kernel: not the op's own (segments must not replace it)
            fn = n.kernel(ctx)
            fn.gf_replaced = True
        check = getattr(fn, "check", None)  # validation only (runtime/journal.py)
        ins = tuple(slot_of[t] for t in n.inputs)
        refs = tuple(i for i, t in enumerate(n.inputs)
                     if t.dtype.is_ref_dtype and t not in fed and i not in op.op_def.ref_inputs)
        if refs:
            fn = _wrap_deref(fn, refs, len(ins))
            if check is not None:
                check = _wrap_deref(check, refs, len(ins))
        if len(outs) != len(op._outputs):
            fn = _drop_fed_outputs(fn, keep)
        if check is not None:
            fn.check = check
        return (fn, ins, outs, op)

    def with_feed_order(self, feeds: list) -> "ExecutionPlan":
        """The same plan taking its feed values in the order of ``feeds``."""
        view = copy.copy(self)
        view.feeds = tuple(feeds)
        view.feed_slots = [self.slot_of[t] for t in feeds]
        return view


def _step_deps(steps: list, ir: IRGraph) -> list:
    """Per step: sorted earlier steps it waits for (data slots and control edges)."""
    writer: dict = {}
    step_of: dict = {}
    out = []
    for k, (_, ins, outs, node) in enumerate(steps):
        deps: set = set()
        for s in ins:
            w = writer.get(s)
            if w is not None:
                deps.add(w)
        for s in outs:
            w = writer.get(s)
            if w is not None:
                deps.add(w)
        members = getattr(node, "ops", None) or (node,)
        for op in members:
            n = ir.nodes.get(op)
            for c in (n.control if n is not None else ()):
                d = step_of.get(c)
                if d is not None:
                    deps.add(d)
        for s in outs:
            writer[s] = k
        for op in members:
            step_of[op] = k
        deps.discard(k)
        out.append(tuple(sorted(deps)))
    return out


def _fetch_alias(ir: IRGraph, orig: list, cur: list, slots: list) -> list:
    """Per fetch: True when the value must be copied before it is returned."""
    out = []
    seen: set = set()
    for t0, t, s in zip(orig, cur, slots):
        p = ir.producer(t)
        alias = (s in seen or _aliases_state(ir, t)
                 or (p is not None and p.folded is not None and p.op.type != "Const")
                 or (t is not t0 and p is not None and p.op.type == "Const"))
        seen.add(s)
        out.append(alias)
    return out


def _aliases_state(ir: IRGraph, t: Any) -> bool:
    """True when ``t`` may be a variable's buffer or the caller's own fed array."""
    for _ in range(64):
        if t in ir.fed or t.dtype.is_ref_dtype:
            return True
        n = ir.producer(t)
        if n is None or n.folded is not None:
            return False
        d = n.op.op_def
        fwd = getattr(d, "forwards", None)
        if fwd is None:  # ops whose result may be a view of an input (Reshape, ...)
            fwd = getattr(d, "view_of", None)
        if fwd is None or fwd >= len(n.inputs):
            return False
        t = n.inputs[fwd]
    return True


def _drop_fed_outputs(fn: Callable, keep: list) -> Callable:
    def run(*args: Any) -> Any:
        r = fn(*args)
        r = r if isinstance(r, tuple) else (r,)
        kept = tuple(v for v, k in zip(r, keep) if k)
        return kept[0] if len(kept) == 1 else kept
    return run


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
    TypeErrors instead of silent wrap-around. ``None`` (alone or inside a
    list) is a TypeError and a ragged nested list a ValueError, both naming
    the tensor (NumPy would give NaN or an error naming nothing).
    """
    want = dt.np
    if isinstance(value, np.ndarray) and value.dtype == want:
        return value
    if value is None:
        raise TypeError("Cannot feed None for Tensor %s: feed a Python scalar, string, list "
                        "or numpy ndarray of type %s." % (t.name, dt.name))
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
    try:
        src = np.asarray(value)
    except ValueError as e:  # a ragged nested list ("inhomogeneous shape")
        raise ValueError("Cannot feed the value given for Tensor %s: it is not a regular "
                         "(non-ragged) array: %s" % (t.name, e)) from None
    if src.dtype.kind == "O" and any(v is None for v in src.flat):
        raise TypeError("Cannot feed a value containing None for Tensor %s of type %s."
                        % (t.name, dt.name))
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
