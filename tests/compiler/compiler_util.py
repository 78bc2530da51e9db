"""Helpers of the compiler tests: sessions with chosen passes, fresh processes."""

import os
import subprocess
import sys

import graphflow as tf
from graphflow.compiler.options import CompileOptions


def config(**switches):
    """A ConfigProto with ``CompileOptions(**switches)``; ``off=True``: every pass off."""
    opts = CompileOptions.all_off() if switches.pop("off", False) else CompileOptions()
    for k, v in switches.items():
        setattr(opts, k, v)
    return tf.ConfigProto(graph_options=tf.GraphOptions(compile_options=opts))


def session(graph=None, **switches):
    return tf.Session(graph=graph, config=config(**switches))


def step_types(report):
    return [t for _, t, _ in report.steps]


def run_twice(script, cache_dir):
    """Run ``script`` in two fresh processes sharing ``cache_dir`` as the kernel cache
    (all passes on); the fields of each one's last ``RESULT`` line."""
    env = dict(os.environ, GRAPHFLOW_CACHE_DIR=str(cache_dir), GRAPHFLOW_PASSES="on")
    runs = []
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, timeout=600)
        assert out.returncode == 0, out.stderr
        line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")][-1]
        runs.append(line.split()[1:])
    return runs
