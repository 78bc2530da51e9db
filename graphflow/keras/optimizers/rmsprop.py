"""``tf.keras.optimizers.RMSprop`` (alias ``RMSProp``)."""
from __future__ import annotations

from typing import Any, Optional

from graphflow.framework import graph as graph_mod
from graphflow.framework.operation import Tensor, convert_to_tensor
from graphflow.keras.optimizers.adagrad import _prepend_iterations
from graphflow.keras.optimizers.optimizer_v2 import OptimizerV2
from graphflow.ops import (array_ops, control_flow_ops, keras_training_ops, math_ops,
                           state_ops, training_ops)

__all__ = ["RMSprop", "RMSProp"]


class RMSprop(OptimizerV2):
    """RMSprop (``tf.keras.optimizers.RMSprop``).

    Slots ``rms`` (**zeros**), then ``momentum`` if momentum > 0, then ``mg`` if
    centered. With momentum: TF1's ApplyRMSProp / ApplyCenteredRMSProp (epsilon
    inside the root). Without: ``rms = rho rms + (1 - rho) g*g`` (centered also
    ``mg = rho mg + (1 - rho) g``, denominator ``rms - mg*mg``) and
    ``var -= lr g / (sqrt(denom) + epsilon)`` (epsilon outside; fused
    ApplyKerasRMSProp / ApplyKerasCenteredRMSProp).
    """

    _HAS_AGGREGATE_GRAD = True

    def __init__(self, learning_rate: Any = 0.001, rho: Any = 0.9, momentum: Any = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, name: str = "RMSprop",
                 **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self._set_hyper("learning_rate", kwargs.get("lr", learning_rate))
        self._set_hyper("decay", self._initial_decay)
        self._set_hyper("rho", rho)
        self._momentum = False
        if isinstance(momentum, Tensor) or callable(momentum) or momentum > 0:
            self._momentum = True
        if isinstance(momentum, (int, float)) and (momentum < 0 or momentum > 1):
            raise ValueError("`momentum` must be between [0, 1].")
        self._set_hyper("momentum", momentum)
        self.epsilon = epsilon or 1e-7
        self.centered = centered

    def _create_slots(self, var_list: list) -> None:
        for var in var_list:
            self.add_slot(var, "rms")
        if self._momentum:
            for var in var_list:
                self.add_slot(var, "momentum")
        if self.centered:
            for var in var_list:
                self.add_slot(var, "mg")

    def _prepare_local(self, var_device: str, var_dtype: Any, apply_state: dict) -> None:
        super()._prepare_local(var_device, var_dtype, apply_state)
        rho = array_ops.identity(self._get_hyper("rho", var_dtype))
        state = apply_state[(var_device, var_dtype)]
        state.update(dict(neg_lr_t=-state["lr_t"],
                          epsilon=convert_to_tensor(self.epsilon, dtype=var_dtype), rho=rho,
                          momentum=array_ops.identity(self._get_hyper("momentum", var_dtype)),
                          one_minus_rho=1.0 - rho))

    def set_weights(self, weights: list) -> None:
        super().set_weights(_prepend_iterations(self, weights))

    def _resource_apply_dense(self, grad: Any, var: Any, apply_state: Optional[dict] = None
                              ) -> Any:
        c = self._coefficients(var, apply_state)
        rms = self.get_slot(var, "rms")
        lock = self._use_locking
        if self._momentum:
            mom = self.get_slot(var, "momentum")
            if self.centered:
                return training_ops.apply_centered_rms_prop(
                    var, self.get_slot(var, "mg"), rms, mom, c["lr_t"], c["rho"],
                    c["momentum"], c["epsilon"], grad, use_locking=lock).op
            return training_ops.apply_rms_prop(var, rms, mom, c["lr_t"], c["rho"],
                                               c["momentum"], c["epsilon"], grad,
                                               use_locking=lock).op
        if self.centered:
            return keras_training_ops.apply_keras_centered_rms_prop(
                var, self.get_slot(var, "mg"), rms, c["lr_t"], c["rho"], c["epsilon"], grad,
                use_locking=lock).op
        return keras_training_ops.apply_keras_rms_prop(var, rms, c["lr_t"], c["rho"],
                                                       c["epsilon"], grad, use_locking=lock).op

    def _resource_apply_sparse(self, grad: Any, var: Any, indices: Any,
                               apply_state: Optional[dict] = None) -> Any:
        c = self._coefficients(var, apply_state)
        rms = self.get_slot(var, "rms")
        lock = self._use_locking
        if self._momentum:
            mom = self.get_slot(var, "momentum")
            if self.centered:
                return training_ops.sparse_apply_centered_rms_prop(
                    var, self.get_slot(var, "mg"), rms, mom, c["lr_t"], c["rho"],
                    c["momentum"], c["epsilon"], grad, indices, use_locking=lock).op
            return training_ops.sparse_apply_rms_prop(
                var, rms, mom, c["lr_t"], c["rho"], c["momentum"], c["epsilon"], grad, indices,
                use_locking=lock).op
        # No momentum: Keras' composed update (every row of rms/mg decays).
        rms_scaled_g_values = (grad * grad) * c["one_minus_rho"]
        rms_t = state_ops.assign(rms, rms * c["rho"], use_locking=lock)
        with graph_mod.control_dependencies([rms_t]):
            rms_t = self._scatter_add(rms, indices, rms_scaled_g_values)
            rms_slice = array_ops.gather(rms_t, indices)
        denom_slice = rms_slice
        if self.centered:
            mg = self.get_slot(var, "mg")
            mg_scaled_g_values = grad * c["one_minus_rho"]
            mg_t = state_ops.assign(mg, mg * c["rho"], use_locking=lock)
            with graph_mod.control_dependencies([mg_t]):
                mg_t = self._scatter_add(mg, indices, mg_scaled_g_values)
                mg_slice = array_ops.gather(mg_t, indices)
                denom_slice = rms_slice - math_ops.square(mg_slice)
        var_update = self._scatter_add(
            var, indices, c["neg_lr_t"] * grad / (math_ops.sqrt(denom_slice) + c["epsilon"]))
        if self.centered:
            return control_flow_ops.group(var_update, rms_t, mg_t)
        return control_flow_ops.group(var_update, rms_t)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"learning_rate": self._serialize_hyperparameter("learning_rate"),
                       "decay": self._initial_decay,
                       "rho": self._serialize_hyperparameter("rho"),
                       "momentum": self._serialize_hyperparameter("momentum"),
                       "epsilon": self.epsilon, "centered": self.centered})
        return config


RMSProp = RMSprop
