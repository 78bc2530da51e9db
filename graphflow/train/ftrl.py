"""``tf.train.FtrlOptimizer`` (FTRL-proximal) on the ``ApplyFtrl``/``ApplyFtrlV2`` kernels."""
from __future__ import annotations

from numbers import Number
from typing import Any, Optional

from graphflow.ops import math_ops, training_ops
from graphflow.train.optimizer import Optimizer

__all__ = ["FtrlOptimizer"]


class FtrlOptimizer(Optimizer):
    """FTRL-proximal (``tf.train.FtrlOptimizer``, McMahan et al. 2013).

    Slots ``accum`` (filled with ``initial_accumulator_value``,
    ``<var>/<accum_name or name>``) and ``linear`` (zeros,
    ``<var>/<linear_name or name>``, ``_1`` when the names coincide). The L2
    strength handed to the kernel is ``l2 + beta / (2 * max(learning_rate,
    1e-36))``. ``ApplyFtrlV2`` is used when ``l2_shrinkage_regularization_strength > 0``.
    """

    def __init__(self, learning_rate: Any, learning_rate_power: float = -0.5,
                 initial_accumulator_value: float = 0.1,
                 l1_regularization_strength: float = 0.0,
                 l2_regularization_strength: float = 0.0, use_locking: bool = False,
                 name: str = "Ftrl", accum_name: Optional[str] = None,
                 linear_name: Optional[str] = None,
                 l2_shrinkage_regularization_strength: float = 0.0,
                 beta: Optional[float] = None) -> None:
        super().__init__(use_locking, name)
        if initial_accumulator_value < 0.0:
            raise ValueError("initial_accumulator_value %f needs to be positive or zero"
                             % initial_accumulator_value)
        if learning_rate_power > 0.0:
            raise ValueError("learning_rate_power %f needs to be negative or zero"
                             % learning_rate_power)
        for label, value in (("l1", l1_regularization_strength),
                             ("l2", l2_regularization_strength),
                             ("l2_shrinkage", l2_shrinkage_regularization_strength)):
            if value < 0.0:
                raise ValueError("%s_regularization_strength %f needs to be positive or zero"
                                 % (label, value))
        self._learning_rate = learning_rate
        self._learning_rate_power = learning_rate_power
        self._initial_accumulator_value = initial_accumulator_value
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength
        self._beta = 0.0 if beta is None else beta
        self._l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self._accum_name = accum_name
        self._linear_name = linear_name

    def _create_slots(self, var_list: list) -> None:
        for v in var_list:
            self._filled_slot(v, self._initial_accumulator_value, "accum",
                              self._accum_name or self._name)
            self._zeros_slot(v, "linear", self._linear_name or self._name)

    def _adjusted_l2(self, learning_rate: Any) -> Any:
        l2, beta = self._l2_regularization_strength, self._beta
        if isinstance(learning_rate, Number) and isinstance(beta, Number):
            return l2 + beta / (2.0 * max(learning_rate, 1e-36))
        return l2 + beta / (2.0 * math_ops.maximum(learning_rate, 1e-36))

    def _prepare(self) -> None:
        lr = self._call_if_callable(self._learning_rate)
        self._learning_rate_tensor = self._hyper(lr, "learning_rate")
        self._l1_tensor = self._hyper(self._l1_regularization_strength,
                                      "l1_regularization_strength")
        adjusted = self._adjusted_l2(lr if isinstance(lr, Number)
                                     else self._learning_rate_tensor)
        self._adjusted_l2_tensor = self._hyper(adjusted, "adjusted_l2_regularization_strength")
        self._beta_tensor = self._hyper(self._beta, "beta")
        self._l2_shrinkage_tensor = self._hyper(self._l2_shrinkage_regularization_strength,
                                                "l2_shrinkage_regularization_strength")
        self._learning_rate_power_tensor = self._hyper(self._learning_rate_power,
                                                       "learning_rate_power")

    def _update(self, var: Any, grad: Any, indices: Any = None) -> Any:
        c = self._cast
        args = [var, self.get_slot(var, "accum"), self.get_slot(var, "linear"), grad]
        if indices is not None:
            args.append(indices)
        args += [c(self._learning_rate_tensor, var), c(self._l1_tensor, var),
                 c(self._adjusted_l2_tensor, var)]
        shrink = self._l2_shrinkage_regularization_strength > 0.0
        if shrink:
            args.append(c(self._l2_shrinkage_tensor, var))
        args.append(c(self._learning_rate_power_tensor, var))
        if indices is None:
            fn = training_ops.apply_ftrl_v2 if shrink else training_ops.apply_ftrl
        else:
            fn = training_ops.sparse_apply_ftrl_v2 if shrink else training_ops.sparse_apply_ftrl
        return fn(*args, use_locking=self._use_locking).op

    def _apply_dense(self, grad: Any, var: Any) -> Any:
        return self._update(var, grad)

    def _apply_sparse(self, grad: Any, var: Any) -> Any:
        return self._update(var, grad.values, grad.indices)
