"""Helpers shared by the nn op modules (nn_ops, xent_ops): TF's shape-error
texts, float16 widening for kernels and axis moves built from transposes."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from graphflow.framework.operation import Operation, Tensor
from graphflow.framework.tensor_shape import TensorShape

_DT_NAMES = {"float16": "DT_HALF", "float32": "DT_FLOAT", "float64": "DT_DOUBLE"}


def tf_api() -> Any:
    """The public ``graphflow`` namespace, imported lazily (other op families)."""
    import graphflow
    return graphflow


def node_desc(op: Operation, extra: str = "") -> str:
    """TF's "'{{node N}} = Type[T=...](inputs)' with input shapes: ..." message tail."""
    dt = op.inputs[0].dtype.base_dtype.name
    ins = ", ".join(t.op.name if t.value_index == 0 else t.name for t in op.inputs)
    return "'{{node %s}} = %s[T=%s%s](%s)' with input shapes: %s." % (
        op.name, op.type, _DT_NAMES.get(dt, "DT_" + dt.upper()), extra, ins,
        ", ".join(t.shape.to_tf_string() for t in op.inputs))


def rank_error(op: Operation, shape: TensorShape, rank: int, at_least: bool = False) -> ValueError:
    return ValueError("Shape must be %srank %d but is rank %d for %s" % (
        "at least " if at_least else "", rank, shape.ndims, node_desc(op)))


def dims_error(op: Operation, a: Any, b: Any) -> ValueError:
    return ValueError("Dimensions must be equal, but are %s and %s for %s" % (a, b, node_desc(op)))


def shape_str(shape: tuple) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def as_f32(x: np.ndarray) -> np.ndarray:
    """float16 computes in float32 (Numba has no half arithmetic); others as is."""
    return x.astype(np.float32) if x.dtype == np.float16 else np.ascontiguousarray(x)


def move_axis_to_end(x: Tensor, axis: int, ndims: int, name: Optional[str] = None) -> Tensor:
    """Swap ``axis`` with the last axis (its own inverse)."""
    perm = list(range(ndims))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    return tf_api().transpose(x, perm, name=name or "transpose")


def axis_arg(axis: Any, dim: Any) -> Any:
    if dim is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'dim'")
        return dim
    return axis
