"""Hypothesis profiles and the session-config axis of the fuzz tests.

``GRAPHFLOW_FUZZ_PROFILE`` picks the profile: ``ci`` (default; bounded and
derandomized, so CI runs are reproducible) or ``long`` (many more examples,
random seeds; for local soak runs). ``GRAPHFLOW_FUZZ_EXAMPLES`` overrides the
example count of either.

Every fuzz test takes the ``session_config`` fixture; ``SESSION_CONFIGS`` lists
the ``ConfigProto``s it is run with: the default, and every compiler pass off
(``graphflow.compiler.options.CompileOptions.all_off()``) when that module exists.
Hypothesis draws the same programs for each config (derandomized in ``ci``).
"""
import os
import sys

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, os.path.dirname(__file__))  # fuzz_graphs, for tests/fuzz/regressions

import fuzz_graphs  # noqa: E402

_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile("ci", max_examples=150, deadline=None, derandomize=True,
                          database=None, suppress_health_check=_SUPPRESS, print_blob=True)
settings.register_profile("long", max_examples=2000, deadline=None,
                          suppress_health_check=_SUPPRESS, print_blob=True)
PROFILE = os.environ.get("GRAPHFLOW_FUZZ_PROFILE", "ci")
settings.load_profile(PROFILE)
if os.environ.get("GRAPHFLOW_FUZZ_EXAMPLES"):
    settings.register_profile("override", settings.get_profile(PROFILE),
                              max_examples=int(os.environ["GRAPHFLOW_FUZZ_EXAMPLES"]))
    settings.load_profile("override")


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
