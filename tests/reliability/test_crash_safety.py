"""Crash safety (issue 8, item 5): writers killed with SIGKILL at random points.

A worker subprocess (``crash_worker.py``) forks children that resume from what
is on disk and then write in a loop: ``Saver.save`` (4 MB checkpoints,
``max_to_keep=3``), ``tf.train.write_graph`` (text and binary), and
``FileWriter.add_summary`` + ``flush``. Each child is killed with SIGKILL after
a seeded random delay; after every kill the files are checked before the next
child resumes from them:

* Saver: the ``checkpoint`` state file parses; ``latest_checkpoint`` names a
  checkpoint no older than the last completed save and no newer than the one in
  progress; it and every checkpoint the state lists, and every ``*.index``
  under its final name, restores with exactly the values of its step.
* write_graph: each target is absent (before the first completed write) or a
  complete GraphDef equal in content to one version written, never older than
  the last completed write (a truncated protobuf could parse as a shorter
  graph: only the rename makes this hold).
* Events: every event file reads as complete records whose content is exactly
  what was written, then either ends cleanly or raises DataLossError for a
  truncated last record (TF's ``summary_iterator`` raises DataLossError there
  too); across files the steps are 1..n, none lost after a flush returned and
  none duplicated (a resumed writer continues cleanly after a torn tail).

Leftover temporary files are counted (readers never see them). Repetitions:
``GRAPHFLOW_CRASH_KILLS`` per writer (default 24), seed ``GRAPHFLOW_CRASH_SEED``.
"""
import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import graphflow as tf
from graphflow import errors
from graphflow.io import checkpoint as ckpt_io
from graphflow.io import graph_def as graph_io
from graphflow.io.tf_record import read_records

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import crash_worker as cw  # noqa: E402

KILLS = int(os.environ.get("GRAPHFLOW_CRASH_KILLS", "24"))
SEED = int(os.environ.get("GRAPHFLOW_CRASH_SEED", "8"))
# the longest wait, after a child resumed, before it is killed (seconds)
MAX_DELAY = {"saver": 0.30, "saver_overwrite": 0.30, "write_graph": 0.25, "events": 0.12}

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")


class Worker:
    """The crash_worker subprocess and the lines it prints."""

    def __init__(self) -> None:
        env = dict(os.environ)
        root = os.path.abspath(os.path.join(HERE, "..", ".."))
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        # GNU OpenMP (Numba's default layer for the prange kernels of >= 1M elements)
        # aborts a forked child that uses it; the workqueue layer survives fork.
        env["NUMBA_THREADING_LAYER"] = "workqueue"
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "crash_worker.py")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, bufsize=0)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.expect("ready", timeout=600)

    def _read(self) -> None:
        for raw in self.proc.stdout:
            self.lines.put(raw.decode().rstrip("\n"))
        self.lines.put(None)

    def next_line(self, timeout: float) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("crash worker silent for %.0f s" % timeout) from None
        if line is None:
            raise AssertionError("crash worker died: %s" % self.proc.stderr.read().decode())
        if line.startswith("error "):
            raise AssertionError("child failed while resuming/writing: %s"
                                 % json.loads(line[6:]))
        return line

    def expect(self, word: str, timeout: float = 120) -> str:
        line = self.next_line(timeout)
        assert line.split()[0] == word, "expected %r, got %r" % (word, line)
        return line

    def round(self, mode: str, d: str, delay: float) -> dict:
        """Start a child, kill it ``delay`` s after it resumed; what it reported.

        The child's lines and the worker's ``child <pid>`` come from two
        processes: under load the child may report progress before its pid arrives.
        """
        self.proc.stdin.write((json.dumps({"mode": mode, "dir": d}) + "\n").encode())
        self.proc.stdin.flush()
        rep = {"pid": None, "resumed": None, "started": None, "done": None, "last": None}
        killed = False
        while True:
            if not killed and rep["pid"] is not None and rep["resumed"] is not None:
                time.sleep(delay)
                try:
                    os.kill(rep["pid"], signal.SIGKILL)
                except ProcessLookupError:  # it died by itself: next_line reports its error
                    pass
                killed = True
            word, arg = self.next_line(120).split(None, 1)
            if word == "child":
                rep["pid"] = int(arg)
            elif word == "exit":
                pid, status = map(int, arg.split())
                assert killed and pid == rep["pid"], (pid, rep)
                assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, arg
                break
            else:
                assert word in ("resumed", "start", "done"), (word, arg)
                rep[{"resumed": "resumed", "start": "started", "done": "done"}[word]] = int(arg)
                rep["last"] = word
        for key in ("started", "done"):
            if rep[key] is None:
                rep[key] = rep["resumed"]
        return {"resumed": rep["resumed"], "started": rep["started"], "done": rep["done"],
                "mid_operation": rep["last"] == "start"}

    def run_to_exit(self, cmd: dict) -> tuple:
        """Run a child that ends by itself; (its exit code, its last ``done`` or None)."""
        self.proc.stdin.write((json.dumps(cmd) + "\n").encode())
        self.proc.stdin.flush()
        done = None
        while True:
            word, arg = self.next_line(120).split(None, 1)
            if word == "done":
                done = int(arg)
            elif word == "exit":
                status = int(arg.split()[1])
                assert os.WIFEXITED(status), arg
                return os.WEXITSTATUS(status), done

    def close(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def worker():
    w = Worker()
    yield w
    w.close()


def _record(mode, **figures):
    path = os.environ.get("GRAPHFLOW_RELIABILITY_FIGURES")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(dict(test="crash_" + mode, **figures)) + "\n")


def _temps(d):
    return [f for f in os.listdir(d) if ".tmp" in f or f.startswith(".")]


def _kill_loop(worker, mode, d, check):
    """KILLS rounds of (resume, write, SIGKILL, check); returns the figures."""
    rng = random.Random("%s-%d" % (mode, SEED))
    done = started = 0  # the newest operation completed / begun, over all rounds
    resumed_ok = 0
    phases = {}  # where the kills landed (as far as the files tell)
    t0 = time.monotonic()
    for r in range(KILLS):
        # every fourth kill lands early (often during the first operation)
        delay = rng.uniform(0, MAX_DELAY[mode] / (5 if r % 4 == 0 else 1))
        rep = worker.round(mode, d, delay)
        assert rep["resumed"] >= done, "resumed at %d after step %d had completed" % (
            rep["resumed"], done)
        resumed_ok += 1
        done = max(done, rep["done"])
        started = max(started, rep["started"])
        phase = check(started, done, rep)
        if not rep["mid_operation"]:
            phase = "between operations"
        phases[phase] = phases.get(phase, 0) + 1
    figures = dict(kills=KILLS, kill_points=phases, completed_ops=done,
                   resumes_verified=resumed_ok, leftover_temp_files=len(_temps(d)),
                   seconds=round(time.monotonic() - t0, 1), seed=SEED)
    _record(mode, **figures)
    return figures


# --- Saver.save ----------------------------------------------------------------------------------
def test_saver_killed_mid_save_always_leaves_a_restorable_checkpoint(worker, tmp_path):
    d = str(tmp_path / "ckpt")
    g, big, step, set_op, kp, saver = cw.build_saver_graph()
    sess = tf.Session(graph=g)

    seen = {}  # prefix -> identity of its files when last restored

    def restores_as(prefix, cached=False):
        key = tuple((st.st_ino, st.st_size, st.st_mtime_ns) for st in
                    (os.stat(prefix + ".index"), os.stat(prefix + ckpt_io.DATA_SUFFIX)))
        if cached and seen.get(prefix) == key:
            return int(prefix.rsplit("-", 1)[1])
        seen[prefix] = key
        with g.as_default():
            saver.restore(sess, prefix)
        k = int(prefix.rsplit("-", 1)[1])
        assert sess.run(step) == k, prefix
        np.testing.assert_array_equal(sess.run(big), cw.big_value(k))
        return k

    def check(started, done, rep):
        state_path = os.path.join(d, "checkpoint")
        if done == 0 and not os.path.exists(state_path):
            return "first save, before its state file"
        with open(state_path) as f:
            state = ckpt_io.parse_state(f.read())  # strict: raises on a torn file
        latest = tf.train.latest_checkpoint(d)
        assert latest is not None, "no restorable checkpoint after %d saves" % done
        assert os.path.dirname(latest) == d
        k = restores_as(latest)
        assert done <= k <= started, (done, k, started)
        listed = tf.train.get_checkpoint_state(d).all_model_checkpoint_paths
        assert listed[-1] == latest and len(listed) <= 4, state
        for p in listed:
            restores_as(p, cached=True)
        # any index under its final name is a complete checkpoint (or was never renamed)
        for f in os.listdir(d):
            if f.endswith(".index") and f.startswith("model-"):
                restores_as(os.path.join(d, f[:-len(".index")]), cached=True)
        now = rep["started"]
        if k == now:
            return "state file updated (deleting old checkpoints)"
        if os.path.exists(os.path.join(d, "model-%d.index" % now)):
            return "bundle renamed, state file not yet"
        if any(f.startswith("model-%d." % now) and ".tmp" in f for f in os.listdir(d)):
            return "writing the bundle (temporaries present)"
        return "running the save op, no file yet"

    figures = _kill_loop(worker, "saver", d, check)
    sess.close()
    assert figures["completed_ops"] >= KILLS // 2, figures


def test_saver_overwriting_one_prefix_killed_mid_save_keeps_a_checkpoint(worker, tmp_path):
    """``saver.save(sess, "model")`` repeated (no global_step): every save replaces
    the same files, and a kill in any window must still leave one complete
    checkpoint, the old or the new."""
    d = str(tmp_path / "ckpt")
    g, big, step, set_op, kp, saver = cw.build_saver_graph()
    sess = tf.Session(graph=g)

    def check(started, done, rep):
        latest = tf.train.latest_checkpoint(d)
        if done == 0 and latest is None:
            return "first save"
        assert latest == os.path.join(d, "model"), "no restorable checkpoint after %d saves" % done
        with g.as_default():
            saver.restore(sess, latest)
        k = int(sess.run(step))
        assert done <= k <= started, (done, k, started)
        np.testing.assert_array_equal(sess.run(big), cw.big_value(k))
        return "new checkpoint in place" if k == rep["started"] else "old checkpoint in place"

    figures = _kill_loop(worker, "saver_overwrite", d, check)
    sess.close()
    assert figures["completed_ops"] >= KILLS // 2, figures


# --- tf.train.write_graph ------------------------------------------------------------------------
def test_write_graph_killed_midway_never_leaves_a_partial_file(worker, tmp_path):
    d = str(tmp_path / "graphs")
    expected = {}

    def names_of(k):
        if k not in expected:
            expected[k] = [n.name for n in cw.build_graph(k).as_graph_def().node]
        return expected[k]

    def check(started, done, rep):
        versions = []
        for name, as_text in zip(cw.GRAPH_NAMES, (True, False)):
            path = os.path.join(d, name)
            if not os.path.exists(path):
                assert done == 0, "%s missing after %d completed writes" % (name, done)
                continue
            gd = graph_io.read_graph_def(path, as_text=as_text)
            k = cw.graph_version(gd)
            assert done <= k <= started, (name, done, k, started)
            assert [n.name for n in gd.node] == names_of(k), "%s is incomplete" % name
            payload = [n for n in gd.node if n.name == "payload"][0]
            assert len(payload.attr["value"].tensor.tensor_content) == 4 * cw.GRAPH_CONST or \
                len(payload.attr["value"].tensor.float_val) in (1, cw.GRAPH_CONST)
            versions.append(k)
        now = rep["started"]
        if versions == [now, now]:
            return "both files renamed"
        if versions and versions[0] == now:
            return "graph.pbtxt renamed, writing graph.pb"
        return "writing graph.pbtxt"

    figures = _kill_loop(worker, "write_graph", d, check)
    assert figures["completed_ops"] >= KILLS // 2, figures


# --- FileWriter events ---------------------------------------------------------------------------
def _tail_is_truncated_record(path, good_records):
    """After ``good_records`` complete records, what is left is a strict prefix of one."""
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    for _ in range(good_records):
        (length,) = np.frombuffer(data[pos:pos + 8], "<u8")
        pos += 16 + int(length)
    rest = data[pos:]
    if len(rest) < 12:
        return 0 < len(rest)
    (length,) = np.frombuffer(rest[:8], "<u8")
    return len(rest) < 16 + int(length)


def test_event_writer_killed_midway_keeps_complete_records(worker, tmp_path):
    d = str(tmp_path / "logs")
    stats = {"torn_tails_seen": 0}
    verified = {}  # path -> (size, steps): unchanged files are not read again

    def check(started, done, rep):
        steps = []
        for p in cw.event_files(d):
            size = os.path.getsize(p)
            if verified.get(p, (None,))[0] == size:
                steps.extend(verified[p][1])
                continue
            first = len(steps)
            events, err = cw.read_events(p)
            if err is not None:
                assert "truncated" in str(err), "%s: %s" % (p, err)
                assert _tail_is_truncated_record(p, len(events)), \
                    "%s: DataLossError before the last record: %s" % (p, err)
                stats["torn_tails_seen"] += 1
                # the raw reader agrees: complete records, then the same error
                with open(p, "rb") as f, pytest.raises(errors.DataLossError):
                    assert len(list(read_records(f, p))) == len(events)
            if events:
                assert events[0].file_version == "brain.Event:2", p
            for e in events[1:]:
                if e.WhichOneof("what") == "file_version":  # reopened in the same second
                    continue
                assert e.WhichOneof("what") == "summary", e
                assert e.summary == cw.event_summary(e.step), "record of step %d" % e.step
                steps.append(e.step)
            verified[p] = (size, steps[first:])
        assert len(steps) == len(set(steps)), "a step was written twice: %s" % sorted(steps)
        assert sorted(steps) == list(range(1, len(steps) + 1)), "a step is missing"
        assert len(steps) >= done, "flushed steps lost: %d on disk, %d flushed" % (
            len(steps), done)
        assert len(steps) <= started
        return "adding or flushing events"

    figures = _kill_loop(worker, "events", d, check)
    figures.update(stats)
    _record("events_tails", **stats)
    assert figures["completed_ops"] >= KILLS, figures


# --- torn event-file tails, cut at every byte ----------------------------------------------------
@pytest.fixture
def same_second(monkeypatch):
    """FileWriters opened in this test all get the same file name (same second)."""
    import types
    from graphflow.summary import writer as writer_mod
    fixed = float(int(time.time()))
    monkeypatch.setattr(writer_mod, "time", types.SimpleNamespace(
        time=lambda: fixed, monotonic=time.monotonic))


def _write_steps(d, steps):
    from graphflow.summary import FileWriter
    w = FileWriter(d)
    for k in steps:
        w.add_summary(cw.event_summary(k), global_step=k)
    w.close()
    return w.event_writer.path


def _kinds(path):
    events, err = cw.read_events(path)
    return [e.step if e.WhichOneof("what") == "summary" else "v" for e in events], err


def test_writer_reopening_a_torn_file_cuts_the_partial_record(tmp_path, same_second):
    """A file whose last record is cut at any byte (what a writer killed mid-record
    leaves): the reader yields the complete records then DataLossError('truncated');
    a new writer of the same name (same second) cuts the partial record before
    appending, so the file then reads cleanly to the end."""
    d = str(tmp_path / "logs")
    path = _write_steps(d, [1, 2])
    with open(path, "rb") as f:
        full = f.read()
    ends = [0]
    with open(path, "rb") as f:
        for rec in read_records(f, path):
            ends.append(ends[-1] + 16 + len(rec))
    last = ends[-2]
    cuts = sorted(set(range(last + 1, last + 14)) | set(range(last + 14, len(full) - 4, 97))
                  | set(range(len(full) - 4, len(full))))
    for cut in cuts:
        with open(path, "wb") as f:
            f.write(full[:cut])
        kinds, err = _kinds(path)
        assert kinds == ["v", 1] and err is not None and "truncated" in str(err), (cut, err)
        _write_steps(d, [2, 3])
        kinds, err = _kinds(path)
        assert err is None and kinds == ["v", 1, "v", 2, 3], (cut, kinds, err)
    assert len(os.listdir(d)) == 1
    _record("torn_tail_cuts", cuts=len(cuts))


def test_writer_reopening_a_zero_filled_tail_cuts_it(tmp_path, same_second):
    d = str(tmp_path / "logs")
    path = _write_steps(d, [1])
    with open(path, "ab") as f:
        f.write(b"\0" * 5000)  # a write lost by a power failure reads back as zeros
    kinds, err = _kinds(path)
    assert kinds == ["v", 1] and isinstance(err, errors.DataLossError)
    _write_steps(d, [2])
    assert _kinds(path) == (["v", 1, "v", 2], None)


def test_writer_leaves_corrupt_middle_and_live_writers_alone(tmp_path, same_second):
    """Only a torn tail is cut: a bad record followed by good data stays as it is
    (reading raises DataLossError there), and nothing is cut while another
    writer holds the file open (its shared lock)."""
    import fcntl
    d = str(tmp_path / "logs")
    path = _write_steps(d, [1, 2])
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        data[60] ^= 0xFF  # inside the first summary record
        f.seek(0)
        f.write(bytes(data))
    size = os.path.getsize(path)
    _write_steps(d, [3])
    assert os.path.getsize(path) > size
    with open(path, "rb") as f:
        assert bytes(f.read(size)) == bytes(data)
    kinds, err = _kinds(path)
    assert kinds == ["v"] and "corrupted" in str(err)

    path2 = _write_steps(str(tmp_path / "logs2"), [1])
    with open(path2, "ab") as f:
        f.write(b"\x07" * 5)  # a partial header: a live writer between two writes
    size = os.path.getsize(path2)
    with open(path2, "ab") as live:
        fcntl.flock(live.fileno(), fcntl.LOCK_SH)
        _write_steps(str(tmp_path / "logs2"), [2])
    with open(path2, "rb") as f:
        assert f.read()[size - 5:size] == b"\x07" * 5  # not cut


# --- every crash point of a checkpoint write, enumerated ---------------------------------------
@pytest.mark.parametrize("resave", [False, True], ids=["new_prefix", "same_prefix"])
def test_checkpoint_write_dying_before_each_file_step(worker, tmp_path, resave):
    """A child writes checkpoint ``model`` and dies (``os._exit``: no cleanup, as
    SIGKILL) just before its n-th replace / fsync / remove, for every n. The
    prefix then holds exactly the old values (or nothing, for a new prefix) or
    exactly the new ones, and once the new ones are visible, they stay."""
    outcomes = []
    n = 0
    while True:
        n += 1
        d = str(tmp_path / ("n%d" % n))
        os.makedirs(d)
        prefix = os.path.join(d, "model")
        if resave:
            ckpt_io.write_bundle(prefix, {"v": (cw.step_value(1), tf.float64)})
        code, done = worker.run_to_exit({"mode": "steps", "dir": d, "n": n})
        if tf.train.checkpoint_exists(prefix):
            got = ckpt_io.BundleReader(prefix).get_tensor("v")
            k = 2 if np.array_equal(got, cw.step_value(2)) else 1
            np.testing.assert_array_equal(got, cw.step_value(k))
            assert resave or k == 2
        else:
            assert not resave, "crash before step %d lost the old checkpoint" % n
            k = 0
        assert not outcomes or k >= outcomes[-1], "new values disappeared again"
        outcomes.append(k)
        if code == 0:  # finished before reaching step n: every crash point is covered
            assert k == 2 and done == n - 1
            break
        assert code == 9 and n < 50
    _record("bundle_steps_" + ("same_prefix" if resave else "new_prefix"),
            crash_points=len(outcomes), old=outcomes.count(1), none=outcomes.count(0),
            new=outcomes.count(2))


# --- an index must describe its bytes exactly ----------------------------------------------------
@pytest.mark.parametrize("shape", [[2 ** 32, 2 ** 32], [-1, 4], [3], [5, 0, -2], [2 ** 62, 4]])
def test_index_whose_shape_disagrees_with_its_bytes_is_data_loss(tmp_path, shape):
    """A damaged or crafted index (shape not matching the stored byte count, a
    negative dim, a product that would wrap int64) fails at open with
    DataLossError, before any array is allocated."""
    import json as json_mod
    import zlib
    prefix = str(tmp_path / "m")
    ckpt_io.write_bundle(prefix, {"v": (np.arange(4.0), tf.float64)})
    with open(prefix + ".index", "rb") as f:
        body = json_mod.loads(f.read().split(b"\n", 1)[1])
    body["tensors"]["v"]["shape"] = shape
    raw = json_mod.dumps(body, sort_keys=True).encode()
    with open(prefix + ".index", "wb") as f:
        f.write(("graphflow-checkpoint v1 %08x %d\n" % (zlib.crc32(raw), len(raw))).encode()
                + raw)
    with pytest.raises(errors.DataLossError, match="tensor v"):
        ckpt_io.BundleReader(prefix)
