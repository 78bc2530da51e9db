"""tf.train.Saver and checkpoint helpers (spec/training_utils.md §5): round trips,
names, the `checkpoint` state file, max_to_keep, atomic saves under injected
failures, corrupt files -> DataLossError, restore errors, and no pickle/eval."""
import inspect
import json
import os
import pickle
import zlib

import numpy as np
import pytest

import graphflow as tf
from graphflow.io import checkpoint as ckpt_io
from graphflow.ops import io_ops
from graphflow.train import saver as saver_mod


def _vars():
    v = tf.Variable([1.0, 2.0], name="v")
    with tf.variable_scope("sc"):
        u = tf.get_variable("u", [], initializer=tf.constant_initializer(3.0))
    w = tf.Variable(7, name="w")
    return v, u, w


def _files(d):
    return sorted(os.listdir(d))


def test_round_trip_every_dtype(tmp_path):
    values = {
        "f32": np.arange(6, dtype=np.float32).reshape(2, 3) / 7,
        "f64": np.array([np.pi, -np.e, 1e-300]),
        "f16": np.array([0.5, -2.25], dtype=np.float16),
        "i64": np.array([2 ** 40, -3], dtype=np.int64),
        "i32": np.array(-5, dtype=np.int32),
        "u8": np.array([0, 255], dtype=np.uint8),
        "b": np.array([[True], [False]]),
        "c64": np.array([1 + 2j], dtype=np.complex64),
        "s": np.array([b"ab", "c\u00e9".encode(), b"", b"\x00\xff"], dtype=object),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }
    tvars = {k: tf.Variable(a, name=k) for k, a in values.items()}
    saver = tf.train.Saver()
    prefix = os.path.join(str(tmp_path), "model")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert saver.save(sess, prefix) == prefix
    with tf.Session() as sess:  # fresh session: no initializer needed
        saver.restore(sess, prefix)
        for k, a in values.items():
            got = sess.run(tvars[k])
            assert np.asarray(got).dtype == a.dtype, k
            np.testing.assert_array_equal(got, a, err_msg=k)
    reader = tf.train.NewCheckpointReader(prefix)
    assert reader.get_variable_to_shape_map() == {k: list(a.shape) for k, a in values.items()}
    assert reader.get_variable_to_dtype_map()["f16"] == tf.float16
    np.testing.assert_array_equal(reader.get_tensor("s"), values["s"])
    assert reader.has_tensor("f64") and not reader.has_tensor("nope")


def test_graph_names_and_saver_def():
    _vars()
    saver = tf.train.Saver()
    sd = saver.saver_def
    assert sd.filename_tensor_name == "save/Const:0"
    assert sd.save_tensor_name == "save/control_dependency:0"
    assert sd.restore_op_name == "save/restore_all"
    assert (sd.max_to_keep, sd.keep_checkpoint_every_n_hours, sd.version) == (5, 10000.0, 2)
    assert tf.train.SaverDef.V2 == 2
    g = tf.get_default_graph()
    assert g.get_operation_by_name("save/SaveV2").type == "SaveV2"
    assert g.get_operation_by_name("save/RestoreV2").type == "RestoreV2"
    assert g.get_operation_by_name("save/restore_all").type == "NoOp"
    second = tf.train.Saver()
    assert second.saver_def.filename_tensor_name == "save_1/Const:0"
    assert tf.get_collection(tf.GraphKeys.SAVERS) == []  # not added automatically


def test_list_and_dict_var_lists(tmp_path):
    v, u, w = _vars()
    d = str(tmp_path)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        tf.train.Saver([v, u, w]).save(sess, os.path.join(d, "a"))
        tf.train.Saver({"my_v": v, "other": u}).save(sess, os.path.join(d, "b"))
    assert tf.train.list_variables(os.path.join(d, "a")) == [("sc/u", []), ("v", [2]),
                                                              ("w", [])]
    assert tf.train.list_variables(os.path.join(d, "b")) == [("my_v", [2]), ("other", [])]
    np.testing.assert_array_equal(tf.train.load_variable(os.path.join(d, "b"), "my_v"), [1, 2])
    assert tf.train.load_variable(os.path.join(d, "a"), "sc/u:0") == np.float32(3.0)
    tf.reset_default_graph()
    x = tf.Variable([0.0, 0.0], name="x")
    y = tf.Variable(0.0, name="y")
    saver = tf.train.Saver({"my_v": x, "other": y})
    with tf.Session() as sess:
        saver.restore(sess, os.path.join(d, "b"))
        np.testing.assert_array_equal(sess.run(x), [1.0, 2.0])
        assert sess.run(y) == np.float32(3.0)


def test_var_list_errors():
    with pytest.raises(ValueError, match="No variables to save"):
        tf.train.Saver()
    v = tf.Variable(1.0, name="v")
    with pytest.raises(ValueError, match="At least two variables have the same name: v"):
        tf.train.Saver([v, v])
    with pytest.raises(TypeError):
        tf.train.Saver([tf.constant(1.0)])
    with tf.Session() as sess:
        assert tf.train.Saver([], allow_empty=True).save(sess, "/nonexistent/x") is None


def test_default_var_list_is_fixed_at_construction(tmp_path):
    tf.Variable(1.0, name="early")
    saver = tf.train.Saver()
    tf.Variable(2.0, name="late")
    prefix = os.path.join(str(tmp_path), "m")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        saver.save(sess, prefix)
    assert [n for n, _ in tf.train.list_variables(prefix)] == ["early"]


def test_global_step_prefixes_and_state_file(tmp_path):
    v, _, _ = _vars()
    gs = tf.Variable(42, name="global_step", trainable=False)
    d = str(tmp_path)
    saver = tf.train.Saver([v])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert saver.save(sess, os.path.join(d, "model"), global_step=gs) == d + "/model-42"
        assert saver.save(sess, os.path.join(d, "model"), global_step=7) == d + "/model-7"
        assert saver.save(sess, os.path.join(d, "model")) == d + "/model"
        assert saver.save(sess, os.path.join(d, "model"), global_step=8) == d + "/model-8"
    text = open(os.path.join(d, "checkpoint")).read()
    assert text == ('model_checkpoint_path: "%s/model-8"\n'
                    'all_model_checkpoint_paths: "%s/model-42"\n'
                    'all_model_checkpoint_paths: "%s/model-7"\n'
                    'all_model_checkpoint_paths: "%s/model"\n'
                    'all_model_checkpoint_paths: "%s/model-8"\n' % ((d,) * 5))
    assert _files(d) == sorted(["checkpoint"] + [
        "model%s%s" % (s, ext) for s in ("-42", "-7", "", "-8")
        for ext in (".index", ".data-00000-of-00001")])
    assert tf.train.latest_checkpoint(d) == d + "/model-8"
    state = tf.train.get_checkpoint_state(d)
    assert state.model_checkpoint_path == d + "/model-8"
    assert state.all_model_checkpoint_paths == [d + "/model-42", d + "/model-7", d + "/model",
                                                d + "/model-8"]
    assert tf.train.checkpoint_exists(d + "/model-7")
    assert not tf.train.checkpoint_exists(d + "/model-9")


def test_pad_step_number_and_relative_paths(tmp_path):
    v = tf.Variable(1.0, name="v")
    d = str(tmp_path)
    saver = tf.train.Saver([v], pad_step_number=True, save_relative_paths=True)
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert saver.save(sess, os.path.join(d, "m"), global_step=3) == d + "/m-00000003"
    assert open(os.path.join(d, "checkpoint")).read() == (
        'model_checkpoint_path: "m-00000003"\nall_model_checkpoint_paths: "m-00000003"\n')
    assert tf.train.latest_checkpoint(d) == os.path.join(d, "m-00000003")


def test_max_to_keep_deletes_old_files(tmp_path):
    v = tf.Variable(0.0, name="v")
    d = str(tmp_path)
    saver = tf.train.Saver(max_to_keep=2)
    with tf.Session() as sess:
        sess.run(v.initializer)
        for step in range(4):
            sess.run(tf.assign(v, float(step)))
            saver.save(sess, os.path.join(d, "m"), global_step=step)
    assert saver.last_checkpoints == [d + "/m-2", d + "/m-3"]
    assert _files(d) == ["checkpoint", "m-2.data-00000-of-00001", "m-2.index",
                         "m-3.data-00000-of-00001", "m-3.index"]
    assert tf.train.get_checkpoint_state(d).all_model_checkpoint_paths == [d + "/m-2",
                                                                           d + "/m-3"]
    assert tf.train.load_variable(d + "/m-2", "v") == np.float32(2.0)


def test_max_to_keep_none_keeps_all_and_resave_is_not_duplicated(tmp_path):
    v = tf.Variable(0.0, name="v")
    d = str(tmp_path)
    keep_all = tf.train.Saver(max_to_keep=None)
    one = tf.train.Saver(max_to_keep=3)
    with tf.Session() as sess:
        sess.run(v.initializer)
        for step in range(6):
            keep_all.save(sess, os.path.join(d, "all"), global_step=step)
        one.save(sess, os.path.join(d, "x"))
        one.save(sess, os.path.join(d, "x"))
    assert len([f for f in _files(d) if f.startswith("all-") and f.endswith(".index")]) == 6
    assert keep_all.last_checkpoints == []
    assert one.last_checkpoints == [d + "/x"]


def test_keep_checkpoint_every_n_hours(tmp_path, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(saver_mod.time, "time", lambda: clock[0])
    v = tf.Variable(0.0, name="v")
    d = str(tmp_path)
    saver = tf.train.Saver(max_to_keep=1, keep_checkpoint_every_n_hours=1.0)
    with tf.Session() as sess:
        sess.run(v.initializer)
        for step in range(6):  # a save every 40 minutes
            clock[0] += 2400.0
            saver.save(sess, os.path.join(d, "m"), global_step=step)
    kept = sorted(f[:-len(".index")] for f in _files(d) if f.endswith(".index"))
    # saves at t=3400, 5800, ..., 15400; first keep time 1000 + 3600 = 4600. A checkpoint
    # pushed out by max_to_keep survives if it is newer than the keep time, which then
    # advances an hour: m-0 deleted, m-1 kept (next 8200), m-2 (8200) deleted,
    # m-3 kept (next 11800), m-4 (13000) kept (next 15400); m-5 is the newest.
    assert kept == ["m-1", "m-3", "m-4", "m-5"]


def test_restore_by_running_the_restore_op(tmp_path):
    v = tf.Variable([1.0, 2.0], name="v")
    tf.train.Saver()
    prefix = os.path.join(str(tmp_path), "m")
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run("save/control_dependency:0", {"save/Const:0": prefix}) == \
            prefix.encode()
        sess.run(tf.assign(v, [5.0, 5.0]))
        sess.run("save/restore_all", {"save/Const:0": prefix})
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])


def test_save_creates_directories_and_custom_latest_filename(tmp_path):
    v = tf.Variable(1.0, name="v")
    d = os.path.join(str(tmp_path), "a", "b")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(v.initializer)
        saver.save(sess, os.path.join(d, "model"), latest_filename="ckpt_state")
        with pytest.raises(ValueError, match="must not contain path components"):
            saver.save(sess, os.path.join(d, "model"), latest_filename="x/y")
    assert tf.train.latest_checkpoint(d) is None
    assert tf.train.latest_checkpoint(d, "ckpt_state") == os.path.join(d, "model")


def test_save_uninitialized_variable_fails(tmp_path):
    tf.Variable(1.0, name="v")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value v"):
            saver.save(sess, os.path.join(str(tmp_path), "m"))
    assert _files(str(tmp_path)) == []


def test_latest_checkpoint_missing_cases(tmp_path):
    d = str(tmp_path)
    assert tf.train.latest_checkpoint(d) is None
    assert tf.train.get_checkpoint_state(d) is None
    with open(os.path.join(d, "checkpoint"), "w") as f:
        f.write('model_checkpoint_path: "%s/gone"\n' % d)
    assert tf.train.latest_checkpoint(d) is None  # files of the named checkpoint are missing
    with open(os.path.join(d, "checkpoint"), "w") as f:
        f.write("garbage {{{\n")
    assert tf.train.get_checkpoint_state(d) is None


def test_state_file_escapes_and_tf2_timestamps(tmp_path):
    d = str(tmp_path)
    odd = d + '/we"ird\\name\u00e9'
    tf.train.update_checkpoint_state(d, odd, [odd])
    text = open(os.path.join(d, "checkpoint")).read()
    assert '\\"' in text and "\\\\" in text and "\\303\\251" in text
    assert tf.train.get_checkpoint_state(d).model_checkpoint_path == odd
    with open(os.path.join(d, "checkpoint"), "w") as f:  # as TF 2 writes it
        f.write('model_checkpoint_path: "m-1"\nall_model_checkpoint_paths: "m-1"\n'
                "all_model_checkpoint_timestamps: 1700000000.5\n"
                "last_preserved_timestamp: 1699999999.25\n")
    state = tf.train.get_checkpoint_state(d)
    assert state.model_checkpoint_path == os.path.join(d, "m-1")


# --- restore errors --------------------------------------------------------------
@pytest.fixture
def saved(tmp_path):
    v = tf.Variable([1.0, 2.0], name="v")
    saver = tf.train.Saver()
    prefix = os.path.join(str(tmp_path), "m")
    with tf.Session() as sess:
        sess.run(v.initializer)
        saver.save(sess, prefix)
    tf.reset_default_graph()
    return prefix


def _restore(prefix, saver=None):
    saver = saver or tf.train.Saver()
    with tf.Session() as sess:
        saver.restore(sess, prefix)
        return sess.run(tf.global_variables())


def test_restore_not_a_checkpoint(saved):
    tf.Variable([0.0, 0.0], name="v")
    with pytest.raises(ValueError) as e:
        _restore(saved + "-nope")
    assert str(e.value) == "The passed save_path is not a valid checkpoint: " + saved + "-nope"
    with pytest.raises(ValueError, match="save_path when it is None"):
        _restore(None)


def test_restore_missing_variable_names_it(saved):
    tf.Variable([0.0, 0.0], name="v")
    tf.Variable(0.0, name="extra_var")
    with pytest.raises(tf.errors.NotFoundError) as e:
        _restore(saved)
    msg = str(e.value)
    assert msg.startswith("Restoring from checkpoint failed. This is most likely due to a "
                          "Variable name or other graph key that is missing from the "
                          "checkpoint.")
    assert "extra_var" in msg


def test_restore_shape_mismatch(saved):
    tf.Variable([0.0, 0.0, 0.0], name="v")
    with pytest.raises(tf.errors.InvalidArgumentError) as e:
        _restore(saved)
    msg = str(e.value)
    assert msg.startswith("Restoring from checkpoint failed. This is most likely due to a "
                          "mismatch between the current graph and the graph from the "
                          "checkpoint.")
    assert "Assign requires shapes of both tensors to match. lhs shape= [3] rhs shape= [2]" \
        in msg


def test_restore_dtype_mismatch(saved):
    tf.Variable([0, 0], name="v")
    with pytest.raises(tf.errors.InvalidArgumentError) as e:
        _restore(saved)
    assert "tensor_name = v; expected dtype int32 does not equal original dtype float" \
        in str(e.value)


def test_restore_with_reshape(saved):
    v = tf.Variable([[0.0], [0.0]], name="v")
    saver = tf.train.Saver(reshape=True)
    with tf.Session() as sess:
        saver.restore(sess, saved)
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])


# --- corrupt files ---------------------------------------------------------------
def _rewrite(path, fn):
    with open(path, "rb") as f:
        raw = f.read()
    with open(path, "wb") as f:
        f.write(fn(raw))


def _flip(pos):
    def fn(raw):
        b = bytearray(raw)
        b[pos % len(b)] ^= 0x10
        return bytes(b)
    return fn


@pytest.mark.parametrize("suffix,change", [
    (".data-00000-of-00001", lambda raw: raw[:-1]),
    (".data-00000-of-00001", lambda raw: raw + b"\0"),
    (".data-00000-of-00001", lambda raw: b""),
    (".data-00000-of-00001", _flip(0)),
    (".data-00000-of-00001", _flip(-1)),
    (".index", lambda raw: raw[:len(raw) // 2]),
    (".index", lambda raw: raw[:10]),
    (".index", lambda raw: b""),
    (".index", _flip(5)),
    (".index", _flip(30)),
    (".index", _flip(-3)),
], ids=["data-trunc", "data-extra", "data-empty", "data-flip0", "data-flip-last", "index-half",
        "index-10", "index-empty", "index-flip-header", "index-flip-crc", "index-flip-body"])
def test_corrupt_checkpoint_is_data_loss(saved, suffix, change):
    _rewrite(saved + suffix, change)
    tf.Variable([0.0, 0.0], name="v")
    with pytest.raises(tf.errors.DataLossError):
        _restore(saved)
    with pytest.raises(tf.errors.DataLossError):
        tf.train.NewCheckpointReader(saved).get_tensor("v")


def test_every_single_bit_flip_in_data_is_detected(saved):
    path = saved + ".data-00000-of-00001"
    raw = open(path, "rb").read()
    for pos in range(len(raw)):
        for bit in range(8):
            b = bytearray(raw)
            b[pos] ^= 1 << bit
            with open(path, "wb") as f:
                f.write(bytes(b))
            with pytest.raises(tf.errors.DataLossError):
                ckpt_io.BundleReader(saved).get_tensor("v")


def test_missing_data_file_is_data_loss(saved):
    os.remove(saved + ".data-00000-of-00001")
    with pytest.raises(tf.errors.DataLossError):
        tf.train.NewCheckpointReader(saved)


# --- interrupted saves ----------------------------------------------------------------
def _two_saves(tmp_path, monkeypatch, patch):
    """Save step 1 cleanly, then step 2 with ``patch`` applied; return (dir, saver, v)."""
    v = tf.Variable([1.0, 2.0], name="v")
    saver = tf.train.Saver()
    d = str(tmp_path)
    with tf.Session() as sess:
        sess.run(v.initializer)
        saver.save(sess, os.path.join(d, "m"), global_step=1)
        sess.run(tf.assign(v, [8.0, 9.0]))
        patch()
        with pytest.raises((OSError, tf.errors.OpError)):
            saver.save(sess, os.path.join(d, "m"), global_step=2)
    monkeypatch.undo()
    return d, saver, v


def _assert_previous_restorable(d, saver, v):
    latest = tf.train.latest_checkpoint(d)
    assert latest == os.path.join(d, "m-1")
    with tf.Session() as sess:
        saver.restore(sess, latest)
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])
    assert not [f for f in os.listdir(d) if ".tmp" in f]  # temporary files cleaned up


def test_write_failing_midway_keeps_previous_checkpoint(tmp_path, monkeypatch):
    real = ckpt_io._write_chunks

    def half_then_fail(f, chunks):
        for c in chunks:
            f.write(c[:len(c) // 2])
            raise OSError("disk full")
    d, saver, v = _two_saves(tmp_path, monkeypatch,
                             lambda: monkeypatch.setattr(ckpt_io, "_write_chunks",
                                                         half_then_fail))
    assert ckpt_io._write_chunks is real
    assert not tf.train.checkpoint_exists(os.path.join(d, "m-2"))
    _assert_previous_restorable(d, saver, v)


def test_index_rename_failing_keeps_previous_checkpoint(tmp_path, monkeypatch):
    real_replace = os.replace

    def fail_on_index(src, dst):
        if str(dst).endswith(".index"):
            raise OSError("power cut")
        return real_replace(src, dst)
    d, saver, v = _two_saves(tmp_path, monkeypatch,
                             lambda: monkeypatch.setattr(ckpt_io.os, "replace", fail_on_index))
    _assert_previous_restorable(d, saver, v)


@pytest.mark.parametrize("fail_on", [".data-00000-of-00001", ".index"])
def test_resave_same_prefix_never_leaves_a_mismatched_pair(tmp_path, monkeypatch, fail_on):
    """Overwriting one prefix: a failure between the renames leaves either the old
    checkpoint or none, never a checkpoint that latest_checkpoint names but that
    cannot be restored."""
    v = tf.Variable([1.0, 2.0], name="v")
    saver = tf.train.Saver()
    d = str(tmp_path)
    prefix = os.path.join(d, "m")
    real_replace = os.replace

    def fail(src, dst):
        if str(dst).endswith(fail_on):
            raise OSError("crash")
        return real_replace(src, dst)
    with tf.Session() as sess:
        sess.run(v.initializer)
        saver.save(sess, prefix)
        sess.run(tf.assign(v, [8.0, 9.0]))
        monkeypatch.setattr(ckpt_io.os, "replace", fail)
        with pytest.raises(tf.errors.OpError):
            saver.save(sess, prefix)
        monkeypatch.undo()
        latest = tf.train.latest_checkpoint(d)
        if latest is not None:
            assert latest == prefix
            sess.run(tf.assign(v, [0.0, 0.0]))
            saver.restore(sess, latest)
            assert sess.run(v).tolist() in ([1.0, 2.0], [8.0, 9.0])
        # a later successful save repairs the prefix
        sess.run(tf.assign(v, [8.0, 9.0]))  # the restore above may have loaded [1, 2]
        saver.save(sess, prefix)
        sess.run(tf.assign(v, [0.0, 0.0]))
        saver.restore(sess, tf.train.latest_checkpoint(d))
        np.testing.assert_array_equal(sess.run(v), [8.0, 9.0])


def test_fsync_failing_keeps_previous_checkpoint(tmp_path, monkeypatch):
    def fail(fd):
        raise OSError("I/O error")
    d, saver, v = _two_saves(tmp_path, monkeypatch,
                             lambda: monkeypatch.setattr(ckpt_io.os, "fsync", fail))
    _assert_previous_restorable(d, saver, v)


def test_state_file_write_failing_keeps_old_state(tmp_path, monkeypatch):
    calls = []
    real = ckpt_io._write_chunks

    def fail_on_state(f, chunks):
        chunks = list(chunks)
        calls.append(chunks[0][:21])
        if chunks[0].startswith(b"model_checkpoint_path"):
            f.write(chunks[0][:5])
            raise OSError("killed")
        return real(f, chunks)
    d, saver, v = _two_saves(tmp_path, monkeypatch,
                             lambda: monkeypatch.setattr(ckpt_io, "_write_chunks",
                                                         fail_on_state))
    assert b"model_checkpoint_path" in calls
    assert tf.train.checkpoint_exists(os.path.join(d, "m-2"))  # complete, just not recorded
    _assert_previous_restorable(d, saver, v)


# --- no code execution on load ------------------------------------------------------------
def test_no_pickle_or_eval_in_checkpoint_code():
    for mod in (ckpt_io, saver_mod, io_ops):
        src = inspect.getsource(mod)
        for bad in ("import pickle", "pickle.", "eval(", "exec(", "marshal", "allow_pickle",
                    "np.load(", "__import__"):
            assert bad not in src, (mod.__name__, bad)


def test_restore_never_unpickles(saved, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("pickle used")
    monkeypatch.setattr(pickle, "loads", boom)
    monkeypatch.setattr(pickle, "load", boom)
    tf.Variable([0.0, 0.0], name="v")
    np.testing.assert_array_equal(_restore(saved)[0], [1.0, 2.0])


def test_index_is_json_with_checksums(saved):
    raw = open(saved + ".index", "rb").read()
    header, body = raw.split(b"\n", 1)
    magic, version, crc, length = header.decode().split()
    assert (magic, version) == ("graphflow-checkpoint", "v1")
    assert int(crc, 16) == zlib.crc32(body) and int(length) == len(body)
    meta = json.loads(body)
    entry = meta["tensors"]["v"]
    assert entry["dtype"] == "float32" and entry["shape"] == [2]
    data = open(saved + ".data-00000-of-00001", "rb").read()
    assert meta["data_size"] == len(data)
    chunk = data[entry["offset"]:entry["offset"] + entry["size"]]
    assert zlib.crc32(chunk) == entry["crc32"]
    np.testing.assert_array_equal(np.frombuffer(chunk, "<f4"), [1.0, 2.0])


def test_crafted_index_with_wrong_types_is_data_loss(saved):
    body = json.dumps({"data_file": "x", "data_size": "__import__('os')",
                       "tensors": {"v": {"dtype": "float32"}}}).encode()
    header = ("graphflow-checkpoint v1 %08x %d\n" % (zlib.crc32(body), len(body))).encode()
    with open(saved + ".index", "wb") as f:
        f.write(header + body)
    with pytest.raises(tf.errors.DataLossError):
        tf.train.NewCheckpointReader(saved)
