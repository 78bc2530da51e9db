"""Slot variables: per-variable optimizer state (TF1 ``training/slot_creator.py``).

A slot of ``primary`` is a non-trainable variable in ``GLOBAL_VARIABLES`` with
the primary's shape and dtype, named ``<variable scope>/<primary op name>/<name>``
and made unique like a default variable-scope name: the second slot an
optimizer called ``Momentum`` creates for ``w`` is ``w/Momentum_1``. Plain name
scopes do not change slot names; variable scopes do. The slot's ops are
colocated with the primary.
"""
from __future__ import annotations

from typing import Any, Optional

from graphflow import dtypes
from graphflow.framework import graph as graph_mod
from graphflow.ops import array_ops, init_ops, variable_scope

__all__: list = []


def _create_slot_var(primary: Any, val: Any, shape: Any, dtype: Any,
                     validate_shape: bool) -> Any:
    """``get_variable('')`` in the slot's variable scope: the variable takes the
    scope's own (unique) name, as TF's slot creator does."""
    scope = variable_scope.get_variable_scope()
    saved = scope.partitioner
    scope.set_partitioner(None)
    try:
        return variable_scope.get_variable(
            "", initializer=val, trainable=False, validate_shape=validate_shape,
            shape=shape if callable(val) else None, dtype=dtype if callable(val) else None)
    finally:
        scope.set_partitioner(saved)


def _slot_scope(primary: Any, name: str) -> Any:
    return variable_scope.variable_scope(None, default_name=primary.op.name + "/" + name)


def create_slot(primary: Any, val: Any, name: str, colocate_with_primary: bool = True) -> Any:
    """A slot for ``primary`` initialized to the tensor ``val``.

    Args:
      primary: the Variable (or Tensor) the slot belongs to.
      val: the slot's initial value (a Tensor).
      name: the slot's name suffix, usually the optimizer's name.
      colocate_with_primary: colocate the slot's ops with ``primary``.
    """
    validate_shape = val.get_shape().is_fully_defined()
    g = graph_mod.get_default_graph()
    with _slot_scope(primary, name):
        if colocate_with_primary:
            with g.colocate_with(primary.op):
                return _create_slot_var(primary, val, None, None, validate_shape)
        return _create_slot_var(primary, val, None, None, validate_shape)


def create_slot_with_initializer(primary: Any, initializer: Any, shape: Any, dtype: Any,
                                 name: str, colocate_with_primary: bool = True) -> Any:
    """A slot for ``primary`` built by ``initializer(shape, dtype)`` (TF's
    ``create_slot_with_initializer``); ``Initializer/<op>`` ops under the slot."""
    validate_shape = shape.is_fully_defined()
    dtype = dtypes.as_dtype(dtype).base_dtype
    g = graph_mod.get_default_graph()
    with _slot_scope(primary, name):
        if colocate_with_primary:
            with g.colocate_with(primary.op):
                return _create_slot_var(primary, initializer, shape, dtype, validate_shape)
        return _create_slot_var(primary, initializer, shape, dtype, validate_shape)


def create_zeros_slot(primary: Any, name: str, dtype: Optional[Any] = None,
                      colocate_with_primary: bool = True) -> Any:
    """A slot of zeros shaped like ``primary`` (TF's ``create_zeros_slot``)."""
    if dtype is None:
        dtype = primary.dtype
    dtype = dtypes.as_dtype(dtype).base_dtype
    slot_shape = primary.get_shape()
    if slot_shape.is_fully_defined():
        return create_slot_with_initializer(primary, init_ops.zeros_initializer(), slot_shape,
                                            dtype, name, colocate_with_primary)
    source = primary.initialized_value() if hasattr(primary, "initialized_value") else primary
    val = array_ops.zeros(array_ops.shape(source), dtype=dtype)
    return create_slot(primary, val, name, colocate_with_primary)
