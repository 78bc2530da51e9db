"""Helpers shared by the array op modules (``array_ops``, ``slicing_ops``,
``join_ops``): TF's shape-error text, scoped op building, build-time integer
arguments and partially known shape vectors.
"""
from __future__ import annotations

import os
from typing import Any, Optional

import numpy as np

from graphflow import dtypes
from graphflow.errors import KernelError, ResourceExhaustedError
from graphflow.framework import graph as graph_mod
from graphflow.framework.op_def import apply_op, constant_value, get_op_def
from graphflow.framework.operation import Operation, Tensor, convert_to_tensor

INDEX_DTYPES = (dtypes.int32, dtypes.int64)
_DT_NAMES = {"float32": "FLOAT", "float64": "DOUBLE", "float16": "HALF"}


def dt_enum_name(dt: Any) -> str:
    """TF's ``DT_*`` spelling of a dtype (``DT_FLOAT`` for float32)."""
    n = dtypes.as_dtype(dt).base_dtype.name
    return "DT_" + _DT_NAMES.get(n, n.upper())


def _summary(v: np.ndarray) -> str:
    """TF's short tensor summary: ``0 2`` for a vector, ``[1 1][0 0]`` for a matrix."""
    v = np.asarray(v)
    if v.size > 10:
        return " ".join(str(x) for x in v.reshape(-1)[:10]) + "..."
    if v.ndim <= 1:
        return " ".join(str(x) for x in v.reshape(-1))
    return "".join("[%s]" % _summary(row) for row in v)


def shape_error(op: Operation, msg: str, computed: bool = True) -> ValueError:
    """ValueError worded like TF's shape-function failures, naming the node.

    The OpDef may declare ``type_attr`` (TF's name of the ``T`` attr, e.g.
    ``Tidx``), ``index_attrs`` (attr name -> input index, e.g. ``{"Tshape": 1}``),
    ``tensor_inputs`` (inputs TF's shape function reads as values) and
    ``partial_inputs`` (inputs it reads as partial shapes); they only shape
    the message, like TF's ``... and with computed input tensors: input[1] = <4>.``
    ``computed=False`` leaves that suffix out (TF failed before reading them).
    """
    opdef = op.op_def
    ins = ", ".join(t.op.name if t.value_index == 0 else t.name for t in op.inputs)
    attrs = {}
    for k, v in op._attrs.items():
        if k.startswith("_"):
            continue
        if k == "T":
            k = getattr(opdef, "type_attr", "T")
        if isinstance(v, dtypes.DType):
            attrs[k] = dt_enum_name(v)
        elif isinstance(v, bool):
            attrs[k] = str(v).lower()
        elif isinstance(v, (int, str)):
            attrs[k] = str(v)
        elif isinstance(v, (list, tuple)) and all(isinstance(x, int) for x in v):
            attrs[k] = "[%s]" % ", ".join(str(x) for x in v)
    n = len(op.inputs)
    for k, i in getattr(opdef, "index_attrs", {}).items():
        if -n <= i < n:
            attrs[k] = dt_enum_name(op.inputs[i].dtype)
    lists = [m for m in getattr(op, "_input_structure", ()) if m is not None]
    if lists:
        attrs["N"] = str(lists[0])
    shapes = ", ".join(t.shape.to_tf_string() if t.shape.ndims is not None else "?"
                       for t in op.inputs)
    text = "%s for '{{node %s}} = %s[%s](%s)' with input shapes: %s" % (
        msg, op.name, op.type, ", ".join("%s=%s" % kv for kv in sorted(attrs.items())), ins,
        shapes)
    values = []
    for i in getattr(opdef, "tensor_inputs", ()) if computed else ():
        v = constant_value(op.inputs[i % n]) if n else None
        if v is not None:
            values.append("input[%d] = <%s>" % (i % n, _summary(v)))
    if values:
        text += " and with computed input tensors: " + ", ".join(values)
    partial = []
    for i in getattr(opdef, "partial_inputs", ()) if computed else ():
        v = partial_vector(op.inputs[i]) if i < n else None
        if v is not None:
            partial.append("input[%d] = [%s]" % (i, ",".join(
                "?" if d is None or d < 0 else str(d) for d in v)))
    if partial:
        text += " and with input tensors computed as partial shapes: " + ", ".join(partial)
    return ValueError(text + ".")


def rank_error(op: Operation, want: int, got: int, at_least: bool = False) -> ValueError:
    return shape_error(op, "Shape must be %srank %d but is rank %d" % (
        "at least " if at_least else "", want, got))


def check_index_dtype(op: Operation, index: int, name: str) -> None:
    """TypeError unless input ``index`` is int32/int64 (TF's ``Tindex`` rule)."""
    dt = op._inputs[index]._dtype._base
    if dt is not INDEX_DTYPES[0] and dt not in INDEX_DTYPES:
        raise TypeError("Value passed to parameter '%s' has DataType %s not in list of allowed "
                        "values: int32, int64" % (name, dt.name))


def require_rank(op: Operation, index: int, rank: int) -> None:
    nd = op.inputs[index].shape.ndims
    if nd is not None and nd != rank:
        raise rank_error(op, rank, nd)


def const_ints(t: Tensor) -> Optional[np.ndarray]:
    """Build-time value of an integer tensor as int64, or None."""
    v = constant_value(t)
    return None if v is None else np.asarray(v, dtype=np.int64)


def partial_vector(t: Tensor) -> Optional[list]:
    """Elements of a 1-D integer tensor known at build time (None = unknown).

    Understands constants, ``Pack`` of scalars, ``ConcatV2`` of vectors,
    ``Shape`` of a partially known tensor and ``Cast``; returns None when
    even the length is unknown.
    """
    v = const_ints(t)
    if v is not None:
        return [int(x) for x in v.reshape(-1)]
    op = t.op
    if op.type == "Pack" and op.get_attr("axis") == 0:
        out = []
        for x in op.inputs:
            c = const_ints(x)
            out.append(int(c) if c is not None and c.ndim == 0 else None)
        return out
    if op.type == "ConcatV2":
        out = []
        for x in op.inputs[:-1]:
            p = partial_vector(x)
            if p is None:
                break
            out += p
        else:
            return out
    if op.type == "Shape" and op.inputs[0].shape.ndims is not None:
        return list(op.inputs[0].shape.as_list())
    if op.type == "Cast":
        return partial_vector(op.inputs[0])
    if t.shape.ndims == 1 and t.shape[0] is not None:
        return [None] * t.shape[0]
    return None


def graph_values(*values: Any) -> list:
    """The graph elements among (lists of) ``values``, for name_scope."""
    out = []
    for v in values:
        for x in (v if isinstance(v, (list, tuple)) else [v]):
            if isinstance(x, (Tensor, Operation)) or hasattr(x, "_as_graph_element"):
                out.append(x)
    return out


def build(op_type: str, name: Optional[str], default: str, *inputs: Any, **attrs: Any) -> Any:
    """``apply_op`` inside name scope ``name or default`` (TF's generated-op wrapper).

    Python values for non-``T`` inputs become constants named after the input
    (``Reshape/shape``, ``concat/axis``); the op takes the scope's name.
    """
    opdef = get_op_def(op_type)
    group = opdef.same_dtype if opdef.same_dtype is not None else opdef.inputs
    n_in = len(opdef.inputs)
    index_inputs = {i % n_in for i in getattr(opdef, "index_attrs", {}).values()} if n_in else ()
    with graph_mod.name_scope(name, default, graph_values(*inputs) or None) as scope:
        conv = []
        for i, (n, v) in enumerate(zip(opdef.inputs, inputs)):
            if n.startswith("*") and isinstance(v, (list, tuple)) and not graph_values(v):
                # a list of Python values: constants named like TF's (``concat/values_0``)
                conv.append([convert_to_tensor(x, name="%s_%d" % (n[1:], i))
                             for i, x in enumerate(v)])
                continue
            if (n in group or n.startswith("*") or v is None
                    or not isinstance(v, (list, tuple)) and graph_values(v)):
                conv.append(v)
            elif i in index_inputs:
                conv.append(_index_tensor(v, opdef.input_dtypes.get(n), n))
            else:
                conv.append(convert_to_tensor(v, dtype=opdef.input_dtypes.get(n), name=n))
        return apply_op(op_type, *conv, name=scope, **attrs)


def _index_tensor(v: Any, want: Any, name: str) -> Tensor:
    """An index input (shape, multiples, paddings): int32 preferred, int64 when the
    values do not fit (TF's ``preferred_dtype`` for ``Tidx``-like attrs)."""
    try:
        return convert_to_tensor(v, dtype=want, name=name)
    except (TypeError, ValueError):
        if want is None:
            raise
        try:
            t = convert_to_tensor(v, name=name)
        except (TypeError, ValueError):
            t = None
        if t is None:
            raise
        return t  # the op's dtype check names the parameter if it is not an integer


def normalize_axis(axis: int, rank: int) -> int:
    return axis + rank if axis < 0 else axis


# --- allocation guard -------------------------------------------------------------------
def _physical_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # not a POSIX system: 1 TiB
        return 1 << 40


_PHYSICAL_MEMORY = _physical_memory()


def max_alloc_bytes() -> int:
    """The largest tensor a kernel may allocate: ``GRAPHFLOW_MAX_ALLOC_BYTES`` if
    set, else the machine's physical memory."""
    env = os.environ.get("GRAPHFLOW_MAX_ALLOC_BYTES")
    if env:
        try:
            return int(env)
        except ValueError:
            pass
    return _PHYSICAL_MEMORY


def alloc_message(dims: Any, dtype: Any) -> Optional[str]:
    """TF's OOM text when a ``dims`` tensor of ``dtype`` exceeds :func:`max_alloc_bytes`."""
    dims = [int(d) for d in dims]
    n = 1
    for d in dims:
        n *= max(d, 0)  # Python ints: no overflow for 2**40 x 2**40
    dt = np.dtype(dtype)
    nbytes = n * (dt.itemsize if dt.kind != "O" else 8)
    limit = max_alloc_bytes()
    if nbytes <= limit:
        return None
    return ("OOM when allocating tensor with shape[%s] and type %s on "
            "/job:localhost/replica:0/task:0/device:CPU:0 by allocator cpu: %d bytes requested, "
            "limit %d bytes" % (",".join(str(d) for d in dims), _tf_type(dt), nbytes, limit))


def _tf_type(dt: np.dtype) -> str:
    name = dtypes.as_dtype(dt).name if dt.kind != "O" else "string"
    return {"float32": "float", "float64": "double", "float16": "half"}.get(name, name)


def check_alloc(dims: Any, dtype: Any) -> None:
    """Raise ``KernelError(ResourceExhaustedError)`` before a kernel allocates a
    tensor larger than :func:`max_alloc_bytes` (instead of the process being OOM-killed)."""
    msg = alloc_message(dims, dtype)
    if msg is not None:
        raise KernelError(ResourceExhaustedError, msg)
