"""The ``tf.nn`` namespace (re-exports only)."""
from graphflow.ops import nn_ops as _nn_ops

globals().update({k: getattr(_nn_ops, k) for k in getattr(_nn_ops, "NN_API", [])})
__all__ = list(getattr(_nn_ops, "NN_API", []))
