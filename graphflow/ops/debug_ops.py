"""Numerics checks: ``tf.check_numerics``, ``tf.verify_tensor_all_finite`` and
``tf.add_check_numerics_ops`` (TF 1.x ``array_ops.check_numerics`` and
``numerics.py``).

``CheckNumerics`` forwards its input unchanged and fails the run with
``InvalidArgumentError("<message> : Tensor had NaN values")`` (``Inf``, or
``Inf and NaN``) when the input holds a non-finite value. Its gradient checks
the incoming gradient the same way, as TF's does.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from graphflow import dtypes
from graphflow.errors import InvalidArgumentError, KernelError
from graphflow.framework import graph as graph_mod
from graphflow.framework.op_def import OpDef, apply_op, register_op
from graphflow.framework.operation import Operation, Tensor, convert_to_tensor

__all__ = ["check_numerics", "verify_tensor_all_finite", "add_check_numerics_ops"]

_FLOATS = (dtypes.float16, dtypes.float32, dtypes.float64)


def _problem(x: np.ndarray) -> Optional[str]:
    """None when every element is finite, else TF's ``NaN`` / ``Inf`` / ``Inf and NaN``."""
    if x.size == 0 or np.isfinite(x).all():
        return None
    has_nan = bool(np.isnan(x).any())
    has_inf = bool(np.isinf(x).any())
    if has_nan and has_inf:
        return "Inf and NaN"
    return "NaN" if has_nan else "Inf"


@register_op
class CheckNumerics(OpDef):
    """Forwards ``tensor``; fails the run if it holds NaN or Inf (``tf.check_numerics``)."""
    inputs = ("tensor",)
    attrs = {"message": ""}
    allowed = _FLOATS
    forwards = 0

    @staticmethod
    def reference(x: Any, message: str = "") -> np.ndarray:
        x = np.asarray(x)
        bad = _problem(x)
        if bad is not None:
            raise KernelError(InvalidArgumentError, "%s : Tensor had %s values" % (message, bad))
        return x

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        message = op.get_attr("message")

        def run(x: np.ndarray) -> np.ndarray:
            if x.size and not np.isfinite(x).all():
                raise KernelError(InvalidArgumentError, "%s : Tensor had %s values"
                                  % (message, _problem(x)))
            return x
        return run

    @staticmethod
    def grad(op: Operation, dy: Any) -> list:
        return [check_numerics(dy, "Not a number (NaN) or infinity (Inf) values detected in "
                                   "gradient. %s" % op.get_attr("message"))]

    @classmethod
    def examples(cls) -> list:
        return [([np.arange(6, dtype=np.float32).reshape(2, 3)], {"message": "m"}),
                ([np.float64(-1.5)], {}),
                ([np.zeros((0, 2), np.float16)], {"message": "empty"})]


def check_numerics(tensor: Any, message: str, name: Optional[str] = None) -> Tensor:
    """``tensor``, failing the run if it holds NaN or Inf (``tf.check_numerics``).

    Raises (at run time) InvalidArgumentError ``"<message> : Tensor had NaN values"``.
    """
    if not isinstance(message, str):
        raise TypeError("Expected string for argument 'message' not %r." % (message,))
    return apply_op("CheckNumerics", tensor, name=name or "CheckNumerics", message=message)


def verify_tensor_all_finite(t: Any, msg: str, name: Optional[str] = None) -> Tensor:
    """``t`` gated on a ``check_numerics`` of it (``tf.verify_tensor_all_finite``)."""
    from graphflow.ops import control_flow_ops
    with graph_mod.name_scope(name, "VerifyFinite", [t]) as scope:
        t = convert_to_tensor(t, name="t")
        with graph_mod.colocate_with(t):
            verify = check_numerics(t, message=msg)
            return control_flow_ops.with_dependencies([verify], t, name=scope)


_CONTROL_FLOW_TYPES = ("Switch", "Merge", "Enter", "Exit", "NextIteration", "LoopCond",
                       "RefSwitch", "RefMerge", "RefEnter", "RefExit")


def add_check_numerics_ops() -> Operation:
    """One op checking every float16/32/64 output of the default graph
    (``tf.add_check_numerics_ops``).

    Each check is named after its tensor (message ``"<op name>:<output index>"``)
    and runs after the previous one, so the first bad tensor in creation order
    is reported. Ref outputs (variables) are not checked. Raises ValueError
    when the graph holds control-flow ops, as TF does.
    """
    from graphflow.ops import control_flow_ops
    g = graph_mod.get_default_graph()
    check_op: list = []
    for op in g.get_operations():
        for output in op.outputs:
            if output.dtype not in _FLOATS:  # float32_ref etc. differ from float32
                continue
            if op.type in _CONTROL_FLOW_TYPES:
                raise ValueError("`tf.add_check_numerics_ops() is not compatible with "
                                 "TensorFlow control flow operations such as `tf.cond()` or "
                                 "`tf.while_loop()`.")
            message = "%s:%d" % (op.name, output.value_index)
            with g.control_dependencies(check_op):
                check_op = [check_numerics(output, message=message)]
    return control_flow_ops.group(*check_op)
