"""The ``graphflow`` command line: ``graphflow demo`` (and later ``study``, ``inspect``).

Each subcommand is one ``Command`` entry in ``COMMANDS``: a name, a one-line
help, a function adding its arguments to an argparse sub-parser and a function
running it. ``main`` returns the process exit code: 0 on success, 2 for bad
arguments (argparse's convention), 1 when the command itself fails (set
``GRAPHFLOW_DEBUG=1`` to see the traceback).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from typing import Any, Callable, NamedTuple, Optional, Sequence

import numpy as np


class Command(NamedTuple):
    """One subcommand: ``graphflow NAME ...``."""

    name: str
    help: str
    description: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a positive integer, got %r" % text) from None
    if v <= 0:
        raise argparse.ArgumentTypeError("expected a positive integer, got %d" % v)
    return v


def _non_negative_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected an integer >= 0, got %r" % text) from None
    if v < 0:
        raise argparse.ArgumentTypeError("expected an integer >= 0, got %d" % v)
    return v


# --- demo ------------------------------------------------------------------------------
DEMO_DESCRIPTION = """\
Build a small TF1-style graph and run it in a Session:

    x     = placeholder(float32, [None, 3])      (fed: random batch)
    scale = placeholder(float32, [])             (fed: --scale)
    w, b  = constants (3x2 weights, 2 biases)
    h     = tanh(matmul(x, w) + b)
    total = reduce_sum(h * scale, axis=1)
    mean  = reduce_mean(total)

It prints the graph's ops and the fetched values (or one JSON object with
--json, which also holds the inputs so the result can be checked)."""

DEMO_W = np.array([[0.5, -1.0], [0.25, 0.75], [-0.5, 1.5]], dtype=np.float32)
DEMO_B = np.array([0.1, -0.2], dtype=np.float32)


def _demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--batch", type=_positive_int, default=4,
                   help="rows of the fed batch x (default: 4)")
    p.add_argument("--seed", type=_non_negative_int, default=0,
                   help="seed of the NumPy generator that makes x (default: 0)")
    p.add_argument("--scale", type=float, default=2.0,
                   help="value fed to the scalar placeholder 'scale' (default: 2.0)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object (inputs, op list, results) instead of text")


def build_demo_graph(graph: Any) -> dict:
    """Build the demo graph into ``graph``; returns its named tensors."""
    import graphflow as tf

    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        scale = tf.placeholder(tf.float32, [], name="scale")
        w = tf.constant(DEMO_W, name="w")
        b = tf.constant(DEMO_B, name="b")
        h = tf.tanh(tf.matmul(x, w) + b, name="h")
        total = tf.reduce_sum(h * scale, axis=1, name="total")
        mean = tf.reduce_mean(total, name="mean")
    return {"x": x, "scale": scale, "h": h, "total": total, "mean": mean}


def run_demo(batch: int = 4, seed: int = 0, scale: float = 2.0) -> dict:
    """Run the demo graph once; returns inputs, op list and fetched values."""
    import graphflow as tf

    x_val = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(batch, 3)).astype(np.float32)
    g = tf.Graph()
    t = build_demo_graph(g)
    with tf.Session(graph=g) as sess:
        h, total, mean = sess.run([t["h"], t["total"], t["mean"]],
                                  feed_dict={t["x"]: x_val, t["scale"]: scale})
    return {
        "inputs": {"x": x_val.tolist(), "scale": scale, "w": DEMO_W.tolist(),
                   "b": DEMO_B.tolist()},
        "ops": [[op.name, op.type] for op in g.get_operations()],
        "results": {"h": np.asarray(h).tolist(), "total": np.asarray(total).tolist(),
                    "mean": float(mean)},
        "dtypes": {"h": str(np.asarray(h).dtype), "total": str(np.asarray(total).dtype),
                   "mean": str(np.asarray(mean).dtype)},
    }


def _cmd_demo(args: argparse.Namespace) -> int:
    out = run_demo(args.batch, args.seed, args.scale)
    if args.json:
        print(json.dumps(out))
        return 0
    print("graphflow demo: %d ops" % len(out["ops"]))
    for name, typ in out["ops"]:
        print("  %-28s %s" % (name, typ))
    np.set_printoptions(precision=6, suppress=True)
    print("x (fed, seed %d) =\n%s" % (args.seed, np.array(out["inputs"]["x"], np.float32)))
    print("scale (fed) = %g" % args.scale)
    print("h = tanh(x @ w + b) =\n%s" % np.array(out["results"]["h"], np.float32))
    print("total = reduce_sum(h * scale, axis=1) = %s"
          % np.array(out["results"]["total"], np.float32))
    print("mean = reduce_mean(total) = %.6f" % out["results"]["mean"])
    return 0


COMMANDS = [
    Command("demo", "build and run a small graph (placeholders, matmul, tanh, reductions)",
            DEMO_DESCRIPTION, _demo_args, _cmd_demo),
]


# --- entry point -----------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one sub-parser per entry of ``COMMANDS``."""
    parser = argparse.ArgumentParser(
        prog="graphflow",
        description="graphflow: a TensorFlow-1.x-compatible graph engine. "
                    "Run 'graphflow COMMAND --help' for a command's options.")
    from graphflow import __version__
    parser.add_argument("--version", action="version", version="graphflow " + __version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for cmd in COMMANDS:
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.description,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        cmd.add_arguments(p)
        p.set_defaults(_run=cmd.run)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Parse ``argv`` (default: sys.argv[1:]) and run the command; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help/--version exit 0; bad arguments exit 2
        return int(e.code) if isinstance(e.code, int) else 2
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("graphflow %s: interrupted" % args.command, file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # noqa: BLE001 - report, don't dump a traceback at users
        if os.environ.get("GRAPHFLOW_DEBUG"):
            traceback.print_exc()
        print("graphflow %s: error: %s: %s" % (args.command, type(e).__name__, e),
              file=sys.stderr)
        return 1
