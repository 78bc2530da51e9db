"""Moving averages of trained variables, restored with a Saver (seed 003, section 5).

The seed (and TF's ``ExponentialMovingAverage`` docstring) builds

    opt_op = opt.minimize(my_loss, [var0, var1])
    ema = tf.train.ExponentialMovingAverage(decay=0.9999)
    maintain_averages_op = ema.apply([var0, var1])
    with tf.control_dependencies([opt_op]):
        training_op = tf.group(maintain_averages_op)

The control dependency only delays the final ``group``: the average updates
were created before it, so nothing orders them against the optimizer's
updates and each average may read its variable before or after the step.
``graphflow.analysis.races`` lists those pairs; building the averages inside
the control-dependency block (``training_op = ema.apply(...)`` under it)
orders every read after the update and leaves no race.

The program prints the races of both versions, trains the race-free one for
4 steps (decay 0.5 so the averages move visibly), saves a checkpoint, then
restores the shadow values into var0 and var1 of a fresh graph with
``tf.train.Saver({ema.average_name(var0): var0, ...})``.

Usage: python moving_average_restore.py [CHECKPOINT_DIR]
"""
import os
import sys
import tempfile

import numpy as np

import graphflow as tf
from graphflow import analysis

DECAY = 0.5
LEARNING_RATE = 0.1
STEPS = 4


def build(docstring_pattern):
    """The model; returns (training_op, var0, var1, ema)."""
    var0 = tf.Variable([1.0, 2.0], name="var0")
    var1 = tf.Variable([3.0, 4.0], name="var1")
    my_loss = tf.reduce_sum(tf.square(var0)) + tf.reduce_sum(tf.square(var1 - 1.0))
    opt = tf.train.GradientDescentOptimizer(LEARNING_RATE)
    opt_op = opt.minimize(my_loss, var_list=[var0, var1])
    ema = tf.train.ExponentialMovingAverage(decay=DECAY)
    if docstring_pattern:
        maintain_averages_op = ema.apply([var0, var1])
        with tf.control_dependencies([opt_op]):
            training_op = tf.group(maintain_averages_op)
    else:
        with tf.control_dependencies([opt_op]):
            training_op = ema.apply([var0, var1])
    return training_op, var0, var1, ema


def show_races():
    for docstring_pattern in (True, False):
        g = tf.Graph()
        with g.as_default():
            training_op = build(docstring_pattern)[0]
        found = analysis.races(g, training_op)
        label = "docstring pattern" if docstring_pattern else "averages built under the dependency"
        print("%s: %d race(s)" % (label, len(found)))
        for race in found:
            print("  " + race.explain())


def train_and_save(ckpt_dir):
    with tf.Graph().as_default():
        training_op, var0, var1, ema = build(docstring_pattern=False)
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for step in range(1, STEPS + 1):
                sess.run(training_op)
                v0, v1, a0, a1 = sess.run([var0, var1, ema.average(var0), ema.average(var1)])
                print("step %d var0 %s var1 %s avg0 %s avg1 %s"
                      % (step, _fmt(v0), _fmt(v1), _fmt(a0), _fmt(a1)))
            names = (ema.average_name(var0), ema.average_name(var1))
            path = saver.save(sess, os.path.join(ckpt_dir, "model.ckpt"))
    print("shadow names: %s, %s" % names)
    return path


def restore_averages(path):
    with tf.Graph().as_default():
        var0 = tf.Variable([0.0, 0.0], name="var0")
        var1 = tf.Variable([0.0, 0.0], name="var1")
        ema = tf.train.ExponentialMovingAverage(decay=DECAY)
        # Create a Saver that loads variables from their saved shadow values.
        shadow_var0_name = ema.average_name(var0)
        shadow_var1_name = ema.average_name(var1)
        saver = tf.train.Saver({shadow_var0_name: var0, shadow_var1_name: var1})
        with tf.Session() as sess:
            saver.restore(sess, path)
            # var0 and var1 now hold the moving average values
            print("restored var0 %s var1 %s" % (_fmt(sess.run(var0)), _fmt(sess.run(var1))))


def _fmt(a):
    return "[" + " ".join("%.6f" % x for x in np.ravel(a)) + "]"


if __name__ == "__main__":
    show_races()
    if len(sys.argv) > 1:
        restore_averages(train_and_save(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as d:
            restore_averages(train_and_save(d))
