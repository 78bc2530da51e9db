"""GradientTape in graph mode (spec gradients.md §5)."""
import logging

import numpy as np
import pytest

import graphflow as tf


def _run(fetches, init=()):
    with tf.Session() as sess:
        for v in init:
            sess.run(v.initializer)
        return sess.run(fetches)


def test_watched_constant():
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    g = t.gradient(y, x)
    assert _run(g) == 6.0


def test_unwatched_constant_has_no_gradient():
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        y = x * x
    assert t.gradient(y, x) is None


def test_trainable_variables_watched_automatically():
    v = tf.Variable(2.0, name="v")
    n = tf.Variable(5.0, name="n", trainable=False)
    with tf.GradientTape() as t:
        y = v * 3.0 + n * v
    assert t.watched_variables() == (v,)
    gv, gn = t.gradient(y, [v, n])
    assert gn is None
    assert _run(gv, [v, n]) == 8.0


def test_watch_accessed_variables_false():
    v = tf.Variable(2.0)
    with tf.GradientTape(watch_accessed_variables=False) as t:
        y = v * 3.0
    assert t.gradient(y, v) is None
    with tf.GradientTape(watch_accessed_variables=False) as t2:
        t2.watch(v)
        y = v * 3.0
    assert t2.watched_variables() == (v,)
    assert _run(t2.gradient(y, v), [v]) == 3.0


def test_watched_variables_in_watch_order():
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(2.0, name="b")
    with tf.GradientTape() as t:
        y = b * 2.0
        z = a * b
    assert t.watched_variables() == (b, a)


def test_watching_an_integer_tensor_warns(caplog):
    from graphflow.autodiff import tape as tape_mod
    tape_mod._WARNED.discard("watch-dtype")
    xi = tf.constant(3)
    with caplog.at_level(logging.WARNING, logger="graphflow"):
        with tf.GradientTape() as t:
            t.watch(xi)
            y = xi * 2
    assert "The dtype of the watched tensor must be floating (e.g. tf.float32), got tf.int32" \
        in caplog.text
    assert t.gradient(y, xi) is None


def test_ops_outside_the_tape_are_constants():
    v = tf.Variable(2.0)
    pre = v * 3.0
    with tf.GradientTape() as t:
        y = pre * v
    assert _run(t.gradient(y, v), [v]) == 6.0

    outside = v * 5.0
    with tf.GradientTape() as t2:
        t2.watch(v)
    assert t2.gradient(outside, v) is None


def test_stop_recording():
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        with t.stop_recording():
            c = x * x
        y = c * x
    assert _run(t.gradient(y, x)) == 9.0
    t3 = tf.GradientTape()
    with pytest.raises(RuntimeError, match="^Trying to stop recording a tape which is not "
                                           "recording.$"):
        with t3.stop_recording():
            pass


def test_reset():
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
        t.reset()
        t.watch(x)
        z = x * 4.0
    assert t.gradient(z, x) is not None
    t_y = tf.GradientTape()
    with t_y:
        t_y.watch(x)
        a = x * x
        t_y.reset()
        b = a * 2.0
    assert t_y.gradient(b, x) is None


def test_multiple_targets_are_summed_and_sources_keep_structure():
    x = tf.constant(3.0)
    v = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch([x, v])
        y1 = 2.0 * x
        y2 = 3.0 * x
        p = x * v
    assert _run(t.gradient([y1, {"a": y2}], x)) == 5.0
    d = t.gradient(p, {"x": x, "v": v})
    assert set(d) == {"x", "v"}
    assert _run(d) == {"x": 2.0, "v": 3.0}
    lst = t.gradient(p, [x, v])
    assert isinstance(lst, list) and _run(lst) == [2.0, 3.0]
    tup = t.gradient(p, (v,))
    assert isinstance(tup, tuple)


def test_target_none():
    x = tf.constant(1.0)
    with tf.GradientTape() as t:
        t.watch(x)
    with pytest.raises(TypeError, match=r"^Argument `target` should be a list or nested "
                                        r"structure of Tensors, Variables or CompositeTensors to "
                                        r"be differentiated, but received None\.$"):
        t.gradient(None, x)


def test_output_gradients():
    x = tf.constant(3.0)
    v = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = tf.stack([2.0 * x, 3.0 * x])
        w = x * x * v
    assert _run(t.gradient(y, x, output_gradients=[[1.0, 10.0]])) == 32.0
    assert _run(t.gradient(w, x, output_gradients=10.0)) == 120.0
    assert _run(t.gradient(w, x)) == 12.0


def test_unconnected_zero():
    x = tf.constant([1.0, 2.0])
    u = tf.constant([[1.0, 2.0, 3.0]])
    with tf.GradientTape(persistent=True) as t:
        t.watch([x, u])
        y = x * 2.0
    assert t.gradient(y, u) is None
    z = t.gradient(y, u, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    np.testing.assert_array_equal(_run(z), np.zeros((1, 3)))
    z2 = t.gradient(y, u, unconnected_gradients="zero")
    np.testing.assert_array_equal(_run(z2), np.zeros((1, 3)))


def test_non_persistent_second_call():
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    t.gradient(y, x)
    with pytest.raises(RuntimeError, match=r"^A non-persistent GradientTape can only be used to "
                                           r"compute one set of gradients \(or jacobians\)$"):
        t.gradient(y, x)


def test_gradient_inside_context_non_persistent_stops_recording():
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
        g = t.gradient(y, x)
        after = g * x
    assert _run(g) == 6.0
    assert after.op not in t._recorded


def test_second_derivative_with_persistent_tape(caplog):
    from graphflow.autodiff import tape as tape_mod
    tape_mod._WARNED.discard("persistent-inside")
    x = tf.constant(3.0)
    with caplog.at_level(logging.WARNING, logger="graphflow"):
        with tf.GradientTape(persistent=True) as t:
            t.watch(x)
            y = x * x
            g = t.gradient(y, x)
    assert "Calling GradientTape.gradient on a persistent tape inside its context" in caplog.text
    assert g.op in t._recorded  # the gradient ops were recorded
    gg = t.gradient(g, x)
    assert _run([g, gg]) == [6.0, 2.0]


def test_nested_tapes_second_derivative():
    x = tf.constant(2.0)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = x * x * x
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    assert _run([dy, d2y]) == [12.0, 12.0]


def test_reenter_active_tape():
    t = tf.GradientTape()
    with t:
        with pytest.raises(ValueError, match=r"^Tape is still recording, This can happen if you "
                                             r"try to re-enter an already-active tape\.$"):
            with t:
                pass


def test_gradient_ops_under_gradient_tape_scope():
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    g = t.gradient(y, x)
    assert g.name.startswith("gradient_tape/")


def test_jacobian_small_cases():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = x * x
        y21 = tf.reshape(y, [2, 1])
        s = tf.reduce_sum(y)
    j = t.jacobian(y, x)
    np.testing.assert_array_equal(_run(j), [[2.0, 0.0], [0.0, 4.0]])
    j21 = t.jacobian(y21, x)
    assert j21.shape.as_list() == [2, 1, 2]
    np.testing.assert_array_equal(_run(j21), [[[2.0, 0.0]], [[0.0, 4.0]]])
    js = t.jacobian(s, x)
    np.testing.assert_array_equal(_run(js), [2.0, 4.0])


def test_jacobian_counts_as_the_one_call():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * 3.0
    j = t.jacobian(y, x)
    np.testing.assert_array_equal(_run(j), 3.0 * np.eye(2))
    with pytest.raises(RuntimeError, match="non-persistent"):
        t.gradient(y, x)


def test_jacobian_unconnected():
    x = tf.constant([1.0, 2.0])
    u = tf.constant([5.0])
    with tf.GradientTape(persistent=True) as t:
        t.watch([x, u])
        y = x * 3.0
    assert t.jacobian(y, u) is None
    z = t.jacobian(y, u, unconnected_gradients="zero")
    np.testing.assert_array_equal(_run(z), np.zeros((2, 1)))


def test_tape_gradient_through_gather_is_indexed_slices():
    emb = tf.Variable(np.ones((3, 2), np.float32))
    with tf.GradientTape() as t:
        loss = tf.reduce_sum(tf.gather(emb, [0, 2, 0]))
    g = t.gradient(loss, emb)
    assert isinstance(g, tf.IndexedSlices)
    v = _run(g, [emb])
    np.testing.assert_array_equal(v.indices, [0, 2, 0])


def test_reads_of_a_variable_made_outside_are_constants_but_its_snapshot_is_not():
    v = tf.Variable(2.0)
    pre = tf.identity(v)          # built before the tape: a constant for it
    with tf.GradientTape() as t:
        y = pre * v               # v's value arrives through its read op v/read
    assert _run(t.gradient(y, v), [v]) == 2.0


def test_variable_created_inside_the_tape():
    with tf.GradientTape() as t:
        v = tf.Variable(3.0)
        y = v * v
    assert t.watched_variables() == (v,)
    assert _run(t.gradient(y, v), [v]) == 6.0
