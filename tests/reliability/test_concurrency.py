"""Concurrency under load (issue 8, item 4): 8 threads calling ``Session.run`` on
one session for a bounded time and a bounded number of iterations.

Every test runs once per session configuration: the sequential executor and the
inter-op parallel executor (``ConfigProto(inter_op_parallelism_threads=2|4)``).
A parallel case is skipped, with the reason, only when that setting has no
effect in this build (checked at run time), so the cases start running as soon
as the parallel executor exists.

What is asserted, against independent truth:
* no deadlock: every thread joins within a timeout (stacks of stuck threads are
  printed otherwise); no exception other than the documented ones;
* where locking is requested the final state equals a serial order: N locked
  ``assign_add(1)`` end at exactly N (scalar and a 100k-element vector, whose
  in-place NumPy add releases the GIL, so a missing lock loses updates); locked
  SGD on a linear loss (gradient independent of the weights, so any serial
  order gives the same result) ends at ``w0 - steps * lr * c``, exact in float64;
  a locked ``assign`` leaves one complete assigned value, never a mixture;
* the same with plans built concurrently (first runs of many signatures), ops
  added to the graph while it runs, and the session closed under load (every
  thread ends with a result or the closed-session error, none hangs).
Unlocked SGD is run too: it must stay a reachable state, and the updates it
loses show that the exact-count checks above would catch a missing lock.

Durations: ``GRAPHFLOW_STRESS_SECONDS`` (default 4) for the mixed load, a
third of it for the single-purpose tests. ``GRAPHFLOW_RELIABILITY_FIGURES=path``
appends one JSON line of figures per test (docs/reliability.md).
"""
import json
import os
import sys
import threading
import time
import traceback

import numpy as np
import pytest

import graphflow as tf
from graphflow import errors

THREADS = 8
SECONDS = float(os.environ.get("GRAPHFLOW_STRESS_SECONDS", "4"))
SHORT = max(SECONDS / 3.0, 0.5)
MAX_ITERS = 200_000          # per thread: the iteration bound besides the time bound
JOIN_TIMEOUT = SECONDS + 90  # a thread still alive after this is a deadlock
N_VEC = 100_000              # big enough that NumPy / Numba updates release the GIL

CONFIGS = {
    "sequential": {},
    "inter_op_2": {"inter_op_parallelism_threads": 2},
    "inter_op_4": {"inter_op_parallelism_threads": 4},
}


# --- harness -----------------------------------------------------------------------------------
def _parallel_in_effect(config: dict) -> bool:
    """Whether ``config`` makes Session.run use more than the calling thread.

    Behavioural check first (a non-chain graph run starts inter-op worker
    threads), then the session's executor object, so a renamed thread still counts.
    """
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, [4], name="x")
        branches = [tf.tanh(x * float(k + 1)) for k in range(4)]
        out = tf.add_n(branches)
    before = set(threading.enumerate())
    sess = tf.Session(graph=g, config=tf.ConfigProto(**config))
    try:
        sess.run(out, {x: np.ones(4)})
        new = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if new:
            return True
        inter = getattr(sess, "_inter_op", None)
        if inter is not None and hasattr(inter, "get"):
            return inter.get(0) is not None
        return getattr(sess, "_parallel", None) is not None
    finally:
        sess.close()


@pytest.fixture(params=list(CONFIGS))
def config(request):
    cfg = CONFIGS[request.param]
    if cfg and not _parallel_in_effect(cfg):
        pytest.skip("ConfigProto(%s) has no effect yet: Session.run still executes in the "
                    "calling thread only (parallel executor not available)" % cfg)
    return request.param, cfg


def _session(graph, cfg):
    return tf.Session(graph=graph, config=tf.ConfigProto(**cfg))


def _stacks(threads) -> str:
    frames = sys._current_frames()
    out = []
    for t in threads:
        f = frames.get(t.ident)
        if f is not None:
            out.append("--- %s\n%s" % (t.name, "".join(traceback.format_stack(f))))
    return "\n".join(out)


def hammer(workers, seconds, allowed=()):
    """Run ``workers[k](k, i)`` repeatedly on ``len(workers)`` threads started together,
    until ``seconds`` pass or MAX_ITERS iterations; returns the iteration counts.

    Fails on a thread still alive after JOIN_TIMEOUT (deadlock, with its stack)
    and on any exception not an instance of ``allowed`` (those end that thread).
    """
    n = len(workers)
    counts = [0] * n
    failures = []
    barrier = threading.Barrier(n + 1)
    stop = [0.0]

    def loop(k):
        barrier.wait()
        fn = workers[k]
        try:
            while counts[k] < MAX_ITERS and time.monotonic() < stop[0]:
                fn(k, counts[k])
                counts[k] += 1
        except allowed:
            pass
        except BaseException as e:  # noqa: BLE001 - reported by the test
            failures.append((k, e, traceback.format_exc()))

    threads = [threading.Thread(target=loop, args=(k,), name="hammer-%d" % k, daemon=True)
               for k in range(n)]
    for t in threads:
        t.start()
    stop[0] = time.monotonic() + seconds
    barrier.wait()
    deadline = time.monotonic() + JOIN_TIMEOUT
    for t in threads:
        t.join(timeout=max(deadline - time.monotonic(), 0.1))
    stuck = [t for t in threads if t.is_alive()]
    assert not stuck, "Session.run deadlocked; stuck threads:\n" + _stacks(stuck)
    assert not failures, "\n".join(tb for _, _, tb in failures[:3])
    return counts


def warm_up(graph, cfg, init, runs):
    """Run ``runs`` [(fetches, feed_dict)] once in a throwaway session, so kernel
    compilation is not part of the timed, threaded phase."""
    sess = _session(graph, cfg)
    try:
        if init is not None:
            sess.run(init)
        for fetches, feed in runs:
            sess.run(fetches, feed)
    finally:
        sess.close()


def record(test, cfg_name, **figures):
    path = os.environ.get("GRAPHFLOW_RELIABILITY_FIGURES")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(dict(test=test, config=cfg_name, threads=THREADS,
                                    **figures)) + "\n")


# --- locked counters ---------------------------------------------------------------------------
def test_locked_assign_add_counts_exactly(config):
    name, cfg = config
    g = tf.Graph()
    with g.as_default():
        counter = tf.Variable(0, dtype=tf.int32, name="counter")
        vec = tf.Variable(np.zeros(N_VEC), dtype=tf.float64, name="vec")
        rows = tf.Variable(np.zeros((64, 8)), dtype=tf.float64, name="rows")
        idx = tf.placeholder(tf.int32, [16], name="idx")
        bump = tf.assign_add(counter, 1, use_locking=True)
        bump_vec = tf.assign_add(vec, tf.ones([N_VEC], tf.float64), use_locking=True)
        unbump_vec = tf.assign_sub(vec, tf.ones([N_VEC], tf.float64), use_locking=True)
        scatter = tf.scatter_add(rows, idx, tf.ones([16, 8], tf.float64), use_locking=True)
        init = tf.global_variables_initializer()
    warm_up(g, cfg, init, [([bump, bump_vec, unbump_vec], None),
                           (scatter, {idx: np.arange(16)})])
    sess = _session(g, cfg)
    sess.run(init)
    adds = [0] * THREADS
    subs = [0] * THREADS
    hist = np.zeros((THREADS, 64), np.int64)
    rngs = [np.random.default_rng(k) for k in range(THREADS)]

    def work(k, i):
        kind = (k + i) % 4
        if kind == 0:
            sess.run(bump)
        elif kind == 1:
            sess.run([bump_vec, bump])
            adds[k] += 1
        elif kind == 2 and k % 2:
            sess.run(unbump_vec)
            subs[k] += 1
        else:
            ix = rngs[k].integers(0, 64, 16)
            sess.run(scatter, {idx: ix})
            np.add.at(hist[k], ix, 1)

    counts = hammer([work] * THREADS, SHORT)
    bumps = sum(sum(1 for i in range(c) if (k + i) % 4 in (0, 1)) for k, c in enumerate(counts))
    assert sess.run(counter) == bumps
    np.testing.assert_array_equal(sess.run(vec), np.full(N_VEC, float(sum(adds) - sum(subs))))
    np.testing.assert_array_equal(sess.run(rows), np.repeat(hist.sum(0)[:, None], 8, 1))
    sess.close()
    record("locked_counters", name, seconds=SHORT, iterations=sum(counts), bumps=bumps)


# --- locked SGD ----------------------------------------------------------------------------------
def _linear_model(use_locking):
    """w (N_VEC float64 zeros), loss = sum(w * c): the gradient is c whatever w is."""
    c = (np.arange(N_VEC) % 7 + 1).astype(np.float64)
    w = tf.Variable(np.zeros(N_VEC), dtype=tf.float64, name="w")
    loss = tf.reduce_sum(w * tf.constant(c), name="loss")
    train = tf.train.GradientDescentOptimizer(0.5, use_locking=use_locking).minimize(loss)
    return c, w, loss, train


def test_locked_sgd_on_linear_loss_ends_at_serial_result(config):
    name, cfg = config
    g = tf.Graph()
    with g.as_default():
        c, w, loss, train = _linear_model(use_locking=True)
        init = tf.global_variables_initializer()
    warm_up(g, cfg, init, [(train, None), ([train, loss], None)])
    sess = _session(g, cfg)
    sess.run(init)

    def work(k, i):
        if k % 2:
            sess.run(train)
        else:
            sess.run([train, loss])

    counts = hammer([work] * THREADS, SHORT)
    steps = sum(counts)
    # each step subtracts 0.5 * c, exactly representable: any serial order gives this
    np.testing.assert_array_equal(sess.run(w), -0.5 * steps * c)
    sess.close()
    record("locked_sgd", name, seconds=SHORT, iterations=steps)


def test_unlocked_sgd_stays_valid_and_measures_lost_updates(config):
    """Without use_locking TF promises no serial order; graphflow must still not crash,
    and every element is a state some number of updates can reach. The lost-update
    count shows the locked tests above would detect a missing lock."""
    name, cfg = config
    g = tf.Graph()
    with g.as_default():
        c, w, loss, train = _linear_model(use_locking=False)
        init = tf.global_variables_initializer()
    warm_up(g, cfg, init, [(train, None)])
    sess = _session(g, cfg)
    sess.run(init)
    counts = hammer([lambda k, i: sess.run(train)] * THREADS, SHORT)
    steps = sum(counts)
    applied = sess.run(w) / (-0.5 * c)
    assert np.all(applied == np.round(applied)) and applied.min() >= 0
    assert applied.max() <= steps
    record("unlocked_sgd", name, seconds=SHORT, iterations=steps,
           lost_updates_max=int(steps - applied.min()))
    sess.close()


# --- the mixed load ------------------------------------------------------------------------------
def test_mixed_load_eight_threads(config):
    """Training steps, counter bumps, assigns, reads, traced runs, callables and
    combined fetches from 8 threads at once on one session."""
    name, cfg = config
    g = tf.Graph()
    with g.as_default():
        c, w, loss, train = _linear_model(use_locking=True)
        counter = tf.Variable(0, dtype=tf.int64, name="counter")
        bump = tf.assign_add(counter, tf.constant(1, tf.int64), use_locking=True)
        a = tf.Variable(np.zeros(10_000), dtype=tf.float64, name="a")
        val = tf.placeholder(tf.float64, [], name="val")
        set_a = tf.assign(a, tf.fill([10_000], val), use_locking=True)
        scale = tf.placeholder_with_default(tf.constant(1.0, tf.float64), [], name="scale")
        scaled_loss = loss * scale
        init = tf.global_variables_initializer()
    warm_up(g, cfg, init, [([train, bump, loss], None), (set_a, {val: 1.0}),
                           ([w, counter, a], None), ([scaled_loss, w], {scale: 0.5})])
    sess = _session(g, cfg)
    sess.run(init)
    trains = [0] * THREADS
    bumps = [0] * THREADS
    assigned = [set() for _ in range(THREADS)]
    last_seen = [0] * THREADS
    read_loss = sess.make_callable(loss)
    full = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)

    def check_w(wv):
        k = wv / (-0.5 * c)
        assert np.all(k == np.round(k)) and k.min() >= 0, "w is not a state of SGD"

    def work(k, i):
        role = k % 8
        if role in (0, 1):
            sess.run(train)
            trains[k] += 1
        elif role in (2, 3):
            sess.run(bump)
            bumps[k] += 1
        elif role == 4:
            v = float(k * 1_000_000 + i)
            sess.run(set_a, {val: v})
            assigned[k].add(v)
        elif role == 5:
            wv, cv, av = sess.run([w, counter, a])
            check_w(wv)
            assert cv >= last_seen[k], "counter went backwards: %d < %d" % (cv, last_seen[k])
            last_seen[k] = cv
            assert av.shape == (10_000,)
        elif role == 6:
            _, _, lv = sess.run([train, bump, loss])
            trains[k] += 1
            bumps[k] += 1
            assert np.isfinite(lv)
        else:
            if i % 5 == 0:
                md = tf.RunMetadata()
                sess.run(scaled_loss, {scale: 2.0}, options=full, run_metadata=md)
            elif i % 5 == 1:
                sess.run([scaled_loss, w], {scale: 0.5})
            else:
                assert np.isfinite(read_loss())

    counts = hammer([work] * THREADS, SECONDS)
    assert sess.run(counter) == sum(bumps)
    np.testing.assert_array_equal(sess.run(w), -0.5 * sum(trains) * c)
    av = sess.run(a)
    all_assigned = set().union(*assigned)
    assert av[0] in all_assigned and np.all(av == av[0]), "a holds a mixture of assigns"
    sess.close()
    record("mixed_load", name, seconds=SECONDS, iterations=sum(counts),
           train_steps=sum(trains), bumps=sum(bumps), assigns=len(all_assigned))


# --- plan cache under concurrent first runs -----------------------------------------------------
def test_concurrent_first_runs_of_many_signatures(config):
    """8 threads start at once on 24 never-run (feeds, fetches) signatures in
    different orders: every result matches NumPy and each signature builds one plan."""
    name, cfg = config
    g = tf.Graph()
    rng = np.random.default_rng(3)
    xs = [rng.normal(size=(3, 3)) for _ in range(3)]
    with g.as_default():
        p = [tf.placeholder(tf.float64, [3, 3], name="p%d" % i) for i in range(3)]
        outs = [tf.matmul(p[0], p[1]), tf.tanh(p[1]) + p[2], p[0] * p[2] - p[1],
                tf.reduce_sum(p[0] + p[1] + p[2], axis=0)]
    expect = [xs[0] @ xs[1], np.tanh(xs[1]) + xs[2], xs[0] * xs[2] - xs[1],
              (xs[0] + xs[1] + xs[2]).sum(0)]
    sigs = []
    for j in range(len(outs)):
        for kk in range(len(outs)):
            if j != kk:
                sigs.append((j, kk))
    sigs = sigs[:12] * 2  # each fetch pair with two feed orders
    warm_up(g, cfg, None, [(outs, {p[m]: xs[m] for m in range(3)})])  # kernels, not plans
    sess = _session(g, cfg)

    def work(k, i):
        order = sigs[(k * 5 + i) % len(sigs)]
        feed = {p[m]: xs[m] for m in ((0, 1, 2) if (k + i) % 2 else (2, 1, 0))}
        r = sess.run([outs[order[0]], outs[order[1]]], feed)
        np.testing.assert_allclose(r[0], expect[order[0]], rtol=1e-12)
        np.testing.assert_allclose(r[1], expect[order[1]], rtol=1e-12)

    # bounded by iterations (enough to cover every signature from every thread)
    counts = hammer([work] * THREADS, SHORT)
    assert min(counts) > 0
    builds = getattr(sess, "plan_builds", None)
    if builds is not None:
        assert builds <= len(set(sigs)), "a signature was planned more than once"
    sess.close()
    record("first_runs", name, seconds=SHORT, iterations=sum(counts))


# --- close while running -------------------------------------------------------------------------
def test_close_while_eight_threads_run(config):
    """Closing the session under load: every thread stops with a result, the
    closed-session RuntimeError or an OpError (CancelledError, uninitialized
    value); none hangs and nothing else is raised."""
    name, cfg = config
    g = tf.Graph()
    with g.as_default():
        c, w, loss, train = _linear_model(use_locking=True)
        counter = tf.Variable(0, dtype=tf.int32, name="counter")
        bump = tf.assign_add(counter, 1, use_locking=True)
        init = tf.global_variables_initializer()
    sess = _session(g, cfg)
    sess.run(init)
    ended = []

    def work(k, i):
        try:
            sess.run([train, loss] if k % 2 else [bump, w])
        except (RuntimeError, errors.OpError) as e:
            ended.append(type(e).__name__)
            raise

    closer = threading.Timer(min(SHORT, 1.0), sess.close)
    closer.start()
    hammer([work] * THREADS, min(SHORT, 1.0) + 1.0, allowed=(RuntimeError, errors.OpError))
    closer.join(timeout=30)
    assert len(ended) == THREADS, "threads did not all see the close: %s" % ended
    with pytest.raises(RuntimeError, match="closed Session"):
        sess.run(loss)
    record("close_under_load", name, seconds=min(SHORT, 1.0) + 1.0, ended=sorted(set(ended)))


# --- graph growing while it runs ----------------------------------------------------------------
def test_ops_added_while_other_threads_run(config):
    """TF1 lets threads add ops to a graph that is being run (summaries, eval
    ops): 4 threads build and run new ops while 4 run locked updates."""
    name, cfg = config
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, [4], name="x")
        v = tf.Variable(np.zeros(4), dtype=tf.float64, name="v")
        upd = tf.assign_add(v, tf.ones([4], tf.float64), use_locking=True)
        init = tf.global_variables_initializer()
        probe = tf.reduce_sum(x * 2.0 + tf.tanh(x))
    warm_up(g, cfg, init, [(probe, {x: np.ones(4)}), (upd, None)])
    sess = _session(g, cfg)
    sess.run(init)
    xv = np.array([0.5, -1.0, 2.0, 0.0])
    updates = [0] * THREADS

    def work(k, i):
        if k < 4:
            with g.as_default():
                y = tf.reduce_sum(x * float(i) + tf.tanh(x), name="built_%d_%d" % (k, i))
            np.testing.assert_allclose(sess.run(y, {x: xv}), (xv * i + np.tanh(xv)).sum(),
                                       rtol=1e-12)
        else:
            sess.run(upd)
            updates[k] += 1

    counts = hammer([work] * THREADS, SHORT)
    np.testing.assert_array_equal(sess.run(v), np.full(4, float(sum(updates))))
    built = sum(counts[:4])
    assert built > 0
    sess.close()
    record("ops_added_while_running", name, seconds=SHORT, iterations=sum(counts),
           ops_built=built)
