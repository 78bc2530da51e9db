"""Base declarations for elementwise ops: broadcasting shape rule, generated
Numba kernel from a scalar expression, and TF's broadcasting error text.

A subclass sets ``expr`` (Python over ``{0}``, ``{1}``, helpers from
``kernels.scalar`` and ``T`` = the computation dtype) and ``reference``.
"""
from __future__ import annotations

import zlib
from typing import Any, Callable, Optional

from graphflow import dtypes
from graphflow.framework.op_def import OpDef
from graphflow.framework.operation import Operation
from graphflow.framework.tensor_shape import TensorShape, broadcast_shapes
from graphflow.kernels import jitcall
from graphflow.kernels.elementwise import make_elementwise
from graphflow.ops._array_util import dt_enum_name

import numpy as np

UNARY_SHAPES = [((),), ((5,),), ((2, 3),)]
BINARY_SHAPES = [((), ()), ((5,), (5,)), ((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)),
                 ((), (2, 3)), ((4, 1, 3), (2, 1))]
CONTRACT_DTYPES = (dtypes.float16, dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64,
                   dtypes.uint8, dtypes.bool)


def sample(rng: Any, shape: tuple, dt: Any, opdef: Any) -> np.ndarray:
    """Random input of ``shape``/``dt`` from the op's domain (ints: ``int_domain``)."""
    if dt is dtypes.bool:
        return rng.random(shape) < 0.5
    if dt.is_integer:
        lo, hi = getattr(opdef, "int_domain", (-5, 6))
        if dt.is_unsigned:
            lo = max(lo, 0)
        v = rng.integers(lo, hi, size=shape)
        if getattr(opdef, "nonzero", False):
            v = np.where(v == 0, 1, v)
        return np.asarray(v, dtype=dt.np)
    lo, hi = opdef.domain
    v = rng.uniform(lo, hi, size=shape)
    if getattr(opdef, "nonzero", False):
        v = np.where(np.abs(v) < 0.1, 0.5, v)
    return np.asarray(v, dtype=dt.np)

FLOATS = dtypes.FLOATS
NUMERIC = dtypes.NUMERIC
SIGNED_NUMERIC = FLOATS + (dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64)


def broadcast_rule(op: Operation) -> TensorShape:
    """Static broadcast of the op's inputs with TF's error message."""
    inputs = op._inputs
    shape = inputs[0]._shape
    for t in inputs[1:]:
        out = broadcast_shapes(shape, t._shape)
        if out is None:
            raise ValueError(
                "Dimensions must be equal, but are %s and %s for '{{node %s}} = %s[T=%s]"
                "(%s)' with input shapes: %s." % (
                    _mismatch(shape, t.shape) + (op.name, op.type,
                                                 dt_enum_name(op.inputs[0].dtype),
                                                 ", ".join(x.op.name for x in op.inputs),
                                                 ", ".join(x.shape.to_tf_string()
                                                           for x in op.inputs))))
        shape = out
    return shape



def _mismatch(a: TensorShape, b: TensorShape) -> tuple:
    x, y = list(a), list(b)
    n = max(len(x), len(y))
    x = [1] * (n - len(x)) + x
    y = [1] * (n - len(y)) + y
    for p, q in zip(reversed(x), reversed(y)):
        if p not in (1, None) and q not in (1, None) and p != q:
            return (p, q)
    return (x, y)


class Elementwise(OpDef):
    """An op computing ``expr`` per element of its broadcast inputs."""
    failures = "shapes"

    elementwise = True
    expr: str = ""
    out_dtype: Any = None  # None: same as inputs; else a fixed DType (e.g. bool)
    check: Optional[Callable] = None  # check(op, *arrays) -> raise KernelError

    @classmethod
    def infer(cls, op: Operation) -> list:
        dt = cls.out_dtype or op._inputs[0]._dtype._base
        return [(dt, broadcast_rule(op))]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        out_dt = op.outputs[0].dtype.np
        comp_dt = op.inputs[0].dtype.base_dtype.np
        expr = cls.expr_for(op)
        check = None
        if cls.check is not None:
            chk = cls.check

            def check(*xs: Any) -> None:
                chk(op, *xs)
        if comp_dt == np.float16:  # Numba has no float16 arithmetic: compute in float32
            run32 = make_elementwise(expr, np.float32 if cls.out_dtype is None else out_dt)

            def run(*xs: Any) -> Any:
                return run32(*[x.astype(np.float32) for x in xs]).astype(out_dt)
            return run
        return make_elementwise(expr, comp_dt if cls.out_dtype is None else out_dt, check)

    @classmethod
    def jit_call(cls, op: Operation) -> Any:
        """Its generated kernel inside a segment (no ``check`` hook, fusible dtypes)."""
        from graphflow.compiler.fuse import FUSIBLE_DTYPES
        comp = op._inputs[0]._dtype
        expr = cls.expr_for(op)
        if cls.check is not None or comp not in FUSIBLE_DTYPES or not expr:
            return None
        if any(t._dtype != comp for t in op._inputs):
            return None
        k = len(op._inputs)
        out = op._outputs[0]
        return jitcall.elementwise_call([(expr, tuple(range(k)))], op._inputs, [k],
                                        comp.np, [out._dtype.np], jitcall.static_shape(out))

    @classmethod
    def examples(cls) -> list:
        """Broadcast-shape sweep over the allowed dtypes, sampled from ``domain``."""
        n = len(cls.inputs)
        shapes = UNARY_SHAPES if n == 1 else BINARY_SHAPES if n == 2 else [
            tuple(s for _ in range(n)) for s in ((), (4,), (2, 3))]
        allowed = cls.allowed or dtypes.NUMERIC
        cases = []
        rng = np.random.default_rng(zlib.crc32(cls.op_type.encode()))  # stable across processes
        for dt in [d for d in CONTRACT_DTYPES if d in allowed]:
            for shp in shapes:
                cases.append(([sample(rng, s, dt, cls) for s in shp], {}))
        return cases

    @classmethod
    def expr_for(cls, op: Operation) -> str:
        """The scalar expression for this op's input dtypes (override to vary)."""
        return cls.expr
