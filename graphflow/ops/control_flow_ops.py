"""Control-flow helpers: no_op, group, tuple, with_dependencies (spec graph.md §4).

``group`` hangs control edges on one ``NoOp``; ``tuple`` gates a list of
tensors so that none of its outputs is available before all inputs are
(TF's ``tf.group`` / ``tf.tuple`` / ``control_flow_ops.with_dependencies``).
"""
from __future__ import annotations

import builtins
from typing import Any, Callable, Optional

from graphflow.framework import graph as graph_mod
from graphflow.framework.op_def import NOT_DIFFERENTIABLE, OpDef, apply_op, register_op
from graphflow.framework.operation import Operation, Tensor, convert_to_tensor

__all__ = ["no_op", "group", "tuple"]


@register_op
class NoOp(OpDef):
    """Does nothing; used to hang control dependencies on."""
    failures = "never"
    inputs = ()
    num_outputs = 0
    grad = NOT_DIFFERENTIABLE
    contract_exempt = "no outputs; ordering is tested in tests/test_session.py"

    @classmethod
    def infer(cls, op: Operation) -> list:
        return []

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        return _nothing


def _nothing() -> None:
    return None


def no_op(name: Optional[str] = None) -> Operation:
    """An op that does nothing (``tf.no_op``)."""
    return apply_op("NoOp", name=name or "NoOp")


def _is_graph_element(x: Any) -> bool:
    return isinstance(x, (Tensor, Operation)) or hasattr(x, "_as_graph_element") \
        or isinstance(getattr(x, "op", None), Operation)


def _flatten(values: Any, out: list) -> list:
    """Nested lists/tuples/dicts (dict values in sorted-key order) -> flat list."""
    if isinstance(values, (list, builtins.tuple)) and not _is_graph_element(values):
        for v in values:
            _flatten(v, out)
    elif isinstance(values, dict):
        for k in sorted(values):
            _flatten(values[k], out)
    else:
        out.append(values)
    return out


def group(*inputs: Any, **kwargs: Any) -> Operation:
    """A ``NoOp`` that runs after all ``inputs`` (``tf.group``).

    Args:
      *inputs: Tensors, Operations or Variables, possibly in nested lists.
      name: op name (default ``group_deps``, uniquified).

    Returns:
      The NoOp; its control inputs are the ops of all inputs, flattened in
      order and deduplicated. ``sess.run`` of it returns None.
    """
    name = kwargs.pop("name", None)
    if kwargs:
        raise ValueError("Unknown keyword arguments: " + ", ".join(kwargs.keys()))
    flat = _flatten(list(inputs), [])
    for x in flat:
        if not _is_graph_element(x):
            raise TypeError("'inputs' should be zero or more (nested) Tensors. Received '%s' "
                            "with type '%s'." % (x, type(x)))
    with graph_mod.name_scope(name, "group_deps", flat or None) as scope:
        g = graph_mod.get_default_graph()
        with g.control_dependencies(flat):
            return no_op(name=scope)


def with_dependencies(dependencies: list, output_tensor: Any,
                      name: Optional[str] = None) -> Any:
    """``output_tensor`` through an Identity that runs after ``dependencies``.

    Same as TF's ``control_flow_ops.with_dependencies``; the Identity is named
    ``control_dependency`` (uniquified) and colocated with ``output_tensor``.
    """
    from graphflow.framework.indexed_slices import IndexedSlices
    values = list(dependencies) + [output_tensor]
    with graph_mod.name_scope(name, "control_dependency", values) as scope:
        g = graph_mod.get_default_graph()
        if isinstance(output_tensor, IndexedSlices):  # gate the values, keep the indices
            with g.colocate_with(output_tensor.values.op):
                with g.control_dependencies(dependencies):
                    vals = apply_op("Identity", output_tensor.values, name=scope)
            return IndexedSlices(vals, output_tensor.indices, output_tensor.dense_shape)
        t = convert_to_tensor(output_tensor)
        with g.colocate_with(t.op):
            with g.control_dependencies(dependencies):
                return apply_op("Identity", t, name=scope)


def tuple(tensors: Any, name: Optional[str] = None,  # noqa: A001  (TF's name)
          control_inputs: Optional[list] = None) -> list:
    """Gate ``tensors``: no output is available until all inputs are (``tf.tuple``).

    Args:
      tensors: Tensors (or Operations, or None entries) to gate.
      name: scope name (default ``tuple``, uniquified).
      control_inputs: extra Operations/Tensors to wait for.

    Returns:
      A list with one entry per input: an Identity of each tensor that depends
      on one shared ``group_deps`` NoOp (a NoOp for an Operation input), or
      None for a None input.
    """
    tensors = list(tensors)
    with graph_mod.name_scope(name, "tuple", [t for t in tensors if t is not None] or None):
        tensors = [t if t is None or isinstance(t, Operation) or _is_graph_element(t)
                   else convert_to_tensor(t) for t in tensors]
        gating_ops = [t if isinstance(t, Operation) else _op_of(t)
                      for t in tensors if t is not None]
        for c in control_inputs or ():
            if isinstance(c, Tensor):
                c = c.op
            elif not isinstance(c, Operation):
                raise TypeError("Control input must be Operation or Tensor: %s" % (c,))
            gating_ops.append(c)
        gating_ops = sorted(set(gating_ops), key=lambda op: op._id)
        if not gating_ops:
            raise ValueError("Must have at least one Tensor: %s" % (tensors,))
        gate = group(*gating_ops)
        out: list = []
        for t in tensors:
            if t is None:
                out.append(None)
            elif isinstance(t, Operation):
                with graph_mod.control_dependencies([gate]):
                    out.append(group(t))
            else:
                out.append(with_dependencies([gate], t))
        return out


def _op_of(x: Any) -> Operation:
    if isinstance(x, Tensor):
        return x.op
    conv = getattr(x, "_as_graph_element", None)
    el = conv() if conv is not None else x
    return el if isinstance(el, Operation) else el.op
