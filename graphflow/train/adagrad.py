"""``tf.train.AdagradOptimizer`` on the ``ApplyAdagrad`` kernel."""
from __future__ import annotations

from typing import Any

from graphflow.ops import training_ops
from graphflow.train.optimizer import Optimizer

__all__ = ["AdagradOptimizer"]


class AdagradOptimizer(Optimizer):
    """Adagrad (``tf.train.AdagradOptimizer``).

    ``accum += grad**2``; ``var -= lr * grad / sqrt(accum)`` (no epsilon). Slot
    ``accumulator`` filled with ``initial_accumulator_value``, named ``<var>/<name>``.
    """

    def __init__(self, learning_rate: Any, initial_accumulator_value: float = 0.1,
                 use_locking: bool = False, name: str = "Adagrad") -> None:
        if initial_accumulator_value <= 0.0:
            raise ValueError("initial_accumulator_value must be positive: %s"
                             % initial_accumulator_value)
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value

    def _create_slots(self, var_list: list) -> None:
        for v in var_list:
            self._filled_slot(v, self._initial_accumulator_value, "accumulator", self._name)

    def _prepare(self) -> None:
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")

    def _apply_dense(self, grad: Any, var: Any) -> Any:
        return training_ops.apply_adagrad(
            var, self.get_slot(var, "accumulator"),
            self._cast(self._learning_rate_tensor, var), grad,
            use_locking=self._use_locking).op

    def _apply_sparse(self, grad: Any, var: Any) -> Any:
        return training_ops.sparse_apply_adagrad(
            var, self.get_slot(var, "accumulator"),
            self._cast(self._learning_rate_tensor, var), grad.values, grad.indices,
            use_locking=self._use_locking).op
