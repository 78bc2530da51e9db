"""What ``graphflow study`` prints and draws from a :class:`~graphflow.analysis.compare.Comparison`.

``study_text`` is the whole report: the table, a legend of its columns,
the races of each gate mode explained in words, and findings computed from
the numbers (what gating added, which modes are reproducible, what each
aggregation method did to memory and the critical path). ``plot`` draws the
parallelism profiles and step times (matplotlib, an optional extra).
"""
from __future__ import annotations

from typing import Any

from graphflow.analysis.compare import AGGREGATION_NAMES, GATE_NAMES, Comparison

__all__ = ["study_text", "findings", "LEGEND", "plot", "PLOT_MISSING"]

LEGEND = """\
columns:
  ops, control_edges, barriers  the subgraph one training step runs; barriers are the
                                tf.group NoOps and tf.tuple gates gating adds
  critical_path_ops             the longest chain of ops (what no executor can overlap)
  parallel_width                the most kernels no edge orders: how many could run at once
  races                         reads of a variable no edge orders against its in-place
                                update (graphflow.analysis.races)
  peak_bytes                    the compiler's memory plan: most bytes live during a step
  seq_ms, par_ms                median step time, sequential / parallel executor
  outcomes                      distinct results (variables and loss, bitwise) over every
                                schedule policy x both executors x 2 repeats; 1 = reproducible
  identical                     outcomes == 1
  result                        fingerprint of the numbers: equal fingerprints, equal bits
  loss                          loss after the training steps"""

PLOT_MISSING = ("--plot needs matplotlib, which is not installed: "
                "pip install 'graphflow[plot]' (or pip install matplotlib)")


def _rows_by(cmp: Comparison) -> dict:
    return {(c.gate, c.aggregation): c for c in cmp.combinations}


def findings(cmp: Comparison) -> list:
    """Sentences stating what the table shows, each computed from its numbers."""
    out = []
    by = _rows_by(cmp)
    gates = sorted({c.gate for c in cmp.combinations})
    aggs = sorted({c.aggregation for c in cmp.combinations})
    a0 = aggs[0]
    for g in gates:
        c = by[(g, a0)]
        r = c.row
        if r["races"]:
            out.append("%s: %d race(s); %d distinct result(s) over %d schedule policies x 2 "
                       "executors: the numbers depend on the order the executor picks."
                       % (GATE_NAMES[g], r["races"], r["outcomes"], len(cmp.schedules)))
        else:
            out.append("%s: no races; %s."
                       % (GATE_NAMES[g], "every policy and executor gave bitwise the same "
                          "numbers" if r["identical"] else "yet %d distinct results (a "
                          "nondeterministic kernel?)" % r["outcomes"]))
    if 0 in gates:
        base = by[(0, a0)].row
        for g in gates:
            if g == 0:
                continue
            r = by[(g, a0)].row
            out.append("%s vs GATE_NONE: +%d ops, +%d control edges, +%d barriers, critical "
                       "path %+d ops, parallel width %d -> %d."
                       % (GATE_NAMES[g], r["ops"] - base["ops"],
                          r["control_edges"] - base["control_edges"],
                          r["barriers"] - base["barriers"],
                          r["critical_path_ops"] - base["critical_path_ops"],
                          base["parallel_width"], r["parallel_width"]))
    if len(aggs) > 1:
        g = gates[-1]
        first = by[(g, aggs[0])].row
        for a in aggs[1:]:
            r = by[(g, a)].row
            out.append("%s vs %s (%s): peak bytes %d -> %d, critical path %+d ops, "
                       "ops %+d%s."
                       % (AGGREGATION_NAMES[a], AGGREGATION_NAMES[aggs[0]], GATE_NAMES[g],
                          first["peak_bytes"], r["peak_bytes"],
                          r["critical_path_ops"] - first["critical_path_ops"],
                          r["ops"] - first["ops"],
                          ", same numbers" if r.get("result") == first.get("result")
                          else ", different rounding (sums in another order)"))
    return out


def study_text(cmp: Comparison, title: str = "") -> str:
    """The full ``graphflow study`` report as text."""
    lines = []
    if title:
        lines += [title, ""]
    lines.append("%d combinations; each trained %d step(s) under %d schedule policies (%s) "
                 "with the sequential and the parallel executor (%d threads), twice."
                 % (len(cmp.combinations), cmp.steps, len(cmp.schedules),
                    ", ".join(str(s) for s in cmp.schedules), cmp.threads))
    lines += ["", cmp.format(), "", LEGEND, ""]
    shown = set()
    for c in cmp.combinations:
        if not c.races or c.gate in shown:
            continue
        shown.add(c.gate)
        lines.append("races under %s (%d):" % (GATE_NAMES[c.gate], len(c.races)))
        for i, r in enumerate(c.races, 1):
            lines.append("  %d. %s" % (i, r.explain()))
        lines.append("")
    lines.append("findings:")
    lines += ["  - " + f for f in findings(cmp)]
    traces = [c.trace_file for c in cmp.combinations if c.trace_file]
    if traces:
        lines += ["", "Chrome traces (open in chrome://tracing or ui.perfetto.dev):"]
        lines += ["  " + t for t in traces]
    return "\n".join(lines)


def plot(cmp: Comparison, path: str, title: str = "") -> None:
    """Draw each combination's parallelism profile and step times into ``path``.

    Raises ImportError with :data:`PLOT_MISSING` when matplotlib is absent.
    """
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(PLOT_MISSING) from None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5))
    styles = {0: "-", 1: "--", 2: ":"}  # one line style per aggregation method
    for c in cmp.combinations:
        ax1.plot(range(len(c.report.level_widths)), c.report.level_widths, label=c.name,
                 drawstyle="steps-mid", linestyle=styles.get(c.aggregation, "-"))
    ax1.set_yscale("log")
    ax1.set_xlabel("level (longest chain of predecessors)")
    ax1.set_ylabel("ops ready at that level (log scale)")
    ax1.set_title("parallelism profile")
    ax1.legend(fontsize=7)
    names = [c.name.replace("/", "\n").replace("EXPERIMENTAL_", "") for c in cmp.combinations]
    xs = range(len(names))
    for k, executor in enumerate(("seq", "par")):
        data = [c.step_ms.get(executor, []) for c in cmp.combinations]
        if any(data):
            ax2.boxplot([d or [0.0] for d in data], positions=[x + 0.2 * k - 0.1 for x in xs],
                        widths=0.18, showfliers=False)
    ax2.set_xticks(list(xs))
    ax2.set_xticklabels(names, fontsize=7)
    ax2.set_ylabel("step time (ms)")
    ax2.set_title("step times (left: sequential, right: parallel)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
