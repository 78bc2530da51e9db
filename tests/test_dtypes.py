"""DType against tf.DType / tf.as_dtype (spec: Python float -> float32, int -> int32)."""
import pickle

import numpy as np
import pytest

import graphflow as tf
from graphflow import dtypes

# TF's DataType enum values (types.proto)
_ENUMS = {"float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6,
          "string": 7, "complex64": 8, "int64": 9, "bool": 10, "uint16": 17,
          "complex128": 18, "float16": 19, "resource": 20, "uint32": 22, "uint64": 23}


@pytest.mark.parametrize("name,enum", sorted(_ENUMS.items()))
def test_names_and_enums(name, enum):
    dt = getattr(tf, name)
    assert dt.name == name and dt.as_datatype_enum == enum
    assert tf.as_dtype(enum) is dt and tf.as_dtype(name) is dt
    ref = dt._as_ref
    assert ref.name == name + "_ref" and ref.as_datatype_enum == enum + 100
    assert ref.is_ref_dtype and not dt.is_ref_dtype and ref.base_dtype is dt
    assert tf.as_dtype(name + "_ref") is ref and tf.as_dtype(enum + 100) is ref


def test_aliases_and_numpy_mapping():
    assert tf.half is tf.float16 and tf.double is tf.float64
    assert tf.as_dtype("float") is tf.float32 and tf.as_dtype("double") is tf.float64
    for np_t, dt in [(np.float32, tf.float32), (np.float64, tf.float64), (np.int32, tf.int32),
                     (np.int64, tf.int64), (np.uint8, tf.uint8), (np.bool_, tf.bool),
                     (np.complex64, tf.complex64), (np.float16, tf.float16)]:
        assert tf.as_dtype(np_t) is dt and tf.as_dtype(np.dtype(np_t)) is dt
        assert dt.as_numpy_dtype is np_t
    assert tf.as_dtype(np.object_) is tf.string and tf.as_dtype(bytes) is tf.string
    assert tf.as_dtype(float) is tf.float32 and tf.as_dtype(bool) is tf.bool
    with pytest.raises(TypeError, match="Cannot convert value"):
        tf.as_dtype("nope")
    with pytest.raises(TypeError):
        tf.as_dtype(object())


def test_repr_str_equality_hash():
    assert repr(tf.float32) == "tf.float32" and str(tf.float32) == "<dtype: 'float32'>"
    assert tf.float32 == np.float32 and tf.float32 == "float32" and tf.float32 != tf.float64
    assert tf.float32 != tf.float32._as_ref and not (tf.float32 == None)  # noqa: E711
    assert tf.float32 != "not a type"
    assert len({tf.float32, tf.as_dtype("float32"), tf.float64}) == 2
    assert pickle.loads(pickle.dumps(tf.float32)) is tf.float32
    assert pickle.loads(pickle.dumps(tf.int32._as_ref)) is tf.int32._as_ref


def test_categories():
    assert tf.float32.is_floating and not tf.int32.is_floating
    assert tf.int8.is_integer and tf.uint64.is_integer and not tf.bool.is_integer
    assert tf.uint8.is_unsigned and not tf.int8.is_unsigned and not tf.bool.is_unsigned
    assert not tf.float32.is_unsigned
    assert tf.bool.is_bool and tf.complex64.is_complex and not tf.float32.is_complex
    assert tf.float32.is_numeric and not tf.string.is_numeric and not tf.bool.is_numeric
    assert not tf.float32.is_quantized
    assert tf.complex64.real_dtype is tf.float32 and tf.complex128.real_dtype is tf.float64
    assert tf.float32.real_dtype is tf.float32 and tf.float32._as_ref.real_dtype is tf.float32


def test_limits_and_size():
    assert tf.int8.min == -128 and tf.int8.max == 127 and tf.uint8.min == 0
    assert tf.float32.max == np.finfo(np.float32).max
    assert tf.int32.limits == (np.iinfo(np.int32).min, np.iinfo(np.int32).max)
    for dt in (tf.bool, tf.string, tf.complex64):
        with pytest.raises(TypeError):
            dt.min
        with pytest.raises(TypeError):
            dt.max
    assert tf.float64.size == 8 and tf.int16.size == 2 and tf.bool.size == 1


def test_is_compatible_with():
    assert tf.float32.is_compatible_with(tf.float32)
    assert tf.float32.is_compatible_with(tf.float32._as_ref)
    assert not tf.float32.is_compatible_with(tf.float64)


@pytest.mark.parametrize("value,want", [
    (1.0, "float32"), (1, "int32"), (2 ** 40, "int64"), (True, "bool"), ("s", "string"),
    (b"s", "string"), ([1.0, 2.0], "float32"), ([1, 2], "int32"), ([1, 2 ** 40], "int64"),
    ([[True]], "bool"), (["a", "b"], "string"), (np.float64(1.0), "float64"),
    (np.zeros(2, np.float64), "float64"), (np.zeros(2, np.int64), "int64"),
    (np.zeros(2, np.uint8), "uint8"),
])
def test_infer_dtype(value, want):
    assert dtypes.infer_dtype(value).name == want


def test_infer_dtype_rejects_objects():
    with pytest.raises(TypeError, match="Failed to convert object"):
        dtypes.infer_dtype(object())


def test_constant_dtypes_follow_inference():
    assert tf.constant(1.0).dtype == tf.float32
    assert tf.constant(1).dtype == tf.int32
    assert tf.constant([1.5, 2]).dtype == tf.float32
    assert tf.constant(np.float64(1.0)).dtype == tf.float64
