"""``structure_report(graph, fetches)``: what a run of ``fetches`` executes.

The report covers the pruned subgraph ``Session.run(fetches)`` needs: ops by
type, data and control edges, the barrier ops that gating adds (``tf.group``
NoOps and the ``control_dependency`` Identity gates of ``tf.tuple``), the
critical path in ops and in estimated cost (FLOPs and bytes, see
:mod:`graphflow.analysis.cost`) and the parallelism profile: how many ops are
ready at each level of the graph and the widest antichain (the most ops that
no edge orders against each other, i.e. that could all run at once).

``StructureReport.row()`` flattens a report to one table row; ``format_rows``
prints several rows side by side, one per (gate mode, aggregation method)
when ``compare`` builds the same model several ways.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

import networkx as nx

from graphflow.analysis.cost import op_cost
from graphflow.analysis.subgraph import Subgraph

__all__ = ["StructureReport", "structure_report", "format_rows", "max_antichain",
           "ROW_COLUMNS"]

# Above this many ordered pairs the exact antichain (transitive closure +
# bipartite matching) is skipped and the widest level is reported instead.
ANTICHAIN_PAIR_LIMIT = 400_000


@dataclass
class StructureReport:
    """The structure of the subgraph that runs for ``fetches``.

    Attributes:
      fetches: names of the fetched tensors and ops.
      num_ops: ops in the pruned subgraph.
      ops_by_type: op type -> count, most frequent first.
      data_edges: data connections (one per op input whose producer runs).
      control_edges: control dependencies between ops of the subgraph.
      barriers: barrier op name -> ``'group'`` (a NoOp waiting on control
        inputs: ``tf.group``, the gate of ``tf.tuple``) or ``'gate'`` (an
        Identity with control inputs: ``tf.tuple``'s outputs,
        ``with_dependencies``).
      critical_path: op names of a longest path (most ops) through the DAG.
      critical_path_flops / critical_path_bytes: the largest FLOP and byte
        sums along any path; ``flops_path`` is a path reaching the former.
      total_flops / total_bytes: sums over all ops.
      level_widths: number of ops at each ASAP level (level 0: no
        predecessor; level k: longest chain of predecessors has k ops), i.e.
        how many ops an unbounded executor has ready at each wave.
      max_antichain: size of a widest antichain, or None when too large to
        compute (``antichain_note`` says so); ``antichain`` lists its ops.
      work_antichain: the same among the ops that do run-time work (not
        Const, Placeholder, VariableV2, NoOp or forwarding ops such as
        ``w/read``): the most kernels that could run at once.
      unknown_shape_ops: ops whose cost used an unknown dimension (as 1).
      families: cost family -> number of ops (``cost.FAMILIES``).
      no_cost_rule: op types costed by the fallback rule.
    """

    fetches: list
    num_ops: int
    ops_by_type: dict
    data_edges: int
    control_edges: int
    barriers: dict
    critical_path: list
    critical_path_flops: int
    critical_path_bytes: int
    flops_path: list
    total_flops: int
    total_bytes: int
    level_widths: list
    max_antichain: Optional[int]
    antichain: list = field(default_factory=list)
    antichain_note: str = ""
    work_antichain: Optional[int] = None
    unknown_shape_ops: list = field(default_factory=list)
    families: dict = field(default_factory=dict)
    no_cost_rule: list = field(default_factory=list)

    # --- derived numbers ------------------------------------------------------------
    @property
    def critical_path_ops(self) -> int:
        """Number of ops on the longest path."""
        return len(self.critical_path)

    @property
    def num_levels(self) -> int:
        return len(self.level_widths)

    @property
    def widest_level(self) -> int:
        """Index of the level with the most ops (the first one on ties)."""
        w = self.level_widths
        return max(range(len(w)), key=lambda i: (w[i], -i)) if w else 0

    @property
    def max_level_width(self) -> int:
        return max(self.level_widths) if self.level_widths else 0

    @property
    def group_barriers(self) -> int:
        return sum(1 for k in self.barriers.values() if k == "group")

    @property
    def gate_barriers(self) -> int:
        return sum(1 for k in self.barriers.values() if k == "gate")

    @property
    def width(self) -> int:
        """The widest antichain when computed, else the widest level."""
        return self.max_antichain if self.max_antichain is not None else self.max_level_width

    def row(self) -> dict:
        """The scalar summary, keyed by ``ROW_COLUMNS`` names (one ``compare`` row)."""
        return {"ops": self.num_ops, "data_edges": self.data_edges,
                "control_edges": self.control_edges, "barriers": len(self.barriers),
                "critical_path_ops": self.critical_path_ops,
                "critical_path_flops": self.critical_path_flops,
                "critical_path_bytes": self.critical_path_bytes,
                "levels": self.num_levels, "max_level_width": self.max_level_width,
                "parallel_width": self.width, "work_width": self.work_antichain}

    # --- text ----------------------------------------------------------------------
    def format(self, max_types: int = 12) -> str:
        """A plain-text table of the report."""
        lines = ["Structure of the subgraph for %s" % ", ".join(self.fetches), ""]
        lines += _table([
            ("ops", self.num_ops),
            ("data edges", self.data_edges),
            ("control edges", self.control_edges),
            ("barriers", "%d (%d group NoOps, %d gate Identities)"
             % (len(self.barriers), self.group_barriers, self.gate_barriers)),
            ("critical path (ops)", self.critical_path_ops),
            ("critical path (FLOPs)", _num(self.critical_path_flops)),
            ("critical path (bytes)", _num(self.critical_path_bytes)),
            ("total FLOPs / bytes", "%s / %s" % (_num(self.total_flops),
                                                 _num(self.total_bytes))),
            ("levels", self.num_levels),
            ("widest level", "%d ops at level %d" % (self.max_level_width,
                                                     self.widest_level)),
            ("widest antichain", self.max_antichain if self.max_antichain is not None
             else "n/a (%s)" % self.antichain_note),
            ("antichain (work ops)", self.work_antichain
             if self.work_antichain is not None else "n/a"),
        ])
        lines += ["", "ops by type:"]
        items = list(self.ops_by_type.items())
        lines += _table(items[:max_types], indent="  ")
        if len(items) > max_types:
            lines.append("  ... %d more types (%d ops)"
                         % (len(items) - max_types, sum(c for _, c in items[max_types:])))
        lines += ["", "ready ops per level: " + " ".join(str(w) for w in self.level_widths)]
        lines.append("critical path: " + _path_text(self.critical_path))
        if self.unknown_shape_ops:
            lines.append("note: %d op(s) have unknown static dimensions, counted as 1: %s"
                         % (len(self.unknown_shape_ops), _short(self.unknown_shape_ops)))
        if self.no_cost_rule:
            lines.append("note: no cost rule for %s (1 FLOP per output element)"
                         % ", ".join(self.no_cost_rule))
        if self.antichain_note and self.max_antichain is not None:
            lines.append("note: " + self.antichain_note)
        return "\n".join(lines)

    __str__ = format


ROW_COLUMNS = ("ops", "data_edges", "control_edges", "barriers", "critical_path_ops",
               "critical_path_flops", "critical_path_bytes", "levels", "max_level_width",
               "parallel_width", "work_width")


def format_rows(rows: Iterable[dict], columns: Optional[Iterable[str]] = None,
                keys: Iterable[str] = ()) -> str:
    """Rows (dicts) as an aligned text table.

    ``keys`` name the leading columns that identify a row (e.g. ``("gate",
    "aggregation")`` in ``compare``); ``columns`` the value columns (default
    ``ROW_COLUMNS`` plus any extra keys the rows carry, in first-seen order).
    """
    rows = list(rows)
    keys = list(keys)
    if columns is None:
        cols = [c for c in ROW_COLUMNS]
        for r in rows:
            cols += [k for k in r if k not in cols and k not in keys]
        cols = [c for c in cols if any(c in r for r in rows)]
    else:
        cols = list(columns)
    header = keys + cols
    cells = [[_cell(r.get(c, "")) for c in header] for r in rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) if i < len(keys) else h.rjust(w)
                     for i, (h, w) in enumerate(zip(header, widths)))]
    out.append("  ".join("-" * w for w in widths))
    for row in cells:
        out.append("  ".join(c.ljust(w) if i < len(keys) else c.rjust(w)
                             for i, (c, w) in enumerate(zip(row, widths))))
    return "\n".join(out)


# --- the analysis ------------------------------------------------------------------------
def structure_report(graph: Any, fetches: Any, feeds: Optional[Iterable[Any]] = None,
                     antichain_pair_limit: int = ANTICHAIN_PAIR_LIMIT) -> StructureReport:
    """Report on the subgraph that ``Session.run(fetches, feed_dict)`` executes.

    Args:
      graph: a ``graphflow.Graph``.
      fetches: Tensors, Operations, Variables or names (nested lists allowed),
        e.g. a train op.
      feeds: tensors that would be fed (pruning stops there).
      antichain_pair_limit: compute the exact widest antichain only when the
        graph's transitive closure has at most this many ordered pairs.

    Returns:
      A :class:`StructureReport`; ``print(report)`` shows it as a table.
    """
    sub = Subgraph(graph, fetches, feeds)
    ops = sub.ops
    by_type = Counter(op.type for op in ops)
    data_edges = sum(1 for op in ops for t in op._inputs
                     if t not in sub.feeds and t.op in sub.opset)
    control_edges = sum(1 for op in ops for c in op._control_inputs if c in sub.opset)
    barriers = {}
    for op in ops:
        ctl = [c for c in op._control_inputs if c in sub.opset]
        if ctl and op.type == "NoOp":
            barriers[op.name] = "group"
        elif ctl and op.type == "Identity":
            barriers[op.name] = "gate"
    costs = {op: op_cost(op) for op in ops}
    path = _longest_path(sub, {op: 1 for op in ops})
    fpath = _longest_path(sub, {op: c.flops for op, c in costs.items()})
    bpath = _longest_path(sub, {op: c.bytes for op, c in costs.items()})
    lev = sub.levels()
    widths = [0] * (1 + max(lev.values())) if lev else []
    for v in lev.values():
        widths[v] += 1
    anti, note = max_antichain(sub, antichain_pair_limit)
    work = {op for op in ops if costs[op].family != "no runtime work"}
    work_anti = max_antichain(sub, antichain_pair_limit, work)[0] if anti is not None else None
    families = Counter(c.family for c in costs.values())
    return StructureReport(
        fetches=[t.name for t in sub.fetch_tensors] + [o.name for o in sub.fetch_ops],
        num_ops=len(ops),
        ops_by_type=dict(sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))),
        data_edges=data_edges, control_edges=control_edges, barriers=barriers,
        critical_path=[op.name for op in path],
        critical_path_flops=sum(costs[op].flops for op in fpath),
        critical_path_bytes=sum(costs[op].bytes for op in bpath),
        flops_path=[op.name for op in fpath],
        total_flops=sum(c.flops for c in costs.values()),
        total_bytes=sum(c.bytes for c in costs.values()),
        level_widths=widths,
        max_antichain=None if anti is None else len(anti),
        antichain=[] if anti is None else [op.name for op in anti],
        antichain_note=note,
        work_antichain=None if work_anti is None else len(work_anti),
        unknown_shape_ops=[op.name for op in ops if costs[op].unknown],
        families=dict(families),
        no_cost_rule=sorted({op.type for op in ops if costs[op].family == "no rule"}))


def _longest_path(sub: Subgraph, weight: dict) -> list:
    """A path with the largest total weight (ties: the earliest-created ops)."""
    best: dict = {}
    back: dict = {}
    for op in sub.order:
        prev = None
        for p in sub.preds[op]:
            if prev is None or best[p] > best[prev] or \
                    (best[p] == best[prev] and p._id < prev._id):
                prev = p
        best[op] = weight[op] + (best[prev] if prev is not None else 0)
        back[op] = prev
    if not best:
        return []
    end = max(sub.order, key=lambda o: (best[o], -o._id))
    path = []
    while end is not None:
        path.append(end)
        end = back[end]
    return path[::-1]


def max_antichain(sub: Subgraph, pair_limit: int = ANTICHAIN_PAIR_LIMIT,
                  members: Optional[set] = None) -> tuple:
    """A widest antichain of the subgraph's DAG: ``(ops or None, note)``.

    Dilworth/König: with every ordered pair (a reaches b) as an edge of a
    bipartite graph, a maximum matching (networkx's Hopcroft-Karp) gives a
    minimum chain cover, and its minimum vertex cover the antichain (the ops
    with neither copy covered).
    ``members`` restricts the antichain to a subset of the ops (ordered
    through any path of the subgraph). Returns ``(None, reason)`` when the
    closure has more than ``pair_limit`` pairs.
    """
    order = sub.order
    if not order:
        return [], ""
    desc = sub.descendants_bits()
    if members is not None:
        mask = sum(1 << i for i, op in enumerate(order) if op in members)
        desc = {op: (b & mask if op in members else 0) for op, b in desc.items()}
    pairs = sum(b.bit_count() for b in desc.values())
    if pairs > pair_limit:
        return None, ("%d ordered pairs exceed the limit of %d; see the widest level"
                      % (pairs, pair_limit))
    n = len(order)
    bip = nx.Graph()
    bip.add_nodes_from(range(n), bipartite=0)  # left copy i, right copy n + i
    bip.add_nodes_from(range(n, 2 * n), bipartite=1)
    adj = [desc[op] for op in order]
    for i, bits in enumerate(adj):
        while bits:
            low = bits & -bits
            bip.add_edge(i, n + low.bit_length() - 1)
            bits ^= low
    matching = nx.bipartite.hopcroft_karp_matching(bip, top_nodes=range(n))
    # König: Z = vertices reached from unmatched left ones by alternating paths;
    # the minimum vertex cover is (L - Z) + (R & Z), so the ops with their left
    # copy in Z and their right copy outside Z form a maximum antichain.
    z_left = [i for i in range(n) if i not in matching]
    seen_left = set(z_left)
    seen_right = 0
    queue = list(z_left)
    while queue:
        i = queue.pop()
        new = adj[i] & ~seen_right
        seen_right |= new
        while new:
            low = new & -new
            new ^= low
            k = matching.get(n + low.bit_length() - 1)  # a maximum matching covers it
            if k is not None and k not in seen_left:
                seen_left.add(k)
                queue.append(k)
    anti = [op for i, op in enumerate(order) if i in seen_left and not seen_right >> i & 1
            and (members is None or op in members)]
    return sorted(anti, key=lambda o: o._id), ""


# --- formatting helpers ------------------------------------------------------------------
def _num(x: Any) -> str:
    if isinstance(x, float):
        return "%.4g" % x
    if isinstance(x, int) and abs(x) >= 10_000:
        for unit, div in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
            if abs(x) >= div:
                return "%d (%.3g%s)" % (x, x / div, unit)
    return str(x)


def _cell(x: Any) -> str:
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return "%.4g" % x
    return str(x)


def _table(items: list, indent: str = "") -> list:
    w = max((len(str(k)) for k, _ in items), default=0)
    return ["%s%s  %s" % (indent, str(k).ljust(w), v) for k, v in items]


def _path_text(names: list, limit: int = 8) -> str:
    if len(names) <= limit:
        return " -> ".join(names)
    half = limit // 2
    return " -> ".join(names[:half] + ["... (%d more)" % (len(names) - limit)]
                       + names[-half:])


def _short(names: list, limit: int = 6) -> str:
    more = "" if len(names) <= limit else ", ... (%d more)" % (len(names) - limit)
    return ", ".join(names[:limit]) + more
