"""Automatic differentiation: tf.gradients, aggregation, gating, GradientTape."""
from __future__ import annotations

from graphflow.autodiff.aggregation import AggregationMethod
from graphflow.autodiff.gradients import UnconnectedGradients, gradients, hessians
from graphflow.autodiff.tape import GradientTape
from graphflow.framework.indexed_slices import IndexedSlices, IndexedSlicesValue

__all__ = ["gradients", "hessians", "AggregationMethod", "UnconnectedGradients", "GradientTape",
           "IndexedSlices", "IndexedSlicesValue"]
