"""The backward pass against TensorFlow: the gradient ops tf.gradients builds
(names, types, inputs, control inputs), results, and error messages."""
import numpy as np
import pytest

import graphflow as gf

PREFIXES = ("gradients", "tuple", "zeros_like")


def _listing(g, keep=lambda name: name.startswith(PREFIXES)):
    return [(op.name, op.type, [t.name for t in op.inputs],
             sorted(c.name for c in op.control_inputs))
            for op in g.get_operations() if keep(op.name)]


def _both(oracle, fn, keep=None):
    out = {}
    for label, mod in (("graphflow", gf), ("tensorflow", oracle.tf1)):
        g, fetches = oracle.build(mod, fn)
        names = [None if t is None else t.name for t in fetches]
        out[label] = (names, _listing(g) if keep is None else _listing(g, keep))
    return out


def _spec_graph(tf, method):
    x = tf.constant(3.0, name="x")
    y = x * 2.0
    z = tf.identity(y) + tf.identity(y) + tf.identity(y) + tf.identity(y)
    return tf.gradients(z, [x, y], aggregation_method=method)


@pytest.mark.parametrize("method", [None, 0, 1])
def test_aggregation_graphs_match(oracle, method):
    res = _both(oracle, lambda tf: _spec_graph(tf, method))
    assert res["graphflow"] == res["tensorflow"]
    vals = oracle.values(lambda tf: (_spec_graph(tf, method), None))
    assert [float(v) for v in vals["graphflow"]] == [float(v) for v in vals["tensorflow"]] \
        == [8.0, 4.0]


def test_accumulate_n_is_the_documented_tf1_difference(oracle):
    """TF 2.x builds the tree chain for EXPERIMENTAL_ACCUMULATE_N; graphflow builds
    TF 1.x's single AccumulateNV2. Values agree."""
    res = _both(oracle, lambda tf: _spec_graph(tf, 2))
    assert res["tensorflow"][0][1] == "gradients/mul_gradient_sum/AddN_2:0"
    assert res["graphflow"][0][1] == "gradients/AccumulateNV2:0"
    vals = oracle.values(lambda tf: (_spec_graph(tf, 2), None))
    assert [float(v) for v in vals["graphflow"]] == [float(v) for v in vals["tensorflow"]]


@pytest.mark.parametrize("gate", [False, True])
def test_gating_structure_matches(oracle, gate):
    def build(tf):
        x = tf.constant(1.5, name="x")
        w = tf.Variable(2.0, name="w")
        b = tf.Variable(0.5, name="b")
        loss = tf.square(x * w + b, name="loss")
        return tf.gradients(loss, [w, b], gate_gradients=gate)
    res = _both(oracle, build, keep=lambda n: "tuple" in n or n.startswith(
        ("gradients/mul_grad", "gradients/grad_ys")))
    assert res["graphflow"] == res["tensorflow"]


@pytest.mark.parametrize("case", ["unconnected-zero", "grad-ys", "x-is-y", "stop", "sparse",
                                  "mixed-addn", "two-ys"])
def test_walk_results_and_names_match(oracle, case):
    def build(tf):
        x = tf.constant(3.0, name="x")
        if case == "unconnected-zero":
            u = tf.constant([1.0, 2.0])
            return tf.gradients(2.0 * x, [u, x], unconnected_gradients="zero")
        if case == "grad-ys":
            return tf.gradients([2.0 * x, 3.0 * x], x, grad_ys=[None, 5.0])
        if case == "x-is-y":
            return tf.gradients(x, x)
        if case == "stop":
            a = 2.0 * x
            return tf.gradients(a * x, x, stop_gradients=[a])
        if case == "two-ys":
            y1 = x * 3.0
            return tf.gradients([y1, y1 * y1], x)
        emb = tf.constant(np.arange(6, dtype=np.float32).reshape(3, 2), name="emb")
        l1 = tf.reduce_sum(tf.gather(emb, [0, 1]))
        if case == "sparse":
            l2 = tf.reduce_sum(tf.gather(emb, [1, 2]) * 2.0)
            g = tf.gradients(l1 + l2, emb)[0]
            return [g.values, g.indices]
        g = tf.gradients(l1 + tf.reduce_sum(3.0 * emb), emb)[0]
        return [g, g.op.inputs[0]]
    res = _both(oracle, build, keep=lambda n: False)
    assert res["graphflow"][0] == res["tensorflow"][0]
    oracle.run(lambda tf: (build(tf), None))


def _error_messages(oracle, fn):
    msgs = {}
    for label, mod in (("graphflow", gf), ("tensorflow", oracle.tf1)):
        with pytest.raises(Exception) as e:
            oracle.build(mod, fn)
        msgs[label] = (type(e.value).__name__, str(e.value))
    return msgs


@pytest.mark.parametrize("case", ["length", "method", "unconnected", "lookup", "complex"])
def test_error_messages_match(oracle, case):
    def build(tf):
        x = tf.constant(3.0)
        if case == "length":
            return tf.gradients(2.0 * x, x, grad_ys=[1.0, 2.0])
        if case == "method":
            return tf.gradients(2.0 * x, x, aggregation_method=7)
        if case == "unconnected":
            return tf.gradients(2.0 * x, x, unconnected_gradients="foo")
        if case == "complex":
            c = tf.constant(np.complex64(1 + 2j))
            return tf.gradients(tf.identity(c), c)
        v = tf.constant([1.0, 2.0, 1.0])
        y, _ = tf.unique(v, name="uniq")
        return tf.gradients(y, v)
    msgs = _error_messages(oracle, build)
    g, t = msgs["graphflow"], msgs["tensorflow"]
    assert g[0] == t[0]
    if case == "complex":
        assert g[1].split(" (")[0] == t[1].split(" (")[0]
    elif case == "lookup":
        assert g[1].split(". ")[0] == t[1].split(". ")[0]
    else:
        assert g[1] == t[1]


def test_tape_values_match(oracle):
    def build(tf):
        x = tf.constant(3.0)
        v = tf.constant(2.0)  # TF's tape cannot differentiate reference variables (spec §5)
        with tf.GradientTape(persistent=True) as t:
            t.watch([x, v])
            y = tf.stack([2.0 * x, 3.0 * x])
            w = x * x * v
        return ([t.gradient(y, x, output_gradients=[np.array([1.0, 10.0], np.float32)]),
                 t.gradient(w, x, output_gradients=10.0), t.gradient(w, [x, v])],
                None)

    def run(mod):
        g, (fetches, _) = oracle.build(mod, build)
        with mod.Session(graph=g) as s:
            return s.run(fetches)
    got, want = run(gf), run(oracle.tf1)
    assert got[0] == want[0] == 32.0
    assert got[1] == want[1] == 120.0
    assert got[2] == want[2]
