"""``graphflow study`` end to end (a subprocess in a temporary directory, as users run
it): the table has every combination, the JSON rows agree with the text, traces and
plots are written, a missing matplotlib is a clear exit 1, bad arguments exit 2."""
import importlib.util
import json
import os

import pytest

from test_cli import _main, _run  # noqa: E402 (the CLI test helpers)

FAST = ("--steps", "1", "--timing-steps", "2")
NAMES = [(g, a) for g in ("GATE_NONE", "GATE_OP", "GATE_GRAPH")
         for a in ("ADD_N", "EXPERIMENTAL_TREE", "EXPERIMENTAL_ACCUMULATE_N")]


def test_study_prints_every_combination(tmp_path):
    r = _run("study", *FAST, "--trace", str(tmp_path / "traces"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    rows = [ln.split() for ln in lines if ln.startswith("GATE_")]
    assert [(row[0], row[1]) for row in rows] == NAMES
    header = next(ln for ln in lines if ln.startswith("gate "))
    for col in ("ops", "control_edges", "barriers", "critical_path_ops", "parallel_width",
                "races", "peak_bytes", "seq_ms", "par_ms", "identical"):
        assert col in header
    assert "races under GATE_NONE" in r.stdout and "findings:" in r.stdout
    assert "columns:" in r.stdout  # the legend
    traces = sorted(os.listdir(tmp_path / "traces"))
    assert len(traces) == 9
    for name in traces:
        with open(tmp_path / "traces" / name) as f:
            assert json.load(f)["traceEvents"]


def test_study_json_subset(tmp_path):
    r = _run("study", *FAST, "--json", "--model", "shared", "--gate", "graph",
             "--aggregation", "add_n", "--aggregation", "accumulate_n",
             "--schedule", "asap", "--schedule", "random:3", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["model"] == "shared" and out["schedules"] == ["asap", "random:3"]
    assert [(x["gate"], x["aggregation"]) for x in out["rows"]] == [
        ("GATE_GRAPH", "ADD_N"), ("GATE_GRAPH", "EXPERIMENTAL_ACCUMULATE_N")]
    add_n, acc = out["rows"]
    assert acc["peak_bytes"] < add_n["peak_bytes"]
    assert add_n["identical"] and acc["identical"]
    assert any("peak bytes" in f for f in out["findings"])


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                    reason="matplotlib (the optional 'plot' extra) is not installed")
def test_study_plot_writes_an_image(tmp_path):
    png = tmp_path / "study.png"
    r = _run("study", *FAST, "--gate", "none", "--gate", "op", "--plot", str(png),
             cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert str(png) in r.stdout


def test_study_plot_without_matplotlib_exits_1(tmp_path, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    code, _, err = _main("study", *FAST, "--plot", str(tmp_path / "p.png"))
    assert code == 1
    assert "matplotlib" in err and "pip install" in err
    assert not (tmp_path / "p.png").exists()


@pytest.mark.parametrize("args", [
    ("study", "--gate", "sideways"), ("study", "--aggregation", "x"),
    ("study", "--schedule", "random:x"), ("study", "--steps", "0"),
    ("study", "--model", "nope"), ("study", "--threads", "1"),
    ("study", "--plot", "/no/such/dir/p.png"),
])
def test_study_bad_arguments_exit_2(args):
    code, out, err = _main(*args)
    assert code == 2, (code, out, err)
    assert "usage:" in err and "error:" in err


def test_study_help():
    code, out, _ = _main("study", "--help")
    assert code == 0
    for word in ("--model", "--gate", "--aggregation", "--trace", "--plot", "GATE_NONE",
                 "EXPERIMENTAL_ACCUMULATE_N", "asap", "matplotlib"):
        assert word in out, word
