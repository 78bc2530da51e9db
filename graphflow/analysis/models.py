"""Small models for ``compare`` and ``graphflow study``: each one a ``build(gate, aggregation)``.

A builder creates its model in the default graph and returns a dict with
``train_op`` (``minimize`` with the given ``gate_gradients`` and
``aggregation_method``), ``loss`` and ``feed_dict``. The data are generated in
code from a fixed seed (``graphflow.datasets``), so every build of a model is
the same computation.

- ``mlp``: the demo's classifier, 2-64-64-3 ReLU MLP with softmax cross
  entropy on spirals, SGD. Each weight is read by the forward matmul and by
  the gradient matmul of the layer below: under GATE_NONE those reads race
  with the weight's update.
- ``deep``: a 2-32x6-3 tanh MLP (more layers, so more races and a longer
  critical path), Momentum.
- ``shared``: one 32x32 weight applied in 8 parallel branches whose outputs
  are summed, so its gradient has 8 terms: the aggregation method decides
  how they are added (ADD_N, a pairwise tree, or one AccumulateNV2), Adam.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["MODELS", "mlp", "deep", "shared"]


def _data(batch: int = 128, seed: int = 0) -> tuple:
    from graphflow import datasets
    d = datasets.spirals(n_per_class=batch // 3 + 1, classes=3, seed=seed)
    return d.x[:batch], d.y[:batch]


def _classifier(gate: int, aggregation: int, widths: list, activation: Callable,
                optimizer: Callable) -> dict:
    import graphflow as tf
    xv, yv = _data()
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    y = tf.placeholder(tf.int32, [None], name="y")
    h = x
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        with tf.variable_scope("layer%d" % i):
            w = tf.get_variable("w", [a, b], initializer=tf.glorot_uniform_initializer())
            bias = tf.get_variable("b", [b], initializer=tf.zeros_initializer())
            h = tf.matmul(h, w) + bias
            if i < len(widths) - 2:
                h = activation(h)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h),
                          name="loss")
    train = optimizer().minimize(loss, gate_gradients=gate, aggregation_method=aggregation)
    return {"train_op": train, "loss": loss, "feed_dict": {x: xv, y: yv}}


def mlp(gate: int, aggregation: int) -> dict:
    """2-64-64-3 ReLU classifier, SGD (learning rate 0.5)."""
    import graphflow as tf
    return _classifier(gate, aggregation, [2, 64, 64, 3], tf.nn.relu,
                       lambda: tf.train.GradientDescentOptimizer(0.5))


def deep(gate: int, aggregation: int) -> dict:
    """2-32-32-32-32-32-32-3 tanh classifier, Momentum (0.1, 0.9)."""
    import graphflow as tf
    return _classifier(gate, aggregation, [2] + [32] * 6 + [3], tf.tanh,
                       lambda: tf.train.MomentumOptimizer(0.1, 0.9))


def shared(gate: int, aggregation: int, branches: int = 8) -> dict:
    """One 32x32 weight in ``branches`` parallel branches (a gradient of that many terms), Adam."""
    import graphflow as tf
    rng = np.random.default_rng(0)
    x = tf.placeholder(tf.float32, [None, 32], name="x")
    target = tf.placeholder(tf.float32, [None, 32], name="target")
    w = tf.get_variable("w", [32, 32], initializer=tf.glorot_uniform_initializer())
    outs = [tf.tanh(tf.matmul(x * (0.5 + 0.25 * i), w)) for i in range(branches)]
    loss = tf.reduce_mean(tf.square(tf.add_n(outs) / branches - target), name="loss")
    train = tf.train.AdamOptimizer(0.01).minimize(loss, gate_gradients=gate,
                                                  aggregation_method=aggregation)
    feed = {x: rng.standard_normal((64, 32)).astype(np.float32),
            target: rng.uniform(-0.5, 0.5, (64, 32)).astype(np.float32)}
    return {"train_op": train, "loss": loss, "feed_dict": feed}


MODELS = {"mlp": mlp, "deep": deep, "shared": shared}
