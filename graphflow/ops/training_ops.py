"""Training ops: the fused optimizer updates ``Apply*`` and ``SparseApply*`` (TF1 names).

Each op updates a variable and its slot variables in place, in one Numba pass
(``kernels/training_kernels.py``), and outputs the variable's reference. The
variable and slot inputs are references (``ref_inputs``); the hyperparameters
are scalars of the variable's dtype. The ``SparseApply*`` ops apply the dense
formula to the rows listed in ``indices`` only, one index after the other (the
optimizers sum duplicate indices first). Formulas: spec optimizers.md §4.

Kernel checks, before the update writes anything: an uninitialized variable or
slot is a FailedPreconditionError; shapes that do not match, non-scalar
hyperparameters and out-of-range indices (all of them, before the first row is
written) are InvalidArgumentErrors worded as in TF. The kernel callable's
``check(*args)`` makes the same checks and writes nothing: the sequential
executor runs it for the sparse updates of a run before the first update
writes (runtime/journal.py).
float16 variables are updated through float32 copies.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from graphflow import dtypes
from graphflow.errors import InvalidArgumentError, KernelError
from graphflow.framework.op_def import NOT_DIFFERENTIABLE, OpDef, apply_op, register_op
from graphflow.framework.operation import Operation
from graphflow.framework.tensor_shape import TensorShape
from graphflow.kernels import training_kernels as K
from graphflow.ops.state_ops import _merge_shapes

__all__: list = []

_EXEMPT = ("updates variable references in place; checked against NumPy and the spec's "
           "numbers in tests/train/test_training_ops.py and tests/train/test_optimizers.py")
_INDEX_TYPES = (dtypes.int32, dtypes.int64)
_NUMBA_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _fmt(shape: tuple) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def _kerr(msg: str) -> KernelError:
    return KernelError(InvalidArgumentError, msg)


def _where(op: Operation) -> str:
    return "for '{{node %s}} = %s(%s)' with input shapes: %s." % (
        op.name, op.type, ", ".join(t.op.name for t in op.inputs),
        ", ".join(t.shape.to_tf_string() for t in op.inputs))


def _require_rank(op: Operation, shape: TensorShape, rank: int) -> None:
    if shape.ndims is not None and shape.ndims != rank:
        raise ValueError("Shape must be rank %d but is rank %d %s"
                         % (rank, shape.ndims, _where(op)))


class _Apply(OpDef):
    """Shared declaration of the fused update ops.

    Subclasses set ``inputs`` (TF order), ``ref_inputs`` (variable first, then
    its slots), ``grad_input`` and ``call`` -- a static method taking the flat
    (dense) or (rows, inner) (sparse) arrays in ``ref_inputs`` order, the
    gradient, the indices (sparse only), the scalar hyperparameters in input
    order and the op's attrs.
    """
    failures = "shapes"
    attrs = {"use_locking": False}
    allowed = dtypes.FLOATS
    stateful = True
    grad = NOT_DIFFERENTIABLE
    contract_exempt = _EXEMPT
    grad_input = "grad"
    sparse = False

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if cls.inputs:
            cls.mutates = cls.ref_inputs
            cls.same_dtype = tuple(n for n in cls.inputs if n != "indices")
            cls.input_dtypes = {"indices": dtypes.int32}

    @classmethod
    def _positions(cls) -> tuple:
        names = cls.inputs
        gi = names.index(cls.grad_input)
        ii = names.index("indices") if cls.sparse else -1
        scalars = tuple(i for i in range(len(names))
                        if i not in cls.ref_inputs and i != gi and i != ii)
        return gi, ii, scalars

    @classmethod
    def infer(cls, op: Operation) -> list:
        gi, ii, scalars = cls._positions()
        ins = op.inputs
        var = ins[0]
        shape = var.shape
        for i in cls.ref_inputs[1:]:
            shape = _merge_shapes(op, shape, ins[i].shape)
        for i in scalars:
            _require_rank(op, ins[i].shape, 0)
        grad = ins[gi].shape
        if not cls.sparse:
            shape = _merge_shapes(op, shape, grad)
        else:
            idx = ins[ii]
            if idx.dtype.base_dtype not in _INDEX_TYPES:
                raise TypeError("Value passed to parameter 'indices' has DataType %s not in "
                                "list of allowed values: int32, int64"
                                % idx.dtype.base_dtype.name)
            _require_rank(op, idx.shape, 1)
            if shape.ndims == 0:
                raise ValueError("Shape must be at least rank 1 but is rank 0 %s" % _where(op))
            if grad.ndims is not None and shape.ndims is not None:
                rows = TensorShape([idx.shape[0] if idx.shape.ndims == 1 else None])
                _merge_shapes(op, grad, rows.concatenate(shape[1:]))
        return [(var.dtype, shape)]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        gi, ii, scalar_pos = cls._positions()
        refs = cls.ref_inputs
        names = cls.inputs
        np_dt = op.inputs[0].dtype.base_dtype.np
        native = np_dt in _NUMBA_DTYPES
        work_dt = np_dt if native else np.dtype(np.float32)
        attrs = {k: op.get_attr(k) for k in cls.attrs}
        call = cls.call
        sparse = cls.sparse

        def validate(args: tuple, arrays: list) -> tuple:
            var = arrays[0]
            for i, a in zip(refs[1:], arrays[1:]):
                if a.shape != var.shape:
                    raise _kerr("var and %s do not have the same shape%s %s"
                                % (names[i], _fmt(var.shape), _fmt(a.shape)))
            scalars = [_scalar(names[i], args[i], work_dt) for i in scalar_pos]
            grad = args[gi]
            if sparse:
                return scalars, _check_sparse(var, grad, args[ii])
            if grad.shape != var.shape:
                raise _kerr("var and %s do not have the same shape%s %s"
                            % (names[gi], _fmt(var.shape), _fmt(grad.shape)))
            return scalars, None

        def check(*args: Any) -> None:
            """Every check ``update`` makes, writing nothing (runtime/journal.py)."""
            validate(args, [args[i].read() for i in refs])

        def update(args: tuple) -> Any:
            cells = [args[i] for i in refs]
            arrays = [_writable(c) for c in cells]
            var = arrays[0]
            scalars, idx = validate(args, arrays)
            grad = args[gi]
            if sparse:
                rows = var.shape[0]
                inner = var.size // rows if rows else 0
                views = [a.reshape(rows, inner) for a in arrays]
                g = np.ascontiguousarray(grad, dtype=work_dt).reshape(idx.shape[0], inner)
                extra = (idx, scalars, attrs)
            else:
                views = [a.reshape(-1) for a in arrays]
                g = np.ascontiguousarray(grad, dtype=work_dt).reshape(-1)
                extra = (scalars, attrs)
            if native:
                call(views, g, *extra)
            else:  # float16: compute on float32 copies, store back rounded
                work = [v.astype(np.float32) for v in views]
                call(work, g, *extra)
                for v, w in zip(views, work):
                    v[...] = w
            return cells[0]

        if not attrs.get("use_locking"):
            def run(*args: Any) -> Any:
                return update(args)
            run.check = check
            return run

        def run_locked(*args: Any) -> Any:
            with args[0].lock:
                return update(args)
        run_locked.check = check
        return run_locked


def _writable(cell: Any) -> np.ndarray:
    """The cell's array, made C-contiguous and writable (FailedPrecondition if unset)."""
    a = cell.read()
    if not (a.flags.c_contiguous and a.flags.writeable):
        a = cell.value = np.array(a, order="C", copy=True)
    return a


def _updatable(a: Any, dt: np.dtype) -> bool:
    """``a`` is a C-contiguous writable ndarray of dtype ``dt`` (None: uninitialized)."""
    if a.__class__ is not np.ndarray or a.dtype != dt:
        return False
    f = a.flags
    return f.c_contiguous and f.writeable


def _scalar(name: str, a: np.ndarray, dt: np.dtype) -> Any:
    """A hyperparameter as a NumPy scalar of the computation dtype (TF allows shape [1])."""
    if a.ndim == 0 and a.dtype == dt:
        return a[()]
    if a.size != 1 or a.ndim > 1:
        raise _kerr("%s is not a scalar: %s" % (name, _fmt(a.shape)))
    return dt.type(a.reshape(-1)[0])


def _check_sparse(var: np.ndarray, grad: np.ndarray, indices: np.ndarray) -> np.ndarray:
    if var.ndim < 1:
        raise _kerr("var must be at least 1 dimensional")
    if indices.ndim != 1:
        raise _kerr("indices must be one-dimensional")
    if grad.ndim != var.ndim:
        raise _kerr("var and grad must have the same rank, got %s and %s"
                    % (_fmt(var.shape), _fmt(grad.shape)))
    for d in range(1, var.ndim):
        if var.shape[d] != grad.shape[d]:
            raise _kerr("var and grad must match in dimension %d" % d)
    if grad.shape[0] != indices.shape[0]:
        raise _kerr("grad must be the same size as indices in the first dimension.")
    idx = np.ascontiguousarray(indices)
    bad = K.first_out_of_range(idx, var.shape[0]) if idx.size else -1
    if bad >= 0:
        raise _kerr("Index %d at offset %d in indices is out of range" % (int(idx[bad]), bad))
    return idx


# --- dense updates ----------------------------------------------------------------------
@register_op
class ApplyGradientDescent(_Apply):
    """``var -= alpha * delta``. Same as TF1 ``ApplyGradientDescent``."""
    inputs = ("var", "alpha", "delta")
    ref_inputs = (0,)
    grad_input = "delta"

    @staticmethod
    def call(a: list, g: np.ndarray, s: list, attrs: dict) -> None:
        K.apply_gradient_descent(a[0], g, s[0])


@register_op
class ApplyMomentum(_Apply):
    """Momentum (optionally Nesterov) update. Same as TF1 ``ApplyMomentum``."""
    inputs = ("var", "accum", "lr", "grad", "momentum")
    ref_inputs = (0, 1)
    attrs = {"use_locking": False, "use_nesterov": False}

    @staticmethod
    def call(a: list, g: np.ndarray, s: list, attrs: dict) -> None:
        K.apply_momentum(a[0], a[1], g, s[0], s[1], bool(attrs["use_nesterov"]))


@register_op
class ApplyAdagrad(_Apply):
    """Adagrad update (no epsilon). Same as TF1 ``ApplyAdagrad``."""
    inputs = ("var", "accum", "lr", "grad")
    ref_inputs = (0, 1)
    attrs = {"use_locking": False, "update_slots": True}

    @staticmethod
    def call(a: list, g: np.ndarray, s: list, attrs: dict) -> None:
        K.apply_adagrad(a[0], a[1], g, s[0], bool(attrs["update_slots"]))


@register_op
class ApplyAdadelta(_Apply):
    """Adadelta update. Same as TF1 ``ApplyAdadelta``."""
    inputs = ("var", "accum", "accum_update", "lr", "rho", "epsilon", "grad")
    ref_inputs = (0, 1, 2)

    @staticmethod
    def call(a: list, g: np.ndarray, s: list, attrs: dict) -> None:
        lr, rho, eps = s
        K.apply_adadelta(a[0], a[1], a[2], g, lr, rho, rho.dtype.type(1) - rho, eps)


@register_op
class ApplyAdam(_Apply):
    """Adam update with bias-corrected step size. Same as TF1 ``ApplyAdam``."""
    inputs = ("var", "m", "v", "beta1_power", "beta2_power", "lr", "beta1", "beta2",
              "epsilon", "grad")
    ref_inputs = (0, 1, 2)
    attrs = {"use_locking": False, "use_nesterov": False}

    @staticmethod
    def call(a: list, g: np.ndarray, s: list, attrs: dict) -> None:
        b1p, b2p, lr, b1, b2, eps = s
        one = lr.dtype.type(1)
        alpha = lr * np.sqrt(one - b2p) / (one - b1p)
        K.apply_adam(a[0], a[1], a[2], g, alpha, b1, one - b1, one - b2, eps,
                     bool(attrs["use_nesterov"]))

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        """The checked update behind a fast path (~1.5 us of Python per call, not 5):
        C-contiguous writable arrays of the variable's float32/float64 dtype and 0-d
        hyperparameters of that dtype go straight to ``apply_adam_nd``, which checks
        the shapes and computes the step size; anything else takes the checked path."""
        checked = super().kernel(op, ctx)
        dt = op.inputs[0].dtype.base_dtype.np
        if dt not in _NUMBA_DTYPES:
            return checked
        st, nd, nesterov = dt.type, np.ndarray, bool(op.get_attr("use_nesterov"))

        def fast(var_c: Any, m_c: Any, v_c: Any, b1p: Any, b2p: Any, lr: Any, b1: Any,
                 b2: Any, eps: Any, grad: Any) -> bool:
            var, m, v = var_c.value, m_c.value, v_c.value
            try:
                h = (b1p[()], b2p[()], lr[()], b1[()], b2[()], eps[()])
            except (TypeError, IndexError):
                return False
            return (grad.__class__ is nd and grad.dtype == dt and grad.flags.c_contiguous
                    and _updatable(var, dt) and _updatable(m, dt) and _updatable(v, dt)
                    and h[0].__class__ is st and h[1].__class__ is st and h[2].__class__ is st
                    and h[3].__class__ is st and h[4].__class__ is st and h[5].__class__ is st
                    and K.apply_adam_nd(var, m, v, grad, *h, nesterov))

        if op.get_attr("use_locking"):
            def run(*args: Any) -> Any:
                with args[0].lock:
                    done = fast(*args)
                return args[0] if done else checked(*args)  # checked takes the lock itself
        else:
            def run(*args: Any) -> Any:
                return args[0] if fast(*args) else checked(*args)
        run.check = checked.check
        return run


def _ftrl_args(s: list, shrinkage: bool) -> tuple:
    if shrinkage:
        lr, l1, l2, l2s, power = s
    else:
        (lr, l1, l2, power), l2s = s, s[0].dtype.type(0)
    two = lr.dtype.type(2)
    return lr, l1, two * l2, two * l2s, power, bool(shrinkage), bool(power == -0.5)


@register_op
class ApplyFtrl(_Apply):
    """FTRL-proximal update. Same as TF1 ``ApplyFtrl``."""
    inputs = ("var", "accum", "linear", "grad", "lr", "l1", "l2", "lr_power")
    ref_inputs = (0, 1, 2)

    @staticmethod
    def call(a: list, g: np.ndarray, s: list, attrs: dict) -> None:
        K.apply_ftrl(a[0], a[1], a[2], g, *_ftrl_args(s, False))


@register_op
class ApplyFtrlV2(_Apply):
    """FTRL-proximal update with L2 shrinkage. Same as TF1 ``ApplyFtrlV2``."""
    inputs = ("var", "accum", "linear", "grad", "lr", "l1", "l2", "l2_shrinkage", "lr_power")
    ref_inputs = (0, 1, 2)

    @staticmethod
    def call(a: list, g: np.ndarray, s: list, attrs: dict) -> None:
        K.apply_ftrl(a[0], a[1], a[2], g, *_ftrl_args(s, True))


@register_op
class ApplyRMSProp(_Apply):
    """RMSProp update (epsilon inside the sqrt). Same as TF1 ``ApplyRMSProp``."""
    inputs = ("var", "ms", "mom", "lr", "rho", "momentum", "epsilon", "grad")
    ref_inputs = (0, 1, 2)

    @staticmethod
    def call(a: list, g: np.ndarray, s: list, attrs: dict) -> None:
        lr, rho, mom, eps = s
        K.apply_rms_prop(a[0], a[1], a[2], g, lr, rho.dtype.type(1) - rho, mom, eps)


@register_op
class ApplyCenteredRMSProp(_Apply):
    """Centered RMSProp update. Same as TF1 ``ApplyCenteredRMSProp``."""
    inputs = ("var", "mg", "ms", "mom", "lr", "rho", "momentum", "epsilon", "grad")
    ref_inputs = (0, 1, 2, 3)

    @staticmethod
    def call(a: list, g: np.ndarray, s: list, attrs: dict) -> None:
        lr, rho, mom, eps = s
        K.apply_centered_rms_prop(a[0], a[1], a[2], a[3], g, lr, rho.dtype.type(1) - rho,
                                  mom, eps)


# --- sparse updates -----------------------------------------------------------------
@register_op
class SparseApplyMomentum(_Apply):
    """ApplyMomentum on the rows ``indices``. Same as TF1 ``SparseApplyMomentum``."""
    inputs = ("var", "accum", "lr", "grad", "indices", "momentum")
    ref_inputs = (0, 1)
    attrs = {"use_locking": False, "use_nesterov": False}
    sparse = True
    failures = "values"  # out-of-range indices

    @staticmethod
    def call(a: list, g: np.ndarray, idx: np.ndarray, s: list, attrs: dict) -> None:
        K.sparse_apply_momentum(a[0], a[1], g, idx, s[0], s[1], bool(attrs["use_nesterov"]))


@register_op
class SparseApplyAdagrad(_Apply):
    """ApplyAdagrad on the rows ``indices``. Same as TF1 ``SparseApplyAdagrad``."""
    inputs = ("var", "accum", "lr", "grad", "indices")
    ref_inputs = (0, 1)
    attrs = {"use_locking": False, "update_slots": True}
    sparse = True
    failures = "values"  # out-of-range indices

    @staticmethod
    def call(a: list, g: np.ndarray, idx: np.ndarray, s: list, attrs: dict) -> None:
        K.sparse_apply_adagrad(a[0], a[1], g, idx, s[0], bool(attrs["update_slots"]))


@register_op
class SparseApplyAdadelta(_Apply):
    """ApplyAdadelta on the rows ``indices``. Same as TF1 ``SparseApplyAdadelta``."""
    inputs = ("var", "accum", "accum_update", "lr", "rho", "epsilon", "grad", "indices")
    ref_inputs = (0, 1, 2)
    sparse = True
    failures = "values"  # out-of-range indices

    @staticmethod
    def call(a: list, g: np.ndarray, idx: np.ndarray, s: list, attrs: dict) -> None:
        lr, rho, eps = s
        K.sparse_apply_adadelta(a[0], a[1], a[2], g, idx, lr, rho, rho.dtype.type(1) - rho,
                                eps)


@register_op
class SparseApplyFtrl(_Apply):
    """ApplyFtrl on the rows ``indices``. Same as TF1 ``SparseApplyFtrl``."""
    inputs = ("var", "accum", "linear", "grad", "indices", "lr", "l1", "l2", "lr_power")
    ref_inputs = (0, 1, 2)
    sparse = True
    failures = "values"  # out-of-range indices

    @staticmethod
    def call(a: list, g: np.ndarray, idx: np.ndarray, s: list, attrs: dict) -> None:
        K.sparse_apply_ftrl(a[0], a[1], a[2], g, idx, *_ftrl_args(s, False))


@register_op
class SparseApplyFtrlV2(_Apply):
    """ApplyFtrlV2 on the rows ``indices``. Same as TF1 ``SparseApplyFtrlV2``."""
    inputs = ("var", "accum", "linear", "grad", "indices", "lr", "l1", "l2", "l2_shrinkage",
              "lr_power")
    ref_inputs = (0, 1, 2)
    sparse = True
    failures = "values"  # out-of-range indices

    @staticmethod
    def call(a: list, g: np.ndarray, idx: np.ndarray, s: list, attrs: dict) -> None:
        K.sparse_apply_ftrl(a[0], a[1], a[2], g, idx, *_ftrl_args(s, True))


@register_op
class SparseApplyRMSProp(_Apply):
    """ApplyRMSProp on the rows ``indices``. Same as TF1 ``SparseApplyRMSProp``."""
    inputs = ("var", "ms", "mom", "lr", "rho", "momentum", "epsilon", "grad", "indices")
    ref_inputs = (0, 1, 2)
    sparse = True
    failures = "values"  # out-of-range indices

    @staticmethod
    def call(a: list, g: np.ndarray, idx: np.ndarray, s: list, attrs: dict) -> None:
        lr, rho, mom, eps = s
        K.sparse_apply_rms_prop(a[0], a[1], a[2], g, idx, lr, rho.dtype.type(1) - rho, mom,
                                eps)


@register_op
class SparseApplyCenteredRMSProp(_Apply):
    """ApplyCenteredRMSProp on the rows ``indices``. Same as TF1 ``SparseApplyCenteredRMSProp``."""
    inputs = ("var", "mg", "ms", "mom", "lr", "rho", "momentum", "epsilon", "grad", "indices")
    ref_inputs = (0, 1, 2, 3)
    sparse = True
    failures = "values"  # out-of-range indices

    @staticmethod
    def call(a: list, g: np.ndarray, idx: np.ndarray, s: list, attrs: dict) -> None:
        lr, rho, mom, eps = s
        K.sparse_apply_centered_rms_prop(a[0], a[1], a[2], a[3], g, idx, lr,
                                         rho.dtype.type(1) - rho, mom, eps)


# --- builders (TF's ``training_ops.apply_*``) -------------------------------------------
def _build(op_type: str, args: tuple, use_locking: bool, name: Optional[str],
           **attrs: Any) -> Any:
    return apply_op(op_type, *args, name=name or op_type, use_locking=bool(use_locking),
                    **attrs)


def apply_gradient_descent(var: Any, alpha: Any, delta: Any, use_locking: bool = False,
                           name: Optional[str] = None) -> Any:
    """``var -= alpha * delta``; returns the variable's ref."""
    return _build("ApplyGradientDescent", (var, alpha, delta), use_locking, name)


def apply_momentum(var: Any, accum: Any, lr: Any, grad: Any, momentum: Any,
                   use_locking: bool = False, name: Optional[str] = None,
                   use_nesterov: bool = False) -> Any:
    return _build("ApplyMomentum", (var, accum, lr, grad, momentum), use_locking, name,
                  use_nesterov=bool(use_nesterov))


def apply_adagrad(var: Any, accum: Any, lr: Any, grad: Any, use_locking: bool = False,
                  update_slots: bool = True, name: Optional[str] = None) -> Any:
    return _build("ApplyAdagrad", (var, accum, lr, grad), use_locking, name,
                  update_slots=bool(update_slots))


def apply_adadelta(var: Any, accum: Any, accum_update: Any, lr: Any, rho: Any, epsilon: Any,
                   grad: Any, use_locking: bool = False, name: Optional[str] = None) -> Any:
    return _build("ApplyAdadelta", (var, accum, accum_update, lr, rho, epsilon, grad),
                  use_locking, name)


def apply_adam(var: Any, m: Any, v: Any, beta1_power: Any, beta2_power: Any, lr: Any,
               beta1: Any, beta2: Any, epsilon: Any, grad: Any, use_locking: bool = False,
               use_nesterov: bool = False, name: Optional[str] = None) -> Any:
    return _build("ApplyAdam", (var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon,
                                grad), use_locking, name, use_nesterov=bool(use_nesterov))


def apply_ftrl(var: Any, accum: Any, linear: Any, grad: Any, lr: Any, l1: Any, l2: Any,
               lr_power: Any, use_locking: bool = False, name: Optional[str] = None) -> Any:
    return _build("ApplyFtrl", (var, accum, linear, grad, lr, l1, l2, lr_power), use_locking,
                  name)


def apply_ftrl_v2(var: Any, accum: Any, linear: Any, grad: Any, lr: Any, l1: Any, l2: Any,
                  l2_shrinkage: Any, lr_power: Any, use_locking: bool = False,
                  name: Optional[str] = None) -> Any:
    return _build("ApplyFtrlV2", (var, accum, linear, grad, lr, l1, l2, l2_shrinkage,
                                  lr_power), use_locking, name)


def apply_rms_prop(var: Any, ms: Any, mom: Any, lr: Any, rho: Any, momentum: Any,
                   epsilon: Any, grad: Any, use_locking: bool = False,
                   name: Optional[str] = None) -> Any:
    return _build("ApplyRMSProp", (var, ms, mom, lr, rho, momentum, epsilon, grad),
                  use_locking, name)


def apply_centered_rms_prop(var: Any, mg: Any, ms: Any, mom: Any, lr: Any, rho: Any,
                            momentum: Any, epsilon: Any, grad: Any, use_locking: bool = False,
                            name: Optional[str] = None) -> Any:
    return _build("ApplyCenteredRMSProp", (var, mg, ms, mom, lr, rho, momentum, epsilon,
                                           grad), use_locking, name)


def sparse_apply_momentum(var: Any, accum: Any, lr: Any, grad: Any, indices: Any,
                          momentum: Any, use_locking: bool = False,
                          name: Optional[str] = None, use_nesterov: bool = False) -> Any:
    return _build("SparseApplyMomentum", (var, accum, lr, grad, indices, momentum),
                  use_locking, name, use_nesterov=bool(use_nesterov))


def sparse_apply_adagrad(var: Any, accum: Any, lr: Any, grad: Any, indices: Any,
                         use_locking: bool = False, update_slots: bool = True,
                         name: Optional[str] = None) -> Any:
    return _build("SparseApplyAdagrad", (var, accum, lr, grad, indices), use_locking, name,
                  update_slots=bool(update_slots))


def sparse_apply_adadelta(var: Any, accum: Any, accum_update: Any, lr: Any, rho: Any,
                          epsilon: Any, grad: Any, indices: Any, use_locking: bool = False,
                          name: Optional[str] = None) -> Any:
    return _build("SparseApplyAdadelta", (var, accum, accum_update, lr, rho, epsilon, grad,
                                          indices), use_locking, name)


def sparse_apply_ftrl(var: Any, accum: Any, linear: Any, grad: Any, indices: Any, lr: Any,
                      l1: Any, l2: Any, lr_power: Any, use_locking: bool = False,
                      name: Optional[str] = None) -> Any:
    return _build("SparseApplyFtrl", (var, accum, linear, grad, indices, lr, l1, l2, lr_power),
                  use_locking, name)


def sparse_apply_ftrl_v2(var: Any, accum: Any, linear: Any, grad: Any, indices: Any, lr: Any,
                         l1: Any, l2: Any, l2_shrinkage: Any, lr_power: Any,
                         use_locking: bool = False, name: Optional[str] = None) -> Any:
    return _build("SparseApplyFtrlV2", (var, accum, linear, grad, indices, lr, l1, l2,
                                        l2_shrinkage, lr_power), use_locking, name)


def sparse_apply_rms_prop(var: Any, ms: Any, mom: Any, lr: Any, rho: Any, momentum: Any,
                          epsilon: Any, grad: Any, indices: Any, use_locking: bool = False,
                          name: Optional[str] = None) -> Any:
    return _build("SparseApplyRMSProp", (var, ms, mom, lr, rho, momentum, epsilon, grad,
                                         indices), use_locking, name)


def sparse_apply_centered_rms_prop(var: Any, mg: Any, ms: Any, mom: Any, lr: Any, rho: Any,
                                   momentum: Any, epsilon: Any, grad: Any, indices: Any,
                                   use_locking: bool = False,
                                   name: Optional[str] = None) -> Any:
    return _build("SparseApplyCenteredRMSProp", (var, mg, ms, mom, lr, rho, momentum, epsilon,
                                                 grad, indices), use_locking, name)
