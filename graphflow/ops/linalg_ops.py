"""Matrix products: MatMul (rank 2) and BatchMatMulV2 (rank >= 2, batch dims
broadcast), and the ``tf.matmul`` builder that picks between them.

Kernel choice (measured with numpy 2.4 / scipy-openblas 0.3.31, numba 0.68.1,
2-core Zen 4, float32, medians; the machine was shared, so large-shape timings
varied between runs):

============================  ============  ==================
call (from Python)            16x16 @16x16  256x784 @ 784x512
============================  ============  ==================
``np.dot(a, b)``               0.53 us       630-830 us
``np.matmul(a, b)`` / ``@``    0.71 us       630-830 us
``np.empty`` + ``np.dot(out=)`` 0.92 us      610-750 us
njit ``np.dot(a, b, out)``     0.46 us*      630-840 us
njit ``np.dot`` returning new  0.80 us       630-640 us
============================  ============  ==================

(*) needs a preallocated output, which a kernel that returns a fresh array
does not have. Large products are the same BLAS speed either way; small ones
are fastest with ``np.dot`` allocating its own result. Alternating numpy's
BLAS with the njit ``np.dot`` (scipy's separate OpenBLAS, a second 2-thread
pool) cost 70 ms per pair of 256x784x512 products against 1.3 ms for numpy
alone (numba-facts.md section 4), so the kernels use numpy only: ``np.dot`` for
MatMul (transposes are passed to BLAS as strided views, no copies) and
``np.matmul`` for batched products. MatMul calls it through
``kernels.blas.matmul``: one OpenBLAS thread per call, large products split
in row blocks over graphflow's own threads (OpenBLAS's spinning threads
collapse when a core is busy; see that module).
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from graphflow import dtypes
from graphflow.errors import InvalidArgumentError, KernelError
from graphflow.framework import graph as graph_mod
from graphflow.framework.op_def import OpDef, apply_op, register_op
from graphflow.framework.operation import Operation, Tensor, convert_to_tensor, register_operator
from graphflow.framework.tensor_shape import TensorShape, broadcast_shapes
from graphflow.kernels import blas, jitcall
from graphflow.ops import _array_util

__all__ = ["matmul"]
MATH_API = ["matmul"]

MATMUL_DTYPES = (dtypes.float16, dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64)


def _inner_mismatch(op: Operation, k1: Optional[int], k2: Optional[int]) -> None:
    if k1 is not None and k2 is not None and k1 != k2:
        raise _array_util.shape_error(op, "Dimensions must be equal, but are %d and %d"
                                      % (k1, k2))


def _fmt(shape: tuple) -> str:
    return "[%s]" % ",".join(str(d) for d in shape)


# --- MatMul -----------------------------------------------------------------------------------
def _matmul_ref(a: np.ndarray, b: np.ndarray, transpose_a: bool = False,
                transpose_b: bool = False) -> np.ndarray:
    return np.matmul(a.T if transpose_a else a, b.T if transpose_b else b)


def _matmul_grad(op: Operation, dy: Any) -> list:
    """TF's four transpose cases: each gradient is one MatMul."""
    a, b = op.inputs
    ta, tb = op.get_attr("transpose_a"), op.get_attr("transpose_b")
    if not ta and not tb:
        return [matmul(dy, b, transpose_b=True), matmul(a, dy, transpose_a=True)]
    if not ta and tb:
        return [matmul(dy, b), matmul(dy, a, transpose_a=True)]
    if ta and not tb:
        return [matmul(b, dy, transpose_b=True), matmul(a, dy)]
    return [matmul(b, dy, transpose_a=True, transpose_b=True),
            matmul(dy, a, transpose_a=True, transpose_b=True)]


@register_op
class MatMul(OpDef):
    """``op(a) @ op(b)`` for rank-2 ``a``, ``b`` (op = optional transpose)."""
    failures = "shapes"

    inputs = ("a", "b")
    attrs = {"transpose_a": False, "transpose_b": False}
    allowed = MATMUL_DTYPES
    reference = staticmethod(_matmul_ref)
    grad = staticmethod(_matmul_grad)

    @classmethod
    def infer(cls, op: Operation) -> list:
        a, b = op.inputs
        for t in (a, b):
            if t.shape.ndims is not None and t.shape.ndims != 2:
                raise _array_util.rank_error(op, 2, t.shape.ndims)
        sa = a.shape.as_list() if a.shape.ndims is not None else [None, None]
        sb = b.shape.as_list() if b.shape.ndims is not None else [None, None]
        m, k1 = (sa[1], sa[0]) if op.get_attr("transpose_a") else (sa[0], sa[1])
        k2, n = (sb[1], sb[0]) if op.get_attr("transpose_b") else (sb[0], sb[1])
        _inner_mismatch(op, k1, k2)
        return [(a.dtype.base_dtype, TensorShape([m, n]))]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Any:
        ta, tb = op.get_attr("transpose_a"), op.get_attr("transpose_b")
        dot = blas.matmul  # row blocks over graphflow's threads (kernels/blas.py)
        small, npdot = blas.SINGLE_THREAD_FLOPS, np.dot

        def run(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            if not (ta or tb) and a.ndim == 2 and b.ndim == 2 and a.shape[1] == b.shape[0]:
                if a.size * b.shape[1] < small:  # small: no thread handling (W5)
                    return npdot(a, b)
                return dot(a, b)  # the common case, checked in one line
            for i, m in enumerate((a, b)):
                if m.ndim != 2:
                    raise KernelError(InvalidArgumentError, "In[%d] is not a matrix. Instead it "
                                                            "has shape %s" % (i, _fmt(m.shape)))
            x = a.T if ta else a
            y = b.T if tb else b
            if x.shape[1] != y.shape[0]:
                raise KernelError(InvalidArgumentError, "Matrix size-incompatible: In[0]: %s, "
                                  "In[1]: %s" % (_fmt(a.shape), _fmt(b.shape)))
            return dot(x, y)
        return run

    @classmethod
    def jit_call(cls, op: Operation) -> Any:
        """Small float products (the ``np.dot`` case of the kernel) inside a segment."""
        a, b = op._inputs
        sa, sb = jitcall.static_shape(a), jitcall.static_shape(b)
        if (op.get_attr("transpose_a") or op.get_attr("transpose_b") or sa is None
                or sb is None or len(sa) != 2 or len(sb) != 2 or sa[1] != sb[0]
                or a._dtype not in (dtypes.float32, dtypes.float64)
                or sa[0] * sa[1] * sb[1] >= blas.SINGLE_THREAD_FLOPS):
            return None
        return jitcall.JitCall(("{o0} = {g0}({i0}, {i1})",),
                               ("graphflow.kernels.linalg_kernels:matmul_small",), fresh=True)

    @classmethod
    def examples(cls) -> list:
        rng = np.random.default_rng(1)
        out = []
        for dt in (dtypes.float32, dtypes.float64, dtypes.int32, dtypes.float16):
            for (sa, sb, ta, tb) in (((2, 3), (3, 4), False, False), ((3, 2), (3, 4), True, False),
                                     ((2, 3), (4, 3), False, True), ((3, 2), (4, 3), True, True),
                                     ((1, 5), (5, 1), False, False), ((0, 3), (3, 2), False, False),
                                     ((2, 0), (0, 3), False, False)):
                a = rng.integers(-3, 4, size=sa) if dt.is_integer else rng.uniform(-1, 1, sa)
                b = rng.integers(-3, 4, size=sb) if dt.is_integer else rng.uniform(-1, 1, sb)
                out.append(([a.astype(dt.np), b.astype(dt.np)],
                            {"transpose_a": ta, "transpose_b": tb}))
        return out


# --- BatchMatMulV2 ----------------------------------------------------------------------------
def _adjoint(x: np.ndarray, adj: bool) -> np.ndarray:
    return np.swapaxes(x, -1, -2) if adj else x


def _batch_matmul_ref(x: np.ndarray, y: np.ndarray, adj_x: bool = False,
                      adj_y: bool = False) -> np.ndarray:
    return np.matmul(_adjoint(x, adj_x), _adjoint(y, adj_y))


def _batch_matmul_grad(op: Operation, dy: Any) -> list:
    """TF's adjoint cases, then the batch dims that were broadcast are summed away."""
    from graphflow.ops import array_ops, reduction_ops
    x, y = op.inputs
    ax, ay = op.get_attr("adj_x"), op.get_attr("adj_y")
    if not ax and not ay:
        gx, gy = matmul(dy, y, adjoint_b=True), matmul(x, dy, adjoint_a=True)
    elif not ax and ay:
        gx, gy = matmul(dy, y), matmul(dy, x, adjoint_a=True)
    elif ax and not ay:
        gx, gy = matmul(y, dy, adjoint_b=True), matmul(x, dy)
    else:
        gx = matmul(y, dy, adjoint_a=True, adjoint_b=True)
        gy = matmul(dy, x, adjoint_a=True, adjoint_b=True)
    sx, sy = x.shape, y.shape
    if sx.is_fully_defined() and sy.is_fully_defined():
        bx, by = sx.as_list()[:-2], sy.as_list()[:-2]
        if bx == by:
            return [gx, gy]
        rx, ry = reduction_ops.bcast_reduction_axes(bx, by)
        return [_sum_to(gx, rx, sx.as_list()), _sum_to(gy, ry, sy.as_list())]
    shx, shy = array_ops.shape(x), array_ops.shape(y)
    rx, ry = reduction_ops.broadcast_gradient_args(shx[:-2], shy[:-2])
    return [array_ops.reshape(reduction_ops.reduce_sum(gx, rx), shx),
            array_ops.reshape(reduction_ops.reduce_sum(gy, ry), shy)]


def _sum_to(g: Tensor, axes: list, shape: list) -> Tensor:
    from graphflow.ops import array_ops, reduction_ops
    if axes:
        g = reduction_ops.reduce_sum(g, axes)
    return array_ops.reshape(g, shape)


@register_op
class BatchMatMulV2(OpDef):
    """Batched ``adj(x) @ adj(y)`` over the last two axes; batch dims broadcast."""
    failures = "shapes"

    inputs = ("x", "y")
    attrs = {"adj_x": False, "adj_y": False}
    allowed = MATMUL_DTYPES
    reference = staticmethod(_batch_matmul_ref)
    grad = staticmethod(_batch_matmul_grad)

    @classmethod
    def infer(cls, op: Operation) -> list:
        x, y = op.inputs
        dt = x.dtype.base_dtype
        for t in (x, y):
            if t.shape.ndims is not None and t.shape.ndims < 2:
                raise _array_util.rank_error(op, 2, t.shape.ndims, at_least=True)
        if x.shape.ndims is None or y.shape.ndims is None:
            return [(dt, TensorShape(None))]
        sx, sy = x.shape.as_list(), y.shape.as_list()
        m, k1 = (sx[-1], sx[-2]) if op.get_attr("adj_x") else (sx[-2], sx[-1])
        k2, n = (sy[-1], sy[-2]) if op.get_attr("adj_y") else (sy[-2], sy[-1])
        _inner_mismatch(op, k1, k2)
        batch = broadcast_shapes(TensorShape(sx[:-2]), TensorShape(sy[:-2]))
        if batch is None:
            raise _array_util.shape_error(op, "Incompatible batch dimensions %s and %s" % (
                TensorShape(sx[:-2]).to_tf_string(), TensorShape(sy[:-2]).to_tf_string()))
        return [(dt, TensorShape(batch.as_list() + [m, n]))]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Any:
        ax, ay = op.get_attr("adj_x"), op.get_attr("adj_y")

        def run(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            if x.ndim < 2 or y.ndim < 2:
                raise KernelError(InvalidArgumentError, "In[%d] ndims must be >= 2: %d" % (
                    0 if x.ndim < 2 else 1, min(x.ndim, y.ndim)))
            a, b = _adjoint(x, ax), _adjoint(y, ay)
            if a.shape[-1] != b.shape[-2]:
                raise KernelError(InvalidArgumentError, "In[0] mismatch In[1] shape: %d vs. %d: "
                                  "%s %s %d %d" % (a.shape[-1], b.shape[-2], _fmt(x.shape),
                                                   _fmt(y.shape), ax, ay))
            try:
                np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
            except ValueError:
                raise KernelError(InvalidArgumentError, "In[0] and In[1] must have compatible "
                                  "batch dimensions: %s vs. %s" % (_fmt(x.shape), _fmt(y.shape))
                                  ) from None
            return np.matmul(a, b)
        return run

    @classmethod
    def examples(cls) -> list:
        rng = np.random.default_rng(2)
        out = []
        for dt in (dtypes.float32, dtypes.float64, dtypes.int64):
            for (sx, sy, ax, ay) in (((2, 2, 3), (2, 3, 4), False, False),
                                     ((2, 3, 2), (2, 3, 4), True, False),
                                     ((2, 2, 3), (2, 4, 3), False, True),
                                     ((3, 2), (2, 2, 3), True, True),
                                     ((2, 1, 2, 3), (3, 3, 2), False, False),
                                     ((0, 2, 3), (3, 4), False, False)):
                x = rng.integers(-3, 4, size=sx) if dt.is_integer else rng.uniform(-1, 1, sx)
                y = rng.integers(-3, 4, size=sy) if dt.is_integer else rng.uniform(-1, 1, sy)
                out.append(([x.astype(dt.np), y.astype(dt.np)], {"adj_x": ax, "adj_y": ay}))
        return out


# --- builder ----------------------------------------------------------------------------------
def matmul(a: Any, b: Any, transpose_a: bool = False, transpose_b: bool = False,
           adjoint_a: bool = False, adjoint_b: bool = False, a_is_sparse: bool = False,
           b_is_sparse: bool = False, name: Optional[str] = None) -> Tensor:
    """``a @ b`` with optional transposes. Same as tf.matmul.

    Rank-2 inputs build ``MatMul``; inputs of higher or unknown rank build
    ``BatchMatMulV2`` (transposes become adjoints, the same for real types).
    ``a_is_sparse``/``b_is_sparse`` are accepted and ignored (dense kernel).
    """
    if transpose_a and adjoint_a:
        raise ValueError("Only one of transpose_a and adjoint_a can be True.")
    if transpose_b and adjoint_b:
        raise ValueError("Only one of transpose_b and adjoint_b can be True.")
    values = _array_util.graph_values(a, b)
    with graph_mod.name_scope(name, "MatMul", values or None) as scope:
        a, b = _convert_pair(a, b)
        ra, rb = a.shape.ndims, b.shape.ndims
        if ra is None or rb is None or ra > 2 or rb > 2:
            return apply_op("BatchMatMulV2", a, b, name=scope, adj_x=transpose_a or adjoint_a,
                            adj_y=transpose_b or adjoint_b)
        return apply_op("MatMul", a, b, name=scope, transpose_a=transpose_a or adjoint_a,
                        transpose_b=transpose_b or adjoint_b)


def _convert_pair(a: Any, b: Any) -> tuple:
    """Convert operands; a Python value takes the dtype of the other operand."""
    ta = a if isinstance(a, Tensor) or _array_util.graph_values(a) else None
    tb = b if isinstance(b, Tensor) or _array_util.graph_values(b) else None
    if ta is not None:
        ta = convert_to_tensor(ta, name="a")
    if tb is not None:
        tb = convert_to_tensor(tb, name="b")
    if ta is None:
        ta = convert_to_tensor(a, name="a", preferred_dtype=None if tb is None else tb.dtype)
    if tb is None:
        tb = convert_to_tensor(b, name="b", preferred_dtype=ta.dtype.base_dtype)
    return ta, tb


register_operator("matmul", lambda x, y: matmul(x, y, name="matmul"))
