"""The ``tf.initializers`` namespace (re-exports only)."""
from graphflow.ops import init_ops as _init_ops

globals().update({k: getattr(_init_ops, k) for k in getattr(_init_ops, "INITIALIZERS_API", [])})
__all__ = list(getattr(_init_ops, "INITIALIZERS_API", []))
