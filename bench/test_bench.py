"""Tests of the benchmark harness (not of graphflow's speed).

    python -m pytest -q bench/test_bench.py

Checks the runner's bookkeeping on fake workloads (ratios, target verdicts,
selection by prefix), that every hand-written NumPy baseline computes what
its docstring says (against an independent formula or finite differences),
and a smoke run of W1 through graphflow.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))

import harness  # noqa: E402
import run  # noqa: E402
import w2_mlp  # noqa: E402
import w4_w6_processes  # noqa: E402
import w7_aggregation  # noqa: E402
from workloads import WORKLOADS  # noqa: E402


def test_run_timed_ratios_and_targets() -> None:
    def build(engine: str):
        if engine == "pytensor":
            raise harness.Unsupported("no pytensor here")
        return lambda: 1.0
    wl = harness.Workload("WX", "fake", "call", 3, {"numpy": (2.0, "goal")}, build)
    rec = harness.run_timed(wl, ["graphflow", "numpy", "pytensor"], repeats=2, number_scale=1)
    assert rec["engines"]["pytensor"]["status"] == "skipped"
    assert len(rec["engines"]["graphflow"]["rounds"]) == 2
    assert rec["engines"]["graphflow"]["agrees_with_numpy"] is True
    r = rec["ratios"]["numpy"]
    assert r == pytest.approx(rec["engines"]["graphflow"]["median_s"]
                              / rec["engines"]["numpy"]["median_s"])
    (t,) = rec["targets"]
    assert t["met"] == (r <= 2.0)


def test_target_verdicts() -> None:
    rec = harness.new_record("t", "u")
    harness.add_target(rec, "a", 0.5, 1.0)
    harness.add_target(rec, "b", 2.0, 1.0)
    harness.add_target(rec, "c", 1.0, 1.0, strict=True)
    harness.add_target(rec, "d", None, 1.0)
    rows = run.target_rows({"W": {"parts": {"W": rec}}})
    verdicts = [r[-1] for r in rows]
    assert verdicts[0].startswith("met (margin 2.00x")
    assert verdicts[1].startswith("MISS (2.00x")
    assert verdicts[2].startswith("MISS")
    assert verdicts[3] == "not measured"


def test_select_by_prefix() -> None:
    assert run.select("W2") == ["W2-SGD", "W2-Adam"]
    assert run.select("W1,W3") == ["W1", "W3"]
    assert run.select("") == list(WORKLOADS)
    with pytest.raises(ValueError):
        run.select("W9")


def _numeric_grads(f, params: list, idx: list) -> list:
    out = []
    for k, ij in idx:
        p = [q.astype(np.float64) for q in params]
        h = 1e-5
        p[k][ij] += h
        up = f(p)
        p[k][ij] -= 2 * h
        down = f(p)
        out.append((up - down) / (2 * h))
    return out


def test_numpy_mlp_gradients_match_finite_differences() -> None:
    x, y, params = w2_mlp.data()

    def loss64(p: list) -> float:
        h = x.astype(np.float64)
        for k in range(3):
            h = h @ p[2 * k] + p[2 * k + 1]
            if k < 2:
                h = np.maximum(h, 0)
        z = h - h.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]))

    loss, grads = w2_mlp._forward_backward(x, y, [q.copy() for q in params])
    assert loss == pytest.approx(loss64(params), rel=1e-5)
    idx = [(0, (3, 5)), (1, (7,)), (2, (10, 2)), (4, (100, 3)), (5, (4,))]
    for (k, ij), g in zip(idx, _numeric_grads(loss64, params, idx)):
        assert grads[k][ij] == pytest.approx(g, rel=2e-3, abs=1e-6)


def test_numpy_adam_matches_formula() -> None:
    x, y, params = w2_mlp.data()
    step = w2_mlp.numpy_step("adam")
    _, grads = w2_mlp._forward_backward(x, y, [q.copy() for q in params])
    step()  # first step: m = (1-b1) g, v = (1-b2) g^2, lr_t = lr sqrt(1-b2)/(1-b1)
    a = w2_mlp.ADAM
    g = grads[0].astype(np.float64)
    m, v = (1 - a["beta1"]) * g, (1 - a["beta2"]) * g * g
    lr_t = a["learning_rate"] * np.sqrt(1 - a["beta2"]) / (1 - a["beta1"])
    want = params[0] - lr_t * m / (np.sqrt(v) + a["epsilon"])
    np.testing.assert_allclose(step.params[0], want, rtol=1e-5, atol=1e-7)


def test_numpy_w4_gradients_match_finite_differences() -> None:
    n = 30
    x0, w0 = w4_w6_processes.w4_data(n)
    got = w4_w6_processes.numpy_w4(n)()

    def loss(w: np.ndarray) -> float:
        h = x0.astype(np.float64)
        for wi in w:
            h = np.tanh(h * wi + h)
        return float(h.sum())
    assert got[0] == pytest.approx(loss(w0.astype(np.float64)), rel=1e-4)
    for i in (0, 13, n - 1):
        w = w0.astype(np.float64)
        w[i] += 1e-6
        up = loss(w)
        w[i] -= 2e-6
        assert got[1 + i] == pytest.approx((up - loss(w)) / 2e-6, rel=1e-3, abs=1e-5)


def test_numpy_w7_is_the_gradient() -> None:
    x = w7_aggregation.w7_data().astype(np.float64)
    m = w7_aggregation
    count = np.zeros(m.SIZE)  # how many slices cover each row
    for i in range(m.CONSUMERS):
        count[m.STRIDE * i: m.STRIDE * i + m.ROWS] += 1
    np.testing.assert_allclose(w7_aggregation.numpy_w7()(), 2 * x * count[:, None], rtol=1e-5)


def test_w1_smoke_through_graphflow() -> None:
    wl = WORKLOADS["W1"]
    rec = harness.run_timed(wl._replace(number=5), ["graphflow", "numpy"], 1, 1.0)
    assert rec["engines"]["graphflow"]["status"] == "ok", rec["engines"]["graphflow"]
    assert rec["engines"]["graphflow"]["agrees_with_numpy"] is True
    assert rec["targets"][0]["what"] == "graphflow / tensorflow"
    assert rec["targets"][0]["met"] is None  # no TF in this run
