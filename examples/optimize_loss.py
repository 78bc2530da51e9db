"""``tf.contrib.layers.optimize_loss``: compute, process and apply gradients in one call (seed 000).

optimize_loss chains ``compute_gradients``, optional gradient processing
(clipping, multipliers, noise) and ``apply_gradients``, and increments the
global step. Its ``optimizer`` argument may be (seed 000's four forms):

1. a name from ``OPTIMIZER_CLS_NAMES`` ("SGD", "Adam", "Adagrad", "Momentum", ...);
2. a function of the learning rate returning an Optimizer
   (``lambda lr: tf.train.MomentumOptimizer(lr, momentum=0.5)``), or a function
   of no argument when ``learning_rate=None``;
3. an Optimizer subclass (``tf.train.AdagradOptimizer``);
4. an Optimizer instance (``tf.train.AdagradOptimizer(0.5)``).

Each run builds loss = |var * x| with var = 10 and x fed 5 (so the gradient
is 5), runs one step with learning rate 0.1 and prints var and global_step
after it; with plain SGD var becomes 10 - 0.1 * 5 = 9.5. Clipping to a global
norm of 0.1 gives 9.99, a gradient multiplier of 7 gives 6.5, and Adam with
``learning_rate_decay_fn=exponential_decay`` moves var by the learning rate:
9.9. The returned tensor is the loss of the step (before the update): 50.

Seed 000 also warns: "The order of execution between update_ops and loss is
non-deterministic." The last part builds a loss that reads a variable an
update op changes and prints what ``graphflow.analysis.races`` reports.
"""
import graphflow as tf
from graphflow import analysis


def one_step(label, learning_rate=0.1, **kwargs):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [], name="x")
        var = tf.get_variable("test", [], initializer=tf.constant_initializer(10.0))
        loss = tf.abs(var * x)
        global_step = tf.train.get_or_create_global_step()
        train = tf.contrib.layers.optimize_loss(loss, global_step, learning_rate, **kwargs)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            loss_value = sess.run(train, feed_dict={x: 5.0})
            var_value, step = sess.run([var, global_step])
    print("%-28s loss %.1f var %.6f global_step %d" % (label, loss_value, var_value, step))


def exponential_decay(lr, global_step):
    return tf.train.exponential_decay(lr, global_step, decay_steps=1, decay_rate=0.5)


def update_ops_race():
    """A loss reading ``scale`` while an update op (think batch-norm statistics)
    increments it: neither the forward read of ``scale`` nor the gradient's
    read of it is ordered against the update."""
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [], name="x")
        var = tf.get_variable("test", [], initializer=tf.constant_initializer(10.0))
        scale = tf.get_variable("scale", [], initializer=tf.constant_initializer(1.0),
                                trainable=False)
        loss = tf.abs(var * x * scale, name="loss")
        bump = tf.assign_add(scale, 1.0, name="bump_scale")
        train = tf.contrib.layers.optimize_loss(loss, tf.train.get_or_create_global_step(),
                                                0.1, "SGD", update_ops=[bump])
        found = analysis.races(g, train)
    print("update_ops: %d race(s)" % len(found))
    for race in found:
        print("  " + race.explain())


if __name__ == "__main__":
    one_step("SGD (name)", optimizer="SGD")
    one_step("SGD (lambda lr)", optimizer=lambda lr: tf.train.GradientDescentOptimizer(lr))
    one_step("SGD (lambda, no lr)", learning_rate=None,
             optimizer=lambda: tf.train.GradientDescentOptimizer(0.1))
    one_step("SGD (class)", optimizer=tf.train.GradientDescentOptimizer)
    one_step("SGD (instance)", optimizer=tf.train.GradientDescentOptimizer(0.1))
    one_step("SGD clip_gradients=0.1", optimizer="SGD", clip_gradients=0.1)
    one_step("SGD multiplier 7", optimizer="SGD",
             gradient_multipliers={"test:0": 7.0})
    one_step("Momentum clip 1.0", optimizer="Momentum", clip_gradients=1.0)
    one_step("Adam with decay", optimizer="Adam", learning_rate_decay_fn=exponential_decay)
    one_step("Adagrad (class)", optimizer=tf.train.AdagradOptimizer)
    one_step("Adagrad (instance)", optimizer=tf.train.AdagradOptimizer(0.5))
    update_ops_race()
