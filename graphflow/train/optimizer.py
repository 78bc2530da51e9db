"""The optimizer base class (``tf.train.Optimizer``, TF1 reference-variable flavour).

``minimize`` = ``compute_gradients`` + ``apply_gradients`` (spec optimizers.md §1).
Subclasses fill in the hooks: ``_create_slots(var_list)`` makes slot and non-slot
variables, ``_prepare()`` turns hyperparameters into tensors inside the apply
name scope, ``_apply_dense(grad, var)`` / ``_apply_sparse(grad, var)`` build one
variable's update, and ``_finish(update_ops, name)`` groups them.

Hyperparameters may be Python numbers, Tensors, Variables or zero-argument
callables (called when ``apply_gradients`` builds the update).
"""
from __future__ import annotations

from typing import Any, Iterable, Optional

from graphflow.autodiff.gradients import gradients
from graphflow.autodiff.tape import GradientTape
from graphflow.framework import graph as graph_mod
from graphflow.framework.graph import GraphKeys
from graphflow.framework.indexed_slices import IndexedSlices
from graphflow.framework.operation import Operation, Tensor, convert_to_tensor
from graphflow.ops import (array_ops, control_flow_ops, init_ops, math_ops, reduction_ops,
                           state_ops)
from graphflow.ops.variables import Variable, trainable_variables
from graphflow.train import slot_creator

__all__ = ["Optimizer"]

_VALID_DTYPE_NAMES = ("float32", "float64", "float16", "bfloat16")


def _var_key(var: Any) -> tuple:
    """Key of a variable (or tensor) in the slot dictionaries: (graph, op name)."""
    return (var.op.graph, var.op.name)


def _flatten(values: Any) -> list:
    if isinstance(values, (list, tuple)):
        return [x for v in values for x in _flatten(v)]
    return [values]


def _deduplicate_indexed_slices(values: Any, indices: Any) -> tuple:
    """Sum the rows of ``values`` that share an index: ``(summed_values, unique_indices)``."""
    unique_indices, new_index_positions = array_ops.unique(indices)
    summed_values = reduction_ops.unsorted_segment_sum(values, new_index_positions,
                                                       array_ops.shape(unique_indices)[0])
    return summed_values, unique_indices


class Optimizer:
    """Base class for optimizers (``tf.train.Optimizer``).

    Args:
      use_locking: use locks for the update ops (no observable effect here).
      name: the optimizer's name: default name scope of ``apply_gradients`` and
        suffix of slot names. Must not be empty.
    """

    GATE_NONE = 0
    GATE_OP = 1
    GATE_GRAPH = 2

    def __init__(self, use_locking: bool, name: str) -> None:
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        self._slots: dict = {}  # slot name -> {var key: slot variable}
        self._non_slot_dict: dict = {}  # (name, graph) -> variable

    def get_name(self) -> str:
        """The optimizer's name (``'GradientDescent'``, ``'Adam'``, ...)."""
        return self._name

    # --- the public steps -------------------------------------------------------------
    def minimize(self, loss: Any, global_step: Any = None, var_list: Any = None,
                 gate_gradients: int = GATE_OP, aggregation_method: Optional[int] = None,
                 colocate_gradients_with_ops: bool = False, name: Optional[str] = None,
                 grad_loss: Any = None) -> Operation:
        """Add ops that minimize ``loss`` by updating ``var_list``; returns the train op.

        Same as ``tf.train.Optimizer.minimize``: ``compute_gradients`` then
        ``apply_gradients``. ValueError when no variable has a gradient.
        """
        grads_and_vars = self.compute_gradients(
            loss, var_list=var_list, gate_gradients=gate_gradients,
            aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops, grad_loss=grad_loss)
        vars_with_grad = [v for g, v in grads_and_vars if g is not None]
        if not vars_with_grad:
            raise ValueError(
                "No gradients provided for any variable, check your graph for ops that do not "
                "support gradients, between variables %s and loss %s."
                % ([str(v) for _, v in grads_and_vars], loss))
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(self, loss: Any, var_list: Any = None,
                          gate_gradients: int = GATE_OP,
                          aggregation_method: Optional[int] = None,
                          colocate_gradients_with_ops: bool = False,
                          grad_loss: Any = None) -> list:
        """``[(gradient, variable), ...]`` for ``loss`` (a gradient may be None).

        Args:
          loss: a Tensor, or a zero-argument callable evaluated under a GradientTape.
          var_list: variables (nested lists allowed); default: the trainable ones.
          gate_gradients: GATE_NONE, GATE_OP (per-op ``tf.tuple``) or GATE_GRAPH
            (one ``tf.tuple`` over all gradients).
          aggregation_method, colocate_gradients_with_ops: passed to ``tf.gradients``.
          grad_loss: the gradient of ``loss`` (default ones).
        """
        if callable(loss):
            return self._compute_gradients_from_callable(loss, var_list, grad_loss)
        if gate_gradients not in (Optimizer.GATE_NONE, Optimizer.GATE_OP,
                                  Optimizer.GATE_GRAPH):
            raise ValueError("gate_gradients must be one of: Optimizer.GATE_NONE, "
                             "Optimizer.GATE_OP, Optimizer.GATE_GRAPH.  Not %s"
                             % gate_gradients)
        self._assert_valid_dtypes([loss])
        if grad_loss is not None:
            self._assert_valid_dtypes([grad_loss])
        if var_list is None:
            var_list = (trainable_variables()
                        + graph_mod.get_collection(GraphKeys.TRAINABLE_RESOURCE_VARIABLES))
        else:
            var_list = _flatten(var_list)
        if not var_list:
            raise ValueError("No variables to optimize.")
        for v in var_list:
            _check_optimizable(v)
        grads = gradients(loss, var_list, grad_ys=grad_loss,
                          gate_gradients=(gate_gradients == Optimizer.GATE_OP),
                          aggregation_method=aggregation_method,
                          colocate_gradients_with_ops=colocate_gradients_with_ops)
        if gate_gradients == Optimizer.GATE_GRAPH:
            grads = control_flow_ops.tuple(grads)
        grads_and_vars = list(zip(grads, var_list))
        self._assert_valid_dtypes([v for g, v in grads_and_vars if g is not None])
        return grads_and_vars

    def _compute_gradients_from_callable(self, loss: Any, var_list: Any,
                                         grad_loss: Any) -> list:
        with GradientTape() as tape:
            if var_list is not None:
                var_list = _flatten(var_list)
                tape.watch(var_list)
            loss_value = loss()
        if var_list is None:
            var_list = list(tape.watched_variables())
        with graph_mod.control_dependencies([loss_value]):
            grads = tape.gradient(loss_value, var_list, grad_loss)
        return list(zip(grads, var_list))

    def apply_gradients(self, grads_and_vars: Iterable, global_step: Any = None,
                        name: Optional[str] = None) -> Operation:
        """Apply gradients to variables; returns the train Operation.

        Args:
          grads_and_vars: ``(gradient, variable)`` pairs, e.g. from
            ``compute_gradients``; pairs whose gradient is None are skipped.
          global_step: optional integer variable incremented by one after all
            updates (the returned op is then that ``AssignAdd``).
          name: name of the returned op (default: the optimizer's name, uniquified).
        """
        grads_and_vars = tuple(grads_and_vars)
        if not grads_and_vars:
            raise ValueError("No variables provided.")
        converted = []
        for g, v in grads_and_vars:
            if g is not None:
                g = _convert_gradient(g)
            _check_optimizable(v)
            converted.append((g, v))
        var_list = [v for g, v in converted if g is not None]
        if not var_list:
            raise ValueError("No gradients provided for any variable: %s."
                             % ([str(v) for _, v in converted],))
        graph = graph_mod.get_default_graph()
        with graph.control_dependencies(None):  # TF's init_scope: keeps the name scope
            self._create_slots(var_list)
        update_ops = []
        with graph_mod.name_scope(name, self._name) as scope:
            self._prepare()
            for grad, var in converted:
                if grad is None:
                    continue
                with graph_mod.name_scope("update_" + var.op.name), \
                        graph.colocate_with(var.op):
                    update_ops.append(self._update_op(grad, var))
            if global_step is None:
                apply_updates = self._finish(update_ops, scope)
            else:
                with graph.control_dependencies([self._finish(update_ops, "update")]):
                    apply_updates = _increment(global_step, scope)
        if isinstance(apply_updates, Tensor):
            apply_updates = apply_updates.op
        train_op = graph.get_collection_ref(GraphKeys.TRAIN_OP)
        if apply_updates not in train_op:
            train_op.append(apply_updates)
        return apply_updates

    def _update_op(self, grad: Any, var: Any) -> Any:
        """One variable's update: dense kernel, or the sparse path for IndexedSlices."""
        if not isinstance(var, Variable):
            raise NotImplementedError("Trying to update a Tensor %s" % (var,))
        if isinstance(grad, Tensor):
            update_op = self._apply_dense(grad, var)
            if var.constraint is not None:
                with graph_mod.control_dependencies([update_op]):
                    return var.assign(var.constraint(var))
            return update_op
        if var.constraint is not None:
            raise RuntimeError("Cannot use a constraint function on a sparse variable.")
        return self._apply_sparse_duplicate_indices(grad, var)

    # --- slots ---------------------------------------------------------------------------
    def get_slot(self, var: Any, name: str) -> Any:
        """The slot variable ``name`` of ``var``, or None."""
        named_slots = self._slots.get(name)
        if not named_slots:
            return None
        return named_slots.get(_var_key(var))

    def get_slot_names(self) -> list:
        """Sorted names of the slots this optimizer has created."""
        return sorted(self._slots.keys())

    def variables(self) -> list:
        """Slot and non-slot variables of the current default graph, sorted by name."""
        current = graph_mod.get_default_graph()
        found = [v for v in self._non_slot_variables() if v.graph is current]
        for slots in self._slots.values():
            found.extend(v for v in slots.values() if v.graph is current)
        return sorted(found, key=lambda v: v.name)

    def _slot_dict(self, slot_name: str) -> dict:
        return self._slots.setdefault(slot_name, {})

    def _get_or_make_slot(self, var: Any, val: Any, slot_name: str, op_name: str) -> Any:
        named_slots = self._slot_dict(slot_name)
        key = _var_key(var)
        if key not in named_slots:
            named_slots[key] = slot_creator.create_slot(var, val, op_name)
        return named_slots[key]

    def _get_or_make_slot_with_initializer(self, var: Any, initializer: Any, shape: Any,
                                           dtype: Any, slot_name: str, op_name: str) -> Any:
        named_slots = self._slot_dict(slot_name)
        key = _var_key(var)
        if key not in named_slots:
            named_slots[key] = slot_creator.create_slot_with_initializer(
                var, initializer, shape, dtype, op_name)
        return named_slots[key]

    def _filled_slot(self, var: Any, value: float, slot_name: str, op_name: str) -> Any:
        """A slot filled with ``value`` (``<slot>/Initializer/Const`` for static shapes)."""
        dtype = var.dtype.base_dtype
        if var.get_shape().is_fully_defined():
            init = init_ops.constant_initializer(value, dtype=dtype)
        else:
            def init() -> Any:
                source = var.initialized_value() if isinstance(var, Variable) else var
                return math_ops.cast(array_ops.fill(array_ops.shape(source), value), dtype)
        return self._get_or_make_slot_with_initializer(var, init, var.get_shape(), dtype,
                                                       slot_name, op_name)

    def _zeros_slot(self, var: Any, slot_name: str, op_name: str) -> Any:
        named_slots = self._slot_dict(slot_name)
        key = _var_key(var)
        if key not in named_slots:
            named_slots[key] = slot_creator.create_zeros_slot(var, op_name)
        return named_slots[key]

    # --- non-slot variables ------------------------------------------------------------
    def _create_non_slot_variable(self, initial_value: Any, name: str,
                                  colocate_with: Any) -> Variable:
        """A variable owned by the optimizer, one per graph (e.g. Adam's beta powers)."""
        graph = colocate_with.graph
        key = (name, graph)
        v = self._non_slot_dict.get(key)
        if v is None:
            with graph.as_default(), graph.colocate_with(colocate_with.op):
                v = Variable(initial_value, name=name, trainable=False)
            self._non_slot_dict[key] = v
        return v

    def _get_non_slot_variable(self, name: str, graph: Any = None) -> Optional[Variable]:
        return self._non_slot_dict.get((name, graph or graph_mod.get_default_graph()))

    def _non_slot_variables(self) -> list:
        return list(self._non_slot_dict.values())

    # --- hooks -------------------------------------------------------------------------
    def _create_slots(self, var_list: list) -> None:
        """Create the slots of ``var_list`` (default: none)."""

    def _prepare(self) -> None:
        """Convert hyperparameters to tensors (inside the apply name scope)."""

    def _apply_dense(self, grad: Tensor, var: Variable) -> Any:
        raise NotImplementedError()

    def _apply_sparse(self, grad: IndexedSlices, var: Variable) -> Any:
        raise NotImplementedError()

    def _apply_sparse_duplicate_indices(self, grad: IndexedSlices, var: Variable) -> Any:
        """Sum duplicate indices, then ``_apply_sparse``."""
        summed_values, unique_indices = _deduplicate_indexed_slices(grad.values, grad.indices)
        return self._apply_sparse(IndexedSlices(summed_values, unique_indices,
                                                grad.dense_shape), var)

    def _finish(self, update_ops: list, name_scope: str) -> Operation:
        return control_flow_ops.group(*update_ops, name=name_scope)

    # --- helpers -----------------------------------------------------------------------
    @staticmethod
    def _call_if_callable(param: Any) -> Any:
        return param() if callable(param) else param

    def _hyper(self, value: Any, name: str) -> Tensor:
        """A hyperparameter as a tensor named ``name`` in the current scope."""
        return convert_to_tensor(self._call_if_callable(value), name=name)

    @staticmethod
    def _cast(t: Any, var: Any) -> Tensor:
        return math_ops.cast(t, var.dtype.base_dtype)

    def _valid_dtypes(self) -> tuple:
        return _VALID_DTYPE_NAMES

    def _assert_valid_dtypes(self, tensors: list) -> None:
        valid = self._valid_dtypes()
        for t in tensors:
            dtype = t.dtype.base_dtype
            if dtype.name not in valid:
                raise ValueError("Invalid type %r for %s, expected: [%s]." % (
                    dtype, t.name, ", ".join("tf." + n for n in valid)))


def _check_optimizable(v: Any) -> None:
    if not isinstance(v, (Variable, Tensor)):
        raise NotImplementedError("Trying to optimize unsupported type %s" % (v,))


def _convert_gradient(g: Any) -> Any:
    if isinstance(g, (Tensor, IndexedSlices)):
        return g
    try:
        g = convert_to_tensor(g)
    except (TypeError, ValueError):
        raise TypeError("Gradient must be convertible to a Tensor or IndexedSlices, or None: %s"
                        % (g,)) from None
    if not isinstance(g, Tensor):
        raise TypeError("Gradient must be a Tensor, IndexedSlices, or None: %s" % (g,))
    return g


def _increment(global_step: Any, scope: str) -> Any:
    """``assign_add(global_step, 1)`` named ``scope`` (its constant is ``<scope>/value``)."""
    g = graph_mod.get_default_graph()
    with g.colocate_with(global_step.op):
        with graph_mod.name_scope(scope):
            one = array_ops.constant(1, dtype=global_step.dtype.base_dtype, name="value")
        return state_ops.assign_add(global_step, one, name=scope)
