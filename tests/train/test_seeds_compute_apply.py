"""Seed 001: compute_gradients, clip_by_norm, apply_gradients (shared/seeds/001_*.txt).

The TF1 program's printed output is ``[(6.0, 5.0), (5.0, 10.0)]`` then
``[10.0, 5.0, 50.0]``.
"""
import numpy as np

import graphflow as tf


def _program():
    x = tf.Variable(initial_value=10., dtype='float32')
    w = tf.Variable(initial_value=5., dtype='float32')
    y = w * x
    opt = tf.train.GradientDescentOptimizer(0.1)
    grads_vals = opt.compute_gradients(y, [w, x])
    for i, (g, v) in enumerate(grads_vals):
        if g is not None:
            grads_vals[i] = (tf.clip_by_norm(g, 6), v)
    train_op = opt.apply_gradients(grads_vals)
    return x, w, y, grads_vals, train_op


def test_seed_printed_values():
    with tf.Graph().as_default():
        x, w, y, grads_vals, train_op = _program()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            got = sess.run(grads_vals)
            assert [tuple(float(a) for a in pair) for pair in got] == [(6.0, 5.0), (5.0, 10.0)]
            assert [float(a) for a in sess.run([x, w, y])] == [10.0, 5.0, 50.0]
            assert str([tuple(float(a) for a in p) for p in got]) == "[(6.0, 5.0), (5.0, 10.0)]"


def test_seed_training_step_uses_clipped_gradient():
    with tf.Graph().as_default():
        x, w, y, grads_vals, train_op = _program()
        assert isinstance(train_op, tf.Operation) and train_op.name == "GradientDescent"
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train_op)
            # dy/dw = x = 10 clipped to 6; dy/dx = w = 5 (norm 5 < 6, unchanged)
            np.testing.assert_allclose(sess.run([w, x]), [5.0 - 0.1 * 6.0, 10.0 - 0.1 * 5.0],
                                       rtol=1e-6)


def test_clip_by_value_recipe():
    w = tf.Variable([3.0, -0.2], name="w")
    loss = tf.reduce_sum(w * w)
    opt = tf.train.GradientDescentOptimizer(0.5)
    capped = [(tf.clip_by_value(g, -1.0, 1.0), v) for g, v in opt.compute_gradients(loss)]
    train = opt.apply_gradients(capped)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        np.testing.assert_allclose(sess.run(w), [3.0 - 0.5, -0.2 + 0.5 * 0.4], rtol=1e-6)
