"""Schedule policies (runtime/policies.py, ``RunOptions(schedule=...)``).

Checked: option parsing and errors; no policy ever starts a step before a
data or control predecessor ended (from FULL_TRACE step stats, sequential and
parallel executors, many seeds); a seed reproduces its order and numbers;
on a GATE_NONE model ``asap`` and ``alap`` give different variables exactly
where ``analysis.races`` reports a race (the variables whose update depends
on a racing read), and GATE_OP/GATE_GRAPH models give bitwise-identical
numbers under every policy and executor.
"""
import numpy as np
import pytest

import graphflow as tf
from graphflow import analysis
from graphflow.runtime import parallel, policies

FULL = tf.RunOptions.FULL_TRACE
POLICIES = ["default", "asap", "alap", "random:0", "random:1", "random:7"]


def mlp(gate, layers=(6, 5, 3), seed=0):
    """A small MLP trained by one SGD step: (graph, train_op, init, variables)."""
    g = tf.Graph()
    rng = np.random.RandomState(seed)
    with g.as_default():
        x = tf.constant(rng.randn(8, layers[0]))
        y = tf.constant(rng.randn(8, layers[-1]))
        h, variables = x, []
        for i, (a, b) in enumerate(zip(layers, layers[1:])):
            w = tf.Variable(rng.randn(a, b) * 0.5, name="w%d" % i)
            variables.append(w)
            h = tf.matmul(h, w)
            if i < len(layers) - 2:
                h = tf.tanh(h)
        loss = tf.reduce_mean(tf.square(h - y))
        train = tf.train.GradientDescentOptimizer(0.3).minimize(loss, gate_gradients=gate)
        init = tf.global_variables_initializer()
    return g, train, init, variables


def trained(gate, schedule, threads=1, layers=(6, 5, 3), steps=2):
    g, train, init, variables = mlp(gate, layers)
    config = tf.ConfigProto(inter_op_parallelism_threads=threads)
    with tf.Session(graph=g, config=config) as sess:
        sess.run(init)
        for _ in range(steps):
            sess.run(train, options=tf.RunOptions(schedule=schedule))
        return {v.op.name: sess.run(v) for v in variables}


def upstream(op):
    """Every op ``op`` depends on (data and control), itself included."""
    seen, stack = set(), [op]
    while stack:
        o = stack.pop()
        if o in seen:
            continue
        seen.add(o)
        stack.extend(t.op for t in o.inputs)
        stack.extend(o.control_inputs)
    return seen


# --- parsing ------------------------------------------------------------------------------
def test_get_policy_names_and_errors():
    assert policies.get_policy(None) is policies.PLAN_ORDER
    assert policies.get_policy("default") is policies.PLAN_ORDER
    assert policies.get_policy("asap").key == "asap"
    assert policies.get_policy("random:42").key == "random:42"
    custom = policies.FunctionPolicy(lambda ready: ready[0])
    assert policies.get_policy(custom) is custom
    for bad in ("fast", "random", "random:x", "ASAP"):
        with pytest.raises(ValueError, match="Unknown schedule"):
            policies.get_policy(bad)
    with pytest.raises(TypeError, match="schedule must be"):
        policies.get_policy(3)


def test_bad_schedule_in_run_options_and_config():
    g, train, init, _ = mlp(tf.train.Optimizer.GATE_OP)
    with tf.Session(graph=g) as sess:
        sess.run(init)
        with pytest.raises(ValueError, match="'sideways'"):
            sess.run(train, options=tf.RunOptions(schedule="sideways"))
        sess.run(train)  # the session still works
    with pytest.raises(ValueError, match="Unknown schedule"):
        tf.Session(graph=g, config=tf.ConfigProto(schedule="never"))


# --- edges ----------------------------------------------------------------------------------
def node_of_ops(sess, fetches):
    """op name -> the plan step (node) name that runs it (fused groups run several)."""
    report = sess.compiled_plan(fetches)
    out = {name: name for name, _, _ in report.steps}
    for group, members in report.fused_groups:
        for name, _ in members:
            out[name] = group
    return out


def check_edges(graph, md, node_of):
    """Assert every executed data/control predecessor ended before its user started."""
    ev = {}
    for ns in md.step_stats.dev_stats[0].node_stats:
        ev[ns.node_name] = (ns.all_start_nanos, ns.all_start_nanos + ns.all_end_rel_nanos)
    checked = 0
    for op in graph.get_operations():
        name = node_of.get(op.name)
        if name not in ev:
            continue
        for dep in list(op.control_inputs) + [t.op for t in op.inputs]:
            dname = node_of.get(dep.name)
            if dname in ev and dname != name:
                assert ev[dname][1] <= ev[name][0], (dep.name, op.name)
                checked += 1
    return checked


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("gate", [0, 1, 2])
def test_policies_never_violate_an_edge(gate, threads):
    g, train, init, _ = mlp(gate, layers=(6, 5, 4, 3))
    config = tf.ConfigProto(inter_op_parallelism_threads=threads)
    with tf.Session(graph=g, config=config) as sess:
        sess.run(init)
        node_of = node_of_ops(sess, train)
        specs = POLICIES + ["random:%d" % s for s in range(100, 120)]
        for spec in specs:
            md = tf.RunMetadata()
            sess.run(train, options=tf.RunOptions(trace_level=FULL, schedule=spec),
                     run_metadata=md)
            assert check_edges(g, md, node_of) > 20


def test_session_default_schedule_from_config():
    g, train, init, variables = mlp(tf.train.Optimizer.GATE_NONE)
    with tf.Session(graph=g, config=tf.ConfigProto(schedule="asap")) as sess:
        sess.run(init)
        sess.run(train)
        by_config = sess.run(variables)
    expected = trained(tf.train.Optimizer.GATE_NONE, "asap", steps=1)
    for v, value in zip(variables, by_config):
        np.testing.assert_array_equal(value, expected[v.op.name])


# --- reproducibility ------------------------------------------------------------------------
def order_of(spec, gate=0):
    g, train, init, _ = mlp(gate, layers=(6, 5, 4, 3))
    with tf.Session(graph=g) as sess:
        sess.run(init)
        md = tf.RunMetadata()
        sess.run(train, options=tf.RunOptions(trace_level=FULL, schedule=spec), run_metadata=md)
    stats = sorted(md.step_stats.dev_stats[0].node_stats, key=lambda n: n.all_start_nanos)
    return [n.node_name for n in stats]


def test_seed_reproduces_order_and_numbers():
    orders = {s: order_of("random:%d" % s) for s in range(8)}
    for s in range(3):
        assert order_of("random:%d" % s) == orders[s]
        a = trained(0, "random:%d" % s, layers=(6, 5, 4, 3))
        b = trained(0, "random:%d" % s, layers=(6, 5, 4, 3))
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    assert len({tuple(o) for o in orders.values()}) > 1  # seeds do change the order


def test_custom_policy_object():
    latest = policies.FunctionPolicy(lambda ready: ready[-1])
    a = trained(tf.train.Optimizer.GATE_GRAPH, latest)
    b = trained(tf.train.Optimizer.GATE_GRAPH, "default")
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


# --- races: asap vs alap --------------------------------------------------------------------
@pytest.mark.parametrize("layers", [(6, 5, 3), (6, 5, 4, 3), (4, 6, 6, 5, 2)])
def test_asap_and_alap_differ_exactly_where_races_are(layers):
    g, train, _, variables = mlp(tf.train.Optimizer.GATE_NONE, layers)
    found = analysis.races(g, train)
    assert found
    updates = {}
    for op in upstream(train):
        if op.type == "ApplyGradientDescent":
            updates[op.inputs[0].op.name] = op
    readers = {r.reader for r in found}
    expected = {v for v, u in updates.items() if readers & upstream(u)}
    assert expected
    asap = trained(0, "asap", layers=layers, steps=1)
    alap = trained(0, "alap", layers=layers, steps=1)
    differ = {k for k in asap if not np.array_equal(asap[k], alap[k])}
    assert differ == expected


@pytest.mark.parametrize("gate", [tf.train.Optimizer.GATE_OP, tf.train.Optimizer.GATE_GRAPH])
def test_gated_models_have_no_races_and_one_result(gate):
    layers = (6, 5, 4, 3)
    g, train, _, _ = mlp(gate, layers)
    assert analysis.races(g, train) == []
    base = trained(gate, "default", layers=layers)
    for threads in (1, 2):
        for spec in POLICIES:
            got = trained(gate, spec, threads=threads, layers=layers)
            for k in base:
                np.testing.assert_array_equal(got[k], base[k], err_msg="%s %d" % (spec, threads))


def test_gate_none_results_under_random_policies_are_one_of_the_race_outcomes():
    """Every random order gives, per variable, the asap or the alap value (one race each)."""
    layers = (6, 5, 3)
    asap = trained(0, "asap", layers=layers, steps=1)
    alap = trained(0, "alap", layers=layers, steps=1)
    seen = set()
    for s in range(12):
        got = trained(0, "random:%d" % s, layers=layers, steps=1)
        for k in got:
            assert np.array_equal(got[k], asap[k]) or np.array_equal(got[k], alap[k])
        seen.add(all(np.array_equal(got[k], asap[k]) for k in got))
    assert seen == {True, False}


def test_parallel_executor_takes_the_policy():
    """The parallel executor starts ready steps in the policy's order."""
    chosen = []

    def choose(ready):
        chosen.append(list(ready))
        return ready[-1]
    g, train, init, _ = mlp(0)
    with tf.Session(graph=g, config=tf.ConfigProto(inter_op_parallelism_threads=2)) as sess:
        sess.run(init)
        sess.run(train, options=tf.RunOptions(schedule=policies.FunctionPolicy(choose)))
    assert chosen
    assert parallel.FunctionPolicy is policies.FunctionPolicy
