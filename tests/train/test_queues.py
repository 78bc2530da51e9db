"""Queues (tf.FIFOQueue, PaddingFIFOQueue, RandomShuffleQueue, PriorityQueue):
semantics, errors, deadlines, cancellation, exactly-once delivery across
threads, and Session.run from several threads at once.

No test can hang: sessions carry ``operation_timeout_in_ms`` (every blocking
op has a deadline) and every thread is joined with a timeout.
"""
import threading
import time

import numpy as np
import pytest

import graphflow as tf

TIMEOUT_MS = 20000
JOIN_SECS = 30.0


def _session(**kw):
    return tf.Session(config=tf.ConfigProto(operation_timeout_in_ms=TIMEOUT_MS), **kw)


def _start(target, *args):
    t = threading.Thread(target=target, args=args, daemon=True)
    t.start()
    return t


def _waiting(sess, q, line):
    """How many ops wait in ``line`` ("_enq_line"/"_deq_line") of ``q`` in ``sess``
    (peeks at the queue resource so tests need not guess with sleeps)."""
    res = sess._state.op_state.get(q.queue_ref.op.name)
    return 0 if res is None else len(getattr(res, line))


def _wait_until(pred, secs=JOIN_SECS):
    end = time.monotonic() + secs
    while not pred():
        assert time.monotonic() < end, "condition not reached in time"
        time.sleep(0.002)


def _join_all(threads):
    for t in threads:
        t.join(JOIN_SECS)
    assert not any(t.is_alive() for t in threads), "a thread did not finish in time"


# --- basic semantics ---------------------------------------------------------------------
def test_fifo_order_components_and_static_shapes():
    q = tf.FIFOQueue(10, [tf.float32, tf.int32], shapes=[[2], []])
    enq = q.enqueue_many([np.arange(8, dtype=np.float32).reshape(4, 2), [10, 11, 12, 13]])
    x, y = q.dequeue()
    xs, ys = q.dequeue_many(2)
    assert x.shape.as_list() == [2] and y.shape.as_list() == []
    assert xs.shape.as_list() == [2, 2] and ys.dtype == tf.int32
    assert q.queue_ref.dtype == tf.resource and q.dtypes == [tf.float32, tf.int32]
    with _session() as sess:
        sess.run(enq)
        assert sess.run(q.size()) == 4
        a, b = sess.run([x, y])
        np.testing.assert_array_equal(a, [0, 1])
        assert b == 10
        a, b = sess.run([xs, ys])
        np.testing.assert_array_equal(a, [[2, 3], [4, 5]])
        np.testing.assert_array_equal(b, [11, 12])
        assert sess.run(q.size()) == 1


def test_single_component_and_named_components():
    q = tf.FIFOQueue(5, tf.int32, shapes=[])
    v = q.dequeue()
    assert isinstance(v, tf.Tensor)
    nq = tf.FIFOQueue(5, [tf.int32, tf.float32], shapes=[[], []], names=["a", "b"])
    enq = nq.enqueue({"a": 3, "b": 1.5})
    out = nq.dequeue()
    assert sorted(out) == ["a", "b"]
    with pytest.raises(ValueError, match="dictionary"):
        nq.enqueue([1, 2.0])
    with _session() as sess:
        sess.run([q.enqueue(7), enq])
        assert sess.run(v) == 7
        got = sess.run(out)
        assert got["a"] == 3 and got["b"] == np.float32(1.5)


def test_build_time_shape_and_count_checks():
    q = tf.FIFOQueue(5, [tf.float32], shapes=[[2]])
    with pytest.raises(ValueError):
        q.enqueue([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError):
        q.enqueue_many([[1.0, 2.0]])  # rows of shape [] against [2]
    with pytest.raises(ValueError, match="Expected 1 components"):
        q.enqueue([1.0, 2.0])
    with pytest.raises(ValueError, match="fully defined"):
        tf.FIFOQueue(5, [tf.float32], shapes=[[None]])


def test_run_time_shape_mismatch_is_invalid_argument():
    q = tf.FIFOQueue(5, [tf.float32], shapes=[[2]])
    p = tf.placeholder(tf.float32)
    enq = q.enqueue([p])
    with _session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"Shape mismatch in tuple "
                           r"component 0. Expected \[2\], got \[3\]"):
            sess.run(enq, {p: [1.0, 2.0, 3.0]})


def test_enqueue_copies_its_input():
    v = tf.Variable([1.0, 2.0])
    q = tf.FIFOQueue(5, tf.float32, shapes=[[2]])
    enq = q.enqueue(v)
    bump = tf.assign_add(v, [10.0, 10.0])
    with _session() as sess:
        sess.run(v.initializer)
        fed = np.array([5.0, 6.0], np.float32)
        sess.run(enq)
        sess.run(bump)
        np.testing.assert_array_equal(sess.run(q.dequeue()), [1.0, 2.0])
        p = tf.placeholder(tf.float32, [2])
        sess.run(q.enqueue(p), {p: fed})
        fed[:] = 0
        np.testing.assert_array_equal(sess.run(q.dequeue()), [5.0, 6.0])


def test_queues_are_per_session():
    q = tf.FIFOQueue(5, tf.int32, shapes=[])
    enq = q.enqueue(1)
    with _session() as s1, _session() as s2:
        s1.run(enq)
        s1.run(enq)
        assert s1.run(q.size()) == 2 and s2.run(q.size()) == 0


def test_closed_queue_errors():
    q = tf.FIFOQueue(5, tf.int32, shapes=[])
    enq = q.enqueue(1)
    deq = q.dequeue()
    close = q.close()
    with _session() as sess:
        sess.run(enq)
        assert not sess.run(q.is_closed())
        sess.run(close)
        assert sess.run(q.is_closed())
        assert sess.run(deq) == 1  # a closed queue still drains
        with pytest.raises(tf.errors.OutOfRangeError) as e:
            sess.run(deq)
        assert str(e.value).startswith(
            "FIFOQueue '_0_fifo_queue' is closed and has insufficient elements "
            "(requested 1, current size 0)")
        assert "[[{{node fifo_queue_Dequeue}}]]" in str(e.value)
        with pytest.raises(tf.errors.AbortedError, match="FIFOQueue '_0_fifo_queue' is closed."):
            sess.run(enq)
        with pytest.raises(tf.errors.CancelledError, match="is already closed"):
            sess.run(close)
        sess.run(q.close(cancel_pending_enqueues=True))  # no error when cancelling


def test_dequeue_many_and_up_to_on_closed_queue():
    q = tf.FIFOQueue(10, tf.int32, shapes=[])
    many = q.dequeue_many(4)
    up_to = q.dequeue_up_to(4)
    assert up_to.shape.as_list() == [None] and many.shape.as_list() == [4]
    with _session() as sess:
        sess.run(q.enqueue_many([[1, 2, 3, 4, 5, 6]]))
        sess.run(q.close())
        np.testing.assert_array_equal(sess.run(many), [1, 2, 3, 4])
        with pytest.raises(tf.errors.OutOfRangeError, match=r"requested 4, current size 2"):
            sess.run(many)
        assert sess.run(q.size()) == 2  # the failed dequeue_many took nothing
        np.testing.assert_array_equal(sess.run(up_to), [5, 6])
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(up_to)


def test_dequeue_many_needs_shapes():
    q = tf.FIFOQueue(10, tf.int32)
    with _session() as sess:
        sess.run(q.enqueue(1))
        with pytest.raises(tf.errors.InvalidArgumentError, match="specified shapes"):
            sess.run(q.dequeue_many(1))


# --- deadlines and cancellation ----------------------------------------------------------------
def test_run_options_timeout_is_deadline_exceeded():
    q = tf.FIFOQueue(1, tf.int32, shapes=[])
    deq = q.dequeue()
    enq = q.enqueue(1)
    with tf.Session() as sess:
        t0 = time.monotonic()
        with pytest.raises(tf.errors.DeadlineExceededError,
                           match="Timed out waiting for notification"):
            sess.run(deq, options=tf.RunOptions(timeout_in_ms=100))
        assert 0.09 < time.monotonic() - t0 < 5
        sess.run(enq)
        with pytest.raises(tf.errors.DeadlineExceededError):  # full queue
            sess.run(enq, options=tf.RunOptions(timeout_in_ms=50))
        assert sess.run(q.size()) == 1 and sess.run(deq) == 1


def test_config_operation_timeout_applies_to_every_run():
    q = tf.FIFOQueue(1, tf.int32, shapes=[])
    with tf.Session(config=tf.ConfigProto(operation_timeout_in_ms=80)) as sess:
        with pytest.raises(tf.errors.DeadlineExceededError):
            sess.run(q.dequeue_many(2))


def test_cancel_pending_enqueues():
    q = tf.FIFOQueue(1, tf.int32, shapes=[])
    enq = q.enqueue(5)
    errs = []
    with _session() as sess:
        sess.run(enq)

        def blocked():
            try:
                sess.run(enq)
            except tf.errors.OpError as e:
                errs.append(e)
        t = _start(blocked)
        _wait_until(lambda: _waiting(sess, q, "_enq_line") == 1)
        sess.run(q.close(cancel_pending_enqueues=True))
        _join_all([t])
        assert len(errs) == 1 and isinstance(errs[0], tf.errors.CancelledError)
        assert "Enqueue operation was cancelled" in str(errs[0])
        assert sess.run(q.dequeue()) == 5


def test_close_waits_for_pending_enqueues():
    q = tf.FIFOQueue(1, tf.int32, shapes=[])
    enq = q.enqueue(1)
    deq = q.dequeue()
    with _session() as sess:
        sess.run(enq)
        t_enq = _start(sess.run, enq)  # blocks: the queue is full
        _wait_until(lambda: _waiting(sess, q, "_enq_line") == 1)
        t_close = _start(sess.run, q.close())
        _wait_until(lambda: _waiting(sess, q, "_enq_line") == 2)
        assert not sess.run(q.is_closed())  # close is queued behind the enqueue
        assert sess.run(deq) == 1
        _join_all([t_enq, t_close])
        assert sess.run(q.is_closed()) and sess.run(deq) == 1


def test_session_close_unblocks_waiting_ops():
    q = tf.FIFOQueue(1, tf.int32, shapes=[])
    deq = q.dequeue()
    errs = []
    sess = _session()

    def blocked():
        try:
            sess.run(deq)
        except Exception as e:  # noqa: BLE001
            errs.append(e)
    t = _start(blocked)
    _wait_until(lambda: _waiting(sess, q, "_deq_line") == 1)
    t0 = time.monotonic()
    sess.close()
    _join_all([t])
    assert time.monotonic() - t0 < 2.0
    assert len(errs) == 1 and isinstance(errs[0], tf.errors.CancelledError)
    assert "Session has been closed." in str(errs[0])


# --- the other queue kinds ---------------------------------------------------------------------
def test_padding_fifo_queue_pads_to_batch_max():
    q = tf.PaddingFIFOQueue(10, [tf.int32, tf.float32], shapes=[[None], [None, 2]])
    p, r = tf.placeholder(tf.int32, [None]), tf.placeholder(tf.float32, [None, 2])
    enq = q.enqueue([p, r])
    a, b = q.dequeue_many(2)
    assert a.shape.as_list() == [2, None] and b.shape.as_list() == [2, None, 2]
    with pytest.raises(ValueError, match="Shapes must be provided"):
        tf.PaddingFIFOQueue(10, [tf.int32], shapes=None)
    with _session() as sess:
        sess.run(enq, {p: [1, 2, 3], r: np.ones((1, 2))})
        sess.run(enq, {p: [4], r: np.full((2, 2), 2.0)})
        ga, gb = sess.run([a, b])
    np.testing.assert_array_equal(ga, [[1, 2, 3], [4, 0, 0]])
    np.testing.assert_array_equal(gb, [[[1, 1], [0, 0]], [[2, 2], [2, 2]]])


def test_random_shuffle_queue_min_after_dequeue_and_drain():
    q = tf.RandomShuffleQueue(10, 3, tf.int32, shapes=[], seed=7)
    with _session() as sess:
        sess.run(q.enqueue_many([[0, 1, 2, 3]]))
        first = sess.run(q.dequeue())  # 4 > min_after_dequeue: allowed
        with pytest.raises(tf.errors.DeadlineExceededError):  # 3 left: must keep them
            sess.run(q.dequeue(), options=tf.RunOptions(timeout_in_ms=60))
        sess.run(q.close())
        rest = sess.run(q.dequeue_up_to(10))
    assert sorted([first] + list(rest)) == [0, 1, 2, 3]


def _shuffled_order(graph_seed, op_seed, n=50):
    g = tf.Graph()
    with g.as_default():
        if graph_seed is not None:
            tf.set_random_seed(graph_seed)
        q = tf.RandomShuffleQueue(100, 0, tf.int32, shapes=[], seed=op_seed)
        enq = q.enqueue_many([np.arange(n, dtype=np.int32)])
        out = q.dequeue_many(n)
        with _session(graph=g) as sess:
            sess.run(enq)
            return sess.run(out)


def test_random_shuffle_queue_is_deterministic_given_seeds():
    a = _shuffled_order(1, 2)
    assert sorted(a) == list(range(50)) and list(a) != list(range(50))
    np.testing.assert_array_equal(a, _shuffled_order(1, 2))
    np.testing.assert_array_equal(_shuffled_order(5, None), _shuffled_order(5, None))
    assert list(a) != list(_shuffled_order(1, 3))


def test_random_shuffle_queue_seed_attrs_follow_graph_seed():
    tf.set_random_seed(11)
    q = tf.RandomShuffleQueue(10, 0, tf.int32, seed=4)
    op = q.queue_ref.op
    assert (op.get_attr("seed"), op.get_attr("seed2")) == tf.get_seed(4)
    q2 = tf.RandomShuffleQueue(10, 0, tf.int32, shared_name="shared")
    q3 = tf.RandomShuffleQueue(10, 0, tf.int32, shared_name="shared", name="other")
    assert q2.queue_ref.op.get_attr("seed2") == q3.queue_ref.op.get_attr("seed2")


def test_random_shuffle_queue_bad_min_after_dequeue():
    q = tf.RandomShuffleQueue(4, 4, tf.int32, shapes=[])
    with _session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="must be < capacity 4"):
            sess.run(q.size())


def test_priority_queue_orders_by_priority():
    q = tf.PriorityQueue(10, [tf.string], shapes=[[]])
    enq = q.enqueue_many([np.array([3, 1, 2, 1], np.int64), [b"c", b"a1", b"b", b"a2"]])
    prio, val = q.dequeue_many(4)
    with _session() as sess:
        sess.run(enq)
        p, v = sess.run([prio, val])
    np.testing.assert_array_equal(p, [1, 1, 2, 3])
    assert list(v) == [b"a1", b"a2", b"b", b"c"]


def test_shared_name_shares_a_queue_within_a_session():
    q1 = tf.FIFOQueue(5, tf.int32, shapes=[], shared_name="common")
    q2 = tf.FIFOQueue(5, tf.int32, shapes=[], shared_name="common", name="second")
    with _session() as sess:
        sess.run(q1.enqueue(9))
        assert sess.run(q2.dequeue()) == 9


# --- exactly-once delivery across threads --------------------------------------------------------
def _exactly_once(queue, producers=4, consumers=3, per_producer=300, batch=None):
    p = tf.placeholder(tf.int64, [None])
    enq = queue.enqueue_many([p])
    deq = queue.dequeue() if batch is None else queue.dequeue_up_to(batch)
    got = [[] for _ in range(consumers)]
    sess = _session()
    errors = []

    def produce(k):
        try:
            vals = np.arange(per_producer, dtype=np.int64) + k * 1000000
            for chunk in np.array_split(vals, 30):
                sess.run(enq, {p: chunk})
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    def consume(k):
        try:
            while True:
                got[k].extend(np.atleast_1d(sess.run(deq)).tolist())
        except tf.errors.OutOfRangeError:
            pass
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    t0 = time.monotonic()
    cons = [_start(consume, k) for k in range(consumers)]
    prods = [_start(produce, k) for k in range(producers)]
    _join_all(prods)
    sess.run(queue.close())
    _join_all(cons)
    sess.close()
    assert not errors, errors
    assert time.monotonic() - t0 < 60
    want = np.concatenate([np.arange(per_producer, dtype=np.int64) + k * 1000000
                           for k in range(producers)])
    flat = np.array([v for g in got for v in g], dtype=np.int64)
    assert len(flat) == len(want)  # count
    assert flat.sum() == want.sum() and (flat ** 2).sum() == (want ** 2).sum()  # checksums
    np.testing.assert_array_equal(np.sort(flat), np.sort(want))  # each exactly once
    return got


def test_fifo_exactly_once_across_threads():
    got = _exactly_once(tf.FIFOQueue(16, tf.int64, shapes=[]))
    for g in got:  # FIFO: each consumer sees each producer's values in order
        for k in range(4):
            mine = [v for v in g if v // 1000000 == k]
            assert mine == sorted(mine)


def test_fifo_exactly_once_with_batched_consumers():
    _exactly_once(tf.FIFOQueue(8, tf.int64, shapes=[]), batch=5)


def test_shuffle_exactly_once_across_threads():
    _exactly_once(tf.RandomShuffleQueue(32, 8, tf.int64, shapes=[], seed=3))


def test_shuffle_exactly_once_with_batched_consumers():
    _exactly_once(tf.RandomShuffleQueue(20, 5, tf.int64, shapes=[]), batch=7)


def test_dequeue_many_larger_than_capacity():
    q = tf.FIFOQueue(3, tf.int32, shapes=[])
    p = tf.placeholder(tf.int32, [])
    enq = q.enqueue(p)
    many = q.dequeue_many(10)
    with _session() as sess:
        def produce():
            for i in range(10):
                sess.run(enq, {p: i})
        t = _start(produce)
        np.testing.assert_array_equal(sess.run(many), np.arange(10))
        _join_all([t])


# --- Session.run from several threads ------------------------------------------------------
def test_session_run_is_safe_from_many_threads():
    x = tf.placeholder(tf.float32, [None])
    w = tf.Variable(2.0)
    outs = [tf.reduce_sum(x * w + float(k)) for k in range(6)]
    counter = tf.Variable(0, dtype=tf.int64)
    bump = tf.assign_add(counter, 1, use_locking=True)
    failures = []
    with _session() as sess:
        sess.run(tf.global_variables_initializer())
        builds0 = sess.plan_builds

        def work(seed):
            rng = np.random.RandomState(seed)
            try:
                for i in range(200):
                    k = rng.randint(len(outs))
                    v = rng.rand(rng.randint(1, 20)).astype(np.float32)
                    got = sess.run(outs[k], {x: v})
                    want = np.sum(v * np.float32(2.0) + np.float32(k), dtype=np.float32)
                    if not np.isclose(got, want, rtol=1e-5):
                        failures.append((k, got, want))
                    sess.run(bump)
            except Exception as e:  # noqa: BLE001
                failures.append(e)
        threads = [_start(work, s) for s in range(8)]
        _join_all(threads)
        assert not failures, failures[:3]
        assert sess.plan_builds - builds0 == len(outs) + 1  # one plan per signature
        assert sess.run(counter) == 8 * 200
