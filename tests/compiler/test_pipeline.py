"""The pipeline as a whole: options from ConfigProto and GRAPHFLOW_PASSES, the
compile report, plan caching, the user's graph left untouched, in-place steps
and the memory plan, and the op suite with every pass off (subprocess)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import graphflow as tf
from graphflow.compiler.options import PASS_NAMES, CompileOptions, apply_env
from graphflow.compiler.pipeline import PASSES
from graphflow.runtime import memory
from compiler_util import session, step_types

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# --- options ----------------------------------------------------------------------------------------
def _opts(**kw):
    return CompileOptions.from_config(tf.ConfigProto(graph_options=tf.GraphOptions(
        optimizer_options=tf.OptimizerOptions(**kw))), env="")


def test_tf_optimizer_options_map_to_passes():
    assert _opts().enabled() == PASS_NAMES  # L1 (default): everything
    assert _opts(opt_level=tf.OptimizerOptions.L0).enabled() == ()
    assert _opts(opt_level=tf.OptimizerOptions.L0, do_constant_folding=True).enabled() == (
        "fold_constants",)
    assert _opts(opt_level=tf.OptimizerOptions.L0,
                 do_common_subexpression_elimination=True).enabled() == ("cse",)
    # as in TF, L1 turns folding and CSE on whatever the flags say
    assert "fold_constants" in _opts(do_constant_folding=False).enabled()
    assert CompileOptions.from_config(None, env="").enabled() == PASS_NAMES


def test_graphflow_compile_options_and_environment():
    given = CompileOptions(fuse=False, fuse_max_ops=3)
    cfg = tf.ConfigProto(graph_options=tf.GraphOptions(compile_options=given))
    got = CompileOptions.from_config(cfg, env="")
    assert got == given and got is not given
    assert CompileOptions.from_config(cfg, env="off").enabled() == ()
    assert apply_env(CompileOptions(), "fold,cse").enabled() == ("fold_constants", "cse")
    assert apply_env(CompileOptions(), "-fuse,-inplace").enabled() == tuple(
        n for n in PASS_NAMES if n not in ("fuse", "inplace"))
    assert apply_env(CompileOptions(), "on") == CompileOptions()
    with pytest.raises(ValueError, match="unknown pass"):
        apply_env(CompileOptions(), "fold,bogus")


def test_environment_variable_turns_passes_off(monkeypatch):
    x = tf.placeholder(tf.float32, [3])
    y = tf.tanh(x * 2.0) + 1.0
    monkeypatch.setenv("GRAPHFLOW_PASSES", "off")
    with tf.Session() as s:
        rep = s.compiled_plan(y, {x: np.zeros(3, np.float32)})
    assert "FusedElementwise" not in step_types(rep)
    assert all(not p.enabled for p in rep.passes if p.name != "prune")


# --- report -------------------------------------------------------------------------------------------
def test_compiled_plan_report():
    x = tf.placeholder(tf.float32, [8, 4], name="x")
    w = tf.constant(np.ones((4, 4), np.float32), name="w")
    h = tf.matmul(x, w)
    y = tf.identity(tf.nn.relu(h * 2.0 + 1.0) * tf.sigmoid(h), name="y")
    z = tf.reduce_sum(y) + tf.reduce_sum(y)
    feeds = {x: np.ones((8, 4), np.float32)}
    with tf.Session() as s:
        rep = s.compiled_plan(z, feeds)
        builds = s.plan_builds
        s.run(z, feeds)
        assert s.plan_builds == builds == 1  # run reuses the compiled plan
    assert [p.name for p in rep.passes] == ["prune"] + [n for n, _ in PASSES] + ["inplace"]
    assert [n for n, _ in PASSES][:4] == ["fold_constants", "dead_control", "simplify", "cse"]
    assert "fuse" in [n for n, _ in PASSES]
    for a, b in zip(rep.passes, rep.passes[1:]):
        assert b.before == a.after
    assert rep.pass_report("simplify").changes["removed"] == [("y", "Identity")]
    assert ("Sum_1", "Sum") in rep.pass_report("cse").changes["merged"]
    (gname, gops), = rep.fused_groups
    assert [t for _, t in gops] == ["Mul", "AddV2", "Relu", "Sigmoid", "Mul"]
    assert gname in [n for n, _, _ in rep.steps]
    assert rep.peak_bytes_exact and rep.peak_bytes >= 8 * 4 * 4 * 2
    assert rep.buffers >= 3
    text = str(rep)
    assert "fuse" in text and "FusedElementwise" in text and "peak bytes" in text


def test_user_graph_is_never_modified():
    x = tf.placeholder(tf.float32, [3])
    c = tf.constant(2.0) * tf.constant(3.0)
    y = tf.identity(tf.exp(x) * c + tf.exp(x)) * 1.0
    g = tf.get_default_graph()
    before = g.as_graph_def().SerializeToString()
    ops = [(op, list(op.inputs), list(op.control_inputs)) for op in g.get_operations()]
    with tf.Session() as s:
        s.run(y, {x: np.ones(3, np.float32)})
    assert g.as_graph_def().SerializeToString() == before
    assert [(op, list(op.inputs), list(op.control_inputs)) for op in g.get_operations()] == ops


def test_plan_contract_for_executors():
    x = tf.placeholder(tf.float32, [4])
    v = tf.Variable(np.zeros(4, np.float32))
    y = tf.tanh(x) * 2.0 + v
    upd = tf.assign_add(v, y)
    with tf.Session() as s:
        s.run(v.initializer)
        s.run([y, upd], {x: np.ones(4, np.float32)})
        (plan,) = [p for p in s._plans.values() if len(p.steps) > 3]
    assert len(plan.deps) == len(plan._dead_after) == len(plan.steps)
    written = set(plan.feed_slots)
    for k, (fn, ins, outs, node) in enumerate(plan.steps):
        assert callable(fn) and node.name and node.type
        assert all(s in written for s in ins)  # inputs are written before use
        written.update(outs)
        assert all(d < k for d in plan.deps[k])
    assert max(written) < plan.nslots
    assert all(s in written for s in plan.fetch_slots)


# --- in place and the memory plan ------------------------------------------------------------------
def _chain():
    x = tf.placeholder(tf.float64, [1, 1000], name="x")
    a = x * tf.fill([10, 1], np.float64(2.0))  # [10, 1000]: ten times the feed
    b = tf.tanh(a) + 1.0
    c = tf.exp(-b) * 3.0
    return x, c


def test_inplace_lowers_measured_peak_and_keeps_results():
    peaks, results = {}, {}
    xv = np.linspace(-1, 1, 1000).reshape(1, 1000)
    for inplace in (False, True):
        tf.reset_default_graph()
        x, c = _chain()
        with memory.tracking(), session(fuse=False, inplace=inplace, inplace_min_bytes=0) as s:
            results[inplace] = s.run(c, {x: xv})
            rep = s.compiled_plan(c, {x: xv})
            (plan,) = s._plans.values()
            peaks[inplace] = (plan.peak_bytes, rep.peak_bytes)
        if inplace:
            assert len(rep.inplace) >= 3
    want = np.broadcast_to(np.exp(-(np.tanh(2 * xv) + 1)) * 3, (10, 1000))
    np.testing.assert_allclose(results[True], want, rtol=1e-12)
    np.testing.assert_array_equal(results[True], results[False])
    (measured_off, static_off), (measured_on, static_on) = peaks[False], peaks[True]
    assert measured_on < measured_off and static_on < static_off
    assert static_on == measured_on and static_off == measured_off  # all shapes known
    np.testing.assert_array_equal(xv, np.linspace(-1, 1, 1000).reshape(1, 1000))  # feed intact


def test_inplace_never_writes_feeds_constants_variables_or_fetches():
    x = tf.placeholder(tf.float32, [3])
    c = tf.constant([1.0, 2.0, 3.0])
    v = tf.Variable([5.0, 6.0, 7.0])
    a = x * 2.0
    y1 = tf.tanh(x) + c          # x is a feed, c a constant
    y2 = tf.abs(v.value()) * 2.0  # a variable's buffer
    y3 = a + 1.0                 # a is fetched too
    xv = np.array([0.1, 0.2, 0.3], np.float32)
    with session(fuse=False, inplace_min_bytes=0) as s:
        s.run(v.initializer)
        for _ in range(2):
            ga, g1, g2, g3 = s.run([a, y1, y2, y3], {x: xv})
            np.testing.assert_allclose(ga, xv * 2)
            np.testing.assert_allclose(g1, np.tanh(xv) + [1, 2, 3], rtol=1e-6)
            np.testing.assert_allclose(g2, [10.0, 12.0, 14.0])
            np.testing.assert_allclose(g3, xv * 2 + 1)
        np.testing.assert_array_equal(s.run(v), [5.0, 6.0, 7.0])
        np.testing.assert_array_equal(s.run(c), [1.0, 2.0, 3.0])
        rep = s.compiled_plan([a, y1, y2, y3], {x: xv})
    # only the steps reading a dying intermediate: tanh(x) + c and |v| * 2
    assert sorted(rep.inplace) == [y1.op.name, y2.op.name]
    np.testing.assert_array_equal(xv, np.array([0.1, 0.2, 0.3], np.float32))


def test_small_outputs_are_not_written_in_place():
    x = tf.placeholder(tf.float32, [8])
    y = tf.tanh(x * 2.0) + 1.0
    with session(fuse=False) as s:  # 32-byte outputs: below inplace_min_bytes
        rep = s.compiled_plan(y, {x: np.zeros(8, np.float32)})
    assert rep.inplace == []
    with session(fuse=False, inplace_min_bytes=32) as s:
        rep = s.compiled_plan(y, {x: np.zeros(8, np.float32)})
    assert len(rep.inplace) == 2


def test_static_peak_bytes_match_measured_on_a_known_graph():
    x = tf.placeholder(tf.float32, [64, 32])
    w = tf.constant(np.ones((32, 16), np.float32))
    y = tf.reduce_sum(tf.nn.relu(tf.matmul(x, w)) * 0.5, axis=1)
    with memory.tracking(), tf.Session() as s:
        s.run(y, {x: np.ones((64, 32), np.float32)})
        rep = s.compiled_plan(y, {x: np.ones((64, 32), np.float32)})
        (plan,) = s._plans.values()
    assert rep.peak_bytes_exact
    assert rep.peak_bytes == plan.peak_bytes


# --- the op suite with every pass off ---------------------------------------------------------------
@pytest.mark.slow
def test_op_suite_passes_with_every_pass_off():
    """tests/test_op_contract.py and tests/ops/ under GRAPHFLOW_PASSES=off (the rest of
    the suite runs them with the default passes)."""
    env = dict(os.environ, GRAPHFLOW_PASSES="off", PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:randomly",
                          "tests/test_op_contract.py", "tests/ops/"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=3000)
    tail = "\n".join(out.stdout.splitlines()[-15:])
    assert out.returncode == 0, tail + out.stderr[-2000:]
    assert " passed" in tail and "failed" not in tail
