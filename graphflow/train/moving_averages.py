"""Exponential moving averages of variables and tensors (spec training_utils.md §4).

``ExponentialMovingAverage.apply`` creates one *shadow* variable per averaged
element (named like an optimizer slot, ``<var>/ExponentialMovingAverage``) and
returns a ``NoOp`` grouping one ``AssignSub`` per element::

    shadow -= (shadow - value) * (1 - decay)      # = decay*shadow + (1-decay)*value

Same as TF1 ``tf.train.ExponentialMovingAverage`` and
``moving_averages.assign_moving_average``.
"""
from __future__ import annotations

from typing import Any, Optional

from graphflow import dtypes
from graphflow.framework import graph as graph_mod
from graphflow.framework.graph import GraphKeys
from graphflow.framework.operation import Operation, Tensor, convert_to_tensor
from graphflow.ops import control_flow_ops, init_ops, math_ops, state_ops, variable_scope
from graphflow.ops.compare_ops import cast
from graphflow.ops.variables import Variable, global_variables, moving_average_variables, \
    trainable_variables
from graphflow.train import slot_creator

__all__ = ["ExponentialMovingAverage"]

_FLOATS = tuple(d for d in (dtypes.float16, getattr(dtypes, "bfloat16", None), dtypes.float32,
                            dtypes.float64) if d is not None)
_VARIABLE_OPS = ("Variable", "VariableV2", "VarHandleOp")


def assign_moving_average(variable: Variable, value: Any, decay: Any, zero_debias: bool = True,
                          name: Optional[str] = None) -> Tensor:
    """``variable -= (variable - value) * (1 - decay)``; returns the updated ref.

    Same as TF1 ``moving_averages.assign_moving_average``. With
    ``zero_debias=True`` a biased accumulator and a step counter (variables
    ``<variable>/biased`` and ``<variable>/local_step``) make the average
    unbiased at early steps: ``variable = biased / (1 - decay ** local_step)``.
    """
    with graph_mod.name_scope(name, "AssignMovingAvg", [variable, value, decay]) as scope:
        g = graph_mod.get_default_graph()
        with g.colocate_with(variable.op):
            rate = convert_to_tensor(1.0 - decay, name="decay")
            base = variable.dtype.base_dtype
            if rate.dtype.base_dtype != base:
                rate = cast(rate, base)
            if zero_debias:
                delta = _zero_debias(variable, value, rate)
            else:
                delta = math_ops.multiply(math_ops.subtract(variable, value), rate)
            return state_ops.assign_sub(variable, delta, name=scope)


def _unique_in_scope(name: str) -> str:
    """``name``, or ``name_<i>`` when the current variable scope already has it."""
    vs = variable_scope.get_variable_scope()
    if vs.reuse:
        return name
    taken = {v.op.name for v in vs.global_variables()}
    full = vs.name + "/" + name
    if full not in taken:
        return name
    i = 1
    while "%s_%d" % (full, i) in taken:
        i += 1
    return "%s_%d" % (name, i)


def _zero_debias(unbiased: Variable, value: Any, rate: Tensor) -> Tensor:
    """The delta that moves ``unbiased`` to the debiased average (TF's ``_zero_debias``)."""
    with variable_scope.variable_scope(unbiased.op.name, values=[unbiased, value, rate]) \
            as scope:
        biased = variable_scope.get_variable(
            _unique_in_scope("biased"), initializer=init_ops.zeros_initializer(),
            shape=unbiased.get_shape(), dtype=unbiased.dtype.base_dtype, trainable=False)
        local_step = variable_scope.get_variable(
            _unique_in_scope("local_step"), shape=[], dtype=unbiased.dtype.base_dtype,
            initializer=init_ops.zeros_initializer(), trainable=False)
        update_biased = state_ops.assign_sub(
            biased, math_ops.multiply(math_ops.subtract(biased, value), rate), name=scope.name)
        update_step = local_step.assign_add(1)
        g = graph_mod.get_default_graph()
        with g.control_dependencies([update_biased, update_step]):
            one = convert_to_tensor(1.0, dtype=unbiased.dtype.base_dtype)
            correction = math_ops.subtract(one, math_ops.pow(math_ops.subtract(one, rate),
                                                             local_step.read_value()))
            return math_ops.subtract(unbiased,
                                     math_ops.truediv(biased.read_value(), correction))


def _key(x: Any) -> int:
    return id(x)


class ExponentialMovingAverage:
    """Maintains moving averages of variables and tensors
    (``tf.train.ExponentialMovingAverage``).

    Args:
      decay: the decay, a float (typically close to 1, e.g. 0.999).
      num_updates: optional step count; the effective decay is then
        ``min(decay, (1 + num_updates) / (10 + num_updates))``.
      zero_debias: debias the averages of *tensors* (not variables).
      name: the name of the shadow variables' suffix and of the apply scope.
    """

    def __init__(self, decay: Any, num_updates: Any = None, zero_debias: bool = False,
                 name: str = "ExponentialMovingAverage") -> None:
        self._decay = decay
        self._num_updates = num_updates
        self._zero_debias = zero_debias
        self._name = name
        self._averages: dict = {}   # id(source) -> (source, shadow)

    @property
    def name(self) -> str:
        """The name given at creation (``'ExponentialMovingAverage'``); names the shadows."""
        return self._name

    def apply(self, var_list: Optional[list] = None) -> Operation:
        """Create shadows for new elements of ``var_list`` (default: the trainable
        variables) and return the op updating all their averages.

        Raises:
          TypeError: an element is not half, bfloat16, float or double.
        """
        if var_list is None:
            var_list = trainable_variables()
        var_list = list(var_list)
        for var in var_list:
            if var.dtype.base_dtype not in _FLOATS:
                raise TypeError("The variables must be half, float, or double: %s" % var.name)
        debiased: set = set()
        g = graph_mod.get_default_graph()
        for var in var_list:
            if _key(var) in self._averages:
                continue
            with g.control_dependencies(None):  # TF's init_scope
                if isinstance(var, Variable):
                    avg = slot_creator.create_slot(var, var.initialized_value(), self._name,
                                                   colocate_with_primary=True)
                    g.add_to_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, var)
                else:
                    avg = slot_creator.create_zeros_slot(
                        var, self._name,
                        colocate_with_primary=var.op.type in _VARIABLE_OPS)
                    if self._zero_debias:
                        debiased.add(id(avg))
            self._averages[_key(var)] = (var, avg)
        with graph_mod.name_scope(self._name) as scope:
            decay = convert_to_tensor(self._decay, name="decay")
            if self._num_updates is not None:
                n = cast(self._num_updates, dtypes.float32, name="num_updates")
                decay = math_ops.minimum(decay, math_ops.truediv(
                    math_ops.add(convert_to_tensor(1.0), n),
                    math_ops.add(convert_to_tensor(10.0), n)))
            updates = []
            for var in var_list:
                avg = self._averages[_key(var)][1]
                updates.append(assign_moving_average(avg, var, decay,
                                                     zero_debias=id(avg) in debiased))
            return control_flow_ops.group(*updates, name=scope)

    def average(self, var: Any) -> Optional[Variable]:
        """The shadow variable of ``var``, or None if ``var`` was never applied."""
        entry = self._averages.get(_key(var))
        return None if entry is None else entry[1]

    def average_name(self, var: Any) -> str:
        """The op name of ``var``'s shadow, or the name a shadow would get
        (``'<var op name>/<ema name>'``); use it as a Saver key."""
        entry = self._averages.get(_key(var))
        if entry is not None:
            return entry[1].op.name
        return graph_mod.get_default_graph().unique_name(var.op.name + "/" + self._name,
                                                         mark_as_used=False)

    def variables_to_restore(self, moving_avg_variables: Optional[list] = None) -> dict:
        """``{checkpoint name: variable}`` restoring averages into the variables.

        Each of ``moving_avg_variables`` (default: trainable variables and
        ``MOVING_AVERAGE_VARIABLES``) maps from its ``average_name``; every
        other global variable maps from its own op name.
        """
        if moving_avg_variables is None:
            moving_avg_variables = trainable_variables() + moving_average_variables()
        averaged = list({id(v): v for v in moving_avg_variables}.values())
        name_map = {}
        for v in averaged:
            name_map[self.average_name(v)] = v
        averaged_names = {v.name for v in averaged}
        for v in global_variables():
            if v.name not in averaged_names and v.op.name not in name_map:
                name_map[v.op.name] = v
        return name_map
