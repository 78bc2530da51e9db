"""Train a linear regression fed by a TF1 queue pipeline (graphflow as tf).

    python examples/queue_training.py [--epochs N] [--batch-size B]

In-memory NumPy arrays -> ``slice_input_producer`` (one shuffled epoch after
another, ``num_epochs`` of them) -> ``shuffle_batch`` (background threads
keep a RandomShuffleQueue filled) -> the training loop, which runs until the
input is exhausted (OutOfRangeError). A Coordinator stops and joins the
queue-runner threads. See docs/input_pipelines.md.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

import graphflow as tf


def make_data(n: int = 512, seed: int = 0) -> tuple:
    """Features (n, 4) and targets y = x @ w + b + noise, as float32."""
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 4).astype(np.float32)
    w = np.array([[2.0], [-1.0], [0.5], [3.0]], np.float32)
    y = (x @ w + 1.0 + 0.1 * rng.randn(n, 1)).astype(np.float32)
    return x, y


def main(argv: list | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    args = parser.parse_args(argv)
    xs, ys = make_data()

    tf.set_random_seed(1)
    # input pipeline: rows of (xs, ys) -> shuffled batches, filled by 2 threads
    x, y = tf.train.slice_input_producer([xs, ys], num_epochs=args.epochs, shuffle=True)
    bx, by = tf.train.shuffle_batch([x, y], batch_size=args.batch_size,
                                    capacity=8 * args.batch_size,
                                    min_after_dequeue=4 * args.batch_size, num_threads=2,
                                    allow_smaller_final_batch=True)
    # the model
    w = tf.Variable(tf.zeros([4, 1]), name="weights")
    b = tf.Variable(0.0, name="bias")
    loss = tf.reduce_mean(tf.square(tf.matmul(bx, w) + b - by))
    global_step = tf.train.get_or_create_global_step()
    train_op = tf.train.GradientDescentOptimizer(args.learning_rate).minimize(
        loss, global_step=global_step)

    # num_epochs lives in a local variable: initialize local variables too
    init = tf.group(tf.global_variables_initializer(), tf.local_variables_initializer())
    config = tf.ConfigProto(operation_timeout_in_ms=60000)  # never wait forever
    with tf.Session(config=config) as sess:
        sess.run(init)
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        step, last = 0, float("nan")
        try:
            while not coord.should_stop():
                _, last, step = sess.run([train_op, loss, global_step])
                if step % 50 == 0:
                    print("step %4d  batch loss %.5f" % (step, last))
        except tf.errors.OutOfRangeError:
            print("done: input exhausted after %d steps (%d epochs)" % (step, args.epochs))
        finally:
            coord.request_stop()
        coord.join(threads, stop_grace_period_secs=10)
        wv, bv = sess.run([w, b])
    final = float(np.mean((xs @ wv + bv - ys) ** 2))
    print("final loss %.5f  weights %s  bias %.3f" % (final, np.round(wv.ravel(), 3), bv))
    return final


if __name__ == "__main__":
    sys.exit(0 if main() < 0.05 else 1)
