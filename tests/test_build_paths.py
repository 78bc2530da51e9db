"""Graph building's fast paths give the results and errors of the general ones
(framework/op_def.py ``create_op``, ops/array_ops.py ``_to_numpy``, TensorShape,
control dependencies, the gradients walk), and the W4 chain's gradient graph
has TF 1.x's structure: per step Mul, Mul, Sum (+ its axes Const), AddN and one
TanhGrad."""
import gc

import numpy as np
import pytest

import graphflow as tf
from graphflow import dtypes
from graphflow.framework import op_def
from graphflow.framework.op_def import apply_op
from graphflow.framework.tensor_shape import Dimension, TensorShape
from graphflow.ops import array_ops


# --- create_op: all-Tensor inputs skip conversion, not the checks ------------------------
def test_dtype_mismatch_between_tensors_uses_tfs_wording():
    a = tf.placeholder(tf.float32, [2])
    b = tf.placeholder(tf.float64, [2])
    with pytest.raises(TypeError, match=r"Input 'y' of 'AddV2' Op has type float64 that does "
                                        r"not match type float32 of argument 'x'\."):
        apply_op("AddV2", a, b)


def test_disallowed_dtype_between_tensors():
    s = tf.placeholder(tf.string, [2])
    with pytest.raises(TypeError, match="Value passed to parameter 'x' has DataType string "
                                        "not in list of allowed values"):
        apply_op("Tanh", s)


def test_ref_input_required():
    v = tf.placeholder(tf.float32, [])
    with pytest.raises(TypeError, match="'Assign' Op requires that input 'ref' be a mutable "
                                        "tensor"):
        apply_op("Assign", v, v)


def test_list_input_must_be_a_list():
    a = tf.placeholder(tf.float32, [2])
    with pytest.raises(TypeError, match="Expected list for 'inputs' argument to 'AddN' Op"):
        apply_op("AddN", a)


def test_list_inputs_of_tensors():
    a, b, c = (tf.constant(np.full(2, v, np.float32)) for v in (1.0, 2.0, 4.0))
    s = apply_op("AddN", [a, b, c])
    assert s.op.inputs == [a, b, c] and s.op.get_attr("T") is tf.float32
    assert op_def.structured_inputs(s.op) == [[a, b, c]]
    assert all(s.op in t.consumers() for t in (a, b, c))
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(s), [7.0, 7.0])
    with pytest.raises(TypeError, match="Input 'inputs' of 'AddN' Op has type float64"):
        apply_op("AddN", [a, tf.constant(np.ones(2))])


def test_explicit_T_attr_is_checked_against_tensors():
    a = tf.placeholder(tf.float32, [2])
    with pytest.raises(TypeError, match="type float32 that does not match type float64"):
        apply_op("Tanh", a, T=tf.float64)
    assert apply_op("Tanh", a, T=tf.float32).op.get_attr("T") is tf.float32


def test_tensors_of_two_graphs():
    a = tf.constant(1.0)
    with tf.Graph().as_default():
        b = tf.constant(1.0)
    with pytest.raises(ValueError, match="must be from the same graph"):
        apply_op("AddV2", a, b)


def test_attrs_defaults_required_and_unknown():
    x = tf.placeholder(tf.float32, [2, 3])
    s = apply_op("Sum", x, tf.constant([1]))
    assert s.op.get_attr("keep_dims") is False and s.shape == TensorShape([2])
    with pytest.raises(TypeError, match="Const requires attr 'value'"):
        apply_op("Const", dtype=tf.float32)
    with pytest.raises(TypeError, match="Tanh got an unexpected attr 'bogus'"):
        apply_op("Tanh", x, bogus=1)


# --- constants --------------------------------------------------------------------------------
_VALUES = [(1, dtypes.float32), (1.5, dtypes.float32), (2, dtypes.int32), (2 ** 40, dtypes.int32),
           (2 ** 40, dtypes.int64), (2 ** 70, dtypes.int64), (2 ** 70, dtypes.float32),
           (1.5, dtypes.int32), (2.0, dtypes.int32), ([0, 1], dtypes.int32),
           ([0, 2 ** 40], dtypes.int32), ([1, 2 ** 70], dtypes.int64), (True, dtypes.float32),
           (1, dtypes.complex64), (-1, dtypes.uint8), (2 ** 63, dtypes.uint64),
           (np.float32(3), None), (np.zeros((2, 3)), None), (np.arange(3), dtypes.int32),
           (np.array(["a"], dtype=object), None), (np.bool_(True), None), (1, dtypes.float16)]


@pytest.mark.parametrize("value,dtype", _VALUES)
def test_to_numpy_fast_path_matches_the_general_path(monkeypatch, value, dtype):
    def outcome():
        try:
            arr = array_ops._to_numpy(value, dtype, "c")
            return arr.dtype, arr.tolist()
        except (TypeError, ValueError) as e:
            return type(e), str(e)
    fast = outcome()
    monkeypatch.setattr(array_ops, "_to_numpy_fast", lambda v, dt: None)
    assert fast == outcome()


def test_constant_copies_numpy_input():
    v = np.arange(3.0)
    c = tf.constant(v)
    v[0] = 99.0
    assert c.op.get_attr("value")[0] == 0.0


# --- shapes and dtypes ------------------------------------------------------------------------
def test_tensor_shape_normalizes_dimensions():
    assert TensorShape([np.int64(3), -1, Dimension(4), None]).as_tuple() == (3, None, 4, None)
    assert TensorShape((True, 2)).as_tuple() == (1, 2)
    assert TensorShape(range(3)).as_tuple() == (0, 1, 2)
    assert all(type(d) is int for d in TensorShape(np.array([2, 5])).as_tuple())
    with pytest.raises(ValueError, match="Dimension -2 must be >= 0"):
        TensorShape([None, -2])


def test_dtype_fast_paths():
    assert dtypes.as_dtype(np.dtype("float32")) is tf.float32
    assert dtypes.as_dtype(np.dtype(object)) is tf.string
    assert tf.float32._as_ref.base_dtype is tf.float32 and tf.float32.np == np.dtype("float32")
    with pytest.raises(TypeError):
        dtypes.as_dtype(np.dtype(">f4"))


# --- control dependencies ---------------------------------------------------------------------
def test_many_control_inputs_keep_order_without_duplicates():
    cs = [tf.constant(float(i), name="c%d" % i) for i in range(300)]
    with tf.control_dependencies([c.op for c in cs] + [cs[0].op]):
        with tf.control_dependencies([cs[5].op, cs[299].op]):
            n = tf.no_op(name="n")
        d = tf.identity(cs[7])
    assert n.control_inputs == [c.op for c in cs]
    assert d.op.control_inputs == [c.op for i, c in enumerate(cs) if i != 7]
    init = tf.group(*[c.op for c in cs])
    assert len(init.control_inputs) == 300


# --- the gradients walk -----------------------------------------------------------------------
def _chain(n):
    x = tf.placeholder(tf.float32, [5], name="x")
    ws = [tf.Variable(np.float32(0.1 * (i + 1)), name="w%d" % i) for i in range(n)]
    h = x
    for w in ws:
        h = tf.tanh(h * w + h)
    return x, ws, tf.reduce_sum(h)


def test_chain_gradient_graph_structure_and_values():
    n = 6
    x, ws, loss = _chain(n)
    before = len(tf.get_default_graph().get_operations())
    grads = tf.gradients(loss, ws)
    new = tf.get_default_graph().get_operations()[before:]
    types = [op.type for op in new]
    assert types.count("TanhGrad") == n and types.count("Sum") == n
    assert types.count("AddN") == n - 1 and types.count("Mul") == 2 * n
    assert "gradients/Tanh_grad/TanhGrad" in [op.name for op in new]
    assert not {"Square", "Sub"} & set(types)
    xv = np.linspace(-0.5, 1.0, 5).astype(np.float32)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        got = s.run(grads, {x: xv})
    w = 0.1 * (np.arange(n) + 1)
    hs = [xv.astype(np.float64)]
    for wi in w:
        hs.append(np.tanh(hs[-1] * wi + hs[-1]))
    dh, want = np.ones(5), [0.0] * n
    for i in range(n - 1, -1, -1):
        da = dh * (1 - hs[i + 1] ** 2)
        want[i] = (da * hs[i]).sum()
        dh = da * (w[i] + 1)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_gradients_restore_the_garbage_collector():
    x, ws, loss = _chain(2)
    assert gc.isenabled()
    tf.gradients(loss, ws)
    assert gc.isenabled()
    gc.disable()
    try:
        tf.gradients(loss, ws)
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(LookupError):  # the collector comes back after an error too
        tf.gradients(apply_op("Unique", x)[0], x)
    assert gc.isenabled()
