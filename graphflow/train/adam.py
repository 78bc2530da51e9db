"""``tf.train.AdamOptimizer`` on the ``ApplyAdam`` kernel."""
from __future__ import annotations

from typing import Any

from graphflow.framework import graph as graph_mod
from graphflow.ops import control_flow_ops, math_ops, state_ops, training_ops
from graphflow.train.optimizer import Optimizer

__all__ = ["AdamOptimizer"]


class AdamOptimizer(Optimizer):
    """Adam (``tf.train.AdamOptimizer``, Kingma & Ba).

    Non-slot variables ``beta1_power``/``beta2_power`` (one pair per graph,
    created first, initial values ``beta1``/``beta2``) and slots ``m``
    (``<var>/<name>``) and ``v`` (``<var>/<name>_1``). Step *t* uses
    ``lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)``; ``epsilon`` is added
    after the square root. After all updates ``_finish`` multiplies the powers
    by ``beta1``/``beta2``. Sparse gradients go through dense ops and
    ``ScatterAdd`` (every row's ``m``/``v`` decay, as in TF1).
    """

    def __init__(self, learning_rate: Any = 0.001, beta1: Any = 0.9, beta2: Any = 0.999,
                 epsilon: Any = 1e-8, use_locking: bool = False, name: str = "Adam") -> None:
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._beta1 = beta1
        self._beta2 = beta2
        self._epsilon = epsilon

    def _get_beta_accumulators(self) -> tuple:
        graph = graph_mod.get_default_graph()
        return (self._get_non_slot_variable("beta1_power", graph=graph),
                self._get_non_slot_variable("beta2_power", graph=graph))

    def _create_slots(self, var_list: list) -> None:
        first_var = min(var_list, key=lambda x: x.name)
        self._create_non_slot_variable(initial_value=self._beta1, name="beta1_power",
                                       colocate_with=first_var)
        self._create_non_slot_variable(initial_value=self._beta2, name="beta2_power",
                                       colocate_with=first_var)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name)

    def _prepare(self) -> None:
        self._lr_t = self._hyper(self._lr, "learning_rate")
        self._beta1_t = self._hyper(self._beta1, "beta1")
        self._beta2_t = self._hyper(self._beta2, "beta2")
        self._epsilon_t = self._hyper(self._epsilon, "epsilon")

    def _apply_dense(self, grad: Any, var: Any) -> Any:
        beta1_power, beta2_power = self._get_beta_accumulators()
        c = self._cast
        return training_ops.apply_adam(
            var, self.get_slot(var, "m"), self.get_slot(var, "v"), c(beta1_power, var),
            c(beta2_power, var), c(self._lr_t, var), c(self._beta1_t, var),
            c(self._beta2_t, var), c(self._epsilon_t, var), grad,
            use_locking=self._use_locking).op

    def _apply_sparse(self, grad: Any, var: Any) -> Any:
        """m, v decay everywhere, the gradient rows are scatter-added, var moves everywhere."""
        beta1_power, beta2_power = self._get_beta_accumulators()
        c = self._cast
        beta1_power, beta2_power = c(beta1_power, var), c(beta2_power, var)
        lr_t, beta1_t = c(self._lr_t, var), c(self._beta1_t, var)
        beta2_t, epsilon_t = c(self._beta2_t, var), c(self._epsilon_t, var)
        lr = lr_t * math_ops.sqrt(1 - beta2_power) / (1 - beta1_power)
        values, indices = grad.values, grad.indices
        m = self.get_slot(var, "m")
        m_scaled_g_values = values * (1 - beta1_t)
        m_t = state_ops.assign(m, m * beta1_t, use_locking=self._use_locking)
        with graph_mod.control_dependencies([m_t]):
            m_t = state_ops.scatter_add(m, indices, m_scaled_g_values,
                                        use_locking=self._use_locking)
        v = self.get_slot(var, "v")
        v_scaled_g_values = (values * values) * (1 - beta2_t)
        v_t = state_ops.assign(v, v * beta2_t, use_locking=self._use_locking)
        with graph_mod.control_dependencies([v_t]):
            v_t = state_ops.scatter_add(v, indices, v_scaled_g_values,
                                        use_locking=self._use_locking)
        v_sqrt = math_ops.sqrt(v_t)
        var_update = state_ops.assign_sub(var, lr * m_t / (v_sqrt + epsilon_t),
                                          use_locking=self._use_locking)
        return control_flow_ops.group(var_update, m_t, v_t)

    def _finish(self, update_ops: list, name_scope: str) -> Any:
        with graph_mod.control_dependencies(update_ops):
            beta1_power, beta2_power = self._get_beta_accumulators()
            with graph_mod.colocate_with(beta1_power.op):
                update_beta1 = beta1_power.assign(beta1_power * self._beta1_t,
                                                  use_locking=self._use_locking)
                update_beta2 = beta2_power.assign(beta2_power * self._beta2_t,
                                                  use_locking=self._use_locking)
        return control_flow_ops.group(*(list(update_ops) + [update_beta1, update_beta2]),
                                      name=name_scope)
