"""FileWriter: TensorBoard event files (``tf.summary.FileWriter``, formats.md §b).

``FileWriter(logdir)`` creates ``logdir/events.out.tfevents.<seconds>.<host><suffix>``
and writes its first record at once (``file_version: "brain.Event:2"``, whole-second
``wall_time``). Later events go through a queue of ``max_queue`` entries to a
background thread that appends them as TFRecords and flushes the file at
least every ``flush_secs`` seconds; ``flush()`` waits until everything queued
is on disk, ``close()`` also stops the thread, ``reopen()`` starts a new file.

Crash safety: each record reaches the file in one ``write`` call, so a killed
writer leaves complete records, at worst followed by one partial record
(readers raise DataLossError there, as TF's do). A writer opening the same
name again (same second) cuts such a partial record off before appending
(``_claim``); ``filename_suffix`` cannot hold path separators.
"""
from __future__ import annotations

import atexit
import logging
import os
import queue
import socket
import threading
import time
import weakref
from typing import Any, Optional

from graphflow.framework import graph as graph_mod
from graphflow.io import proto
from graphflow.io.tf_record import encode_record, scan_tail

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, no tail repair
    fcntl = None  # type: ignore[assignment]

__all__ = ["FileWriter", "FileWriterCache", "EventFileWriter"]

_LOG = logging.getLogger("graphflow")
FILE_VERSION = "brain.Event:2"


def event_file_name(logdir: str, suffix: Optional[str] = None,
                    seconds: Optional[int] = None) -> str:
    """``logdir/events.out.tfevents.<10-digit seconds>.<hostname><suffix>``.

    Raises ValueError when ``suffix`` holds a path separator or NUL: the file
    always lies directly in ``logdir``.
    """
    if suffix and any(c in suffix for c in ("/", "\\", "\0")):
        raise ValueError("filename_suffix must not contain path separators or NUL "
                         "characters: %r" % (suffix,))
    seconds = int(time.time()) if seconds is None else seconds
    return os.path.join(logdir, "events.out.tfevents.%010d.%s%s"
                        % (seconds, socket.gethostname(), suffix or ""))


class _Sentinel:
    pass


_OPEN: "weakref.WeakSet" = weakref.WeakSet()  # writers still open


@atexit.register
def _close_open_writers() -> None:
    """Write what is still queued when the program ends without close()."""
    for w in list(_OPEN):
        try:
            w.close()
        except Exception:  # noqa: BLE001 - nothing to report to at exit
            pass


def _claim(f: Any, path: str) -> None:
    """Prepare the event file ``f`` (opened for appending) for a new writer.

    Reopening a name used within the same second appends to that file. When
    its previous writer died mid-record (SIGKILL, full disk, power loss), the
    file ends in a partial record; records appended after it could never be
    read (readers stop at the DataLossError), so the partial record is cut off
    first. That is done only while no other writer has the file open: each
    writer holds a shared ``flock`` on it, and the cut needs the exclusive lock
    (without ``fcntl``, e.g. on Windows, nothing is cut).
    """
    if fcntl is None:
        return
    fd = f.fileno()
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # another live writer appends to this file: leave it alone
        _share(fd)
        return
    except OSError:  # no locks on this file system (some network mounts): cut nothing
        return
    try:
        with open(path, "rb") as r:
            end, state = scan_tail(r)
        if state == "torn":
            _LOG.warning("%s ends in a partial record (its writer died mid-write); "
                         "cutting %d bytes before appending", path,
                         os.fstat(fd).st_size - end)
            os.ftruncate(fd, end)
        elif state == "corrupt":
            _LOG.warning("%s has a corrupt record at byte %d; appending after it", path, end)
    finally:
        _share(fd)


def _share(fd: int) -> None:
    """Hold a shared lock on the open event file: other writers may append, none cuts."""
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        pass


class EventFileWriter:
    """Writes Event protos to one event file from a background thread."""

    def __init__(self, logdir: str, max_queue: int = 10, flush_secs: float = 120,
                 filename_suffix: Optional[str] = None) -> None:
        self._logdir = str(logdir)
        self._max_queue = max_queue
        self._flush_secs = flush_secs
        self._suffix = filename_suffix
        self._closed = True
        self._open()

    def _open(self) -> None:
        os.makedirs(self._logdir, exist_ok=True)
        seconds = int(time.time())
        self._path = event_file_name(self._logdir, self._suffix, seconds)
        self._file = open(self._path, "ab")
        try:
            _claim(self._file, self._path)
        except BaseException:
            self._file.close()
            raise
        first = proto.Event(wall_time=float(seconds), step=0, file_version=FILE_VERSION)
        self._file.write(encode_record(first.SerializeToString()))
        self._file.flush()
        self._queue: queue.Queue = queue.Queue(self._max_queue)
        self._sentinel = _Sentinel()
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, name="graphflow-event-writer",
                                        daemon=True)
        self._closed = False
        self._thread.start()
        _OPEN.add(self)

    def _run(self) -> None:
        next_flush = time.monotonic() + self._flush_secs
        while True:
            try:
                item = self._queue.get(timeout=max(next_flush - time.monotonic(), 0.01))
            except queue.Empty:
                item = None
            try:
                if item is self._sentinel:
                    return
                if item is not None and self._error is None:
                    self._file.write(encode_record(item))
                if time.monotonic() >= next_flush:
                    if self._error is None:
                        self._file.flush()
                    next_flush = time.monotonic() + self._flush_secs
            except BaseException as e:  # noqa: BLE001 - reported by flush()/close()
                self._error = e
            finally:
                if item is not None:
                    self._queue.task_done()

    def get_logdir(self) -> str:
        return self._logdir

    @property
    def path(self) -> str:
        """The event file being written."""
        return self._path

    def add_event(self, event: Any) -> None:
        """Queue ``event`` (an Event proto or its bytes); blocks while the queue is full."""
        if self._closed:
            return
        data = event if isinstance(event, (bytes, bytearray)) else event.SerializeToString()
        self._queue.put(bytes(data))

    def flush(self) -> None:
        """Block until every queued event is written and flushed to disk."""
        if self._closed:
            return
        self._queue.join()
        self._raise_error()
        self._file.flush()

    def close(self) -> None:
        """Flush, stop the thread and close the file; adding afterwards does nothing."""
        if self._closed:
            return
        self._queue.join()
        self._queue.put(self._sentinel)
        self._thread.join()
        try:
            self._file.flush()
        finally:
            self._file.close()
            self._closed = True
            _OPEN.discard(self)
        self._raise_error()

    def reopen(self) -> None:
        """Start a new event file after ``close()`` (no-op while open).

        Reopened within the same second, the file name is the same and the
        new records are appended after the old ones.
        """
        if self._closed:
            self._open()

    def _raise_error(self) -> None:
        if self._error is not None:
            e, self._error = self._error, None
            raise e


def _bytes_of(msg: Any, cls: type) -> bytes:
    """Serialized bytes of a proto (graphflow's or TF's class) or of bytes."""
    if isinstance(msg, (bytes, bytearray)):
        return bytes(msg)
    ser = getattr(msg, "SerializeToString", None)
    if ser is None:
        raise TypeError("expected a %s protocol buffer or its serialized bytes, got %r"
                        % (cls.__name__, type(msg).__name__))
    return ser()


def _run_metadata_bytes(md: Any) -> bytes:
    """``tf.RunMetadata()`` (attribute bag), a RunMetadata proto or bytes -> bytes."""
    if isinstance(md, (bytes, bytearray)) or hasattr(md, "SerializeToString"):
        return _bytes_of(md, proto.RunMetadata)
    out = proto.RunMetadata()
    stats = getattr(md, "step_stats", None)
    if stats is not None:
        out.step_stats.ParseFromString(_bytes_of(stats, proto.StepStats))
    for g in getattr(md, "partition_graphs", None) or []:
        out.partition_graphs.add().ParseFromString(_bytes_of(g, proto.GraphDef))
    return out.SerializeToString()


class FileWriter:
    """Writes summaries, graphs and run metadata for TensorBoard (``tf.summary.FileWriter``).

    Also available as ``tf.train.SummaryWriter``. Usable as a context manager
    (closes on exit).
    """

    def __init__(self, logdir: str, graph: Any = None, max_queue: int = 10,
                 flush_secs: float = 120, graph_def: Any = None,
                 filename_suffix: Optional[str] = None, session: Any = None) -> None:
        if session is not None:
            raise NotImplementedError("FileWriter(session=...) (tf.contrib summary writers) "
                                      "is not supported")
        self.event_writer = EventFileWriter(logdir, max_queue, flush_secs, filename_suffix)
        self._session_run_tags: dict = {}
        self._seen_summary_tags: set = set()
        if graph is not None or graph_def is not None:
            self.add_graph(graph=graph, graph_def=graph_def)

    def __enter__(self) -> "FileWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def get_logdir(self) -> str:
        """The directory the event file is written to."""
        return self.event_writer.get_logdir()

    def _add_event(self, event: Any, step: Optional[int]) -> None:
        event.wall_time = time.time()
        if step is not None:
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_event(self, event: Any) -> None:
        """Write an Event proto (or its bytes) as it is."""
        self.event_writer.add_event(event)

    def add_summary(self, summary: Any, global_step: Optional[int] = None) -> None:
        """Write a Summary (proto or the serialized bytes a summary op returns).

        Plugin metadata is kept only on the first value of each tag, as TF does.
        """
        s = proto.Summary()
        s.ParseFromString(_bytes_of(summary, proto.Summary))
        for v in s.value:
            if not v.HasField("metadata"):
                continue
            if v.tag in self._seen_summary_tags:
                v.ClearField("metadata")
                continue
            self._seen_summary_tags.add(v.tag)
        event = proto.Event()
        event.summary.CopyFrom(s)
        self._add_event(event, global_step)

    def add_session_log(self, session_log: Any, global_step: Optional[int] = None) -> None:
        """Write a SessionLog (START, STOP, CHECKPOINT)."""
        event = proto.Event()
        event.session_log.ParseFromString(_bytes_of(session_log, proto.SessionLog))
        self._add_event(event, global_step)

    def add_graph(self, graph: Any, global_step: Optional[int] = None,
                  graph_def: Any = None) -> None:
        """Write a Graph (with output shapes) or a GraphDef for TensorBoard's graph view."""
        if graph is not None and graph_def is not None:
            raise ValueError("Please pass only graph, or graph_def (deprecated), but not both.")
        g = graph if graph is not None else graph_def
        if isinstance(g, graph_mod.Graph):
            data = g.as_graph_def(add_shapes=True).SerializeToString(deterministic=True)
        elif type(g).__name__ == "GraphDef" and hasattr(g, "SerializeToString"):
            data = g.SerializeToString()
        else:
            raise TypeError("The passed graph must be an instance of `Graph` or the "
                            "deprecated `GraphDef`")
        event = proto.Event(graph_def=data)
        self._add_event(event, global_step)

    def add_meta_graph(self, meta_graph_def: Any, global_step: Optional[int] = None) -> None:
        """Write a serialized MetaGraphDef (proto or bytes)."""
        event = proto.Event(meta_graph_def=_bytes_of(meta_graph_def, proto.GraphDef))
        self._add_event(event, global_step)

    def add_run_metadata(self, run_metadata: Any, tag: str,
                         global_step: Optional[int] = None) -> None:
        """Write a run's RunMetadata under ``tag`` (each tag once per writer)."""
        if tag in self._session_run_tags:
            raise ValueError("The provided tag was already used for this event type")
        self._session_run_tags[tag] = True
        event = proto.Event()
        event.tagged_run_metadata.tag = tag
        event.tagged_run_metadata.run_metadata = _run_metadata_bytes(run_metadata)
        self._add_event(event, global_step)

    def flush(self) -> None:
        """Write every pending event to disk."""
        self.event_writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        self.event_writer.close()

    def reopen(self) -> None:
        """Open a new event file after ``close()``."""
        self.event_writer.reopen()


class FileWriterCache:
    """One shared FileWriter per log directory (``tf.summary.FileWriterCache``)."""

    _cache: dict = {}
    _lock = threading.RLock()

    @staticmethod
    def get(logdir: str) -> FileWriter:
        """The cached FileWriter for ``logdir`` (created on first use)."""
        with FileWriterCache._lock:
            w = FileWriterCache._cache.get(logdir)
            if w is None:
                w = FileWriterCache._cache[logdir] = FileWriter(
                    logdir, graph=graph_mod.get_default_graph())
            return w

    @staticmethod
    def clear() -> None:
        """Close every cached writer and empty the cache."""
        with FileWriterCache._lock:
            for w in FileWriterCache._cache.values():
                w.close()
            FileWriterCache._cache = {}
