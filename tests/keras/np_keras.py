"""Independent float32 NumPy versions of the Keras (OptimizerV2) updates of spec
keras_optimizer_v2.md §5, written from TF 2.x's formulas in their operation order.

Each ``step_*`` takes the state dict (``var`` and the slots, float32 arrays),
the gradient and the 1-based step ``t`` and returns the new state dict.
"""
import numpy as np

F = np.float32


def _f(x):
    return F(x)


def sgd(s, g, t, lr=0.1, momentum=0.0, nesterov=False, decay=0.0):
    lr = _f(lr) / (F(1) + _f(decay) * _f(t - 1)) if decay else _f(lr)
    if not momentum:
        return {"var": s["var"] - lr * g}
    m = _f(momentum)
    a = s["momentum"] * m - g * lr
    var = s["var"] + (a * m - g * lr) if nesterov else s["var"] + a
    return {"var": var, "momentum": a}


def adamax(s, g, t, lr=0.1, b1=0.9, b2=0.999, eps=1e-7):
    lr, b1, b2, eps = _f(lr), _f(b1), _f(b2), _f(eps)
    b1p = b1 ** _f(t)
    m = s["m"] + (g - s["m"]) * (F(1) - b1)
    v = np.maximum(b2 * s["v"], np.abs(g))
    var = s["var"] - lr / (F(1) - b1p) * (m / (v + eps))
    return {"var": var, "m": m, "v": v}


def nadam(s, g, t, cache, lr=0.1, b1=0.9, b2=0.999, eps=1e-7, decay=0.004):
    """Returns (state, new momentum cache)."""
    lr, b1, b2, eps = _f(lr), _f(b1), _f(b2), _f(eps)
    base = F(0.96)
    mu_t = b1 * (F(1) - F(0.5) * base ** (_f(decay) * _f(t)))
    mu_next = b1 * (F(1) - F(0.5) * base ** (_f(decay) * _f(t + 1)))
    sched_new = _f(cache) * mu_t
    sched_next = sched_new * mu_next
    g_prime = g / (F(1) - sched_new)
    m = b1 * s["m"] + (F(1) - b1) * g
    m_prime = m / (F(1) - sched_next)
    v = b2 * s["v"] + (F(1) - b2) * (g * g)
    v_prime = v / (F(1) - b2 ** _f(t))
    m_bar = (F(1) - mu_t) * g_prime + mu_next * m_prime
    var = s["var"] - lr * m_bar / (np.sqrt(v_prime) + eps)
    return {"var": var, "m": m, "v": v}, sched_new


def adagrad(s, g, t, lr=0.1, eps=1e-7):
    acc = s["accumulator"] + g * g
    return {"var": s["var"] - g * _f(lr) / (np.sqrt(acc) + _f(eps)), "accumulator": acc}


def rmsprop(s, g, t, lr=0.1, rho=0.9, eps=1e-7, centered=False):
    rho, lr, eps = _f(rho), _f(lr), _f(eps)
    rms = rho * s["rms"] + (F(1) - rho) * (g * g)
    out = {"rms": rms}
    denom = rms
    if centered:
        mg = rho * s["mg"] + (F(1) - rho) * g
        out["mg"] = mg
        denom = rms - mg * mg
    out["var"] = s["var"] - lr * g / (np.sqrt(denom) + eps)
    return out


def adam(s, g, t, lr=0.1, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False):
    lr, b1, b2, eps = _f(lr), _f(b1), _f(b2), _f(eps)
    b1p, b2p = b1 ** _f(t), b2 ** _f(t)
    alpha = lr * np.sqrt(F(1) - b2p) / (F(1) - b1p)
    m = s["m"] + (g - s["m"]) * (F(1) - b1)
    v = s["v"] + (g * g - s["v"]) * (F(1) - b2)
    out = {"m": m, "v": v}
    denom = v
    if amsgrad:
        out["vhat"] = denom = np.maximum(s["vhat"], v)
    out["var"] = s["var"] - m * alpha / (np.sqrt(denom) + eps)
    return out
