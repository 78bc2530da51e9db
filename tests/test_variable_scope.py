"""Variable scopes, get_variable and initializers against spec graph.md §1.3 and
TF1's documented behaviour: naming, reuse and its errors, scope defaults,
regularizers, custom getters, and the distributions initializers produce."""
import math
import re

import numpy as np
import pytest

import graphflow as tf

EXISTS = ("Variable a/w already exists, disallowed. Did you mean to set reuse=True or "
          "reuse=tf.AUTO_REUSE in VarScope?")
MISSING = ("Variable a/x does not exist, or was not created with tf.get_variable(). Did you "
           "mean to set reuse=tf.AUTO_REUSE in VarScope?")


def _value(t, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(t, feed)


# --- naming (§1.3) ----------------------------------------------------------------------
def test_get_variable_names_and_ops():
    with tf.variable_scope("a") as vs:
        w = tf.get_variable("w", [2], initializer=tf.zeros_initializer())
        c = tf.constant(1.0, name="c")
    assert vs.name == "a" and vs.original_name_scope == "a/"
    assert w.name == "a/w:0" and c.name == "a/c:0"
    assert w.initializer.name == "a/w/Assign" and w.value().name == "a/w/read:0"
    assert w.initial_value.op.name.startswith("a/w/Initializer/")
    assert w.initial_value.op.get_attr("_class") == ["loc:@a/w"]
    assert tf.global_variables() == [w] and tf.trainable_variables() == [w]


def test_get_variable_ignores_name_scopes_but_variable_does_not():
    with tf.name_scope("ns"):
        gv = tf.get_variable("gv", [], initializer=tf.zeros_initializer())
        tv = tf.Variable(0.0, name="tv")
    assert gv.name == "gv:0" and tv.name == "ns/tv:0"
    with tf.variable_scope("vs"):
        with tf.name_scope("inner"):
            x = tf.get_variable("x", [], initializer=tf.zeros_initializer())
            y = tf.constant(0.0, name="y")
    assert x.name == "vs/x:0" and y.name == "vs/inner/y:0"


def test_reopened_scope_keeps_prefix_with_fresh_name_scope():
    with tf.variable_scope("a"):
        w = tf.get_variable("w", [1])
        c0 = tf.constant(0.0, name="c")
    with tf.variable_scope("a", reuse=True) as vs:
        w2 = tf.get_variable("w", [1])
        c1 = tf.constant(0.0, name="c")
    with tf.variable_scope("a", reuse=True) as vs2:
        c2 = tf.constant(0.0, name="c")
    assert w2 is w
    assert (c0.name, c1.name, c2.name) == ("a/c:0", "a_1/c:0", "a_2/c:0")
    assert vs.name == "a" and vs.original_name_scope == "a_1/"
    assert vs2.original_name_scope == "a_2/"


def test_default_name_is_uniquified():
    names, scopes = [], []
    for _ in range(2):
        with tf.variable_scope(None, default_name="blk") as vs:
            names.append(tf.get_variable("w", [1]).name)
            scopes.append((vs.name, tf.constant(0.0, name="c").name))
    assert names == ["blk/w:0", "blk_1/w:0"]
    assert scopes == [("blk", "blk/c:0"), ("blk_1", "blk_1/c:0")]


def test_default_name_counts_are_per_enclosing_scope():
    got = []
    for outer in ("x", "y"):
        with tf.variable_scope(outer):
            for _ in range(2):
                with tf.variable_scope(None, default_name="layer") as vs:
                    got.append(vs.name)
    assert got == ["x/layer", "x/layer_1", "y/layer", "y/layer_1"]


def test_nested_scopes_and_get_variable_scope():
    assert tf.get_variable_scope().name == ""
    with tf.variable_scope("a"):
        with tf.variable_scope("b") as vs:
            assert tf.get_variable_scope() is vs
            v = tf.get_variable("v", [1])
        assert tf.get_variable_scope().name == "a"
    assert vs.name == "a/b" and v.name == "a/b/v:0"
    assert tf.get_variable_scope().name == ""


# --- reuse and its errors -----------------------------------------------------------------
def test_existing_name_without_reuse_is_an_error():
    with tf.variable_scope("a"):
        tf.get_variable("w", [1])
    with tf.variable_scope("a"):
        with pytest.raises(ValueError, match=re.escape(EXISTS)):
            tf.get_variable("w", [1])


def test_reuse_of_a_missing_variable_is_an_error():
    with tf.variable_scope("a", reuse=True):
        with pytest.raises(ValueError, match=re.escape(MISSING)):
            tf.get_variable("x", [1])
    tf.Variable(1.0, name="a/x")  # plain Variables are not visible to get_variable
    with tf.variable_scope("a", reuse=True):
        with pytest.raises(ValueError, match=re.escape(MISSING)):
            tf.get_variable("x", [1])


def test_auto_reuse_creates_then_reuses():
    def block():
        with tf.variable_scope("a", reuse=tf.AUTO_REUSE):
            return tf.get_variable("w", [2])
    first, second = block(), block()
    assert first is second and len(tf.global_variables()) == 1
    assert repr(tf.AUTO_REUSE).startswith("<_ReuseMode.AUTO_REUSE")


def test_reuse_variables_and_inheritance():
    with tf.variable_scope("a") as vs:
        w = tf.get_variable("w", [1])
        with tf.variable_scope("b"):
            u = tf.get_variable("u", [1])
        vs.reuse_variables()
        assert vs.reuse is True and tf.get_variable("w", [1]) is w
        with tf.variable_scope("b", reuse=False):  # reuse is inherited: False means None
            assert tf.get_variable_scope().reuse is True
            assert tf.get_variable("u", [1]) is u


def test_reuse_checks_shape_and_dtype():
    with tf.variable_scope("a"):
        tf.get_variable("w", [2])
    with tf.variable_scope("a", reuse=True):
        with pytest.raises(ValueError, match=re.escape(
                "Trying to share variable a/w, but specified shape (3,) and found shape (2,).")):
            tf.get_variable("w", [3])
        with pytest.raises(ValueError, match="specified dtype int32 and found dtype float32"):
            tf.get_variable("w", [2], dtype=tf.int32)
        assert tf.get_variable("w").name == "a/w:0"  # no shape: anything matches


def test_captured_scope_object():
    with tf.variable_scope("outer") as outer:
        w = tf.get_variable("w", [1])
    with tf.variable_scope("other"):
        with tf.variable_scope(outer, reuse=True) as again:
            assert again.name == "outer"
            assert tf.get_variable("w", [1]) is w
            c = tf.constant(0.0, name="c")
            assert again.original_name_scope == "outer/"
    assert c.name == "other/outer/c:0"


def test_scope_argument_errors():
    with pytest.raises(TypeError, match="If default_name is None then name_or_scope is required"):
        tf.variable_scope(None)
    with pytest.raises(ValueError, match="reuse=True cannot be used without a name_or_scope"):
        with tf.variable_scope(None, default_name="d", reuse=True):
            pass
    with pytest.raises(TypeError, match="name_or_scope must be a string or VariableScope"):
        tf.variable_scope(3)
    assert tf.get_variable_scope().name == ""
    assert tf.get_default_graph().get_name_scope() == ""


def test_auxiliary_name_scope_false():
    with tf.variable_scope("a") as vs:
        pass
    with tf.variable_scope(vs, auxiliary_name_scope=False):
        c = tf.constant(0.0, name="c")
        v = tf.get_variable("v", [1])
    assert c.name == "c:0" and v.name == "a/v:0"


def test_scope_store_is_per_graph():
    tf.get_variable("w", [1])
    g = tf.Graph()
    with g.as_default():
        w = tf.get_variable("w", [1])  # no clash with the default graph's store
    assert w.graph is g
    tf.reset_default_graph()
    assert tf.get_variable("w", [1]).name == "w:0"


def test_values_argument_selects_the_graph():
    g = tf.Graph()
    with g.as_default():
        x = tf.constant(1.0)
    with tf.variable_scope("s", values=[x]):
        assert tf.get_default_graph() is g
        v = tf.get_variable("v", [1])
    assert v.graph is g and tf.get_default_graph() is not g


# --- scope defaults -------------------------------------------------------------------------
def test_scope_initializer_and_dtype_are_inherited():
    with tf.variable_scope("a", initializer=tf.constant_initializer(3.0), dtype=tf.float64):
        a = tf.get_variable("a", [2])
        with tf.variable_scope("b"):
            b = tf.get_variable("b", [1])
            c = tf.get_variable("c", [1], initializer=tf.ones_initializer(), dtype=tf.float32)
    assert a.dtype.base_dtype == tf.float64 and b.dtype.base_dtype == tf.float64
    assert c.dtype.base_dtype == tf.float32
    va, vb, vc = _value([a, b, c])
    np.testing.assert_array_equal(va, [3.0, 3.0])
    assert vb.dtype == np.float64 and vb[0] == 3.0 and vc[0] == 1.0


def test_default_initializers_by_dtype():
    i = tf.get_variable("i", [3], dtype=tf.int32)
    b = tf.get_variable("b", [2], dtype=tf.bool)
    f = tf.get_variable("f", [40, 60])
    assert "random_uniform" in f.initial_value.op.name
    vi, vb, vf = _value([i, b, f])
    np.testing.assert_array_equal(vi, [0, 0, 0])
    np.testing.assert_array_equal(vb, [False, False])
    limit = math.sqrt(6.0 / (40 + 60))  # glorot uniform
    assert np.abs(vf).max() <= limit and np.abs(vf).max() > 0.95 * limit
    assert abs(vf.var() - limit ** 2 / 3) < 0.08 * limit ** 2 / 3
    with pytest.raises(ValueError, match="The initializer passed is not valid"):
        tf.get_variable("noshape")


def test_constant_initializer_values():
    c = tf.get_variable("c", initializer=tf.constant([1.0, 2.0]))
    i = tf.get_variable("i", initializer=3)
    assert c.shape.as_list() == [2] and i.dtype.base_dtype == tf.int32
    with pytest.raises(ValueError, match="If initializer is a constant, do not specify shape."):
        tf.get_variable("bad", [2], initializer=tf.constant([1.0, 2.0]))
    with pytest.raises(ValueError, match="Initializer type .* and explicit dtype .* don't match"):
        tf.get_variable("bad2", initializer=1, dtype=tf.float32)
    vc, vi = _value([c, i])
    np.testing.assert_array_equal(vc, [1.0, 2.0])
    assert vi == 3


def test_trainable_collections_and_local_variables():
    t = tf.get_variable("t", [1], trainable=False)
    col = tf.get_variable("col", [1], collections=["mine"])
    loc = tf.get_local_variable("loc", [1])
    assert tf.global_variables() == [t]
    assert tf.trainable_variables() == [col]
    assert tf.get_collection("mine") == [col]
    assert tf.local_variables() == [loc] and loc.trainable is False
    with tf.variable_scope("s") as vs:
        a = tf.get_variable("a", [1])
    assert vs.global_variables() == [a] and vs.trainable_variables() == [a]


def test_regularizer_adds_a_loss():
    def l2(v):
        return tf.add(v, 0.0, name="l2")
    with tf.variable_scope("a", regularizer=l2):
        w = tf.get_variable("w", [2])
        tf.get_variable("n", [1], regularizer=tf.no_regularizer)
    tf.get_variable("plain", [1])
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert [t.name for t in losses] == ["a/w/Regularizer/l2:0"]
    assert losses[0].op.get_attr("_class") == ["loc:@a/w"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(*sess.run([losses[0], w]))


def test_custom_getters_compose():
    calls = []

    def outer_getter(getter, name, *args, **kwargs):
        calls.append(("outer", name))
        return getter(name, *args, **kwargs)

    def inner_getter(getter, name, *args, **kwargs):
        calls.append(("inner", name))
        kwargs["trainable"] = False
        return getter(name, *args, **kwargs)
    with tf.variable_scope("a", custom_getter=outer_getter):
        with tf.variable_scope("b", custom_getter=inner_getter):
            v = tf.get_variable("v", [1])
    assert calls == [("inner", "a/b/v"), ("outer", "a/b/v")]
    assert v.name == "a/b/v:0" and v.trainable is False


def test_resource_variable_switches_are_accepted():
    tf.disable_resource_variables()
    assert tf.resource_variables_enabled() is False
    assert tf.get_variable("w", [1]).op.type == "VariableV2"


# --- initializers ---------------------------------------------------------------------------
def test_constant_zeros_ones_initializers():
    z = tf.zeros_initializer()([2, 3])
    o = tf.ones_initializer(dtype=tf.int32)([2])
    c = tf.constant_initializer([1, 2, 3])([2, 3])
    d = tf.constant_initializer(7, dtype=tf.float64)([2])
    assert z.dtype == tf.float32 and o.dtype == tf.int32 and d.dtype == tf.float64
    vz, vo, vc, vd = _value([z, o, c, d])
    np.testing.assert_array_equal(vz, np.zeros((2, 3)))
    np.testing.assert_array_equal(vo, [1, 1])
    np.testing.assert_array_equal(vc, [[1, 2, 3], [3, 3, 3]])  # padded with the last value
    np.testing.assert_array_equal(vd, [7, 7])
    with pytest.raises(TypeError, match="Too many elements provided. Needed at most 2, but "
                                        "received 3"):
        tf.constant_initializer([1, 2, 3])([2])
    with pytest.raises(TypeError, match="Expected Tensor's shape"):
        tf.constant_initializer([1, 2], verify_shape=True)([3])
    with pytest.raises(TypeError, match="Invalid type for initial value"):
        tf.constant_initializer({"a": 1})


def test_get_variable_with_constant_initializer_names():
    v = tf.get_variable("v", [2, 4], initializer=tf.constant_initializer(np.arange(8)))
    assert v.initial_value.op.name == "v/Initializer/Const"
    np.testing.assert_array_equal(_value(v), np.arange(8).reshape(2, 4))


N = (200, 500)  # 100k samples


def test_random_normal_and_uniform_moments():
    tf.set_random_seed(1)
    n = tf.random_normal_initializer(mean=1.0, stddev=2.0)(N)
    u = tf.random_uniform_initializer(-1.0, 3.0)(N)
    t = tf.truncated_normal_initializer(mean=0.5, stddev=2.0)(N)
    vn, vu, vt = _value([n, u, t])
    assert abs(vn.mean() - 1.0) < 0.03 and abs(vn.std() - 2.0) < 0.03
    assert vu.min() >= -1.0 and vu.max() < 3.0
    assert abs(vu.mean() - 1.0) < 0.02 and abs(vu.var() - 16.0 / 12) < 0.03
    assert np.abs(vt - 0.5).max() <= 4.0 + 1e-6
    assert abs(vt.mean() - 0.5) < 0.03 and abs(vt.std() - 2.0 * 0.8796256610342398) < 0.03


@pytest.mark.parametrize("shape,fan_in,fan_out", [((30, 70), 30, 70), ((3, 3, 8, 16), 72, 144),
                                                  ((50,), 50, 50)])
def test_glorot_uniform_limit(shape, fan_in, fan_out):
    tf.set_random_seed(2)
    v = _value(tf.glorot_uniform_initializer()(shape, dtype=tf.float64))
    assert v.dtype == np.float64
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    assert np.abs(v).max() <= limit and np.abs(v).max() > 0.8 * limit
    # U(-l, l) has variance l^2/3; its sample variance has relative sd sqrt(0.8 / n)
    assert abs(v.var() / (limit ** 2 / 3) - 1) < 4 * math.sqrt(0.8 / v.size)


def test_glorot_normal_and_variance_scaling():
    tf.set_random_seed(3)
    shape = (100, 300)
    gn = tf.glorot_normal_initializer()(shape)
    fan_in_normal = tf.variance_scaling_initializer(2.0, "fan_in", "untruncated_normal")(shape)
    fan_out_uniform = tf.variance_scaling_initializer(3.0, "fan_out", "uniform")(shape)
    trunc_in = tf.variance_scaling_initializer()(shape)
    a, b, c, d = _value([gn, fan_in_normal, fan_out_uniform, trunc_in])
    assert abs(a.std() / math.sqrt(2.0 / 400) - 1) < 0.03  # truncation is compensated
    assert np.abs(a).max() <= 2 * math.sqrt(1.0 / 200) / 0.87962566103423978 + 1e-6
    assert abs(b.std() / math.sqrt(2.0 / 100) - 1) < 0.03 and np.abs(b).max() > 0.5
    limit = math.sqrt(3.0 * 3.0 / 300)
    assert np.abs(c).max() <= limit and abs(c.var() / (limit ** 2 / 3) - 1) < 0.03
    assert abs(d.std() / math.sqrt(1.0 / 100) - 1) < 0.03
    with pytest.raises(ValueError, match="`scale` must be positive float."):
        tf.variance_scaling_initializer(0.0)
    with pytest.raises(ValueError, match="Invalid `mode` argument"):
        tf.variance_scaling_initializer(mode="fan")
    with pytest.raises(ValueError, match="Invalid `distribution` argument"):
        tf.variance_scaling_initializer(distribution="cauchy")
    with pytest.raises(ValueError, match="Expected floating point type"):
        tf.random_normal_initializer(dtype=tf.int32)


def test_uniform_unit_scaling_limit():
    tf.set_random_seed(4)
    v = _value(tf.uniform_unit_scaling_initializer(factor=2.0)((4, 5, 300)))
    limit = 2.0 * math.sqrt(3.0 / 20)
    assert np.abs(v).max() <= limit and np.abs(v).max() > 0.95 * limit


def test_initializer_seed_gives_repeatable_values():
    def make():
        return tf.random_normal_initializer(seed=7)([5])
    a = _value(make())
    tf.reset_default_graph()
    np.testing.assert_array_equal(_value(make()), a)


def test_initializers_namespace_and_config():
    names = ["constant", "zeros", "ones", "random_normal", "random_uniform", "truncated_normal",
             "glorot_uniform", "glorot_normal", "variance_scaling"]
    for n in names:
        assert callable(getattr(tf.initializers, n))
    assert tf.initializers.zeros is tf.zeros_initializer
    init = tf.variance_scaling_initializer(2.0, "fan_avg", "uniform", seed=3)
    again = type(init).from_config(init.get_config())
    assert again.get_config() == init.get_config()
    he = tf.initializers.he_normal()
    assert (he.scale, he.mode, he.distribution) == (2.0, "fan_in", "truncated_normal")
    eye = _value(tf.initializers.identity(gain=2.0)([2, 3]))
    np.testing.assert_array_equal(eye, 2.0 * np.eye(2, 3))
