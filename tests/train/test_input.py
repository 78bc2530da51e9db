"""Input pipelines (tf.train.limit_epochs, input_producer, slice_input_producer,
batch, shuffle_batch ...) and training fed from them: a model trained from a
queue pipeline matches the same model trained through feed_dict on the same
batches; the example script runs.

No test can hang: sessions carry ``operation_timeout_in_ms`` and every
coordinator join has a grace period.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import graphflow as tf

TIMEOUT_MS = 30000
ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def _session(**kw):
    return tf.Session(config=tf.ConfigProto(operation_timeout_in_ms=TIMEOUT_MS), **kw)


def _drain(sess, fetches, max_steps=100000):
    """The standard TF1 loop: run ``fetches`` until the input ends; returns the results."""
    coord = tf.train.Coordinator()
    threads = tf.train.start_queue_runners(sess, coord)
    out = []
    try:
        while not coord.should_stop():
            out.append(sess.run(fetches))
            assert len(out) < max_steps
    except tf.errors.OutOfRangeError:
        pass
    finally:
        coord.request_stop()
    coord.join(threads, stop_grace_period_secs=10)
    assert not any(t.is_alive() for t in threads)
    return out


# --- producers --------------------------------------------------------------------------------
def test_limit_epochs_counts_in_a_local_variable():
    x = tf.train.limit_epochs(tf.constant([1, 2]), num_epochs=3)
    assert x.op.type == "Identity" and x.op.name == "limit_epochs"
    local = tf.local_variables()
    assert [v.op.name for v in local] == ["limit_epochs/epochs"] and not tf.trainable_variables()
    with pytest.raises(ValueError, match="num_epochs must be > 0"):
        tf.train.limit_epochs(tf.constant(1), num_epochs=0)
    assert tf.train.limit_epochs(x) is x
    with _session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run(x)  # the epoch counter needs tf.local_variables_initializer()
        sess.run(tf.local_variables_initializer())
        for _ in range(3):
            np.testing.assert_array_equal(sess.run(x), [1, 2])
        with pytest.raises(tf.errors.OutOfRangeError, match="Reached limit of 3"):
            sess.run(x)


def test_input_producer_in_order_then_out_of_range():
    q = tf.train.input_producer(tf.constant([[1, 2], [3, 4], [5, 6]]), num_epochs=2,
                                shuffle=False, capacity=4)
    row = q.dequeue()
    assert row.shape.as_list() == [2]
    with _session() as sess:
        sess.run(tf.local_variables_initializer())
        got = _drain(sess, row)
    np.testing.assert_array_equal(got, [[1, 2], [3, 4], [5, 6]] * 2)


def test_input_producer_shuffles_each_epoch():
    tf.set_random_seed(3)
    q = tf.train.range_input_producer(20, num_epochs=3, shuffle=True, seed=5, capacity=8)
    v = q.dequeue()
    with _session() as sess:
        sess.run(tf.local_variables_initializer())
        got = _drain(sess, v)
    epochs = [got[i * 20:(i + 1) * 20] for i in range(3)]
    assert len(got) == 60 and all(sorted(e) == list(range(20)) for e in epochs)
    assert epochs[0] != list(range(20)) and epochs[0] != epochs[1]


def test_string_input_producer():
    q = tf.train.string_input_producer(["a.txt", "b.txt"], num_epochs=2, shuffle=False)
    name = q.dequeue()
    assert name.dtype == tf.string
    with _session() as sess:
        sess.run(tf.local_variables_initializer())
        assert _drain(sess, name) == [b"a.txt", b"b.txt"] * 2
    with pytest.raises(ValueError, match="non-null"):
        tf.train.string_input_producer(np.array([], dtype=object))


def test_slice_input_producer_each_row_once_per_epoch():
    xs = np.arange(30, dtype=np.float32).reshape(10, 3)
    ys = np.arange(10, dtype=np.int32) * 7
    x, y = tf.train.slice_input_producer([xs, ys], num_epochs=3, shuffle=True, seed=1)
    assert x.shape.as_list() == [3] and y.shape.as_list() == []
    with _session() as sess:
        sess.run(tf.local_variables_initializer())
        got = _drain(sess, [x, y])
    assert len(got) == 30
    for gx, gy in got:  # rows stay paired
        np.testing.assert_array_equal(gx, xs[gy // 7])
    counts = np.bincount([gy // 7 for _, gy in got], minlength=10)
    np.testing.assert_array_equal(counts, [3] * 10)
    with pytest.raises(ValueError, match="same size in dimension 0"):
        tf.train.slice_input_producer([xs, ys[:5]])


# --- batching ---------------------------------------------------------------------------------
def test_batch_shapes_and_smaller_final_batch():
    x, = tf.train.slice_input_producer([np.arange(10, dtype=np.int64)], num_epochs=1,
                                       shuffle=False)
    b = tf.train.batch([x], batch_size=4, allow_smaller_final_batch=True)
    assert isinstance(b, tf.Tensor)  # TF quirk: one component comes back bare
    assert b.shape.as_list() == [None] and b.op.name == "batch"
    with _session() as sess:
        sess.run(tf.local_variables_initializer())
        got = _drain(sess, b)
    assert [list(g) for g in got] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_batch_dict_input_and_full_batches_only():
    x, = tf.train.slice_input_producer([np.arange(10, dtype=np.int32)], num_epochs=1,
                                       shuffle=False)
    out = tf.train.batch({"a": x, "b": x * 2}, batch_size=4)
    assert sorted(out) == ["a", "b"] and out["a"].shape.as_list() == [4]
    with _session() as sess:
        sess.run(tf.local_variables_initializer())
        got = _drain(sess, out)
    assert len(got) == 2  # the last 2 elements cannot fill a batch
    np.testing.assert_array_equal(got[1]["b"], 2 * np.arange(4, 8))


def test_batch_enqueue_many_and_dynamic_pad():
    rows = tf.constant(np.arange(12, dtype=np.float32).reshape(6, 2))
    b = tf.train.batch([rows], batch_size=3, enqueue_many=True, capacity=10)
    assert b.shape.as_list() == [3, 2]
    p = tf.placeholder_with_default(np.array([1, 2, 3], np.int32), [None])
    padded = tf.train.batch([p], batch_size=2, dynamic_pad=True)
    assert padded.shape.as_list() == [2, None]
    with pytest.raises(ValueError, match="fully defined"):
        tf.train.batch([p], batch_size=2)
    with _session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        try:
            np.testing.assert_array_equal(sess.run(b), np.arange(6).reshape(3, 2))
            np.testing.assert_array_equal(sess.run(padded), [[1, 2, 3], [1, 2, 3]])
        finally:
            coord.request_stop()
            coord.join(threads, stop_grace_period_secs=10)


def test_shuffle_batch_delivers_every_example_once_per_epoch():
    n, epochs = 40, 2
    x, = tf.train.slice_input_producer([np.arange(n, dtype=np.int32)], num_epochs=epochs,
                                       shuffle=False)
    b = tf.train.shuffle_batch([x], batch_size=5, capacity=30, min_after_dequeue=10,
                               num_threads=3, seed=2)
    assert b.shape.as_list() == [5]
    with pytest.raises(ValueError, match="must be bigger than min_after_dequeue"):
        tf.train.shuffle_batch([x], batch_size=5, capacity=10, min_after_dequeue=10)
    with _session() as sess:
        sess.run(tf.local_variables_initializer())
        got = np.concatenate(_drain(sess, b))
    np.testing.assert_array_equal(np.bincount(got, minlength=n), [epochs] * n)
    assert list(got[:n]) != list(range(n))  # shuffled


def test_batch_join_and_shuffle_batch_join():
    a = tf.constant([1, 2, 3, 4])
    c = tf.constant([10, 20, 30, 40])
    bj = tf.train.batch_join([[a], [c]], batch_size=2, enqueue_many=True)
    sj = tf.train.shuffle_batch_join([[a], [c]], batch_size=8, capacity=20,
                                     min_after_dequeue=0, enqueue_many=True, seed=1)
    with _session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        try:
            got = set(np.concatenate([sess.run(bj) for _ in range(4)]).tolist())
            assert got <= {1, 2, 3, 4, 10, 20, 30, 40}
            assert set(sess.run(sj).tolist()) <= {1, 2, 3, 4, 10, 20, 30, 40}
        finally:
            coord.request_stop()
            coord.join(threads, stop_grace_period_secs=10)


# --- training from a pipeline -------------------------------------------------------------
N, D, BATCH, EPOCHS, LR = 64, 3, 8, 15, 0.05


def _data():
    rng = np.random.RandomState(42)
    xs = rng.randn(N, D).astype(np.float32)
    w = np.array([[1.5], [-2.0], [0.5]], np.float32)
    ys = (xs @ w + 0.3 + 0.05 * rng.randn(N, 1)).astype(np.float32)
    return xs, ys


def _model(bx, by):
    w = tf.Variable(tf.zeros([D, 1]), name="w")
    b = tf.Variable(0.0, name="b")
    loss = tf.reduce_mean(tf.square(tf.matmul(bx, w) + b - by))
    train = tf.train.GradientDescentOptimizer(LR).minimize(loss)
    return train, loss, w, b


def _full_loss(w, b, xs, ys):
    return float(np.mean((xs @ w + b - ys) ** 2))


def _train_from_pipeline(shuffle):
    xs, ys = _data()
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(7)
        x, y = tf.train.slice_input_producer([xs, ys], num_epochs=EPOCHS, shuffle=shuffle)
        if shuffle:
            bx, by = tf.train.shuffle_batch([x, y], BATCH, capacity=4 * BATCH,
                                            min_after_dequeue=2 * BATCH, num_threads=2)
        else:
            bx, by = tf.train.batch([x, y], BATCH, num_threads=1)
        train, loss, w, b = _model(bx, by)
        with _session(graph=g) as sess:
            sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
            steps = _drain(sess, [train, loss, bx, by])
            return [s[1] for s in steps], [(s[2], s[3]) for s in steps], sess.run([w, b])


def _train_from_feeds(batches):
    g = tf.Graph()
    with g.as_default():
        px = tf.placeholder(tf.float32, [None, D])
        py = tf.placeholder(tf.float32, [None, 1])
        train, loss, w, b = _model(px, py)
        with _session(graph=g) as sess:
            sess.run(tf.global_variables_initializer())
            losses = [sess.run([train, loss], {px: bx, py: by})[1] for bx, by in batches]
            return losses, sess.run([w, b])


def test_fifo_pipeline_training_matches_feed_dict():
    xs, ys = _data()
    losses, batches, (w, b) = _train_from_pipeline(shuffle=False)
    assert len(losses) == N * EPOCHS // BATCH
    in_order = [(xs[i:i + BATCH], ys[i:i + BATCH]) for _ in range(EPOCHS)
                for i in range(0, N, BATCH)]
    for (bx, by), (ex, ey) in zip(batches, in_order):  # FIFO: the data order is the array's
        np.testing.assert_array_equal(bx, ex)
        np.testing.assert_array_equal(by, ey)
    feed_losses, (fw, fb) = _train_from_feeds(in_order)
    np.testing.assert_allclose(losses, feed_losses, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(w, fw, rtol=1e-5, atol=1e-6)


def test_shuffle_batch_training_reaches_the_feed_dict_loss():
    xs, ys = _data()
    losses, batches, (w, b) = _train_from_pipeline(shuffle=True)
    assert len(losses) == N * EPOCHS // BATCH
    seen = np.concatenate([bx for bx, _ in batches])
    assert sorted(map(tuple, seen)) == sorted(map(tuple, np.tile(xs, (EPOCHS, 1))))
    # replaying the very batches the pipeline produced through feed_dict gives the same run
    replay_losses, (rw, rb) = _train_from_feeds(batches)
    np.testing.assert_allclose(losses, replay_losses, rtol=1e-5, atol=1e-7)
    # and the model ends where the in-order (FIFO) feed_dict training ends
    in_order = [(xs[i:i + BATCH], ys[i:i + BATCH]) for _ in range(EPOCHS)
                for i in range(0, N, BATCH)]
    _, (fw, fb) = _train_from_feeds(in_order)
    shuffled_loss, fifo_loss = _full_loss(w, b, xs, ys), _full_loss(fw, fb, xs, ys)
    lstsq = np.linalg.lstsq(np.hstack([xs, np.ones((N, 1))]), ys, rcond=None)[0]
    best = _full_loss(lstsq[:D], lstsq[D], xs, ys)
    assert fifo_loss < best + 0.01 and shuffled_loss < best + 0.01
    assert abs(shuffled_loss - fifo_loss) < 0.01


def test_example_script_runs():
    script = os.path.join(ROOT, "examples", "queue_training.py")
    env = dict(os.environ, PYTHONPATH=os.path.abspath(ROOT) + os.pathsep
               + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, script, "--epochs", "10"], capture_output=True,
                          text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "final loss" in proc.stdout and "done: input exhausted" in proc.stdout
