"""Numerical gradient checks (same as TF 1.x ``tf.test.compute_gradient``).

``compute_gradient`` returns the theoretical Jacobian (built by
``tf.gradients`` and evaluated one ``dy`` basis vector at a time) and the
numerical one (central differences, one ``x`` element at a time). Both are
``(x.size, y.size)`` arrays of x's dtype: entry ``[i, j]`` is ``d y[j] / d x[i]``.
Everything runs in the default session, as in TF.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from graphflow import dtypes

_ALLOWED = ("float16", "bfloat16", "float32", "float64", "complex64", "complex128")


def _session() -> Any:
    from graphflow.runtime.session import get_default_session
    sess = get_default_session()
    if sess is None:
        raise ValueError("Cannot evaluate tensor using `eval()`: No default session is "
                         "registered. Use `with sess.as_default()` or pass an explicit session "
                         "to `eval(session=sess)`")
    return sess


def _feeds(extra: Optional[dict], more: dict) -> dict:
    out = dict(extra or {})
    out.update(more)
    return out


def _dense(value: Any, shape: tuple) -> np.ndarray:
    """A fetched gradient as a dense array (IndexedSlicesValue rows are summed)."""
    if hasattr(value, "indices") and hasattr(value, "values"):
        out = np.zeros(shape, dtype=np.asarray(value.values).dtype)
        np.add.at(out, np.asarray(value.indices), np.asarray(value.values))
        return out
    return np.asarray(value)


def _dx_and_dy(x: Any, y: Any, y_shape: Any) -> tuple:
    """The gradient of ``y`` w.r.t. ``x`` for a fed upstream gradient ``dy``."""
    from graphflow.autodiff.gradients import gradients
    from graphflow.ops import array_ops
    with y.graph.as_default():
        dy_orig = array_ops.constant(np.ones(tuple(y_shape), y.dtype.base_dtype.np))
        dy = array_ops.identity(dy_orig)
        grads = gradients(y, x, dy)
    assert len(grads) == 1
    return grads[0], dy_orig


def _theoretical(x: Any, x_shape: tuple, x_data: np.ndarray, dy: Any, dy_shape: tuple,
                 dx: Any, extra: Optional[dict]) -> np.ndarray:
    x_size = int(np.prod(x_shape))
    dy_size = int(np.prod(dy_shape))
    jac = np.zeros((x_size, dy_size), dtype=x.dtype.base_dtype.np)
    if x_size == 0 or dy_size == 0:
        return jac
    if dx is None:  # y does not depend on x
        return jac
    sess = _session()
    dy_data = np.zeros(dy_shape, dtype=dy.dtype.base_dtype.np)
    for col in range(dy_size):
        dy_data.flat[col] = 1
        val = sess.run(dx, feed_dict=_feeds(extra, {x: x_data, dy: dy_data}))
        jac[:, col] = _dense(val, x_shape).reshape(-1)
        dy_data.flat[col] = 0
    return jac


def _numerical(x: Any, x_shape: tuple, x_data: np.ndarray, y: Any, y_shape: tuple,
               delta: float, extra: Optional[dict]) -> np.ndarray:
    x_size = int(np.prod(x_shape))
    y_size = int(np.prod(y_shape))
    jac = np.zeros((x_size, y_size), dtype=x.dtype.base_dtype.np)
    sess = _session()
    y_dt = y.dtype.base_dtype.np
    scale = np.asarray(2 * delta, dtype=y_dt)[()]
    for row in range(x_size):
        xp = x_data.copy()
        xp.reshape(-1)[row] += delta
        yp = np.asarray(sess.run(y, feed_dict=_feeds(extra, {x: xp})), dtype=y_dt)
        xn = x_data.copy()
        xn.reshape(-1)[row] -= delta
        yn = np.asarray(sess.run(y, feed_dict=_feeds(extra, {x: xn})), dtype=y_dt)
        jac[row, :] = ((yp - yn) / scale).reshape(-1)
    return jac


def _one(x: Any, x_shape: Any, dx: Any, y: Any, y_shape: Any, dy: Any,
         x_init_value: Any, delta: float, extra: Optional[dict]) -> tuple:
    xt = dtypes.as_dtype(x.dtype).base_dtype
    yt = dtypes.as_dtype(y.dtype).base_dtype
    assert xt.name in _ALLOWED, "Don't support type %s for x" % xt.name
    assert yt.name in _ALLOWED, "Don't support type %s for y" % yt.name
    if xt.is_complex or yt.is_complex:
        raise NotImplementedError("graphflow's gradient checker handles real dtypes only")
    x_shape = tuple(x_shape)
    y_shape = tuple(y_shape)
    if x_init_value is not None:
        x_init_value = np.asarray(x_init_value)
        assert list(x_shape) == list(x_init_value.shape), (
            "x_shape = %s, init_data shape = %s" % (x_shape, x_init_value.shape))
        x_data = np.array(x_init_value, dtype=xt.np)
    else:
        x_data = np.random.random_sample(x_shape).astype(xt.np)
    jt = _theoretical(x, x_shape, x_data, dy, y_shape, dx, extra)
    jn = _numerical(x, x_shape, x_data, y, y_shape, delta, extra)
    return jt, jn


def compute_gradient(x: Any, x_shape: Any, y: Any, y_shape: Any, x_init_value: Any = None,
                     delta: float = 1e-3, init_targets: Optional[list] = None,
                     extra_feed_dict: Optional[dict] = None) -> Any:
    """Theoretical and numerical Jacobians of ``y`` w.r.t. ``x`` (``tf.test.compute_gradient``).

    Args:
      x: a Tensor (fed with ``x_init_value`` or random values) or a list of them.
      x_shape: its shape (a list of shapes when ``x`` is a list).
      y: the Tensor to differentiate; ``y_shape`` its shape.
      x_init_value: the point to differentiate at (list when ``x`` is a list).
      delta: central-difference step.
      init_targets: ops run first (e.g. variable initializers).
      extra_feed_dict: more feeds for every run.

    Returns:
      ``(theoretical, numerical)``, each of shape ``(x.size, y.size)``; for a
      list ``x``, a list of such pairs.
    """
    if isinstance(x, list):
        pairs = [_dx_and_dy(xi, y, y_shape) for xi in x]
        _run_init(init_targets)
        inits = x_init_value if x_init_value is not None else [None] * len(x)
        return [_one(xi, si, dxi, y, y_shape, dyi, vi, delta, extra_feed_dict)
                for xi, si, (dxi, dyi), vi in zip(x, x_shape, pairs, inits)]
    _run_init(init_targets)
    dx, dy = _dx_and_dy(x, y, y_shape)
    return _one(x, x_shape, dx, y, y_shape, dy, x_init_value, delta, extra_feed_dict)


def _run_init(init_targets: Optional[list]) -> None:
    if init_targets is not None:
        assert isinstance(init_targets, (list, tuple))
        sess = _session()
        for t in init_targets:
            sess.run(t)


def compute_gradient_error(x: Any, x_shape: Any, y: Any, y_shape: Any, x_init_value: Any = None,
                           delta: float = 1e-3, init_targets: Optional[list] = None,
                           extra_feed_dict: Optional[dict] = None) -> float:
    """Max absolute difference between the two Jacobians (``tf.test.compute_gradient_error``)."""
    grad = compute_gradient(x, x_shape, y, y_shape, x_init_value, delta, init_targets,
                            extra_feed_dict)
    return max_error(grad)


def max_error(grad: Any) -> float:
    """``max |theoretical - numerical|`` over one pair or a list of pairs (0 when empty)."""
    if isinstance(grad, tuple):
        grad = [grad]
    err = 0.0
    for jt, jn in grad:
        if jt.size or jn.size:
            err = max(err, float(np.fabs(jt - jn).max()))
    return err


__all__ = ["compute_gradient", "compute_gradient_error"]
