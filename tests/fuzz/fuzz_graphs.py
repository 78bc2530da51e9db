"""Random well-typed graphs for differential fuzzing, built twice: as a graphflow
graph and as a float64 NumPy evaluation of the same expression.

A :class:`Program` is plain data: an expression tree of tuples
``(op, params, children)`` (a leaf is ``("x", {"i": k}, ())``, fed through a
placeholder, or ``("x", {"i": k, "const": True}, ())``, a graph constant that
constant folding may see), the float64 values of its leaves and their memory
layouts (C order, Fortran order, negative strides). Its ``repr`` is Python that
rebuilds it, so a shrunk hypothesis failure can be pasted into
``tests/fuzz/regressions/`` as is.

The generator works top-down: it picks the output shape first and then, for
each node, an op that can produce that shape, deriving the children's shapes
(broadcast operands, the un-reduced input of a reduction, the factors of a
matmul, the pieces of a concat, ...). The NumPy side never calls graphflow's
own references: every rule below is written independently from NumPy.
"""
from __future__ import annotations

import dataclasses
import math
import os
import time
from typing import Any, Callable, Optional

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import graphflow as tf

STATS = {"forward_examples": 0, "gradient_examples": 0, "seconds": 0.0}

# --- hypothesis profiles ----------------------------------------------------------------
# ``GRAPHFLOW_FUZZ_PROFILE``: ``ci`` (default; bounded and derandomized, so CI runs are
# reproducible, no example database) or ``long`` (random seeds, hypothesis's database;
# local soak runs). ``GRAPHFLOW_FUZZ_EXAMPLES`` overrides the example count of either.
_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
             HealthCheck.function_scoped_fixture]
_PROFILES = {
    "ci": dict(max_examples=100, derandomize=True, database=None),
    "long": dict(max_examples=2000),
}
PROFILE = os.environ.get("GRAPHFLOW_FUZZ_PROFILE", "ci")
if PROFILE not in _PROFILES:
    raise ValueError("GRAPHFLOW_FUZZ_PROFILE=%r: use one of %s" % (PROFILE, sorted(_PROFILES)))
_kw = dict(_PROFILES[PROFILE], deadline=None, suppress_health_check=_SUPPRESS, print_blob=True)
if os.environ.get("GRAPHFLOW_FUZZ_EXAMPLES"):
    _kw["max_examples"] = int(os.environ["GRAPHFLOW_FUZZ_EXAMPLES"])
SETTINGS = settings(**_kw)  # decorate each fuzz test with it


# --- the Program value ------------------------------------------------------------------------
@dataclasses.dataclass
class Program:
    tree: tuple
    leaves: list  # float64 arrays, one per ("x", {"i": k}) leaf
    layouts: Optional[list] = None  # per leaf: "C", "F" (Fortran order) or "R" (reversed view)

    def __repr__(self) -> str:
        arrs = ", ".join("arr(%r, %r)" % (a.reshape(-1).tolist(), a.shape) for a in self.leaves)
        lay = "" if not self.layouts or set(self.layouts) == {"C"} else \
            ", layouts=%r" % (self.layouts,)
        return "Program(tree=%r, leaves=[%s]%s)" % (self.tree, arrs, lay)


def arr(flat: list, shape: tuple) -> np.ndarray:
    """A float64 leaf from a flat list (used by Program reprs)."""
    return np.array(flat, dtype=np.float64).reshape(shape)


def _layout(a: np.ndarray, layout: str) -> np.ndarray:
    """The same values in another memory layout: kernels must not assume C order."""
    if a.ndim == 0:
        return a
    if layout == "F":
        return np.asfortranarray(a)  # (it would turn a 0-d array into shape (1,))
    if layout == "R" and a.ndim:
        rev = np.ascontiguousarray(a[(slice(None, None, -1),) * a.ndim])
        return rev[(slice(None, None, -1),) * a.ndim]  # negative strides, same values
    return a


# --- NumPy truth helpers --------------------------------------------------------------------
def _softmax(x: np.ndarray) -> np.ndarray:
    if x.shape[-1] == 0:
        return x.copy()
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    if x.shape[-1] == 0:
        return x.copy()
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def _np_reduce(kind: str, x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    ax = None if axis is None else tuple(axis) if isinstance(axis, list) else axis
    with np.errstate(invalid="ignore", divide="ignore"):
        if kind == "sum":
            return np.sum(x, axis=ax, keepdims=keepdims)
        if kind == "mean":
            n = x.size if ax is None else math.prod(
                x.shape[a] for a in (ax if isinstance(ax, tuple) else (ax,)))
            s = np.sum(x, axis=ax, keepdims=keepdims)
            return s / n if n else s * np.nan
        if kind == "max":
            return np.max(x, axis=ax, keepdims=keepdims, initial=-np.inf)
        if kind == "min":
            return np.min(x, axis=ax, keepdims=keepdims, initial=np.inf)
        if kind == "prod":
            return np.prod(x, axis=ax, keepdims=keepdims)
        if kind == "logsumexp":
            m = np.max(x, axis=ax, keepdims=True, initial=-np.inf)
            m = np.where(np.isfinite(m), m, 0.0)
            out = np.log(np.sum(np.exp(x - m), axis=ax, keepdims=True)) + m
            if keepdims:
                return out
            return out.reshape(()) if ax is None else np.squeeze(out, axis=ax)
    raise KeyError(kind)


# --- the op table -----------------------------------------------------------------------------
# name -> (graphflow builder(params, *children), numpy rule(params, *children), smooth)
UNARY = {
    "neg": (lambda p, a: -a, lambda p, a: -a, True),
    "negative": (lambda p, a: tf.negative(a), lambda p, a: -a, True),
    "abs": (lambda p, a: tf.abs(a), lambda p, a: np.abs(a), False),
    "square": (lambda p, a: tf.square(a), lambda p, a: a * a, True),
    "tanh": (lambda p, a: tf.tanh(a), lambda p, a: np.tanh(a), True),
    "sigmoid": (lambda p, a: tf.sigmoid(a), lambda p, a: 0.5 * (1 + np.tanh(a / 2)), True),
    "sin": (lambda p, a: tf.sin(a), lambda p, a: np.sin(a), True),
    "cos": (lambda p, a: tf.cos(a), lambda p, a: np.cos(a), True),
    "softplus": (lambda p, a: tf.nn.softplus(a), lambda p, a: np.logaddexp(0, a), True),
    "relu": (lambda p, a: tf.nn.relu(a), lambda p, a: np.maximum(a, 0), False),
    "relu6": (lambda p, a: tf.nn.relu6(a), lambda p, a: np.clip(a, 0, 6), False),
    "leaky_relu": (lambda p, a: tf.nn.leaky_relu(a, alpha=0.25),
                   lambda p, a: np.where(a > 0, a, 0.25 * a), False),
    "elu": (lambda p, a: tf.nn.elu(a), lambda p, a: np.where(a > 0, a, np.expm1(
        np.minimum(a, 0))), True),
    # composites keep the domain safe: exp of a bounded value, log/sqrt of >= 1, ...
    "exp_tanh": (lambda p, a: tf.exp(tf.tanh(a)), lambda p, a: np.exp(np.tanh(a)), True),
    "expm1_tanh": (lambda p, a: tf.expm1(tf.tanh(a)), lambda p, a: np.expm1(np.tanh(a)), True),
    "log_1p_sq": (lambda p, a: tf.log(tf.square(a) + 1), lambda p, a: np.log(a * a + 1), True),
    "log1p_sq": (lambda p, a: tf.log1p(tf.square(a)), lambda p, a: np.log1p(a * a), True),
    "sqrt_1p_sq": (lambda p, a: tf.sqrt(1 + tf.square(a)), lambda p, a: np.sqrt(1 + a * a),
                   True),
    "rsqrt_1p_sq": (lambda p, a: tf.rsqrt(1 + tf.square(a)),
                    lambda p, a: 1 / np.sqrt(1 + a * a), True),
    "reciprocal": (lambda p, a: tf.reciprocal(2 + tf.tanh(a)),
                   lambda p, a: 1 / (2 + np.tanh(a)), True),
    "identity": (lambda p, a: tf.identity(a), lambda p, a: a, True),
    "stop_then_add": (lambda p, a: a + tf.stop_gradient(a) * 0,
                      lambda p, a: a + a * 0, True),
}

BINARY = {
    "add": (lambda p, a, b: a + b, lambda p, a, b: a + b, True),
    "tf_add": (lambda p, a, b: tf.add(a, b), lambda p, a, b: a + b, True),
    "sub": (lambda p, a, b: a - b, lambda p, a, b: a - b, True),
    "mul": (lambda p, a, b: a * b, lambda p, a, b: a * b, True),
    "div": (lambda p, a, b: a / (1.5 + tf.tanh(b)), lambda p, a, b: a / (1.5 + np.tanh(b)),
            True),
    "maximum": (lambda p, a, b: tf.maximum(a, b), lambda p, a, b: np.maximum(a, b), False),
    "minimum": (lambda p, a, b: tf.minimum(a, b), lambda p, a, b: np.minimum(a, b), False),
    "squared_difference": (lambda p, a, b: tf.squared_difference(a, b),
                           lambda p, a, b: (a - b) ** 2, True),
    "pow": (lambda p, a, b: tf.pow(1.5 + tf.tanh(a), tf.tanh(b) * 2),
            lambda p, a, b: (1.5 + np.tanh(a)) ** (np.tanh(b) * 2), True),
}

REDUCTIONS = {
    "sum": (tf.reduce_sum, True),
    "mean": (tf.reduce_mean, True),
    "max": (tf.reduce_max, False),
    "min": (tf.reduce_min, False),
    "prod": (tf.reduce_prod, True),
    "logsumexp": (tf.reduce_logsumexp, True),
}


def _np_matmul(p: dict, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if p["ta"]:
        a = np.swapaxes(a, -1, -2)
    if p["tb"]:
        b = np.swapaxes(b, -1, -2)
    return np.matmul(a, b)


def _tf_slice(p: dict, a: Any) -> Any:
    return a[_slice_key(p["key"])]


def _slice_key(key: list) -> tuple:
    return tuple(slice(*k) if isinstance(k, list) else k for k in key)


def _tf_sparse_xent(p: dict, logits: Any) -> Any:
    labels = tf.constant(np.array(p["labels"], np.int32).reshape(logits.shape.as_list()[:-1]))
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)


def _np_sparse_xent(p: dict, logits: np.ndarray) -> np.ndarray:
    labels = np.array(p["labels"], np.int64).reshape(logits.shape[:-1])
    ls = _log_softmax(logits)
    return -np.take_along_axis(ls, labels[..., None], axis=-1)[..., 0]


def _where_mask(p: dict, shape: tuple) -> np.ndarray:
    return np.array(p["mask"], bool).reshape(shape)


STRUCTURAL = {
    "reduce": (lambda p, a: REDUCTIONS[p["kind"]][0](a, axis=p["axis"], keepdims=p["keepdims"]),
               lambda p, a: _np_reduce(p["kind"], a, p["axis"], p["keepdims"])),
    "matmul": (lambda p, a, b: tf.matmul(a, b, transpose_a=p["ta"], transpose_b=p["tb"]),
               _np_matmul),
    "reshape": (lambda p, a: tf.reshape(a, p["shape"]),
                lambda p, a: np.reshape(a, p["shape"])),
    "transpose": (lambda p, a: tf.transpose(a, p["perm"]),
                  lambda p, a: np.transpose(a, p["perm"])),
    "concat": (lambda p, *xs: tf.concat(list(xs), p["axis"]),
               lambda p, *xs: np.concatenate(xs, p["axis"])),
    "stack": (lambda p, *xs: tf.stack(list(xs), axis=p["axis"]),
              lambda p, *xs: np.stack(xs, axis=p["axis"])),
    "add_n": (lambda p, *xs: tf.add_n(list(xs)), lambda p, *xs: sum(xs[1:], xs[0])),
    "gather": (lambda p, a: tf.gather(a, np.array(p["idx"], np.int32).reshape(p["ishape"]),
                                      axis=p["axis"]),
               lambda p, a: np.take(a, np.array(p["idx"], np.int64).reshape(p["ishape"]),
                                    axis=p["axis"])),
    "slice": (_tf_slice, lambda p, a: a[_slice_key(p["key"])]),
    "tile": (lambda p, a: tf.tile(a, p["multiples"]), lambda p, a: np.tile(a, p["multiples"])),
    "expand_dims": (lambda p, a: tf.expand_dims(a, p["axis"]),
                    lambda p, a: np.expand_dims(a, p["axis"])),
    "squeeze": (lambda p, a: tf.squeeze(a, p["axis"]),
                lambda p, a: np.squeeze(a, tuple(p["axis"]))),
    "pad": (lambda p, a: tf.pad(a, p["paddings"]), lambda p, a: np.pad(a, p["paddings"])),
    "where": (lambda p, a, b: tf.where(tf.constant(_where_mask(p, tuple(p["shape"]))), a, b),
              lambda p, a, b: np.where(_where_mask(p, a.shape), a, b)),
    "softmax": (lambda p, a: tf.nn.softmax(a), lambda p, a: _softmax(a)),
    "log_softmax": (lambda p, a: tf.nn.log_softmax(a), lambda p, a: _log_softmax(a)),
    "xent": (lambda p, lab, lg: tf.nn.softmax_cross_entropy_with_logits_v2(
        labels=tf.nn.softmax(lab), logits=lg),
        lambda p, lab, lg: -np.sum(_softmax(lab) * _log_softmax(lg), axis=-1)),
    "sparse_xent": (_tf_sparse_xent, _np_sparse_xent),
    "bias_add": (lambda p, a, b: tf.nn.bias_add(a, b), lambda p, a, b: a + b),
    "l2_loss": (lambda p, a: tf.nn.l2_loss(a), lambda p, a: np.sum(a * a) / 2),
}


# --- evaluation -------------------------------------------------------------------------------
def _rule(op: str) -> tuple:
    if op in UNARY:
        return UNARY[op][0], UNARY[op][1]
    if op in BINARY:
        return BINARY[op][0], BINARY[op][1]
    return STRUCTURAL[op]


def build(prog: Program, dtype: Any) -> tuple:
    """(output tensor, placeholders, feed arrays, float64 truth, largest |intermediate|).

    The truth is computed in float64 from the leaves as rounded to ``dtype``.
    """
    np_dt = tf.as_dtype(dtype).np
    layouts = prog.layouts or ["C"] * len(prog.leaves)
    feeds = [_layout(a.astype(np_dt), lay) for a, lay in zip(prog.leaves, layouts)]
    phs: list = [None] * len(feeds)  # None: the leaf is a constant
    scale = [0.0]

    def walk(node: tuple) -> tuple:
        op, params, children = node
        if op == "x":
            i = params["i"]
            v = feeds[i].astype(np.float64)
            scale[0] = max(scale[0], float(np.max(np.abs(v), initial=0.0)))
            if params.get("const"):
                return tf.constant(feeds[i], name="c%d" % i), v
            if phs[i] is None:
                phs[i] = tf.placeholder(dtype, feeds[i].shape, name="x%d" % i)
            return phs[i], v
        pairs = [walk(c) for c in children]
        tf_rule, np_rule = _rule(op)
        t = tf_rule(params, *[p[0] for p in pairs])
        with np.errstate(all="ignore"):
            v = np.asarray(np_rule(params, *[p[1] for p in pairs]), dtype=np.float64)
        finite = v[np.isfinite(v)]
        scale[0] = max(scale[0], float(np.max(np.abs(finite), initial=0.0)))
        return t, v

    out, truth = walk(prog.tree)
    return out, phs, feeds, truth, scale[0]


# --- the generator ----------------------------------------------------------------------------
_SIDES = st.integers(1, 4)


class _Gen:
    """Draws an expression of a requested shape (top-down)."""

    def __init__(self, draw: Callable, smooth: bool, max_depth: int, allow_empty: bool) -> None:
        self.draw = draw
        self.smooth = smooth
        self.max_depth = max_depth
        self.allow_empty = allow_empty
        self.leaves: list = []
        self.nodes = 0

    def side(self) -> int:
        lo = 0 if self.allow_empty and self.draw(st.integers(0, 9)) == 0 else 1
        return self.draw(st.integers(lo, 4))

    def leaf(self, shape: tuple) -> tuple:
        self.leaves.append(tuple(shape))
        if self.draw(st.integers(0, 3)) == 0:
            return ("x", {"i": len(self.leaves) - 1, "const": True}, ())
        return ("x", {"i": len(self.leaves) - 1}, ())

    def expr(self, shape: tuple, depth: int) -> tuple:
        shape = tuple(shape)
        if depth >= self.max_depth or self.nodes >= 12 or (depth and self.draw(
                st.integers(0, 9)) < 1 + 2 * depth):
            return self.leaf(shape)
        self.nodes += 1
        makers = self.makers()
        # elementwise ops are a third of the choices; the rest spread over the others
        choices = ["unary", "binary"] * 4 + sorted(
            k for k, (ok, _) in makers.items() if ok(shape) and k not in ("unary", "binary"))
        kind = self.draw(st.sampled_from(choices))
        return makers[kind][1](shape, depth + 1)

    def makers(self) -> dict:
        r = lambda n: (lambda s: len(s) >= n)  # noqa: E731
        any_shape = lambda s: True  # noqa: E731
        return {
            "unary": (any_shape, self.unary), "binary": (any_shape, self.binary),
            "reduce": (lambda s: len(s) < 4, self.reduce), "matmul": (r(2), self.matmul),
            "reshape": (any_shape, self.reshape), "transpose": (r(2), self.transpose),
            "concat": (lambda s: len(s) >= 1 and max(s) >= 2, self.concat),
            "stack": (lambda s: len(s) >= 1 and 1 <= s[0] <= 3, self.stack),
            "add_n": (any_shape, self.add_n), "gather": (r(1), self.gather),
            "slice": (lambda s: len(s) >= 1, self.slice), "tile": (r(1), self.tile),
            "expand_dims": (lambda s: 1 in s, self.expand_dims),
            "squeeze": (lambda s: len(s) < 4, self.squeeze),
            "pad": (lambda s: len(s) >= 1, self.pad), "where": (any_shape, self.where),
            "softmax": (r(1), self.softmax), "xent": (lambda s: len(s) in (0, 1), self.xent),
            "bias_add": (r(2), self.bias_add), "l2_loss": (lambda s: s == (), self.l2_loss),
        }

    # -- makers: each returns a node producing ``shape`` --
    def unary(self, shape: tuple, depth: int) -> tuple:
        names = sorted(k for k, v in UNARY.items() if v[2] or not self.smooth)
        op = self.draw(st.sampled_from(names))
        return (op, {}, (self.expr(shape, depth),))

    def _operand_shape(self, shape: tuple) -> list:
        """A shape broadcasting to ``shape``: some dims 1, some leading dims dropped."""
        drop = self.draw(st.integers(0, len(shape)))
        s = list(shape[drop:])
        return [1 if self.draw(st.booleans()) else d for d in s]

    def binary(self, shape: tuple, depth: int) -> tuple:
        names = sorted(k for k, v in BINARY.items() if v[2] or not self.smooth)
        op = self.draw(st.sampled_from(names))
        a = self._operand_shape(shape)
        b = self._operand_shape(shape)
        # wherever neither operand carries the full dim, give it to ``a``
        n = len(shape)
        a = [1] * (n - len(a)) + a
        b_full = [1] * (n - len(b)) + b
        for i, d in enumerate(shape):
            if a[i] != d and b_full[i] != d:
                a[i] = d
        if len(b) == n and self.draw(st.booleans()):  # rank broadcasting: drop leading 1s
            while a and a[0] == 1:
                a = a[1:]
        pair = [self.expr(tuple(a), depth), self.expr(tuple(b), depth)]
        if self.draw(st.booleans()):
            pair.reverse()
        return (op, {}, tuple(pair))

    def reduce(self, shape: tuple, depth: int) -> tuple:
        kinds = sorted(k for k, v in REDUCTIONS.items() if v[1] or not self.smooth)
        kind = self.draw(st.sampled_from(kinds))
        keepdims = self.draw(st.booleans())
        if not shape and self.draw(st.booleans()):  # full reduction, axis=None
            nd = self.draw(st.integers(0, 3))
            src = tuple(self.side() for _ in range(nd))
            if kind == "prod" and math.prod(src) > 8:
                src = src[:1]
            return ("reduce", {"kind": kind, "axis": None, "keepdims": False},
                    (self.expr(src, depth),))
        if keepdims:
            ones = [i for i, d in enumerate(shape) if d == 1]
            if not ones:
                keepdims = False
        if keepdims:
            axes = self.draw(st.lists(st.sampled_from(ones), min_size=1, unique=True))
            src = [self.side() if i in axes else d for i, d in enumerate(shape)]
        else:
            k = self.draw(st.integers(1, max(1, min(2, 4 - len(shape)))))
            src = list(shape)
            axes = []
            for _ in range(k):
                pos = self.draw(st.integers(0, len(src)))
                src.insert(pos, self.side())
                axes = [a + 1 if a >= pos else a for a in axes] + [pos]
            axes.sort()
        if kind == "prod":
            for a in axes:
                src[a] = min(src[a], 2)
        nd = len(src)
        if self.draw(st.booleans()):
            axes = [a - nd if self.draw(st.booleans()) else a for a in axes]
        axis = axes[0] if len(axes) == 1 and self.draw(st.booleans()) else axes
        return ("reduce", {"kind": kind, "axis": axis, "keepdims": keepdims},
                (self.expr(tuple(src), depth),))

    def matmul(self, shape: tuple, depth: int) -> tuple:
        batch, (m, n) = list(shape[:-2]), shape[-2:]
        if len(batch) > 1:
            return self.unary(shape, depth - 1)
        k = self.side()
        ta, tb = self.draw(st.booleans()), self.draw(st.booleans())
        a = batch + ([k, m] if ta else [m, k])
        b = batch + ([n, k] if tb else [k, n])
        return ("matmul", {"ta": ta, "tb": tb},
                (self.expr(tuple(a), depth), self.expr(tuple(b), depth)))

    def reshape(self, shape: tuple, depth: int) -> tuple:
        n = math.prod(shape)
        options = [(n,), tuple(reversed(shape))]
        if n > 1:
            f = self.draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
            options.append((f, n // f))
        src = self.draw(st.sampled_from(options))
        target = list(shape)
        if target and n and self.draw(st.booleans()):
            target[self.draw(st.integers(0, len(target) - 1))] = -1
        return ("reshape", {"shape": target}, (self.expr(src, depth),))

    def transpose(self, shape: tuple, depth: int) -> tuple:
        perm = self.draw(st.permutations(range(len(shape))))
        inv = list(np.argsort(perm))
        src = tuple(shape[int(j)] for j in inv)
        return ("transpose", {"perm": list(perm)}, (self.expr(src, depth),))

    def concat(self, shape: tuple, depth: int) -> tuple:
        axis = self.draw(st.sampled_from([i for i, d in enumerate(shape) if d >= 2]))
        cut = self.draw(st.integers(1, shape[axis] - 1))
        parts = [cut, shape[axis] - cut]
        kids = []
        for p in parts:
            s = list(shape)
            s[axis] = p
            kids.append(self.expr(tuple(s), depth))
        ax = axis - len(shape) if self.draw(st.booleans()) else axis
        return ("concat", {"axis": ax}, tuple(kids))

    def stack(self, shape: tuple, depth: int) -> tuple:
        axis = self.draw(st.sampled_from([i for i, d in enumerate(shape) if 1 <= d <= 3]))
        sub = shape[:axis] + shape[axis + 1:]
        return ("stack", {"axis": axis}, tuple(self.expr(sub, depth)
                                               for _ in range(shape[axis])))

    def add_n(self, shape: tuple, depth: int) -> tuple:
        k = self.draw(st.integers(1, 3))
        return ("add_n", {}, tuple(self.expr(shape, depth) for _ in range(k)))

    def gather(self, shape: tuple, depth: int) -> tuple:
        scalar_idx = self.draw(st.booleans())
        if scalar_idx:
            axis = self.draw(st.integers(0, len(shape)))
            p = self.side() or 1
            src = shape[:axis] + (p,) + shape[axis:]
            idx = [self.draw(st.integers(0, p - 1))]
            ishape: list = []
        else:
            axis = self.draw(st.integers(0, len(shape) - 1))
            p = self.side() or 1
            src = shape[:axis] + (p,) + shape[axis + 1:]
            idx = [self.draw(st.integers(0, p - 1)) for _ in range(shape[axis])]
            ishape = [shape[axis]]
        return ("gather", {"axis": axis, "idx": idx, "ishape": ishape},
                (self.expr(src, depth),))

    def slice(self, shape: tuple, depth: int) -> tuple:
        key, src = [], []
        for d in shape:
            step = self.draw(st.sampled_from([1, 1, 2, -1]))
            extra = self.draw(st.integers(0, 2))
            size = d * abs(step) - (abs(step) - 1) if d else 0
            t = size + extra
            off = self.draw(st.integers(0, extra))
            if size == 0:
                start, stop = off, off  # empty whatever the direction
            elif step > 0:
                start, stop = off, off + size
                if stop == t and self.draw(st.booleans()):
                    stop = None
            else:
                start = t - 1 - off
                stop = start - size
                stop = None if stop < 0 else stop
            key.append([start, stop, step])
            src.append(t)
        if len(shape) < 3 and self.draw(st.booleans()):  # an integer index drops a dim
            pos = self.draw(st.integers(0, len(shape)))
            t = self.side() or 1
            i = self.draw(st.integers(-t, t - 1))
            key.insert(pos, i)
            src.insert(pos, t)
        return ("slice", {"key": key}, (self.expr(tuple(src), depth),))

    def tile(self, shape: tuple, depth: int) -> tuple:
        mult, src = [], []
        for d in shape:
            m = self.draw(st.sampled_from([k for k in (1, 2, 3) if d % k == 0] or [1]))
            mult.append(m)
            src.append(d // m)
        return ("tile", {"multiples": mult}, (self.expr(tuple(src), depth),))

    def expand_dims(self, shape: tuple, depth: int) -> tuple:
        axis = self.draw(st.sampled_from([i for i, d in enumerate(shape) if d == 1]))
        src = shape[:axis] + shape[axis + 1:]
        ax = axis - len(shape) if self.draw(st.booleans()) else axis
        return ("expand_dims", {"axis": ax}, (self.expr(src, depth),))

    def squeeze(self, shape: tuple, depth: int) -> tuple:
        pos = self.draw(st.integers(0, len(shape)))
        src = shape[:pos] + (1,) + shape[pos:]
        return ("squeeze", {"axis": [pos]}, (self.expr(src, depth),))

    def pad(self, shape: tuple, depth: int) -> tuple:
        pads, src = [], []
        for d in shape:
            a = self.draw(st.integers(0, min(d, 2)))
            b = self.draw(st.integers(0, min(d - a, 2)))
            pads.append([a, b])
            src.append(d - a - b)
        return ("pad", {"paddings": pads}, (self.expr(tuple(src), depth),))

    def where(self, shape: tuple, depth: int) -> tuple:
        mask = [self.draw(st.booleans()) for _ in range(math.prod(shape))]
        return ("where", {"mask": mask, "shape": list(shape)},
                (self.expr(shape, depth), self.expr(shape, depth)))

    def softmax(self, shape: tuple, depth: int) -> tuple:
        op = self.draw(st.sampled_from(["softmax", "log_softmax"]))
        return (op, {}, (self.expr(shape, depth),))

    def xent(self, shape: tuple, depth: int) -> tuple:
        c = self.draw(st.integers(1, 4))
        src = shape + (c,)
        if self.draw(st.booleans()):
            labels = [self.draw(st.integers(0, c - 1)) for _ in range(math.prod(shape))]
            return ("sparse_xent", {"labels": labels}, (self.expr(src, depth),))
        return ("xent", {}, (self.expr(src, depth), self.expr(src, depth)))

    def bias_add(self, shape: tuple, depth: int) -> tuple:
        return ("bias_add", {}, (self.expr(shape, depth), self.expr(shape[-1:], depth)))

    def l2_loss(self, shape: tuple, depth: int) -> tuple:
        nd = self.draw(st.integers(0, 3))
        return ("l2_loss", {}, (self.expr(tuple(self.side() for _ in range(nd)), depth),))


@st.composite
def programs(draw: Callable, smooth: bool = False, max_depth: int = 4,
             allow_empty: bool = True) -> Program:
    """A random Program. ``smooth``: only ops whose derivative is continuous
    (for gradient checks); ``allow_empty``: some dimensions may be 0."""
    gen = _Gen(draw, smooth, max_depth, allow_empty)
    rank = draw(st.integers(0, 3))
    shape = tuple(gen.side() for _ in range(rank))
    tree = gen.expr(shape, 0)
    leaves = [draw(hnp.arrays(np.float64, s, elements=st.floats(
        -2, 2, allow_nan=False, allow_infinity=False, width=64))) for s in gen.leaves]
    layouts = [draw(st.sampled_from(["C", "C", "F", "R"])) for _ in leaves]
    return Program(tree, leaves, layouts)


# --- checks (shared by the fuzz tests and the regression tests) -------------------------------
TOL = {np.float32: 2e-5, np.float64: 1e-11}


def check_forward(prog: Program, dtype: Any = tf.float32, config: Any = None) -> None:
    """graphflow's value of ``prog`` equals the float64 NumPy truth."""
    start = time.perf_counter()
    with tf.Graph().as_default():
        out, phs, feeds, truth, scale = build(prog, dtype)
        assert out.dtype == dtype, "output dtype %s, want %s" % (out.dtype, dtype)
        assert out.shape.is_compatible_with(truth.shape), (
            "static shape %s, NumPy shape %s" % (out.shape, truth.shape))
        with tf.Session(config=config) as sess:
            got = sess.run(out, {p: v for p, v in zip(phs, feeds) if p is not None})
            assert sess.run(tf.constant(1.0)) == 1.0  # the session still works
    got = np.asarray(got)
    assert got.dtype == tf.as_dtype(dtype).np, got.dtype
    assert got.shape == truth.shape, "shape %s, want %s" % (got.shape, truth.shape)
    tol = TOL[tf.as_dtype(dtype).np.type] * (1 + scale) * 8
    both_nan = np.isnan(got) & np.isnan(truth)
    same_inf = np.isinf(got) & (got == truth)
    with np.errstate(invalid="ignore"):
        close = np.abs(got - truth) <= tol + 1e-4 * np.abs(truth) * (dtype == tf.float32)
    ok = both_nan | same_inf | close
    assert ok.all(), "value mismatch (tol %.3g):\ngot  %r\nwant %r" % (tol, got, truth)
    STATS["forward_examples"] += 1
    STATS["seconds"] += time.perf_counter() - start


def check_gradient(prog: Program, config: Any = None, delta: float = 1e-6) -> float:
    """The float64 Jacobian from tf.gradients equals central differences for every leaf."""
    start = time.perf_counter()
    worst = 0.0
    with tf.Graph().as_default():
        out, phs, feeds, truth, scale = build(prog, tf.float64)
        y_shape = truth.shape
        extra = {p: v for p, v in zip(phs, feeds) if p is not None}
        with tf.Session(config=config) as sess:
            for ph, val in zip(phs, feeds):
                if ph is None or val.size == 0 or truth.size == 0:
                    continue
                jt, jn = tf.test.compute_gradient(ph, val.shape, out, y_shape,
                                                  x_init_value=val, delta=delta,
                                                  extra_feed_dict=extra)
                err = float(np.max(np.abs(jt - jn)))
                bound = 1e-5 * (1 + float(np.max(np.abs(jn))) + scale)
                assert err <= bound, (
                    "gradient w.r.t. %s: max |theoretical - numerical| = %.3g > %.3g\n"
                    "theoretical\n%r\nnumerical\n%r" % (ph.name, err, bound, jt, jn))
                worst = max(worst, err)
    STATS["gradient_examples"] += 1
    STATS["seconds"] += time.perf_counter() - start
    return worst
