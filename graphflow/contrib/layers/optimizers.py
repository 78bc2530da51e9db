"""``tf.contrib.layers.optimize_loss`` and ``adaptive_clipping_fn`` (TF 1.x contrib).

``optimize_loss`` builds a whole training step for a scalar loss: optional
update ops, a learning-rate variable (with optional decay), the optimizer
(given by name, class, instance or factory), gradients with optional noise,
multipliers and clipping, summaries, and the apply op. It returns the loss
through an ``Identity`` that depends on the training op, so evaluating it
runs one step and yields the loss of that step. Spec: optimize_loss.md.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from graphflow import dtypes
from graphflow.framework import graph as graph_mod
from graphflow.framework.graph import GraphKeys
from graphflow.framework.indexed_slices import IndexedSlices
from graphflow.framework.operation import Tensor, convert_to_tensor
from graphflow.ops import (array_ops, clip_ops, control_flow_ops, init_ops, math_ops,
                           random_ops, variable_scope)
from graphflow.ops.compare_ops import cast
from graphflow.ops.selection_ops import where
from graphflow.ops.variables import trainable_variables
from graphflow.train import moving_averages, training_util
from graphflow.train.adagrad import AdagradOptimizer
from graphflow.train.adam import AdamOptimizer
from graphflow.train.ftrl import FtrlOptimizer
from graphflow.train.gradient_descent import GradientDescentOptimizer
from graphflow.train.momentum import MomentumOptimizer
from graphflow.train.optimizer import Optimizer
from graphflow.train.rmsprop import RMSPropOptimizer

__all__ = ["optimize_loss", "adaptive_clipping_fn", "OPTIMIZER_CLS_NAMES",
           "OPTIMIZER_SUMMARIES"]


def _momentum(learning_rate: Any) -> MomentumOptimizer:
    return MomentumOptimizer(learning_rate, momentum=0.9)


OPTIMIZER_CLS_NAMES = {
    "Adagrad": AdagradOptimizer,
    "Adam": AdamOptimizer,
    "Ftrl": FtrlOptimizer,
    "Momentum": _momentum,
    "RMSProp": RMSPropOptimizer,
    "SGD": GradientDescentOptimizer,
}

OPTIMIZER_SUMMARIES = ["learning_rate", "loss", "gradients", "gradient_norm",
                       "global_gradient_norm"]


def _summary() -> Any:
    from graphflow import summary  # imported late: summary ops are an optional layer
    return summary


def _assert_scalar(t: Tensor) -> None:
    shape = t.get_shape()
    if shape.ndims != 0:
        raise ValueError("Expected scalar shape for %s, saw shape: %s." % (t.name, shape))


def _learning_rate(learning_rate: Any) -> Any:
    """Step 5 of spec §3: a 0-d Tensor as is, a float as the variable ``learning_rate``."""
    if learning_rate is None:
        return None
    if isinstance(learning_rate, Tensor) and learning_rate.get_shape().ndims == 0:
        return learning_rate
    if isinstance(learning_rate, float):
        if learning_rate < 0.0:
            raise ValueError("Invalid learning_rate %s.", learning_rate)
        return variable_scope.get_variable(
            "learning_rate", [], trainable=False,
            initializer=init_ops.constant_initializer(learning_rate))
    raise ValueError("Learning rate should be 0d Tensor or float. Got %s of type %s"
                     % (str(learning_rate), str(type(learning_rate))))


def _make_optimizer(optimizer: Any, learning_rate: Any, lr: Any) -> Optimizer:
    """Step 8 of spec §3: a name, an Optimizer class, an instance, or a factory."""
    if isinstance(optimizer, str):
        if lr is None:
            raise ValueError("Learning rate is None, but should be specified if optimizer is "
                             "string (%s)." % optimizer)
        if optimizer not in OPTIMIZER_CLS_NAMES:
            raise ValueError("Optimizer name should be one of [%s], you provided %s."
                             % (", ".join(OPTIMIZER_CLS_NAMES), optimizer))
        return OPTIMIZER_CLS_NAMES[optimizer](learning_rate=lr)
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        if lr is None:
            raise ValueError("Learning rate is None, but should be specified if optimizer is "
                             "class (%s)." % optimizer)
        return optimizer(learning_rate=lr)
    if isinstance(optimizer, Optimizer):
        return optimizer
    if callable(optimizer):
        opt = optimizer(lr) if learning_rate is not None else optimizer()
        if not isinstance(opt, Optimizer):
            raise ValueError("Unrecognized optimizer: function should return subclass of "
                             "Optimizer. Got %s." % str(opt))
        return opt
    raise ValueError("Unrecognized optimizer: should be string, subclass of Optimizer, instance "
                     "of subclass of Optimizer or function with one argument. Got %s."
                     % str(optimizer))


def _grad_values(gradient: Any) -> Any:
    return gradient.values if isinstance(gradient, IndexedSlices) else gradient


def _global_norm(grads_and_vars: list) -> Tensor:
    return clip_ops.global_norm([g for g, _ in grads_and_vars])


def optimize_loss(loss: Any, global_step: Any, learning_rate: Any, optimizer: Any,
                  gradient_noise_scale: Optional[float] = None,
                  gradient_multipliers: Optional[dict] = None, clip_gradients: Any = None,
                  learning_rate_decay_fn: Optional[Callable] = None,
                  update_ops: Optional[list] = None, variables: Optional[list] = None,
                  name: Optional[str] = None, summaries: Optional[list] = None,
                  colocate_gradients_with_ops: bool = False,
                  increment_global_step: bool = True) -> Tensor:
    """One training step for ``loss``; returns the loss gated on the step's apply op.

    Args:
      loss: scalar Tensor.
      global_step: integer scalar variable incremented per step (None: the
        graph's global step, if any).
      learning_rate: float (a non-trainable variable ``learning_rate`` is made),
        0-d Tensor, or None.
      optimizer: name in ``OPTIMIZER_CLS_NAMES``, ``tf.train.Optimizer``
        subclass or instance, or a function of the learning rate (of nothing
        when ``learning_rate`` is None) returning an Optimizer.
      gradient_noise_scale: add ``truncated_normal * scale`` noise to gradients.
      gradient_multipliers: {variable or variable name: float} gradient factors.
      clip_gradients: float (clip by global norm) or a function of the
        (gradient, variable) list, e.g. ``adaptive_clipping_fn()``.
      learning_rate_decay_fn: ``fn(learning_rate, global_step) -> Tensor``.
      update_ops: ops run with the loss (None: the UPDATE_OPS collection).
      variables: variables to optimize (None: trainable variables).
      name: variable scope (default ``OptimizeLoss``).
      summaries: subset of ``OPTIMIZER_SUMMARIES`` (None: loss, learning_rate,
        global_gradient_norm).
      colocate_gradients_with_ops: passed to ``compute_gradients``.
      increment_global_step: whether the step increments ``global_step``.
    """
    loss = convert_to_tensor(loss)
    _assert_scalar(loss)
    if global_step is None:
        global_step = training_util.get_global_step()
    else:
        training_util.assert_global_step(global_step)
    values = [loss] + ([global_step] if global_step is not None else [])
    with variable_scope.variable_scope(name, "OptimizeLoss", values):
        if update_ops is None:
            update_ops = set(graph_mod.get_collection(GraphKeys.UPDATE_OPS))
        if update_ops:
            loss = control_flow_ops.with_dependencies(list(update_ops), loss)
        lr = _learning_rate(learning_rate)
        if summaries is None:
            summaries = ["loss", "learning_rate", "global_gradient_norm"]
        else:
            for summ in summaries:
                if summ not in OPTIMIZER_SUMMARIES:
                    raise ValueError("Summaries should be one of [%s], you provided %s."
                                     % (", ".join(OPTIMIZER_SUMMARIES), summ))
        if learning_rate is not None and learning_rate_decay_fn is not None:
            if global_step is None:
                raise ValueError("global_step is required for learning_rate_decay_fn.")
            lr = learning_rate_decay_fn(lr, global_step)
            if "learning_rate" in summaries:
                _summary().scalar("learning_rate", lr)
        opt = _make_optimizer(optimizer, learning_rate, lr)
        if variables is None:
            variables = trainable_variables()
        gradients = opt.compute_gradients(
            loss, variables, colocate_gradients_with_ops=colocate_gradients_with_ops)
        if gradient_noise_scale is not None:
            gradients = _add_scaled_noise_to_gradients(gradients, gradient_noise_scale)
        if gradient_multipliers is not None:
            gradients = _multiply_gradients(gradients, gradient_multipliers)
            if not gradients:
                raise ValueError("Empty list of (gradient, var) pairs encountered. This is most "
                                 "likely to be caused by an improper value of "
                                 "gradient_multipliers.")
        norm_summaries = "global_gradient_norm" in summaries or "gradient_norm" in summaries
        if norm_summaries:
            _summary().scalar("global_norm/gradient_norm", _global_norm(gradients))
        if isinstance(clip_gradients, float):
            gradients = _clip_gradients_by_norm(gradients, clip_gradients)
        elif callable(clip_gradients):
            gradients = clip_gradients(gradients)
        elif clip_gradients is not None:
            raise ValueError("Unknown type %s for clip_gradients" % type(clip_gradients))
        if "loss" in summaries:
            _summary().scalar("loss", loss)
        for gradient, variable in gradients:
            grad_values = _grad_values(gradient)
            if grad_values is None:
                continue
            var_name = variable.name.replace(":", "_")
            if "gradients" in summaries:
                _summary().histogram("gradients/%s" % var_name, grad_values)
            if "gradient_norm" in summaries:
                _summary().scalar("gradient_norm/%s" % var_name,
                                  clip_ops.global_norm([grad_values]))
        if clip_gradients is not None and norm_summaries:
            _summary().scalar("global_norm/clipped_gradient_norm", _global_norm(gradients))
        grad_updates = opt.apply_gradients(
            gradients, global_step=global_step if increment_global_step else None,
            name="train")
        return control_flow_ops.with_dependencies([grad_updates], loss)


def _clip_gradients_by_norm(grads_and_vars: list, clip_gradients: float) -> list:
    gradients, variables = zip(*grads_and_vars)
    clipped, _ = clip_ops.clip_by_global_norm(list(gradients), clip_gradients)
    return list(zip(clipped, variables))


def _add_scaled_noise_to_gradients(grads_and_vars: list, gradient_noise_scale: float) -> list:
    """``g + truncated_normal(shape) * scale`` (IndexedSlices: a dense sum over ``dense_shape``)."""
    noisy = []
    for gradient, variable in grads_and_vars:
        if gradient is None:
            noisy.append((None, variable))
            continue
        if isinstance(gradient, IndexedSlices):
            shape = gradient.dense_shape
            gradient = convert_to_tensor(gradient)
        else:
            shape = gradient.get_shape()
        noise = random_ops.truncated_normal(shape) * gradient_noise_scale
        noisy.append((gradient + noise, variable))
    return noisy


def _multiply_gradients(grads_and_vars: list, gradient_multipliers: dict) -> list:
    """Scale the gradients of the variables (or variable names) keyed in the dict."""
    out = []
    for grad, var in grads_and_vars:
        key = _multiplier_key(var, gradient_multipliers)
        if grad is not None and key is not None:
            multiplier = gradient_multipliers[key]
            if isinstance(grad, IndexedSlices):
                grad = IndexedSlices(grad.values * multiplier, grad.indices, grad.dense_shape)
            else:
                grad = grad * cast(multiplier, grad.dtype.base_dtype)
        out.append((grad, var))
    return out


def _multiplier_key(var: Any, multipliers: dict) -> Any:
    for key in multipliers:  # variables by identity, names by equality
        if key is var:
            return key
    return var.name if var.name in multipliers else None


def _adaptive_max_norm(norm: Tensor, std_factor: float, decay: Any, global_step: Any,
                       epsilon: float, name: Optional[str]) -> tuple:
    """EMAs of log(norm) and its square; the max norm is exp(mean + std_factor * std)."""
    with variable_scope.variable_scope(name, "AdaptiveMaxNorm", [norm]):
        log_norm = math_ops.log(norm + epsilon)

        def moving_average(var_name: str, value: Tensor, decay: Any) -> Tensor:
            var = variable_scope.get_variable(
                var_name, shape=value.get_shape(), dtype=value.dtype.base_dtype,
                initializer=init_ops.zeros_initializer(), trainable=False)
            return moving_averages.assign_moving_average(var, value, decay, zero_debias=False)

        if global_step is not None:
            n = cast(global_step, dtypes.float32)
            decay = math_ops.minimum(decay, n / (n + 1.0))
        mean = moving_average("mean", log_norm, decay)
        sq_mean = moving_average("sq_mean", math_ops.square(log_norm), decay)
        variance = sq_mean - math_ops.square(mean)
        std = math_ops.sqrt(math_ops.maximum(epsilon, variance))
        max_norms = math_ops.exp(mean + std_factor * std)
        return max_norms, mean


def adaptive_clipping_fn(std_factor: float = 2.0, decay: float = 0.95,
                         static_max_norm: Optional[float] = None, global_step: Any = None,
                         report_summary: bool = False, epsilon: float = 1e-8,
                         name: Optional[str] = None) -> Callable:
    """A ``clip_gradients`` function that rescales gradients whose global norm is an
    outlier of its running log-normal statistics (spec optimize_loss.md §6).

    Args:
      std_factor: outlier threshold in standard deviations of log(norm).
      decay: EMA decay (``min(decay, n / (n + 1))`` with ``global_step``).
      static_max_norm: optional absolute bound on the norm.
      global_step: optional step tensor for the faster early adaptation.
      report_summary: add scalar summary ``global_norm/adaptive_max_gradient_norm``.
      epsilon: added to the norm before the log and floor of the variance.
      name: variable scope of the EMA variables (default ``AdaptiveMaxNorm``).
    """
    def gradient_clipping(grads_and_vars: list) -> list:
        grads, variables = zip(*grads_and_vars)
        norm = clip_ops.global_norm(list(grads))
        max_norm, log_mean = _adaptive_max_norm(norm, std_factor, decay, global_step, epsilon,
                                                name)
        if report_summary:
            _summary().scalar("global_norm/adaptive_max_gradient_norm", max_norm)
        factor = where(norm < max_norm, array_ops.ones_like(norm),
                       math_ops.exp(log_mean) / norm)
        if static_max_norm is not None:
            factor = math_ops.minimum(static_max_norm / norm, factor)
        clipped = []
        for grad in grads:
            if grad is None:
                clipped.append(None)
            elif isinstance(grad, IndexedSlices):
                clipped.append(IndexedSlices(grad.values * factor, grad.indices,
                                             grad.dense_shape))
            else:
                clipped.append(grad * factor)
        return list(zip(clipped, variables))

    return gradient_clipping
