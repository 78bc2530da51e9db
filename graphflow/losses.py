"""The ``tf.losses`` namespace (re-exports only)."""
from graphflow.ops import losses as _losses

globals().update({k: getattr(_losses, k) for k in getattr(_losses, "LOSSES_API", [])})
__all__ = list(getattr(_losses, "LOSSES_API", []))
