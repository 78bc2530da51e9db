"""Queue ops and the TF1 queue classes (``tf.FIFOQueue``, ``tf.PaddingFIFOQueue``,
``tf.RandomShuffleQueue``, ``tf.PriorityQueue``), plus ``CountUpTo``.

A queue op (``FIFOQueueV2`` ...) outputs a ``resource`` handle: at run time
the session's queue object (graphflow/runtime/queues.py), created on first
use per session. The ops that use it (``QueueEnqueueV2``, ``QueueDequeueV2``,
...) take the handle as input 0, are stateful, and block without holding the
GIL; their waits end at the run's deadline (``RunOptions.timeout_in_ms``) or
when the session closes.
"""
from __future__ import annotations

import hashlib
from typing import Any, Callable, Optional

import numpy as np

from graphflow import dtypes as dtypes_mod
from graphflow.errors import KernelError, OutOfRangeError
from graphflow.framework.graph import get_seed, name_scope
from graphflow.framework.op_def import (NOT_DIFFERENTIABLE, REQUIRED, OpDef, apply_op,
                                        constant_value, register_op)
from graphflow.framework.operation import Operation, Tensor, convert_to_tensor
from graphflow.framework.tensor_shape import TensorShape, unknown_shape
from graphflow.runtime import queues
from graphflow.runtime.executor import run_deadline

__all__ = ["QueueBase", "FIFOQueue", "PaddingFIFOQueue", "RandomShuffleQueue",
           "PriorityQueue", "count_up_to"]

_COVERED = "queue resource op (blocking, per-session state); covered by tests/train/test_queues.py"


# --- the queue resources ----------------------------------------------------------------
class _StateKey:
    """Stands in for an op as a ``ctx.state`` key (shared queues, id counter)."""

    def __init__(self, name: str) -> None:
        self.name = name


_ID_COUNTER = _StateKey("__queue_ids__")


def _queue_name(op: Operation, ctx: Any) -> str:
    shared = op.get_attr("shared_name")
    if shared:
        return shared
    counter = ctx.state(_ID_COUNTER, lambda: iter(range(1 << 62)))
    return "_%d_%s" % (next(counter), op.name)  # TF's name of a non-shared resource


def _shape_tuples(op: Operation) -> Optional[list]:
    shapes = op.get_attr("shapes")
    if not shapes:
        return None
    return [tuple(TensorShape(s).as_list()) for s in shapes]


class _QueueOp(OpDef):
    """Shared declaration of the queue-creating ops: no inputs, a resource handle."""
    inputs = ()
    attrs = {"component_types": REQUIRED, "shapes": [], "capacity": -1, "container": "",
             "shared_name": ""}
    stateful = True
    grad = NOT_DIFFERENTIABLE
    contract_exempt = _COVERED

    @classmethod
    def infer(cls, op: Operation) -> list:
        return [(dtypes_mod.resource, TensorShape([]))]

    @classmethod
    def make(cls, op: Operation, name: str, types: list) -> queues.QueueResource:
        return queues.QueueResource(name, types, _shape_tuples(op), op.get_attr("capacity"))

    @classmethod
    def component_types(cls, op: Operation) -> list:
        return [dtypes_mod.as_dtype(t).np for t in op.get_attr("component_types")]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        def create() -> queues.QueueResource:
            q = cls.make(op, _queue_name(op, ctx), cls.component_types(op))
            if getattr(ctx, "closed", False):
                q.session_closed()
            return q

        shared = op.get_attr("shared_name")
        key = _StateKey("shared_queue:" + shared) if shared else op
        return lambda: ctx.state(key, create)  # created when the op first runs, as TF


@register_op
class FIFOQueueV2(_QueueOp):
    """A first-in first-out queue (TF ``FIFOQueueV2``)."""


@register_op
class PaddingFIFOQueueV2(_QueueOp):
    """A FIFO queue padding dequeue_many batches (TF ``PaddingFIFOQueueV2``)."""

    @classmethod
    def make(cls, op: Operation, name: str, types: list) -> queues.QueueResource:
        return queues.PaddingQueueResource(name, types, _shape_tuples(op),
                                           op.get_attr("capacity"))


@register_op
class RandomShuffleQueueV2(_QueueOp):
    """A queue dequeuing elements in random order (TF ``RandomShuffleQueueV2``)."""
    attrs = dict(_QueueOp.attrs, min_after_dequeue=0, seed=0, seed2=0)

    @classmethod
    def make(cls, op: Operation, name: str, types: list) -> queues.QueueResource:
        return queues.ShuffleQueueResource(
            name, types, _shape_tuples(op), op.get_attr("capacity"),
            op.get_attr("min_after_dequeue"), op.get_attr("seed"), op.get_attr("seed2"))


@register_op
class PriorityQueueV2(_QueueOp):
    """A queue dequeuing the smallest int64 priority first (TF ``PriorityQueueV2``);
    ``component_types`` excludes the priority component."""
    attrs = dict(_QueueOp.attrs, component_types=[], shapes=REQUIRED)

    @classmethod
    def component_types(cls, op: Operation) -> list:
        return [np.dtype(np.int64)] + super().component_types(op)

    @classmethod
    def make(cls, op: Operation, name: str, types: list) -> queues.QueueResource:
        shapes = _shape_tuples(op)
        if shapes is not None:
            shapes = [()] + shapes
        return queues.PriorityQueueResource(name, types, shapes, op.get_attr("capacity"))


_QUEUE_OP_TYPES = ("FIFOQueueV2", "PaddingFIFOQueueV2", "RandomShuffleQueueV2",
                   "PriorityQueueV2")


def _handle_shapes(op: Operation) -> Optional[list]:
    """Static element shapes of the queue behind ``op``'s handle input, if known."""
    src = op.inputs[0].op
    if src.type not in _QUEUE_OP_TYPES:
        return None
    shapes = src.get_attr("shapes")
    if not shapes:
        return None
    shapes = [TensorShape(s) for s in shapes]
    return [TensorShape([])] + shapes if src.type == "PriorityQueueV2" else shapes


# --- ops using a queue -----------------------------------------------------------------
class _UseQueue(OpDef):
    inputs = ("handle",)
    same_dtype = ()
    stateful = True
    grad = NOT_DIFFERENTIABLE
    contract_exempt = _COVERED


@register_op
class QueueEnqueueV2(_UseQueue):
    """Enqueue one element; blocks while the queue is full (TF ``QueueEnqueueV2``)."""
    inputs = ("handle", "*components")
    attrs = {"Tcomponents": REQUIRED, "timeout_ms": -1}
    num_outputs = 0
    many = False

    @classmethod
    def infer(cls, op: Operation) -> list:
        return []

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        many = cls.many

        def run(queue: Any, *components: Any) -> None:
            queue.enqueue(components, many, run_deadline())
        return run


@register_op
class QueueEnqueueManyV2(QueueEnqueueV2):
    """Enqueue each row of the components' 0th dimension (TF ``QueueEnqueueManyV2``)."""
    many = True


@register_op
class QueueDequeueV2(_UseQueue):
    """Dequeue one element; blocks while empty; OutOfRange once closed and
    drained (TF ``QueueDequeueV2``)."""
    attrs = {"component_types": REQUIRED, "timeout_ms": -1}

    @classmethod
    def output_count(cls, op: Operation) -> int:
        return len(op.get_attr("component_types"))

    @classmethod
    def batch_dim(cls, op: Operation) -> Any:
        return ()

    @classmethod
    def infer(cls, op: Operation) -> list:
        types = [dtypes_mod.as_dtype(t) for t in op.get_attr("component_types")]
        shapes = _handle_shapes(op) or [unknown_shape() for _ in types]
        lead = cls.batch_dim(op)
        return [(t, s if lead == () else TensorShape([lead]).concatenate(s))
                for t, s in zip(types, shapes)]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        single = cls.output_count(op) == 1

        def run(queue: Any) -> Any:
            elem = queue.dequeue(run_deadline())
            return elem[0] if single else tuple(elem)
        return run


@register_op
class QueueDequeueManyV2(QueueDequeueV2):
    """Dequeue ``n`` elements stacked (TF ``QueueDequeueManyV2``)."""
    inputs = ("handle", "n")
    input_dtypes = {"n": dtypes_mod.int32}
    allow_small = False

    @classmethod
    def batch_dim(cls, op: Operation) -> Any:
        if cls.allow_small:
            return None
        n = constant_value(op.inputs[1])
        return None if n is None else int(n)

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        single = cls.output_count(op) == 1
        allow_small = cls.allow_small

        def run(queue: Any, n: Any) -> Any:
            batch = queue.dequeue_many(int(n), allow_small, run_deadline())
            return batch[0] if single else batch
        return run


@register_op
class QueueDequeueUpToV2(QueueDequeueManyV2):
    """Dequeue up to ``n`` elements; fewer only once the queue is closed
    (TF ``QueueDequeueUpToV2``)."""
    allow_small = True


@register_op
class QueueCloseV2(_UseQueue):
    """Close the queue, optionally cancelling pending enqueues (TF ``QueueCloseV2``)."""
    attrs = {"cancel_pending_enqueues": False}
    num_outputs = 0

    @classmethod
    def infer(cls, op: Operation) -> list:
        return []

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        cancel = op.get_attr("cancel_pending_enqueues")
        return lambda queue: queue.close(cancel, run_deadline())


@register_op
class QueueSizeV2(_UseQueue):
    """Number of elements in the queue, int32 (TF ``QueueSizeV2``)."""

    @classmethod
    def infer(cls, op: Operation) -> list:
        return [(dtypes_mod.int32, TensorShape([]))]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        return lambda queue: np.array(queue.size(), dtype=np.int32)


@register_op
class QueueIsClosedV2(_UseQueue):
    """Whether the queue is closed (TF ``QueueIsClosedV2``)."""

    @classmethod
    def infer(cls, op: Operation) -> list:
        return [(dtypes_mod.bool, TensorShape([]))]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        return lambda queue: np.array(queue.is_closed())


@register_op
class CountUpTo(OpDef):
    """``ref += 1`` returning the old value; OutOfRange once it reached ``limit``
    (TF ``CountUpTo``, used by ``limit_epochs``)."""
    inputs = ("ref",)
    ref_inputs = (0,)
    attrs = {"limit": REQUIRED}
    allowed = (dtypes_mod.int32, dtypes_mod.int64)
    stateful = True
    mutates = (0,)
    grad = NOT_DIFFERENTIABLE
    contract_exempt = "takes a variable reference; covered by tests/train/test_input.py"

    @classmethod
    def infer(cls, op: Operation) -> list:
        t = op.inputs[0]
        return [(t.dtype.base_dtype, t.shape)]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        limit = int(op.get_attr("limit"))

        def run(cell: Any) -> np.ndarray:
            with cell.lock:
                value = cell.read()
                old = value.copy()
                if old >= limit:
                    raise KernelError(OutOfRangeError, "Reached limit of %d" % limit)
                value[...] = old + 1
            return old
        return run


def count_up_to(ref: Any, limit: int, name: Optional[str] = None) -> Tensor:
    """Increment the int variable ``ref`` until it reaches ``limit`` (``tf.count_up_to``)."""
    return apply_op("CountUpTo", ref, limit=int(limit), name=name or "CountUpTo")


# --- the Python queue classes ------------------------------------------------------------
def _as_type_list(types: Any) -> list:
    if not isinstance(types, (list, tuple)):
        types = [types]
    return [dtypes_mod.as_dtype(t).base_dtype for t in types]


def _as_shape_list(shapes: Any, types: list, unknown_dim_allowed: bool = False,
                   unknown_rank_allowed: bool = False) -> Optional[list]:
    if shapes is None:
        return None
    if isinstance(shapes, TensorShape):
        shapes = [shapes]
    if not isinstance(shapes, (list, tuple)):
        raise TypeError("shapes must be a TensorShape or a list or tuple of TensorShapes.")
    if all(s is None or isinstance(s, int) for s in shapes):
        shapes = [shapes]  # one shape given as a list of dims
    shapes = [TensorShape(s) for s in shapes]
    if not unknown_dim_allowed and any(not s.is_fully_defined() for s in shapes):
        raise ValueError("All shapes must be fully defined: %s" % shapes)
    if not unknown_rank_allowed and any(s.ndims is None for s in shapes):
        raise ValueError("All shapes must have a defined rank: %s" % shapes)
    return shapes


def _as_name_list(names: Any, types: list) -> Optional[list]:
    if names is None:
        return None
    if not isinstance(names, (list, tuple)):
        names = [names]
    if len(names) != len(types):
        raise ValueError("List of names must have the same length as the list of dtypes")
    return list(names)


def _shape_attr(shapes: Optional[list]) -> list:
    return [] if shapes is None else [s.as_list() for s in shapes]


class QueueBase:
    """Base class of the queue classes (``tf.QueueBase``): enqueue/dequeue builders."""

    def __init__(self, dtypes: list, shapes: Optional[list], names: Optional[list],
                 queue_ref: Tensor) -> None:
        self._dtypes = list(dtypes)
        if shapes is not None:
            if len(shapes) != len(self._dtypes):
                raise ValueError("Queue shapes must have the same length as dtypes")
            self._shapes = [TensorShape(s) for s in shapes]
        else:
            self._shapes = [unknown_shape() for _ in self._dtypes]
        if names is not None and len(names) != len(self._dtypes):
            raise ValueError("Queue names must have the same length as dtypes")
        self._names = names
        self._queue_ref = queue_ref
        self._name = queue_ref.op.name.split("/")[-1]

    @property
    def queue_ref(self) -> Tensor:
        """The resource Tensor of the queue that its ops take."""
        return self._queue_ref

    @property
    def name(self) -> str:
        """The name of the queue's op."""
        return self._queue_ref.op.name

    @property
    def dtypes(self) -> list:
        """The dtype of each component of an element."""
        return self._dtypes

    @property
    def shapes(self) -> list:
        """The static shape of each component (unknown shapes when not given)."""
        return self._shapes

    @property
    def names(self) -> Optional[list]:
        """The component names when elements are dicts, else None."""
        return self._names

    def _components(self, vals: Any) -> list:
        if isinstance(vals, dict):
            if not self._names:
                raise ValueError("Queue must have names to enqueue a dictionary")
            if sorted(self._names, key=str) != sorted(vals.keys(), key=str):
                raise ValueError("Keys in dictionary to enqueue do not match names of Queue.  "
                                 "Dictionary: (%s), Queue: (%s)"
                                 % (sorted(vals.keys(), key=str), sorted(self._names, key=str)))
            vals = [vals[k] for k in self._names]
        elif self._names:
            raise ValueError("You must enqueue a dictionary in a Queue with names")
        elif not isinstance(vals, (list, tuple)):
            vals = [vals]
        if len(vals) != len(self._dtypes):
            raise ValueError("Expected %d components for queue %s, got %d"
                             % (len(self._dtypes), self.name, len(vals)))
        return [convert_to_tensor(v, dtype=dt, name="component_%d" % i)
                for i, (v, dt) in enumerate(zip(vals, self._dtypes))]

    def _enqueue(self, vals: Any, name: Optional[str], many: bool) -> Operation:
        default = "%s_EnqueueMany" % self._name if many else "%s_enqueue" % self._name
        with name_scope(name, default) as scope:
            tensors = self._components(vals)
            batch = TensorShape(None)
            for t, shape in zip(tensors, self._shapes):
                if many:
                    s = t.shape.with_rank_at_least(1)
                    batch = batch.merge_with(TensorShape([s[0]]))
                    s[1:].assert_is_compatible_with(shape)
                else:
                    t.shape.assert_is_compatible_with(shape)
            return apply_op("QueueEnqueueManyV2" if many else "QueueEnqueueV2",
                            self._queue_ref, tensors, name=scope,
                            Tcomponents=[t.dtype.base_dtype for t in tensors])

    def enqueue(self, vals: Any, name: Optional[str] = None) -> Operation:
        """An op adding one element (a tensor, list or dict of tensors)."""
        return self._enqueue(vals, name, many=False)

    def enqueue_many(self, vals: Any, name: Optional[str] = None) -> Operation:
        """An op adding each slice of ``vals`` along dimension 0."""
        return self._enqueue(vals, name, many=True)

    def _result(self, out: Any) -> Any:
        tensors = list(out) if isinstance(out, tuple) else [out]
        if self._names:
            return dict(zip(self._names, tensors))
        return tensors[0] if len(tensors) == 1 else tensors

    def dequeue(self, name: Optional[str] = None) -> Any:
        """One element: a tensor, a list (several components) or a dict (names)."""
        with name_scope(name, "%s_Dequeue" % self._name) as scope:
            return self._result(apply_op("QueueDequeueV2", self._queue_ref, name=scope,
                                         component_types=self._dtypes))

    def dequeue_many(self, n: Any, name: Optional[str] = None) -> Any:
        """``n`` elements concatenated along a new 0th dimension."""
        with name_scope(name, "%s_DequeueMany" % self._name) as scope:
            return self._result(apply_op("QueueDequeueManyV2", self._queue_ref, n,
                                         name=scope, component_types=self._dtypes))

    def dequeue_up_to(self, n: Any, name: Optional[str] = None) -> Any:
        """Like ``dequeue_many``, but returns fewer once the queue is closed."""
        with name_scope(name, "%s_DequeueUpTo" % self._name) as scope:
            return self._result(apply_op("QueueDequeueUpToV2", self._queue_ref, n,
                                         name=scope, component_types=self._dtypes))

    def close(self, cancel_pending_enqueues: bool = False,
              name: Optional[str] = None) -> Operation:
        """An op closing the queue; later enqueues fail, dequeues drain it."""
        with name_scope(name, "%s_Close" % self._name) as scope:
            return apply_op("QueueCloseV2", self._queue_ref, name=scope,
                            cancel_pending_enqueues=bool(cancel_pending_enqueues))

    def is_closed(self, name: Optional[str] = None) -> Tensor:
        """A bool Tensor: True once the queue is closed (``QueueIsClosedV2``)."""
        with name_scope(name, "%s_is_closed" % self._name) as scope:
            return apply_op("QueueIsClosedV2", self._queue_ref, name=scope)

    def size(self, name: Optional[str] = None) -> Tensor:
        """An int32 scalar: the number of elements in the queue."""
        with name_scope(name, "%s_Size" % self._name) as scope:
            return apply_op("QueueSizeV2", self._queue_ref, name=scope)


class FIFOQueue(QueueBase):
    """A queue handing out elements in first-in first-out order (``tf.FIFOQueue``)."""

    def __init__(self, capacity: int, dtypes: Any, shapes: Any = None, names: Any = None,
                 shared_name: Optional[str] = None, name: str = "fifo_queue") -> None:
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes, dtypes)
        names = _as_name_list(names, dtypes)
        ref = apply_op("FIFOQueueV2", name=name, component_types=dtypes,
                       shapes=_shape_attr(shapes), capacity=int(capacity),
                       shared_name=shared_name or "")
        super().__init__(dtypes, shapes, names, ref)


class PaddingFIFOQueue(QueueBase):
    """A FIFO queue whose ``dequeue_many`` zero-pads dimensions declared None
    to the largest in the batch (``tf.PaddingFIFOQueue``)."""

    def __init__(self, capacity: int, dtypes: Any, shapes: Any, names: Any = None,
                 shared_name: Optional[str] = None, name: str = "padding_fifo_queue") -> None:
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes, dtypes, unknown_dim_allowed=True)
        names = _as_name_list(names, dtypes)
        if shapes is None or len(dtypes) != len(shapes):
            raise ValueError("Shapes must be provided for all components, but received "
                             "%d dtypes and %d shapes." % (len(dtypes), len(shapes or [])))
        ref = apply_op("PaddingFIFOQueueV2", name=name, component_types=dtypes,
                       shapes=_shape_attr(shapes), capacity=int(capacity),
                       shared_name=shared_name or "")
        super().__init__(dtypes, shapes, names, ref)


class RandomShuffleQueue(QueueBase):
    """A queue handing out a random element, keeping at least ``min_after_dequeue``
    until closed (``tf.RandomShuffleQueue``). Seeds follow the graph seed rules."""

    def __init__(self, capacity: int, min_after_dequeue: int, dtypes: Any, shapes: Any = None,
                 names: Any = None, seed: Optional[int] = None,
                 shared_name: Optional[str] = None, name: str = "random_shuffle_queue") -> None:
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes, dtypes)
        names = _as_name_list(names, dtypes)
        seed1, seed2 = get_seed(seed)
        if seed1 is None and seed2 is None:
            seed1, seed2 = 0, 0
        elif seed is None and shared_name is not None:
            # graph seed only: make seed2 depend on the graph seed and shared name,
            # not on how many ops were built before (as TF)
            digest = hashlib.md5((str(seed1) + shared_name).encode("utf-8")).hexdigest()
            seed2 = int(digest[:8], 16) & 0x7FFFFFFF
        ref = apply_op("RandomShuffleQueueV2", name=name, component_types=dtypes,
                       shapes=_shape_attr(shapes), capacity=int(capacity),
                       min_after_dequeue=int(min_after_dequeue), seed=int(seed1),
                       seed2=int(seed2), shared_name=shared_name or "")
        super().__init__(dtypes, shapes, names, ref)


class PriorityQueue(QueueBase):
    """A queue handing out the element with the smallest int64 priority first
    (``tf.PriorityQueue``); every element starts with its priority."""

    def __init__(self, capacity: int, types: Any, shapes: Any = None, names: Any = None,
                 shared_name: Optional[str] = None, name: str = "priority_queue") -> None:
        types = _as_type_list(types)
        shapes = _as_shape_list(shapes, types)
        ref = apply_op("PriorityQueueV2", name=name, component_types=types,
                       shapes=_shape_attr(shapes), capacity=int(capacity),
                       shared_name=shared_name or "")
        priority_dtypes = [dtypes_mod.int64] + types
        priority_shapes = [TensorShape([])] + shapes if shapes else shapes
        super().__init__(priority_dtypes, priority_shapes, names, ref)
