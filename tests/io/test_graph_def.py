"""GraphDef: as_graph_def, write_graph, import_graph_def (spec formats.md §a).

Independent truths: the golden pbtxt is TensorFlow 2.21's own write_graph
output (tests/golden/README.md); tensor encodings are the spec's examples;
imported graphs are checked by running them against the original graph.
"""
import os

import numpy as np
import pytest

import graphflow as tf
from graphflow import errors
from graphflow.io import graph_def as gdm
from graphflow.io import proto
from graphflow.io.graph_def import import_graph_def, read_graph_def, write_graph

GOLDEN = os.path.join(os.path.dirname(__file__), "..", "golden", "graph_small.pbtxt")


def _small_graph():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        w = tf.Variable([[1.], [2.]], name="w")
        c = tf.constant(3, name="c")
        y = tf.matmul(x, w, name="y")
        with tf.control_dependencies([c]):
            tf.identity(y, name="z")
        u = tf.unique(tf.constant([4, 5, 4], name="k"), name="u")
        tf.identity(u[1], name="uidx")
    return g


def test_golden_pbtxt(tmp_path):
    path = write_graph(_small_graph(), str(tmp_path / "logs" / "deep"), "graph.pbtxt")
    assert path == os.path.join(str(tmp_path / "logs" / "deep"), "graph.pbtxt")
    with open(GOLDEN, "rb") as f:
        want = f.read()
    with open(path, "rb") as f:
        assert f.read() == want


def test_write_graph_binary_is_deterministic_and_atomic(tmp_path):
    g = _small_graph()
    p1 = write_graph(g, str(tmp_path), "a.pb", as_text=False)
    p2 = write_graph(g.as_graph_def(), str(tmp_path), "b.pb", as_text=False)
    with open(p1, "rb") as f1, open(p2, "rb") as f2:
        data = f1.read()
        assert data == f2.read()
    assert proto.GraphDef.FromString(data) == g.as_graph_def()
    assert sorted(os.listdir(tmp_path)) == ["a.pb", "b.pb"]  # no temp files left


def test_read_graph_def_both_forms(tmp_path):
    g = _small_graph()
    want = g.as_graph_def()
    assert read_graph_def(write_graph(g, str(tmp_path), "g.pbtxt")) == want
    assert read_graph_def(write_graph(g, str(tmp_path), "g.pb", as_text=False)) == want
    assert read_graph_def(write_graph(g, str(tmp_path), "g.bin", as_text=True)) == want


def test_node_def_inputs_and_versions():
    g = _small_graph()
    nd = g.get_operation_by_name("z").node_def
    assert nd.name == "z" and nd.op == "Identity" and list(nd.input) == ["y", "^c"]
    assert list(g.get_operation_by_name("uidx").node_def.input) == ["u:1"]
    gd = g.as_graph_def()
    assert [n.name for n in gd.node] == [op.name for op in g.get_operations()]
    assert gd.versions.producer == gdm.GRAPH_DEF_VERSION == g.graph_def_versions.producer


def test_from_version_and_add_shapes():
    g = _small_graph()
    with g.as_default():
        v = g.version
        tf.constant([1.0, 2.0], name="late")
    gd = g.as_graph_def(from_version=v)
    assert [n.name for n in gd.node] == ["late"]
    shaped = g.as_graph_def(add_shapes=True)
    x = [n for n in shaped.node if n.name == "x"][0]
    dims = [d.size for d in x.attr["_output_shapes"].list.shape[0].dim]
    assert dims == [-1, 2]
    u = [n for n in shaped.node if n.name == "u"][0]
    assert len(u.attr["_output_shapes"].list.shape) == 2


def test_type_attrs_match_tf_names():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2, 3], name="x")
        tf.reduce_sum(x, axis=tf.constant(1, tf.int64), name="s")
        tf.concat([x, x], axis=0, name="cat")
        tf.reshape(x, [6], name="r")
        tf.logical_not(tf.constant([True]), name="n")
        tf.gather(x, tf.constant([1, 0], tf.int64), name="gat")
    attrs = {n.name: n.attr for n in g.as_graph_def().node}
    assert attrs["s"]["Tidx"].type == tf.int64.as_datatype_enum
    assert attrs["s"]["T"].type == tf.float32.as_datatype_enum
    assert attrs["cat"]["N"].i == 2 and attrs["cat"]["Tidx"].type == tf.int32.as_datatype_enum
    assert attrs["r"]["Tshape"].type == tf.int32.as_datatype_enum
    assert "T" not in attrs["n"]
    assert attrs["gat"]["Tindices"].type == tf.int64.as_datatype_enum
    assert "T" not in attrs["gat"] and attrs["gat"]["Tparams"].type == 1


def _rich_graph():
    """Many op kinds: variables, lists, multi-output, strings, seeds, control deps."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        with tf.variable_scope("layer"):
            w = tf.get_variable("w", initializer=tf.constant(
                np.arange(6, dtype=np.float32).reshape(3, 2) / 7.0))
            b = tf.get_variable("b", shape=[2], initializer=tf.zeros_initializer())
        h = tf.nn.relu(tf.matmul(x, w) + b, name="h")
        parts = tf.split(h, 2, axis=1, name="sp")
        cat = tf.concat([parts[1], parts[0], h], axis=1, name="cat")
        total = tf.add_n([h, h, h], name="total")
        st = tf.stack([tf.reduce_sum(cat, axis=1), tf.reduce_mean(total, axis=1)], axis=1)
        idx = tf.argmax(st, axis=1, name="am")
        g16 = tf.cast(tf.constant(np.array([1.5, -2.25], np.float16)), tf.float32)
        flags = tf.constant([True, False])
        picked = tf.where(flags, g16, -g16, name="pick")
        words = tf.constant(["a", "bc", "\xff\x00"], name="words")
        big = tf.constant(np.array([[1, 2**40]], dtype=np.int64), name="big")
        small = tf.constant(np.array([7], dtype=np.uint8), name="small")
        rnd = tf.random_uniform([2, 2], seed=3, name="rnd")
        inc = tf.assign_add(b, tf.ones([2]), name="inc")
        with tf.control_dependencies([inc]):
            after = tf.identity(b.read_value() if hasattr(b, "read_value") else b, name="after")
        with tf.device("/cpu:0"):
            dev = tf.square(x, name="dev")
        init = tf.global_variables_initializer()
    fetches = ["h:0", "sp:1", "cat:0", "total:0", "am:0", "pick:0", "words:0", "big:0",
               "small:0", "rnd:0", "dev:0"]
    return g, fetches, init.name, after.name


def _run(g, fetches, init, feeds):
    with tf.Session(graph=g) as s:
        s.run(init)
        return s.run(fetches, feeds)


def test_import_reproduces_graph_and_results():
    g, fetches, init, _ = _rich_graph()
    feed = {"x:0": np.array([[1., -2., 3.], [0.5, 0.25, -1.]], np.float32)}
    want = _run(g, fetches, init, feed)
    gd = g.as_graph_def()
    g2 = tf.Graph()
    with g2.as_default():
        assert import_graph_def(gd, name="") is None
    assert g2.as_graph_def() == gd  # fixed point
    got = _run(g2, fetches, init, feed)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    assert g2.get_operation_by_name("dev").device == "/cpu:0"


def test_fixed_point_through_text_and_prefix():
    g, _, _, _ = _rich_graph()
    text = proto.text_format.MessageToString(g.as_graph_def())
    gd = gdm.parse_graph_def(text, as_text=True)
    g2 = tf.Graph()
    with g2.as_default():
        import_graph_def(gd)
        import_graph_def(gd)
    names = [op.name for op in g2.get_operations()]
    assert names[0].startswith("import/") and "import_1/h" in names
    assert g2.get_operation_by_name("import/layer/w/read").get_attr("_class") == \
        ["loc:@import/layer/w"]
    g3 = tf.Graph()
    with g3.as_default():
        import_graph_def(g2.as_graph_def(), name="")
    assert g3.as_graph_def() == g2.as_graph_def()


def test_imported_variables_initialize_and_train():
    g = tf.Graph()
    with g.as_default():
        w = tf.Variable([1.0, 2.0], name="w")
        loss = tf.reduce_sum(w * w, name="loss")
        tf.assign_sub(w, 0.1 * w, name="step")
        tf.global_variables_initializer()
    g2 = tf.Graph()
    with g2.as_default():
        import_graph_def(g.as_graph_def(), name="m")
    assert g2.get_operation_by_name("m/w").type == "VariableV2"
    with tf.Session(graph=g2) as s:
        s.run("m/init")
        s.run("m/step")
        np.testing.assert_allclose(s.run("m/loss:0"), 0.81 * 5, rtol=1e-6)
    assert loss is not None


def test_input_map_and_return_elements():
    g = tf.Graph()
    with g.as_default():
        a = tf.placeholder(tf.float32, [2], name="a")
        tf.multiply(a, 3.0, name="out")
    g2 = tf.Graph()
    with g2.as_default():
        src = tf.constant([1.0, 2.0], name="src")
        out, op = import_graph_def(g.as_graph_def(), input_map={"a:0": src},
                                   return_elements=["out:0", "out"], name="net")
        assert out.name == "net/out:0" and op is out.op
        assert out.op.inputs[0] is src
        with tf.Session() as s:
            np.testing.assert_allclose(s.run(out), [3.0, 6.0])
        with pytest.raises(ValueError, match="not found in graph_def"):
            import_graph_def(g.as_graph_def(), input_map={"nope:0": src})
        with pytest.raises(ValueError, match="not found in graph_def"):
            import_graph_def(g.as_graph_def(), return_elements=["zz:0"])
        with pytest.raises(TypeError):
            import_graph_def(g.as_graph_def(), return_elements="out")
        with pytest.raises(TypeError):
            import_graph_def("not a graph")


def test_import_uniquifies_clashing_names():
    g = _small_graph()
    gd = g.as_graph_def()
    with g.as_default():
        import_graph_def(gd, name="")
    names = [op.name for op in g.get_operations()]
    assert "x_1" in names and "w_1" in names
    assert g.get_operation_by_name("w/Assign_1").inputs[0].op.name == "w_1"
    assert g.get_operation_by_name("uidx_1").inputs[0].name == "u_1:1"


def _gd(text):
    return gdm.parse_graph_def(text, as_text=True)


def test_unknown_op_type_is_not_found():
    gd = _gd('node { name: "a" op: "NoSuchOpXyz" }')
    with pytest.raises(errors.NotFoundError, match="NoSuchOpXyz"):
        import_graph_def(gd)


@pytest.mark.parametrize("text, match", [
    ('node { name: "a" op: "Identity" input: "missing" '
     'attr { key: "T" value { type: DT_FLOAT } } }',
     "Unknown input node"),
    ('node { name: "a" op: "NoOp" } node { name: "a" op: "NoOp" }', "not unique"),
    ('node { name: "a" op: "NoOp" input: "^b" } node { name: "b" op: "NoOp" input: "^a" }',
     "cycle"),
    ('node { name: "c" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } } '
     'attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 3 } } '
     'tensor_content: "\\000\\000" } } } }', "tensor_content"),
    ('node { name: "c" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } } }',
     "value"),
    ('node { name: "c" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } } '
     'attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 1 } } '
     'float_val: 1 float_val: 2 } } } }', "values"),
    ('node { name: "p" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } } '
     'node { name: "i" op: "Identity" input: "p:3" }', "invalid output"),
    ('node { name: "p" op: "Placeholder" attr { key: "dtype" value { type: DT_BFLOAT16 } } }',
     "DT_BFLOAT16"),
    ('node { name: "m" op: "MatMul" }', "inputs"),
])
def test_malformed_graph_defs_raise_value_error(text, match):
    with pytest.raises(ValueError, match=match):
        import_graph_def(_gd(text))


@pytest.mark.parametrize("data", [
    b"\xff\xff\xff", b"\x0a\x10short", b"node { name: ", "node { nme: \"a\" }",
    b"\x0a\x05\x0a\x03ab",  # a NodeDef whose name field overruns
])
def test_unparseable_bytes_and_text_raise_data_loss(data):
    with pytest.raises(errors.DataLossError, match="Can't parse"):
        gdm.parse_graph_def(data)


def test_unparseable_file_names_path(tmp_path):
    p = tmp_path / "broken.pbtxt"
    p.write_text("node { name: \"a\" op: ")
    with pytest.raises(errors.DataLossError, match="broken.pbtxt"):
        read_graph_def(str(p))
    with pytest.raises(errors.NotFoundError):
        read_graph_def(str(tmp_path / "missing.pb"))


def test_import_accepts_serialized_bytes():
    g = _small_graph()
    g2 = tf.Graph()
    with g2.as_default():
        import_graph_def(g.as_graph_def().SerializeToString(), name="")
    assert g2.as_graph_def() == g.as_graph_def()
