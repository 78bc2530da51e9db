"""``graphflow.analysis``: study a graph's structure and its update races.

- :func:`to_networkx` (also ``Graph.to_networkx()``): the graph as a
  ``networkx.DiGraph`` with op types, dtypes, shapes and data/control edges;
- :func:`structure_report`: ops by type, edges, barriers, critical path in
  ops/FLOPs/bytes and the parallelism profile of the subgraph a run needs;
- :func:`races`: the (reader, update) pairs on a variable that no edge
  orders, i.e. whose result depends on the schedule (TF's GATE_NONE caveat);
- :func:`compare`: one model built under every gate mode x aggregation
  method, as a table of structure, races, memory, step times and whether
  every schedule policy gave the same numbers (``graphflow study``);
- :data:`MODELS`: the small models ``graphflow study --model`` offers;
- schedule policies (``RunOptions(schedule=...)``): :class:`SchedulePolicy`,
  :class:`FunctionPolicy`, :func:`get_policy`.

TensorFlow has no equivalent module; the names are graphflow's own.
"""
from graphflow.analysis.compare import (AGGREGATION_NAMES, GATE_NAMES, Combination,
                                        Comparison, compare)
from graphflow.analysis.export import to_networkx
from graphflow.analysis.models import MODELS
from graphflow.analysis.races import Race, format_races, races
from graphflow.analysis.report import (ROW_COLUMNS, StructureReport, format_rows,
                                       structure_report)

from graphflow.runtime.policies import FunctionPolicy, SchedulePolicy, get_policy

__all__ = ["to_networkx", "structure_report", "StructureReport", "format_rows",
           "ROW_COLUMNS", "races", "Race", "format_races", "compare", "Comparison",
           "Combination", "GATE_NAMES", "AGGREGATION_NAMES", "MODELS", "SchedulePolicy",
           "FunctionPolicy", "get_policy"]
