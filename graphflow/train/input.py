"""Queue-based input pipelines: ``tf.train.batch``, ``shuffle_batch``,
``slice_input_producer``, ``input_producer`` and friends (TF1 ``training/input.py``).

A producer fills a queue from an in-memory tensor (one epoch per run of its
enqueue op, optionally reshuffled); ``limit_epochs`` counts the epochs in a
local variable and raises OutOfRangeError after ``num_epochs``, which ends the
producer's QueueRunner and closes its queue, so the consumer's dequeue
raises OutOfRangeError once the queue is drained. Batchers stack elements
from a FIFO (``batch``) or random-shuffle (``shuffle_batch``) queue. Every
queue gets a QueueRunner in the ``QUEUE_RUNNERS`` collection: call
``tf.train.start_queue_runners`` after initializing the variables (including
``tf.local_variables_initializer()`` when ``num_epochs`` is set).
"""
from __future__ import annotations

from typing import Any, Optional

from graphflow import dtypes as dtypes_mod
from graphflow.framework.graph import GraphKeys, control_dependencies, name_scope
from graphflow.framework.operation import Tensor, convert_to_tensor
from graphflow.framework.tensor_shape import TensorShape
from graphflow.ops import array_ops, random_ops, slicing_ops
from graphflow.ops.data_flow_ops import (FIFOQueue, PaddingFIFOQueue, RandomShuffleQueue,
                                         count_up_to)
from graphflow.ops.variables import Variable
from graphflow.train.queue_runner import QueueRunner, add_queue_runner

__all__ = ["limit_epochs", "input_producer", "string_input_producer", "range_input_producer",
           "slice_input_producer", "batch", "batch_join", "shuffle_batch",
           "shuffle_batch_join"]


def limit_epochs(tensor: Any, num_epochs: Optional[int] = None,
                 name: Optional[str] = None) -> Tensor:
    """``tensor``, but evaluating it more than ``num_epochs`` times raises
    OutOfRangeError (``tf.train.limit_epochs``). The count is a local variable."""
    if num_epochs is None:
        return tensor
    if num_epochs <= 0:
        raise ValueError("num_epochs must be > 0 not %d." % num_epochs)
    with name_scope(name, "limit_epochs", [tensor]) as scope:
        zero64 = array_ops.constant(0, dtype=dtypes_mod.int64)
        epochs = Variable(zero64, name="epochs", trainable=False,
                          collections=[GraphKeys.LOCAL_VARIABLES])
        counter = count_up_to(epochs, num_epochs)
        with control_dependencies([counter]):
            return array_ops.identity(tensor, name=scope)


def input_producer(input_tensor: Any, element_shape: Any = None,
                   num_epochs: Optional[int] = None, shuffle: bool = True,
                   seed: Optional[int] = None, capacity: int = 32,
                   shared_name: Optional[str] = None, summary_name: Optional[str] = None,
                   name: Optional[str] = None, cancel_op: Any = None) -> FIFOQueue:
    """A FIFO queue fed with the rows of ``input_tensor``, epoch after epoch
    (``tf.train.input_producer``); returns the queue."""
    with name_scope(name, "input_producer", [input_tensor]):
        input_tensor = convert_to_tensor(input_tensor, name="input_tensor")
        element_shape = input_tensor.shape.with_rank_at_least(1)[1:].merge_with(
            TensorShape(element_shape))
        if not element_shape.is_fully_defined():
            raise ValueError("Either `input_tensor` must have a fully defined shape or "
                             "`element_shape` must be specified")
        if shuffle:
            input_tensor = random_ops.random_shuffle(input_tensor, seed=seed)
        input_tensor = limit_epochs(input_tensor, num_epochs)
        q = FIFOQueue(capacity=capacity, dtypes=[input_tensor.dtype.base_dtype],
                      shapes=[element_shape], shared_name=shared_name, name=name)
        enq = q.enqueue_many([input_tensor])
        add_queue_runner(QueueRunner(q, [enq], cancel_op=cancel_op))
        return q


def string_input_producer(string_tensor: Any, num_epochs: Optional[int] = None,
                          shuffle: bool = True, seed: Optional[int] = None, capacity: int = 32,
                          shared_name: Optional[str] = None, name: Optional[str] = None,
                          cancel_op: Any = None) -> FIFOQueue:
    """A queue of the strings of a 1-D tensor, e.g. file names
    (``tf.train.string_input_producer``)."""
    with name_scope(name, "input_producer", [string_tensor]) as scope:
        string_tensor = convert_to_tensor(string_tensor, dtype=dtypes_mod.string)
        if string_tensor.shape.num_elements() == 0:
            raise ValueError("string_input_producer requires a non-null input tensor")
        return input_producer(string_tensor, [], num_epochs, shuffle, seed, capacity,
                              shared_name, "fraction_of_%d_full" % capacity, scope, cancel_op)


def range_input_producer(limit: Any, num_epochs: Optional[int] = None, shuffle: bool = True,
                         seed: Optional[int] = None, capacity: int = 32,
                         shared_name: Optional[str] = None,
                         name: Optional[str] = None) -> FIFOQueue:
    """A queue of the integers 0 .. limit-1 (``tf.train.range_input_producer``)."""
    with name_scope(name, "input_producer", [limit]) as scope:
        range_tensor = array_ops.range(limit)
        return input_producer(range_tensor, [], num_epochs, shuffle, seed, capacity,
                              shared_name, "fraction_of_%d_full" % capacity, scope)


def slice_input_producer(tensor_list: list, num_epochs: Optional[int] = None,
                         shuffle: bool = True, seed: Optional[int] = None,
                         capacity: int = 32, shared_name: Optional[str] = None,
                         name: Optional[str] = None) -> list:
    """One row (the same index) of every tensor in ``tensor_list`` per evaluation
    (``tf.train.slice_input_producer``)."""
    with name_scope(name, "input_producer", list(tensor_list)):
        tensors = [convert_to_tensor(t) for t in tensor_list]
        if not tensors:
            raise ValueError("Expected at least one tensor in slice_input_producer().")
        sizes = {t.shape[0] for t in tensors if t.shape.ndims is not None} - {None}
        if len(sizes) > 1:
            raise ValueError("All tensors in slice_input_producer() must have the same size "
                             "in dimension 0, got %s" % sorted(sizes))
        first = tensors[0].shape
        if first.ndims is not None and first[0] is not None:
            range_size: Any = first[0]
        else:
            range_size = array_ops.shape(tensors[0])[0]
        queue = range_input_producer(range_size, num_epochs=num_epochs, shuffle=shuffle,
                                     seed=seed, capacity=capacity, shared_name=shared_name)
        index = queue.dequeue()
        return [slicing_ops.gather(t, index) for t in tensors]


# --- batching -------------------------------------------------------------------------------
def _as_tensor_list(tensors: Any) -> list:
    if isinstance(tensors, dict):
        return [tensors[k] for k in sorted(tensors, key=str)]
    if isinstance(tensors, (list, tuple)):
        return list(tensors)
    return [tensors]


def _as_original_type(original: Any, dequeued: Any) -> Any:
    if isinstance(original, dict):
        if len(original) == 1:
            dequeued = [dequeued]  # one component comes back as a bare tensor
        return {k: dequeued[i] for i, k in enumerate(sorted(original, key=str))}
    return dequeued


def _validate(tensor_list: list, what: str) -> list:
    if not tensor_list:
        raise ValueError("Expected at least one tensor in %s()." % what)
    return [convert_to_tensor(t) for t in tensor_list]


def _dtypes(tensor_list_list: list) -> list:
    types = [t.dtype.base_dtype for t in tensor_list_list[0]]
    for other in tensor_list_list[1:]:
        if [t.dtype.base_dtype for t in other] != types:
            raise TypeError("Expected types to be consistent: %s vs. %s."
                            % (", ".join(d.name for d in types),
                               ", ".join(t.dtype.base_dtype.name for t in other)))
    return types


def _shapes(tensor_list_list: list, shapes: Any, enqueue_many: bool) -> list:
    """Element shapes: given, else merged from the tensors (minus the batch dim)."""
    if shapes is not None:
        return shapes
    n = len(tensor_list_list[0])
    for tl in tensor_list_list:
        if len(tl) != n:
            raise ValueError("Expected %d tensors in each list, got %d" % (n, len(tl)))
        for t in tl:
            if t.shape.ndims is None:
                raise ValueError("Cannot infer Tensor's rank: %s" % t)
    merged = []
    for i in range(n):
        shape = None
        for tl in tensor_list_list:
            s = tl[i].shape.with_rank_at_least(1)[1:] if enqueue_many else tl[i].shape
            shape = s if shape is None else shape.merge_with(s)
        merged.append(shape)
    return merged


def _batch_from(queue: Any, tensor_list_list: list, enqueue_many: bool, batch_size: Any,
                allow_smaller_final_batch: bool, name: str, threads: int = 1) -> Any:
    """Enqueue ops (one per list; one op run by ``threads`` threads, as TF) in a
    QueueRunner, and the batch dequeue named ``name``."""
    enqueue = queue.enqueue_many if enqueue_many else queue.enqueue
    ops = [enqueue(tl) for tl in tensor_list_list] * threads
    add_queue_runner(QueueRunner(queue, ops))
    if allow_smaller_final_batch:
        return queue.dequeue_up_to(batch_size, name=name)
    return queue.dequeue_many(batch_size, name=name)


def batch(tensors: Any, batch_size: Any, num_threads: int = 1, capacity: int = 32,
          enqueue_many: bool = False, shapes: Any = None, dynamic_pad: bool = False,
          allow_smaller_final_batch: bool = False, shared_name: Optional[str] = None,
          name: Optional[str] = None) -> Any:
    """Batches of ``tensors`` through a FIFO queue filled by ``num_threads``
    threads (``tf.train.batch``). ``dynamic_pad`` zero-pads None dimensions.

    Like TF, a single tensor (or a one-element list) comes back as a tensor.
    """
    tensor_list = _as_tensor_list(tensors)
    with name_scope(name, "batch", tensor_list) as scope:
        tensor_list = _validate(tensor_list, "batch")
        types = _dtypes([tensor_list])
        shapes = _shapes([tensor_list], shapes, enqueue_many)
        queue_cls = PaddingFIFOQueue if dynamic_pad else FIFOQueue
        queue = queue_cls(capacity=capacity, dtypes=types, shapes=shapes,
                          shared_name=shared_name)
        out = _batch_from(queue, [tensor_list], enqueue_many, batch_size,
                          allow_smaller_final_batch, scope, num_threads)
        return _as_original_type(tensors, out)


def batch_join(tensors_list: list, batch_size: Any, capacity: int = 32,
               enqueue_many: bool = False, shapes: Any = None, dynamic_pad: bool = False,
               allow_smaller_final_batch: bool = False, shared_name: Optional[str] = None,
               name: Optional[str] = None) -> Any:
    """Like ``batch``, with one enqueuing thread per tensor list
    (``tf.train.batch_join``)."""
    lists = [_as_tensor_list(t) for t in tensors_list]
    with name_scope(name, "batch_join", [t for tl in lists for t in tl]) as scope:
        lists = [_validate(tl, "batch_join") for tl in lists]
        types = _dtypes(lists)
        shapes = _shapes(lists, shapes, enqueue_many)
        queue_cls = PaddingFIFOQueue if dynamic_pad else FIFOQueue
        queue = queue_cls(capacity=capacity, dtypes=types, shapes=shapes,
                          shared_name=shared_name)
        out = _batch_from(queue, lists, enqueue_many, batch_size, allow_smaller_final_batch,
                          scope)
        return _as_original_type(tensors_list[0], out)


def _check_shuffle_args(capacity: int, min_after_dequeue: int) -> None:
    if capacity <= min_after_dequeue:
        raise ValueError("capacity %d must be bigger than min_after_dequeue %d."
                         % (capacity, min_after_dequeue))


def shuffle_batch(tensors: Any, batch_size: Any, capacity: int, min_after_dequeue: int,
                  num_threads: int = 1, seed: Optional[int] = None, enqueue_many: bool = False,
                  shapes: Any = None, allow_smaller_final_batch: bool = False,
                  shared_name: Optional[str] = None, name: Optional[str] = None) -> Any:
    """Batches of ``tensors`` drawn at random from a RandomShuffleQueue holding at
    least ``min_after_dequeue`` elements until closed (``tf.train.shuffle_batch``)."""
    tensor_list = _as_tensor_list(tensors)
    with name_scope(name, "shuffle_batch", tensor_list) as scope:
        _check_shuffle_args(capacity, min_after_dequeue)
        tensor_list = _validate(tensor_list, "shuffle_batch")
        types = _dtypes([tensor_list])
        shapes = _shapes([tensor_list], shapes, enqueue_many)
        queue = RandomShuffleQueue(capacity=capacity, min_after_dequeue=min_after_dequeue,
                                   seed=seed, dtypes=types, shapes=shapes,
                                   shared_name=shared_name)
        out = _batch_from(queue, [tensor_list], enqueue_many, batch_size,
                          allow_smaller_final_batch, scope, num_threads)
        return _as_original_type(tensors, out)


def shuffle_batch_join(tensors_list: list, batch_size: Any, capacity: int,
                       min_after_dequeue: int, seed: Optional[int] = None,
                       enqueue_many: bool = False, shapes: Any = None,
                       allow_smaller_final_batch: bool = False,
                       shared_name: Optional[str] = None, name: Optional[str] = None) -> Any:
    """Like ``shuffle_batch``, with one enqueuing thread per tensor list
    (``tf.train.shuffle_batch_join``)."""
    lists = [_as_tensor_list(t) for t in tensors_list]
    with name_scope(name, "shuffle_batch_join", [t for tl in lists for t in tl]) as scope:
        _check_shuffle_args(capacity, min_after_dequeue)
        lists = [_validate(tl, "shuffle_batch_join") for tl in lists]
        types = _dtypes(lists)
        shapes = _shapes(lists, shapes, enqueue_many)
        queue = RandomShuffleQueue(capacity=capacity, min_after_dequeue=min_after_dequeue,
                                   seed=seed, dtypes=types, shapes=shapes,
                                   shared_name=shared_name)
        out = _batch_from(queue, lists, enqueue_many, batch_size, allow_smaller_final_batch,
                          scope)
        return _as_original_type(tensors_list[0], out)
