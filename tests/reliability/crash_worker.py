"""Subprocess side of tests/reliability/test_crash_safety.py.

Run as ``python crash_worker.py``: imports graphflow once, warms its kernels,
prints ``ready`` and then reads JSON commands from stdin, one a line,
``{"mode": "saver" | "saver_overwrite" | "write_graph" | "events", "dir": path}``. For each it forks
a child that resumes from what is on disk in ``dir`` and then writes forever
(Saver.save with a new step each time or to one prefix over and over,
tf.train.write_graph, or FileWriter add_summary + flush), and
prints ``child <pid>``; the test kills the child with SIGKILL at a random
moment. The worker reaps it and prints ``exit <pid> <wait status>``.

A child reports progress on the shared stdout with single ``os.write`` calls
(atomic in a pipe): ``resumed <k>`` (what it recovered from disk), ``start <k>``
(an operation begins), ``done <k>`` (it returned: saved, written, flushed).

Forking a warmed-up process keeps the 20-40 kills per writer within seconds
(a fresh interpreter would spend most of the time importing and compiling).
The functions building the expected content (``big_value``, ``build_graph``,
``event_summary``) are imported by the test to check what it reads.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile

import numpy as np

if __name__ == "__main__":
    sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

import graphflow as tf  # noqa: E402
from graphflow import errors  # noqa: E402
from graphflow.io import graph_def as graph_io  # noqa: E402
from graphflow.io import proto  # noqa: E402
from graphflow.summary import FileWriter, summary_iterator  # noqa: E402

BIG = 1 << 20          # float32 elements of the big variable (4 MB: a save takes a while)
GRAPH_CONST = 40_000   # float32 elements of the constant in the written graphs
GRAPH_NAMES = ("graph.pbtxt", "graph.pb")


# --- expected content, shared with the test ---------------------------------------------------
def big_value(k: int) -> np.ndarray:
    """The value of variable ``big`` in the checkpoint of step ``k``."""
    return (np.arange(BIG) % 13).astype(np.float32) + np.float32(k)


def build_saver_graph() -> tuple:
    """(graph, big, step, set_op, step_placeholder, saver) of the saving program."""
    g = tf.Graph()
    with g.as_default():
        big = tf.Variable(np.zeros(BIG, np.float32), name="big")
        step = tf.Variable(0, dtype=tf.int64, name="step")
        k = tf.placeholder(tf.int64, [], name="k")
        base = tf.constant((np.arange(BIG) % 13).astype(np.float32))
        set_op = tf.group(tf.assign(big, base + tf.cast(k, tf.float32)), tf.assign(step, k))
        saver = tf.train.Saver(max_to_keep=3)
    return g, big, step, set_op, k, saver


def build_graph(k: int) -> tf.Graph:
    """Version ``k`` of the graph given to write_graph: its node count and its
    ``marker`` constant (= k) change with k."""
    g = tf.Graph()
    with g.as_default():
        x = tf.constant(np.full(GRAPH_CONST, k % 1000, np.float32), name="payload")
        tf.constant(k, dtype=tf.int64, name="marker")
        for j in range(k % 17 + 3):
            x = tf.tanh(x, name="t%d" % j)
    return g


def graph_version(gd: object) -> int:
    """The ``marker`` value of a GraphDef written from ``build_graph``."""
    for n in gd.node:
        if n.name == "marker":
            return int(n.attr["value"].tensor.int64_val[0])
    raise ValueError("no marker node")


def event_summary(k: int) -> object:
    """The Summary written at step ``k`` (a few KB, size varying with k)."""
    s = proto.Summary()
    s.value.add(tag="loss", simple_value=0.5 * k)
    n = 150 + (k % 7) * 120
    h = s.value.add(tag="hist").histo
    h.min, h.max, h.num = float(k), float(k + n), float(n)
    h.bucket_limit.extend(float(k + j) for j in range(n))
    h.bucket.extend(float((k * j) % 5) for j in range(n))
    return s


# --- reading back (also used by the test) ----------------------------------------------------
def event_files(d: str) -> list:
    return sorted(os.path.join(d, f) for f in os.listdir(d) if ".tfevents." in f)


def read_events(path: str) -> tuple:
    """(events, error): the events of ``path`` up to the first DataLossError."""
    out = []
    try:
        for e in summary_iterator(path):
            out.append(e)
    except errors.DataLossError as e:
        return out, e
    return out, None


def steps_on_disk(d: str) -> list:
    """Steps of the summaries in every event file of ``d`` (complete records only)."""
    steps = []
    for p in event_files(d):
        events, _ = read_events(p)
        steps.extend(e.step for e in events if e.WhichOneof("what") == "summary")
    return steps


# --- the children ------------------------------------------------------------------------------
def emit(line: str) -> None:
    os.write(1, (line + "\n").encode())


def run_saver(d: str) -> None:
    g, big, step, set_op, kp, saver = build_saver_graph()
    sess = tf.Session(graph=g)
    sess.run(tf.variables_initializer([big, step]))
    k = 0
    latest = tf.train.latest_checkpoint(d)
    if latest is not None:
        state = tf.train.get_checkpoint_state(d)
        saver.recover_last_checkpoints(state.all_model_checkpoint_paths)
        saver.restore(sess, latest)
        k = int(sess.run(step))
    emit("resumed %d" % k)
    prefix = os.path.join(d, "model")
    while True:
        k += 1
        sess.run(set_op, {kp: k})
        emit("start %d" % k)
        saver.save(sess, prefix, global_step=k)
        emit("done %d" % k)


def run_saver_overwrite(d: str) -> None:
    """Save to one prefix over and over (``saver.save(sess, "model")``, no step)."""
    g, big, step, set_op, kp, saver = build_saver_graph()
    sess = tf.Session(graph=g)
    sess.run(tf.variables_initializer([big, step]))
    k = 0
    latest = tf.train.latest_checkpoint(d)
    if latest is not None:
        saver.restore(sess, latest)
        k = int(sess.run(step))
    emit("resumed %d" % k)
    prefix = os.path.join(d, "model")
    while True:
        k += 1
        sess.run(set_op, {kp: k})
        emit("start %d" % k)
        saver.save(sess, prefix)
        emit("done %d" % k)


def run_write_graph(d: str) -> None:
    k = 0
    try:
        k = graph_version(graph_io.read_graph_def(os.path.join(d, GRAPH_NAMES[1]),
                                                  as_text=False))
    except errors.NotFoundError:
        pass
    emit("resumed %d" % k)
    while True:
        k += 1
        g = build_graph(k)
        emit("start %d" % k)
        tf.train.write_graph(g, d, GRAPH_NAMES[0], as_text=True)
        tf.train.write_graph(g, d, GRAPH_NAMES[1], as_text=False)
        emit("done %d" % k)


def last_step_on_disk(d: str) -> int:
    """The newest summary step in ``d``: files newest first (their names hold the
    second they were opened), the first with a summary."""
    for p in sorted(event_files(d), reverse=True):
        events, _ = read_events(p)
        steps = [e.step for e in events if e.WhichOneof("what") == "summary"]
        if steps:
            return max(steps)
    return 0


def run_events(d: str) -> None:
    k = last_step_on_disk(d)
    w = FileWriter(d, max_queue=4, flush_secs=0.02)
    emit("resumed %d" % k)
    while True:
        k += 1
        emit("start %d" % k)
        w.add_summary(event_summary(k), global_step=k)
        if k % 3 == 0:
            w.flush()
            emit("done %d" % k)  # every step up to k is in the file


def run_steps(d: str, n: int) -> None:
    """Write checkpoint ``d/model`` (values ``step_value(2)``) and die, like SIGKILL
    (no cleanup), just before the ``n``-th file-system step (an ``os.replace``,
    ``os.fsync`` or ``os.remove`` call); report ``done`` if it finishes first."""
    from graphflow.io import checkpoint as ckpt_io
    count = [0]

    def hook(real):
        def call(*args, **kwargs):
            count[0] += 1
            if count[0] == n:
                os._exit(9)
            return real(*args, **kwargs)
        return call
    for name in ("replace", "fsync", "remove"):
        setattr(os, name, hook(getattr(os, name)))
    emit("resumed 0")
    ckpt_io.write_bundle(os.path.join(d, "model"), {"v": (step_value(2), tf.float64)})
    emit("done %d" % count[0])
    os._exit(0)


def step_value(k: int) -> np.ndarray:
    return np.arange(50_000, dtype=np.float64) * k


MODES = {"saver": run_saver, "saver_overwrite": run_saver_overwrite,
         "write_graph": run_write_graph, "events": run_events}


def _warm_up() -> None:
    """Compile and load everything the children use, before forking."""
    with tempfile.TemporaryDirectory() as d:
        g, big, step, set_op, kp, saver = build_saver_graph()
        with tf.Session(graph=g) as sess:
            sess.run(tf.variables_initializer([big, step]))
            sess.run(set_op, {kp: 1})
            path = saver.save(sess, os.path.join(d, "model"), global_step=1)
            saver.restore(sess, path)
        tf.train.write_graph(build_graph(1), d, "g.pb", as_text=False)
        w = FileWriter(d)
        w.add_summary(event_summary(1), 1)
        w.close()
        steps_on_disk(d)


def main() -> None:
    _warm_up()
    emit("ready")
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        pid = os.fork()
        if pid == 0:
            try:
                os.makedirs(cmd["dir"], exist_ok=True)
                if cmd["mode"] == "steps":
                    run_steps(cmd["dir"], cmd["n"])
                MODES[cmd["mode"]](cmd["dir"])
            except BaseException as e:  # noqa: BLE001 - reported to the test
                emit("error %s" % json.dumps("%s: %s" % (type(e).__name__, e)))
            finally:
                os._exit(3)
        emit("child %d" % pid)
        _, status = os.waitpid(pid, 0)
        emit("exit %d %d" % (pid, status))


if __name__ == "__main__":
    main()
