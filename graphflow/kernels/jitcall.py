"""How one plan step runs inside a generated segment function (compiler/segments.py).

A segment is a run of small plan steps compiled into one njit function, so
that a chain of hundreds of tiny ops costs one Python call instead of one per
op. An op takes part by offering a :class:`JitCall` (``OpDef.jit_call(op)``;
fused groups get one from :func:`elementwise_call`): the njit source lines
computing its outputs from its inputs, given fully known static shapes.

Lines are format strings over ``{i0}``, ``{i1}``.. (input values), ``{o0}``..
(outputs) and ``{g0}``.. (the njit functions in ``uses``, each
``"module:attribute"`` or ``"gf:<key>"`` for a generated kernel of
``kernels.codegen``). With ``alloc`` the outputs are arrays the lines write
into (allocated by the segment, or by its Python caller when they outlive the
segment: Numba returning an array costs ~0.5 us, NumPy allocating one ~0.1);
without it the lines assign them. A call must compute exactly what the op's kernel
computes (the same njit kernel where there is one, so results are the same
bits) and must raise, never read out of bounds, on inputs that do not have the
static shapes it was made for: the segment then reruns its steps one by one
and reports the op's own error.
"""
from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple, Optional, Sequence

import numpy as np

MAX_ELEMENTS = 1 << 16  # larger outputs: per-op overhead is negligible, keep the op's kernel


class JitCall(NamedTuple):
    """Source lines computing one step inside a segment (see the module docstring)."""
    lines: tuple
    uses: tuple = ()
    reads: Optional[tuple] = None  # input indices the lines use (None: all)
    cost: int = 1  # code size, in elementwise ops: bounds a segment (compile time)
    alloc: Optional[tuple] = None  # (shape, dtype name) per output the lines write into
    fresh: bool = False  # the outputs are new arrays (always so with ``alloc``)
    inplace: tuple = ()  # (input j, output q) pairs that ``variant(j, q)`` can write in place
    variant: Optional[Callable] = None  # (j, q) -> JitCall writing output q into input j


def resolve(ref: str) -> Any:
    """The njit function a ``uses`` entry names (imported by generated segment modules):
    a generated kernel, or a function of one of the kernel modules listed here."""
    from graphflow.kernels import codegen, linalg_kernels, reduction_kernels
    mod, _, attr = ref.partition(":")
    if mod == "gf":
        return codegen.kernel_for_key(attr)
    module = {"graphflow.kernels.linalg_kernels": linalg_kernels,
              "graphflow.kernels.reduction_kernels": reduction_kernels}.get(mod)
    if module is None:
        raise ValueError("segment kernels come from graphflow's kernel modules, not %r" % mod)
    return getattr(module, attr)


def static_shape(t: Any) -> Optional[tuple]:
    """``t``'s fully known static shape as a tuple, else None."""
    s = t._shape
    return s.as_tuple() if s.is_fully_defined() else None


def small(shape: Optional[tuple]) -> bool:
    """Known and at most ``MAX_ELEMENTS`` elements."""
    return shape is not None and math.prod(shape) <= MAX_ELEMENTS


def elementwise_call(nodes: Sequence[tuple], inputs: Sequence[Any], out_values: Sequence[int],
                     dtype: Any, out_dtypes: Sequence[Any], out_shape: Optional[tuple]
                     ) -> Optional[JitCall]:
    """The call of a generated elementwise kernel (one op or a fused group).

    Each input must have the output's static shape (read pattern ``f``) or one
    element (``s``); broadcasting inputs are left to the step's own launcher.
    """
    from graphflow.kernels import codegen
    if not small(out_shape):
        return None
    n = math.prod(out_shape)
    patterns = ""
    for t in inputs:
        s = static_shape(t)
        if s == out_shape:
            patterns += "f"
        elif s is not None and math.prod(s) == 1:
            patterns += "s"
        else:
            return None
    dt = np.dtype(dtype).name
    alloc = tuple((out_shape, np.dtype(d).name) for d in out_dtypes)
    # an output may go into an input read element by element with its dtype (the
    # codegen in-place variant: one array as input and output would not vectorize)
    pairs = tuple((j, q) for j, ch in enumerate(patterns) if ch == "f"
                  for q, d in enumerate(out_dtypes) if np.dtype(d) == np.dtype(dtype))

    def call(inplace: Optional[tuple] = None) -> Optional[JitCall]:
        fk = codegen.fused_kernel(nodes, patterns, out_values, dt, inplace=inplace)
        if inplace is not None and fk.inplace is None:
            return None
        skip = inplace[1] if inplace is not None else -1
        args = ["{i%d}.reshape(%d)" % (p, n if fk.patterns[j] == "f" else 1)
                for j, p in enumerate(fk.in_order)]
        args += ["{o%d}.reshape(%d)" % (q, n) for q in fk.out_order if q != skip]
        return JitCall(("{g0}(%s)" % ", ".join(args),), ("gf:" + fk.key,), tuple(fk.in_order),
                       len(nodes), alloc, True, pairs, lambda j, q: call((j, q)))

    return call()
