"""``tf.train.MomentumOptimizer`` (optionally Nesterov) on the ``ApplyMomentum`` kernel."""
from __future__ import annotations

from typing import Any

from graphflow.ops import training_ops
from graphflow.train.optimizer import Optimizer

__all__ = ["MomentumOptimizer"]


class MomentumOptimizer(Optimizer):
    """Momentum (``tf.train.MomentumOptimizer``).

    ``accum = accum * momentum + grad``; ``var -= lr * accum`` (Nesterov:
    ``var -= lr * grad + lr * momentum * accum``). Slot ``momentum`` (zeros),
    named ``<var>/<name>``.
    """

    def __init__(self, learning_rate: Any, momentum: Any, use_locking: bool = False,
                 name: str = "Momentum", use_nesterov: bool = False) -> None:
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = momentum
        self._use_nesterov = use_nesterov

    def _create_slots(self, var_list: list) -> None:
        for v in var_list:
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self) -> None:
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")
        self._momentum_tensor = self._hyper(self._momentum, "momentum")

    def _apply_dense(self, grad: Any, var: Any) -> Any:
        return training_ops.apply_momentum(
            var, self.get_slot(var, "momentum"), self._cast(self._learning_rate_tensor, var),
            grad, self._cast(self._momentum_tensor, var), use_locking=self._use_locking,
            use_nesterov=self._use_nesterov).op

    def _apply_sparse(self, grad: Any, var: Any) -> Any:
        return training_ops.sparse_apply_momentum(
            var, self.get_slot(var, "momentum"), self._cast(self._learning_rate_tensor, var),
            grad.values, grad.indices, self._cast(self._momentum_tensor, var),
            use_locking=self._use_locking, use_nesterov=self._use_nesterov).op
