"""The compiler pipeline: all of compilation, in order, in one place.

``compile_plan`` turns one (feeds, fetches, targets) signature into an
``ExecutionPlan``:

1. ``prune``          the ops the fetches and targets need, in TF1's order
                      (always on; builds the IR, a copy: the user's graph is
                      never modified);
2. ``fold_constants`` evaluate constant subgraphs once;
3. ``dead_control``   drop pure ops only control edges reach (unused gated gradients);
4. ``simplify``       drop identities and x*1, x+0, ...;
5. ``cse``            merge equal stateless ops;
6. ``matmul_update``  an SGD update of a matmul's product becomes one GEMM into the variable;
7. ``fuse``           elementwise groups -> one generated kernel each;
8. ``plan``           schedule, bind kernels to value slots;
9. ``inplace``        elementwise steps write into inputs dying with them,
                      and the static memory plan (peak bytes, buffers).

Each pass but prune and plan has a switch in ``CompileOptions``. The result
carries a :class:`CompileReport` (``plan.report``, also what
``Session.compiled_plan`` returns): the ops before and after each pass,
the fused groups, the final steps, buffer count and peak bytes.
"""
from __future__ import annotations

import gc
import time
from typing import Any, Optional, Sequence

from graphflow.compiler import cse, dead_control, fold_constants, fuse, matmul_update, simplify
from graphflow.compiler.fuse import FusedGroup
from graphflow.compiler.ir import IRGraph
from graphflow.compiler.options import CompileOptions
from graphflow.compiler.plan import ExecutionPlan
from graphflow.compiler.prune import prune, toposort
from graphflow.runtime import allocator

# (name, module): the rewriting passes, in order; the name is the CompileOptions switch.
PASSES = (
    ("fold_constants", fold_constants),
    ("dead_control", dead_control),
    ("simplify", simplify),
    ("cse", cse),
    ("matmul_update", matmul_update),
    ("fuse", fuse),
)


class PassReport:
    """What one pass did: node counts, the nodes after it, its changes and time."""

    def __init__(self, name: str, enabled: bool, before: tuple, after: tuple,
                 changes: dict, seconds: float) -> None:
        self.name = name
        self.enabled = enabled
        self.before = before          # ((op name, type), ...) before the pass (ir.Snapshot)
        self.after = after            # ... after it
        self.changes = changes        # pass-specific: {"folded": [...]}, {"merged": [...]}, ...
        self.seconds = seconds

    @property
    def ops_before(self) -> int:
        return len(self.before)

    @property
    def ops_after(self) -> int:
        return len(self.after)

    def format(self) -> str:
        """The pass's changes, then the nodes after it (``-`` gone, ``+`` new)."""
        head = "%s%s: %d -> %d nodes" % (self.name, "" if self.enabled else " (off)",
                                          self.ops_before, self.ops_after)
        lines = [head]
        for key, items in self.changes.items():
            for it in items:
                lines.append("  %s: %s" % (key, " <- ".join(it) if isinstance(it, tuple)
                                           else " ".join(it) if isinstance(it, list) else it))
        gone = set(self.before) - set(self.after)
        new = set(self.after) - set(self.before)
        for name, typ in self.before:
            if (name, typ) in gone:
                lines.append("  - %-28s %s" % (name, typ))
        for name, typ in self.after:
            lines.append("  %s %-28s %s" % ("+" if (name, typ) in new else " ", name, typ))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return "<PassReport %s%s: %d -> %d>" % (self.name, "" if self.enabled else " (off)",
                                                 self.ops_before, self.ops_after)


class CompileReport:
    """The compiled plan of one run signature and what each pass did to it.

    Attributes:
      options: the ``CompileOptions`` used.
      passes: ``PassReport`` per pass, in order (prune first, inplace last).
      fused_groups: ``[(group name, [(op name, op type), ...]), ...]``.
      steps: ``[(name, type, number of ops), ...]`` of the final plan.
      buffers: arrays the steps allocate in one run; peak_bytes: most bytes
        live at once (static estimate; ``peak_bytes_exact`` False when some
        shape was unknown); inplace: names of steps writing into an input.
      tier: the segments' state (compiler/segments.py ``Tier``: ``status``,
        ``segments``, ``steps_covered``) once the sequential executor ran the plan.
    """

    def __init__(self, options: CompileOptions) -> None:
        self.options = options
        self.passes: list = []
        self.fused_groups: list = []
        self.steps: list = []
        self.buffers = 0
        self.peak_bytes = 0
        self.peak_bytes_exact = True
        self.inplace: list = []
        self.seconds = 0.0
        self.tier: Any = None  # segments.Tier of the sequential executor, once it ran the plan

    def pass_report(self, name: str) -> PassReport:
        for p in self.passes:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def ops_before(self) -> int:
        """Ops after pruning (before any rewriting pass)."""
        return self.passes[0].ops_after if self.passes else 0

    @property
    def num_steps(self) -> int:
        return len(self.steps)

    def summary(self) -> str:
        """One line per pass: ``name  before -> after  changes``."""
        lines = []
        for p in self.passes:
            state = "" if p.enabled else " (off)"
            detail = ", ".join("%d %s" % (len(v), k) for k, v in p.changes.items() if v)
            lines.append("%-15s %5d -> %-5d %s" % (p.name + state, p.ops_before, p.ops_after,
                                                  detail))
        lines.append("steps %d, fused groups %d, in-place steps %d, buffers %d, peak bytes %s%s"
                     % (len(self.steps), len(self.fused_groups), len(self.inplace),
                        self.buffers, self.peak_bytes, "" if self.peak_bytes_exact
                        else " (shapes partly unknown)"))
        if self.tier is not None:
            lines.append(self.tier.describe())
        return "\n".join(lines)

    def format_plan(self) -> str:
        """The final steps, one per line; fused groups list their ops."""
        groups = dict(self.fused_groups)
        lines = []
        for i, (name, typ, _) in enumerate(self.steps):
            line = "%3d  %-40s %s" % (i, name, typ)
            if name in groups:
                line += "  [%s]" % " ".join(t for _, t in groups[name])
            if name in self.inplace:
                line += "  (in place)"
            lines.append(line)
        for name, members in getattr(self.tier, "layout", ()):
            lines.append("     %-40s JitSegment  [%s]" % (name, " ".join(m for m, _ in members)))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary() + "\n" + self.format_plan()

    def __repr__(self) -> str:
        return "<CompileReport %d ops -> %d steps, %d fused groups, peak %s bytes>" % (
            self.ops_before, len(self.steps), len(self.fused_groups), self.peak_bytes)


def compile_plan(fetches: Sequence[Any], targets: Sequence[Any], feeds: Sequence[Any],
                 ctx: Any, options: Optional[CompileOptions] = None) -> ExecutionPlan:
    """Run the pipeline for one signature; the plan has ``.report`` (CompileReport).

    Raises ``prune.PlanError`` on a cycle. Python's cyclic garbage collector is
    paused meanwhile: compiling allocates many small objects and nothing
    cyclic worth collecting, and on graphs of thousands of ops the collector's
    full passes over the graph cost a third of the time.
    """
    allocator.configure()  # once per process: keep freed memory mapped (runtime/allocator.py)
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _compile(fetches, targets, feeds, ctx, options)
    finally:
        if enabled:
            gc.enable()


def _compile(fetches: Sequence[Any], targets: Sequence[Any], feeds: Sequence[Any],
             ctx: Any, options: Optional[CompileOptions]) -> ExecutionPlan:
    options = options if options is not None else CompileOptions()
    report = CompileReport(options)
    t_start = t0 = time.perf_counter()
    order = toposort(prune(fetches, targets, feeds), feeds)
    ir = IRGraph(order, feeds, fetches, targets)
    snap = ir.snapshot()
    report.passes.append(PassReport("prune", True, (), snap, {}, time.perf_counter() - t0))
    for name, module in PASSES:
        enabled = bool(getattr(options, name))
        t0 = time.perf_counter()
        changes = module.run(ir, ctx, options) if enabled else {}
        after = ir.snapshot() if enabled else snap
        report.passes.append(PassReport(name, enabled, snap, after, changes,
                                        time.perf_counter() - t0))
        snap = after
    t0 = time.perf_counter()
    plan = ExecutionPlan(order, list(feeds), list(fetches), ctx, targets=targets, ir=ir,
                         options=options)
    names = [_step_name(st[3]) for st in plan.steps]
    report.passes.append(PassReport(
        "inplace", bool(options.inplace), snap, snap,
        {"inplace": [names[k] for k, _, _ in plan.inplace]}, time.perf_counter() - t0))
    report.fused_groups = [(g.name, [(op.name, op.type) for op in g.ops]) for g in ir.groups]
    report.steps = [(_step_name(st[3]), st[3].type, len(getattr(st[3], "ops", (None,))))
                    for st in plan.steps]
    report.inplace = [names[k] for k, _, _ in plan.inplace]
    report.buffers = plan.buffers
    report.peak_bytes = plan.peak_bytes
    report.peak_bytes_exact = plan.peak_bytes_exact
    report.seconds = time.perf_counter() - t_start
    plan.report = report
    return plan


def _step_name(node: Any) -> str:
    return node.name


def passes_off_plan(fetches: Sequence[Any], targets: Sequence[Any], feeds: Sequence[Any],
                    ctx: Any) -> ExecutionPlan:
    """The plan with every pass off (TF1's order, op by op)."""
    return compile_plan(fetches, targets, feeds, ctx, CompileOptions.all_off())


__all__ = ["CompileOptions", "CompileReport", "FusedGroup", "PASSES", "PassReport",
           "compile_plan", "passes_off_plan"]
