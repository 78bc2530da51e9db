"""GradientTape + an optimizer's apply_gradients (seeds 002 and 004).

Seed 002 shows the training step

    with tf.GradientTape() as tape:
        predictions = model(images)
        loss = loss_object(labels, predictions)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))

and seed 004 derivatives with a (persistent) tape, then a linear regression
trained with tape + optimizer. graphflow runs TF1 graphs, so the tape builds
gradient ops and a Session evaluates them; the optimizer is
``tf.train.GradientDescentOptimizer`` (``apply_gradients`` takes the same
(gradient, variable) pairs).

Printed: dy/dx of y = x^2 at x = 3 (6), d2y/dx2 (2), dz/dx of z = y^2 (4 x^3 =
108) from one persistent tape, dz/dx and dz/dy of z = x^2 y at (2, 3) (12, 4),
then the regression's w and b (the data follow y = 3 x + 2 plus noise) and
the loss every 50 steps.
"""
import numpy as np

import graphflow as tf


def derivatives():
    with tf.Graph().as_default():
        x = tf.constant(3.0)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = x * x
            dy_dx = inner.gradient(y, x)
            z = y * y
        d2y_dx2 = tape.gradient(dy_dx, x)
        dz_dx = tape.gradient(z, x)
        del tape

        a = tf.constant(2.0)
        b = tf.constant(3.0)
        with tf.GradientTape() as tape2:
            tape2.watch([a, b])
            f = a * a * b
        df_da, df_db = tape2.gradient(f, [a, b])
        with tf.Session() as sess:
            print("dy/dx = %.1f, d2y/dx2 = %.1f, dz/dx = %.1f"
                  % tuple(sess.run([dy_dx, d2y_dx2, dz_dx])))
            print("df/da = %.1f, df/db = %.1f" % tuple(sess.run([df_da, df_db])))


def make_data(n=100, seed=0):
    rng = np.random.RandomState(seed)
    xs = rng.uniform(-1.0, 1.0, size=(n, 1)).astype(np.float32)
    ys = (3.0 * xs + 2.0 + 0.1 * rng.randn(n, 1)).astype(np.float32)
    return xs, ys


def linear_regression(steps=200, learning_rate=0.5):
    xs, ys = make_data()
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 1], name="x")
        y = tf.placeholder(tf.float32, [None, 1], name="y")
        w = tf.Variable(tf.zeros([1, 1]), name="w")
        b = tf.Variable(tf.zeros([1]), name="b")
        trainable_variables = [w, b]
        optimizer = tf.train.GradientDescentOptimizer(learning_rate)

        with tf.GradientTape() as tape:
            predictions = tf.matmul(x, w) + b
            loss = tf.reduce_mean(tf.square(predictions - y))
        gradients = tape.gradient(loss, trainable_variables)
        train_op = optimizer.apply_gradients(zip(gradients, trainable_variables))

        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for step in range(1, steps + 1):
                _, loss_value = sess.run([train_op, loss], feed_dict={x: xs, y: ys})
                if step % 50 == 0:
                    print("step %d loss %.6f" % (step, loss_value))
            w_value, b_value = sess.run([w, b])
            print("w = %.5f, b = %.5f" % (w_value[0, 0], b_value[0]))


if __name__ == "__main__":
    derivatives()
    linear_regression()
