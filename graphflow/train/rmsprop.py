"""``tf.train.RMSPropOptimizer`` on the ``ApplyRMSProp``/``ApplyCenteredRMSProp`` kernels."""
from __future__ import annotations

from typing import Any

from graphflow.ops import array_ops, init_ops, training_ops
from graphflow.train.optimizer import Optimizer

__all__ = ["RMSPropOptimizer"]


class RMSPropOptimizer(Optimizer):
    """RMSProp (``tf.train.RMSPropOptimizer``).

    Slots in creation order: ``rms`` (ones, ``<var>/<name>``), ``mg`` (zeros,
    only when ``centered``), ``momentum`` (zeros; created and used even when
    ``momentum == 0``). ``epsilon`` is inside the square root.
    """

    def __init__(self, learning_rate: Any, decay: Any = 0.9, momentum: Any = 0.0,
                 epsilon: Any = 1e-10, use_locking: bool = False, centered: bool = False,
                 name: str = "RMSProp") -> None:
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._decay = decay
        self._momentum = momentum
        self._epsilon = epsilon
        self._centered = centered

    def _create_slots(self, var_list: list) -> None:
        for v in var_list:
            dtype = v.dtype.base_dtype
            if v.get_shape().is_fully_defined():
                init_rms = init_ops.ones_initializer(dtype=dtype)
            else:
                init_rms = array_ops.ones_like(v)
            self._get_or_make_slot_with_initializer(v, init_rms, v.get_shape(), dtype, "rms",
                                                    self._name)
            if self._centered:
                self._zeros_slot(v, "mg", self._name)
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self) -> None:
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")
        self._decay_tensor = self._hyper(self._decay, "decay")
        self._momentum_tensor = self._hyper(self._momentum, "momentum")
        self._epsilon_tensor = self._hyper(self._epsilon, "epsilon")

    def _update(self, var: Any, grad: Any, indices: Any = None) -> Any:
        c = self._cast
        slots = [self.get_slot(var, "rms"), self.get_slot(var, "momentum")]
        if self._centered:
            slots.insert(0, self.get_slot(var, "mg"))
        args = [var] + slots + [c(self._learning_rate_tensor, var), c(self._decay_tensor, var),
                                c(self._momentum_tensor, var), c(self._epsilon_tensor, var),
                                grad]
        if indices is None:
            fn = (training_ops.apply_centered_rms_prop if self._centered
                  else training_ops.apply_rms_prop)
        else:
            fn = (training_ops.sparse_apply_centered_rms_prop if self._centered
                  else training_ops.sparse_apply_rms_prop)
            args.append(indices)
        return fn(*args, use_locking=self._use_locking).op

    def _apply_dense(self, grad: Any, var: Any) -> Any:
        return self._update(var, grad)

    def _apply_sparse(self, grad: Any, var: Any) -> Any:
        return self._update(var, grad.values, grad.indices)
