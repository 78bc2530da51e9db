"""GradientTape in graph mode (spec gradients.md §5). Same API as ``tf.GradientTape``.

graphflow is always in graph mode, so "recording" means remembering which
graph ops were created while the tape was active (the graph calls
``_record(op)`` for each active recorder). ``gradient()`` then builds the
gradient ops exactly as ``tf.gradients`` does, but the forward reach may only
pass through recorded ops: anything built before the tape, after it or inside
``stop_recording()`` is a constant for the tape. Sources must be watched:
trainable variables read inside the tape are watched automatically (when
``watch_accessed_variables``), any other tensor needs ``tape.watch``.

A variable's value reaches the recorded ops through its read ``Identity``
(``v/read``), usually created with the variable, before the tape; those
forwarding reads of watched variables are let through the reach as well.
"""
from __future__ import annotations

import contextlib
import logging
from typing import Any, Iterator, Optional

from graphflow.autodiff.gradients import (UnconnectedGradients, check_unconnected,
                                          gradients_impl, is_trainable)
from graphflow.framework import graph as graph_mod
from graphflow.framework.operation import Operation, Tensor, convert_to_tensor

_LOG = logging.getLogger("graphflow")
_WARNED: set = set()


def _warn_once(key: str, msg: str, *args: Any) -> None:
    if key not in _WARNED:
        _WARNED.add(key)
        _LOG.warning(msg, *args)


# --- nested structures (lists, tuples, namedtuples, dicts) ------------------------------------
def _flatten(s: Any) -> list:
    if isinstance(s, dict):
        return [x for k in sorted(s) for x in _flatten(s[k])]
    if isinstance(s, (list, tuple)):
        return [x for v in s for x in _flatten(v)]
    return [s]


def _pack(s: Any, flat: list) -> Any:
    it = iter(flat)

    def build(v: Any) -> Any:
        if isinstance(v, dict):
            built = {k: build(v[k]) for k in sorted(v)}
            return type(v)((k, built[k]) for k in v) if type(v) is not dict else \
                {k: built[k] for k in v}
        if isinstance(v, (list, tuple)):
            items = [build(x) for x in v]
            if hasattr(v, "_fields"):
                return type(v)(*items)
            return type(v)(items)
        return next(it)
    return build(s)


def _is_variable(v: Any) -> bool:
    return not isinstance(v, (Tensor, Operation)) and hasattr(v, "_as_graph_element") \
        and hasattr(v, "op")


def _ref_tensor(v: Any) -> Tensor:
    """The tensor a source stands for: a variable's reference output, else the tensor."""
    if isinstance(v, Tensor):
        return v
    return convert_to_tensor(v, as_ref=True)


class GradientTape:
    """Record ops for automatic differentiation (``tf.GradientTape``, graph mode).

    Args:
      persistent: allow several ``gradient``/``jacobian`` calls.
      watch_accessed_variables: watch trainable variables read while recording.
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        self._persistent = persistent
        self._watch_accessed_variables = watch_accessed_variables
        self._recording = False
        self._graph: Any = None
        self._used = False
        self._new_tape()

    def _new_tape(self) -> None:
        self._recorded: set = set()
        self._watched: dict = {}  # ref tensor -> source (insertion ordered)
        self._watched_vars: list = []

    # --- context -----------------------------------------------------------------------
    def __enter__(self) -> "GradientTape":
        self._push()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._recording:
            self._pop()

    def _push(self) -> None:
        if self._recording:
            raise ValueError("Tape is still recording, This can happen if you try to re-enter "
                             "an already-active tape.")
        g = graph_mod.get_default_graph()
        if self._graph is not None and g is not self._graph:
            self._new_tape()
        self._graph = g
        g._recorders.append(self)
        self._recording = True

    def _pop(self) -> None:
        if not self._recording:
            raise ValueError("Tape is not recording.")
        recs = self._graph._recorders
        if self in recs:
            recs.remove(self)
        self._recording = False

    @contextlib.contextmanager
    def stop_recording(self) -> Iterator[None]:
        """Ops built inside this block are not recorded (constants for the tape)."""
        if not self._recording:
            raise RuntimeError("Trying to stop recording a tape which is not recording.")
        self._pop()
        try:
            yield
        finally:
            self._push()

    def reset(self) -> None:
        """Forget everything recorded and watched so far; keep recording."""
        self._pop()
        self._new_tape()
        self._push()

    # --- recording and watching ------------------------------------------------------------
    def _record(self, op: Operation) -> None:
        """Called by the graph for each op created while this tape is recording."""
        self._recorded.add(op)
        if self._watch_accessed_variables:
            for t in op._inputs:
                v = self._accessed_variable(t)
                if v is not None and getattr(v, "trainable", True):
                    self._watch_one(v)

    def _accessed_variable(self, t: Tensor) -> Any:
        """The Variable whose value ``t`` is (through forwarding reads), or None."""
        seen = 0
        while seen < 16:
            if t.dtype.is_ref_dtype or t.op.type in ("VariableV2", "Variable", "VarHandleOp"):
                break
            fwd = getattr(t.op.op_def, "forwards", None)
            if fwd is None or not t.op._inputs:
                return None
            t = t.op._inputs[fwd]
            seen += 1
        else:
            return None
        g = t.graph
        for key in ("trainable_variables", "variables", "local_variables"):
            for v in g.get_collection(key):
                if getattr(v, "op", None) is t.op:
                    return v
        return None

    def watch(self, tensor: Any) -> None:
        """Ensure ``tensor`` (Tensor, Variable or nested structure of them) is traced."""
        for t in _flatten(tensor):
            dt = getattr(t, "dtype", None)
            if dt is not None and not is_trainable(_ref_tensor(t)):
                _warn_once("watch-dtype", "The dtype of the watched tensor must be floating "
                           "(e.g. tf.float32), got %r", dt.base_dtype)
            self._watch_one(t)

    def _watch_one(self, t: Any) -> None:
        ref = _ref_tensor(t)
        if ref in self._watched:
            return
        self._watched[ref] = t
        if not isinstance(t, Tensor):
            self._watched_vars.append(t)

    def watched_variables(self) -> tuple:
        """The variables watched so far, in the order they were first watched."""
        return tuple(self._watched_vars)

    # --- differentiation ---------------------------------------------------------------------
    def _check_usable(self) -> None:
        if self._used and not self._persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one "
                               "set of gradients (or jacobians)")
        if self._recording:
            if not self._persistent:
                self._pop()
            else:
                _warn_once("persistent-inside", "Calling GradientTape.gradient on a persistent "
                           "tape inside its context is significantly less efficient than calling "
                           "it outside the context (it causes the gradient ops to be recorded on "
                           "the tape, leading to increased CPU and memory usage). Only call "
                           "GradientTape.gradient inside the context if you actually want to "
                           "trace the gradient in order to compute higher order derivatives.")

    def _allowed_ops(self) -> set:
        """Recorded ops plus the reads (forwarding ops on the reference) of watched variables."""
        allowed = set(self._recorded)
        for ref in self._watched:
            if ref.dtype.is_ref_dtype:
                for c in ref._consumers:
                    fwd = getattr(c.op_def, "forwards", None)
                    if fwd is not None and c._inputs[fwd] is ref:
                        allowed.add(c)
        return allowed

    def gradient(self, target: Any, sources: Any, output_gradients: Any = None,
                 unconnected_gradients: Any = UnconnectedGradients.NONE) -> Any:
        """Gradient of ``sum(target)`` w.r.t. ``sources``, in the structure of ``sources``."""
        self._check_usable()
        if target is None:
            raise TypeError("Argument `target` should be a list or nested structure of Tensors, "
                            "Variables or CompositeTensors to be differentiated, but received "
                            "None.")
        result = self._gradient(target, sources, output_gradients, unconnected_gradients)
        self._used = True
        return result

    def _gradient(self, target: Any, sources: Any, output_gradients: Any,
                  unconnected_gradients: Any) -> Any:
        unconnected = check_unconnected(unconnected_gradients)
        targets = [convert_to_tensor(t) for t in _flatten(target)]
        flat_sources = _flatten(sources)
        if output_gradients is None:
            out_grads = [None] * len(targets)
        elif isinstance(output_gradients, (list, tuple)) and len(output_gradients) == len(targets):
            out_grads = list(output_gradients)
        elif len(targets) == 1:
            out_grads = [output_gradients]
        else:
            raise ValueError("Length mismatch. Passed %d output_gradients for %d targets"
                             % (len(_flatten(output_gradients)), len(targets)))
        refs = [_ref_tensor(s) for s in flat_sources]
        watched = [r for r in refs if r in self._watched]
        grads: dict = {}
        if watched and targets:
            uniq = list(dict.fromkeys(watched))
            g = self._graph or graph_mod.get_default_graph()
            with g.as_default():
                res = gradients_impl(targets, uniq, out_grads, "gradient_tape",
                                              allowed_ops=self._allowed_ops())
            grads = dict(zip(uniq, res))
        flat = []
        for s, r in zip(flat_sources, refs):
            gr = grads.get(r)
            if gr is None and unconnected is UnconnectedGradients.ZERO:
                from graphflow.ops import array_ops
                gr = array_ops.zeros_like(r)
            flat.append(gr)
        return _pack(sources, flat)

    def jacobian(self, target: Any, sources: Any,
                 unconnected_gradients: Any = UnconnectedGradients.NONE,
                 parallel_iterations: Optional[int] = None,
                 experimental_use_pfor: bool = True) -> Any:
        """Full Jacobian ``target.shape + source.shape`` per source (``tf.GradientTape.jacobian``).

        Row k is the gradient of target element k, built with a one-hot
        output gradient; rows are stacked and reshaped. Needs a static target shape.
        """
        import numpy as np
        from graphflow.ops import array_ops
        self._check_usable()
        target = convert_to_tensor(target)
        tshape = target.shape
        if not tshape.is_fully_defined():
            raise ValueError("jacobian needs a target with a fully defined static shape, got %s"
                             % tshape)
        flat_sources = _flatten(sources)
        n = tshape.num_elements()
        tdims = tshape.as_list()
        unconnected = check_unconnected(unconnected_gradients)
        rows: list = [[] for _ in flat_sources]
        for k in range(n):
            onehot = np.zeros(n, dtype=target.dtype.base_dtype.np)
            onehot[k] = 1
            gk = self._gradient(target, list(flat_sources),
                                [array_ops.constant(onehot.reshape(tdims))], "none")
            for j, gj in enumerate(gk):
                rows[j].append(gj)
        out = []
        for src, r in zip(flat_sources, rows):
            ref = _ref_tensor(src)
            sdims = ref.shape.as_list()
            if all(x is None for x in r):
                out.append(None if unconnected is UnconnectedGradients.NONE else
                           array_ops.zeros(tdims + sdims, dtype=ref.dtype.base_dtype))
                continue
            r = [array_ops.zeros_like(ref) if x is None else convert_to_tensor(x) for x in r]
            out.append(r[0] if not tdims else
                       array_ops.reshape(array_ops.stack(r), tdims + sdims))
        self._used = True
        return _pack(sources, out)


__all__ = ["GradientTape"]
