"""Run generated elementwise kernels on arrays: broadcasting and patterns.

``make_elementwise`` returns the callable a plan step binds: it computes the
broadcast output shape, picks each input's read pattern, allocates the output
and calls the cached njit kernel on flat contiguous views.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from graphflow.errors import InvalidArgumentError, KernelError
from graphflow.kernels.codegen import elementwise_kernel


def broadcast_error(shapes: list) -> KernelError:
    dims = " vs. ".join("[%s]" % ",".join(str(d) for d in s) for s in shapes)
    return KernelError(InvalidArgumentError, "Incompatible shapes: %s" % dims)


def _strides(shape: tuple, out_shape: tuple) -> np.ndarray:
    """Element strides of a C-contiguous array of ``shape`` broadcast to ``out_shape``."""
    nd = len(out_shape)
    full = (1,) * (nd - len(shape)) + tuple(shape)
    st = np.zeros(nd, np.int64)
    acc = 1
    for d in range(nd - 1, -1, -1):
        st[d] = 0 if full[d] == 1 else acc
        acc *= full[d]
    return st


def make_elementwise(expr: str, out_dtype: Any, check: Optional[Callable] = None) -> Callable:
    """Kernel callable for ``expr`` (inputs ``{0}``, ``{1}``...) producing ``out_dtype``.

    ``check(*arrays)`` may raise KernelError before any work (e.g. integer
    division by zero), so kernels never see invalid input.
    """
    out_np = np.dtype(out_dtype)
    tname = out_np.name
    kernels: dict = {}

    def get(patterns: str) -> Any:
        k = kernels.get(patterns)
        if k is None:
            k = kernels[patterns] = elementwise_kernel(expr, patterns, tname)
        return k

    def run(*xs: np.ndarray) -> np.ndarray:
        if check is not None:
            check(*xs)
        shape = xs[0].shape
        same = True
        for x in xs[1:]:
            if x.shape != shape:
                same = False
                break
        if same:
            out = np.empty(shape, out_np)
            if out.size:
                get("f" * len(xs))(*[np.ascontiguousarray(x).reshape(-1) for x in xs],
                                   out.reshape(-1))
            return out
        try:
            shape = np.broadcast_shapes(*[x.shape for x in xs])
        except ValueError:
            raise broadcast_error([x.shape for x in xs]) from None
        out = np.empty(shape, out_np)
        if out.size == 0:
            return out
        pats, extra = [], []
        for x in xs:
            if x.shape == shape:
                pats.append("f")
            elif x.size == 1:
                pats.append("s")
            else:
                pats.append("b")
                extra.append(_strides(x.shape, shape))
        flat = [np.ascontiguousarray(x).reshape(-1) for x in xs]
        if extra:
            get("".join(pats))(*flat, out.reshape(-1), np.array(shape, np.int64), *extra)
        else:
            get("".join(pats))(*flat, out.reshape(-1))
        return out

    return run
