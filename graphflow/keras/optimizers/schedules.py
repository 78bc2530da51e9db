"""Learning-rate schedules (``tf.keras.optimizers.schedules``).

A schedule is a serializable callable ``schedule(step) -> learning rate``;
an OptimizerV2 given one as its ``learning_rate`` calls it with the
optimizer's ``iterations`` (cast to the variable dtype) each step. The
arithmetic is the one of ``tf.train.*_decay`` (graphflow.train.learning_rate_decay),
which TF 1.x also implemented on top of these classes.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

from graphflow.framework.operation import convert_to_tensor
from graphflow.ops.compare_ops import cast
from graphflow.train import learning_rate_decay as _decay

__all__ = ["LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay",
           "PolynomialDecay", "InverseTimeDecay", "CosineDecay", "CosineDecayRestarts",
           "LinearCosineDecay", "serialize", "deserialize"]


class LearningRateSchedule:
    """Base class of the schedules (``tf.keras.optimizers.schedules.LearningRateSchedule``).

    Subclasses implement ``__call__(step)`` (a scalar Tensor) and
    ``get_config()`` (the constructor's arguments); ``from_config`` inverts it.
    """

    def __call__(self, step: Any) -> Any:
        raise NotImplementedError("Learning rate schedule must override __call__")

    def get_config(self) -> dict:
        raise NotImplementedError("Learning rate schedule must override get_config")

    @classmethod
    def from_config(cls, config: dict) -> "LearningRateSchedule":
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join("%s=%r" % kv for kv in self.get_config().items())
        return "%s(%s)" % (type(self).__name__, args)


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (floored if ``staircase``)."""

    def __init__(self, initial_learning_rate: Any, decay_steps: Any, decay_rate: Any,
                 staircase: bool = False, name: Optional[str] = None) -> None:
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step: Any) -> Any:
        return _decay.exponential_decay(self.initial_learning_rate, step, self.decay_steps,
                                        self.decay_rate, staircase=self.staircase,
                                        name=self.name)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` for ``boundaries[i-1] < step <= boundaries[i]``."""

    def __init__(self, boundaries: Sequence, values: Sequence,
                 name: Optional[str] = None) -> None:
        if len(boundaries) != len(values) - 1:
            raise ValueError("The length of boundaries should be 1 less than the length of "
                             "values")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step: Any) -> Any:
        step = convert_to_tensor(step)
        dt = step.dtype.base_dtype
        boundaries = []
        for b in self.boundaries:  # boundaries take the step's dtype, as in TF 2.x
            b = convert_to_tensor(b)
            boundaries.append(b if b.dtype.base_dtype == dt else cast(b, dt))
        return _decay.piecewise_constant(step, boundaries, list(self.values), name=self.name)

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from ``initial_learning_rate`` to ``end_learning_rate``."""

    def __init__(self, initial_learning_rate: Any, decay_steps: Any,
                 end_learning_rate: Any = 0.0001, power: Any = 1.0, cycle: bool = False,
                 name: Optional[str] = None) -> None:
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step: Any) -> Any:
        return _decay.polynomial_decay(self.initial_learning_rate, step, self.decay_steps,
                                       end_learning_rate=self.end_learning_rate,
                                       power=self.power, cycle=self.cycle, name=self.name)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``."""

    def __init__(self, initial_learning_rate: Any, decay_steps: Any, decay_rate: Any,
                 staircase: bool = False, name: Optional[str] = None) -> None:
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step: Any) -> Any:
        return _decay.inverse_time_decay(self.initial_learning_rate, step, self.decay_steps,
                                         self.decay_rate, staircase=self.staircase,
                                         name=self.name)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay to ``alpha * initial_learning_rate`` over ``decay_steps``."""

    def __init__(self, initial_learning_rate: Any, decay_steps: Any, alpha: Any = 0.0,
                 name: Optional[str] = None) -> None:
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name

    def __call__(self, step: Any) -> Any:
        return _decay.cosine_decay(self.initial_learning_rate, step, self.decay_steps,
                                   alpha=self.alpha, name=self.name)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR)."""

    def __init__(self, initial_learning_rate: Any, first_decay_steps: Any, t_mul: Any = 2.0,
                 m_mul: Any = 1.0, alpha: Any = 0.0, name: Optional[str] = None) -> None:
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step: Any) -> Any:
        return _decay.cosine_decay_restarts(self.initial_learning_rate, step,
                                            self.first_decay_steps, t_mul=self._t_mul,
                                            m_mul=self._m_mul, alpha=self.alpha,
                                            name=self.name)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


class LinearCosineDecay(LearningRateSchedule):
    """Linear cosine decay (Bello et al.)."""

    def __init__(self, initial_learning_rate: Any, decay_steps: Any, num_periods: Any = 0.5,
                 alpha: Any = 0.0, beta: Any = 0.001, name: Optional[str] = None) -> None:
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.num_periods = num_periods
        self.alpha = alpha
        self.beta = beta
        self.name = name

    def __call__(self, step: Any) -> Any:
        return _decay.linear_cosine_decay(self.initial_learning_rate, step, self.decay_steps,
                                          num_periods=self.num_periods, alpha=self.alpha,
                                          beta=self.beta, name=self.name)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "num_periods": self.num_periods,
                "alpha": self.alpha, "beta": self.beta, "name": self.name}


_CLASSES = {c.__name__: c for c in (ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay,
                                     InverseTimeDecay, CosineDecay, CosineDecayRestarts,
                                     LinearCosineDecay)}


def serialize(learning_rate_schedule: LearningRateSchedule) -> dict:
    """``{'class_name': <class name>, 'config': schedule.get_config()}``."""
    return {"class_name": type(learning_rate_schedule).__name__,
            "config": learning_rate_schedule.get_config()}


def deserialize(config: dict, custom_objects: Optional[dict] = None) -> LearningRateSchedule:
    """Inverse of ``serialize``; ``custom_objects`` maps extra class names to classes."""
    classes = dict(_CLASSES)
    classes.update(custom_objects or {})
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in classes:
        raise ValueError("Unknown decay: %s" % (name,))
    return classes[name].from_config(dict(config.get("config", {})))
