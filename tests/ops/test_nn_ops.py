"""tf.nn ops against NumPy truth, and their gradients against float64 central
finite differences (first and, where TF has it, second order)."""
import numpy as np
import pytest

import graphflow as tf

RNG = np.random.default_rng(1234)


def run(fetches, feeds=None):
    with tf.Session() as sess:
        return sess.run(fetches, feeds)


# --- finite-difference helper -------------------------------------------------------------
def check_grads(fn, *arrays, wrt=None, eps=1e-6, rtol=1e-5, atol=1e-6):
    """tf.gradients of sum(w * fn(*xs)) vs central differences, for inputs ``wrt``."""
    tf.reset_default_graph()
    phs = [tf.placeholder(tf.as_dtype(a.dtype), a.shape) for a in arrays]
    y = fn(*phs)
    w = tf.constant(RNG.uniform(0.5, 1.5, size=y.shape.as_list()))
    loss = tf.reduce_sum(y * w)
    wrt = range(len(arrays)) if wrt is None else wrt
    grads = tf.gradients(loss, [phs[i] for i in wrt])
    feeds = dict(zip(phs, arrays))
    with tf.Session() as sess:
        got = sess.run(grads, feeds)
        for k, i in enumerate(wrt):
            x0 = arrays[i]
            num = np.zeros(x0.shape)
            for j in range(x0.size):
                xp, xm = x0.copy(), x0.copy()
                xp.flat[j] += eps
                xm.flat[j] -= eps
                lp = sess.run(loss, {**feeds, phs[i]: xp})
                lm = sess.run(loss, {**feeds, phs[i]: xm})
                num.flat[j] = (lp - lm) / (2 * eps)
            g = got[k]
            if hasattr(g, "indices"):  # IndexedSlicesValue
                dense = np.zeros(x0.shape)
                np.add.at(dense, g.indices, g.values)
                g = dense
            np.testing.assert_allclose(g, num, rtol=rtol, atol=atol, err_msg="input %d" % i)


def second_order(fn, wrt=0):
    """x -> d/dx sum(v * fn(x, ...)) as a graph function (for Hessian-vector checks)."""
    def g(*xs):
        y = fn(*xs)
        v = tf.constant(RNG.uniform(0.5, 1.5, size=y.shape.as_list()))
        return tf.gradients(tf.reduce_sum(y * v), xs[wrt])[0]
    return g


def away_from(x, points, gap=0.05):
    for p in points:
        x = np.where(np.abs(x - p) < gap, p + gap * 2 * np.sign(x - p + 1e-12), x)
    return x


def log_softmax_np(x, axis=-1):
    x = x.astype(np.float64)
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


# --- activations --------------------------------------------------------------------------
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_activations_match_numpy(dt):
    x = np.array([-100.0, -7.0, -1.5, -0.0, 0.3, 2.0, 5.9, 6.5, 100.0], dt)
    t = tf.constant(x)
    got = run([tf.nn.relu(t), tf.nn.relu6(t), tf.nn.elu(t), tf.nn.softplus(t),
               tf.nn.leaky_relu(t), tf.nn.leaky_relu(t, alpha=0.01)])
    x64 = x.astype(np.float64)
    want = [np.maximum(x64, 0), np.clip(x64, 0, 6), np.where(x64 > 0, x64, np.expm1(x64)),
            np.log1p(np.exp(-np.abs(x64))) + np.maximum(x64, 0), np.where(x64 > 0, x64, 0.2 * x64),
            np.where(x64 > 0, x64, 0.01 * x64)]
    for g, w in zip(got, want):
        assert g.dtype == dt
        assert np.all(np.isfinite(g))
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-37)  # float32 denormals


def test_activation_op_types_and_names():
    x = tf.constant([1.0, -1.0])
    assert tf.nn.relu(x).op.type == "Relu" and tf.nn.relu(x).op.name.startswith("Relu")
    assert tf.nn.relu6(x).op.name == "Relu6"
    assert tf.nn.softplus(x).op.type == "Softplus"
    assert tf.nn.leaky_relu(x).op.name == "LeakyRelu"
    assert tf.nn.sigmoid is tf.sigmoid and tf.nn.tanh is tf.tanh


def test_relu_integers_and_leaky_relu_int_input():
    got = run([tf.nn.relu(tf.constant([-3, 0, 4])), tf.nn.leaky_relu(tf.constant([-10, 10]))])
    np.testing.assert_array_equal(got[0], [0, 0, 4])
    assert got[1].dtype == np.float32
    np.testing.assert_allclose(got[1], [-2.0, 10.0])


@pytest.mark.parametrize("name,fn,points", [
    ("relu", tf.nn.relu, [0.0]), ("relu6", tf.nn.relu6, [0.0, 6.0]), ("elu", tf.nn.elu, [0.0]),
    ("softplus", tf.nn.softplus, []), ("leaky_relu", lambda x: tf.nn.leaky_relu(x, 0.3), [0.0])])
def test_activation_gradients(name, fn, points):
    x = away_from(RNG.uniform(-3, 8, size=(3, 4)), points)
    check_grads(fn, x)


@pytest.mark.parametrize("fn,points", [(tf.nn.elu, [0.0]), (tf.nn.softplus, []),
                                       (tf.nn.relu, [0.0]), (tf.nn.relu6, [0.0, 6.0]),
                                       (tf.nn.leaky_relu, [0.0])])
def test_activation_second_order(fn, points):
    x = away_from(RNG.uniform(-3, 8, size=(2, 3)), points)
    check_grads(second_order(fn), x)


def test_grad_ops_second_order_wrt_their_inputs():
    g = RNG.uniform(-1, 1, size=(2, 3))
    x = away_from(RNG.uniform(-2, 2, size=(2, 3)), [0.0])
    for op_type in ("EluGrad", "SoftplusGrad", "ReluGrad"):
        from graphflow.framework.op_def import apply_op
        check_grads(lambda a, b, t=op_type: apply_op(t, a, b), g, x)


# --- softmax ------------------------------------------------------------------------------
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_softmax_and_log_softmax(dt):
    x = (RNG.normal(size=(4, 6)) * 3).astype(dt)
    x[0] = [1000, 999, -1000, 0, 1000, 5]  # large logits stay finite
    s, ls = run([tf.nn.softmax(x), tf.nn.log_softmax(x)])
    assert s.dtype == dt and ls.dtype == dt
    np.testing.assert_allclose(s.sum(axis=-1), 1, rtol=1e-6)
    np.testing.assert_allclose(ls, log_softmax_np(x), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(s, np.exp(log_softmax_np(x)), rtol=1e-5, atol=1e-7)


def test_softmax_axis_and_dim():
    x = RNG.normal(size=(2, 3, 4)).astype(np.float32)
    s0 = tf.nn.softmax(x, axis=0)
    s1 = tf.nn.softmax(x, dim=1, name="sm")
    l0 = tf.nn.log_softmax(x, axis=-3)
    assert s0.shape.as_list() == [2, 3, 4] and s1.op.name == "sm"
    a, b, c = run([s0, s1, l0])
    np.testing.assert_allclose(a, np.exp(log_softmax_np(x, 0)), rtol=1e-5)
    np.testing.assert_allclose(b, np.exp(log_softmax_np(x, 1)), rtol=1e-5)
    np.testing.assert_allclose(c, log_softmax_np(x, 0), rtol=1e-5, atol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Dimension \(3\) must be in"):
        tf.nn.softmax(x, axis=3)


def test_softmax_rank0_is_a_shape_error():
    with pytest.raises(ValueError, match="Shape must be at least rank 1 but is rank 0"):
        tf.nn.softmax(tf.constant(1.0))


@pytest.mark.parametrize("fn", [tf.nn.softmax, tf.nn.log_softmax,
                                lambda x: tf.nn.softmax(x, axis=0)])
def test_softmax_gradients(fn):
    x = RNG.normal(size=(3, 4))
    check_grads(fn, x)
    check_grads(second_order(fn), x)


# --- cross-entropies ----------------------------------------------------------------------
def xent_np(labels, logits, axis=-1):
    return -(labels * log_softmax_np(logits, axis)).sum(axis=axis)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_softmax_xent_matches_numpy_including_large_logits(dt):
    logits = (RNG.normal(size=(5, 4)) * 2).astype(dt)
    logits[0] = [1000, -1000, 0, 500]
    logits[1] = [-800, -801, -799, -800]
    labels = RNG.dirichlet(np.ones(4), size=5).astype(dt)
    v2 = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
    v1 = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    a, b = run([v2, v1])
    assert a.dtype == dt and a.shape == (5,)
    np.testing.assert_allclose(a, xent_np(labels, logits), rtol=1e-5)
    np.testing.assert_allclose(b, a)
    assert v2.op.type == "SoftmaxCrossEntropyWithLogits"
    assert v2.op.name == "softmax_cross_entropy_with_logits"
    assert v1.op.name == "softmax_cross_entropy_with_logits_sg"
    assert len(v2.op.outputs) == 2


def test_softmax_xent_backprop_output():
    from graphflow.framework.op_def import apply_op
    logits = RNG.normal(size=(3, 4))
    labels = RNG.dirichlet(np.ones(4), size=3)
    loss, backprop = apply_op("SoftmaxCrossEntropyWithLogits", logits, labels)
    lv, bv = run([loss, backprop])
    np.testing.assert_allclose(lv, xent_np(labels, logits), rtol=1e-12)
    np.testing.assert_allclose(bv, np.exp(log_softmax_np(logits)) - labels, rtol=1e-12)


def test_softmax_xent_higher_rank_and_axis():
    logits = RNG.normal(size=(2, 3, 4)).astype(np.float32)
    labels = RNG.dirichlet(np.ones(4), size=(2, 3)).astype(np.float32)
    last = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
    lab1 = np.moveaxis(labels, -1, 1).copy()
    log1 = np.moveaxis(logits, -1, 1).copy()
    mid = tf.nn.softmax_cross_entropy_with_logits_v2(labels=lab1, logits=log1, axis=1)
    assert last.shape.as_list() == [2, 3] and mid.shape.as_list() == [2, 3]
    a, b = run([last, mid])
    np.testing.assert_allclose(a, xent_np(labels, logits), rtol=1e-5)
    np.testing.assert_allclose(b, a, rtol=1e-6)


def test_softmax_xent_unknown_rank():
    logits = tf.placeholder(tf.float32, None)
    labels = tf.placeholder(tf.float32, None)
    loss = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
    x = RNG.normal(size=(2, 3, 4)).astype(np.float32)
    z = RNG.dirichlet(np.ones(4), size=(2, 3)).astype(np.float32)
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(loss, {logits: x, labels: z}), xent_np(z, x),
                                   rtol=1e-5)
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"logits and labels must be broadcastable: "
                                 r"logits_size=\[2,4\] labels_size=\[2,3\]"):
            sess.run(loss, {logits: np.zeros((2, 4)), labels: np.zeros((2, 3))})


def test_xent_requires_named_arguments():
    with pytest.raises(ValueError,
                       match="Only call `softmax_cross_entropy_with_logits` with named"):
        tf.nn.softmax_cross_entropy_with_logits([[0.0, 1.0]], [[1.0, 2.0]])
    with pytest.raises(ValueError, match="Both labels and logits must be provided"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(logits=[[1.0, 2.0]])


def test_softmax_xent_gradients_v1_v2():
    logits = RNG.normal(size=(3, 4))
    labels = RNG.dirichlet(np.ones(4), size=3)
    v2 = tf.nn.softmax_cross_entropy_with_logits_v2
    check_grads(lambda z, x: v2(labels=z, logits=x), labels, logits)
    # second order through the op's backprop output (w.r.t. logits and labels)
    check_grads(second_order(lambda z, x: v2(labels=z, logits=x), wrt=1), labels, logits)
    check_grads(second_order(lambda z, x: v2(labels=z, logits=x), wrt=0), labels, logits,
                wrt=[1])
    # the deprecated v1 stops the gradient at labels
    z = tf.constant(labels)
    x = tf.constant(logits)
    loss = tf.nn.softmax_cross_entropy_with_logits(labels=z, logits=x)
    gz, gx = tf.gradients(tf.reduce_sum(loss), [z, x])
    assert gz is None
    np.testing.assert_allclose(run(gx), np.exp(log_softmax_np(logits)) - labels, rtol=1e-12)


@pytest.mark.parametrize("label_dt", [np.int32, np.int64])
def test_sparse_xent_matches_numpy(label_dt):
    logits = (RNG.normal(size=(5, 4)) * 2).astype(np.float32)
    logits[0] = [1000, -1000, 0, 999]
    labels = np.array([3, 0, 1, 2, 3], label_dt)
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    assert loss.op.name == "SparseSoftmaxCrossEntropyWithLogits/SparseSoftmaxCrossEntropyWithLogits"
    got = run(loss)
    want = -log_softmax_np(logits)[np.arange(5), labels]
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_sparse_xent_higher_rank():
    logits = RNG.normal(size=(2, 3, 4)).astype(np.float32)
    labels = RNG.integers(0, 4, size=(2, 3))
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    assert loss.shape.as_list() == [2, 3]
    want = -np.take_along_axis(log_softmax_np(logits), labels[..., None], -1)[..., 0]
    np.testing.assert_allclose(run(loss), want, rtol=1e-5)


def test_sparse_xent_label_validation_and_session_survives():
    logits = tf.constant(RNG.normal(size=(2, 3)).astype(np.float32))
    labels = tf.placeholder(tf.int32, [2])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            sess.run(loss, {labels: [1, 5]})
        msg = str(e.value)
        assert msg.startswith("Received a label value of 5 which is outside the valid range of "
                              "[0, 3).  Label values: 1 5")
        assert "[[{{node SparseSoftmaxCrossEntropyWithLogits/" in msg
        with pytest.raises(tf.errors.InvalidArgumentError, match="label value of -1 "):
            sess.run(loss, {labels: [-1, 2]})
        assert sess.run(loss, {labels: [0, 2]}).shape == (2,)


def test_sparse_xent_static_checks():
    with pytest.raises(ValueError, match=r"Rank mismatch: Rank of labels \(received 2\) should "
                                         r"equal rank of logits minus 1 \(received 2\)"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[[0, 1]], logits=[[1.0, 2.0]])
    with pytest.raises(TypeError, match="labels"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0.0], logits=[[1.0, 2.0]])


def test_sparse_xent_gradients():
    logits = RNG.normal(size=(4, 3))
    def fn(x):
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0, 2, 1, 2], logits=x)
    check_grads(fn, logits)
    check_grads(second_order(fn), logits)


def test_sigmoid_xent_matches_numpy():
    x = np.array([-1000.0, -30.0, -1.0, 0.0, 2.5, 40.0, 1000.0], np.float32)
    z = np.array([0.0, 1.0, 0.3, 0.5, 1.0, 0.0, 1.0], np.float32)
    loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x)
    assert loss.op.name == "logistic_loss"
    got = run(loss)
    x64, z64 = x.astype(np.float64), z.astype(np.float64)
    want = z64 * np.logaddexp(0, -x64) + (1 - z64) * np.logaddexp(0, x64)
    assert got.dtype == np.float32 and np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-6)
    with pytest.raises(ValueError, match="logits and labels must have the same shape"):
        tf.nn.sigmoid_cross_entropy_with_logits(labels=[1.0, 0.0], logits=[1.0, 2.0, 3.0])


def test_sigmoid_xent_gradients():
    x = away_from(RNG.normal(size=(3, 2)) * 3, [0.0])
    z = RNG.uniform(size=(3, 2))
    check_grads(lambda a, b: tf.nn.sigmoid_cross_entropy_with_logits(labels=b, logits=a), x, z)


def test_weighted_xent_matches_numpy_and_gradients():
    x = np.array([-50.0, -2.0, 0.5, 3.0, 60.0])
    z = np.array([1.0, 0.0, 0.7, 1.0, 0.0])
    got = run(tf.nn.weighted_cross_entropy_with_logits(targets=z, logits=x, pos_weight=3.0))
    want = 3.0 * z * np.logaddexp(0, -x) + (1 - z) * np.logaddexp(0, x)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    check_grads(lambda a, b: tf.nn.weighted_cross_entropy_with_logits(b, a, 0.5),
                away_from(RNG.normal(size=(2, 3)), [0.0]), RNG.uniform(size=(2, 3)))


def test_batch_normalization():
    x = RNG.normal(size=(4, 3))
    mean, var = x.mean(0), x.var(0)
    beta, gamma = RNG.normal(size=3), RNG.uniform(0.5, 2, size=3)
    y = tf.nn.batch_normalization(x, mean, var, beta, gamma, 1e-3)
    y0 = tf.nn.batch_normalization(x, mean, var, None, None, 1e-3)
    a, b = run([y, y0])
    np.testing.assert_allclose(a, gamma * (x - mean) / np.sqrt(var + 1e-3) + beta, rtol=1e-12)
    np.testing.assert_allclose(b, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-12)


def test_compute_gradient_error_on_cross_entropies():
    logits = RNG.normal(size=(3, 4))
    labels = RNG.dirichlet(np.ones(4), size=3)
    x = tf.constant(logits)
    z = tf.constant(labels)
    dense = tf.nn.softmax_cross_entropy_with_logits_v2(labels=z, logits=x)
    sparse = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[1, 0, 3], logits=x)
    with tf.Session():
        for y in (dense, sparse):
            assert tf.test.compute_gradient_error(x, [3, 4], y, [3], x_init_value=logits) < 1e-7
        assert tf.test.compute_gradient_error(z, [3, 4], dense, [3], x_init_value=labels) < 1e-7


# --- l2 loss, bias add, normalisation ---------------------------------------------------
def test_l2_loss():
    for x in (RNG.normal(size=(50, 30)).astype(np.float32), np.float64(3.0), np.zeros((0, 2))):
        t = tf.nn.l2_loss(x)
        assert t.shape.as_list() == [] and t.op.type == "L2Loss"
        got = run(t)
        assert got.dtype == np.asarray(x).dtype
        np.testing.assert_allclose(got, np.sum(np.square(np.float64(x))) / 2, rtol=1e-6)
    check_grads(tf.nn.l2_loss, RNG.normal(size=(3, 4)))


@pytest.mark.parametrize("fmt,shape", [("NHWC", (2, 3)), ("NHWC", (2, 3, 4, 5)),
                                       ("NCHW", (2, 5, 3, 4)), ("NCHW", (3, 2, 4)),
                                       (None, (4, 3))])
def test_bias_add(fmt, shape):
    x = RNG.normal(size=shape)
    c = shape[1] if fmt == "NCHW" else shape[-1]
    b = RNG.normal(size=c)
    y = tf.nn.bias_add(x, b, data_format=fmt)
    assert y.op.type == "BiasAdd" and y.op.name == "BiasAdd"
    bshape = (c,) + (1,) * (len(shape) - 2) if fmt == "NCHW" else (c,)
    np.testing.assert_allclose(run(y), x + b.reshape(bshape), rtol=1e-15)
    check_grads(lambda u, v: tf.nn.bias_add(u, v, data_format=fmt), x, b)


def test_bias_add_second_order_and_errors():
    x = RNG.normal(size=(2, 3, 2))
    b = RNG.normal(size=3)
    check_grads(second_order(lambda u, v: tf.nn.bias_add(u, v, data_format="NCHW") ** 2, wrt=1),
                x, b)
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 3 and 4"):
        tf.nn.bias_add(tf.zeros([2, 3]), tf.zeros([4]))
    with pytest.raises(ValueError, match="Shape must be at least rank 2 but is rank 1"):
        tf.nn.bias_add(tf.zeros([3]), tf.zeros([3]))
    with pytest.raises(ValueError, match="Shape must be at least rank 3 but is rank 2"):
        tf.nn.bias_add(tf.zeros([2, 3]), tf.zeros([3]), data_format="NCHW")
    b = tf.placeholder(tf.float32, [3])
    y = tf.nn.bias_add(tf.placeholder_with_default(np.zeros((2, 4), np.float32), None), b)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"Must provide as many biases as the last dimension of the "
                                 r"input tensor: \[3\] vs. \[2,4\]"):
            sess.run(y, {b: np.zeros(3)})


def test_xw_plus_b_and_l2_normalize():
    x, w, b = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4)), RNG.normal(size=4)
    y = tf.nn.xw_plus_b(x, w, b)
    n = tf.nn.l2_normalize(x, axis=1)
    a, c = run([y, n])
    np.testing.assert_allclose(a, x @ w + b, rtol=1e-12)
    np.testing.assert_allclose(c, x / np.linalg.norm(x, axis=1, keepdims=True), rtol=1e-12)
    check_grads(lambda u: tf.nn.l2_normalize(u, axis=0), x)


def test_moments():
    x = RNG.normal(size=(4, 3, 2)).astype(np.float32)
    m, v = tf.nn.moments(x, axes=[0, 2])
    mk, vk = tf.nn.moments(x, axes=[1], keep_dims=True)
    a, b, c, d = run([m, v, mk, vk])
    np.testing.assert_allclose(a, x.mean(axis=(0, 2)), rtol=1e-5)
    np.testing.assert_allclose(b, x.var(axis=(0, 2)), rtol=1e-5)
    assert c.shape == (4, 1, 2) and d.shape == (4, 1, 2)
    np.testing.assert_allclose(d, x.var(axis=1, keepdims=True), rtol=1e-5)


# --- dropout ------------------------------------------------------------------------------
def test_dropout_statistics_and_scaling():
    x = np.ones((200, 500), np.float32) * 3
    y = tf.nn.dropout(x, keep_prob=0.3, seed=5)
    got = run(y)
    assert got.shape == x.shape and got.dtype == np.float32
    kept = got != 0
    np.testing.assert_allclose(got[kept], 3 / np.float32(0.3), rtol=1e-6)
    frac = kept.mean()
    assert abs(frac - 0.3) < 5 * np.sqrt(0.3 * 0.7 / x.size)
    assert y.shape.as_list() == [200, 500]


def test_dropout_rate_noise_shape_and_shortcuts():
    x = tf.constant(np.ones((6, 400), np.float32))
    assert tf.nn.dropout(x, keep_prob=1.0) is x
    assert tf.nn.dropout(x, rate=0.0) is x
    y = run(tf.nn.dropout(x, rate=0.75, noise_shape=[1, 400], seed=1))
    assert np.all(y == y[0])  # one mask shared by every row
    assert set(np.unique(y)) <= {0.0, 4.0}
    with pytest.raises(ValueError, match="Cannot specify both 'keep_prob' and 'rate'"):
        tf.nn.dropout(x, keep_prob=0.5, rate=0.5)
    with pytest.raises(ValueError, match=r"keep_prob must be a scalar tensor or a float in the "
                                         r"range \(0, 1\], got 1.5"):
        tf.nn.dropout(x, keep_prob=1.5)
    with pytest.raises(ValueError, match="x has to be a floating point tensor"):
        tf.nn.dropout(tf.constant([1, 2]), keep_prob=0.5)


def test_dropout_gradient_uses_the_same_mask():
    x = tf.constant(RNG.normal(size=(50,)))
    y = tf.nn.dropout(x, keep_prob=0.5, seed=3)
    g = tf.gradients(tf.reduce_sum(y), x)[0]
    with tf.Session() as sess:
        yv, gv = sess.run([y, g])
    np.testing.assert_allclose(gv, np.where(yv != 0, 2.0, 0.0))


# --- embedding lookup ---------------------------------------------------------------------
def test_embedding_lookup_single_and_list():
    params = RNG.normal(size=(6, 3)).astype(np.float32)
    ids = np.array([[0, 5], [2, 2]])
    p = tf.constant(params)
    a = tf.nn.embedding_lookup(p, ids)
    b = tf.nn.embedding_lookup([p], ids, name="emb")
    assert a.shape.as_list() == [2, 2, 3]
    assert b.op.name == "emb/Identity"
    x, y = run([a, b])
    np.testing.assert_array_equal(x, params[ids])
    np.testing.assert_array_equal(y, params[ids])


@pytest.mark.parametrize("strategy", ["mod", "div"])
def test_embedding_lookup_partitions(strategy):
    table = RNG.normal(size=(7, 2))
    n = 3
    if strategy == "mod":
        parts = [table[p::n] for p in range(n)]
    else:
        parts = np.array_split(table, n)
    ids = np.array([0, 6, 3, 1, 5, 2, 4, 4])
    y = tf.nn.embedding_lookup([tf.constant(p) for p in parts], ids,
                               partition_strategy=strategy)
    np.testing.assert_array_equal(run(y), table[ids])


def test_embedding_lookup_gradient_is_indexed_slices_and_max_norm():
    params = RNG.normal(size=(5, 2)) * 3
    p = tf.constant(params)
    y = tf.nn.embedding_lookup(p, [1, 3, 1])
    g = tf.gradients(tf.reduce_sum(y), p)[0]
    assert isinstance(g, tf.IndexedSlices)
    gv = run(g)
    np.testing.assert_array_equal(gv.indices, [1, 3, 1])
    np.testing.assert_allclose(gv.values, np.ones((3, 2)))
    clipped = run(tf.nn.embedding_lookup(p, [0, 4], max_norm=1.0))
    norms = np.linalg.norm(params[[0, 4]], axis=1, keepdims=True)
    np.testing.assert_allclose(clipped, params[[0, 4]] / np.maximum(norms, 1.0), rtol=1e-12)
