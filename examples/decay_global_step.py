"""Learning-rate decay driven by ``global_step`` (seed 003, sections 4 and 8).

    decayed_learning_rate = learning_rate * decay_rate ^ (global_step / decay_steps)

with ``staircase=True`` the exponent is an integer division. Passing
``global_step`` to ``minimize`` increments it after each update. Here the
decay runs every 3 steps (the seed uses 100000) so the staircase shows in a
few steps: each line prints the step, the learning rate used by that step,
w after the step and the new global step. Then ``tf.train.global_step``
reads a global step created with the value 10 (seed 003, section 8).
"""
import graphflow as tf


def decayed_training(steps=7):
    with tf.Graph().as_default():
        global_step = tf.Variable(0, trainable=False, name="global_step")
        starter_learning_rate = 0.1
        learning_rate = tf.train.exponential_decay(starter_learning_rate, global_step,
                                                   3, 0.5, staircase=True)
        w = tf.Variable(10.0, name="w")
        loss = 0.5 * tf.square(w)  # gradient = w
        optimizer = tf.train.GradientDescentOptimizer(learning_rate)
        # Passing global_step to minimize() will increment it at each step.
        train_op = optimizer.minimize(loss, global_step=global_step)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(steps):
                step, lr = sess.run([global_step, learning_rate])
                sess.run(train_op)
                print("step %d lr %.4f w %.6f global_step %d"
                      % (step, lr, sess.run(w), sess.run(global_step)))


def read_global_step():
    with tf.Graph().as_default():
        # Creates a variable to hold the global_step.
        global_step_tensor = tf.Variable(10, trainable=False, name='global_step')
        # Creates a session.
        sess = tf.Session()
        # Initializes the variable.
        sess.run(global_step_tensor.initializer)
        print('global_step: %s' % tf.train.global_step(sess, global_step_tensor))
        sess.close()


if __name__ == "__main__":
    decayed_training()
    read_global_step()
