"""graphflow.analysis.races: known answers on hand-built graphs, the three gate
modes of one model, and the truth check: every reported race really changes
the result when the two ops swap, and graphs without races give bitwise equal
results under every valid order tried."""
import heapq

import numpy as np
import pytest

import graphflow as tf
from graphflow import analysis
from graphflow.analysis.subgraph import Subgraph
from graphflow.compiler.plan import ExecutionPlan
from graphflow.runtime import executor

GD = tf.train.GradientDescentOptimizer


def _pairs(found):
    return {r.names for r in found}


# --- hand-built graphs -----------------------------------------------------------------
def test_read_and_update_unordered_is_a_race():
    v = tf.Variable(2.0, name="v")
    r = tf.multiply(v, 3.0, name="r")
    u = tf.assign_add(v, 1.0, name="u")
    step = tf.group(r, u, name="step")
    found = analysis.races(tf.get_default_graph(), step)
    assert _pairs(found) == {("r", "u")}
    race = found[0]
    assert race.variable.name == "v"
    assert [op.name for op in race.via] == ["v/read"]
    text = race.explain()
    assert text.startswith("r reads v through v/read and is not ordered before u")
    assert "new value" in text


def test_read_ordered_before_update_is_not_a_race():
    v = tf.Variable(2.0, name="v")
    r = tf.multiply(v, 3.0, name="r")
    with tf.control_dependencies([r]):
        u = tf.assign_add(v, 1.0, name="u")
    assert analysis.races(tf.get_default_graph(), tf.group(r, u)) == []


def test_read_ordered_after_update_is_not_a_race():
    v = tf.Variable(2.0, name="v")
    u = tf.assign_add(v, 1.0, name="u")
    with tf.control_dependencies([u]):
        r = tf.multiply(v.read_value(), 3.0, name="r")
    assert analysis.races(tf.get_default_graph(), tf.group(r, u)) == []


def test_control_edge_removes_the_race():
    v = tf.Variable(2.0, name="v")
    r = tf.multiply(v, 3.0, name="r")
    u = tf.assign_add(v, 1.0, name="u")
    g = tf.get_default_graph()
    step = tf.group(r, u)
    assert _pairs(analysis.races(g, step)) == {("r", "u")}
    u.op._add_control_input(r.op)  # the edge a user's control_dependencies would add
    assert analysis.races(g, step) == []


def test_reader_outside_the_step_is_ignored():
    v = tf.Variable(2.0, name="v")
    tf.multiply(v, 3.0, name="r")
    u = tf.assign_add(v, 1.0, name="u")
    assert analysis.races(tf.get_default_graph(), u) == []


def test_reads_through_forwarding_and_view_ops():
    v = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3), name="v")
    flat = tf.reshape(tf.identity(v, name="i"), [-1], name="flat")
    r = tf.reduce_sum(flat, name="r")
    u = tf.assign_sub(v, tf.ones([2, 3]), name="u")
    found = analysis.races(tf.get_default_graph(), tf.group(r, u))
    assert _pairs(found) == {("r", "u")}
    assert [op.name for op in found[0].via] == ["v/read", "i", "flat"]


def test_copying_op_is_the_reader():
    v = tf.Variable(np.ones((2, 3), np.float32), name="v")
    t = tf.transpose(v, name="t")  # Transpose copies: it is the op that reads v
    r = tf.reduce_sum(t, name="r")
    u = tf.assign_add(v, tf.ones([2, 3]), name="u")
    assert _pairs(analysis.races(tf.get_default_graph(), tf.group(r, u))) == {("t", "u")}


def test_reads_through_an_assign_result():
    v = tf.Variable(1.0, name="v")
    a = tf.assign(v, 3.0, name="a")
    r = tf.multiply(a, 2.0, name="r")  # reads v's buffer after ``a``
    u = tf.assign_add(v, 1.0, name="u")
    found = analysis.races(tf.get_default_graph(), tf.group(r, u))
    assert _pairs(found) == {("r", "u")}  # r follows a; r vs u is unordered


# --- the three gate modes of one model --------------------------------------------------
def _mlp(gate, frozen_branch=False, seed=0):
    """A 2-layer MLP trained by SGD; ``frozen_branch`` adds a loss term that
    reads w2 through stop_gradient (its gradient flows to w1 only)."""
    g = tf.Graph()
    rng = np.random.RandomState(seed)
    with g.as_default():
        x = tf.placeholder(tf.float32, [4, 3], name="x")
        y = tf.placeholder(tf.float32, [4, 2], name="y")
        w1 = tf.Variable(rng.randn(3, 5).astype(np.float32), name="w1")
        b1 = tf.Variable(rng.randn(5).astype(np.float32), name="b1")
        w2 = tf.Variable(rng.randn(5, 2).astype(np.float32), name="w2")
        h = tf.nn.relu(tf.matmul(x, w1) + b1)
        loss = tf.reduce_mean(tf.square(tf.matmul(h, w2) - y))
        if frozen_branch:
            loss = loss + tf.reduce_mean(tf.square(tf.matmul(h, tf.stop_gradient(w2))))
        train = GD(0.1).minimize(loss, gate_gradients=gate)
    feeds = {x: rng.randn(4, 3).astype(np.float32), y: rng.randn(4, 2).astype(np.float32)}
    return g, train, feeds, [w1, b1, w2]


def test_gate_none_finds_the_documented_matmul_race():
    g, train, _, _ = _mlp(GD.GATE_NONE)
    found = analysis.races(g, train)
    assert _pairs(found) == {("gradients/MatMul_1_grad/MatMul",
                              "GradientDescent/update_w2/ApplyGradientDescent")}
    assert found[0].explain() == (
        "gradients/MatMul_1_grad/MatMul reads w2 through w2/read and is not ordered before "
        "GradientDescent/update_w2/ApplyGradientDescent: if the update runs first it reads "
        "the new value, otherwise the old one.")


@pytest.mark.parametrize("gate", [GD.GATE_OP, GD.GATE_GRAPH])
def test_gating_removes_the_mlp_race(gate):
    g, train, _, _ = _mlp(gate)
    assert analysis.races(g, train) == []


def test_fewer_races_from_none_to_op_to_graph():
    counts = {}
    names = {}
    for gate in (GD.GATE_NONE, GD.GATE_OP, GD.GATE_GRAPH):
        g, train, _, _ = _mlp(gate, frozen_branch=True)
        found = analysis.races(g, train)
        counts[gate] = len(found)
        names[gate] = _pairs(found)
    assert counts[GD.GATE_NONE] > counts[GD.GATE_OP] > counts[GD.GATE_GRAPH] == 0
    assert names[GD.GATE_OP] < names[GD.GATE_NONE]
    # GATE_OP keeps the reads that only feed w1's gradient (the stop_gradient branch)
    assert all(r == "GradientDescent/update_w2/ApplyGradientDescent"
               for _, r in names[GD.GATE_OP])
    assert ("gradients/MatMul_1_grad/MatMul",
            "GradientDescent/update_w2/ApplyGradientDescent") not in names[GD.GATE_OP]


# --- truth: run the step in different valid orders ----------------------------------------
def _order(sub, first=None, rng=None):
    """A topological order of ``sub``; ``first`` and its ancestors run before
    everything else, ties broken by creation order (or randomly with ``rng``)."""
    prio = set() if first is None else {op for op in sub.ops if sub.reaches(op, first)}
    indeg = {op: len(sub.preds[op]) for op in sub.ops}

    def key(op):
        return (0 if op in prio else 1, rng.random_sample() if rng is not None else 0, op._id)
    ready = [key(op) + (op,) for op in sub.ops if indeg[op] == 0]
    heapq.heapify(ready)
    out = []
    while ready:
        op = heapq.heappop(ready)[-1]
        out.append(op)
        for s in sub.succs[op]:
            indeg[s] -= 1
            if indeg[s] == 0:
                heapq.heappush(ready, key(s) + (s,))
    assert len(out) == len(sub.ops)
    return out


def _step_in_order(g, train, feeds, variables, order):
    """Initial values, one training step executed in ``order``; the new values."""
    with tf.Session(graph=g) as sess:
        with g.as_default():
            sess.run(tf.global_variables_initializer())
        keys = list(feeds)
        plan = ExecutionPlan(order, keys, [], sess._state)
        executor.execute(plan, [feeds[k] for k in keys])
        return sess.run(variables)


@pytest.mark.parametrize("frozen_branch", [False, True])
def test_every_reported_race_changes_the_result(frozen_branch):
    g, train, feeds, variables = _mlp(GD.GATE_NONE, frozen_branch)
    found = analysis.races(g, train)
    assert found
    sub = Subgraph(g, train, feeds)
    for race in found:
        read_first = _step_in_order(g, train, feeds, variables, _order(sub, race.reader))
        update_first = _step_in_order(g, train, feeds, variables, _order(sub, race.update))
        pos = {op: i for i, op in enumerate(_order(sub, race.update))}
        assert pos[race.update] < pos[race.reader]
        assert any(not np.array_equal(a, b) for a, b in zip(read_first, update_first)), race


@pytest.mark.parametrize("gate,frozen_branch", [(GD.GATE_OP, False), (GD.GATE_GRAPH, False),
                                                (GD.GATE_GRAPH, True)])
def test_no_race_means_every_order_gives_the_same_bits(gate, frozen_branch):
    g, train, feeds, variables = _mlp(gate, frozen_branch)
    assert analysis.races(g, train) == []
    sub = Subgraph(g, train, feeds)
    base = _step_in_order(g, train, feeds, variables, _order(sub))
    rng = np.random.RandomState(1)
    orders = [_order(sub, rng=rng) for _ in range(6)]
    orders += [_order(sub, op) for op in sub.ops if op.type == "ApplyGradientDescent"]
    for order in orders:
        got = _step_in_order(g, train, feeds, variables, order)
        for a, b in zip(base, got):
            assert np.array_equal(a, b)


def test_format_races():
    v = tf.Variable(2.0, name="v")
    r = tf.multiply(v, 3.0, name="r")
    u = tf.assign_add(v, 1.0, name="u")
    g = tf.get_default_graph()
    text = analysis.format_races(analysis.races(g, tf.group(r, u)))
    assert text.splitlines()[0] == "1 race(s):"
    assert "r reads v through v/read" in text
    assert analysis.format_races([]).startswith("No races")
