"""Helpers for registry-driven op tests (tests/test_op_contract.py).

* ``build_example``: build one op from a contract example (inputs become
  placeholders, ``ConstInput`` values constants) and return its outputs and
  feeds;
* ``gradient_declaration``: what an op type declares about its gradient, with
  the lookup rules of ``op_def.get_gradient_function``;
* ``gradient_cases`` / ``check_gradient``: the numerical gradient check of
  one op on its examples cast to float64, by central differences
  (``gradient_checker.compute_gradient``).
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from graphflow import dtypes
from graphflow.framework.op_def import (NOT_DIFFERENTIABLE, ConstInput, _GRADIENT_REGISTRY,
                                        apply_op, registered_ops)

GRAD_DELTA = 1e-5      # central-difference step (float64)
GRAD_RTOL = 1e-6       # |theoretical - numerical| <= GRAD_ATOL + GRAD_RTOL * |numerical|
GRAD_ATOL = 1e-6


def _is_float(a: np.ndarray) -> bool:
    return a.dtype.kind == "f"


def build_example(inputs: list, feeds: dict, raw: list) -> list:
    """Graph inputs for an example: placeholders (fed) or constants (``ConstInput``).

    Appends the NumPy value of each input to ``raw`` (lists stay lists) and
    the placeholder values to ``feeds``. Returns the apply_op arguments.
    """
    from graphflow.ops import array_ops
    args = []

    def one(x: Any, sink: list) -> Any:
        if isinstance(x, ConstInput):
            sink.append(x.value)
            return array_ops.constant(x.value)
        x = np.asarray(x)
        sink.append(x)
        p = array_ops.placeholder(dtypes.as_dtype(x.dtype), x.shape)
        feeds[p] = x
        return p
    for x in inputs:
        if isinstance(x, list):
            sub_raw: list = []
            args.append([one(y, sub_raw) for y in x])
            raw.append(sub_raw)
        else:
            args.append(one(x, raw))
    return args


class _FakeOp:
    """Just enough of an Operation for ``get_gradient_function``'s lookup."""

    def __init__(self, op_type: str) -> None:
        self.type = op_type
        self.name = op_type
        self._gradient_type = None


def gradient_declaration(op_type: str) -> str:
    """``'function'``, ``'not_differentiable'``, ``'exempt'`` or ``'missing'`` for an op type.

    Follows ``get_gradient_function``: a user registration (RegisterGradient /
    NotDifferentiable) wins over the OpDef's ``grad``. ``'exempt'`` is an op
    that deliberately has no gradient, like TF (``no_gradient = "reason"`` on
    its OpDef): reaching it in a backward pass raises LookupError.
    """
    from graphflow.framework.op_def import get_gradient_function
    opdef = registered_ops()[op_type]
    if op_type in _GRADIENT_REGISTRY:
        return "function" if _GRADIENT_REGISTRY[op_type] is not None else "not_differentiable"
    if opdef.grad is NOT_DIFFERENTIABLE:
        return "not_differentiable"
    try:
        fn = get_gradient_function(_FakeOp(op_type))
    except LookupError:
        return "exempt" if getattr(opdef, "no_gradient", "") else "missing"
    return "function" if fn is not None else "not_differentiable"


def _widen(x: Any) -> Any:
    if isinstance(x, list):
        return [_widen(y) for y in x]
    if isinstance(x, ConstInput):
        return x
    a = np.asarray(x)
    return a.astype(np.float64) if _is_float(a) else a


def _widen_attr(v: Any) -> Any:
    if isinstance(v, dtypes.DType) and v.base_dtype.is_floating:
        return dtypes.float64
    return v


def _signature(inputs: list, attrs: dict) -> tuple:
    def sig(x: Any) -> Any:
        if isinstance(x, list):
            return tuple(sig(y) for y in x)
        if isinstance(x, ConstInput):
            return ("const", x.value.shape, str(x.value.dtype), x.value.tobytes())
        a = np.asarray(x)
        return (a.shape, "f" if _is_float(a) else str(a.dtype))
    return tuple(sig(x) for x in inputs), repr(sorted((k, repr(_widen_attr(v)))
                                                      for k, v in attrs.items()))


def _float_width(inputs: list) -> int:
    w = 0
    for x in inputs:
        for y in (x if isinstance(x, list) else [x]):
            if not isinstance(y, ConstInput):
                a = np.asarray(y)
                if _is_float(a):
                    w = max(w, a.dtype.itemsize)
    return w


def gradient_cases(op_type: str) -> list:
    """The op's examples with float inputs (cast to float64), one per shape signature.

    Examples without a float (non-constant) input are dropped; among examples
    differing only in float width the widest is kept (least rounding).
    """
    opdef = registered_ops()[op_type]
    if opdef.contract_exempt or opdef.stateful:
        return []
    best: dict = {}
    for inputs, attrs in opdef.examples():
        w = _float_width(inputs)
        if w == 0:
            continue
        key = _signature(inputs, attrs)
        if key not in best or w > best[key][0]:
            best[key] = (w, inputs, attrs)
    return [(_widen(inp), {k: _widen_attr(v) for k, v in attrs.items()}, (inp, attrs))
            for _, inp, attrs in best.values()]


def check_gradient(op_type: str, inputs: list, attrs: dict,
                   original: Optional[tuple] = None) -> list:
    """Numerical gradient check of one example; returns a list of failure messages.

    Every float output is differentiated w.r.t. every float placeholder input
    (float64, central differences, step ``GRAD_DELTA``). When the op cannot be
    built in float64 (a dtype attr pins float32), the original example is used
    with float32 tolerances.
    """
    import graphflow as tf
    from graphflow.testing.gradient_checker import compute_gradient
    delta, atol, rtol = GRAD_DELTA, GRAD_ATOL, GRAD_RTOL
    g = tf.Graph()
    with g.as_default():
        feeds: dict = {}
        try:
            args = build_example(inputs, feeds, [])
            out = apply_op(op_type, *args, **attrs)
        except (TypeError, ValueError):
            if original is None:
                raise
            delta, atol, rtol = 1e-2, 2e-2, 2e-2
            feeds = {}
            args = build_example(original[0], feeds, [])
            out = apply_op(op_type, *args, **original[1])
    outs = list(out) if isinstance(out, tuple) else [out] if out is not None else []
    xs = [p for p, v in feeds.items() if _is_float(v)]
    failures = []
    with tf.Session(graph=g) as sess:
        for k, y in enumerate(outs):
            if not isinstance(y, tf.Tensor) or not y.dtype.base_dtype.is_floating:
                continue
            y_val = np.asarray(sess.run(y, feeds))
            others = {p: v for p, v in feeds.items() if p not in xs}
            for x in xs:
                extra = dict(others)
                extra.update({p: feeds[p] for p in xs if p is not x})
                with g.as_default():
                    jt, jn = compute_gradient(x, feeds[x].shape, y, y_val.shape,
                                              x_init_value=feeds[x], delta=delta,
                                              extra_feed_dict=extra)
                bad = np.abs(jt - jn) > atol + rtol * np.abs(jn)
                if bad.any():
                    i, j = np.argwhere(bad)[0]
                    failures.append(
                        "%s output %d w.r.t. input %s: theoretical %.6g != numerical %.6g at "
                        "[%d, %d] (max abs diff %.3g)" % (
                            op_type, k, x.name, jt[i, j], jn[i, j], i, j,
                            float(np.abs(jt - jn).max())))
    return failures
