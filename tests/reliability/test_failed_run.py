"""A failed run changes no variable (issue 8, item 3; runtime/journal.py).

Training steps of small models (GATE_NONE / GATE_OP / GATE_GRAPH; SGD,
Momentum, Adagrad, Adam; a global step) fail at run time in different places:
a matmul whose fed shape is wrong only at run time, ``check_numerics`` on a NaN
loss, an out-of-range index in the embedding's sparse update, an uninitialized
slot variable (or global step), and a failing op after the update through
``control_dependencies([train_op])`` as in the moving-average idiom. With the
sequential and the inter-op parallel executor, every variable (initialized or
not) must be exactly as before the run, the error must have the right class and
node, and the next good run must give a fresh session's numbers. Then: the same
for traced and memory-tracked runs, ``assign(validate_shape=False)``, fetched
uninitialized variables, failing sparse updates on their own, a Hypothesis sweep
over the position of the failing op in a chain of updates, and the cost side:
an ordinary training step copies no variable.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphflow as tf
from graphflow import errors
from graphflow.ops import training_ops as T
from graphflow.runtime import journal
from graphflow.runtime import memory as runtime_memory

IAE = errors.InvalidArgumentError
FPE = errors.FailedPreconditionError
GATES = {"none": 0, "op": 1, "graph": 2}
EXECUTORS = {"sequential": {}, "parallel": {"inter_op_parallelism_threads": 2}}
OPTIMIZERS = {
    "sgd": lambda: tf.train.GradientDescentOptimizer(0.1),
    "momentum": lambda: tf.train.MomentumOptimizer(0.1, 0.9),
    "adagrad": lambda: tf.train.AdagradOptimizer(0.1),
    "adam": lambda: tf.train.AdamOptimizer(0.01),
}
SPARSE_TYPES = ("ScatterSub", "ScatterAdd", "SparseApplyMomentum", "SparseApplyAdagrad")
RNG = np.random.default_rng(8)
W0 = RNG.normal(size=(4, 3)).astype(np.float32)
B0 = RNG.normal(size=3).astype(np.float32)
E0 = RNG.normal(size=(6, 3)).astype(np.float32)
X = RNG.normal(size=(5, 4)).astype(np.float32)
IDS = np.array([0, 2, 2, 5, 1], np.int32)
LABELS = np.array([0, 1, 2, 1, 0], np.int32)


class Model:
    """logits = x @ w + b + emb[ids]; softmax cross-entropy; the embedding's
    gradient is an IndexedSlices whose indices come from ``upd_ids``."""

    def __init__(self, gate: str, opt: str, ema: bool = False, embedding: bool = True) -> None:
        self.graph = g = tf.Graph()
        with g.as_default():
            self.x = tf.placeholder(tf.float32, [None, 4], name="x")
            self.ids = tf.placeholder(tf.int32, [None], name="ids")
            self.upd_ids = tf.placeholder(tf.int32, [None], name="upd_ids")
            self.labels = tf.placeholder(tf.int32, [None], name="labels")
            self.w = tf.Variable(W0, name="w")
            self.b = tf.Variable(B0, name="b")
            self.emb = tf.Variable(E0, name="emb")
            logits = tf.matmul(self.x, self.w) + self.b
            if embedding:  # else every update is dense: no step after them can fail
                logits += tf.gather(self.emb, self.ids)
            self.loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=self.labels, logits=logits), name="loss")
            self.gs = tf.train.get_or_create_global_step()
            self.opt = OPTIMIZERS[opt]()
            gv = self.opt.compute_gradients(self.loss, gate_gradients=GATES[gate])
            gv = [(tf.IndexedSlices(gr.values, self.upd_ids, gr.dense_shape)
                   if v is self.emb else gr, v) for gr, v in gv if gr is not None]
            self.train = self.opt.apply_gradients(gv, global_step=self.gs)
            self.step = self.train
            if ema:  # the moving-average idiom: averages after the update
                with tf.control_dependencies([self.train]):
                    self.ema = tf.train.ExponentialMovingAverage(0.9)
                    self.step = self.ema.apply([self.w, self.b])
            # probes created after the train op (TF1's creation order ran them last)
            self.xp = tf.placeholder(tf.float32, None, name="xp")
            self.probe = tf.matmul(self.xp, self.w, name="probe")
            self.checked = tf.check_numerics(self.loss, "loss", name="checked")
            self.vars = tf.global_variables()
            self.inited = [tf.is_variable_initialized(v) for v in self.vars]
            self.init = tf.global_variables_initializer()

    def session(self, executor: str) -> tf.Session:
        return tf.Session(graph=self.graph, config=tf.ConfigProto(**EXECUTORS[executor]))

    def feed(self, **over) -> dict:
        fd = {self.x: X, self.ids: IDS, self.upd_ids: IDS, self.labels: LABELS}
        fd.update({getattr(self, k): v for k, v in over.items()})
        return fd

    def state(self, sess: tf.Session) -> list:
        """(name, value or None when uninitialized) of every variable."""
        flags = sess.run(self.inited)
        return [(v.op.name, sess.run(v) if ok else None) for v, ok in zip(self.vars, flags)]


def assert_same_state(before: list, after: list) -> None:
    assert [n for n, _ in before] == [n for n, _ in after]
    for (name, a), (_, b) in zip(before, after):
        if a is None or b is None:
            assert a is None and b is None, "%s: initialized %s -> %s" % (name, a is not None,
                                                                           b is not None)
        else:
            assert a.shape == b.shape and np.array_equal(a, b), "%s changed: %s -> %s" % (
                name, a, b)


def _good_step_equals_fresh(m: Model, sess: tf.Session, executor: str, steps_before=1) -> None:
    """The next good step of ``sess`` equals that of a fresh session with the same
    history (initialization and ``steps_before`` good steps), as if the failed
    run had never happened."""
    got = sess.run([m.step, m.loss], m.feed())[1]
    fresh = m.session(executor)
    fresh.run(m.init)
    for _ in range(steps_before):
        fresh.run(m.step, m.feed())
    want = fresh.run([m.step, m.loss], m.feed())[1]
    assert np.array_equal(got, want)
    assert_same_state(m.state(fresh), m.state(sess))
    fresh.close()


def _fail(m: Model, sess: tf.Session, fetches, feed, cls, node) -> None:
    before = m.state(sess)
    with pytest.raises(errors.OpError) as info:
        sess.run(fetches, feed)
    err = info.value
    assert type(err) is cls, "%s: %s" % (type(err).__name__, err)
    names = {node} if isinstance(node, str) else set(node)
    assert err.op is not None and err.op.name in names, (err.op, names)
    assert "[[{{node %s}}]]" % err.op.name in str(err)
    assert_same_state(before, m.state(sess))


def _trained(m: Model, executor: str) -> tf.Session:
    """A session with initialized variables and one good step behind it (slots and
    the global step hold non-initial values)."""
    sess = m.session(executor)
    sess.run(m.init)
    sess.run(m.step, m.feed())
    return sess


# --- the cases ------------------------------------------------------------------------
@pytest.mark.parametrize("executor", list(EXECUTORS))
@pytest.mark.parametrize("gate", list(GATES))
@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_matmul_with_bad_fed_shape(executor, gate, opt):
    m = Model(gate, opt)
    sess = _trained(m, executor)
    _fail(m, sess, [m.train, m.probe], m.feed(xp=np.ones((2, 5), np.float32)), IAE, "probe")
    _good_step_equals_fresh(m, sess, executor)


@pytest.mark.parametrize("executor", list(EXECUTORS))
@pytest.mark.parametrize("gate", list(GATES))
@pytest.mark.parametrize("opt", ["momentum", "adagrad"])
def test_check_numerics_on_nan_loss(executor, gate, opt):
    m = Model(gate, opt)
    sess = _trained(m, executor)
    x = X.copy()
    x[1, 2] = np.nan
    _fail(m, sess, [m.train, m.checked], m.feed(x=x), IAE, "checked")
    _good_step_equals_fresh(m, sess, executor)


@pytest.mark.parametrize("executor", list(EXECUTORS))
@pytest.mark.parametrize("gate", list(GATES))
@pytest.mark.parametrize("opt", list(OPTIMIZERS))
def test_out_of_range_index_in_embedding_update(executor, gate, opt):
    m = Model(gate, opt)
    sess = _trained(m, executor)
    bad = IDS.copy()
    bad[3] = 6  # emb has 6 rows: only its sparse update sees this index
    nodes = [op.name for op in m.graph.get_operations() if op.type in SPARSE_TYPES]
    assert nodes
    _fail(m, sess, m.train, m.feed(upd_ids=bad), IAE, nodes)
    _good_step_equals_fresh(m, sess, executor)


@pytest.mark.parametrize("executor", list(EXECUTORS))
@pytest.mark.parametrize("gate", list(GATES))
@pytest.mark.parametrize("opt", list(OPTIMIZERS))
@pytest.mark.parametrize("embedding", [True, False], ids=["sparse", "dense"])
def test_uninitialized_slot_variable(executor, gate, opt, embedding):
    m = Model(gate, opt, embedding=embedding)
    with m.graph.as_default():
        slots = [m.opt.get_slot(m.b, n) for n in m.opt.get_slot_names()]
        # SGD has no slots: then the global step, incremented after every update
        missing = [s for s in slots if s is not None] or [m.gs]
        sess = m.session(executor)
        sess.run(tf.variables_initializer([v for v in m.vars if v not in missing]))
    assert m.state(sess)[[v.op.name for v in m.vars].index(missing[0].op.name)][1] is None
    b_update = [op.name for op in m.graph.get_operations()
                if op.type.startswith("Apply") and op.inputs[0].op is m.b.op]
    node = "GradientDescent" if opt == "sgd" else b_update
    _fail(m, sess, m.train, m.feed(), FPE, node)
    with pytest.raises(FPE, match="uninitialized value %s" % missing[0].op.name):
        sess.run(m.train, m.feed())
    sess.run(tf.variables_initializer(missing))
    _good_step_equals_fresh(m, sess, executor, steps_before=0)


@pytest.mark.parametrize("executor", list(EXECUTORS))
@pytest.mark.parametrize("gate", list(GATES))
def test_failing_op_after_the_update_ema_idiom(executor, gate):
    m = Model(gate, "adam", ema=True)
    with m.graph.as_default():
        with tf.control_dependencies([m.step]):  # runs after the update and the averages
            after = tf.check_numerics(m.xp * 1.0, "after", name="after_check")
    sess = _trained(m, executor)
    _fail(m, sess, after, m.feed(xp=np.float32(np.nan)), IAE, "after_check")
    assert sess.run(after, m.feed(xp=np.float32(1.0))) == 1.0
    ref = m.session(executor)
    ref.run(m.init)
    ref.run(m.step, m.feed())
    ref.run(after, m.feed(xp=np.float32(1.0)))
    assert_same_state(m.state(ref), m.state(sess))


# --- other executors and corner cases -----------------------------------------------------------
def _bad_after_train(m: Model):
    with m.graph.as_default():
        with tf.control_dependencies([m.train]):
            return tf.check_numerics(m.xp * 1.0, "after", name="after_check")


def test_traced_run_is_undone():
    m = Model("op", "momentum")
    after = _bad_after_train(m)
    sess = _trained(m, "sequential")
    before = m.state(sess)
    opts = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
    for config in ({}, {"inter_op_parallelism_threads": 2}):
        s = sess if not config else m.session("parallel")
        if config:
            s.run(m.init)
            s.run(m.step, m.feed())
        start = m.state(s)
        with pytest.raises(IAE):
            s.run(after, m.feed(xp=np.float32(np.nan)), options=opts,
                  run_metadata=tf.RunMetadata())
        assert_same_state(start, m.state(s))
    assert_same_state(before, m.state(sess))


def test_memory_tracked_run_is_undone():
    m = Model("graph", "adam")
    after = _bad_after_train(m)
    sess = _trained(m, "sequential")
    before = m.state(sess)
    with runtime_memory.tracking():
        with pytest.raises(IAE):
            sess.run(after, m.feed(xp=np.float32(np.nan)))
    assert_same_state(before, m.state(sess))


@pytest.mark.parametrize("executor", list(EXECUTORS))
def test_assign_with_new_shape_is_undone(executor):
    v = tf.Variable(np.arange(3, dtype=np.float32), name="v")
    u = tf.Variable(np.ones(2, np.float32), name="u")
    x = tf.placeholder(tf.float32, None, name="x")
    grow = tf.assign(v, tf.zeros([5]), validate_shape=False)
    bump = tf.assign_add(u, [1.0, 1.0])
    with tf.control_dependencies([grow, bump]):
        bad = tf.check_numerics(x, "x", name="bad")
    sess = tf.Session(config=tf.ConfigProto(**EXECUTORS[executor]))
    sess.run(tf.global_variables_initializer())
    view = sess.run(v)
    with pytest.raises(IAE) as info:
        sess.run(bad, {x: np.float32(np.nan)})
    assert info.value.op.name == "bad"
    assert np.array_equal(sess.run(v), [0.0, 1.0, 2.0]) and np.array_equal(sess.run(u), [1, 1])
    assert np.array_equal(view, [0.0, 1.0, 2.0])
    sess.run(bad, {x: np.float32(1.0)})
    assert sess.run(v).shape == (5,) and np.array_equal(sess.run(u), [2, 2])


@pytest.mark.parametrize("executor", list(EXECUTORS))
def test_fetching_an_uninitialized_variable_undoes_the_step(executor):
    m = Model("op", "sgd")
    with m.graph.as_default():
        late = tf.Variable(1.0, name="late")
    sess = _trained(m, executor)
    before = m.state(sess)
    with pytest.raises(FPE) as info:
        sess.run([m.train, late], m.feed())
    assert info.value.op.name == "late" and "uninitialized value late" in str(info.value)
    assert_same_state(before, m.state(sess))


@pytest.mark.parametrize("case", ["scatter_update", "scatter_add", "scatter_sub",
                                  "sparse_adagrad", "sparse_momentum", "sparse_rms_prop"])
def test_failing_sparse_update_writes_nothing(case):
    """The update itself validates every index before its first write."""
    var = tf.Variable(np.arange(12, dtype=np.float32).reshape(4, 3), name="var")
    acc = tf.Variable(np.full((4, 3), 0.5, np.float32), name="acc")
    mom = tf.Variable(np.full((4, 3), 0.25, np.float32), name="mom")
    idx = tf.placeholder(tf.int32, [None], name="idx")
    upd = tf.ones([3, 3])
    op = {
        "scatter_update": lambda: tf.scatter_update(var, idx, upd),
        "scatter_add": lambda: tf.scatter_add(var, idx, upd),
        "scatter_sub": lambda: tf.scatter_sub(var, idx, upd),
        "sparse_adagrad": lambda: T.sparse_apply_adagrad(var, acc, 0.1, upd, idx),
        "sparse_momentum": lambda: T.sparse_apply_momentum(var, acc, 0.1, upd, idx, 0.9),
        "sparse_rms_prop": lambda: T.sparse_apply_rms_prop(var, acc, mom, 0.1, 0.9, 0.0, 1e-7,
                                                           upd, idx),
    }[case]()
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    before = sess.run([var, acc, mom])
    for bad in ([0, 1, 4], [3, -1, 0], [2, 0, 7]):  # the bad index last, first, in the middle
        with pytest.raises(IAE) as info:
            sess.run(op, {idx: bad})
        assert info.value.op.name == op.op.name
        after = sess.run([var, acc, mom])
        assert all(np.array_equal(a, b) for a, b in zip(before, after)), case
    sess.run(op, {idx: [0, 1, 3]})
    assert not np.array_equal(sess.run(var), before[0])


# --- failure position sweep ----------------------------------------------------------------------
_KINDS = ("assign", "assign_add", "scatter_add", "apply_gd")


@st.composite
def _chains(draw):
    """A chain of updates on 3 variables with one check at a random place; each
    op waits for the previous one (so the chain fixes the order) or, drawn at
    random, only for a random subset of the earlier ops."""
    n = draw(st.integers(1, 6))
    ops = [(draw(st.sampled_from(_KINDS)), draw(st.integers(0, 2))) for _ in range(n)]
    pos = draw(st.integers(0, n))
    chained = draw(st.booleans())
    deps = [None if chained else draw(st.lists(st.integers(0, max(i - 1, 0)), max_size=2))
            for i in range(n + 1)]
    return ops, pos, deps, draw(st.sampled_from(list(EXECUTORS)))


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(_chains())
def test_failure_position_sweep(case):
    ops, pos, deps, executor = case
    g = tf.Graph()
    with g.as_default():
        vs = [tf.Variable(np.full(4, float(i + 1), np.float32), name="v%d" % i)
              for i in range(3)]
        x = tf.placeholder(tf.float32, [], name="x")
        built = []
        for i in range(len(ops) + 1):
            prev = ([built[-1]] if built else []) if deps[i] is None else \
                [built[j] for j in set(deps[i]) if j < len(built)]
            with tf.control_dependencies(prev):
                if i == pos:
                    built.append(tf.check_numerics(x, "x", name="check").op)
                    continue
                kind, k = ops[i - (i > pos)]
                v = vs[k]
                if kind == "assign":
                    built.append(tf.assign(v, v * 2.0 + 1.0).op)
                elif kind == "assign_add":
                    built.append(tf.assign_add(v, tf.fill([4], 3.0)).op)
                elif kind == "scatter_add":
                    built.append(tf.scatter_add(v, [1, 3], [5.0, 7.0]).op)
                else:
                    built.append(T.apply_gradient_descent(v, 0.5, tf.ones([4])).op)
        run = tf.group(*built)
        init = tf.global_variables_initializer()
    sess = tf.Session(graph=g, config=tf.ConfigProto(**EXECUTORS[executor]))
    sess.run(init)
    sess.run(run, {x: 0.0})
    before = sess.run(vs)
    with pytest.raises(IAE) as info:
        sess.run(run, {x: np.float32(np.nan)})
    assert info.value.op.name == "check"
    after = sess.run(vs)
    assert all(np.array_equal(a, b) for a, b in zip(before, after)), (ops, pos, deps)
    sess.run(run, {x: 0.0})  # the session still trains


# --- order and cost -----------------------------------------------------------------------------
def test_reads_run_before_updates():
    """A read that no edge orders against an update sees the value before the run."""
    v = tf.Variable(1.0, name="v")
    bump = tf.assign_add(v, 1.0)
    doubled = v * 2.0  # created after the update: TF1's creation order read 4.0
    sess = tf.Session()
    sess.run(v.initializer)
    got_bump, got_doubled = sess.run([bump, doubled])
    assert got_bump == 2.0 and got_doubled == 2.0


def test_gradients_read_the_weights_before_any_update():
    """Updates built between gradients (TF1's creation order ran ``W2``'s update
    before ``W1``'s gradient read ``W2``): every gradient sees the old weights."""
    x0 = RNG.normal(size=(5, 4))
    t0 = RNG.normal(size=(5, 2))
    w1_0, w2_0 = RNG.normal(size=(4, 3)), RNG.normal(size=(3, 2))
    x, t = tf.constant(x0), tf.constant(t0)
    w1, w2 = tf.Variable(w1_0, name="w1"), tf.Variable(w2_0, name="w2")
    loss = tf.reduce_sum(tf.square(tf.matmul(tf.matmul(x, w1), w2) - t))
    up2 = tf.assign_sub(w2, 0.01 * tf.gradients(loss, w2)[0])
    up1 = tf.assign_sub(w1, 0.01 * tf.gradients(loss, w1)[0])  # dW1 reads w2
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    sess.run(tf.group(up2, up1))
    d = 2.0 * (x0 @ w1_0 @ w2_0 - t0)
    np.testing.assert_allclose(sess.run(w2), w2_0 - 0.01 * (x0 @ w1_0).T @ d, rtol=1e-12)
    np.testing.assert_allclose(sess.run(w1), w1_0 - 0.01 * x0.T @ (d @ w2_0.T), rtol=1e-12)


@pytest.mark.parametrize("executor", list(EXECUTORS))
@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_training_step_copies_no_variable(monkeypatch, executor, opt):
    """With every shape static (as in bench W2), no step of a training run can fail
    after the first update: the journal stays empty."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [8, 6], name="x")
        y = tf.placeholder(tf.int32, [8], name="y")
        w1 = tf.Variable(RNG.normal(size=(6, 5)).astype(np.float32))
        w2 = tf.Variable(RNG.normal(size=(5, 3)).astype(np.float32))
        b = tf.Variable(np.zeros(3, np.float32))
        logits = tf.matmul(tf.nn.relu(tf.matmul(x, w1)), w2) + b
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                                             logits=logits))
        gs = tf.train.get_or_create_global_step()
        opt_ = tf.train.AdamOptimizer(0.01) if opt == "adam" else \
            tf.train.GradientDescentOptimizer(0.1)
        train = opt_.minimize(loss, global_step=gs)
        with tf.control_dependencies([train]):
            bad = tf.check_numerics(loss, "loss")
        init = tf.global_variables_initializer()
    copies = []
    real = journal.save
    monkeypatch.setattr(journal, "save", lambda saved, cell: (copies.append(cell.name),
                                                              real(saved, cell)))
    sess = tf.Session(graph=g, config=tf.ConfigProto(**EXECUTORS[executor]))
    sess.run(init)
    fd = {x: RNG.normal(size=(8, 6)).astype(np.float32), y: np.arange(8) % 3}
    for _ in range(3):
        sess.run([train, loss, w1], fd)
    assert copies == []
    sess.run([bad, loss], fd)  # a step that may still fail after the updates journals
    assert copies


@pytest.mark.parametrize("opt", list(OPTIMIZERS))
def test_sparse_training_step_copies_no_variable(monkeypatch, opt):
    """The sequential executor checks the sparse updates' indices before the first
    update writes, so an embedding's training step needs no undo copy either."""
    m = Model("op", opt)
    copies = []
    real = journal.save
    monkeypatch.setattr(journal, "save", lambda saved, cell: (copies.append(cell.name),
                                                              real(saved, cell)))
    sess = _trained(m, "sequential")
    sess.run([m.train, m.loss], m.feed())
    assert copies == []
    bad = IDS.copy()
    bad[0] = -1
    before = m.state(sess)
    with pytest.raises(IAE):
        sess.run([m.train, m.loss], m.feed(upd_ids=bad))
    assert copies  # the precheck failed: the dense updates before it were journaled
    assert_same_state(before, m.state(sess))
