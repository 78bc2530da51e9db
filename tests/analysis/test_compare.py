"""``analysis.compare`` and the study models: one row per (gate, aggregation), with
structure checked against independent counts, reproducibility checked against
runs made here under ``asap``/``alap``, and the aggregation methods' memory and
structure differences on the shared-weight model."""
import json

import numpy as np
import pytest

import graphflow as tf
from graphflow import analysis
from graphflow.analysis import models
from graphflow.analysis.compare import parse_aggregation, parse_gate


@pytest.fixture(scope="module")
def mlp_table():
    return analysis.compare(models.mlp, steps=2, timing_steps=3)


def upstream_ops(op, fed=()):
    """The ops a run of ``op`` executes: its ancestors, minus fed placeholders."""
    seen, stack = set(), [op]
    while stack:
        o = stack.pop()
        if o not in seen:
            seen.add(o)
            stack.extend(t.op for t in o.inputs if t not in fed)
            stack.extend(o.control_inputs)
    return seen


def build(gate, agg, builder=models.mlp):
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(0)
        m = builder(gate, agg)
        init = tf.global_variables_initializer()
    return g, m, init


def test_one_row_per_combination(mlp_table):
    rows = mlp_table.rows
    assert [(r["gate"], r["aggregation"]) for r in rows] == [
        (g, a) for g in ("GATE_NONE", "GATE_OP", "GATE_GRAPH")
        for a in ("ADD_N", "EXPERIMENTAL_TREE", "EXPERIMENTAL_ACCUMULATE_N")]
    text = mlp_table.format()
    assert len(text.splitlines()) == 2 + 9
    for col in ("control_edges", "races", "peak_bytes", "seq_ms", "par_ms", "identical"):
        assert col in text.splitlines()[0]


def test_structure_columns_match_independent_counts(mlp_table):
    for c in mlp_table.combinations:
        g, m, _ = build(c.gate, c.aggregation)
        ops = upstream_ops(m["train_op"], fed=set(m["feed_dict"]))
        assert c.row["ops"] == len(ops)
        assert c.row["control_edges"] == sum(len(o.control_inputs) for o in ops)
        assert c.row["races"] == len(analysis.races(g, m["train_op"]))
        assert c.row["peak_bytes"] > 0 and c.row["seq_ms"] > 0 and c.row["par_ms"] > 0
    none, op, graph = (mlp_table.combinations[i].row for i in (0, 3, 6))
    assert none["control_edges"] < graph["control_edges"] < op["control_edges"]
    assert none["races"] > 0 and op["races"] == graph["races"] == 0


def run_steps(gate, schedule, steps=2):
    g, m, init = build(gate, 0)
    with tf.Session(graph=g) as sess:
        sess.run(init)
        for _ in range(steps):
            sess.run(m["train_op"], m["feed_dict"], options=tf.RunOptions(schedule=schedule))
        variables = g.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
        return sess.run(variables), float(sess.run(m["loss"], m["feed_dict"]))


def test_reproducibility_columns_agree_with_runs_made_here(mlp_table):
    for c in mlp_table.combinations[::3]:  # the ADD_N row of each gate mode
        asap, _ = run_steps(c.gate, "asap")
        alap, _ = run_steps(c.gate, "alap")
        differ = any(not np.array_equal(a, b) for a, b in zip(asap, alap))
        assert c.row["identical"] == (not differ) == (c.row["outcomes"] == 1)
        _, loss = run_steps(c.gate, "default")
        assert c.row["loss"] == pytest.approx(loss, rel=0, abs=0)


def test_shared_weight_model_shows_aggregation():
    table = analysis.compare(models.shared, gate_modes=["GATE_GRAPH"], steps=1,
                             timing_steps=0, schedules=["default", "alap"])
    add_n, tree, acc = (c.row for c in table.combinations)
    # a pairwise sum of the 8 gradient terms instead of one AddN: 7 ops for 1
    assert tree["ops"] - add_n["ops"] == 6
    assert tree["critical_path_ops"] > add_n["critical_path_ops"]
    assert acc["peak_bytes"] < add_n["peak_bytes"]
    assert "seq_ms" not in add_n
    assert all(r["identical"] for r in (add_n, tree, acc))


def test_bare_train_op_builder_and_trace_files(tmp_path):
    def build_fn(gate, agg):
        w = tf.Variable([1.0, -2.0], name="w")
        loss = tf.reduce_sum(tf.square(w * w - 1.0))
        return tf.train.GradientDescentOptimizer(0.1).minimize(
            loss, gate_gradients=gate, aggregation_method=agg)
    table = analysis.compare(build_fn, [0, 1], ["add_n"], steps=1, timing_steps=1,
                             trace_dir=str(tmp_path / "traces"))
    assert len(table.rows) == 2 and "loss" not in table.rows[0]
    for c in table.combinations:
        with open(c.trace_file) as f:
            events = json.load(f)["traceEvents"]
        assert any(e.get("ph") == "X" for e in events)


def test_arguments_are_checked_before_building():
    calls = []

    def build_fn(gate, agg):
        calls.append((gate, agg))
        return tf.no_op()
    with pytest.raises(ValueError, match="Unknown gate mode 'sideways'"):
        analysis.compare(build_fn, ["sideways"])
    with pytest.raises(ValueError, match="aggregation method 7"):
        analysis.compare(build_fn, [0], [7])
    with pytest.raises(ValueError, match="Unknown schedule"):
        analysis.compare(build_fn, schedules=["soon"])
    with pytest.raises(ValueError, match="threads"):
        analysis.compare(build_fn, threads=1)
    with pytest.raises(ValueError, match="steps"):
        analysis.compare(build_fn, steps=0)
    with pytest.raises(TypeError, match="callable"):
        analysis.compare("mlp")
    with pytest.raises(TypeError):
        parse_gate(True)
    assert calls == []
    assert parse_gate("op") == parse_gate("GATE_OP") == tf.train.Optimizer.GATE_OP
    assert parse_aggregation("DEFAULT") == tf.AggregationMethod.ADD_N
    assert parse_aggregation("tree") == tf.AggregationMethod.EXPERIMENTAL_TREE
    assert parse_aggregation("accumulate_n") == tf.AggregationMethod.EXPERIMENTAL_ACCUMULATE_N


def test_study_text_states_findings(mlp_table):
    from graphflow.analysis.study import findings, study_text
    text = study_text(mlp_table, "title")
    assert text.startswith("title")
    assert "races under GATE_NONE (%d):" % mlp_table.rows[0]["races"] in text
    found = findings(mlp_table)
    none = mlp_table.rows[0]
    assert found[0].startswith("GATE_NONE: %d race(s); %d distinct"
                               % (none["races"], none["outcomes"]))
    op = mlp_table.rows[3]
    assert ("GATE_OP vs GATE_NONE: +%d ops, +%d control edges"
            % (op["ops"] - none["ops"], op["control_edges"] - none["control_edges"])) in text
