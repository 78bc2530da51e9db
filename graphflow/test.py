"""The ``tf.test`` namespace: gradient checking helpers (re-exports only)."""
from graphflow.testing import gradient_checker as _gc  # noqa: F401

compute_gradient = getattr(_gc, "compute_gradient", None)
compute_gradient_error = getattr(_gc, "compute_gradient_error", None)
__all__ = ["compute_gradient", "compute_gradient_error"]
