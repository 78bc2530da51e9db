"""File names built from user input stay inside the log / checkpoint directory
(issue 8, item 6, the writers' part): FileWriter ``filename_suffix``,
``write_graph`` names, Saver save paths with ``..``, ``meta_graph_suffix``, and
``checkpoint`` state files whose entries point elsewhere (a crafted or moved
state file must neither be restored from nor have files deleted outside)."""
import os

import numpy as np
import pytest

import graphflow as tf
from graphflow.io import checkpoint as ckpt_io
from graphflow.io import graph_def as graph_io
from graphflow.summary import FileWriter, summary_iterator


def _files_under(root):
    return sorted(os.path.relpath(os.path.join(dp, f), root)
                  for dp, _, fs in os.walk(root) for f in fs)


def _outside(root, inside):
    inside = os.path.realpath(inside) + os.sep
    return [f for f in _files_under(root)
            if not os.path.realpath(os.path.join(root, f)).startswith(inside)]


# --- FileWriter filename_suffix ------------------------------------------------------------------
@pytest.mark.parametrize("suffix", ["/../../escaped", "/../escaped", "/x", "\\..\\x", "a\0b",
                                    "../escaped"])
def test_filename_suffix_with_path_parts_is_rejected(tmp_path, suffix):
    logdir = tmp_path / "logs"
    os.makedirs(logdir / ("events.out.tfevents.1.host"), exist_ok=True)  # bait directory
    with pytest.raises(ValueError, match="filename_suffix"):
        FileWriter(str(logdir), filename_suffix=suffix)
    assert _outside(tmp_path, logdir) == []
    assert _files_under(logdir) == []


def test_plain_suffixes_still_work(tmp_path):
    for suffix in (".v2", "..", ".train.profile-empty", "-worker_0"):
        w = FileWriter(str(tmp_path), filename_suffix=suffix)
        w.close()
        assert os.path.dirname(w.event_writer.path) == str(tmp_path)
        assert w.event_writer.path.endswith(suffix)
        assert next(iter(summary_iterator(w.event_writer.path))).file_version


# --- write_graph ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../escaped.pbtxt", "sub/../../escaped.pb", "/abs.pbtxt",
                                  "", ".", "sub/..", "a\0b"])
def test_write_graph_name_must_stay_inside_logdir(tmp_path, name):
    logdir = tmp_path / "logs"
    if name == "/abs.pbtxt":
        name = str(tmp_path / "abs.pbtxt")
    with pytest.raises(ValueError, match="inside logdir"):
        graph_io.write_graph(tf.Graph(), str(logdir), name)
    assert _outside(tmp_path, logdir) == []


def test_write_graph_names_inside_logdir_work(tmp_path):
    g = tf.Graph()
    with g.as_default():
        tf.constant(1.0, name="c")
    for name in ("g.pbtxt", "sub/g.pb", "sub/../g2.pbtxt", "./g3.pb"):
        path = tf.train.write_graph(g, str(tmp_path), name, as_text=name.endswith("txt"))
        assert ckpt_io.path_inside(path, str(tmp_path))
        gd = graph_io.read_graph_def(path)
        assert [n.name for n in gd.node] == ["c"]
    assert not [f for f in _files_under(tmp_path) if ".tmp" in f]


# --- Saver ---------------------------------------------------------------------------------------
def _saver_setup():
    v = tf.Variable(np.arange(3.0), name="v")
    return v, tf.train.Saver(max_to_keep=1)


def test_save_path_with_dotdot_keeps_every_file_in_its_directory(tmp_path):
    """save_path ``logs/sub/../model``: the bundle and the state file land in
    ``logs`` (the directory the path names), nothing elsewhere."""
    v, saver = _saver_setup()
    logs = tmp_path / "logs"
    with tf.Session() as sess:
        sess.run(v.initializer)
        for step in (1, 2):
            path = saver.save(sess, str(logs / "sub" / ".." / "model"), global_step=step)
    assert _outside(tmp_path, logs) == []
    files = _files_under(logs)
    assert files == ["checkpoint", "model-2.data-00000-of-00001", "model-2.index"], files
    latest = tf.train.latest_checkpoint(str(logs))
    assert os.path.realpath(latest) == os.path.realpath(path)


def test_meta_graph_suffix_with_path_parts_is_rejected(tmp_path):
    v, saver = _saver_setup()
    with tf.Session() as sess:
        sess.run(v.initializer)
        for bad in ("/../../x", "meta/../../x", "a\0b"):
            with pytest.raises(ValueError, match="meta_graph_suffix"):
                saver.save(sess, str(tmp_path / "logs" / "model"), meta_graph_suffix=bad)
    assert _files_under(tmp_path) == []


def _bait(tmp_path):
    """A real checkpoint outside the checkpoint directory: what a crafted state
    file would make graphflow read or delete."""
    out = tmp_path / "outside"
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable([7.0, 7.0, 7.0], dtype=tf.float64, name="v")
        with tf.Session() as sess:
            sess.run(v.initializer)
            for step in (1, 2):
                tf.train.Saver().save(sess, str(out / "model"), global_step=step,
                                      write_state=False)
    return sorted(_files_under(out)), out


def test_state_file_entries_outside_the_directory_are_confined(tmp_path):
    before, out = _bait(tmp_path)
    logs = tmp_path / "logs"
    os.makedirs(logs)
    with open(logs / "checkpoint", "w") as f:
        f.write('model_checkpoint_path: "../outside/model-2"\n'
                'all_model_checkpoint_paths: "%s"\n'
                'all_model_checkpoint_paths: "sub/../../outside/model-1"\n'
                'all_model_checkpoint_paths: "../outside/model-2"\n' % (out / "model-1"))
    state = tf.train.get_checkpoint_state(str(logs))
    for p in [state.model_checkpoint_path] + state.all_model_checkpoint_paths:
        assert ckpt_io.path_inside(p, str(logs)), p
    assert state.model_checkpoint_path == os.path.join(str(logs), "model-2")
    assert tf.train.latest_checkpoint(str(logs)) is None  # not the bait
    with pytest.raises(ValueError):
        tf.train.load_checkpoint(str(logs))

    # a Saver adopting the listed checkpoints (as MonitoredSession / Supervisor do)
    # and rotating them out with max_to_keep=1 deletes nothing outside
    v, saver = _saver_setup()
    saver.recover_last_checkpoints(state.all_model_checkpoint_paths)
    saver.set_last_checkpoints(list(state.all_model_checkpoint_paths))
    with tf.Session() as sess:
        sess.run(v.initializer)
        for step in (3, 4, 5):
            saver.save(sess, str(logs / "model"), global_step=step)
    assert sorted(_files_under(out)) == before
    assert tf.train.latest_checkpoint(str(logs)) == str(logs / "model-5")


def test_moved_directory_with_absolute_entries_still_resolves(tmp_path):
    """The confinement also covers a checkpoint directory copied elsewhere: its
    state file's absolute paths name the old place; the same names here are used."""
    v, saver = _saver_setup()
    old = tmp_path / "old"
    with tf.Session() as sess:
        sess.run(v.initializer)
        saver.save(sess, str(old / "model"), global_step=9)
    new = tmp_path / "new"
    os.rename(old, new)
    assert str(old) in open(new / "checkpoint").read()
    assert tf.train.latest_checkpoint(str(new)) == str(new / "model-9")
    with tf.Session() as sess:
        saver.restore(sess, tf.train.latest_checkpoint(str(new)))
        np.testing.assert_array_equal(sess.run(v), np.arange(3.0))


def test_leftover_temporaries_of_a_rotated_out_checkpoint_are_removed(tmp_path):
    """A save killed mid-write leaves ``<prefix>.index.tmp*`` / ``.data-*.tmp*``;
    readers never match them, and when that prefix is deleted (max_to_keep) they
    go too, so crashes do not accumulate 4 MB temp files forever."""
    v, saver = _saver_setup()
    logs = tmp_path / "logs"
    with tf.Session() as sess:
        sess.run(v.initializer)
        saver.save(sess, str(logs / "model"), global_step=1)
        for junk in ("model-1.index.tmpab12cd34", "model-1.data-00000-of-00001.tmpzz"):
            with open(logs / junk, "wb") as f:
                f.write(b"partial")
        assert tf.train.latest_checkpoint(str(logs)) == str(logs / "model-1")
        saver.restore(sess, str(logs / "model-1"))
        saver.save(sess, str(logs / "model"), global_step=2)
    assert _files_under(logs) == ["checkpoint", "model-2.data-00000-of-00001",
                                  "model-2.index"]
