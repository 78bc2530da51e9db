"""The ``tf.keras`` namespace of graphflow: only ``optimizers`` (OptimizerV2 family)."""
from graphflow.keras import optimizers

__all__ = ["optimizers"]
