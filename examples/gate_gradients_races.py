"""What gate_gradients does to a graph, measured (seed 003, section 2.3).

Seed 003 quotes TF's documentation:

- GATE_NONE: compute and apply gradients in parallel. Maximum parallelism,
  but "non-reproducible" results: the gradients of a matmul depend on its
  inputs, and one gradient may be applied to an input before another
  gradient that reads it has been computed.
- GATE_OP: for each op, all its input gradients are computed before any is
  used (``tf.tuple`` per op).
- GATE_GRAPH: all gradients of all variables are computed before any is used.

This program builds the same 2-layer MLP under the three modes and prints,
for each, a structure row (ops, control edges, barriers, critical path,
the most kernels that could run at once) and the races that ``graphflow.analysis.races`` finds: the
(read, update) pairs no edge orders. Under GATE_NONE the gradient that
carries the error back to the first layer (``gradients/MatMul_1_grad/MatMul``)
reads w2 while ``update_w2`` may already have changed it.
"""
import graphflow as tf
from graphflow import analysis

MODES = (("GATE_NONE", tf.train.Optimizer.GATE_NONE),
         ("GATE_OP", tf.train.Optimizer.GATE_OP),
         ("GATE_GRAPH", tf.train.Optimizer.GATE_GRAPH))


def build(gate):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [32, 4], name="x")
        labels = tf.placeholder(tf.float32, [32, 3], name="labels")
        w1 = tf.Variable(tf.random_normal([4, 8], seed=1), name="w1")
        b1 = tf.Variable(tf.zeros([8]), name="b1")
        w2 = tf.Variable(tf.random_normal([8, 3], seed=2), name="w2")
        hidden = tf.nn.relu(tf.matmul(x, w1) + b1)
        logits = tf.matmul(hidden, w2)
        loss = tf.reduce_mean(tf.square(logits - labels))
        train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss, gate_gradients=gate)
    return g, train_op


if __name__ == "__main__":
    rows = []
    found = {}
    for label, gate in MODES:
        g, train_op = build(gate)
        report = analysis.structure_report(g, train_op)
        found[label] = analysis.races(g, train_op)
        rows.append(dict(report.row(), gate=label, races=len(found[label])))
    print(analysis.format_rows(rows, keys=("gate",),
                               columns=("ops", "control_edges", "barriers",
                                        "critical_path_ops", "critical_path_flops",
                                        "work_width", "races")))
    for label, _ in MODES:
        print("")
        print("%s: %s" % (label, analysis.format_races(found[label])))
