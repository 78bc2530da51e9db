"""``graphflow.analysis``: study a graph's structure and its update races.

- :func:`to_networkx` (also ``Graph.to_networkx()``): the graph as a
  ``networkx.DiGraph`` with op types, dtypes, shapes and data/control edges;
- :func:`structure_report`: ops by type, edges, barriers, critical path in
  ops/FLOPs/bytes and the parallelism profile of the subgraph a run needs;
- :func:`races`: the (reader, update) pairs on a variable that no edge
  orders, i.e. whose result depends on the schedule (TF's GATE_NONE caveat).

TensorFlow has no equivalent module; the names are graphflow's own.
"""
from graphflow.analysis.export import to_networkx
from graphflow.analysis.races import Race, format_races, races
from graphflow.analysis.report import (ROW_COLUMNS, StructureReport, format_rows,
                                       structure_report)

__all__ = ["to_networkx", "structure_report", "StructureReport", "format_rows",
           "ROW_COLUMNS", "races", "Race", "format_races"]
