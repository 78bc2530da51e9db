"""Checkpoint ops: ``SaveV2`` and ``RestoreV2`` (TF1 ``io_ops.save_v2`` / ``restore_v2``).

The Saver builds them under its ``save`` scope. Their kernels read and write
graphflow's checkpoint bundle (``graphflow/io/checkpoint.py``); slicing
(``shape_and_slices`` other than ``""``) is not supported.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from graphflow import dtypes, errors
from graphflow.errors import KernelError
from graphflow.framework.op_def import NOT_DIFFERENTIABLE, REQUIRED, OpDef, apply_op, \
    register_op
from graphflow.framework.operation import Operation, Tensor
from graphflow.framework.tensor_shape import TensorShape
from graphflow.io import checkpoint

__all__: list = []

_COVERED = "reads/writes checkpoint files; covered by tests/train/test_saver.py"


def _text(v: Any) -> str:
    v = v.item() if isinstance(v, np.ndarray) else v
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def _names(arr: np.ndarray, what: str, n: int) -> list:
    names = [_text(x) for x in np.asarray(arr, dtype=object).reshape(-1)]
    if np.ndim(arr) != 1 or len(names) != n:
        raise KernelError(errors.InvalidArgumentError,
                          "Expected %s to be a vector of %d names, got shape %s"
                          % (what, n, list(np.shape(arr))))
    return names


def _check_slices(slices: list) -> None:
    if any(s for s in slices):
        raise KernelError(errors.UnimplementedError,
                          "graphflow checkpoints do not support partial slices: %r" % slices)


@register_op
class SaveV2(OpDef):
    """Write ``tensors`` under ``tensor_names`` to the checkpoint ``prefix``."""
    inputs = ("prefix", "tensor_names", "shape_and_slices", "*tensors")
    same_dtype = ()
    input_dtypes = {"prefix": dtypes.string, "tensor_names": dtypes.string,
                    "shape_and_slices": dtypes.string}
    attrs = {"dtypes": REQUIRED}
    num_outputs = 0
    stateful = True
    grad = NOT_DIFFERENTIABLE
    contract_exempt = _COVERED

    @classmethod
    def infer(cls, op: Operation) -> list:
        return []

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        types = [dtypes.as_dtype(d).base_dtype for d in op.get_attr("dtypes")]

        def run(prefix: Any, names: Any, slices: Any, *tensors: Any) -> None:
            keys = _names(names, "tensor_names", len(tensors))
            _check_slices(_names(slices, "shape_and_slices", len(tensors)))
            if len(set(keys)) != len(keys):
                raise KernelError(errors.InvalidArgumentError,
                                  "Duplicate tensor names in SaveV2: %s" % keys)
            try:
                checkpoint.write_bundle(_text(prefix), {
                    k: (t, d) for k, t, d in zip(keys, tensors, types)})
            except OSError as e:
                raise KernelError(errors.NotFoundError if isinstance(e, FileNotFoundError)
                                  else errors.UnknownError,
                                  "Failed to write checkpoint %s: %s" % (_text(prefix), e))
            return None
        return run


@register_op
class RestoreV2(OpDef):
    """Read ``tensor_names`` from the checkpoint ``prefix``; one output per name."""
    inputs = ("prefix", "tensor_names", "shape_and_slices")
    input_dtypes = {"prefix": dtypes.string, "tensor_names": dtypes.string,
                    "shape_and_slices": dtypes.string}
    same_dtype = ()
    attrs = {"dtypes": REQUIRED}
    stateful = True
    grad = NOT_DIFFERENTIABLE
    contract_exempt = _COVERED

    @classmethod
    def output_count(cls, op: Operation) -> int:
        return len(op.get_attr("dtypes"))

    @classmethod
    def infer(cls, op: Operation) -> list:
        return [(dtypes.as_dtype(d).base_dtype, TensorShape(None))
                for d in op.get_attr("dtypes")]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        types = [dtypes.as_dtype(d).base_dtype for d in op.get_attr("dtypes")]

        def run(prefix: Any, names: Any, slices: Any) -> Any:
            keys = _names(names, "tensor_names", len(types))
            _check_slices(_names(slices, "shape_and_slices", len(types)))
            try:
                reader = checkpoint.BundleReader(_text(prefix))
                out = []
                for key, want in zip(keys, types):
                    if not reader.has_tensor(key):
                        raise errors.NotFoundError(None, None, "Key %s not found in checkpoint"
                                                   % key)
                    have = reader.dtype(key)
                    if have != want:
                        raise errors.InvalidArgumentError(
                            None, None, "tensor_name = %s; expected dtype %s does not equal "
                                        "original dtype %s" % (key, checkpoint.tf_type_name(want),
                                                               checkpoint.tf_type_name(have)))
                    out.append(reader.get_tensor(key))
            except errors.OpError as e:
                raise KernelError(type(e), e.message) from None
            except OSError as e:
                raise KernelError(errors.DataLossError,
                                  "Failed to read checkpoint %s: %s" % (_text(prefix), e))
            return out[0] if len(out) == 1 else tuple(out)
        return run


def save_v2(prefix: Any, tensor_names: list, shape_and_slices: list, tensors: list,
            name: Optional[str] = None) -> Operation:
    """A ``SaveV2`` op writing ``tensors`` (``io_ops.save_v2``)."""
    types = tuple(_dtype_of(t) for t in tensors)
    return apply_op("SaveV2", prefix, _vec(tensor_names), _vec(shape_and_slices), list(tensors),
                    name=name or "SaveV2", dtypes=types)


def restore_v2(prefix: Any, tensor_names: list, shape_and_slices: list, dtypes_: list,
               name: Optional[str] = None) -> Any:
    """A ``RestoreV2`` op; returns its outputs as a list (``io_ops.restore_v2``)."""
    types = tuple(dtypes.as_dtype(d).base_dtype for d in dtypes_)
    out = apply_op("RestoreV2", prefix, _vec(tensor_names), _vec(shape_and_slices),
                   name=name or "RestoreV2", dtypes=types)
    return [out] if len(types) == 1 else list(out)


def _vec(names: Any) -> Any:
    """A string tensor stays as it is; a Python sequence becomes a list."""
    return names if isinstance(names, Tensor) else list(names)


def _dtype_of(t: Any) -> dtypes.DType:
    return t.dtype.base_dtype
