"""Combining the gradient contributions an op output receives (spec gradients.md §3).

When several consumers of a tensor send gradients back, ``tf.gradients`` adds
them before the producing op is processed. How it adds dense gradients is the
``aggregation_method``:

* ``ADD_N`` / ``DEFAULT``: one ``AddN`` over all terms, in the top gradients
  scope (``gradients/AddN``, ``gradients/AddN_1``, ...).
* ``EXPERIMENTAL_TREE``: a left-folded chain of two-input ``AddN`` ops in
  ``<scope>/<op name>_gradient_sum/`` (n-1 ops for n terms).
* ``EXPERIMENTAL_ACCUMULATE_N``: built as TF 1.x built it: with more than two
  terms and a fully defined merged static shape, one ``AccumulateNV2`` op
  (``gradients/AccumulateNV2``) whose terms the plan adds one at a time as they
  are produced (lower peak memory, see ``ops/aggregation_ops.py``); otherwise
  the tree chain. TF 2.x (the spec's reference) always uses the tree chain
  here; graphflow keeps the TF 1.x behaviour on purpose.

IndexedSlices terms: all IndexedSlices are concatenated (values and indices,
``concat`` ops, no deduplication); a mix with dense terms is densified and
summed by one ``AddN`` whatever the method.
"""
from __future__ import annotations

from typing import Any, Optional

from graphflow import dtypes
from graphflow.framework.indexed_slices import IndexedSlices
from graphflow.framework.op_def import apply_op
from graphflow.framework.operation import Tensor, convert_to_tensor
from graphflow.framework.tensor_shape import unknown_shape
from graphflow.ops import aggregation_ops  # noqa: F401  (registers AccumulateNV2)


class AggregationMethod:
    """How gradient terms are combined (same values as ``tf.AggregationMethod``).

    ``EXPERIMENTAL_ACCUMULATE_N`` builds one ``AccumulateNV2`` op as TF 1.x did
    (TF 2.x builds the ``EXPERIMENTAL_TREE`` chain instead); see the module doc.
    """

    ADD_N = 0
    DEFAULT = ADD_N
    EXPERIMENTAL_TREE = 1
    EXPERIMENTAL_ACCUMULATE_N = 2


_VALID_METHODS = [AggregationMethod.ADD_N, AggregationMethod.EXPERIMENTAL_TREE,
                  AggregationMethod.EXPERIMENTAL_ACCUMULATE_N]


def check_method(method: Any) -> int:
    """``None`` -> DEFAULT; ValueError (TF's wording) for an unknown method."""
    if method is None:
        return AggregationMethod.DEFAULT
    if method not in _VALID_METHODS or isinstance(method, bool):
        raise ValueError("Invalid `aggregation_method` specified %s. Accepted values are %s."
                         % (method, _VALID_METHODS))
    return method


def accumulator_shape(terms: list) -> Any:
    """The merged static shape of the dense terms (unknown if there are none)."""
    shape = unknown_shape()
    for t in terms:
        if isinstance(t, Tensor):
            shape = shape.merge_with(t.shape)
    return shape


def aggregate(terms: list, op: Any, method: int) -> Any:
    """Combine one output's gradient ``terms`` (None entries ignored) into one gradient.

    ``op`` is the producing op (names the tree-chain scope). Returns None,
    a Tensor or an IndexedSlices. New ops go in the current name scope.
    """
    terms = [t for t in terms if t is not None]
    if not terms:
        return None
    if len(terms) == 1:
        return terms[0]
    if all(isinstance(t, Tensor) for t in terms):
        return _aggregate_dense(terms, op, method)
    return _aggregate_indexed_slices(terms)


def _aggregate_dense(terms: list, op: Any, method: int) -> Tensor:
    if method == AggregationMethod.EXPERIMENTAL_ACCUMULATE_N and len(terms) > 2 \
            and accumulator_shape(terms).is_fully_defined():
        return aggregation_ops.accumulate_n(terms)
    if method in (AggregationMethod.EXPERIMENTAL_TREE,
                  AggregationMethod.EXPERIMENTAL_ACCUMULATE_N):
        with op.graph.name_scope(op.name + "_gradient_sum"):
            total = terms[0]
            for t in terms[1:]:
                total = add_n([total, t])
        return total
    return add_n(terms)


def add_n(terms: list, name: Optional[str] = None) -> Tensor:
    """One ``AddN`` op over ``terms``.

    IndexedSlices terms are densified inside the op's own name scope, as TF
    does when it converts AddN's inputs (``gradients/AddN/inputs_0``).
    """
    if not any(isinstance(t, IndexedSlices) for t in terms):
        return apply_op("AddN", list(terms), name=name or "AddN")
    g = terms[0].graph
    with g.name_scope(name or "AddN") as scope:
        dense = [convert_to_tensor(t, name="inputs_%d" % i) if isinstance(t, IndexedSlices)
                 else t for i, t in enumerate(terms)]
        return apply_op("AddN", dense, name=scope)


def _aggregate_indexed_slices(terms: list) -> Any:
    """Mixed dense/sparse: densify and AddN. All sparse: concatenate (TF's rule)."""
    if any(isinstance(t, Tensor) for t in terms):
        return add_n(terms)
    from graphflow.ops import array_ops, math_ops
    index_dtypes = {t.indices.dtype.base_dtype for t in terms}
    if len(index_dtypes) > 1:
        terms = [IndexedSlices(t.values, math_ops.cast(t.indices, dtypes.int64), t.dense_shape)
                 for t in terms]
    values = array_ops.concat([t.values for t in terms], 0)
    indices = array_ops.concat([t.indices for t in terms], 0)
    return IndexedSlices(values, indices, terms[0].dense_shape)
