"""``tf.keras.optimizers.SGD``: gradient descent with optional (Nesterov) momentum."""
from __future__ import annotations

from typing import Any, Optional

from graphflow.framework.operation import Tensor
from graphflow.keras.optimizers.optimizer_v2 import OptimizerV2
from graphflow.ops import keras_training_ops, training_ops

__all__ = ["SGD"]


class SGD(OptimizerV2):
    """Stochastic gradient descent (``tf.keras.optimizers.SGD``).

    Without momentum: ``var -= lr * g`` (ApplyGradientDescent). With momentum
    (slot ``momentum``, ApplyKerasMomentum): ``accum = accum * momentum - lr * g``;
    ``var += accum`` (Nesterov: ``var += accum * momentum - lr * g``). The
    variable follows the TF1 Momentum trajectory; the slot holds the negative,
    lr-scaled velocity. Sparse gradients (duplicate indices summed first) without
    momentum: ``ScatterAdd`` of ``-lr * values``.

    Args:
      learning_rate: number, Tensor, callable or LearningRateSchedule (0.01).
      momentum: number in [0, 1] (0.0), Tensor or callable.
      nesterov: use Nesterov momentum.
      name: 'SGD'. **kwargs: see OptimizerV2.
    """

    _HAS_AGGREGATE_GRAD = True

    def __init__(self, learning_rate: Any = 0.01, momentum: Any = 0.0, nesterov: bool = False,
                 name: str = "SGD", **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self._set_hyper("learning_rate", kwargs.get("lr", learning_rate))
        self._set_hyper("decay", self._initial_decay)
        self._momentum = False
        if isinstance(momentum, Tensor) or callable(momentum) or momentum > 0:
            self._momentum = True
        if isinstance(momentum, (int, float)) and (momentum < 0 or momentum > 1):
            raise ValueError("`momentum` must be between [0, 1].")
        self._set_hyper("momentum", momentum)
        self.nesterov = nesterov

    def _create_slots(self, var_list: list) -> None:
        if self._momentum:
            for var in var_list:
                self.add_slot(var, "momentum")

    def _prepare_local(self, var_device: str, var_dtype: Any, apply_state: dict) -> None:
        super()._prepare_local(var_device, var_dtype, apply_state)
        from graphflow.ops import array_ops
        apply_state[(var_device, var_dtype)]["momentum"] = array_ops.identity(
            self._get_hyper("momentum", var_dtype))

    def _resource_apply_dense(self, grad: Any, var: Any, apply_state: Optional[dict] = None
                              ) -> Any:
        c = self._coefficients(var, apply_state)
        if self._momentum:
            return keras_training_ops.apply_keras_momentum(
                var, self.get_slot(var, "momentum"), c["lr_t"], grad, c["momentum"],
                use_locking=self._use_locking, use_nesterov=self.nesterov).op
        return training_ops.apply_gradient_descent(var, c["lr_t"], grad,
                                                   use_locking=self._use_locking).op

    def _resource_apply_sparse(self, grad: Any, var: Any, indices: Any,
                               apply_state: Optional[dict] = None) -> Any:
        """Rows already deduplicated: ScatterAdd of ``-lr * g``, or SparseApplyKerasMomentum."""
        c = self._coefficients(var, apply_state)
        if not self._momentum:
            return self._scatter_add(var, indices, -grad * c["lr_t"]).op
        return keras_training_ops.sparse_apply_keras_momentum(
            var, self.get_slot(var, "momentum"), c["lr_t"], grad, indices, c["momentum"],
            use_locking=self._use_locking, use_nesterov=self.nesterov).op

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"learning_rate": self._serialize_hyperparameter("learning_rate"),
                       "decay": self._initial_decay,
                       "momentum": self._serialize_hyperparameter("momentum"),
                       "nesterov": self.nesterov})
        return config
