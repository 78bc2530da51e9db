"""Keras-style optimizers (OptimizerV2) in graph mode: spec keras_optimizer_v2.md.

Numbers come from the spec's verified 2-step table (§6), optimizers.md §5 (Ftrl),
or from the independent NumPy formulas in np_keras.py; names, errors and
method behaviour from §1-§4.
"""
import numpy as np
import pytest

import graphflow as tf
from graphflow.keras import optimizers as K
from graphflow.ops import keras_training_ops as KO

from . import np_keras as R

F32 = dict(rtol=2e-6, atol=1e-7)
G1 = np.array([0.1, -0.2, 0.3], np.float32)
G2 = np.array([-0.5, 0.05, 0.0], np.float32)
W0 = np.array([1.0, -2.0, 0.5], np.float32)

# spec §6: optimizer -> (after step 1, after step 2); "w" is the variable.
SPEC = {
    "SGD(0.1)": (lambda: K.SGD(0.1),
                 {"w": [0.99000001, -1.98000002, 0.469999999]},
                 {"w": [1.03999996, -1.98500001, 0.469999999]}),
    "SGD(0.1, momentum=0.9)": (
        lambda: K.SGD(0.1, momentum=0.9),
        {"w": [0.99000001, -1.98000002, 0.469999999],
         "momentum": [-0.0100000007, 0.0200000014, -0.0300000012]},
        {"w": [1.03100002, -1.96700001, 0.442999989],
         "momentum": [0.0410000011, 0.0130000003, -0.0270000007]}),
    "SGD(callable lr, tensor momentum)": (  # same numbers as SGD(0.1, momentum=0.9)
        lambda: K.SGD(lambda: 0.1, momentum=tf.constant(0.9)),
        {"w": [0.99000001, -1.98000002, 0.469999999],
         "momentum": [-0.0100000007, 0.0200000014, -0.0300000012]},
        {"w": [1.03100002, -1.96700001, 0.442999989],
         "momentum": [0.0410000011, 0.0130000003, -0.0270000007]}),
    "SGD(0.1, momentum=0.9, nesterov=True)": (
        lambda: K.SGD(0.1, momentum=0.9, nesterov=True),
        {"w": [0.981000006, -1.96200001, 0.442999989]},
        {"w": [1.06789994, -1.95529997, 0.41869998]}),
    "SGD(0.1, decay=0.5)": (lambda: K.SGD(0.1, decay=0.5),
                            {"w": [0.99000001, -1.98000002, 0.469999999]},
                            {"w": [1.02333331, -1.98333335, 0.469999999]}),
    "Adam(0.1)": (
        lambda: K.Adam(0.1),
        {"w": [0.900003135, -1.90000153, 0.400001049],
         "m": [0.0100000026, -0.0200000051, 0.0300000086],
         "v": [9.99987151e-06, 3.9999486e-05, 8.99988445e-05]},
        {"w": [0.959837973, -1.8530556, 0.33299616],
         "m": [-0.0410000086, -0.0130000021, 0.0270000063],
         "v": [0.000259986642, 4.24594546e-05, 8.99088482e-05]}),
    "Adam(0.1, amsgrad=True)": (
        lambda: K.Adam(0.1, amsgrad=True),
        {"w": [0.900003135, -1.90000153, 0.400001049],
         "vhat": [9.99987151e-06, 3.9999486e-05, 8.99988445e-05]},
        {"w": [0.959837973, -1.8530556, 0.333029658],
         "vhat": [0.000259986642, 4.24594546e-05, 8.99988445e-05]}),
    "Adagrad(0.1)": (
        lambda: K.Adagrad(0.1),
        {"w": [0.969848871, -1.94654775, 0.431175292],
         "accumulator": [0.109999999, 0.140000001, 0.189999998]},
        {"w": [1.05318213, -1.95979309, 0.431175292],
         "accumulator": [0.360000014, 0.142499998, 0.189999998]}),
    "RMSprop(0.1)": (
        lambda: K.RMSprop(0.1),
        {"w": [0.683773279, -1.6837728, 0.183772564],
         "rms": [0.00100000028, 0.00400000112, 0.00900000241]},
        {"w": [0.99445796, -1.76435494, 0.183772564],
         "rms": [0.0259000063, 0.00385000091, 0.00810000207]}),
    "RMSprop(0.1, momentum=0.5)": (
        lambda: K.RMSprop(0.1, momentum=0.5),
        {"w": [0.683788061, -1.68377626, 0.183774024],
         "momentum": [0.316211939, -0.31622377, 0.316225976]},
        {"w": [0.836366296, -1.60624564, 0.0256610364],
         "momentum": [-0.152578264, -0.0775306374, 0.158112988]}),
    "RMSprop(0.1, centered=True)": (
        lambda: K.RMSprop(0.1, centered=True),
        {"w": [0.666667819, -1.66666722, 0.166667044],
         "mg": [0.0100000026, -0.0200000051, 0.0300000086]},
        {"w": [0.987953663, -1.74907839, 0.166667044],
         "mg": [-0.0410000086, -0.013000004, 0.0270000063]}),
    "Adadelta(1.0)": (
        lambda: K.Adadelta(1.0),
        {"w": [0.998585939, -1.99858582, 0.49858579],
         "accum_grad": [0.00050000014, 0.00200000056, 0.0045000012],
         "accum_var": [9.99799923e-08, 9.99949989e-08, 9.99977843e-08]},
        {"w": [1.00054884, -1.99908268, 0.49858579],
         "accum_var": [2.876385e-07, 1.07340014e-07, 9.4997894e-08]}),
    # "identical to TF1 Ftrl(0.1)": optimizers.md §5
    "Ftrl(0.1)": (
        lambda: K.Ftrl(0.1),
        {"w": [0.0163862742, -0.256239265, 0.0684371516],
         "accumulator": [0.109999999, 0.140000001, 0.189999998],
         "linear": [-0.0543471202, 0.958759606, -0.298310637]},
        {"w": [0.0997196063, -0.26948458, 0.0684371516],
         "accumulator": [0.360000014, 0.142499998, 0.189999998],
         "linear": [-0.598317623, 1.01728201, -0.298310637]}),
    "Ftrl(0.1, l2=0.05, l2_shrinkage=0.1)": (
        lambda: K.Ftrl(0.1, l2_regularization_strength=0.05,
                       l2_shrinkage_regularization_strength=0.1),
        {"w": [-0.0426306389, -0.145447522, 0.0444752499],
         "linear": [0.14565289, 0.55875957, -0.198310643]},
        {"w": [0.0407343023, -0.150843903, 0.0424803495],
         "linear": [-0.248479247, 0.584507585, -0.189415589]}),
}


def _two_steps(make, grads=(G1, G2), dtype=tf.float32):
    w = tf.Variable(W0.astype(dtype.as_numpy_dtype), name="w")
    g = tf.placeholder(dtype, [3])
    opt = make()
    step = opt.apply_gradients([(g, w)])
    out = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for grad in grads:
            assert sess.run(step, {g: grad}) is None
            state = {"w": w}
            state.update({n: opt.get_slot(w, n) for n in opt.get_slot_names()})
            out.append(sess.run(state))
        out.append(sess.run(opt.iterations))
    return opt, step, out


@pytest.mark.parametrize("key", sorted(SPEC))
def test_two_steps_match_spec_table(key):
    make, want1, want2 = SPEC[key]
    _, step, (got1, got2, iterations) = _two_steps(make)
    for got, want in ((got1, want1), (got2, want2)):
        for name, value in want.items():
            np.testing.assert_allclose(got[name], np.float32(value), err_msg=name, **F32)
    assert iterations == 2
    assert isinstance(step, tf.Operation) and step.type == "AssignAdd"


@pytest.mark.parametrize("make,ref", [
    (lambda: K.Adamax(0.1), lambda s, g, t, c: (R.adamax(s, g, t), c)),
    (lambda: K.Nadam(0.1), lambda s, g, t, c: R.nadam(s, g, t, c)),
    (lambda: K.SGD(0.05, momentum=0.7, nesterov=True),
     lambda s, g, t, c: (R.sgd(s, g, t, 0.05, 0.7, True), c)),
    (lambda: K.RMSprop(0.1, rho=0.8, centered=True),
     lambda s, g, t, c: (R.rmsprop(s, g, t, rho=0.8, centered=True), c)),
    (lambda: K.Adam(0.1, amsgrad=True), lambda s, g, t, c: (R.adam(s, g, t, amsgrad=True), c)),
], ids=["Adamax", "Nadam", "SGD-nesterov", "RMSprop-centered", "Adam-amsgrad"])
def test_several_steps_match_numpy(make, ref):
    rng = np.random.RandomState(3)
    grads = [rng.uniform(-1, 1, 3).astype(np.float32) for _ in range(5)]
    opt, _, got = _two_steps(make, grads)
    state = {"var": W0.copy()}
    state.update({n: np.zeros(3, np.float32) for n in opt.get_slot_names()})
    cache = np.float32(1)
    for t, (g, step) in enumerate(zip(grads, got[:-1]), start=1):
        new, cache = ref(state, g, t, cache)
        state.update(new)
        np.testing.assert_allclose(step["w"], state["var"], rtol=1e-5, atol=1e-6)
        for n in opt.get_slot_names():
            np.testing.assert_allclose(step[n], state[n], rtol=1e-5, atol=1e-7, err_msg=n)


def test_nadam_momentum_cache_weight():
    opt, _, _ = _two_steps(lambda: K.Nadam(0.1))
    names = [v.name for v in opt.weights]
    assert names == ["Nadam/iter:0", "Nadam/momentum_cache:0", "Nadam/w/m:0", "Nadam/w/v:0"]
    assert opt.get_config() == {"name": "Nadam", "learning_rate": np.float32(0.1),
                                "decay": 0.004, "beta_1": np.float32(0.9),
                                "beta_2": np.float32(0.999), "epsilon": 1e-07}


def test_float64_variables():
    _, _, (got1, got2, _) = _two_steps(lambda: K.Adam(0.1), dtype=tf.float64)
    state = {"var": W0.astype(np.float64), "m": np.zeros(3), "v": np.zeros(3)}
    for t, (g, got) in enumerate(((G1, got1), (G2, got2)), start=1):
        g = g.astype(np.float64)
        b1p, b2p = 0.9 ** t, 0.999 ** t
        state["m"] = state["m"] + (g - state["m"]) * 0.1
        state["v"] = state["v"] + (g * g - state["v"]) * (1 - 0.999)
        alpha = 0.1 * np.sqrt(1 - b2p) / (1 - b1p)
        state["var"] = state["var"] - state["m"] * alpha / (np.sqrt(state["v"]) + 1e-7)
        assert got["w"].dtype == np.float64
        np.testing.assert_allclose(got["w"], state["var"], rtol=1e-7)


# --- sparse gradients ----------------------------------------------------------------------------
def _sparse_run(make, ids=(0, 0, 2), steps=2):
    e = tf.Variable(np.arange(1.0, 7.0, dtype=np.float32).reshape(3, 2) / 4, name="e")
    loss = tf.reduce_sum(tf.gather(e, list(ids)) * tf.constant([[1.0, -2.0]] * len(ids)))
    opt = make()
    grad = tf.gradients(loss, [e])[0]
    assert isinstance(grad, tf.IndexedSlices)
    step = opt.apply_gradients([(grad, e)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(steps):
            sess.run(step)
        return sess.run(e), {n: sess.run(opt.get_slot(e, n)) for n in opt.get_slot_names()}


def test_sparse_sgd_spec_example():
    e = tf.Variable(tf.ones([3, 2]), name="e")
    opt = K.SGD(0.1)
    grad = tf.gradients(tf.reduce_sum(tf.gather(e, [0, 0])), [e])[0]
    step = opt.apply_gradients([(grad, e)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        np.testing.assert_allclose(sess.run(e), [[0.8, 0.8], [1, 1], [1, 1]], rtol=1e-6)


def _dense_grad(ids):
    g = np.zeros((3, 2), np.float32)
    for i in ids:
        g[i] += [1.0, -2.0]
    return g


@pytest.mark.parametrize("make,ref,rows_only", [
    (lambda: K.SGD(0.1, momentum=0.9), lambda s, g, t: R.sgd(s, g, t, 0.1, 0.9), True),
    (lambda: K.Adagrad(0.1), lambda s, g, t: R.adagrad(s, g, t), True),
    (lambda: K.Adamax(0.1), lambda s, g, t: R.adamax(s, g, t), True),
    (lambda: K.Adam(0.1), lambda s, g, t: R.adam(s, g, t), False),
    (lambda: K.Adam(0.1, amsgrad=True), lambda s, g, t: R.adam(s, g, t, amsgrad=True), False),
    (lambda: K.RMSprop(0.1), lambda s, g, t: R.rmsprop(s, g, t), "rms"),
], ids=["SGD-momentum", "Adagrad", "Adamax", "Adam", "Adam-amsgrad", "RMSprop"])
def test_sparse_updates(make, ref, rows_only):
    """Duplicate ids are summed; row-wise kernels leave untouched rows alone, the
    composed Keras updates decay every row's slots (and move every Adam row)."""
    got_e, got_slots = _sparse_run(make)
    e0 = np.arange(1.0, 7.0, dtype=np.float32).reshape(3, 2) / 4
    g = _dense_grad((0, 0, 2))
    touched = np.array([True, False, True])
    state = {"var": e0.copy()}
    init = 0.1 if "accumulator" in got_slots else 0.0
    state.update({n: np.full((3, 2), init, np.float32) for n in got_slots})
    for t in (1, 2):
        new = ref(state, g, t)
        if rows_only is True:
            for k in new:
                new[k] = np.where(touched[:, None], new[k], state[k])
        elif rows_only == "rms":  # slots decay everywhere, var moves on the rows only
            new["var"] = np.where(touched[:, None], new["var"], state["var"])
        state.update(new)
    np.testing.assert_allclose(got_e, state["var"], rtol=1e-5, atol=1e-6)
    for n, value in got_slots.items():
        np.testing.assert_allclose(value, state[n], rtol=1e-5, atol=1e-7, err_msg=n)


# --- construction -------------------------------------------------------------------------------
def test_constructor_errors():
    with pytest.raises(TypeError, match="^Unexpected keyword argument passed to optimizer: foo$"):
        K.SGD(foo=1)
    with pytest.raises(ValueError, match=r"^Expected clipnorm >= 0, received: -1$"):
        K.Adam(clipnorm=-1)
    with pytest.raises(ValueError) as e:
        K.SGD(clipnorm=1, global_clipnorm=1)
    assert str(e.value) == ("Cannot accept both `clipnorm` and `global_clipnorm`, passed "
                            "`clipnorm` 1, `global_clipnorm` 1")
    with pytest.raises(ValueError, match=r"^`momentum` must be between \[0, 1\]\.$"):
        K.SGD(momentum=1.5)
    with pytest.raises(ValueError, match=r"^`momentum` must be between \[0, 1\]\.$"):
        K.RMSprop(momentum=-0.5)
    with pytest.raises(ValueError, match="^initial_accumulator_value must be non-negative: -1"):
        K.Adagrad(initial_accumulator_value=-1.0)
    with pytest.raises(ValueError, match="^initial_accumulator_value -1.000000 needs to be "
                                         "positive or zero$"):
        K.Ftrl(initial_accumulator_value=-1.0)
    with pytest.raises(ValueError, match="^learning_rate_power 0.500000 needs to be negative"):
        K.Ftrl(learning_rate_power=0.5)
    with pytest.raises(ValueError, match="^l2_shrinkage_regularization_strength -1.000000 "):
        K.Ftrl(l2_shrinkage_regularization_strength=-1.0)


def test_names_default_to_class_name_and_may_repeat():
    assert [K.SGD()._name, K.Adam()._name, K.RMSprop()._name, K.Adagrad()._name] == \
        ["SGD", "Adam", "RMSprop", "Adagrad"]
    assert K.RMSProp is K.RMSprop and K.legacy.Adam is K.Adam
    assert tf.optimizers.SGD is K.SGD and tf.keras.optimizers.Adam is K.Adam
    v = tf.Variable(1.0, name="v")
    a = K.SGD(0.1).apply_gradients([(tf.constant(1.0), v)])
    b = K.SGD(0.1).apply_gradients([(tf.constant(1.0), v)])
    assert a.name == "SGD/SGD/AssignAddVariableOp"
    assert b.name == "SGD_1/SGD/AssignAddVariableOp"


def test_lr_alias_and_hyper_reads_create_variables():
    opt = K.SGD(lr=0.5)
    lr = opt.lr
    assert isinstance(lr, tf.Variable) and lr is opt.learning_rate
    names = sorted(v.name for v in tf.global_variables())
    assert names == ["decay:0", "learning_rate:0", "momentum:0"]
    assert all(not v.trainable for v in tf.global_variables())
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(lr) == np.float32(0.5)
        with sess.as_default():
            opt.learning_rate = 0.7  # assigns into the existing variable
            assert opt.learning_rate is lr
            assert sess.run(lr) == np.float32(0.7)


def test_hyper_set_before_creation_replaces_value():
    opt = K.Adam(0.1)
    opt.learning_rate = 0.3
    opt.lr = 0.2
    assert opt._hyper["learning_rate"] == 0.2
    assert opt.get_config()["learning_rate"] == 0.2
    with pytest.raises(AttributeError):
        opt.not_a_hyper


def test_variables_created_by_apply_gradients():
    v = tf.Variable([1.0, 2.0], name="v")
    w = tf.Variable([3.0], name="w")
    opt = K.Adam(0.1)
    step = opt.apply_gradients([(tf.constant([0.1, 0.2]), v), (tf.constant([0.3]), w)])
    assert step.name == "Adam/Adam/AssignAddVariableOp"
    assert [x.name for x in opt.weights] == ["Adam/iter:0", "Adam/v/m:0", "Adam/w/m:0",
                                             "Adam/v/v:0", "Adam/w/v:0"]
    assert opt.variables() == opt.weights
    hypers = sorted(x.name for x in tf.global_variables() if x.name.startswith("Adam/")
                    and x not in opt.weights)
    assert hypers == ["Adam/beta_1:0", "Adam/beta_2:0", "Adam/decay:0", "Adam/learning_rate:0"]
    it = opt.iterations
    assert it.dtype.base_dtype == tf.int64 and it.shape.ndims == 0 and not it.trainable
    assert it in tf.global_variables() and it not in tf.trainable_variables()
    for slot in opt.weights[1:]:
        assert slot in tf.global_variables() and not slot.trainable
    assert opt.get_slot_names() == ["m", "v"]
    named = K.SGD(0.1).apply_gradients([(tf.constant([0.1, 0.2]), v)], name="mystep")
    assert named.name == "SGD/mystep/AssignAddVariableOp"
    update_ops = [op.name for op in tf.get_default_graph().get_operations()
                  if op.type == "ApplyAdam"]
    assert update_ops == ["Adam/Adam/update_v/ApplyAdam", "Adam/Adam/update_w/ApplyAdam"]


def test_iterations_at_top_level_and_setter():
    opt = K.SGD()
    assert opt.iterations.name == "iter:0"
    with pytest.raises(RuntimeError, match="^Cannot set `iterations` to a new Variable after the "
                                           "Optimizer weights have been created$"):
        opt.iterations = tf.Variable(0, dtype=tf.int64)
    opt2 = K.SGD()
    mine = tf.Variable(np.int64(5), name="mine", trainable=False)
    opt2.iterations = mine
    assert opt2.iterations is mine and opt2.weights == [mine]


def test_slot_api():
    v = tf.Variable([1.0, 2.0], name="v")
    u = tf.Variable(3.0, name="u")
    opt = K.SGD(0.1)
    foo = opt.add_slot(v, "foo")
    assert foo.name == "v/foo:0" and not foo.trainable
    assert opt.add_slot(v, "foo") is foo
    ones = opt.add_slot(v, "bar", "ones")
    fives = opt.add_slot(v, "baz", np.array([5.0, 5.0], np.float32))
    custom = opt.add_slot(v, "qux", tf.constant_initializer(2.0), shape=[3])
    assert custom.shape.as_list() == [3]
    assert opt.get_slot(v, "foo") is foo
    assert opt.get_slot_names() == ["foo", "bar", "baz", "qux"]
    with pytest.raises(KeyError) as e:
        opt.get_slot(u, "foo")
    assert e.value.args == ("u",)
    with pytest.raises(KeyError) as e:
        opt.get_slot(v, "nope")
    assert e.value.args == ("nope",)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run([foo, ones, fives, custom])
    for value, want in zip(got, ([0, 0], [1, 1], [5, 5], [2, 2, 2])):
        np.testing.assert_array_equal(value, want)


@pytest.mark.parametrize("make,names", [
    (lambda: K.Adam(), ["m", "v"]),
    (lambda: K.Adam(amsgrad=True), ["m", "v", "vhat"]),
    (lambda: K.RMSprop(momentum=0.5, centered=True), ["rms", "momentum", "mg"]),
    (lambda: K.SGD(momentum=0.0), []),
    (lambda: K.Ftrl(), ["accumulator", "linear"]),
    (lambda: K.Adadelta(), ["accum_grad", "accum_var"]),
])
def test_slot_names_in_creation_order(make, names):
    v = tf.Variable([1.0, 2.0], name="v")
    opt = make()
    opt.apply_gradients([(tf.constant([0.1, 0.2]), v)])
    assert opt.get_slot_names() == names


def test_add_weight():
    opt = K.SGD()
    with tf.name_scope("scope"):
        w = opt.add_weight("extra", shape=[2])
    assert w.name == "scope/extra:0" and w.dtype.base_dtype == tf.float32 and w.trainable
    assert w not in opt.weights
    w2 = opt.add_weight("ints", shape=[], dtype=tf.int64, trainable=False, initializer="ones")
    assert w2.dtype.base_dtype == tf.int64 and not w2.trainable
    sync = K.VariableSynchronization
    on_read = opt.add_weight("r", shape=[], synchronization=sync.ON_READ)
    assert not on_read.trainable
    with pytest.raises(ValueError, match="ON_READ only for non-trainable"):
        opt.add_weight("bad", shape=[], trainable=True, synchronization=sync.ON_READ)


def test_get_and_set_weights():
    v = tf.Variable([1.0, 2.0], name="v")
    g = tf.constant([0.1, -0.2])
    opt = K.SGD(0.1, momentum=0.9)
    step = opt.apply_gradients([(g, v)])
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    sess.run(step)
    sess.run(step)
    with pytest.raises(ValueError, match="default session"):
        opt.get_weights()
    with sess:  # entering a session makes it the default one
        weights = opt.get_weights()
        assert weights[0] == 2
        np.testing.assert_allclose(weights[1], [-0.019, 0.038], rtol=1e-6)
        opt.set_weights([np.int64(7), np.array([1.0, -1.0], np.float32)])
        assert sess.run(opt.iterations) == 7
        np.testing.assert_array_equal(sess.run(opt.get_slot(v, "momentum")), [1, -1])
        with pytest.raises(ValueError) as e:
            opt.set_weights([np.zeros(2)])
        assert str(e.value).startswith(
            "You called `set_weights(weights)` on optimizer SGD with a weight list of "
            "length 1, but the optimizer was expecting 2 weights. Provided weights: ")
        with pytest.raises(ValueError) as e:
            opt.set_weights([np.zeros(5), np.zeros(2)])
        assert str(e.value) == ("Optimizer weight shape () not compatible with provided "
                                "weight shape (5,)")


def test_apply_gradients_none_and_empty():
    v = tf.Variable(1.0, name="v")
    u = tf.Variable(2.0, name="u")
    opt = K.SGD(0.5)
    with pytest.raises(ValueError) as e:
        opt.apply_gradients([(None, v)])
    assert str(e.value) == "No gradients provided for any variable: ['v:0']."
    step = opt.apply_gradients([(None, v), (tf.constant(1.0), u)])
    noop = K.Adam().apply_gradients([])
    assert noop.type == "NoOp"
    made = [x.name for x in tf.global_variables() if x.name.startswith("Adam/")]
    assert "Adam/iter:0" in made and "Adam/learning_rate:0" in made
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        assert sess.run([v, u]) == [1.0, 1.5]
    with pytest.raises(NotImplementedError):
        K.SGD().apply_gradients([(tf.constant(1.0), tf.constant(2.0))])


def test_invalid_dtype():
    i = tf.Variable(3, name="i")
    with pytest.raises(ValueError, match="^Invalid type .*int32.* for i:0, expected: "):
        K.SGD().apply_gradients([(tf.constant(1), i)])
    with pytest.raises(ValueError, match="^Invalid type .*int32.* for Const.*, expected: "):
        K.SGD()._assert_valid_dtypes([tf.constant(1)])


def test_minimize_spec_example():
    v = tf.Variable(2.0, name="v")
    opt = K.SGD(0.1)
    step1 = opt.minimize(lambda: v * v, [v])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step1)
        assert sess.run(v) == pytest.approx(1.6, rel=1e-6)
        step2 = opt.minimize(lambda: v * v, var_list=lambda: [v])
        sess.run(step2)
        assert sess.run(v) == pytest.approx(1.28, rel=1e-6)
        step3 = opt.minimize(lambda: v * v, [v], grad_loss=10.0)
        sess.run(step3)
        assert sess.run(v) == pytest.approx(1.28 - 0.1 * 10 * 2.56, rel=1e-5)
        assert sess.run(opt.iterations) == 3
    grad_ops = [op.name for op in tf.get_default_graph().get_operations()
                if op.name.startswith("SGD/gradients/")]
    assert grad_ops


def test_minimize_tensor_loss_needs_tape():
    v = tf.Variable(2.0, name="v")
    opt = K.SGD(0.25)
    with pytest.raises(ValueError, match="^`tape` is required when a `Tensor` loss is passed.$"):
        opt.minimize(v * v, [v])
    with tf.GradientTape() as tape:
        loss = v * v * v
    step = opt.minimize(loss, [v], tape=tape)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        assert sess.run(v) == pytest.approx(2.0 - 0.25 * 12.0)


def test_minimize_var_list_callable_sees_variables_made_by_loss():
    opt = K.SGD(0.1)
    made = []

    def loss():
        w = tf.Variable(3.0, name="late")
        made.append(w)
        return w * w
    step = opt.minimize(loss, var_list=lambda: made)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        assert sess.run(made[0]) == pytest.approx(3.0 - 0.1 * 6.0)


def test_get_gradients_and_get_updates():
    v = tf.Variable(2.0, name="v")
    u = tf.Variable(1.0, name="u")
    opt = K.SGD(0.1)
    grads = opt.get_gradients(v * v, [v])
    assert grads[0].op.name.startswith("SGD/gradients/")
    with pytest.raises(ValueError) as e:
        opt.get_gradients(v * v, [v, u])
    assert str(e.value) == (
        "Variable %r has `None` for gradient. Please make sure that all of your ops have a "
        "gradient defined (i.e. are differentiable). Common ops without gradient: K.argmax, "
        "K.round, K.eval." % u)
    assert repr(u).startswith("<tf.Variable 'u:0' shape=() dtype=float32")
    updates = opt.get_updates(v * v, [v])
    assert isinstance(updates, list) and len(updates) == 1
    assert isinstance(updates[0], tf.Operation)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(updates)
        assert sess.run(v) == pytest.approx(1.6)


# --- config --------------------------------------------------------------------------------------
def test_get_config_examples():
    v = tf.Variable([1.0], name="v")
    adam = K.Adam(0.1)
    adam.apply_gradients([(tf.constant([1.0]), v)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with sess.as_default():
            cfg = adam.get_config()
    f = np.float32  # hyper values are read back from their float32 variables
    assert cfg == {"name": "Adam", "learning_rate": f(0.1), "decay": 0.0, "beta_1": f(0.9),
                   "beta_2": f(0.999), "epsilon": 1e-07, "amsgrad": False}
    assert list(cfg) == ["name", "learning_rate", "decay", "beta_1", "beta_2", "epsilon",
                         "amsgrad"]
    assert isinstance(cfg["learning_rate"], np.float32)
    assert K.SGD(0.1, momentum=0.9, nesterov=True).get_config() == {
        "name": "SGD", "learning_rate": 0.1, "decay": 0.0, "momentum": 0.9, "nesterov": True}
    assert K.RMSprop().get_config() == {
        "name": "RMSprop", "learning_rate": 0.001, "decay": 0.0, "rho": 0.9, "momentum": 0.0,
        "epsilon": 1e-07, "centered": False}
    assert K.Adagrad().get_config() == {
        "name": "Adagrad", "learning_rate": 0.001, "decay": 0.0,
        "initial_accumulator_value": 0.1, "epsilon": 1e-07}
    assert K.Adam(clipnorm=1.0, clipvalue=0.5).get_config()["clipnorm"] == 1.0
    assert "clipnorm" not in K.Adam().get_config()
    assert K.SGD(global_clipnorm=2.0).get_config()["global_clipnorm"] == 2.0


def test_get_config_without_session_uses_creation_values():
    opt = K.Adam(0.1)
    opt.apply_gradients([(tf.constant([1.0]), tf.Variable([1.0], name="v"))])
    assert opt.get_config()["learning_rate"] == np.float32(0.1)


def test_from_config_round_trip():
    v = tf.Variable([1.0], name="v")
    opt = K.Adam(0.1)
    opt.apply_gradients([(tf.constant([1.0]), v)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with sess.as_default():
            cfg = opt.get_config()
    assert K.Adam.from_config(cfg).get_config() == cfg
    sgd = K.SGD.from_config({"name": "S", "lr": 0.3, "momentum": 0.5})
    assert sgd.get_config()["learning_rate"] == 0.3 and sgd._name == "S"
    ada = K.Adagrad.from_config({"learning_rate": 0.2})
    assert ada.get_config()["initial_accumulator_value"] == 0.1
    assert K.deserialize(K.serialize(K.RMSprop(0.2))).get_config() == \
        K.RMSprop(0.2).get_config()
    assert isinstance(K.get("adam"), K.Adam)


def test_schedule_config_round_trip():
    sched = K.schedules.ExponentialDecay(0.1, 1, 0.5)
    opt = K.SGD(sched)
    cfg = opt.get_config()
    assert cfg["learning_rate"] == {"class_name": "ExponentialDecay", "config": {
        "initial_learning_rate": 0.1, "decay_steps": 1, "decay_rate": 0.5, "staircase": False,
        "name": None}}
    back = K.SGD.from_config(cfg)
    assert isinstance(back._hyper["learning_rate"], K.schedules.ExponentialDecay)
    assert back.get_config() == cfg
    with pytest.raises(ValueError, match="does not support"):
        K.Nadam(sched)


# --- learning rate ------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: K.SGD(K.schedules.ExponentialDecay(0.1, 1, 0.5)),
    lambda: K.SGD(0.1, decay=1.0),
    lambda: K.SGD(lambda: 0.1, decay=1.0),
    lambda: K.SGD(tf.constant(0.1), decay=1.0),
], ids=["schedule", "decay", "callable", "tensor"])
def test_learning_rate_decay_examples(make):
    v = tf.Variable(1.0, name="v")
    step = make().apply_gradients([(tf.constant(1.0), v)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        assert sess.run(v) == pytest.approx(0.9, rel=1e-6)
        sess.run(step)
        assert sess.run(v) == pytest.approx(0.85, rel=1e-6)


SCHEDULE_STEPS = [0, 1, 5, 9, 10, 11, 15, 25]


@pytest.mark.parametrize("sched,want", [  # spec training_utils.md §2 table
    (K.schedules.ExponentialDecay(0.1, 10, 0.5),
     [0.100000001, 0.0933033004, 0.0707106814, 0.0535886697, 0.0500000007, 0.0466516502,
      0.0353553407, 0.0176776703]),
    (K.schedules.InverseTimeDecay(0.1, 10, 0.5, staircase=True),
     [0.1, 0.1, 0.1, 0.1, 0.0666666701, 0.0666666701, 0.0666666701, 0.0500000007]),
    (K.schedules.PolynomialDecay(0.1, 10, 0.01, power=2.0),
     [0.100000001, 0.0828999951, 0.0324999988, 0.0108999992, 0.00999999978, 0.00999999978,
      0.00999999978, 0.00999999978]),
    (K.schedules.CosineDecay(0.1, 10, alpha=0.1),
     [0.100000001, 0.0977975428, 0.054999996, 0.0122024529, 0.0100000007, 0.0100000007,
      0.0100000007, 0.0100000007]),
    (K.schedules.CosineDecayRestarts(0.1, 10),
     [0.100000001, 0.0975528285, 0.049999997, 0.00244716997, 0.100000001, 0.0993844196,
      0.0853553414, 0.0146446619]),
    (K.schedules.LinearCosineDecay(0.1, 10),
     [0.100100003, 0.0878975466, 0.0250999983, 0.000344717002, 0.000100000005,
      0.000100000005, 0.000100000005, 0.000100000005]),
    (K.schedules.PiecewiseConstantDecay([5, 10], [1.0, 0.5, 0.1]),
     [1, 1, 1, 0.5, 0.5, 0.1, 0.1, 0.1]),
], ids=lambda x: type(x).__name__ if not isinstance(x, list) else "")
def test_schedules_match_decay_table(sched, want):
    step = tf.placeholder(tf.float32, [])
    lr = sched(step)
    with tf.Session() as sess:
        got = [sess.run(lr, {step: s}) for s in SCHEDULE_STEPS]
    np.testing.assert_allclose(got, np.float32(want), rtol=2e-6, atol=1e-8)
    assert type(sched).from_config(sched.get_config()).get_config() == sched.get_config()
    assert K.schedules.deserialize(K.schedules.serialize(sched)).get_config() == \
        sched.get_config()


# --- gradient transforms -----------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,expected", [
    ({"clipvalue": 0.5}, lambda g: np.clip(g, -0.5, 0.5)),
    ({"clipnorm": 1.0}, lambda g: g / max(1.0, np.linalg.norm(g))),
    ({"global_clipnorm": 1.0}, None),
])
def test_clipping(kwargs, expected):
    a = tf.Variable([0.0, 0.0], name="a")
    b = tf.Variable([0.0], name="b")
    ga, gb = np.array([3.0, -4.0], np.float32), np.array([0.25], np.float32)
    step = K.SGD(1.0, **kwargs).apply_gradients([(tf.constant(ga), a), (tf.constant(gb), b)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        got_a, got_b = sess.run([a, b])
    if expected is None:
        norm = np.sqrt(25.0 + 0.0625)
        want_a, want_b = ga / norm, gb / norm
    else:
        want_a, want_b = expected(ga), expected(gb)
    np.testing.assert_allclose(got_a, -want_a, rtol=1e-6)
    np.testing.assert_allclose(got_b, -want_b, rtol=1e-6)


def test_gradient_transformers_and_aggregator():
    v = tf.Variable(1.0, name="v")
    seen = []

    def double(gv):
        return [(g * 2.0, var) for g, var in gv]

    def agg(gv):
        seen.append(len(gv))
        return gv
    step = K.SGD(0.1, gradient_transformers=[double], gradient_aggregator=agg).apply_gradients(
        [(tf.constant(1.0), v)])
    assert seen == [1]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        assert sess.run(v) == pytest.approx(0.8)


def test_clipnorm_setters():
    opt = K.SGD(clipnorm=1.0)
    with pytest.raises(ValueError, match="`clipnorm` cannot be set when `global_clipnorm`"):
        opt.global_clipnorm = 2.0
    opt.clipnorm = None
    opt.global_clipnorm = 2.0
    assert opt.get_config()["global_clipnorm"] == 2.0


def test_constraint_is_applied_after_dense_update():
    v = tf.Variable([1.0, -1.0], name="v", constraint=lambda x: tf.clip_by_value(x, -0.5, 0.5))
    step = K.SGD(0.1).apply_gradients([(tf.constant([1.0, 1.0]), v)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        np.testing.assert_allclose(sess.run(v), [0.5, -0.5])


# --- the fused Keras ops directly (ops/keras_training_ops.py) -------------------------------------
def _np_ops(dt):
    one = dt.type(1)

    def keras_momentum(v, a, g, lr, m, nesterov=False):
        a = a * m - g * lr
        return (v + (a * m - g * lr) if nesterov else v + a), a

    def adagrad_v2(v, a, g, lr, eps):
        a = a + g * g
        return v - g * lr / (np.sqrt(a) + eps), a

    def amsgrad(v, m, s, h, g, b1p, b2p, lr, b1, b2, eps):
        alpha = lr * np.sqrt(one - b2p) / (one - b1p)
        m = m + (g - m) * (one - b1)
        s = s + (g * g - s) * (one - b2)
        h = np.maximum(h, s)
        return v - m * alpha / (np.sqrt(h) + eps), m, s, h

    def ada_max(v, m, u, g, b1p, lr, b1, b2, eps):
        m = m + (g - m) * (one - b1)
        u = np.maximum(b2 * u, np.abs(g))
        return v - lr / (one - b1p) * (m / (u + eps)), m, u

    def rms(v, ms, g, lr, rho, eps):
        ms = rho * ms + (one - rho) * (g * g)
        return v - lr * g / (np.sqrt(ms) + eps), ms

    def crms(v, mg, ms, g, lr, rho, eps):
        ms = rho * ms + (one - rho) * (g * g)
        mg = rho * mg + (one - rho) * g
        return v - lr * g / (np.sqrt(ms - mg * mg) + eps), mg, ms
    return dict(keras_momentum=keras_momentum, adagrad_v2=adagrad_v2, amsgrad=amsgrad,
                ada_max=ada_max, rms=rms, crms=crms)


OPS = {  # builder(var, slots, hyper consts, grad), slot count, hypers, numpy name
    "ApplyKerasMomentum": (lambda v, s, h, g: KO.apply_keras_momentum(v, s[0], h[0], g, h[1]),
                           1, [0.1, 0.9], "keras_momentum"),
    "ApplyAdagradV2": (lambda v, s, h, g: KO.apply_adagrad_v2(v, s[0], h[0], h[1], g), 1,
                       [0.1, 1e-3], "adagrad_v2"),
    "ApplyAdamWithAmsgrad": (lambda v, s, h, g: KO.apply_adam_with_amsgrad(v, *s, *h, g), 3,
                             [0.81, 0.998, 0.1, 0.9, 0.999, 1e-3], "amsgrad"),
    "ApplyAdaMax": (lambda v, s, h, g: KO.apply_ada_max(v, *s, *h, g), 2,
                    [0.81, 0.1, 0.9, 0.999, 1e-3], "ada_max"),
    "ApplyKerasRMSProp": (lambda v, s, h, g: KO.apply_keras_rms_prop(v, s[0], *h, g), 1,
                          [0.1, 0.9, 1e-3], "rms"),
    "ApplyKerasCenteredRMSProp": (
        lambda v, s, h, g: KO.apply_keras_centered_rms_prop(v, s[0], s[1], *h, g), 2,
        [0.1, 0.9, 1e-3], "crms"),
}
TOL = {np.float32: dict(rtol=2e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-14),
       np.float16: dict(rtol=2e-2, atol=2e-3)}


def _slots0(op_type, n, shape, dt, rng):
    """Positive accumulators; the centered mean gradient small next to ms."""
    lows = [(0.0, 0.1) if op_type == "ApplyKerasCenteredRMSProp" and k == 0 else (0.3, 0.6)
            for k in range(n)]
    return [np.asarray(rng.uniform(lo, hi, shape), dtype=dt) for lo, hi in lows]


@pytest.mark.parametrize("dt", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("op_type", sorted(OPS))
def test_fused_op_matches_numpy(op_type, dt):
    build, n, hyper, ref_name = OPS[op_type]
    rng = np.random.RandomState(7)
    shape = (2, 3)
    var0 = np.asarray(rng.uniform(-1, 1, shape), dt)
    slots0 = _slots0(op_type, n, shape, dt, rng)
    var = tf.Variable(var0, name="var")
    slots = [tf.Variable(s, name="slot") for s in slots0]
    h = [tf.constant(x, dtype=tf.as_dtype(dt)) for x in hyper]
    g = tf.placeholder(tf.as_dtype(dt))
    out = build(var, slots, h, g)
    assert out.op.type == op_type
    ref = _np_ops(np.dtype(dt))[ref_name]
    state = [var0] + slots0
    hyp = [dt(x) for x in hyper]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            grad = np.asarray(rng.uniform(-1, 1, shape), dt)
            sess.run(out, {g: grad})
            work = [x.astype(np.float32) if dt == np.float16 else x for x in state]
            hw = [np.float32(x) if dt == np.float16 else x for x in hyp]
            gw = grad.astype(np.float32) if dt == np.float16 else grad
            new = ref(*work, gw, *hw)
            state = [np.asarray(x, dt) for x in new]
            got = sess.run([var] + slots)
            for a, b in zip(got, state):
                np.testing.assert_allclose(a, b, **TOL[dt])


@pytest.mark.parametrize("op_type", ["SparseApplyKerasMomentum", "SparseApplyAdagradV2"])
def test_sparse_fused_ops_touch_listed_rows_only(op_type):
    rng = np.random.RandomState(1)
    var0 = rng.uniform(-1, 1, (4, 2)).astype(np.float32)
    acc0 = rng.uniform(0.3, 0.6, (4, 2)).astype(np.float32)
    var, acc = tf.Variable(var0, name="var"), tf.Variable(acc0, name="acc")
    grad = rng.uniform(-1, 1, (2, 2)).astype(np.float32)
    idx = np.array([3, 1], np.int32)
    lr = tf.constant(0.1)
    if op_type == "SparseApplyKerasMomentum":
        out = KO.sparse_apply_keras_momentum(var, acc, lr, grad, idx, tf.constant(0.9),
                                             use_nesterov=True)
        fn = lambda v, a, g: _np_ops(np.dtype(np.float32))["keras_momentum"](  # noqa: E731
            v, a, g, np.float32(0.1), np.float32(0.9), True)
    else:
        out = KO.sparse_apply_adagrad_v2(var, acc, lr, tf.constant(1e-3), grad, idx)
        fn = lambda v, a, g: _np_ops(np.dtype(np.float32))["adagrad_v2"](  # noqa: E731
            v, a, g, np.float32(0.1), np.float32(1e-3))
    want_v, want_a = var0.copy(), acc0.copy()
    for k, r in enumerate(idx):
        want_v[r], want_a[r] = fn(var0[r], acc0[r], grad[k])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(out)
        np.testing.assert_allclose(sess.run(var), want_v, rtol=2e-6, atol=1e-7)
        np.testing.assert_allclose(sess.run(acc), want_a, rtol=2e-6, atol=1e-7)
    bad = KO.sparse_apply_adagrad_v2(var, acc, lr, tf.constant(1e-3), grad, [0, 4])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.InvalidArgumentError, match="Index 4 at offset 1"):
            sess.run(bad)


def test_fused_op_shape_errors():
    var = tf.Variable(np.zeros(3, np.float32), name="var")
    acc = tf.Variable(np.zeros(2, np.float32), name="acc")
    with pytest.raises(ValueError):
        KO.apply_adagrad_v2(var, acc, 0.1, 1e-7, np.zeros(3, np.float32))
    acc3 = tf.Variable(np.zeros(3, np.float32), name="acc3")
    with pytest.raises(ValueError, match="rank"):
        KO.apply_adagrad_v2(var, acc3, [0.1, 0.2], 1e-7, np.zeros(3, np.float32))
