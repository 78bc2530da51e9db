"""``tf.contrib.layers.optimize_loss`` / ``adaptive_clipping_fn``: spec optimize_loss.md.

The model of spec §7: ``x`` fed 5.0, ``var = 10``, ``loss = |var * x|`` (gradient 5),
an int64 ``global_step`` variable, ``learning_rate = 0.1``, one ``sess.run``.
Numbers are the spec's verified values or NumPy re-derivations of §6.
"""
import numpy as np
import pytest

import graphflow as tf
from graphflow.contrib.layers import (OPTIMIZER_CLS_NAMES, OPTIMIZER_SUMMARIES,
                                      adaptive_clipping_fn, optimize_loss)
from graphflow.framework.op_def import constant_value


def _model(with_step=True):
    x = tf.placeholder(tf.float32, [])
    var = tf.get_variable("test", [], initializer=tf.constant_initializer(10))
    loss = tf.abs(var * x)
    gs = None
    if with_step:
        gs = tf.get_variable("global_step", [], trainable=False, dtype=tf.int64,
                             initializer=tf.constant_initializer(0, dtype=tf.int64))
    return x, var, loss, gs


def _run(train, var, gs, x, steps=1):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        outs = [sess.run(train, {x: 5.0}) for _ in range(steps)]
        return outs, sess.run(var), (sess.run(gs) if gs is not None else None)


def _decay(lr, gs):
    return tf.train.exponential_decay(lr, gs, 1, 0.5)


SPEC_TABLE = [  # spec §7: (kwargs, var after, global_step after)
    (dict(optimizer="SGD"), 9.5, 1),
    (dict(optimizer=tf.train.GradientDescentOptimizer), 9.5, 1),
    (dict(optimizer=tf.train.GradientDescentOptimizer(0.1)), 9.5, 1),
    (dict(optimizer=lambda lr: tf.train.GradientDescentOptimizer(lr)), 9.5, 1),
    (dict(learning_rate=None, optimizer=lambda: tf.train.GradientDescentOptimizer(0.1)), 9.5, 1),
    (dict(optimizer="SGD", clip_gradients=0.1), 9.99, 1),
    (dict(optimizer="SGD", gradient_multipliers="var"), 6.5, 1),
    (dict(optimizer="SGD", gradient_multipliers={"test:0": 7.0}), 6.5, 1),
    (dict(optimizer="SGD", clip_gradients="adaptive"), 9.891621, 1),
    (dict(optimizer="Momentum", clip_gradients=1.0), 9.9, 1),
    (dict(optimizer="Adam", learning_rate_decay_fn=_decay), 9.9, 1),
    (dict(optimizer="SGD", increment_global_step=False), 9.5, 0),
]


@pytest.mark.parametrize("kwargs,want_var,want_step", SPEC_TABLE,
                         ids=[str(i) for i in range(len(SPEC_TABLE))])
def test_spec_table(kwargs, want_var, want_step):
    x, var, loss, gs = _model()
    kwargs = dict(kwargs)
    kwargs.setdefault("learning_rate", 0.1)
    if kwargs.get("gradient_multipliers") == "var":
        kwargs["gradient_multipliers"] = {var: 7.0}
    if kwargs.get("clip_gradients") == "adaptive":
        kwargs["clip_gradients"] = adaptive_clipping_fn()
    train = optimize_loss(loss, gs, **kwargs)
    assert isinstance(train, tf.Tensor) and train.op.type == "Identity"
    assert train.op.name == "OptimizeLoss/control_dependency"
    (out,), got_var, got_step = _run(train, var, gs, x)
    assert out == pytest.approx(50.0)  # the loss of the step, before the update
    assert got_var == pytest.approx(want_var, rel=1e-6)
    assert got_step == want_step


def test_constants():
    assert sorted(OPTIMIZER_CLS_NAMES) == ["Adagrad", "Adam", "Ftrl", "Momentum", "RMSProp",
                                           "SGD"]
    assert OPTIMIZER_CLS_NAMES["SGD"] is tf.train.GradientDescentOptimizer
    assert OPTIMIZER_CLS_NAMES["RMSProp"] is tf.train.RMSPropOptimizer
    mom = OPTIMIZER_CLS_NAMES["Momentum"](learning_rate=0.3)
    assert isinstance(mom, tf.train.MomentumOptimizer) and mom._momentum == 0.9
    assert OPTIMIZER_SUMMARIES == ["learning_rate", "loss", "gradients", "gradient_norm",
                                   "global_gradient_norm"]
    assert tf.contrib.layers.optimize_loss is optimize_loss


def test_train_op_structure():
    x, var, loss, gs = _model()
    train = optimize_loss(loss, gs, 0.1, "SGD")
    g = tf.get_default_graph()
    apply_op = g.get_operation_by_name("OptimizeLoss/train")
    assert apply_op.type == "AssignAdd"
    assert apply_op in train.op.control_inputs
    assert g.get_operation_by_name("OptimizeLoss/gradients/Abs_grad/Sign") is not None
    x2, var2, loss2, _ = x, var, loss, gs
    no_inc = optimize_loss(loss2, gs, 0.1, "SGD", increment_global_step=False)
    assert no_inc.op.name == "OptimizeLoss_1/control_dependency"
    assert g.get_operation_by_name("OptimizeLoss_1/train").type == "NoOp"
    third = optimize_loss(loss, gs, 0.1, "SGD", name="second")
    assert third.op.name == "second/control_dependency"


def test_update_ops():
    x, var, loss, gs = _model()
    u = tf.Variable(0.0, name="u")
    train = optimize_loss(loss, gs, 0.1, "SGD", update_ops=[tf.assign(u, 20.0)])
    assert train.op.name == "OptimizeLoss/control_dependency_1"
    assert tf.get_default_graph().get_operation_by_name(
        "OptimizeLoss/control_dependency").type == "Identity"
    _, got_var, got_step = _run(train, var, gs, x)
    assert got_var == pytest.approx(9.5) and got_step == 1
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, {x: 5.0})
        assert sess.run(u) == 20.0


def test_update_ops_collection_default_and_explicit_empty_list():
    x, var, loss, gs = _model()
    u = tf.Variable(0.0, name="u")
    tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, tf.assign(u, 20.0))
    with_coll = optimize_loss(loss, gs, 0.1, "SGD")
    without = optimize_loss(loss, gs, 0.1, "SGD", update_ops=[])
    assert without.op.name == "OptimizeLoss_1/control_dependency"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(without, {x: 5.0})
        assert sess.run(u) == 0.0
        sess.run(with_coll, {x: 5.0})
        assert sess.run(u) == 20.0


def test_global_step_none_without_and_with_graph_step():
    x, var, loss, _ = _model(with_step=False)
    train = optimize_loss(loss, None, 0.1, "SGD")
    assert tf.get_default_graph().get_operation_by_name("OptimizeLoss/train").type == "NoOp"
    _, got_var, _ = _run(train, var, None, x)
    assert got_var == pytest.approx(9.5)
    assert [v.name for v in tf.global_variables()] == ["test:0", "OptimizeLoss/learning_rate:0"]
    with tf.Graph().as_default():
        x, var, loss, _ = _model(with_step=False)
        gs = tf.train.get_or_create_global_step()
        train = optimize_loss(loss, None, 0.1, "SGD")
        _, got_var, got_step = _run(train, var, gs, x)
        assert got_var == pytest.approx(9.5) and got_step == 1


def test_global_step_errors():
    x, var, loss, _ = _model(with_step=False)
    gs_f = tf.get_variable("gs_f", [], dtype=tf.float64, trainable=False)
    with pytest.raises(TypeError, match='^Existing "global_step" does not have integer type: '):
        optimize_loss(loss, gs_f, 0.1, "SGD")
    gs_1 = tf.get_variable("gs_1", [1], dtype=tf.int64, trainable=False)
    with pytest.raises(TypeError) as e:
        optimize_loss(loss, gs_1, 0.1, "SGD")
    assert str(e.value) == 'Existing "global_step" is not scalar: (1,)'
    with pytest.raises(TypeError):
        optimize_loss(loss, tf.constant(43, tf.int64), 0.1, "SGD")
    with pytest.raises(ValueError, match="^global_step is required for learning_rate_decay_fn.$"):
        optimize_loss(loss, None, 0.1, "SGD", learning_rate_decay_fn=_decay)


def test_loss_errors():
    x, var, loss, gs = _model()
    bad = tf.reshape(loss, [1, 1])
    with pytest.raises(ValueError) as e:
        optimize_loss(bad, gs, 0.1, "SGD")
    assert str(e.value) == "Expected scalar shape for %s, saw shape: (1, 1)." % bad.name
    with pytest.raises(ValueError):
        optimize_loss(None, gs, 0.1, "SGD")


def test_learning_rate_errors_and_forms():
    x, var, loss, gs = _model()
    with pytest.raises(ValueError) as e:
        optimize_loss(loss, gs, -0.1, "SGD")
    assert e.value.args == ("Invalid learning_rate %s.", -0.1)
    assert str(e.value) == "('Invalid learning_rate %s.', -0.1)"
    with pytest.raises(ValueError) as e:
        optimize_loss(loss, gs, 1, "SGD")
    assert str(e.value) == ("Learning rate should be 0d Tensor or float. Got 1 of type "
                            "<class 'int'>")
    for bad in (tf.Variable(0.1, name="lr_var"), tf.constant([0.1]), np.float32(0.1)):
        with pytest.raises(ValueError, match="^Learning rate should be 0d Tensor or float. "):
            optimize_loss(loss, gs, bad, "SGD")
    lr = tf.constant(0.1)
    t1 = optimize_loss(loss, gs, lr, "SGD")  # a 0-d tensor is used as is
    t2 = optimize_loss(loss, gs, np.float64(0.1), "SGD")  # np.float64 is a float
    made = [v.name for v in tf.global_variables() if v.name.endswith("/learning_rate:0")]
    assert len(made) == 1 and made[0] == t2.op.name.split("/")[0] + "/learning_rate:0"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(t1, {x: 5.0})
        sess.run(t2, {x: 5.0})
        assert sess.run(var) == pytest.approx(9.0)


def test_optimizer_errors():
    x, var, loss, gs = _model()
    with pytest.raises(ValueError) as e:
        optimize_loss(loss, gs, None, "SGD")
    assert str(e.value) == ("Learning rate is None, but should be specified if optimizer is "
                            "string (SGD).")
    with pytest.raises(ValueError) as e:
        optimize_loss(loss, gs, 0.1, "blah")
    assert str(e.value) == ("Optimizer name should be one of [Adagrad, Adam, Ftrl, Momentum, "
                            "RMSProp, SGD], you provided blah.")
    with pytest.raises(ValueError, match=r"^Learning rate is None, but should be specified if "
                                         r"optimizer is class \(.*GradientDescentOptimizer"):
        optimize_loss(loss, gs, None, tf.train.GradientDescentOptimizer)
    with pytest.raises(ValueError) as e:
        optimize_loss(loss, gs, 0.1, lambda lr: None)
    assert str(e.value) == ("Unrecognized optimizer: function should return subclass of "
                            "Optimizer. Got None.")
    with pytest.raises(ValueError, match="^Unrecognized optimizer: function should return"):
        optimize_loss(loss, gs, 0.1, tf.Variable)
    with pytest.raises(ValueError, match=r"^Unrecognized optimizer: should be string, subclass "
                                         r"of Optimizer, instance of subclass of Optimizer or "
                                         r"function with one argument. Got <object"):
        optimize_loss(loss, gs, 0.1, object())
    with pytest.raises(ValueError) as e:
        optimize_loss(loss, gs, 0.1, "SGD", summaries=["loss", "bogus"])
    assert str(e.value) == ("Summaries should be one of [learning_rate, loss, gradients, "
                            "gradient_norm, global_gradient_norm], you provided bogus.")
    with pytest.raises(ValueError) as e:
        optimize_loss(loss, gs, 0.1, "SGD", clip_gradients=1)
    assert str(e.value) == "Unknown type <class 'int'> for clip_gradients"


def _summaries():
    """(tag, op type) of the SUMMARIES collection, in creation order."""
    out = []
    for s in tf.get_collection(tf.GraphKeys.SUMMARIES):
        tag = np.asarray(constant_value(s.op.inputs[0])).item()
        out.append((tag.decode() if isinstance(tag, bytes) else tag, s.op.type))
    return out


@pytest.mark.parametrize("kwargs,want", [
    (dict(), [("OptimizeLoss/global_norm/gradient_norm", "ScalarSummary"),
              ("OptimizeLoss/loss", "ScalarSummary")]),
    (dict(clip_gradients=0.1), [("OptimizeLoss/global_norm/gradient_norm", "ScalarSummary"),
                                ("OptimizeLoss/loss", "ScalarSummary"),
                                ("OptimizeLoss/global_norm/clipped_gradient_norm",
                                 "ScalarSummary")]),
    (dict(learning_rate_decay_fn=_decay),
     [("OptimizeLoss/learning_rate_1", "ScalarSummary"),
      ("OptimizeLoss/global_norm/gradient_norm", "ScalarSummary"),
      ("OptimizeLoss/loss", "ScalarSummary")]),
    (dict(summaries=OPTIMIZER_SUMMARIES, learning_rate_decay_fn=_decay, clip_gradients=1.0),
     [("OptimizeLoss/learning_rate_1", "ScalarSummary"),
      ("OptimizeLoss/global_norm/gradient_norm", "ScalarSummary"),
      ("OptimizeLoss/loss", "ScalarSummary"),
      ("OptimizeLoss/gradients/test_0", "HistogramSummary"),
      ("OptimizeLoss/gradient_norm/test_0", "ScalarSummary"),
      ("OptimizeLoss/global_norm/clipped_gradient_norm", "ScalarSummary")]),
    (dict(summaries=[]), []),
], ids=["defaults", "clip", "decay", "all", "none"])
def test_summary_tags(kwargs, want):
    x, var, loss, gs = _model()
    train = optimize_loss(loss, gs, 0.1, "SGD", **kwargs)
    assert _summaries() == want
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        merged = tf.summary.merge_all()
        if merged is not None:
            sess.run([train, merged], {x: 5.0})


def test_summary_values():
    x, var, loss, gs = _model()
    optimize_loss(loss, gs, 0.1, "SGD", clip_gradients=1.0,
                  summaries=["loss", "global_gradient_norm"])
    ops = {s.op.name: s.op.inputs[1] for s in tf.get_collection(tf.GraphKeys.SUMMARIES)}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(ops, {x: 5.0})
    assert got["OptimizeLoss/loss"] == pytest.approx(50.0)
    assert got["OptimizeLoss/global_norm/gradient_norm"] == pytest.approx(5.0)
    assert got["OptimizeLoss/global_norm/clipped_gradient_norm"] == pytest.approx(1.0)


@pytest.mark.parametrize("kwargs,name,want", [
    (dict(optimizer="SGD"), None, ["OptimizeLoss/learning_rate:0"]),
    (dict(optimizer="Momentum"), None, ["OptimizeLoss/learning_rate:0",
                                        "OptimizeLoss/test/Momentum:0"]),
    (dict(optimizer="Adam", learning_rate_decay_fn=_decay), None,
     ["OptimizeLoss/learning_rate:0", "OptimizeLoss/beta1_power:0",
      "OptimizeLoss/beta2_power:0", "OptimizeLoss/test/Adam:0", "OptimizeLoss/test/Adam_1:0"]),
    (dict(optimizer="SGD", clip_gradients="adaptive"), None,
     ["OptimizeLoss/learning_rate:0", "OptimizeLoss/AdaptiveMaxNorm/mean:0",
      "OptimizeLoss/AdaptiveMaxNorm/sq_mean:0"]),
    (dict(optimizer=tf.train.AdagradOptimizer), "second",
     ["second/learning_rate:0", "second/test/Adagrad:0"]),
], ids=["SGD", "Momentum", "Adam", "adaptive", "second"])
def test_variables_created(kwargs, name, want):
    x, var, loss, gs = _model()
    kwargs = dict(kwargs)
    if kwargs.get("clip_gradients") == "adaptive":
        kwargs["clip_gradients"] = adaptive_clipping_fn()
    before = set(tf.global_variables())
    optimize_loss(loss, gs, 0.1, name=name, **kwargs)
    new = [v.name for v in tf.global_variables() if v not in before]
    assert sorted(new) == sorted(want)
    lr = [v for v in tf.global_variables() if v.name.endswith("learning_rate:0")][0]
    assert not lr.trainable and lr.dtype.base_dtype == tf.float32


def test_second_call_scope():
    x, var, loss, gs = _model()
    optimize_loss(loss, gs, 0.1, "SGD")
    second = optimize_loss(loss, gs, 0.1, "SGD")
    assert second.op.name.startswith("OptimizeLoss_1/")
    assert "OptimizeLoss_1/learning_rate:0" in [v.name for v in tf.global_variables()]


def test_multipliers_ignore_variables_without_gradients_and_subset():
    x, var, loss, gs = _model()
    other = tf.Variable(3.0, name="other")
    train = optimize_loss(loss, gs, 0.1, "SGD", gradient_multipliers={other: 2.0, var: 3.0},
                          variables=[var, other])
    _, got_var, _ = _run(train, var, gs, x)
    assert got_var == pytest.approx(10 - 0.1 * 5 * 3)


def test_gradient_noise():
    tf.set_random_seed(42)
    x, var, loss, gs = _model()
    train = optimize_loss(loss, gs, 0.1, "SGD", gradient_noise_scale=10.0, clip_gradients=10.0)
    ops = tf.get_default_graph().get_operations()
    assert any(op.type == "TruncatedNormal" for op in ops)
    _, got_var, got_step = _run(train, var, gs, x)
    assert abs(got_var - 10.0) <= 1.0 + 1e-6 and got_var != pytest.approx(9.5)
    assert got_step == 1


def test_gradient_noise_on_indexed_slices_gives_dense_gradient():
    emb = tf.Variable(np.ones((3, 2), np.float32), name="emb")
    loss = tf.reduce_sum(tf.gather(emb, [0, 0]))
    captured = []

    def clip(gv):
        captured.extend(gv)
        return gv
    train = optimize_loss(loss, None, 0.1, "SGD", gradient_noise_scale=1e-3,
                          clip_gradients=clip)
    assert isinstance(captured[0][0], tf.Tensor)
    assert captured[0][0].shape.as_list() == [3, 2]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        np.testing.assert_allclose(sess.run(emb), [[0.8, 0.8], [1, 1], [1, 1]], atol=1e-3)


def _adaptive_numpy(norm, std_factor=2.0, decay=0.95, static_max_norm=None, n=None,
                    epsilon=1e-8):
    """Spec §6 on one step from zero averages; returns (factor, max_norm)."""
    log_norm = np.log(norm + epsilon)
    d = decay if n is None else min(decay, n / (n + 1.0))
    mean = 0.0 - (0.0 - log_norm) * (1 - d)
    sq_mean = 0.0 - (0.0 - log_norm ** 2) * (1 - d)
    std = np.sqrt(max(epsilon, sq_mean - mean ** 2))
    max_norm = np.exp(mean + std_factor * std)
    factor = 1.0 if norm < max_norm else np.exp(mean) / norm
    if static_max_norm is not None:
        factor = min(static_max_norm / norm, factor)
    return factor, max_norm


@pytest.mark.parametrize("kwargs", [dict(), dict(std_factor=0.5, decay=0.6),
                                    dict(static_max_norm=0.5), dict(std_factor=100.0)],
                         ids=["default", "decay", "static", "wide"])
def test_adaptive_clipping_numbers(kwargs):
    x, var, loss, gs = _model()
    train = optimize_loss(loss, gs, 0.1, "SGD", clip_gradients=adaptive_clipping_fn(**kwargs))
    factor, _ = _adaptive_numpy(5.0, **kwargs)
    _, got_var, _ = _run(train, var, gs, x)
    assert got_var == pytest.approx(10.0 - 0.1 * 5.0 * factor, rel=1e-6)


def test_adaptive_clipping_global_step_and_summary():
    x, var, loss, gs = _model()
    fn = adaptive_clipping_fn(global_step=gs, report_summary=True, name="clip")
    train = optimize_loss(loss, gs, 0.1, "SGD", clip_gradients=fn, summaries=[])
    tags = [s.op.name for s in tf.get_collection(tf.GraphKeys.SUMMARIES)]
    assert tags == ["OptimizeLoss/global_norm/adaptive_max_gradient_norm"]
    assert "OptimizeLoss/clip/mean:0" in [v.name for v in tf.global_variables()]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for n in range(3):
            before = sess.run(var)
            mean, sq = sess.run(["OptimizeLoss/clip/mean:0", "OptimizeLoss/clip/sq_mean:0"])
            sess.run(train, {x: 5.0})
            d = min(0.95, n / (n + 1.0))
            log_norm = np.log(5.0 + 1e-8)
            mean = mean - (mean - log_norm) * (1 - d)
            sq = sq - (sq - log_norm ** 2) * (1 - d)
            std = np.sqrt(max(1e-8, sq - mean ** 2))
            factor = 1.0 if 5.0 < np.exp(mean + 2 * std) else np.exp(mean) / 5.0
            assert sess.run(var) == pytest.approx(before - 0.1 * 5.0 * factor, rel=1e-5)


def test_adaptive_clipping_keeps_none_and_scales_indexed_slices():
    emb = tf.Variable(np.ones((3, 2), np.float32), name="emb")
    unused = tf.Variable(1.0, name="unused")
    grad = tf.gradients(tf.reduce_sum(tf.gather(emb, [1])) * 4.0, [emb])[0]
    out = adaptive_clipping_fn(static_max_norm=1.0)([(grad, emb), (None, unused)])
    assert out[1] == (None, unused)
    assert isinstance(out[0][0], tf.IndexedSlices)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        values = sess.run(out[0][0].values)
    norm = np.sqrt(32.0)
    factor, _ = _adaptive_numpy(norm, static_max_norm=1.0)
    np.testing.assert_allclose(values, 4.0 * factor * np.ones((1, 2)), rtol=1e-5)
