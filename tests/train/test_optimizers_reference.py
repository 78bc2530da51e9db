"""Optimizers against TensorFlow's ``compat.v1`` ones (the ``reference`` extra).

Same graph in both engines: three training steps on a dense loss and on an
embedding (IndexedSlices), then the variables, slots and non-slot variables
are compared by name, and the update ops by type. Skipped without TensorFlow.
"""
import os

import numpy as np
import pytest

import graphflow as gf

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tensorflow = pytest.importorskip("tensorflow", reason="needs the reference extra")
tf1 = tensorflow.compat.v1
tf1.disable_eager_execution()
tf1.disable_resource_variables()

pytestmark = pytest.mark.reference

OPTIMIZERS = {
    "gd": lambda tf: tf.train.GradientDescentOptimizer(0.1),
    "momentum": lambda tf: tf.train.MomentumOptimizer(0.05, 0.9),
    "nesterov": lambda tf: tf.train.MomentumOptimizer(0.05, 0.9, use_nesterov=True),
    "adagrad": lambda tf: tf.train.AdagradOptimizer(0.1),
    "adadelta": lambda tf: tf.train.AdadeltaOptimizer(1.0),
    "adam": lambda tf: tf.train.AdamOptimizer(0.1),
    "ftrl": lambda tf: tf.train.FtrlOptimizer(0.1, l1_regularization_strength=0.01,
                                              l2_regularization_strength=0.1),
    "ftrl_v2": lambda tf: tf.train.FtrlOptimizer(0.1, l2_shrinkage_regularization_strength=0.05),
    "rmsprop": lambda tf: tf.train.RMSPropOptimizer(0.05),
    "rmsprop_centered": lambda tf: tf.train.RMSPropOptimizer(0.05, momentum=0.5, centered=True),
}


def _train(tf, make, sparse):
    g = tf.Graph()
    with g.as_default():
        if sparse:
            w = tf.Variable(np.arange(8, dtype=np.float32).reshape(4, 2) / 10, name="w")
            rows = tf.gather(w, [0, 2, 0])
            loss = tf.reduce_sum(rows * rows * tf.constant([[1.0, 2], [3, 4], [5, 6]]))
        else:
            w = tf.Variable([1.0, -2.0, 0.5], name="w")
            b = tf.Variable(0.5, name="b")
            loss = tf.reduce_sum(tf.square(w * 3.0 + b))
        gs = tf.train.get_or_create_global_step()
        opt = make(tf)
        train = opt.minimize(loss, global_step=gs)
        types = sorted(op.type for op in g.get_operations() if "update_" in op.name
                       and (op.type.startswith(("Apply", "SparseApply", "Scatter"))))
        fetch = {v.op.name: v for v in tf.global_variables()}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(3):
                sess.run(train)
            return sess.run(fetch), types, opt.get_slot_names()


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("key", sorted(OPTIMIZERS))
def test_matches_tensorflow(key, sparse):
    want, want_types, want_slots = _train(tf1, OPTIMIZERS[key], sparse)
    got, got_types, got_slots = _train(gf, OPTIMIZERS[key], sparse)
    assert sorted(got) == sorted(want)  # same variables, slots and non-slot variables
    assert got_types == want_types and got_slots == want_slots
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=2e-5, atol=2e-6, err_msg=name)
