"""The op registry: one ``OpDef`` subclass declares one op type.

An OpDef holds everything about an op in one place: its inputs and attrs, its
static dtype/shape rule (``infer``), a NumPy ``reference``, its ``kernel``
factory, its gradient (or ``NOT_DIFFERENTIABLE``), its flags, the domain that
gradient checks sample from and the ``examples`` the contract test runs.
``apply_op`` builds a node of a registered type into the default graph.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from graphflow import dtypes
from graphflow.framework import graph as graph_mod
from graphflow.framework.operation import Operation, Tensor, convert_to_tensor
from graphflow.framework.tensor_shape import TensorShape


class _NotDifferentiable:
    def __repr__(self) -> str:
        return "NOT_DIFFERENTIABLE"


NOT_DIFFERENTIABLE = _NotDifferentiable()
REQUIRED = object()  # attr default meaning "the builder must pass it"


class ConstInput:
    """Marks a contract-test example input that must be built as a constant
    (shape, axis and size arguments whose values shape inference needs)."""

    def __init__(self, value: Any, dtype: Any = None) -> None:
        self.value = np.asarray(value, dtype=dtype)


_REGISTRY: dict = {}
_GRADIENT_REGISTRY: dict = {}  # user registrations (RegisterGradient / NotDifferentiable)


class OpDef:
    """Base class of op declarations. Subclass, set the fields, ``@register_op``.

    Fields:
      op_type: TF op type (defaults to the class name).
      inputs: input names; ``"*values"`` is a list input.
      ref_inputs: indices of inputs that take a variable reference (not read).
      attrs: attr name -> default (``REQUIRED`` when the builder must pass it).
      same_dtype: input names that share the type attr ``T`` (default: all).
      allowed: dtypes allowed for ``T`` (None: any).
      input_dtypes: input name -> dtype used to convert Python values.
      stateful / mutates: side effects, read by passes (CSE skips stateful ops).
      elementwise: output i depends on element i of the broadcast inputs.
      grad: ``grad(op, *output_grads) -> list`` or ``NOT_DIFFERENTIABLE``;
        None means "no gradient registered" (LookupError when reached).
      reference: NumPy function ``(*arrays, **attrs)`` -> array or tuple.
      domain: (low, high) sampled by gradient checks.
      jit_call: ``jit_call(op) -> JitCall | None``: how a step of this op runs
        inside a compiled segment (``kernels/jitcall.py``); None: it does not.
      failures: how its kernel can fail at run time: ``"never"``; ``"shapes"``
        (only through shapes, which the shape function already checked when
        every input shape is fully known statically and the ``const_args``
        inputs are constants); ``"values"`` (anything else: checks of values,
        indices, integer division, ...). Read by the compiler (``dead_control``
        drops unused gated ops that cannot fail) and the journal (no undo copy
        is needed before a step that cannot fail): ``run_failures(op_def)``.
      const_args: input positions that must be constants for ``"shapes"``.
    """

    op_type: str = ""
    inputs: tuple = ()
    ref_inputs: tuple = ()
    attrs: dict = {}
    same_dtype: Optional[tuple] = None
    allowed: Optional[tuple] = None
    input_dtypes: dict = {}
    num_outputs: int = 1
    stateful: bool = False
    mutates: tuple = ()
    elementwise: bool = False
    grad: Any = None
    reference: Optional[Callable] = None
    domain: tuple = (-2.0, 2.0)
    contract_exempt: str = ""  # why the contract test skips it, and which test covers it
    fold_max_size = 1000  # build-time constant folding bound (elements)
    jit_call: Optional[Callable] = None
    failures: str = "values"
    const_args: tuple = ()

    @classmethod
    def infer(cls, op: Operation) -> list:
        """Static (dtype, shape) of each output. Default: like input 0."""
        t = op.inputs[0]
        return [(t.dtype.base_dtype, t.shape)] * cls.output_count(op)

    @classmethod
    def output_count(cls, op: Operation) -> int:
        return cls.num_outputs

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        """Return ``fn(*input_arrays) -> output (tuple when several)``.

        Default: the NumPy reference with the op's attrs bound, cast to the
        static output dtypes. Families with Numba kernels override this.
        """
        ref = cls.reference
        if ref is None:
            raise NotImplementedError("Op type %s has no kernel" % cls.op_type)
        kw = kernel_attrs(op)
        out_dtypes = [t.dtype.base_dtype.np for t in op.outputs]
        if any(n is not None for n in op._input_structure):
            flat_ref = ref

            def ref(*flat: Any, **kw: Any) -> Any:
                return flat_ref(*_restructure(op, list(flat)), **kw)
        if len(out_dtypes) == 1:
            dt = out_dtypes[0]

            def run(*args: Any) -> Any:
                return np.asarray(ref(*args, **kw), dtype=dt)
        else:
            def run(*args: Any) -> Any:
                return tuple(np.asarray(r, dtype=d) for r, d in zip(ref(*args, **kw), out_dtypes))
        return run

    @classmethod
    def examples(cls) -> list:
        """Contract-test cases: list of ``(input arrays, attrs)``."""
        return []


def run_failures(op_def: Any) -> str:
    """``op_def.failures``, except that a value ``check`` hook (integer division)
    makes any op fail on values."""
    if getattr(op_def, "check", None) is not None:
        return "values"
    return getattr(op_def, "failures", "values")


def kernel_attrs(op: Operation) -> dict:
    """The attrs a reference/kernel takes: all but ``T`` and private ``_`` ones."""
    return {k: v for k, v in op._attrs.items()
            if k != "T" and not k.startswith("_") and k in op.op_def.attrs}


def register_op(cls: type) -> type:
    """Class decorator: add an OpDef subclass to the registry."""
    if not cls.__dict__.get("op_type"):
        cls.op_type = cls.__name__
    if cls.op_type in _REGISTRY and _REGISTRY[cls.op_type] is not cls:
        raise KeyError("Registering two ops with name '%s'" % cls.op_type)
    _REGISTRY[cls.op_type] = cls
    return cls


def get_op_def(op_type: str) -> type:
    try:
        return _REGISTRY[op_type]
    except KeyError:
        from graphflow.errors import NotFoundError
        raise NotFoundError(None, None, "Op type not registered '%s' in binary running on "
                                        "graphflow." % op_type) from None


def registered_ops() -> dict:
    """A copy of the registry: op type -> OpDef subclass."""
    return dict(_REGISTRY)


# --- gradient registration -------------------------------------------------------
class RegisterGradient:
    """Decorator registering a gradient function for an op type (``tf.RegisterGradient``)."""

    def __init__(self, op_type: str) -> None:
        if not isinstance(op_type, str):
            raise TypeError("op_type must be a string")
        self._op_type = op_type

    def __call__(self, f: Callable) -> Callable:
        if self._op_type in _GRADIENT_REGISTRY:
            raise KeyError("Registering two gradient with name '%s'! (Previous registration "
                           "was in user code)" % self._op_type)
        _GRADIENT_REGISTRY[self._op_type] = f
        return f


def NotDifferentiable(op_type: str) -> None:  # noqa: N802  (TF's name)
    """Declare ``op_type`` non-differentiable: its inputs get no gradient."""
    if not isinstance(op_type, str):
        raise TypeError("op_type must be a string")
    _GRADIENT_REGISTRY[op_type] = None


NoGradient = NotDifferentiable


def get_gradient_function(op: Operation) -> Optional[Callable]:
    """The gradient function of ``op`` (None when not differentiable).

    Raises LookupError when no gradient is registered for its type.
    """
    op_type = op._gradient_type or op.type
    if op_type in _GRADIENT_REGISTRY:
        return _GRADIENT_REGISTRY[op_type]
    opdef = _REGISTRY.get(op_type)
    g = None if opdef is None else opdef.grad
    if g is NOT_DIFFERENTIABLE:
        return None
    if g is None:
        raise LookupError(
            "No gradient defined for operation'%s' (op type: %s). In general every operation "
            "must have an associated `@tf.RegisterGradient` for correct autodiff, which this "
            "op is lacking. If you want to pretend this operation is a constant in your "
            "program, you may insert `tf.stop_gradient`. This can be useful to silence the "
            "error in cases where you know gradients are not needed, e.g. the forward pass of "
            "tf.clip_by_value. If this error arises from a function that is differentiable "
            "but lacks a gradient, please file an issue." % (op.name, op_type))
    return g


# --- building ops ------------------------------------------------------------------
def _graph_for(values: list) -> Any:
    g = None
    first = None
    for v in values:
        vg = v.graph if isinstance(v, (Tensor, Operation)) else None
        if vg is None:
            continue
        if g is None:
            g, first = vg, v
        elif vg is not g:
            raise ValueError("%s must be from the same graph as %s (graphs are %r and %r)."
                             % (v, first, vg, g))
    return g or graph_mod.get_default_graph()


def _is_graph_value(v: Any) -> bool:
    return isinstance(v, Tensor) or hasattr(v, "_as_graph_element") or hasattr(v, "_gf_tensor")


def apply_op(op_type: str, *inputs: Any, name: Optional[str] = None, **attrs: Any) -> Any:
    """Create a node of type ``op_type``; returns its output, outputs tuple or the op."""
    op = create_op(op_type, list(inputs), attrs, name)
    outs = op._outputs
    if not outs:
        return op
    if len(outs) == 1 and op._op_def.output_count(op) == 1:
        return outs[0]
    return tuple(outs)


def create_op(op_type: str, inputs: list, attrs: dict, name: Optional[str] = None) -> Operation:
    """Convert inputs, check dtypes, name the node, infer outputs, add to the graph."""
    opdef = _REGISTRY.get(op_type) or get_op_def(op_type)
    names = opdef.inputs
    if len(inputs) != len(names):
        raise TypeError("%s takes %d inputs (%s), got %d" % (
            op_type, len(names), ", ".join(n.lstrip("*") for n in names), len(inputs)))
    g = _tensor_inputs_graph(names, inputs)
    if g is not None:  # fast path: every input is a Tensor (list inputs: lists of them)
        if g is False:
            g = graph_mod.get_default_graph()
        group_t = _check_tensor_inputs(opdef, inputs, attrs) if inputs else None
        for v in inputs:
            if type(v) is list:
                structure = tuple(len(v) if type(v) is list else None for v in inputs)
                flat = [t for v in inputs for t in (v if type(v) is list else (v,))]
                break
        else:
            structure = _NO_LISTS[len(inputs)] if len(inputs) < 8 else (None,) * len(inputs)
            flat = inputs
        requested = name or op_type
    else:
        g, flat, structure, group_t, requested = _convert_all(opdef, inputs, attrs, name)
    full_attrs = _full_attrs(opdef, op_type, attrs)
    with g._lock:
        if g._finalized:
            scoped = requested[:-1] if requested.endswith("/") else "/".join(
                s for s in (g._name_stack, requested) if s)
            g._check_not_finalized("adding op '%s' of type %s" % (scoped, op_type))
        op_name = g._op_name(requested)
        control = []
        for ctl in g._control_stack:  # any block with control inputs?
            if ctl.control_inputs:
                control = g._control_inputs_for(list({t._op: None for t in flat}))
                break
        op = Operation(g, opdef, op_name, flat, control, full_attrs)
        op._input_structure = structure
        if group_t is not None and "T" not in full_attrs:
            full_attrs["T"] = group_t
        if g._device_stack:
            op._device = g._current_device(op)
        if g._colocation_stack and g._colocation_stack[-1] is not None:
            full_attrs["_class"] = ["loc:@" + g._colocation_stack[-1].name]
        if g._gradient_override_map:
            op._gradient_type = g._gradient_override_map.get(op_type)
        outs = opdef.infer(op)
        if len(outs) == 1:
            op._outputs = [Tensor(op, 0, outs[0][0], outs[0][1])]
        else:
            op._outputs = [Tensor(op, i, dt, sh) for i, (dt, sh) in enumerate(outs)]
        for t in flat:
            t._consumers.append(op)
        for c in control:
            c._control_outputs.append(op)
        # Graph._add_op, inlined (the lock is held)
        ops = g._ops
        ops.append(op)
        g._by_name[op_name] = op
        g._version = len(ops)
        for ctl in g._control_stack:
            ctl.seen.add(op)
        for rec in g._recorders:
            rec._record(op)
    return op


_NO_LISTS = [(None,) * n for n in range(8)]  # shared ``_input_structure`` tuples


def _tensor_inputs_graph(names: tuple, inputs: list) -> Any:
    """The graph of ``inputs`` when each is a Tensor, or for a list input
    (``*name``) a list of Tensors, all of one graph; False when there are no
    tensors at all; else None (the general conversion path)."""
    g = False
    for n, v in zip(names, inputs):
        if type(v) is Tensor:
            vg = v._op._graph
        elif type(v) is list and n[0] == "*":
            for t in v:
                if type(t) is not Tensor:
                    return None
                vg = t._op._graph
                if g is False:
                    g = vg
                elif vg is not g:
                    return None
            continue
        else:
            return None
        if g is False:
            g = vg
        elif vg is not g:
            return None
    return g


_SIMPLE: dict = {}  # opdef -> (inputs, ref_inputs, same_dtype, allowed, ids of allowed or None)


def _simple_signature(opdef: type) -> Any:
    """For an op whose inputs all share ``T`` and none is a list: the ids of its
    allowed dtypes (``()`` for any), else None. Cached per OpDef and recomputed
    if one of the fields it depends on is replaced."""
    hit = _SIMPLE.get(opdef)
    if hit is not None and hit[0] is opdef.inputs and hit[1] is opdef.ref_inputs \
            and hit[2] is opdef.same_dtype and hit[3] is opdef.allowed:
        return hit[4]
    simple = opdef.same_dtype is None and not any(n[0] == "*" for n in opdef.inputs)
    ids = None
    if simple:
        ids = () if opdef.allowed is None else frozenset(id(d) for d in opdef.allowed)
    _SIMPLE[opdef] = (opdef.inputs, opdef.ref_inputs, opdef.same_dtype, opdef.allowed, ids)
    return ids


def _check_tensor_inputs(opdef: type, inputs: list, attrs: dict) -> Any:
    """``_convert_inputs`` for inputs that already are Tensors (lists of them for
    list inputs): the same checks and errors, no conversion. Returns the dtype
    of the first tensor of the shared group (the ``T`` attr unless given)."""
    allowed_ids = _simple_signature(opdef)
    if allowed_ids is not None and "T" not in attrs:
        # common case: every input is in the group; all checks pass on identity
        dt = inputs[0]._dtype._base
        for t in inputs:
            if t._dtype._base is not dt:
                break
        else:
            refs = opdef.ref_inputs
            if (not refs or all(inputs[i]._dtype._ref for i in refs)) \
                    and (not allowed_ids or id(dt) in allowed_ids):
                return dt
    names = opdef.inputs
    group = opdef.same_dtype if opdef.same_dtype is not None else names
    first_dtype = None
    for n, v in zip(names, inputs):
        if n in group:
            if type(v) is list:
                if not v:
                    continue
                v = v[0]
            first_dtype = v._dtype._base
            break
    group_dtype = attrs.get("T")
    if group_dtype is None:
        group_dtype = first_dtype
    first_name = None
    ref_inputs = opdef.ref_inputs
    allowed = opdef.allowed
    for i, (n, v) in enumerate(zip(names, inputs)):
        in_group = n in group
        if n[0] == "*":
            n = n[1:]
            if type(v) is not list:
                raise TypeError("Expected list for '%s' argument to '%s' Op, not %s."
                                % (n, opdef.op_type, v))
            ts = v
        else:
            ts = (v,)
        if i in ref_inputs:
            for t in ts:
                if not t._dtype._ref:
                    raise TypeError("'%s' Op requires that input '%s' be a mutable tensor "
                                    "(e.g.: a tf.Variable)" % (opdef.op_type, n))
        if not in_group:
            continue
        for t in ts:
            dt = t._dtype._base
            if dt is not group_dtype and dt != group_dtype:
                raise TypeError("Input '%s' of '%s' Op has type %s that does not match type %s "
                                "of argument '%s'." % (n, opdef.op_type, dt.name,
                                                       group_dtype.name, first_name))
        if first_name is None:
            first_name = n
        if allowed is not None and ts:
            dt = ts[0]._dtype._base
            if not _dtype_in(dt, allowed):
                raise TypeError("Value passed to parameter '%s' has DataType %s not in list of "
                                "allowed values: %s" % (n, dt.name, ", ".join(
                                    d.name for d in allowed)))
    return first_dtype


def _dtype_in(dt: Any, allowed: tuple) -> bool:
    """``dt in allowed``, by identity first (DType equality is slower)."""
    for a in allowed:
        if a is dt:
            return True
    return dt in allowed


def _convert_all(opdef: type, inputs: list, attrs: dict, name: Optional[str]) -> tuple:
    """The general input path: Python values become constants, lists stay lists.

    Returns (graph, flat input tensors, input structure, group dtype, requested name).
    """
    flat_graph_values = []
    for v in inputs:
        for x in (v if isinstance(v, (list, tuple)) else [v]):
            if isinstance(x, (Tensor, Operation)):
                flat_graph_values.append(x)
    g = _graph_for(flat_graph_values)
    requested = name or opdef.op_type
    with g.as_default():
        if any(not _is_graph_value(x) for v in inputs
               for x in (v if isinstance(v, (list, tuple)) else [v])):
            # as TF: Python values become constants named inside the op's scope (`Mul/y`)
            with g.name_scope(requested) as scope:
                converted = _convert_inputs(opdef, inputs, attrs)
            requested = scope
        else:
            converted = _convert_inputs(opdef, inputs, attrs)
    flat = []
    for v in converted:
        flat.extend(v if isinstance(v, list) else [v])
    g = _graph_for(flat) if flat else g
    structure = tuple(len(v) if isinstance(v, list) else None for v in converted)
    return g, flat, structure, _group_dtype(opdef, converted), requested


def _full_attrs(opdef: type, op_type: str, attrs: dict) -> dict:
    """The op's attrs: the declared ones (defaults filled in) plus ``T`` and ``_*``."""
    if not attrs:  # common: no attrs passed; none may be required
        full_attrs = dict(opdef.attrs)
        for k, v in full_attrs.items():
            if v is REQUIRED:
                raise TypeError("%s requires attr '%s'" % (op_type, k))
        return full_attrs
    full_attrs = {}
    for k, default in opdef.attrs.items():
        if k in attrs:
            full_attrs[k] = attrs[k]
        elif default is REQUIRED:
            raise TypeError("%s requires attr '%s'" % (op_type, k))
        else:
            full_attrs[k] = default
    for k, v in attrs.items():
        if k not in full_attrs:
            if k.startswith("_") or k == "T":
                full_attrs[k] = v
            else:
                raise TypeError("%s got an unexpected attr '%s'" % (op_type, k))
    return full_attrs


def _group_dtype(opdef: type, converted: list) -> Any:
    group = opdef.same_dtype if opdef.same_dtype is not None else opdef.inputs
    for n, v in zip(opdef.inputs, converted):
        if n in group:
            t = v[0] if isinstance(v, list) and v else v
            if isinstance(t, Tensor):
                return t.dtype.base_dtype
    return None


def _convert_inputs(opdef: type, inputs: list, attrs: dict) -> list:
    names = opdef.inputs
    group = opdef.same_dtype if opdef.same_dtype is not None else names
    # 1) dtype of the shared group from inputs that already are graph values
    group_dtype = attrs.get("T")
    if group_dtype is None:
        for n, v in zip(names, inputs):
            if n not in group:
                continue
            for x in (v if isinstance(v, (list, tuple)) and n.startswith("*") else [v]):
                if _is_graph_value(x):
                    t = convert_to_tensor(x, as_ref=True)
                    group_dtype = t.dtype.base_dtype
                    break
                if isinstance(getattr(x, "dtype", None), dtypes.DType):  # IndexedSlices
                    group_dtype = x.dtype.base_dtype
                    break
            if group_dtype is not None:
                break
    out = []
    first_name = None
    for i, (n, v) in enumerate(zip(names, inputs)):
        in_group = n in group
        want = group_dtype if in_group else opdef.input_dtypes.get(n.lstrip("*"))
        as_ref = i in opdef.ref_inputs
        if n.startswith("*"):
            if not isinstance(v, (list, tuple)):
                raise TypeError("Expected list for '%s' argument to '%s' Op, not %s."
                                % (n[1:], opdef.op_type, v))
            ts = [_convert_one(opdef, n[1:], x, want, in_group, as_ref, "%s_%d" % (n[1:], k))
                  for k, x in enumerate(v)]
            if in_group and ts and group_dtype is None:
                group_dtype = ts[0].dtype.base_dtype
            out.append(ts)
            check = ts
        else:
            t = _convert_one(opdef, n, v, want, in_group, as_ref, n)
            if in_group and group_dtype is None:
                group_dtype = t.dtype.base_dtype
            out.append(t)
            check = [t]
        if in_group:
            for t in check:
                if t.dtype.base_dtype != group_dtype:
                    raise TypeError("Input '%s' of '%s' Op has type %s that does not match "
                                    "type %s of argument '%s'." % (
                                        n.lstrip("*"), opdef.op_type, t.dtype.base_dtype.name,
                                        group_dtype.name, first_name))
            if first_name is None:
                first_name = n.lstrip("*")
        if in_group and opdef.allowed is not None and check:
            dt = check[0].dtype.base_dtype
            if dt not in opdef.allowed:
                raise TypeError("Value passed to parameter '%s' has DataType %s not in list of "
                                "allowed values: %s" % (n.lstrip("*"), dt.name, ", ".join(
                                    d.name for d in opdef.allowed)))
    return out


def _convert_one(opdef: type, name: str, value: Any, want: Any, in_group: bool,
                 as_ref: bool, const_name: str = "Const") -> Tensor:
    if _is_graph_value(value):
        if type(value) is Tensor and value.dtype.is_ref_dtype:
            # TF1: a ref tensor (VariableV2, Assign output) is a direct input;
            # value inputs read it when the step runs (plan._wrap_deref).
            return value
        t = convert_to_tensor(value, as_ref=as_ref)
        if as_ref and not t.dtype.is_ref_dtype:
            raise TypeError("'%s' Op requires that input '%s' be a mutable tensor (e.g.: a "
                            "tf.Variable)" % (opdef.op_type, name))
        return t
    try:
        return convert_to_tensor(value, dtype=want, name=const_name)
    except (TypeError, ValueError) as e:
        if want is None:
            raise
        raise TypeError("Expected %s passed to parameter '%s' of op '%s', got %r of type '%s' "
                        "instead. Error: %s" % (dtypes.as_dtype(want).name, name,
                                                opdef.op_type, value, type(value).__name__,
                                                e)) from None


# --- build-time constant values ---------------------------------------------------------
_FOLD_MAX_OUTPUT = 1 << 20  # elements: larger results are left to run time
def constant_value(t: Any) -> Optional[np.ndarray]:
    """The value of ``t`` when it can be computed at build time, else None.

    Follows Const ops and small stateless ops whose inputs are all constant
    (shape arithmetic such as ``Shape``/``Pack``/``Cast``) using their references.
    """
    if not isinstance(t, Tensor):
        return None
    cache = getattr(t, "_const_cache", False)
    if cache is not False:
        return cache
    val = _constant_value(t)
    t._const_cache = val
    return val


def _constant_value(t: Tensor) -> Optional[np.ndarray]:
    op = t.op
    if op.type == "Const":
        return op._attrs["value"]
    if op.type == "Shape" and op.inputs[0].shape.is_fully_defined():
        return np.array(op.inputs[0].shape.as_list(), dtype=t.dtype.np)
    if op.type == "Size" and op.inputs[0].shape.is_fully_defined():
        return np.array(op.inputs[0].shape.num_elements(), dtype=t.dtype.np)
    if op.type == "Rank" and op.inputs[0].shape.ndims is not None:
        return np.array(op.inputs[0].shape.ndims, dtype=np.int32)
    opdef = op.op_def
    if opdef.stateful or opdef.reference is None or op._control_inputs:
        return None
    n_out = t.shape.num_elements()
    if n_out is not None and n_out > _FOLD_MAX_OUTPUT:  # e.g. Fill([2**40]): never fold
        return None
    vals = []
    for x in op.inputs:
        if x.shape.num_elements() is None or x.shape.num_elements() > opdef.fold_max_size:
            return None
        v = constant_value(x)
        if v is None:
            return None
        vals.append(v)
    try:
        args = _restructure(op, vals)
        res = opdef.reference(*args, **kernel_attrs(op))
    except Exception:  # noqa: BLE001 - folding is best effort; run time reports errors
        return None
    if isinstance(res, tuple):
        res = res[t.value_index]
    return np.asarray(res, dtype=t.dtype.base_dtype.np)


def _restructure(op: Operation, flat: list) -> list:
    """Regroup a flat input list into the op's declared (list) inputs."""
    args, i = [], 0
    for n in op._input_structure:
        if n is None:
            args.append(flat[i])
            i += 1
        else:
            args.append(list(flat[i:i + n]))
            i += n
    return args


def structured_inputs(op: Operation) -> list:
    """The op's inputs grouped as declared: list inputs come back as lists."""
    return _restructure(op, op.inputs)
