"""graphflow.analysis.structure_report: numbers on a small graph worked out by
hand, barriers of the gate modes, the antichain, and the compare-style rows."""
import numpy as np
import pytest

import graphflow as tf
from graphflow import analysis
from graphflow.analysis.cost import op_cost
from graphflow.analysis.subgraph import Subgraph

GD = tf.train.GradientDescentOptimizer


def _small():
    """x[2,3] @ w[3,4] -> relu, sigmoid -> add -> sum -> group (9 ops)."""
    x = tf.placeholder(tf.float32, [2, 3], name="x")
    w = tf.constant(np.ones((3, 4)), tf.float32, name="w")
    m = tf.matmul(x, w, name="m")
    t = tf.add(tf.nn.relu(m, name="r"), tf.sigmoid(m, name="s"), name="t")
    total = tf.reduce_sum(t, axis=[0, 1], name="total")
    return tf.group(total, name="step")


def test_small_graph_numbers_by_hand():
    step = _small()
    rep = analysis.structure_report(tf.get_default_graph(), step)
    assert rep.fetches == ["step"]
    assert rep.num_ops == 9
    assert rep.ops_by_type == {"Const": 2, "AddV2": 1, "MatMul": 1, "NoOp": 1,
                               "Placeholder": 1, "Relu": 1, "Sigmoid": 1, "Sum": 1}
    # inputs: m 2, r 1, s 1, t 2, total 2 (t, axis); control: step <- total
    assert (rep.data_edges, rep.control_edges) == (8, 1)
    assert rep.barriers == {"step": "group"}
    # levels: {x, w, axis} {m} {r, s} {t} {total} {step}
    assert rep.level_widths == [3, 1, 2, 1, 1, 1]
    assert (rep.widest_level, rep.max_level_width) == (0, 3)
    assert rep.critical_path == ["x", "m", "r", "t", "total", "step"]
    assert rep.critical_path_ops == 6
    # FLOPs: matmul 2*2*4*3 = 48, relu/sigmoid/add 8 each, sum 8 (input elements)
    assert rep.total_flops == 48 + 8 + 8 + 8 + 8
    assert rep.critical_path_flops == 48 + 8 + 8 + 8
    # bytes read + written (float32): m 24+48+32, r/s 32+32, t 32+32+32,
    # total 32 + 8 (axis int32[2]) + 4; Const/Placeholder/NoOp move nothing
    assert rep.total_bytes == 104 + 64 + 64 + 96 + 44
    assert rep.critical_path_bytes == 104 + 64 + 96 + 44
    # widest antichain: 3 (e.g. r, s and the axis constant)
    assert rep.max_antichain == 3
    # among ops doing run-time work (not x, w, the axis constant, step): {r, s}
    assert rep.work_antichain == 2
    assert rep.unknown_shape_ops == [] and rep.no_cost_rule == []


def test_report_text_and_row():
    rep = analysis.structure_report(tf.get_default_graph(), _small())
    text = str(rep)
    assert text == rep.format()
    for needle in ("ops                    9", "control edges          1",
                   "ready ops per level: 3 1 2 1 1 1",
                   "critical path: x -> m -> r -> t -> total -> step"):
        assert needle in text
    row = rep.row()
    assert tuple(row) == analysis.ROW_COLUMNS
    assert row["critical_path_flops"] == 72 and row["parallel_width"] == 3
    table = analysis.format_rows([dict(row, gate="GATE_OP"), dict(row, gate="GATE_NONE")],
                                 keys=("gate",))
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["gate", "ops", "data_edges"]
    assert len(lines) == 4 and lines[2].startswith("GATE_OP")


def test_feeds_prune_the_producers():
    x = tf.placeholder(tf.float32, [2], name="x")
    y = tf.exp(x, name="y")
    z = tf.negative(y, name="z")
    rep = analysis.structure_report(tf.get_default_graph(), z, feeds=[y])
    assert rep.ops_by_type == {"Neg": 1}
    assert rep.data_edges == 0


def test_unknown_dims_count_as_one_and_are_flagged():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    w = tf.constant(np.ones((3, 4)), tf.float32, name="w")
    m = tf.matmul(x, w, name="m")
    rep = analysis.structure_report(tf.get_default_graph(), m)
    assert rep.unknown_shape_ops == ["m"]
    assert op_cost(m.op).flops == 2 * 1 * 4 * 3
    assert "unknown static dimensions" in rep.format()


def test_cost_rules():
    a = tf.placeholder(tf.float32, [5, 2, 3], name="a")
    b = tf.placeholder(tf.float32, [5, 3, 4], name="b")
    assert op_cost(tf.matmul(a, b).op).flops == 5 * 2 * 2 * 4 * 3
    c = tf.placeholder(tf.float32, [3, 2], name="c")
    assert op_cost(tf.matmul(c, c, transpose_a=True).op).flops == 2 * 2 * 2 * 3
    assert op_cost(tf.add_n([c, c, c]).op).flops == 2 * 6
    assert op_cost(tf.reduce_mean(a, axis=1).op).flops == 30
    r = tf.reshape(c, [6])
    assert (op_cost(r.op).flops, op_cost(r.op).bytes) == (0, 0)
    t = tf.transpose(c)
    assert (op_cost(t.op).flops, op_cost(t.op).bytes) == (0, 24 + 8 + 24)  # x, perm, out
    v = tf.Variable(np.zeros((3, 2), np.float32))
    upd = tf.train.GradientDescentOptimizer(0.1).apply_gradients([(c, v)])
    apply_op = upd.control_inputs[0]
    assert apply_op.type == "ApplyGradientDescent"
    assert op_cost(apply_op).flops == 2 * 6 and op_cost(apply_op).family == "update"


def _mlp(gate):
    x = tf.placeholder(tf.float32, [8, 3], name="x")
    y = tf.placeholder(tf.float32, [8, 2], name="y")
    w1 = tf.Variable(np.ones((3, 5), np.float32), name="w1")
    w2 = tf.Variable(np.ones((5, 2), np.float32), name="w2")
    h = tf.nn.relu(tf.matmul(x, w1))
    loss = tf.reduce_mean(tf.square(tf.matmul(h, w2) - y))
    return GD(0.1).minimize(loss, gate_gradients=gate)


def test_gating_adds_barriers_and_narrows_nothing_it_should_not():
    reports = {}
    for gate in (GD.GATE_NONE, GD.GATE_OP, GD.GATE_GRAPH):
        g = tf.Graph()
        with g.as_default():
            train = _mlp(gate)
        reports[gate] = analysis.structure_report(g, train)
    none, op, graph = (reports[k] for k in (GD.GATE_NONE, GD.GATE_OP, GD.GATE_GRAPH))
    assert none.gate_barriers == 0 and none.group_barriers == 1  # the apply group
    # GATE_OP: one tuple (group + 2 gates) per op with >1 input gradient
    assert op.gate_barriers > 0 and op.group_barriers > 1
    # GATE_GRAPH: one tuple over the two variable gradients
    assert graph.gate_barriers == 2 and graph.group_barriers == 2
    assert op.control_edges > none.control_edges
    assert graph.critical_path_ops > none.critical_path_ops


def test_antichain_is_an_antichain_and_at_least_the_widest_level():
    train = _mlp(GD.GATE_NONE)
    g = tf.get_default_graph()
    rep = analysis.structure_report(g, train)
    sub = Subgraph(g, train)
    anti = [g.get_operation_by_name(n) for n in rep.antichain]
    assert len(anti) == rep.max_antichain >= rep.max_level_width
    for a in anti:
        for b in anti:
            assert a is b or not sub.reaches(a, b)


def test_antichain_limit_falls_back_to_levels():
    train = _mlp(GD.GATE_NONE)
    rep = analysis.structure_report(tf.get_default_graph(), train, antichain_pair_limit=1)
    assert rep.max_antichain is None and rep.width == rep.max_level_width
    assert "exceed the limit" in rep.antichain_note
    assert "widest antichain       n/a" in rep.format()


def test_empty_fetches_rejected():
    with pytest.raises(ValueError):
        analysis.structure_report(tf.get_default_graph(), [])


def _brute_width(sub, members):
    """Largest set of ``members`` with no path between any two (all subsets)."""
    members = list(members)
    best = 0
    for mask in range(1 << len(members)):
        chosen = [m for i, m in enumerate(members) if mask >> i & 1]
        if len(chosen) > best and all(a is b or not sub.reaches(a, b)
                                      for a in chosen for b in chosen):
            best = len(chosen)
    return best


@pytest.mark.parametrize("seed", range(8))
def test_antichain_matches_brute_force_on_random_dags(seed):
    from graphflow.analysis.report import max_antichain
    rng = np.random.RandomState(seed)
    g = tf.Graph()
    with g.as_default():
        ops = []
        for i in range(11):
            deps = [ops[j] for j in range(i) if rng.random_sample() < 0.25]
            with tf.control_dependencies(deps):
                ops.append(tf.no_op(name="n%d" % i))
    sub = Subgraph(g, ops)
    anti, _ = max_antichain(sub)
    assert len(anti) == _brute_width(sub, sub.ops)
    assert all(a is b or not sub.reaches(a, b) for a in anti for b in anti)
    members = set(sub.ops[::2])
    part, _ = max_antichain(sub, members=members)
    assert set(part) <= members and len(part) == _brute_width(sub, members)
