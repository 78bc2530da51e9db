"""Bad-input catalogue (issue 8 item 2): one row per misuse.

Each row builds a small graph in a fresh default graph, triggers one mistake
and states the exact error class and a pattern the message must contain: the
offending node, tensor, argument or value. After the error the same session
(or, once closed, a new one on the same graph) must still run a fetch, so a
failure never leaves the runtime unusable. Rows run with a session ``sess``
on the default graph; a constant ``still_ok`` (7.0) exists before the row runs.

Rows marked ``xfail`` document a known gap in a module owned elsewhere; they
are strict, so fixing the gap turns them into failures to un-mark.
"""
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np
import pytest

import graphflow as tf
from graphflow import errors
from graphflow.io import graph_def as graph_io

IAE = errors.InvalidArgumentError
FPE = errors.FailedPreconditionError
REE = errors.ResourceExhaustedError


@dataclass
class Case:
    id: str
    fn: Callable[[Any], Any]
    error: type
    names: str  # regex the message must contain (the offending node / argument / value)
    node: Optional[str] = None  # for OpErrors: the name of ``error.op``
    xfail: str = ""


def ph(shape=None, dtype=tf.float32, name="x"):
    return tf.placeholder(dtype, shape, name=name)


def feed(shape, dtype, value, name="x"):
    """Run a placeholder of (shape, dtype) fed with ``value``."""
    def fn(sess):
        p = ph(shape, dtype, name)
        return sess.run(p, {p: value})
    return fn


def run(build, feeds=None):
    """Build ``build()`` (a tensor or op) and run it, feeding {placeholder name: value}."""
    def fn(sess):
        t = build()
        g = sess.graph
        fd = {g.get_tensor_by_name(k + ":0"): v for k, v in (feeds or {}).items()}
        return sess.run(t, fd)
    return fn


def prevented_after_run(kind):
    """Mark a tensor not feedable / an op not fetchable after its signature ran once."""
    def fn(sess):
        p = ph([], name="pf")
        y = tf.multiply(p, 2.0, name="pq")
        assert sess.run(y, {p: 1.0}) == 2.0  # feed key and fetch structure are cached
        if kind == "feed":
            sess.graph.prevent_feeding(p)
        else:
            sess.graph.prevent_fetching(y.op)
        return sess.run(y, {p: 1.0})
    return fn


def build_only(build):
    return lambda sess: build()


def other_graph_tensor(kind="const"):
    g = tf.Graph()
    with g.as_default():
        if kind == "op":
            return tf.no_op(name="elsewhere")
        if kind == "placeholder":
            return tf.placeholder(tf.float32, name="elsewhere")
        return tf.constant(1.0, name="elsewhere")


def with_initialized(var_fn, use_fn):
    """Create variables with ``var_fn()``, initialize them, then run ``use_fn(vars)``."""
    def fn(sess):
        v = var_fn()
        sess.run(tf.global_variables_initializer())
        return sess.run(use_fn(v))
    return fn


def cycle(kind):
    def fn(sess):
        a = tf.constant(1.0, name="a")
        b = tf.identity(a, name="b")
        if kind == "self":
            b.op._add_control_input(b.op)
        elif kind == "two":
            a.op._add_control_input(b.op)
        else:
            c = tf.identity(b, name="c")
            a.op._add_control_input(c.op)
        return sess.run(b)
    return fn


def nested_scope(outer, inner):
    def fn(sess):
        with tf.name_scope(outer):
            with tf.name_scope(inner):
                pass
    return fn


def finalized(build):
    def fn(sess):
        sess.graph.finalize()
        return build()
    return fn


def closed_session(sess):
    sess.close()
    return sess.run("still_ok:0")


def minimize(loss_fn, opt=None, **kw):
    def fn(sess):
        v = tf.Variable(1.0, name="w")
        o = opt or tf.train.GradientDescentOptimizer(0.1)
        return o.minimize(loss_fn(v), **kw)
    return fn


def assign_fed_shape(sess):
    v = tf.Variable(1.0, name="av")
    sess.run(v.initializer)
    p = ph(name="val")
    return sess.run(tf.assign(v, p), {p: [1.0, 2.0]})


def numerics_graph(sess):
    x = ph(name="x")
    y = tf.log(x, name="lg")
    z = tf.multiply(y, 2.0, name="twice")
    check = tf.add_check_numerics_ops()
    return sess.run([z, check], {x: 0.0})


def gradient_nan(sess):
    x = ph(name="x")
    y = tf.check_numerics(x * x, "square")
    g = tf.gradients(y, x, grad_ys=tf.constant(np.nan, name="nan_dy"))[0]
    return sess.run(g, {x: 1.0})


_TMP_DIRS: list = []


@pytest.fixture(scope="module", autouse=True)
def _remove_checkpoints():
    yield
    for d in _TMP_DIRS:
        shutil.rmtree(d, ignore_errors=True)


def import_text(text, **kw):
    return build_only(lambda: graph_io.import_graph_def(
        graph_io.parse_graph_def(text, as_text=True), name="", **kw))


_IDENTITY = 'attr { key: "T" value { type: DT_FLOAT } }'


def _checkpoint(shape=(2, 3), name="w"):
    """Save a float32 variable ``name`` in its own graph; returns the prefix."""
    d = tempfile.mkdtemp(prefix="gf_bad_inputs_")
    _TMP_DIRS.append(d)
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.ones(shape, np.float32), name=name)
        with tf.Session(graph=g) as s:
            s.run(v.initializer)
            return tf.train.Saver().save(s, os.path.join(d, "model"))


def restore_into(var_fn, damage=None):
    """Restore a fresh checkpoint of w[2,3] into the variables ``var_fn()`` makes."""
    def fn(sess):
        prefix = _checkpoint()
        if damage is not None:
            damage(prefix)
        var_fn()
        return tf.train.Saver().restore(sess, prefix)
    return fn


def _truncate(prefix):
    path = prefix + ".data-00000-of-00001"
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[:-4])


def _flip_data_byte(prefix):
    path = prefix + ".data-00000-of-00001"
    with open(path, "r+b") as f:
        b = f.read(1)
        f.seek(0)
        f.write(bytes([b[0] ^ 0x55]))


def _garbage_index(prefix):
    with open(prefix + ".index", "wb") as f:
        f.write(b"not a checkpoint index\n{}")


BIG = 2 ** 30

CASES = [
    # --- feeds --------------------------------------------------------------------------------
    Case("feed/wrong-static-shape", feed([3], tf.float32, np.ones((2, 2))), ValueError,
         r"shape \(2, 2\) for Tensor x:0, which has shape \(3,\)"),
    Case("feed/wrong-rank", feed([None], tf.float32, np.ones((2, 3))), ValueError, r"x:0"),
    Case("feed/wrong-partial-dim", feed([None, 3], tf.float32, np.ones((2, 4))), ValueError,
         r"x:0.*\(\?, 3\)|x:0.*\(None, 3\)"),
    Case("feed/scalar-for-vector", feed([2], tf.float32, 1.0), ValueError, r"x:0"),
    Case("feed/int64-2**40-into-int32", feed([], tf.int32, 2 ** 40), TypeError, r"1099511627776"),
    Case("feed/int64-array-2**40-into-int32", feed([1], tf.int32, np.array([2 ** 40])),
         TypeError, r"1099511627776"),
    Case("feed/nan-into-int32", feed([], tf.int32, float("nan")), TypeError, r"int32 tensor x:0"),
    Case("feed/inf-array-into-int64", feed([1], tf.int64, np.array([np.inf])), TypeError,
         r"int64 tensor x:0"),
    Case("feed/negative-into-uint8", feed([], tf.uint8, -1), TypeError, r"-1"),
    Case("feed/300-into-int8", feed([1], tf.int8, np.array([300])), TypeError, r"300"),
    Case("feed/string-into-float", feed([], tf.float32, "abc"), ValueError, r"abc"),
    Case("feed/tensor-as-value", lambda s: s.run(ph(name="x"), {
        s.graph.get_tensor_by_name("x:0"): tf.constant(1.0, name="val")}), TypeError,
        r"val:0.*key .*x:0"),
    Case("feed/ragged-list", feed(None, tf.float32, [[1.0, 2.0], [3.0]]), ValueError,
         r"x:0"),
    Case("feed/none-value", feed([], tf.float32, None), TypeError, r"x:0"),
    Case("feed/none-in-list", feed([2], tf.float32, [1.0, None]), TypeError, r"x:0"),
    Case("feed/prevented-after-run", prevented_after_run("feed"), ValueError,
         r"Tensor pf:0 may not be fed\."),
    Case("feed/unknown-tensor-name", lambda s: s.run("still_ok:0", {"nope:0": 1.0}), TypeError,
         r"feed_dict key.*'nope'"),
    Case("feed/operation-as-key", lambda s: s.run("still_ok:0", {
        s.graph.get_operation_by_name("still_ok"): 1.0}), TypeError,
        r"feed_dict key.*Operation"),
    Case("feed/op-name-as-key", lambda s: s.run("still_ok:0", {"still_ok": 1.0}), TypeError,
         r"feed_dict key.*'still_ok'"),
    Case("feed/bad-output-index", lambda s: s.run("still_ok:0", {"still_ok:3": 1.0}), TypeError,
         r"'still_ok:3'"),
    Case("feed/tensor-of-other-graph", lambda s: s.run("still_ok:0", {
        other_graph_tensor("placeholder"): 1.0}), TypeError, r"feed_dict key.*elsewhere:0"),
    Case("feed/prevented-tensor", lambda s: (s.graph.prevent_feeding(
        s.graph.get_tensor_by_name("still_ok:0")), s.run("still_ok:0", {"still_ok:0": 1.0})),
        ValueError, r"Tensor still_ok:0 may not be fed\."),
    Case("feed/missing-placeholder", run(lambda: ph(name="xx") + 1), IAE,
         r"placeholder tensor 'xx' with dtype float", node="xx"),
    Case("feed/missing-deep-placeholder", run(lambda: tf.reduce_sum(
        tf.tanh(ph([2], name="deep")) * 2)), IAE, r"'deep'", node="deep"),
    # --- fetches ------------------------------------------------------------------------------
    Case("fetch/tensor-of-other-graph", lambda s: s.run(other_graph_tensor()), ValueError,
         r"elsewhere:0.*not an element of this graph"),
    Case("fetch/op-of-other-graph", lambda s: s.run(other_graph_tensor("op")), ValueError,
         r"elsewhere.*not an element of this graph"),
    Case("fetch/none", lambda s: s.run(None), TypeError, r"`fetch` = None"),
    Case("fetch/none-nested", lambda s: s.run({"a": ["still_ok:0", None]}), TypeError,
         r"`fetch` = None"),
    Case("fetch/int", lambda s: s.run(3), TypeError, r"`fetch` = 3"),
    Case("fetch/unknown-name", lambda s: s.run("nope"), ValueError, r"'nope'"),
    Case("fetch/bad-output-index", lambda s: s.run("still_ok:5"), ValueError,
         r"'still_ok:5'.*only has 1 outputs"),
    Case("fetch/malformed-name", lambda s: s.run("still_ok:x"), ValueError, r"'still_ok:x'"),
    Case("fetch/prevented-op", lambda s: (s.graph.prevent_fetching(
        tf.constant(1.0, name="hidden").op), s.run("hidden:0")), ValueError,
        r"Operation 'hidden' has been marked as not fetchable\."),
    Case("fetch/prevented-after-run", prevented_after_run("fetch"), ValueError,
         r"Operation 'pq' has been marked as not fetchable\."),
    Case("fetch/eval-without-session", build_only(lambda: tf.constant(1.0).eval()), ValueError,
         r"eval\(\)"),
    Case("fetch/eval-in-session-of-other-graph", lambda s: tf.constant(1.0).eval(
        session=tf.Session(graph=tf.Graph())), ValueError, r"tensor's graph is different"),
    # --- graph structure ----------------------------------------------------------------------
    Case("graph/ops-across-graphs", build_only(lambda: tf.add(other_graph_tensor(),
                                                              tf.constant(2.0, name="here"))),
         ValueError, r"elsewhere:0.*same graph as.*here:0|here:0.*same graph as.*elsewhere:0"),
    Case("graph/control-dep-across-graphs", build_only(lambda: tf.control_dependencies(
        [other_graph_tensor()]).__enter__()), ValueError, r"elsewhere:0.*not an element"),
    Case("graph/finalized-new-op", finalized(lambda: tf.constant(1.0, name="late")),
         RuntimeError, r"finalized.*'late'"),
    Case("graph/finalized-collection", finalized(lambda: tf.add_to_collection("coll", 1)),
         RuntimeError, r"finalized.*'coll'"),
    Case("graph/finalized-variable", finalized(lambda: tf.Variable(1.0, name="late_var")),
         RuntimeError, r"finalized.*late_var"),
    Case("graph/control-cycle-self", cycle("self"), IAE, r"cycle.*node b"),
    Case("graph/control-cycle-two", cycle("two"), IAE, r"cycle.*node [ab]\b"),
    Case("graph/control-cycle-three", cycle("three"), IAE, r"cycle.*node [abc]\b"),
    Case("graph/invalid-op-name", build_only(lambda: tf.constant(1.0, name="bad name!")),
         ValueError, r"'bad name!' is not a valid node name"),
    Case("graph/op-name-leading-dash", build_only(lambda: tf.constant(1.0, name="-x")),
         ValueError, r"'-x' is not a valid node name"),
    Case("graph/invalid-root-scope", build_only(lambda: tf.name_scope("a b").__enter__()),
         ValueError, r"'a b' is not a valid root scope name"),
    Case("graph/invalid-nested-scope", nested_scope("outer", "in ner"), ValueError,
         r"'in ner' is not a valid scope name"),
    Case("graph/explicit-name-reused", build_only(lambda: [
        tf.constant(1.0, name="c/") for _ in range(2)]), ValueError, r"name c as that name"),
    Case("graph/invalid-variable-name", build_only(lambda: tf.Variable(1.0, name="a b")),
         ValueError, r"'a b'"),
    Case("graph/get-variable-twice", build_only(lambda: [
        tf.get_variable("w", [1]) for _ in range(2)]), ValueError, r"Variable w already exists"),
    Case("graph/get-variable-reuse-missing", build_only(lambda: tf.variable_scope(
        "s", reuse=True).__enter__() and tf.get_variable("q", [1])), ValueError,
        r"Variable s/q does not exist"),
    Case("graph/placeholder-bad-dtype", build_only(lambda: tf.placeholder("float99")),
         TypeError, r"'float99'"),
    Case("graph/tensor-as-bool", build_only(lambda: bool(tf.constant(1.0))), TypeError,
         r"`tf.Tensor` as a Python `bool`"),
    Case("graph/len-of-tensor", build_only(lambda: len(tf.constant([1.0], name="vec"))),
         TypeError, r"vec:0"),
    Case("graph/op-name-as-tensor", build_only(lambda: tf.get_default_graph().get_tensor_by_name(
        "still_ok")), ValueError, r"'still_ok' refers to an Operation"),
    Case("graph/unknown-op", build_only(lambda: tf.get_default_graph().get_operation_by_name(
        "nope")), KeyError, r"'nope'"),
    # --- shapes and dtypes at build time ------------------------------------------------------
    Case("shape/reshape-size-mismatch", build_only(lambda: tf.reshape(
        tf.constant([1.0, 2.0, 3.0]), [2, 2])), ValueError,
        r"3 elements to shape \[2,2\].*node Reshape"),
    Case("shape/reshape-negative-dim", build_only(lambda: tf.reshape(tf.ones([4]), [-2, -2])),
         ValueError, r"-2 .*node Reshape"),
    Case("shape/zeros-negative-dim", build_only(lambda: tf.zeros([-2, 3])), ValueError,
         r"Dimension -2 must be >= 0.*node zeros"),
    Case("shape/placeholder-negative-dim", build_only(lambda: tf.placeholder(
        tf.float32, [-2])), ValueError, r"Dimension -2"),
    Case("shape/matmul-inner-mismatch", build_only(lambda: tf.matmul(
        tf.ones([2, 3]), tf.ones([2, 3]))), ValueError, r"3 and 2 for '\{\{node MatMul\}\}"),
    Case("shape/matmul-rank-1", build_only(lambda: tf.matmul(tf.ones([3]), tf.ones([3, 2]))),
         ValueError, r"rank 2 but is rank 1.*node MatMul"),
    Case("shape/add-incompatible", build_only(lambda: tf.ones([2]) + tf.ones([3])),
         ValueError, r"2 and 3.*node add"),
    Case("shape/concat-mismatch", build_only(lambda: tf.concat(
        [tf.ones([2, 3]), tf.ones([3, 2])], 0)), ValueError, r"node concat"),
    Case("shape/concat-axis-out-of-range", build_only(lambda: tf.concat(
        [tf.ones([2]), tf.ones([2])], 3)), ValueError, r"node concat"),
    Case("shape/stack-mismatch", build_only(lambda: tf.stack([tf.ones([2]), tf.ones([3])])),
         ValueError, r"node stack"),
    Case("shape/transpose-perm-out-of-range", build_only(lambda: tf.transpose(
        tf.ones([2, 3]), [0, 2])), ValueError, r"perm dim 2.*node transpose"),
    Case("shape/reduce-axis-out-of-range", build_only(lambda: tf.reduce_sum(
        tf.ones([2, 3]), 5)), ValueError, r"dimension 5.*node Sum"),
    Case("shape/strided-slice-out-of-bounds", build_only(lambda: tf.ones([2, 3])[5]),
         ValueError, r"index 5 of dimension 0.*node strided_slice"),
    Case("shape/split-uneven", build_only(lambda: tf.split(tf.ones([5]), 2)), ValueError,
         r"divisible by 2 but is 5.*node split"),
    Case("shape/squeeze-non-1-dim", build_only(lambda: tf.squeeze(tf.ones([2, 3]), [0])),
         ValueError, r"dim\[0\].*node Squeeze"),
    Case("shape/expand-dims-axis", build_only(lambda: tf.expand_dims(tf.ones([2, 3]), 5)),
         ValueError, r"dim 5.*node ExpandDims"),
    Case("shape/argmax-axis", build_only(lambda: tf.argmax(tf.ones([2, 3]), 4)), ValueError,
         r"got 4.*node ArgMax"),
    Case("shape/softmax-scalar", build_only(lambda: tf.nn.softmax(tf.constant(1.0))),
         ValueError, r"rank 1 but is rank 0.*node Softmax"),
    Case("shape/xent-class-mismatch", build_only(
        lambda: tf.nn.softmax_cross_entropy_with_logits_v2(labels=tf.ones([2, 3]),
                                                           logits=tf.ones([2, 4]))),
        ValueError, r"4 and 3.*node softmax_cross_entropy_with_logits"),
    Case("shape/sparse-xent-label-rank", build_only(
        lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.ones([2, 3], tf.int32), logits=tf.ones([2, 4]))), ValueError,
        r"Rank of labels"),
    Case("shape/where-mismatch", build_only(lambda: tf.where(
        tf.ones([2], tf.bool), tf.ones([3]), tf.ones([3]))), ValueError, r"node Select"),
    Case("shape/range-delta-zero", build_only(lambda: tf.range(0, 5, 0)), ValueError,
         r"delta != 0.*node range"),
    Case("shape/tile-negative", build_only(lambda: tf.tile(tf.ones([2]), [-1])), ValueError,
         r"multiples\[0\] >= 0.*node Tile"),
    Case("shape/pad-negative", build_only(lambda: tf.pad(tf.ones([2]), [[-1, 0]])), ValueError,
         r"non-negative.*node Pad"),
    Case("shape/one-hot-negative-depth", build_only(lambda: tf.one_hot([1], -3)), ValueError,
         r"-3.*node one_hot"),
    Case("dtype/add-mismatch", build_only(lambda: tf.ones([2]) + tf.ones([2], tf.int32)),
         TypeError, r"Input 'y' of 'AddV2'"),
    Case("dtype/matmul-mismatch", build_only(lambda: tf.matmul(
        tf.ones([3, 3]), tf.ones([3, 2], tf.float64))), TypeError, r"Input 'b' of 'MatMul'"),
    Case("dtype/gather-float-indices", build_only(lambda: tf.gather(tf.ones([2]), [0.5])),
         TypeError, r"'indices'"),
    Case("dtype/l2-loss-int", build_only(lambda: tf.nn.l2_loss(tf.ones([2], tf.int32))),
         TypeError, r"parameter 't'"),
    Case("dtype/cast-unknown", build_only(lambda: tf.cast(tf.constant(1.0), "nope")),
         TypeError, r"'nope'"),
    Case("dtype/constant-out-of-range", build_only(lambda: tf.constant(300, dtype=tf.uint8)),
         TypeError, r"uint8: 300"),
    Case("dtype/check-numerics-int", build_only(lambda: tf.check_numerics(tf.constant(1), "m")),
         TypeError, r"parameter 'tensor'"),
    # --- shapes and values at run time --------------------------------------------------------
    Case("run/reshape-size-mismatch", run(lambda: tf.reshape(ph(name="r"), [2, 2]),
                                          {"r": [1.0, 2.0, 3.0]}),
         IAE, r"3 values, but the requested shape has 4", node="Reshape"),
    Case("run/reshape-two-unknowns", run(lambda: tf.reshape(tf.ones([4]), ph(
        dtype=tf.int32, name="s")), {"s": [-1, -1]}), IAE, r"both 0 and 1", node="Reshape"),
    Case("run/reshape-negative", run(lambda: tf.reshape(tf.ones([4]), ph(
        dtype=tf.int32, name="s")), {"s": [-2, -2]}), IAE, r"not -2", node="Reshape"),
    Case("run/fill-negative-dim", run(lambda: tf.fill(ph(dtype=tf.int32, name="d"), 1.0),
                                      {"d": [-1, 2]}), IAE, r"-1", node="Fill"),
    Case("run/random-negative-dim", run(lambda: tf.random_uniform(ph(
        [2], tf.int32, name="d")), {"d": [-1, 2]}), IAE, r"-1",
        node="random_uniform/RandomUniform"),
    Case("run/matmul-inner-mismatch", run(lambda: tf.matmul(ph(name="m"), tf.ones([2, 3])),
                                          {"m": np.ones((2, 3))}), IAE, r"3 vs. 2",
         node="MatMul"),
    Case("run/broadcast-incompatible", run(lambda: ph(name="b") + tf.ones([2, 3]),
                                           {"b": np.ones(4)}), IAE, r"\[4\] vs. \[2,3\]",
         node="add"),
    Case("run/concat-mismatch", run(lambda: tf.concat([ph(name="c"), tf.ones([2, 2])], 0),
                                    {"c": np.ones((1, 3))}), IAE, r"", node="concat"),
    Case("run/transpose-duplicate-perm", run(lambda: tf.transpose(tf.ones([2, 2]), ph(
        dtype=tf.int32, name="p")), {"p": [0, 0]}), IAE, r"1 is missing", node="transpose"),
    Case("run/reduce-axis-out-of-range", run(lambda: tf.reduce_sum(tf.ones([2, 3]), ph(
        dtype=tf.int32, name="a")), {"a": 5}), IAE, r"dimension \(?5", node="Sum"),
    Case("run/slice-size-out-of-range", run(lambda: tf.slice(tf.ones([2, 3]), [0, 0],
                                                             [3, 3])), IAE, r"size\[0\]",
         node="Slice"),
    Case("run/strided-slice-out-of-bounds", run(lambda: ph(name="s")[5],
                                                {"s": np.ones((2, 3))}),
         IAE, r"index 5 of dimension 0", node="strided_slice"),
    Case("run/split-uneven", run(lambda: tf.split(ph([None], name="s"), 2),
                                 {"s": np.ones(5)}), IAE, r"num_split 2", node="split"),
    Case("run/integer-division-by-zero", run(lambda: tf.constant(1) // ph(
        dtype=tf.int32, name="z"), {"z": 0}), IAE, r"division by zero", node="floordiv"),
    Case("run/range-delta-zero", run(lambda: tf.range(0, 5, ph(dtype=tf.int32, name="d")),
                                     {"d": 0}), IAE, r"delta != 0", node="range"),
    Case("run/pad-negative", run(lambda: tf.pad(tf.ones([2]), ph(dtype=tf.int32, name="p")),
                                 {"p": [[-1, 0]]}), IAE, r"-1", node="Pad"),
    Case("run/random-uniform-int-bounds", run(lambda: tf.random_uniform(
        [2], 5, 1, dtype=tf.int32)), IAE, r"minval < maxval", node="random_uniform"),
    Case("run/assign-shape-mismatch", assign_fed_shape, IAE, r"lhs shape= \[\] rhs shape= \[2\]",
         node="Assign"),
    # --- indices ------------------------------------------------------------------------------
    Case("index/gather-out-of-range", run(lambda: tf.gather(tf.constant([1.0, 2.0, 3.0]), [5])),
         IAE, r"indices\[0\] = 5 is not in \[0, 3\)", node="GatherV2"),
    Case("index/gather-negative", run(lambda: tf.gather(tf.constant([1.0, 2.0, 3.0]), [-1])),
         IAE, r"indices\[0\] = -1", node="GatherV2"),
    Case("index/gather-fed", run(lambda: tf.gather(tf.constant([1.0, 2.0]), ph(
        dtype=tf.int32, name="i")), {"i": [0, 7]}), IAE, r"indices\[1\] = 7",
        node="GatherV2"),
    Case("index/gather-axis-1", run(lambda: tf.gather(tf.ones([2, 3]), [3], axis=1)), IAE,
         r"= 3 is not in \[0, 3\)", node="GatherV2"),
    Case("index/embedding-lookup", run(lambda: tf.nn.embedding_lookup(
        tf.ones([3, 2]), [4])), IAE, r"= 4 is not in \[0, 3\)", node="embedding_lookup"),
    Case("index/sparse-xent-label", run(lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.constant([3]), logits=tf.ones([1, 3]))), IAE, r"label value of 3"),
    Case("index/sparse-xent-negative-label", run(
        lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=ph([1], tf.int32, "lab"), logits=tf.ones([1, 3])), {"lab": [-1]}), IAE,
        r"label value of -1"),
    Case("index/segment-id-out-of-range", run(lambda: tf.unsorted_segment_sum(
        tf.constant([1.0, 2.0]), tf.constant([0, 5]), 2)), IAE, r"segment_ids\[1\] = 5",
        node="UnsortedSegmentSum"),
    Case("index/scatter-update-out-of-range", with_initialized(
        lambda: tf.Variable([1.0, 2.0, 3.0], name="sv"),
        lambda v: tf.scatter_update(v, [5], [1.0])), IAE, r"indices\[0\] = 5",
        node="ScatterUpdate"),
    Case("index/scatter-add-negative", with_initialized(
        lambda: tf.Variable([1.0, 2.0], name="sv"), lambda v: tf.scatter_add(v, [-1], [1.0])),
        IAE, r"indices\[0\] = -1", node="ScatterAdd"),
    Case("index/one-hot-negative-depth-fed", run(lambda: tf.one_hot([1], ph(
        dtype=tf.int32, name="d")), {"d": -2}), IAE, r"depth.*-2", node="one_hot"),
    # --- numerics -----------------------------------------------------------------------------
    Case("numerics/check-nan", run(lambda: tf.check_numerics(ph(name="n"), "my tensor"),
                                   {"n": [1.0, np.nan]}),
         IAE, r"^my tensor : Tensor had NaN values", node="CheckNumerics"),
    Case("numerics/check-inf", run(lambda: tf.check_numerics(ph(name="n"), "m", name="chk"),
                                   {"n": [np.inf]}),
         IAE, r"m : Tensor had Inf values", node="chk"),
    Case("numerics/check-inf-and-nan", run(lambda: tf.check_numerics(ph(name="n"), "both"),
                                           {"n": [-np.inf, np.nan]}),
         IAE, r"both : Tensor had Inf and NaN values", node="CheckNumerics"),
    Case("numerics/check-float64-division", run(lambda: tf.check_numerics(
        tf.constant(0.0, tf.float64) / ph(dtype=tf.float64, name="d"), "ratio"), {"d": 0.0}),
        IAE, r"ratio : Tensor had NaN values"),
    Case("numerics/add-check-numerics-ops", numerics_graph, IAE,
         r"^lg:0 : Tensor had Inf values"),
    Case("numerics/verify-tensor-all-finite", run(lambda: tf.verify_tensor_all_finite(
        tf.constant([np.nan]), "vmsg")), IAE, r"vmsg : Tensor had NaN values",
        node="VerifyFinite/CheckNumerics"),
    Case("numerics/nan-in-gradient", gradient_nan, IAE,
         r"detected in gradient\. square : Tensor had NaN values"),
    # --- variables ----------------------------------------------------------------------------
    Case("var/uninitialized-read", run(lambda: tf.Variable(1.0, name="vv") + 1), FPE,
         r"uninitialized value vv", node="vv/read"),
    Case("var/uninitialized-assign-add", run(lambda: tf.assign_add(
        tf.Variable(1.0, name="aa"), 1.0)), FPE, r"uninitialized value aa",
        node="AssignAdd"),
    Case("var/uninitialized-scatter", run(lambda: tf.scatter_add(
        tf.Variable([1.0, 2.0], name="sv"), [0], [1.0])), FPE, r"uninitialized value sv"),
    Case("var/initializer-uses-uninitialized", run(lambda: tf.Variable(
        tf.Variable(1.0, name="first") * 2).initializer), FPE, r"uninitialized value first"),
    Case("var/assign-shape-mismatch-build", build_only(lambda: tf.assign(
        tf.Variable(1.0, name="sv"), [1.0, 2.0])), ValueError, r"sv:0.*\(\).*\(2,\)"),
    Case("var/no-initial-value", build_only(lambda: tf.Variable(None)), ValueError,
         r"initial_value"),
    # --- sessions -----------------------------------------------------------------------------
    Case("session/closed", closed_session, RuntimeError, r"closed Session"),
    Case("session/make-callable-arity", lambda s: s.make_callable(
        "still_ok:0", [ph(name="x")])(), TypeError, r"Expected 1 feeds but got 0"),
    Case("session/partial-run", lambda s: s.partial_run_setup(["still_ok:0"]),
         errors.UnimplementedError, r"partial_run"),
    # --- optimizers ---------------------------------------------------------------------------
    Case("opt/empty-name", build_only(lambda: tf.train.GradientDescentOptimizer(0.1, name="")),
         ValueError, r"optimizer name"),
    Case("opt/adam-empty-name", build_only(lambda: tf.train.AdamOptimizer(name="")),
         ValueError, r"optimizer name"),
    Case("opt/bad-gate-gradients", minimize(lambda v: v * v, gate_gradients=7), ValueError,
         r"gate_gradients.*Not 7"),
    Case("opt/bad-aggregation-method", minimize(lambda v: v * v, aggregation_method=9),
         ValueError, r"aggregation_method.* 9"),
    Case("opt/no-variables", build_only(lambda: tf.train.GradientDescentOptimizer(
        0.1).minimize(tf.constant(1.0) * 2)), ValueError, r"No variables to optimize"),
    Case("opt/no-gradients", minimize(lambda v: tf.constant(2.0) * 1, var_list=None), ValueError,
         r"No gradients provided for any variable.*'w:0'"),
    Case("opt/apply-empty-list", build_only(lambda: tf.train.GradientDescentOptimizer(
        0.1).apply_gradients([])), ValueError, r"No variables provided"),
    Case("opt/integer-loss", build_only(lambda: tf.train.GradientDescentOptimizer(0.1).minimize(
        tf.cast(tf.Variable(1, name="iv"), tf.int32) * 2, var_list=None)), ValueError,
        r"Invalid type tf.int32"),
    Case("opt/momentum-missing-argument", build_only(lambda: tf.train.MomentumOptimizer(0.1)),
         TypeError, r"'momentum'"),
    # --- huge requested shapes: a clear error before allocating -------------------------------
    Case("huge/zeros", run(lambda: tf.zeros([2 ** 40, 2 ** 40])), REE,
         r"OOM when allocating tensor with shape\[1099511627776,1099511627776\]", node="zeros"),
    Case("huge/ones", run(lambda: tf.ones([2 ** 20, 2 ** 20, 8])), REE, r"shape\[1048576,",
         node="ones"),
    Case("huge/fill-const-dims", run(lambda: tf.fill([2 ** 31, 2 ** 31], 1.0)), REE,
         r"shape\[2147483648,2147483648\]", node="Fill"),
    Case("huge/fill-fed-dims", run(lambda: tf.fill(ph([2], tf.int32, "d"), 1.0),
                                   {"d": [BIG, BIG]}), REE, r"type float", node="Fill"),
    Case("huge/random-normal", run(lambda: tf.random_normal([BIG, BIG])), REE,
         r"shape\[1073741824,1073741824\]", node="random_normal/RandomStandardNormal"),
    Case("huge/random-uniform", run(lambda: tf.random_uniform([BIG, BIG], dtype=tf.float64)),
         REE, r"type double", node="random_uniform/RandomUniform"),
    Case("huge/truncated-normal", run(lambda: tf.truncated_normal([BIG, BIG])), REE,
         r"OOM", node="truncated_normal/TruncatedNormal"),
    Case("huge/random-uniform-int", run(lambda: tf.random_uniform(
        [BIG, BIG], 0, 10, dtype=tf.int32)), REE, r"type int32", node="random_uniform"),
    Case("huge/tile", run(lambda: tf.tile(tf.constant([[1.0]]), [BIG, BIG])), REE, r"OOM",
         node="Tile"),
    Case("huge/tile-fed-multiples", run(lambda: tf.tile(tf.ones([2, 2]), ph(
        [2], tf.int32, "m")), {"m": [BIG, BIG]}), REE, r"shape\[2147483648,", node="Tile"),
    Case("huge/broadcast-to", run(lambda: tf.broadcast_to(tf.constant(1.0), [BIG, BIG])), REE,
         r"OOM", node="BroadcastTo"),
    Case("huge/range", run(lambda: tf.range(0, 2 ** 62, dtype=tf.int64)), REE, r"type int64",
         node="range"),
    Case("huge/pad", run(lambda: tf.pad(tf.constant([1.0]), [[0, 2 ** 40]])), REE, r"OOM",
         node="Pad"),
    Case("huge/one-hot-depth", run(lambda: tf.one_hot(tf.zeros([1000], tf.int32), ph(
        [], tf.int32, "d")), {"d": 2 ** 31 - 1}), REE, r"shape\[1000,2147483647\]",
        node="one_hot"),
    Case("huge/segment-count", run(lambda: tf.unsorted_segment_sum(
        tf.ones([2, 1024]), [0, 1], ph([], tf.int32, "n")), {"n": 2 ** 31 - 1}), REE,
        r"OOM", node="UnsortedSegmentSum"),
    Case("huge/variable-initializer", run(lambda: tf.get_variable(
        "big", [2 ** 20, 2 ** 20], initializer=tf.zeros_initializer()).initializer), REE,
        r"OOM", node="big/Initializer/zeros"),
    Case("huge/constant-with-shape", build_only(lambda: tf.constant(0.0, shape=[2 ** 40])),
         ValueError, r"constant 'Const' of shape \[1099511627776\]"),
    # --- malformed GraphDefs and checkpoints --------------------------------------------------
    Case("graphdef/garbage-binary", build_only(lambda: graph_io.parse_graph_def(
        b"\xff\xfe\x00garbage", as_text=False)), errors.DataLossError, r"binary proto"),
    Case("graphdef/truncated-text", build_only(lambda: graph_io.parse_graph_def(
        "node { name: ", as_text=True)), errors.DataLossError, r"text proto"),
    Case("graphdef/not-a-graphdef", build_only(lambda: graph_io.import_graph_def("hello")),
         TypeError, r"graph_def must be a GraphDef"),
    Case("graphdef/missing-file", build_only(lambda: graph_io.read_graph_def(
        "/nonexistent_gf/graph.pb")), errors.NotFoundError, r"/nonexistent_gf/graph.pb"),
    Case("graphdef/unknown-op", import_text('node { name: "a" op: "NoSuchOp" }'),
         errors.NotFoundError, r"'NoSuchOp'"),
    Case("graphdef/unknown-input", import_text(
        'node { name: "a" op: "Identity" input: "nope" %s }' % _IDENTITY), ValueError,
        r"Node 'a': Unknown input node 'nope'"),
    Case("graphdef/missing-attr", import_text('node { name: "a" op: "Const" }'), ValueError,
         r"Node 'a' \(op Const\).*'value'"),
    Case("graphdef/duplicate-node", import_text(
        'node { name: "a" op: "NoOp" } node { name: "a" op: "NoOp" }'), ValueError,
        r"Node 'a' is not unique"),
    Case("graphdef/cycle", import_text(
        'node { name: "a" op: "Identity" input: "b" %s } '
        'node { name: "b" op: "Identity" input: "a" %s }' % (_IDENTITY, _IDENTITY)),
        ValueError, r"cycle.*\ba\b"),
    Case("graphdef/input-map-unknown", import_text('node { name: "a" op: "NoOp" }',
                                                   input_map={"nope:0": 1.0}),
         ValueError, r"nope:0"),
    Case("graphdef/return-element-unknown", import_text('node { name: "a" op: "NoOp" }',
                                                        return_elements=["nope"]),
         ValueError, r"'nope'"),
    Case("checkpoint/shape-mismatch", restore_into(lambda: tf.Variable(
        np.ones((3, 3), np.float32), name="w")), IAE, r"lhs shape= \[3,3\] rhs shape= \[2,3\]"),
    Case("checkpoint/dtype-mismatch", restore_into(lambda: tf.Variable(
        np.ones((2, 3), np.float64), name="w")), IAE, r"tensor_name = w; expected dtype double"),
    Case("checkpoint/missing-key", restore_into(lambda: tf.Variable(
        np.ones((2, 3), np.float32), name="other")), errors.NotFoundError,
        r"Key other not found"),
    Case("checkpoint/truncated-data", restore_into(lambda: tf.Variable(
        np.ones((2, 3), np.float32), name="w"), _truncate), errors.DataLossError,
        r"truncated or corrupt"),
    Case("checkpoint/flipped-byte", restore_into(lambda: tf.Variable(
        np.ones((2, 3), np.float32), name="w"), _flip_data_byte), errors.DataLossError,
        r"tensor w"),
    Case("checkpoint/garbage-index", restore_into(lambda: tf.Variable(
        np.ones((2, 3), np.float32), name="w"), _garbage_index), errors.DataLossError,
        r"\.index"),
    Case("checkpoint/missing", lambda s: (tf.Variable(1.0, name="w"), tf.train.Saver().restore(
        s, "/nonexistent_gf/model")), ValueError, r"/nonexistent_gf/model"),
    Case("checkpoint/reader-unknown-key", lambda s: tf.train.NewCheckpointReader(
        _checkpoint()).get_tensor("nope"), errors.NotFoundError, r"Key nope not found"),
    Case("checkpoint/save-path-none", lambda s: (tf.Variable(1.0, name="w"), tf.train.Saver(
    ).restore(s, None)), ValueError, r"save_path when it is None"),
    Case("checkpoint/no-variables", build_only(lambda: tf.train.Saver()), ValueError,
         r"No variables to save"),
]


def _param(case):
    marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
    return pytest.param(case, id=case.id, marks=marks)


def test_catalogue_has_at_least_80_cases():
    assert len({c.id for c in CASES}) == len(CASES), "duplicate case ids"
    assert len([c for c in CASES if not c.xfail]) >= 80


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_input(case):
    g = tf.get_default_graph()
    ok = tf.constant(7.0, name="still_ok")
    sess = tf.Session(graph=g)
    try:
        with g.as_default():
            with pytest.raises(Exception) as info:
                case.fn(sess)
        err = info.value
        assert type(err) is case.error, "raised %s: %s" % (type(err).__name__, err)
        msg = str(err) if not isinstance(err, KeyError) else err.args[0]
        assert re.search(case.names, msg, re.S), "message %r lacks %r" % (msg, case.names)
        if isinstance(err, errors.OpError) and err.op is not None:
            assert "[[{{node %s}}]]" % err.op.name in msg
        if case.node is not None:
            assert err.op is not None and err.op.name == case.node, err.op
        # the runtime is still usable: same session (a new one once closed)
        runner = sess if not sess._closed else tf.Session(graph=g)
        assert runner.run(ok) == 7.0
        if not g.finalized:
            with g.as_default():
                assert runner.run(tf.constant(2.0) * ok) == 14.0
    finally:
        sess.close()
