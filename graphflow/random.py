"""The ``tf.random`` namespace (re-exports only)."""
from graphflow.ops import random_ops as _random_ops

globals().update({k: getattr(_random_ops, k) for k in getattr(_random_ops, "RANDOM_API", {})})
__all__ = list(getattr(_random_ops, "RANDOM_API", []))
