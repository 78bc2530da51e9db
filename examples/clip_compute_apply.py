"""Gradient clipping between compute_gradients and apply_gradients.

Seed 001 (notes on ``minimize()``): ``minimize`` = ``compute_gradients`` +
``apply_gradients``; process the (gradient, variable) pairs in between.

Part 1 caps every gradient with ``tf.clip_by_value`` and applies it.
Part 2 is the seed's program: for y = w * x, dy/dw = x = 10 and dy/dx = w = 5;
``clip_by_norm(g, 6)`` caps the first to 6. It prints

    [(6.0, 5.0), (5.0, 10.0)]
    [10.0, 5.0, 50.0]

(the values are turned into Python floats so they print as in the seed).
"""
import numpy as np

import graphflow as tf


def clip_by_value_step():
    """Part 1: one SGD step on (w - 3)^2 with the gradient capped to [-1, 1]."""
    with tf.Graph().as_default():
        w = tf.Variable(0.0, name="w")
        loss = tf.square(w - 3.0)
        learning_rate = 0.1
        threshold = 1.0
        optimizer = tf.train.GradientDescentOptimizer(learning_rate)
        grads_and_vars = optimizer.compute_gradients(loss)
        # the list holds (gradient, variable) pairs
        capped_gvs = [(tf.clip_by_value(grad, -threshold, threshold), var)
                      for grad, var in grads_and_vars]
        # update each variable with its capped gradient
        training_op = optimizer.apply_gradients(capped_gvs)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            raw, capped = sess.run([grads_and_vars[0][0], capped_gvs[0][0]])
            sess.run(training_op)
            print("raw gradient %.1f, capped %.1f, w after one step %.2f"
                  % (raw, capped, sess.run(w)))


def clip_by_norm_seed():
    """Part 2: the seed's program."""
    with tf.Graph().as_default():
        x = tf.Variable(initial_value=10., dtype='float32')
        w = tf.Variable(initial_value=5., dtype='float32')
        y = w * x

        opt = tf.train.GradientDescentOptimizer(0.1)
        # grads_vals is [(10.0, 5.0), (5.0, 10.0)] before clipping
        grads_vals = opt.compute_gradients(y, [w, x])
        for i, (g, v) in enumerate(grads_vals):
            if g is not None:
                grads_vals[i] = (tf.clip_by_norm(g, 6), v)
        train_op = opt.apply_gradients(grads_vals)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            print([tuple(float(a) for a in gv) for gv in sess.run(grads_vals)])
            print([float(a) for a in sess.run([x, w, y])])
            sess.run(train_op)
            print("after one step: w=%.1f x=%.1f" % tuple(sess.run([w, x])))


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    clip_by_value_step()
    clip_by_norm_seed()
