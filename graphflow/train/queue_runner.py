"""``tf.train.QueueRunner``: threads that keep running enqueue ops.

Each enqueue op gets a thread that runs it in a loop until the coordinator
stops or the queue reports it is closed (``queue_closed_exception_types``,
default OutOfRangeError, e.g. the epoch limit of ``limit_epochs``); the last
such thread runs ``close_op``. Other exceptions are reported to the
coordinator. With a coordinator, one more thread waits for the stop request
and runs ``cancel_op`` (close with ``cancel_pending_enqueues=True``) so that
threads blocked on a full queue end.

Closing the session ends the threads too: their blocked ops raise
CancelledError, and an error raised because the session closed counts as a
clean end (TF logs it as an error instead).
"""
from __future__ import annotations

import logging
import threading
import weakref
from typing import Any, Optional

from graphflow import errors
from graphflow.framework import graph as graph_mod
from graphflow.framework.graph import GraphKeys
from graphflow.runtime.session import get_default_session

__all__ = ["QueueRunner", "add_queue_runner", "start_queue_runners"]

_log = logging.getLogger("graphflow")
_POLL_SECS = 0.05  # how often the close-on-stop thread checks for a closed session


def _session_closed(sess: Any) -> bool:
    return bool(getattr(sess, "_closed", False))


class QueueRunner:
    """Holds a queue's enqueue ops and runs each in its own thread (``tf.train.QueueRunner``)."""

    def __init__(self, queue: Any = None, enqueue_ops: Optional[list] = None,
                 close_op: Any = None, cancel_op: Any = None,
                 queue_closed_exception_types: Optional[tuple] = None,
                 queue_runner_def: Any = None, import_scope: Optional[str] = None) -> None:
        if queue_runner_def is not None:
            raise ValueError("queue_runner_def (a serialized QueueRunnerDef) is not supported; "
                             "pass queue and enqueue_ops")
        if not queue or not enqueue_ops:
            raise ValueError("Must provide queue and enqueue_ops.")
        self._queue = queue
        self._enqueue_ops = list(enqueue_ops)
        self._close_op = close_op if close_op is not None else queue.close()
        self._cancel_op = cancel_op if cancel_op is not None else queue.close(
            cancel_pending_enqueues=True)
        if queue_closed_exception_types is None:
            queue_closed_exception_types = (errors.OutOfRangeError,)
        else:
            queue_closed_exception_types = tuple(queue_closed_exception_types)
            if not queue_closed_exception_types or not all(
                    isinstance(t, type) and issubclass(t, errors.OpError)
                    for t in queue_closed_exception_types):
                raise TypeError("queue_closed_exception_types, when provided, must be a tuple "
                                "of tf.error types, but saw: %s" % (queue_closed_exception_types,))
        self._queue_closed_exception_types = queue_closed_exception_types
        self._lock = threading.Lock()
        self._runs_per_session: Any = weakref.WeakKeyDictionary()
        self._exceptions_raised: list = []

    @property
    def queue(self) -> Any:
        """The queue the runner fills."""
        return self._queue

    @property
    def enqueue_ops(self) -> list:
        """The enqueue ops; one thread runs each."""
        return self._enqueue_ops

    @property
    def close_op(self) -> Any:
        """The op that closes the queue when the threads finish."""
        return self._close_op

    @property
    def cancel_op(self) -> Any:
        """The op that closes the queue and cancels pending enqueues."""
        return self._cancel_op

    @property
    def queue_closed_exception_types(self) -> tuple:
        """Errors that end a thread quietly (default ``OutOfRangeError``)."""
        return self._queue_closed_exception_types

    @property
    def exceptions_raised(self) -> list:
        """Exceptions the threads raised when there was no coordinator to report to."""
        return self._exceptions_raised

    @property
    def name(self) -> str:
        """The queue's name."""
        return self._queue.name

    def _finish(self, sess: Any) -> bool:
        """Count one thread of ``sess`` as finished; True for the last one."""
        with self._lock:
            self._runs_per_session[sess] -= 1
            return self._runs_per_session[sess] == 0

    def _run(self, sess: Any, enqueue_op: Any, coord: Any) -> None:
        """Thread body: run ``enqueue_op`` until stopped or the queue closes."""
        counted = False
        try:
            run = sess.make_callable(enqueue_op)
            while not (coord is not None and coord.should_stop()):
                try:
                    run()
                except self._queue_closed_exception_types:
                    counted = True
                    if self._finish(sess):
                        try:
                            sess.run(self._close_op)
                        except Exception as e:  # noqa: BLE001 - TF ignores close errors
                            _log.debug("Ignored exception closing the queue: %s", e)
                    return
        except Exception as e:  # noqa: BLE001 - every failure goes to the coordinator
            if _session_closed(sess):
                return  # the session was closed under the thread: a clean end
            if coord is not None:
                coord.request_stop(e)
            else:
                _log.error("Exception in QueueRunner: %s", e)
                with self._lock:
                    self._exceptions_raised.append(e)
                raise
        finally:
            if not counted:
                self._finish(sess)

    def _close_on_stop(self, sess: Any, cancel_op: Any, coord: Any) -> None:
        """Thread body: once the coordinator stops, cancel pending enqueues."""
        while not coord.wait_for_stop(_POLL_SECS):
            if _session_closed(sess):
                return
        try:
            sess.run(cancel_op)
        except Exception as e:  # noqa: BLE001 - TF ignores errors of the cancel op
            _log.debug("Ignored exception cancelling the queue: %s", e)

    def create_threads(self, sess: Any, coord: Any = None, daemon: bool = False,
                       start: bool = False) -> list:
        """Threads running the enqueue ops in ``sess`` (plus a cancel thread with ``coord``).

        Returns [] when threads for ``sess`` are still running. Threads are
        registered with ``coord``; ``start=True`` starts them.
        """
        with self._lock:
            if self._runs_per_session.get(sess, 0) > 0:
                return []
            self._runs_per_session[sess] = len(self._enqueue_ops)
            self._exceptions_raised = []
        threads = [threading.Thread(target=self._run, args=(sess, op, coord),
                                    name="QueueRunnerThread-%s-%s" % (self.name, op.name))
                   for op in self._enqueue_ops]
        if coord is not None:
            threads.append(threading.Thread(
                target=self._close_on_stop, args=(sess, self._cancel_op, coord),
                name="QueueRunnerThread-%s-close_on_stop" % self.name))
        for t in threads:
            if coord is not None:
                coord.register_thread(t)
            if daemon:
                t.daemon = True
            if start:
                t.start()
        return threads


def add_queue_runner(qr: QueueRunner, collection: str = GraphKeys.QUEUE_RUNNERS) -> None:
    """Add ``qr`` to the graph collection ``collection`` (``tf.train.add_queue_runner``)."""
    graph_mod.add_to_collection(collection, qr)


def start_queue_runners(sess: Any = None, coord: Any = None, daemon: bool = True,
                        start: bool = True, collection: str = GraphKeys.QUEUE_RUNNERS) -> list:
    """Start the threads of every QueueRunner in ``collection`` of the session's graph
    (``tf.train.start_queue_runners``); returns the threads."""
    if sess is None:
        sess = get_default_session()
        if sess is None:
            raise ValueError("Cannot start queue runners: No default session is registered. "
                             "Use `with sess.as_default()` or pass an explicit session to "
                             "tf.start_queue_runners(sess=sess)")
    with sess.graph.as_default():
        threads = []
        for qr in sess.graph.get_collection(collection):
            threads.extend(qr.create_threads(sess, coord=coord, daemon=daemon, start=start))
    return threads
