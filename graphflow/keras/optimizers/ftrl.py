"""``tf.keras.optimizers.Ftrl``: FTRL-proximal on TF1's ApplyFtrl / ApplyFtrlV2 kernels."""
from __future__ import annotations

from typing import Any, Optional

from graphflow.keras.optimizers.optimizer_v2 import OptimizerV2
from graphflow.ops import array_ops, init_ops, training_ops
from graphflow.ops.compare_ops import cast

__all__ = ["Ftrl"]


class Ftrl(OptimizerV2):
    """FTRL-proximal (``tf.keras.optimizers.Ftrl``).

    Slots ``accumulator`` (filled with ``initial_accumulator_value``) and
    ``linear`` (zeros), made per variable in that order. The kernel is TF1's
    (spec optimizers.md §4.6) with ``l2 = l2 + beta / (2 * lr_t)``;
    ApplyFtrlV2 when ``l2_shrinkage_regularization_strength > 0``.
    """

    _HAS_AGGREGATE_GRAD = True

    def __init__(self, learning_rate: Any = 0.001, learning_rate_power: float = -0.5,
                 initial_accumulator_value: float = 0.1,
                 l1_regularization_strength: float = 0.0,
                 l2_regularization_strength: float = 0.0, name: str = "Ftrl",
                 l2_shrinkage_regularization_strength: float = 0.0, beta: float = 0.0,
                 **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        if initial_accumulator_value < 0.0:
            raise ValueError("initial_accumulator_value %f needs to be positive or zero"
                             % initial_accumulator_value)
        if learning_rate_power > 0.0:
            raise ValueError("learning_rate_power %f needs to be negative or zero"
                             % learning_rate_power)
        if l1_regularization_strength < 0.0:
            raise ValueError("l1_regularization_strength %f needs to be positive or zero"
                             % l1_regularization_strength)
        if l2_regularization_strength < 0.0:
            raise ValueError("l2_regularization_strength %f needs to be positive or zero"
                             % l2_regularization_strength)
        if l2_shrinkage_regularization_strength < 0.0:
            raise ValueError("l2_shrinkage_regularization_strength %f needs to be positive or "
                             "zero" % l2_shrinkage_regularization_strength)
        self._set_hyper("learning_rate", learning_rate)
        self._set_hyper("decay", self._initial_decay)
        self._set_hyper("learning_rate_power", learning_rate_power)
        self._set_hyper("l1_regularization_strength", l1_regularization_strength)
        self._set_hyper("l2_regularization_strength", l2_regularization_strength)
        self._set_hyper("beta", beta)
        self._initial_accumulator_value = initial_accumulator_value
        self._l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength

    def _create_slots(self, var_list: list) -> None:
        for var in var_list:
            init = init_ops.constant_initializer(self._initial_accumulator_value,
                                                 dtype=var.dtype.base_dtype)
            self.add_slot(var, "accumulator", init)
            self.add_slot(var, "linear")

    def _prepare_local(self, var_device: str, var_dtype: Any, apply_state: dict) -> None:
        super()._prepare_local(var_device, var_dtype, apply_state)

        def hyper(name: str) -> Any:
            return array_ops.identity(self._get_hyper(name, var_dtype))
        apply_state[(var_device, var_dtype)].update(dict(
            learning_rate_power=hyper("learning_rate_power"),
            l1_regularization_strength=hyper("l1_regularization_strength"),
            l2_regularization_strength=hyper("l2_regularization_strength"),
            beta=hyper("beta"),
            l2_shrinkage_regularization_strength=cast(
                self._l2_shrinkage_regularization_strength, var_dtype)))

    def _args(self, var: Any, apply_state: Optional[dict]) -> tuple:
        c = self._coefficients(var, apply_state)
        adjusted_l2 = c["l2_regularization_strength"] + c["beta"] / (2.0 * c["lr_t"])
        return c, adjusted_l2

    def _resource_apply_dense(self, grad: Any, var: Any, apply_state: Optional[dict] = None
                              ) -> Any:
        c, l2 = self._args(var, apply_state)
        accum, linear = self.get_slot(var, "accumulator"), self.get_slot(var, "linear")
        if self._l2_shrinkage_regularization_strength <= 0.0:
            return training_ops.apply_ftrl(
                var, accum, linear, grad, c["lr_t"], c["l1_regularization_strength"], l2,
                c["learning_rate_power"], use_locking=self._use_locking).op
        return training_ops.apply_ftrl_v2(
            var, accum, linear, grad, c["lr_t"], c["l1_regularization_strength"], l2,
            c["l2_shrinkage_regularization_strength"], c["learning_rate_power"],
            use_locking=self._use_locking).op

    def _resource_apply_sparse(self, grad: Any, var: Any, indices: Any,
                               apply_state: Optional[dict] = None) -> Any:
        c, l2 = self._args(var, apply_state)
        accum, linear = self.get_slot(var, "accumulator"), self.get_slot(var, "linear")
        if self._l2_shrinkage_regularization_strength <= 0.0:
            return training_ops.sparse_apply_ftrl(
                var, accum, linear, grad, indices, c["lr_t"], c["l1_regularization_strength"],
                l2, c["learning_rate_power"], use_locking=self._use_locking).op
        return training_ops.sparse_apply_ftrl_v2(
            var, accum, linear, grad, indices, c["lr_t"], c["l1_regularization_strength"], l2,
            c["l2_shrinkage_regularization_strength"], c["learning_rate_power"],
            use_locking=self._use_locking).op

    def get_config(self) -> dict:
        config = super().get_config()
        ser = self._serialize_hyperparameter
        config.update({"learning_rate": ser("learning_rate"), "decay": self._initial_decay,
                       "initial_accumulator_value": self._initial_accumulator_value,
                       "learning_rate_power": ser("learning_rate_power"),
                       "l1_regularization_strength": ser("l1_regularization_strength"),
                       "l2_regularization_strength": ser("l2_regularization_strength"),
                       "beta": ser("beta"),
                       "l2_shrinkage_regularization_strength":
                           self._l2_shrinkage_regularization_strength})
        return config
