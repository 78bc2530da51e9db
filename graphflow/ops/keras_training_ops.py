"""Fused updates used by the Keras-style optimizers whose formulas differ from TF1's.

Same declaration and kernel conventions as ``ops/training_ops.py`` (they share
its ``_Apply`` base: in-place update of the variable and slot references, scalar
hyperparameters of the variable's dtype, float16 through float32 copies):

* ``ApplyKerasMomentum`` / ``SparseApplyKerasMomentum`` -- TF's
  ``ResourceApplyKerasMomentum``: the slot holds the negative, lr-scaled velocity.
* ``ApplyAdagradV2`` / ``SparseApplyAdagradV2`` -- epsilon outside the root.
* ``ApplyAdamWithAmsgrad`` -- Adam with the running maximum ``vhat``.
* ``ApplyAdaMax`` -- Adamax (infinity norm).
* ``ApplyKerasRMSProp`` / ``ApplyKerasCenteredRMSProp`` -- RMSprop without momentum
  as Keras builds it (epsilon outside the root); TF composes it of plain ops.
* ``ApplyNadam`` -- Keras Nadam's dense update; TF composes it of plain ops.

Formulas: spec keras_optimizer_v2.md §5 (and the kernels' docstrings).
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from graphflow.kernels import keras_training_kernels as K
from graphflow.framework.op_def import register_op
from graphflow.ops.training_ops import _Apply, _build

__all__: list = []

_EXEMPT = ("updates variable references in place; checked against NumPy formulas and the "
           "spec's numbers in tests/keras/test_optimizer_v2.py")


class _KerasApply(_Apply):
    contract_exempt = _EXEMPT


def _one(x: Any) -> Any:
    return x.dtype.type(1)


@register_op
class ApplyKerasMomentum(_KerasApply):
    """``accum = accum * momentum - grad * lr; var += accum`` (TF ``ResourceApplyKerasMomentum``)."""
    inputs = ("var", "accum", "lr", "grad", "momentum")
    ref_inputs = (0, 1)
    attrs = {"use_locking": False, "use_nesterov": False}

    @staticmethod
    def call(a: list, g: np.ndarray, s: list, attrs: dict) -> None:
        K.apply_keras_momentum(a[0], a[1], g, s[0], s[1], bool(attrs["use_nesterov"]))


@register_op
class SparseApplyKerasMomentum(_KerasApply):
    """ApplyKerasMomentum on the rows ``indices`` (TF ``ResourceSparseApplyKerasMomentum``)."""
    inputs = ("var", "accum", "lr", "grad", "indices", "momentum")
    ref_inputs = (0, 1)
    attrs = {"use_locking": False, "use_nesterov": False}
    sparse = True
    failures = "values"  # out-of-range indices

    @staticmethod
    def call(a: list, g: np.ndarray, idx: np.ndarray, s: list, attrs: dict) -> None:
        K.sparse_apply_keras_momentum(a[0], a[1], g, idx, s[0], s[1],
                                      bool(attrs["use_nesterov"]))


@register_op
class ApplyAdagradV2(_KerasApply):
    """``accum += g*g; var -= g*lr / (sqrt(accum) + epsilon)`` (TF ``ApplyAdagradV2``)."""
    inputs = ("var", "accum", "lr", "epsilon", "grad")
    ref_inputs = (0, 1)
    attrs = {"use_locking": False, "update_slots": True}

    @staticmethod
    def call(a: list, g: np.ndarray, s: list, attrs: dict) -> None:
        K.apply_adagrad_v2(a[0], a[1], g, s[0], s[1], bool(attrs["update_slots"]))


@register_op
class SparseApplyAdagradV2(_KerasApply):
    """ApplyAdagradV2 on the rows ``indices`` (TF ``SparseApplyAdagradV2``)."""
    inputs = ("var", "accum", "lr", "epsilon", "grad", "indices")
    ref_inputs = (0, 1)
    attrs = {"use_locking": False, "update_slots": True}
    sparse = True
    failures = "values"  # out-of-range indices

    @staticmethod
    def call(a: list, g: np.ndarray, idx: np.ndarray, s: list, attrs: dict) -> None:
        K.sparse_apply_adagrad_v2(a[0], a[1], g, idx, s[0], s[1], bool(attrs["update_slots"]))


@register_op
class ApplyAdamWithAmsgrad(_KerasApply):
    """Adam whose denominator uses ``vhat = max(vhat, v)`` (TF ``ResourceApplyAdamWithAmsgrad``)."""
    inputs = ("var", "m", "v", "vhat", "beta1_power", "beta2_power", "lr", "beta1", "beta2",
              "epsilon", "grad")
    ref_inputs = (0, 1, 2, 3)

    @staticmethod
    def call(a: list, g: np.ndarray, s: list, attrs: dict) -> None:
        b1p, b2p, lr, b1, b2, eps = s
        one = _one(lr)
        alpha = lr * np.sqrt(one - b2p) / (one - b1p)
        K.apply_adam_with_amsgrad(a[0], a[1], a[2], a[3], g, alpha, one - b1, one - b2, eps)


@register_op
class ApplyAdaMax(_KerasApply):
    """``m += (g-m)(1-beta1); v = max(beta2 v, |g|); var -= lr/(1-beta1_power) * m/(v+eps)``
    (TF ``ApplyAdaMax``)."""
    inputs = ("var", "m", "v", "beta1_power", "lr", "beta1", "beta2", "epsilon", "grad")
    ref_inputs = (0, 1, 2)

    @staticmethod
    def call(a: list, g: np.ndarray, s: list, attrs: dict) -> None:
        b1p, lr, b1, b2, eps = s
        one = _one(lr)
        K.apply_ada_max(a[0], a[1], a[2], g, lr / (one - b1p), one - b1, b2, eps)


@register_op
class ApplyKerasRMSProp(_KerasApply):
    """``ms = rho ms + (1-rho) g*g; var -= lr g / (sqrt(ms) + eps)`` (Keras RMSprop, no momentum)."""
    inputs = ("var", "ms", "lr", "rho", "epsilon", "grad")
    ref_inputs = (0, 1)

    @staticmethod
    def call(a: list, g: np.ndarray, s: list, attrs: dict) -> None:
        lr, rho, eps = s
        K.apply_keras_rms_prop(a[0], a[1], g, lr, rho, _one(rho) - rho, eps)


@register_op
class ApplyKerasCenteredRMSProp(_KerasApply):
    """Centered Keras RMSprop without momentum: also ``mg = rho mg + (1-rho) g`` and the
    denominator ``sqrt(ms - mg*mg) + eps``."""
    inputs = ("var", "mg", "ms", "lr", "rho", "epsilon", "grad")
    ref_inputs = (0, 1, 2)

    @staticmethod
    def call(a: list, g: np.ndarray, s: list, attrs: dict) -> None:
        lr, rho, eps = s
        K.apply_keras_centered_rms_prop(a[0], a[1], a[2], g, lr, rho, _one(rho) - rho, eps)


@register_op
class ApplyNadam(_KerasApply):
    """Keras Nadam's dense update (TF 2.x ``nadam.py``) as one fused pass.

    ``momentum_cache`` / ``momentum_cache_next`` are mu_t and mu_{t+1},
    ``m_schedule_new`` / ``m_schedule_next`` the running products, and
    ``beta2_power = beta2 ** t``.
    """
    inputs = ("var", "m", "v", "lr", "beta1", "beta2", "epsilon", "momentum_cache",
              "momentum_cache_next", "m_schedule_new", "m_schedule_next", "beta2_power", "grad")
    ref_inputs = (0, 1, 2)

    @staticmethod
    def call(a: list, g: np.ndarray, s: list, attrs: dict) -> None:
        lr, b1, b2, eps, mc, mc_next, sched_new, sched_next, b2p = s
        one = _one(lr)
        K.apply_nadam(a[0], a[1], a[2], g, lr, b1, one - b1, b2, one - b2, one - sched_new,
                      one - sched_next, one - mc, mc_next, one - b2p, eps)


# --- builders ---------------------------------------------------------------------------------
def apply_keras_momentum(var: Any, accum: Any, lr: Any, grad: Any, momentum: Any,
                         use_locking: bool = False, name: Optional[str] = None,
                         use_nesterov: bool = False) -> Any:
    return _build("ApplyKerasMomentum", (var, accum, lr, grad, momentum), use_locking, name,
                  use_nesterov=bool(use_nesterov))


def sparse_apply_keras_momentum(var: Any, accum: Any, lr: Any, grad: Any, indices: Any,
                                momentum: Any, use_locking: bool = False,
                                name: Optional[str] = None, use_nesterov: bool = False) -> Any:
    return _build("SparseApplyKerasMomentum", (var, accum, lr, grad, indices, momentum),
                  use_locking, name, use_nesterov=bool(use_nesterov))


def apply_adagrad_v2(var: Any, accum: Any, lr: Any, epsilon: Any, grad: Any,
                     use_locking: bool = False, update_slots: bool = True,
                     name: Optional[str] = None) -> Any:
    return _build("ApplyAdagradV2", (var, accum, lr, epsilon, grad), use_locking, name,
                  update_slots=bool(update_slots))


def sparse_apply_adagrad_v2(var: Any, accum: Any, lr: Any, epsilon: Any, grad: Any,
                            indices: Any, use_locking: bool = False, update_slots: bool = True,
                            name: Optional[str] = None) -> Any:
    return _build("SparseApplyAdagradV2", (var, accum, lr, epsilon, grad, indices),
                  use_locking, name, update_slots=bool(update_slots))


def apply_adam_with_amsgrad(var: Any, m: Any, v: Any, vhat: Any, beta1_power: Any,
                            beta2_power: Any, lr: Any, beta1: Any, beta2: Any, epsilon: Any,
                            grad: Any, use_locking: bool = False,
                            name: Optional[str] = None) -> Any:
    return _build("ApplyAdamWithAmsgrad", (var, m, v, vhat, beta1_power, beta2_power, lr, beta1,
                                           beta2, epsilon, grad), use_locking, name)


def apply_ada_max(var: Any, m: Any, v: Any, beta1_power: Any, lr: Any, beta1: Any, beta2: Any,
                  epsilon: Any, grad: Any, use_locking: bool = False,
                  name: Optional[str] = None) -> Any:
    return _build("ApplyAdaMax", (var, m, v, beta1_power, lr, beta1, beta2, epsilon, grad),
                  use_locking, name)


def apply_keras_rms_prop(var: Any, ms: Any, lr: Any, rho: Any, epsilon: Any, grad: Any,
                         use_locking: bool = False, name: Optional[str] = None) -> Any:
    return _build("ApplyKerasRMSProp", (var, ms, lr, rho, epsilon, grad), use_locking, name)


def apply_keras_centered_rms_prop(var: Any, mg: Any, ms: Any, lr: Any, rho: Any, epsilon: Any,
                                  grad: Any, use_locking: bool = False,
                                  name: Optional[str] = None) -> Any:
    return _build("ApplyKerasCenteredRMSProp", (var, mg, ms, lr, rho, epsilon, grad),
                  use_locking, name)


def apply_nadam(var: Any, m: Any, v: Any, lr: Any, beta1: Any, beta2: Any, epsilon: Any,
                momentum_cache: Any, momentum_cache_next: Any, m_schedule_new: Any,
                m_schedule_next: Any, beta2_power: Any, grad: Any, use_locking: bool = False,
                name: Optional[str] = None) -> Any:
    return _build("ApplyNadam", (var, m, v, lr, beta1, beta2, epsilon, momentum_cache,
                                 momentum_cache_next, m_schedule_new, m_schedule_next,
                                 beta2_power, grad), use_locking, name)
