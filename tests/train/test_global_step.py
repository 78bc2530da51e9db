"""Global step helpers (spec training_utils.md §1) and the optimizers' increment."""
import logging

import numpy as np
import pytest

import graphflow as tf
from graphflow.framework.graph import GraphKeys


def test_create_global_step_ops_and_collections():
    with tf.name_scope("ignored"):
        gs = tf.train.create_global_step()
    assert gs.name == "global_step:0" and gs.dtype == tf.int64._as_ref
    assert gs.shape.as_list() == [] and not gs.trainable
    assert tf.get_collection(GraphKeys.GLOBAL_STEP) == [gs]
    assert gs in tf.global_variables() and gs not in tf.trainable_variables()
    assert [op.name for op in tf.get_default_graph().get_operations()] == [
        "global_step/Initializer/zeros", "global_step", "global_step/Assign", "global_step/read"]
    with pytest.raises(ValueError, match='^"global_step" already exists.$'):
        tf.train.create_global_step()
    assert tf.train.get_global_step() is gs
    assert tf.train.get_or_create_global_step() is gs


def test_create_in_variable_scope_and_other_graph():
    with tf.variable_scope("foo"):
        gs = tf.train.get_or_create_global_step()
    assert gs.name == "foo/global_step:0"
    g = tf.Graph()
    other = tf.train.create_global_step(g)
    assert other.graph is g and tf.train.get_global_step(g) is other
    assert tf.train.get_global_step() is gs


def test_get_global_step_lookup_rules(caplog):
    assert tf.train.get_global_step() is None
    v = tf.Variable(0, dtype=tf.int64, name="global_step")  # not in the collection
    found = tf.train.get_global_step()
    assert found is not None and found.name == "global_step:0"
    assert tf.get_collection(GraphKeys.GLOBAL_STEP) == []
    tf.add_to_collection(GraphKeys.GLOBAL_STEP, v)
    tf.add_to_collection(GraphKeys.GLOBAL_STEP, tf.Variable(0, name="another"))
    with caplog.at_level(logging.ERROR):
        assert tf.train.get_global_step() is None
    assert "Multiple tensors in global_step collection." in caplog.text


def test_assert_global_step():
    with pytest.raises(TypeError) as e:
        tf.train.assert_global_step(3)
    assert str(e.value).startswith('Existing "global_step" must be a Variable or Tensor: ')
    with pytest.raises(TypeError) as e:
        tf.train.assert_global_step(tf.Variable(0.0, name="f"))
    assert str(e.value) == ("Existing \"global_step\" does not have integer type: "
                            "<dtype: 'float32_ref'>")
    with pytest.raises(TypeError) as e:
        tf.train.assert_global_step(tf.Variable([1], name="v"))
    assert str(e.value) == 'Existing "global_step" is not scalar: (1,)'
    tf.train.assert_global_step(tf.placeholder(tf.int32, [None]))  # shape not fully defined
    tf.train.assert_global_step(tf.Variable(0, name="ok"))


def test_wrong_global_step_in_graph_is_rejected():
    tf.Variable(0.5, name="global_step")
    with pytest.raises(TypeError, match="does not have integer type"):
        tf.train.get_global_step()


def test_global_step_value_and_optimizer_increment():
    gs = tf.train.get_or_create_global_step()
    w = tf.Variable(1.0, name="w")
    train = tf.train.AdamOptimizer(0.1).minimize(w * w, global_step=gs)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert tf.train.global_step(sess, gs) == 0
        for _ in range(3):
            sess.run(train)
        step = tf.train.global_step(sess, "global_step:0")
        assert step == 3 and type(step) is int


def test_name_lookup_global_step_accepted_by_apply_gradients():
    tf.get_variable("global_step", shape=[], dtype=tf.int32,
                    initializer=tf.zeros_initializer(), trainable=False)
    gs = tf.train.get_global_step()  # found by name: not in the collection
    w = tf.Variable([1.0], name="w")
    train = tf.train.GradientDescentOptimizer(0.5).apply_gradients(
        [(tf.constant([1.0]), w)], global_step=gs)
    assert train.type == "AssignAdd"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        sess.run(train)
        assert tf.train.global_step(sess, gs) == 2
        np.testing.assert_allclose(sess.run(w), [0.0])
