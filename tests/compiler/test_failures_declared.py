"""``OpDef.failures``: the declaration dead_control and the journal read.

Ops that fail on values must never be declared to fail only on shapes (the
compiler would drop them unread, the journal would skip an undo copy): each
case below runs the op on values that make TF fail and checks it does fail.
"""
import numpy as np
import pytest

import graphflow as tf
from graphflow.errors import InvalidArgumentError, OpError
from graphflow.framework import op_def
from graphflow.framework.op_def import run_failures


def _value_failures():
    """(op type, graph builder, fed value) whose run fails on the values."""
    def check_numerics(x):
        return tf.check_numerics(x, "bad")

    def gather(x):
        return tf.gather(x, tf.constant([7]))

    def floordiv(x):
        return tf.floordiv(tf.cast(x, tf.int32), tf.constant([0, 1, 1], tf.int32))

    def xent(x):
        logits = tf.reshape(x, [1, 3])
        return tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.constant([5], tf.int32), logits=logits)

    return [("CheckNumerics", check_numerics, [np.nan, 1, 2]),
            ("GatherV2", gather, [1, 2, 3]),
            ("FloorDiv", floordiv, [1, 2, 3]),
            ("SparseSoftmaxCrossEntropyWithLogits", xent, [1, 2, 3])]


@pytest.mark.parametrize("op_type,build,value", _value_failures(),
                         ids=[c[0] for c in _value_failures()])
def test_ops_failing_on_values_are_declared_so(op_type, build, value):
    assert run_failures(op_def.get_op_def(op_type)) == "values"
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [3])
        y = build(x)
        assert any(op.type == op_type for op in tf.get_default_graph().get_operations())
        with tf.Session() as s:
            with pytest.raises(OpError):
                s.run(y, {x: np.asarray(value, np.float32)})


def test_sparse_updates_fail_on_indices_and_are_declared_so():
    from graphflow.ops import training_ops
    sparse = [n for n, d in op_def._REGISTRY.items() if getattr(d, "sparse", False)]
    assert len(sparse) >= 9
    assert all(run_failures(op_def.get_op_def(n)) == "values" for n in sparse)
    with tf.Graph().as_default():
        v = tf.Variable(np.zeros((3, 2), np.float32))
        acc = tf.Variable(np.ones((3, 2), np.float32))
        upd = training_ops.sparse_apply_adagrad(v, acc, np.float32(0.1),
                                                np.ones((1, 2), np.float32),
                                                np.array([5], np.int32))
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            with pytest.raises(InvalidArgumentError):
                s.run(upd)


def test_declared_values():
    """Every declaration is one of the three words; const_args only with "shapes"."""
    for name, d in op_def._REGISTRY.items():
        assert d.failures in ("never", "shapes", "values"), name
        if d.const_args:
            assert d.failures == "shapes", name
