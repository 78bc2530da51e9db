"""Session: feeds and fetches, plan caching, default sessions (spec graph.md §5).

The first ``run`` of a (feeds, fetches, targets) signature prunes and orders
the graph and prepares an ExecutionPlan; later runs of the same signature
reuse it, so a call costs feed checks, one walk over the steps and fetch
conversion.
"""
from __future__ import annotations

import collections
import contextlib
import threading
from typing import Any, Iterator, Optional

import numpy as np

from graphflow import errors
from graphflow.compiler import plan as plan_mod
from graphflow.framework import graph as graph_mod
from graphflow.framework.operation import Operation, Tensor
from graphflow.runtime import executor, parallel, policies
from graphflow.runtime.config import ConfigProto

_TLS = threading.local()


def _session_stack() -> list:
    s = getattr(_TLS, "stack", None)
    if s is None:
        s = _TLS.stack = []
    return s


def get_default_session() -> Optional["Session"]:
    """The innermost default session of this thread, or None."""
    s = _session_stack()
    return s[-1] if s else None


class _Fetches:
    """Flattened fetches of a (possibly nested) structure, and how to rebuild it."""

    def __init__(self, graph: Any, fetches: Any) -> None:
        self.tensors: list = []
        self.targets: list = []
        self.plans: dict = {}  # fed tensors (in feed_dict order) -> plan
        self.rebuild = self._flatten(graph, fetches)

    def _flatten(self, graph: Any, f: Any) -> Any:
        if isinstance(f, (list, tuple)) and not _is_graph_obj(f):
            subs = [self._flatten(graph, x) for x in f]
            typ = type(f)
            if hasattr(f, "_fields"):
                return lambda vals: typ(*[s(vals) for s in subs])
            if typ is tuple:
                return lambda vals: tuple(s(vals) for s in subs)
            if typ is list:
                return lambda vals: [s(vals) for s in subs]
            return lambda vals: typ([s(vals) for s in subs])
        if isinstance(f, collections.abc.Mapping):
            keys = list(f.keys())
            subs = [self._flatten(graph, f[k]) for k in keys]
            typ = type(f)

            def rebuild(vals: list) -> Any:
                items = [(k, s(vals)) for k, s in zip(keys, subs)]
                if typ is dict:
                    return dict(items)
                if isinstance(f, collections.defaultdict):
                    d = typ(f.default_factory)
                    d.update(items)
                    return d
                return typ(items)
            return rebuild
        composite = getattr(f, "_gf_fetch_components", None)
        if composite is not None:  # IndexedSlices and similar
            parts, build = composite()
            subs = [self._flatten(graph, p) for p in parts]
            return lambda vals: build(*[s(vals) for s in subs])
        el = _as_element(graph, f)
        if not graph.is_fetchable(el):  # Graph.prevent_fetching (checked once per structure)
            raise ValueError("Operation %r has been marked as not fetchable."
                             % (el if isinstance(el, Operation) else el.op).name)
        if isinstance(el, Operation):
            self.targets.append(el)
            return lambda vals: None
        idx = len(self.tensors)
        self.tensors.append(el)
        return lambda vals: vals[idx]


def _is_graph_obj(f: Any) -> bool:
    return isinstance(f, (Tensor, Operation))


def _as_element(graph: Any, f: Any) -> Any:
    if f is None:
        raise TypeError('Argument `fetch` = None has invalid type "NoneType". Cannot be None')
    if isinstance(f, (Tensor, Operation)):
        try:
            return graph.as_graph_element(f)
        except ValueError as e:
            raise ValueError("Argument `fetch` = %s cannot be interpreted as a Tensor. (%s)"
                             % (f, e)) from None
    if isinstance(f, str):
        try:
            return graph.as_graph_element(f)
        except (KeyError, ValueError) as e:
            msg = e.args[0] if e.args else str(e)
            raise ValueError('Argument `fetch` = %s cannot be interpreted as a Tensor. ("%s")'
                             % (f, msg)) from None
    conv = getattr(f, "_as_graph_element", None)
    if conv is not None:
        return _as_element(graph, conv())
    raise TypeError('Argument `fetch` = %r has invalid type "%s" must be a string or Tensor. '
                    "(Can not convert a %s into a Tensor or Operation.)"
                    % (f, type(f).__name__, type(f).__name__))


def _to_result(value: Any, copy: bool) -> Any:
    """numpy scalar for 0-d, ndarray otherwise (copied when it may alias state)."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return value[()]
        return value.copy() if copy else value
    return value


_MAX_CACHED_FETCHES = 4096


def _fetch_key(fetches: Any) -> Any:
    """A hashable key for a fetch structure, or None when it cannot be cached."""
    typ = type(fetches)
    if typ is Tensor or typ is Operation or typ is str:
        return fetches
    try:
        if isinstance(fetches, tuple) or typ is list:
            key = (typ,) + tuple(fetches)
        elif typ is dict or typ is collections.OrderedDict:
            key = (typ,) + tuple(fetches.items())
        else:
            return None
        hash(key)
    except TypeError:  # unhashable leaves or nested containers
        return None
    return key


class BaseSession:
    """Shared implementation of Session and InteractiveSession."""

    def __init__(self, target: str = "", graph: Any = None, config: Any = None) -> None:
        self._graph = graph if graph is not None else graph_mod.get_default_graph()
        self._config = config if config is not None else ConfigProto()
        self._closed = False
        self._state = executor.SessionState()
        # ConfigProto.operation_timeout_in_ms: default deadline of blocking ops (0: none)
        self._timeout_ms = int(getattr(self._config, "operation_timeout_in_ms", 0) or 0)
        self._plans: dict = {}         # (canonical feeds, fetches, targets) -> plan
        self._fetch_cache: dict = {}   # fetch structure key -> _Fetches
        self._feed_cache: dict = {}    # feed_dict key -> (tensor, converter)
        self._lock = threading.RLock()
        self._default_ctx: Any = None
        self._graph_ctx: Any = None
        self.plan_builds = 0  # how many plans were built (tests check reuse)
        # inter-op executors (ConfigProto.inter_op_parallelism_threads; None: sequential)
        self._inter_op = parallel.ExecutorSet(self._config)
        self._inter_op.watch(self)
        self._parallel = self._inter_op.get(0)
        # Graph.prevent_feeding/prevent_fetching: checked when a feed key or fetch
        # structure is first seen; a later mark empties those caches
        self._graph._mark_watchers.add(self)
        # ConfigProto.schedule (graphflow): the default schedule policy of every run
        policy = policies.get_policy(getattr(self._config, "schedule", None))
        self._policy = None if policy is policies.PLAN_ORDER else policy

    @property
    def graph(self) -> Any:
        return self._graph

    @property
    def graph_def(self) -> Any:
        return self._graph.as_graph_def()

    @property
    def sess_str(self) -> str:
        return ""

    def list_devices(self) -> list:
        return []

    @contextlib.contextmanager
    def as_default(self) -> Iterator["BaseSession"]:
        """Make this the default session (``Session.as_default``).

        Like TF1 it neither closes the session on exit nor makes the
        session's graph the default graph (``with Session() as s`` does both).
        """
        stack = _session_stack()
        stack.append(self)
        try:
            yield self
        finally:
            if stack and stack[-1] is self:
                stack.pop()
            elif self in stack:
                stack.reverse()
                stack.remove(self)
                stack.reverse()

    def close(self) -> None:
        """Release the session's state; later ``run`` calls raise RuntimeError."""
        self._closed = True
        self._plans.clear()
        self._fetch_cache.clear()
        self._feed_cache.clear()
        old, self._state = self._state, executor.SessionState()
        self._state.closed = True  # a run racing with close() gets cancelled queues
        old.close()  # blocked queue ops raise CancelledError
        self._inter_op.shutdown()

    def _graph_marks_changed(self) -> None:
        """The graph's feedable/fetchable marks changed: check feeds and fetches again."""
        self._fetch_cache = {}
        self._feed_cache = {}

    # --- run ------------------------------------------------------------------------
    def run(self, fetches: Any, feed_dict: Optional[dict] = None, options: Any = None,
            run_metadata: Any = None) -> Any:
        """Run the ops needed for ``fetches`` and return their values in the same structure."""
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        key = _fetch_key(fetches)
        fl = self._fetch_cache.get(key) if key is not None else None
        if fl is None:
            fl = _Fetches(self._graph, fetches)
            if key is not None:
                if len(self._fetch_cache) >= _MAX_CACHED_FETCHES:
                    self._fetch_cache.clear()
                self._fetch_cache[key] = fl
        if not fl.tensors and not fl.targets:
            return fl.rebuild([])
        if feed_dict:
            feed_tensors, feed_values = self._feeds(feed_dict)
        else:
            feed_tensors, feed_values = (), ()
        plan = fl.plans.get(feed_tensors)
        if plan is None:
            plan = fl.plans[feed_tensors] = self._plan_for(feed_tensors, fl)
        plan.runs += 1
        timeout_ms = (options.timeout_in_ms or self._timeout_ms) if options is not None \
            else self._timeout_ms
        par = self._parallel if options is None else self._inter_op.get(
            getattr(options, "inter_op_thread_pool", 0))
        policy = self._policy  # None: plan order (or the parallel executor's own policy)
        if options is not None and getattr(options, "schedule", None):
            policy = policies.get_policy(options.schedule)
            if policy is policies.PLAN_ORDER:
                policy = None
        if policy is not None and par is None:
            plan = policies.ordered_plan(plan, policy)  # the policy's whole order
        if options is not None and (getattr(options, "trace_level", 0) > 0
                                    or getattr(options, "output_partition_graphs", False)):
            values = self._run_traced(plan, feed_values, options, run_metadata, timeout_ms, par,
                                      policy)
        elif par is not None:  # inter-op parallel executor
            values = par.execute(plan, feed_values, timeout_ms, None, policy)
        elif timeout_ms > 0:  # RunOptions.timeout_in_ms -> DeadlineExceededError in waits
            values = executor.execute_with_timeout(plan, feed_values, timeout_ms)
        else:
            values = executor.execute(plan, feed_values)
        if plan.plain_fetches:
            out = [v[()] if type(v) is np.ndarray and v.ndim == 0 else v for v in values]
        else:
            out = []
            for i, (v, is_ref, alias) in enumerate(zip(values, plan.fetch_ref,
                                                       plan.fetch_alias)):
                if is_ref:
                    try:
                        v = v.read()
                    except errors.KernelError as e:
                        op = fl.tensors[i].op
                        raise executor.node_error(op, e) from None
                out.append(_to_result(v, alias))
        return fl.rebuild(out)

    @staticmethod
    def _run_traced(plan: Any, feed_values: Any, options: Any, run_metadata: Any,
                    timeout_ms: int, par: Any = None, policy: Any = None) -> list:
        """RunOptions tracing: fill ``run_metadata`` (step stats, partition graph)."""
        from graphflow.runtime import tracing
        traced = getattr(options, "trace_level", 0) > 0
        if traced and par is not None:
            values, trace = parallel.execute_traced(par, plan, feed_values, timeout_ms, policy)
        elif traced:
            values, trace = tracing.execute_traced(plan, feed_values, timeout_ms)
        elif par is not None:
            trace = None
            values = par.execute(plan, feed_values, timeout_ms, None, policy)
        else:
            trace = None
            values = (executor.execute_with_timeout(plan, feed_values, timeout_ms)
                      if timeout_ms > 0 else executor.execute(plan, feed_values))
        if run_metadata is not None:
            tracing.fill_run_metadata(run_metadata, plan, trace, partition_graphs=True)
        return values

    def _feeds(self, feed_dict: dict) -> tuple:
        """(fed tensors, converted values) in ``feed_dict`` order."""
        tensors, values = [], []
        cache = self._feed_cache
        for k, v in feed_dict.items():
            entry = cache.get(k)
            if entry is None:
                t = self._feed_key(k)
                entry = cache[k] = (t, plan_mod.feed_converter(t))
            tensors.append(entry[0])
            values.append(entry[1](v))
        return tuple(tensors), values

    def _feed_key(self, k: Any) -> Tensor:
        try:
            if isinstance(k, (Tensor, str)):
                t = self._graph.as_graph_element(k, allow_tensor=True, allow_operation=False)
            elif hasattr(k, "_as_graph_element"):
                t = self._graph.as_graph_element(k._as_graph_element(), allow_operation=False)
            else:
                raise TypeError("Can not convert a %s into a Tensor." % type(k).__name__)
        except (KeyError, ValueError, TypeError) as e:
            msg = e.args[0] if e.args else str(e)
            raise TypeError("Cannot interpret feed_dict key as Tensor: %s" % msg) from None
        if not self._graph.is_feedable(t):  # Graph.prevent_feeding
            raise ValueError("Tensor %s may not be fed." % t.name)
        return t

    def _plan_for(self, feeds: tuple, fl: _Fetches) -> plan_mod.ExecutionPlan:
        """The cached plan for this signature (feeds in any order), else a new one."""
        pkey = (frozenset(feeds), tuple(fl.tensors), tuple(fl.targets))
        plan = self._plans.get(pkey)
        if plan is None:
            with self._lock:  # concurrent first runs of one signature build one plan
                plan = self._plans.get(pkey)
                if plan is None:
                    plan = self._build_plan(tuple(dict.fromkeys(feeds)), fl)
                    self._plans[pkey] = plan
        return plan if plan.feeds == feeds else plan.with_feed_order(list(feeds))

    def _build_plan(self, feeds: tuple, fl: _Fetches) -> plan_mod.ExecutionPlan:
        """Compile the signature (compiler/pipeline.py; passes from the ConfigProto
        and ``GRAPHFLOW_PASSES``)."""
        from graphflow.compiler import pipeline
        from graphflow.compiler.options import CompileOptions
        with self._lock:
            try:
                plan = pipeline.compile_plan(fl.tensors, fl.targets, feeds, self._state,
                                             CompileOptions.from_config(self._config))
            except plan_mod.PlanError as e:
                raise errors.InvalidArgumentError(None, None, str(e)) from None
            self.plan_builds += 1
            return plan

    def compiled_plan(self, fetches: Any, feed_dict: Optional[dict] = None) -> Any:
        """The compiler's report for running ``fetches`` with ``feed_dict``'s keys fed.

        Compiles the signature like ``run`` would (and caches it), runs
        nothing, and returns a ``compiler.pipeline.CompileReport``: ops
        before/after each pass, fused groups, steps, buffers, peak bytes.
        """
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        fl = _Fetches(self._graph, fetches)
        feeds = tuple(self._feed_key(k) for k in (feed_dict or {}))
        return self._plan_for(feeds, fl).report

    def make_callable(self, fetches: Any, feed_list: Optional[list] = None,
                      accept_options: bool = False) -> Any:
        """A function running ``fetches`` with positional feeds (``Session.make_callable``)."""
        feed_list = list(feed_list or [])

        def call(*args: Any, **kwargs: Any) -> Any:
            if len(args) != len(feed_list):
                raise TypeError("Expected %d feeds but got %d" % (len(feed_list), len(args)))
            return self.run(fetches, dict(zip(feed_list, args)) if feed_list else None,
                            options=kwargs.get("options"),
                            run_metadata=kwargs.get("run_metadata"))
        return call

    def partial_run_setup(self, *args: Any, **kwargs: Any) -> Any:
        raise errors.UnimplementedError(None, None, "partial_run is not supported")

    def __del__(self) -> None:
        pass


class Session(BaseSession):
    """A TF1 session (same as ``tf.Session``): runs graph fragments."""

    def __enter__(self) -> "Session":
        """Make the session and its graph the defaults; ``__exit__`` closes it."""
        self._graph_ctx = self._graph.as_default()
        self._graph_ctx.__enter__()
        self._default_ctx = self.as_default()
        self._default_ctx.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self._default_ctx.__exit__(*exc)
            self._graph_ctx.__exit__(*exc)
        finally:
            self._default_ctx = self._graph_ctx = None
            self.close()

    @staticmethod
    def reset(target: str, containers: Any = None, config: Any = None) -> None:
        pass


class InteractiveSession(BaseSession):
    """A session that installs itself (and its graph) as the default when
    constructed; ``close()`` removes it (``tf.InteractiveSession``)."""

    def __init__(self, target: str = "", graph: Any = None, config: Any = None) -> None:
        super().__init__(target, graph, config)
        self._default_ctx = self.as_default()
        self._default_ctx.__enter__()
        self._graph_ctx = self._graph.as_default()
        self._graph_ctx.__enter__()

    def close(self) -> None:
        super().close()
        if self._default_ctx is not None:
            ctx, self._default_ctx = self._default_ctx, None
            ctx.__exit__(None, None, None)
        if self._graph_ctx is not None:
            ctx, self._graph_ctx = self._graph_ctx, None
            ctx.__exit__(None, None, None)
