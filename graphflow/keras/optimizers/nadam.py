"""``tf.keras.optimizers.Nadam``: Adam with Nesterov momentum (Dozat 2015), Keras schedule."""
from __future__ import annotations

from typing import Any, Optional

from graphflow import dtypes
from graphflow.framework import graph as graph_mod
from graphflow.framework.operation import convert_to_tensor
from graphflow.keras.optimizers import schedules
from graphflow.keras.optimizers.optimizer_v2 import OptimizerV2, VariableAggregation
from graphflow.ops import (array_ops, control_flow_ops, keras_training_ops, math_ops,
                           state_ops)
from graphflow.ops.compare_ops import cast

__all__ = ["Nadam"]


class Nadam(OptimizerV2):
    """Nadam (``tf.keras.optimizers.Nadam``).

    With ``t = iterations + 1`` and ``decay`` (default 0.004, the old
    ``schedule_decay``): ``mu_t = beta_1 (1 - 0.5 * 0.96 ** (decay * t))``;
    the weight ``momentum_cache`` (starts at 1) accumulates
    ``m_schedule_new = momentum_cache * mu_t`` and is assigned that value each
    step; ``m_schedule_next = m_schedule_new * mu_{t+1}``. Per element::

        g' = g / (1 - m_schedule_new)
        m = beta_1 m + (1 - beta_1) g;           m' = m / (1 - m_schedule_next)
        v = beta_2 v + (1 - beta_2) g*g;         v' = v / (1 - beta_2 ** t)
        m_bar = (1 - mu_t) g' + mu_{t+1} m'
        var -= lr * m_bar / (sqrt(v') + epsilon)

    The learning rate is not time-decayed (``decay`` drives the momentum
    schedule only). Dense updates run on the fused ApplyNadam op.
    """

    _HAS_AGGREGATE_GRAD = True

    def __init__(self, learning_rate: Any = 0.001, beta_1: Any = 0.9, beta_2: Any = 0.999,
                 epsilon: float = 1e-7, name: str = "Nadam", **kwargs: Any) -> None:
        kwargs["decay"] = kwargs.pop("schedule_decay", kwargs.get("decay", 0.004))
        learning_rate = kwargs.get("lr", learning_rate)
        if isinstance(learning_rate, schedules.LearningRateSchedule):
            raise ValueError("The Nadam optimizer does not support "
                             "tf.keras.optimizers.LearningRateSchedules as the learning rate.")
        super().__init__(name, **kwargs)
        self._set_hyper("learning_rate", learning_rate)
        self._set_hyper("decay", self._initial_decay)
        self._set_hyper("beta_1", beta_1)
        self._set_hyper("beta_2", beta_2)
        self.epsilon = epsilon or 1e-7
        self._m_cache = None
        self._m_cache_read = None

    def _create_slots(self, var_list: list) -> None:
        var_dtype = var_list[0].dtype.base_dtype if var_list else dtypes.float32
        if self._m_cache is None:
            self._m_cache = self.add_weight(
                "momentum_cache", shape=[], dtype=var_dtype, initializer="ones",
                trainable=False, aggregation=VariableAggregation.ONLY_FIRST_REPLICA)
            self._weights.append(self._m_cache)
        for var in var_list:
            self.add_slot(var, "m")
        for var in var_list:
            self.add_slot(var, "v")

    def _prepare(self, var_list: list) -> dict:
        self._m_cache_read = array_ops.identity(self._m_cache)
        return super()._prepare(var_list)

    def _prepare_local(self, var_device: str, var_dtype: Any, apply_state: dict) -> None:
        lr_t = array_ops.identity(self._get_hyper("learning_rate", var_dtype))
        beta_1_t = array_ops.identity(self._get_hyper("beta_1", var_dtype))
        beta_2_t = array_ops.identity(self._get_hyper("beta_2", var_dtype))
        local_step = cast(self.iterations + 1, var_dtype)
        next_step = cast(self.iterations + 2, var_dtype)
        decay_base = cast(0.96, var_dtype)
        momentum_cache_t = beta_1_t * (1.0 - 0.5 * math_ops.pow(
            decay_base, self._initial_decay * local_step))
        momentum_cache_t_1 = beta_1_t * (1.0 - 0.5 * math_ops.pow(
            decay_base, self._initial_decay * next_step))
        m_schedule_new = cast(self._m_cache_read, var_dtype) * momentum_cache_t
        if var_dtype == self._m_cache.dtype.base_dtype:
            m_schedule_new = array_ops.identity(state_ops.assign(
                self._m_cache, m_schedule_new, use_locking=self._use_locking))
        m_schedule_next = m_schedule_new * momentum_cache_t_1
        apply_state[(var_device, var_dtype)] = dict(
            lr_t=lr_t, neg_lr_t=-lr_t, epsilon=convert_to_tensor(self.epsilon, dtype=var_dtype),
            beta_1_t=beta_1_t, beta_2_t=beta_2_t, momentum_cache_t=momentum_cache_t,
            momentum_cache_t_1=momentum_cache_t_1, m_schedule_new=m_schedule_new,
            m_schedule_next=m_schedule_next, one_minus_beta_1_t=1 - beta_1_t,
            one_minus_beta_2_t=1 - beta_2_t, one_minus_m_t=1.0 - momentum_cache_t,
            one_minus_m_schedule_new=1.0 - m_schedule_new,
            one_minus_m_schedule_next=1.0 - m_schedule_next,
            beta_2_power=math_ops.pow(beta_2_t, local_step))
        apply_state[(var_device, var_dtype)]["v_t_prime_denominator"] = \
            1.0 - apply_state[(var_device, var_dtype)]["beta_2_power"]

    def _resource_apply_dense(self, grad: Any, var: Any, apply_state: Optional[dict] = None
                              ) -> Any:
        c = self._coefficients(var, apply_state)
        return keras_training_ops.apply_nadam(
            var, self.get_slot(var, "m"), self.get_slot(var, "v"), c["lr_t"], c["beta_1_t"],
            c["beta_2_t"], c["epsilon"], c["momentum_cache_t"], c["momentum_cache_t_1"],
            c["m_schedule_new"], c["m_schedule_next"], c["beta_2_power"], grad,
            use_locking=self._use_locking).op

    def _resource_apply_sparse(self, grad: Any, var: Any, indices: Any,
                               apply_state: Optional[dict] = None) -> Any:
        c = self._coefficients(var, apply_state)
        m, v = self.get_slot(var, "m"), self.get_slot(var, "v")
        g_prime = grad / c["one_minus_m_schedule_new"]
        m_scaled_g_values = grad * c["one_minus_beta_1_t"]
        m_t = state_ops.assign(m, m * c["beta_1_t"], use_locking=self._use_locking)
        with graph_mod.control_dependencies([m_t]):
            m_t = self._scatter_add(m, indices, m_scaled_g_values)
            m_t_slice = array_ops.gather(m_t, indices)
        m_t_prime = m_t_slice / c["one_minus_m_schedule_next"]
        m_t_bar = c["one_minus_m_t"] * g_prime + c["momentum_cache_t_1"] * m_t_prime
        v_scaled_g_values = (grad * grad) * c["one_minus_beta_2_t"]
        v_t = state_ops.assign(v, v * c["beta_2_t"], use_locking=self._use_locking)
        with graph_mod.control_dependencies([v_t]):
            v_t = self._scatter_add(v, indices, v_scaled_g_values)
            v_t_slice = array_ops.gather(v_t, indices)
        v_t_prime = v_t_slice / c["v_t_prime_denominator"]
        v_prime_sqrt_plus_eps = math_ops.sqrt(v_t_prime) + c["epsilon"]
        var_update = self._scatter_add(var, indices,
                                       c["neg_lr_t"] * m_t_bar / v_prime_sqrt_plus_eps)
        return control_flow_ops.group(var_update, m_t_bar, v_t)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"learning_rate": self._serialize_hyperparameter("learning_rate"),
                       "decay": self._initial_decay,
                       "beta_1": self._serialize_hyperparameter("beta_1"),
                       "beta_2": self._serialize_hyperparameter("beta_2"),
                       "epsilon": self.epsilon})
        return config
