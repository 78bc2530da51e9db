"""IndexedSlices: a sparse slice-wise gradient (same as ``tf.IndexedSlices``).

``IndexedSlices(values, indices, dense_shape)`` stands for the dense tensor
``D`` of shape ``dense_shape`` with ``D[indices[i]] += values[i]`` (duplicate
indices add up). Gradients of gathers are IndexedSlices; ``tf.gradients``
concatenates several of them and densifies them only when they must be added
to a dense gradient (spec gradients.md §3). ``Session.run`` returns an
``IndexedSlicesValue``; ``convert_to_tensor`` densifies with an
``UnsortedSegmentSum`` op.
"""
from __future__ import annotations

import collections
import logging
from typing import Any, Optional

from graphflow import dtypes
from graphflow.framework.operation import (Tensor, convert_to_tensor,
                                           register_tensor_conversion_function)

_LOG = logging.getLogger("graphflow")
_LARGE_SPARSE_NUM_ELEMENTS = 100000000  # TF warns when densifying more than this

IndexedSlicesValue = collections.namedtuple("IndexedSlicesValue",
                                            ["values", "indices", "dense_shape"])
IndexedSlicesValue.__doc__ = "The value of an IndexedSlices fetched by Session.run."


class IndexedSlices:
    """A sparse representation of a set of tensor slices at given indices.

    Same as ``tf.IndexedSlices``: ``values`` holds the slices, ``indices``
    (1-D int32/int64) the row each slice belongs to, ``dense_shape`` (optional
    1-D tensor) the shape of the dense tensor represented.
    """

    def __init__(self, values: Any, indices: Any, dense_shape: Any = None) -> None:
        self._values = values
        self._indices = indices
        self._dense_shape = dense_shape

    @property
    def values(self) -> Tensor:
        """The rows: a Tensor of shape ``[len(indices)] + dense_shape[1:]``."""
        return self._values

    @property
    def indices(self) -> Tensor:
        """The 1-D integer Tensor of row indices into the dense tensor."""
        return self._indices

    @property
    def dense_shape(self) -> Optional[Tensor]:
        """The 1-D shape Tensor of the dense tensor, or None."""
        return self._dense_shape

    @property
    def name(self) -> str:
        """The name of ``values``."""
        return self._values.name

    @property
    def device(self) -> str:
        """The device of ``values``."""
        return self._values.device

    @property
    def op(self) -> Any:
        """The Operation that produces ``values``."""
        return self._values.op

    @property
    def dtype(self) -> Any:
        """The dtype of ``values``."""
        return self._values.dtype

    @property
    def graph(self) -> Any:
        """The Graph of ``values``."""
        return self._values.graph

    @property
    def shape(self) -> Any:
        """Static shape of the dense tensor (from ``dense_shape`` when constant)."""
        from graphflow.framework.op_def import constant_value
        from graphflow.framework.tensor_shape import TensorShape, unknown_shape
        if self._dense_shape is None:
            return unknown_shape()
        val = constant_value(self._dense_shape)
        if val is None:
            n = self._dense_shape.shape.num_elements()
            return unknown_shape(rank=n) if n is not None else unknown_shape()
        return TensorShape([int(d) for d in val])

    def get_shape(self) -> Any:
        """The static shape of the dense tensor (same as ``shape``)."""
        return self.shape

    def consumers(self) -> list:
        """The Operations that consume ``values``, ``indices`` or ``dense_shape``."""
        seen = []
        for t in (self._values, self._indices, self._dense_shape):
            if t is not None:
                for c in t.consumers():
                    if c not in seen:
                        seen.append(c)
        return seen

    def __neg__(self) -> "IndexedSlices":
        from graphflow.framework.operation import _OPERATORS
        return IndexedSlices(_OPERATORS["neg"](self._values), self._indices, self._dense_shape)

    def __str__(self) -> str:
        return "IndexedSlices(indices=%s, values=%s%s)" % (
            self._indices, self._values,
            (", dense_shape=%s" % (self._dense_shape,)) if self._dense_shape is not None else "")

    __repr__ = __str__

    # --- Session.run support -------------------------------------------------------
    def _gf_fetch_components(self) -> tuple:
        """(tensors to fetch, builder of the fetched value) for Session.run."""
        parts = [self._values, self._indices]
        if self._dense_shape is not None:
            parts.append(self._dense_shape)

        def build(values: Any, indices: Any, dense_shape: Any = None) -> IndexedSlicesValue:
            return IndexedSlicesValue(values=values, indices=indices, dense_shape=dense_shape)
        return parts, build


def _indexed_slices_to_tensor(value: IndexedSlices, dtype: Any = None, name: Optional[str] = None,
                              as_ref: bool = False) -> Tensor:
    """Densify ``value``: ``unsorted_segment_sum(values, indices, dense_shape[0])``."""
    if dtype is not None and not dtypes.as_dtype(dtype).is_compatible_with(value.dtype):
        raise ValueError("Tensor conversion requested dtype %s for IndexedSlices with dtype %s"
                         % (dtypes.as_dtype(dtype).name, value.dtype.name))
    if value.dense_shape is None:
        raise ValueError("Tensor conversion requested for IndexedSlices without dense_shape: %s"
                         % str(value))
    static = value.shape
    if not static.is_fully_defined():
        _LOG.warning("Converting sparse IndexedSlices to a dense Tensor of unknown shape. "
                     "This may consume a large amount of memory.")
    elif static.num_elements() >= _LARGE_SPARSE_NUM_ELEMENTS:
        _LOG.warning("Converting sparse IndexedSlices(%s) to a dense Tensor with %d elements. "
                     "This may consume a large amount of memory.", value,
                     static.num_elements())
    from graphflow.ops import reduction_ops
    if static.ndims:
        num_segments = static[0] if static[0] is not None else value.dense_shape[0]
    else:
        num_segments = value.dense_shape[0]
    kwargs = {"name": name} if name else {}
    return reduction_ops.unsorted_segment_sum(value.values, value.indices, num_segments,
                                              **kwargs)


register_tensor_conversion_function(IndexedSlices, _indexed_slices_to_tensor)


def convert_to_tensor_or_indexed_slices(value: Any, dtype: Any = None,
                                        name: Optional[str] = None) -> Any:
    """``value`` itself when it is an IndexedSlices, else ``convert_to_tensor(value)``."""
    if isinstance(value, IndexedSlices):
        if dtype is not None and not dtypes.as_dtype(dtype).is_compatible_with(value.dtype):
            raise ValueError("Tensor conversion requested dtype %s for Tensor with dtype %s: %r"
                             % (dtypes.as_dtype(dtype).name, value.dtype.name, value))
        return value
    return convert_to_tensor(value, dtype=dtype, name=name)


__all__ = ["IndexedSlices", "IndexedSlicesValue", "convert_to_tensor_or_indexed_slices"]
