"""The command line, run as users run it (``python -m graphflow ...`` in a
subprocess, in a temporary directory): ``demo`` trains and writes files that
graphflow's and TensorBoard's readers load back; ``inspect`` reads GraphDefs
written by graphflow and by TensorFlow; bad arguments exit 2, unreadable or
malformed files exit 1 with a message naming the file."""
import importlib.util
import json
import math
import os
import subprocess
import sys
import textwrap
from collections import Counter

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("GRAPHFLOW_DEBUG", None)
    env.update(extra)
    return env


def _run(*args, cwd=ROOT, timeout=300, **env):
    return subprocess.run([sys.executable, "-m", "graphflow", *args], capture_output=True,
                          text=True, env=_env(**env), cwd=str(cwd), timeout=timeout)


def _events_file(logdir):
    names = [f for f in os.listdir(logdir) if f.startswith("events.out.tfevents.")]
    assert len(names) == 1, names
    return os.path.join(logdir, names[0])


# --- demo ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One default-length demo run with --json (shared by the checks below)."""
    logdir = tmp_path_factory.mktemp("demo") / "logs"
    r = _run("demo", "--json", "--logdir", str(logdir), cwd=logdir.parent)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout), str(logdir), r.stderr


def test_demo_writes_graph_and_events(demo_run):
    out, logdir, _ = demo_run
    graph = os.path.join(logdir, "graph.pbtxt")
    events = _events_file(logdir)
    assert out["files"] == {"graph": graph, "events": events}
    assert out["logdir"] == logdir
    import graphflow as tf
    from graphflow.io import proto
    from graphflow.io.graph_def import read_graph_def

    gd = read_graph_def(graph)
    types = Counter(n.op for n in gd.node)
    for t in ("Placeholder", "VariableV2", "MatMul", "Relu", "BiasAdd", "ApplyAdam",
              "SparseSoftmaxCrossEntropyWithLogits", "AssignAdd", "ScalarSummary",
              "MergeSummary"):
        assert types[t] >= 1, t
    assert types["MatMul"] >= 3 and types["ApplyAdam"] == 6  # 3 layers x (weights, biases)
    scalars, graphs, first = {}, [], None
    for ev in tf.train.summary_iterator(events):
        first = first or ev
        if ev.HasField("graph_def"):
            g = proto.GraphDef()
            g.ParseFromString(ev.graph_def)
            graphs.append(g)
        for v in ev.summary.value:
            scalars.setdefault(v.tag, []).append((ev.step, v.simple_value))
    assert first.file_version == "brain.Event:2"
    assert len(graphs) == 1  # FileWriter adds _output_shapes, as TF's add_graph does
    key = lambda node: (node.name, node.op, list(node.input))  # noqa: E731
    assert [key(n) for n in graphs[0].node] == [key(n) for n in gd.node]
    assert set(scalars) == {"loss", "accuracy", "eval/loss", "eval/accuracy"}
    assert [s for s, _ in scalars["loss"]] == out["logged_steps"]
    np.testing.assert_allclose([v for _, v in scalars["loss"]], out["losses"], rtol=1e-6)
    np.testing.assert_allclose([v for _, v in scalars["accuracy"]], out["accuracies"],
                               rtol=1e-6)
    # eval summaries at every logged step plus the final one after the last update
    assert [s for s, _ in scalars["eval/accuracy"]] == out["logged_steps"] + [out["steps"]]
    assert scalars["eval/accuracy"][-1][1] == pytest.approx(out["final"]["eval_accuracy"])


def test_demo_learns_above_chance(demo_run):
    out, _, _ = demo_run
    assert out["steps"] == 500 and out["global_step"] == 500
    assert out["classes"] == 3 and out["chance"] == pytest.approx(1 / 3)
    # glorot-initialized weights and zero biases give near-uniform logits: ln(3)
    assert abs(out["losses"][0] - math.log(3)) < 0.15
    assert out["final"]["train_loss"] < 0.5 * math.log(3)
    assert out["final"]["eval_accuracy"] > 0.8 and out["final"]["train_accuracy"] > 0.8
    assert len(out["logged_steps"]) == 50 and out["logged_steps"][:3] == [0, 10, 20]


def test_demo_progress_is_readable_without_a_tty(demo_run):
    _, _, stderr = demo_run
    assert "\r" not in stderr
    lines = [ln for ln in stderr.splitlines() if ln.startswith("step ")]
    assert 5 <= len(lines) <= 11 and "loss" in lines[0] and "accuracy" in lines[0]


def test_demo_in_tensorboard(demo_run):
    """TensorBoard's own reader sees the scalars and the graph."""
    pytest.importorskip("tensorboard", reason="needs the test extra (tensorboard)")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    out, logdir, _ = demo_run
    acc = EventAccumulator(logdir)
    acc.Reload()
    tags = acc.Tags()
    assert tags["graph"] is True
    assert {"loss", "accuracy", "eval/loss", "eval/accuracy"} <= set(tags["scalars"])
    loss = acc.Scalars("loss")
    assert [e.step for e in loss] == out["logged_steps"]
    np.testing.assert_allclose([e.value for e in loss], out["losses"], rtol=1e-6)
    assert len(acc.Graph().node) == out["ops"]


def test_demo_text_output_says_how_to_open(tmp_path):
    r = _run("demo", "--steps", "30", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    logdir = os.path.join(str(tmp_path), "graphflow-demo-logs", "run-1")
    assert os.path.exists(os.path.join(logdir, "graph.pbtxt"))
    _events_file(logdir)
    assert "tensorboard --logdir %s" % logdir in r.stdout
    assert "graph.pbtxt" in r.stdout and "events.out.tfevents." in r.stdout
    assert "accuracy" in r.stdout and "chance: 0.333" in r.stdout
    r2 = _run("demo", "--steps", "5", "--quiet", cwd=tmp_path)  # the next free run-N
    assert r2.returncode == 0, r2.stderr
    assert "run-2" in r2.stdout and "step " not in r2.stderr


def _main(*args):
    """``graphflow.cli.main(args)`` in this process: (exit code, stdout, stderr)."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from graphflow.cli import main
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def _demo_json(*args):
    code, out, err = _main("demo", "--json", "--quiet", *args)
    assert code == 0, err
    return json.loads(out)


def test_demo_numbers_repeat_from_the_seed(tmp_path):
    """The same --seed gives the same losses in another process; another seed doesn't."""
    args = ["--steps", "40", "--log-every", "5", "--seed", "3", "--optimizer", "momentum"]
    r = _run("demo", "--json", "--logdir", str(tmp_path / "a"), *args)
    assert r.returncode == 0, r.stderr
    a = json.loads(r.stdout)
    b = _demo_json("--logdir", str(tmp_path / "b"), *args)
    c = _demo_json("--logdir", str(tmp_path / "c"), *args[:-3], "4", *args[-2:])
    assert a["losses"] == b["losses"] and a["final"] == b["final"]
    assert a["losses"] != c["losses"] and a["final"]["train_loss"] != c["final"]["train_loss"]


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam", "adagrad", "rmsprop", "adadelta",
                                  "ftrl"])
def test_every_optimizer_beats_chance(tmp_path, name):
    from graphflow import demo
    out = demo.train(str(tmp_path), optimizer=name, progress=False, seed=1)
    assert out["optimizer_class"] == "tf.train." + demo.OPTIMIZERS[name][0]
    assert out["final"]["eval_accuracy"] > 0.7, out["final"]
    assert out["losses"][-1] < out["losses"][0]


def test_demo_progress_bar_on_a_terminal(tmp_path):
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    if importlib.util.find_spec("fcntl") and importlib.util.find_spec("termios"):
        import fcntl
        import struct
        import termios
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        p = subprocess.Popen([sys.executable, "-m", "graphflow", "demo", "--steps", "40",
                              "--logdir", str(tmp_path)], stdout=subprocess.PIPE,
                             stderr=slave, env=_env(), cwd=ROOT, text=True)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        stdout = p.communicate(timeout=300)[0]
    finally:
        os.close(master)
    assert p.returncode == 0
    bar = b"".join(chunks).decode("utf-8", "replace")
    assert "training" in bar and "40/40" in bar and "loss=" in bar and "accuracy=" in bar
    assert "tensorboard --logdir" in stdout


# --- inspect ---------------------------------------------------------------------------
def _two_layer(tf, gate):
    """x -> relu(x @ w1) @ w2 -> softmax xent, minimized by SGD with ``gate``."""
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    y = tf.placeholder(tf.int32, [None], name="labels")
    w1 = tf.get_variable("w1", [2, 4], initializer=tf.ones_initializer())
    w2 = tf.get_variable("w2", [4, 3], initializer=tf.ones_initializer())
    logits = tf.matmul(tf.nn.relu(tf.matmul(x, w1)), w2)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                                         logits=logits))
    tf.train.GradientDescentOptimizer(0.1).minimize(loss, gate_gradients=gate, name="train")


def _inspect_json(path, *args):
    code, out, err = _main("inspect", str(path), "--json", *args)
    assert code == 0, err
    return json.loads(out)


def _check_races(out, gate):
    """Known answer (TF's GATE_NONE caveat): the gradient with respect to relu's
    output reads w2 while nothing orders it before w2's update; GATE_OP groups
    MatMul_1's two gradients, so w2's update waits for that read."""
    races = [(r["reader"], r["update"], r["variable"]) for r in out["races"]]
    if gate == 0:
        assert len(races) == 1, races
        reader, update, var = races[0]
        assert var == "w2" and reader.endswith("MatMul") and "MatMul_1_grad" in reader
        assert update.endswith("ApplyGradientDescent") and "w2" in update
        assert "w2" in out["races"][0]["explanation"]
    else:
        assert races == []


@pytest.mark.parametrize("gate", [0, 1])
def test_inspect_graphflow_graph(tmp_path, gate):
    import graphflow as tf
    g = tf.Graph()
    with g.as_default():
        _two_layer(tf, gate)
    types = Counter(op.type for op in g.get_operations())
    for name, as_text in (("g.pbtxt", True), ("g.pb", False)):
        path = tf.train.write_graph(g, str(tmp_path), name, as_text=as_text)
        out = _inspect_json(path, "--races", "train")
        assert out["nodes"] == len(g.get_operations())
        assert out["ops_by_type"] == dict(types)
        assert out["report"]["ops"] == len(g.get_operations())  # every op reaches a sink
        _check_races(out, gate)
    r = _run("inspect", path, "--races", "train")  # the text form
    assert r.returncode == 0, r.stderr
    assert "critical path" in r.stdout and "ops by type" in r.stdout
    assert ("1 race(s)" in r.stdout) == (gate == 0)


_TF_SCRIPT = textwrap.dedent("""
    import json, os, sys
    from collections import Counter
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import tensorflow.compat.v1 as tf
    tf.disable_eager_execution()
    tf.disable_resource_variables()
    sys.path.insert(0, sys.argv[2])
    from test_cli import _two_layer
    for gate in (0, 1):
        g = tf.Graph()
        with g.as_default():
            _two_layer(tf, gate)
        gd = g.as_graph_def()
        tf.train.write_graph(gd, sys.argv[1], "tf%d.pbtxt" % gate)
        tf.train.write_graph(gd, sys.argv[1], "tf%d.pb" % gate, as_text=False)
        facts = {"nodes": len(gd.node), "types": Counter(n.op for n in gd.node),
                 "data": sum(1 for n in gd.node for i in n.input if not i.startswith("^")),
                 "control": sum(1 for n in gd.node for i in n.input if i.startswith("^"))}
        with open(os.path.join(sys.argv[1], "tf%d.json" % gate), "w") as f:
            json.dump(facts, f)
""")


@pytest.mark.reference
def test_inspect_tensorflow_graph(tmp_path):
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("needs the reference extra (tensorflow-cpu) to write a TF GraphDef")
    r = subprocess.run([sys.executable, "-c", _TF_SCRIPT, str(tmp_path),
                        os.path.dirname(os.path.abspath(__file__))],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    for gate in (0, 1):
        with open(tmp_path / ("tf%d.json" % gate)) as f:
            facts = json.load(f)
        for ext in ("pbtxt", "pb"):
            out = _inspect_json(tmp_path / ("tf%d.%s" % (gate, ext)), "--races", "train")
            assert out["nodes"] == facts["nodes"]
            assert out["ops_by_type"] == facts["types"]
            assert (out["data_edges"], out["control_edges"]) == (facts["data"],
                                                                 facts["control"])
            assert out["report"]["ops"] == facts["nodes"]
            _check_races(out, gate)


def test_inspect_the_demo_graph(demo_run):
    out, logdir, _ = demo_run
    path = out["files"]["graph"]
    rep = _inspect_json(path, "--fetch", "train", "--races", "train")
    assert rep["races"] == []  # minimize's default gate_gradients=GATE_OP
    assert rep["report"]["fetches"] == ["train"] and rep["report"]["ops"] < out["ops"]
    assert rep["nodes"] == out["ops"]
    whole = _inspect_json(path)
    assert whole["report"]["ops"] == out["ops"]
    assert "node_list" not in whole
    assert len(_inspect_json(path, "--nodes")["node_list"]) == out["ops"]


def test_inspect_unknown_op_types(tmp_path):
    """A graph with an op graphflow lacks: counts from the GraphDef, node list, exit 0."""
    path = tmp_path / "custom.pbtxt"
    path.write_text('node { name: "a" op: "Placeholder" '
                    'attr { key: "dtype" value { type: DT_FLOAT } } }\n'
                    'node { name: "b" op: "MyCustomOp" input: "a" input: "^a" }\n')
    r = _run("inspect", str(path))
    assert r.returncode == 0, r.stderr
    assert "MyCustomOp" in r.stdout and "does not implement" in r.stdout
    assert "1 data edges, 1 control edges" in r.stdout
    r = _run("inspect", str(path), "--races", "b")
    assert r.returncode == 1 and "MyCustomOp" in r.stderr and str(path) in r.stderr


@pytest.mark.parametrize("name,data", [
    ("truncated.pbtxt", b'node { name: "a" op: '),
    ("garbage.pb", b"\x08\x96\x01garbage\xff\xff"),
    ("words.pbtxt", b"hello world\n"),
    ("empty.pb", b""),
    ("cut.pb", None),  # a valid binary GraphDef cut short
])
def test_inspect_malformed_file_exits_1(tmp_path, name, data):
    if data is None:
        import graphflow as tf
        g = tf.Graph()
        with g.as_default():
            _two_layer(tf, 0)
        data = g.as_graph_def().SerializeToString()[:-7]
    path = tmp_path / name
    path.write_bytes(data)
    code, out, err = _main("inspect", str(path))
    assert code == 1, (out, err)
    assert str(path) in err and "error:" in err and "Traceback" not in err
    if name == "truncated.pbtxt":  # the same through python -m graphflow
        r = _run("inspect", str(path))
        assert (r.returncode, r.stderr) == (1, err)


def test_inspect_unreadable_paths_exit_1(tmp_path):
    for path in (tmp_path / "missing.pbtxt", tmp_path):
        r = _run("inspect", str(path))
        assert r.returncode == 1 and str(path) in r.stderr and "Traceback" not in r.stderr
    r = _run("inspect", str(tmp_path / "missing.pb"), GRAPHFLOW_DEBUG="1")
    assert r.returncode == 1 and "Traceback" in r.stderr


# --- arguments, help, entry point ------------------------------------------------------
@pytest.mark.parametrize("args", [
    ("demo", "--steps", "0"), ("demo", "--steps", "x"), ("demo", "--batch", "0"),
    ("demo", "--optimizer", "nope"), ("demo", "--learning-rate", "-1"), ("demo", "--nope"),
    ("demo", "--seed", "-2"), ("inspect",), ("inspect", "a.pb", "--bogus"), ("nope",), (),
])
def test_bad_arguments_exit_2(args):
    code, out, err = _main(*args)
    assert code == 2, (code, out, err)
    assert "usage:" in err and "error:" in err


def test_bad_arguments_exit_2_from_the_shell():
    for args in (("demo", "--steps", "0"), ("inspect",)):
        r = _run(*args)
        assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
        assert "usage:" in r.stderr and "error:" in r.stderr


def test_arguments_checked_after_parsing_exit_2(tmp_path, demo_run):
    afile = tmp_path / "afile"
    afile.write_text("x")
    r = _run("demo", "--logdir", str(afile))
    assert r.returncode == 2 and "not a directory" in r.stderr and "usage:" in r.stderr
    graph = demo_run[0]["files"]["graph"]
    r = _run("inspect", graph, "--races", "no_such_op")
    assert r.returncode == 2 and "no_such_op" in r.stderr and "usage:" in r.stderr
    assert "train" in r.stderr  # suggests the ops nothing consumes
    r = _run("inspect", graph, "--fetch", "nope:0")
    assert r.returncode == 2 and "nope:0" in r.stderr


def test_help_explains_each_command():
    r = _run("--help")
    assert r.returncode == 0
    assert "demo" in r.stdout and "inspect" in r.stdout
    code, out, _ = _main("demo", "--help")
    assert code == 0
    for word in ("--logdir", "--steps", "--optimizer", "--seed", "tensorboard --logdir",
                 "graph.pbtxt", "adadelta", "ftrl"):
        assert word in out, word
    code, out, _ = _main("inspect", "--help")
    assert code == 0
    for word in ("--races", "TRAIN_OP", "--fetch", "structure report", "GATE_NONE"):
        assert word in out, word


def test_main_in_process_returns_codes(capsys, tmp_path):
    from graphflow.cli import COMMANDS, main
    assert [c.name for c in COMMANDS][:1] == ["demo"] and "inspect" in [c.name for c in COMMANDS]
    assert main(["demo", "--batch", "-1"]) == 2
    assert "positive integer" in capsys.readouterr().err
    assert main(["inspect", str(tmp_path / "nothing.pb")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["--version"]) == 0


def test_python_m_and_console_script_agree():
    r = _run("--version")
    assert r.returncode == 0 and r.stdout.startswith("graphflow ")


def _readme_quickstart():
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    start = text.index("```python\n", text.index("<!-- quickstart")) + len("```python\n")
    return text[start:text.index("```", start)]


def test_readme_quickstart_runs(tmp_path):
    """The README's quickstart is a working program (its assert checks numpy)."""
    script = tmp_path / "quickstart.py"
    script.write_text(_readme_quickstart())
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       env=_env(), cwd=str(tmp_path), timeout=300)
    assert r.returncode == 0, r.stderr
    assert 'Tensor("Tanh:0", shape=(None, 2), dtype=float32)' in r.stdout


def test_readme_describes_the_demo():
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    assert "pip install . && python -m graphflow demo" in readme
    for word in ("tensorboard --logdir", "graph.pbtxt", "graphflow inspect", "--races",
                 "--optimizer", "--seed"):
        assert word in readme, word


def test_graphflow_never_imports_tensorflow():
    code = ("import sys, graphflow, graphflow.cli, graphflow.demo; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('tensorflow', 'keras', 'pytensor', 'tensorboard')); "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=_env(), cwd=ROOT, timeout=120)
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
    """``import graphflow`` (and the demo's modules) pull in only declared
    dependencies (and whatever they import themselves), so ``pip install .``
    alone is enough to run it."""
    import re
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        text = f.read()
    block = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M).group(1)
    declared = {re.match(r"[A-Za-z0-9_.\-]+", d).group(0).lower()
                for d in re.findall(r'"([^"]+)"', block)}
    assert "tqdm" in declared
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
        "import graphflow, graphflow.cli, graphflow.demo, graphflow.datasets\n"
        "print(' '.join(sorted(tops() - base - before)))\n" % (names,))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=_env(), cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    undeclared = r.stdout.split()
    assert not undeclared, ("import graphflow uses %s, not in pyproject.toml's dependencies"
                            % undeclared)
