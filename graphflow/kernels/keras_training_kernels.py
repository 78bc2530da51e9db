"""Numba kernels of the Keras-style fused updates (``ops/keras_training_ops.py``).

Same conventions as ``training_kernels.py``: each dense kernel makes one pass
over flat (1-D, C-contiguous) arrays and updates the variable and its slots in
place; the sparse kernels do the same for the rows named by ``indices`` of
(rows, inner) views. Every per-element helper reads all of its inputs before
writing. Hyperparameters arrive as scalars of the variable's dtype; the
caller validates shapes and indices. Formulas: spec keras_optimizer_v2.md §5,
written in the operation order of TF 2.x's Keras optimizers so float32 results
agree with the reference.
"""
from __future__ import annotations

import math

from numba import njit

_FLAGS = dict(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})


# --- per-element updates -------------------------------------------------------------------
@njit(inline="always", **_FLAGS)
def _keras_momentum_step(v, a, g, lr, momentum, nesterov):  # pragma: no cover - compiled
    a = a * momentum - g * lr
    if nesterov:
        v = v + (a * momentum - g * lr)
    else:
        v = v + a
    return v, a


@njit(inline="always", **_FLAGS)
def _adagrad_v2_step(v, a, g, lr, eps, update_slots):  # pragma: no cover - compiled
    if update_slots:
        a = a + g * g
    v = v - g * lr / (math.sqrt(a) + eps)
    return v, a


# --- dense kernels (flat arrays) -------------------------------------------------------------
@njit(**_FLAGS)
def apply_keras_momentum(var, accum, grad, lr, momentum, nesterov):  # pragma: no cover
    """accum = accum * momentum - g * lr; var += accum (Nesterov: accum * momentum - g * lr)."""
    if nesterov:
        for i in range(var.shape[0]):
            var[i], accum[i] = _keras_momentum_step(var[i], accum[i], grad[i], lr, momentum,
                                                    True)
    else:
        for i in range(var.shape[0]):
            var[i], accum[i] = _keras_momentum_step(var[i], accum[i], grad[i], lr, momentum,
                                                    False)


@njit(**_FLAGS)
def apply_adagrad_v2(var, accum, grad, lr, eps, update_slots):  # pragma: no cover - compiled
    """accum += g * g; var -= g * lr / (sqrt(accum) + eps)  (epsilon outside the root)."""
    if update_slots:
        for i in range(var.shape[0]):
            var[i], accum[i] = _adagrad_v2_step(var[i], accum[i], grad[i], lr, eps, True)
    else:
        for i in range(var.shape[0]):
            var[i], accum[i] = _adagrad_v2_step(var[i], accum[i], grad[i], lr, eps, False)


@njit(**_FLAGS)
def apply_adam_with_amsgrad(var, m, v, vhat, grad, alpha, c1, c2,
                            eps):  # pragma: no cover - compiled
    """Adam with ``vhat = max(vhat, v)`` in the denominator; ``c1 = 1 - beta1``, ``c2 = 1 - beta2``."""
    for i in range(var.shape[0]):
        g = grad[i]
        mi = m[i] + (g - m[i]) * c1
        vi = v[i] + (g * g - v[i]) * c2
        hi = vhat[i]
        if vi > hi:
            hi = vi
        m[i] = mi
        v[i] = vi
        vhat[i] = hi
        var[i] = var[i] - mi * alpha / (math.sqrt(hi) + eps)


@njit(**_FLAGS)
def apply_ada_max(var, m, v, grad, scaled_lr, c1, beta2, eps):  # pragma: no cover - compiled
    """m += (g - m) * c1; v = max(beta2 * v, |g|); var -= scaled_lr * (m / (v + eps))."""
    for i in range(var.shape[0]):
        g = grad[i]
        mi = m[i] + (g - m[i]) * c1
        vi = beta2 * v[i]
        ag = abs(g)
        if ag > vi:
            vi = ag
        m[i] = mi
        v[i] = vi
        var[i] = var[i] - scaled_lr * (mi / (vi + eps))


@njit(**_FLAGS)
def apply_keras_rms_prop(var, ms, grad, lr, rho, c, eps):  # pragma: no cover - compiled
    """ms = rho * ms + c * g * g; var -= lr * g / (sqrt(ms) + eps); ``c = 1 - rho``."""
    for i in range(var.shape[0]):
        g = grad[i]
        s = rho * ms[i] + c * (g * g)
        ms[i] = s
        var[i] = var[i] - lr * g / (math.sqrt(s) + eps)


@njit(**_FLAGS)
def apply_keras_centered_rms_prop(var, mg, ms, grad, lr, rho, c,
                                  eps):  # pragma: no cover - compiled
    """Centered: also mg = rho * mg + c * g; the denominator uses ms - mg * mg."""
    for i in range(var.shape[0]):
        g = grad[i]
        s = rho * ms[i] + c * (g * g)
        a = rho * mg[i] + c * g
        ms[i] = s
        mg[i] = a
        var[i] = var[i] - lr * g / (math.sqrt(s - a * a) + eps)


@njit(**_FLAGS)
def apply_nadam(var, m, v, grad, lr, beta1, c1, beta2, c2, one_minus_schedule_new,
                one_minus_schedule_next, one_minus_cache, cache_next, v_denom,
                eps):  # pragma: no cover - compiled
    """Keras Nadam (TF 2.x ``nadam.py`` dense update), one pass."""
    for i in range(var.shape[0]):
        g = grad[i]
        g_prime = g / one_minus_schedule_new
        mi = beta1 * m[i] + c1 * g
        m_prime = mi / one_minus_schedule_next
        vi = beta2 * v[i] + c2 * (g * g)
        v_prime = vi / v_denom
        m_bar = one_minus_cache * g_prime + cache_next * m_prime
        m[i] = mi
        v[i] = vi
        var[i] = var[i] - lr * m_bar / (math.sqrt(v_prime) + eps)


# --- sparse kernels: var/slots (rows, inner), grad (n, inner), indices (n,) -----------------
@njit(**_FLAGS)
def sparse_apply_keras_momentum(var, accum, grad, indices, lr, momentum,
                                nesterov):  # pragma: no cover - compiled
    """apply_keras_momentum on rows ``indices`` only."""
    for k in range(indices.shape[0]):
        r = indices[k]
        for j in range(var.shape[1]):
            var[r, j], accum[r, j] = _keras_momentum_step(var[r, j], accum[r, j], grad[k, j],
                                                          lr, momentum, nesterov)


@njit(**_FLAGS)
def sparse_apply_adagrad_v2(var, accum, grad, indices, lr, eps,
                            update_slots):  # pragma: no cover - compiled
    """apply_adagrad_v2 on rows ``indices`` only."""
    for k in range(indices.shape[0]):
        r = indices[k]
        for j in range(var.shape[1]):
            var[r, j], accum[r, j] = _adagrad_v2_step(var[r, j], accum[r, j], grad[k, j], lr,
                                                      eps, update_slots)
