"""Math ops: elementwise arithmetic and unary math functions.

Each ``@register_op`` class is the single declaration of one TF op type: its
scalar kernel expression (compiled by ``kernels.codegen``), NumPy reference,
sampling domain and gradient. Gradients are built from ordinary ops so they
can be differentiated again. The snake_case builders below are the public API
(``tf.add`` ...), and the Python operators of Tensor are bound at the end.
Comparisons, logical ops and ``Cast`` live in ``compare_ops``.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from graphflow import dtypes
from graphflow.errors import InvalidArgumentError, KernelError
from graphflow.framework.graph import control_dependencies, get_default_graph, name_scope
from graphflow.framework.op_def import NOT_DIFFERENTIABLE, _is_graph_value, apply_op, register_op
from graphflow.framework.operation import Tensor, convert_to_tensor, graph_of, register_operator
from graphflow.ops import compare_ops
from graphflow.ops.compare_ops import *  # noqa: F401,F403  (re-exported names)
from graphflow.ops.compare_ops import cast, greater, greater_equal, less_equal
from graphflow.ops.elementwise import FLOATS, NUMERIC, SIGNED_NUMERIC, Elementwise
from graphflow.ops.grad_util import unbroadcast

FLOATS_I32_I64 = FLOATS + (dtypes.int32, dtypes.int64)

_NAMES = ["add", "subtract", "multiply", "divide", "truediv", "floordiv", "floormod", "mod",
          "pow", "maximum", "minimum", "squared_difference", "abs", "negative", "sign",
          "square", "sqrt", "rsqrt", "exp", "expm1", "log", "log1p", "tanh", "sigmoid", "sin",
          "cos", "floor", "ceil", "round", "reciprocal"]
MATH_API = _NAMES + compare_ops.MATH_API
__all__ = _NAMES + ["div"] + compare_ops.__all__


def _errstate(fn: Any) -> Any:
    """Wrap a NumPy reference so IEEE overflow/invalid/divide give no warnings."""
    def ref(*args: Any) -> Any:
        with np.errstate(all="ignore"):
            return fn(*args)
    return staticmethod(ref)


def _check_int_divisor(op: Any, x: np.ndarray, y: np.ndarray) -> None:
    if y.dtype.kind in "iu" and not y.all():
        raise KernelError(InvalidArgumentError, "Integer division by zero")


# --- binary arithmetic ----------------------------------------------------------------
@register_op
class AddV2(Elementwise):
    inputs = ("x", "y")
    allowed = NUMERIC
    expr = "{0} + {1}"
    reference = staticmethod(np.add)

    @staticmethod
    def grad(op: Any, dy: Any) -> list:
        x, y = op.inputs
        return [unbroadcast(dy, x, [y]), unbroadcast(dy, y, [x])]


@register_op
class Sub(Elementwise):
    inputs = ("x", "y")
    allowed = NUMERIC
    expr = "{0} - {1}"
    reference = staticmethod(np.subtract)

    @staticmethod
    def grad(op: Any, dy: Any) -> list:
        x, y = op.inputs
        gy = unbroadcast(dy, y, [x])
        return [unbroadcast(dy, x, [y]), None if gy is None else negative(gy)]


@register_op
class Mul(Elementwise):
    inputs = ("x", "y")
    allowed = NUMERIC
    expr = "{0} * {1}"
    reference = staticmethod(np.multiply)

    @staticmethod
    def grad(op: Any, dy: Any) -> list:
        x, y = op.inputs
        return [unbroadcast(multiply(dy, y), x, [y]), unbroadcast(multiply(dy, x), y, [x])]


def _div_grad(op: Any, dy: Any) -> list:
    """d(x/y) = dy / y, -dy * x / y^2 (as TF: realdiv(realdiv(-x, y), y))."""
    x, y = op.inputs
    gx = _realdiv(dy, y)
    gy = multiply(dy, _realdiv(_realdiv(negative(x), y), y))
    return [unbroadcast(gx, x, [y]), unbroadcast(gy, y, [x])]


@register_op
class RealDiv(Elementwise):
    """Float division (``x / y`` on float tensors)."""
    inputs = ("x", "y")
    allowed = FLOATS
    expr = "{0} / {1}"
    reference = _errstate(np.true_divide)
    nonzero = True
    grad = staticmethod(_div_grad)


def _trunc_div_ref(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if x.dtype.kind == "f":
        return np.true_divide(x, y)
    q = np.abs(x) // np.abs(y)  # C++ integer division: rounds toward zero
    return (q * np.sign(x) * np.sign(y)).astype(x.dtype)


@register_op
class Div(Elementwise):
    """TF's raw ``Div``: float division, integer division rounding toward zero."""
    inputs = ("x", "y")
    allowed = NUMERIC
    reference = _errstate(_trunc_div_ref)
    check = staticmethod(_check_int_divisor)
    nonzero = True
    grad = staticmethod(_div_grad)

    @classmethod
    def expr_for(cls, op: Any) -> str:
        if op.inputs[0].dtype.is_floating:
            return "{0} / {1}"
        return "({0} // {1}) + (1 if ({0} % {1} != 0 and (({0} < 0) != ({1} < 0))) else 0)"


def _floordiv_ref(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if x.dtype.kind == "f":
        return np.floor(x / y)  # TF: floor(x / y), not Python's fmod-based floor division
    return np.floor_divide(x, y)


@register_op
class FloorDiv(Elementwise):
    """Division rounding toward negative infinity (``x // y``)."""
    inputs = ("x", "y")
    allowed = NUMERIC
    reference = _errstate(_floordiv_ref)
    check = staticmethod(_check_int_divisor)
    nonzero = True
    grad = NOT_DIFFERENTIABLE

    @classmethod
    def expr_for(cls, op: Any) -> str:
        return "np.floor({0} / {1})" if op.inputs[0].dtype.is_floating else "{0} // {1}"


@register_op
class FloorMod(Elementwise):
    """Remainder with the sign of the divisor (``x % y``, ``tf.mod``)."""
    inputs = ("x", "y")
    allowed = NUMERIC
    reference = _errstate(np.mod)
    expr = "{0} % {1}"  # Numba follows Python: fmod, then + y when the signs differ
    check = staticmethod(_check_int_divisor)
    nonzero = True

    @staticmethod
    def grad(op: Any, dy: Any) -> list:
        x, y = op.inputs
        gy = multiply(dy, negative(floordiv(x, y)))
        return [unbroadcast(dy, x, [y]), unbroadcast(gy, y, [x])]


def _check_int_exponent(op: Any, x: np.ndarray, y: np.ndarray) -> None:
    if y.dtype.kind == "i" and (y < 0).any():
        raise KernelError(InvalidArgumentError,
                          "Integers to negative integer powers are not allowed")


@register_op
class Pow(Elementwise):
    inputs = ("x", "y")
    allowed = FLOATS_I32_I64
    expr = "{0} ** {1}"
    reference = _errstate(np.power)
    check = staticmethod(_check_int_exponent)
    domain = (0.5, 2.0)
    int_domain = (0, 5)

    @staticmethod
    def grad(op: Any, dy: Any) -> list:
        x, y = op.inputs
        z = op.outputs[0]
        gx = multiply(multiply(dy, y), pow(x, subtract(y, 1)))
        # log(x) where x > 0, else 0 (no false singularity at x <= 0)
        mask = cast(greater(x, 0), x.dtype.base_dtype)
        log_x = log(maximum(x, subtract(1, mask)))
        gy = multiply(multiply(dy, z), log_x)
        return [unbroadcast(gx, x, [y]), unbroadcast(gy, y, [x])]


def _select_grad(op: Any, dy: Any, selector: Any) -> list:
    """Route ``dy`` to x where ``selector(x, y)`` holds, else to y (ties go to x)."""
    x, y = op.inputs
    gx = multiply(dy, cast(selector(x, y), dy.dtype.base_dtype))
    gy = subtract(dy, gx)
    return [unbroadcast(gx, x, [y]), unbroadcast(gy, y, [x])]


@register_op
class Maximum(Elementwise):
    inputs = ("x", "y")
    allowed = NUMERIC
    expr = "np.maximum({0}, {1})"
    reference = staticmethod(np.maximum)

    @staticmethod
    def grad(op: Any, dy: Any) -> list:
        return _select_grad(op, dy, greater_equal)


@register_op
class Minimum(Elementwise):
    inputs = ("x", "y")
    allowed = NUMERIC
    expr = "np.minimum({0}, {1})"
    reference = staticmethod(np.minimum)

    @staticmethod
    def grad(op: Any, dy: Any) -> list:
        return _select_grad(op, dy, less_equal)


@register_op
class SquaredDifference(Elementwise):
    """(x - y)^2 elementwise."""
    inputs = ("x", "y")
    allowed = FLOATS_I32_I64
    expr = "({0} - {1}) * ({0} - {1})"
    reference = _errstate(lambda x, y: np.square(np.subtract(x, y)))

    @staticmethod
    def grad(op: Any, dy: Any) -> list:
        x, y = op.inputs
        g = multiply(multiply(2, dy), subtract(x, y))
        gy = unbroadcast(g, y, [x])
        return [unbroadcast(g, x, [y]), negative(gy)]


# --- unary math ------------------------------------------------------------------------
class _Unary(Elementwise):
    inputs = ("x",)
    allowed = FLOATS


@register_op
class Abs(_Unary):
    allowed = SIGNED_NUMERIC
    expr = "abs({0})"
    reference = staticmethod(np.abs)
    nonzero = True  # the kink at 0 has no finite-difference derivative

    @staticmethod
    def grad(op: Any, dy: Any) -> list:
        return [multiply(dy, sign(op.inputs[0]))]


@register_op
class Neg(_Unary):
    allowed = SIGNED_NUMERIC
    expr = "-{0}"
    reference = staticmethod(np.negative)

    @staticmethod
    def grad(op: Any, dy: Any) -> list:
        return [negative(dy)]


@register_op
class Sign(_Unary):
    allowed = SIGNED_NUMERIC
    expr = "sign({0})"
    reference = staticmethod(np.sign)
    nonzero = True

    @staticmethod
    def grad(op: Any, dy: Any) -> list:
        from graphflow.ops import array_ops
        return [array_ops.zeros_like(op.inputs[0])]


@register_op
class Square(_Unary):
    allowed = NUMERIC
    expr = "{0} * {0}"
    reference = _errstate(np.square)

    @staticmethod
    def grad(op: Any, dy: Any) -> list:
        # as TF: the constant 2 waits for the incoming gradient (`<op>_grad/Const`, ctrl=[dy])
        from graphflow.ops.array_ops import constant
        x = op.inputs[0]
        with control_dependencies([dy]):
            two = constant(2, dtype=x.dtype.base_dtype)
            return [multiply(dy, multiply(x, two))]


@register_op
class Sqrt(_Unary):
    expr = "np.sqrt({0})"
    reference = _errstate(np.sqrt)
    domain = (0.5, 3.0)

    @staticmethod
    def grad(op: Any, dy: Any) -> list:
        return [_realdiv(multiply(dy, 0.5), op.outputs[0])]


@register_op
class Rsqrt(_Unary):
    """1 / sqrt(x)."""
    expr = "T(1) / np.sqrt({0})"
    reference = _errstate(lambda x: np.reciprocal(np.sqrt(x)))
    domain = (0.5, 3.0)

    @staticmethod
    def grad(op: Any, dy: Any) -> list:
        y = op.outputs[0]
        return [multiply(multiply(dy, -0.5), multiply(y, square(y)))]


@register_op
class Exp(_Unary):
    expr = "fexp({0})"
    reference = _errstate(np.exp)

    @staticmethod
    def grad(op: Any, dy: Any) -> list:
        return [multiply(dy, op.outputs[0])]


@register_op
class Expm1(_Unary):
    """exp(x) - 1, accurate for small x."""
    expr = "np.expm1({0})"
    reference = _errstate(np.expm1)

    @staticmethod
    def grad(op: Any, dy: Any) -> list:
        return [multiply(dy, exp(op.inputs[0]))]


@register_op
class Log(_Unary):
    expr = "flog({0})"
    reference = _errstate(np.log)
    domain = (0.5, 3.0)

    @staticmethod
    def grad(op: Any, dy: Any) -> list:
        return [multiply(dy, reciprocal(op.inputs[0]))]


@register_op
class Log1p(_Unary):
    """log(1 + x), accurate for small x."""
    expr = "np.log1p({0})"
    reference = _errstate(np.log1p)
    domain = (0.1, 3.0)

    @staticmethod
    def grad(op: Any, dy: Any) -> list:
        return [multiply(dy, reciprocal(add(1, op.inputs[0])))]


@register_op
class Tanh(_Unary):
    expr = "ftanh({0})"
    reference = staticmethod(np.tanh)
    domain = (-3.0, 3.0)

    @staticmethod
    def grad(op: Any, dy: Any) -> list:
        # as TF 1.x: one TanhGrad(y, dy) op (`<op>_grad/TanhGrad`)
        return [apply_op("TanhGrad", op.outputs[0], dy, name="TanhGrad")]


@register_op
class TanhGrad(Elementwise):
    """``dy * (1 - y * y)``: the gradient of ``y = tanh(x)`` (TF's ``TanhGrad``)."""
    inputs = ("y", "dy")
    allowed = FLOATS
    expr = "{1} * (T(1) - {0} * {0})"
    reference = _errstate(lambda y, dy: dy * (1 - y * y))

    @staticmethod
    def grad(op: Any, g: Any) -> list:
        # TF's _TanhGradGrad: d/dy = g * -2 * dy * y, d/d(dy) = TanhGrad(y, g); summed
        # back to each input's shape when they were broadcast (TF requires equal shapes)
        y, dy = op.inputs
        with control_dependencies([g]):
            return [unbroadcast(g * -2.0 * dy * y, y, [dy]),
                    unbroadcast(apply_op("TanhGrad", y, g, name="TanhGrad"), dy, [y])]


@register_op
class Sigmoid(_Unary):
    """1 / (1 + exp(-x))."""
    expr = "fsigmoid({0})"
    reference = _errstate(lambda x: 1 / (1 + np.exp(-x)))
    domain = (-4.0, 4.0)

    @staticmethod
    def grad(op: Any, dy: Any) -> list:
        # as TF 1.x: one SigmoidGrad(y, dy) op (`<op>_grad/SigmoidGrad`)
        return [apply_op("SigmoidGrad", op.outputs[0], dy, name="SigmoidGrad")]


@register_op
class SigmoidGrad(Elementwise):
    """``dy * y * (1 - y)``: the gradient of ``y = sigmoid(x)`` (TF's ``SigmoidGrad``)."""
    inputs = ("y", "dy")
    allowed = FLOATS
    expr = "{1} * ({0} * (T(1) - {0}))"
    reference = _errstate(lambda y, dy: dy * (y * (1 - y)))

    @staticmethod
    def grad(op: Any, g: Any) -> list:
        # TF's _SigmoidGradGrad: gb = g * dy; d/dy = gb - 2 * gb * y,
        # d/d(dy) = SigmoidGrad(y, g); summed back to broadcast inputs' shapes
        y, dy = op.inputs
        with control_dependencies([g]):
            gb = g * dy
            return [unbroadcast(gb - 2.0 * gb * y, y, [dy]),
                    unbroadcast(apply_op("SigmoidGrad", y, g, name="SigmoidGrad"), dy, [y])]


@register_op
class Sin(_Unary):
    expr = "np.sin({0})"
    reference = staticmethod(np.sin)
    domain = (-3.0, 3.0)

    @staticmethod
    def grad(op: Any, dy: Any) -> list:
        return [multiply(dy, cos(op.inputs[0]))]


@register_op
class Cos(_Unary):
    expr = "np.cos({0})"
    reference = staticmethod(np.cos)
    domain = (-3.0, 3.0)

    @staticmethod
    def grad(op: Any, dy: Any) -> list:
        return [multiply(negative(dy), sin(op.inputs[0]))]


@register_op
class Floor(_Unary):
    expr = "np.floor({0})"
    reference = staticmethod(np.floor)
    grad = NOT_DIFFERENTIABLE


@register_op
class Ceil(_Unary):
    expr = "np.ceil({0})"
    reference = staticmethod(np.ceil)
    grad = NOT_DIFFERENTIABLE


@register_op
class Round(_Unary):
    """Round half to even (banker's rounding), as tf.round."""
    allowed = FLOATS_I32_I64
    reference = staticmethod(np.rint)
    grad = NOT_DIFFERENTIABLE

    @classmethod
    def expr_for(cls, op: Any) -> str:
        return "np.rint({0})" if op.inputs[0].dtype.is_floating else "{0}"


@register_op
class Reciprocal(_Unary):
    expr = "T(1) / {0}"
    reference = _errstate(np.reciprocal)
    nonzero = True

    @staticmethod
    def grad(op: Any, dy: Any) -> list:
        return [multiply(negative(dy), square(op.outputs[0]))]


# --- builders ------------------------------------------------------------------------
def _operands(x: Any, y: Any) -> tuple:
    """Convert two operands as TF's operator wrappers do: a Python value takes
    the other operand's dtype when it can, and its Const is named ``x``/``y``."""
    if type(x) is Tensor and type(y) is Tensor and not x._dtype._ref and not y._dtype._ref:
        return x, y  # nothing to convert
    if not _is_graph_value(x) and _is_graph_value(y):
        y = convert_to_tensor(y)
        return convert_to_tensor(x, preferred_dtype=y.dtype.base_dtype, name="x"), y
    x = convert_to_tensor(x, name="x")
    return x, convert_to_tensor(y, preferred_dtype=x.dtype.base_dtype, name="y")


def _same_dtype(x: Tensor, y: Tensor) -> dtypes.DType:
    dx, dy = x.dtype.base_dtype, y.dtype.base_dtype
    if dx != dy:
        raise TypeError("`x` and `y` must have the same dtype, got %r != %r." % (dx, dy))
    return dx


def add(x: Any, y: Any, name: Optional[str] = None) -> Any:
    """x + y elementwise with broadcasting. Same as tf.add (op type AddV2)."""
    return apply_op("AddV2", x, y, name=name or "Add")


def subtract(x: Any, y: Any, name: Optional[str] = None) -> Any:
    """x - y elementwise. Same as tf.subtract (op Sub)."""
    return apply_op("Sub", x, y, name=name or "Sub")


def multiply(x: Any, y: Any, name: Optional[str] = None) -> Any:
    """x * y elementwise. Same as tf.multiply (op Mul)."""
    return apply_op("Mul", x, y, name=name or "Mul")


def _realdiv(x: Any, y: Any, name: Optional[str] = None) -> Any:
    return apply_op("RealDiv", x, y, name=name or "RealDiv")


_TRUEDIV_DTYPE = {dtypes.int8: dtypes.float32, dtypes.uint8: dtypes.float32,
                  dtypes.int16: dtypes.float32, dtypes.uint16: dtypes.float32,
                  dtypes.int32: dtypes.float64, dtypes.int64: dtypes.float64,
                  dtypes.uint32: dtypes.float64, dtypes.uint64: dtypes.float64}
_TRUEDIV_ACCEPTED = (dtypes.uint8, dtypes.int8, dtypes.uint16, dtypes.int16, dtypes.uint32,
                     dtypes.int32, dtypes.uint64, dtypes.int64, dtypes.float16, dtypes.float32,
                     dtypes.float64, dtypes.complex64, dtypes.complex128)


def truediv(x: Any, y: Any, name: Optional[str] = None) -> Any:
    """Python-3 division: integers are cast to float first (int32 -> float64). Same
    as tf.truediv / ``x / y`` (op RealDiv)."""
    with name_scope(name, "truediv", [x, y]) as scope:
        x, y = _operands(x, y)
        dt = _same_dtype(x, y)
        if not dt.is_floating:
            if dt not in _TRUEDIV_DTYPE:
                raise TypeError("Invalid dtype %r in __truediv__. Expected one of {%s}." % (
                    dt, ", ".join(repr(d) for d in _TRUEDIV_ACCEPTED)))
            x, y = cast(x, _TRUEDIV_DTYPE[dt]), cast(y, _TRUEDIV_DTYPE[dt])
        return _realdiv(x, y, name=scope)


def divide(x: Any, y: Any, name: Optional[str] = None) -> Any:
    """x / y with Python-3 semantics. Same as tf.divide."""
    return truediv(x, y, name=name)


def div(x: Any, y: Any, name: Optional[str] = None) -> Any:
    """Python-2 division: floor division for integers, RealDiv for floats. Same as
    TF1's tf.div."""
    with name_scope(name, "div", [x, y]) as scope:
        x, y = _operands(x, y)
        dt = _same_dtype(x, y)
        return apply_op("RealDiv" if dt.is_floating else "FloorDiv", x, y, name=scope)


def floordiv(x: Any, y: Any, name: Optional[str] = None) -> Any:
    """Division rounding toward -inf (floor(x / y) for floats). Same as tf.floordiv."""
    with name_scope(name, "floordiv", [x, y]) as scope:
        return apply_op("FloorDiv", x, y, name=scope)


def floormod(x: Any, y: Any, name: Optional[str] = None) -> Any:
    """Remainder of floor division (sign of y). Same as tf.floormod / tf.mod."""
    return apply_op("FloorMod", x, y, name=name or "FloorMod")


mod = floormod


def pow(x: Any, y: Any, name: Optional[str] = None) -> Any:  # noqa: A001  (TF's name)
    """x ** y elementwise. Same as tf.pow (op Pow)."""
    with name_scope(name, "Pow", [x]) as scope:
        return apply_op("Pow", x, y, name=scope)


def maximum(x: Any, y: Any, name: Optional[str] = None) -> Any:
    """max(x, y) elementwise (NaN propagates). Same as tf.maximum."""
    return apply_op("Maximum", x, y, name=name or "Maximum")


def minimum(x: Any, y: Any, name: Optional[str] = None) -> Any:
    """min(x, y) elementwise (NaN propagates). Same as tf.minimum."""
    return apply_op("Minimum", x, y, name=name or "Minimum")


def squared_difference(x: Any, y: Any, name: Optional[str] = None) -> Any:
    """(x - y)^2 elementwise. Same as tf.squared_difference."""
    return apply_op("SquaredDifference", x, y, name=name or "SquaredDifference")


def _unary_builder(op_type: str, doc: str) -> Any:
    def build(x: Any, name: Optional[str] = None) -> Any:
        return apply_op(op_type, x, name=name or op_type)
    build.__doc__ = "%s Same as tf.%s (op %s)." % (doc, _PUBLIC[op_type], op_type)
    build.__name__ = _PUBLIC[op_type]
    return build


_PUBLIC = {"Abs": "abs", "Neg": "negative", "Sign": "sign", "Square": "square",
           "Sqrt": "sqrt", "Rsqrt": "rsqrt", "Exp": "exp", "Expm1": "expm1", "Log": "log",
           "Log1p": "log1p", "Tanh": "tanh", "Sigmoid": "sigmoid", "Sin": "sin", "Cos": "cos",
           "Floor": "floor", "Ceil": "ceil", "Reciprocal": "reciprocal"}
abs = _unary_builder("Abs", "|x| elementwise.")  # noqa: A001  (TF's name)
negative = _unary_builder("Neg", "-x elementwise.")
sign = _unary_builder("Sign", "-1, 0 or 1 by the sign of x (NaN stays NaN).")
square = _unary_builder("Square", "x * x elementwise.")
sqrt = _unary_builder("Sqrt", "Square root elementwise.")
rsqrt = _unary_builder("Rsqrt", "1 / sqrt(x) elementwise.")
exp = _unary_builder("Exp", "e ** x elementwise.")
expm1 = _unary_builder("Expm1", "exp(x) - 1 elementwise.")
log = _unary_builder("Log", "Natural logarithm elementwise.")
log1p = _unary_builder("Log1p", "log(1 + x) elementwise.")
tanh = _unary_builder("Tanh", "Hyperbolic tangent elementwise.")
sigmoid = _unary_builder("Sigmoid", "1 / (1 + exp(-x)) elementwise.")
sin = _unary_builder("Sin", "Sine elementwise.")
cos = _unary_builder("Cos", "Cosine elementwise.")
floor = _unary_builder("Floor", "Largest integer not greater than x, elementwise.")
ceil = _unary_builder("Ceil", "Smallest integer not less than x, elementwise.")
reciprocal = _unary_builder("Reciprocal", "1 / x elementwise.")


def round(x: Any, name: Optional[str] = None) -> Any:  # noqa: A001  (TF's name)
    """Round half to even. Integer tensors are returned unchanged. Same as tf.round."""
    x = convert_to_tensor(x)
    if x.dtype.is_integer:
        return x
    return apply_op("Round", x, name=name or "Round")


# --- Python operators ------------------------------------------------------------------
def _operator(key: str, scope_name: str, build: Any) -> None:
    """Bind ``Tensor.__<key>__`` to ``build`` inside name scope ``scope_name`` (as TF)."""
    def apply(x: Any, y: Any) -> Any:
        g = get_default_graph()
        if graph_of((x, y)) in (g, None):  # tf.name_scope without its graph switch
            with g.name_scope(scope_name) as scope:
                x, y = _operands(x, y)
                return build(x, y, name=scope)
        with name_scope(None, scope_name, [x, y]) as scope:
            x, y = _operands(x, y)
            return build(x, y, name=scope)
    apply.__name__ = "tensor_" + key
    register_operator(key, apply)


_operator("add", "add", add)
_operator("sub", "sub", subtract)
_operator("mul", "mul", multiply)
_operator("truediv", "truediv", truediv)
_operator("floordiv", "floordiv", floordiv)
_operator("mod", "mod", floormod)
_operator("pow", "pow", pow)
register_operator("neg", lambda x: negative(x))
register_operator("abs", lambda x: abs(x))
compare_ops.register_operators(_operator)
