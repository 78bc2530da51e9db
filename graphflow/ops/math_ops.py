"""Math ops: elementwise arithmetic, comparisons, reductions and matmul.

Each ``@register_op`` class is the single declaration of one TF op type; the
snake_case builders below it are the public API (``tf.add`` ...).
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from graphflow.framework.op_def import apply_op, register_op
from graphflow.framework.operation import register_operator
from graphflow.ops.elementwise import NUMERIC, Elementwise

__all__ = ["add"]


@register_op
class AddV2(Elementwise):
    inputs = ("x", "y")
    allowed = NUMERIC
    expr = "{0} + {1}"
    reference = staticmethod(np.add)


def add(x: Any, y: Any, name: Optional[str] = None) -> Any:
    """x + y elementwise with broadcasting. Same as tf.add (op type AddV2)."""
    return apply_op("AddV2", x, y, name=name or "Add")


register_operator("add", lambda x, y: apply_op("AddV2", x, y, name="add"))
