"""Numba kernels of the nn family: softmax, cross-entropies, L2 loss, bias add.

Plain module-level functions over C-contiguous arrays (2-D ``[rows, classes]``
views made by the op's kernel factory); outputs are preallocated by the
caller. Row maxima are subtracted before ``exp`` so large logits stay finite,
and every sum accumulates in the array's own dtype (float32 stays float32).
Inputs are validated in Python before these run (Numba does not bounds check).
"""
from __future__ import annotations

import numpy as np
from numba import njit

_FLAGS = dict(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})


@njit(**_FLAGS)
def softmax_2d(x, out):
    """out[i] = exp(x[i] - max) / sum(exp(x[i] - max)) per row (``Softmax``)."""
    rows, cols = x.shape
    for i in range(rows):
        m = x[i, 0]
        for j in range(1, cols):
            if x[i, j] > m:
                m = x[i, j]
        e = np.exp(x[i, 0] - m)
        out[i, 0] = e
        s = e
        for j in range(1, cols):
            e = np.exp(x[i, j] - m)
            out[i, j] = e
            s += e
        for j in range(cols):
            out[i, j] = out[i, j] / s


@njit(**_FLAGS)
def log_softmax_2d(x, out):
    """out[i] = x[i] - max - log(sum(exp(x[i] - max))) per row (``LogSoftmax``)."""
    rows, cols = x.shape
    for i in range(rows):
        m = x[i, 0]
        for j in range(1, cols):
            if x[i, j] > m:
                m = x[i, j]
        s = np.exp(x[i, 0] - m)
        for j in range(1, cols):
            s += np.exp(x[i, j] - m)
        lse = np.log(s)
        for j in range(cols):
            out[i, j] = (x[i, j] - m) - lse


@njit(**_FLAGS)
def softmax_xent_2d(logits, labels, loss, backprop):
    """Dense cross-entropy per row: loss = sum(labels * (lse - shifted)),
    backprop = softmax - labels (``SoftmaxCrossEntropyWithLogits``)."""
    rows, cols = logits.shape
    for i in range(rows):
        m = logits[i, 0]
        for j in range(1, cols):
            if logits[i, j] > m:
                m = logits[i, j]
        e = np.exp(logits[i, 0] - m)
        backprop[i, 0] = e
        s = e
        for j in range(1, cols):
            e = np.exp(logits[i, j] - m)
            backprop[i, j] = e
            s += e
        lse = np.log(s)
        acc = labels[i, 0] * (lse - (logits[i, 0] - m))
        backprop[i, 0] = backprop[i, 0] / s - labels[i, 0]
        for j in range(1, cols):
            acc += labels[i, j] * (lse - (logits[i, j] - m))
            backprop[i, j] = backprop[i, j] / s - labels[i, j]
        loss[i] = acc


@njit(**_FLAGS)
def sparse_softmax_xent_2d(logits, labels, loss, backprop):
    """Sparse cross-entropy per row: loss = lse - shifted[label], backprop =
    softmax - one_hot(label). Labels are checked in range by the caller."""
    rows, cols = logits.shape
    for i in range(rows):
        m = logits[i, 0]
        for j in range(1, cols):
            if logits[i, j] > m:
                m = logits[i, j]
        e = np.exp(logits[i, 0] - m)
        backprop[i, 0] = e
        s = e
        for j in range(1, cols):
            e = np.exp(logits[i, j] - m)
            backprop[i, j] = e
            s += e
        for j in range(cols):
            backprop[i, j] = backprop[i, j] / s
        k = labels[i]
        loss[i] = np.log(s) - (logits[i, k] - m)
        backprop[i, k] -= 1


@njit(**_FLAGS)
def l2_loss(x, out):
    """out[0] = sum(x ** 2) / 2 over a flat non-empty array (``L2Loss``).

    Sums blocks of 256 elements and adds the block sums, which keeps the
    float32 rounding error near that of a pairwise sum.
    """
    n = x.size
    out[0] = 0
    start = 0
    while start < n:
        stop = min(start + 256, n)
        part = x[start] * x[start]
        for i in range(start + 1, stop):
            part += x[i] * x[i]
        out[0] += part
        start = stop
    out[0] = out[0] / 2


@njit(**_FLAGS)
def bias_add_3d(x, bias, out):
    """out[o, c, i] = x[o, c, i] + bias[c] (``BiasAdd``; NHWC has inner = 1)."""
    outer, chans, inner = x.shape
    for o in range(outer):
        for c in range(chans):
            b = bias[c]
            for i in range(inner):
                out[o, c, i] = x[o, c, i] + b


@njit(**_FLAGS)
def bias_add_grad_3d(dy, out):
    """out[c] = sum over o, i of dy[o, c, i] (``BiasAddGrad``); out starts at zero."""
    outer, chans, inner = dy.shape
    for o in range(outer):
        for c in range(chans):
            acc = dy[o, c, 0]
            for i in range(1, inner):
                acc += dy[o, c, i]
            out[c] += acc
