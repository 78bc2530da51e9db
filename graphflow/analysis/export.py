"""Export a graph (or a set of its ops) to a ``networkx.DiGraph``.

Nodes are op names with the op's type, output dtypes and static shapes and
its device. An edge ``u -> v`` means ``v`` waits for ``u``: ``kind='data'``
when ``v`` consumes an output of ``u`` (the tensor name and the output and
input indices are recorded), ``kind='control'`` for a control dependency.
TensorFlow has no such export; TensorBoard's graph view shows the same facts.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional

import networkx as nx

__all__ = ["to_networkx", "shape_list", "ops_of"]


def shape_list(shape: Any) -> Optional[list]:
    """A TensorShape as a list (``None`` for unknown rank, ``None`` entries for
    unknown dimensions)."""
    return None if shape.ndims is None else list(shape.as_list())


def ops_of(graph: Any, ops: Optional[Iterable[Any]] = None) -> list:
    """``ops`` (Operations or op names of ``graph``) in creation order, or all ops."""
    if ops is None:
        return graph.get_operations()
    out = []
    for op in ops:
        if isinstance(op, str):
            op = graph.get_operation_by_name(op)
        elif not hasattr(op, "_control_inputs"):  # a Tensor or Variable
            op = op.op
        out.append(op)
    return sorted(set(out), key=lambda o: o._id)


def to_networkx(graph: Any, ops: Optional[Iterable[Any]] = None) -> nx.DiGraph:
    """The ops of ``graph`` (all, or only ``ops``) as a DiGraph.

    Args:
      graph: a ``graphflow.Graph``.
      ops: optional Operations (or names) to export; edges leaving the set are
        dropped.

    Returns:
      A DiGraph keyed by op name. Node attributes: ``type``, ``dtypes``
      (output dtype names), ``shapes`` (output shapes as lists, see
      :func:`shape_list`), ``device``, ``id`` (creation index), ``stateful``.
      Edge attributes: ``kind`` (``'data'`` or ``'control'``); data edges add
      ``tensor``, ``output_index`` and ``input_index`` of the first connection
      and ``inputs``, the list of every ``(output_index, input_index)`` pair
      (an op may consume several outputs of one producer, or one output
      twice). A pair of ops linked by data and control edges is one data
      edge with ``control=True``. Graph attribute ``data_inputs``: the number
      of data connections (sum of ``len(op.inputs)`` inside the set).
    """
    selected = ops_of(graph, ops)
    inside = set(selected)
    g = nx.DiGraph()
    for op in selected:
        g.add_node(op.name, type=op.type,
                   dtypes=[t.dtype.name for t in op.outputs],
                   shapes=[shape_list(t.shape) for t in op.outputs],
                   device=op.device, id=op._id,
                   stateful=bool(getattr(op.op_def, "stateful", False)))
    data_inputs = 0
    for op in selected:
        for j, t in enumerate(op._inputs):
            src = t.op
            if src not in inside:
                continue
            data_inputs += 1
            attrs = g.get_edge_data(src.name, op.name)
            if attrs is None:
                g.add_edge(src.name, op.name, kind="data", tensor=t.name,
                           output_index=t.value_index, input_index=j,
                           inputs=[(t.value_index, j)])
            else:
                attrs["inputs"].append((t.value_index, j))
        for c in op._control_inputs:
            if c not in inside:
                continue
            attrs = g.get_edge_data(c.name, op.name)
            if attrs is None:
                g.add_edge(c.name, op.name, kind="control")
            else:
                attrs["control"] = True
    g.graph["data_inputs"] = data_inputs
    return g
