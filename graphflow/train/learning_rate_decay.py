"""Learning-rate decay schedules (TF1 ``tf.train.*_decay``; spec training_utils.md §2).

Each function builds ordinary graph ops under its own name scope and returns a
scalar Tensor whose last op carries the scope's name (``ExponentialDecay``,
``ExponentialDecay_1``, ...). ``global_step`` and every schedule parameter are
cast to the learning rate's dtype: float32 for a Python float, float64 for a
float64 tensor or NumPy value. The formulas follow TF 2.x's schedules, which
TF1's functions wrap, operation by operation, so float32 results agree to the
last bit with the spec's tables.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Optional, Sequence

import numpy as np

from graphflow import dtypes
from graphflow.framework import graph as graph_mod
from graphflow.framework.operation import Tensor, convert_to_tensor
from graphflow.ops import math_ops
from graphflow.ops.array_ops import identity
from graphflow.ops.compare_ops import cast, equal, less_equal
from graphflow.ops.selection_ops import where

__all__ = ["exponential_decay", "natural_exp_decay", "inverse_time_decay", "polynomial_decay",
           "cosine_decay", "cosine_decay_restarts", "linear_cosine_decay",
           "piecewise_constant", "piecewise_constant_decay"]


def _require_step(global_step: Any, fn_name: str) -> None:
    if global_step is None:
        raise ValueError("global_step is required for %s." % fn_name)


def _lr(learning_rate: Any) -> Tensor:
    return convert_to_tensor(learning_rate, name="initial_learning_rate")


def _as(value: Any, dtype: dtypes.DType, name: Optional[str] = None) -> Tensor:
    """``value`` as a tensor of ``dtype``: Python/NumPy numbers are converted
    straight to ``dtype`` (no float32 detour), graph values are cast."""
    if isinstance(value, (numbers.Number, np.number, np.ndarray)) and \
            not isinstance(value, (bool, np.bool_)):
        return convert_to_tensor(np.asarray(value, dtype=dtype.np), name=name or "Const")
    return cast(value, dtype)


def _step(global_step: Any, dtype: dtypes.DType) -> Tensor:
    return cast(global_step, dtype)


def _pi(dtype: dtypes.DType) -> Tensor:
    return convert_to_tensor(np.asarray(math.pi, dtype=dtype.np), name="Const")


# --- exponential family ----------------------------------------------------------------
def _exponential(learning_rate: Any, global_step: Any, decay_steps: Any, decay_rate: Any,
                 staircase: bool, scope: str, natural: bool) -> Tensor:
    lr = _lr(learning_rate)
    dt = lr.dtype.base_dtype
    if natural:  # TF: ExponentialDecay with rate exp(-decay_rate)
        rate = math_ops.exp(math_ops.negative(_as(decay_rate, dt)))
    else:
        rate = _as(decay_rate, dt)
    p = math_ops.truediv(_step(global_step, dt), _as(decay_steps, dt))
    if staircase:
        p = math_ops.floor(p)
    return math_ops.multiply(lr, math_ops.pow(rate, p), name=scope)


def exponential_decay(learning_rate: Any, global_step: Any, decay_steps: Any,
                      decay_rate: Any, staircase: bool = False,
                      name: Optional[str] = None) -> Tensor:
    """``lr * decay_rate ** (step / decay_steps)`` (``tf.train.exponential_decay``).

    With ``staircase=True`` the exponent is ``floor(step / decay_steps)``.
    """
    _require_step(global_step, "exponential_decay")
    with graph_mod.name_scope(name, "ExponentialDecay",
                              [learning_rate, global_step, decay_steps, decay_rate]) as scope:
        return _exponential(learning_rate, global_step, decay_steps, decay_rate, staircase,
                            scope, natural=False)


def natural_exp_decay(learning_rate: Any, global_step: Any, decay_steps: Any,
                      decay_rate: Any, staircase: bool = False,
                      name: Optional[str] = None) -> Tensor:
    """``lr * exp(-decay_rate * step / decay_steps)`` (``tf.train.natural_exp_decay``).

    Built as ``exponential_decay`` with rate ``exp(-decay_rate)`` (scope
    ``ExponentialDecay``), as TF does.
    """
    _require_step(global_step, "natural_exp_decay")
    with graph_mod.name_scope(name, "ExponentialDecay",
                              [learning_rate, global_step, decay_steps, decay_rate]) as scope:
        return _exponential(learning_rate, global_step, decay_steps, decay_rate, staircase,
                            scope, natural=True)


def inverse_time_decay(learning_rate: Any, global_step: Any, decay_steps: Any,
                       decay_rate: Any, staircase: bool = False,
                       name: Optional[str] = None) -> Tensor:
    """``lr / (1 + decay_rate * step / decay_steps)`` (``tf.train.inverse_time_decay``)."""
    _require_step(global_step, "inverse_time_decay")
    with graph_mod.name_scope(name, "InverseTimeDecay",
                              [learning_rate, global_step, decay_rate]) as scope:
        lr = _lr(learning_rate)
        dt = lr.dtype.base_dtype
        p = math_ops.truediv(_step(global_step, dt), _as(decay_steps, dt))
        if staircase:
            p = math_ops.floor(p)
        denom = math_ops.add(_as(1, dt), math_ops.multiply(_as(decay_rate, dt), p))
        return math_ops.truediv(lr, denom, name=scope)


def polynomial_decay(learning_rate: Any, global_step: Any, decay_steps: Any,
                     end_learning_rate: Any = 0.0001, power: Any = 1.0, cycle: bool = False,
                     name: Optional[str] = None) -> Tensor:
    """``(lr - end) * (1 - step / decay_steps) ** power + end`` (``tf.train.polynomial_decay``).

    Without ``cycle`` the step stops at ``decay_steps``; with it the horizon grows
    to the next multiple of ``decay_steps`` (``ceil(step / decay_steps)``, 1 at step 0).
    """
    _require_step(global_step, "polynomial_decay")
    with graph_mod.name_scope(name, "PolynomialDecay",
                              [learning_rate, global_step, decay_steps, end_learning_rate,
                               power]) as scope:
        lr = _lr(learning_rate)
        dt = lr.dtype.base_dtype
        end = _as(end_learning_rate, dt)
        pw = _as(power, dt)
        step = _step(global_step, dt)
        steps = _as(decay_steps, dt)
        if cycle:
            multiplier = where(equal(step, _as(0, dt)), _as(1, dt),
                               math_ops.ceil(math_ops.truediv(step, steps)))
            steps = math_ops.multiply(steps, multiplier)
        else:
            step = math_ops.minimum(step, steps)
        p = math_ops.truediv(step, steps)
        scaled = math_ops.multiply(math_ops.subtract(lr, end),
                                   math_ops.pow(math_ops.subtract(_as(1, dt), p), pw))
        return math_ops.add(scaled, end, name=scope)


# --- cosine family ----------------------------------------------------------------------
def cosine_decay(learning_rate: Any, global_step: Any, decay_steps: Any, alpha: Any = 0.0,
                 name: Optional[str] = None) -> Tensor:
    """``lr * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, D) / D)) + alpha)``
    (``tf.train.cosine_decay``)."""
    _require_step(global_step, "cosine_decay")
    with graph_mod.name_scope(name, "CosineDecay", [learning_rate, global_step]) as scope:
        lr = _lr(learning_rate)
        dt = lr.dtype.base_dtype
        steps = _as(decay_steps, dt)
        step = math_ops.minimum(_step(global_step, dt), steps)
        fraction = math_ops.truediv(step, steps)
        c = math_ops.multiply(_as(0.5, dt), math_ops.add(
            _as(1, dt), math_ops.cos(math_ops.multiply(_pi(dt), fraction))))
        a = _as(alpha, dt)
        decayed = math_ops.add(math_ops.multiply(math_ops.subtract(_as(1, dt), a), c), a)
        return math_ops.multiply(lr, decayed, name=scope)


def _restart_step(fraction: Tensor, t_mul: Tensor, dt: dtypes.DType, geometric: bool) -> tuple:
    """(restart index, fraction of the current period) of SGDR."""
    one = _as(1, dt)
    if not geometric:
        i = math_ops.floor(fraction)
        return i, math_ops.subtract(fraction, i)
    one_minus_t = math_ops.subtract(one, t_mul)
    i = math_ops.floor(math_ops.truediv(
        math_ops.log(math_ops.subtract(one, math_ops.multiply(fraction, one_minus_t))),
        math_ops.log(t_mul)))
    t_pow = math_ops.pow(t_mul, i)
    sum_r = math_ops.truediv(math_ops.subtract(one, t_pow), one_minus_t)
    return i, math_ops.truediv(math_ops.subtract(fraction, sum_r), t_pow)


def cosine_decay_restarts(learning_rate: Any, global_step: Any, first_decay_steps: Any,
                          t_mul: Any = 2.0, m_mul: Any = 1.0, alpha: Any = 0.0,
                          name: Optional[str] = None) -> Tensor:
    """Cosine decay with warm restarts, SGDR (``tf.train.cosine_decay_restarts``).

    Period ``i`` lasts ``first_decay_steps * t_mul**i`` steps and starts from
    ``m_mul**i`` times the initial rate.
    """
    _require_step(global_step, "cosine_decay_restarts")
    with graph_mod.name_scope(name, "SGDRDecay", [learning_rate, global_step]) as scope:
        lr = _lr(learning_rate)
        dt = lr.dtype.base_dtype
        first = _as(first_decay_steps, dt)
        a, tm, mm = _as(alpha, dt), _as(t_mul, dt), _as(m_mul, dt)
        fraction = math_ops.truediv(_step(global_step, dt), first)
        if isinstance(t_mul, (numbers.Number, np.number)):
            i, fraction = _restart_step(fraction, tm, dt, geometric=float(t_mul) != 1.0)
        else:  # a tensor t_mul: both branches, picked at run time (TF uses cond)
            i1, f1 = _restart_step(fraction, tm, dt, geometric=False)
            ig, fg = _restart_step(fraction, tm, dt, geometric=True)
            is_one = equal(tm, _as(1, dt))
            i, fraction = where(is_one, i1, ig), where(is_one, f1, fg)
        m_fac = math_ops.pow(mm, i)
        c = math_ops.multiply(math_ops.multiply(_as(0.5, dt), m_fac), math_ops.add(
            _as(1, dt), math_ops.cos(math_ops.multiply(_pi(dt), fraction))))
        decayed = math_ops.add(math_ops.multiply(math_ops.subtract(_as(1, dt), a), c), a)
        return math_ops.multiply(lr, decayed, name=scope)


def linear_cosine_decay(learning_rate: Any, global_step: Any, decay_steps: Any,
                        num_periods: Any = 0.5, alpha: Any = 0.0, beta: Any = 0.001,
                        name: Optional[str] = None) -> Tensor:
    """``lr * ((alpha + (D - s) / D) * 0.5 * (1 + cos(2 pi num_periods s / D)) + beta)``
    with ``s = min(step, D)`` (``tf.train.linear_cosine_decay``)."""
    _require_step(global_step, "linear_cosine_decay")
    with graph_mod.name_scope(name, "LinearCosineDecay", [learning_rate, global_step]) as scope:
        lr = _lr(learning_rate)
        dt = lr.dtype.base_dtype
        steps = _as(decay_steps, dt)
        step = math_ops.minimum(_step(global_step, dt), steps)
        linear = math_ops.truediv(math_ops.subtract(steps, step), steps)
        fraction = math_ops.multiply(
            math_ops.multiply(_as(2.0, dt), _as(num_periods, dt)),
            math_ops.truediv(step, steps))
        c = math_ops.multiply(_as(0.5, dt), math_ops.add(
            _as(1, dt), math_ops.cos(math_ops.multiply(_pi(dt), fraction))))
        out = math_ops.add(math_ops.multiply(math_ops.add(_as(alpha, dt), linear), c),
                           _as(beta, dt))
        return math_ops.multiply(lr, out, name=scope)


# --- piecewise constant ---------------------------------------------------------------------
def piecewise_constant(x: Any, boundaries: Sequence, values: Sequence,
                       name: Optional[str] = None) -> Tensor:
    """``values[i]`` for ``boundaries[i-1] < x <= boundaries[i]`` (``tf.train.piecewise_constant``).

    ``values[0]`` applies up to and including ``boundaries[0]``, ``values[-1]``
    above ``boundaries[-1]``. Boundaries must have ``x``'s dtype (int32
    boundaries are promoted for an int64 ``x``); all values one dtype.
    """
    if len(boundaries) != len(values) - 1:
        raise ValueError("The length of boundaries should be 1 less than the length of values")
    with graph_mod.name_scope(name, "PiecewiseConstant",
                              [x] + list(boundaries) + list(values)) as scope:
        xt = convert_to_tensor(x)
        xdt = xt.dtype.base_dtype
        bounds = []
        for b in boundaries:
            bt = convert_to_tensor(b)
            if bt.dtype.base_dtype != xdt:
                if bt.dtype.base_dtype == dtypes.int32 and xdt == dtypes.int64:
                    bt = cast(bt, dtypes.int64)
                else:
                    raise ValueError("Boundaries (%s) must have the same dtype as x (%s)."
                                     % (bt.dtype.base_dtype, xdt))
            bounds.append(bt)
        vals = [convert_to_tensor(v) for v in values]
        for v in vals[1:]:
            if v.dtype.base_dtype != vals[0].dtype.base_dtype:
                raise ValueError("Values must have elements all with the same dtype (%s vs %s)."
                                 % (vals[0].dtype.base_dtype, v.dtype.base_dtype))
        out = vals[-1]
        for i in range(len(bounds) - 1, -1, -1):
            last = i == 0
            out = where(less_equal(xt, bounds[i]), vals[i], out,
                        name=scope if last else None)
        if not bounds:  # a single value: no comparison at all
            out = _identity(vals[0], scope)
        return out


def _identity(t: Tensor, name: str) -> Tensor:
    return identity(t, name=name)


piecewise_constant_decay = piecewise_constant
