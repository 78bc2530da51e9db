"""Elementwise fusion: chains become one step, groups stay convex and correct with
broadcasting, unknown dims, escaping intermediates and control edges; errors
name the op; generated kernels are shared and hit the disk cache in a new process."""
import os
import textwrap

import numpy as np
import pytest

import graphflow as tf
from graphflow.compiler.fuse import FusedGroup
from graphflow.kernels import codegen
from compiler_util import run_twice, session, step_types

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _fused_steps(sess, fetches, feeds=None):
    (plan,) = [p for p in sess._plans.values()]
    return [st for st in plan.steps if isinstance(st[3], FusedGroup)], plan


@pytest.mark.parametrize("k", [2, 5, 12])
def test_chain_of_k_elementwise_ops_is_one_step(k):
    x = tf.placeholder(tf.float32, [7, 3])
    y, want_fn = x, []
    fns = [(tf.tanh, np.tanh), (lambda t: t * 0.5, lambda a: a * np.float32(0.5)),
           (tf.sigmoid, lambda a: 1 / (1 + np.exp(-a))), (lambda t: t - 1.0, lambda a: a - 1),
           (tf.abs, np.abs), (tf.square, np.square)]
    for i in range(k):
        f, g = fns[i % len(fns)]
        y = f(y)
        want_fn.append(g)
    xv = np.random.default_rng(k).uniform(-2, 2, (7, 3)).astype(np.float32)
    want = xv.astype(np.float64)
    for g in want_fn:
        want = g(want)
    with session(fuse_max_ops=64) as s:
        got = s.run(y, {x: xv})
        rep = s.compiled_plan(y, {x: xv})
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)
    # one step besides the scalar constants (which the executors fill in once per plan)
    assert [t for t in step_types(rep) if t != "Const"] == ["FusedElementwise"]
    (name, ops), = rep.fused_groups
    assert len(ops) == k
    assert [t for _, t in ops][-1] == y.op.type


def test_escaping_intermediate_is_a_second_output():
    x = tf.placeholder(tf.float64, [4])
    a = tf.exp(x)  # read by the group and fetched
    b = tf.tanh(a) * a + 1.0
    xv = np.linspace(-1, 1, 4)
    with session() as s:
        ga, gb = s.run([a, b], {x: xv})
        steps, plan = _fused_steps(s, [a, b])
    np.testing.assert_allclose(ga, np.exp(xv))
    np.testing.assert_allclose(gb, np.tanh(np.exp(xv)) * np.exp(xv) + 1)
    assert len(steps) == 1 and len(steps[0][2]) == 2
    assert len(plan.steps) == 2  # the constant 1.0 and the group


def test_broadcasting_inside_a_group():
    x = tf.placeholder(tf.float32, [5, 3])
    b = tf.placeholder(tf.float32, [3])
    c = tf.placeholder(tf.float32, [5, 1])
    y = tf.tanh(x * b + c) * tf.sigmoid(x) + tf.exp(-x * x)
    rng = np.random.default_rng(1)
    xv, bv, cv = (rng.uniform(-1, 1, s).astype(np.float32) for s in ((5, 3), (3,), (5, 1)))
    with session() as s:
        got = s.run(y, {x: xv, b: bv, c: cv})
        rep = s.compiled_plan(y, {x: xv, b: bv, c: cv})
    want = np.tanh(xv * bv + cv) / (1 + np.exp(-xv)) + np.exp(-xv * xv)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert step_types(rep) == ["FusedElementwise"]


def test_unknown_dims_that_broadcast_differently_fall_back_per_op():
    x = tf.placeholder(tf.float32, [None, 3])
    z = tf.placeholder(tf.float32, [None, 3])
    a = tf.tanh(x)          # fetched: shape of x, not of the broadcast result
    y = a * z + 1.0
    xv = np.ones((1, 3), np.float32)
    zv = np.arange(12, dtype=np.float32).reshape(4, 3)
    with session() as s:
        ga, gy = s.run([a, y], {x: xv, z: zv})
        steps, _ = _fused_steps(s, [a, y])
    assert len(steps) == 1
    assert ga.shape == (1, 3) and gy.shape == (4, 3)
    np.testing.assert_allclose(ga, np.tanh(xv), rtol=1e-6)
    np.testing.assert_allclose(gy, np.tanh(xv) * zv + 1, rtol=1e-6)


def test_broadcast_error_names_the_op():
    x = tf.placeholder(tf.float32, [None])
    z = tf.placeholder(tf.float32, [None])
    y = tf.tanh(tf.add(tf.exp(x), z, name="the_add"))
    with session() as s:
        with pytest.raises(tf.errors.InvalidArgumentError, match="the_add"):
            s.run(y, {x: np.ones(2, np.float32), z: np.ones(3, np.float32)})


def test_groups_split_at_max_ops_and_share_one_kernel():
    x = tf.placeholder(tf.float32, [16])
    h = x
    for _ in range(12):  # 36 ops
        h = tf.tanh(h * 0.5 + h)
    xv = np.linspace(-1, 1, 16).astype(np.float32)
    want = xv.astype(np.float64)
    for _ in range(12):
        want = np.tanh(want * 0.5 + want)
    with session(fuse_max_ops=9) as s:
        got = s.run(h, {x: xv})
        steps, plan = _fused_steps(s, h)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert len(steps) == 4  # 36 ops / 9
    keys = set()
    for _, ins, _, g in steps:
        c = codegen.canonical_group(g.nodes, "f" * len(g._inputs), g.out_values)
        keys.add((tuple(c[0]), c[1], tuple(c[2])))
    assert len(keys) == 1  # structurally identical: one kernel


def test_not_fused_float16_and_checked_integer_division():
    x = tf.placeholder(tf.float16, [3])
    y = tf.tanh(x) * 2.0
    i = tf.placeholder(tf.int32, [3])
    j = tf.floordiv(i + 1, 2) * 3
    with session() as s:
        gy, gj = s.run([y, j], {x: np.ones(3, np.float16), i: np.arange(3, dtype=np.int32)})
        rep = s.compiled_plan([y, j], {x: np.ones(3, np.float16),
                                       i: np.arange(3, dtype=np.int32)})
    np.testing.assert_allclose(gy, np.tanh(np.float16(1)) * 2, rtol=2e-3)
    np.testing.assert_array_equal(gj, (np.arange(3) + 1) // 2 * 3)
    groups = [[t for _, t in ops] for _, ops in rep.fused_groups]
    assert all("FloorDiv" not in g and "Tanh" not in g for g in groups)


def test_control_edges_into_and_out_of_groups_are_plan_deps():
    v = tf.Variable(0.0)
    x = tf.placeholder(tf.float32, [3])
    inc = tf.assign_add(v, 1.0)
    with tf.control_dependencies([inc]):
        a = tf.exp(x)
    b = tf.tanh(a) + 2.0
    with tf.control_dependencies([b]):
        inc2 = tf.assign_add(v, 10.0)
    # dead_control off: it would drop the group, which only a control edge reaches
    with session(dead_control=False) as s:
        s.run(v.initializer)
        s.run(inc2, {x: np.zeros(3, np.float32)})
        assert s.run(v) == 11.0
        (plan,) = [p for p in s._plans.values() if any(st[3].type == "AssignAdd"
                                                         for st in p.steps)
                   and len(p.steps) > 4]
    idx = {st[3].name: k for k, st in enumerate(plan.steps)}
    (gk,) = [k for k, st in enumerate(plan.steps) if isinstance(st[3], FusedGroup)]
    assert idx[inc.op.name] in plan.deps[gk]

    def ancestors(k):
        out, stack = set(), list(plan.deps[k])
        while stack:
            d = stack.pop()
            if d not in out:
                out.add(d)
                stack.extend(plan.deps[d])
        return out
    assert gk in ancestors(idx[inc2.op.name])  # through inc2's gated constant operand
    assert all(d < k for k, ds in enumerate(plan.deps) for d in ds)


def test_fused_group_respects_updates_of_variables_it_reads():
    v = tf.Variable([1.0, 2.0])
    r = v.value()
    y1 = tf.tanh(r * 0.5) * 2.0
    with tf.control_dependencies([y1]):
        upd = tf.assign_add(v, [1.0, 1.0])
    with tf.control_dependencies([upd]):
        y2 = tf.tanh(r * 0.5) * 2.0 + tf.identity(y1) * 0.0
    with session() as s:
        s.run(v.initializer)
        g1, g2 = s.run([y1, y2])
    np.testing.assert_allclose(g1, np.tanh(np.array([1.0, 2.0]) * 0.5) * 2, rtol=1e-6)
    np.testing.assert_allclose(g2, np.tanh(np.array([2.0, 3.0]) * 0.5) * 2, rtol=1e-6)


_CACHE_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, %r)
    import numpy as np
    import graphflow as tf
    from graphflow.kernels import codegen
    x = tf.placeholder(tf.float32, [64])
    y = tf.tanh(x * 1.5 + 0.25) * tf.sigmoid(x) - tf.exp(-x * x) * 0.125
    with tf.Session() as s:
        out = s.run(y, {x: np.linspace(-2, 2, 64).astype(np.float32)})
        rep = s.compiled_plan(y, {x: np.zeros(64, np.float32)})
    assert [t for _, t, _ in rep.steps][-1] == "FusedElementwise", rep.steps
    hits = sum(sum(k.stats.cache_hits.values()) for k in codegen._LOADED.values())
    misses = sum(sum(k.stats.cache_misses.values()) for k in codegen._LOADED.values())
    print("RESULT", hits, misses, float(out.sum()))
""")


@pytest.mark.slow
def test_disk_cache_hit_in_a_second_process(tmp_path):
    runs = [(int(h), int(m), float(t)) for h, m, t in run_twice(_CACHE_SCRIPT % ROOT, tmp_path)]
    (h1, m1, t1), (h2, m2, t2) = runs
    assert m1 >= 1            # the first process compiled the fused kernel
    assert m2 == 0 and h2 >= 1  # the second only loaded it from disk
    assert t1 == t2
