"""An SGD update of a matmul's product runs as one GEMM into the variable.

``ApplyGradientDescent(var, lr, delta)`` where ``delta = a @ b`` (a ``MatMul``,
possibly behind the identities ``tf.tuple`` puts between a gradient and its
reader) computes the product into a fresh array, then reads it and the
variable and writes the variable. This pass makes the update node compute
``var += (-lr) * (a @ b)`` itself, as one BLAS GEMM with ``beta = 1``
(``kernels.blas.gemm_update``): no product array, no second pass over the
variable. In the W2 training step that is the two large weight gradients
(784x512 and 512x512); on this machine the product plus update of the first
took 1.82 ms and the one GEMM 1.56 ms (one thread).

The result is the same bits: the GEMM kernel accumulates each dot product in
a register and applies ``alpha`` and the old value once, like the update
kernel's ``fma(-lr, g, var)``; for products under 2^21 multiply-adds OpenBLAS
may take another code path, so those are left alone. The update runs where
it ran (TF1's order, after the gradient gates): the matmul's inputs are kept
alive until then and must not alias a variable some op of the plan updates;
the update node waits for every control input the gates had.

Conditions: the matmul's output (and each identity's) is read only by the
next node of the chain, is not fetched and not a target; float32/float64 with
NumPy's OpenBLAS cblas found (``blas.can_update``); fully known static
shapes (the GEMM then cannot fail: the update's checks run as before).
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from graphflow import dtypes
from graphflow.compiler.ir import IDENTITY_TYPES, IRGraph, Node
from graphflow.kernels import blas

MIN_FLOPS = 1 << 21  # m * n * k: below this OpenBLAS may round differently (small kernels)
_DTYPES = (dtypes.float32, dtypes.float64)


def run(ir: IRGraph, ctx: Any, options: Any) -> dict:
    """Rewrite qualifying updates; returns ``{"merged": [(update, matmul), ...]}``."""
    consumers = ir.consumers()
    fetched = set(ir.fetches)
    targets = set(ir.targets)
    mutated = ir.mutated()
    roots = ir.state_roots() if mutated else {}
    merged: list = []
    for n in ir.ordered():
        if n.op.type != "ApplyGradientDescent" or n.op not in ir.nodes or len(n.inputs) != 3:
            continue
        chain = _chain(ir, n.inputs[2], consumers, fetched, targets)
        if chain is None:
            continue
        mm, idents = chain
        a, b = mm.inputs
        var = n.inputs[0]
        if (var.dtype.base_dtype not in _DTYPES or a.dtype.base_dtype != var.dtype.base_dtype
                or b.dtype.base_dtype != a.dtype.base_dtype
                or not blas.can_update(var.dtype.base_dtype.np)):
            continue
        if not all(t.shape.is_fully_defined() for t in (a, b, var)):
            continue
        ta, tb = mm.op.get_attr("transpose_a"), mm.op.get_attr("transpose_b")
        sa, sb = a.shape.as_list(), b.shape.as_list()
        m, k = (sa[1], sa[0]) if ta else (sa[0], sa[1])
        n_out = sb[0] if tb else sb[1]
        if [m, n_out] != var.shape.as_list() or m * n_out * k < MIN_FLOPS:
            continue
        if any(t.dtype.is_ref_dtype or (roots.get(t, frozenset()) & mutated) for t in (a, b)):
            continue  # the update reads them later than the matmul did
        control = list(n.control)
        for x in [mm] + idents:
            control += [c for c in x.control if c is not mm.op and c not in
                        [i.op for i in idents]]
        for x in reversed(idents):  # readers of the chain: none but the next node
            _drop(ir, x, consumers)
        _drop(ir, mm, consumers)
        n.inputs = [var, n.inputs[1], a, b]
        for t in (a, b):
            consumers.setdefault(t, []).append(n)
        n.control = list(dict.fromkeys(c for c in control if c in ir.nodes))
        n.kernel = _factory(n.op, ta, tb)
        merged.append((n.op.name, mm.op.name))
    return {"merged": merged}


def _chain(ir: IRGraph, t: Any, consumers: dict, fetched: set,
           targets: set) -> Optional[tuple]:
    """``(matmul node, [identity nodes from the update back])`` producing ``t`` for
    the update alone, or None."""
    idents: list = []
    for _ in range(8):
        p = ir.producer(t)
        if (p is None or p.folded is not None or len(consumers.get(t, ())) != 1
                or t in fetched or p.op in targets or len(p.op._outputs) != 1
                or p.kernel is not None):
            return None
        if p.op.type == "MatMul":
            return p, idents
        if p.op.type not in IDENTITY_TYPES or len(p.inputs) != 1:
            return None
        idents.append(p)
        t = p.inputs[0]
    return None


def _drop(ir: IRGraph, x: Node, consumers: dict) -> None:
    for t in x.inputs:
        readers = consumers.get(t)
        if readers and x in readers:
            readers.remove(x)
    ir.remove(x, ctl_users=None)


def _factory(op: Any, ta: bool, tb: bool) -> Callable:
    """Kernel factory of the merged update: ``fn(var cell, lr, a, b) -> var cell``."""
    def make(ctx: Any) -> Callable:
        return update_kernel(op, ta, tb)
    return make


def update_kernel(op: Any, ta: bool, tb: bool) -> Callable:
    """``var -= lr * (op(a) @ op(b))`` as one GEMM, with the checks of the update op."""
    from graphflow.errors import InvalidArgumentError, KernelError
    from graphflow.ops.training_ops import _scalar, _writable
    use_locking = bool(op.get_attr("use_locking"))
    work_dt = np.dtype(op.inputs[0].dtype.base_dtype.np)

    def validate(var: np.ndarray, lr: np.ndarray, a: np.ndarray, b: np.ndarray) -> Any:
        x = a.T if ta else a
        y = b.T if tb else b
        if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[0] \
                or (x.shape[0], y.shape[1]) != var.shape:
            raise KernelError(InvalidArgumentError, "var and delta do not have the same "
                              "shape%s %s" % (var.shape, (x.shape[0], y.shape[1])))
        return _scalar("alpha", lr, work_dt), x, y

    def check(cell: Any, lr: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
        """Every check the update makes, writing nothing (runtime/journal.py)."""
        validate(cell.read(), lr, a, b)

    def update(cell: Any, lr: np.ndarray, a: np.ndarray, b: np.ndarray) -> Any:
        var = _writable(cell)
        alpha, x, y = validate(var, lr, a, b)
        blas.gemm_update(var, x, y, -alpha)
        return cell

    if not use_locking:
        run = update
    else:
        def run(cell: Any, lr: np.ndarray, a: np.ndarray, b: np.ndarray) -> Any:
            with cell.lock:
                return update(cell, lr, a, b)
    run.check = check
    return run
