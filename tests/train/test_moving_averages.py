"""ExponentialMovingAverage: spec/training_utils.md §4 numbers, shadow names and
collections, NumPy truth over many steps, the control-dependency idiom, and
restoring averages through a Saver (seed 003's example)."""
import os

import numpy as np
import pytest

import graphflow as tf


def _init(sess):
    sess.run(tf.global_variables_initializer())


def test_spec_decay_numbers():
    v = tf.Variable(10.0, name="v")
    ema = tf.train.ExponentialMovingAverage(0.9)
    op = ema.apply([v])
    with tf.Session() as sess:
        _init(sess)
        sess.run(tf.assign(v, 20.0))
        sess.run(op)
        np.testing.assert_allclose(sess.run(ema.average(v)), 11.0, rtol=1e-7)
        sess.run(op)
        assert sess.run(ema.average(v)) == np.float32(11.900001)


@pytest.mark.parametrize("n,want", [(0, 19.0), (5, 16.0), (10_000, 10 * 0.999 + 20 * 0.001)])
def test_spec_num_updates(n, want):
    v = tf.Variable(10.0, name="v")
    ema = tf.train.ExponentialMovingAverage(0.999, num_updates=n)
    op = ema.apply([v])
    with tf.Session() as sess:
        _init(sess)
        sess.run(tf.assign(v, 20.0))
        sess.run(op)
        np.testing.assert_allclose(sess.run(ema.average(v)), want, rtol=1e-6)


def test_num_updates_from_a_variable_step():
    step = tf.Variable(0, trainable=False, name="step")
    v = tf.Variable(10.0, name="v")
    ema = tf.train.ExponentialMovingAverage(0.999, num_updates=step)
    op = ema.apply([v])
    with tf.Session() as sess:
        _init(sess)
        sess.run(tf.assign(v, 20.0))
        shadow = 10.0
        for n in range(4):
            sess.run(tf.assign(step, n))
            sess.run(op)
            d = min(0.999, (1.0 + n) / (10.0 + n))
            shadow = d * shadow + (1 - d) * 20.0
            np.testing.assert_allclose(sess.run(ema.average(v)), shadow, rtol=1e-6)


@pytest.mark.parametrize("zero_debias,want", [(False, [0.5000001, 1.1500003]),
                                              (True, [5.0, 6.0526314])])
def test_spec_tensor_average(zero_debias, want):
    x = tf.placeholder(tf.float32, [], name="xm")
    ema = tf.train.ExponentialMovingAverage(0.9, zero_debias=zero_debias)
    op = ema.apply([x])
    shadow = ema.average(x)
    assert shadow.name == "xm/ExponentialMovingAverage:0"
    names = sorted(v.op.name for v in tf.global_variables())
    if zero_debias:
        assert names == ["xm/ExponentialMovingAverage", "xm/ExponentialMovingAverage/biased",
                         "xm/ExponentialMovingAverage/local_step"]
    else:
        assert names == ["xm/ExponentialMovingAverage"]
    assert tf.moving_average_variables() == []  # tensors are not recorded
    with tf.Session() as sess:
        _init(sess)
        got = []
        for value in (5.0, 7.0):
            sess.run(op, {x: value})
            got.append(sess.run(shadow))
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_zero_debias_does_not_touch_variables():
    v = tf.Variable(4.0, name="v")
    ema = tf.train.ExponentialMovingAverage(0.5, zero_debias=True)
    op = ema.apply([v])
    assert len(tf.global_variables()) == 2  # v and its shadow only
    with tf.Session() as sess:
        _init(sess)
        sess.run(tf.assign(v, 8.0))
        sess.run(op)
        assert sess.run(ema.average(v)) == np.float32(6.0)


RATE32 = float(np.float32(1.0) - np.float32(0.8))


def test_many_steps_match_numpy_float32_and_float64():
    rng = np.random.RandomState(1)
    a = tf.Variable(rng.randn(3, 2).astype(np.float32), name="a")
    b = tf.Variable(rng.randn(4), name="b")  # float64
    ema = tf.train.ExponentialMovingAverage(0.8)
    op = ema.apply([a, b])
    assert ema.average(b).dtype.base_dtype == tf.float64
    sa, sb = a.initial_value, b.initial_value
    with tf.Session() as sess:
        _init(sess)
        shadow_a, shadow_b = sess.run([sa, sb])
        shadow_a = shadow_a.astype(np.float64)
        for _ in range(6):
            va = rng.randn(3, 2).astype(np.float32)
            vb = rng.randn(4)
            a.load(va, sess)
            b.load(vb, sess)
            sess.run(op)
            shadow_a = 0.8 * shadow_a + 0.2 * va
            # as in TF the decay is a float32 constant: 1 - decay is float32, then cast
            shadow_b = shadow_b - (shadow_b - vb) * RATE32
            got_a, got_b = sess.run([ema.average(a), ema.average(b)])
            assert got_a.dtype == np.float32 and got_b.dtype == np.float64
            np.testing.assert_allclose(got_a, shadow_a, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(got_b, shadow_b, rtol=1e-13, atol=1e-14)


def test_shadow_names_collections_and_ops():
    v = tf.Variable(1.0, name="v")
    with tf.variable_scope("sc"):
        u = tf.get_variable("u", [], initializer=tf.constant_initializer(2.0))
    w = tf.Variable(3.0, name="w", trainable=False)
    ema = tf.train.ExponentialMovingAverage(0.9)
    op = ema.apply([v, u, w])
    assert op.type == "NoOp" and op.name == "ExponentialMovingAverage"
    assert ema.average(v).name == "v/ExponentialMovingAverage:0"
    assert ema.average(u).name == "sc/u/ExponentialMovingAverage:0"
    assert ema.average(w).name == "w/ExponentialMovingAverage:0"
    shadows = [ema.average(x) for x in (v, u, w)]
    assert all(s in tf.global_variables() for s in shadows)
    assert not any(s in tf.trainable_variables() for s in shadows)
    assert tf.moving_average_variables() == [v, u, w]
    g = tf.get_default_graph()
    updates = [g.get_operation_by_name("ExponentialMovingAverage/AssignMovingAvg" + sfx)
               for sfx in ("", "_1", "_2")]
    assert [o.type for o in updates] == ["AssignSub"] * 3
    assert set(op.control_inputs) == set(updates)
    assert g.get_operation_by_name("ExponentialMovingAverage/decay").type == "Const"
    # a second apply: new NoOp name, no new shadow for v
    op2 = ema.apply([v])
    assert op2.name == "ExponentialMovingAverage_1"
    assert ema.average(v).name == "v/ExponentialMovingAverage:0"
    # a second EMA with the same name gets uniquified shadows
    ema2 = tf.train.ExponentialMovingAverage(0.5)
    ema2.apply([v])
    assert ema2.average(v).name == "v/ExponentialMovingAverage_1:0"
    assert ema.name == "ExponentialMovingAverage"


def test_variable_scope_prefixes_shadow_and_default_var_list():
    v = tf.Variable(1.0, name="v")
    tf.Variable(5, name="counter", trainable=False)  # not trainable: not averaged
    ema = tf.train.ExponentialMovingAverage(0.9, name="avg")
    with tf.variable_scope("outer"):
        op = ema.apply()
    assert ema.average(v).name == "outer/v/avg:0"
    assert op.name == "outer/avg"
    assert ema.average_name(v) == "outer/v/avg"


def test_type_error_for_non_float():
    iv = tf.Variable(1, name="iv")
    ema = tf.train.ExponentialMovingAverage(0.9)
    with pytest.raises(TypeError) as e:
        ema.apply([iv])
    assert str(e.value) == "The variables must be half, float, or double: iv:0"


def test_average_and_average_name_before_apply():
    step = tf.Variable(0.0, name="step")
    ema = tf.train.ExponentialMovingAverage(0.9)
    assert ema.average(step) is None
    assert ema.average_name(step) == "step/ExponentialMovingAverage"


def test_variables_to_restore_spec_example():
    v = tf.Variable(1.0, name="v")
    with tf.variable_scope("sc"):
        u = tf.get_variable("u", [], initializer=tf.zeros_initializer())
    w = tf.Variable(2.0, name="w", trainable=False)
    step = tf.Variable(0, name="step", trainable=False)
    ema = tf.train.ExponentialMovingAverage(0.9)
    ema.apply([v, u, w])
    got = ema.variables_to_restore()
    assert got == {"v/ExponentialMovingAverage": v, "sc/u/ExponentialMovingAverage": u,
                   "w/ExponentialMovingAverage": w, "step": step}
    assert ema.variables_to_restore([v]) == {
        "v/ExponentialMovingAverage": v, "sc/u": u, "w": w, "step": step,
        "sc/u/ExponentialMovingAverage": ema.average(u),
        "w/ExponentialMovingAverage": ema.average(w)}


def test_shadow_starts_from_initial_value_when_initialized_together():
    v = tf.Variable([1.0, 2.0], name="v")
    ema = tf.train.ExponentialMovingAverage(0.9)
    ema.apply([v])
    with tf.Session() as sess:
        _init(sess)  # v and its shadow initialized in the same run
        np.testing.assert_array_equal(sess.run(ema.average(v)), [1.0, 2.0])


def test_control_dependency_idiom_updates_after_train_step():
    v = tf.Variable(10.0, name="v")
    train_op = tf.assign_sub(v, 1.0)
    ema = tf.train.ExponentialMovingAverage(0.9)
    with tf.control_dependencies([train_op]):
        ema_op = ema.apply([v])
    assert ema.average(v).initializer.control_inputs == []  # shadow built outside the deps
    with tf.Session() as sess:
        _init(sess)
        shadow, value = 10.0, 10.0
        for _ in range(3):
            sess.run(ema_op)  # runs the train step first
            value -= 1.0
            shadow = 0.9 * shadow + 0.1 * value
            assert sess.run(v) == np.float32(value)
            np.testing.assert_allclose(sess.run(ema.average(v)), shadow, rtol=1e-6)


def test_seed_group_idiom_with_optimizer():
    """Seed 003: `with tf.control_dependencies([opt_op]): tf.group(maintain_averages_op)`."""
    if not hasattr(tf.train, "GradientDescentOptimizer"):
        pytest.skip("optimizers not available yet")
    var0 = tf.Variable([1.0, 2.0], name="var0")
    var1 = tf.Variable(3.0, name="var1")
    my_loss = tf.reduce_sum(var0 * var0) + var1 * var1
    opt = tf.train.GradientDescentOptimizer(learning_rate=0.1)
    opt_op = opt.minimize(my_loss, var_list=[var0, var1])
    ema = tf.train.ExponentialMovingAverage(decay=0.9999)
    maintain_averages_op = ema.apply([var0, var1])
    with tf.control_dependencies([opt_op]):
        training_op = tf.group(maintain_averages_op)
    with tf.Session() as sess:
        _init(sess)
        sess.run(training_op)
        np.testing.assert_allclose(sess.run(var0), [0.8, 1.6], rtol=1e-6)
        # nothing orders the averages against the gradient step (the group only
        # waits for both; TF leaves the order unspecified): graphflow computes
        # every read before the first in-place update, so the averages see the
        # variables before this run's step
        np.testing.assert_allclose(sess.run(ema.average(var0)), [1.0, 2.0], rtol=1e-6)
        sess.run(training_op)
        np.testing.assert_allclose(sess.run(var0), [0.64, 1.28], rtol=1e-6)
        np.testing.assert_allclose(sess.run(ema.average(var0)),
                                   [0.9999 * 1.0 + 0.0001 * 0.8, 0.9999 * 2.0 + 0.0001 * 1.6],
                                   rtol=1e-6)


def test_restore_averages_into_variables_through_saver(tmp_path):
    """Seed 003's example: Saver({average_name(v): v}) loads shadow values into v."""
    var0 = tf.Variable([1.0, 2.0], name="var0")
    var1 = tf.Variable(5.0, name="var1")
    ema = tf.train.ExponentialMovingAverage(decay=0.5)
    maintain = ema.apply([var0, var1])
    saver = tf.train.Saver()
    path = os.path.join(str(tmp_path), "model")
    with tf.Session() as sess:
        _init(sess)
        sess.run([tf.assign(var0, [3.0, 4.0]), tf.assign(var1, 7.0)])
        sess.run(maintain)
        saver.save(sess, path)
        shadows = sess.run([ema.average(var0), ema.average(var1)])
    np.testing.assert_allclose(shadows[0], [2.0, 3.0])
    assert shadows[1] == np.float32(6.0)

    tf.reset_default_graph()
    var0 = tf.Variable([0.0, 0.0], name="var0")
    var1 = tf.Variable(0.0, name="var1")
    ema = tf.train.ExponentialMovingAverage(decay=0.5)
    shadow_var0_name = ema.average_name(var0)
    shadow_var1_name = ema.average_name(var1)
    saver = tf.train.Saver({shadow_var0_name: var0, shadow_var1_name: var1})
    with tf.Session() as sess:
        saver.restore(sess, path)
        np.testing.assert_allclose(sess.run(var0), [2.0, 3.0])
        assert sess.run(var1) == np.float32(6.0)
    tf.reset_default_graph()
    var0 = tf.Variable([0.0, 0.0], name="var0")
    var1 = tf.Variable(0.0, name="var1")
    saver = tf.train.Saver(tf.train.ExponentialMovingAverage(0.5).variables_to_restore())
    with tf.Session() as sess:
        saver.restore(sess, path)
        np.testing.assert_allclose(sess.run(var0), [2.0, 3.0])
        assert sess.run(var1) == np.float32(6.0)
