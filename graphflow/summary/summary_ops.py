"""Summary ops (``tf.summary.scalar``/``histogram``/``text``/``merge``/``merge_all``).

Each op outputs a serialized ``Summary`` protocol buffer as a scalar string
tensor, like TF's ``ScalarSummary``, ``HistogramSummary``, ``TensorSummaryV2``
and ``MergeSummary`` (same op types, inputs and attrs, so the GraphDef
imports into TF). A summary's tag is its scoped, unique op name with
characters outside ``[-/\\w.]`` replaced by ``_``; with ``family`` it is
``family/<scope>`` (formats.md §b). New summaries join the ``SUMMARIES``
collection (or ``collections``).
"""
from __future__ import annotations

import contextlib
import logging
import math
import re
from typing import Any, Iterator, Optional

import numpy as np

from graphflow import dtypes
from graphflow.errors import InvalidArgumentError, KernelError
from graphflow.framework import graph as graph_mod
from graphflow.framework.graph import GraphKeys
from graphflow.framework.op_def import NOT_DIFFERENTIABLE, OpDef, apply_op, register_op
from graphflow.framework.operation import Operation, convert_to_tensor
from graphflow.framework.tensor_shape import TensorShape
from graphflow.io import proto
from graphflow.io.tensor_proto import make_tensor_proto
from graphflow.summary.histogram import histogram_proto

__all__ = ["scalar", "histogram", "text", "tensor_summary", "merge", "merge_all"]

_LOG = logging.getLogger("graphflow")
_INVALID_TAG_CHARACTERS = re.compile(r"[^-/\w.]")
_REAL = (dtypes.float16, dtypes.float32, dtypes.float64, dtypes.int8, dtypes.int16,
         dtypes.int32, dtypes.int64, dtypes.uint8, dtypes.uint16, dtypes.uint32,
         dtypes.uint64)
_EXEMPT = "serializes Summary protos; covered by tests/summary/test_summary_ops.py"


def _text(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def _string_scalar(data: bytes) -> np.ndarray:
    out = np.empty((), dtype=object)
    out[()] = data
    return out


def _content_proto(arr: np.ndarray) -> Any:
    """TensorProto as TF's summary kernel writes it: strings in ``string_val``,
    everything else as raw ``tensor_content``."""
    if arr.dtype == object:
        return make_tensor_proto(arr, dtypes.string)
    dt = dtypes.as_dtype(arr.dtype)
    tp = proto.TensorProto(dtype=dt.as_datatype_enum)
    tp.tensor_shape.SetInParent()
    for d in arr.shape:
        tp.tensor_shape.dim.add(size=int(d))
    tp.tensor_content = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
    return tp


class _SummaryOp(OpDef):
    """Common parts: one scalar string output, no gradient, no contract examples."""

    grad = NOT_DIFFERENTIABLE
    contract_exempt = _EXEMPT

    @classmethod
    def infer(cls, op: Operation) -> list:
        return [(dtypes.string, TensorShape([]))]


@register_op
class ScalarSummary(_SummaryOp):
    """A Summary with one ``simple_value`` per element of ``values`` tagged by ``tags``."""

    inputs = ("tags", "values")
    same_dtype = ("values",)
    allowed = _REAL

    @staticmethod
    def reference(tags: np.ndarray, values: np.ndarray) -> np.ndarray:
        tags, values = np.asarray(tags, dtype=object), np.asarray(values)
        if tags.shape != values.shape:
            raise KernelError(InvalidArgumentError, "tags and values are not the same shape: "
                              "%s != %s" % (list(tags.shape), list(values.shape)))
        s = proto.Summary()
        for tag, v in zip(tags.reshape(-1), values.reshape(-1)):
            s.value.add(tag=_text(tag), simple_value=float(v))
        return _string_scalar(s.SerializeToString())


@register_op
class HistogramSummary(_SummaryOp):
    """A Summary with the ``histo`` of all elements of ``values`` (TF's default buckets)."""

    inputs = ("tag", "values")
    same_dtype = ("values",)
    allowed = _REAL

    @staticmethod
    def reference(tag: np.ndarray, values: np.ndarray) -> np.ndarray:
        tag = _text(np.asarray(tag, dtype=object).reshape(-1)[0])
        v = np.asarray(values, dtype=np.float64).reshape(-1)
        if v.size and not np.all(np.isfinite(v)):
            bad = v[~np.isfinite(v)][0]
            raise KernelError(InvalidArgumentError, "%s in summary histogram for: %s"
                              % ("Nan" if math.isnan(bad) else "Infinity", tag))
        s = proto.Summary()
        s.value.add(tag=tag).histo.CopyFrom(histogram_proto(v))
        return _string_scalar(s.SerializeToString())


@register_op
class TensorSummaryV2(_SummaryOp):
    """A Summary holding ``tensor`` as a TensorProto plus plugin metadata."""

    inputs = ("tag", "tensor", "serialized_summary_metadata")
    same_dtype = ("tensor",)

    @staticmethod
    def reference(tag: np.ndarray, tensor: np.ndarray, metadata: np.ndarray) -> np.ndarray:
        s = proto.Summary()
        v = s.value.add(tag=_text(np.asarray(tag, dtype=object).reshape(-1)[0]))
        meta = np.asarray(metadata, dtype=object).reshape(-1)[0]
        v.metadata.ParseFromString(meta if isinstance(meta, bytes) else str(meta).encode())
        v.tensor.CopyFrom(_content_proto(np.asarray(tensor)))
        return _string_scalar(s.SerializeToString())


@register_op
class MergeSummary(_SummaryOp):
    """The union of the values of serialized Summary protos (duplicate tags fail)."""

    inputs = ("*inputs",)

    @staticmethod
    def reference(inputs: list) -> np.ndarray:
        out = proto.Summary()
        seen: set = set()
        for arr in inputs:
            for data in np.asarray(arr, dtype=object).reshape(-1):
                s = proto.Summary()
                try:
                    s.ParseFromString(data if isinstance(data, bytes) else str(data).encode())
                except proto.DecodeError:
                    raise KernelError(InvalidArgumentError,
                                      "Could not parse one of the summary inputs") from None
                for v in s.value:
                    if v.tag and v.tag in seen:
                        raise KernelError(InvalidArgumentError, "Duplicate tag %s found in "
                                          "summary inputs" % v.tag)
                    seen.add(v.tag)
                    out.value.add().CopyFrom(v)
        return _string_scalar(out.SerializeToString())


# --- builders -------------------------------------------------------------------------------------
def clean_tag(name: Optional[str]) -> Optional[str]:
    """Replace characters TensorBoard does not allow in tags by ``_`` (and strip a leading /)."""
    if name is None:
        return None
    new = _INVALID_TAG_CHARACTERS.sub("_", name).lstrip("/")
    if new != name:
        _LOG.info("Summary name %s is illegal; using %s instead.", name, new)
    return new


@contextlib.contextmanager
def summary_scope(name: str, family: Optional[str] = None, default_name: Optional[str] = None,
                  values: Any = None) -> Iterator[tuple]:
    """Yields ``(tag, scope)`` for a summary op named ``name`` (TF1's summary_scope)."""
    name = clean_tag(name)
    family = clean_tag(family)
    base = name if family is None else "%s/%s" % (family, name)
    with graph_mod.name_scope(base, default_name, values) as scope:
        tag = scope.rstrip("/") if family is None else "%s/%s" % (family, scope.rstrip("/"))
        yield tag, scope


def _collect(val: Any, collections: Optional[list], default: list) -> None:
    g = val.graph
    for key in (default if collections is None else collections):
        g.add_to_collection(key, val)


def scalar(name: str, tensor: Any, collections: Optional[list] = None,
           family: Optional[str] = None) -> Any:
    """A scalar summary of the single value of ``tensor`` (``tf.summary.scalar``)."""
    with summary_scope(name, family, values=[tensor]) as (tag, scope):
        val = apply_op("ScalarSummary", tag, tensor, name=scope)
    _collect(val, collections, [GraphKeys.SUMMARIES])
    return val


def histogram(name: str, values: Any, collections: Optional[list] = None,
              family: Optional[str] = None) -> Any:
    """A histogram summary of ``values`` (``tf.summary.histogram``)."""
    with summary_scope(name, family, values=[values]) as (tag, scope):
        val = apply_op("HistogramSummary", tag, values, name=scope)
    _collect(val, collections, [GraphKeys.SUMMARIES])
    return val


def tensor_summary(name: str, tensor: Any, summary_description: Any = None,
                   collections: Optional[list] = None, summary_metadata: Any = None,
                   family: Optional[str] = None, display_name: Optional[str] = None) -> Any:
    """A summary holding the whole ``tensor`` (``tf.summary.tensor_summary``)."""
    meta = proto.SummaryMetadata()
    if summary_metadata is not None:
        meta.ParseFromString(summary_metadata if isinstance(summary_metadata, bytes)
                             else summary_metadata.SerializeToString())
    if display_name is not None:
        meta.display_name = display_name
    if summary_description is not None:
        meta.summary_description = summary_description
    with summary_scope(name, family, values=[tensor]) as (tag, scope):
        val = apply_op("TensorSummaryV2", tag, tensor, meta.SerializeToString(), name=scope)
    _collect(val, collections, [GraphKeys.SUMMARIES])
    return val


def text(name: str, tensor: Any, collections: Optional[list] = None) -> Any:
    """A text summary of a string tensor for TensorBoard's text plugin (``tf.summary.text``)."""
    tensor = convert_to_tensor(tensor)
    if tensor.dtype != dtypes.string:
        raise ValueError("Expected tensor %s to have dtype string, got %s"
                         % (tensor.name, tensor.dtype))
    meta = proto.SummaryMetadata()
    meta.plugin_data.plugin_name = "text"
    return tensor_summary(name, tensor, summary_metadata=meta, collections=collections)


def merge(inputs: list, collections: Optional[list] = None, name: Optional[str] = None) -> Any:
    """One Summary with the values of all ``inputs`` (``tf.summary.merge``)."""
    with graph_mod.name_scope(name, "Merge", inputs):
        val = apply_op("MergeSummary", list(inputs), name=name)
    if collections is not None:
        _collect(val, collections, [])
    return val


def merge_all(key: str = GraphKeys.SUMMARIES, scope: Optional[str] = None,
              name: Optional[str] = None) -> Any:
    """Merge the summaries in collection ``key`` (``tf.summary.merge_all``).

    Returns None when the collection is empty.
    """
    ops = graph_mod.get_default_graph().get_collection(key, scope=scope)
    if not ops:
        return None
    return merge(ops, name=name)
