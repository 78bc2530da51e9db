"""Session configs, kernel cache and summary line of the fuzz tests.

The hypothesis profile (``GRAPHFLOW_FUZZ_PROFILE``: ``ci`` or ``long``) is
``fuzz_graphs.SETTINGS``; it applies to the fuzz tests only.

Every fuzz test takes the ``session_config`` fixture; ``SESSION_CONFIGS`` lists
the ``ConfigProto``s it is run with: the default, and every compiler pass off
(``graphflow.compiler.options.CompileOptions.all_off()``) when that module exists.
Hypothesis draws the same programs for each config (derandomized in ``ci``).
"""
import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(__file__))  # fuzz_graphs, for tests/fuzz/regressions

import fuzz_graphs  # noqa: E402

PROFILE = fuzz_graphs.PROFILE

# The long profile compiles thousands of one-off fused kernels: keep them out of
# the shared kernel cache (a temporary one, removed at the end; GRAPHFLOW_FUZZ_CACHE
# names a directory to keep instead).
_TMP_CACHE = None
if PROFILE == "long":
    _TMP_CACHE = os.environ.get("GRAPHFLOW_FUZZ_CACHE") or tempfile.mkdtemp(
        prefix="graphflow-fuzz-cache-")
    os.environ["GRAPHFLOW_CACHE_DIR"] = _TMP_CACHE


def pytest_unconfigure(config):
    if _TMP_CACHE and not os.environ.get("GRAPHFLOW_FUZZ_CACHE"):
        shutil.rmtree(_TMP_CACHE, ignore_errors=True)


def _configs() -> list:
    """Default session, and (once the compiler has them) every pass switched off."""
    import graphflow as tf
    configs = [pytest.param(None, id="passes-default")]
    try:
        from graphflow.compiler.options import CompileOptions
        off = tf.ConfigProto(graph_options=tf.GraphOptions(
            optimizer_options=tf.OptimizerOptions(opt_level=-1),
            compile_options=CompileOptions.all_off()))
    except (ImportError, TypeError, ValueError, AttributeError):
        return configs
    return configs + [pytest.param(off, id="passes-off")]


SESSION_CONFIGS = _configs()


@pytest.fixture(params=SESSION_CONFIGS, scope="module")
def session_config(request):
    """The ConfigProto a fuzz test's sessions use (None: the default)."""
    return request.param


def pytest_terminal_summary(terminalreporter):
    s = fuzz_graphs.STATS
    if s["forward_examples"] or s["gradient_examples"]:
        terminalreporter.write_line(
            "graphflow fuzz (%s profile): %d forward + %d gradient examples in %.1f s"
            % (PROFILE, s["forward_examples"], s["gradient_examples"], s["seconds"]))
