"""Operation (a node) and Tensor (an op output), with Python operator overloads.

Operators dispatch through ``_OPERATORS``, filled by ``ops.math_ops`` and
``ops.array_ops`` at import, so this module stays free of op definitions.
"""
from __future__ import annotations

import linecache
import sys
import traceback
from typing import Any, Callable, Optional


from graphflow import dtypes as _dtypes
from graphflow.framework.graph import Graph as _Graph
from graphflow.framework.tensor_shape import TensorShape, as_shape

_OPERATORS: dict = {}
_DType = _dtypes.DType


def register_operator(name: str, fn: Callable) -> None:
    """Bind a Python operator (``'add'``, ``'getitem'``, ...) to a builder."""
    _OPERATORS[name] = fn


class Operation:
    """A node of the graph (same as ``tf.Operation``)."""

    def __init__(self, graph: Any, op_def: Any, name: str, inputs: list,
                 control_inputs: list, attrs: dict, device: str = "") -> None:
        self._graph = graph
        self._op_def = op_def
        self._name = name
        self._type = op_def.op_type
        self._inputs = list(inputs)
        self._control_inputs = list(control_inputs)
        self._attrs = attrs
        self._device = device
        self._outputs: list = []
        self._control_outputs: list = []
        self._id = len(graph._ops)
        self._stack = _capture_stack(_STACK_SKIP)
        self._traceback: Optional[traceback.StackSummary] = None
        self._gradient_type: Optional[str] = None

    # --- TF API ---------------------------------------------------------------
    @property
    def name(self) -> str:
        """The op's unique name in its graph, with its scopes (``'layer/MatMul'``)."""
        return self._name

    @property
    def type(self) -> str:
        """The op type, TF's CamelCase name (``'MatMul'``, ``'AddV2'``)."""
        return self._type

    @property
    def graph(self) -> Any:
        """The Graph the op belongs to."""
        return self._graph

    @property
    def inputs(self) -> list:
        """The data input Tensors, in order (a new list)."""
        return list(self._inputs)

    @property
    def outputs(self) -> list:
        """The output Tensors, in order (a new list)."""
        return list(self._outputs)

    @property
    def control_inputs(self) -> list:
        """The Operations that must run before this one (a new list)."""
        return list(self._control_inputs)

    @property
    def device(self) -> str:
        """The requested device string ('' if none); recorded, not used."""
        return self._device

    @property
    def op_def(self) -> Any:
        """The registry declaration (``OpDef`` subclass) of the op's type."""
        return self._op_def

    @property
    def traceback(self) -> traceback.StackSummary:
        """The Python stack where the op was built, outermost frame first.

        A ``traceback.StackSummary`` of up to 9 ``FrameSummary`` entries
        ``(filename, lineno, name, line)`` ending at the call that built the
        op (``tf.Operation.traceback``). Only code objects and line numbers are
        recorded at creation; the summary is built on first access.
        """
        if self._traceback is None:
            self._traceback = _format_stack(self._stack)
        return self._traceback

    @property
    def values(self) -> tuple:
        """The output Tensors as a tuple."""
        return tuple(self._outputs)

    @property
    def node_def(self) -> Any:
        """The op as a ``NodeDef`` protocol buffer (as in a GraphDef)."""
        from graphflow.io import graph_def  # noqa: F401  (formats issue)
        return graph_def.node_def(self)

    def get_attr(self, name: str) -> Any:
        """Value of attr ``name``; ValueError when the op has no such attr."""
        if name not in self._attrs:
            raise ValueError("Operation '%s' has no attr named '%s'." % (self._name, name))
        return self._attrs[name]

    @property
    def attrs(self) -> dict:
        """A copy of the op's attrs as a dict (name -> value)."""
        return dict(self._attrs)

    def _set_attr(self, name: str, value: Any) -> None:
        self._attrs[name] = value

    def _add_control_input(self, op: "Operation") -> None:
        if op not in self._control_inputs:
            self._control_inputs.append(op)

    def _add_control_inputs(self, ops: list) -> None:
        for op in ops:
            self._add_control_input(op)

    def run(self, feed_dict: Optional[dict] = None, session: Any = None) -> None:
        """Run this op in ``session`` or the default session; returns None."""
        _default_session_for(self._graph, session, "op").run(self, feed_dict)

    def __repr__(self) -> str:
        return "<tf.Operation '%s' type=%s>" % (self._name, self._type)

    def __str__(self) -> str:
        lines = ['name: "%s"' % self._name, 'op: "%s"' % self._type]
        lines += ['input: "%s"' % _input_name(t) for t in self._inputs]
        lines += ['input: "^%s"' % c.name for c in self._control_inputs]
        return "\n".join(lines)


# Frames above Operation.__init__ not recorded (it, create_op, apply_op); then
# at most _STACK_LIMIT frames, as ``traceback.extract_stack(limit=12)[:-3]`` did.
_STACK_SKIP = 3
_STACK_LIMIT = 9  # fixed by the unrolling in _capture_stack


def _capture_stack(skip: int) -> tuple:
    """The stack from ``skip`` frames above the caller, innermost first, as a flat
    tuple ``(code, lasti, code, lasti, ...)`` of at most ``_STACK_LIMIT`` frames:
    ~0.5 us, keeps no frame alive.

    Line numbers are derived from the instruction offsets when the traceback
    is formatted (``_line_of``). Unrolled: no loop, no call, no exception.
    """
    try:
        f0 = sys._getframe(skip + 1)
    except ValueError:
        return ()
    f1 = f0.f_back
    f2 = f1.f_back if f1 is not None else None
    f3 = f2.f_back if f2 is not None else None
    f4 = f3.f_back if f3 is not None else None
    f5 = f4.f_back if f4 is not None else None
    f6 = f5.f_back if f5 is not None else None
    f7 = f6.f_back if f6 is not None else None
    f8 = f7.f_back if f7 is not None else None
    if f8 is not None:
        return (f0.f_code, f0.f_lasti, f1.f_code, f1.f_lasti, f2.f_code, f2.f_lasti,
                f3.f_code, f3.f_lasti, f4.f_code, f4.f_lasti, f5.f_code, f5.f_lasti,
                f6.f_code, f6.f_lasti, f7.f_code, f7.f_lasti, f8.f_code, f8.f_lasti)
    out: list = []
    for f in (f0, f1, f2, f3, f4, f5, f6, f7):  # a shallower stack
        if f is None:
            break
        out += (f.f_code, f.f_lasti)
    return tuple(out)


def _line_of(code: Any, lasti: int) -> Optional[int]:
    """The source line of instruction offset ``lasti`` in ``code`` (what a live
    frame reports as ``f_lineno``)."""
    for start, end, line in code.co_lines():
        if start <= lasti < end:
            return line
    return code.co_firstlineno


def _format_stack(stack: tuple) -> traceback.StackSummary:
    """A ``StackSummary`` (outermost first) of a stack from ``_capture_stack``,
    with source lines looked up now (as ``traceback.extract_stack`` does)."""
    frames = [traceback.FrameSummary(stack[i].co_filename, _line_of(stack[i], stack[i + 1]),
                                     stack[i].co_name, lookup_line=False)
              for i in range(len(stack) - 2, -1, -2)]
    for filename in {f.filename for f in frames}:
        linecache.checkcache(filename)
    for f in frames:
        f.line  # noqa: B018  (loads the source line)
    return traceback.StackSummary.from_list(frames)


_NO_SESSION = {
    "tensor": "Cannot evaluate tensor using `eval()`: No default session is registered. Use "
              "`with sess.as_default()` or pass an explicit session to `eval(session=sess)`",
    "op": "Cannot execute operation using `run()`: No default session is registered. Use "
          "`with sess.as_default():` or pass an explicit session to `run(session=sess)`",
}
_OTHER_GRAPH_DEFAULT = {
    "tensor": "Cannot use the default session to evaluate tensor: the tensor's graph is "
              "different from the session's graph. Pass an explicit session to "
              "`eval(session=sess)`.",
    "op": "Cannot use the default session to execute operation: the operation's graph is "
          "different from the session's graph. Pass an explicit session to "
          "run(session=sess).",
}
_OTHER_GRAPH_GIVEN = {
    "tensor": "Cannot use the given session to evaluate tensor: the tensor's graph is "
              "different from the session's graph.",
    "op": "Cannot use the given session to execute operation: the operation's graph is "
          "different from the session's graph.",
}


def _default_session_for(graph: Any, session: Any, kind: str) -> Any:
    """``session`` or the default session, checked against ``graph`` (TF1's rules)."""
    if session is not None:
        if session.graph is not graph:
            raise ValueError(_OTHER_GRAPH_GIVEN[kind])
        return session
    from graphflow.runtime.session import get_default_session
    session = get_default_session()
    if session is None:
        raise ValueError(_NO_SESSION[kind])
    if session.graph is not graph:
        raise ValueError(_OTHER_GRAPH_DEFAULT[kind])
    return session


def _input_name(t: "Tensor") -> str:
    return t.op.name if t.value_index == 0 else "%s:%d" % (t.op.name, t.value_index)


class Tensor:
    """Output ``value_index`` of an op (same as a TF1 graph ``tf.Tensor``)."""

    __array_priority__ = 100  # make numpy defer to our reflected operators

    def __init__(self, op: Operation, value_index: int, dtype: Any, shape: Any) -> None:
        self._op = op
        self._value_index = value_index
        self._dtype = dtype if type(dtype) is _DType else _dtypes.as_dtype(dtype)
        self._shape = shape if type(shape) is TensorShape else as_shape(shape)
        self._consumers: list = []

    @property
    def op(self) -> Operation:
        """The Operation that produces this tensor."""
        return self._op

    @property
    def graph(self) -> Any:
        """The Graph of the tensor's op."""
        return self._op._graph

    @property
    def value_index(self) -> int:
        """The tensor's output index in its op (``i`` in ``'op:i'``)."""
        return self._value_index

    @property
    def name(self) -> str:
        """``'<op name>:<index>'``, e.g. ``'MatMul:0'``."""
        return "%s:%d" % (self._op._name, self._value_index)

    @property
    def dtype(self) -> Any:
        """The element type, a ``DType`` (``tf.float32``; ``float32_ref`` for a variable's ref)."""
        return self._dtype

    @property
    def shape(self) -> TensorShape:
        """The static ``TensorShape`` (dimensions may be unknown)."""
        return self._shape

    @property
    def device(self) -> str:
        """The device of the tensor's op."""
        return self._op._device

    def get_shape(self) -> TensorShape:
        """The static ``TensorShape`` (same as ``shape``)."""
        return self._shape

    def set_shape(self, shape: Any) -> None:
        """Refine the static shape; ValueError when incompatible."""
        shape = as_shape(shape)
        if shape._dims == self._shape._dims:
            return
        if not self._shape.is_compatible_with(shape):
            raise ValueError("Tensor's shape %s is not compatible with supplied shape %s"
                             % (self._shape, shape))
        self._shape = self._shape.merge_with(shape)

    def consumers(self) -> list:
        """The Operations that take this tensor as a data input."""
        return list(self._consumers)

    def eval(self, feed_dict: Optional[dict] = None, session: Any = None) -> Any:
        """Evaluate in ``session`` or the default session."""
        return _default_session_for(self.graph, session, "tensor").run(self, feed_dict)

    def _as_node_def_input(self) -> str:
        return _input_name(self)

    # --- Python protocol ------------------------------------------------------
    def __repr__(self) -> str:
        return "<tf.Tensor '%s' shape=%s dtype=%s>" % (self.name, self._shape, self._dtype.name)

    def __str__(self) -> str:
        return 'Tensor("%s", shape=%s, dtype=%s)' % (self.name, self._shape, self._dtype.name)

    # Equality and hashing are object identity (TF1); the inherited C slots
    # keep dict lookups keyed by tensors fast in Session.run.
    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        raise TypeError("Using a `tf.Tensor` as a Python `bool` is not allowed. Use `if t is "
                        "not None:` instead of `if t:` to test if a tensor is defined, and use "
                        "TensorFlow ops such as tf.cond to execute subgraphs conditioned on "
                        "the value of a tensor.")

    def __len__(self) -> int:
        raise TypeError("len is not well defined for symbolic Tensors. (%s) Please call "
                        "`x.shape` rather than `len(x)` for shape information." % self.name)

    def __iter__(self):
        if self._shape.ndims is None or self._shape.ndims == 0:
            raise TypeError("Cannot iterate over a scalar tensor." if self._shape.ndims == 0
                            else "Cannot iterate over a tensor with unknown shape.")
        n = self._shape[0]
        if n is None:
            raise TypeError("Cannot iterate over a tensor with unknown first dimension.")
        return (self[i] for i in range(n))

    def __array__(self, dtype: Any = None, copy: Any = None):
        raise NotImplementedError(
            "Cannot convert a symbolic Tensor (%s) to a numpy array." % self.name)

    def __getitem__(self, key: Any) -> "Tensor":
        return _OPERATORS["getitem"](self, key)


def _binary(name: str, reverse: bool = False) -> Callable:
    def method(self: Any, other: Any) -> Tensor:
        fn = _OPERATORS[name]
        return fn(other, self) if reverse else fn(self, other)
    method.__name__ = "__%s%s__" % ("r" if reverse else "", name)
    return method


def _unary(name: str) -> Callable:
    def method(self: Any) -> Tensor:
        return _OPERATORS[name](self)
    method.__name__ = "__%s__" % name
    return method


_BINARY = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul",
           "and", "or", "xor")
_COMPARE = ("lt", "le", "gt", "ge")
_UNARY = ("neg", "abs", "invert")


def overload_operators(cls: type) -> None:
    """Install arithmetic/comparison operators that build ops (Tensor, Variable)."""
    for n in _BINARY:
        setattr(cls, "__%s__" % n, _binary(n))
        setattr(cls, "__r%s__" % n, _binary(n, reverse=True))
    setattr(cls, "__div__", _binary("truediv"))
    setattr(cls, "__rdiv__", _binary("truediv", reverse=True))
    for n in _COMPARE:
        setattr(cls, "__%s__" % n, _binary(n))
    for n in _UNARY:
        setattr(cls, "__%s__" % n, _unary(n))


overload_operators(Tensor)


# --- conversion ------------------------------------------------------------------
_CONVERSION: list = []  # (type, fn(value, dtype, name, as_ref) -> Tensor)


def register_tensor_conversion_function(base_type: Any, conversion_func: Callable,
                                        priority: int = 100) -> None:
    """Teach ``convert_to_tensor`` a new type (same as TF's function)."""
    _CONVERSION.append((priority, base_type, conversion_func))
    _CONVERSION.sort(key=lambda t: t[0])


def convert_to_tensor(value: Any, dtype: Any = None, name: Optional[str] = None,
                      preferred_dtype: Any = None, as_ref: bool = False,
                      dtype_hint: Any = None) -> Tensor:
    """Turn a Tensor, Variable, IndexedSlices or Python/numpy value into a Tensor."""
    if type(value) is Tensor and dtype is None and not value._dtype._ref:
        return value  # the common case, decided without the checks below
    preferred_dtype = preferred_dtype or dtype_hint
    if isinstance(value, Tensor):
        if dtype is not None:
            want = _dtypes.as_dtype(dtype)
            if not want.is_compatible_with(value.dtype):
                raise ValueError("Tensor conversion requested dtype %s for Tensor with dtype "
                                 "%s: %r" % (want.name, value.dtype.base_dtype.name, value))
        if not as_ref and value.dtype.is_ref_dtype:
            return _OPERATORS["deref"](value)
        return value
    for _, base, fn in _CONVERSION:
        if isinstance(value, base):
            t = fn(value, dtype=dtype, name=name, as_ref=as_ref)
            if dtype is not None and not _dtypes.as_dtype(dtype).is_compatible_with(t.dtype):
                raise ValueError("Tensor conversion requested dtype %s for Tensor with dtype "
                                 "%s: %r" % (_dtypes.as_dtype(dtype).name, t.dtype.name, t))
            return t
    if isinstance(value, Operation):
        raise TypeError("Can not convert a Operation into a Tensor.")
    if value is None:
        raise ValueError("None values not supported.")
    if dtype is None and preferred_dtype is not None:
        try:
            return _OPERATORS["constant"](value, dtype=preferred_dtype, name=name or "Const")
        except (TypeError, ValueError):
            pass
    return _OPERATORS["constant"](value, dtype=dtype, name=name or "Const")


def convert_n_to_tensor(values: list, dtype: Any = None, name: Optional[str] = None) -> list:
    return [convert_to_tensor(v, dtype=dtype) for v in values]


def is_tensor(x: Any) -> bool:
    """True for a Tensor or a tensor-like graph object such as a Variable (``tf.is_tensor``)."""
    return isinstance(x, Tensor) or hasattr(x, "_as_graph_element")


def graph_of(values: Any) -> Any:
    """The graph of the first graph element found in (nested) ``values``."""
    if type(values) is Tensor:
        return values._op._graph
    if isinstance(values, (list, tuple)):
        for v in values:
            g = v._op._graph if type(v) is Tensor else graph_of(v)
            if g is not None:
                return g
        return None
    if isinstance(values, (Tensor, Operation)):
        return values.graph
    g = getattr(values, "graph", None)
    return g if isinstance(g, _Graph) else None


