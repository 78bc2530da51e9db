"""Variable scopes and ``tf.get_variable`` (TF1 semantics, spec graph.md §1.3).

Each graph keeps, in ``Graph._variable_scope_store``, the variables made by
``get_variable`` (keyed by full name) and, per thread, the current
``VariableScope`` with the use counts of scope names. ``get_variable`` names
variables by the variable scope only; ``variable_scope`` also opens a name
scope for the ops created inside.
"""
from __future__ import annotations

import enum
import functools
import inspect
import os
import threading
import traceback
from typing import Any, Callable, Optional

from graphflow import dtypes
from graphflow.framework import graph as graph_mod
from graphflow.framework.graph import GraphKeys
from graphflow.framework.operation import Tensor, graph_of
from graphflow.framework.tensor_shape import as_shape
from graphflow.ops import init_ops
from graphflow.ops.variables import Variable

__all__ = ["VariableScope", "variable_scope", "variable_op_scope", "get_variable",
           "get_local_variable", "get_variable_scope", "AUTO_REUSE", "no_regularizer",
           "enable_resource_variables", "disable_resource_variables",
           "resource_variables_enabled"]


class _ReuseMode(enum.Enum):
    """Reuse modes of a variable scope (only ``AUTO_REUSE`` is public)."""
    AUTO_REUSE = 1


AUTO_REUSE = _ReuseMode.AUTO_REUSE
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def no_regularizer(_: Any) -> None:
    """A regularizer that adds nothing (``tf.no_regularizer``)."""
    return None


def enable_resource_variables() -> None:
    """Accepted for compatibility; graphflow always builds TF1 reference variables."""


def disable_resource_variables() -> None:
    """Accepted for compatibility; graphflow always builds TF1 reference variables."""


def resource_variables_enabled() -> bool:
    """False: graphflow variables are TF1 reference variables."""
    return False


# --- stores ---------------------------------------------------------------------------------
class _VariableStore:
    """The variables ``get_variable`` created in one graph, by full name."""

    def __init__(self) -> None:
        self._vars: dict = {}

    def get_variable(self, name: str, shape: Any = None, dtype: Any = dtypes.float32,
                     initializer: Any = None, regularizer: Any = None, reuse: Any = None,
                     trainable: Optional[bool] = None, collections: Any = None,
                     caching_device: Any = None, partitioner: Any = None,
                     validate_shape: bool = True, use_resource: Any = None,
                     custom_getter: Optional[Callable] = None, constraint: Any = None,
                     synchronization: Any = None, aggregation: Any = None) -> Variable:
        """Create or reuse the variable ``name`` (the full, scoped name)."""
        if partitioner is not None:
            raise NotImplementedError("graphflow does not support partitioned variables "
                                      "(partitioner=%r)" % (partitioner,))
        dtype = dtypes.as_dtype(dtype).base_dtype if dtype is not None else dtypes.float32

        def true_getter(name: str, shape: Any = None, dtype: Any = dtypes.float32,
                        initializer: Any = None, regularizer: Any = None, reuse: Any = None,
                        trainable: Optional[bool] = None, collections: Any = None,
                        caching_device: Any = None, partitioner: Any = None,
                        validate_shape: bool = True, use_resource: Any = None,
                        constraint: Any = None, synchronization: Any = None,
                        aggregation: Any = None) -> Variable:
            return self._get_single_variable(
                name, shape, dtype, initializer, regularizer, reuse, trainable, collections,
                caching_device, validate_shape, constraint, synchronization, aggregation)

        kwargs = dict(name=name, shape=shape, dtype=dtype, initializer=initializer,
                      regularizer=regularizer, reuse=reuse, trainable=trainable,
                      collections=collections, caching_device=caching_device,
                      partitioner=partitioner, validate_shape=validate_shape,
                      use_resource=use_resource, synchronization=synchronization,
                      aggregation=aggregation)
        if custom_getter is None:
            return true_getter(constraint=constraint, **kwargs)
        if not callable(custom_getter):
            raise ValueError("Passed a custom_getter which is not callable: %s" % custom_getter)
        if _accepts(custom_getter, "constraint"):
            kwargs["constraint"] = constraint
        return custom_getter(true_getter, **kwargs)

    def _get_single_variable(self, name: str, shape: Any, dtype: Any, initializer: Any,
                             regularizer: Any, reuse: Any, trainable: Optional[bool],
                             collections: Any, caching_device: Any, validate_shape: bool,
                             constraint: Any, synchronization: Any,
                             aggregation: Any) -> Variable:
        from_value = initializer is not None and not callable(initializer)
        if shape is not None and from_value:
            raise ValueError("If initializer is a constant, do not specify shape.")
        dtype = dtypes.as_dtype(dtype)
        shape = as_shape(shape)
        if name in self._vars:
            found = self._vars[name]
            if reuse is False or reuse is None:
                tb = [f for f in reversed(found.op.traceback)
                      if not f[0].startswith(_PACKAGE_DIR)][:5]
                raise ValueError("Variable %s already exists, disallowed. Did you mean to set "
                                 "reuse=True or reuse=tf.AUTO_REUSE in VarScope? Originally "
                                 "defined at:\n\n%s" % (name, "".join(traceback.format_list(
                                     list(reversed(tb))))))
            if not shape.is_compatible_with(found.get_shape()):
                raise ValueError("Trying to share variable %s, but specified shape %s and found "
                                 "shape %s." % (name, shape, found.get_shape()))
            if not dtype.is_compatible_with(found.dtype):
                raise ValueError("Trying to share variable %s, but specified dtype %s and found "
                                 "dtype %s." % (name, dtype.name, found.dtype.base_dtype.name))
            return found
        if reuse is True:
            raise ValueError("Variable %s does not exist, or was not created with "
                             "tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE in "
                             "VarScope?" % name)
        if initializer is None:
            initializer = _default_initializer(name, dtype)
        if from_value:
            init_val, var_dtype = initializer, None
        else:
            if inspect.isclass(initializer):
                initializer = initializer()
            if shape.is_fully_defined():
                init_val = functools.partial(initializer, shape.as_list(), dtype=dtype)
                if _accepts(initializer, "partition_info"):
                    init_val = functools.partial(init_val, partition_info=None)
            elif _takes_no_args(initializer):
                init_val = initializer
            else:
                raise ValueError("The initializer passed is not valid. It should be a callable "
                                 "with no arguments and the shape should not be provided or "
                                 "an instance of `tf.keras.initializers.*' and `shape` should "
                                 "be fully defined.")
            var_dtype = dtype.base_dtype
        v = Variable(initial_value=init_val, name=name, trainable=trainable,
                     collections=collections, caching_device=caching_device, dtype=var_dtype,
                     validate_shape=validate_shape, constraint=constraint,
                     synchronization=synchronization, aggregation=aggregation)
        self._vars[name] = v
        g = v.graph
        if regularizer:
            with g.colocate_with(v.op), g.name_scope(name + "/Regularizer/"), \
                    g.control_dependencies(None):
                loss = regularizer(v)
            if loss is not None:
                g.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
        return v


def _default_initializer(name: str, dtype: Any) -> Any:
    """glorot-uniform for floats, zeros for integers, bools and strings (TF1)."""
    if dtype.is_floating:
        return init_ops.glorot_uniform_initializer()
    if dtype.is_integer or dtype.is_bool or dtype == dtypes.string:
        return init_ops.zeros_initializer()
    raise ValueError("An initializer for variable %s of %s is required"
                     % (name, dtype.base_dtype))


def _signature(fn: Callable) -> Optional[inspect.Signature]:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def _accepts(fn: Callable, arg: str) -> bool:
    sig = _signature(fn)
    if sig is None:
        return False
    return arg in sig.parameters or any(p.kind is p.VAR_KEYWORD
                                        for p in sig.parameters.values())


def _takes_no_args(fn: Callable) -> bool:
    sig = _signature(fn)
    return sig is not None and all(
        p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        for p in sig.parameters.values())


class _ScopeState(threading.local):
    """Per-thread current variable scope and scope-name use counts."""

    def __init__(self) -> None:
        self.current = VariableScope(False)
        self.counts: dict = {}


class _GraphVariableState:
    """What a graph keeps for ``get_variable``: the store and the scope state."""

    def __init__(self) -> None:
        self.store = _VariableStore()
        self.scopes = _ScopeState()

    def open_scope(self, name: str) -> None:
        self.scopes.counts[name] = self.scopes.counts.get(name, 0) + 1

    def close_subscopes(self, name: str) -> None:
        prefix = name + "/"
        counts = self.scopes.counts
        for k in counts:
            if k.startswith(prefix):
                counts[k] = 0


def _graph_state(graph: Any = None) -> _GraphVariableState:
    g = graph or graph_mod.get_default_graph()
    state = g._variable_scope_store
    if state is None:
        with g._lock:
            if g._variable_scope_store is None:
                g._variable_scope_store = _GraphVariableState()
            state = g._variable_scope_store
    return state


# --- VariableScope ----------------------------------------------------------------------------
class VariableScope:
    """Defaults for ``get_variable`` under one scope name (``tf.VariableScope``)."""

    def __init__(self, reuse: Any, name: str = "", initializer: Any = None,
                 regularizer: Any = None, caching_device: Any = None, partitioner: Any = None,
                 custom_getter: Optional[Callable] = None, name_scope: str = "",
                 dtype: Any = dtypes.float32, use_resource: Any = None,
                 constraint: Any = None) -> None:
        self._name = name
        self._reuse = reuse
        self._initializer = initializer
        self._regularizer = regularizer
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._name_scope = name_scope
        self._dtype = dtype
        self._use_resource = use_resource
        self._constraint = constraint

    @property
    def name(self) -> str:
        """The full scope name (``'outer/inner'``; '' at the top)."""
        return self._name

    @property
    def original_name_scope(self) -> str:
        """The name scope opened when this variable scope was first entered."""
        return self._name_scope

    @property
    def reuse(self) -> Any:
        """The reuse mode: False/None, True or ``tf.AUTO_REUSE``."""
        return self._reuse

    @property
    def initializer(self) -> Any:
        """Default initializer for ``get_variable`` in this scope, or None."""
        return self._initializer

    @property
    def dtype(self) -> Any:
        """Default dtype for ``get_variable`` in this scope."""
        return self._dtype

    @property
    def use_resource(self) -> Any:
        """Recorded only: graphflow variables are reference variables."""
        return self._use_resource

    @property
    def regularizer(self) -> Any:
        """Default regularizer; its loss goes to ``REGULARIZATION_LOSSES``."""
        return self._regularizer

    @property
    def caching_device(self) -> Any:
        """Recorded only: graphflow runs on the CPU."""
        return self._caching_device

    @property
    def partitioner(self) -> Any:
        """Default partitioner (partitioned variables are not supported)."""
        return self._partitioner

    @property
    def custom_getter(self) -> Optional[Callable]:
        """The getter wrapping ``get_variable`` in this scope, or None."""
        return self._custom_getter

    @property
    def constraint(self) -> Any:
        """Default constraint for ``get_variable`` in this scope, or None."""
        return self._constraint

    def reuse_variables(self) -> None:
        """Make later ``get_variable`` calls in this scope reuse variables."""
        self._reuse = True

    def set_initializer(self, initializer: Any) -> None:
        """Set the default initializer."""
        self._initializer = initializer

    def set_dtype(self, dtype: Any) -> None:
        """Set the default dtype."""
        self._dtype = dtype

    def set_use_resource(self, use_resource: Any) -> None:
        """Set ``use_resource`` (recorded only)."""
        self._use_resource = use_resource

    def set_regularizer(self, regularizer: Any) -> None:
        """Set the default regularizer."""
        self._regularizer = regularizer

    def set_caching_device(self, caching_device: Any) -> None:
        """Set ``caching_device`` (recorded only)."""
        self._caching_device = caching_device

    def set_partitioner(self, partitioner: Any) -> None:
        """Set the default partitioner."""
        self._partitioner = partitioner

    def set_custom_getter(self, custom_getter: Optional[Callable]) -> None:
        """Set the custom getter."""
        self._custom_getter = custom_getter

    def get_collection(self, name: str) -> list:
        """Items of collection ``name`` whose names start with this scope."""
        return graph_mod.get_collection(name, self._name + "/" if self._name else "")

    def trainable_variables(self) -> list:
        """The trainable variables created under this scope."""
        return self.get_collection(GraphKeys.TRAINABLE_VARIABLES)

    def global_variables(self) -> list:
        """The global variables created under this scope."""
        return self.get_collection(GraphKeys.GLOBAL_VARIABLES)

    def local_variables(self) -> list:
        """The local variables created under this scope."""
        return self.get_collection(GraphKeys.LOCAL_VARIABLES)

    def get_variable(self, var_store: _VariableStore, name: str, shape: Any = None,
                     dtype: Any = None, initializer: Any = None, regularizer: Any = None,
                     reuse: Any = None, trainable: Optional[bool] = None,
                     collections: Any = None, caching_device: Any = None,
                     partitioner: Any = None, validate_shape: bool = True,
                     use_resource: Any = None, custom_getter: Optional[Callable] = None,
                     constraint: Any = None, synchronization: Any = None,
                     aggregation: Any = None) -> Variable:
        """``var_store.get_variable`` with this scope's name prefix and defaults."""
        regularizer = self._regularizer if regularizer is None else regularizer
        caching_device = self._caching_device if caching_device is None else caching_device
        partitioner = self._partitioner if partitioner is None else partitioner
        custom_getter = self._custom_getter if custom_getter is None else custom_getter
        reuse = self._reuse if reuse is None else reuse
        use_resource = self._use_resource if use_resource is None else use_resource
        full_name = self._name + "/" + name if self._name else name
        # Variable names depend on the variable scope only: leave any name scope.
        with graph_mod.name_scope(None):
            if dtype is not None and initializer is not None and not callable(initializer):
                init_dtype = (initializer.dtype.base_dtype if isinstance(initializer, Tensor)
                              else dtypes.infer_dtype(initializer))
                if init_dtype != dtypes.as_dtype(dtype):
                    raise ValueError("Initializer type '%s' and explicit dtype '%s' don't "
                                     "match." % (init_dtype, dtypes.as_dtype(dtype)))
            initializer = self._initializer if initializer is None else initializer
            constraint = self._constraint if constraint is None else constraint
            dtype = self._dtype if dtype is None else dtype
            return var_store.get_variable(
                full_name, shape=shape, dtype=dtype, initializer=initializer,
                regularizer=regularizer, reuse=reuse, trainable=trainable,
                collections=collections, caching_device=caching_device,
                partitioner=partitioner, validate_shape=validate_shape,
                use_resource=use_resource, custom_getter=custom_getter,
                constraint=constraint, synchronization=synchronization,
                aggregation=aggregation)


def get_variable_scope() -> VariableScope:
    """The current variable scope (``tf.get_variable_scope``)."""
    return _graph_state().scopes.current


def get_variable(name: str, shape: Any = None, dtype: Any = None, initializer: Any = None,
                 regularizer: Any = None, trainable: Optional[bool] = None,
                 collections: Any = None, caching_device: Any = None, partitioner: Any = None,
                 validate_shape: bool = True, use_resource: Any = None,
                 custom_getter: Optional[Callable] = None, constraint: Any = None,
                 synchronization: Any = None, aggregation: Any = None) -> Variable:
    """Get an existing variable or create a new one (``tf.get_variable``).

    The name is prefixed by the current *variable* scope (plain name scopes are
    ignored). Reuse follows the scope's ``reuse``: creating an existing name
    without reuse, or reusing a missing one, raises ValueError.
    """
    state = _graph_state()
    return state.scopes.current.get_variable(
        state.store, name, shape=shape, dtype=dtype, initializer=initializer,
        regularizer=regularizer, trainable=trainable, collections=collections,
        caching_device=caching_device, partitioner=partitioner, validate_shape=validate_shape,
        use_resource=use_resource, custom_getter=custom_getter, constraint=constraint,
        synchronization=synchronization, aggregation=aggregation)


def get_local_variable(name: str, shape: Any = None, dtype: Any = None,
                       initializer: Any = None, regularizer: Any = None,
                       trainable: bool = False, collections: Any = None,
                       **kwargs: Any) -> Variable:
    """``get_variable`` adding the variable to ``LOCAL_VARIABLES`` (not trainable)."""
    collections = list(collections or []) + [GraphKeys.LOCAL_VARIABLES]
    return get_variable(name, shape=shape, dtype=dtype, initializer=initializer,
                        regularizer=regularizer, trainable=False, collections=collections,
                        **kwargs)


# --- variable_scope context manager --------------------------------------------------------
def _wrap_custom_getter(getter: Optional[Callable], old: Optional[Callable]) -> Any:
    """Compose a scope's custom getter with the enclosing one (inner calls outer)."""
    if getter is None or old is None:
        return getter if getter is not None else old

    def wrapped(real_getter: Callable, *args: Any, **kwargs: Any) -> Any:
        return getter(functools.partial(old, real_getter), *args, **kwargs)
    return wrapped


def _unique_scope_name(state: _GraphVariableState, prefix: str) -> str:
    current = state.scopes.current.name
    name = current + "/" + prefix if current else prefix
    counts = state.scopes.counts
    if counts.get(name, 0) == 0:
        return prefix
    idx = 1
    while counts.get("%s_%d" % (name, idx), 0) > 0:
        idx += 1
    return "%s_%d" % (prefix, idx)


class _PureVariableScope:
    """Switch the current VariableScope (no name scope); used by variable_scope."""

    def __init__(self, name_or_scope: Any, reuse: Any, overrides: dict,
                 old_name_scope: Optional[str]) -> None:
        self._name_or_scope = name_or_scope
        self._reuse = reuse
        self._overrides = overrides
        self._old_name_scope = old_name_scope
        self._state = _graph_state()

    def __enter__(self) -> VariableScope:
        state = self._state
        self._old = old = state.scopes.current
        src = self._name_or_scope
        if isinstance(src, VariableScope):
            self._new_name = src.name
            base = src
            reuse = self._reuse or src.reuse
            name_scope = src.original_name_scope
        else:
            self._new_name = old.name + "/" + src if old.name else src
            base = old
            reuse = self._reuse or old.reuse
            name_scope = src if self._old_name_scope is None else self._old_name_scope
        scope = VariableScope(reuse, name=self._new_name, initializer=base.initializer,
                              regularizer=base.regularizer, caching_device=base.caching_device,
                              partitioner=base.partitioner, custom_getter=base.custom_getter,
                              name_scope=name_scope, dtype=base.dtype,
                              use_resource=base.use_resource, constraint=base.constraint)
        ov = self._overrides
        for key in ("initializer", "regularizer", "caching_device", "partitioner", "dtype",
                    "use_resource", "constraint"):
            if ov.get(key) is not None:
                setattr(scope, "_" + key, ov[key])
        if ov.get("custom_getter") is not None:
            scope.set_custom_getter(_wrap_custom_getter(ov["custom_getter"], base.custom_getter))
        state.open_scope(self._new_name)
        if isinstance(src, VariableScope):  # jumping to a captured scope: counts come back
            self._old_counts = dict(state.scopes.counts)
        state.scopes.current = scope
        self._scope = scope
        return scope

    def __exit__(self, *exc: Any) -> None:
        state = self._state
        if state.scopes.current is not self._scope:
            raise RuntimeError("Improper nesting of variable_scope.")
        if isinstance(self._name_or_scope, VariableScope):
            state.scopes.counts = self._old_counts
        else:
            state.close_subscopes(self._new_name)
        state.scopes.current = self._old


class variable_scope:  # noqa: N801  (TF's name)
    """Open a variable scope and a name scope (``tf.variable_scope``).

    ``name_or_scope`` is a string or a captured ``VariableScope``; with None,
    ``default_name`` is made unique (``blk``, ``blk_1``). Re-opening a scope
    name keeps the variable prefix but opens a fresh name scope (``a_1/``).
    ``reuse`` is True, None (inherit) or ``AUTO_REUSE``; False means None.
    """

    def __init__(self, name_or_scope: Any, default_name: Optional[str] = None,
                 values: Any = None, initializer: Any = None, regularizer: Any = None,
                 caching_device: Any = None, partitioner: Any = None,
                 custom_getter: Optional[Callable] = None, reuse: Any = None,
                 dtype: Any = None, use_resource: Any = None, constraint: Any = None,
                 auxiliary_name_scope: bool = True) -> None:
        if default_name is None and name_or_scope is None:
            raise TypeError("If default_name is None then name_or_scope is required")
        if name_or_scope is not None and not isinstance(name_or_scope, (VariableScope, str)):
            raise TypeError("VariableScope: name_or_scope must be a string or VariableScope.")
        if not isinstance(auxiliary_name_scope, bool):
            raise TypeError("The auxiliary_name_scope must be `True` or `False`, while get %s"
                            % auxiliary_name_scope)
        if custom_getter is not None and not callable(custom_getter):
            raise ValueError("Passed a custom_getter which is not callable: %s" % custom_getter)
        self._name_or_scope = name_or_scope
        self._default_name = default_name
        self._values = values
        self._reuse = None if reuse is False else reuse
        self._overrides = dict(initializer=initializer, regularizer=regularizer,
                               caching_device=caching_device, partitioner=partitioner,
                               custom_getter=custom_getter, dtype=dtype,
                               use_resource=use_resource, constraint=constraint)
        self._auxiliary_name_scope = auxiliary_name_scope
        self._stack: list = []

    def __enter__(self) -> VariableScope:
        g = (graph_of(self._values) if self._values else None) or graph_mod.get_default_graph()
        entered: list = []
        try:
            ctx = g.as_default()
            ctx.__enter__()
            entered.append(ctx)
            scope = self._enter(g, entered)
        except BaseException:
            for ctx in reversed(entered):
                ctx.__exit__(None, None, None)
            raise
        self._stack.append(entered)
        return scope

    def _enter(self, g: Any, entered: list) -> VariableScope:
        def open_name_scope(name: Optional[str]) -> str:
            if not self._auxiliary_name_scope:  # re-enter the current name scope
                current = g.get_name_scope()
                name = current + "/" if current else None
            ctx = g.name_scope(name)
            result = ctx.__enter__()
            entered.append(ctx)
            return result

        src = self._name_or_scope
        if src is not None:
            ns_name = src if isinstance(src, str) else src.name.split("/")[-1]
            old_name_scope = None
            if ns_name or not self._auxiliary_name_scope:
                opened = open_name_scope(ns_name)
                old_name_scope = opened if isinstance(src, str) else src.original_name_scope
            pure = _PureVariableScope(src, self._reuse, self._overrides, old_name_scope)
        else:
            if self._reuse:
                raise ValueError("reuse=True cannot be used without a name_or_scope")
            opened = open_name_scope(self._default_name)
            unique = _unique_scope_name(_graph_state(g), self._default_name)
            pure = _PureVariableScope(unique, None, self._overrides, opened)
        scope = pure.__enter__()
        entered.append(pure)
        return scope

    def __exit__(self, *exc: Any) -> None:
        entered = self._stack.pop()
        for ctx in reversed(entered):
            ctx.__exit__(*exc)


def variable_op_scope(values: Any, name_or_scope: Any, default_name: Optional[str] = None,
                      **kwargs: Any) -> variable_scope:
    """Deprecated argument order of ``variable_scope`` (``tf.variable_op_scope``)."""
    return variable_scope(name_or_scope, default_name=default_name, values=values, **kwargs)
