"""``OptimizerV2``: the Keras-style optimizer base (TF 2.x ``optimizer_v2.OptimizerV2``), graph mode.

Spec: keras_optimizer_v2.md. The differences from ``tf.train.Optimizer``:

* the step counter ``iterations`` (int64 variable ``iter``) belongs to the
  optimizer; ``apply_gradients`` has no ``global_step`` and returns the op
  that increments ``iterations`` after every update;
* hyperparameters are stored by name (``_set_hyper``) and become
  non-trainable float32 variables (``learning_rate``, ``decay``, ``beta_1``...)
  the first time the optimizer is used or a hyperparameter is read
  (``opt.learning_rate`` returns the Variable);
* slots are made with ``add_slot`` and named ``<var>/<slot>``; ``weights`` is
  ``[iterations, slots...]`` in creation order; ``get_slot_names`` keeps
  creation order;
* ``minimize`` takes a zero-argument callable (or a tape that recorded the loss);
* gradient transforms ``clipvalue``, ``clipnorm``, ``global_clipnorm`` and
  ``gradient_transformers``; time decay ``decay``; LearningRateSchedule learning rates.

graphflow has reference variables only, so the updates run on the fused
``Apply*`` ops of ``ops/training_ops.py`` and ``ops/keras_training_ops.py`` and
the increment is an ``AssignAdd`` (named ``AssignAddVariableOp`` like TF's).
Values (``get_weights``, ``set_weights``, assigning a created hyperparameter)
go through the default session.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Iterable, Optional

import numpy as np

from graphflow import dtypes
from graphflow.autodiff.gradients import gradients as _tf_gradients
from graphflow.autodiff.tape import GradientTape
from graphflow.errors import FailedPreconditionError
from graphflow.framework import graph as graph_mod
from graphflow.framework.indexed_slices import IndexedSlices
from graphflow.framework.op_def import constant_value
from graphflow.framework.operation import Operation, Tensor, convert_to_tensor
from graphflow.keras.optimizers import schedules
from graphflow.keras.optimizers.optimizer_utils import (VariableAggregation,
                                                        VariableSynchronization,
                                                        deduplicate_indexed_slices,
                                                        default_session,
                                                        filter_empty_gradients, flatten,
                                                        get_initializer, set_value, var_key)
from graphflow.ops import array_ops, clip_ops, control_flow_ops
from graphflow.ops.compare_ops import cast
from graphflow.ops.variables import Variable

__all__ = ["OptimizerV2", "VariableSynchronization", "VariableAggregation"]

_LOG = logging.getLogger("graphflow")
_VALID_DTYPES = tuple(getattr(dtypes, n) for n in ("float16", "bfloat16", "float32", "float64",
                                                    "complex64", "complex128")
                      if hasattr(dtypes, n))
_ALLOWED_KWARGS = ("clipnorm", "clipvalue", "lr", "decay", "global_clipnorm")


class OptimizerV2:
    """Base class of the Keras optimizers (``tf.keras.optimizers.Optimizer``, V2).

    Args:
      name: the optimizer's name: name scope of its ops and variables.
      gradient_aggregator: function of the (gradient, variable) list applied
        before the transforms (default: identity, one replica).
      gradient_transformers: functions of the (gradient, variable) list applied
        after the clipping transforms.
      **kwargs: ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``lr``
        (deprecated alias of ``learning_rate``), ``decay`` (time decay of the
        learning rate: ``lr / (1 + decay * iterations)``).
    """

    _HAS_AGGREGATE_GRAD = True

    def __init__(self, name: str, gradient_aggregator: Optional[Callable] = None,
                 gradient_transformers: Optional[list] = None, **kwargs: Any) -> None:
        for k in kwargs:
            if k not in _ALLOWED_KWARGS:
                raise TypeError("Unexpected keyword argument passed to optimizer: " + str(k))
            if kwargs[k] is not None and kwargs[k] < 0:
                raise ValueError("Expected {} >= 0, received: {}".format(k, kwargs[k]))
            if k == "lr":
                _LOG.warning("The `lr` argument is deprecated, use `learning_rate` instead.")
        self._use_locking = True
        self._name = name or type(self).__name__
        self._hyper: dict = {}
        self._hyper_values: dict = {}  # hyper name -> the number its variable was made from
        self._slots: dict = {}  # var key -> {slot name: variable}
        self._slot_names: list = []
        self._weights: list = []
        self._iterations: Optional[Variable] = None
        decay = kwargs.pop("decay", 0.0)
        if decay < 0.0:
            raise ValueError("decay cannot be less than 0: {}".format(decay))
        self._initial_decay = decay
        self._hypers_created = False
        self.gradient_aggregator = gradient_aggregator or (lambda gv: list(gv))
        self.gradient_transformers = list(gradient_transformers or [])
        clipnorm = kwargs.pop("clipnorm", None)
        global_clipnorm = kwargs.pop("global_clipnorm", None)
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError("Cannot accept both `clipnorm` and `global_clipnorm`, passed "
                             "`clipnorm` {}, `global_clipnorm` {}".format(clipnorm,
                                                                          global_clipnorm))
        self._clipnorm = clipnorm
        self._global_clipnorm = global_clipnorm
        self._clipvalue = kwargs.pop("clipvalue", None)

    # --- attribute access to hyperparameters ------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        """``opt.learning_rate``, ``opt.lr``, ``opt.beta_1`` ...: the hyperparameter (its
        Variable once created; creates every hyper variable first)."""
        if name.startswith("__") or "_hyper" not in self.__dict__:
            raise AttributeError(name)
        if name == "lr":
            name = "learning_rate"
        if name in self._hyper:
            return self._get_hyper(name)
        raise AttributeError("'%s' object has no attribute '%s'" % (type(self).__name__, name))

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "lr":
            name = "learning_rate"
        if "_hyper" in self.__dict__ and name in self._hyper:
            self._set_hyper(name, value)
        else:
            super().__setattr__(name, value)

    def __dir__(self) -> list:
        return sorted(set(super().__dir__()) | set(self.__dict__.get("_hyper", {})))

    # --- transforms ----------------------------------------------------------------------
    @property
    def clipnorm(self) -> Any:
        return self._clipnorm

    @clipnorm.setter
    def clipnorm(self, val: Any) -> None:
        if val is not None and self._global_clipnorm is not None:
            raise ValueError("`clipnorm` cannot be set when `global_clipnorm` is set. Only one "
                             "of the two can be set.")
        self._clipnorm = val

    @property
    def global_clipnorm(self) -> Any:
        return self._global_clipnorm

    @global_clipnorm.setter
    def global_clipnorm(self, val: Any) -> None:
        if val is not None and self._clipnorm is not None:
            raise ValueError("`clipnorm` cannot be set when `global_clipnorm` is set. Only one "
                             "of the two can be set.")
        self._global_clipnorm = val

    @property
    def clipvalue(self) -> Any:
        return self._clipvalue

    @clipvalue.setter
    def clipvalue(self, val: Any) -> None:
        self._clipvalue = val

    def _transform_gradients(self, grads_and_vars: list) -> list:
        """clipvalue, then clipnorm (per gradient), then global_clipnorm, then the transformers."""
        if self._clipvalue is not None:
            c = self._clipvalue
            grads_and_vars = [(clip_ops.clip_by_value(g, -c, c), v) for g, v in grads_and_vars]
        if self._clipnorm is not None:
            grads_and_vars = [(clip_ops.clip_by_norm(g, self._clipnorm), v)
                              for g, v in grads_and_vars]
        if self._global_clipnorm is not None:
            grads, variables = zip(*grads_and_vars)
            clipped, _ = clip_ops.clip_by_global_norm(list(grads), self._global_clipnorm)
            grads_and_vars = list(zip(clipped, variables))
        for fn in self.gradient_transformers:
            grads_and_vars = fn(grads_and_vars)
        return list(grads_and_vars)

    # --- gradients ---------------------------------------------------------------------------
    def minimize(self, loss: Any, var_list: Any, grad_loss: Any = None,
                 name: Optional[str] = None, tape: Optional[GradientTape] = None) -> Operation:
        """Compute gradients of ``loss`` (a zero-argument callable, or a Tensor recorded by
        ``tape``) for ``var_list`` (a list, or a callable returning it) and apply them."""
        grads_and_vars = self._compute_gradients(loss, var_list, grad_loss=grad_loss, tape=tape)
        return self.apply_gradients(grads_and_vars, name=name)

    def _compute_gradients(self, loss: Any, var_list: Any, grad_loss: Any = None,
                           tape: Optional[GradientTape] = None) -> list:
        if not callable(loss) and tape is None:
            raise ValueError("`tape` is required when a `Tensor` loss is passed.")
        tape = tape if tape is not None else GradientTape()
        if callable(loss):
            with tape:
                if not callable(var_list):
                    tape.watch(var_list)
                loss = loss()
                if callable(var_list):
                    var_list = var_list()
        var_list = list(flatten(var_list))
        with graph_mod.name_scope(self._name + "/gradients"):
            grads = tape.gradient(loss, var_list, grad_loss)
        grads_and_vars = list(zip(grads, var_list))
        self._assert_valid_dtypes([v for g, v in grads_and_vars if g is not None])
        return grads_and_vars

    def get_gradients(self, loss: Any, params: Any) -> list:
        """``tf.gradients(loss, params)`` under ``<name>/gradients``; ValueError on a None."""
        params = list(flatten(params))
        with graph_mod.name_scope(self._name + "/gradients"):
            grads = _tf_gradients(loss, params)
            for grad, param in zip(grads, params):
                if grad is None:
                    raise ValueError(
                        "Variable {} has `None` for gradient. Please make sure that all of your "
                        "ops have a gradient defined (i.e. are differentiable). Common ops "
                        "without gradient: K.argmax, K.round, K.eval.".format(param))
        return grads

    def get_updates(self, loss: Any, params: Any) -> list:
        """``[apply_gradients(zip(get_gradients(loss, params), params))]``."""
        grads = self.get_gradients(loss, params)
        grads_and_vars = list(zip(grads, flatten(params)))
        self._assert_valid_dtypes([v for g, v in grads_and_vars if g is not None])
        return [self.apply_gradients(grads_and_vars)]

    # --- applying ------------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars: Iterable, name: Optional[str] = None,
                        experimental_aggregate_gradients: bool = True) -> Operation:
        """Apply ``(gradient, variable)`` pairs; returns the op incrementing ``iterations``.

        Pairs with a None gradient are dropped (ValueError when all are None).
        Optimizer variables are created under the ``<name>`` scope; updates are
        built under ``<name or opt name>/update_<var>``.
        """
        grads_and_vars = filter_empty_gradients(grads_and_vars)
        converted = []
        for g, v in grads_and_vars:
            if isinstance(v, Tensor) or not isinstance(v, Variable):
                raise NotImplementedError("Trying to update a Tensor ", v)
            if not isinstance(g, (Tensor, IndexedSlices)):
                g = convert_to_tensor(g, dtype=v.dtype.base_dtype)
            converted.append((g, v))
        self._assert_valid_dtypes([v for _, v in converted])
        var_list = [v for _, v in converted]
        g = graph_mod.get_default_graph()
        with graph_mod.name_scope(self._name):
            with g.control_dependencies(None):  # TF's init_scope (keeps the name scope)
                self._create_all_weights(var_list)
            if not converted:
                return control_flow_ops.no_op()
            apply_state = self._prepare(var_list)
            if experimental_aggregate_gradients:
                converted = list(self.gradient_aggregator(converted))
            converted = self._transform_gradients(converted)
            return self._distributed_apply(converted, name, apply_state)

    def _distributed_apply(self, grads_and_vars: list, name: Optional[str],
                           apply_state: dict) -> Operation:
        g = graph_mod.get_default_graph()
        update_ops = []
        with graph_mod.name_scope(name or self._name):
            for grad, var in grads_and_vars:
                with g.colocate_with(var.op), graph_mod.name_scope("update_" + var.op.name):
                    update_ops.append(self._apply_one(grad, var, apply_state))
            with g.control_dependencies([control_flow_ops.group(*update_ops)]):
                return self.iterations.assign_add(1, name="AssignAddVariableOp",
                                                  read_value=False)

    def _apply_one(self, grad: Any, var: Variable, apply_state: dict) -> Any:
        if isinstance(grad, IndexedSlices):
            if var.constraint is not None:
                raise RuntimeError("Cannot use a constraint function on a sparse variable.")
            return self._resource_apply_sparse_duplicate_indices(
                grad.values, var, grad.indices, apply_state=apply_state)
        update_op = self._resource_apply_dense(grad, var, apply_state=apply_state)
        if var.constraint is not None:
            with graph_mod.control_dependencies([update_op]):
                return var.assign(var.constraint(var))
        return update_op

    def _resource_apply_sparse_duplicate_indices(self, grad: Any, var: Variable, indices: Any,
                                                 **kwargs: Any) -> Any:
        summed, unique = deduplicate_indexed_slices(grad, indices)
        return self._resource_apply_sparse(summed, var, unique, **kwargs)

    def _resource_apply_dense(self, grad: Any, var: Variable, apply_state: Any = None) -> Any:
        raise NotImplementedError("Must be implemented in subclasses.")

    def _resource_apply_sparse(self, grad: Any, var: Variable, indices: Any,
                               apply_state: Any = None) -> Any:
        raise NotImplementedError("Must be implemented in subclasses.")

    # --- per-dtype coefficients --------------------------------------------------------------
    def _prepare(self, var_list: list) -> dict:
        keys: dict = {}
        for var in var_list:
            keys.setdefault((var.device, var.dtype.base_dtype), None)
        apply_state: dict = {}
        for var_device, var_dtype in keys:
            apply_state[(var_device, var_dtype)] = {}
            with graph_mod.device(var_device or None):
                self._prepare_local(var_device, var_dtype, apply_state)
        return apply_state

    def _prepare_local(self, var_device: str, var_dtype: Any, apply_state: dict) -> None:
        if "learning_rate" in self._hyper:
            lr_t = array_ops.identity(self._decayed_lr(var_dtype))
            apply_state[(var_device, var_dtype)]["lr_t"] = lr_t

    def _fallback_apply_state(self, var_device: str, var_dtype: Any) -> dict:
        apply_state = {(var_device, var_dtype): {}}
        self._prepare_local(var_device, var_dtype, apply_state)
        return apply_state[(var_device, var_dtype)]

    def _coefficients(self, var: Variable, apply_state: Optional[dict]) -> dict:
        key = (var.device, var.dtype.base_dtype)
        return (apply_state or {}).get(key) or self._fallback_apply_state(*key)

    def _decayed_lr(self, var_dtype: Any) -> Tensor:
        """The learning rate of this step: schedule(iterations), then ``/ (1 + decay * it)``."""
        lr_t = self._get_hyper("learning_rate", var_dtype)
        if isinstance(lr_t, schedules.LearningRateSchedule):
            local_step = cast(self.iterations, var_dtype)
            lr_t = cast(lr_t(local_step), var_dtype)
        if self._initial_decay > 0.0:
            local_step = cast(self.iterations, var_dtype)
            decay_t = cast(self._initial_decay, var_dtype)
            lr_t = lr_t / (1.0 + decay_t * local_step)
        return lr_t

    # --- hyperparameters -------------------------------------------------------------------
    def _set_hyper(self, name: str, value: Any) -> None:
        """Store a hyperparameter; once its variable exists, assign the new value instead."""
        if name not in self._hyper:
            self._hyper[name] = value
            return
        prev = self._hyper[name]
        if isinstance(prev, Variable) and not isinstance(value, schedules.LearningRateSchedule):
            set_value(prev, value)
        else:
            self._hyper[name] = value

    def _get_hyper(self, name: str, dtype: Any = None) -> Any:
        if not self._hypers_created:
            self._create_hypers()
        value = self._hyper[name]
        if isinstance(value, schedules.LearningRateSchedule):
            return value
        if callable(value):
            value = value()
        if dtype is not None:
            return cast(value, dtype)
        return value

    def _create_hypers(self) -> None:
        if self._hypers_created:
            return
        for name, value in sorted(self._hyper.items()):
            if isinstance(value, (Tensor, Variable)) or callable(value):
                continue
            self._hyper_values[name] = value
            self._hyper[name] = self.add_weight(name, shape=[], trainable=False,
                                                initializer=value)
        self._hypers_created = True

    def _serialize_hyperparameter(self, name: str) -> Any:
        value = self._hyper[name]
        if isinstance(value, schedules.LearningRateSchedule):
            return schedules.serialize(value)
        if callable(value):
            return value()
        if isinstance(value, (Tensor, Variable)):
            return self._read_value(name, value)
        return value

    def _read_value(self, name: str, value: Any) -> Any:
        """A hyper tensor's value: from the default session, else the number it was made from."""
        from graphflow.runtime.session import get_default_session
        sess = get_default_session()
        if sess is not None:
            try:
                return sess.run(value)
            except FailedPreconditionError:
                pass
        if name in self._hyper_values:
            return value.dtype.base_dtype.np.type(self._hyper_values[name])
        const = constant_value(convert_to_tensor(value))
        if const is None:
            raise ValueError("Cannot read hyperparameter %r without a default session." % name)
        return const

    # --- variables -------------------------------------------------------------------------
    @property
    def iterations(self) -> Variable:
        """The int64 step counter ``iter``, created on first access."""
        if self._iterations is None:
            self._iterations = self.add_weight("iter", shape=[], dtype=dtypes.int64,
                                               trainable=False,
                                               aggregation=VariableAggregation.ONLY_FIRST_REPLICA)
            self._weights.append(self._iterations)
        return self._iterations

    @iterations.setter
    def iterations(self, variable: Variable) -> None:
        if self._iterations is not None:
            raise RuntimeError("Cannot set `iterations` to a new Variable after the Optimizer "
                               "weights have been created")
        self._iterations = variable
        self._weights.append(self._iterations)

    def _create_all_weights(self, var_list: list) -> None:
        _ = self.iterations
        self._create_hypers()
        self._create_slots(var_list)

    def _create_slots(self, var_list: list) -> None:
        """Create the slots of ``var_list`` (default: none)."""

    def add_slot(self, var: Variable, slot_name: str, initializer: Any = "zeros",
                 shape: Any = None) -> Variable:
        """The slot ``slot_name`` of ``var`` (created once: ``<var>/<slot_name>``, not trainable)."""
        if slot_name not in self._slot_names:
            self._slot_names.append(slot_name)
        slot_dict = self._slots.setdefault(var_key(var), {})
        weight = slot_dict.get(slot_name)
        if weight is None:
            dtype = var.dtype.base_dtype
            initializer = get_initializer(initializer)
            if callable(initializer):
                slot_shape = var.shape if shape is None else shape
                init = initializer

                def initial_value() -> Any:
                    return init(slot_shape, dtype=dtype)
            else:
                initial_value = initializer
            with graph_mod.colocate_with(var.op):
                weight = Variable(initial_value, name="%s/%s" % (var_key(var), slot_name),
                                  dtype=dtype, trainable=False)
            slot_dict[slot_name] = weight
            self._weights.append(weight)
        return weight

    def get_slot(self, var: Any, slot_name: str) -> Variable:
        """The slot variable; KeyError for an unknown variable or slot name."""
        return self._slots[var_key(var)][slot_name]

    def get_slot_names(self) -> list:
        """Slot names in creation order."""
        return list(self._slot_names)

    def add_weight(self, name: str, shape: Any, dtype: Any = None, initializer: Any = "zeros",
                   trainable: Optional[bool] = None,
                   synchronization: Any = VariableSynchronization.AUTO,
                   aggregation: Any = VariableAggregation.NONE) -> Variable:
        """A new variable ``name`` in the current name scope (not added to ``weights``)."""
        dtype = dtypes.float32 if dtype is None else dtypes.as_dtype(dtype).base_dtype
        if synchronization == VariableSynchronization.ON_READ:
            if trainable:
                raise ValueError(
                    "Synchronization value can be set to VariableSynchronization.ON_READ only "
                    "for non-trainable variables. You have specified trainable=True and "
                    "synchronization=VariableSynchronization.ON_READ.")
            trainable = False
        elif trainable is None:
            trainable = True
        initializer = get_initializer(initializer)
        if callable(initializer):
            init = initializer

            def initial_value() -> Any:
                return init(shape, dtype=dtype)
        else:
            initial_value = initializer
        return Variable(initial_value, name=name, dtype=dtype, trainable=trainable,
                        synchronization=synchronization, aggregation=aggregation)

    @property
    def weights(self) -> list:
        """``[iterations, slots in creation order, ...]``."""
        return self._weights

    def variables(self) -> list:
        """Same as ``weights``."""
        return self._weights

    def get_weights(self) -> list:
        """The values of ``weights`` in the default session."""
        params = self.weights
        if not params:
            return []
        return list(default_session().run(params))

    def set_weights(self, weights: list) -> None:
        """Load ``weights`` (values in ``weights`` order) in the default session."""
        params = self.weights
        if len(params) != len(weights):
            raise ValueError(
                "You called `set_weights(weights)` on optimizer " + self._name + " with a "
                "weight list of length " + str(len(weights)) + ", but the optimizer was "
                "expecting " + str(len(params)) + " weights. Provided weights: "
                + str(weights)[:50] + "...")
        if not params:
            return
        sess = default_session()
        current = sess.run(params)
        values = []
        for pv, w in zip(current, weights):
            w = np.asarray(w)
            if np.shape(pv) != w.shape:
                raise ValueError("Optimizer weight shape " + str(np.shape(pv)) + " not "
                                 "compatible with provided weight shape " + str(w.shape))
            values.append(w)
        for p, w in zip(params, values):
            set_value(p, w, sess)

    # --- config -------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """``{'name': ...}`` plus clipnorm / clipvalue / global_clipnorm when set;
        subclasses add their hyperparameters."""
        config = {"name": self._name}
        if self._clipnorm is not None:
            config["clipnorm"] = self._clipnorm
        if self._clipvalue is not None:
            config["clipvalue"] = self._clipvalue
        if self._global_clipnorm is not None:
            config["global_clipnorm"] = self._global_clipnorm
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: Optional[dict] = None) -> "OptimizerV2":
        """``cls(**config)`` after renaming ``lr`` and deserializing a schedule."""
        config = dict(config)
        if "lr" in config:
            config["learning_rate"] = config.pop("lr")
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"],
                                                            custom_objects=custom_objects)
        return cls(**config)

    def _valid_dtypes(self) -> tuple:
        return _VALID_DTYPES

    def _assert_valid_dtypes(self, tensors: list) -> None:
        valid = self._valid_dtypes()
        for t in tensors:
            dtype = t.dtype.base_dtype
            if dtype not in valid:
                raise ValueError("Invalid type %r for %s, expected: %s."
                                 % (dtype, t.name, [v for v in valid]))

    # --- helpers for subclasses ------------------------------------------------------------
    @staticmethod
    def _scatter_add(var: Variable, indices: Any, values: Any) -> Tensor:
        from graphflow.ops import state_ops
        return state_ops.scatter_add(var, indices, values, use_locking=True)

    @staticmethod
    def _scatter_update(var: Variable, indices: Any, values: Any) -> Tensor:
        from graphflow.ops import state_ops
        return state_ops.scatter_update(var, indices, values, use_locking=True)

    def __repr__(self) -> str:
        return "<%s name=%r>" % (type(self).__name__, self._name)

