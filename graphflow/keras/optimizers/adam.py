"""``tf.keras.optimizers.Adam`` (with AMSGrad) and ``Adamax``.

No beta-power variables: the powers ``beta ** t`` are computed from
``iterations`` (``t = iterations + 1``) at every step.
"""
from __future__ import annotations

from typing import Any, Optional

from graphflow.framework import graph as graph_mod
from graphflow.framework.operation import convert_to_tensor
from graphflow.keras.optimizers.optimizer_v2 import OptimizerV2
from graphflow.ops import (array_ops, control_flow_ops, keras_training_ops, math_ops,
                           state_ops, training_ops)
from graphflow.ops.compare_ops import cast

__all__ = ["Adam", "Adamax"]


class Adam(OptimizerV2):
    """Adam (``tf.keras.optimizers.Adam``).

    ``t = iterations + 1``; ``lr_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)``;
    ``m += (g - m)(1 - beta_1)``; ``v += (g*g - v)(1 - beta_2)``;
    ``var -= m * lr_t / (sqrt(v) + epsilon)`` (ApplyAdam). With ``amsgrad``
    (ApplyAdamWithAmsgrad) ``vhat = max(vhat, v)`` replaces ``v`` in the
    denominator. Slots ``m`` (all variables), then ``v``, then ``vhat``.
    Sparse gradients: ``m``/``v`` decay on every row, the gradient rows are
    scatter-added, and the whole variable moves (as TF's composed update).
    """

    _HAS_AGGREGATE_GRAD = True

    def __init__(self, learning_rate: Any = 0.001, beta_1: Any = 0.9, beta_2: Any = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, name: str = "Adam",
                 **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self._set_hyper("learning_rate", kwargs.get("lr", learning_rate))
        self._set_hyper("decay", self._initial_decay)
        self._set_hyper("beta_1", beta_1)
        self._set_hyper("beta_2", beta_2)
        self.epsilon = epsilon or 1e-7
        self.amsgrad = amsgrad

    def _create_slots(self, var_list: list) -> None:
        for var in var_list:
            self.add_slot(var, "m")
        for var in var_list:
            self.add_slot(var, "v")
        if self.amsgrad:
            for var in var_list:
                self.add_slot(var, "vhat")

    def _prepare_local(self, var_device: str, var_dtype: Any, apply_state: dict) -> None:
        super()._prepare_local(var_device, var_dtype, apply_state)
        local_step = cast(self.iterations + 1, var_dtype)
        beta_1_t = array_ops.identity(self._get_hyper("beta_1", var_dtype))
        beta_2_t = array_ops.identity(self._get_hyper("beta_2", var_dtype))
        beta_1_power = math_ops.pow(beta_1_t, local_step)
        beta_2_power = math_ops.pow(beta_2_t, local_step)
        state = apply_state[(var_device, var_dtype)]
        lr = state["lr_t"] * (math_ops.sqrt(1 - beta_2_power) / (1 - beta_1_power))
        state.update(dict(lr=lr, epsilon=convert_to_tensor(self.epsilon, dtype=var_dtype),
                          beta_1_t=beta_1_t, beta_1_power=beta_1_power,
                          one_minus_beta_1_t=1 - beta_1_t, beta_2_t=beta_2_t,
                          beta_2_power=beta_2_power, one_minus_beta_2_t=1 - beta_2_t))

    def set_weights(self, weights: list) -> None:
        # Keras V1 Adam weights (3n + 1, with vhat even without amsgrad): drop the extra.
        params = self.weights
        num_vars = int((len(params) - 1) / 2)
        if len(weights) == 3 * num_vars + 1:
            weights = weights[:len(params)]
        super().set_weights(weights)

    def _resource_apply_dense(self, grad: Any, var: Any, apply_state: Optional[dict] = None
                              ) -> Any:
        c = self._coefficients(var, apply_state)
        m, v = self.get_slot(var, "m"), self.get_slot(var, "v")
        if not self.amsgrad:
            return training_ops.apply_adam(
                var, m, v, c["beta_1_power"], c["beta_2_power"], c["lr_t"], c["beta_1_t"],
                c["beta_2_t"], c["epsilon"], grad, use_locking=self._use_locking).op
        return keras_training_ops.apply_adam_with_amsgrad(
            var, m, v, self.get_slot(var, "vhat"), c["beta_1_power"], c["beta_2_power"],
            c["lr_t"], c["beta_1_t"], c["beta_2_t"], c["epsilon"], grad,
            use_locking=self._use_locking).op

    def _resource_apply_sparse(self, grad: Any, var: Any, indices: Any,
                               apply_state: Optional[dict] = None) -> Any:
        c = self._coefficients(var, apply_state)
        m = self.get_slot(var, "m")
        m_scaled_g_values = grad * c["one_minus_beta_1_t"]
        m_t = state_ops.assign(m, m * c["beta_1_t"], use_locking=self._use_locking)
        with graph_mod.control_dependencies([m_t]):
            m_t = self._scatter_add(m, indices, m_scaled_g_values)
        v = self.get_slot(var, "v")
        v_scaled_g_values = (grad * grad) * c["one_minus_beta_2_t"]
        v_t = state_ops.assign(v, v * c["beta_2_t"], use_locking=self._use_locking)
        with graph_mod.control_dependencies([v_t]):
            v_t = self._scatter_add(v, indices, v_scaled_g_values)
        if not self.amsgrad:
            v_sqrt = math_ops.sqrt(v_t)
            var_update = state_ops.assign_sub(var, c["lr"] * m_t / (v_sqrt + c["epsilon"]),
                                              use_locking=self._use_locking)
            return control_flow_ops.group(var_update, m_t, v_t)
        v_hat = self.get_slot(var, "vhat")
        v_hat_t = math_ops.maximum(v_hat, v_t)
        with graph_mod.control_dependencies([v_hat_t]):
            v_hat_t = state_ops.assign(v_hat, v_hat_t, use_locking=self._use_locking)
        v_hat_sqrt = math_ops.sqrt(v_hat_t)
        var_update = state_ops.assign_sub(var, c["lr"] * m_t / (v_hat_sqrt + c["epsilon"]),
                                          use_locking=self._use_locking)
        return control_flow_ops.group(var_update, m_t, v_t, v_hat_t)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"learning_rate": self._serialize_hyperparameter("learning_rate"),
                       "decay": self._initial_decay,
                       "beta_1": self._serialize_hyperparameter("beta_1"),
                       "beta_2": self._serialize_hyperparameter("beta_2"),
                       "epsilon": self.epsilon, "amsgrad": self.amsgrad})
        return config


class Adamax(OptimizerV2):
    """Adamax, Adam with the infinity norm (``tf.keras.optimizers.Adamax``).

    ``m += (g - m)(1 - beta_1)``; ``v = max(beta_2 v, |g|)``;
    ``var -= lr / (1 - beta_1^t) * m / (v + epsilon)`` (ApplyAdaMax), ``t = iterations + 1``.
    Slots ``m`` then ``v``; sparse gradients update the listed rows only.
    """

    _HAS_AGGREGATE_GRAD = True

    def __init__(self, learning_rate: Any = 0.001, beta_1: Any = 0.9, beta_2: Any = 0.999,
                 epsilon: float = 1e-7, name: str = "Adamax", **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self._set_hyper("learning_rate", kwargs.get("lr", learning_rate))
        self._set_hyper("decay", self._initial_decay)
        self._set_hyper("beta_1", beta_1)
        self._set_hyper("beta_2", beta_2)
        self.epsilon = epsilon or 1e-7

    def _create_slots(self, var_list: list) -> None:
        for var in var_list:
            self.add_slot(var, "m")
        for var in var_list:
            self.add_slot(var, "v")

    def _prepare_local(self, var_device: str, var_dtype: Any, apply_state: dict) -> None:
        super()._prepare_local(var_device, var_dtype, apply_state)
        local_step = cast(self.iterations + 1, var_dtype)
        beta_1_t = array_ops.identity(self._get_hyper("beta_1", var_dtype))
        beta_2_t = array_ops.identity(self._get_hyper("beta_2", var_dtype))
        beta_1_power = math_ops.pow(beta_1_t, local_step)
        state = apply_state[(var_device, var_dtype)]
        lr_t = state["lr_t"]
        state.update(dict(neg_scaled_lr=-lr_t / (1 - beta_1_power),
                          epsilon=convert_to_tensor(self.epsilon, dtype=var_dtype),
                          beta_1_t=beta_1_t, beta_1_power=beta_1_power,
                          one_minus_beta_1_t=1 - beta_1_t, beta_2_t=beta_2_t))

    def _resource_apply_dense(self, grad: Any, var: Any, apply_state: Optional[dict] = None
                              ) -> Any:
        c = self._coefficients(var, apply_state)
        return keras_training_ops.apply_ada_max(
            var, self.get_slot(var, "m"), self.get_slot(var, "v"), c["beta_1_power"],
            c["lr_t"], c["beta_1_t"], c["beta_2_t"], c["epsilon"], grad,
            use_locking=self._use_locking).op

    def _resource_apply_sparse(self, grad: Any, var: Any, indices: Any,
                               apply_state: Optional[dict] = None) -> Any:
        c = self._coefficients(var, apply_state)
        m = self.get_slot(var, "m")
        m_slice = array_ops.gather(m, indices)
        m_t_slice = m_slice * c["beta_1_t"] + grad * c["one_minus_beta_1_t"]
        with graph_mod.control_dependencies([m_t_slice]):
            m_t = self._scatter_update(m, indices, m_t_slice)
        v = self.get_slot(var, "v")
        v_slice = array_ops.gather(v, indices)
        v_t_slice = math_ops.maximum(v_slice * c["beta_2_t"], math_ops.abs(grad))
        with graph_mod.control_dependencies([v_t_slice]):
            v_t = self._scatter_update(v, indices, v_t_slice)
        var_slice = c["neg_scaled_lr"] * (m_t_slice / (v_t_slice + c["epsilon"]))
        with graph_mod.control_dependencies([var_slice]):
            var_update = self._scatter_add(var, indices, var_slice)
        return control_flow_ops.group(var_update, m_t, v_t)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"learning_rate": self._serialize_hyperparameter("learning_rate"),
                       "decay": self._initial_decay,
                       "beta_1": self._serialize_hyperparameter("beta_1"),
                       "beta_2": self._serialize_hyperparameter("beta_2"),
                       "epsilon": self.epsilon})
        return config
