"""Global step helpers (``tf.train.get_global_step`` ...; spec training_utils.md §1).

The global step is a scalar integer variable counting training steps. It is
found through the ``GLOBAL_STEP`` collection, or else by the tensor name
``global_step:0``; optimizers increment it when it is passed to
``apply_gradients``.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

from graphflow import dtypes
from graphflow.framework import graph as graph_mod
from graphflow.framework.graph import GraphKeys
from graphflow.framework.operation import Tensor
from graphflow.ops import init_ops, variable_scope
from graphflow.ops.variables import Variable

__all__ = ["global_step", "get_global_step", "create_global_step", "get_or_create_global_step",
           "assert_global_step"]

_LOG = logging.getLogger("graphflow")


def global_step(sess: Any, global_step_tensor: Any) -> int:
    """The global step's current value as a Python int (``tf.train.global_step``).

    ``global_step_tensor`` may be a Variable, a Tensor or a tensor name.
    """
    return int(sess.run(global_step_tensor))


def get_global_step(graph: Any = None) -> Any:
    """The global step of ``graph`` (default graph), or None (``tf.train.get_global_step``).

    The single item of the ``GLOBAL_STEP`` collection; with an empty collection
    the tensor ``global_step:0`` if it exists; with several items an error is
    logged and None returned. The result is checked by ``assert_global_step``.
    """
    graph = graph or graph_mod.get_default_graph()
    found = graph.get_collection(GraphKeys.GLOBAL_STEP)
    if len(found) == 1:
        step = found[0]
    elif not found:
        try:
            step = graph.get_tensor_by_name("global_step:0")
        except KeyError:
            return None
    else:
        _LOG.error("Multiple tensors in global_step collection.")
        return None
    assert_global_step(step)
    return step


def create_global_step(graph: Any = None) -> Variable:
    """Create the int64 scalar ``global_step`` variable (``tf.train.create_global_step``).

    Made with ``get_variable`` in the current variable scope, at the root name
    scope, initialized to 0, not trainable, in ``GLOBAL_VARIABLES`` and
    ``GLOBAL_STEP``. ValueError when a global step already exists.
    """
    graph = graph or graph_mod.get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError('"global_step" already exists.')
    with graph.as_default(), graph_mod.name_scope(None):
        return variable_scope.get_variable(
            GraphKeys.GLOBAL_STEP, shape=[], dtype=dtypes.int64,
            initializer=init_ops.zeros_initializer(), trainable=False,
            collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP])


def get_or_create_global_step(graph: Any = None) -> Any:
    """``get_global_step(graph)``, creating it first when missing."""
    graph = graph or graph_mod.get_default_graph()
    step = get_global_step(graph)
    if step is None:
        step = create_global_step(graph)
    return step


def assert_global_step(global_step_tensor: Any) -> None:
    """TypeError unless ``global_step_tensor`` is an integer scalar Variable or Tensor."""
    if not isinstance(global_step_tensor, (Variable, Tensor)):
        raise TypeError('Existing "global_step" must be a Variable or Tensor: %s.'
                        % (global_step_tensor,))
    if not global_step_tensor.dtype.base_dtype.is_integer:
        raise TypeError('Existing "global_step" does not have integer type: %s'
                        % global_step_tensor.dtype)
    shape = global_step_tensor.get_shape()
    if shape.ndims != 0 and shape.is_fully_defined():
        raise TypeError('Existing "global_step" is not scalar: %s' % shape)
