"""Registry-driven contract: every registered op's kernel equals its NumPy
reference on its examples, static shape inference equals runtime shape, every
op declares its gradient, and declared gradients match central differences.

An op with neither examples nor a ``contract_exempt`` reason fails here, so a
newly registered op cannot go untested. An op that declares neither a gradient
nor ``NOT_DIFFERENTIABLE`` fails ``test_op_declares_gradient`` (an op that, like
TF, deliberately has none sets ``no_gradient = "reason"``).
"""
import numpy as np
import pytest

import graphflow as tf
from graphflow.framework.op_def import ConstInput, apply_op, registered_ops
from graphflow.testing import op_harness

TOL = {np.dtype(np.float16): (2e-3, 2e-3), np.dtype(np.float32): (2e-5, 2e-6),
       np.dtype(np.float64): (1e-12, 1e-13)}


def _cases():
    for op_type, opdef in sorted(registered_ops().items()):
        if opdef.contract_exempt:
            continue
        examples = opdef.examples()
        if not examples:
            yield pytest.param(op_type, None, None, id=op_type + "-missing")
        for i, (inputs, attrs) in enumerate(examples):
            yield pytest.param(op_type, inputs, attrs, id="%s-%d" % (op_type, i))


def _input(graph_inputs, feeds, raw, x):
    if isinstance(x, ConstInput):
        raw.append(x.value)
        return tf.constant(x.value)
    x = np.asarray(x)
    raw.append(x)
    p = tf.placeholder(tf.as_dtype(x.dtype), x.shape)
    feeds[p] = x
    return p


def _compare(got, want, name):
    want = np.asarray(want)
    assert got.shape == want.shape, "%s: shape %s != reference %s" % (name, got.shape, want.shape)
    assert got.dtype == want.dtype or want.dtype == object, \
        "%s: dtype %s != reference %s" % (name, got.dtype, want.dtype)
    if got.dtype.kind == "f":
        rtol, atol = TOL[got.dtype]
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=name)
    else:
        np.testing.assert_array_equal(got, want, err_msg=name)


@pytest.mark.parametrize("op_type,inputs,attrs", list(_cases()))
def test_kernel_matches_reference(op_type, inputs, attrs):
    opdef = registered_ops()[op_type]
    assert inputs is not None, (
        "op %s has no contract examples and no contract_exempt reason" % op_type)
    feeds, raw, args = {}, [], []
    for x in inputs:
        if isinstance(x, list):
            sub = []
            for y in x:
                sub.append(_input(args, feeds, [], y))
            raw.append([y.value if isinstance(y, ConstInput) else np.asarray(y) for y in x])
            args.append(sub)
        else:
            args.append(_input(args, feeds, raw, x))
    out = apply_op(op_type, *args, **attrs)
    outs = list(out) if isinstance(out, tuple) else [out]
    want = opdef.reference(*raw, **attrs)
    wants = list(want) if isinstance(want, tuple) else [want]
    with tf.Session() as sess:
        got = sess.run(outs, feeds)
    for t, g, w in zip(outs, got, wants):
        g = np.asarray(g)
        w = np.asarray(w, dtype=t.dtype.np)
        _compare(g, w, "%s output %s" % (op_type, t.name))
        static = t.shape
        assert static.is_compatible_with(g.shape), (
            "%s: static shape %s incompatible with runtime %s" % (op_type, static, g.shape))
        if all(not isinstance(x, np.ndarray) or True for x in raw) and static.ndims is not None:
            assert static.ndims == g.ndim, "%s: static rank %s != runtime %s" % (
                op_type, static.ndims, g.ndim)
        if all(isinstance(x, (np.ndarray, list)) for x in raw):
            # all inputs had fully known shapes: inference must be exact
            assert static.is_fully_defined() and tuple(static.as_list()) == g.shape, (
                "%s: static shape %s != runtime %s" % (op_type, static, g.shape))


# --- gradients ------------------------------------------------------------------------------
@pytest.mark.parametrize("op_type", sorted(registered_ops()))
def test_op_declares_gradient(op_type):
    decl = op_harness.gradient_declaration(op_type)
    assert decl != "missing", (
        "op %s declares neither a gradient nor NOT_DIFFERENTIABLE (set `grad`, or "
        "`grad = NOT_DIFFERENTIABLE`, or `no_gradient = \"reason\"` for an op TF leaves "
        "without one)" % op_type)


def _grad_cases():
    for op_type in sorted(registered_ops()):
        if op_harness.gradient_declaration(op_type) != "function":
            continue
        for i, (inputs, attrs, original) in enumerate(op_harness.gradient_cases(op_type)):
            yield pytest.param(op_type, inputs, attrs, original, id="%s-%d" % (op_type, i))


@pytest.mark.parametrize("op_type,inputs,attrs,original", list(_grad_cases()))
def test_gradient_matches_central_differences(op_type, inputs, attrs, original):
    failures = op_harness.check_gradient(op_type, inputs, attrs, original)
    assert not failures, "\n".join(failures)
