"""Array ops, part 5: padding: Pad, PadV2 and MirrorPad (with MirrorPadGrad, its
gradient op). Same as TF's ``tf.pad``; re-exported by ``graphflow.ops.array_ops``.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from graphflow import dtypes
from graphflow.errors import InvalidArgumentError, KernelError
from graphflow.framework.op_def import ConstInput, OpDef, REQUIRED, apply_op, register_op
from graphflow.framework.operation import Operation, Tensor
from graphflow.framework.tensor_shape import TensorShape
from graphflow.ops._array_util import (build, check_alloc, check_index_dtype, const_ints,
                                       graph_values, rank_error, require_rank, shape_error)
from graphflow.ops.array_ops import shape

__all__ = ["pad"]


def _kerr(msg: str) -> KernelError:
    return KernelError(InvalidArgumentError, msg)


def _fmt(dims: Any) -> str:
    return "[%s]" % ",".join("?" if d is None else str(d) for d in dims)


def _np_pad(x: np.ndarray, p: np.ndarray, mode: str, **kw: Any) -> np.ndarray:
    return np.pad(x, p, mode=mode, **kw) if x.ndim else x.copy()


# --- Pad / PadV2 -----------------------------------------------------------------------------
def _pad_rule(op: Operation, offset_sign: int) -> list:
    """Static shape of Pad-like ops: each dim grows (or, for the grad, shrinks)."""
    check_index_dtype(op, 1, "paddings")
    require_rank(op, 1, 2)
    x, p = op.inputs[0], op.inputs[1]
    dt = x.dtype.base_dtype
    nd = x.shape.ndims if x.shape.ndims is not None else p.shape[0] if p.shape.ndims else None
    pads = const_ints(p)
    if nd is None:
        return [(dt, TensorShape(None))]
    if pads is None:
        return [(dt, TensorShape([None] * nd))]
    if pads.shape[0] != nd:
        raise rank_error(op, pads.shape[0], nd)
    if (pads < 0).any():
        raise shape_error(op, "Paddings must be non-negative")
    dims = x.shape.as_list() if x.shape.ndims is not None else [None] * nd
    return [(dt, TensorShape([None if d is None else d + offset_sign * int(a + b)
                              for d, (a, b) in zip(dims, pads)]))]


def _np_pad(x: np.ndarray, p: np.ndarray, mode: str, **kw: Any) -> np.ndarray:
    return np.pad(x, p, mode=mode, **kw) if x.ndim else x.copy()


def _check_pads(x: np.ndarray, paddings: Any) -> np.ndarray:
    p = np.asarray(paddings, dtype=np.int64).reshape(-1, 2) if np.size(paddings) else \
        np.zeros((0, 2), np.int64)
    if p.shape[0] != x.ndim:
        raise _kerr("The first dimension of paddings must be the rank of inputs%s %s"
                    % (_fmt(np.shape(paddings)), _fmt(x.shape)))
    for a, b in p:
        if a < 0 or b < 0:
            raise _kerr("Paddings must be non-negative: %d %d" % (a, b))
    check_alloc([d + int(a) + int(b) for d, (a, b) in zip(x.shape, p)], x.dtype)
    return p


class _PadBase(OpDef):
    input_dtypes = {"paddings": dtypes.int32}
    index_attrs = {"Tpaddings": 1}
    tensor_inputs = (1,)

    @classmethod
    def infer(cls, op: Operation) -> list:
        if len(op.inputs) == 3:
            require_rank(op, 2, 0)
        return _pad_rule(op, 1)

    @staticmethod
    def grad(op: Operation, dy: Any) -> list:
        from graphflow.ops.slicing_ops import slice as tf_slice
        x, p = op.inputs[0], op.inputs[1]
        begin = p[:, 0]
        g = tf_slice(dy, begin, shape(x, out_type=p.dtype.base_dtype))
        return [g] + [None] * (len(op.inputs) - 1)


@register_op
class Pad(_PadBase):
    """Zero-pad ``input`` by ``paddings`` ([rank, 2]: before, after)."""
    inputs = ("input", "paddings")
    same_dtype = ("input",)

    @staticmethod
    def reference(x: Any, paddings: Any) -> np.ndarray:
        x = np.asarray(x)
        return _np_pad(x, _check_pads(x, paddings), "constant")

    @classmethod
    def examples(cls) -> list:
        c = ConstInput
        return [([np.arange(6, dtype=np.float32).reshape(2, 3), c([[1, 0], [2, 1]], np.int32)],
                 {}), ([np.int32(3), c(np.zeros((0, 2)), np.int32)], {}),
                ([np.ones((0, 2), np.int64), c([[1, 1], [0, 0]], np.int64)], {})]


@register_op
class PadV2(_PadBase):
    """Pad ``input`` by ``paddings`` with the scalar ``constant_values``."""
    inputs = ("input", "paddings", "constant_values")
    same_dtype = ("input", "constant_values")

    @staticmethod
    def reference(x: Any, paddings: Any, constant_values: Any) -> np.ndarray:
        x = np.asarray(x)
        return _np_pad(x, _check_pads(x, paddings), "constant",
                       constant_values=np.asarray(constant_values)[()])

    @classmethod
    def examples(cls) -> list:
        c = ConstInput
        # constant_values gets no gradient (as in TF), so the examples hold it constant
        return [([np.arange(6, dtype=np.float32).reshape(2, 3), c([[0, 1], [1, 1]], np.int32),
                  c(-7.5, np.float32)], {}),
                ([np.array([True]), c([[2, 0]], np.int32), np.bool_(True)], {})]


_MIRROR = {"REFLECT": ("reflect", 0), "SYMMETRIC": ("symmetric", 1)}


def _check_mirror(x_shape: tuple, p: np.ndarray, mode: str) -> None:
    slack = _MIRROR[mode][1]
    for d, (a, b) in zip(x_shape, p):
        for v in (a, b):
            if v > d - 1 + slack:
                if slack:
                    raise _kerr("paddings must be no greater than the dimension size: %d, %d "
                                "greater than %d" % (a, b, d))
                raise _kerr("paddings must be less than the dimension size: %d, %d not less "
                            "than %d" % (a, b, d))


@register_op
class MirrorPad(_PadBase):
    """Pad by mirroring ``input``: REFLECT (edge not repeated) or SYMMETRIC (repeated)."""
    inputs = ("input", "paddings")
    same_dtype = ("input",)
    attrs = {"mode": REQUIRED}

    @staticmethod
    def reference(x: Any, paddings: Any, mode: str) -> np.ndarray:
        x = np.asarray(x)
        p = _check_pads(x, paddings)
        _check_mirror(x.shape, p, mode)
        return _np_pad(x, p, _MIRROR[mode][0])

    @staticmethod
    def grad(op: Operation, dy: Any) -> list:
        return [apply_op("MirrorPadGrad", dy, op.inputs[1], mode=op.get_attr("mode")), None]

    @classmethod
    def examples(cls) -> list:
        c = ConstInput
        x = np.arange(12, dtype=np.float32).reshape(3, 4)
        return [([x, c([[2, 1], [0, 3]], np.int32)], {"mode": "REFLECT"}),
                ([x, c([[3, 3], [1, 4]], np.int32)], {"mode": "SYMMETRIC"})]


@register_op
class MirrorPadGrad(OpDef):
    """Gradient of MirrorPad: mirrored border values folded back onto the core."""
    inputs = ("input", "paddings")
    same_dtype = ("input",)
    input_dtypes = {"paddings": dtypes.int32}
    attrs = {"mode": REQUIRED}
    index_attrs = {"Tpaddings": 1}
    tensor_inputs = (1,)

    @classmethod
    def infer(cls, op: Operation) -> list:
        return _pad_rule(op, -1)

    @staticmethod
    def reference(dy: Any, paddings: Any, mode: str) -> np.ndarray:
        g = np.array(dy)
        p = np.asarray(paddings, dtype=np.int64).reshape(-1, 2)
        shift = 1 - _MIRROR[mode][1]  # REFLECT skips the edge element
        for ax, (a, b) in enumerate(p):
            g = np.moveaxis(g, ax, 0)
            m = g.shape[0] - a - b
            core = np.array(g[a:a + m])
            np.add.at(core, a - 1 + shift - np.arange(a), g[:a])
            np.add.at(core, m - 1 - shift - np.arange(b), g[a + m:])
            g = np.moveaxis(core, 0, ax)
        return np.ascontiguousarray(g)

    @staticmethod
    def grad(op: Operation, ddx: Any) -> list:
        return [apply_op("MirrorPad", ddx, op.inputs[1], mode=op.get_attr("mode")), None]

    @classmethod
    def examples(cls) -> list:
        c = ConstInput
        dy = np.arange(42, dtype=np.float64).reshape(6, 7)
        return [([dy, c([[2, 1], [0, 3]], np.int32)], {"mode": "REFLECT"}),
                ([dy, c([[1, 2], [3, 0]], np.int32)], {"mode": "SYMMETRIC"})]


def pad(tensor: Any, paddings: Any, mode: str = "CONSTANT", name: Optional[str] = None,
        constant_values: Any = 0) -> Tensor:
    """Pad ``tensor`` (``tf.pad``): mode CONSTANT (Pad, or PadV2 for a nonzero
    ``constant_values``), REFLECT or SYMMETRIC (MirrorPad). Case-insensitive."""
    mode = mode.upper()
    if mode == "CONSTANT":
        if not graph_values(constant_values) and np.all(np.asarray(constant_values) == 0):
            return build("Pad", name, "Pad", tensor, paddings)
        return build("PadV2", name, "PadV2", tensor, paddings, constant_values)
    if mode in _MIRROR:
        return build("MirrorPad", name, "MirrorPad", tensor, paddings, mode=mode)
    raise ValueError("Unknown padding mode: %s" % mode)
