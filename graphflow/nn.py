"""The ``tf.nn`` namespace (re-exports only)."""
from graphflow.ops.nn_ops import *  # noqa: F401,F403
from graphflow.ops import nn_ops as _nn_ops

__all__ = list(getattr(_nn_ops, "NN_API", []))
