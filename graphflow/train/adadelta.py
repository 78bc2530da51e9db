"""``tf.train.AdadeltaOptimizer`` on the ``ApplyAdadelta`` kernel."""
from __future__ import annotations

from typing import Any

from graphflow.ops import training_ops
from graphflow.train.optimizer import Optimizer

__all__ = ["AdadeltaOptimizer"]


class AdadeltaOptimizer(Optimizer):
    """Adadelta (``tf.train.AdadeltaOptimizer``).

    Slots ``accum`` (``<var>/<name>``) and ``accum_update`` (``<var>/<name>_1``),
    both zeros. The learning rate multiplies the step: TF1's default 0.001 is
    slow; 1.0 is the paper's setting.
    """

    def __init__(self, learning_rate: Any = 0.001, rho: Any = 0.95, epsilon: Any = 1e-8,
                 use_locking: bool = False, name: str = "Adadelta") -> None:
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._rho = rho
        self._epsilon = epsilon

    def _create_slots(self, var_list: list) -> None:
        for v in var_list:
            self._zeros_slot(v, "accum", self._name)
            self._zeros_slot(v, "accum_update", self._name)

    def _prepare(self) -> None:
        self._lr_t = self._hyper(self._lr, "lr")
        self._rho_t = self._hyper(self._rho, "rho")
        self._epsilon_t = self._hyper(self._epsilon, "epsilon")

    def _args(self, var: Any) -> tuple:
        return (var, self.get_slot(var, "accum"), self.get_slot(var, "accum_update"),
                self._cast(self._lr_t, var), self._cast(self._rho_t, var),
                self._cast(self._epsilon_t, var))

    def _apply_dense(self, grad: Any, var: Any) -> Any:
        return training_ops.apply_adadelta(*self._args(var), grad,
                                           use_locking=self._use_locking).op

    def _apply_sparse(self, grad: Any, var: Any) -> Any:
        return training_ops.sparse_apply_adadelta(*self._args(var), grad.values, grad.indices,
                                                  use_locking=self._use_locking).op
