"""Start-up: ``import graphflow`` and a first Session.run in a fresh process, with
Numba's target initialisation in a background thread (GRAPHFLOW_BACKGROUND_INIT=1)
and without it (the default); see graphflow/framework/startup.py."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import graphflow as tf
from graphflow.framework import startup

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_CHILD = r"""
import json, threading, time
import numpy as np
import graphflow as tf
from graphflow.framework import startup
started = [t.name for t in threading.enumerate() if t.name == "graphflow-numba-init"]
time.sleep(float(__import__("os").environ.get("CHILD_SLEEP", "0")))
x = tf.placeholder(tf.float32, [2, 3], name="x")
w = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2) / 10.0, name="w")
b = tf.Variable(np.array([0.5, -0.5], np.float32), name="b")
y = tf.tanh(tf.matmul(x, w) + b)
loss = tf.reduce_sum(y * y)
train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
xv = np.array([[1, 2, 3], [-1, 0, 1]], np.float32)
with tf.Session() as s:
    s.run(tf.global_variables_initializer())
    first = s.run(loss, {x: xv})
    s.run(train, {x: xv})
    after = s.run(loss, {x: xv})
print(json.dumps({"started": started, "first": float(first), "after": float(after),
                  "done": startup.wait_background_init(60), "error": repr(startup._error)}))
"""


def _child(env_extra: dict) -> dict:
    env = dict(os.environ)
    env.pop(startup.ENV_VAR, None)
    env.update(env_extra)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _expected_losses() -> tuple:
    xv = np.array([[1, 2, 3], [-1, 0, 1]], np.float64)
    w = np.arange(6, dtype=np.float64).reshape(3, 2) / 10.0
    b = np.array([0.5, -0.5])
    y = np.tanh(xv @ w + b)
    first = (y * y).sum()
    dz = 2 * y * (1 - y * y)
    w2, b2 = w - 0.1 * xv.T @ dz, b - 0.1 * dz.sum(0)
    y2 = np.tanh(xv @ w2 + b2)
    return first, (y2 * y2).sum()


@pytest.mark.parametrize("setting,started", [(None, False), ("0", False), ("1", True)])
def test_fresh_process_import_and_step(setting, started):
    res = _child({} if setting is None else {startup.ENV_VAR: setting})
    assert bool(res["started"]) is started
    assert res["done"] is True and res["error"] == "None"
    first, after = _expected_losses()
    np.testing.assert_allclose([res["first"], res["after"]], [first, after], rtol=1e-5)


def test_kernel_load_waits_for_a_running_initialisation():
    # the step starts at once, while the thread is still initialising Numba
    res = _child({startup.ENV_VAR: "1", "CHILD_SLEEP": "0"})
    assert res["started"] and res["done"]
    # and after a pause longer than the initialisation
    res = _child({startup.ENV_VAR: "1", "CHILD_SLEEP": "1.5"})
    first, after = _expected_losses()
    np.testing.assert_allclose([res["first"], res["after"]], [first, after], rtol=1e-5)


def test_start_in_process_is_idempotent_and_safe_after_kernels_ran():
    x = tf.constant([1.0, 2.0])
    with tf.Session() as s:
        assert s.run(tf.reduce_sum(tf.exp(x))) == pytest.approx(np.exp(1) + np.exp(2))
    t1 = startup.start_background_init()
    t2 = startup.start_background_init()
    assert t1 is t2 and t1.daemon
    assert startup.wait_background_init(60) and startup._error is None
    with tf.Session() as s:  # kernels still load and run afterwards
        assert s.run(tf.reduce_sum(tf.tanh(x))) == pytest.approx(np.tanh([1.0, 2.0]).sum())


@pytest.mark.parametrize("value,on", [("1", True), ("true", True), ("on", True),
                                      ("0", False), ("", False), ("no", False)])
def test_env_var_values(monkeypatch, value, on):
    monkeypatch.setenv(startup.ENV_VAR, value)
    assert startup.background_init_enabled() is on
