"""Independent NumPy re-implementation of spec optimizers.md §4 (statement order as written).

Each function takes arrays (var, slots..., grad) and scalar hyperparameters, all
of one dtype, and returns the new (var, slots...) without touching its inputs.
"""
import numpy as np


def gradient_descent(var, g, lr):
    return (var - lr * g,)


def momentum(var, accum, g, lr, mom, nesterov=False):
    accum = accum * mom + g
    if nesterov:
        var = var - (g * lr + accum * mom * lr)
    else:
        var = var - accum * lr
    return var, accum


def adagrad(var, accum, g, lr):
    accum = accum + g * g
    return var - lr * g / np.sqrt(accum), accum


def adadelta(var, accum, accum_update, g, lr, rho, eps):
    one = rho.dtype.type(1)
    accum = accum * rho + g * g * (one - rho)
    update = np.sqrt(accum_update + eps) / np.sqrt(accum + eps) * g
    var = var - update * lr
    accum_update = accum_update * rho + update * update * (one - rho)
    return var, accum, accum_update


def adam(var, m, v, g, b1p, b2p, lr, b1, b2, eps):
    one = lr.dtype.type(1)
    lr_t = lr * np.sqrt(one - b2p) / (one - b1p)
    m = m + (g - m) * (one - b1)
    v = v + (g * g - v) * (one - b2)
    return var - m * lr_t / (np.sqrt(v) + eps), m, v


def ftrl(var, accum, linear, g, lr, l1, l2, lr_power, l2_shrinkage=None):
    two = lr.dtype.type(2)
    g_lin = g if l2_shrinkage is None else g + two * l2_shrinkage * var
    accum_new = accum + g * g
    linear = linear + (g_lin - (accum_new ** -lr_power - accum ** -lr_power) / lr * var)
    quadratic = accum_new ** -lr_power / lr + two * l2
    new_var = np.where(np.abs(linear) > l1, (np.sign(linear) * l1 - linear) / quadratic,
                       np.zeros_like(var))
    return new_var.astype(var.dtype), accum_new, linear


def rms_prop(var, ms, mom, g, lr, rho, momentum_, eps):
    one = rho.dtype.type(1)
    ms = ms + (g * g - ms) * (one - rho)
    mom = mom * momentum_ + lr * g / np.sqrt(ms + eps)
    return var - mom, ms, mom


def centered_rms_prop(var, mg, ms, mom, g, lr, rho, momentum_, eps):
    one = rho.dtype.type(1)
    ms = ms + (g * g - ms) * (one - rho)
    mg = mg + (g - mg) * (one - rho)
    mom = mom * momentum_ + lr * g / np.sqrt(ms - mg * mg + eps)
    return var - mom, mg, ms, mom
