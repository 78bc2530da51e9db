"""W2: one training step of a 784-512-512-10 ReLU MLP, batch 256, float32.

Sparse softmax cross-entropy (mean over the batch), SGD (learning rate 0.01)
or Adam (TF1 defaults, learning rate 0.001), both with a global step
(``opt.minimize(loss, global_step=gs)``). One unit = one ``sess.run([train,
loss], feed)`` with the same batch every step; the first call's loss (same
initial weights everywhere) is compared across engines.

Baselines: TF1 graph mode; the step written by hand in NumPy (forward,
backward, in-place update); and "matmuls8", the step's eight matmuls alone
(3 forward, 5 backward) through ``np.dot`` as graphflow's MatMul kernel does:
the issue's "within 1.2x of the eight matmuls" floor. ``build_graph`` is also
used by W6 (cold start) in a fresh process.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from harness import engine_module, pytensor, workload

SIZES = (784, 512, 512, 10)
BATCH = 256
SGD_LR = 0.01
ADAM = dict(learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8)


def data(seed: int = 2) -> tuple:
    """(x, labels, [W1, b1, W2, b2, W3, b3]) with Glorot-uniform weights."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=(BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], size=BATCH).astype(np.int32)
    params = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        lim = np.sqrt(6.0 / (n_in + n_out))
        params.append(rng.uniform(-lim, lim, size=(n_in, n_out)).astype(np.float32))
        params.append(np.full(n_out, 0.01, np.float32))
    return x, y, params


def build_graph(tf: Any, optimizer: str) -> tuple:
    """In the current default graph: (x, y, train_op, loss, init_op)."""
    x0, y0, params = data()
    x = tf.placeholder(tf.float32, [BATCH, SIZES[0]], name="x")
    y = tf.placeholder(tf.int32, [BATCH], name="y")
    h = x
    vs = [tf.Variable(p, name="p%d" % i) for i, p in enumerate(params)]
    for k in range(3):
        h = tf.matmul(h, vs[2 * k]) + vs[2 * k + 1]
        if k < 2:
            h = tf.nn.relu(h)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h))
    gs = tf.train.get_or_create_global_step()
    if optimizer == "sgd":
        opt = tf.train.GradientDescentOptimizer(SGD_LR)
    else:
        opt = tf.train.AdamOptimizer(**ADAM)
    train = opt.minimize(loss, global_step=gs)
    return x, y, train, loss, tf.global_variables_initializer()


def session_step(engine: str, optimizer: str) -> Callable[[], Any]:
    tf = engine_module(engine)
    x0, y0, _ = data()
    g = tf.Graph()
    with g.as_default():
        x, y, train, loss, init = build_graph(tf, optimizer)
    sess = tf.Session(graph=g)
    sess.run(init)
    feed = {x: x0, y: y0}
    fetches = [train, loss]
    return lambda: sess.run(fetches, feed_dict=feed)[1]


# --- NumPy by hand --------------------------------------------------------------------------
def _forward_backward(x: np.ndarray, y: np.ndarray, p: list) -> tuple:
    """Loss and gradients [dW1, db1, dW2, db2, dW3, db3] (eight np.dot calls)."""
    w1, b1, w2, b2, w3, b3 = p
    a1 = np.dot(x, w1)
    a1 += b1
    h1 = np.maximum(a1, 0, out=a1)
    a2 = np.dot(h1, w2)
    a2 += b2
    h2 = np.maximum(a2, 0, out=a2)
    z = np.dot(h2, w3)
    z += b3
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    loss = np.float32(np.mean(np.log(s[:, 0]) - z[rows, y]))
    dz = e
    dz /= s
    dz[rows, y] -= 1
    dz *= np.float32(1.0 / len(y))
    dw3 = np.dot(h2.T, dz)
    db3 = dz.sum(axis=0)
    dh2 = np.dot(dz, w3.T)
    dh2 *= h2 > 0
    dw2 = np.dot(h1.T, dh2)
    db2 = dh2.sum(axis=0)
    dh1 = np.dot(dh2, w2.T)
    dh1 *= h1 > 0
    dw1 = np.dot(x.T, dh1)
    db1 = dh1.sum(axis=0)
    return loss, [dw1, db1, dw2, db2, dw3, db3]


def numpy_step(optimizer: str) -> Callable[[], Any]:
    x, y, p = data()
    state = {"t": 0}
    m = [np.zeros_like(v) for v in p]
    v2 = [np.zeros_like(v) for v in p]
    lr, b1, b2, eps = (np.float32(ADAM[k]) for k in ("learning_rate", "beta1", "beta2",
                                                      "epsilon"))

    def step() -> np.float32:
        loss, grads = _forward_backward(x, y, p)
        state["t"] += 1
        if optimizer == "sgd":
            for w, g in zip(p, grads):
                g *= np.float32(SGD_LR)
                w -= g
            return loss
        t = state["t"]
        lr_t = np.float32(lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t))
        for w, g, mi, vi in zip(p, grads, m, v2):
            mi *= b1
            mi += (1 - b1) * g
            g *= g
            vi *= b2
            vi += (1 - b2) * g
            d = np.sqrt(vi)
            d += eps
            np.divide(mi, d, out=d)
            d *= lr_t
            w -= d
        return loss
    step.params = p  # the parameters this step trains (tests read them)
    return step


def matmuls8() -> Callable[[], Any]:
    """The step's eight matmuls alone, np.dot on the same shapes and layouts."""
    x, y, p = data()
    w1, _, w2, _, w3, _ = p
    rng = np.random.default_rng(3)
    h1 = rng.uniform(0, 1, (BATCH, 512)).astype(np.float32)
    h2 = rng.uniform(0, 1, (BATCH, 512)).astype(np.float32)
    dz = rng.uniform(-1, 1, (BATCH, 10)).astype(np.float32)
    dh2 = rng.uniform(-1, 1, (BATCH, 512)).astype(np.float32)
    dh1 = rng.uniform(-1, 1, (BATCH, 512)).astype(np.float32)

    def run() -> None:
        np.dot(x, w1)
        np.dot(h1, w2)
        np.dot(h2, w3)
        np.dot(h2.T, dz)
        np.dot(dz, w3.T)
        np.dot(h1.T, dh2)
        np.dot(dh2, w2.T)
        np.dot(x.T, dh1)
    return run


def _build(optimizer: str) -> Callable[[str], Callable[[], Any]]:
    def build(engine: str) -> Callable[[], Any]:
        if engine == "numpy":
            return numpy_step(optimizer)
        if engine == "matmuls8":
            return matmuls8()
        if engine == "pytensor":
            pytensor()
            raise AssertionError("pytensor version of W2 not written")
        return session_step(engine, optimizer)
    return build


_TARGETS = {"tensorflow": (1 / 1.4, "1.4x TF's steps/s"),
            "matmuls8": (1.2, "within 1.2x of the 8 matmuls")}
for _opt, _name in (("sgd", "SGD"), ("adam", "Adam")):
    workload("W2-%s" % _name,
             "MLP 784-512-512-10 training step, batch 256, %s + global_step" % _name,
             "step", 20, targets=_TARGETS, rtol=1e-4, extra=("matmuls8",))(_build(_opt))
