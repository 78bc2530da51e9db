"""State ops: TF1 reference variables and the ops that update them in place.

``VariableV2`` outputs a *reference* (dtype ``float32_ref`` ...): at run time
its value slot holds the session's ``VariableCell``. Ops listing an input in
``ref_inputs`` (``Assign``, ``AssignAdd``, ``ScatterUpdate`` ...) receive the
cell and mutate ``cell.value``; every other consumer receives the cell's
current array (the plan dereferences it when the step runs). Updates write
into the existing buffer whenever the shape is unchanged, so a read taken
earlier in the same run that aliases the buffer sees the update, as in TF1.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Optional

import numpy as np

from graphflow import dtypes
from graphflow.errors import InvalidArgumentError, KernelError
from graphflow.framework.op_def import NOT_DIFFERENTIABLE, REQUIRED, OpDef, apply_op, register_op
from graphflow.framework.operation import Operation
from graphflow.framework.tensor_shape import TensorShape, as_shape

__all__ = ["assign", "assign_add", "assign_sub", "scatter_update", "scatter_add",
           "scatter_sub", "is_variable_initialized"]

_COVERED = "takes a variable reference; covered by tests/test_variables.py"
_INDEX_TYPES = (dtypes.int32, dtypes.int64)


# --- shape messages (TF's shape-function wording) ---------------------------------
def _merge_shapes(op: Operation, a: TensorShape, b: TensorShape) -> TensorShape:
    """``a`` merged with ``b``; ValueError worded like TF's shape functions."""
    if a.ndims is None:
        return b
    if b.ndims is None:
        return a
    if a == b:
        return a
    if a.ndims != b.ndims:
        raise ValueError("Shapes must be equal rank, but are %d and %d %s"
                         % (a.ndims, b.ndims, _where(op)))
    for i, (x, y) in enumerate(zip(a, b)):
        if x is not None and y is not None and x != y:
            raise ValueError("Dimension %d in both shapes must be equal, but are %d and %d. "
                             "Shapes are %s and %s. %s" % (i, x, y, a.to_tf_string(),
                                                           b.to_tf_string(), _where(op)))
    return a.merge_with(b)


def _where(op: Operation) -> str:
    return "for '{{node %s}} = %s(%s)' with input shapes: %s." % (
        op.name, op.type, ", ".join(t.op.name for t in op.inputs),
        ", ".join(t.shape.to_tf_string() for t in op.inputs))


def _fmt(shape: tuple) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


_NO_LOCK = contextlib.nullcontext()


def _locked(cell: Any, use_locking: bool) -> Any:
    """The cell's lock when the op asked for locking, else a no-op context."""
    return cell.lock if use_locking else _NO_LOCK


# --- the variable ---------------------------------------------------------------------
@register_op
class VariableV2(OpDef):
    """A mutable tensor kept by the session (TF1 ``VariableV2``); outputs its ref."""
    failures = "never"
    inputs = ()
    attrs = {"shape": REQUIRED, "dtype": REQUIRED, "container": "", "shared_name": ""}
    stateful = True
    grad = NOT_DIFFERENTIABLE
    contract_exempt = "outputs a reference (no value of its own); " + _COVERED

    @classmethod
    def infer(cls, op: Operation) -> list:
        return [(dtypes.as_dtype(op.get_attr("dtype"))._as_ref, as_shape(op.get_attr("shape")))]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        cell = ctx.cell(op)
        return lambda: cell


def variable_op_v2(shape: Any, dtype: Any, name: str = "Variable", container: str = "",
                   shared_name: str = "") -> Any:
    """Build a ``VariableV2`` op; returns its ref tensor (``state_ops.variable_op_v2``)."""
    return apply_op("VariableV2", name=name, shape=as_shape(shape),
                    dtype=dtypes.as_dtype(dtype).base_dtype, container=container,
                    shared_name=shared_name)


# --- dense updates -------------------------------------------------------------------
@register_op
class Assign(OpDef):
    """``ref = value``; outputs the ref. Same as TF1 ``Assign``."""
    failures = "shapes"
    inputs = ("ref", "value")
    ref_inputs = (0,)
    attrs = {"validate_shape": True, "use_locking": True}
    stateful = True
    mutates = (0,)
    grad = NOT_DIFFERENTIABLE
    contract_exempt = _COVERED

    @classmethod
    def infer(cls, op: Operation) -> list:
        ref, value = op.inputs
        if op.get_attr("validate_shape"):
            shape = _merge_shapes(op, ref.shape, value.shape)
        else:
            shape = value.shape
        return [(ref.dtype, shape)]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        validate = op.get_attr("validate_shape")
        use_locking = op.get_attr("use_locking")
        declared = as_shape(op.inputs[0].op.get_attr("shape")) \
            if op.inputs[0].op.type == "VariableV2" else TensorShape(None)
        declared = tuple(declared.as_list()) if declared.is_fully_defined() else None
        np_dt = op.inputs[0].dtype.base_dtype.np

        def run(cell: Any, value: np.ndarray) -> Any:
            with _locked(cell, use_locking):
                old = cell.value
                lhs = old.shape if old is not None else declared
                if validate and lhs is not None and lhs != value.shape:
                    raise KernelError(InvalidArgumentError,
                                      "Assign requires shapes of both tensors to match. lhs "
                                      "shape= %s rhs shape= %s" % (_fmt(lhs), _fmt(value.shape)))
                if old is not None and old.shape == value.shape:
                    old[...] = value
                else:
                    cell.value = np.array(value, dtype=np_dt, copy=True)
            return cell
        return run


class _DenseUpdate(OpDef):
    """Shared declaration of AssignAdd / AssignSub (``ref op= value`` in place)."""
    failures = "shapes"
    inputs = ("ref", "value")
    ref_inputs = (0,)
    attrs = {"use_locking": False}
    allowed = dtypes.NUMERIC
    stateful = True
    mutates = (0,)
    grad = NOT_DIFFERENTIABLE
    contract_exempt = _COVERED
    ufunc: Any = None

    @classmethod
    def infer(cls, op: Operation) -> list:
        ref, value = op.inputs
        return [(ref.dtype, _merge_shapes(op, ref.shape, value.shape))]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        use_locking = op.get_attr("use_locking")
        ufunc = cls.ufunc

        def run(cell: Any, value: np.ndarray) -> Any:
            with _locked(cell, use_locking):
                old = cell.read()
                if old.shape != value.shape:
                    raise KernelError(InvalidArgumentError,
                                      "Parameters and update must be the same size")
                ufunc(old, value, out=old)
            return cell
        return run


@register_op
class AssignAdd(_DenseUpdate):
    """``ref += value``; outputs the ref. Same as TF1 ``AssignAdd``."""
    ufunc = np.add


@register_op
class AssignSub(_DenseUpdate):
    """``ref -= value``; outputs the ref. Same as TF1 ``AssignSub``."""
    ufunc = np.subtract


def _assign_shape_check(ref: Any, value: Any, validate_shape: Optional[bool]) -> None:
    """A Variable's build-time shape check (the message the spec quotes)."""
    if validate_shape is False or not hasattr(ref, "_ref"):
        return
    vshape = getattr(value, "shape", None)
    if not isinstance(vshape, TensorShape):
        try:
            vshape = TensorShape(np.shape(value))
        except (TypeError, ValueError):
            return
    if not ref.shape.is_compatible_with(vshape):
        raise ValueError("Cannot assign value to variable ' %s': Shape mismatch.The variable "
                         "shape %s, and the assigned value shape %s are incompatible."
                         % (ref.name, ref.shape, vshape))


def assign(ref: Any, value: Any, validate_shape: Optional[bool] = None,
           use_locking: Optional[bool] = None, name: Optional[str] = None) -> Any:
    """Store ``value`` in the variable ``ref``; returns the ref (``tf.assign``).

    ``validate_shape=False`` lets the variable take a new shape.
    """
    _assign_shape_check(ref, value, validate_shape)
    attrs = {}
    if validate_shape is not None:
        attrs["validate_shape"] = bool(validate_shape)
    if use_locking is not None:
        attrs["use_locking"] = bool(use_locking)
    return apply_op("Assign", ref, value, name=name or "Assign", **attrs)


def assign_add(ref: Any, value: Any, use_locking: Optional[bool] = None,
               name: Optional[str] = None) -> Any:
    """``ref += value``; returns the ref holding the new value (``tf.assign_add``)."""
    attrs = {} if use_locking is None else {"use_locking": bool(use_locking)}
    return apply_op("AssignAdd", ref, value, name=name or "AssignAdd", **attrs)


def assign_sub(ref: Any, value: Any, use_locking: Optional[bool] = None,
               name: Optional[str] = None) -> Any:
    """``ref -= value``; returns the ref holding the new value (``tf.assign_sub``)."""
    attrs = {} if use_locking is None else {"use_locking": bool(use_locking)}
    return apply_op("AssignSub", ref, value, name=name or "AssignSub", **attrs)


# --- sparse updates ------------------------------------------------------------------
class _ScatterUpdate(OpDef):
    """Shared declaration of Scatter{Update,Add,Sub}: rows ``indices`` of ``ref``."""
    inputs = ("ref", "indices", "updates")
    ref_inputs = (0,)
    same_dtype = ("ref", "updates")
    input_dtypes = {"indices": dtypes.int32}
    attrs = {"use_locking": True}
    stateful = True
    mutates = (0,)
    grad = NOT_DIFFERENTIABLE
    contract_exempt = _COVERED

    @classmethod
    def infer(cls, op: Operation) -> list:
        ref, indices, updates = op.inputs
        if indices.dtype.base_dtype not in _INDEX_TYPES:
            raise TypeError("Value passed to parameter 'indices' has DataType %s not in list "
                            "of allowed values: int32, int64" % indices.dtype.base_dtype.name)
        if updates.shape.ndims != 0:
            _merge_shapes(op, updates.shape, indices.shape.concatenate(ref.shape[1:]))
        return [(ref.dtype, ref.shape)]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        use_locking = op.get_attr("use_locking")
        apply = cls.apply

        def run(cell: Any, indices: np.ndarray, updates: np.ndarray) -> Any:
            with _locked(cell, use_locking):
                params = cell.read()
                _check_scatter(params, indices, updates)
                if indices.size:
                    apply(params, indices.reshape(-1),
                          updates if updates.ndim == 0 else
                          updates.reshape((indices.size,) + params.shape[1:]))
            return cell

        def check(cell: Any, indices: np.ndarray, updates: np.ndarray) -> None:
            """What ``run`` validates, writing nothing (runtime/journal.py prechecks)."""
            _check_scatter(cell.read(), indices, updates)
        run.check = check
        return run

    @staticmethod
    def apply(params: np.ndarray, idx: np.ndarray, upd: np.ndarray) -> None:
        raise NotImplementedError


def _check_scatter(params: np.ndarray, indices: np.ndarray, updates: np.ndarray) -> None:
    if params.ndim < 1:
        raise KernelError(InvalidArgumentError, "params must be at least 1-D, got shape %s"
                          % _fmt(params.shape))
    if updates.ndim != 0 and updates.shape != indices.shape + params.shape[1:]:
        raise KernelError(InvalidArgumentError,
                          "Must have updates.shape = indices.shape + params.shape[1:] or "
                          "updates.shape = [], got updates.shape %s, indices.shape %s, "
                          "params.shape %s" % (_fmt(updates.shape), _fmt(indices.shape),
                                               _fmt(params.shape)))
    n = params.shape[0]
    flat = indices.reshape(-1)
    bad = np.nonzero((flat < 0) | (flat >= n))[0]
    if bad.size:
        i = int(bad[0])
        raise KernelError(InvalidArgumentError, "indices[%d] = %d is not in [0, %d)"
                          % (i, int(flat[i]), n))


@register_op
class ScatterUpdate(_ScatterUpdate):
    """``ref[indices] = updates``; outputs the ref. Same as TF1 ``ScatterUpdate``."""

    @staticmethod
    def apply(params: np.ndarray, idx: np.ndarray, upd: np.ndarray) -> None:
        params[idx] = upd


@register_op
class ScatterAdd(_ScatterUpdate):
    """``ref[indices] += updates`` (duplicates add up). Same as TF1 ``ScatterAdd``."""
    allowed = dtypes.NUMERIC
    attrs = {"use_locking": False}

    @staticmethod
    def apply(params: np.ndarray, idx: np.ndarray, upd: np.ndarray) -> None:
        np.add.at(params, idx, upd)


@register_op
class ScatterSub(_ScatterUpdate):
    """``ref[indices] -= updates`` (duplicates add up). Same as TF1 ``ScatterSub``."""
    allowed = dtypes.NUMERIC
    attrs = {"use_locking": False}

    @staticmethod
    def apply(params: np.ndarray, idx: np.ndarray, upd: np.ndarray) -> None:
        np.subtract.at(params, idx, upd)


def _scatter(op_type: str, ref: Any, indices: Any, updates: Any, use_locking: Optional[bool],
             name: Optional[str]) -> Any:
    attrs = {} if use_locking is None else {"use_locking": bool(use_locking)}
    return apply_op(op_type, ref, indices, updates, name=name or op_type, **attrs)


def scatter_update(ref: Any, indices: Any, updates: Any, use_locking: bool = True,
                   name: Optional[str] = None) -> Any:
    """``ref[indices] = updates`` row-wise; returns the ref (``tf.scatter_update``)."""
    return _scatter("ScatterUpdate", ref, indices, updates, use_locking, name)


def scatter_add(ref: Any, indices: Any, updates: Any, use_locking: bool = False,
                name: Optional[str] = None) -> Any:
    """``ref[indices] += updates`` row-wise; returns the ref (``tf.scatter_add``)."""
    return _scatter("ScatterAdd", ref, indices, updates, use_locking, name)


def scatter_sub(ref: Any, indices: Any, updates: Any, use_locking: bool = False,
                name: Optional[str] = None) -> Any:
    """``ref[indices] -= updates`` row-wise; returns the ref (``tf.scatter_sub``)."""
    return _scatter("ScatterSub", ref, indices, updates, use_locking, name)


# --- initialization state -----------------------------------------------------------
@register_op
class IsVariableInitialized(OpDef):
    """Scalar bool: has the variable been assigned? Same as TF1 ``IsVariableInitialized``."""
    failures = "never"
    inputs = ("ref",)
    ref_inputs = (0,)
    stateful = True
    grad = NOT_DIFFERENTIABLE
    contract_exempt = _COVERED

    @classmethod
    def infer(cls, op: Operation) -> list:
        return [(dtypes.bool, TensorShape(()))]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        return lambda cell: np.array(cell.value is not None)


def is_variable_initialized(ref: Any, name: Optional[str] = None) -> Any:
    """Bool tensor: whether ``ref`` has been initialized (``tf.is_variable_initialized``)."""
    return apply_op("IsVariableInitialized", ref, name=name or "IsVariableInitialized")


@register_op
class ReportUninitializedVariables(OpDef):
    """Names (bytes) of the variables whose flag is False, in order.

    Helper of ``tf.report_uninitialized_variables``: TF builds it from
    ``stack``, ``logical_not`` and ``boolean_mask``; graphflow uses one op.
    """
    inputs = ("*is_initialized",)
    attrs = {"names": REQUIRED}
    allowed = (dtypes.bool,)
    grad = NOT_DIFFERENTIABLE
    contract_exempt = ("output length depends on the flags' values; covered by "
                       "tests/test_variables.py")

    @classmethod
    def infer(cls, op: Operation) -> list:
        return [(dtypes.string, TensorShape([None]))]

    @staticmethod
    def reference(flags: list, names: Any = ()) -> np.ndarray:
        out = [n.encode() if isinstance(n, str) else n
               for n, ok in zip(names, flags) if not bool(ok)]
        arr = np.empty(len(out), dtype=object)
        arr[:] = out
        return arr


def report_uninitialized(refs: list, names: list) -> Any:
    """1-D string tensor of ``names[i]`` for each uninitialized ``refs[i]``."""
    flags = [is_variable_initialized(r) for r in refs]
    return apply_op("ReportUninitializedVariables", flags, names=tuple(names),
                    name="ReportUninitializedVariables")


@register_op
class InitializedValue(OpDef):
    """The variable's value if initialized, else ``initial_value`` (a copy either way).

    Helper of ``Variable.initialized_value()``, which TF builds with ``tf.cond``.
    """
    inputs = ("ref", "initial_value")
    ref_inputs = (0,)
    stateful = True
    grad = NOT_DIFFERENTIABLE
    contract_exempt = _COVERED

    @classmethod
    def infer(cls, op: Operation) -> list:
        ref, init = op.inputs
        return [(ref.dtype.base_dtype, init.shape)]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        def run(cell: Any, init: np.ndarray) -> np.ndarray:
            v = cell.value
            return np.array(init if v is None else v, copy=True)
        return run
