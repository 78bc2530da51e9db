"""``tf.train.Coordinator``: stop a set of threads together, and report why.

Any thread may call ``request_stop()`` (optionally with the exception that
made it stop); the others see ``should_stop()`` turn True and return. The
main thread then calls ``join()``, which waits for the threads, gives them a
grace period once a stop was requested, and re-raises the first exception
reported (OutOfRangeError counts as a clean stop, as in TF). ``LooperThread``
runs a function repeatedly until the coordinator stops.
"""
from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from typing import Any, Callable, Iterable, Iterator, Optional

from graphflow import errors

__all__ = ["Coordinator", "LooperThread"]

_log = logging.getLogger("graphflow")


class Coordinator:
    """A coordinator for threads (same as ``tf.train.Coordinator``)."""

    def __init__(self, clean_stop_exception_types: Optional[Iterable[type]] = None) -> None:
        if clean_stop_exception_types is None:
            clean_stop_exception_types = (errors.OutOfRangeError,)
        self._clean_stop_exception_types = tuple(clean_stop_exception_types)
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._exc_info_to_raise: Optional[tuple] = None
        self._joined = False
        self._registered_threads: set = set()

    def _exc_info(self, ex: Any) -> Optional[tuple]:
        """``ex`` as an exc_info triple, or None for a clean stop."""
        if ex is None:
            return None
        if isinstance(ex, tuple):
            if len(ex) != 3 or ex[1] is None:
                raise ValueError("ex must be a tuple or sys.exc_info must return the current "
                                 "exception: %s" % (ex,))
            info = ex
        elif isinstance(ex, BaseException):
            info = (type(ex), ex, ex.__traceback__)
        else:
            raise TypeError("ex must be an exception or an exc_info tuple, got %r" % (ex,))
        if isinstance(info[1], self._clean_stop_exception_types):
            return None
        return info

    def request_stop(self, ex: Any = None) -> None:
        """Ask every thread to stop; the first non-clean exception is kept for ``join``.

        After ``join`` has run, an exception passed here is raised at once (it
        would otherwise never be reported).
        """
        with self._lock:
            info = self._exc_info(ex)
            if self._joined and info is not None:
                raise info[1].with_traceback(info[2])
            if not self._stop_event.is_set():
                if info is not None and self._exc_info_to_raise is None:
                    _log.info("Error reported to Coordinator: %s: %s",
                              info[0].__name__, info[1])
                    self._exc_info_to_raise = info
                self._stop_event.set()

    def clear_stop(self) -> None:
        """Forget the stop request and its exception, so the coordinator can be reused."""
        with self._lock:
            self._joined = False
            self._exc_info_to_raise = None
            if self._stop_event.is_set():
                self._stop_event.clear()

    def should_stop(self) -> bool:
        """True once a stop was requested."""
        return self._stop_event.is_set()

    @contextlib.contextmanager
    def stop_on_exception(self) -> Iterator[None]:
        """Context manager: an exception in the block requests a stop (and is swallowed)."""
        try:
            yield
        except BaseException:  # noqa: BLE001 - TF reports every exception, incl. SystemExit
            self.request_stop(ex=sys.exc_info())

    def wait_for_stop(self, timeout: Optional[float] = None) -> bool:
        """Block until a stop is requested or ``timeout`` seconds pass; returns should_stop()."""
        return self._stop_event.wait(timeout)

    def register_thread(self, thread: threading.Thread) -> None:
        """Add ``thread`` to the threads ``join`` waits for."""
        with self._lock:
            self._registered_threads.add(thread)

    def join(self, threads: Optional[Iterable[threading.Thread]] = None,
             stop_grace_period_secs: float = 120, ignore_live_threads: bool = False) -> None:
        """Wait for ``threads`` (and the registered ones) to end.

        Waits until they all ended or a stop was requested, then up to
        ``stop_grace_period_secs`` for the rest. Re-raises the exception given
        to ``request_stop``; else raises RuntimeError naming threads still
        alive (unless ``ignore_live_threads``, which only logs them).
        """
        with self._lock:
            pending = set(self._registered_threads)
        if threads is not None:
            pending.update(threads)
        pending = list(pending)

        def alive() -> bool:
            return any(t.is_alive() for t in pending)

        while alive() and not self.wait_for_stop(0.05):
            pass
        end = time.monotonic() + stop_grace_period_secs
        pause = 0.001
        while alive():
            left = end - time.monotonic()
            if left < 0:
                break
            time.sleep(min(pause, max(left, 0.001)))
            pause = min(pause * 2, 0.05)
        stragglers = [t.name for t in pending if t.is_alive()]
        with self._lock:
            self._joined = True
            self._registered_threads = set()
            info = self._exc_info_to_raise
        if info is not None:
            raise info[1].with_traceback(info[2])
        if stragglers:
            if ignore_live_threads:
                _log.info("Coordinator stopped with threads still running: %s",
                          " ".join(stragglers))
            else:
                raise RuntimeError("Coordinator stopped with threads still running: %s"
                                   % " ".join(stragglers))

    @property
    def joined(self) -> bool:
        """True once ``join()`` has returned."""
        return self._joined

    def raise_requested_exception(self) -> None:
        """Raise the exception given to ``request_stop``, if any."""
        with self._lock:
            info = self._exc_info_to_raise
        if info is not None:
            raise info[1].with_traceback(info[2])


class LooperThread(threading.Thread):
    """A thread calling ``target(*args)`` (or ``run_loop``) every ``timer_interval_secs``
    seconds, or back to back when it is None, until the coordinator stops
    (``tf.train.LooperThread``). Exceptions are reported to the coordinator."""

    def __init__(self, coord: Coordinator, timer_interval_secs: Optional[float],
                 target: Optional[Callable] = None, args: Any = None,
                 kwargs: Any = None) -> None:
        if not isinstance(coord, Coordinator):
            raise ValueError("'coord' argument must be a Coordinator: %s" % coord)
        super().__init__()
        self.daemon = True
        self._coord = coord
        self._timer_interval_secs = timer_interval_secs
        self._target = target
        if self._target:
            self._args = tuple(args or ())
            self._kwargs = dict(kwargs or {})
        elif args or kwargs:
            raise ValueError("'args' and 'kwargs' argument require that you also pass "
                             "'target'")
        self._coord.register_thread(self)

    @staticmethod
    def loop(coord: Coordinator, timer_interval_secs: Optional[float], target: Callable,
             args: Any = None, kwargs: Any = None) -> "LooperThread":
        """Start a LooperThread calling ``target`` and return it."""
        looper = LooperThread(coord, timer_interval_secs, target=target, args=args,
                              kwargs=kwargs)
        looper.start()
        return looper

    def run(self) -> None:
        with self._coord.stop_on_exception():
            self.start_loop()
            if self._timer_interval_secs is None:
                while not self._coord.should_stop():
                    self.run_loop()
            else:
                next_time = time.monotonic()
                while not self._coord.wait_for_stop(max(0.0, next_time - time.monotonic())):
                    next_time += self._timer_interval_secs
                    self.run_loop()
            self.stop_loop()

    def start_loop(self) -> None:
        """Called once before the loop starts."""

    def stop_loop(self) -> None:
        """Called once after the loop ends."""

    def run_loop(self) -> None:
        """One iteration: calls the target (override in subclasses)."""
        if self._target:
            self._target(*self._args, **self._kwargs)
