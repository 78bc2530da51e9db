"""Graph: ops in creation order, unique names, name scopes, collections,
control dependencies, devices and the default-graph stack (spec graph.md §1-4).
"""
from __future__ import annotations

import contextlib
import re
import threading
import weakref
from typing import Any, Iterator, Optional

_VALID_OP_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$")
_VALID_SCOPE_NAME = re.compile(r"^[A-Za-z0-9_.\\/>-]*$")
DEFAULT_GRAPH_SEED = 87654321
# Scope names known to match _VALID_OP_NAME (which implies _VALID_SCOPE_NAME):
# operators open a scope per op ("mul", "add", "Sum"), so the regex runs once
# per name. Op names are checked every time (most are new). Cleared when full.
_VALID_NAMES: set = set()
_VALID_NAMES_MAX = 1 << 16


def _remember_valid(name: str) -> None:
    if len(_VALID_NAMES) >= _VALID_NAMES_MAX:
        _VALID_NAMES.clear()
    _VALID_NAMES.add(name)


class _Colocation:
    """The context manager ``Graph.colocate_with`` returns (entered per variable)."""

    __slots__ = ("_graph", "_op", "_ignore", "_saved", "_inside")

    def __init__(self, graph: "Graph", op: Any, ignore_existing: bool) -> None:
        self._graph = graph
        self._op = op
        self._ignore = ignore_existing
        self._inside = False

    def __enter__(self) -> None:
        op, g = self._op, self._graph
        if op is not None and not isinstance(op, _op_classes()[0]):
            op = getattr(op, "op", op)
        if self._ignore:
            self._saved, g._colocation_stack = g._colocation_stack, []
        g._colocation_stack.append(op)
        self._inside = True

    def __exit__(self, *exc: Any) -> None:
        if not self._inside:
            return
        self._inside = False
        g = self._graph
        g._colocation_stack.pop()
        if self._ignore:
            g._colocation_stack = self._saved

    def __del__(self) -> None:  # dropped while inside: leave, as the generator did
        _leave_when_collected(self)


_OPERATION_CLASSES: list = []  # [Operation, Tensor], filled on first use


def _op_classes() -> tuple:
    """(Operation, Tensor): imported late, since operation.py imports this module."""
    if not _OPERATION_CLASSES:
        from graphflow.framework.operation import Operation, Tensor
        _OPERATION_CLASSES[:] = [Operation, Tensor]
    return _OPERATION_CLASSES[0], _OPERATION_CLASSES[1]


_OUTSIDE = object()  # a context manager's state before __enter__ and after __exit__


def _leave_when_collected(ctx: Any) -> None:
    """``ctx.__exit__()`` from ``__del__``; quiet at interpreter shutdown."""
    try:
        ctx.__exit__(None, None, None)
    except Exception:  # noqa: BLE001 - module globals may already be gone
        pass


class _NameScope:
    """The context manager ``Graph.name_scope`` returns (a class: cheaper than a
    generator-based one, and it is entered for every operator-built op).

    Like the generator it replaces, one that is entered but dropped without
    ``__exit__`` restores the outer scope when it is garbage collected.
    """

    __slots__ = ("_graph", "_name", "_old")

    def __init__(self, graph: "Graph", name: Optional[str]) -> None:
        self._graph = graph
        self._name = name
        self._old = _OUTSIDE

    def __enter__(self) -> str:
        g, name = self._graph, self._name
        if name and name not in _VALID_NAMES:
            if g._name_stack:
                if not _VALID_SCOPE_NAME.match(name):
                    raise ValueError("'%s' is not a valid scope name. A scope name has to "
                                     "match the following pattern: %s"
                                     % (name, _VALID_SCOPE_NAME.pattern))
                if name[0] not in "_\\/>-":  # then it also matches _VALID_OP_NAME
                    _remember_valid(name)
            elif not _VALID_OP_NAME.match(name):
                raise ValueError("'%s' is not a valid root scope name. A root scope name has "
                                 "to match the following pattern: %s"
                                 % (name, _VALID_OP_NAME.pattern))
            else:
                _remember_valid(name)
        self._old = g._name_stack
        if not name:
            new, returned = "", ""
        elif name[-1] == "/":
            new, returned = name[:-1], name
        else:
            new = g.unique_name(name)
            returned = new + "/"
        g._name_stack = new
        return returned

    def __exit__(self, *exc: Any) -> None:
        old, self._old = self._old, _OUTSIDE
        if old is not _OUTSIDE:
            self._graph._name_stack = old

    def __del__(self) -> None:
        _leave_when_collected(self)


class GraphKeys:
    """Standard collection names (same strings as ``tf.GraphKeys``)."""

    GLOBAL_VARIABLES = "variables"
    VARIABLES = GLOBAL_VARIABLES
    TRAINABLE_VARIABLES = "trainable_variables"
    LOCAL_VARIABLES = "local_variables"
    MODEL_VARIABLES = "model_variables"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    GLOBAL_STEP = "global_step"
    UPDATE_OPS = "update_ops"
    SUMMARIES = "summaries"
    LOSSES = "losses"
    REGULARIZATION_LOSSES = "regularization_losses"
    TRAIN_OP = "train_op"
    SAVERS = "savers"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    READY_OP = "ready_op"
    READY_FOR_LOCAL_INIT_OP = "ready_for_local_init_op"
    SUMMARY_OP = "summary_op"
    QUEUE_RUNNERS = "queue_runners"
    ACTIVATIONS = "activations"
    WEIGHTS = "weights"
    BIASES = "biases"
    METRIC_VARIABLES = "metric_variables"
    TABLE_INITIALIZERS = "table_initializer"
    RESOURCES = "resources"
    LOCAL_RESOURCES = "local_resources"
    EVAL_STEP = "eval_step"
    CONCATENATED_VARIABLES = "concatenated_variables"
    TRAINABLE_RESOURCE_VARIABLES = "trainable_resource_variables"
    ASSET_FILEPATHS = "asset_filepaths"
    SAVEABLE_OBJECTS = "saveable_objects"
    COND_CONTEXT = "cond_context"
    WHILE_CONTEXT = "while_context"


class _ControlDependencies:
    """One ``control_dependencies`` block: its inputs and the ops made inside."""

    def __init__(self, graph: "Graph", control_inputs: Optional[list]) -> None:
        self.graph = graph
        self.new_stack = control_inputs is None
        self.control_inputs = [] if control_inputs is None else control_inputs
        self.seen: set = set()
        self._saved: Optional[list] = None

    def __enter__(self) -> None:
        g = self.graph
        if self.new_stack:
            self._saved = g._control_stack
            g._control_stack = []
        g._control_stack.append(self)

    def __exit__(self, *exc: Any) -> None:
        g = self.graph
        g._control_stack.pop()
        if self.new_stack:
            g._control_stack = self._saved


def _types_str(allow_tensor: bool, allow_operation: bool) -> str:
    return " or ".join(t for t, ok in (("Tensor", allow_tensor),
                                       ("Operation", allow_operation)) if ok)


class Graph:
    """A TensorFlow-1.x-style computation graph (same as ``tf.Graph``)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._ops: list = []
        self._by_name: dict = {}
        self._names_in_use: dict = {}
        self._name_stack = ""
        self._control_stack: list = []
        self._collections: dict = {}
        self._finalized = False
        self._seed: Optional[int] = None
        self._device_stack: list = []
        self._colocation_stack: list = []
        self._gradient_override_map: dict = {}
        self._variable_scope_store: Any = None
        self._version = 0
        self._recorders: list = []  # GradientTapes recording op creation
        self._unfeedable: set = set()  # tensors ``prevent_feeding`` marked
        self._unfetchable: set = set()  # ops ``prevent_fetching`` marked
        self._mark_watchers: Any = weakref.WeakSet()  # sessions told when the marks change

    # --- default graph --------------------------------------------------------
    def as_default(self) -> contextlib.AbstractContextManager:
        """Make this graph the default graph inside a ``with`` block."""
        return _default_graph_stack.get_controller(self)

    # --- properties -----------------------------------------------------------
    @property
    def finalized(self) -> bool:
        """True after ``finalize()``: the graph is read-only."""
        return self._finalized

    @property
    def version(self) -> int:
        """Number of ops created so far; grows with every new op."""
        return self._version

    @property
    def seed(self) -> Optional[int]:
        """The graph-level random seed (``tf.set_random_seed``), or None."""
        return self._seed

    @seed.setter
    def seed(self, seed: Optional[int]) -> None:
        self._seed = seed

    @property
    def building_function(self) -> bool:
        """Always False: graphflow has no function graphs."""
        return False

    def finalize(self) -> None:
        """Make the graph read-only: later op creation raises RuntimeError."""
        self._finalized = True

    def _unsafe_unfinalize(self) -> None:
        self._finalized = False

    def _check_not_finalized(self, what: str = "") -> None:
        """RuntimeError (TF's text, plus ``what`` was attempted) once finalized."""
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified."
                               + (" (%s)" % what if what else ""))

    # --- feedable / fetchable marks (checked by Session.run) -----------------------------
    def prevent_feeding(self, tensor: Any) -> None:
        """Mark ``tensor`` as not feedable (``tf.Graph.prevent_feeding``)."""
        self._unfeedable.add(tensor)
        self._marks_changed()

    def is_feedable(self, tensor: Any) -> bool:
        """False if ``prevent_feeding`` marked ``tensor``."""
        return tensor not in self._unfeedable

    def prevent_fetching(self, op: Any) -> None:
        """Mark ``op`` (and its outputs) as not fetchable (``tf.Graph.prevent_fetching``)."""
        self._unfetchable.add(op)
        self._marks_changed()

    def _marks_changed(self) -> None:
        """Sessions check the marks once per feed key and fetch structure: make
        them check again."""
        for sess in list(self._mark_watchers):
            sess._graph_marks_changed()

    def is_fetchable(self, tensor_or_op: Any) -> bool:
        """False if ``prevent_fetching`` marked the op (of the tensor)."""
        Tensor = _op_classes()[1]
        op = tensor_or_op.op if isinstance(tensor_or_op, Tensor) else tensor_or_op
        return op not in self._unfetchable

    # --- GraphDef (graphflow/io/graph_def.py) -------------------------------------
    def as_graph_def(self, from_version: Optional[int] = None, add_shapes: bool = False) -> Any:
        """This graph as a ``GraphDef`` protocol buffer (``tf.Graph.as_graph_def``)."""
        from graphflow.io import graph_def
        return graph_def.graph_to_graph_def(self, from_version, add_shapes)

    @property
    def graph_def_versions(self) -> Any:
        """The ``VersionDef`` written into this graph's GraphDefs."""
        from graphflow.io import graph_def
        return graph_def.graph_def_versions()

    def to_networkx(self, ops: Any = None) -> Any:
        """This graph as a ``networkx.DiGraph`` (see ``graphflow.analysis.to_networkx``)."""
        from graphflow.analysis.export import to_networkx
        return to_networkx(self, ops)

    # --- ops --------------------------------------------------------------------
    def _add_op(self, op: Any) -> None:
        with self._lock:
            if self._finalized:
                self._check_not_finalized()
            self._ops.append(op)
            self._by_name[op._name] = op
            self._version = len(self._ops)
            for ctl in self._control_stack:
                ctl.seen.add(op)
            for rec in self._recorders:
                rec._record(op)

    def get_operations(self) -> list:
        """All ops, in creation order."""
        return list(self._ops)

    def get_operation_by_name(self, name: str) -> Any:
        """The Operation named ``name`` (KeyError, TF wording, if none)."""
        if not isinstance(name, str):
            raise TypeError("Operation names are strings (or similar), not %s."
                            % type(name).__name__)
        return self.as_graph_element(name, allow_tensor=False, allow_operation=True)

    def get_tensor_by_name(self, name: str) -> Any:
        """The Tensor named ``"op:i"`` (KeyError/ValueError, TF wording)."""
        if not isinstance(name, str):
            raise TypeError("Tensor names are strings (or similar), not %s."
                            % type(name).__name__)
        return self.as_graph_element(name, allow_tensor=True, allow_operation=False)

    def as_graph_element(self, obj: Any, allow_tensor: bool = True,
                         allow_operation: bool = True) -> Any:
        """Resolve a Tensor, Operation or name string to an element of this graph."""
        Operation, Tensor = _op_classes()
        conv = getattr(obj, "_as_graph_element", None)
        if conv is not None and not isinstance(obj, (Tensor, Operation)):
            obj = conv()
        if isinstance(obj, str):
            name = obj
            if ":" in name and allow_tensor:
                op_name, _, idx = name.rpartition(":")
                try:
                    index = int(idx)
                except ValueError:
                    raise ValueError("The name %s looks a like a Tensor name, but is not a "
                                     "valid one. Tensor names must be of the form "
                                     "\"<op_name>:<output_index>\"." % repr(name))
                op = self._by_name.get(op_name)
                if op is None:
                    raise KeyError("The name %s refers to a Tensor which does not exist. "
                                   "The operation, %s, does not exist in the graph."
                                   % (repr(name), repr(op_name)))
                if index < 0 or index >= len(op.outputs):
                    raise KeyError("The name %s refers to a Tensor which does not exist. "
                                   "The operation, %s, exists but only has %d outputs."
                                   % (repr(name), repr(op_name), len(op.outputs)))
                return op.outputs[index]
            if ":" in name and not allow_tensor:
                raise ValueError("Name %s appears to refer to a Tensor, not a %s."
                                 % (repr(name), _types_str(allow_tensor, allow_operation)))
            if not allow_operation:
                if name in self._by_name:
                    raise ValueError("The name %s refers to an Operation, not a Tensor. "
                                     "Tensor names must be of the form "
                                     "\"<op_name>:<output_index>\"." % repr(name))
                raise ValueError("The name %s looks like an (invalid) Operation name, not a "
                                 "Tensor. Tensor names must be of the form "
                                 "\"<op_name>:<output_index>\"." % repr(name))
            op = self._by_name.get(name)
            if op is None:
                raise KeyError("The name %s refers to an Operation not in the graph."
                               % repr(name))
            return op
        if isinstance(obj, Tensor) and allow_tensor:
            if obj.graph is not self:
                raise ValueError("Tensor %s is not an element of this graph." % obj)
            return obj
        if isinstance(obj, Operation) and allow_operation:
            if obj.graph is not self:
                raise ValueError("Operation %s is not an element of this graph." % obj)
            return obj
        raise TypeError("Can not convert a %s into a %s."
                        % (type(obj).__name__, _types_str(allow_tensor, allow_operation)))

    # --- names ------------------------------------------------------------------
    def unique_name(self, name: str, mark_as_used: bool = True) -> str:
        """Return a unique op name for ``name`` within the current name scope."""
        if self._name_stack:
            name = self._name_stack + "/" + name
        key = name.lower()
        in_use = self._names_in_use
        i = in_use.get(key, 0)
        if mark_as_used:
            in_use[key] = i + 1
        if i > 0:
            base_key = key
            while key in in_use:
                key = "%s_%d" % (base_key, i)
                i += 1
            if mark_as_used:
                in_use[key] = 1
            name = "%s_%d" % (name, i - 1)
        return name

    def get_name_scope(self) -> str:
        """The current name scope without a trailing slash ('' at the top)."""
        return self._name_stack

    def name_scope(self, name: Optional[str]) -> "_NameScope":
        """Open a name scope (``tf.Graph.name_scope``); yields ``'scope/'``.

        A name ending in ``/`` re-enters that exact scope; None or '' goes to
        the top level; any other name is made unique (``name_1`` ...).
        """
        if name and not isinstance(name, str):
            name = str(name)
        return _NameScope(self, name)

    def _op_name(self, name: str) -> str:
        """The final name for a new op given its requested (base) name."""
        if name[-1:] == "/":
            full = name[:-1]
        else:
            full = self.unique_name(name)
        if not _VALID_OP_NAME.match(full):  # op names are mostly new: no cache
            raise ValueError("'%s' is not a valid node name. Accepted names conform to "
                             "Regex /%s/." % (full, _VALID_OP_NAME.pattern))
        if full in self._by_name:
            raise ValueError("Cannot add op with name %s as that name is already used" % full)
        return full

    # --- collections ---------------------------------------------------------------
    def add_to_collection(self, name: str, value: Any) -> None:
        """Append ``value`` to collection ``name`` (``tf.add_to_collection``)."""
        if self._finalized:
            self._check_not_finalized("adding to collection %r" % (name,))
        with self._lock:
            self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names: Any, value: Any) -> None:
        """Append ``value`` to each collection in ``names`` (a name or a list)."""
        names = (names,) if isinstance(names, str) else dict.fromkeys(names)
        for name in names:
            self.add_to_collection(name, value)

    def get_collection_ref(self, name: str) -> list:
        """The collection's list itself (created empty if absent); mutate it in place."""
        with self._lock:
            return self._collections.setdefault(name, [])

    def get_collection(self, name: str, scope: Optional[str] = None) -> list:
        """A copy of collection ``name``; with ``scope``, the items whose name matches it."""
        items = self._collections.get(name)
        if items is None:
            return []
        if scope is None:
            return list(items)
        pat = re.compile(scope)
        return [it for it in items if hasattr(it, "name") and pat.match(it.name)]

    def get_all_collection_keys(self) -> list:
        """The string keys of every collection in the graph."""
        return [k for k, v in self._collections.items() if isinstance(k, str)]

    def clear_collection(self, name: str) -> None:
        """Remove collection ``name`` (no error if absent)."""
        self._collections.pop(name, None)

    # --- control dependencies -----------------------------------------------------
    def control_dependencies(self, control_inputs: Optional[list]) -> _ControlDependencies:
        """Ops created in the block get ``control_inputs`` as control inputs."""
        if control_inputs is None:
            return _ControlDependencies(self, None)
        Operation, Tensor = _op_classes()
        current = set()
        for ctl in self._control_stack:
            current.update(ctl.control_inputs)
        ops = []
        for c in control_inputs:
            if not isinstance(c, (Tensor, Operation)) and not hasattr(c, "_as_graph_element") \
                    and isinstance(getattr(c, "op", None), Operation):
                c = c.op  # IndexedSlices and similar composites
            c = self.as_graph_element(c)
            if isinstance(c, Tensor):
                c = c.op
            if c not in current:
                ops.append(c)
                current.add(c)
        return _ControlDependencies(self, ops)

    def _control_inputs_for(self, input_ops: list) -> list:
        """Control inputs of a new op with data inputs from ``input_ops``: those of
        every enclosing ``control_dependencies`` block, except blocks in which an
        input op was created (it already waits for them) and ops already inputs."""
        ret: list = []
        skip = set(input_ops)  # ops that need no control edge (inputs, or already added)
        for ctl in self._control_stack:
            if any(op in ctl.seen for op in input_ops):
                continue
            for c in ctl.control_inputs:
                if c not in skip:
                    skip.add(c)
                    ret.append(c)
        return ret

    # --- devices, colocation, gradient overrides ----------------------------------------
    @contextlib.contextmanager
    def device(self, device_name_or_function: Any) -> Iterator[None]:
        """Record a device for ops created inside (placement is not simulated)."""
        self._device_stack.append(device_name_or_function)
        try:
            yield
        finally:
            self._device_stack.pop()

    def _current_device(self, op: Any) -> str:
        dev = ""
        for d in self._device_stack:
            if d is None:
                dev = ""
            elif callable(d):
                dev = d(op) or ""
            else:
                dev = d
        return dev

    def colocate_with(self, op: Any, ignore_existing: bool = False) -> "_Colocation":
        """Record ``_class=['loc:@<op>']`` on ops created inside."""
        return _Colocation(self, op, ignore_existing)

    @contextlib.contextmanager
    def gradient_override_map(self, op_type_map: dict) -> Iterator[None]:
        """Use other gradient functions for op types created inside the block."""
        if not isinstance(op_type_map, dict):
            raise TypeError("op_type_map must be a dictionary mapping strings to strings")
        saved = dict(self._gradient_override_map)
        self._gradient_override_map.update(op_type_map)
        try:
            yield
        finally:
            self._gradient_override_map = saved

    def __repr__(self) -> str:
        return "<graphflow.Graph object at 0x%x>" % id(self)


class _DefaultGraphStack(threading.local):
    """A per-thread stack of default graphs over one process-wide global graph."""

    def __init__(self) -> None:
        self.stack: list = []

    def get_controller(self, graph: Graph) -> "_GraphController":
        return _GraphController(self, graph)


class _GraphController:
    """``with graph.as_default():`` pushes ``graph`` on the calling thread's stack
    (a class rather than a generator: it is entered for many ops)."""

    __slots__ = ("_stacks", "_graph", "_inside")

    def __init__(self, stacks: _DefaultGraphStack, graph: Graph) -> None:
        self._stacks = stacks
        self._graph = graph
        self._inside = False

    def __enter__(self) -> Graph:
        self._stacks.stack.append(self._graph)
        self._inside = True
        return self._graph

    def __exit__(self, *exc: Any) -> None:
        if not self._inside:
            return
        self._inside = False
        stack, graph = self._stacks.stack, self._graph
        if stack and stack[-1] is graph:
            stack.pop()
        elif graph in stack:
            stack.remove(graph)

    def __del__(self) -> None:
        # Dropped while inside (e.g. a variable_scope entered by hand and never
        # left): leave when garbage collected, as the generator-based one did.
        _leave_when_collected(self)


_default_graph_stack = _DefaultGraphStack()
_global_graph: list = [Graph()]


def get_default_graph() -> Graph:
    """The innermost ``as_default`` graph, else the global default graph."""
    stack = _default_graph_stack.stack
    return stack[-1] if stack else _global_graph[0]


def reset_default_graph() -> None:
    """Replace the global default graph by a new empty one."""
    if _default_graph_stack.stack:
        raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs. "
                             "If you need a cleared graph, exit the nesting and create a "
                             "new graph.")
    _global_graph[0] = Graph()


def get_seed(op_seed: Optional[int]) -> tuple:
    """TF1's seed rule: (graph seed, op seed) for a random op (``tf.get_seed``)."""
    g = get_default_graph()
    gseed = g.seed
    if gseed is not None:
        if op_seed is None:
            op_seed = len(g._ops)
        return gseed, op_seed
    if op_seed is not None:
        return DEFAULT_GRAPH_SEED, op_seed
    return None, None


def set_random_seed(seed: Optional[int]) -> None:
    """Set the graph-level random seed of the default graph."""
    get_default_graph().seed = seed


def add_to_collection(name: str, value: Any) -> None:
    """Append ``value`` to the default graph's collection ``name`` (``tf.add_to_collection``)."""
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names: Any, value: Any) -> None:
    """``add_to_collection`` for each of ``names`` (``tf.add_to_collections``)."""
    get_default_graph().add_to_collections(names, value)


def get_collection(key: str, scope: Optional[str] = None) -> list:
    """A copy of the default graph's collection ``key`` (``tf.get_collection``)."""
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key: str) -> list:
    """The default graph's collection list itself (``tf.get_collection_ref``)."""
    return get_default_graph().get_collection_ref(key)


def control_dependencies(control_inputs: Optional[list]) -> _ControlDependencies:
    """Ops built in the block run after ``control_inputs`` (``tf.control_dependencies``)."""
    return get_default_graph().control_dependencies(control_inputs)


def device(device_name_or_function: Any) -> contextlib.AbstractContextManager:
    """Record a device on ops built in the block (``tf.device``); all run on the CPU."""
    return get_default_graph().device(device_name_or_function)


def colocate_with(op: Any, ignore_existing: bool = False) -> contextlib.AbstractContextManager:
    """Record colocation with ``op`` in the block (``tf.colocate_with``); no run-time effect."""
    return get_default_graph().colocate_with(op, ignore_existing)


class name_scope:  # noqa: N801  (TF's name)
    """``tf.name_scope(name, default_name=None, values=None)`` (TF1 signature)."""

    def __init__(self, name: Optional[str], default_name: Optional[str] = None,
                 values: Any = None) -> None:
        self._name = default_name if name is None else name
        self._default_name = default_name
        self._values = values
        self._ctx: Any = None

    @property
    def name(self) -> Optional[str]:
        """The ``name`` argument the scope was opened with."""
        return self._name

    def __enter__(self) -> str:
        default = get_default_graph()
        g = default
        if self._values:
            g = _graph_of(self._values) or g
        if self._name is None and self._values is not None:
            raise ValueError("At least one of name (%s) and default_name (%s) must be "
                             "provided." % (self._name, self._default_name))
        # Only a graph taken from ``values`` is pushed (TF1): a plain name scope
        # leaves the default-graph stack alone.
        self._graph_ctx = g.as_default() if g is not default else None
        if self._graph_ctx is not None:
            self._graph_ctx.__enter__()
        self._ctx = g.name_scope(self._name)
        try:
            return self._ctx.__enter__()
        except BaseException:
            if self._graph_ctx is not None:
                self._graph_ctx.__exit__(None, None, None)
            raise

    def __exit__(self, *exc: Any) -> None:
        self._ctx.__exit__(*exc)
        if self._graph_ctx is not None:
            self._graph_ctx.__exit__(*exc)


def _graph_of(values: Any) -> Any:
    """``operation.graph_of`` (imported late: operation.py imports this module)."""
    global _graph_of
    from graphflow.framework.operation import graph_of
    _graph_of = graph_of
    return graph_of(values)


def get_name_scope() -> str:
    """The default graph's current name scope (``tf.get_name_scope``)."""
    return get_default_graph().get_name_scope()


def op_scope(values: Any, name: str, default_name: Optional[str] = None) -> name_scope:
    """Deprecated TF1 alias of ``name_scope(name, default_name, values)``."""
    return name_scope(name, default_name, values)


