"""Queue resources behind the queue ops (TF1 ``FIFOQueue``, ``PaddingFIFOQueue``,
``RandomShuffleQueue``, ``PriorityQueue``).

A queue lives in one session: the queue op's kernel factory creates it in
``ctx.state`` (so two sessions never share a queue) and the op's output, a
``resource`` handle, is this object. Elements are tuples of NumPy arrays,
copied on the way in (a fed array or a variable's buffer may change later).

Blocking: every queue has one ``threading.Condition``. Waits are timed slices
(``Condition.wait`` releases the GIL), bounded by the run's deadline
(``RunOptions.timeout_in_ms`` -> DeadlineExceededError) and ended by
``session_closed()`` (-> CancelledError). Like TF, attempts are served in
arrival order: enqueue-side attempts (enqueue, enqueue_many, close) form one
line and dequeue attempts another; only the head of a line makes progress, so
an enqueue_many's elements stay contiguous and a dequeue_many takes elements
as they arrive (it may ask for more than the capacity). A failed or cancelled
dequeue_many puts back what it had taken, so no element is ever lost.
"""
from __future__ import annotations

import collections
import heapq
import itertools
import sys
import threading
import time
from typing import Any, Optional, Sequence

import numpy as np

from graphflow import errors
from graphflow.errors import KernelError

_WAIT_SLICE = 0.25  # seconds: a waiter re-checks its state at least this often
DEADLINE_MESSAGE = "Timed out waiting for notification"
SESSION_CLOSED_MESSAGE = "Session has been closed."


def _fmt(shape: Sequence[Optional[int]]) -> str:
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def _compatible(shape: tuple, want: tuple) -> bool:
    return len(shape) == len(want) and all(w is None or w == s for s, w in zip(shape, want))


class QueueResource:
    """A bounded FIFO queue of tuples (TF ``FIFOQueue``); base of the other kinds."""

    kind = "FIFOQueue"

    def __init__(self, name: str, dtypes: Sequence[Any], shapes: Optional[Sequence[tuple]],
                 capacity: int) -> None:
        self.name = name
        self.dtypes = [np.dtype(d) for d in dtypes]
        self.shapes = [tuple(s) for s in shapes] if shapes else None
        self.capacity = capacity if capacity >= 0 else sys.maxsize
        self._cond = threading.Condition(threading.Lock())
        self._closed = False
        self._session_closed = False
        self._enq_line: collections.deque = collections.deque()
        self._deq_line: collections.deque = collections.deque()
        self._cancelled: set = set()  # enqueue-line tokens cancelled by close(cancel=True)
        self._init_storage()

    # --- storage (overridden by the other kinds) -------------------------------------
    def _init_storage(self) -> None:
        self._items: collections.deque = collections.deque()

    def _count(self) -> int:
        return len(self._items)

    def _ready(self) -> int:
        """How many elements a dequeue may take now."""
        return len(self._items)

    def _push(self, elem: tuple) -> None:
        self._items.append(elem)

    def _pop(self) -> tuple:
        return self._items.popleft()

    def _restore(self, elems: list) -> None:
        """Put back elements a failed dequeue_many took (FIFO: at the front, in order)."""
        self._items.extendleft(reversed(elems))

    def _check_shape(self, i: int, shape: tuple, many: bool, full: tuple) -> None:
        want = self.shapes[i]
        if not _compatible(shape, want):
            if many:
                raise KernelError(errors.InvalidArgumentError,
                                  "Shape mismatch in tuple component %d. Expected %s, got %s"
                                  % (i, _fmt((None,) + want), _fmt(full)))
            raise KernelError(errors.InvalidArgumentError,
                              "Shape mismatch in tuple component %d. Expected %s, got %s"
                              % (i, _fmt(want), _fmt(shape)))

    def _batch(self, elems: list, n: int) -> tuple:
        """Stack ``elems`` (``n`` of them) component-wise into dequeue_many outputs."""
        out = []
        for i, dt in enumerate(self.dtypes):
            if elems:
                out.append(np.stack([e[i] for e in elems]).astype(dt, copy=False))
            else:
                shape = tuple(0 if d is None else d for d in self.shapes[i])
                out.append(np.zeros((0,) + shape, dtype=dt))
        return tuple(out)

    # --- helpers --------------------------------------------------------------------
    def _prepare(self, components: Sequence[Any], many: bool) -> list:
        """Validated, copied elements: one tuple (or one per row when ``many``)."""
        if len(components) != len(self.dtypes):
            raise KernelError(errors.InvalidArgumentError,
                              "%s '%s' expects %d components, got %d" % (
                                  self.kind, self.name, len(self.dtypes), len(components)))
        arrays = [np.asarray(c, dtype=dt) for c, dt in zip(components, self.dtypes)]
        if not many:
            if self.shapes is not None:
                for i, a in enumerate(arrays):
                    self._check_shape(i, a.shape, False, a.shape)
            return [tuple(np.array(a, copy=True) for a in arrays)]
        for i, a in enumerate(arrays):
            if a.ndim == 0:
                raise KernelError(errors.InvalidArgumentError,
                                  "Shape mismatch in tuple component %d. Expected at least "
                                  "rank 1 (a batch), got a scalar" % i)
        size = arrays[0].shape[0]
        for i, a in enumerate(arrays):
            if a.shape[0] != size:
                raise KernelError(errors.InvalidArgumentError,
                                  "Expected batch size %d in tuple component %d, got %d: all "
                                  "components of enqueue_many must have the same 0th "
                                  "dimension" % (size, i, a.shape[0]))
            if self.shapes is not None:
                self._check_shape(i, a.shape[1:], True, a.shape)
        return [tuple(np.array(a[k], copy=True) for a in arrays) for k in range(size)]

    def _wait(self, deadline: Optional[float]) -> None:
        """One timed wait on the condition (held); DeadlineExceeded once past ``deadline``."""
        if deadline is None:
            self._cond.wait(_WAIT_SLICE)
            return
        left = deadline - time.monotonic()
        if left <= 0:
            raise KernelError(errors.DeadlineExceededError, DEADLINE_MESSAGE)
        self._cond.wait(min(left, _WAIT_SLICE))

    def _check_session(self) -> None:
        if self._session_closed:
            raise KernelError(errors.CancelledError, SESSION_CLOSED_MESSAGE)

    def _check_enqueue(self, token: object) -> None:
        self._check_session()
        if token in self._cancelled:
            raise KernelError(errors.CancelledError, "Enqueue operation was cancelled")
        if self._closed:
            raise KernelError(errors.AbortedError, "%s '%s' is closed." % (self.kind, self.name))

    def _leave(self, line: collections.deque, token: object) -> None:
        try:
            line.remove(token)
        except ValueError:
            pass
        self._cancelled.discard(token)
        self._cond.notify_all()

    def _insufficient(self, requested: int) -> KernelError:
        return KernelError(errors.OutOfRangeError,
                           "%s '%s' is closed and has insufficient elements (requested %d, "
                           "current size %d)" % (self.kind, self.name, requested, self._count()))

    # --- operations -----------------------------------------------------------------
    def enqueue(self, components: Sequence[Any], many: bool = False,
                deadline: Optional[float] = None) -> None:
        """Add one element (or each row of a batch when ``many``), blocking while full."""
        elems = self._prepare(components, many)
        if many and not elems:
            return
        token = object()
        with self._cond:
            self._enq_line.append(token)
            try:
                pos = 0
                while True:
                    self._check_enqueue(token)
                    if self._enq_line[0] is token:
                        while pos < len(elems) and self._count() < self.capacity:
                            self._push(elems[pos])
                            pos += 1
                        if pos:
                            self._cond.notify_all()
                        if pos == len(elems):
                            return
                    self._wait(deadline)
            finally:
                self._leave(self._enq_line, token)

    def dequeue(self, deadline: Optional[float] = None) -> tuple:
        """Remove and return one element, blocking while none is available."""
        token = object()
        with self._cond:
            self._deq_line.append(token)
            try:
                while True:
                    self._check_session()
                    if self._deq_line[0] is token:
                        if self._ready() > 0:
                            elem = self._pop()
                            self._cond.notify_all()
                            return elem
                        if self._closed:
                            raise self._insufficient(1)
                    self._wait(deadline)
            finally:
                self._leave(self._deq_line, token)

    def dequeue_many(self, n: int, allow_small: bool = False,
                     deadline: Optional[float] = None) -> tuple:
        """``n`` elements stacked per component (``dequeue_many``/``dequeue_up_to``)."""
        what = "DequeueUpTo" if allow_small else "DequeueMany"
        if n < 0:
            raise KernelError(errors.InvalidArgumentError,
                              "%s requested a negative number of elements: %d" % (what, n))
        self._check_batchable()
        if n == 0:
            return self._batch([], 0)
        token = object()
        taken: list = []
        with self._cond:
            self._deq_line.append(token)
            try:
                while True:
                    self._check_session()
                    if self._deq_line[0] is token:
                        need = n - len(taken)
                        if self._closed and self._count() < need:
                            if allow_small and (taken or self._count() > 0):
                                while self._count():
                                    taken.append(self._pop())
                                self._cond.notify_all()
                                out, taken = taken, []
                                return self._batch(out, len(out))
                            self._restore(taken)
                            taken = []
                            raise self._insufficient(n)
                        k = min(self._ready(), need)
                        for _ in range(k):
                            taken.append(self._pop())
                        if k:
                            self._cond.notify_all()
                        if len(taken) == n:
                            out, taken = taken, []
                            return self._batch(out, n)
                    self._wait(deadline)
            finally:
                if taken:  # failed or cancelled part way: nothing is lost
                    self._restore(taken)
                self._leave(self._deq_line, token)

    def _check_batchable(self) -> None:
        if self.shapes is None:
            raise KernelError(errors.InvalidArgumentError,
                              "%s's DequeueMany and DequeueUpTo require the components to "
                              "have specified shapes." % self.kind)

    def close(self, cancel_pending_enqueues: bool = False,
              deadline: Optional[float] = None) -> None:
        """Close the queue. Without cancelling, pending enqueues finish first (TF)."""
        with self._cond:
            if cancel_pending_enqueues:
                self._closed = True
                self._cancelled.update(self._enq_line)
                self._cond.notify_all()
                return
            token = object()
            self._enq_line.append(token)
            try:
                while True:
                    self._check_session()
                    if self._enq_line[0] is token:
                        if self._closed:
                            raise KernelError(errors.CancelledError, "Queue '%s' is already "
                                              "closed." % self.name)
                        self._closed = True
                        return
                    self._wait(deadline)
            finally:
                self._leave(self._enq_line, token)

    def size(self) -> int:
        with self._cond:
            return self._count()

    def is_closed(self) -> bool:
        return self._closed

    def session_closed(self) -> None:
        """The owning session closed: every waiting and later op raises CancelledError."""
        with self._cond:
            self._session_closed = True
            self._cond.notify_all()


class PaddingQueueResource(QueueResource):
    """FIFO queue whose dequeue_many pads unknown dims to the batch maximum
    (TF ``PaddingFIFOQueue``)."""

    kind = "PaddingFIFOQueue"

    def _check_batchable(self) -> None:
        return None

    def _batch(self, elems: list, n: int) -> tuple:
        out = []
        for i, dt in enumerate(self.dtypes):
            want = self.shapes[i]
            dims = [max([e[i].shape[j] for e in elems], default=0) if d is None else d
                    for j, d in enumerate(want)]
            pad_value = "" if dt.kind == "O" else 0
            arr = np.full([n] + dims, pad_value, dtype=dt)
            for k, e in enumerate(elems):
                arr[(k,) + tuple(slice(0, s) for s in e[i].shape)] = e[i]
            out.append(arr)
        return tuple(out)


class ShuffleQueueResource(QueueResource):
    """Dequeues a uniformly random element, keeping ``min_after_dequeue`` until
    closed (TF ``RandomShuffleQueue``). Seeds (0, 0) mean nondeterministic."""

    kind = "RandomShuffleQueue"

    def __init__(self, name: str, dtypes: Sequence[Any], shapes: Optional[Sequence[tuple]],
                 capacity: int, min_after_dequeue: int, seed: int, seed2: int) -> None:
        if min_after_dequeue < 0:
            raise KernelError(errors.InvalidArgumentError,
                              "min_after_dequeue %d must be >= 0" % min_after_dequeue)
        if capacity >= 0 and min_after_dequeue >= capacity:
            raise KernelError(errors.InvalidArgumentError, "min_after_dequeue %d must be < "
                              "capacity %d" % (min_after_dequeue, capacity))
        self.min_after_dequeue = min_after_dequeue
        if seed == 0 and seed2 == 0:
            self._rng = np.random.default_rng()
        else:
            self._rng = np.random.default_rng([seed & 0xFFFFFFFFFFFFFFFF,
                                               seed2 & 0xFFFFFFFFFFFFFFFF])
        super().__init__(name, dtypes, shapes, capacity)

    def _init_storage(self) -> None:
        self._items: list = []  # type: ignore[assignment]

    def _ready(self) -> int:
        if self._closed:
            return len(self._items)
        return max(0, len(self._items) - self.min_after_dequeue)

    def _pop(self) -> tuple:
        items = self._items
        k = int(self._rng.integers(len(items)))
        items[k], items[-1] = items[-1], items[k]
        return items.pop()

    def _restore(self, elems: list) -> None:
        self._items.extend(elems)


class PriorityQueueResource(QueueResource):
    """Dequeues the element with the smallest int64 priority (component 0) first;
    equal priorities leave in arrival order (TF ``PriorityQueue``)."""

    kind = "PriorityQueue"

    def _init_storage(self) -> None:
        self._items: list = []  # type: ignore[assignment]
        self._seq = itertools.count()

    def _prepare(self, components: Sequence[Any], many: bool) -> list:
        if components:
            p = np.asarray(components[0])
            if p.shape != ((p.shape[0],) if many and p.ndim == 1 else ()):
                raise KernelError(errors.InvalidArgumentError,
                                  "Expected the priority element to be a scalar, but received "
                                  "shape: %s" % _fmt(p.shape[1:] if many else p.shape))
        return super()._prepare(components, many)

    def _push(self, elem: tuple) -> None:
        heapq.heappush(self._items, (int(elem[0]), next(self._seq), elem))

    def _pop(self) -> tuple:
        return heapq.heappop(self._items)[2]

    def _restore(self, elems: list) -> None:
        for e in elems:
            self._push(e)
