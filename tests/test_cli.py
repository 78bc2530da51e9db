"""The command line: ``python -m graphflow demo`` in a subprocess, checked
against the same computation written in NumPy; argument errors exit 2."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(*args, timeout=300):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "graphflow", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=timeout)


def _numpy_demo(x, w, b, scale):
    x, w, b = (np.asarray(v, np.float32) for v in (x, w, b))
    h = np.tanh(x @ w + b)
    total = (h * np.float32(scale)).sum(axis=1)
    return h, total, total.mean()


def test_demo_json_matches_numpy():
    r = _run("demo", "--json", "--batch", "5", "--seed", "3", "--scale", "1.5")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    x = np.asarray(out["inputs"]["x"], np.float32)
    assert x.shape == (5, 3)
    want_x = np.random.default_rng(3).uniform(-1.0, 1.0, size=(5, 3)).astype(np.float32)
    np.testing.assert_array_equal(x, want_x)
    h, total, mean = _numpy_demo(x, out["inputs"]["w"], out["inputs"]["b"], 1.5)
    res = out["results"]
    np.testing.assert_allclose(res["h"], h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(res["total"], total, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(res["mean"], mean, rtol=1e-5, atol=1e-6)
    assert out["dtypes"] == {"h": "float32", "total": "float32", "mean": "float32"}
    types = {t for _, t in out["ops"]}
    assert {"Placeholder", "Const", "MatMul", "AddV2", "Tanh", "Mul", "Sum", "Mean"} <= types
    names = [n for n, _ in out["ops"]]
    assert "x" in names and "scale" in names and "h" in names and "mean" in names


def test_demo_text_output():
    r = _run("demo")
    assert r.returncode == 0, r.stderr
    assert "graphflow demo:" in r.stdout
    line = [ln for ln in r.stdout.splitlines() if ln.startswith("mean = ")]
    assert len(line) == 1
    x = np.random.default_rng(0).uniform(-1.0, 1.0, size=(4, 3)).astype(np.float32)
    from graphflow.cli import DEMO_B, DEMO_W
    _, _, mean = _numpy_demo(x, DEMO_W, DEMO_B, 2.0)
    assert abs(float(line[0].rsplit("=", 1)[1]) - mean) < 1e-5


@pytest.mark.parametrize("args", [("demo", "--batch", "0"), ("demo", "--batch", "x"),
                                  ("demo", "--nope"), ("nope",), ()])
def test_bad_arguments_exit_2(args):
    r = _run(*args)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "usage:" in r.stderr and "error:" in r.stderr


def test_help_lists_commands():
    r = _run("--help")
    assert r.returncode == 0
    assert "demo" in r.stdout
    r = _run("demo", "--help")
    assert r.returncode == 0
    assert "--batch" in r.stdout and "reduce_sum" in r.stdout


def test_main_in_process_returns_codes(capsys):
    from graphflow.cli import main
    assert main(["demo", "--batch", "-1"]) == 2
    assert "positive integer" in capsys.readouterr().err


def _readme_quickstart():
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    start = text.index("```python\n", text.index("<!-- quickstart")) + len("```python\n")
    return text[start:text.index("```", start)]


def test_readme_quickstart_runs(tmp_path):
    """The README's quickstart is a working program (its assert checks numpy)."""
    script = tmp_path / "quickstart.py"
    script.write_text(_readme_quickstart())
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       env=env, cwd=str(tmp_path), timeout=300)
    assert r.returncode == 0, r.stderr
    assert 'Tensor("Tanh:0", shape=(None, 2), dtype=float32)' in r.stdout


def test_graphflow_never_imports_tensorflow():
    code = ("import sys, graphflow, graphflow.cli; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('tensorflow', 'keras', 'pytensor')); print(bad); sys.exit(1 if bad else 0)")
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_readme_and_ci_share_the_test_command():
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    with open(os.path.join(ROOT, ".ci", "run")) as f:
        ci = f.read()
    assert "pip install '.[test,reference]' && python -m pytest -q" in readme
    assert "pip install --quiet '.[test,reference]'" in ci
    assert "\npython -m pytest -q 2>&1" in ci


# import name of each runtime dependency in pyproject.toml (where it differs)
_IMPORT_NAMES = {"protobuf": "google.protobuf"}


def test_runtime_imports_are_declared_dependencies():
    """``import graphflow`` pulls in only declared dependencies (and whatever they
    import themselves), so ``pip install .`` alone is enough to run it."""
    import re
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        text = f.read()
    block = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M).group(1)
    declared = {re.match(r"[A-Za-z0-9_.\-]+", d).group(0).lower()
                for d in re.findall(r'"([^"]+)"', block)}
    names = sorted(_IMPORT_NAMES.get(d, d.replace("-", "_")) for d in declared)
    code = (
        "import sys\n"
        "def tops():\n"
        "    return {n.split('.')[0] for n, m in list(sys.modules.items())\n"
        "            if 'site-packages' in (getattr(m, '__file__', None) or '')}\n"
        "before = tops()\n"
        "for n in %r:\n"
        "    __import__(n)\n"
        "base = tops()\n"
        "import graphflow, graphflow.cli\n"
        "print(' '.join(sorted(tops() - base - before)))\n" % (names,))
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    undeclared = r.stdout.split()
    assert not undeclared, ("import graphflow uses %s, not in pyproject.toml's dependencies"
                            % undeclared)
