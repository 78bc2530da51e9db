"""The ``tf.contrib`` namespace of graphflow: ``contrib.layers`` (optimize_loss)."""
from graphflow.contrib import layers

__all__ = ["layers"]
