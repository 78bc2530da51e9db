"""Automatic differentiation: tf.gradients, aggregation, gating, GradientTape."""
from __future__ import annotations

__all__: list = []
