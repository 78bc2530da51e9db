"""Control-flow helpers: no_op, group, tuple."""
from __future__ import annotations

from typing import Any, Callable, Optional

from graphflow.framework.op_def import NOT_DIFFERENTIABLE, OpDef, apply_op, register_op
from graphflow.framework.operation import Operation

__all__ = ["no_op"]


@register_op
class NoOp(OpDef):
    """Does nothing; used to hang control dependencies on."""
    inputs = ()
    num_outputs = 0
    grad = NOT_DIFFERENTIABLE
    contract_exempt = "no outputs; ordering is tested in tests/test_session.py"

    @classmethod
    def infer(cls, op: Operation) -> list:
        return []

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        return lambda: None


def no_op(name: Optional[str] = None) -> Operation:
    """An op that does nothing (``tf.no_op``)."""
    return apply_op("NoOp", name=name or "NoOp")
