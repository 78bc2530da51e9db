"""tf.errors: OpError, its coded subclasses (spec graph.md §5.4) and how run
time failures become them."""
import pickle

import pytest

import graphflow as tf
from graphflow import errors

_CODES = [
    ("CancelledError", "CANCELLED", 1), ("UnknownError", "UNKNOWN", 2),
    ("InvalidArgumentError", "INVALID_ARGUMENT", 3),
    ("DeadlineExceededError", "DEADLINE_EXCEEDED", 4), ("NotFoundError", "NOT_FOUND", 5),
    ("AlreadyExistsError", "ALREADY_EXISTS", 6),
    ("PermissionDeniedError", "PERMISSION_DENIED", 7),
    ("ResourceExhaustedError", "RESOURCE_EXHAUSTED", 8),
    ("FailedPreconditionError", "FAILED_PRECONDITION", 9), ("AbortedError", "ABORTED", 10),
    ("OutOfRangeError", "OUT_OF_RANGE", 11), ("UnimplementedError", "UNIMPLEMENTED", 12),
    ("InternalError", "INTERNAL", 13), ("UnavailableError", "UNAVAILABLE", 14),
    ("DataLossError", "DATA_LOSS", 15), ("UnauthenticatedError", "UNAUTHENTICATED", 16),
]


@pytest.mark.parametrize("cls_name,const,code", _CODES)
def test_error_classes_and_codes(cls_name, const, code):
    cls = getattr(tf.errors, cls_name)
    assert getattr(tf.errors, const) == code
    assert issubclass(cls, tf.errors.OpError) and issubclass(cls, Exception)
    e = cls("nd", "the_op", "boom")
    assert (e.node_def, e.op, e.message, e.error_code) == ("nd", "the_op", "boom", code)
    assert str(e) == "boom"
    assert errors.exception_type_from_error_code(code) is cls
    assert errors.error_code_from_exception_type(cls) == code
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is cls and back.message == "boom" and back.error_code == code


def test_op_error_base():
    assert tf.errors.OK == 0
    e = tf.errors.OpError(None, None, "msg", tf.errors.ABORTED)
    assert e.error_code == 10 and e.message == "msg" and str(e) == "msg"
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is tf.errors.OpError and back.error_code == 10
    with pytest.raises(tf.errors.OpError):
        raise tf.errors.NotFoundError(None, None, "x")


def test_kernel_error_becomes_op_error_naming_node():
    from graphflow.runtime.executor import node_error
    x = tf.constant(1.0, name="xx")
    e = node_error(x.op, errors.KernelError(tf.errors.OutOfRangeError, "past the end"))
    assert type(e) is tf.errors.OutOfRangeError
    assert str(e) == "past the end\n\t [[{{node xx}}]]" and e.op is x.op
    e = node_error(x.op, ValueError("bad"))
    assert type(e) is tf.errors.InvalidArgumentError
    e = node_error(x.op, RuntimeError("odd"))
    assert type(e) is tf.errors.InternalError and "RuntimeError: odd" in str(e)
    e = node_error(x.op, MemoryError())
    assert type(e) is tf.errors.ResourceExhaustedError


def test_construction_errors_are_plain_python_errors():
    a = tf.constant(1.0)
    with tf.Graph().as_default():
        b = tf.constant(1.0)
    with pytest.raises(ValueError) as e:
        a + b
    assert not isinstance(e.value, tf.errors.OpError)
    with pytest.raises(TypeError):
        with tf.control_dependencies([1.0]):
            pass
