"""FileWriter and summary_iterator: file names, record order and contents as
spec formats.md §b describes, the background thread, and damaged files."""
import os
import re
import socket
import time

import numpy as np
import pytest

import graphflow as tf
from graphflow import errors, summary
from graphflow.io import proto
from graphflow.io.tf_record import encode_record
from graphflow.summary import FileWriter, SessionLog, summary_iterator


def _events(logdir):
    files = sorted(os.listdir(logdir))
    assert len(files) == 1, files
    return list(summary_iterator(os.path.join(logdir, files[0])))


def _scalar(tag, value):
    s = proto.Summary()
    s.value.add(tag=tag, simple_value=value)
    return s


def test_file_name_and_first_record(tmp_path):
    before = int(time.time())
    w = FileWriter(str(tmp_path), filename_suffix=".v2")
    name = os.listdir(tmp_path)[0]
    m = re.fullmatch(r"events\.out\.tfevents\.(\d{10})\.(.+)\.v2", name)
    assert m and m.group(2) == socket.gethostname()
    assert before <= int(m.group(1)) <= int(time.time())
    first = _events(str(tmp_path))  # written at construction, before any flush
    assert len(first) == 1
    assert first[0].file_version == "brain.Event:2" and first[0].step == 0
    assert first[0].wall_time == int(m.group(1))
    assert w.get_logdir() == str(tmp_path)
    w.close()


def test_spec_sequence_of_records(tmp_path):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [4], name="x")
        summary.scalar("loss", tf.reduce_sum(x))
        summary.histogram("hist", x)
        merged = summary.merge_all()
    md = tf.RunMetadata()
    with tf.Session(graph=g) as s:
        out = s.run(merged, {x: [1, 2, 2, 4]},
                    options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                    run_metadata=md)
    with FileWriter(str(tmp_path / "run"), graph=g) as w:
        w.add_summary(out, global_step=7)
        w.add_run_metadata(md, "step7", 7)
        w.add_session_log(SessionLog(status=SessionLog.START), 8)
    ev = _events(str(tmp_path / "run"))
    kinds = [(e.step, e.WhichOneof("what")) for e in ev]
    assert kinds == [(0, "file_version"), (0, "graph_def"), (7, "summary"),
                     (7, "tagged_run_metadata"), (8, "session_log")]
    gd = proto.GraphDef.FromString(ev[1].graph_def)
    assert {n.name for n in gd.node} == {op.name for op in g.get_operations()}
    assert all("_output_shapes" in n.attr for n in gd.node)
    assert [(v.tag, v.WhichOneof("value")) for v in ev[2].summary.value] == [
        ("loss", "simple_value"), ("hist", "histo")]
    assert ev[2].summary.value[0].simple_value == 9.0
    rm = proto.RunMetadata.FromString(ev[3].tagged_run_metadata.run_metadata)
    assert ev[3].tagged_run_metadata.tag == "step7"
    assert {n.node_name for n in rm.step_stats.dev_stats[0].node_stats} >= {"loss", "hist"}
    assert ev[4].session_log.status == SessionLog.START
    assert all(e.wall_time > 1e9 for e in ev)


def test_add_summary_accepts_proto_or_bytes_and_dedups_metadata(tmp_path):
    w = FileWriter(str(tmp_path))
    s = proto.Summary()
    v = s.value.add(tag="t")
    v.metadata.plugin_data.plugin_name = "text"
    v.tensor.dtype = tf.string.as_datatype_enum
    w.add_summary(s, 1)
    w.add_summary(s.SerializeToString(), 2)
    w.add_summary(_scalar("x", 1.5))
    w.close()
    ev = _events(str(tmp_path))[1:]
    assert [e.step for e in ev] == [1, 2, 0]
    assert ev[0].summary.value[0].HasField("metadata")
    assert not ev[1].summary.value[0].HasField("metadata")
    assert ev[2].summary.value[0].simple_value == 1.5


def test_add_graph_forms_and_errors(tmp_path):
    g = tf.Graph()
    with g.as_default():
        tf.constant(1.0, name="c")
    w = FileWriter(str(tmp_path))
    w.add_graph(g.as_graph_def(), global_step=3)
    w.add_graph(g)
    with pytest.raises(ValueError, match="not both"):
        w.add_graph(g, graph_def=g.as_graph_def())
    with pytest.raises(TypeError, match="Graph"):
        w.add_graph("graph")
    w.add_event(proto.Event(step=9, file_version="x"))
    w.close()
    ev = _events(str(tmp_path))
    assert [e.WhichOneof("what") for e in ev] == ["file_version", "graph_def", "graph_def",
                                                  "file_version"]
    assert ev[1].step == 3 and ev[3].step == 9


def test_run_metadata_tag_used_once(tmp_path):
    w = FileWriter(str(tmp_path))
    w.add_run_metadata(proto.RunMetadata(), "a")
    with pytest.raises(ValueError, match="already used"):
        w.add_run_metadata(proto.RunMetadata(), "a")
    w.close()


def test_flush_close_reopen(tmp_path):
    w = FileWriter(str(tmp_path), flush_secs=1000)
    w.add_summary(_scalar("a", 1.0), 1)
    w.flush()
    assert len(_events(str(tmp_path))) == 2
    w.close()
    w.add_summary(_scalar("a", 2.0), 2)  # ignored while closed, as in TF
    w.close()  # idempotent
    assert len(_events(str(tmp_path))) == 2
    time.sleep(1.1)  # the new file gets a new timestamp
    w.reopen()
    w.add_summary(_scalar("a", 3.0), 3)
    w.close()
    files = sorted(os.listdir(tmp_path))
    assert len(files) == 2
    last = list(summary_iterator(os.path.join(str(tmp_path), files[1])))
    assert [e.step for e in last] == [0, 3]


def test_background_thread_flushes_after_flush_secs(tmp_path):
    w = FileWriter(str(tmp_path), flush_secs=0.2)
    w.add_summary(_scalar("a", 1.0), 1)
    deadline = time.time() + 5
    while len(_events(str(tmp_path))) < 2 and time.time() < deadline:
        time.sleep(0.05)
    assert len(_events(str(tmp_path))) == 2  # no flush() call
    w.close()


def test_small_queue_keeps_every_event_in_order(tmp_path):
    w = FileWriter(str(tmp_path), max_queue=1)
    for i in range(50):
        w.add_summary(_scalar("a", float(i)), i)
    w.close()
    ev = _events(str(tmp_path))[1:]
    assert [e.step for e in ev] == list(range(50))
    assert [e.summary.value[0].simple_value for e in ev] == [float(i) for i in range(50)]


def test_summary_iterator_on_damaged_files(tmp_path):
    good = encode_record(proto.Event(step=1, file_version="brain.Event:2").SerializeToString())
    cases = {
        "truncated": good[:-3],
        "bad-crc": good[:-1] + bytes([good[-1] ^ 0x55]),
        "bad-length-crc": good[:9] + bytes([good[9] ^ 1]) + good[10:],
        "not-an-event": encode_record(b"\xff\xff\xff"),
    }
    for name, data in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        with pytest.raises(errors.DataLossError):
            list(summary_iterator(str(p)))
    p = tmp_path / "ok"
    p.write_bytes(good * 2)
    assert [e.step for e in summary_iterator(str(p))] == [1, 1]


def test_histogram_values_survive(tmp_path):
    vals = np.random.default_rng(2).normal(size=100).astype(np.float32)
    x = tf.constant(vals)
    h = summary.histogram("h", x)
    with tf.Session() as s:
        out = s.run(h)
    with FileWriter(str(tmp_path)) as w:
        w.add_summary(out, 5)
    histo = _events(str(tmp_path))[1].summary.value[0].histo
    assert histo.num == 100 and sum(histo.bucket) == 100
    assert histo.min == float(vals.min()) and histo.max == float(vals.max())


def test_unclosed_writer_is_flushed_at_exit(tmp_path):
    import subprocess
    import sys
    code = ("from graphflow.summary import FileWriter\n"
            "from graphflow.io import proto\n"
            "w = FileWriter(%r, flush_secs=1000)\n"
            "s = proto.Summary(); s.value.add(tag='a', simple_value=1.0)\n"
            "w.add_summary(s, 5)\n" % str(tmp_path))
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    env = dict(os.environ, PYTHONPATH=os.path.abspath(root))
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)
    assert [e.step for e in _events(str(tmp_path))] == [0, 5]
