"""Default op names and types (spec graph.md §1.1 and §1.2) against TensorFlow:
the op an expression returns must have TF's name and type; uniquifying
follows TF (case-insensitive, skipping taken names)."""
import pytest

import graphflow as gf


def _inputs(tf):
    a = tf.placeholder(tf.float32, [2, 2], name="a")
    b = tf.placeholder(tf.float32, [2, 2], name="b")
    return a, b


def _op_of(x):
    return x if not hasattr(x, "op") else x.op


# expression -> the op whose (name, type) is the contract (spec table §1.1)
EXPRESSIONS = {
    "a + b": lambda tf, a, b: a + b,
    "tf.add": lambda tf, a, b: tf.add(a, b),
    "a - b": lambda tf, a, b: a - b,
    "tf.subtract": lambda tf, a, b: tf.subtract(a, b),
    "a * b": lambda tf, a, b: a * b,
    "tf.multiply": lambda tf, a, b: tf.multiply(a, b),
    "a / b": lambda tf, a, b: a / b,
    "tf.divide": lambda tf, a, b: tf.divide(a, b),
    "a // b": lambda tf, a, b: a // b,
    "a % b": lambda tf, a, b: a % b,
    "-a": lambda tf, a, b: -a,
    "tf.negative": lambda tf, a, b: tf.negative(a),
    "a ** b": lambda tf, a, b: a ** b,
    "tf.pow": lambda tf, a, b: tf.pow(a, b),
    "a @ b": lambda tf, a, b: a @ b,
    "tf.matmul": lambda tf, a, b: tf.matmul(a, b),
    "tf.constant": lambda tf, a, b: tf.constant(1.0),
    "tf.placeholder": lambda tf, a, b: tf.placeholder(tf.float32),
    "tf.zeros": lambda tf, a, b: tf.zeros([2, 2]),
    "tf.ones": lambda tf, a, b: tf.ones([2]),
    "tf.zeros_like": lambda tf, a, b: tf.zeros_like(a),
    "tf.identity": lambda tf, a, b: tf.identity(a),
    "tf.stop_gradient": lambda tf, a, b: tf.stop_gradient(a),
    "tf.no_op": lambda tf, a, b: tf.no_op(),
    "tf.placeholder_with_default": lambda tf, a, b: tf.placeholder_with_default(1.0, []),
    "tf.reduce_sum": lambda tf, a, b: tf.reduce_sum(a),
    "tf.reduce_mean": lambda tf, a, b: tf.reduce_mean(a, axis=0),
    "tf.square": lambda tf, a, b: tf.square(a),
    "tf.sqrt": lambda tf, a, b: tf.sqrt(a),
    "tf.exp": lambda tf, a, b: tf.exp(a),
    "tf.log": lambda tf, a, b: tf.log(a),
    "tf.abs": lambda tf, a, b: tf.abs(a),
    "tf.tanh": lambda tf, a, b: tf.tanh(a),
    "tf.sigmoid": lambda tf, a, b: tf.sigmoid(a),
    "tf.nn.relu": lambda tf, a, b: tf.nn.relu(a),
    "tf.add_n": lambda tf, a, b: tf.add_n([a, b, a]),
    "tf.cast": lambda tf, a, b: tf.cast(a, tf.int32),
    "tf.reshape": lambda tf, a, b: tf.reshape(a, [-1]),
    "tf.gather": lambda tf, a, b: tf.gather(a, [1, 0]),
    "tf.concat": lambda tf, a, b: tf.concat([a, b], 0),
    "tf.stack": lambda tf, a, b: tf.stack([a, b]),
    "tf.group": lambda tf, a, b: tf.group(a.op, b.op),
    "tf.Variable": lambda tf, a, b: tf.Variable(1.0),
    "tf.assign": lambda tf, a, b: tf.assign(tf.Variable(1.0, name="v"), 2.0),
    "tf.assign_add": lambda tf, a, b: tf.assign_add(tf.Variable(1.0, name="v"), 2.0),
    "v.assign": lambda tf, a, b: tf.Variable(1.0, name="v").assign(2.0),
}


def _both(oracle, build):
    """``build(tf)``'s return value under graphflow and under TensorFlow."""
    return oracle.build(gf, build)[1], oracle.build(oracle.tf1, build)[1]


@pytest.mark.parametrize("expr", sorted(EXPRESSIONS))
def test_default_name_and_type(oracle, expr):
    fn = EXPRESSIONS[expr]

    def build(tf):
        a, b = _inputs(tf)
        op = _op_of(fn(tf, a, b))
        return op.name, op.type
    got, want = _both(oracle, build)
    assert got == want


@pytest.mark.parametrize("expr", sorted(EXPRESSIONS))
def test_repeated_names_uniquified(oracle, expr):
    """Three uses of the same builder get TF's three names."""
    fn = EXPRESSIONS[expr]

    def build(tf):
        a, b = _inputs(tf)
        return [_op_of(fn(tf, a, b)).name for _ in range(3)]
    got, want = _both(oracle, build)
    assert got == want


def test_case_insensitive_uniquifying(oracle):
    """After ``a + b`` made ``add``, ``tf.add`` (base name ``Add``) becomes ``Add_1``."""
    def build(tf):
        a, b = _inputs(tf)
        return [(a + b).op.name, tf.add(a, b).op.name, (a + b).op.name,
                tf.identity(a, name="Foo").op.name, tf.identity(a, name="foo").op.name]
    got, want = _both(oracle, build)
    assert got == want


def test_taken_candidates_skipped(oracle):
    def build(tf):
        a, _ = _inputs(tf)
        names = [tf.identity(a, name="w_1").op.name]
        names += [tf.identity(a, name="w").op.name for _ in range(3)]
        names += [tf.identity(a, name="w_1").op.name]
        return names
    got, want = _both(oracle, build)
    assert got == want


def test_name_scopes(oracle):
    def build(tf):
        a, b = _inputs(tf)
        names = []
        with tf.name_scope("outer"):
            with tf.name_scope("inner") as sc:
                names.append(sc)
                names.append((a + b).op.name)
            with tf.name_scope("inner"):
                names.append(tf.add(a, b).op.name)
            with tf.name_scope("outer/inner/"):
                names.append(tf.identity(a).op.name)
        with tf.name_scope(None):
            names.append(tf.constant(1).op.name)
        with tf.name_scope("outer"):
            names.append(tf.get_default_graph().get_name_scope())
        return names
    got, want = _both(oracle, build)
    assert got == want


def test_tensor_names_and_repr(oracle):
    def build(tf):
        a, b = _inputs(tf)
        c = a + b
        return [c.name, str(c), repr(c), repr(c.op), str(c.shape), c.dtype.name]
    got, want = _both(oracle, build)
    assert got == want
