"""``tf.keras.optimizers.Adagrad`` and ``Adadelta``."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from graphflow.framework.operation import convert_to_tensor
from graphflow.keras.optimizers import schedules
from graphflow.keras.optimizers.optimizer_v2 import OptimizerV2
from graphflow.ops import array_ops, init_ops, keras_training_ops, training_ops

__all__ = ["Adagrad", "Adadelta"]


def _prepend_iterations(opt: OptimizerV2, weights: list) -> list:
    """Keras V1 weight lists lack ``iterations``: prepend a 0 when exactly one is missing."""
    if len(opt.weights) == len(weights) + 1:
        return [np.array(0)] + list(weights)
    return weights


class Adagrad(OptimizerV2):
    """Adagrad (``tf.keras.optimizers.Adagrad``).

    Slot ``accumulator`` filled with ``initial_accumulator_value`` (0.1);
    ``accum += g*g``; ``var -= lr * g / (sqrt(accum) + epsilon)`` (ApplyAdagradV2:
    epsilon outside the root, unlike TF1's AdagradOptimizer).
    """

    _HAS_AGGREGATE_GRAD = True

    def __init__(self, learning_rate: Any = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, name: str = "Adagrad", **kwargs: Any) -> None:
        if initial_accumulator_value < 0.0:
            raise ValueError("initial_accumulator_value must be non-negative: %s"
                             % initial_accumulator_value)
        if epsilon is None:
            epsilon = 1e-7
        super().__init__(name, **kwargs)
        self._set_hyper("learning_rate", kwargs.get("lr", learning_rate))
        self._set_hyper("decay", self._initial_decay)
        self._initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon or 1e-7

    def _create_slots(self, var_list: list) -> None:
        for var in var_list:
            init = init_ops.constant_initializer(self._initial_accumulator_value,
                                                 dtype=var.dtype.base_dtype)
            self.add_slot(var, "accumulator", init)

    def _prepare_local(self, var_device: str, var_dtype: Any, apply_state: dict) -> None:
        super()._prepare_local(var_device, var_dtype, apply_state)
        state = apply_state[(var_device, var_dtype)]
        state.update(dict(epsilon=convert_to_tensor(self.epsilon, dtype=var_dtype),
                          neg_lr_t=-state["lr_t"]))

    def set_weights(self, weights: list) -> None:
        super().set_weights(_prepend_iterations(self, weights))

    @classmethod
    def from_config(cls, config: dict, custom_objects: Optional[dict] = None) -> "Adagrad":
        config = dict(config)
        config.setdefault("initial_accumulator_value", 0.1)
        if "lr" in config:
            config["learning_rate"] = config.pop("lr")
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"],
                                                            custom_objects=custom_objects)
        return cls(**config)

    def _resource_apply_dense(self, grad: Any, var: Any, apply_state: Optional[dict] = None
                              ) -> Any:
        c = self._coefficients(var, apply_state)
        return keras_training_ops.apply_adagrad_v2(
            var, self.get_slot(var, "accumulator"), c["lr_t"], c["epsilon"], grad,
            use_locking=self._use_locking).op

    def _resource_apply_sparse(self, grad: Any, var: Any, indices: Any,
                               apply_state: Optional[dict] = None) -> Any:
        c = self._coefficients(var, apply_state)
        return keras_training_ops.sparse_apply_adagrad_v2(
            var, self.get_slot(var, "accumulator"), c["lr_t"], c["epsilon"], grad, indices,
            use_locking=self._use_locking).op

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"learning_rate": self._serialize_hyperparameter("learning_rate"),
                       "decay": self._initial_decay,
                       "initial_accumulator_value": self._initial_accumulator_value,
                       "epsilon": self.epsilon})
        return config


class Adadelta(OptimizerV2):
    """Adadelta (``tf.keras.optimizers.Adadelta``) on the ApplyAdadelta kernel.

    Slots ``accum_grad`` (all variables) then ``accum_var``; the update is TF1's
    (spec optimizers.md §4.4) with ``accum = accum_grad`` and
    ``accum_update = accum_var``; default epsilon 1e-7.
    """

    _HAS_AGGREGATE_GRAD = True

    def __init__(self, learning_rate: Any = 0.001, rho: Any = 0.95, epsilon: float = 1e-7,
                 name: str = "Adadelta", **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self._set_hyper("learning_rate", kwargs.get("lr", learning_rate))
        self._set_hyper("decay", self._initial_decay)
        self._set_hyper("rho", rho)
        self.epsilon = epsilon or 1e-7

    def _create_slots(self, var_list: list) -> None:
        for v in var_list:
            self.add_slot(v, "accum_grad")
        for v in var_list:
            self.add_slot(v, "accum_var")

    def _prepare_local(self, var_device: str, var_dtype: Any, apply_state: dict) -> None:
        super()._prepare_local(var_device, var_dtype, apply_state)
        apply_state[(var_device, var_dtype)].update(dict(
            epsilon=convert_to_tensor(self.epsilon, dtype=var_dtype),
            rho=array_ops.identity(self._get_hyper("rho", var_dtype))))

    def set_weights(self, weights: list) -> None:
        super().set_weights(_prepend_iterations(self, weights))

    def _resource_apply_dense(self, grad: Any, var: Any, apply_state: Optional[dict] = None
                              ) -> Any:
        c = self._coefficients(var, apply_state)
        return training_ops.apply_adadelta(
            var, self.get_slot(var, "accum_grad"), self.get_slot(var, "accum_var"), c["lr_t"],
            c["rho"], c["epsilon"], grad, use_locking=self._use_locking).op

    def _resource_apply_sparse(self, grad: Any, var: Any, indices: Any,
                               apply_state: Optional[dict] = None) -> Any:
        c = self._coefficients(var, apply_state)
        return training_ops.sparse_apply_adadelta(
            var, self.get_slot(var, "accum_grad"), self.get_slot(var, "accum_var"), c["lr_t"],
            c["rho"], c["epsilon"], grad, indices, use_locking=self._use_locking).op

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"learning_rate": self._serialize_hyperparameter("learning_rate"),
                       "decay": self._initial_decay,
                       "rho": self._serialize_hyperparameter("rho"),
                       "epsilon": self.epsilon})
        return config
