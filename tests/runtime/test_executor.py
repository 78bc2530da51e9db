"""Sequential executor (runtime/executor.py): the prepared step loop against
NumPy truth: constants seeded once per plan, steps of every arity and output
count, gated constants, feed orders, re-preparation when a plan's steps are
replaced, and failures reported as OpErrors naming their node."""
import numpy as np
import pytest

import graphflow as tf
from graphflow import errors
from graphflow.compiler.options import CompileOptions
from graphflow.runtime import executor


def only_plan(sess):
    (plan,) = sess._plans.values()
    return plan


def test_constants_are_seeded_not_run():
    a = tf.placeholder(tf.float32, [3], name="a")
    k = tf.constant([1.0, 2.0, 3.0], name="k")
    out = tf.multiply(a, k, name="out")
    sess = tf.Session()
    feed = np.array([2.0, 3.0, 4.0], np.float32)
    np.testing.assert_array_equal(sess.run(out, {a: feed}), feed * [1, 2, 3])
    prep = executor.prepared(only_plan(sess))
    assert [st[6].name for st in prep.steps] == ["out"]
    assert any(v is not None for v in prep.template)
    np.testing.assert_array_equal(sess.run([out, k], {a: feed})[1], [1, 2, 3])


def test_variables_read_current_value_each_run():
    v = tf.Variable(1.0, name="v")
    inc = tf.assign_add(v, 2.0)
    r = tf.multiply(v, 10.0)
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    assert sess.run(r) == 10.0
    sess.run(inc)
    assert sess.run(r) == 30.0


def test_gated_constant_runs_after_its_control_input():
    v = tf.Variable(0.0, name="v")
    u = tf.assign_add(v, 1.0, name="u")
    with tf.control_dependencies([u]):
        k = tf.constant(5.0, name="k")
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    for i in range(3):
        assert sess.run(k) == 5.0
    assert sess.run(v) == 3.0  # the gate ran on every run
    names = [[st[6].name for st in executor.prepared(p).steps] for p in sess._plans.values()]
    assert any("k" in n and "u" in n for n in names)  # k stays a step, after u


def test_every_step_shape():
    x = tf.placeholder(tf.float32, [4, 6], name="x")
    parts = tf.split(x, 3, axis=1)                     # one input, three outputs
    total = tf.add_n([p * 2.0 for p in parts])         # list input
    vals, idx = tf.unique(tf.constant([3, 1, 3, 2]))    # two outputs
    noop = tf.no_op()                                  # no outputs
    s = tf.reduce_sum(x)                               # two inputs (x, axes)
    xv = np.arange(24, dtype=np.float32).reshape(4, 6)
    out = tf.Session().run([parts, total, vals, idx, noop, s], {x: xv})
    for got, want in zip(out[0], np.split(xv, 3, axis=1)):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(out[1], sum(np.split(xv * 2, 3, axis=1)))
    np.testing.assert_array_equal(out[2], [3, 1, 2])
    np.testing.assert_array_equal(out[3], [0, 1, 0, 2])
    assert out[4] is None
    assert out[5] == xv.sum()


def test_feed_orders_share_a_plan():
    a = tf.placeholder(tf.float32, [], name="a")
    b = tf.placeholder(tf.float32, [], name="b")
    c = a - b
    sess = tf.Session()
    assert sess.run(c, {a: 5.0, b: 2.0}) == 3.0
    assert sess.run(c, {b: 2.0, a: 5.0}) == 3.0
    assert sess.run(c, {b: 1.0, a: 5.0}) == 4.0
    assert sess.plan_builds == 1


def test_fed_intermediate_and_fetched_feed():
    a = tf.placeholder(tf.float32, [2], name="a")
    b = tf.multiply(a, 2.0, name="b")
    c = tf.add(b, 1.0, name="c")
    sess = tf.Session()
    np.testing.assert_array_equal(sess.run(c, {a: [1.0, 2.0]}), [3.0, 5.0])
    got = sess.run([b, c], {b: np.array([10.0, 20.0], np.float32)})
    np.testing.assert_array_equal(got[0], [10.0, 20.0])
    np.testing.assert_array_equal(got[1], [11.0, 21.0])


def test_replaced_steps_are_prepared_again():
    """A compiler swapping a plan's steps (e.g. fused kernels ready) takes effect."""
    a = tf.placeholder(tf.float32, [], name="a")
    c = tf.add(a, 1.0, name="c")
    sess = tf.Session()
    assert sess.run(c, {a: 1.0}) == 2.0
    plan = only_plan(sess)
    steps = list(plan.steps)
    k = next(i for i, st in enumerate(steps) if st[3].name == "c")
    fn, ins, outs, node = steps[k]
    steps[k] = (lambda x, y: np.asarray(x * 100 + y, np.float32), ins, outs, node)
    plan.steps = steps
    assert sess.run(c, {a: 1.0}) == 101.0


def test_errors_name_the_failing_node():
    x = tf.placeholder(tf.float32, [None, None], name="x")
    y = tf.matmul(x, x, name="mm")
    z = tf.tanh(y, name="after")
    sess = tf.Session()
    with pytest.raises(errors.InvalidArgumentError) as info:
        sess.run(z, {x: np.ones((2, 3), np.float32)})
    assert info.value.op.name == "mm"
    assert info.value.message.endswith("[[{{node mm}}]]")
    assert isinstance(info.value.__cause__, errors.KernelError)
    np.testing.assert_allclose(sess.run(z, {x: np.ones((2, 2), np.float32)}), np.tanh(2.0))


def test_uninitialized_read_is_failed_precondition():
    v = tf.Variable([1.0, 2.0], name="w")
    r = tf.reduce_sum(v * 2.0, name="r")
    with pytest.raises(errors.FailedPreconditionError, match="uninitialized value w"):
        tf.Session().run(r)


def test_matmul_fast_path_agrees_with_numpy():
    rng = np.random.default_rng(0)
    for dt in (np.float32, np.float64, np.int32):
        a = (rng.uniform(-3, 3, (5, 7))).astype(dt)
        b = (rng.uniform(-3, 3, (7, 4))).astype(dt)
        tf.reset_default_graph()
        pa = tf.placeholder(tf.as_dtype(dt), [None, None])
        pb = tf.placeholder(tf.as_dtype(dt), [None, None])
        sess = tf.Session()
        np.testing.assert_allclose(sess.run(tf.matmul(pa, pb), {pa: a, pb: b}), a @ b,
                                   rtol=1e-5)
        np.testing.assert_allclose(
            sess.run(tf.matmul(pa, pb, transpose_a=True), {pa: a.T, pb: b}), a @ b, rtol=1e-5)
        with pytest.raises(errors.InvalidArgumentError, match="Matrix size-incompatible"):
            sess.run(tf.matmul(pa, pb), {pa: a, pb: a})
        pv = tf.placeholder(tf.as_dtype(dt), None)
        with pytest.raises(errors.InvalidArgumentError, match=r"In\[1\]"):
            sess.run(tf.matmul(pa, pv), {pa: a, pv: b[0]})


def test_marked_constant_kernels_are_seeded():
    """A compiler's folded value (a kernel marked ``gf_constant``) runs once per plan."""
    a = tf.placeholder(tf.float32, [], name="a")
    k = tf.add(tf.constant(2.0), tf.constant(3.0), name="k")  # not a Const op itself
    out = tf.multiply(a, k, name="out")
    opts = tf.GraphOptions(compile_options=CompileOptions.all_off())
    sess = tf.Session(config=tf.ConfigProto(graph_options=opts))
    assert sess.run(out, {a: 2.0}) == 10.0
    plan = only_plan(sess)
    steps = list(plan.steps)
    i = next(j for j, st in enumerate(steps) if st[3].name == "k")
    calls = []

    def folded():
        calls.append(1)
        return np.float32(7.0)
    folded.gf_constant = True
    steps[i] = (folded, (), steps[i][2], steps[i][3])
    plan.steps = steps
    for _ in range(3):
        assert sess.run(out, {a: 2.0}) == 14.0
    assert len(calls) == 1
    assert "k" not in [st[6].name for st in executor.prepared(plan).steps]


def test_dead_after_matches_memory_liveness():
    from graphflow.runtime import memory
    x = tf.placeholder(tf.float32, [3], name="x")
    y = tf.tanh(x) * 2.0 + tf.reduce_sum(x)
    z = tf.exp(y) - y
    sess = tf.Session()
    sess.run([z, y], {x: np.ones(3, np.float32)})
    plan = only_plan(sess)
    mine = executor.dead_after(plan.steps, plan.feed_slots, plan.fetch_slots)
    feeds = set(plan.feed_slots)
    theirs = [tuple(s for s in d if s not in feeds) for d in memory.liveness(plan)]
    assert [sorted(d) for d in mine] == [sorted(d) for d in theirs]
