"""Every script in examples/ runs in a subprocess and prints the right numbers.

Expected values come from the seed documents (seed 001's printed output,
spec optimize_loss.md's table) or from NumPy re-computations written here.
An example whose TF1 API is not in the ``graphflow`` namespace yet is skipped
with the missing names (checked in a fresh interpreter, since this process may
have imported submodules that a plain ``import graphflow`` does not).
"""
import importlib.util
import os
import re
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")

# example file -> TF1 names it needs (beyond the long-standing core API)
NEEDS = {
    "clip_compute_apply.py": [],
    "gradient_tape_optimizer.py": ["GradientTape"],
    "decay_global_step.py": ["train.exponential_decay", "train.global_step"],
    "moving_average_restore.py": ["train.ExponentialMovingAverage", "train.Saver"],
    "write_graph_filewriter.py": ["train.write_graph", "summary.FileWriter", "summary.scalar",
                                  "summary.merge_all", "train.summary_iterator", "GraphDef",
                                  "import_graph_def"],
    "optimize_loss.py": ["contrib.layers.optimize_loss", "train.AdagradOptimizer",
                         "train.get_or_create_global_step"],
    "gate_gradients_races.py": [],
}


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _missing(names):
    if not names:
        return []
    code = ("import graphflow as tf\n"
            "missing = []\n"
            "for n in %r:\n"
            "    o = tf\n"
            "    try:\n"
            "        for p in n.split('.'):\n"
            "            o = getattr(o, p)\n"
            "    except AttributeError:\n"
            "        missing.append('tf.' + n)\n"
            "print(','.join(missing))\n" % (names,))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=_env(), timeout=300)
    assert out.returncode == 0, out.stderr
    return [m for m in out.stdout.strip().split(",") if m]


def run_example(name, *args, cwd=None):
    missing = _missing(NEEDS[name])
    if missing:
        pytest.skip("examples/%s needs %s, not in graphflow's namespace yet"
                    % (name, ", ".join(missing)))
    out = subprocess.run([sys.executable, os.path.join(EXAMPLES, name), *args],
                         capture_output=True, text=True, env=_env(), cwd=cwd, timeout=600)
    assert out.returncode == 0, "examples/%s failed:\n%s\n%s" % (name, out.stdout, out.stderr)
    return out.stdout.splitlines()


def _floats(line):
    """The numbers of a printed line (not digits inside names such as var0 or dx2)."""
    return [float(x) for x in re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?!\w)",
                                         line)]


def test_every_example_is_tested():
    """Each examples/*.py is run here or named by another test module."""
    scripts = sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".py"))
    assert set(NEEDS) <= set(scripts)
    others = ""
    for d, _, files in os.walk(os.path.join(ROOT, "tests")):
        for f in files:
            if f.endswith(".py") and f != "test_examples.py":
                with open(os.path.join(d, f), encoding="utf-8") as fh:
                    others += fh.read()
    untested = [f for f in scripts if f not in NEEDS and f not in others]
    assert not untested, "examples without a test: %s" % untested


def test_clip_compute_apply(tmp_path):
    lines = run_example("clip_compute_apply.py", cwd=tmp_path)
    # part 1: d/dw (w - 3)^2 at 0 = -6, capped to -1, w = 0 - 0.1 * -1
    assert lines[0] == "raw gradient -6.0, capped -1.0, w after one step 0.10"
    # part 2: seed 001's printed output, then w = 5 - 0.1*6, x = 10 - 0.1*5
    assert lines[1] == "[(6.0, 5.0), (5.0, 10.0)]"
    assert lines[2] == "[10.0, 5.0, 50.0]"
    assert lines[3] == "after one step: w=4.4 x=9.5"


def _load_example(name):
    spec = importlib.util.spec_from_file_location("example_" + name[:-3],
                                                  os.path.join(EXAMPLES, name))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_gradient_tape_optimizer(tmp_path):
    lines = run_example("gradient_tape_optimizer.py", cwd=tmp_path)
    # y = x^2 at 3: 2x = 6, d2 = 2; z = y^2 = x^4: 4x^3 = 108; f = a^2 b: 2ab = 12, a^2 = 4
    assert _floats(lines[0]) == [6.0, 2.0, 108.0]
    assert _floats(lines[1]) == [12.0, 4.0]
    xs, ys = _load_example("gradient_tape_optimizer.py").make_data()
    x, y = xs.astype(np.float64), ys.astype(np.float64)
    w = b = 0.0
    losses = {}
    for step in range(1, 201):
        err = x * w + b - y
        losses[step] = np.mean(err ** 2)
        w, b = w - 0.5 * 2 * np.mean(err * x), b - 0.5 * 2 * np.mean(err)
    for line, step in zip(lines[2:6], (50, 100, 150, 200)):
        got_step, got_loss = _floats(line)
        assert got_step == step
        np.testing.assert_allclose(got_loss, losses[step], rtol=1e-3)
    got_w, got_b = _floats(lines[6])
    np.testing.assert_allclose([got_w, got_b], [w, b], atol=1e-4)
    np.testing.assert_allclose([got_w, got_b], [3.0, 2.0], atol=0.05)


def test_decay_global_step(tmp_path):
    lines = run_example("decay_global_step.py", cwd=tmp_path)
    w = 10.0
    for step, line in enumerate(lines[:7]):
        lr = 0.1 * 0.5 ** (step // 3)  # staircase: decay_rate ^ floor(step / decay_steps)
        w -= lr * w  # gradient of w^2 / 2 is w
        got = _floats(line)
        assert got[0] == step and got[3] == step + 1
        np.testing.assert_allclose(got[1], lr, rtol=1e-6)
        np.testing.assert_allclose(got[2], w, rtol=1e-5)
    assert lines[7] == "global_step: 10"


def test_moving_average_restore(tmp_path):
    lines = run_example("moving_average_restore.py", str(tmp_path), cwd=tmp_path)
    assert lines[0] == "docstring pattern: 2 race(s)"
    assert "reads var0 through var0/read" in lines[1]
    assert "update_var0/ApplyGradientDescent" in lines[1]
    assert "reads var1 through var1/read" in lines[2]
    assert lines[3] == "averages built under the dependency: 0 race(s)"
    var0, var1 = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    avg0, avg1 = var0.copy(), var1.copy()
    for step, line in enumerate(lines[4:8], start=1):
        var0 = var0 - 0.1 * 2 * var0
        var1 = var1 - 0.1 * 2 * (var1 - 1.0)
        avg0 = 0.5 * avg0 + 0.5 * var0  # the averages read the updated variables
        avg1 = 0.5 * avg1 + 0.5 * var1
        got = _floats(line)
        assert got[0] == step
        np.testing.assert_allclose(got[1:], np.concatenate([var0, var1, avg0, avg1]),
                                   atol=2e-6)
    assert lines[8] == ("shadow names: var0/ExponentialMovingAverage, "
                        "var1/ExponentialMovingAverage")
    np.testing.assert_allclose(_floats(lines[9]), np.concatenate([avg0, avg1]), atol=2e-6)
    assert any(f.startswith("model.ckpt") for f in os.listdir(tmp_path))


def test_write_graph_filewriter(tmp_path):
    logdir = str(tmp_path / "logs")
    lines = run_example("write_graph_filewriter.py", logdir, cwd=tmp_path)
    assert lines[0] == "my_variable = 0"
    assert lines[1] == "wrote train.pbtxt and train.pb"
    n_ops, n_nodes = _floats(lines[2])
    assert n_ops == n_nodes > 0
    assert lines[3] == "event files: 1"
    logged = [line.split() for line in lines[4:10]]
    w = 4.0
    for step in range(3):  # loss = w^2, w -= 0.25 * 2w
        assert logged[2 * step] == ["step", str(step), "loss", "%.4f" % (w * w)]
        assert logged[2 * step + 1] == ["step", str(step), "weight", "%.4f" % w]
        w -= 0.25 * 2 * w
    assert lines[10] == "graph in event file: True"
    files = sorted(os.listdir(logdir))
    assert [f for f in files if not f.startswith("events.out.tfevents.")] == ["train.pb",
                                                                             "train.pbtxt"]
    text = open(os.path.join(logdir, "train.pbtxt")).read()
    assert 'name: "my_variable"' in text
    try:
        from tensorboard.backend.event_processing import event_accumulator
    except ImportError:
        return
    acc = event_accumulator.EventAccumulator(logdir)
    acc.Reload()
    assert [e.value for e in acc.Scalars("loss")] == [16.0, 4.0, 1.0]
    assert acc.Graph() is not None


def test_optimize_loss(tmp_path):
    lines = run_example("optimize_loss.py", cwd=tmp_path)
    got = {line[:28].strip(): _floats(line[28:]) for line in lines[:11]}
    accum = 0.1 + 5.0 ** 2  # Adagrad: initial accumulator 0.1, gradient 5
    expected = {  # var after one step (spec optimize_loss.md §7, Adagrad by NumPy)
        "SGD (name)": 9.5, "SGD (lambda lr)": 9.5, "SGD (lambda, no lr)": 9.5,
        "SGD (class)": 9.5, "SGD (instance)": 9.5, "SGD clip_gradients=0.1": 9.99,
        "SGD multiplier 7": 6.5, "Momentum clip 1.0": 9.9, "Adam with decay": 9.9,
        "Adagrad (class)": 10.0 - 0.1 * 5.0 / np.sqrt(accum),
        "Adagrad (instance)": 10.0 - 0.5 * 5.0 / np.sqrt(accum),
    }
    assert set(got) == set(expected)
    for label, var in expected.items():
        loss, var_value, step = got[label]
        assert loss == 50.0 and step == 1, label
        np.testing.assert_allclose(var_value, var, atol=2e-6, err_msg=label)
    # seed 000: "the order of execution between update_ops and loss is non-deterministic"
    assert lines[11] == "update_ops: 2 race(s)"
    assert lines[12].strip().startswith("mul_1 reads scale through scale/read and is not "
                                        "ordered before bump_scale")
    assert "gradients/mul_1_grad/Mul reads scale" in lines[13]


def test_gate_gradients_races(tmp_path):
    lines = run_example("gate_gradients_races.py", cwd=tmp_path)
    header = lines[0].split()
    assert header[0] == "gate" and header[-1] == "races"
    rows = {line.split()[0]: line.split() for line in lines[2:5]}
    assert set(rows) == {"GATE_NONE", "GATE_OP", "GATE_GRAPH"}
    races = {k: int(v[-1]) for k, v in rows.items()}
    assert races == {"GATE_NONE": 1, "GATE_OP": 0, "GATE_GRAPH": 0}
    barriers = {k: int(v[header.index("barriers")]) for k, v in rows.items()}
    assert barriers["GATE_NONE"] < barriers["GATE_GRAPH"] < barriers["GATE_OP"]
    text = "\n".join(lines)
    assert ("gradients/MatMul_1_grad/MatMul reads w2 through w2/read and is not ordered "
            "before GradientDescent/update_w2/ApplyGradientDescent") in text
