"""Constant folding, simplification and CSE on small graphs: expected plan shapes,
results equal to NumPy, stateful ops never folded or merged, and TF1 reference
semantics of variable reads kept."""
import numpy as np
import pytest

import graphflow as tf
from compiler_util import session, step_types


def _names(report, pass_name, key):
    return report.pass_report(pass_name).changes.get(key, [])


# --- constant folding ---------------------------------------------------------------------------
def test_constant_subgraph_folds_to_one_constant():
    x = tf.placeholder(tf.float32, [3], name="x")
    c = (tf.constant([1.0, 2.0, 3.0]) * 2.0 + 1.0) / 4.0
    y = x * c
    xv = np.array([1.0, -1.0, 0.5], np.float32)
    with session(fuse=False) as s:
        got = s.run(y, {x: xv})
        rep = s.compiled_plan(y, {x: xv})
    np.testing.assert_allclose(got, xv * (np.array([1, 2, 3], np.float32) * 2 + 1) / 4)
    folded = _names(rep, "fold_constants", "folded")
    assert len(folded) == 3  # mul, add, truediv
    # x * (one constant): the constant step and the Mul
    assert sorted(step_types(rep)) == ["Const", "Mul"]
    assert rep.pass_report("fold_constants").ops_after < rep.pass_report("prune").ops_after


def test_folded_fetch_is_a_fresh_writable_array():
    c = tf.constant([1.0, 2.0]) + 1.0
    with session() as s:
        a = s.run(c)
        a[0] = 100.0  # must not corrupt the folded value
        np.testing.assert_array_equal(s.run(c), [2.0, 3.0])


def test_shape_of_known_static_shape_is_materialized():
    x = tf.placeholder(tf.float32, [2, 5])
    n = tf.reduce_prod(tf.shape(x))
    with session() as s:
        assert s.run(n, {x: np.zeros((2, 5), np.float32)}) == 10
        rep = s.compiled_plan(n, {x: np.zeros((2, 5), np.float32)})
    assert step_types(rep) == ["Const"]


def test_shape_of_unknown_dims_is_not_folded():
    x = tf.placeholder(tf.float32, [None, 5])
    n = tf.reduce_prod(tf.shape(x))
    with session() as s:
        assert s.run(n, {x: np.zeros((3, 5), np.float32)}) == 15
        assert s.run(n, {x: np.zeros((4, 5), np.float32)}) == 20


def test_folding_respects_the_size_bound():
    big = tf.fill([300, 300], 2.0) * 3.0  # 90000 elements
    with session(fold_max_elements=1000) as s:
        np.testing.assert_array_equal(s.run(big), np.full((300, 300), 6.0, np.float32))
        rep = s.compiled_plan(big)
    assert not _names(rep, "fold_constants", "folded") or \
        all("mul" not in n for n in _names(rep, "fold_constants", "folded"))
    assert "Mul" in step_types(rep)


def test_error_in_constant_subgraph_is_reported_at_run_time():
    z = tf.floordiv(tf.constant([4, 5]), tf.constant([2, 0]), name="bad_div")
    with session() as s:
        with pytest.raises(tf.errors.InvalidArgumentError, match="bad_div"):
            s.run(z)


def test_constants_under_control_dependencies_are_not_folded():
    v = tf.Variable(0.0)
    inc = tf.assign_add(v, 1.0)
    with tf.control_dependencies([inc]):
        c = tf.constant(2.0)
    y = c * 3.0
    with session() as s:
        s.run(v.initializer)
        assert s.run(y) == 6.0
        assert s.run(y) == 6.0
        assert s.run(v) == 2.0  # the gated constant still runs the increment


def test_random_ops_are_never_folded():
    r = tf.random_uniform([4], seed=1) * 2.0
    with session() as s:
        a, b = s.run(r), s.run(r)
    assert not np.array_equal(a, b)


# --- simplification ---------------------------------------------------------------------------------
def test_identity_times_one_plus_zero_removed():
    x = tf.placeholder(tf.float32, [2, 3])
    y = tf.identity(tf.tanh(x) * 1.0 + tf.zeros([3])) - 0.0
    xv = np.arange(6, dtype=np.float32).reshape(2, 3) / 6
    with session() as s:
        got = s.run(y, {x: xv})
        rep = s.compiled_plan(y, {x: xv})
    np.testing.assert_allclose(got, np.tanh(xv), rtol=1e-6)
    removed = [why for _, why in _names(rep, "simplify", "removed")]
    assert "Identity" in removed and "Mul by 1" in removed and "AddV2 by 0" in removed
    assert step_types(rep) == ["Tanh"]


def test_broadcasting_unit_constant_is_kept_when_it_changes_the_shape():
    x = tf.placeholder(tf.float32, [3])
    y = x * tf.ones([2, 3])  # result is [2, 3], not x
    xv = np.array([1.0, 2.0, 3.0], np.float32)
    with session() as s:
        got = s.run(y, {x: xv})
        rep = s.compiled_plan(y, {x: xv})
    assert got.shape == (2, 3)
    np.testing.assert_array_equal(got, np.broadcast_to(xv, (2, 3)))
    assert "Mul" in step_types(rep)


def test_identity_with_control_inputs_is_kept():
    v = tf.Variable(1.0)
    inc = tf.assign_add(v, 1.0)
    c = tf.constant(5.0)
    with tf.control_dependencies([inc]):
        y = tf.identity(c, name="gated")
    with session() as s:
        s.run(v.initializer)
        assert s.run(y) == 5.0
        assert s.run(v) == 2.0
        rep = s.compiled_plan(y)
    assert "gated" in [n for n, _, _ in rep.steps]


def test_fetching_a_removed_identity_of_a_feed_returns_a_copy():
    x = tf.placeholder(tf.float32, [3])
    y = tf.identity(x) * 1.0
    xv = np.array([1.0, 2.0, 3.0], np.float32)
    with session() as s:
        got = s.run(y, {x: xv})
    got[0] = 99.0
    assert xv[0] == 1.0


# --- common-subexpression elimination ---------------------------------------------------------------
def test_equal_expressions_computed_once():
    x = tf.placeholder(tf.float32, [4])
    a = tf.exp(x) + tf.exp(x)
    b = tf.sqrt(tf.abs(x)) * tf.sqrt(tf.abs(x))
    xv = np.array([0.5, -1.0, 2.0, 0.0], np.float32)
    with session(fuse=False) as s:
        got_a, got_b = s.run([a, b], {x: xv})
        rep = s.compiled_plan([a, b], {x: xv})
    np.testing.assert_allclose(got_a, 2 * np.exp(xv), rtol=1e-6)
    np.testing.assert_allclose(got_b, np.abs(xv), rtol=1e-6)
    assert len(_names(rep, "cse", "merged")) == 3  # Exp, Abs, Sqrt
    assert step_types(rep).count("Exp") == 1 and step_types(rep).count("Sqrt") == 1


def test_cse_needs_equal_attrs_and_control_inputs():
    x = tf.placeholder(tf.float32, [2, 2])
    s0 = tf.reduce_sum(x, axis=0)
    s1 = tf.reduce_sum(x, axis=1)
    v = tf.Variable(0.0)
    with tf.control_dependencies([tf.assign_add(v, 1.0)]):
        s0b = tf.reduce_sum(x, axis=0)
    xv = np.array([[1.0, 2.0], [3.0, 5.0]], np.float32)
    with session() as s:
        s.run(v.initializer)
        r0, r1, r0b = s.run([s0, s1, s0b], {x: xv})
        rep = s.compiled_plan([s0, s1, s0b], {x: xv})
    np.testing.assert_array_equal(r0, [4.0, 7.0])
    np.testing.assert_array_equal(r1, [3.0, 8.0])
    np.testing.assert_array_equal(r0b, [4.0, 7.0])
    assert step_types(rep).count("Sum") == 3


def test_duplicate_fetches_after_cse_are_distinct_arrays():
    x = tf.placeholder(tf.float32, [2])
    a, b = tf.exp(x), tf.exp(x)
    with session() as s:
        ra, rb = s.run([a, b], {x: np.zeros(2, np.float32)})
    ra[0] = 7.0
    assert rb[0] == 1.0


def test_stateful_ops_are_never_merged():
    v = tf.Variable(0.0)
    a1 = tf.assign_add(v, 1.0)
    a2 = tf.assign_add(v, 1.0)
    r1 = tf.random_normal([3], seed=5)
    r2 = tf.random_normal([3], seed=5)
    with session() as s:
        s.run(v.initializer)
        s.run([a1.op, a2.op])
        assert s.run(v) == 2.0
        rep = s.compiled_plan([r1, r2])
        assert step_types(rep).count("RandomStandardNormal") == 2
        rep = s.compiled_plan([a1.op, a2.op])
        assert step_types(rep).count("AssignAdd") == 2
        # only their equal constant operands merge
        assert [m for m, _ in _names(rep, "cse", "merged")] == [a2.op.inputs[1].op.name]


# --- TF1 reference semantics of variable reads ------------------------------------------------------
def _read_update_read():
    """Two equal expressions of ``v/read``, one gated before an in-place update, one after."""
    v = tf.Variable([1.0, 2.0], name="v")
    r = v.value()  # v/read: an alias of the variable's buffer
    before = r * 2.0 + 1.0
    with tf.control_dependencies([before]):
        upd = tf.assign_add(v, [10.0, 10.0])
    with tf.control_dependencies([upd]):
        after = r * 2.0 + 1.0
        after_id = tf.identity(r) * 1.0
    return v, before, after, after_id, upd


@pytest.mark.parametrize("switches", [{"off": True}, {}, {"fuse": False}, {"cse": False}])
def test_variable_read_before_and_after_assign(switches):
    v, before, after, after_id, upd = _read_update_read()
    with session(**switches) as s:
        s.run(v.initializer)
        got_before, got_after, got_id = s.run([before, after, after_id])
    # TF1: the read aliases the buffer; assign_add updates it in place, so what a
    # reader sees depends on which side of the update it runs
    np.testing.assert_array_equal(got_before, [3.0, 5.0])
    np.testing.assert_array_equal(got_after, [23.0, 25.0])
    np.testing.assert_array_equal(got_id, [11.0, 12.0])


def test_reads_of_a_mutated_variable_are_not_merged_or_simplified():
    v, before, after, after_id, upd = _read_update_read()
    with session() as s:
        s.run(v.initializer)
        rep = s.compiled_plan([before, after, after_id])
    merged = [m for m, _ in _names(rep, "cse", "merged")]
    assert after.op.name not in merged and after.op.inputs[0].op.name not in merged
    assert all(name != after_id.op.name for name, _ in _names(rep, "simplify", "removed"))


def test_fetched_read_shows_the_update_like_tf1():
    v = tf.Variable([1.0, 2.0])
    r = v.value()
    with tf.control_dependencies([r]):
        upd = tf.assign(v, [5.0, 6.0])
    with session() as s:
        s.run(v.initializer)
        got_r, _ = s.run([r, upd])
    # TF1 ref variables: the fetched read aliases the buffer the assign overwrote in place
    np.testing.assert_array_equal(got_r, [5.0, 6.0])
