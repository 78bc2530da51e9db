"""Helpers of the compiler tests: sessions with chosen passes."""

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
