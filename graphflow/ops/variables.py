"""``tf.Variable`` (TF1 reference flavour), variable collections and initializers.

A variable named ``v`` is four ops (spec graph.md §6): ``v/initial_value``
(or ``v/Initializer/...`` for a callable), ``v`` (``VariableV2``), ``v/Assign``
(its initializer) and ``v/read`` (the ``Identity`` consumers use).
"""
from __future__ import annotations

from typing import Any, Optional

from graphflow import dtypes
from graphflow.framework import graph as graph_mod
from graphflow.framework.graph import GraphKeys
from graphflow.framework.operation import (Operation, Tensor, _OPERATORS, convert_to_tensor,
                                           overload_operators,
                                           register_tensor_conversion_function)
from graphflow.framework.op_def import apply_op
from graphflow.framework.tensor_shape import TensorShape, as_shape
from graphflow.ops import state_ops
from graphflow.ops.array_ops import constant, identity

__all__ = ["Variable", "global_variables", "all_variables", "trainable_variables",
           "local_variables", "model_variables", "moving_average_variables",
           "variables_initializer", "initialize_variables", "global_variables_initializer",
           "initialize_all_variables", "local_variables_initializer",
           "initialize_local_variables", "report_uninitialized_variables",
           "assert_variables_initialized"]


class _Colocation:
    """Stands for an op that does not exist yet in ``Graph.colocate_with``
    (``_class: loc:@<name>`` on a variable's initializer ops, as in TF)."""

    def __init__(self, name: str) -> None:
        self.name = name


class Variable:
    """A mutable tensor that lives across ``Session.run`` calls (``tf.Variable``).

    Args follow TF1: ``initial_value`` is a value, a Tensor or a zero-argument
    callable; ``trainable`` defaults to True; ``collections`` defaults to
    ``[GLOBAL_VARIABLES]`` (TRAINABLE_VARIABLES is added when trainable);
    ``validate_shape=False`` allows later assigns of other shapes; ``shape``
    overrides the static shape taken from the initial value.
    """

    __array_priority__ = 100  # numpy defers to the reflected operators

    def __init__(self, initial_value: Any = None, trainable: Optional[bool] = None,
                 collections: Optional[list] = None, validate_shape: bool = True,
                 caching_device: Any = None, name: Optional[str] = None,
                 variable_def: Any = None, dtype: Any = None, expected_shape: Any = None,
                 import_scope: Optional[str] = None, constraint: Any = None,
                 use_resource: Optional[bool] = None, synchronization: Any = None,
                 aggregation: Any = None, shape: Any = None) -> None:
        self._synchronization = synchronization
        self._aggregation = aggregation
        self._save_slice_info = None
        self._caching_device = caching_device
        self._constraint = constraint
        if variable_def is not None:
            if initial_value is not None:
                raise ValueError("variable_def and initial_value are mutually exclusive.")
            self._init_from_def(variable_def, import_scope)
            return
        if initial_value is None:
            raise ValueError("The `initial_value` arg to `tf.Variable` must be specified except "
                             "when you are not providing a `variable_def`. You provided "
                             "neither.")
        if constraint is not None and not callable(constraint):
            raise ValueError("The `constraint` argument must be a callable.")
        if collections is None:
            collections = [GraphKeys.GLOBAL_VARIABLES]
        if not isinstance(collections, (list, tuple, set)):
            raise ValueError("collections argument to Variable constructor must be a list, "
                             "tuple, or set. Got %s of type %s" % (collections,
                                                                    type(collections)))
        self._trainable = True if trainable is None else bool(trainable)
        collections = list(collections)
        if self._trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections.append(GraphKeys.TRAINABLE_VARIABLES)
        from_fn = callable(initial_value)
        with graph_mod.name_scope(name, "Variable", [] if from_fn else [initial_value]) as scope:
            g = graph_mod.get_default_graph()
            with g.control_dependencies(None):  # TF's init_scope
                self._build(g, scope, initial_value, from_fn, dtype, shape, validate_shape)
        g.add_to_collections(collections, self)

    def _build(self, g: Any, scope: str, initial_value: Any, from_fn: bool, dtype: Any,
               shape: Any, validate_shape: bool) -> None:
        if from_fn:
            with g.colocate_with(_Colocation(scope[:-1])), g.name_scope("Initializer"), \
                    g.device(None):
                init = convert_to_tensor(initial_value(), name="initial_value", dtype=dtype)
        else:
            init = convert_to_tensor(initial_value, name="initial_value", dtype=dtype)
        self._initial_value = init
        if shape is not None:
            var_shape = as_shape(shape)
            if not init.shape.is_compatible_with(var_shape):
                raise ValueError("The initial value's shape (%s) is not compatible with the "
                                 "explicitly supplied `shape` argument (%s)."
                                 % (init.shape, var_shape))
        elif validate_shape:
            if not init.shape.is_fully_defined():
                raise ValueError("initial_value must have a shape specified: %s" % init)
            var_shape = init.shape
        else:
            var_shape = TensorShape(None)
        self._variable = state_ops.variable_op_v2(var_shape, init.dtype.base_dtype, name=scope)
        with g.colocate_with(self._variable.op):
            self._initializer_op = state_ops.assign(self._variable, init,
                                                    validate_shape=validate_shape).op
        if self._caching_device is not None:
            with g.device(self._caching_device):
                self._snapshot = identity(self._variable, name="read")
        else:
            with g.colocate_with(self._variable.op):
                self._snapshot = identity(self._variable, name="read")

    def _init_from_def(self, variable_def: Any, import_scope: Optional[str]) -> None:
        """Wrap existing graph ops named by ``variable_def`` (dict or attributes)."""
        def field(key: str, default: Any = None) -> Any:
            if isinstance(variable_def, dict):
                return variable_def.get(key, default)
            return getattr(variable_def, key, default)

        def element(key: str) -> Any:
            n = field(key)
            if not n:
                return None
            return g.as_graph_element(import_scope + "/" + n if import_scope else n)
        g = graph_mod.get_default_graph()
        self._variable = element("variable_name")
        self._initializer_op = element("initializer_name")
        self._snapshot = element("snapshot_name")
        self._initial_value = element("initial_value_name")
        self._trainable = bool(field("trainable", True))

    def to_proto(self, export_scope: Optional[str] = None) -> Optional[dict]:
        """The names of this variable's ops (a VariableDef as a dict); None when
        the variable is outside ``export_scope``."""
        names = {"variable_name": self._variable.name,
                 "initializer_name": self._initializer_op.name,
                 "snapshot_name": self._snapshot.name,
                 "initial_value_name": self._initial_value.name
                 if self._initial_value is not None else "",
                 "trainable": self._trainable}
        if export_scope:
            prefix = export_scope.rstrip("/") + "/"
            if not self._variable.name.startswith(prefix):
                return None
            names = {k: v[len(prefix):] if isinstance(v, str) and v.startswith(prefix) else v
                     for k, v in names.items()}
        return names

    @staticmethod
    def from_proto(variable_def: Any, import_scope: Optional[str] = None) -> "Variable":
        """The Variable described by a ``VariableDef`` (``tf.Variable.from_proto``)."""
        return Variable(variable_def=variable_def, import_scope=import_scope)

    # --- properties -------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The name of the variable's ref tensor (``'w:0'``)."""
        return self._variable.name

    @property
    def op(self) -> Operation:
        """The ``VariableV2`` Operation that holds the value."""
        return self._variable.op

    @property
    def dtype(self) -> Any:
        """The ref dtype of the variable (``float32_ref``); ``.base_dtype`` is the value type."""
        return self._variable.dtype

    @property
    def shape(self) -> TensorShape:
        """The static ``TensorShape`` of the value."""
        return self._variable.shape

    def get_shape(self) -> TensorShape:
        """The static ``TensorShape`` of the value (same as ``shape``)."""
        return self._variable.shape

    def set_shape(self, shape: Any) -> None:
        """Refine the static shape of the variable and its ``read`` snapshot."""
        self._variable.set_shape(shape)
        self._snapshot.set_shape(shape)

    @property
    def initializer(self) -> Operation:
        """The ``Assign`` op that sets the variable to its initial value."""
        return self._initializer_op

    @property
    def initial_value(self) -> Tensor:
        """The Tensor the initializer assigns."""
        return self._initial_value

    @property
    def graph(self) -> Any:
        """The Graph the variable lives in."""
        return self._variable.graph

    @property
    def device(self) -> str:
        """The variable op's requested device ('' if none)."""
        return self._variable.device

    @property
    def trainable(self) -> bool:
        """True if the variable is in ``TRAINABLE_VARIABLES`` (optimizers update it)."""
        return self._trainable

    @property
    def constraint(self) -> Any:
        """The projection function given at creation, or None (applied by Keras optimizers)."""
        return self._constraint

    @property
    def synchronization(self) -> Any:
        """The ``VariableSynchronization`` given at creation (recorded only)."""
        return self._synchronization

    @property
    def aggregation(self) -> Any:
        """The ``VariableAggregation`` given at creation (recorded only)."""
        return self._aggregation

    @property
    def _shared_name(self) -> str:
        return self._variable.op.name

    _unique_id = _shared_name

    # --- reads ---------------------------------------------------------------------------
    def value(self) -> Tensor:
        """The cached read ``<name>/read:0``."""
        return self._snapshot

    def read_value(self) -> Tensor:
        """A fresh read: an ``Identity`` named ``read`` in the current name scope."""
        return identity(self._variable, name="read")

    def _ref(self) -> Tensor:
        """The ``VariableV2`` output (``<name>:0``, a ref tensor)."""
        return self._variable

    def _as_graph_element(self) -> Tensor:
        return self._variable

    def initialized_value(self) -> Tensor:
        """The value, or the initial value when not yet initialized (TF builds a cond)."""
        with self.graph.as_default(), self.graph.control_dependencies(None):
            return apply_op("InitializedValue", self._variable, self._initial_value,
                            name="initialized_value")

    def eval(self, session: Any = None) -> Any:
        """The current value in ``session`` (default: the default session)."""
        return self._variable.eval(session=session)

    # --- updates -------------------------------------------------------------------------
    def assign(self, value: Any, use_locking: Optional[bool] = None, name: Optional[str] = None,
               read_value: bool = True) -> Any:
        """An ``Assign`` op storing ``value``; returns the new value (or the op)."""
        t = state_ops.assign(self, value, use_locking=bool(use_locking), name=name)
        return t if read_value else t.op

    def assign_add(self, delta: Any, use_locking: Optional[bool] = None,
                   name: Optional[str] = None, read_value: bool = True) -> Any:
        """An ``AssignAdd`` op; returns the updated value (or the op)."""
        t = state_ops.assign_add(self, delta, use_locking=bool(use_locking), name=name)
        return t if read_value else t.op

    def count_up_to(self, limit: int) -> Tensor:
        """Increment until ``limit``, then OutOfRangeError (``Variable.count_up_to``)."""
        from graphflow.ops import data_flow_ops
        return data_flow_ops.count_up_to(self, limit)

    def assign_sub(self, delta: Any, use_locking: Optional[bool] = None,
                   name: Optional[str] = None, read_value: bool = True) -> Any:
        """An ``AssignSub`` op; returns the updated value (or the op)."""
        t = state_ops.assign_sub(self, delta, use_locking=bool(use_locking), name=name)
        return t if read_value else t.op

    def _scatter(self, fn: Any, sparse_delta: Any, use_locking: bool, name: Optional[str]) -> Any:
        if not hasattr(sparse_delta, "indices") or not hasattr(sparse_delta, "values"):
            raise TypeError("sparse_delta is not IndexedSlices: %s" % (sparse_delta,))
        return fn(self, sparse_delta.indices, sparse_delta.values, use_locking=use_locking,
                  name=name)

    def scatter_update(self, sparse_delta: Any, use_locking: bool = False,
                       name: Optional[str] = None) -> Any:
        """``ScatterUpdate`` with the rows of an IndexedSlices."""
        return self._scatter(state_ops.scatter_update, sparse_delta, use_locking, name)

    def scatter_add(self, sparse_delta: Any, use_locking: bool = False,
                    name: Optional[str] = None) -> Any:
        """``ScatterAdd`` with the rows of an IndexedSlices."""
        return self._scatter(state_ops.scatter_add, sparse_delta, use_locking, name)

    def scatter_sub(self, sparse_delta: Any, use_locking: bool = False,
                    name: Optional[str] = None) -> Any:
        """``ScatterSub`` with the rows of an IndexedSlices."""
        return self._scatter(state_ops.scatter_sub, sparse_delta, use_locking, name)

    def load(self, value: Any, session: Any = None) -> None:
        """Store ``value`` by running the initializer with its initial value fed."""
        from graphflow.runtime.session import get_default_session
        session = session or get_default_session()
        if session is None:
            raise ValueError("Either session argument should be provided or default session "
                             "should be established")
        session.run(self._initializer_op, {self._initializer_op.inputs[1]: value})

    # --- Python protocol --------------------------------------------------------------
    def __repr__(self) -> str:
        return "<tf.Variable '%s' shape=%s dtype=%s>" % (self.name, self.shape, self.dtype.name)

    def __getitem__(self, key: Any) -> Tensor:
        return _OPERATORS["getitem"](self._snapshot, key)

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        raise NotImplementedError(
            "Cannot convert a symbolic Variable (%s) to a numpy array." % self.name)

    def __iter__(self) -> Any:
        raise TypeError("'Variable' object is not iterable.")

    def __bool__(self) -> bool:
        return bool(self._snapshot)


overload_operators(Variable)
VariableV1 = Variable


def _variable_to_tensor(v: Variable, dtype: Any = None, name: Optional[str] = None,
                        as_ref: bool = False) -> Tensor:
    if dtype is not None and not dtypes.as_dtype(dtype).is_compatible_with(v.dtype):
        raise ValueError("Incompatible type conversion requested to type '%s' for variable of "
                         "type '%s'" % (dtypes.as_dtype(dtype).name, v.dtype.name))
    return v._ref() if as_ref else v.value()


register_tensor_conversion_function(Variable, _variable_to_tensor)


# --- collections -------------------------------------------------------------------------
def global_variables(scope: Optional[str] = None) -> list:
    """Variables in ``GLOBAL_VARIABLES`` (``tf.global_variables``)."""
    return graph_mod.get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


all_variables = global_variables


def trainable_variables(scope: Optional[str] = None) -> list:
    """Variables in ``TRAINABLE_VARIABLES`` (``tf.trainable_variables``)."""
    return graph_mod.get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def local_variables(scope: Optional[str] = None) -> list:
    """Variables in ``LOCAL_VARIABLES`` (``tf.local_variables``)."""
    return graph_mod.get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def model_variables(scope: Optional[str] = None) -> list:
    """Variables in ``MODEL_VARIABLES`` (``tf.model_variables``)."""
    return graph_mod.get_collection(GraphKeys.MODEL_VARIABLES, scope)


def moving_average_variables(scope: Optional[str] = None) -> list:
    """Variables in ``MOVING_AVERAGE_VARIABLES`` (``tf.moving_average_variables``)."""
    return graph_mod.get_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, scope)


# --- initializers --------------------------------------------------------------------------
def variables_initializer(var_list: list, name: str = "init") -> Operation:
    """A ``NoOp`` whose control inputs are the initializers of ``var_list``
    (``tf.variables_initializer``); an empty list gives a bare ``NoOp``."""
    var_list = list(var_list)
    g = var_list[0].graph if var_list else graph_mod.get_default_graph()
    with g.as_default(), g.control_dependencies([v.initializer for v in var_list]):
        return apply_op("NoOp", name=name)


initialize_variables = variables_initializer


def global_variables_initializer() -> Operation:
    """``variables_initializer(global_variables())``: a ``NoOp`` named ``init``."""
    return variables_initializer(global_variables())


initialize_all_variables = global_variables_initializer


def local_variables_initializer() -> Operation:
    """``variables_initializer(local_variables())``: a ``NoOp`` named ``init``."""
    return variables_initializer(local_variables())


initialize_local_variables = local_variables_initializer


def report_uninitialized_variables(var_list: Optional[list] = None,
                                   name: str = "report_uninitialized_variables") -> Tensor:
    """1-D string tensor with the op names of the uninitialized variables in
    ``var_list`` (default: global + local variables), in order."""
    if var_list is None:
        var_list = global_variables() + local_variables()
        if not var_list:  # variables built without tf.Variable
            var_list = [op.outputs[0] for op in graph_mod.get_default_graph().get_operations()
                        if op.type == "VariableV2"]
    var_list = list(var_list)
    with graph_mod.name_scope(name):
        if not var_list:
            return constant([], dtype=dtypes.string)
        return state_ops.report_uninitialized(var_list, [v.op.name for v in var_list])


def assert_variables_initialized(var_list: Optional[list] = None) -> Optional[Operation]:
    """An op that fails with FailedPreconditionError unless every variable of
    ``var_list`` (default: global + local variables) is initialized; None when
    the list is empty. (TF returns a tensor of the variables' ranks.)"""
    if var_list is None:
        var_list = global_variables() + local_variables()
    var_list = list(var_list)
    if not var_list:
        return None
    g = var_list[0].graph
    with g.as_default(), g.control_dependencies([v.value() for v in var_list]):
        return apply_op("NoOp", name="assert_variables_initialized")
