"""DType: TF's data types, their NumPy mapping and TF1's inference rules.

Python ``float`` becomes float32 and ``int`` int32 (TF's rule); there are no
silent upcasts: binary ops require equal dtypes (see ``framework.op_def``).
Reference (variable) dtypes such as ``float32_ref`` exist for TF1's
reference-variable graphs; ``base_dtype`` strips the ``_ref``.
"""
from __future__ import annotations

from typing import Any

import numpy as np


_pybool = type(True)


class DType:
    """A tensor element type (same as ``tf.DType``)."""

    __slots__ = ("_name", "_np", "_enum", "_ref", "_npd", "_base")

    def __init__(self, name: str, np_type: Any, enum: int, ref: bool = False) -> None:
        self._name = name
        self._np = np_type
        self._enum = enum
        self._ref = ref
        self._npd = np.dtype(np_type)
        self._base = _BY_NAME[name] if ref else self  # refs are made after the base dtypes

    # --- identity -----------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name + ("_ref" if self._ref else "")

    @property
    def as_datatype_enum(self) -> int:
        return self._enum + (100 if self._ref else 0)

    @property
    def as_numpy_dtype(self) -> Any:
        return self._np

    @property
    def np(self) -> np.dtype:
        """The numpy dtype object (object dtype for strings)."""
        return self._npd

    @property
    def is_ref_dtype(self) -> bool:
        return self._ref

    @property
    def base_dtype(self) -> "DType":
        return self._base

    @property
    def real_dtype(self) -> "DType":
        """float32 for complex64, float64 for complex128, else the base dtype."""
        return {"complex64": float32, "complex128": float64}.get(self._name, self.base_dtype)

    @property
    def _as_ref(self) -> "DType":
        return _REFS[self._name]

    # --- categories ---------------------------------------------------------
    @property
    def is_floating(self) -> bool:
        return self._name in ("float16", "float32", "float64", "bfloat16")

    @property
    def is_integer(self) -> bool:
        return self._name.startswith(("int", "uint"))

    @property
    def is_unsigned(self) -> bool:
        return self._name.startswith("uint")

    @property
    def is_quantized(self) -> bool:
        return False

    @property
    def is_bool(self) -> bool:
        return self._name == "bool"

    @property
    def is_complex(self) -> bool:
        return self._name.startswith("complex")

    @property
    def is_numeric(self) -> bool:
        return not (self._name in ("string", "bool", "resource", "variant"))

    @property
    def min(self) -> Any:
        """Smallest representable value; TypeError for bool, string, complex."""
        if self.is_floating:
            return np.finfo(self._np).min
        if self.is_integer:
            return np.iinfo(self._np).min
        raise TypeError("Cannot find minimum value of %s." % self)

    @property
    def max(self) -> Any:
        """Largest representable value; TypeError for bool, string, complex."""
        if self.is_floating:
            return np.finfo(self._np).max
        if self.is_integer:
            return np.iinfo(self._np).max
        raise TypeError("Cannot find maximum value of %s." % self)

    @property
    def limits(self) -> tuple:
        return self.min, self.max

    @property
    def size(self) -> int:
        return np.dtype(self._np).itemsize if self._name != "string" else 8

    def is_compatible_with(self, other: Any) -> bool:
        return self.base_dtype is as_dtype(other).base_dtype

    # --- protocol -----------------------------------------------------------
    def __eq__(self, other: Any) -> bool:
        if other is None:
            return False
        try:
            other = as_dtype(other)
        except TypeError:
            return False
        return self._name == other._name and self._ref == other._ref

    def __ne__(self, other: Any) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash((self._name, self._ref))

    def __repr__(self) -> str:
        return "tf." + self.name

    def __str__(self) -> str:
        return "<dtype: %r>" % self.name

    def __reduce__(self):
        return (as_dtype, (self.name,))


float16 = DType("float16", np.float16, 19)
half = float16
float32 = DType("float32", np.float32, 1)
float64 = DType("float64", np.float64, 2)
double = float64
int8 = DType("int8", np.int8, 6)
int16 = DType("int16", np.int16, 5)
int32 = DType("int32", np.int32, 3)
int64 = DType("int64", np.int64, 9)
uint8 = DType("uint8", np.uint8, 4)
uint16 = DType("uint16", np.uint16, 17)
uint32 = DType("uint32", np.uint32, 22)
uint64 = DType("uint64", np.uint64, 23)
bool = DType("bool", np.bool_, 10)  # noqa: A001  (TF's name)
string = DType("string", np.object_, 7)
complex64 = DType("complex64", np.complex64, 8)
complex128 = DType("complex128", np.complex128, 18)
resource = DType("resource", np.object_, 20)

_ALL = [float16, float32, float64, int8, int16, int32, int64, uint8, uint16, uint32,
        uint64, bool, string, complex64, complex128, resource]
_BY_NAME = {d._name: d for d in _ALL}
_REFS = {d._name: DType(d._name, d._np, d._enum, ref=True) for d in _ALL}
_BY_ENUM = {d._enum: d for d in _ALL}
_BY_ENUM.update({d.as_datatype_enum: d for d in _REFS.values()})
_BY_NP = {np.dtype(d._np): d for d in _ALL if d is not string and d is not resource}
_BY_NP[np.dtype(np.object_)] = string

FLOATS = (float16, float32, float64)
INTEGERS = (int8, int16, int32, int64, uint8, uint16, uint32, uint64)
NUMERIC = FLOATS + INTEGERS
ALL_TYPES = NUMERIC + (bool, string)


def as_dtype(type_value: Any) -> DType:
    """Convert a DType, numpy dtype/type, name string or enum into a DType."""
    if isinstance(type_value, DType):
        return type_value
    if isinstance(type_value, np.dtype):  # fast path (also what the end does)
        found = _BY_NP.get(type_value)
        if found is not None:
            return found
    if isinstance(type_value, str):
        if type_value.endswith("_ref") and type_value[:-4] in _REFS:
            return _REFS[type_value[:-4]]
        if type_value in _BY_NAME:
            return _BY_NAME[type_value]
        if type_value in ("float", "half", "double"):
            return {"float": float32, "half": float16, "double": float64}[type_value]
    if isinstance(type_value, int) and not isinstance(type_value, (np.generic,)) \
            and type_value in _BY_ENUM and type_value is not True and type_value is not False:
        return _BY_ENUM[type_value]
    if type_value in (str, bytes):
        return string
    if type_value is float:
        return float32
    if type_value is int:
        return int32
    if type_value is _pybool:
        return bool
    try:
        npd = np.dtype(type_value)
    except TypeError:
        npd = None
    if npd is not None:
        if npd.kind in ("U", "S", "O"):
            return string
        if npd in _BY_NP:
            return _BY_NP[npd]
    raise TypeError("Cannot convert value %r to a TensorFlow DType." % (type_value,))


def infer_dtype(value: Any) -> DType:
    """TF's dtype inference for a Python/numpy value.

    Python floats give float32, Python ints int32 (int64 when they do not fit),
    bools bool, strings string; numpy arrays keep their dtype.
    """
    if isinstance(value, np.ndarray):
        return as_dtype(value.dtype)
    if isinstance(value, np.generic):
        return as_dtype(value.dtype)
    if isinstance(value, _pybool):
        return bool
    if isinstance(value, int):
        return int32 if -2**31 <= value < 2**31 else int64
    if isinstance(value, float):
        return float32
    if isinstance(value, (str, bytes)):
        return string
    if isinstance(value, (list, tuple)):
        try:
            arr = np.asarray(value)
        except ValueError:
            arr = None
        if arr is not None and arr.dtype != object:
            if arr.dtype.kind == "f":
                return float32 if arr.dtype == np.float64 else as_dtype(arr.dtype)
            if arr.dtype.kind in "iu":
                ok = arr.size == 0 or (arr.min() >= -2**31 and arr.max() < 2**31)
                return int32 if ok else int64
            if arr.dtype.kind in "bUS":
                return bool if arr.dtype.kind == "b" else string
        if arr is not None and arr.dtype == object and all(
                isinstance(v, (str, bytes)) for v in np.ravel(arr)):
            return string
    raise TypeError("Failed to convert object of type %s to Tensor. Contents: %r. "
                    "Consider casting elements to a supported type." % (type(value), value))


__all__ = [d._name for d in _ALL] + ["DType", "as_dtype", "half", "double"]
