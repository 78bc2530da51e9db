"""The ``tf.math`` namespace (re-exports only)."""
from graphflow.ops import math_ops as _math_ops

globals().update({k: getattr(_math_ops, k) for k in getattr(_math_ops, "MATH_API", [])})
__all__ = list(getattr(_math_ops, "MATH_API", []))
