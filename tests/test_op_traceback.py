"""Operation.traceback: the creation stack, recorded cheaply and formatted on
first access (TF's ``tf.Operation.traceback``): the same frames
``traceback.extract_stack`` gives at the call that built the op."""
import inspect
import sys
import traceback

import numpy as np
import pytest

import graphflow as tf

THIS_FILE = __file__


def _line_of(marker):
    """Line number in this file of the source line containing ``marker``."""
    for i, text in enumerate(open(THIS_FILE).read().splitlines(), 1):
        if marker in text and "_line_of" not in text:
            return i
    raise AssertionError(marker)


def _build_in_helper():
    x = tf.placeholder(tf.float32, [3], name="x")  # MARK-PLACEHOLDER
    return tf.tanh(x * 2.0)  # MARK-TANH


def test_traceback_names_the_users_file_and_line():
    y = _build_in_helper()
    tb = y.op.traceback
    assert isinstance(tb, traceback.StackSummary)
    # outermost first; the innermost recorded frame is graphflow's builder (tf.tanh),
    # the one that called apply_op (apply_op and below are not recorded)
    assert tb[-1].filename.endswith("math_ops.py") and tb[-1].name == "build"
    user = [f for f in tb if f.filename == THIS_FILE]
    assert [f.name for f in user][-2:] == ["test_traceback_names_the_users_file_and_line",
                                          "_build_in_helper"]
    assert user[-1].lineno == _line_of("MARK-TANH")
    assert user[-1].line == "return tf.tanh(x * 2.0)  # MARK-TANH"
    assert user[-2].lineno == _line_of("y = _build_in_helper()")
    # FrameSummary fields are reachable as a tuple, as TF's (filename, lineno, name, line)
    filename, lineno, name, line = user[-1]
    assert (filename, lineno, name) == (THIS_FILE, _line_of("MARK-TANH"), "_build_in_helper")
    x_op = tf.get_default_graph().get_operation_by_name("x")
    assert [f for f in x_op.traceback if f.filename == THIS_FILE][-1].lineno == \
        _line_of("MARK-PLACEHOLDER")


def test_traceback_frames_equal_extract_stack_at_the_call():
    def build():
        expected = traceback.extract_stack(limit=9)  # frames up to this line
        c = tf.constant(1.0, name="c")  # same line number below via lineno+1
        return c, expected
    c, expected = build()
    got = c.op.traceback
    # graphflow's own frames (constant -> apply_op) follow the caller's; compare the
    # caller's part: every frame at or above `build` matches extract_stack's
    mine = [(f.filename, f.name) for f in got]
    want = [(f.filename, f.name) for f in expected]
    k = mine.index((THIS_FILE, "build"))
    assert mine[:k + 1] == want[-(k + 1):]
    assert got[k].lineno == expected[-1].lineno + 1
    assert len(got) <= 9


def test_traceback_is_built_once_and_formats():
    a = tf.constant(np.arange(3.0), name="a")
    tb1 = a.op.traceback
    assert tb1 is a.op.traceback  # cached after the first access
    text = "".join(traceback.format_list(tb1))
    assert 'File "%s"' % THIS_FILE in text and "test_traceback_is_built_once_and_formats" in text


def test_traceback_of_gradient_ops_reaches_the_user():
    x = tf.placeholder(tf.float32, [4])
    y = tf.reduce_sum(tf.sigmoid(x) * x)
    (g,) = tf.gradients(y, x)  # MARK-GRADIENTS
    names = [f.name for f in g.op.traceback]
    assert "_backward" in names or "gradients" in names
    # 9 frames: deep library stacks may stop short of the user's frame, as TF1's
    # limited stacks did; this call is shallow enough to include it
    user = [f for f in g.op.traceback if f.filename == THIS_FILE]
    assert user and user[-1].lineno == _line_of("MARK-GRADIENTS")


def test_traceback_at_a_shallow_stack():
    code = ("import graphflow as tf\n"
            "c = tf.constant(1.0)\n"
            "tb = c.op.traceback\n"
            "print(tb[0].filename, tb[0].lineno, tb[0].name, len(tb))\n")
    import subprocess
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=_repo_root(), timeout=120)
    assert out.returncode == 0, out.stderr
    filename, lineno, name, n = out.stdout.split()
    assert (filename, lineno, name) == ("<string>", "2", "<module>")
    assert 2 <= int(n) <= 9


def test_variable_reuse_error_quotes_the_original_definition():
    with tf.variable_scope("s"):
        tf.get_variable("v", [2])  # MARK-FIRST-DEFINITION
    with pytest.raises(ValueError) as e:
        with tf.variable_scope("s"):
            tf.get_variable("v", [2])
    msg = str(e.value)
    assert "Originally defined at:" in msg
    assert 'File "%s", line %d' % (THIS_FILE, _line_of("MARK-FIRST-DEFINITION")) in msg


def _repo_root():
    import os
    return os.path.dirname(os.path.dirname(os.path.abspath(inspect.getfile(tf))))
