"""``tf.train.GradientDescentOptimizer``: ``var -= learning_rate * grad``."""
from __future__ import annotations

from typing import Any

from graphflow.framework.indexed_slices import IndexedSlices
from graphflow.ops import training_ops
from graphflow.train.optimizer import Optimizer

__all__ = ["GradientDescentOptimizer"]


class GradientDescentOptimizer(Optimizer):
    """Plain gradient descent (``tf.train.GradientDescentOptimizer``).

    Dense gradients use the ``ApplyGradientDescent`` kernel. IndexedSlices are
    applied with ``ScatterSub`` of ``learning_rate * values`` without summing
    duplicate indices first (duplicates subtract repeatedly, which is the same).
    """

    def __init__(self, learning_rate: Any, use_locking: bool = False,
                 name: str = "GradientDescent") -> None:
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._learning_rate_tensor = None

    def _prepare(self) -> None:
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")

    def _apply_dense(self, grad: Any, var: Any) -> Any:
        return training_ops.apply_gradient_descent(
            var, self._cast(self._learning_rate_tensor, var), grad,
            use_locking=self._use_locking).op

    def _apply_sparse_duplicate_indices(self, grad: Any, var: Any) -> Any:
        delta = IndexedSlices(grad.values * self._cast(self._learning_rate_tensor, grad),
                              grad.indices, grad.dense_shape)
        return var.scatter_sub(delta, use_locking=self._use_locking)

    def _apply_sparse(self, grad: Any, var: Any) -> Any:
        return self._apply_sparse_duplicate_indices(grad, var)
