"""Initializers (TF1 ``init_ops``): objects called as ``init(shape, dtype=None,
partition_info=None)`` that build the ops producing a variable's first value.

``tf.get_variable`` calls them under ``<var>/Initializer/``. Random
initializers build ops from ``random_ops`` (imported when called) and pass
their ``seed`` on, so graph-level seeds apply as for any random op.
"""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from graphflow import dtypes
from graphflow.framework.tensor_shape import as_shape

__all__ = ["Initializer", "constant_initializer", "zeros_initializer", "ones_initializer",
           "random_normal_initializer", "random_uniform_initializer",
           "truncated_normal_initializer", "glorot_uniform_initializer",
           "glorot_normal_initializer", "variance_scaling_initializer",
           "uniform_unit_scaling_initializer"]


def _random_ops() -> Any:
    from graphflow.ops import random_ops
    return random_ops


def _array_ops() -> Any:
    from graphflow.ops import array_ops
    return array_ops


def _shape_list(shape: Any) -> list:
    s = as_shape(shape)
    if not s.is_fully_defined():
        raise ValueError("Initializers need a fully defined shape, got %s" % (s,))
    return s.as_list()


def _check_float(dtype: Any) -> Any:
    dt = dtypes.as_dtype(dtype).base_dtype
    if not dt.is_floating:
        raise ValueError("Expected floating point type, got %s." % dt)
    return dt


class Initializer:
    """Base class of initializers (``tf.keras.initializers.Initializer`` in TF1)."""

    dtype: Any = dtypes.float32

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Any:
        raise NotImplementedError

    def get_config(self) -> dict:
        """The constructor arguments as a dict (``from_config``'s input)."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Initializer":
        """An initializer built from ``get_config()``'s dict."""
        return cls(**config)

    def _dtype(self, dtype: Any) -> Any:
        return dtypes.as_dtype(self.dtype if dtype is None else dtype).base_dtype


class Zeros(Initializer):
    """All zeros (``tf.zeros_initializer``); builds ``zeros``."""

    def __init__(self, dtype: Any = dtypes.float32) -> None:
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Any:
        return _filled(_array_ops(), "zeros", 0, shape, self._dtype(dtype))

    def get_config(self) -> dict:
        return {"dtype": self.dtype.name}


class Ones(Initializer):
    """All ones (``tf.ones_initializer``); builds ``ones``."""

    def __init__(self, dtype: Any = dtypes.float32) -> None:
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Any:
        return _filled(_array_ops(), "ones", 1, shape, self._dtype(dtype))

    def get_config(self) -> dict:
        return {"dtype": self.dtype.name}


def _filled(array_ops: Any, name: str, fill: int, shape: Any, dtype: Any) -> Any:
    """``tf.zeros``/``tf.ones`` when array_ops has them, else a Const of that name."""
    builder = getattr(array_ops, name, None)
    if builder is not None:
        return builder(shape, dtype=dtype)
    value = np.full(_shape_list(shape), fill, dtype=dtype.np)
    return array_ops.constant(value, dtype=dtype, name=name)


class Constant(Initializer):
    """A given value (``tf.constant_initializer``).

    ``value`` is a Python scalar, a list/tuple or a numpy array. A list shorter
    than the shape is padded with its last element (TF1); a longer one is a
    TypeError, and so is any size mismatch with ``verify_shape=True``.
    """

    def __init__(self, value: Any = 0, dtype: Any = dtypes.float32,
                 verify_shape: bool = False) -> None:
        if not (np.isscalar(value) or isinstance(value, (list, tuple, np.ndarray))):
            raise TypeError("Invalid type for initial value: %s (expected Python scalar, list "
                            "or tuple of values, or numpy.ndarray)." % type(value))
        self.value = value
        self.dtype = dtypes.as_dtype(dtype)
        self._verify_shape = verify_shape

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None,
                 verify_shape: Optional[bool] = None) -> Any:
        dt = self._dtype(dtype)
        verify = self._verify_shape if verify_shape is None else verify_shape
        dims = _shape_list(shape)
        n = int(np.prod(dims)) if dims else 1
        src = np.asarray(self.value)
        if verify and src.shape != tuple(dims):
            raise TypeError("Expected Tensor's shape: %s, got %s." % (tuple(dims), src.shape))
        flat = src.reshape(-1)
        if flat.size > n:
            raise TypeError("Too many elements provided. Needed at most %d, but received %d"
                            % (n, flat.size))
        if flat.size == 0:
            raise ValueError("Cannot initialize a tensor of shape %s from an empty value."
                             % (tuple(dims),))
        if flat.size < n:
            flat = np.concatenate([flat, np.repeat(flat[-1:], n - flat.size)])
        return _array_ops().constant(flat.reshape(dims), dtype=dt, name="Const")

    def get_config(self) -> dict:
        return {"value": self.value, "dtype": self.dtype.name,
                "verify_shape": self._verify_shape}


class RandomUniform(Initializer):
    """Uniform in ``[minval, maxval)`` (``tf.random_uniform_initializer``)."""

    def __init__(self, minval: Any = 0, maxval: Any = None, seed: Optional[int] = None,
                 dtype: Any = dtypes.float32) -> None:
        self.minval, self.maxval, self.seed = minval, maxval, seed
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Any:
        return _random_ops().random_uniform(shape, self.minval, self.maxval, self._dtype(dtype),
                                            seed=self.seed)

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed,
                "dtype": self.dtype.name}


class RandomNormal(Initializer):
    """Normal(mean, stddev) (``tf.random_normal_initializer``)."""

    def __init__(self, mean: float = 0.0, stddev: float = 1.0, seed: Optional[int] = None,
                 dtype: Any = dtypes.float32) -> None:
        self.mean, self.stddev, self.seed = mean, stddev, seed
        self.dtype = _check_float(dtype)

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Any:
        return _random_ops().random_normal(shape, self.mean, self.stddev, self._dtype(dtype),
                                           seed=self.seed)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed,
                "dtype": self.dtype.name}


class TruncatedNormal(RandomNormal):
    """Normal(mean, stddev) redrawn beyond two stddevs (``tf.truncated_normal_initializer``)."""

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Any:
        return _random_ops().truncated_normal(shape, self.mean, self.stddev,
                                              self._dtype(dtype), seed=self.seed)


def _compute_fans(shape: list) -> tuple:
    """(fan_in, fan_out): matrices [in, out]; conv kernels [..., in, out] times the
    receptive field; vectors use their length for both; scalars 1."""
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    receptive = 1
    for d in shape[:-2]:
        receptive *= d
    return int(shape[-2] * receptive), int(shape[-1] * receptive)


# truncnorm.std(a=-2, b=2): a normal truncated at two stddevs has this stddev
_TRUNCATED_STDDEV = 0.87962566103423978


class VarianceScaling(Initializer):
    """Scale ``scale / n`` with n = fan_in, fan_out or their mean
    (``tf.variance_scaling_initializer``). ``normal``/``truncated_normal``: a
    truncated normal with that variance; ``untruncated_normal``: a normal;
    ``uniform``: U(-limit, limit) with limit = sqrt(3 * scale / n)."""

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: Optional[int] = None,
                 dtype: Any = dtypes.float32) -> None:
        if scale <= 0.0:
            raise ValueError("`scale` must be positive float.")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError("Invalid `mode` argument:", mode)
        distribution = distribution.lower()
        if distribution not in ("normal", "uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError("Invalid `distribution` argument:", distribution)
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed
        self.dtype = _check_float(dtype)

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Any:
        dt = self._dtype(dtype)
        dims = _shape_list(shape)
        full = getattr(partition_info, "full_shape", None) or dims
        fan_in, fan_out = _compute_fans(list(full))
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        rops = _random_ops()
        if self.distribution in ("normal", "truncated_normal"):
            stddev = math.sqrt(scale) / _TRUNCATED_STDDEV
            return rops.truncated_normal(dims, 0.0, stddev, dt, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return rops.random_normal(dims, 0.0, math.sqrt(scale), dt, seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return rops.random_uniform(dims, -limit, limit, dt, seed=self.seed)

    def get_config(self) -> dict:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed, "dtype": self.dtype.name}


class GlorotUniform(VarianceScaling):
    """U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out))
    (``tf.glorot_uniform_initializer``)."""

    def __init__(self, seed: Optional[int] = None, dtype: Any = dtypes.float32) -> None:
        super().__init__(1.0, "fan_avg", "uniform", seed, dtype)

    def get_config(self) -> dict:
        return {"seed": self.seed, "dtype": self.dtype.name}


class GlorotNormal(VarianceScaling):
    """Truncated normal, stddev sqrt(2 / (fan_in + fan_out)) (``tf.glorot_normal_initializer``)."""

    def __init__(self, seed: Optional[int] = None, dtype: Any = dtypes.float32) -> None:
        super().__init__(1.0, "fan_avg", "truncated_normal", seed, dtype)

    def get_config(self) -> dict:
        return {"seed": self.seed, "dtype": self.dtype.name}


class UniformUnitScaling(Initializer):
    """U(-m, m), m = factor * sqrt(3 / input_size), input_size = product of all
    but the last dim (``tf.uniform_unit_scaling_initializer``, deprecated in TF)."""

    def __init__(self, factor: float = 1.0, seed: Optional[int] = None,
                 dtype: Any = dtypes.float32) -> None:
        self.factor, self.seed = factor, seed
        self.dtype = _check_float(dtype)

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Any:
        dims = _shape_list(shape)
        full = getattr(partition_info, "full_shape", None) or dims
        input_size = 1.0
        for d in list(full)[:-1]:
            input_size *= float(d)
        limit = math.sqrt(3.0 / max(input_size, 1.0)) * self.factor
        return _random_ops().random_uniform(dims, -limit, limit, self._dtype(dtype),
                                            seed=self.seed)

    def get_config(self) -> dict:
        return {"factor": self.factor, "seed": self.seed, "dtype": self.dtype.name}


class Identity(Initializer):
    """``gain`` times the identity matrix (``tf.initializers.identity``); 2-D only."""

    def __init__(self, gain: float = 1.0, dtype: Any = dtypes.float32) -> None:
        self.gain = gain
        self.dtype = _check_float(dtype)

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Any:
        dims = list(getattr(partition_info, "full_shape", None) or _shape_list(shape))
        if len(dims) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices.")
        dt = self._dtype(dtype)
        value = (self.gain * np.eye(dims[0], dims[1])).astype(dt.np)
        return _array_ops().constant(value, dtype=dt, name="Const")

    def get_config(self) -> dict:
        return {"gain": self.gain, "dtype": self.dtype.name}


def _scaling(scale: float, mode: str, distribution: str) -> Any:
    def make(seed: Optional[int] = None) -> VarianceScaling:
        return VarianceScaling(scale, mode, distribution, seed)
    make.__name__ = "%s_%s" % (mode, distribution)
    make.__doc__ = "VarianceScaling(scale=%s, mode=%r, distribution=%r)." % (
        scale, mode, distribution)
    return make


lecun_normal = _scaling(1.0, "fan_in", "truncated_normal")
lecun_uniform = _scaling(1.0, "fan_in", "uniform")
he_normal = _scaling(2.0, "fan_in", "truncated_normal")
he_uniform = _scaling(2.0, "fan_in", "uniform")

# TF1 names: the classes double as the ``tf.*_initializer`` factories.
zeros_initializer = Zeros
ones_initializer = Ones
constant_initializer = Constant
random_uniform_initializer = RandomUniform
random_normal_initializer = RandomNormal
truncated_normal_initializer = TruncatedNormal
variance_scaling_initializer = VarianceScaling
glorot_uniform_initializer = GlorotUniform
glorot_normal_initializer = GlorotNormal
uniform_unit_scaling_initializer = UniformUnitScaling
# ``tf.initializers`` names (graphflow/initializers.py re-exports INITIALIZERS_API)
zeros = Zeros
ones = Ones
constant = Constant
random_uniform = RandomUniform
random_normal = RandomNormal
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
identity = Identity


def global_variables() -> Any:
    """``tf.initializers.global_variables()``: same as ``tf.global_variables_initializer``."""
    from graphflow.ops import variables as variables_mod
    return variables_mod.global_variables_initializer()


def local_variables() -> Any:
    """``tf.initializers.local_variables()``: same as ``tf.local_variables_initializer``."""
    from graphflow.ops import variables as variables_mod
    return variables_mod.local_variables_initializer()


def variables(var_list: list, name: str = "init") -> Any:
    """``tf.initializers.variables``: same as ``tf.variables_initializer``."""
    from graphflow.ops import variables as variables_mod
    return variables_mod.variables_initializer(var_list, name=name)


INITIALIZERS_API = ["Initializer", "constant", "zeros", "ones", "random_normal",
                    "random_uniform", "truncated_normal", "glorot_uniform", "glorot_normal",
                    "variance_scaling", "identity", "lecun_normal", "lecun_uniform", "he_normal",
                    "he_uniform", "global_variables", "local_variables", "variables"]
