"""AccumulateNV2: sum a list of same-shaped tensors into one buffer.

Same as TF's ``AccumulateNV2`` op (``tf.math.accumulate_n``). Unlike ``AddN``,
whose kernel needs all of its inputs at once, an accumulation can take its
terms one at a time in any order. graphflow uses that: when the plan is built
(``compiler/accumulate.py``) an ``AccumulateNV2`` step is split into one
"add this term" step per input, each placed right after the step producing
that term, so a term's buffer can die as soon as it has been added. That is
why ``tf.gradients(..., aggregation_method=EXPERIMENTAL_ACCUMULATE_N)`` keeps
fewer gradient terms alive than ``ADD_N`` (TF 1.x's reason for the op).
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from graphflow import dtypes
from graphflow.errors import InvalidArgumentError, KernelError
from graphflow.framework.op_def import REQUIRED, OpDef, apply_op, register_op
from graphflow.framework.operation import Operation, Tensor
from graphflow.framework.tensor_shape import TensorShape, as_shape, unknown_shape
from graphflow.kernels import aggregation_kernels as K

__all__ = ["accumulate_n"]

_NUMBA_KINDS = "iufc"  # dtype kinds the Numba kernels handle (float16 goes through numpy)


@register_op
class AccumulateNV2(OpDef):
    """Elementwise sum of N same-shaped tensors, accumulated in one output buffer."""
    inputs = ("*inputs",)
    attrs = {"shape": REQUIRED}
    allowed = dtypes.NUMERIC + (dtypes.complex64, dtypes.complex128)

    @classmethod
    def infer(cls, op: Operation) -> list:
        shape = as_shape(op.get_attr("shape"))
        for i, t in enumerate(op.inputs):
            if not shape.is_compatible_with(t.shape):
                raise ValueError("Shapes %s and %s are incompatible: input %d of '{{node %s}} "
                                 "= AccumulateNV2' does not match the op's shape" % (
                                     shape.to_tf_string(), t.shape.to_tf_string(), i, op.name))
            shape = shape.merge_with(t.shape)
        return [(op.inputs[0].dtype.base_dtype, shape)]

    @staticmethod
    def reference(inputs: list, shape: Any = None) -> np.ndarray:
        out = np.array(inputs[0], copy=True)
        for x in inputs[1:]:
            out = out + x
        return out

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        step = cls.accumulator(op, ctx)

        def run(*xs: Any) -> np.ndarray:
            acc = None
            for x in xs:
                acc = step(acc, x)
            return acc
        return run

    @classmethod
    def accumulator(cls, op: Operation, ctx: Any) -> Callable:
        """``add(acc, x) -> acc``: start (acc None) or extend an accumulation in place.

        The plan splits an AccumulateNV2 step into one call of this per input.
        """
        dt = op.outputs[0].dtype.base_dtype.np
        static = op.outputs[0].shape
        name, op_type = op.name, op.type  # also used for AddN (compiler/accumulate.py)
        numba_ok = np.dtype(dt).kind in _NUMBA_KINDS and np.dtype(dt) != np.float16

        def add(acc: Optional[np.ndarray], x: Any) -> np.ndarray:
            x = np.asarray(x)
            if acc is None:
                if not static.is_compatible_with(x.shape):
                    raise KernelError(InvalidArgumentError, "Input of %s %s has shape "
                                      "%s, which is incompatible with the op's shape %s"
                                      % (op_type, name, list(x.shape), static))
                acc = np.empty(x.shape, dtype=dt)
                if numba_ok and x.dtype == dt:
                    K.copy_into(acc.reshape(-1), np.ascontiguousarray(x).reshape(-1))
                else:
                    acc[...] = x
                return acc
            if x.shape != acc.shape:
                raise KernelError(InvalidArgumentError, "Shapes of all inputs must match: "
                                  "values[0].shape = %s != values[i].shape = %s"
                                  % (list(acc.shape), list(x.shape)))
            if numba_ok and x.dtype == dt:
                K.accumulate_into(acc.reshape(-1), np.ascontiguousarray(x).reshape(-1))
            else:
                np.add(acc, x, out=acc)
            return acc
        return add

    @staticmethod
    def grad(op: Operation, dy: Any) -> list:
        return [dy] * len(op.inputs)

    @classmethod
    def examples(cls) -> list:
        rng = np.random.default_rng(7)
        return [
            ([[rng.standard_normal((2, 3)).astype(np.float32) for _ in range(3)]],
             {"shape": TensorShape([2, 3])}),
            ([[rng.standard_normal(5) for _ in range(4)]], {"shape": TensorShape([5])}),
            ([[np.float64(1.5), np.float64(-2.0)]], {"shape": TensorShape([])}),
            ([[np.arange(6, dtype=np.int32).reshape(3, 2)] * 2], {"shape": TensorShape([3, 2])}),
            ([[rng.standard_normal((2, 2)).astype(np.float16) for _ in range(3)]],
             {"shape": TensorShape([2, 2])}),
        ]


def accumulate_n(inputs: list, shape: Any = None, tensor_dtype: Any = None,
                 name: Optional[str] = None) -> Any:
    """Sum ``inputs`` elementwise (``tf.math.accumulate_n``, TF 1.x graph behaviour).

    All inputs must have the same dtype and compatible shapes. A single input
    is returned as is (or through an ``Identity`` when ``name`` is given).
    """
    from graphflow.framework.indexed_slices import convert_to_tensor_or_indexed_slices
    if not inputs or not isinstance(inputs, (list, tuple)):
        raise ValueError("inputs must be a list of at least one Tensor/IndexedSlices with the "
                         "same dtype and shape")
    inputs = [convert_to_tensor_or_indexed_slices(x) for x in inputs]
    if not all(x.dtype == inputs[0].dtype for x in inputs):
        raise ValueError("inputs must be a list of at least one Tensor/IndexedSlices with the "
                         "same dtype and shape")
    static = as_shape(shape) if shape is not None else unknown_shape()
    for x in inputs:
        if isinstance(x, Tensor):
            static = static.merge_with(x.shape)
    if tensor_dtype is not None and dtypes.as_dtype(tensor_dtype) != inputs[0].dtype:
        raise TypeError("tensor_dtype is {}, but input is of type {}".format(
            dtypes.as_dtype(tensor_dtype).name, inputs[0].dtype.name))
    if len(inputs) == 1:
        if name is None:
            return inputs[0]
        return apply_op("Identity", inputs[0], name=name)
    return apply_op("AccumulateNV2", list(inputs), name=name or "AccumulateNV2", shape=static)
