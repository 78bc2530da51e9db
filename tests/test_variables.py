"""Variables and state ops against spec graph.md §3 (collections), §5.3 and §6:
the ops a variable builds, its properties and methods, initializers, assign
ops, uninitialized reads, reporting, scatter updates and per-session state."""
import re

import numpy as np
import pytest

import graphflow as tf
from graphflow.framework.op_def import get_gradient_function

UNINIT = "Attempting to use uninitialized value"


def _ops():
    return [(op.name, op.type) for op in tf.get_default_graph().get_operations()]


# --- graph structure (§6) ---------------------------------------------------------------
def test_ops_created_for_constant_initial_value():
    v = tf.Variable([1.0, 2.0], name="v")
    assert _ops() == [("v/initial_value", "Const"), ("v", "VariableV2"),
                      ("v/Assign", "Assign"), ("v/read", "Identity")]
    assert v.name == "v:0" and v.op.name == "v" and v.op.type == "VariableV2"
    assert v.dtype == tf.float32._as_ref and v.dtype.name == "float32_ref"
    assert v.shape.as_list() == [2] and v.get_shape().as_list() == [2]
    assert v.initializer.name == "v/Assign" and v.initializer.type == "Assign"
    assert v.value().name == "v/read:0" and v.value().dtype == tf.float32
    assert v.initial_value.name == "v/initial_value:0"
    assert v.graph is tf.get_default_graph() and v.device == ""
    assert v.trainable is True
    assign = v.initializer
    assert [t.name for t in assign.inputs] == ["v:0", "v/initial_value:0"]
    assert [t.name for t in v.value().op.inputs] == ["v:0"]
    # ops tied to the variable are colocated with it; attrs as in formats.md
    assert assign.get_attr("_class") == ["loc:@v"]
    assert v.value().op.get_attr("_class") == ["loc:@v"]
    assert assign.get_attr("use_locking") is True and assign.get_attr("validate_shape") is True
    assert v.op.get_attr("container") == "" and v.op.get_attr("shared_name") == ""
    assert v.op.get_attr("shape").as_list() == [2] and v.op.get_attr("dtype") == tf.float32


def test_default_names_are_uniquified_and_scoped():
    a, b = tf.Variable(1.0), tf.Variable(2.0)
    assert (a.name, b.name) == ("Variable:0", "Variable_1:0")
    assert a.op.name == "Variable"
    with tf.name_scope("s"):
        w = tf.Variable(1.0, name="w")
    assert w.name == "s/w:0" and w.initializer.name == "s/w/Assign"
    tf.constant(0.0, name="taken")
    assert tf.Variable(0.0, name="taken").name == "taken_1:0"


def test_dtype_inference_and_conversion():
    assert tf.Variable(1).dtype == tf.int32._as_ref
    assert tf.Variable(1.0).dtype == tf.float32._as_ref
    v = tf.Variable(1, dtype=tf.float64)
    assert v.dtype.base_dtype == tf.float64 and v.initial_value.dtype == tf.float64
    with pytest.raises(ValueError):
        tf.Variable(tf.constant(1.0), dtype=tf.int32)


def test_missing_initial_value():
    with pytest.raises(ValueError, match=re.escape(
            "The `initial_value` arg to `tf.Variable` must be specified except when you are "
            "not providing a `variable_def`. You provided neither.")):
        tf.Variable()


def test_callable_initial_value_builds_under_initializer_scope():
    v = tf.Variable(lambda: [[1.0, 2.0]], name="c")
    names = [n for n, _ in _ops()]
    assert names == ["c/Initializer/initial_value", "c", "c/Assign", "c/read"]
    init_op = tf.get_default_graph().get_operation_by_name("c/Initializer/initial_value")
    assert init_op.get_attr("_class") == ["loc:@c"]
    assert v.shape.as_list() == [1, 2]
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(v), [[1.0, 2.0]])


def test_variable_creation_ignores_enclosing_control_dependencies():
    c = tf.constant(1.0, name="c")
    with tf.control_dependencies([c]):
        v = tf.Variable(2.0, name="v")
        r = v.read_value()
    for op in (v.op, v.initializer, v.value().op, v.initial_value.op):
        assert op.control_inputs == []
    assert r.op.control_inputs == [c.op]


def test_explicit_shape_and_validate_shape():
    v = tf.Variable([1.0, 2.0], shape=tf.TensorShape([None]), name="v")
    assert v.shape.as_list() == [None]
    with pytest.raises(ValueError, match="not compatible"):
        tf.Variable([1.0, 2.0], shape=[3])
    u = tf.Variable([1.0, 2.0], validate_shape=False, name="u")
    assert u.shape.ndims is None
    p = tf.placeholder(tf.float32, [None])
    with pytest.raises(ValueError, match="initial_value must have a shape specified"):
        tf.Variable(p)


# --- collections (§3) -------------------------------------------------------------------
def test_collections_rules():
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(1.0, name="b", trainable=False)
    c = tf.Variable(1.0, name="c", collections=[tf.GraphKeys.LOCAL_VARIABLES])
    d = tf.Variable(1.0, name="d", collections=[tf.GraphKeys.LOCAL_VARIABLES],
                    trainable=False)
    m = tf.Variable(1.0, name="m", collections=[tf.GraphKeys.MODEL_VARIABLES,
                                                tf.GraphKeys.GLOBAL_VARIABLES])
    assert tf.global_variables() == [a, b, m]
    assert tf.trainable_variables() == [a, c, m]
    assert tf.local_variables() == [c, d]
    assert tf.model_variables() == [m]
    assert tf.moving_average_variables() == []
    assert b.trainable is False and d.trainable is False
    assert tf.get_collection(tf.GraphKeys.VARIABLES) == [a, b, m]
    with pytest.raises(ValueError, match="must be a list, tuple, or set"):
        tf.Variable(1.0, collections="variables")


def test_collection_scope_filter():
    with tf.name_scope("sc"):
        x = tf.Variable(1.0, name="x1")
    y = tf.Variable(1.0, name="y")
    assert tf.global_variables("s") == [x]
    assert tf.trainable_variables("y") == [y]
    assert tf.global_variables() == [x, y]


# --- initializer ops -----------------------------------------------------------------------
def test_global_variables_initializer_is_noop_named_init():
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(2.0, name="b", trainable=False)
    tf.Variable(3.0, name="loc", collections=[tf.GraphKeys.LOCAL_VARIABLES])
    init = tf.global_variables_initializer()
    assert init.type == "NoOp" and init.name == "init"
    assert init.control_inputs == [a.initializer, b.initializer]
    assert init.outputs == []
    assert tf.global_variables_initializer().name == "init_1"
    assert tf.initialize_all_variables().name == "init_2"
    local = tf.local_variables_initializer()
    assert local.name == "init_3" and [o.name for o in local.control_inputs] == ["loc/Assign"]
    empty = tf.variables_initializer([])
    assert empty.type == "NoOp" and empty.control_inputs == [] and empty.name == "init_4"
    named = tf.variables_initializer([b], name="only_b")
    assert named.name == "only_b" and named.control_inputs == [b.initializer]
    with tf.Session() as sess:
        assert sess.run(init) is None
        assert sess.run([a, b]) == [1.0, 2.0]


def test_initializers_namespace_builds_the_same_ops():
    v = tf.Variable(1.0, name="v")
    op = tf.initializers.global_variables()
    assert op.type == "NoOp" and op.control_inputs == [v.initializer]
    assert tf.initializers.variables([v], name="iv").name == "iv"


# --- uninitialized values (§5.3) ----------------------------------------------------------
def test_uninitialized_read_is_failed_precondition():
    v = tf.Variable(1.0, name="v")
    y = tf.add(v, 1.0)
    with tf.Session() as sess:
        for fetch in (v, v.value(), y):
            with pytest.raises(tf.errors.FailedPreconditionError, match=UNINIT + " v"):
                sess.run(fetch)
        with pytest.raises(tf.errors.FailedPreconditionError) as info:
            sess.run(y)
        assert info.value.error_code == 9
        assert "[[{{node v/read}}]]" in info.value.message


@pytest.mark.parametrize("update", ["assign_add", "assign_sub"])
def test_uninitialized_update_is_failed_precondition(update):
    v = tf.Variable([1.0, 2.0], name="v")
    op = getattr(v, update)([1.0, 1.0])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match=UNINIT + " v"):
            sess.run(op)


def test_report_uninitialized_variables_and_is_initialized():
    v = tf.Variable(1.0, name="v")
    w = tf.Variable(2.0)
    report = tf.report_uninitialized_variables()
    assert report.dtype == tf.string and report.shape.as_list() == [None]
    flag = tf.is_variable_initialized(v)
    assert flag.dtype == tf.bool and flag.shape.as_list() == [] and \
        flag.op.type == "IsVariableInitialized"
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(report), [b"v", b"Variable"])
        assert sess.run(flag) == np.bool_(False)
        sess.run(w.initializer)
        np.testing.assert_array_equal(sess.run(report), [b"v"])
        sess.run(v.initializer)
        out = sess.run(report)
        assert out.shape == (0,)
        assert sess.run(flag) == np.bool_(True)
    only_w = tf.report_uninitialized_variables([w])
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(only_w), [b"Variable"])
        assert sess.run(tf.report_uninitialized_variables([])).shape == (0,)


def test_report_uninitialized_variables_op_names():
    tf.Variable(1.0, name="v")
    r = tf.report_uninitialized_variables()
    assert r.op.name.startswith("report_uninitialized_variables/")
    assert "report_uninitialized_variables/IsVariableInitialized" in [n for n, _ in _ops()]
    empty = tf.report_uninitialized_variables([], name="rep")
    assert empty.op.type == "Const" and empty.op.name.startswith("rep/")


def test_assert_variables_initialized():
    v = tf.Variable(1.0, name="v")
    check = tf.assert_variables_initialized([v])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match=UNINIT + " v"):
            sess.run(check)
        sess.run(v.initializer)
        assert sess.run(check) is None
    assert tf.assert_variables_initialized([]) is None


# --- assign ops -----------------------------------------------------------------------------
def test_assign_methods_and_values():
    v = tf.Variable([1.0, 2.0], name="v")
    a = v.assign([5.0, 6.0])
    add = v.assign_add([1.0, 10.0])
    sub = v.assign_sub([0.5, 0.5])
    assert (a.op.name, a.op.type) == ("Assign", "Assign")
    assert (add.op.name, add.op.type) == ("AssignAdd", "AssignAdd")
    assert (sub.op.name, sub.op.type) == ("AssignSub", "AssignSub")
    assert v.assign([0.0, 0.0]).op.name == "Assign_1"
    assert a.dtype == tf.float32._as_ref and a.shape.as_list() == [2]
    assert a.op.get_attr("use_locking") is False  # RefVariable.assign passes False
    noread = v.assign([1.0, 1.0], read_value=False, name="set")
    assert isinstance(noread, tf.Operation) and noread.name == "set"
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(a), [5.0, 6.0])
        np.testing.assert_array_equal(sess.run(add), [6.0, 16.0])
        np.testing.assert_array_equal(sess.run(sub), [5.5, 15.5])
        np.testing.assert_array_equal(sess.run(v), [5.5, 15.5])
        assert sess.run(noread) is None
        np.testing.assert_array_equal(sess.run(v), [1.0, 1.0])


def test_functional_assign_forms():
    v = tf.Variable(1, name="v")
    a = tf.assign(v, 7)
    b = tf.assign_add(v, 3)
    c = tf.assign_sub(v, 1, name="dec")
    assert (a.op.type, b.op.type, c.op.type) == ("Assign", "AssignAdd", "AssignSub")
    assert (a.op.name, b.op.name, c.op.name) == ("Assign", "AssignAdd", "dec")
    assert a.op.get_attr("use_locking") is True
    assert [t.name for t in a.op.inputs][0] == "v:0"
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(a) == 7 and sess.run(b) == 10 and sess.run(c) == 9
        assert sess.run(v).dtype == np.int32


def test_assign_converts_python_values_to_the_variable_dtype():
    v = tf.Variable([0.0, 0.0], dtype=tf.float64, name="v")
    a = v.assign([1, 2])
    assert a.op.inputs[1].dtype == tf.float64
    with pytest.raises(TypeError):
        tf.Variable(0, name="i").assign(1.5)
    with pytest.raises(TypeError, match="mutable tensor"):
        tf.assign(tf.constant(1.0), 2.0)


def test_assign_shape_mismatch_at_build_time():
    v = tf.Variable(0.0)
    with pytest.raises(ValueError, match=re.escape(
            "Cannot assign value to variable ' Variable:0': Shape mismatch.The variable shape "
            "(), and the assigned value shape (2,) are incompatible.")):
        v.assign([1.0, 2.0])
    with pytest.raises(ValueError, match="Shape mismatch"):
        tf.assign(v, [1.0, 2.0])
    with pytest.raises(ValueError, match="Shapes must be equal rank, but are 0 and 1"):
        tf.assign(v._ref(), [1.0, 2.0])
    w = tf.Variable([1.0, 2.0], name="w")
    with pytest.raises(ValueError, match="Dimension 0 in both shapes must be equal, but are 2 "
                                         "and 3"):
        w.assign_add([1.0, 2.0, 3.0])


def test_validate_shape_false_allows_a_new_shape():
    v = tf.Variable([1.0, 2.0], validate_shape=False, name="v")
    grow = tf.assign(v, [1.0, 2.0, 3.0], validate_shape=False)
    assert grow.shape.as_list() == [3] and grow.op.get_attr("validate_shape") is False
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])
        sess.run(grow)
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0, 3.0])


def test_assign_runtime_shape_check():
    v = tf.Variable([1.0, 2.0], name="v")
    p = tf.placeholder(tf.float32, [None])
    a = tf.assign(v, p)
    add = tf.assign_add(v, p)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=re.escape("Assign requires shapes of both tensors to match. "
                                           "lhs shape= [2] rhs shape= [3]")):
            sess.run(a, {p: [1.0, 2.0, 3.0]})  # uninitialized: checked against the declared shape
        sess.run(v.initializer)
        with pytest.raises(tf.errors.InvalidArgumentError, match="lhs shape= \\[2\\]"):
            sess.run(a, {p: [1.0]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="must be the same size"):
            sess.run(add, {p: [1.0]})
        np.testing.assert_array_equal(sess.run(a, {p: [3.0, 4.0]}), [3.0, 4.0])


def test_assign_stores_a_copy_of_the_value():
    v = tf.Variable(np.zeros(3, np.float32), name="v")
    p = tf.placeholder(tf.float32, [3])
    a = tf.assign(v, p)
    fed = np.array([1.0, 2.0, 3.0], np.float32)
    with tf.Session() as sess:
        sess.run(a, {p: fed})
        sess.run(v.assign_add([1.0, 1.0, 1.0]))
        np.testing.assert_array_equal(fed, [1.0, 2.0, 3.0])  # the fed array is untouched
        np.testing.assert_array_equal(sess.run(v), [2.0, 3.0, 4.0])


def test_fetched_values_do_not_change_with_later_updates():
    v = tf.Variable([1.0, 2.0], name="v")
    inc = v.assign_add([1.0, 1.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        before = sess.run(v)
        via_read = sess.run(v.value())
        via_assign = sess.run(inc)
        sess.run(inc)
        np.testing.assert_array_equal(before, [1.0, 2.0])
        np.testing.assert_array_equal(via_read, [1.0, 2.0])
        np.testing.assert_array_equal(via_assign, [2.0, 3.0])


def test_control_dependencies_order_reads_and_updates():
    v = tf.Variable(1.0, name="v")
    old = tf.add(v, 0.0)  # a computed value: a new buffer
    with tf.control_dependencies([old]):
        upd = v.assign(5.0)
    with tf.control_dependencies([upd]):
        new = v.read_value()
        both = tf.add(old, 0.0)
    with tf.Session() as sess:
        sess.run(v.initializer)
        got_old, got_new = sess.run([both, new])
        assert got_old == 1.0 and got_new == 5.0


def test_two_sessions_on_one_graph_keep_separate_values():
    v = tf.Variable(1.0, name="v")
    inc = v.assign_add(1.0)
    s1, s2 = tf.Session(), tf.Session()
    s1.run(v.initializer)
    s1.run(inc)
    s1.run(inc)
    with pytest.raises(tf.errors.FailedPreconditionError, match=UNINIT):
        s2.run(v)
    s2.run(v.initializer)
    assert s1.run(v) == 3.0 and s2.run(v) == 1.0
    s1.close()
    s2.close()


# --- reading a variable -------------------------------------------------------------------
def test_session_run_eval_and_load():
    v = tf.Variable([[1.0, 2.0]], name="v")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out = sess.run(v)
        assert isinstance(out, np.ndarray) and out.dtype == np.float32
        np.testing.assert_array_equal(out, [[1.0, 2.0]])
        np.testing.assert_array_equal(v.eval(), [[1.0, 2.0]])
        v.load([[3.0, 4.0]])
        np.testing.assert_array_equal(v.eval(session=sess), [[3.0, 4.0]])
        v.load([[5.0, 6.0]], sess)
        np.testing.assert_array_equal(sess.run(v.value()), [[5.0, 6.0]])
    with pytest.raises(ValueError, match="Either session argument should be provided"):
        v.load([[0.0, 0.0]])


def test_read_value_is_a_fresh_identity_named_read():
    v = tf.Variable(1.0, name="v")
    r = v.read_value()
    assert r.op.type == "Identity" and r.name == "read:0"
    assert r.op.inputs[0] is v._ref()
    with tf.name_scope("s"):
        assert v.read_value().name == "s/read:0"
    assert v.value() is v.value()


def test_conversion_to_tensor():
    v = tf.Variable([1.0, 2.0], name="v")
    assert tf.convert_to_tensor(v) is v.value()
    assert tf.convert_to_tensor(v, as_ref=True) is v._ref()
    assert v._as_graph_element() is v._ref()
    with pytest.raises(ValueError):
        tf.convert_to_tensor(v, dtype=tf.int32)


def test_operators_read_the_value():
    v = tf.Variable([1.0, 2.0], name="v")
    exprs = [v + 1.0, 2.0 * v, v * v, -v, v - 1.0, v[1]]
    for e in exprs:
        assert any(t is v.value() for t in e.op.inputs)
    with tf.Session() as sess:
        sess.run(v.initializer)
        got = sess.run(exprs)
    x = np.array([1.0, 2.0], np.float32)
    for g, want in zip(got, [x + 1, 2 * x, x * x, -x, x - 1, x[1]]):
        np.testing.assert_allclose(g, want)


def test_feeding_a_variable_overrides_its_value():
    v = tf.Variable([1.0, 2.0], name="v")
    y = tf.add(v, 1.0)
    with tf.Session() as sess:  # not initialized: the feed replaces the variable
        np.testing.assert_array_equal(sess.run(y, {v: [10.0, 20.0]}), [11.0, 21.0])


def test_variable_in_control_dependencies():
    v = tf.Variable(1.0, name="v")
    with tf.control_dependencies([v]):
        c = tf.constant(2.0, name="c")
    assert c.op.control_inputs == [v.op]


def test_python_protocol():
    v = tf.Variable(0.0)
    assert repr(v) == "<tf.Variable 'Variable:0' shape=() dtype=float32_ref>"
    assert str(v) == repr(v)
    with pytest.raises(TypeError, match="not iterable"):
        iter(v)
    with pytest.raises(TypeError):
        bool(v)
    assert {v: 1}[v] == 1
    assert isinstance(np.float32(1.0) + v, tf.Tensor)  # numpy defers to the Variable


def test_variable_in_another_graph():
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(3.0, name="v")
    assert v.graph is g and v.op.graph is g
    assert tf.get_default_graph().get_operations() == []
    with tf.Session(graph=g) as sess:
        sess.run(v.initializer)
        assert sess.run(v) == 3.0


def test_initialized_value():
    w = tf.Variable(2.0, name="w")
    w2 = tf.Variable(tf.add(w.initialized_value(), w.initialized_value()), name="w2")
    with tf.Session() as sess:
        sess.run(w2.initializer)  # w is not initialized: its initial value is used
        assert sess.run(w2) == 4.0
        sess.run(w.initializer)
        sess.run(w.assign(5.0))
        sess.run(w2.initializer)
        assert sess.run(w2) == 10.0
        # one run initializing both: w2's initial value is computed before the
        # assigns write (reads before updates; TF leaves this order unspecified)
        sess.run(tf.global_variables_initializer())
        assert sess.run([w, w2]) == [2.0, 10.0]
        sess.run(tf.global_variables_initializer())
        assert sess.run([w, w2]) == [2.0, 4.0]


def test_proto_round_trip():
    v = tf.Variable(1.0, name="v", trainable=False)
    d = v.to_proto()
    assert d["variable_name"] == "v:0" and d["initializer_name"] == "v/Assign"
    assert d["snapshot_name"] == "v/read:0" and d["trainable"] is False
    u = tf.Variable.from_proto(d)
    assert u._ref() is v._ref() and u.initializer is v.initializer and u.value() is v.value()
    assert u.trainable is False
    assert v.to_proto(export_scope="other") is None


def test_state_ops_are_not_differentiable():
    v = tf.Variable(1.0, name="v")
    ops = [v.op, v.initializer, v.assign_add(1.0).op,
           tf.is_variable_initialized(v).op]
    for op in ops:
        assert get_gradient_function(op) is None


# --- scatter updates -------------------------------------------------------------------------
def test_scatter_update_add_sub():
    init = np.arange(12, dtype=np.float32).reshape(4, 3)
    v = tf.Variable(init, name="v")
    idx = np.array([2, 0, 2], np.int32)
    upd = np.arange(9, dtype=np.float32).reshape(3, 3) * 10
    add = tf.scatter_add(v, idx, upd)
    sub = tf.scatter_sub(v, idx, upd)
    set_rows = tf.scatter_update(v, [3, 1], np.ones((2, 3), np.float32))
    assert (add.op.type, sub.op.type, set_rows.op.type) == ("ScatterAdd", "ScatterSub",
                                                           "ScatterUpdate")
    assert add.dtype == tf.float32._as_ref and add.shape.as_list() == [4, 3]
    want = init.copy()
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.add.at(want, idx, upd)  # duplicate indices add up
        np.testing.assert_array_equal(sess.run(add), want)
        np.subtract.at(want, idx, upd)
        np.testing.assert_array_equal(sess.run(sub), want)
        want[[3, 1]] = 1.0
        np.testing.assert_array_equal(sess.run(set_rows), want)


def test_scatter_scalar_updates_and_variable_method():
    from graphflow.framework.indexed_slices import IndexedSlices
    v = tf.Variable(np.zeros((3, 2), np.float32), name="v")
    s = tf.scatter_update(v, [0, 2], 7.0)
    slices = IndexedSlices(tf.constant([[1.0, 2.0]]), tf.constant([1]))
    m = v.scatter_add(slices)
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(s), [[7, 7], [0, 0], [7, 7]])
        np.testing.assert_array_equal(sess.run(m), [[7, 7], [1, 2], [7, 7]])
    with pytest.raises(TypeError, match="IndexedSlices"):
        v.scatter_update([1.0])


def test_scatter_index_and_shape_errors():
    v = tf.Variable(np.zeros((3, 2), np.float32), name="v")
    p = tf.placeholder(tf.int32, [None])
    bad = tf.scatter_update(v, p, tf.constant(np.zeros((2, 2), np.float32)))
    with pytest.raises(ValueError, match="Dimension 1 in both shapes must be equal"):
        tf.scatter_add(v, [0], np.zeros((1, 3), np.float32))
    with pytest.raises(TypeError):
        tf.scatter_add(v, [0.5], np.zeros((1, 2), np.float32))
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=re.escape("indices[1] = 5 is not in [0, 3)")):
            sess.run(bad, {p: [0, 5]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="indices\\[0\\] = -1"):
            sess.run(bad, {p: [-1, 0]})
        np.testing.assert_array_equal(sess.run(v), np.zeros((3, 2)))  # nothing was written
