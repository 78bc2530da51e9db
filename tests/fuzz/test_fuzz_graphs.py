"""Differential fuzzing: random well-typed graphs of registered ops against a
float64 NumPy evaluation of the same expression, and their float64 gradients
against central differences (tests/fuzz/fuzz_graphs.py builds both sides).

A failure prints the shrunk ``Program``; paste it into
``tests/fuzz/regressions/test_fuzz_regressions.py`` as a plain test.
"""
from hypothesis import given

import graphflow as tf
from fuzz_graphs import SETTINGS, check_forward, check_gradient, programs


@SETTINGS
@given(prog=programs())
def test_forward_float32_matches_numpy(session_config, prog):
    check_forward(prog, tf.float32, session_config)


@SETTINGS
@given(prog=programs())
def test_forward_float64_matches_numpy(session_config, prog):
    check_forward(prog, tf.float64, session_config)


@SETTINGS
@given(prog=programs(smooth=True, max_depth=3, allow_empty=False))
def test_gradients_match_central_differences(session_config, prog):
    check_gradient(prog, session_config)
