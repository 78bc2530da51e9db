"""Helpers of the OptimizerV2 family (TF 2.x ``optimizer_utils`` and Keras backend bits).

Variable synchronization/aggregation enums, slot keys, string initializers,
default-session value access, gradient filtering and IndexedSlices deduplication.
"""
from __future__ import annotations

import enum
import logging
from typing import Any, Iterable

import numpy as np

from graphflow.ops import array_ops, init_ops, reduction_ops
from graphflow.ops.variables import Variable

__all__ = ["VariableSynchronization", "VariableAggregation", "filter_empty_gradients"]

_LOG = logging.getLogger("graphflow")
_INITIALIZERS = {"zeros": init_ops.zeros_initializer, "ones": init_ops.ones_initializer,
                 "glorot_uniform": init_ops.glorot_uniform_initializer,
                 "glorot_normal": init_ops.glorot_normal_initializer,
                 "random_normal": init_ops.random_normal_initializer,
                 "random_uniform": init_ops.random_uniform_initializer,
                 "truncated_normal": init_ops.truncated_normal_initializer}


class VariableSynchronization(enum.Enum):
    """When a distributed variable is aggregated (``tf.VariableSynchronization``)."""
    AUTO = 0
    NONE = 1
    ON_WRITE = 2
    ON_READ = 3


class VariableAggregation(enum.Enum):
    """How a distributed variable is aggregated (``tf.VariableAggregation``)."""
    NONE = 0
    SUM = 1
    MEAN = 2
    ONLY_FIRST_REPLICA = 3


def var_key(var: Any) -> str:
    """Slot-dictionary key of a variable: its op name (TF's ``_shared_name`` in graph mode)."""
    return getattr(var, "_shared_name", None) or var.op.name


def get_initializer(initializer: Any) -> Any:
    """A Keras initializer name (``'zeros'``, ``'ones'``, ...) as an initializer; others as is."""
    if isinstance(initializer, str):
        key = initializer.lower()
        if key not in _INITIALIZERS:
            raise ValueError("Unknown initializer: %s" % initializer)
        return _INITIALIZERS[key]()
    return initializer


def default_session() -> Any:
    """The default session; ValueError when there is none."""
    from graphflow.runtime.session import get_default_session
    sess = get_default_session()
    if sess is None:
        raise ValueError("No default session: optimizer values are read and written through "
                         "the default session; use `with sess.as_default():`.")
    return sess


def set_value(var: Variable, value: Any, sess: Any = None) -> None:
    """Store ``value`` in ``var`` in the default session (Keras ``backend.set_value``)."""
    var.load(np.asarray(value, dtype=var.dtype.base_dtype.np), sess or default_session())


def filter_empty_gradients(grads_and_vars: Iterable) -> tuple:
    """Drop pairs with a None gradient (warning); ValueError if every gradient is None."""
    grads_and_vars = tuple(grads_and_vars)
    if not grads_and_vars:
        return grads_and_vars
    filtered = tuple((g, v) for g, v in grads_and_vars if g is not None)
    empty = [v.name for g, v in grads_and_vars if g is None]
    if not filtered:
        raise ValueError("No gradients provided for any variable: %s."
                         % ([v.name for _, v in grads_and_vars],))
    if empty:
        _LOG.warning("Gradients do not exist for variables %s when minimizing the loss.", empty)
    return filtered


def deduplicate_indexed_slices(values: Any, indices: Any) -> tuple:
    """``(summed values, unique indices)``: rows sharing an index summed (Unique + segment sum)."""
    unique_indices, new_index_positions = array_ops.unique(indices)
    summed = reduction_ops.unsorted_segment_sum(values, new_index_positions,
                                                array_ops.shape(unique_indices)[0])
    return summed, unique_indices


def flatten(values: Any) -> list:
    """Nested lists/tuples flattened in order."""
    if isinstance(values, (list, tuple)):
        return [x for v in values for x in flatten(v)]
    return [values]
