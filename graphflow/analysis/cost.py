"""Static cost estimates of one op: FLOPs and bytes touched, from static shapes.

Each op family has one rule (the table ``FAMILIES`` below lists them); they
are estimates for comparing graphs, not measurements:

- elementwise (any OpDef with ``elementwise = True``), BiasAdd, Select and
  the random generators: one FLOP per output element;
- MatMul: ``2*m*n*k``; BatchMatMulV2: ``batch * 2*m*n*k``;
- reductions (Sum, Mean, Max, ArgMax, L2Loss, BiasAddGrad, ...): one FLOP per
  *input* element;
- AddN / AccumulateNV2: ``(inputs - 1)`` FLOPs per output element;
- Softmax/LogSoftmax: 4 per element; softmax cross-entropy: 6 per logit;
- in-place updates: Assign 0, AssignAdd/Sub and Scatter* one per updated
  element, Apply*/SparseApply* a per-optimizer constant per gradient element;
- data movement (Identity, Reshape, Transpose, Concat, Gather, Pad, ...):
  0 FLOPs;
- any other op type: one FLOP per output element, and the type is listed as
  having no rule.

Bytes are the bytes an op reads plus the bytes it writes (its inputs' and
outputs' static sizes), except for ops that move nothing at run time:
Const, Placeholder, VariableV2, NoOp and the ops that forward or view their
input (Identity, StopGradient, Reshape, ExpandDims, Squeeze); shape queries
(Shape, Size, Rank) only write their small output. A dimension that is not
known statically counts as 1 and the op is flagged (``OpCost.unknown``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["OpCost", "op_cost", "FAMILIES"]

_NO_RUNTIME_WORK = {"Const", "Placeholder", "PlaceholderV2", "PlaceholderWithDefault",
                    "VariableV2", "NoOp"}
_SHAPE_QUERIES = {"Shape", "ShapeN", "Size", "Rank", "BroadcastGradientArgs"}
_REDUCTIONS = {"Sum", "Mean", "Prod", "Max", "Min", "All", "Any", "ArgMax", "ArgMin",
               "L2Loss", "BiasAddGrad", "UnsortedSegmentSum", "EuclideanNorm"}
_PER_OUTPUT = {"BiasAdd", "Select", "SelectV2", "RandomUniform", "RandomStandardNormal",
               "TruncatedNormal", "RandomUniformInt", "OneHot", "Range", "Fill",
               "ZerosLike", "OnesLike"}
_DATA_MOVEMENT = {"Identity", "StopGradient", "Reshape", "ExpandDims", "Squeeze",
                  "Transpose", "ConcatV2", "Concat", "Pack", "Unpack", "Split", "SplitV",
                  "Slice", "StridedSlice", "StridedSliceGrad", "GatherV2", "Gather", "Tile",
                  "Pad", "PadV2", "MirrorPad", "MirrorPadGrad", "BroadcastTo",
                  "InvertPermutation", "Unique", "Where", "RandomShuffle", "SaveV2",
                  "RestoreV2", "IsVariableInitialized", "InitializedValue",
                  "ReportUninitializedVariables"}
_SOFTMAX = {"Softmax": 4, "LogSoftmax": 4, "SoftmaxCrossEntropyWithLogits": 6,
            "SparseSoftmaxCrossEntropyWithLogits": 6}
_PER_UPDATED_ELEMENT = {"AssignAdd", "AssignSub", "ScatterAdd", "ScatterSub",
                        "ScatterUpdate", "ScatterMul", "ScatterDiv", "ScatterMax",
                        "ScatterMin"}
# FLOPs per gradient element of the fused optimizer updates (rough operation counts).
_APPLY_FLOPS = {"GradientDescent": 2, "Momentum": 4, "Adagrad": 5, "Adam": 12,
                "RMSProp": 8, "CenteredRMSProp": 11, "Adadelta": 12, "Ftrl": 16,
                "FtrlV2": 18, "ProximalGradientDescent": 8, "ProximalAdagrad": 10,
                "AdagradDA": 10, "AddSign": 8, "PowerSign": 8}

FAMILIES = (
    ("elementwise", "1 FLOP per output element"),
    ("matmul", "2*m*n*k (times the batch size for BatchMatMulV2)"),
    ("reduction", "1 FLOP per input element"),
    ("add_n", "(number of inputs - 1) FLOPs per output element"),
    ("softmax", "4 per element (cross-entropy: 6 per logit)"),
    ("update", "Assign 0; AssignAdd/Sub, Scatter*: 1 per updated element; "
               "Apply*: a per-optimizer constant per gradient element"),
    ("data movement", "0 FLOPs"),
    ("no runtime work", "0 FLOPs, 0 bytes (Const, Placeholder, VariableV2, NoOp, "
                        "forwarding and view ops)"),
    ("no rule", "1 FLOP per output element (type listed in the report)"),
)


@dataclass(frozen=True)
class OpCost:
    """Estimated cost of one op: ``flops``, ``bytes`` (read + written), the
    rule ``family`` used and ``unknown`` (a static dimension was unknown)."""

    flops: int
    bytes: int
    family: str
    unknown: bool


def _elements(t: Any) -> tuple:
    """(element count with unknown dims as 1, whether a dim or the rank was unknown)."""
    dims = t.shape.as_tuple()
    if dims is None:
        return 1, True
    n, unknown = 1, False
    for d in dims:
        if d is None:
            unknown = True
        else:
            n *= d
    return n, unknown


def _dims(t: Any, rank: int) -> tuple:
    """The last ``rank`` dims of ``t`` with unknown ones as 1, and whether any was unknown."""
    dims = t.shape.as_tuple()
    if dims is None:
        return (1,) * rank, True
    dims = tuple(dims[-rank:]) if rank else ()
    dims = (1,) * (rank - len(dims)) + dims
    return tuple(1 if d is None else d for d in dims), any(d is None for d in dims)


def _nbytes(t: Any) -> tuple:
    n, unknown = _elements(t)
    return n * t.dtype.base_dtype.size, unknown


def _matmul_flops(op: Any) -> tuple:
    a, b = op.inputs[0], op.inputs[1]
    if op.type == "MatMul":
        (a0, a1), ua = _dims(a, 2)
        (b0, b1), ub = _dims(b, 2)
        m, k = (a1, a0) if op.get_attr("transpose_a") else (a0, a1)
        n = b0 if op.get_attr("transpose_b") else b1
        return 2 * m * n * k, ua or ub
    (a0, a1), ua = _dims(a, 2)
    (b0, b1), ub = _dims(b, 2)
    m, k = (a1, a0) if op.get_attr("adj_x") else (a0, a1)
    n = b0 if op.get_attr("adj_y") else b1
    out, uo = _elements(op.outputs[0])
    batch = max(1, out // max(1, m * n))
    return 2 * batch * m * n * k, ua or ub or uo


def _apply_flops(op: Any) -> tuple:
    name = op.type[len("SparseApply"):] if op.type.startswith("SparseApply") \
        else op.type[len("Apply"):]
    per = _APPLY_FLOPS.get(name, 4)
    grad_name = getattr(op.op_def, "grad_input", "grad")
    names = list(op.op_def.inputs)
    g = op.inputs[names.index(grad_name)] if grad_name in names else op.inputs[0]
    n, unknown = _elements(g)
    return per * n, unknown


def _flops(op: Any) -> tuple:
    """(flops, family, unknown-dims flag) by the family rules."""
    t = op.type
    opdef = op.op_def
    outs = op.outputs
    out_n, out_u = _elements(outs[0]) if outs else (0, False)
    if t in _NO_RUNTIME_WORK or getattr(opdef, "forwards", None) is not None \
            or getattr(opdef, "view_of", None) is not None:
        return 0, "no runtime work", False
    if t in ("MatMul", "BatchMatMul", "BatchMatMulV2"):
        f, u = _matmul_flops(op)
        return f, "matmul", u
    if t in _REDUCTIONS:
        n, u = _elements(op.inputs[0])
        return n, "reduction", u
    if t in ("AddN", "AccumulateNV2"):
        return max(0, len(op.inputs) - 1) * out_n, "add_n", out_u
    if t in _SOFTMAX:
        n, u = _elements(op.inputs[0])
        return _SOFTMAX[t] * n, "softmax", u
    if t.startswith(("Apply", "SparseApply", "ResourceApply")):
        f, u = _apply_flops(op)
        return f, "update", u
    if t in _PER_UPDATED_ELEMENT or t == "Assign":
        n, u = _elements(op.inputs[-1])
        return (0 if t == "Assign" else n), "update", u
    if t in _DATA_MOVEMENT or t in _SHAPE_QUERIES:
        return 0, "data movement", False
    if getattr(opdef, "elementwise", False) or t in _PER_OUTPUT:
        return out_n, "elementwise", out_u
    return out_n, "no rule", out_u


def op_cost(op: Any) -> OpCost:
    """The estimated :class:`OpCost` of ``op`` (see the module docstring)."""
    flops, family, unknown = _flops(op)
    if family == "no runtime work":
        return OpCost(0, 0, family, False)
    nbytes = 0
    if op.type not in _SHAPE_QUERIES:
        for t in op.inputs:
            b, u = _nbytes(t)
            nbytes += b
            unknown = unknown or u
    for t in op.outputs:
        b, u = _nbytes(t)
        nbytes += b
        unknown = unknown or u
    return OpCost(int(flops), int(nbytes), family, unknown)
