"""Elementwise math ops: TF1 semantics checked against Python/NumPy truth,
error classes and texts, default op names (spec graph.md §1.1), operators."""
import math

import numpy as np
import pytest

import graphflow as tf
from graphflow.framework.op_def import apply_op

INTS = [-7, -6, -1, 0, 1, 5, 7]
NONZERO = [-3, -2, -1, 1, 2, 3]


def run(t, feed=None):
    with tf.Session() as sess:
        return sess.run(t, feed)


def _pairs():
    return [(a, b) for a in INTS for b in NONZERO]


# --- division family -----------------------------------------------------------------
def test_floordiv_and_mod_ints_follow_python_signs():
    a, b = map(np.array, zip(*_pairs()))
    x, y = tf.constant(a.astype(np.int32)), tf.constant(b.astype(np.int32))
    fd, md, fm, fd2 = run([x // y, x % y, tf.floormod(x, y), tf.floordiv(x, y)])
    want_div = [p // q for p, q in _pairs()]  # Python ints: round toward -inf
    want_mod = [p % q for p, q in _pairs()]   # sign of the divisor
    np.testing.assert_array_equal(fd, want_div)
    np.testing.assert_array_equal(fd2, want_div)
    np.testing.assert_array_equal(md, want_mod)
    np.testing.assert_array_equal(fm, want_mod)
    assert fd.dtype == np.int32 and md.dtype == np.int32


def test_floordiv_and_mod_floats():
    a = np.array([-5.5, -5.5, 5.5, 5.5, 7.0, -7.25, 0.0], np.float64)
    b = np.array([2.0, -2.0, 2.0, -2.0, 0.5, 1.5, 3.0], np.float64)
    fd, md = run([tf.constant(a) // tf.constant(b), tf.constant(a) % tf.constant(b)])
    np.testing.assert_array_equal(fd, [math.floor(p / q) for p, q in zip(a, b)])
    np.testing.assert_allclose(md, [p % q for p, q in zip(a, b)], rtol=0, atol=1e-15)
    # TF's float FloorDiv is floor(x / y): 1.0 // 0.1 is 10, not Python's 9
    assert run(tf.constant(1.0, tf.float64) // tf.constant(0.1, tf.float64)) == 10.0


def test_raw_div_truncates_integers_toward_zero():
    a, b = map(np.array, zip(*_pairs()))
    got = run(apply_op("Div", tf.constant(a.astype(np.int64)), tf.constant(b.astype(np.int64))))
    np.testing.assert_array_equal(got, [math.trunc(p / q) for p, q in _pairs()])


def test_tf_div_is_python2_division():
    xi, yi = tf.constant([7, -7]), tf.constant([2, 2])
    q = tf.div(xi, yi)
    assert q.op.type == "FloorDiv" and q.op.name == "div"
    np.testing.assert_array_equal(run(q), [3, -4])
    f = tf.div(tf.constant([7.0, -7.0]), 2.0)
    assert f.op.type == "RealDiv" and f.dtype == tf.float32
    np.testing.assert_array_equal(run(f), [3.5, -3.5])


@pytest.mark.parametrize("dt,want", [(tf.int32, tf.float64), (tf.int64, tf.float64),
                                     (tf.int16, tf.float32), (tf.uint8, tf.float32),
                                     (tf.float32, tf.float32), (tf.float64, tf.float64)])
def test_truediv_casts_integers(dt, want):
    x = tf.constant(np.array([7, 3], dt.np))
    y = tf.constant(np.array([2, 4], dt.np))
    for q in (x / y, tf.truediv(x, y), tf.divide(x, y)):
        assert q.op.type == "RealDiv" and q.dtype == want
        np.testing.assert_array_equal(run(q), [3.5, 0.75])
    q = x / y
    if not dt.is_floating:
        casts = [op for op in q.graph.get_operations() if op.type == "Cast"]
        assert [c.name for c in casts[:2]] == ["truediv/Cast", "truediv/Cast_1"]


def test_truediv_errors():
    with pytest.raises(TypeError, match=r"^Invalid dtype tf.bool in __truediv__\. Expected"):
        tf.constant([True]) / tf.constant([False])
    with pytest.raises(TypeError) as e:
        tf.truediv(tf.constant(1), tf.constant(1.0))
    assert str(e.value) == "`x` and `y` must have the same dtype, got tf.int32 != tf.float32."


@pytest.mark.parametrize("build", [
    lambda x, y: x // y, lambda x, y: x % y, lambda x, y: tf.div(x, y),
    lambda x, y: apply_op("Div", x, y), lambda x, y: tf.floormod(x, y)],
    ids=["floordiv", "mod", "div", "raw_div", "floormod"])
def test_integer_division_by_zero_is_invalid_argument(build):
    x = tf.placeholder(tf.int32, [None])
    y = tf.placeholder(tf.int32, [None])
    q = build(x, y)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Integer division by zero"):
            sess.run(q, {x: [1, 2], y: [1, 0]})
        # the session is still usable, for this fetch and others
        good = sess.run(q, {x: [6, -6], y: [4, 4]})
        np.testing.assert_array_equal(np.abs(good) <= 2, [True, True])
        assert sess.run(x + 1, {x: [1]}) == [2]


def test_float_division_by_zero_is_ieee():
    with np.errstate(divide="ignore", invalid="ignore"):
        want = np.array([1.0, -1.0, 0.0]) / 0.0
    got = run(tf.constant([1.0, -1.0, 0.0]) / tf.constant(0.0))
    np.testing.assert_array_equal(got, want.astype(np.float32))


def test_integer_negative_power_is_invalid_argument():
    x, y = tf.constant([2, 3]), tf.placeholder(tf.int32, [2])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="negative integer powers"):
            sess.run(x ** y, {y: [1, -1]})
        np.testing.assert_array_equal(sess.run(x ** y, {y: [3, 2]}), [8, 9])


# --- rounding and casting -----------------------------------------------------------------
def test_round_half_to_even():
    vals = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6, 3.0]
    got = run(tf.round(tf.constant(vals, tf.float64)))
    np.testing.assert_array_equal(got, [float(round(v)) for v in vals])  # Python rounds to even
    xi = tf.constant([1, 2])
    assert tf.round(xi) is xi


def test_floor_sign_abs_neg():
    vals = [-2.5, -1.0, -0.2, 0.0, 0.7, 3.0]
    x = tf.constant(vals, tf.float64)
    fl, ce, sg, ab, ng = run([tf.floor(x), tf.ceil(x), tf.sign(x), abs(x), -x])
    np.testing.assert_array_equal(fl, [math.floor(v) for v in vals])
    np.testing.assert_array_equal(ce, [math.ceil(v) for v in vals])
    np.testing.assert_array_equal(sg, [(v > 0) - (v < 0) for v in vals])
    np.testing.assert_array_equal(ab, [math.fabs(v) for v in vals])
    np.testing.assert_array_equal(ng, [-v for v in vals])
    np.testing.assert_array_equal(run(tf.sign(tf.constant([-3, 0, 4]))), [-1, 0, 1])


def test_cast_truncates_toward_zero():
    vals = [-2.7, -0.5, 0.5, 2.7, 7.99]
    x = tf.constant(vals)
    got = run([tf.cast(x, tf.int32), tf.to_int64(x)])
    for g in got:
        np.testing.assert_array_equal(g, [math.trunc(v) for v in vals])
    assert got[0].dtype == np.int32 and got[1].dtype == np.int64


def test_cast_bool_conversions_and_names():
    x = tf.constant([0.0, 0.5, -1.0, float("nan")])
    b = tf.cast(x, tf.bool)
    np.testing.assert_array_equal(run(b), [False, True, True, True])  # x != 0
    np.testing.assert_array_equal(run(tf.cast(b, tf.float32)), [0.0, 1.0, 1.0, 1.0])
    assert b.op.type == "Cast" and b.op.name == "Cast"
    assert b.op.get_attr("SrcT") == tf.float32 and b.op.get_attr("DstT") == tf.bool
    assert b.op.get_attr("Truncate") is False
    assert tf.cast(x, tf.float32) is x
    c = tf.cast(3, tf.float32)
    assert c.op.name == "Cast_2" and c.op.inputs[0].op.name == "Cast_2/x"
    assert run(c) == 3.0 and c.dtype == tf.float32
    for fn, dt, nm in [(tf.to_float, tf.float32, "ToFloat"), (tf.to_double, tf.float64,
                                                             "ToDouble"),
                       (tf.to_int32, tf.int32, "ToInt32"), (tf.to_int64, tf.int64, "ToInt64")]:
        t = fn(tf.constant([1.5], tf.float16))
        assert t.dtype == dt and t.op.name == nm


# --- graph-build errors --------------------------------------------------------------------
def test_dtype_mismatch_type_error_text():
    with pytest.raises(TypeError) as e:
        tf.constant(1.0) - tf.constant(1)
    assert str(e.value) == ("Input 'y' of 'Sub' Op has type int32 that does not match type "
                            "float32 of argument 'x'.")


def test_broadcast_value_error_text():
    with pytest.raises(ValueError) as e:
        tf.constant([1.0, 2.0, 3.0]) * tf.constant([1.0, 2.0, 3.0, 4.0])
    assert str(e.value).startswith("Dimensions must be equal, but are 3 and 4")


def test_logical_ops_require_bool():
    with pytest.raises(TypeError, match="allowed values: bool"):
        tf.logical_and(tf.constant(1.0), tf.constant(2.0))


# --- names and operators -------------------------------------------------------------------
NAME_CASES = [
    (lambda a, b: a + b, "add", "AddV2"), (lambda a, b: tf.add(a, b), "Add", "AddV2"),
    (lambda a, b: a - b, "sub", "Sub"), (lambda a, b: tf.subtract(a, b), "Sub", "Sub"),
    (lambda a, b: a * b, "mul", "Mul"), (lambda a, b: tf.multiply(a, b), "Mul", "Mul"),
    (lambda a, b: a / b, "truediv", "RealDiv"),
    (lambda a, b: tf.divide(a, b), "truediv", "RealDiv"),
    (lambda a, b: a // b, "floordiv", "FloorDiv"), (lambda a, b: a % b, "mod", "FloorMod"),
    (lambda a, b: -a, "Neg", "Neg"), (lambda a, b: tf.negative(a), "Neg", "Neg"),
    (lambda a, b: a ** b, "pow", "Pow"), (lambda a, b: tf.pow(a, b), "Pow", "Pow"),
    (lambda a, b: tf.square(a), "Square", "Square"), (lambda a, b: tf.sqrt(a), "Sqrt", "Sqrt"),
    (lambda a, b: tf.exp(a), "Exp", "Exp"), (lambda a, b: tf.log(a), "Log", "Log"),
    (lambda a, b: abs(a), "Abs", "Abs"), (lambda a, b: tf.abs(a), "Abs", "Abs"),
    (lambda a, b: tf.tanh(a), "Tanh", "Tanh"), (lambda a, b: tf.sigmoid(a), "Sigmoid", "Sigmoid"),
    (lambda a, b: tf.cast(a, tf.int32), "Cast", "Cast"), (lambda a, b: a < b, "Less", "Less"),
    (lambda a, b: a >= b, "GreaterEqual", "GreaterEqual"),
    (lambda a, b: tf.maximum(a, b), "Maximum", "Maximum"),
    (lambda a, b: tf.mod(a, b), "FloorMod", "FloorMod"),
    (lambda a, b: tf.floordiv(a, b), "floordiv", "FloorDiv"),
    (lambda a, b: tf.div(a, b), "div", "RealDiv"),
    (lambda a, b: tf.squared_difference(a, b), "SquaredDifference", "SquaredDifference")]


@pytest.mark.parametrize("build,name,op_type", NAME_CASES,
                         ids=["%s-%d" % (c[1], i) for i, c in enumerate(NAME_CASES)])
def test_default_op_names_match_spec_table(build, name, op_type):
    a, b = tf.constant(1.0, name="a"), tf.constant(2.0, name="b")
    t = build(a, b)
    assert (t.op.name, t.op.type) == (name, op_type)


def test_names_are_uniquified_case_insensitively():
    a = tf.constant(1.0)
    assert [(a + a).op.name, tf.add(a, a).op.name, (a + a).op.name] == ["add", "Add_1", "add_2"]


def test_operator_constants_are_scoped_like_tf():
    x = tf.placeholder(tf.float32, name="x")
    y = x * 2.0
    assert y.op.name == "mul" and y.op.inputs[1].op.name == "mul/y"
    z = 3.0 - x
    assert z.op.name == "sub" and [t.op.name for t in z.op.inputs] == ["sub/x", "x"]


def test_python_scalar_on_the_left():
    xv = np.array([1.0, 2.0, 4.0], np.float32)
    x = tf.placeholder(tf.float32, [3])
    xi = tf.placeholder(tf.int32, [3])
    outs = [2.0 - x, 3 * x, 1.0 / x, 2 ** x, 8 // xi, 7 % xi, 1 + x, 2.5 > x, 2 < x]
    got = run(outs, {x: xv, xi: [1, 2, 4]})
    want = [2.0 - xv, 3 * xv, 1.0 / xv, 2.0 ** xv, [8, 4, 2], [0, 1, 3], 1 + xv, 2.5 > xv,
            2 < xv]
    for t, g, w in zip(outs, got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6)
        assert g.dtype == t.dtype.np
    assert [t.dtype for t in outs[:4]] == [tf.float32] * 4


def test_float32_stays_float32():
    rng = np.random.default_rng(1)
    xv = rng.uniform(0.5, 2.0, size=(4, 3)).astype(np.float32)
    x = tf.placeholder(tf.float32, [4, 3])
    outs = [x * 2.0, x / 3, x - 1, x ** 2, tf.sigmoid(x), tf.rsqrt(x), tf.reciprocal(x),
            tf.squared_difference(x, 1.5), tf.maximum(x, 1), tf.log1p(x)]
    got = run(outs, {x: xv})
    x64 = xv.astype(np.float64)
    want = [x64 * 2, x64 / 3, x64 - 1, x64 ** 2, 1 / (1 + np.exp(-x64)), 1 / np.sqrt(x64),
            1 / x64, (x64 - 1.5) ** 2, np.maximum(x64, 1), np.log1p(x64)]
    for t, g, w in zip(outs, got, want):
        assert t.dtype == tf.float32 and g.dtype == np.float32
        np.testing.assert_allclose(g, w, rtol=3e-7)


UNARY_TRUTH = [("abs", math.fabs), ("negative", lambda v: -v), ("square", lambda v: v * v),
               ("sqrt", math.sqrt), ("rsqrt", lambda v: 1 / math.sqrt(v)), ("exp", math.exp),
               ("log", math.log), ("log1p", math.log1p), ("tanh", math.tanh),
               ("sigmoid", lambda v: 1 / (1 + math.exp(-v))), ("sin", math.sin),
               ("cos", math.cos), ("reciprocal", lambda v: 1 / v)]


@pytest.mark.parametrize("name,truth", UNARY_TRUTH, ids=[n for n, _ in UNARY_TRUTH])
def test_unary_float64_against_math(name, truth):
    vals = [0.25, 0.5, 1.0, 1.7, 3.0]
    got = run(getattr(tf, name)(tf.constant(vals, tf.float64)))
    np.testing.assert_allclose(got, [truth(v) for v in vals], rtol=1e-14)
    assert getattr(tf.math, name) is getattr(tf, name)


def test_binary_broadcasting_values():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(4, 1, 3))
    b = rng.normal(size=(2, 1))
    x, y = tf.constant(a), tf.constant(b)
    outs = [x + y, x - y, x * y, tf.maximum(x, y), tf.minimum(x, y),
            tf.squared_difference(x, y)]
    want = [a + b, a - b, a * b, np.maximum(a, b), np.minimum(a, b), (a - b) ** 2]
    for t, g, w in zip(outs, run(outs), want):
        assert tuple(t.shape.as_list()) == (4, 2, 3)
        np.testing.assert_allclose(g, w, rtol=1e-15)


def test_runtime_broadcast_mismatch_is_invalid_argument():
    x, y = tf.placeholder(tf.float32), tf.placeholder(tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Incompatible shapes"):
        run(x - y, {x: np.ones(3), y: np.ones(4)})


def test_comparisons_and_logical_operators():
    av = np.array([1, 2, 3, 4], np.int32)
    bv = np.array([4, 2, 1, 4], np.int32)
    a, b = tf.constant(av), tf.constant(bv)
    outs = [a < b, a <= b, a > b, a >= b, tf.equal(a, b), tf.not_equal(a, b)]
    want = [av < bv, av <= bv, av > bv, av >= bv, av == bv, av != bv]
    for t, g, w in zip(outs, run(outs), want):
        assert t.dtype == tf.bool
        np.testing.assert_array_equal(g, w)
    p = tf.constant([True, True, False, False])
    q = tf.constant([True, False, True, False])
    ops = [p & q, p | q, p ^ q, ~p, tf.logical_xor(p, q), tf.logical_not(q)]
    got = run(ops)
    pv, qv = [True, True, False, False], [True, False, True, False]
    want = [[u and v for u, v in zip(pv, qv)], [u or v for u, v in zip(pv, qv)],
            [u != v for u, v in zip(pv, qv)], [not u for u in pv],
            [u != v for u, v in zip(pv, qv)], [not v for v in qv]]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    assert [t.op.name for t in ops[:4]] == ["and", "or", "xor", "LogicalNot"]
    assert ops[2].op.type == "LogicalAnd"
    assert ops[4].op.name == "LogicalXor"


def test_equal_on_strings_and_bools():
    s = tf.constant(["a", "b"])
    np.testing.assert_array_equal(run(tf.equal(s, tf.constant(["a", "c"]))), [True, False])
    np.testing.assert_array_equal(run(tf.not_equal(tf.constant([True]), False)), [True])


def test_math_namespace_and_exports():
    from graphflow.ops import math_ops
    for n in math_ops.MATH_API:
        assert getattr(tf.math, n) is getattr(math_ops, n)
    for n in math_ops.__all__:
        assert getattr(tf, n) is getattr(math_ops, n)
    assert tf.mod is tf.floormod
