"""graphflow.analysis.to_networkx / Graph.to_networkx: every op and every
data and control connection survives the export with its attributes."""
import networkx as nx
import numpy as np

import graphflow as tf
from graphflow import analysis


def _graph():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    w = tf.Variable(np.ones((3, 2), np.float32), name="w")
    y = tf.matmul(x, w, name="y")
    sq = tf.multiply(y, y, name="sq")  # one tensor consumed twice
    with tf.control_dependencies([sq]):
        out = tf.identity(y, name="out")
    parts = tf.split(out, 2, axis=1, name="split")
    return tf.add(parts[0], parts[1], name="sum")  # two outputs of one producer


def test_round_trip_of_counts_and_inputs():
    _graph()
    g = tf.get_default_graph()
    d = g.to_networkx()
    ops = g.get_operations()
    assert isinstance(d, nx.DiGraph)
    assert set(d.nodes) == {op.name for op in ops}
    data = [e for e in d.edges(data=True) if e[2]["kind"] == "data"]
    ctrl = [e for e in d.edges(data=True) if e[2]["kind"] == "control"]
    assert sum(len(a["inputs"]) for _, _, a in data) == sum(len(op.inputs) for op in ops)
    assert d.graph["data_inputs"] == sum(len(op.inputs) for op in ops)
    assert len(ctrl) == sum(len(op.control_inputs) for op in ops)
    # rebuild each op's input list from the edges
    for op in ops:
        rebuilt = {}
        for src, _, a in d.in_edges(op.name, data=True):
            if a["kind"] == "data":
                for out_i, in_i in a["inputs"]:
                    rebuilt[in_i] = "%s:%d" % (src, out_i)
        assert [rebuilt[i] for i in range(len(op.inputs))] == [t.name for t in op.inputs]
        ctl = sorted(s for s, _, a in d.in_edges(op.name, data=True)
                     if a["kind"] == "control" or a.get("control"))
        assert ctl == sorted(c.name for c in op.control_inputs)


def test_node_and_edge_attributes():
    _graph()
    d = tf.get_default_graph().to_networkx()
    assert d.nodes["y"]["type"] == "MatMul"
    assert d.nodes["y"]["dtypes"] == ["float32"]
    assert d.nodes["y"]["shapes"] == [[None, 2]]
    assert d.nodes["w"]["dtypes"] == ["float32_ref"]
    assert d.nodes["split"]["shapes"] == [[None, 1], [None, 1]]
    e = d.edges["y", "sq"]
    assert (e["kind"], e["tensor"], e["inputs"]) == ("data", "y:0", [(0, 0), (0, 1)])
    assert d.edges["split", "sum"]["inputs"] == [(0, 0), (1, 1)]
    assert d.edges["sq", "out"] == {"kind": "control"}
    assert nx.is_directed_acyclic_graph(d)


def test_subset_export_drops_outside_edges():
    _graph()
    g = tf.get_default_graph()
    d = analysis.to_networkx(g, ops=["y", "sq", g.get_operation_by_name("out")])
    assert set(d.nodes) == {"y", "sq", "out"}
    assert set(d.edges) == {("y", "sq"), ("y", "out"), ("sq", "out")}
    assert d.graph["data_inputs"] == 3
