"""The ``graphflow demo`` model: a TF1-style MLP classifier trained on spirals.

Everything is written as a TensorFlow 1.x user would write it (placeholders,
``get_variable``, ``matmul``/``relu``, ``tf.losses``, a ``tf.train``
optimizer, ``get_or_create_global_step``, ``tf.summary`` + ``FileWriter``,
``write_graph``), so the demo doubles as an end-to-end check of those APIs.
:func:`build_classifier` builds the graph; :func:`train` runs it and writes
``graph.pbtxt`` and the TensorBoard event file; the CLI prints the result.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Any, Callable, NamedTuple, Optional

from graphflow import datasets

__all__ = ["OPTIMIZERS", "Classifier", "build_classifier", "make_optimizer", "train",
           "default_logdir", "DEFAULT_STEPS", "DEFAULT_BATCH", "DEFAULT_HIDDEN"]

DEFAULT_STEPS = 500
DEFAULT_BATCH = 64
DEFAULT_HIDDEN = (32, 32)

# name -> (tf.train class name, default learning rate, extra constructor kwargs).
# The rates are tuned so every optimizer clearly beats chance in DEFAULT_STEPS.
# Adadelta: Zeiler's epsilon (1e-6) and rate 1.0; TF's defaults (1e-8, 0.001)
# barely move in 500 steps. Ftrl: FTRL-Proximal pulls weights towards 0 in
# proportion to initial_accumulator_value; TF's 0.1 erases the random
# initialization on the first step and leaves a dead ReLU net, 1e-6 keeps it.
OPTIMIZERS: dict = {
    "sgd": ("GradientDescentOptimizer", 0.5, {}),
    "momentum": ("MomentumOptimizer", 0.03, {"momentum": 0.9}),
    "adam": ("AdamOptimizer", 0.01, {}),
    "adagrad": ("AdagradOptimizer", 0.3, {}),
    "rmsprop": ("RMSPropOptimizer", 0.005, {}),
    "adadelta": ("AdadeltaOptimizer", 1.0, {"epsilon": 1e-6}),
    "ftrl": ("FtrlOptimizer", 0.1, {"initial_accumulator_value": 1e-6}),
}


class Classifier(NamedTuple):
    """The demo graph's handles."""

    graph: Any
    x: Any
    y: Any
    logits: Any
    loss: Any
    accuracy: Any
    global_step: Any
    train_op: Any
    train_summaries: Any
    eval_summaries: Any
    init: Any


def make_optimizer(name: str, learning_rate: Optional[float] = None) -> Any:
    """A ``tf.train`` optimizer for one of ``OPTIMIZERS`` (ValueError otherwise)."""
    import graphflow as tf

    if name not in OPTIMIZERS:
        raise ValueError("Unknown optimizer %r; choose one of: %s"
                         % (name, ", ".join(OPTIMIZERS)))
    cls_name, default_lr, kwargs = OPTIMIZERS[name]
    lr = default_lr if learning_rate is None else learning_rate
    return getattr(tf.train, cls_name)(lr, **kwargs)


def _dense(tf: Any, h: Any, units: int, name: str, activation: Optional[Callable]) -> Any:
    """``activation(h @ weights + biases)`` with variables ``name/weights``, ``name/biases``."""
    with tf.variable_scope(name):
        w = tf.get_variable("weights", [int(h.shape[1]), units],
                            initializer=tf.glorot_uniform_initializer())
        b = tf.get_variable("biases", [units], initializer=tf.zeros_initializer())
        z = tf.nn.bias_add(tf.matmul(h, w), b)
        return activation(z) if activation is not None else z


def build_classifier(graph: Any, features: int, classes: int, optimizer: str = "adam",
                     learning_rate: Optional[float] = None, hidden: tuple = DEFAULT_HIDDEN,
                     seed: int = 0) -> Classifier:
    """Build the MLP, its loss, accuracy, train op and summaries into ``graph``.

    Summaries: ``loss`` and ``accuracy`` (the training batch, in the default
    ``SUMMARIES`` collection, merged with ``merge_all``) and ``eval/loss``,
    ``eval/accuracy`` (the held-out set, collection ``"eval_summaries"``).
    """
    import graphflow as tf

    with graph.as_default():
        tf.set_random_seed(seed)
        x = tf.placeholder(tf.float32, [None, features], name="x")
        y = tf.placeholder(tf.int32, [None], name="labels")
        h = x
        for i, units in enumerate(hidden):
            h = _dense(tf, h, units, "hidden%d" % (i + 1), tf.nn.relu)
        logits = _dense(tf, h, classes, "logits", None)
        loss = tf.losses.sparse_softmax_cross_entropy(labels=y, logits=logits)
        with tf.name_scope("metrics"):
            predicted = tf.argmax(logits, axis=1, output_type=tf.int32, name="predicted")
            correct = tf.cast(tf.equal(predicted, y), tf.float32)
            accuracy = tf.reduce_mean(correct, name="value")
        global_step = tf.train.get_or_create_global_step()
        train_op = make_optimizer(optimizer, learning_rate).minimize(
            loss, global_step=global_step, name="train")
        tf.summary.scalar("loss", loss)
        tf.summary.scalar("accuracy", accuracy)
        train_summaries = tf.summary.merge_all()
        tf.summary.scalar("eval/loss", loss, collections=["eval_summaries"])
        tf.summary.scalar("eval/accuracy", accuracy, collections=["eval_summaries"])
        eval_summaries = tf.summary.merge_all("eval_summaries")
        init = tf.global_variables_initializer()
    return Classifier(graph, x, y, logits, loss, accuracy, global_step, train_op,
                      train_summaries, eval_summaries, init)


class _Progress:
    """A tqdm bar on a terminal; plain lines (about ten) when stderr is not one."""

    def __init__(self, steps: int, enabled: bool) -> None:
        self.steps = steps
        self.bar = None
        self.enabled = enabled
        self.lines = enabled and not _isatty(sys.stderr)
        self.next_line = 0  # print a line at the first logged step >= this
        self.every = max(1, steps // 10)
        if enabled and not self.lines:
            from tqdm import tqdm
            try:
                size = os.get_terminal_size(sys.stderr.fileno())
            except (OSError, ValueError, AttributeError):
                size = os.terminal_size((0, 0))
            sized = size.columns > 0 and size.lines > 0
            # a terminal reporting a 0x0 size (e.g. a bare pty) would get no bar at all
            self.bar = tqdm(total=steps, desc="training", unit="step", file=sys.stderr,
                            ncols=None if sized else 80, nrows=None if sized else 24,
                            dynamic_ncols=sized, leave=True)

    def update(self, step: int, loss: Optional[float], acc: Optional[float]) -> None:
        if self.bar is not None:
            if loss is not None:
                self.bar.set_postfix([("loss", "%.4f" % loss), ("accuracy", "%.3f" % acc)],
                                     refresh=False)
            self.bar.update(1)
        elif self.lines and loss is not None and step >= self.next_line:
            self.next_line = (step // self.every + 1) * self.every
            print("step %*d/%d  loss %.4f  accuracy %.3f"
                  % (len(str(self.steps)), step, self.steps, loss, acc), file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def train(logdir: str, steps: int = DEFAULT_STEPS, optimizer: str = "adam",
          batch: int = DEFAULT_BATCH, seed: int = 0, learning_rate: Optional[float] = None,
          dataset: str = "spirals", log_every: int = 10, progress: bool = True) -> dict:
    """Train the demo classifier; write ``graph.pbtxt`` and an event file to ``logdir``.

    Every ``log_every`` steps (and at step 0) the training batch's loss and
    accuracy go to the event file (tags ``loss``, ``accuracy``) and the
    held-out set's to ``eval/loss``, ``eval/accuracy``; the event step is the
    global step *before* that update (the weights the loss was computed
    with). Everything random derives from ``seed``, so the numbers repeat.

    Returns:
      A dict: the settings, ``logged_steps``/``losses``/``accuracies`` (the
      batch values written as ``loss``/``accuracy``), ``final`` (train and
      held-out loss/accuracy after ``steps`` updates), ``chance`` accuracy,
      ``global_step``, ``files`` (graph, events), ``logdir``, ``seconds``.
    """
    import graphflow as tf

    start = time.perf_counter()
    data = datasets.load(dataset, seed=seed)
    train_set, test_set = data.split(0.25)
    g = tf.Graph()
    m = build_classifier(g, data.x.shape[1], data.classes, optimizer, learning_rate,
                         seed=seed)
    os.makedirs(logdir, exist_ok=True)
    graph_path = tf.train.write_graph(g, logdir, "graph.pbtxt")
    writer = tf.summary.FileWriter(logdir, graph=g)
    batches = datasets.minibatches(train_set, batch, seed=seed)
    eval_feed = {m.x: test_set.x, m.y: test_set.y}
    logged, losses, accs = [], [], []
    bar = _Progress(steps, progress)
    try:
        with tf.Session(graph=g) as sess:
            sess.run(m.init)
            for step in range(steps):
                bx, by = next(batches)
                feed = {m.x: bx, m.y: by}
                if step % log_every == 0:
                    _, loss, acc, summ = sess.run(
                        [m.train_op, m.loss, m.accuracy, m.train_summaries], feed)
                    writer.add_summary(summ, step)
                    writer.add_summary(sess.run(m.eval_summaries, eval_feed), step)
                    logged.append(step)
                    losses.append(float(loss))
                    accs.append(float(acc))
                    bar.update(step, float(loss), float(acc))
                else:
                    sess.run(m.train_op, feed)
                    bar.update(step, None, None)
            gstep = int(sess.run(m.global_step))
            tr_loss, tr_acc = sess.run([m.loss, m.accuracy],
                                       {m.x: train_set.x, m.y: train_set.y})
            te_loss, te_acc, summ = sess.run([m.loss, m.accuracy, m.eval_summaries],
                                             eval_feed)
            writer.add_summary(summ, gstep)
    finally:
        bar.close()
        writer.close()
    opt_class, default_lr, _ = OPTIMIZERS[optimizer]
    return {
        "dataset": dataset, "examples": {"train": len(train_set), "eval": len(test_set)},
        "classes": data.classes, "chance": 1.0 / data.classes,
        "layers": [int(data.x.shape[1]), *DEFAULT_HIDDEN, data.classes],
        "optimizer": optimizer, "optimizer_class": "tf.train." + opt_class,
        "learning_rate": default_lr if learning_rate is None else learning_rate,
        "steps": steps, "batch": batch, "seed": seed, "log_every": log_every,
        "logged_steps": logged, "losses": losses, "accuracies": accs,
        "final": {"train_loss": float(tr_loss), "train_accuracy": float(tr_acc),
                  "eval_loss": float(te_loss), "eval_accuracy": float(te_acc)},
        "global_step": gstep,
        "ops": len(g.get_operations()),
        "logdir": os.path.abspath(logdir),
        "files": {"graph": os.path.abspath(graph_path),
                  "events": os.path.abspath(writer.event_writer.path)},
        "seconds": round(time.perf_counter() - start, 3),
    }


def default_logdir(base: str = "graphflow-demo-logs") -> tuple:
    """``(path, note)``: the first free ``base/run-N`` under the current directory,
    or a new temporary directory when the current one is not writable."""
    import tempfile

    root = os.path.abspath(base)
    try:
        os.makedirs(root, exist_ok=True)
        n = 1
        while True:
            path = os.path.join(root, "run-%d" % n)
            try:
                os.mkdir(path)
                return path, "new directory under the current directory"
            except FileExistsError:
                n += 1
    except OSError:
        path = tempfile.mkdtemp(prefix="graphflow-demo-")
        return path, "temporary directory: the current directory is not writable"
