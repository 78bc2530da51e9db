"""Neural-network ops: activations, softmax, L2 loss, bias add; the tf.nn namespace.

Each ``@register_op`` class is the single declaration of one TF op type. The
activation gradients use TF's dedicated ``*Grad`` ops (declared here too, each
with its own gradient, so second derivatives work); the softmax family runs
Numba row kernels from ``kernels.nn_kernels``. Builders composed of other ops
(dropout, embedding_lookup, moments, ...) live in ``nn_impl`` and the
cross-entropy ops in ``xent_ops``. ``NN_API`` lists the ``tf.nn`` names.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from graphflow import dtypes
from graphflow.errors import InvalidArgumentError, KernelError
from graphflow.framework.graph import name_scope
from graphflow.framework.op_def import OpDef, apply_op, constant_value, register_op
from graphflow.framework.operation import Operation, Tensor, convert_to_tensor
from graphflow.framework.tensor_shape import TensorShape
from graphflow.kernels import nn_kernels
from graphflow.ops._nn_util import (as_f32, axis_arg, move_axis_to_end, node_desc, rank_error,
                                    shape_str, tf_api)
from graphflow.ops.elementwise import FLOATS, NUMERIC, Elementwise
from graphflow.ops.grad_util import unbroadcast

NN_API = ["relu", "relu6", "elu", "softplus", "leaky_relu", "sigmoid", "tanh", "softmax",
          "log_softmax", "softmax_cross_entropy_with_logits",
          "softmax_cross_entropy_with_logits_v2", "sparse_softmax_cross_entropy_with_logits",
          "sigmoid_cross_entropy_with_logits", "l2_loss", "l2_normalize", "bias_add",
          "xw_plus_b", "dropout", "embedding_lookup", "moments", "batch_normalization",
          "weighted_cross_entropy_with_logits"]
__all__: list = []  # tf.nn names are not top-level tf names in TF 1.x


def _zeros_like(t: Tensor) -> Tensor:
    return tf_api().zeros_like(t)


def _binary_grads(op: Operation, d0: Any, d1: Any) -> list:
    """Gradients of a two-input broadcasting op, summed back to each input's
    shape; a None ``d1`` means "zero" (the slope is 0 almost everywhere)."""
    a, b = op.inputs
    d1 = _zeros_like(b) if d1 is None else unbroadcast(d1, b, [a])
    return [unbroadcast(d0, a, [b]), d1]


# --- elementwise activations ----------------------------------------------------------------
@register_op
class Relu(Elementwise):
    """max(features, 0); NaN passes through."""
    inputs = ("features",)
    allowed = NUMERIC
    expr = "T(0) if {0} < T(0) else {0}"

    @staticmethod
    def reference(x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0)

    @staticmethod
    def grad(op: Operation, dy: Tensor) -> list:
        return [apply_op("ReluGrad", dy, op.outputs[0])]


@register_op
class ReluGrad(Elementwise):
    """gradients where features > 0, else 0."""
    inputs = ("gradients", "features")
    allowed = NUMERIC
    expr = "{0} if {1} > T(0) else T(0)"

    @staticmethod
    def reference(g: np.ndarray, f: np.ndarray) -> np.ndarray:
        return np.where(f > 0, g, np.zeros_like(g))

    @staticmethod
    def grad(op: Operation, dy: Tensor) -> list:
        return _binary_grads(op, apply_op("ReluGrad", dy, op.inputs[1]), None)


@register_op
class Relu6(Elementwise):
    """min(max(features, 0), 6)."""
    inputs = ("features",)
    allowed = NUMERIC
    expr = "T(0) if {0} < T(0) else (T(6) if {0} > T(6) else {0})"
    domain = (-3.0, 9.0)
    int_domain = (-3, 10)

    @staticmethod
    def reference(x: np.ndarray) -> np.ndarray:
        return np.minimum(np.maximum(x, 0), 6)

    @staticmethod
    def grad(op: Operation, dy: Tensor) -> list:
        return [apply_op("Relu6Grad", dy, op.outputs[0])]


@register_op
class Relu6Grad(Elementwise):
    """gradients where 0 < features < 6, else 0."""
    inputs = ("gradients", "features")
    allowed = NUMERIC
    expr = "{0} if ({1} > T(0) and {1} < T(6)) else T(0)"
    domain = (-3.0, 9.0)
    int_domain = (-3, 10)

    @staticmethod
    def reference(g: np.ndarray, f: np.ndarray) -> np.ndarray:
        return np.where((f > 0) & (f < 6), g, np.zeros_like(g))

    @staticmethod
    def grad(op: Operation, dy: Tensor) -> list:
        return _binary_grads(op, apply_op("Relu6Grad", dy, op.inputs[1]), None)


@register_op
class Elu(Elementwise):
    """features if > 0 else exp(features) - 1."""
    inputs = ("features",)
    allowed = FLOATS
    expr = "{0} if {0} > T(0) else np.expm1({0})"

    @staticmethod
    def reference(x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, x, np.expm1(x))

    @staticmethod
    def grad(op: Operation, dy: Tensor) -> list:
        return [apply_op("EluGrad", dy, op.outputs[0])]


@register_op
class EluGrad(Elementwise):
    """gradients * (outputs + 1) where outputs < 0, else gradients (takes Elu's output)."""
    inputs = ("gradients", "outputs")
    allowed = FLOATS
    expr = "{0} * ({1} + T(1)) if {1} < T(0) else {0}"
    domain = (-0.9, 2.0)

    @staticmethod
    def reference(g: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.where(y < 0, g * (y + 1), g)

    @staticmethod
    def grad(op: Operation, dy: Tensor) -> list:
        g, y = op.inputs
        # d/dy = dy * g where y < 0, else 0; ReluGrad(v, -y) selects v where y < 0.
        return _binary_grads(op, apply_op("EluGrad", dy, y), apply_op("ReluGrad", dy * g, -y))


@register_op
class Softplus(Elementwise):
    """log(1 + exp(features)), computed as max(x, 0) + log1p(exp(-|x|)) (no overflow)."""
    inputs = ("features",)
    allowed = FLOATS
    expr = "(T(0) if {0} < T(0) else {0}) + np.log1p(fexp(-abs({0})))"

    @staticmethod
    def reference(x: np.ndarray) -> np.ndarray:
        return np.logaddexp(x, np.zeros_like(x))

    @staticmethod
    def grad(op: Operation, dy: Tensor) -> list:
        return [apply_op("SoftplusGrad", dy, op.inputs[0])]


@register_op
class SoftplusGrad(Elementwise):
    """gradients * sigmoid(features)."""
    inputs = ("gradients", "features")
    allowed = FLOATS
    expr = "{0} * fsigmoid({1})"

    @staticmethod
    def reference(g: np.ndarray, f: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return g / (1 + np.exp(-f))

    @staticmethod
    def grad(op: Operation, dy: Tensor) -> list:
        g, x = op.inputs
        tf = tf_api()
        return _binary_grads(op, apply_op("SoftplusGrad", dy, x),
                             dy * g / (tf.exp(-x) + 2.0 + tf.exp(x)))


@register_op
class LeakyRelu(Elementwise):
    """features if > 0 else alpha * features."""
    inputs = ("features",)
    attrs = {"alpha": 0.2}
    allowed = FLOATS

    @classmethod
    def expr_for(cls, op: Operation) -> str:
        return "{0} if {0} > T(0) else {0} * T(%r)" % float(op.get_attr("alpha"))

    @staticmethod
    def reference(x: np.ndarray, alpha: float = 0.2) -> np.ndarray:
        return np.where(x > 0, x, x * x.dtype.type(alpha))

    @staticmethod
    def grad(op: Operation, dy: Tensor) -> list:
        return [apply_op("LeakyReluGrad", dy, op.inputs[0], alpha=op.get_attr("alpha"))]


@register_op
class LeakyReluGrad(Elementwise):
    """gradients where features > 0, else alpha * gradients."""
    inputs = ("gradients", "features")
    attrs = {"alpha": 0.2}
    allowed = FLOATS

    @classmethod
    def expr_for(cls, op: Operation) -> str:
        return "{0} if {1} > T(0) else {0} * T(%r)" % float(op.get_attr("alpha"))

    @staticmethod
    def reference(g: np.ndarray, f: np.ndarray, alpha: float = 0.2) -> np.ndarray:
        return np.where(f > 0, g, g * g.dtype.type(alpha))

    @staticmethod
    def grad(op: Operation, dy: Tensor) -> list:
        alpha = op.get_attr("alpha")
        return _binary_grads(op, apply_op("LeakyReluGrad", dy, op.inputs[1], alpha=alpha), None)


def relu(features: Any, name: Optional[str] = None) -> Tensor:
    """max(features, 0) elementwise. Same as tf.nn.relu (op type Relu)."""
    return apply_op("Relu", features, name=name or "Relu")


def relu6(features: Any, name: Optional[str] = None) -> Tensor:
    """min(max(features, 0), 6). Same as tf.nn.relu6 (op type Relu6)."""
    with name_scope(name, "Relu6", [features]) as scope:
        return apply_op("Relu6", convert_to_tensor(features, name="features"), name=scope)


def elu(features: Any, name: Optional[str] = None) -> Tensor:
    """Exponential linear unit. Same as tf.nn.elu (op type Elu)."""
    return apply_op("Elu", features, name=name or "Elu")


def softplus(features: Any, name: Optional[str] = None) -> Tensor:
    """log(exp(features) + 1). Same as tf.nn.softplus (op type Softplus)."""
    return apply_op("Softplus", features, name=name or "Softplus")


def leaky_relu(features: Any, alpha: float = 0.2, name: Optional[str] = None) -> Tensor:
    """features if > 0 else alpha * features. Same as tf.nn.leaky_relu (integers become float32)."""
    with name_scope(name, "LeakyRelu", [features, alpha]) as scope:
        features = convert_to_tensor(features, name="features")
        if features.dtype.is_integer:
            features = tf_api().cast(features, dtypes.float32)
        if isinstance(alpha, np.ndarray):
            alpha = alpha.item()
        return apply_op("LeakyRelu", features, alpha=float(alpha), name=scope)


# --- softmax family ----------------------------------------------------------------------
class _LastAxisOp(OpDef):
    """Softmax/LogSoftmax: rows along the last axis, same shape and dtype out."""
    inputs = ("logits",)
    allowed = FLOATS
    row_kernel: Any = None

    @classmethod
    def infer(cls, op: Operation) -> list:
        x = op.inputs[0]
        if x.shape.ndims == 0:
            raise rank_error(op, x.shape, 1, at_least=True)
        return [(x.dtype.base_dtype, x.shape)]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        rows = cls.row_kernel
        out_np = op.outputs[0].dtype.np

        def run(x: np.ndarray) -> np.ndarray:
            if x.ndim == 0:
                raise KernelError(InvalidArgumentError,
                                  "logits must have >= 1 dimension, got shape []")
            xc = as_f32(x)
            out = np.empty(xc.shape, xc.dtype)
            if out.size:
                rows(xc.reshape(-1, xc.shape[-1]), out.reshape(-1, xc.shape[-1]))
            return out.astype(out_np, copy=False)
        return run

    @classmethod
    def examples(cls) -> list:
        rng = np.random.default_rng(7)
        cases = [([rng.normal(size=s).astype(dt)], {}) for dt in (np.float32, np.float64)
                 for s in ((5,), (2, 3), (2, 3, 4), (1, 1))]
        cases.append(([np.array([[1000.0, 0.0, -1000.0], [3.0, 3.0, 3.0]], np.float32)], {}))
        cases.append(([rng.normal(size=(3, 4)).astype(np.float16)], {}))
        cases.append(([np.zeros((0, 3), np.float32)], {}))
        return cases


def _log_softmax_ref(x: np.ndarray) -> np.ndarray:
    x64 = x.astype(np.float64)
    shifted = x64 - x64.max(axis=-1, keepdims=True)
    return (shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))).astype(x.dtype)


@register_op
class Softmax(_LastAxisOp):
    failures = "shapes"
    row_kernel = staticmethod(nn_kernels.softmax_2d)

    @staticmethod
    def reference(x: np.ndarray) -> np.ndarray:
        return np.exp(_log_softmax_ref(x).astype(np.float64)).astype(x.dtype)

    @staticmethod
    def grad(op: Operation, dy: Tensor) -> list:
        y = op.outputs[0]
        return [(dy - tf_api().reduce_sum(dy * y, -1, keepdims=True)) * y]


@register_op
class LogSoftmax(_LastAxisOp):
    failures = "shapes"
    row_kernel = staticmethod(nn_kernels.log_softmax_2d)
    reference = staticmethod(_log_softmax_ref)

    @staticmethod
    def grad(op: Operation, dy: Tensor) -> list:
        tf = tf_api()
        return [dy - tf.reduce_sum(dy, -1, keepdims=True) * tf.exp(op.outputs[0])]


def _softmax(op_type: str, logits: Any, axis: Any, name: Optional[str]) -> Tensor:
    logits = convert_to_tensor(logits)
    if axis is None:
        axis = -1
    if isinstance(axis, Tensor):
        val = constant_value(axis)
        if val is None:
            raise NotImplementedError("softmax over a computed axis is not supported; pass an int")
        axis = int(val)
    ndims = logits.shape.ndims
    if axis == -1 or (ndims is not None and axis == ndims - 1):
        return apply_op(op_type, logits, name=name or op_type)
    if ndims is None:
        raise ValueError("softmax over axis %d needs a tensor of known rank" % axis)
    if not -ndims <= axis < ndims:
        raise InvalidArgumentError(
            None, None, "Dimension (%d) must be in the range [%d, %d) where %d is the number of "
            "dimensions in the input." % (axis, -ndims, ndims, ndims))
    axis %= ndims
    out = apply_op(op_type, move_axis_to_end(logits, axis, ndims))
    out = move_axis_to_end(out, axis, ndims, name=name)
    out.set_shape(logits.shape)
    return out


def softmax(logits: Any, axis: Any = None, name: Optional[str] = None, dim: Any = None) -> Tensor:
    """exp(logits) / sum(exp(logits), axis). Same as tf.nn.softmax (op type Softmax)."""
    return _softmax("Softmax", logits, axis_arg(axis, dim), name)


def log_softmax(logits: Any, axis: Any = None, name: Optional[str] = None,
                dim: Any = None) -> Tensor:
    """logits - log(sum(exp(logits), axis)). Same as tf.nn.log_softmax (op type LogSoftmax)."""
    return _softmax("LogSoftmax", logits, axis_arg(axis, dim), name)


# --- L2 loss and bias add --------------------------------------------------------------------
@register_op
class L2Loss(OpDef):
    """sum(t ** 2) / 2 as a scalar."""
    inputs = ("t",)
    allowed = FLOATS

    @staticmethod
    def reference(x: np.ndarray) -> np.ndarray:
        return np.asarray(np.sum(np.square(x.astype(np.float64))) / 2, x.dtype)

    @classmethod
    def infer(cls, op: Operation) -> list:
        return [(op.inputs[0].dtype.base_dtype, TensorShape([]))]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        out_np = op.outputs[0].dtype.np

        def run(x: np.ndarray) -> np.ndarray:
            xc = as_f32(x).reshape(-1)
            out = np.zeros(1, xc.dtype)
            if xc.size:
                nn_kernels.l2_loss(xc, out)
            return out.reshape(()).astype(out_np, copy=False)
        return run

    @staticmethod
    def grad(op: Operation, dy: Tensor) -> list:
        return [op.inputs[0] * dy]

    @classmethod
    def examples(cls) -> list:
        rng = np.random.default_rng(5)
        return [([rng.normal(size=s).astype(dt)], {}) for dt in (np.float32, np.float64,
                                                                  np.float16)
                for s in ((), (7,), (3, 4), (1000,), (0, 2))]


def l2_loss(t: Any, name: Optional[str] = None) -> Tensor:
    """sum(t ** 2) / 2. Same as tf.nn.l2_loss (op type L2Loss)."""
    return apply_op("L2Loss", t, name=name or "L2Loss")


def _min_rank(data_format: str) -> int:
    """NCHW needs rank >= 3 (channels then spatial dims), NHWC rank >= 2."""
    return 3 if data_format.startswith("NC") else 2


def _channel_axis(data_format: str, ndims: int) -> int:
    return 1 if data_format.startswith("NC") else ndims - 1


def _as_3d(x: np.ndarray, axis: int) -> np.ndarray:
    """View ``x`` as (outer, channels, inner) around ``axis``."""
    outer = int(np.prod(x.shape[:axis], dtype=np.int64))
    return x.reshape(outer, x.shape[axis], -1 if x.size else int(np.prod(x.shape[axis + 1:])))


@register_op
class BiasAdd(OpDef):
    """value + bias along the channel axis: last (NHWC) or 1 (NCHW)."""
    failures = "shapes"
    inputs = ("value", "bias")
    attrs = {"data_format": "NHWC"}
    allowed = NUMERIC

    @staticmethod
    def reference(x: np.ndarray, b: np.ndarray, data_format: str = "NHWC") -> np.ndarray:
        if data_format.startswith("NC"):
            b = b.reshape((-1,) + (1,) * (x.ndim - 2))
        return x + b

    @classmethod
    def infer(cls, op: Operation) -> list:
        x, b = op.inputs
        fmt = op.get_attr("data_format")
        extra = ', data_format="%s"' % fmt
        least = _min_rank(fmt)
        if x.shape.ndims is not None and x.shape.ndims < least:
            raise ValueError("Shape must be at least rank %d but is rank %d for %s"
                             % (least, x.shape.ndims, node_desc(op, extra)))
        if b.shape.ndims is not None and b.shape.ndims != 1:
            raise ValueError("Shape must be rank 1 but is rank %d for %s"
                             % (b.shape.ndims, node_desc(op, extra)))
        if x.shape.ndims is None:
            return [(x.dtype.base_dtype, x.shape)]
        dims = x.shape.as_list()
        axis = _channel_axis(fmt, len(dims))
        c = b.shape[0] if b.shape.ndims == 1 else None
        if dims[axis] is not None and c is not None and dims[axis] != c:
            raise ValueError("Dimensions must be equal, but are %d and %d for %s"
                             % (dims[axis], c, node_desc(op, extra)))
        if dims[axis] is None:
            dims[axis] = c
        return [(x.dtype.base_dtype, TensorShape(dims))]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        fmt = op.get_attr("data_format")
        out_np = op.outputs[0].dtype.np

        def run(x: np.ndarray, b: np.ndarray) -> np.ndarray:
            if x.ndim < _min_rank(fmt):
                raise KernelError(InvalidArgumentError, "Input tensor must be at least %dD: %s"
                                  % (_min_rank(fmt), shape_str(x.shape)))
            if b.ndim != 1:
                raise KernelError(InvalidArgumentError, "Biases must be 1D: %s"
                                  % shape_str(b.shape))
            axis = _channel_axis(fmt, x.ndim)
            if b.shape[0] != x.shape[axis]:
                raise KernelError(InvalidArgumentError, "Must provide as many biases as the "
                                  "last dimension of the input tensor: %s vs. %s"
                                  % (shape_str(b.shape), shape_str(x.shape)))
            xc, bc = as_f32(x), as_f32(b)
            out = np.empty(xc.shape, xc.dtype)
            if out.size:
                nn_kernels.bias_add_3d(_as_3d(xc, axis), bc, _as_3d(out, axis))
            return out.astype(out_np, copy=False)
        return run

    @staticmethod
    def grad(op: Operation, dy: Tensor) -> list:
        return [dy, apply_op("BiasAddGrad", dy, data_format=op.get_attr("data_format"))]

    @classmethod
    def examples(cls) -> list:
        rng = np.random.default_rng(6)
        cases = []
        for dt in (np.float32, np.float64, np.int32, np.float16):
            for shape, fmt in (((2, 3), "NHWC"), ((2, 3, 4), "NHWC"), ((2, 3, 4, 5), "NCHW"),
                               ((4, 3, 2), "NCHW"), ((0, 3), "NHWC")):
                c = shape[_channel_axis(fmt, len(shape))]
                cases.append(([(rng.normal(size=shape) * 4).astype(dt),
                               (rng.normal(size=c) * 4).astype(dt)], {"data_format": fmt}))
        return cases


@register_op
class BiasAddGrad(OpDef):
    """Sum of out_backprop over every axis but the channel axis."""
    failures = "shapes"
    inputs = ("out_backprop",)
    attrs = {"data_format": "NHWC"}
    allowed = NUMERIC

    @staticmethod
    def reference(dy: np.ndarray, data_format: str = "NHWC") -> np.ndarray:
        axis = _channel_axis(data_format, dy.ndim)
        return dy.sum(axis=tuple(i for i in range(dy.ndim) if i != axis), dtype=dy.dtype)

    @classmethod
    def infer(cls, op: Operation) -> list:
        dy = op.inputs[0]
        fmt = op.get_attr("data_format")
        if dy.shape.ndims is None:
            return [(dy.dtype.base_dtype, TensorShape([None]))]
        if dy.shape.ndims < _min_rank(fmt):
            raise ValueError("Shape must be at least rank %d but is rank %d for %s" % (
                _min_rank(fmt), dy.shape.ndims, node_desc(op, ', data_format="%s"' % fmt)))
        return [(dy.dtype.base_dtype,
                 TensorShape([dy.shape[_channel_axis(fmt, dy.shape.ndims)]]))]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        fmt = op.get_attr("data_format")
        out_np = op.outputs[0].dtype.np

        def run(dy: np.ndarray) -> np.ndarray:
            if dy.ndim < 2:
                raise KernelError(InvalidArgumentError, "Input tensor must be at least 2D: %s"
                                  % shape_str(dy.shape))
            axis = _channel_axis(fmt, dy.ndim)
            d = as_f32(dy)
            out = np.zeros(d.shape[axis], d.dtype)
            if d.size:
                nn_kernels.bias_add_grad_3d(_as_3d(d, axis), out)
            return out.astype(out_np, copy=False)
        return run

    @staticmethod
    def grad(op: Operation, dy: Tensor) -> list:
        # Each element of out_backprop reaches one channel sum: broadcast dy back.
        x = op.inputs[0]
        return [apply_op("BiasAdd", _zeros_like(x), dy, data_format=op.get_attr("data_format"))]

    @classmethod
    def examples(cls) -> list:
        rng = np.random.default_rng(8)
        cases = []
        for dt in (np.float32, np.float64, np.int64):
            for shape, fmt in (((2, 3), "NHWC"), ((2, 3, 4), "NHWC"), ((2, 3, 4, 5), "NCHW"),
                               ((0, 3), "NHWC"), ((300, 2), "NHWC"), ((3, 2, 5), "NCHW")):
                cases.append(([(rng.normal(size=shape) * 4).astype(dt)], {"data_format": fmt}))
        return cases


def _data_format(data_format: Optional[str]) -> str:
    if data_format is None:
        return "NHWC"
    if data_format.startswith("NC"):
        return "NCHW"
    if data_format.startswith("N") and data_format.endswith("C"):
        return "NHWC"
    raise ValueError("data_format must be of the form `N...C` or `NC...`")


def bias_add(value: Any, bias: Any, data_format: Optional[str] = None,
             name: Optional[str] = None) -> Tensor:
    """value + bias on the channel axis. Same as tf.nn.bias_add (op type BiasAdd)."""
    with name_scope(name, "BiasAdd", [value, bias]) as scope:
        value = convert_to_tensor(value, name="input")
        bias = convert_to_tensor(bias, dtype=value.dtype.base_dtype, name="bias")
        return apply_op("BiasAdd", value, bias, data_format=_data_format(data_format), name=scope)


# --- re-exports and composed builders ------------------------------------------------------
def __getattr__(name: str) -> Any:
    """tf.nn.sigmoid / tf.nn.tanh are math_ops' builders (resolved lazily)."""
    if name in ("sigmoid", "tanh"):
        from graphflow.ops import math_ops
        return getattr(math_ops, name)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


from graphflow.ops.xent_ops import (softmax_cross_entropy_with_logits,  # noqa: E402
                                    softmax_cross_entropy_with_logits_v2,
                                    sparse_softmax_cross_entropy_with_logits)
from graphflow.ops.nn_impl import (batch_normalization, dropout, embedding_lookup,  # noqa: E402
                                   l2_normalize, moments, sigmoid_cross_entropy_with_logits,
                                   weighted_cross_entropy_with_logits, xw_plus_b)
