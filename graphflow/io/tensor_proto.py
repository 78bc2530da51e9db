"""NumPy arrays, shapes and attr values <-> TensorProto / TensorShapeProto / AttrValue.

Tensors are written the way ``tf.make_tensor_proto`` writes them (formats.md
§a): a numeric tensor of more than one element as raw little-endian
``tensor_content`` (float16/32/64, int8/16/32/64, uint8/32/64); strings in
``string_val``; bools, complex, uint16 and single elements in their typed
field (``float_val: 1``, ``half_val: 15872`` for float16 1.5). Reading
accepts every form, padding a short typed field with its last value.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from graphflow import dtypes
from graphflow.framework.tensor_shape import TensorShape, as_shape
from graphflow.io import proto

__all__ = ["make_tensor_proto", "make_ndarray", "shape_to_proto", "shape_from_proto",
           "attr_value", "attr_from_proto", "dtype_from_enum"]

_CONTENT = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
            "uint32", "uint64"}
_FIELD = {"float32": "float_val", "float64": "double_val", "int32": "int_val",
          "int16": "int_val", "int8": "int_val", "uint8": "int_val", "uint16": "int_val",
          "int64": "int64_val", "uint32": "uint32_val", "uint64": "uint64_val",
          "bool": "bool_val", "float16": "half_val", "complex64": "scomplex_val",
          "complex128": "dcomplex_val", "string": "string_val"}


def dtype_from_enum(enum: int) -> dtypes.DType:
    """graphflow DType for a DataType enum value; ValueError if graphflow lacks it."""
    try:
        return dtypes.as_dtype(int(enum))
    except TypeError:
        name = proto.DATA_TYPE.values_by_number.get(int(enum))
        raise ValueError("Unsupported DataType %s in GraphDef"
                         % (name.name if name is not None else int(enum))) from None


# --- shapes -----------------------------------------------------------------------------
def shape_to_proto(shape: Any) -> Any:
    """TensorShapeProto of a TensorShape (unknown rank -> ``unknown_rank: true``)."""
    shape = as_shape(shape)
    p = proto.TensorShapeProto()
    if shape.ndims is None:
        p.unknown_rank = True
    else:
        for d in shape.as_list():
            p.dim.add(size=-1 if d is None else int(d))
    return p


def shape_from_proto(p: Any) -> TensorShape:
    if p.unknown_rank:
        return TensorShape(None)
    return TensorShape([None if d.size < 0 else int(d.size) for d in p.dim])


# --- tensors ------------------------------------------------------------------------------
def _to_bytes(v: Any) -> bytes:
    if isinstance(v, bytes):
        return v
    if isinstance(v, str):
        return v.encode("utf-8")
    if isinstance(v, np.bytes_):
        return bytes(v)
    raise TypeError("string tensor element %r is not str or bytes" % (v,))


def make_tensor_proto(values: Any, dtype: Any = None) -> Any:
    """A TensorProto holding ``values`` (``tf.make_tensor_proto`` conventions)."""
    dt = dtypes.as_dtype(dtype).base_dtype if dtype is not None else None
    if dt is None:
        dt = dtypes.as_dtype(np.asarray(values).dtype) if isinstance(values, np.ndarray) \
            else dtypes.infer_dtype(values)
    arr = np.asarray(values, dtype=object if dt == dtypes.string else dt.np)
    tp = proto.TensorProto(dtype=dt.as_datatype_enum)
    tp.tensor_shape.SetInParent()
    for d in arr.shape:
        tp.tensor_shape.dim.add(size=int(d))
    name = dt.name
    flat = arr.reshape(-1)
    if name == "string":
        tp.string_val.extend(_to_bytes(v) for v in flat)
    elif flat.size > 1 and name in _CONTENT:
        tp.tensor_content = np.ascontiguousarray(flat, dtype=arr.dtype.newbyteorder("<")) \
            .tobytes()
    elif flat.size:
        field = _FIELD.get(name)
        if field is None:
            raise TypeError("Cannot write a %s tensor to a TensorProto" % name)
        if name == "float16":
            vals = flat.view(np.uint16).tolist()
        elif name.startswith("complex"):
            vals = np.stack([flat.real, flat.imag], axis=-1).reshape(-1).tolist()
        else:
            vals = flat.tolist()
        getattr(tp, field).extend(vals)
    return tp


def make_ndarray(tp: Any) -> np.ndarray:
    """The NumPy array a TensorProto holds (``tf.make_ndarray``); ValueError if malformed."""
    dt = dtype_from_enum(tp.dtype)
    if tp.tensor_shape.unknown_rank or any(d.size < 0 for d in tp.tensor_shape.dim):
        raise ValueError("TensorProto has a shape that is not fully defined: %s"
                         % shape_from_proto(tp.tensor_shape))
    shape = tuple(int(d.size) for d in tp.tensor_shape.dim)
    n = int(np.prod(shape, dtype=np.int64))
    name = dt.name
    if tp.tensor_content and name != "string":
        content = tp.tensor_content
        le = dt.np.newbyteorder("<")
        if len(content) != n * le.itemsize:
            raise ValueError("TensorProto tensor_content holds %d bytes, but a %s tensor of "
                             "shape %s needs %d" % (len(content), name, list(shape),
                                                    n * le.itemsize))
        return np.frombuffer(content, dtype=le).astype(dt.np).reshape(shape)
    field = _FIELD.get(name)
    if field is None:
        raise ValueError("Cannot read a %s TensorProto" % name)
    raw = list(getattr(tp, field))
    if name == "string":
        vals = np.empty(len(raw), dtype=object)
        vals[:] = raw
        fill: Any = b""
    elif name == "float16":
        vals = np.array(raw, dtype=np.uint16).view(np.float16)
        fill = 0
    elif name.startswith("complex"):
        if len(raw) % 2:
            raise ValueError("TensorProto %s holds an odd number of values" % field)
        parts = np.array(raw, dtype=dt.real_dtype.np).reshape(-1, 2)
        vals = (parts[:, 0] + 1j * parts[:, 1]).astype(dt.np)
        fill = 0
    else:
        vals = np.array(raw, dtype=dt.np if name != "uint16" else np.int64).astype(dt.np)
        fill = 0
    if len(vals) > n:
        raise ValueError("TensorProto holds %d values but its shape %s has %d elements"
                         % (len(vals), list(shape), n))
    out = np.empty(n, dtype=dt.np)
    if len(vals):
        out[:len(vals)] = vals
        out[len(vals):] = vals[-1]
    else:
        out[:] = fill
    return out.reshape(shape)


# --- attr values ----------------------------------------------------------------------------
def _scalar_kind(v: Any) -> Optional[str]:
    if isinstance(v, (bool, np.bool_)):
        return "b"
    if isinstance(v, (int, np.integer)):
        return "i"
    if isinstance(v, (float, np.floating)):
        return "f"
    if isinstance(v, (str, bytes)):
        return "s"
    if isinstance(v, dtypes.DType):
        return "type"
    if isinstance(v, TensorShape):
        return "shape"
    if isinstance(v, np.ndarray):
        return "tensor"
    return None


def attr_value(value: Any, name: str = "") -> Optional[Any]:
    """AttrValue for a graphflow attr value, or None when it has no proto form
    (a graphflow-internal value such as a callable)."""
    av = proto.AttrValue()
    if value is None:
        if name.endswith("shape"):  # an unknown shape (Placeholder, PlaceholderWithDefault)
            av.shape.CopyFrom(shape_to_proto(TensorShape(None)))
            return av
        return None
    kind = _scalar_kind(value)
    if kind is not None:
        _set_scalar(av, kind, value)
        return av
    if isinstance(value, (list, tuple)):
        kinds = {_scalar_kind(v) for v in value}
        if None in kinds or len(kinds) > 1:
            if kinds <= {"i", "f"}:  # mixed numbers -> floats
                kinds = {"f"}
            else:
                return None
        av.list.SetInParent()
        if value:
            kind = kinds.pop()
            field = getattr(av.list, kind)
            if kind in ("shape", "tensor"):
                for v in value:
                    field.add().CopyFrom(shape_to_proto(v) if kind == "shape"
                                         else make_tensor_proto(v))
            else:
                field.extend(_plain(kind, v) for v in value)
        return av
    return None


def _plain(kind: str, v: Any) -> Any:
    if kind == "b":
        return bool(v)
    if kind == "i":
        return int(v)
    if kind == "f":
        return float(v)
    if kind == "s":
        return v.encode("utf-8") if isinstance(v, str) else bytes(v)
    if kind == "type":
        return v.base_dtype.as_datatype_enum
    raise TypeError(kind)


def _set_scalar(av: Any, kind: str, v: Any) -> None:
    if kind == "shape":
        av.shape.CopyFrom(shape_to_proto(v))
    elif kind == "tensor":
        av.tensor.CopyFrom(make_tensor_proto(v))
    else:
        setattr(av, kind, _plain(kind, v))


def _str(b: bytes) -> Any:
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return b


def attr_from_proto(av: Any) -> Any:
    """The graphflow value of an AttrValue (DType, TensorShape, ndarray, str, list...)."""
    which = av.WhichOneof("value")
    if which is None:
        return None
    if which == "list":
        lv = av.list
        for field in ("s", "i", "f", "b", "type", "shape", "tensor", "func"):
            items = getattr(lv, field)
            if len(items):
                return [_from_field(field, v) for v in items]
        return []
    if which in ("func", "placeholder"):
        raise ValueError("AttrValue %s (functions) is not supported" % which)
    return _from_field(which, getattr(av, which))


def _from_field(field: str, v: Any) -> Any:
    if field == "s":
        return _str(v)
    if field == "i":
        return int(v)
    if field == "f":
        return float(v)
    if field == "b":
        return bool(v)
    if field == "type":
        return dtype_from_enum(v)
    if field == "shape":
        return shape_from_proto(v)
    if field == "tensor":
        return make_ndarray(v)
    raise ValueError("AttrValue list of %s is not supported" % field)
