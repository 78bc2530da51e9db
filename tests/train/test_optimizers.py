"""tf.train optimizers: spec optimizers.md §1, §3-§6.

Numbers come from the spec's verified TF 1.x runs (tests/train/spec_tables.py)
or from NumPy (tests/train/np_reference.py); graph structure from §1.2.
"""
import numpy as np
import pytest

import graphflow as tf
from graphflow.framework.graph import GraphKeys

from . import np_reference as R
from .spec_tables import DENSE, G1, G2, SLOT_NAMES, SPARSE

F32 = dict(rtol=2e-6, atol=1e-7)  # a few float32 ulps (the kernels may fuse multiply-adds)


def _w():
    return tf.Variable([1.0, -2.0, 0.5], name="w")


def _state(opt, w):
    names = {"w": w}
    for n in opt.get_slot_names():
        names[n] = opt.get_slot(w, n)
    for v in opt._non_slot_variables():
        names[v.op.name] = v
    return names


# --- §5: two dense steps --------------------------------------------------------------
@pytest.mark.parametrize("key", sorted(DENSE))
def test_two_dense_steps_match_spec(key):
    make, step1, step2 = DENSE[key]
    w = _w()
    g = tf.placeholder(tf.float32, [3])
    gs = tf.train.get_or_create_global_step()
    opt = make()
    train = opt.apply_gradients([(g, w)], global_step=gs)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for n, (grad, want) in enumerate(((G1, step1), (G2, step2)), start=1):
            assert sess.run(train, {g: grad}) is None
            got = sess.run(_state(opt, w))
            for name, value in want.items():
                np.testing.assert_allclose(got[name], np.float32(value), err_msg=name, **F32)
            assert sess.run(gs) == n


@pytest.mark.parametrize("key", sorted(SLOT_NAMES))
def test_slot_names_and_properties(key):
    w = _w()
    opt = DENSE[key][0]()
    opt.apply_gradients([(tf.constant([0.1, 0.2, 0.3]), w)])
    assert opt.get_slot_names() == sorted(SLOT_NAMES[key])
    for slot, name in SLOT_NAMES[key].items():
        v = opt.get_slot(w, slot)
        assert v.name == name
        assert not v.trainable and v in tf.global_variables()
        assert v not in tf.trainable_variables()
        assert v.shape.as_list() == [3] and v.dtype == tf.float32._as_ref
    assert opt.get_slot(w, "nope") is None
    assert opt.get_slot(tf.constant(1.0), sorted(SLOT_NAMES[key])[0]) is None


def test_slot_initial_values():
    w = _w()
    opts = [tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.3),
            tf.train.RMSPropOptimizer(0.1, centered=True),
            tf.train.FtrlOptimizer(0.1, initial_accumulator_value=0.2)]
    for opt in opts:
        opt.apply_gradients([(tf.constant([0.1, 0.2, 0.3]), w)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(opts[0].get_slot(w, "accumulator")), [0.3] * 3)
        np.testing.assert_array_equal(sess.run(opts[1].get_slot(w, "rms")), [1, 1, 1])
        np.testing.assert_array_equal(sess.run(opts[1].get_slot(w, "mg")), [0, 0, 0])
        np.testing.assert_allclose(sess.run(opts[2].get_slot(w, "accum")), [0.2] * 3)
        np.testing.assert_array_equal(sess.run(opts[2].get_slot(w, "linear")), [0, 0, 0])


def test_slot_naming_rules():
    w = _w()
    a = tf.train.MomentumOptimizer(0.1, 0.9)
    b = tf.train.MomentumOptimizer(0.1, 0.9)
    a.apply_gradients([(tf.constant([1.0, 1.0, 1.0]), w)])
    with tf.name_scope("outer"):  # plain name scopes do not affect slot names
        b.apply_gradients([(tf.constant([1.0, 1.0, 1.0]), w)])
    assert a.get_slot(w, "momentum").name == "w/Momentum:0"
    assert b.get_slot(w, "momentum").name == "w/Momentum_1:0"
    c = tf.train.MomentumOptimizer(0.1, 0.9)
    with tf.variable_scope("vs"):
        c.apply_gradients([(tf.constant([1.0, 1.0, 1.0]), w)])
    assert c.get_slot(w, "momentum").name == "vs/w/Momentum:0"
    # a later apply_gradients reuses the slots
    a.apply_gradients([(tf.constant([1.0, 1.0, 1.0]), w)])
    assert a.get_slot(w, "momentum").name == "w/Momentum:0"
    assert len([v for v in tf.global_variables() if "Momentum" in v.name]) == 3
    f = tf.train.FtrlOptimizer(0.1, accum_name="acc", linear_name="lin")
    f.apply_gradients([(tf.constant([1.0, 1.0, 1.0]), w)])
    assert f.get_slot(w, "accum").name == "w/acc:0"
    assert f.get_slot(w, "linear").name == "w/lin:0"


def test_adam_non_slot_variables():
    w = _w()
    opt = tf.train.AdamOptimizer(0.1)
    opt.apply_gradients([(tf.constant([1.0, 1.0, 1.0]), w)])
    assert [v.name for v in opt.variables()] == ["beta1_power:0", "beta2_power:0", "w/Adam:0",
                                                 "w/Adam_1:0"]
    b1, b2 = opt._get_beta_accumulators()
    assert not b1.trainable and b1 in tf.global_variables()
    opt.apply_gradients([(tf.constant([1.0, 1.0, 1.0]), w)])  # one pair per optimizer
    assert len(opt.variables()) == 4
    second = tf.train.AdamOptimizer(0.1)
    with tf.name_scope("OptimizeLoss"):
        second.apply_gradients([(tf.constant([1.0, 1.0, 1.0]), w)])
    assert [v.name for v in second._non_slot_variables()] == ["OptimizeLoss/beta1_power:0",
                                                              "OptimizeLoss/beta2_power:0"]
    third = tf.train.AdamOptimizer(0.1)
    third.apply_gradients([(tf.constant([1.0, 1.0, 1.0]), w)])
    assert third._get_beta_accumulators()[0].name == "beta1_power_1:0"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run([b1, b2]), [0.9, 0.999])


def test_optimizer_used_in_two_graphs():
    opt = tf.train.AdamOptimizer(0.1)
    graphs = [tf.Graph(), tf.Graph()]
    for g in graphs:
        with g.as_default():
            w = _w()
            opt.apply_gradients([(tf.constant([1.0, 1.0, 1.0]), w)])
            assert [v.name for v in opt.variables()] == ["beta1_power:0", "beta2_power:0",
                                                         "w/Adam:0", "w/Adam_1:0"]
            assert all(v.graph is g for v in opt.variables())


# --- §1.2 graph structure ---------------------------------------------------------------
def _ops_after(n):
    return tf.get_default_graph().get_operations()[n:]


def test_apply_gradients_graph_with_global_step():
    w = tf.Variable(1.0, name="w")
    b = tf.Variable(0.5, name="b")
    loss = tf.square(3 * w + b)
    gs = tf.train.get_or_create_global_step()
    opt = tf.train.MomentumOptimizer(0.1, 0.9)
    gv = opt.compute_gradients(loss)
    n = len(tf.get_default_graph().get_operations())
    train = opt.apply_gradients(gv, global_step=gs)
    ops = {op.name: op for op in _ops_after(n)}
    assert list(ops) == [
        "w/Momentum/Initializer/zeros", "w/Momentum", "w/Momentum/Assign", "w/Momentum/read",
        "b/Momentum/Initializer/zeros", "b/Momentum", "b/Momentum/Assign", "b/Momentum/read",
        "Momentum/learning_rate", "Momentum/momentum", "Momentum/update_w/ApplyMomentum",
        "Momentum/update_b/ApplyMomentum", "Momentum/update", "Momentum/value", "Momentum"]
    apply_w = ops["Momentum/update_w/ApplyMomentum"]
    assert apply_w.type == "ApplyMomentum"
    assert [t.name for t in apply_w.inputs] == [
        "w:0", "w/Momentum:0", "Momentum/learning_rate:0", gv[0][0].name, "Momentum/momentum:0"]
    assert ops["Momentum/update"].type == "NoOp"
    assert [c.name for c in ops["Momentum/update"].control_inputs] == [
        "Momentum/update_w/ApplyMomentum", "Momentum/update_b/ApplyMomentum"]
    assert [c.name for c in ops["Momentum/value"].control_inputs] == ["Momentum/update"]
    assert train is ops["Momentum"] and train.type == "AssignAdd"
    assert [t.name for t in train.inputs] == ["global_step:0", "Momentum/value:0"]
    assert tf.get_collection(GraphKeys.TRAIN_OP) == [train]
    second = opt.apply_gradients(gv, name="second")
    assert second.name == "second" and second.type == "NoOp"
    assert [c.name for c in second.control_inputs] == [
        "second/update_w/ApplyMomentum", "second/update_b/ApplyMomentum"]
    third = opt.apply_gradients(gv)
    assert third.name == "Momentum_1"
    assert tf.get_collection(GraphKeys.TRAIN_OP) == [train, second, third]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(train) is None
        # d/dw (3w + b)^2 = 6 * 3.5 = 21, d/db = 7; first momentum step: var -= 0.1 * g
        np.testing.assert_allclose(sess.run([w, b, gs]), [1 - 2.1, 0.5 - 0.7, 1], rtol=1e-6)


def test_adam_finish_structure():
    w = _w()
    b = tf.Variable([0.0], name="b")
    opt = tf.train.AdamOptimizer()
    train = opt.apply_gradients([(tf.constant([1.0, 1.0, 1.0]), w), (tf.constant([1.0]), b)])
    g = tf.get_default_graph()
    mul, assign = g.get_operation_by_name("Adam/mul"), g.get_operation_by_name("Adam/Assign")
    assert mul.type == "Mul" and assign.type == "Assign"
    assert [t.name for t in mul.inputs] == ["beta1_power/read:0", "Adam/beta1:0"]
    assert [c.name for c in mul.control_inputs] == ["Adam/update_w/ApplyAdam",
                                                    "Adam/update_b/ApplyAdam"]
    assert [t.name for t in assign.inputs] == ["beta1_power:0", "Adam/mul:0"]
    assert g.get_operation_by_name("Adam/Assign_1").inputs[1].name == "Adam/mul_1:0"
    assert train.name == "Adam"
    assert [c.name for c in train.control_inputs] == [
        "Adam/update_w/ApplyAdam", "Adam/update_b/ApplyAdam", "Adam/Assign", "Adam/Assign_1"]
    apply_w = g.get_operation_by_name("Adam/update_w/ApplyAdam")
    assert [t.name for t in apply_w.inputs][:9] == [
        "w:0", "w/Adam:0", "w/Adam_1:0", "beta1_power/read:0", "beta2_power/read:0",
        "Adam/learning_rate:0", "Adam/beta1:0", "Adam/beta2:0", "Adam/epsilon:0"]


@pytest.mark.parametrize("make,names", [
    (lambda: tf.train.GradientDescentOptimizer(0.1), ["learning_rate"]),
    (lambda: tf.train.AdadeltaOptimizer(), ["lr", "rho", "epsilon"]),
    (lambda: tf.train.RMSPropOptimizer(0.1), ["learning_rate", "decay", "momentum", "epsilon"]),
    (lambda: tf.train.FtrlOptimizer(0.1), [
        "learning_rate", "l1_regularization_strength", "adjusted_l2_regularization_strength",
        "beta", "l2_shrinkage_regularization_strength", "learning_rate_power"]),
])
def test_hyperparameter_constants(make, names):
    opt = make()
    n = len(tf.get_default_graph().get_operations())
    opt.apply_gradients([(tf.constant([1.0, 1.0, 1.0]), _w())])
    consts = [op.name for op in _ops_after(n) if op.type == "Const"
              and op.name.startswith(opt.get_name() + "/")]
    assert consts == ["%s/%s" % (opt.get_name(), x) for x in names]


def test_minimize_name_and_apply_once():
    w = tf.Variable(2.0, name="w")
    loss = w * w
    train = tf.train.GradientDescentOptimizer(0.25).minimize(loss, name="mytrain")
    assert train.name == "mytrain" and isinstance(train, tf.Operation)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        assert sess.run(w) == pytest.approx(2.0 - 0.25 * 4.0)


def test_ftrl_kernel_choice_and_adjusted_l2():
    w = _w()
    n = len(tf.get_default_graph().get_operations())
    tf.train.FtrlOptimizer(0.1, l2_regularization_strength=0.05, beta=0.2).apply_gradients(
        [(tf.constant([1.0, 1.0, 1.0]), w)])
    types = [op.type for op in _ops_after(n)]
    assert "ApplyFtrl" in types and "ApplyFtrlV2" not in types
    l2 = tf.get_default_graph().get_operation_by_name("Ftrl/adjusted_l2_regularization_strength")
    assert l2.get_attr("value") == pytest.approx(0.05 + 0.2 / (2 * 0.1))
    n = len(tf.get_default_graph().get_operations())
    tf.train.FtrlOptimizer(0.1, l2_shrinkage_regularization_strength=0.1).apply_gradients(
        [(tf.constant([1.0, 1.0, 1.0]), w)])
    assert "ApplyFtrlV2" in [op.type for op in _ops_after(n)]


# --- hyperparameters -------------------------------------------------------------------
def _momentum_run(lr, momentum, feeds=None):
    w = _w()
    opt = tf.train.MomentumOptimizer(lr, momentum)
    g = tf.placeholder(tf.float32, [3])
    train = opt.apply_gradients([(g, w)])
    out = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for grad in (G1, G2):
            fd = dict(feeds or {})
            fd[g] = grad
            sess.run(train, fd)
            out.append(sess.run(w))
    return out


def test_hyperparameters_as_tensor_variable_callable():
    want = _momentum_run(0.1, 0.9)
    np.testing.assert_allclose(want[1], DENSE["momentum"][2]["w"], **F32)
    np.testing.assert_array_equal(_momentum_run(tf.constant(0.1), tf.constant(0.9)), want)
    tf.reset_default_graph()
    lr = tf.Variable(0.1, name="lr", trainable=False)
    np.testing.assert_array_equal(_momentum_run(lr, 0.9), want)
    tf.reset_default_graph()
    calls = []

    def lr_fn():
        calls.append(1)
        return 0.1
    np.testing.assert_array_equal(_momentum_run(lr_fn, lambda: 0.9), want)
    assert calls == [1]  # called once, when apply_gradients built the update
    tf.reset_default_graph()
    p = tf.placeholder(tf.float32, [])
    np.testing.assert_array_equal(_momentum_run(p, 0.9, {p: 0.1}), want)


def test_hyperparameters_cast_to_float64_variable():
    w = tf.Variable(np.array([1.0, -2.0, 0.5]), name="w")
    g = tf.placeholder(tf.float64, [3])
    opt = tf.train.AdamOptimizer(0.1)
    train = opt.apply_gradients([(g, w)])
    apply = tf.get_default_graph().get_operation_by_name("Adam/update_w/ApplyAdam")
    assert apply.inputs[5].op.type == "Cast" and apply.inputs[5].dtype == tf.float64
    state = [np.array([1.0, -2.0, 0.5]), np.zeros(3), np.zeros(3)]
    b1p, b2p = np.float64(np.float32(0.9)), np.float64(np.float32(0.999))
    h = [np.float64(np.float32(x)) for x in (0.1, 0.9, 0.999, 1e-8)]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for grad in (G1, G2):
            sess.run(train, {g: grad})
            state = R.adam(*state, np.array(grad), b1p, b2p, *h)
            b1p, b2p = np.float32(b1p) * np.float32(0.9), np.float32(b2p) * np.float32(0.999)
            np.testing.assert_allclose(sess.run(w), state[0], rtol=1e-7)


# --- sparse (§6) ---------------------------------------------------------------------------
def _embedding():
    emb = tf.Variable(np.arange(8, dtype=np.float32).reshape(4, 2) / 10, name="emb")
    loss = tf.reduce_sum(tf.gather(emb, [0, 2, 0]) * tf.constant([[1.0, 2], [3, 4], [5, 6]]))
    return emb, loss


@pytest.mark.parametrize("key", sorted(SPARSE))
def test_two_sparse_steps_match_spec(key):
    make, step1, step2, slots = SPARSE[key]
    emb, loss = _embedding()
    opt = make()
    gv = opt.compute_gradients(loss)
    assert isinstance(gv[0][0], tf.IndexedSlices)
    train = opt.apply_gradients(gv)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before = {n: sess.run(opt.get_slot(emb, n)) for n in opt.get_slot_names()}
        sess.run(train)
        np.testing.assert_allclose(sess.run(emb), np.float32(step1), **F32)
        sess.run(train)
        np.testing.assert_allclose(sess.run(emb), np.float32(step2), **F32)
        for name, want in slots.items():
            np.testing.assert_allclose(sess.run(opt.get_slot(emb, name)), want, **F32)
        if key in ("adagrad", "rmsprop", "momentum"):  # untouched rows keep their slots
            for name, value in before.items():
                np.testing.assert_array_equal(sess.run(opt.get_slot(emb, name))[[1, 3]],
                                              value[[1, 3]])


@pytest.mark.parametrize("key,types", [
    ("gd", ["Mul", "ScatterSub"]),
    ("momentum", ["Unique", "UnsortedSegmentSum", "SparseApplyMomentum"]),
    ("adagrad", ["Unique", "UnsortedSegmentSum", "SparseApplyAdagrad"]),
    ("rmsprop", ["Unique", "UnsortedSegmentSum", "SparseApplyRMSProp"]),
    ("adam", ["Unique", "UnsortedSegmentSum", "ScatterAdd", "ScatterAdd", "AssignSub"]),
])
def test_sparse_op_types(key, types):
    emb, loss = _embedding()
    opt = SPARSE[key][0]()
    gv = opt.compute_gradients(loss)
    n = len(tf.get_default_graph().get_operations())
    opt.apply_gradients(gv)
    built = [op.type for op in _ops_after(n) if op.name.startswith(opt.get_name() + "/update_")]
    assert [t for t in built if t in types] == types
    assert not any(t.startswith("Apply") for t in built)


@pytest.mark.parametrize("make", [
    lambda: tf.train.AdadeltaOptimizer(1.0),
    lambda: tf.train.FtrlOptimizer(0.1, l1_regularization_strength=0.01),
    lambda: tf.train.FtrlOptimizer(0.1, l2_shrinkage_regularization_strength=0.1),
    lambda: tf.train.RMSPropOptimizer(0.1, momentum=0.5, centered=True),
    lambda: tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
])
def test_sparse_equals_dense_on_touched_rows(make):
    """Summed duplicate rows through the SparseApply kernel == the dense kernel on those
    rows; the other rows (and their slots) do not move."""
    init = np.arange(8, dtype=np.float32).reshape(4, 2) / 10
    results = []
    for sparse in (True, False):
        tf.reset_default_graph()
        emb = tf.Variable(init, name="emb")
        rows = tf.gather(emb, [0, 2, 0]) if sparse else tf.stack([emb[0], emb[2], emb[0]])
        loss = tf.reduce_sum(rows * tf.constant([[1.0, 2], [3, 4], [5, 6]]))
        opt = make()
        train = opt.minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            start = {n: sess.run(opt.get_slot(emb, n)) for n in opt.get_slot_names()}
            sess.run(train)
            sess.run(train)
            results.append([sess.run(emb)] + [sess.run(opt.get_slot(emb, n))
                                              for n in opt.get_slot_names()])
    for sparse_val, dense_val in zip(*results):
        np.testing.assert_allclose(sparse_val[[0, 2]], dense_val[[0, 2]], **F32)
    np.testing.assert_array_equal(results[0][0][[1, 3]], init[[1, 3]])
    for got, name in zip(results[0][1:], sorted(start)):
        np.testing.assert_array_equal(got[[1, 3]], start[name][[1, 3]])


# --- other paths ------------------------------------------------------------------------
def test_constraint_applied_after_update():
    w = tf.Variable([1.0, -2.0], name="w", constraint=lambda v: tf.clip_by_value(v, -1.0, 1.0))
    train = tf.train.GradientDescentOptimizer(1.0).minimize(tf.reduce_sum(w * [-1.0, 1.0]))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        np.testing.assert_array_equal(sess.run(w), [1.0, -1.0])


def test_constraint_with_sparse_gradient_raises():
    emb = tf.Variable(np.zeros((3, 2), np.float32), name="emb", constraint=lambda v: v)
    loss = tf.reduce_sum(tf.gather(emb, [1]))
    with pytest.raises(RuntimeError, match="Cannot use a constraint function on a sparse"):
        tf.train.AdagradOptimizer(0.1).minimize(loss)


def test_none_gradients_skipped_and_unconnected_variables():
    w = tf.Variable(1.0, name="w")
    u = tf.Variable(3.0, name="u")
    i = tf.Variable(2, name="i")
    opt = tf.train.MomentumOptimizer(0.5, 0.0)
    gv = opt.compute_gradients(w * 2.0, var_list=[[w], (u, [i])])
    assert [v for _, v in gv] == [w, u, i]
    assert gv[1][0] is None and gv[2][0] is None
    train = opt.apply_gradients(gv)
    assert opt.get_slot(u, "momentum") is None  # no slot for a variable without gradient
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        assert sess.run([w, u, i]) == [0.0, 3.0, 2]


def test_callable_loss_uses_gradient_tape():
    w = tf.Variable(2.0, name="w")
    c = tf.Variable(5.0, name="c", trainable=False)
    opt = tf.train.GradientDescentOptimizer(0.1)
    gv = opt.compute_gradients(lambda: w * w * c)
    assert [v for _, v in gv] == [w]
    gv2 = opt.compute_gradients(lambda: w * w * c, var_list=[w, c])
    train = opt.apply_gradients(gv2)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(gv[0][0]) == pytest.approx(20.0)
        sess.run(train)
        assert sess.run([w, c]) == pytest.approx([2.0 - 2.0, 5.0 - 0.4], abs=1e-6)


def test_grad_loss_and_aggregation_method():
    w = tf.Variable([1.0, 2.0], name="w")
    loss = w * w
    opt = tf.train.GradientDescentOptimizer(0.1)
    gv = opt.compute_gradients(loss, grad_loss=tf.constant([1.0, 0.5]),
                               aggregation_method=tf.AggregationMethod.ADD_N)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(gv[0][0]), [2.0, 2.0])


def test_gradient_descent_float16():
    w = tf.Variable(np.array([1.0, -2.0, 0.5], np.float16), name="w")
    g = tf.placeholder(tf.float16, [3])
    train = tf.train.GradientDescentOptimizer(0.1).apply_gradients([(g, w)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, {g: np.array(G1, np.float16)})
        got = sess.run(w)
    assert got.dtype == np.float16
    np.testing.assert_allclose(got, [0.99, -1.98, 0.47], rtol=1e-3)


# --- errors (§1) -------------------------------------------------------------------------
def test_constructor_errors():
    with pytest.raises(ValueError, match="^Must specify the optimizer name$"):
        tf.train.GradientDescentOptimizer(0.1, name="")
    with pytest.raises(ValueError, match=r"^initial_accumulator_value must be positive: 0.0$"):
        tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.0)
    cases = [
        (dict(initial_accumulator_value=-1.0),
         "initial_accumulator_value -1.000000 needs to be positive or zero"),
        (dict(learning_rate_power=0.5),
         "learning_rate_power 0.500000 needs to be negative or zero"),
        (dict(l1_regularization_strength=-1.0),
         "l1_regularization_strength -1.000000 needs to be positive or zero"),
        (dict(l2_regularization_strength=-1.0),
         "l2_regularization_strength -1.000000 needs to be positive or zero"),
        (dict(l2_shrinkage_regularization_strength=-1.0),
         "l2_shrinkage_regularization_strength -1.000000 needs to be positive or zero"),
    ]
    for kwargs, msg in cases:
        with pytest.raises(ValueError) as e:
            tf.train.FtrlOptimizer(0.1, **kwargs)
        assert str(e.value) == msg
    assert tf.train.MomentumOptimizer(0.1, 0.9).get_name() == "Momentum"
    assert (tf.train.Optimizer.GATE_NONE, tf.train.Optimizer.GATE_OP,
            tf.train.Optimizer.GATE_GRAPH) == (0, 1, 2)


def test_compute_gradients_errors():
    w = tf.Variable(1.0, name="w")
    opt = tf.train.GradientDescentOptimizer(0.1)
    with pytest.raises(ValueError) as e:
        opt.compute_gradients(w * 2.0, gate_gradients=3)
    assert str(e.value) == ("gate_gradients must be one of: Optimizer.GATE_NONE, "
                            "Optimizer.GATE_OP, Optimizer.GATE_GRAPH.  Not 3")
    iloss = tf.constant(2) * tf.constant(3)
    with pytest.raises(ValueError) as e:
        opt.compute_gradients(iloss)
    assert str(e.value) == ("Invalid type tf.int32 for %s, expected: [tf.float32, tf.float64, "
                            "tf.float16, tf.bfloat16]." % iloss.name)
    with pytest.raises(ValueError, match="^No variables to optimize.$"):
        opt.compute_gradients(w * 2.0, var_list=[])
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="^No variables to optimize.$"):
            opt.compute_gradients(tf.constant(1.0) * 2.0)


def test_apply_gradients_errors():
    w = tf.Variable(1.0, name="w")
    opt = tf.train.GradientDescentOptimizer(0.1)
    with pytest.raises(ValueError, match="^No variables provided.$"):
        opt.apply_gradients([])
    with pytest.raises(ValueError) as e:
        opt.apply_gradients(iter([(None, w)]))
    assert str(e.value) == ("No gradients provided for any variable: "
                            "[\"<tf.Variable 'w:0' shape=() dtype=float32_ref>\"].")
    with pytest.raises(TypeError, match="Gradient must be convertible to a Tensor or "
                                        "IndexedSlices, or None: "):
        opt.apply_gradients([(object(), w)])
    with pytest.raises(TypeError):
        opt.apply_gradients([(tf.constant(1.0, tf.float64), w)])
    with pytest.raises(NotImplementedError, match="Trying to update a Tensor"):
        opt.apply_gradients([(tf.constant(1.0), tf.constant(2.0))])


def test_minimize_without_gradients():
    w = tf.Variable(1.0, name="w")
    loss = tf.constant(1.0) * tf.constant(2.0)
    with pytest.raises(ValueError) as e:
        tf.train.GradientDescentOptimizer(0.1).minimize(loss, var_list=[w])
    assert str(e.value) == (
        "No gradients provided for any variable, check your graph for ops that do not support "
        "gradients, between variables [\"<tf.Variable 'w:0' shape=() dtype=float32_ref>\"] and "
        "loss %s." % loss)
