"""Symbolic differentiation: ``tf.gradients`` (spec gradients.md §1, §2, §4).

The backward pass builds new graph ops; it never computes numbers. It walks
the graph in five stages:

1. *forward reach*: from the ops producing ``xs``, follow consumers of every
   differentiable (float/complex) output; integer outputs cut the path;
2. *between set*: from the ops producing ``ys``, walk data inputs backwards,
   keeping only reached ops: these are the ops to differentiate;
3. *pending counts*: per between op, how many between-op input edges consume
   its outputs, so an op is processed only after all its consumers;
4. *stop ops*: ops of ``xs`` with no between op upstream, and the ops of
   ``stop_gradients``: their gradient functions are not called;
5. a queue seeded with the ``ys`` ops: pop an op, combine the gradients each
   output received (``aggregation.aggregate``), call the op's gradient
   function under ``<op name>_grad/`` (optionally gated by ``tf.tuple``), give
   each input gradient the input's static shape and append it to that input's
   list, then decrement the pending counts of the input producers.

The result for each ``x`` is its combined gradient, or None / ``zeros_like(x)``
when ``ys`` do not depend on it. ``GradientTape`` (tape.py) reuses this walk
restricted to the ops it recorded.
"""
from __future__ import annotations

import collections
import contextlib
import enum
import gc
from typing import Any, Optional

from graphflow import dtypes
from graphflow.autodiff import aggregation
from graphflow.autodiff.aggregation import AggregationMethod
from graphflow.framework import graph as graph_mod
from graphflow.framework.indexed_slices import IndexedSlices
from graphflow.framework.op_def import apply_op, get_gradient_function
from graphflow.framework.operation import Operation, Tensor, convert_to_tensor, graph_of

_TRAINABLE = frozenset(["float16", "bfloat16", "float32", "float64", "complex64", "complex128",
                        "resource", "variant"])


class UnconnectedGradients(enum.Enum):
    """What ``gradients`` returns for an ``x`` that ``ys`` do not depend on."""

    NONE = "none"
    ZERO = "zero"


def is_trainable(t: Any) -> bool:
    """True when gradients flow through ``t`` (floating, complex, resource dtypes)."""
    return t.dtype.base_dtype._name in _TRAINABLE


def _as_list(v: Any) -> list:
    if v is None:
        return []
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _to_tensor(v: Any, as_ref: bool = False) -> Any:
    if isinstance(v, (Tensor, IndexedSlices)):
        return v
    return convert_to_tensor(v, as_ref=as_ref)


def check_unconnected(value: Any) -> UnconnectedGradients:
    """``'none'``/``'zero'`` or the enum -> the enum; ValueError otherwise."""
    try:
        return UnconnectedGradients(value)
    except ValueError:
        raise ValueError("Unknown value for unconnected_gradients: %r" % (value,)) from None


def gradients(ys: Any, xs: Any, grad_ys: Any = None, name: Optional[str] = "gradients",
              colocate_gradients_with_ops: bool = False, gate_gradients: bool = False,
              aggregation_method: Optional[int] = None, stop_gradients: Any = None,
              unconnected_gradients: Any = UnconnectedGradients.NONE) -> list:
    """Symbolic derivatives of ``sum(ys)`` with respect to each of ``xs``. Same as ``tf.gradients``.

    Args:
      ys: a Tensor or list of Tensors to differentiate (several are summed).
      xs: a Tensor/Variable or list of them.
      grad_ys: upstream gradients, one per ``y`` (None entries mean ones).
      name: name scope of the new ops (made unique: ``gradients_1``...).
      colocate_gradients_with_ops: colocate gradient ops with their forward op.
      gate_gradients: wrap the input gradients of each op in ``tf.tuple``.
      aggregation_method: an ``AggregationMethod`` value (None: DEFAULT).
      stop_gradients: tensors treated as constants.
      unconnected_gradients: ``'none'`` (None) or ``'zero'`` (zeros_like(x)).

    Returns:
      A list with one entry per element of ``xs``: a Tensor, an IndexedSlices
      or None.
    """
    return gradients_impl(ys, xs, grad_ys, name, colocate_gradients_with_ops, gate_gradients,
                          aggregation_method, stop_gradients, unconnected_gradients)


def gradients_impl(ys: Any, xs: Any, grad_ys: Any = None, name: Optional[str] = "gradients",
                   colocate_gradients_with_ops: bool = False, gate_gradients: bool = False,
                   aggregation_method: Optional[int] = None, stop_gradients: Any = None,
                   unconnected_gradients: Any = UnconnectedGradients.NONE,
                   allowed_ops: Optional[set] = None) -> list:
    """``gradients`` with one extra: ``allowed_ops`` restricts the forward reach
    to those consumers (GradientTape's recorded ops)."""
    unconnected = check_unconnected(unconnected_gradients)
    ys = _as_list(ys)
    xs = _as_list(xs)
    stop_gradients = _as_list(stop_gradients)
    grad_ys = [None] * len(ys) if grad_ys is None else _as_list(grad_ys)
    g = graph_of(ys + xs) or graph_mod.get_default_graph()
    with g.as_default(), _gc_paused():
        ys = [_to_tensor(y) for y in ys]
        xs = [_to_tensor(x, as_ref=True) for x in xs]
        stop_gradients = [_to_tensor(s) for s in stop_gradients]
        with g.name_scope(name or "gradients"):
            grads = _backward(g, ys, xs, grad_ys, colocate_gradients_with_ops, gate_gradients,
                              aggregation_method, stop_gradients, allowed_ops)
        # zeros for unconnected xs are made outside the gradients scope (as TF does)
        return [_result(grads, x, unconnected) for x in xs]


@contextlib.contextmanager
def _gc_paused() -> Any:
    """Pause Python's cyclic garbage collector while the backward graph is built.

    The walk allocates a few objects per new op and frees almost none, so
    full collections would rescan the whole growing graph again and again
    (a third of the time of a 18000-op gradient). Nested or concurrent calls
    are safe: only the call that found the collector enabled re-enables it.
    """
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --- the walk ------------------------------------------------------------------------------
def _reached_ops(from_ops: list, allowed_ops: Optional[set]) -> set:
    """Ops reachable from ``from_ops`` through differentiable outputs (stage 1)."""
    reached: set = set()
    queue = collections.deque(from_ops)
    while queue:
        op = queue.popleft()
        if op in reached:
            continue
        reached.add(op)
        for out in op._outputs:
            if out._dtype._base._name in _TRAINABLE:
                if allowed_ops is None:
                    queue.extend(out._consumers)
                else:
                    queue.extend(c for c in out._consumers if c in allowed_ops)
    return reached


def _pending_counts(to_ops: list, from_ops: list, allowed_ops: Optional[set]) -> tuple:
    """Stages 1-3: (between ops reached among to_ops, between set, pending counts)."""
    reached = _reached_ops(from_ops, allowed_ops)
    reachable_to_ops = {op for op in to_ops if op in reached}
    between: set = set()
    between_list: list = []
    queue = collections.deque(to_ops)
    while queue:
        op = queue.popleft()
        if op in reached:
            between.add(op)
            between_list.append(op)
            reached.discard(op)
            queue.extend([t._op for t in op._inputs])
    pending: dict = collections.defaultdict(int)
    for op in between_list:
        for t in op._inputs:
            t_op = t._op
            if t_op in between:
                pending[t_op] += 1
    return reachable_to_ops, between, pending


def _stop_ops(from_ops: list, stop_gradient_ops: list, pending: dict) -> set:
    """Stage 4: xs' ops with no between op upstream, plus the stop_gradients' ops."""
    stop = {op for op in from_ops if all(pending.get(t.op, 0) <= 0 for t in op._inputs)}
    stop.update(stop_gradient_ops)
    return stop


def _default_grad_ys(g: Any, ys: list, grad_ys: list, colocate: bool) -> list:
    """Ones (``Fill`` named ``grad_ys_<i>``) for None entries, Identity of the others."""
    if len(grad_ys) != len(ys):
        raise ValueError("Length mismatch. Passed %d grad_ys for %d ys" % (len(grad_ys), len(ys)))
    converted = []
    for i, (y, gy) in enumerate(zip(ys, grad_ys)):
        if gy is not None and not isinstance(gy, (Tensor, IndexedSlices)):
            gy = convert_to_tensor(gy, preferred_dtype=y.dtype.base_dtype, name="grad_y_%d" % i)
        converted.append(gy)
    out = []
    for i, (y, gy) in enumerate(zip(ys, converted)):
        with _colocate(g, y.op, colocate):
            if gy is None:
                if y.dtype.is_complex:
                    raise TypeError("Gradients of complex tensors (%s) must set grad_ys (y.dtype "
                                    "= %s)" % (y, y.dtype.base_dtype.name))
                out.append(_ones_like_shape(g, y, "grad_ys_%d" % i))
                continue
            if isinstance(gy, IndexedSlices):
                out.append(IndexedSlices(
                    apply_op("Identity", gy.values, name="grad_ys_%d_values" % i),
                    apply_op("Identity", gy.indices, name="grad_ys_%d_indices" % i),
                    gy.dense_shape if gy.dense_shape is None else apply_op(
                        "Identity", gy.dense_shape, name="grad_ys_%d_shape" % i)))
                continue
            yd, gd = y.dtype.base_dtype, gy.dtype.base_dtype
            if (yd.is_floating or yd.is_integer) and not (gd.is_floating or gd.is_integer):
                raise TypeError("Gradient type %s generated for real or integer-valued tensor %s "
                                "with type %s must be real or integer" % (gd.name, y, yd.name))
            if yd.is_complex and not gd.is_complex:
                raise TypeError("Gradient type %s generated for complex-valued tensor %s with "
                                "type %s must be real" % (gd.name, y, yd.name))
            if not (yd.is_floating or yd.is_integer or yd.is_complex or yd.name == "resource"):
                raise TypeError("Tensor %s with type %s must be numeric to obtain a default "
                                "gradient" % (y, yd.name))
            out.append(apply_op("Identity", gy, name="grad_ys_%d" % i))
    return out


def _ones_like_shape(g: Any, y: Tensor, name: str) -> Tensor:
    """``ones(shape(y))``: ``Shape`` (a Const when static), ``<name>/Const``, ``Fill <name>``."""
    from graphflow.ops import array_ops
    if y.shape.is_fully_defined():
        shape = array_ops.constant(y.shape.as_list(), dtype=dtypes.int32, name="Shape")
    else:
        shape = apply_op("Shape", y, name="Shape")
    with g.name_scope(name) as scope:
        one = array_ops.constant(1, dtype=y.dtype.base_dtype, name="Const")
        return apply_op("Fill", shape, one, name=scope)


_NO_CONTEXT = contextlib.nullcontext()  # reusable


def _colocate(g: Any, op: Operation, enabled: bool) -> Any:
    return g.colocate_with(op) if enabled else _NO_CONTEXT


def _backward(g: Any, ys: list, xs: list, grad_ys: list, colocate: bool, gate: bool,
              method: Any, stop_gradients: list, allowed_ops: Optional[set]) -> dict:
    """Stages 1-5; returns {op: list of combined gradients per output}."""
    to_ops = [t.op for t in ys]
    from_ops = [t.op for t in xs]
    grad_ys = _default_grad_ys(g, ys, grad_ys, colocate)
    reachable_to_ops, _, pending = _pending_counts(to_ops, from_ops, allowed_ops)
    grads: dict = {}
    for y, gy in zip(ys, grad_ys):
        _add_grad(grads, y, gy)
    queue: collections.deque = collections.deque()
    queued: set = set()
    for op in to_ops:
        if pending[op] == 0 and op not in queued and op in reachable_to_ops:
            queued.add(op)
            queue.append(op)
    stop_ops = _stop_ops(from_ops, [t.op for t in stop_gradients], pending)
    checked_method = None
    resource = dtypes.resource
    while queue:
        op = queue.popleft()
        ctx = g.colocate_with(op) if colocate else _NO_CONTEXT
        with ctx:
            if checked_method is None:
                checked_method = aggregation.check_method(method)
            out_grads = grads.get(op)
            if out_grads is None:
                out_grads = grads[op] = [[] for _ in op._outputs]
            for i, terms in enumerate(out_grads):
                # one term (the common case) needs no aggregation op
                out_grads[i] = (terms[0] if len(terms) == 1 else None if not terms
                                else aggregation.aggregate(terms, op, checked_method))
            in_grads = _op_input_grads(g, op, out_grads, op in stop_ops, gate)
            for i, (t_in, gin) in enumerate(zip(op._inputs, in_grads)):
                if gin is None:
                    continue
                if type(gin) is Tensor or isinstance(gin, Tensor):
                    if gin._shape._dims != t_in._shape._dims \
                            and t_in._dtype._base is not resource:
                        try:
                            gin.set_shape(t_in.shape)
                        except ValueError:
                            raise ValueError(
                                "Incompatible shapes between op input and calculated input "
                                "gradient. Forward operation: %s. Input index: %d. Original "
                                "input shape: %s. Calculated input gradient shape: %s"
                                % (op.name, i, t_in.shape, gin.shape)) from None
                _add_grad(grads, t_in, gin)
        for t in op._inputs:
            t_op = t._op
            pending[t_op] -= 1
            if pending[t_op] == 0:
                queue.append(t_op)
    return grads


def _op_input_grads(g: Any, op: Operation, out_grads: list, is_stop: bool, gate: bool) -> list:
    """Call ``op``'s gradient function (or give every input None)."""
    for x in out_grads:
        if x is not None:
            break
    else:  # no output received a gradient
        return [None] * len(op._inputs)
    if is_stop:
        return [None] * len(op._inputs)
    grad_fn = get_gradient_function(op)  # LookupError when none is registered
    if grad_fn is None:
        return [None] * len(op._inputs)
    for i, og in enumerate(out_grads):
        if og is None and is_trainable(op._outputs[i]):
            out_grads[i] = _zeros_like_output(op._outputs[i])
    with g.name_scope(op._name + "_grad"):
        in_grads = grad_fn(op, *out_grads)
        in_grads = list(in_grads) if isinstance(in_grads, (list, tuple)) else [in_grads]
        if len(in_grads) != len(op._inputs):
            raise ValueError("Num gradients %d generated for op %s do not match num inputs %d"
                             % (len(in_grads), op, len(op._inputs)))
        if gate:
            live = [i for i, x in enumerate(in_grads) if x is not None]
            if len(live) > 1:
                from graphflow.ops import control_flow_ops
                with g.device(None), g.colocate_with(None, ignore_existing=True):
                    gated = control_flow_ops.tuple([in_grads[i] for i in live])
                for i, x in zip(live, gated):
                    in_grads[i] = x
    return in_grads


def _zeros_like_output(t: Tensor) -> Tensor:
    """A ``ZerosLike`` op for an output that received no gradient."""
    from graphflow.ops import array_ops
    try:
        return array_ops.zeros_like(t, optimize=False)
    except TypeError:
        return array_ops.zeros_like(t)


def _add_grad(grads: dict, t: Tensor, grad: Any) -> None:
    op = t._op
    per_output = grads.get(op)
    if per_output is None:
        per_output = grads[op] = [[] for _ in op._outputs]
    per_output[t._value_index].append(grad)


def _result(grads: dict, x: Tensor, unconnected: UnconnectedGradients) -> Any:
    per_output = grads.get(x.op)
    g = None
    if per_output is not None:
        g = per_output[x.value_index]
        if isinstance(g, list):  # the op was never processed: not connected
            g = None
    if g is None and unconnected is UnconnectedGradients.ZERO:
        from graphflow.ops import array_ops
        return array_ops.zeros_like(x)
    return g


def hessians(ys: Any, xs: Any, name: str = "hessians", colocate_gradients_with_ops: bool = False,
             gate_gradients: bool = False, aggregation_method: Optional[int] = None) -> list:
    """Second derivatives of ``sum(ys)`` per ``x`` (``tf.hessians``).

    Entry j has shape ``x.shape + x.shape``: row k is the gradient of the
    k-th element of the first gradient, built with a one-hot ``grad_ys``
    (so no slicing ops are needed). ``x`` must have a fully defined shape.
    """
    import numpy as np
    from graphflow.ops import array_ops
    xs = _as_list(xs)
    kwargs = dict(colocate_gradients_with_ops=colocate_gradients_with_ops,
                  gate_gradients=gate_gradients, aggregation_method=aggregation_method)
    first = gradients(ys, xs, **kwargs)
    out = []
    g = graph_of(xs) or graph_mod.get_default_graph()
    with g.as_default(), g.name_scope(name):
        for x, gx in zip(xs, first):
            if gx is None:
                out.append(None)
                continue
            x = _to_tensor(x)
            shape = x.shape
            if not shape.is_fully_defined():
                raise ValueError("Cannot compute Hessian because element %s has an unknown "
                                 "shape: %s" % (x.name, shape))
            n = shape.num_elements()
            dims = shape.as_list()
            rows = []
            for k in range(n):
                onehot = np.zeros(n, dtype=gx.dtype.base_dtype.np)
                onehot[k] = 1
                r = gradients(gx, x, grad_ys=array_ops.constant(onehot.reshape(dims)), **kwargs)[0]
                rows.append(r if r is not None else array_ops.zeros_like(x))
            out.append(array_ops.reshape(array_ops.stack(rows), dims + dims))
    return out


__all__ = ["gradients", "hessians", "AggregationMethod", "UnconnectedGradients"]
