"""Summary ops: tags and names as TF1 makes them (spec formats.md §b), the
SUMMARIES collection, and the Summary protos the ops produce."""
import numpy as np
import pytest

import graphflow as tf
from graphflow import errors, summary
from graphflow.io import proto
from graphflow.summary.histogram import histogram_proto


def _parse(data):
    s = proto.Summary()
    s.ParseFromString(data)
    return s


def test_tags_follow_scopes_uniqueness_family_and_cleaning():
    x = tf.constant(1.0)
    a = summary.scalar("loss", x)
    b = summary.scalar("loss", x)
    with tf.name_scope("sc"):
        c = summary.scalar("loss", x)
    d = summary.scalar("loss", x, family="fam")
    e = summary.scalar("bad name!", x)
    with tf.Session() as s:
        outs = s.run([a, b, c, d, e])
    tags = [_parse(o).value[0].tag for o in outs]
    assert tags == ["loss", "loss_1", "sc/loss", "fam/fam/loss", "bad_name_"]
    assert [t.op.name for t in (a, b, c, d, e)] == tags[:3] + ["fam/loss", "bad_name_"]
    assert a.op.type == "ScalarSummary" and a.dtype == tf.string and a.shape.ndims == 0
    assert tf.get_default_graph().get_operation_by_name("loss/tags").type == "Const"


def test_collection_and_merge_all():
    assert summary.merge_all() is None
    x = tf.placeholder(tf.float32, [4], name="x")
    s1 = summary.scalar("avg", tf.reduce_mean(x))
    s2 = summary.histogram("hist", x)
    summary.scalar("other", tf.reduce_max(x), collections=["mine"])
    assert tf.get_collection(tf.GraphKeys.SUMMARIES) == [s1, s2]
    merged = summary.merge_all()
    assert merged.op.name == "Merge/MergeSummary" and merged.op.type == "MergeSummary"
    assert summary.merge_all("mine").op.name == "Merge_1/MergeSummary"
    with tf.Session() as s:
        out = _parse(s.run(merged, {x: [1, 2, 2, 5]}))
    assert [v.tag for v in out.value] == ["avg", "hist"]
    assert out.value[0].simple_value == 2.5
    assert out.value[1].histo == histogram_proto([1, 2, 2, 5])


def test_scalar_values_are_float32():
    v = tf.constant(np.float64(0.1))
    with tf.Session() as s:
        out = _parse(s.run(summary.scalar("s", v)))
    assert out.value[0].simple_value == pytest.approx(float(np.float32(0.1)), abs=0)


def test_scalar_shape_mismatch_is_invalid_argument():
    t = summary.scalar("vec", tf.constant([1.0, 2.0]))
    with tf.Session() as s, pytest.raises(errors.InvalidArgumentError, match="same shape"):
        s.run(t)


@pytest.mark.parametrize("bad, word", [(np.nan, "Nan"), (np.inf, "Infinity")])
def test_histogram_rejects_non_finite(bad, word):
    h = summary.histogram("h", tf.constant([1.0, bad]))
    with tf.Session() as s, pytest.raises(errors.InvalidArgumentError,
                                          match="%s in summary histogram for: h" % word):
        s.run(h)


def test_text_summary():
    t = summary.text("notes", tf.constant(["hi", "there"]))
    assert t.op.type == "TensorSummaryV2"
    with tf.Session() as s:
        v = _parse(s.run(t)).value[0]
    assert v.tag == "notes" and v.metadata.plugin_data.plugin_name == "text"
    assert list(v.tensor.string_val) == [b"hi", b"there"]
    assert [d.size for d in v.tensor.tensor_shape.dim] == [2]
    with pytest.raises(ValueError, match="dtype string"):
        summary.text("n", tf.constant(1.0))


def test_tensor_summary_numeric_uses_tensor_content():
    t = summary.tensor_summary("t", tf.constant([[1, 2]], tf.int32))
    with tf.Session() as s:
        v = _parse(s.run(t)).value[0]
    assert v.tensor.tensor_content == np.array([1, 2], "<i4").tobytes()


def test_merge_duplicate_tags_fail():
    x = tf.constant(1.0)
    a = summary.scalar("same", x, collections=[])
    m = summary.merge([a, a], name="m")
    assert m.op.name == "m/m"
    with tf.Session() as s, pytest.raises(errors.InvalidArgumentError, match="Duplicate tag"):
        s.run(m)


def test_summary_graph_round_trips_through_graph_def():
    from graphflow.io.graph_def import import_graph_def
    x = tf.placeholder(tf.float32, [3], name="x")
    summary.scalar("s", tf.reduce_sum(x))
    summary.histogram("h", x)
    summary.text("t", tf.constant("a"))
    m = summary.merge_all()
    gd = tf.get_default_graph().as_graph_def()
    node = [n for n in gd.node if n.name == m.op.name][0]
    assert node.attr["N"].i == 3
    g2 = tf.Graph()
    with g2.as_default():
        import_graph_def(gd, name="")
    assert g2.as_graph_def() == gd
    feed = {"x:0": [1.0, 2.0, 3.0]}
    with tf.Session() as s1, tf.Session(graph=g2) as s2:
        assert s1.run(m, feed) == s2.run(m.name, feed)
