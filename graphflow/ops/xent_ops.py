"""Softmax cross-entropy ops (dense and sparse labels) and their tf.nn builders.

``SoftmaxCrossEntropyWithLogits`` and ``SparseSoftmaxCrossEntropyWithLogits``
have two outputs like TF: the per-example loss and its gradient w.r.t. the
logits (``softmax - labels``), which the registered gradient reuses. Both
gradients support second order through the backprop output. Kernels are the
numerically stable Numba row loops of ``kernels.nn_kernels``.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from graphflow import dtypes
from graphflow.errors import InvalidArgumentError, KernelError
from graphflow.framework.graph import name_scope
from graphflow.framework.op_def import OpDef, apply_op, constant_value, register_op
from graphflow.framework.operation import Operation, Tensor, convert_to_tensor
from graphflow.framework.tensor_shape import TensorShape, broadcast_shapes
from graphflow.kernels import nn_kernels
from graphflow.ops._nn_util import (as_f32, axis_arg, dims_error, move_axis_to_end,
                                    rank_error, shape_str, tf_api)
from graphflow.ops.elementwise import FLOATS
from graphflow.ops.grad_util import unbroadcast


def _xent_reference(logits: np.ndarray, labels: np.ndarray) -> tuple:
    """NumPy truth in float64: (loss, softmax - labels)."""
    x = logits.astype(np.float64)
    z = labels.astype(np.float64)
    m = x.max(axis=-1, keepdims=True)
    lse = np.log(np.exp(x - m).sum(axis=-1, keepdims=True)) + m
    return (z * (lse - x)).sum(axis=-1).astype(logits.dtype), \
        (np.exp(x - lse) - z).astype(logits.dtype)


def _is_zero(t: Any) -> bool:
    """True for a missing gradient or one known to be all zeros."""
    if t is None:
        return True
    if getattr(t, "_is_zeros_tensor", False) or getattr(getattr(t, "op", None), "type", "") in (
            "ZerosLike",):
        return True
    val = constant_value(t) if isinstance(t, Tensor) else None
    return val is not None and not np.any(val)


def _xent_grad(op: Operation, grad_loss: Any, grad_grad: Any) -> tuple:
    """Gradient w.r.t. logits shared by both cross-entropy ops, and whether
    the backprop output received a gradient (second-order terms)."""
    tf = tf_api()
    logits = op.inputs[0]
    grad = None
    if grad_loss is not None:
        grad = tf.expand_dims(grad_loss, -1) * op.outputs[1]
    if not _is_zero(grad_grad):
        # backprop = softmax(logits) - labels: its Jacobian w.r.t. logits is
        # diag(s) - s s^T, so the pulled-back gradient is (gg - <gg, s>) * s.
        s = apply_op("Softmax", logits)
        extra = (grad_grad - tf.reduce_sum(grad_grad * s, -1, keepdims=True)) * s
        grad = extra if grad is None else grad + extra
    if grad is None:
        grad = tf.zeros_like(logits)
    return grad, not _is_zero(grad_grad)


def _xent_kernel_prep(op: Operation) -> Callable:
    out_np = op.outputs[0].dtype.np

    def run(logits: np.ndarray, labels: np.ndarray) -> tuple:
        if logits.ndim != 2 or labels.ndim != 2:
            raise KernelError(InvalidArgumentError, "logits and labels must be 2-D, but got "
                              "shapes %s and %s" % (shape_str(logits.shape),
                                                    shape_str(labels.shape)))
        if logits.shape != labels.shape:
            try:
                shape = np.broadcast_shapes(logits.shape, labels.shape)
            except ValueError:
                raise KernelError(InvalidArgumentError, "logits and labels must be broadcastable: "
                                  "logits_size=%s labels_size=%s" % (
                                      shape_str(logits.shape), shape_str(labels.shape))) from None
            logits = np.broadcast_to(logits, shape)
            labels = np.broadcast_to(labels, shape)
        x, z = as_f32(logits), as_f32(labels)
        loss = np.empty(x.shape[0], x.dtype)
        backprop = np.empty(x.shape, x.dtype)
        if x.shape[1] == 0:
            loss[:] = 0
        elif x.size:
            nn_kernels.softmax_xent_2d(x, z, loss, backprop)
        return loss.astype(out_np, copy=False), backprop.astype(out_np, copy=False)
    return run


@register_op
class SoftmaxCrossEntropyWithLogits(OpDef):
    """Per-row -sum(labels * log_softmax(features)) and its gradient softmax - labels."""
    inputs = ("features", "labels")
    allowed = FLOATS
    num_outputs = 2
    reference = staticmethod(_xent_reference)

    @classmethod
    def infer(cls, op: Operation) -> list:
        x, z = op.inputs
        for t in (x, z):
            if t.shape.ndims is not None and t.shape.ndims != 2:
                raise rank_error(op, t.shape, 2)
        shape = broadcast_shapes(x.shape, z.shape)
        if shape is None:
            a, b = [(p, q) for p, q in zip(x.shape, z.shape)
                    if p not in (None, 1) and q not in (None, 1) and p != q][0]
            raise dims_error(op, a, b)
        if shape.ndims is None:
            shape = TensorShape([None, None])
        dt = x.dtype.base_dtype
        return [(dt, TensorShape(shape.as_list()[:1])), (dt, shape)]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        return _xent_kernel_prep(op)

    @staticmethod
    def grad(op: Operation, grad_loss: Any, grad_grad: Any = None) -> list:
        grad, second = _xent_grad(op, grad_loss, grad_grad)
        tf = tf_api()
        labels_grad = None
        if grad_loss is not None:
            labels_grad = tf.expand_dims(grad_loss, -1) * -apply_op("LogSoftmax", op.inputs[0])
        if second:  # backprop = softmax - labels also depends on labels, with slope -1
            labels_grad = -grad_grad if labels_grad is None else labels_grad - grad_grad
        x, z = op.inputs
        return [unbroadcast(grad, x, [z]), unbroadcast(labels_grad, z, [x])]

    @classmethod
    def examples(cls) -> list:
        rng = np.random.default_rng(3)
        cases = []
        for dt in (np.float32, np.float64, np.float16):
            x = rng.normal(size=(4, 5)).astype(dt)
            z = rng.dirichlet(np.ones(5), size=4).astype(dt)
            cases.append(([x, z], {}))
        big = np.array([[1000.0, -1000.0, 0.0], [-500.0, -501.0, -499.0]], np.float32)
        cases.append(([big, np.array([[0.2, 0.3, 0.5], [0, 1, 0]], np.float32)], {}))
        cases.append(([rng.normal(size=(3, 4)), rng.dirichlet(np.ones(4), size=1)], {}))
        return cases


@register_op
class SparseSoftmaxCrossEntropyWithLogits(OpDef):
    """Per-row -log_softmax(features)[label] and softmax - one_hot(label)."""
    inputs = ("features", "labels")
    same_dtype = ("features",)
    allowed = FLOATS
    num_outputs = 2

    @staticmethod
    def reference(logits: np.ndarray, labels: np.ndarray) -> tuple:
        onehot = np.zeros(logits.shape, np.float64)
        onehot[np.arange(labels.size), labels] = 1
        return _xent_reference(logits, onehot)

    @classmethod
    def infer(cls, op: Operation) -> list:
        x, z = op.inputs
        if z.dtype.base_dtype not in (dtypes.int32, dtypes.int64):
            raise TypeError("Value passed to parameter 'labels' has DataType %s not in list of "
                            "allowed values: int32, int64" % z.dtype.base_dtype.name)
        if x.shape.ndims is not None and x.shape.ndims != 2:
            raise rank_error(op, x.shape, 2)
        if z.shape.ndims is not None and z.shape.ndims != 1:
            raise rank_error(op, z.shape, 1)
        xs = x.shape.as_list() if x.shape.ndims is not None else [None, None]
        zs = z.shape.as_list() if z.shape.ndims is not None else [None]
        if xs[0] is not None and zs[0] is not None and xs[0] != zs[0]:
            raise dims_error(op, xs[0], zs[0])
        batch = xs[0] if xs[0] is not None else zs[0]
        dt = x.dtype.base_dtype
        return [(dt, TensorShape([batch])), (dt, TensorShape([batch, xs[1]]))]

    @classmethod
    def kernel(cls, op: Operation, ctx: Any) -> Callable:
        out_np = op.outputs[0].dtype.np

        def run(logits: np.ndarray, labels: np.ndarray) -> tuple:
            check_sparse_labels(logits, labels)
            x = as_f32(logits)
            loss = np.empty(x.shape[0], x.dtype)
            backprop = np.empty(x.shape, x.dtype)
            if x.size:
                nn_kernels.sparse_softmax_xent_2d(x, np.ascontiguousarray(labels), loss, backprop)
            return loss.astype(out_np, copy=False), backprop.astype(out_np, copy=False)
        return run

    @staticmethod
    def grad(op: Operation, grad_loss: Any, grad_grad: Any = None) -> list:
        return [_xent_grad(op, grad_loss, grad_grad)[0], None]

    @classmethod
    def examples(cls) -> list:
        rng = np.random.default_rng(4)
        cases = []
        for dt, it in ((np.float32, np.int32), (np.float64, np.int64), (np.float16, np.int32)):
            cases.append(([rng.normal(size=(4, 5)).astype(dt),
                           rng.integers(0, 5, size=4).astype(it)], {}))
        big = np.array([[1000.0, -1000.0, 0.0], [-500.0, -501.0, -499.0]], np.float32)
        cases.append(([big, np.array([1, 2], np.int32)], {}))
        cases.append(([np.zeros((0, 3), np.float32), np.zeros(0, np.int64)], {}))
        return cases


def check_sparse_labels(logits: np.ndarray, labels: np.ndarray) -> None:
    """Raise TF's InvalidArgumentError for bad shapes or out-of-range labels."""
    if logits.ndim != 2:
        raise KernelError(InvalidArgumentError, "logits must be 2-D, but got shape %s"
                          % shape_str(logits.shape))
    if labels.ndim != 1:
        raise KernelError(InvalidArgumentError, "labels must be 1-D, but got shape %s"
                          % shape_str(labels.shape))
    if logits.shape[0] != labels.shape[0]:
        raise KernelError(InvalidArgumentError, "logits and labels must have the same first "
                          "dimension, got logits shape %s and labels shape %s" % (
                              shape_str(logits.shape), shape_str(labels.shape)))
    classes = logits.shape[1]
    if logits.shape[0] and classes == 0:
        raise KernelError(InvalidArgumentError, "Must have at least one class, but got logits "
                          "shape %s" % shape_str(logits.shape))
    if labels.size:
        lo, hi = labels.min(), labels.max()
        if lo < 0 or hi >= classes:
            bad = lo if lo < 0 else hi
            raise KernelError(InvalidArgumentError, "Received a label value of %d which is outside "
                              "the valid range of [0, %d).  Label values: %s" % (
                                  bad, classes, " ".join(str(v) for v in labels.tolist())))


def _ensure_xent_args(name: str, sentinel: Any, labels: Any, logits: Any) -> None:
    if sentinel is not None:
        raise ValueError("Only call `%s` with named arguments (labels=..., logits=..., ...)" % name)
    if labels is None or logits is None:
        raise ValueError("Both labels and logits must be provided.")


def _flatten_outer(x: Tensor) -> Tensor:
    """Reshape to ``[-1, last]`` (static when the last dimension is known)."""
    tf = tf_api()
    last = x.shape[-1] if x.shape.ndims else None
    if last is not None:
        return tf.reshape(x, [-1, last])
    return tf.reshape(x, tf.concat([[-1], tf.shape(x)[-1:]], 0))


def softmax_cross_entropy_with_logits_v2(labels: Any = None, logits: Any = None, axis: Any = None,
                                         name: Optional[str] = None, dim: Any = None,
                                         _sentinel: Any = None) -> Tensor:
    """Softmax cross-entropy per example; gradients flow into labels too.

    Same as tf.nn.softmax_cross_entropy_with_logits_v2 (op type
    SoftmaxCrossEntropyWithLogits, whose second output is the backprop).
    """
    _ensure_xent_args("softmax_cross_entropy_with_logits", _sentinel, labels, logits)
    axis = axis_arg(axis, dim)
    axis = -1 if axis is None else int(axis)
    with name_scope(name, "softmax_cross_entropy_with_logits", [logits, labels]) as scope:
        logits = convert_to_tensor(logits, name="logits")
        labels = convert_to_tensor(labels, name="labels")
        if labels.dtype.base_dtype != logits.dtype.base_dtype:
            labels = tf_api().cast(labels, logits.dtype.base_dtype)
        ndims = logits.shape.ndims
        if ndims == 2 and axis in (-1, 1):
            return apply_op("SoftmaxCrossEntropyWithLogits", logits, labels, name=scope)[0]
        if ndims == 0:
            raise ValueError("Logits cannot be scalars - received shape %s." % logits.shape)
        if ndims is None:
            if axis != -1:
                raise ValueError("softmax_cross_entropy_with_logits over axis %d needs logits "
                                 "of known rank" % axis)
        elif not -ndims <= axis < ndims:
            raise ValueError("axis %d is out of range for logits of rank %d" % (axis, ndims))
        elif axis % ndims != ndims - 1:
            logits = move_axis_to_end(logits, axis % ndims, ndims)
            labels = move_axis_to_end(labels, axis % ndims, ndims)
        out_shape = logits.shape[:-1] if ndims is not None else TensorShape(None)
        cost = apply_op("SoftmaxCrossEntropyWithLogits", _flatten_outer(logits),
                        _flatten_outer(labels), name=scope)[0]
        tf = tf_api()
        if out_shape.is_fully_defined():
            cost = tf.reshape(cost, out_shape.as_list())
        else:
            cost = tf.reshape(cost, tf.shape(logits)[:-1])
        cost.set_shape(out_shape)
        return cost


def softmax_cross_entropy_with_logits(_sentinel: Any = None, labels: Any = None,
                                      logits: Any = None, dim: int = -1,
                                      name: Optional[str] = None, axis: Any = None) -> Tensor:
    """TF1's deprecated softmax cross-entropy: no gradient flows into ``labels``.

    Same as tf.nn.softmax_cross_entropy_with_logits (labels pass through stop_gradient).
    """
    _ensure_xent_args("softmax_cross_entropy_with_logits", _sentinel, labels, logits)
    axis = dim if axis is None else axis
    with name_scope(name, "softmax_cross_entropy_with_logits_sg", [logits, labels]) as scope:
        labels = tf_api().stop_gradient(labels, name="labels_stop_gradient")
        return softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, axis=axis,
                                                    name=scope)


def sparse_softmax_cross_entropy_with_logits(_sentinel: Any = None, labels: Any = None,
                                             logits: Any = None,
                                             name: Optional[str] = None) -> Tensor:
    """Cross-entropy with integer class labels; labels out of [0, classes) fail at run time.

    Same as tf.nn.sparse_softmax_cross_entropy_with_logits (op type
    SparseSoftmaxCrossEntropyWithLogits).
    """
    _ensure_xent_args("sparse_softmax_cross_entropy_with_logits", _sentinel, labels, logits)
    with name_scope(name, "SparseSoftmaxCrossEntropyWithLogits", [labels, logits]):
        labels = convert_to_tensor(labels)
        logits = convert_to_tensor(logits)
        ls, xs = labels.shape, logits.shape
        if xs.ndims == 0:
            raise ValueError("Logits cannot be scalars - received shape %s." % xs)
        if xs.ndims is not None and ls.ndims is not None and ls.ndims != xs.ndims - 1:
            raise ValueError("Rank mismatch: Rank of labels (received %s) should equal rank of "
                             "logits minus 1 (received %s)." % (ls.ndims, xs.ndims))
        if ls.is_fully_defined() and xs.ndims is not None and xs[:-1].is_fully_defined() \
                and ls != xs[:-1]:
            raise ValueError("Shape mismatch: The shape of labels (received %s) should equal the "
                             "shape of logits except for the last dimension (received %s)."
                             % (ls, xs))
        if xs.ndims == 2:
            return apply_op("SparseSoftmaxCrossEntropyWithLogits", logits, labels)[0]
        tf = tf_api()
        cost = apply_op("SparseSoftmaxCrossEntropyWithLogits", _flatten_outer(logits),
                        tf.reshape(labels, [-1]))[0]
        cost = tf.reshape(cost, ls.as_list() if ls.is_fully_defined() else tf.shape(labels))
        cost.set_shape(ls)
        return cost
