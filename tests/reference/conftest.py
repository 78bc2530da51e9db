"""TensorFlow as the oracle: build the same graph with graphflow and with
``tensorflow.compat.v1`` (graph mode, reference variables) and compare.

The whole directory is skipped, with the reason shown, when TensorFlow is
not installed (it is the ``reference`` extra: ``pip install '.[reference]'``).
graphflow itself never imports TensorFlow.

A test writes one ``build(tf)`` function that uses only the TF1 API shared by
both modules and returns ``(fetches, feed_dict)``; the ``oracle`` fixture
builds it in a fresh graph of each module, runs it and compares values,
dtypes and shapes (``oracle.run``), the raised error (``oracle.error``) or
the ops' names and types (``oracle.ops``).
"""
from __future__ import annotations

import os
from typing import Any, Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

tensorflow = pytest.importorskip("tensorflow",
                                 reason="needs the reference extra (tensorflow-cpu)")

import graphflow as gf  # noqa: E402

tf1 = tensorflow.compat.v1
tf1.logging.set_verbosity(tf1.logging.ERROR)
tf1.disable_eager_execution()
tf1.disable_resource_variables()

MODULES = (("graphflow", gf), ("tensorflow", tf1))


def pytest_collection_modifyitems(config: Any, items: list) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.reference)


def _flatten(x: Any) -> list:
    if isinstance(x, (list, tuple)):
        return [y for v in x for y in _flatten(v)]
    if isinstance(x, dict):
        return [y for k in sorted(x) for y in _flatten(x[k])]
    return [x]


def _tol(dtype: np.dtype) -> tuple:
    return {np.dtype(np.float16): (1e-3, 1e-3), np.dtype(np.float32): (2e-6, 2e-6),
            np.dtype(np.float64): (1e-12, 1e-12)}.get(np.dtype(dtype), (0.0, 0.0))


def assert_same_value(got: Any, want: Any, what: str = "", rtol: Any = None,
                      atol: Any = None) -> None:
    """Same type class (numpy scalar vs array), dtype, shape and values."""
    g, w = np.asarray(got), np.asarray(want)
    assert isinstance(got, np.ndarray) == isinstance(want, np.ndarray), (
        "%s: graphflow returned %s, TF returned %s" % (what, type(got), type(want)))
    assert g.dtype == w.dtype, "%s: dtype %s != TF's %s" % (what, g.dtype, w.dtype)
    assert g.shape == w.shape, "%s: shape %s != TF's %s" % (what, g.shape, w.shape)
    if g.dtype.kind in "fc":
        r, a = _tol(g.dtype)
        np.testing.assert_allclose(g, w, rtol=r if rtol is None else rtol,
                                   atol=a if atol is None else atol, err_msg=what)
    else:
        np.testing.assert_array_equal(g, w, err_msg=what)


class Oracle:
    """Runs one build function under graphflow and TensorFlow."""

    tf1 = tf1

    @staticmethod
    def build(mod: Any, fn: Callable) -> tuple:
        g = mod.Graph()
        with g.as_default():
            out = fn(mod)
        return g, out

    def values(self, fn: Callable) -> dict:
        """``{"graphflow": result, "tensorflow": result}`` of ``fn``'s fetches."""
        res = {}
        for label, mod in MODULES:
            g, (fetches, feeds) = self.build(mod, fn)
            with mod.Session(graph=g) as s:
                res[label] = s.run(fetches, feeds)
        return res

    def run(self, fn: Callable, rtol: Any = None, atol: Any = None) -> Any:
        """Run ``fn``'s graph in both and assert equal results; returns graphflow's."""
        res = self.values(fn)
        got, want = _flatten(res["graphflow"]), _flatten(res["tensorflow"])
        assert len(got) == len(want)
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same_value(g, w, "fetch %d" % i, rtol, atol)
        return res["graphflow"]

    def static(self, fn: Callable) -> None:
        """The fetched tensors' static dtypes and shapes agree (no run)."""
        info = {}
        for label, mod in MODULES:
            _, (fetches, _) = self.build(mod, fn)
            info[label] = [(t.dtype.name, t.shape.as_list() if t.shape.ndims is not None
                            else None) for t in _flatten(fetches)]
        assert info["graphflow"] == info["tensorflow"]

    def error(self, fn: Callable, at: str = "run") -> tuple:
        """Both raise the same exception class (by name) at build or run time.

        Returns ``(graphflow_exc, tf_exc)`` for message checks.
        """
        excs = {}
        for label, mod in MODULES:
            with pytest.raises(Exception) as info:
                g, (fetches, feeds) = self.build(mod, fn)
                assert at == "run", "%s did not raise while building" % label
                with mod.Session(graph=g) as s:
                    s.run(fetches, feeds)
            excs[label] = info.value
        g, t = excs["graphflow"], excs["tensorflow"]
        assert type(g).__name__ == type(t).__name__, (g, t)
        if isinstance(t, tensorflow.errors.OpError):
            assert isinstance(g, gf.errors.OpError) and g.error_code == t.error_code
        return g, t

    def same(self, fn: Callable, rtol: Any = None, atol: Any = None) -> Any:
        """Same outcome: equal results, or the same exception class at the same stage."""
        outs = {}
        for label, mod in MODULES:
            try:
                g, (fetches, feeds) = self.build(mod, fn)
            except Exception as e:  # noqa: BLE001
                outs[label] = ("build error", e)
                continue
            try:
                with mod.Session(graph=g) as s:
                    outs[label] = ("value", s.run(fetches, feeds))
            except Exception as e:  # noqa: BLE001
                outs[label] = ("run error", e)
        (gk, gv), (tk, tv) = outs["graphflow"], outs["tensorflow"]
        assert gk == tk, "graphflow: %s %r; TensorFlow: %s %r" % (gk, gv, tk, tv)
        if gk == "value":
            for i, (g, w) in enumerate(zip(_flatten(gv), _flatten(tv))):
                assert_same_value(g, w, "fetch %d" % i, rtol, atol)
        else:
            assert type(gv).__name__ == type(tv).__name__, (gv, tv)
        return gv

    def ops(self, fn: Callable) -> dict:
        """``{label: [(op name, op type), ...]}`` of the graph ``fn`` builds."""
        out = {}
        for label, mod in MODULES:
            g, _ = self.build(mod, fn)
            out[label] = [(op.name, op.type) for op in g.get_operations()]
        return out


@pytest.fixture
def oracle() -> Oracle:
    return Oracle()
