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
from graphflow.runtime import executor
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


class _FetchLeaf:
    """How to turn a run's raw value into the user's result for one fetch."""
    __slots__ = ()


class _Fetches:
    """Flattened fetches of a (possibly nested) structure, and how to rebuild it."""

    def __init__(self, graph: Any, fetches: Any) -> None:
        self.tensors: list = []
        self.targets: list = []
        self.leaf_kinds: list = []  # per leaf: index into tensors, or -1 for an op
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


class BaseSession:
    """Shared implementation of Session and InteractiveSession."""

    def __init__(self, target: str = "", graph: Any = None, config: Any = None) -> None:
        self._graph = graph if graph is not None else graph_mod.get_default_graph()
        self._config = config if config is not None else ConfigProto()
        self._closed = False
        self._state = executor.SessionState()
        self._plans: dict = {}
        self._fetch_cache: dict = {}
        self._lock = threading.RLock()
        self._default_ctx: Any = None
        self.plan_builds = 0  # how many plans were built (tests check reuse)

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
        """Make this the default session (does not close it on exit)."""
        stack = _session_stack()
        stack.append(self)
        try:
            with self._graph.as_default():
                yield self
        finally:
            if stack and stack[-1] is self:
                stack.pop()

    def close(self) -> None:
        """Release the session's state; later ``run`` calls raise RuntimeError."""
        self._closed = True
        self._plans.clear()
        self._state = executor.SessionState()

    # --- run ------------------------------------------------------------------------
    def run(self, fetches: Any, feed_dict: Optional[dict] = None, options: Any = None,
            run_metadata: Any = None) -> Any:
        """Run the ops needed for ``fetches`` and return their values in the same structure."""
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        key = fetches if isinstance(fetches, (Tensor, Operation, str)) else None
        fl = self._fetch_cache.get(key) if key is not None else None
        if fl is None:
            fl = _Fetches(self._graph, fetches)
            if key is not None:
                self._fetch_cache[key] = fl
        if not fl.tensors and not fl.targets:
            return fl.rebuild([])
        feed_tensors, feed_values = self._feeds(feed_dict) if feed_dict else ((), ())
        pkey = (feed_tensors, tuple(fl.tensors), tuple(fl.targets))
        plan = self._plans.get(pkey)
        if plan is None:
            plan = self._build_plan(feed_tensors, fl)
            self._plans[pkey] = plan
        plan.runs += 1
        values = executor.execute(plan, feed_values)
        out = []
        for v, is_ref, alias in zip(values, plan.fetch_ref, plan.fetch_alias):
            if is_ref:
                try:
                    v = v.read()
                except errors.KernelError as e:
                    raise e.cls(None, None, e.message) from None
            out.append(_to_result(v, alias))
        return fl.rebuild(out)

    def _feeds(self, feed_dict: dict) -> tuple:
        tensors, values = [], []
        g = self._graph
        for k, v in feed_dict.items():
            t = k if type(k) is Tensor and k.graph is g else self._feed_key(k)
            if hasattr(v, "_gf_feed_components") and not isinstance(v, np.ndarray):
                raise TypeError("Feeding composite values is not supported: %r" % (k,))
            tensors.append(t)
            values.append(plan_mod.check_feed(t, v))
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
        return t

    def _build_plan(self, feeds: tuple, fl: _Fetches) -> plan_mod.ExecutionPlan:
        with self._lock:
            ops = plan_mod.prune(fl.tensors, fl.targets, feeds)
            try:
                order = plan_mod.toposort(ops, feeds)
            except plan_mod.PlanError as e:
                raise errors.InvalidArgumentError(None, None, str(e)) from None
            self.plan_builds += 1
            return plan_mod.ExecutionPlan(order, list(feeds), fl.tensors, self._state)

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
        self._default_ctx = self.as_default()
        self._default_ctx.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self._default_ctx.__exit__(*exc)
        finally:
            self.close()

    @staticmethod
    def reset(target: str, containers: Any = None, config: Any = None) -> None:
        pass


class InteractiveSession(BaseSession):
    """A session that installs itself as the default when constructed."""

    def __init__(self, target: str = "", graph: Any = None, config: Any = None) -> None:
        super().__init__(target, graph, config)
        self._default_ctx = self.as_default()
        self._default_ctx.__enter__()

    def close(self) -> None:
        super().close()
        if self._default_ctx is not None:
            ctx, self._default_ctx = self._default_ctx, None
            ctx.__exit__(None, None, None)
