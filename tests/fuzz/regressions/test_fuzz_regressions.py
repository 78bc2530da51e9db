"""Shrunk failures found by tests/fuzz, kept as plain regression tests.

Each test is the ``Program`` hypothesis printed (leaf values may be rounded to
readable ones that still fail on the unfixed code), the check that failed and
a one-line note of the bug and its fix.
"""
import graphflow as tf
from fuzz_graphs import Program, arr, check_forward, check_gradient


def test_squared_difference_gradient_of_gathered_rows():
    # GatherV2's gradient is an IndexedSlices; SquaredDifference's gradient did
    # multiply(2, dy), and apply_op typed the group from the Python 2 (int32)
    # before seeing dy. Fix: framework/op_def.py takes the dtype of IndexedSlices.
    prog = Program(tree=('gather', {'axis': 0, 'idx': [0, 0], 'ishape': [2]},
                         (('squared_difference', {},
                           (('x', {'i': 0}, ()), ('x', {'i': 1}, ()))),)),
                   leaves=[arr([0.5], (1, 1)), arr([0.25], (1, 1))])
    check_gradient(prog)
    check_forward(prog, tf.float32)
