"""RunOptions(FULL_TRACE) step stats and the Chrome trace built from them
(spec formats.md §c)."""
import json

import numpy as np
import pytest

import graphflow as tf
from graphflow.client.timeline import Timeline
from graphflow.io import proto
from graphflow.runtime import tracing

FULL = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)


def _model():
    x = tf.placeholder(tf.float32, [3, 4], name="x")
    w = tf.Variable(np.ones((4, 2), np.float32), name="w")
    y = tf.nn.relu(tf.matmul(x, w), name="y")
    u = tf.unique(tf.constant([3, 1, 3]), name="u")
    z = tf.reduce_sum(y, name="z") + tf.cast(tf.reduce_sum(u[1]), tf.float32)
    return x, z


def test_real_run_trace_has_one_complete_event_per_executed_node():
    x, z = _model()
    md = tf.RunMetadata()
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        got = s.run(z, {x: np.ones((3, 4))}, options=FULL, run_metadata=md)
    assert got == pytest.approx(24.0 + 1.0)
    stats = md.step_stats.dev_stats
    assert len(stats) == 1 and stats[0].device == tracing.DEVICE
    names = [n.node_name for n in stats[0].node_stats]
    plan_ops = [op.name for op in md.partition_graphs[0].node]
    assert sorted(names) == sorted(plan_ops)
    assert "x" not in names and "w" in names and "y" in names
    trace = json.loads(Timeline(md.step_stats).generate_chrome_trace_format())
    complete = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert sorted(e["args"]["name"] for e in complete) == sorted(names)
    by_name = {e["args"]["name"]: e for e in complete}
    assert by_name["y"]["name"] == "Relu" and by_name["y"]["args"]["input0"] == "MatMul"
    assert all(e["dur"] >= 0 and e["ts"] > 1e15 for e in complete)
    meta = [e for e in trace["traceEvents"] if e["ph"] == "M"]
    assert [m["args"]["name"] for m in meta] == [
        "Allocators", tracing.DEVICE + " Compute", tracing.DEVICE + " Tensors"]


def test_node_stats_contents():
    x, z = _model()
    md = tf.RunMetadata()
    # passes off: constant folding would evaluate Unique(Const) at compile time
    off = tf.OptimizerOptions(opt_level=tf.OptimizerOptions.L0)
    with tf.Session(config=tf.ConfigProto(graph_options=tf.GraphOptions(
            optimizer_options=off))) as s:
        s.run(tf.global_variables_initializer())
        s.run(z, {x: np.ones((3, 4))}, options=FULL, run_metadata=md)
    ns = {n.node_name: n for n in md.step_stats.dev_stats[0].node_stats}
    mm = ns["MatMul"]
    assert mm.timeline_label == "MatMul = MatMul(x, w/read)"
    assert mm.output[0].tensor_description.dtype == tf.float32.as_datatype_enum
    assert [d.size for d in mm.output[0].tensor_description.shape.dim] == [3, 2]
    assert mm.output[0].tensor_description.allocation_description.requested_bytes == 24
    assert mm.all_end_rel_micros == mm.all_end_rel_nanos // 1000
    assert ns["u"].timeline_label == "u = Unique(Const)" and len(ns["u"].output) == 2
    assert ns["u"].output[1].slot == 1
    starts = [n.all_start_nanos for n in md.step_stats.dev_stats[0].node_stats]
    assert starts == sorted(starts)
    tid = mm.thread_id
    assert tid in md.step_stats.dev_stats[0].thread_names


def test_untraced_runs_do_not_trace(monkeypatch):
    x, z = _model()

    def boom(*a, **k):
        raise AssertionError("traced executor used without trace_level")
    monkeypatch.setattr(tracing, "execute_traced", boom)
    md = tf.RunMetadata()
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        s.run(z, {x: np.ones((3, 4))}, run_metadata=md)
        s.run(z, {x: np.ones((3, 4))}, options=tf.RunOptions(), run_metadata=md)
    assert md.step_stats is None


def test_partition_graphs_without_trace_and_proto_run_metadata():
    x, z = _model()
    md = proto.RunMetadata()
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        s.run(z, {x: np.ones((3, 4))}, options=tf.RunOptions(output_partition_graphs=True),
              run_metadata=md)
        assert len(md.partition_graphs) == 1 and not md.step_stats.dev_stats
        s.run(z, {x: np.ones((3, 4))}, options=FULL, run_metadata=md)
    assert md.step_stats.dev_stats[0].node_stats


def test_traced_errors_name_the_node():
    p = tf.placeholder(tf.float32, name="p")
    y = tf.identity(p)
    with tf.Session() as s, pytest.raises(tf.errors.InvalidArgumentError, match="node p"):
        s.run(y, options=FULL, run_metadata=tf.RunMetadata())


def _stats(nodes):
    """StepStats from (name, start, dur, label, out_bytes) tuples."""
    ss = proto.StepStats()
    dev = ss.dev_stats.add(device="/cpu:0")
    for name, start, dur, label, nbytes in nodes:
        n = dev.node_stats.add(node_name=name, all_start_micros=start, all_end_rel_micros=dur,
                               timeline_label=label)
        if nbytes is not None:
            a = n.output.add().tensor_description.allocation_description
            a.requested_bytes = nbytes
            a.allocator_name = "cpu"
    return ss


def test_lanes_and_dataflow_by_spec_rules():
    ss = _stats([("a", 10, 5, "a = Const()", 4),
                 ("b", 12, 10, "b = Neg(a)", 8),       # overlaps a -> lane 1
                 ("c", 16, 2, "c = Abs(a)", 8),        # lane 0 free (16 > 15)
                 ("d", 30, 1, "d = AddV2(b, c/_3)", None),  # lane 0; c via '/_' suffix
                 ("e", 30, 1, "nonsense", None)])      # no label match -> lane 1
    trace = json.loads(Timeline(ss).generate_chrome_trace_format())
    ev = trace["traceEvents"]
    lanes = {e["args"]["name"]: e["tid"] for e in ev if e["ph"] == "X"}
    assert lanes == {"a": 0, "b": 1, "c": 0, "d": 0, "e": 1}
    assert [e for e in ev if e["ph"] == "X" and e["args"]["name"] == "e"][0]["name"] == "unknown"
    flows = [(e["ph"], e["name"], e["tid"], e["ts"], e["id"]) for e in ev
             if e["ph"] in "st"]
    # a (lane 0, ends 15) -> b (lane 1, starts 12); b (lane 1, ends 22) -> d (lane 0)
    assert flows == [("s", "a", 0, 15, 0), ("t", "a", 1, 12, 0),
                     ("s", "b", 1, 22, 1), ("t", "b", 0, 30, 1)]
    assert not [e for e in ev if e["ph"] in "NODC"]
    quiet = json.loads(Timeline(ss).generate_chrome_trace_format(show_dataflow=False))
    assert not [e for e in quiet["traceEvents"] if e["ph"] in "st"]


def test_memory_view():
    ss = _stats([("a", 10, 5, "a = Const()", 4),
                 ("b", 20, 5, "b = Neg(a)", 8)])
    ev = json.loads(Timeline(ss).generate_chrome_trace_format(show_memory=True))["traceEvents"]
    kinds = sorted({e["ph"] for e in ev})
    assert kinds == ["C", "D", "M", "N", "O", "X"]
    deletes = {e["name"]: e["ts"] for e in ev if e["ph"] == "D"}
    assert deletes == {"a": 24, "b": 25}  # a lives until its consumer ends (-1)
    counters = [(e["ts"], e["args"]["cpu"]) for e in ev if e["ph"] == "C"]
    assert counters == [(10, 4), (20, 12), (24, 8), (25, 0)]
    snap = [e for e in ev if e["ph"] == "O"][0]
    assert snap["ts"] == 14 and '"' not in snap["args"]["snapshot"]["tensor_description"]


def test_pretty_json_format():
    text = Timeline(_stats([("a", 1, 1, "a = NoOp()", None)])).generate_chrome_trace_format()
    assert text.startswith('{\n    "traceEvents": [\n')
    with pytest.raises(ValueError):
        Timeline(None)
