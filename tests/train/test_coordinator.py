"""tf.train.Coordinator, LooperThread and QueueRunner: stopping, joining with a
grace period, exception reporting, and ending threads when the session closes.

Every join has a timeout and sessions carry ``operation_timeout_in_ms``.
"""
import sys
import threading
import time

import numpy as np
import pytest

import graphflow as tf

TIMEOUT_MS = 20000
JOIN_SECS = 30.0


def _session(**kw):
    return tf.Session(config=tf.ConfigProto(operation_timeout_in_ms=TIMEOUT_MS), **kw)


def _all_dead(threads, secs=JOIN_SECS):
    end = time.monotonic() + secs
    for t in threads:
        t.join(max(0.0, end - time.monotonic()))
    return not any(t.is_alive() for t in threads)


# --- Coordinator ------------------------------------------------------------------------------
def test_request_stop_reaches_every_thread():
    coord = tf.train.Coordinator()
    steps = []

    def loop(k):
        while not coord.should_stop():
            steps.append(k)
            time.sleep(0.001)
    threads = [threading.Thread(target=loop, args=(k,), daemon=True) for k in range(3)]
    for t in threads:
        t.start()
    assert not coord.should_stop()
    time.sleep(0.05)
    coord.request_stop()
    assert coord.should_stop() and coord.wait_for_stop(0.0)
    coord.join(threads, stop_grace_period_secs=10)
    assert _all_dead(threads, 0) and set(steps) == {0, 1, 2} and coord.joined


def test_join_reraises_the_first_reported_exception():
    coord = tf.train.Coordinator()

    def failing():
        with coord.stop_on_exception():
            raise ValueError("boom")

    def second():
        coord.wait_for_stop(10)
        coord.request_stop(RuntimeError("later"))  # after the stop: ignored
    threads = [threading.Thread(target=failing), threading.Thread(target=second)]
    for t in threads:
        t.start()
    with pytest.raises(ValueError, match="boom"):
        coord.join(threads, stop_grace_period_secs=10)
    assert _all_dead(threads)
    with pytest.raises(ValueError, match="boom"):
        coord.raise_requested_exception()


def test_out_of_range_is_a_clean_stop():
    coord = tf.train.Coordinator()
    coord.request_stop(tf.errors.OutOfRangeError(None, None, "end of data"))
    assert coord.should_stop()
    coord.join([], stop_grace_period_secs=1)  # no exception
    custom = tf.train.Coordinator(clean_stop_exception_types=(KeyError,))
    custom.request_stop(KeyError("fine"))
    custom.join([])
    strict = tf.train.Coordinator(clean_stop_exception_types=())
    strict.request_stop(tf.errors.OutOfRangeError(None, None, "end of data"))
    with pytest.raises(tf.errors.OutOfRangeError):
        strict.join([])


def test_request_stop_with_exc_info_tuple():
    coord = tf.train.Coordinator()
    try:
        raise KeyError("k")
    except KeyError:
        coord.request_stop(sys.exc_info())
    with pytest.raises(KeyError):
        coord.join([])


def test_join_times_out_on_stragglers():
    coord = tf.train.Coordinator()
    release = threading.Event()
    t = threading.Thread(target=release.wait, args=(30,), name="Straggler", daemon=True)
    t.start()
    coord.request_stop()
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match="Coordinator stopped with threads still running: "
                                           "Straggler"):
        coord.join([t], stop_grace_period_secs=0.2)
    assert 0.15 < time.monotonic() - t0 < 5
    coord.clear_stop()
    coord.request_stop()
    coord.join([t], stop_grace_period_secs=0.05, ignore_live_threads=True)  # only logs
    release.set()
    assert _all_dead([t])


def test_join_waits_for_threads_without_stop_request():
    coord = tf.train.Coordinator()
    t = threading.Thread(target=time.sleep, args=(0.1,))
    coord.register_thread(t)
    t.start()
    coord.join(stop_grace_period_secs=1)  # registered threads are joined
    assert not t.is_alive() and not coord.should_stop()


def test_clear_stop_and_request_after_join():
    coord = tf.train.Coordinator()
    coord.request_stop(ValueError("first"))
    with pytest.raises(ValueError):
        coord.join([])
    with pytest.raises(TypeError, match="second"):  # joined: raised at once
        coord.request_stop(TypeError("second"))
    coord.clear_stop()
    assert not coord.should_stop() and not coord.joined
    assert not coord.wait_for_stop(0.01)
    coord.request_stop()
    coord.join([])


def test_looper_thread_runs_until_stop():
    coord = tf.train.Coordinator()
    calls = []
    looper = tf.train.LooperThread.loop(coord, 0.01, target=calls.append, args=(1,))
    time.sleep(0.1)
    coord.request_stop()
    coord.join(stop_grace_period_secs=10)
    assert not looper.is_alive() and len(calls) >= 3
    coord2 = tf.train.Coordinator()

    def fail():
        raise ValueError("looper failed")
    tf.train.LooperThread.loop(coord2, None, target=fail)
    assert coord2.wait_for_stop(10)
    with pytest.raises(ValueError, match="looper failed"):
        coord2.join(stop_grace_period_secs=10)


# --- QueueRunner -----------------------------------------------------------------------------
def test_queue_runner_fills_queue_and_stops_with_coordinator():
    q = tf.FIFOQueue(4, tf.int32, shapes=[])
    counter = tf.Variable(0)
    inc = tf.assign_add(counter, 1, use_locking=True)
    qr = tf.train.QueueRunner(q, [q.enqueue(inc)] * 2)
    assert qr.close_op.type == "QueueCloseV2" and qr.cancel_op.get_attr(
        "cancel_pending_enqueues")
    tf.train.add_queue_runner(qr)
    assert tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS) == [qr]
    deq = q.dequeue_many(10)
    with _session() as sess:
        sess.run(counter.initializer)
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        assert len(threads) == 3  # two enqueue threads + the close-on-stop thread
        assert tf.train.start_queue_runners(sess, coord) == []  # already running
        got = sess.run(deq)
        assert len(set(got.tolist())) == 10 and got.min() >= 1
        coord.request_stop()  # threads blocked on the full queue get cancelled
        coord.join(threads, stop_grace_period_secs=10)
        assert _all_dead(threads, 0)
        assert sess.run(q.is_closed())


def test_queue_runner_reports_errors_to_coordinator():
    q = tf.FIFOQueue(4, tf.float32, shapes=[2])
    bad = tf.placeholder_with_default(np.zeros(3, np.float32), [None])
    qr = tf.train.QueueRunner(q, [q.enqueue(bad)])
    with _session() as sess:
        coord = tf.train.Coordinator()
        threads = qr.create_threads(sess, coord=coord, start=True)
        assert coord.wait_for_stop(10)
        with pytest.raises(tf.errors.InvalidArgumentError, match="Shape mismatch"):
            coord.join(threads, stop_grace_period_secs=10)
        assert _all_dead(threads)


def test_queue_runner_without_coordinator_records_exceptions(monkeypatch):
    monkeypatch.setattr(threading, "excepthook", lambda args: None)  # expected thread error
    q = tf.FIFOQueue(4, tf.float32, shapes=[2])
    bad = tf.placeholder_with_default(np.zeros(3, np.float32), [None])
    qr = tf.train.QueueRunner(q, [q.enqueue(bad)])
    with _session() as sess:
        threads = qr.create_threads(sess, start=True)
        assert len(threads) == 1 and _all_dead(threads)
    assert len(qr.exceptions_raised) == 1
    assert isinstance(qr.exceptions_raised[0], tf.errors.InvalidArgumentError)


def test_queue_runner_closes_queue_when_input_ends():
    data = tf.train.limit_epochs(tf.constant([1, 2, 3]), num_epochs=2)
    q = tf.FIFOQueue(10, tf.int32, shapes=[])
    qr = tf.train.QueueRunner(q, [q.enqueue_many([data])])
    deq = q.dequeue()
    with _session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = qr.create_threads(sess, coord=coord, start=True)
        got = []
        try:
            while not coord.should_stop():
                got.append(sess.run(deq))
        except tf.errors.OutOfRangeError:
            pass
        finally:
            coord.request_stop()
        coord.join(threads, stop_grace_period_secs=10)
        assert got == [1, 2, 3, 1, 2, 3] and sess.run(q.is_closed())


def test_start_queue_runners_needs_a_session():
    with pytest.raises(ValueError, match="No default session"):
        tf.train.start_queue_runners()
    with pytest.raises(ValueError, match="Must provide queue and enqueue_ops"):
        tf.train.QueueRunner(None, None)


def test_closing_session_ends_runner_threads():
    """No coordinator stop, consumer blocked, runners blocked on a full queue:
    closing the session unblocks all of them and no thread is left behind."""
    before = set(threading.enumerate())
    q = tf.FIFOQueue(2, tf.int32, shapes=[])
    empty = tf.FIFOQueue(2, tf.int32, shapes=[])
    tf.train.add_queue_runner(tf.train.QueueRunner(q, [q.enqueue(1)] * 3))
    consumer_errors = []
    sess = _session()
    coord = tf.train.Coordinator()
    threads = tf.train.start_queue_runners(sess, coord)

    def consume():
        try:
            sess.run(empty.dequeue())
        except Exception as e:  # noqa: BLE001
            consumer_errors.append(e)
    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    end = time.monotonic() + JOIN_SECS
    while len(getattr(sess._state.op_state.get(empty.queue_ref.op.name), "_deq_line", ())) < 1 \
            or sess.run(q.size()) < 2:  # consumer waiting, runners blocked on the full queue
        assert time.monotonic() < end
        time.sleep(0.002)
    assert all(t.is_alive() for t in threads)
    sess.close()
    assert _all_dead(threads + [consumer], 10)
    assert not coord.should_stop()  # the close was not reported as an error
    assert len(consumer_errors) == 1
    assert isinstance(consumer_errors[0], tf.errors.CancelledError)
    assert set(threading.enumerate()) <= before
