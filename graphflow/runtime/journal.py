"""A failed run changes no variable: which in-place updates need an undo copy, and the undo.

TensorFlow 1.x does not promise this (a step whose matmul fails at run time may
already have applied other variables' updates); graphflow does. Three parts:

1. **Order** (``compiler/prune.py``): the reference order runs every op that
   does not depend on an in-place update before the first update, so in the
   sequential executor the updates and what depends on them form the run's
   tail and most failures happen before anything was written.
2. **Static analysis** (:func:`analyse`, once per plan). Every step gets a
   failure level: ``NEVER`` (``NoOp``, identities of values, constants),
   ``STATIC`` (cannot fail when its inputs have their fully defined static
   shapes: elementwise ops without a run-time ``check``, fused groups of them,
   ``MatMul``, ``BiasAdd(Grad)``, reductions over constant axes, reads of
   variables, dense ``Apply*``, ``Assign`` with ``validate_shape`` and
   ``AssignAdd``/``AssignSub``) or ``MAY`` (anything else: sparse updates, whose
   indices are values, ``CheckNumerics``, ops with partly unknown shapes ...).
   Static shapes hold at run time when every variable holds a value of its
   declared shape (feeds are checked, kernels follow their shape functions);
   the *guard* checks exactly that (and that variables the ``STATIC`` steps
   read are initialized) once per run, before the first update writes.
   In the sequential executor the updates that may fail but whose inputs all
   exist before the first update (sparse updates: their indices) are
   *prechecked* there as well, with their kernel's ``check`` (the kernel's
   validation, writing nothing).
   An update step keeps an undo copy only when a step that may still fail can
   follow it: in the sequential executor a later step, in the parallel one a
   step that is not one of its ancestors. When the guard (and the prechecks)
   pass, ``STATIC`` (and prechecked) steps count as unable to fail: the
   *fast* set of journaled steps, empty for a usual training step. Otherwise
   only ``NEVER`` steps do: the *safe* set.
3. **Journal and undo** (:class:`RunJournal`, :func:`save`, :func:`restore`):
   before a journaled update runs, each variable it writes is copied (the
   first copy of a variable in a run wins); when the run fails the copies are
   written back into the original buffers (readers aliasing them see the old
   contents) and the cells get their original arrays again (an ``Assign`` may
   have replaced the array, ``None`` for an uninitialized variable).

An update that fails itself writes nothing: the kernels validate everything
(shapes, initialized slots, every sparse index) before the first write. A
concurrent run updating the same variables sees an undo like any other write.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

from graphflow.framework.op_def import run_failures

NEVER, STATIC, MAY = 0, 1, 2

# How an op's kernel can fail is declared on its OpDef (``failures``, ``const_args``;
# ``op_def.run_failures``): "never" (a read of an uninitialized variable aside),
# "shapes" (ruled out by fully defined static shapes and constant ``const_args``; for
# in-place updates also an uninitialized variable, which the prechecks cover).


class Analysis:
    """The static part, for one list of plan steps (see the module docstring).

    Attributes:
      writes: per step, the input positions holding the variable cells it
        updates in place (``OpDef.mutates``), or None.
      level: per step, ``NEVER``, ``STATIC`` or ``MAY``.
      updates: indices of the steps with ``writes``.
      guard_cells: ``(cell, declared shape, must be initialized)`` checked by
        :meth:`guard`; ``fast_ok`` False when no guard can hold (an ``Assign``
        with ``validate_shape=False`` may change a variable's shape).
      fetch_checks: ``(slot, tensor)`` of fetched variable references: the run
        checks they are initialized before it ends (a final step that may fail).
    """

    def __init__(self, steps: Sequence[tuple], ir: Any, fetch_checks: list) -> None:
        self.source = steps
        self.fetch_checks = fetch_checks
        self.writes: list = []
        self.level: list = []
        self.fast_ok = True
        self.checks: dict = {}  # step -> its kernel's validation (updates that may fail)
        cells: dict = {}     # VariableV2 op -> cell
        read_vars: set = set()
        roots = ir.state_roots()
        mutated = ir.mutated()
        for k, (fn, ins, outs, node) in enumerate(steps):
            w, lvl, reads, ok = _classify(node, ins, ir, roots)
            self.writes.append(w)
            self.level.append(lvl)
            self.fast_ok &= ok
            if lvl == STATIC:
                read_vars.update(reads)
            elif w is not None and getattr(fn, "check", None) is not None \
                    and _stable_inputs(node, ir, roots, mutated):
                self.checks[k] = fn.check
            if getattr(node, "type", None) == "VariableV2" and not ins:
                try:
                    cells[node] = fn()
                except Exception:  # noqa: BLE001 - not a cell: no guard can hold
                    self.fast_ok = False
        for _, t in fetch_checks:  # fetched references must be initialized at the end
            read_vars.update(roots.get(t, ()))
        self.updates = [k for k, w in enumerate(self.writes) if w is not None]
        guard = []
        for op, cell in cells.items():
            dims = _declared(op)
            if dims is not None or op in read_vars:
                guard.append((cell, dims, op in read_vars))
        if any(v not in cells for v in read_vars):
            self.fast_ok = False  # a variable the static steps read has no cell here
        self.guard_cells = guard

    def guard(self) -> bool:
        """True when the ``STATIC`` steps cannot fail in this run (checked before
        the first update writes; see the module docstring)."""
        if not self.fast_ok:
            return False
        for cell, shape, initialized in self.guard_cells:
            v = cell.value
            if v is None:
                if initialized:
                    return False
            elif shape is not None and v.shape != shape:
                return False
        return True

    def sequential_sets(self) -> tuple:
        """``(safe, fast, prechecks)`` for running the steps in their order: the
        update steps to journal without and with the guard (a later step may
        fail), and ``(step, check, input slots)`` of the updates that may fail
        whose inputs all exist before the first update: the fast set counts
        them as unable to fail, so their checks must pass with the guard."""
        first = self.updates[0]
        last_write: dict = {}
        for k, (_, _, outs, _) in enumerate(self.source):
            for s in outs:
                last_write[s] = k
        pre = []
        fast_level = list(self.level)
        for k, check in self.checks.items():
            ins = tuple(self.source[k][1])
            if all(last_write.get(s, -1) < first for s in ins):
                pre.append((k, check, ins))
                fast_level[k] = STATIC
        out = []
        for worst, level in ((NEVER, self.level), (STATIC, fast_level)):
            # the final check of fetched references may fail unless guarded
            later_fails = bool(self.fetch_checks) and worst == NEVER
            chosen = set()
            for k in range(len(level) - 1, -1, -1):
                if self.writes[k] is not None and later_fails:
                    chosen.add(k)
                if level[k] > worst:
                    later_fails = True
            out.append(frozenset(chosen))
        return out[0], out[1], tuple(pre)

    def choose(self, sets: tuple, vals: Optional[list] = None) -> frozenset:
        """The set of ``sets`` (from ``sequential_sets`` or ``parallel_sets``)
        this run journals: the fast one when the guard and the prechecks pass."""
        if not self.guard():
            return sets[0]
        for _, check, ins in (sets[2] if len(sets) > 2 else ()):
            try:
                check(*[vals[i] for i in ins])
            except Exception:  # noqa: BLE001 - the step will fail: journal what precedes it
                return sets[0]
        return sets[1]

    def parallel_sets(self, deps: Sequence[Sequence[int]]) -> tuple:
        """``(safe, fast)`` for an executor running any order ``deps`` allows:
        an update is journaled when some step that may fail is not one of its
        ancestors (it may fail while or after the update runs)."""
        out = []
        n = len(self.level)
        for worst in (NEVER, STATIC):
            fails = [k for k in range(n) if self.level[k] > worst]
            final = bool(self.fetch_checks) and worst == NEVER
            if not fails and not final:
                out.append(frozenset())
                continue
            bit = {k: 1 << i for i, k in enumerate(fails)}
            total = len(fails)
            anc = [0] * n
            chosen = set()
            for k in range(n):
                a = 0
                for d in deps[k]:
                    a |= anc[d] | bit.get(d, 0)
                anc[k] = a
                if self.writes[k] is not None:
                    others = total - (1 if k in bit else 0)
                    if final or a.bit_count() < others:
                        chosen.add(k)
            out.append(frozenset(chosen))
        return tuple(out)


def _classify(node: Any, ins: Sequence[int], ir: Any, roots: dict) -> tuple:
    """``(writes, level, variables read, fast guard possible)`` of one step."""
    t = getattr(node, "type", None)
    d = getattr(node, "op_def", None)
    if not ins and d is not None and run_failures(d) == "never":
        return None, NEVER, (), True
    ops = getattr(node, "ops", None)
    if ops is not None and t == "FusedElementwise":
        inputs = list(node._inputs)
        ok = all(getattr(op.op_def, "check", None) is None for op in ops)
        return None, (STATIC if ok and _defined(inputs) else MAY), _reads(inputs, roots), True
    n = ir.nodes.get(node)
    if n is None:
        return None, MAY, (), True
    inputs = n.inputs
    mutates = tuple(getattr(d, "mutates", ()) or ())
    writes = mutates if mutates else None
    fed = ir.fed
    kept = set(getattr(d, "ref_inputs", ()) or ())  # cells the kernel takes, not reads
    derefs = [x for i, x in enumerate(inputs)
              if x.dtype.is_ref_dtype and x not in fed and i not in kept]
    failures = run_failures(d)
    if failures == "never" and not derefs:  # (reading an uninitialized variable fails)
        return writes, NEVER, (), True
    if len(ins) != len(inputs):  # a split accumulation step
        return writes, MAY, (), True
    reads = _reads(inputs, roots)
    if t == "Assign":
        if not node.get_attr("validate_shape"):
            return writes, MAY, (), False  # may give the variable another shape
        reads = _reads(inputs[1:], roots)
    static = failures == "never" or (failures == "shapes" and all(
        i < len(inputs) and _constant(ir, inputs[i]) for i in d.const_args))
    return writes, (STATIC if static and _defined(inputs) else MAY), reads, True


def _stable_inputs(node: Any, ir: Any, roots: dict, mutated: frozenset) -> bool:
    """True when no value input of ``node`` may alias a variable the plan updates
    (so a check of its inputs made before the updates still holds when it runs)."""
    n = ir.nodes.get(node)
    if n is None:
        return False
    refs = set(getattr(node.op_def, "ref_inputs", ()) or ())
    return not any(roots.get(t, frozenset()) & mutated
                   for i, t in enumerate(n.inputs) if i not in refs)


def _declared(op: Any) -> Optional[tuple]:
    """A VariableV2's declared shape as a tuple, or None when not fully defined."""
    from graphflow.framework.tensor_shape import as_shape
    shape = as_shape(op.get_attr("shape"))
    return tuple(shape.as_list()) if shape.is_fully_defined() else None


def _defined(tensors: Sequence[Any]) -> bool:
    return all(x.shape.is_fully_defined() for x in tensors)


def _reads(tensors: Sequence[Any], roots: dict) -> set:
    out: set = set()
    for x in tensors:
        if x.dtype.is_ref_dtype:
            out.update(roots.get(x, ()))
    return out


def _constant(ir: Any, t: Any) -> bool:
    p = ir.producer(t)
    return p is not None and (p.folded is not None or p.op.type == "Const")


def analyse(plan: Any, steps: Optional[Sequence[tuple]] = None) -> Optional[Analysis]:
    """The analysis of ``plan.steps`` (cached on the plan), or None when no step
    updates a variable in place."""
    steps = plan.steps if steps is None else steps
    cached = plan.__dict__.get("_journal_analysis")
    if cached is not None and cached[0] is steps:
        return cached[1]
    info = None
    if any(getattr(getattr(node, "op_def", None), "mutates", None)
           for _, _, _, node in steps):
        ir = plan.ir
        checks = [(s, ir.fetches[i]) for i, (s, ref) in
                  enumerate(zip(plan.fetch_slots, plan.fetch_ref)) if ref]
        info = Analysis(steps, ir, checks)
        if not info.updates:
            info = None
    plan._journal_analysis = (steps, info)
    return info


# --- the undo ----------------------------------------------------------------------------
def save(saved: dict, cell: Any) -> None:
    """Record ``cell``'s array and a copy of it, unless this run already did."""
    key = id(cell)
    if key in saved or not hasattr(cell, "lock"):  # seen, or not a cell (a fed value)
        return
    v = cell.value
    saved.setdefault(key, (cell, v, None if v is None else v.copy()))


def restore(saved: dict) -> None:
    """Give every recorded cell its original array with its original contents."""
    for cell, obj, data in reversed(list(saved.values())):
        with cell.lock:
            if data is not None and obj.flags.writeable:
                obj[...] = data
            cell.value = obj


def check_fetched_refs(checks: Sequence[tuple], vals: list) -> None:
    """Fail like ``Session.run`` would when a fetched variable is uninitialized."""
    from graphflow.runtime.executor import node_error
    for s, t in checks:
        cell = vals[s]
        if getattr(cell, "value", 0) is None:
            try:
                cell.read()
            except Exception as e:  # noqa: BLE001 - the KernelError becomes the OpError
                raise node_error(t.op, e) from e


class RunJournal:
    """One run's journal, for executors that look at steps one by one.

    Made before the run's first update writes (``vals``: the run's values, for
    the prechecks); ``before(k, cells)`` is called before update step ``k``
    runs with the cells it writes; ``undo()`` restores.
    """

    __slots__ = ("chosen", "saved")

    def __init__(self, info: Analysis, sets: tuple, vals: Optional[list] = None) -> None:
        self.chosen = info.choose(sets, vals)
        self.saved: dict = {}

    def before(self, k: int, cells: Sequence[Any]) -> None:
        if k in self.chosen:
            for c in cells:
                save(self.saved, c)

    def undo(self) -> None:
        if self.saved:
            restore(self.saved)
            self.saved = {}


def sequential_journal(plan: Any) -> Optional[tuple]:
    """``(analysis, sets)`` for the slow sequential loops (tracing, memory
    tracking) over ``plan.steps``, or None when nothing needs a journal."""
    info = analyse(plan)
    if info is None:
        return None
    sets = plan.__dict__.get("_journal_sequential")
    if sets is None or sets[0] is not info:
        sets = plan._journal_sequential = (info, info.sequential_sets())
    if not sets[1][0] and not info.fetch_checks:
        return None
    return info, sets[1]


class LoopJournal:
    """The journal of one run of a plain loop over ``plan.steps`` (the traced and
    the memory-tracking executors): ``before(k, args, vals)`` before each step,
    ``finish(vals)`` after the last, ``undo()`` when the run fails."""

    __slots__ = ("found", "run")

    def __init__(self, plan: Any) -> None:
        self.found = sequential_journal(plan)
        self.run: Optional[RunJournal] = None

    def before(self, k: int, args: Sequence[Any], vals: list) -> None:
        found = self.found
        if found is not None:
            w = found[0].writes[k]
            if w is not None:
                if self.run is None:
                    self.run = RunJournal(found[0], found[1], vals)
                self.run.before(k, [args[i] for i in w])

    def finish(self, vals: list) -> None:
        if self.found is not None and self.found[0].fetch_checks:
            check_fetched_refs(self.found[0].fetch_checks, vals)

    def undo(self) -> None:
        if self.run is not None:
            self.run.undo()
