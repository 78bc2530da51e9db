"""Segments: runs of small plan steps compiled into one njit function (a second tier).

The sequential executor calls one Python function per plan step, ~0.3-1 us
each. For a graph of many tiny ops (W5: 400 steps of 16x16 matmul and tanh;
W4: 4600 steps over 100-vectors) that overhead is the run time. A *segment*
is a run of consecutive steps that can all run inside Numba: ops offering a
``JitCall`` (``OpDef.jit_call``: elementwise ops, small MatMul, row-pass
Sum/Mean, Identity) and fused groups, every output with a fully known static
shape of at most ``jitcall.MAX_ELEMENTS`` elements. Reads of variables
(``Identity`` of a reference) do not break a run: they are pure, so they move
in front of the segment. A run is cut into pieces of at most
``CompileOptions.segment_max_cost`` (a size in elementwise ops, which bounds
compile time); each piece of at least ``MIN_STEPS`` steps becomes one
generated njit function called as one step.

The generated source names everything canonically (arguments in order of
first use, values in step order, called kernels in order of first use), so
structurally equal runs -- a long chain cut into pieces of the same length --
share one source file and one compiled function (``codegen.load_kernel``:
cached on disk, a second process compiles nothing).

Policy (tiered): a plan first runs step by step; when it starts its
``CompileOptions.segment_after_runs``-th run (the second: it is reused) and
its segments would cover ``segment_min_steps`` steps, at most
``segment_max_kernels`` distinct functions are compiled, within that run
(or on a background thread with ``segments_background``, the plan running
step by step until they are ready). A plan run once never pays, and results
do not depend on the tier: segments
call the same kernels the steps call (MatMul's small case: ``np.dot`` inside
Numba, which calls BLAS directly). If a compiled segment raises (an input
whose shape is not the static one, an invalid value), its steps run again one
by one, which gives exactly the step-by-step results and errors. A segment
function is compiled for the planned argument types (C-contiguous writable
arrays of the static dtypes); other types (a read-only fed array) compile
once more, up to ``MAX_SIGNATURES``, and inputs Numba cannot take as planned
(a strided view) turn that segment off for good.
Traced and memory-tracked runs and the parallel executor run the steps.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator, Optional, Sequence

import numba
import numpy as np

from graphflow.kernels import codegen, jitcall

MIN_STEPS = 3
MAX_SIGNATURES = 4  # argument type combinations compiled per segment function
_LOCK = threading.Lock()
_FLAGS = "cache=True, nogil=True, error_model='numpy', fastmath={'contract'}"


class Segment:
    """The node of a segment step: looks like an Operation to the executor."""

    type = "JitSegment"

    def __init__(self, members: Sequence[Any]) -> None:
        self.members = tuple(members)
        self.ops = tuple(op for m in members for op in getattr(m, "ops", (m,)))
        self.name = "segment/" + getattr(members[0], "name", "?")
        self._control_inputs: list = []

    def __repr__(self) -> str:
        return "<Segment %s: %d steps>" % (self.name, len(self.members))


def _ios(step: tuple) -> tuple:
    """(input slots, output slots) of a prepared step ``(kind, fn, a, b, out, dead, node)``."""
    kind, _, a, b, o = step[:5]
    if kind == 0:
        return (), (o,)
    if kind == 1:
        return (a,), (o,)
    if kind == 2:
        return (a, b), (o,)
    return tuple(a), tuple(o)


def jit_call(step: tuple) -> Optional[jitcall.JitCall]:
    """The JitCall of a prepared step, or None (also for anything reading a variable or
    running a kernel a pass substituted for the op's own)."""
    from graphflow.compiler.fuse import FusedGroup
    if step[0] > 3 or getattr(step[1], "gf_replaced", False):
        return None
    node = step[6]
    nins, nouts = (len(v) for v in _ios(step))
    if isinstance(node, FusedGroup):
        ins = node._inputs
        shapes = {jitcall.static_shape(t) for t in node._outputs}
        if (len(ins) != nins or len(node._outputs) != nouts or len(shapes) != 1
                or any(t._dtype.is_ref_dtype for t in ins)):
            return None
        return jitcall.elementwise_call(node.nodes, ins, node.out_values, node.dtype,
                                        node.out_dtypes, shapes.pop())
    op_def = getattr(node, "_op_def", None)
    fn = getattr(op_def, "jit_call", None)
    if fn is None or len(node._inputs) != nins or len(node._outputs) != nouts or not nouts:
        return None
    if any(t._dtype.is_ref_dtype for t in node._inputs):
        return None
    if not all(jitcall.small(jitcall.static_shape(t)) for t in node._outputs):
        return None
    return fn(node)


def _is_read(step: tuple, template: list) -> bool:
    """A variable read: ``Identity`` of a reference held in the slot template."""
    node = step[6]
    return (step[0] == 1 and getattr(node, "type", None) == "Identity"
            and getattr(node, "_inputs", None) and node._inputs[0]._dtype.is_ref_dtype
            and template[step[2]] is not None)


def find_runs(steps: Sequence[tuple], template: list, max_cost: int) -> list:
    """``[(member indices, moved read indices, calls), ...]`` of the prepared ``steps``.

    Maximal runs of jittable steps (reads inside them move out) are cut into
    pieces of a multiple of their period (``_period``), so that the pieces of a
    periodic chain start at the same phase and share one source.
    """
    runs: list = []
    cur: list = []  # (step index, JitCall or None for a moved read)
    produced: set = set()

    def close() -> None:
        runs.extend(_pieces(cur, max_cost))
        cur.clear(), produced.clear()

    for k, st in enumerate(steps):
        call = jit_call(st)
        if call is not None:
            outs = _ios(st)[1]
            if produced.intersection(outs):
                close()
            cur.append((k, call))
            produced.update(outs)
        elif cur and _is_read(st, template):
            cur.append((k, None))
        else:
            close()
    close()
    return runs


def _period(keys: list, limit: int) -> int:
    """The smallest p <= limit with keys[k] == keys[k + p] for 90 % of k (else 1)."""
    n = len(keys)
    for p in range(1, min(limit, n // 2) + 1):
        same = sum(1 for k in range(n - p) if keys[k] == keys[k + p])
        if same >= 0.9 * (n - p):
            return p
    return 1


def _pieces(entries: list, max_cost: int) -> list:
    calls = [c for _, c in entries if c is not None]
    p = _period([(c.lines, c.uses) for c in calls], max_cost // 2)
    cost = sum(c.cost for c in calls[:p])
    size = p * max(max_cost // max(cost, 1), 1)
    out: list = []
    members: list = []
    mcalls: list = []
    reads: list = []
    for k, c in entries:
        if c is None:
            reads.append(k)
            continue
        members.append(k)
        mcalls.append(c)
        if len(members) == size:
            if len(members) >= MIN_STEPS:
                out.append((members, reads, mcalls))
            members, mcalls, reads = [], [], []
    if len(members) >= MIN_STEPS:
        out.append((members, reads, mcalls))
    return out


def _tensor_of(node: Any, j: int) -> Any:
    return node._inputs[j]


def segment_source(members: Sequence[tuple], calls: Sequence[jitcall.JitCall],
                   live: Sequence[int]) -> tuple:
    """Canonical source of one segment.

    ``members`` are prepared steps, ``live`` the slots needed after the
    segment. Returns ``(source, argument slots, their tensors, output
    parameters, returned slots)``: the function takes the argument values,
    then one array per output parameter ``(slot, shape, dtype)`` (live outputs
    of calls with ``alloc``, allocated by the caller) and returns the values
    of the other live slots (a tuple when several).
    """
    names: dict = {}
    args: list = []
    tensors: list = []
    uses: dict = {}
    body: list = []
    params: list = []
    live_set = set(live)
    last_read: dict = {}
    for k, (st, call) in enumerate(zip(members, calls)):
        ins = _ios(st)[0]
        for j in (call.reads if call.reads is not None else range(len(ins))):
            last_read[ins[j]] = k
    owned: set = set()  # slots holding arrays made inside the segment, aliased by nothing
    nval = 0
    for k, (st, call) in enumerate(zip(members, calls)):
        ins, outs = _ios(st)
        reads = call.reads if call.reads is not None else range(len(ins))
        call, into = _inplace(call, ins, outs, reads, k, owned, last_read, live_set)
        fmt: dict = {}
        for j in reads:
            s = ins[j]
            if s not in names:
                names[s] = "a%d" % len(args)
                args.append(s)
                tensors.append(_tensor_of(st[6], j))
            fmt["i%d" % j] = names[s]
        for j, ref in enumerate(call.uses):
            if ref not in uses:
                uses[ref] = "G%d" % len(uses)
            fmt["g%d" % j] = uses[ref]
        for q, s in enumerate(outs):
            if into is not None and q == into[1]:
                name = names[ins[into[0]]]  # written into that input's array
            elif call.alloc is not None and s in live_set:
                name = "o%d" % len(params)
                params.append((s,) + tuple(call.alloc[q]))
            else:
                name = "v%d" % nval
                nval += 1
                if call.alloc is not None:
                    body.append("    %s = np.empty(%r, np.%s)" % ((name,) + tuple(call.alloc[q])))
            names[s] = fmt["o%d" % q] = name
            if call.fresh and s not in live_set:
                owned.add(s)
        if not call.fresh:  # an output may alias an input: neither may be overwritten
            owned.difference_update(ins)
        body += ["    " + line.format(**fmt) for line in call.lines]
    pset = {p[0] for p in params}
    returned = [s for s in live if s not in pset]
    rets = [names[s] for s in returned]
    ret = rets[0] if len(rets) == 1 else "(%s)" % "".join(r + ", " for r in rets)
    head = ["import numpy as np", "from numba import njit",
            "from graphflow.kernels.jitcall import resolve", ""]
    head += ["%s = resolve(%r)" % (g, ref) for ref, g in uses.items()]
    sig = [names[s] for s in args] + ["o%d" % i for i in range(len(params))]
    src = "\n".join(head + ["", "", "@njit(%s)" % _FLAGS, "def kernel(%s):" % ", ".join(sig)]
                    + body + ["    return %s" % (ret if rets else "None")]) + "\n"
    return src, args, tensors, params, returned


def _inplace(call: jitcall.JitCall, ins: tuple, outs: tuple, reads: Any, k: int, owned: set,
             last_read: dict, live: set) -> tuple:
    """``(call, (j, q))`` when output ``q`` can be written into input ``j``'s array (made in
    the segment, aliased by nothing, read last here and only once), else ``(call, None)``."""
    for j, q in call.inplace:
        s = ins[j]
        if (s in owned and last_read.get(s) == k and outs[q] not in live
                and sum(1 for i in reads if ins[i] == s) == 1):
            variant = call.variant(j, q)
            if variant is not None:
                owned.discard(s)
                return variant, (j, q)
    return call, None


@contextlib.contextmanager
def _compiling(disp: Any) -> Iterator[None]:
    """Let ``disp`` compile meanwhile; outside, a call with argument types it was not
    compiled for raises TypeError instead of compiling in the middle of a run."""
    with _LOCK:
        disp.disable_compile(False)
        try:
            yield
        finally:
            disp.disable_compile(True)


def _example(value: Any, tensor: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value
    return np.empty(jitcall.static_shape(tensor), tensor._dtype.np)


def build(steps: list, template: list, runs: list, max_kernels: int = 0) -> list:
    """The prepared step list with runs replaced by segment steps.

    With ``max_kernels`` > 0, only the runs of the ``max_kernels`` sources
    covering the most steps are compiled (a bound on compile time); the
    others stay steps.
    """
    from graphflow.runtime.executor import node_error
    made = []
    cover: dict = {}  # source -> steps its pieces cover
    for members_idx, reads_idx, calls in runs:
        members = [steps[k] for k in members_idx]
        dead: set = set()
        for st in members:
            dead.update(st[5] or ())
        produced = [s for st in members for s in _ios(st)[1]]
        source = segment_source(members, calls, [s for s in produced if s not in dead])
        made.append((members_idx, reads_idx, members, dead, produced, source))
        cover[source[0]] = cover.get(source[0], 0) + len(members)
    chosen = sorted(cover, key=lambda k: -cover[k])
    chosen = set(chosen[:max_kernels] if max_kernels > 0 else chosen)
    replace: dict = {}
    drop: set = set()
    for members_idx, reads_idx, members, dead, produced, source in made:
        src, args, tensors, params, rets = source
        if src not in chosen:
            continue
        inside = set(produced)
        extra = [s for st in members for s in _ios(st)[0] if s not in inside and s not in args]
        ins = tuple(args) + tuple(dict.fromkeys(extra))
        disp = codegen.load_kernel(src)
        sig = tuple(numba.typeof(_example(template[s], t)) for s, t in zip(args, tensors))
        sig += tuple(numba.typeof(np.empty(shape, dt)) for _, shape, dt in params)
        with _compiling(disp):  # once per source and signature
            disp.compile(sig)
        node = Segment([st[6] for st in members])
        live = [p[0] for p in params] + rets
        fn = _step_fn(disp, len(args), params, len(rets), members, ins, live, node_error)
        seg_dead = tuple(s for s in ins if s in dead) or None
        step = (3, fn, ins, None, tuple(live), seg_dead, node)
        replace[members_idx[-1]] = [steps[k] for k in reads_idx] + [step]
        drop.update(members_idx)
        drop.update(reads_idx)
    out: list = []
    for k, st in enumerate(steps):
        if k in replace:
            out.extend(replace[k])
        elif k not in drop:
            out.append(st)
    return out


def _step_fn(disp: Any, nargs: int, params: list, nret: int, members: list, ins: tuple,
             live: list, node_error: Any):
    """The Python callable of a segment step: the compiled function, or the steps.

    Returns the values of ``live`` (the output parameters first, then what the
    function returns), one value when there is one.
    """
    state = [disp]
    single = len(live) == 1
    alloc = [(shape, np.dtype(dt)) for _, shape, dt in params]
    empty = np.empty

    def fallback(*xs: Any) -> Any:
        vals = dict(zip(ins, xs))
        for st in members:
            sins, souts = _ios(st)
            try:
                r = st[1](*[vals[s] for s in sins])
            except Exception as e:  # noqa: BLE001 - reported as the member's OpError
                raise node_error(st[6], e) from e
            if len(souts) == 1:
                vals[souts[0]] = r
            else:
                for s, v in zip(souts, r):
                    vals[s] = v
        return vals[live[0]] if single else [vals[s] for s in live]

    def call(d: Any, xs: tuple) -> Any:
        outs = [empty(shape, dt) for shape, dt in alloc]
        r = d(*xs[:nargs], *outs)
        if not nret:
            return outs[0] if single else outs
        if single:
            return r
        if nret == 1:
            outs.append(r)
        else:
            outs.extend(r)
        return outs

    def compile_call(d: Any, xs: tuple) -> Any:
        """Argument types not compiled for (a read-only feed, another dtype): compile
        them once, up to ``MAX_SIGNATURES`` per function; else steps from now on."""
        if len(d.overloads) >= MAX_SIGNATURES:
            raise TypeError("too many signatures")
        with _compiling(d):
            return call(d, xs)

    def run(*xs: Any) -> Any:
        d = state[0]
        if d is not None:
            try:
                try:
                    return call(d, xs)
                except TypeError:
                    return compile_call(d, xs)
            except (TypeError, numba.core.errors.NumbaError):
                state[0] = None  # Numba cannot take these inputs (a strided view): steps
            except Exception:  # noqa: BLE001 - the steps give the exact result or error
                pass
        return fallback(*xs)

    run.gf_segment = state
    return run


class Tier:
    """Segment state of one prepared plan: when to compile, and what came of it."""

    __slots__ = ("after", "background", "min_steps", "max_cost", "max_kernels", "status",
                 "segments", "steps_covered", "layout")

    def __init__(self, options: Any) -> None:
        self.after = options.segment_after_runs if options.segments else -1
        self.background = options.segments_background
        self.max_cost = options.segment_max_cost
        self.min_steps = options.segment_min_steps
        self.max_kernels = options.segment_max_kernels
        self.status = "waiting" if self.after >= 0 else "off"
        self.segments = 0
        self.steps_covered = 0
        self.layout: list = []  # (segment name, ((member name, type), ...)) once compiled

    def describe(self) -> str:
        """One line for ``CompileReport.summary``."""
        if self.status == "ready":
            return "segments: %d covering %d steps (compiled)" % (self.segments,
                                                                  self.steps_covered)
        return "segments: %s" % {"waiting": "not yet (compiled when the plan is reused)",
                                  "none": "none (too few small steps)",
                                  "off": "off"}.get(self.status, self.status)


def start(prepared: Any) -> None:
    """Compile ``prepared``'s segments (on a thread unless the options say otherwise);
    ``prepared.fast`` becomes the segment step list when done."""
    tier = prepared.tier
    with _LOCK:  # two threads may reach the trigger run together: one compiles
        if tier.status != "waiting":
            return
        tier.after = -1
        tier.status = "planning"
    try:
        runs = find_runs(prepared.steps, prepared.template, tier.max_cost)
    except Exception as e:  # noqa: BLE001 - a run never fails for its second tier
        tier.status = "failed: %s: %s" % (type(e).__name__, e)
        return
    if sum(len(r[0]) for r in runs) < max(tier.min_steps, 1):
        tier.status = "none"
        return
    tier.status = "compiling"

    def work() -> None:
        try:
            fast = build(prepared.steps, prepared.template, runs, tier.max_kernels)
        except Exception as e:  # noqa: BLE001 - the plan keeps running step by step
            tier.status = "failed: %s: %s" % (type(e).__name__, e)
            return
        segs = [st[6] for st in fast if isinstance(st[6], Segment)]
        tier.segments = len(segs)
        tier.steps_covered = sum(len(n.members) for n in segs)
        tier.layout = [(n.name, tuple((m.name, m.type) for m in n.members)) for n in segs]
        prepared.fast = fast
        tier.status = "ready"

    if tier.background:
        threading.Thread(target=work, name="graphflow-segments", daemon=True).start()
    else:
        work()
