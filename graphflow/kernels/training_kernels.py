"""Numba kernels of the training family (``ops/training_ops.py``): fused optimizer updates.

Each dense kernel makes one pass over flat (1-D, C-contiguous) arrays and updates
the variable and its slots in place; each sparse kernel does the same for the
rows named by ``indices`` of (rows, inner) views. The per-element formulas live
in small ``_*_step`` helpers shared by the dense and sparse loops (Numba inlines
them); each reads all of its inputs before writing, so a gradient that aliases
the variable's buffer is safe. Hyperparameters arrive as scalars of the
variable's dtype; shapes and indices are validated by the caller.
"""
from __future__ import annotations

import math

from numba import njit

_FLAGS = dict(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})


# --- per-element updates (spec optimizers.md §4) -----------------------------------------
@njit(inline="always", **_FLAGS)
def _momentum_step(v, a, g, lr, momentum, nesterov):  # pragma: no cover - compiled
    a = a * momentum + g
    if nesterov:
        v = v - (g * lr + a * momentum * lr)
    else:
        v = v - a * lr
    return v, a


@njit(inline="always", **_FLAGS)
def _adagrad_step(v, a, g, lr, update_slots):  # pragma: no cover - compiled
    if update_slots:
        a = a + g * g
    v = v - lr * g / math.sqrt(a)
    return v, a


@njit(inline="always", **_FLAGS)
def _adadelta_step(v, a, au, g, lr, rho, c, eps):  # pragma: no cover - compiled
    a = a * rho + g * g * c
    upd = math.sqrt(au + eps) / math.sqrt(a + eps) * g
    v = v - upd * lr
    au = au * rho + upd * upd * c
    return v, a, au


@njit(inline="always", **_FLAGS)
def _ftrl_step(v, a, lin, g, lr, l1, two_l2, two_shrinkage, lr_power, shrink,
               sqrt_power):  # pragma: no cover - compiled
    g_lin = g + two_shrinkage * v if shrink else g
    a_new = a + g * g
    if sqrt_power:
        p_new = math.sqrt(a_new)
        p_old = math.sqrt(a)
    else:
        p_new = a_new ** -lr_power
        p_old = a ** -lr_power
    lin = lin + (g_lin - (p_new - p_old) / lr * v)
    quadratic = p_new / lr + two_l2
    if lin > l1:
        v = (l1 - lin) / quadratic
    elif lin < -l1:
        v = (-l1 - lin) / quadratic
    else:
        v = l1 - l1
    return v, a_new, lin


@njit(inline="always", **_FLAGS)
def _rms_prop_step(v, ms, mom, g, lr, c, momentum, eps):  # pragma: no cover - compiled
    ms = ms + (g * g - ms) * c
    mom = mom * momentum + lr * g / math.sqrt(ms + eps)
    v = v - mom
    return v, ms, mom


@njit(inline="always", **_FLAGS)
def _centered_rms_prop_step(v, mg, ms, mom, g, lr, c, momentum,
                            eps):  # pragma: no cover - compiled
    ms = ms + (g * g - ms) * c
    mg = mg + (g - mg) * c
    mom = mom * momentum + lr * g / math.sqrt(ms - mg * mg + eps)
    v = v - mom
    return v, mg, ms, mom


# --- dense kernels (flat arrays) -----------------------------------------------------------
@njit(**_FLAGS)
def apply_gradient_descent(var, grad, lr):  # pragma: no cover - compiled
    """var -= lr * grad."""
    for i in range(var.shape[0]):
        var[i] = var[i] - lr * grad[i]


@njit(**_FLAGS)
def apply_momentum(var, accum, grad, lr, momentum, nesterov):  # pragma: no cover - compiled
    """ApplyMomentum: accum = accum * momentum + g; var -= accum * lr (or Nesterov)."""
    if nesterov:
        for i in range(var.shape[0]):
            var[i], accum[i] = _momentum_step(var[i], accum[i], grad[i], lr, momentum, True)
    else:
        for i in range(var.shape[0]):
            var[i], accum[i] = _momentum_step(var[i], accum[i], grad[i], lr, momentum, False)


@njit(**_FLAGS)
def apply_adagrad(var, accum, grad, lr, update_slots):  # pragma: no cover - compiled
    """ApplyAdagrad: accum += g * g; var -= lr * g / sqrt(accum)."""
    if update_slots:
        for i in range(var.shape[0]):
            var[i], accum[i] = _adagrad_step(var[i], accum[i], grad[i], lr, True)
    else:
        for i in range(var.shape[0]):
            var[i], accum[i] = _adagrad_step(var[i], accum[i], grad[i], lr, False)


@njit(**_FLAGS)
def apply_adadelta(var, accum, accum_update, grad, lr, rho, c, eps):  # pragma: no cover
    """ApplyAdadelta (spec §4.4), one pass; ``c = 1 - rho``."""
    for i in range(var.shape[0]):
        var[i], accum[i], accum_update[i] = _adadelta_step(
            var[i], accum[i], accum_update[i], grad[i], lr, rho, c, eps)


@njit(**_FLAGS)
def apply_adam(var, m, v, grad, alpha, beta1, c1, c2, eps,
               nesterov):  # pragma: no cover - compiled
    """ApplyAdam with the bias-corrected step ``alpha``; ``c1 = 1 - beta1``, ``c2 = 1 - beta2``."""
    if nesterov:
        for i in range(var.shape[0]):
            g = grad[i]
            mi = m[i] + (g - m[i]) * c1
            vi = v[i] + (g * g - v[i]) * c2
            m[i] = mi
            v[i] = vi
            var[i] = var[i] - (g * c1 + beta1 * mi) * alpha / (math.sqrt(vi) + eps)
    else:
        for i in range(var.shape[0]):
            g = grad[i]
            mi = m[i] + (g - m[i]) * c1
            vi = v[i] + (g * g - v[i]) * c2
            m[i] = mi
            v[i] = vi
            var[i] = var[i] - mi * alpha / (math.sqrt(vi) + eps)


@njit(**_FLAGS)
def apply_adam_nd(var, m, v, grad, beta1_power, beta2_power, lr, beta1, beta2, eps,
                  nesterov):  # pragma: no cover - compiled
    """ApplyAdam on the op's own values: same-shape N-d arrays, scalar hyperparameters.

    ``alpha = lr * sqrt(1 - beta2_power) / (1 - beta1_power)``, ``1 - beta1``
    and ``1 - beta2`` are computed once here in the variable's dtype (the same
    operations, in the same order, as on NumPy scalars). The arrays must be
    C-contiguous (the caller checks); returns False and writes nothing when
    their shapes differ.
    """
    shape = var.shape
    if m.shape != shape or v.shape != shape or grad.shape != shape:
        return False
    one = var.dtype.type(1)
    alpha = lr * math.sqrt(one - beta2_power) / (one - beta1_power)
    apply_adam(var.reshape(-1), m.reshape(-1), v.reshape(-1), grad.reshape(-1), alpha, beta1,
               one - beta1, one - beta2, eps, nesterov)
    return True


@njit(**_FLAGS)
def apply_ftrl(var, accum, linear, grad, lr, l1, two_l2, two_shrinkage, lr_power, shrink,
               sqrt_power):  # pragma: no cover - compiled
    """ApplyFtrl / ApplyFtrlV2 (``shrink``): spec §4.6, one pass."""
    if sqrt_power:
        for i in range(var.shape[0]):
            var[i], accum[i], linear[i] = _ftrl_step(
                var[i], accum[i], linear[i], grad[i], lr, l1, two_l2, two_shrinkage,
                lr_power, shrink, True)
    else:
        for i in range(var.shape[0]):
            var[i], accum[i], linear[i] = _ftrl_step(
                var[i], accum[i], linear[i], grad[i], lr, l1, two_l2, two_shrinkage,
                lr_power, shrink, False)


@njit(**_FLAGS)
def apply_rms_prop(var, ms, mom, grad, lr, c, momentum, eps):  # pragma: no cover
    """ApplyRMSProp: ms, mom and var in one pass; ``c = 1 - rho``."""
    for i in range(var.shape[0]):
        var[i], ms[i], mom[i] = _rms_prop_step(var[i], ms[i], mom[i], grad[i], lr, c,
                                               momentum, eps)


@njit(**_FLAGS)
def apply_centered_rms_prop(var, mg, ms, mom, grad, lr, c, momentum,
                            eps):  # pragma: no cover - compiled
    """ApplyCenteredRMSProp: ms, mg, mom and var in one pass; ``c = 1 - rho``."""
    for i in range(var.shape[0]):
        var[i], mg[i], ms[i], mom[i] = _centered_rms_prop_step(
            var[i], mg[i], ms[i], mom[i], grad[i], lr, c, momentum, eps)


# --- sparse kernels: var/slots (rows, inner), grad (n, inner), indices (n,) -----------------
@njit(**_FLAGS)
def sparse_apply_momentum(var, accum, grad, indices, lr, momentum,
                          nesterov):  # pragma: no cover - compiled
    """SparseApplyMomentum: the dense formula on rows ``indices`` only."""
    for k in range(indices.shape[0]):
        r = indices[k]
        for j in range(var.shape[1]):
            var[r, j], accum[r, j] = _momentum_step(var[r, j], accum[r, j], grad[k, j], lr,
                                                    momentum, nesterov)


@njit(**_FLAGS)
def sparse_apply_adagrad(var, accum, grad, indices, lr,
                         update_slots):  # pragma: no cover - compiled
    """SparseApplyAdagrad: the dense formula on rows ``indices`` only."""
    for k in range(indices.shape[0]):
        r = indices[k]
        for j in range(var.shape[1]):
            var[r, j], accum[r, j] = _adagrad_step(var[r, j], accum[r, j], grad[k, j], lr,
                                                   update_slots)


@njit(**_FLAGS)
def sparse_apply_adadelta(var, accum, accum_update, grad, indices, lr, rho, c,
                          eps):  # pragma: no cover - compiled
    """SparseApplyAdadelta: the dense formula on rows ``indices`` only."""
    for k in range(indices.shape[0]):
        r = indices[k]
        for j in range(var.shape[1]):
            var[r, j], accum[r, j], accum_update[r, j] = _adadelta_step(
                var[r, j], accum[r, j], accum_update[r, j], grad[k, j], lr, rho, c, eps)


@njit(**_FLAGS)
def sparse_apply_ftrl(var, accum, linear, grad, indices, lr, l1, two_l2, two_shrinkage,
                      lr_power, shrink, sqrt_power):  # pragma: no cover - compiled
    """SparseApplyFtrl / SparseApplyFtrlV2: the dense formula on rows ``indices`` only."""
    for k in range(indices.shape[0]):
        r = indices[k]
        for j in range(var.shape[1]):
            var[r, j], accum[r, j], linear[r, j] = _ftrl_step(
                var[r, j], accum[r, j], linear[r, j], grad[k, j], lr, l1, two_l2,
                two_shrinkage, lr_power, shrink, sqrt_power)


@njit(**_FLAGS)
def sparse_apply_rms_prop(var, ms, mom, grad, indices, lr, c, momentum,
                          eps):  # pragma: no cover - compiled
    """SparseApplyRMSProp: the dense formula on rows ``indices`` only."""
    for k in range(indices.shape[0]):
        r = indices[k]
        for j in range(var.shape[1]):
            var[r, j], ms[r, j], mom[r, j] = _rms_prop_step(
                var[r, j], ms[r, j], mom[r, j], grad[k, j], lr, c, momentum, eps)


@njit(**_FLAGS)
def sparse_apply_centered_rms_prop(var, mg, ms, mom, grad, indices, lr, c, momentum,
                                   eps):  # pragma: no cover - compiled
    """SparseApplyCenteredRMSProp: the dense formula on rows ``indices`` only."""
    for k in range(indices.shape[0]):
        r = indices[k]
        for j in range(var.shape[1]):
            var[r, j], mg[r, j], ms[r, j], mom[r, j] = _centered_rms_prop_step(
                var[r, j], mg[r, j], ms[r, j], mom[r, j], grad[k, j], lr, c, momentum, eps)


@njit(**_FLAGS)
def first_out_of_range(idx, n):  # pragma: no cover - compiled
    """Position of the first ``idx[i]`` outside ``[0, n)``, or -1."""
    for i in range(idx.shape[0]):
        v = idx[i]
        if v < 0 or v >= n:
            return i
    return -1
