"""The ``tf.math`` namespace (re-exports only)."""
from graphflow.ops import linalg_ops as _linalg_ops
from graphflow.ops import math_ops as _math_ops
from graphflow.ops import reduction_ops as _reduction_ops

__all__: list = []
for _m in (_math_ops, _reduction_ops, _linalg_ops):
    for _k in getattr(_m, "MATH_API", []):
        globals()[_k] = getattr(_m, _k)
        __all__.append(_k)
