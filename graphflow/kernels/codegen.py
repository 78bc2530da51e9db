"""The one kernel source generator: elementwise expression DAGs -> cached njit code.

A *group* is a DAG of elementwise nodes. Values are numbered SSA-style: ``0..k-1``
are the group's external inputs, ``k + j`` is the value of ``nodes[j]``. A node
is ``(expr, refs)``: ``expr`` is a Python scalar expression over ``{0}``,
``{1}``... (helpers from ``kernels.scalar``, ``T`` = the computation dtype)
and ``refs`` names the values bound to them. Each external input is read by a
*pattern*: ``f`` (same number of elements as the output, C order), ``s`` (one
element), or broadcast through an element-stride vector: ``b`` when the input
runs along the output's last dimension (inner stride 1), ``c`` when it is
constant along it (inner stride 0). Splitting broadcasts this way keeps every
inner loop a unit-stride or invariant read, which LLVM vectorizes (a symbolic
inner stride does not). All outputs have the group's full (broadcast) shape.

The generated kernel reads each external input once per element and writes
each output once, in one loop over the flattened output::

    kernel(x0.., out0..)                      # patterns f/s only
    kernel(x0.., out0.., shape, st_b0..)      # with b/c inputs: shape (int64[nd])
                                              # and one stride vector per b/c input

With ``b``/``c`` inputs the loop runs over rows of the last dimension and
finds each row's offsets by index math; indices inside a row are unsigned
(a signed ``base + j`` keeps Numba's negative-index wraparound test in the
loop, which stops LLVM from vectorizing it: 3x slower). The ``parallel``
variant is the same source with ``prange`` over elements (or rows) and
``parallel=True``. The *in-place* variant (``inplace=(p, q)``) writes output
``q`` into input ``p``'s array, which it takes instead of ``out<q>``: passing
the same array as input and output would make LLVM's runtime alias check
fail and run the scalar loop (2-3x slower than a true in-place loop).

Numba cannot cache closures made by a factory (each process recompiles them),
so a kernel is written as ``gf_<sha>.py`` in ``cache_dir()`` and imported;
``cache=True`` then hits in every later process. Groups are canonicalized
first (outputs ordered by structural hash, values renumbered in depth-first
order from the outputs, inputs in order of first use, duplicate nodes merged),
so structurally identical groups from different graphs or positions produce
the same source and share one compiled kernel. Canonicalization is exact up to
ties between structurally equal outputs, which keep the caller's order (at
worst a duplicate kernel, never a wrong one).
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
import threading
from typing import Any, Callable, NamedTuple, Sequence

import numba

_LOCK = threading.Lock()
_LOADED: dict = {}
FLAGS = "cache=True, nogil=True, error_model='numpy', fastmath={'contract'}"
_VERSION = "5"  # bump when the generated code's shape changes
_HOLE = re.compile(r"\{(\d+)\}")

Node = tuple  # (expr: str, refs: tuple of value indices)


def _helpers_digest() -> str:
    here = os.path.dirname(__file__)
    h = hashlib.sha1()
    # generated sources compile these in (segments: the kernel modules jitcall.resolve knows)
    for name in ("scalar.py", "fastmath.py", "codegen.py", "linalg_kernels.py",
                 "reduction_kernels.py"):
        with open(os.path.join(here, name), "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:10]


_DIGEST = _helpers_digest()


def cache_dir() -> str:
    """Where generated kernels live (``$GRAPHFLOW_CACHE_DIR`` or ~/.cache).

    The directory name carries the Numba version and a digest of the helper
    modules (Numba checks only a generated file's own timestamp), and a
    ``-bc`` suffix under NUMBA_BOUNDSCHECK (Numba's cache index ignores it).
    """
    base = os.environ.get("GRAPHFLOW_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "graphflow")
    bc = "-bc" if numba.config.BOUNDSCHECK else ""
    d = os.path.join(base, "kernels-nb%s-%s%s" % (numba.__version__, _DIGEST, bc))
    os.makedirs(d, exist_ok=True)
    return d


class FusedKernel(NamedTuple):
    """A compiled group in canonical form.

    ``kernel`` takes the canonical arguments: input ``p`` is the caller's
    input ``in_order[p]`` (inputs no output depends on are dropped), output
    ``q`` is the caller's output ``out_order[q]``; ``patterns`` are the
    canonical inputs' patterns; ``key`` names the source file. With
    ``inplace = (p, q)`` the kernel takes no ``out<q>`` argument and writes
    that output into canonical input ``p``.
    """
    kernel: Any
    in_order: tuple
    out_order: tuple
    patterns: str
    key: str
    inplace: Any = None  # (canonical input, canonical output) of the in-place variant


def canonical_group(nodes: Sequence[Node], patterns: str, outputs: Sequence[int]) -> tuple:
    """Canonical form of a group: ``(nodes, patterns, outputs, in_order, out_order)``.

    Raises ValueError on a reference to an unknown value or a cycle.
    """
    k = len(patterns)
    nvals = k + len(nodes)
    for j, (_, refs) in enumerate(nodes):
        for r in refs:
            if not 0 <= r < nvals:
                raise ValueError("node %d refers to unknown value %d" % (j, r))
    for o in outputs:
        if not 0 <= o < nvals:
            raise ValueError("output refers to unknown value %d" % o)
    shash: dict = {}

    def struct_hash(v: int, active: frozenset = frozenset()) -> str:
        h = shash.get(v)
        if h is None:
            if v < k:
                h = "x" + patterns[v]
            else:
                if v in active:
                    raise ValueError("group has a cycle through value %d" % v)
                expr, refs = nodes[v - k]
                inner = ",".join(struct_hash(r, active | {v}) for r in refs)
                h = hashlib.sha1(("%s(%s)" % (expr, inner)).encode()).hexdigest()
            shash[v] = h
        return h

    out_order = tuple(sorted(range(len(outputs)), key=lambda q: struct_hash(outputs[q])))
    new_id: dict = {}   # caller value -> canonical name (input "a3" / node "v2")
    in_order: list = []
    new_nodes: list = []
    seen: dict = {}     # (expr, canonical refs) -> canonical node id

    def visit(v: int) -> str:
        cid = new_id.get(v)
        if cid is not None:
            return cid
        if v < k:
            cid = "a%d" % len(in_order)
            in_order.append(v)
        else:
            expr, refs = nodes[v - k]
            key = (expr, tuple(visit(r) for r in refs))
            cid = seen.get(key)
            if cid is None:
                cid = seen[key] = "v%d" % len(new_nodes)
                new_nodes.append(key)
        new_id[v] = cid
        return cid

    outs = [visit(outputs[q]) for q in out_order]
    pats = "".join(patterns[v] for v in in_order)
    return new_nodes, pats, outs, tuple(in_order), out_order


def group_source(nodes: Sequence[tuple], patterns: str, outputs: Sequence[str], dtype: str,
                 parallel: bool = False, inplace: Any = None) -> str:
    """Source of one kernel for a canonical group (see ``canonical_group``).

    ``inplace = (p, q)``: output ``q`` is written into input ``p`` (pattern
    ``f``), which the kernel takes instead of an ``out<q>`` argument.
    """
    n_in, n_out = len(patterns), len(outputs)
    xs = ["x%d" % i for i in range(n_in)]
    dest = ["out%d" % q for q in range(n_out)]
    if inplace is not None:
        p, q = inplace
        if patterns[p] != "f":
            raise ValueError("in-place input %d has pattern %r, not 'f'" % (p, patterns[p]))
        dest[q] = "x%d" % p
    outs = [d for d in dest if d.startswith("out")]
    bs = [i for i, p in enumerate(patterns) if p in "bc"]
    loop = "prange" if parallel else "range"
    flags = FLAGS + (", parallel=True" if parallel else "")
    lines = ["import math", "import numpy as np", "from numba import njit, prange",
             "from graphflow.kernels.scalar import *  # noqa: F401,F403",
             "T = np.%s" % dtype, "", "", "@njit(%s)" % flags]
    args = xs + outs + (["shape"] + ["st%d" % i for i in bs] if bs else [])
    lines.append("def kernel(%s):" % ", ".join(args))
    lines.append("    n = %s.size" % dest[0])
    if bs:
        lines += ["    nd = shape.size", "    if n == 0:", "        return",
                  "    inner = shape[nd - 1]", "    uinner = np.uint64(inner)"]
        lines += ["    for r in %s(n // inner):" % loop,
                  "        q = r + 0  # a copy: prange forbids writing r"]
        lines += ["        o%d = 0" % i for i in bs]
        lines += ["        for d in range(nd - 2, -1, -1):", "            c = q % shape[d]",
                  "            q //= shape[d]"]
        lines += ["            o%d += c * st%d[d]" % (i, i) for i in bs]
        lines += ["        u%d = np.uint64(o%d)" % (i, i) for i in bs]
        lines += ["        base = np.uint64(r * inner)", "        for j in range(uinner):",
                  "            i = base + j"]
        ind = "            "
    else:
        lines.append("    for i in %s(n):" % loop)
        ind = "        "
    for i, p in enumerate(patterns):
        src = {"f": "i", "s": "0", "b": "u%d + j" % i, "c": "u%d" % i}[p]
        lines.append("%sa%d = x%d[%s]" % (ind, i, i, src))
    for j, (expr, refs) in enumerate(nodes):
        body = _HOLE.sub(lambda m: refs[int(m.group(1))], expr)
        lines.append("%sv%d = %s" % (ind, j, body))
    for q, v in enumerate(outputs):
        lines.append("%s%s[i] = %s" % (ind, dest[q], v))
    return "\n".join(lines) + "\n"


def load_kernel(source: str) -> Callable:
    """Write ``source`` to the cache directory (once) and return its ``kernel``."""
    key = hashlib.sha1((_VERSION + source).encode()).hexdigest()[:20]
    fn = _LOADED.get(key)
    if fn is not None:
        return fn
    with _LOCK:
        fn = _LOADED.get(key)
        if fn is not None:
            return fn
        modname = "gf_" + key
        path = os.path.join(cache_dir(), modname + ".py")
        if not os.path.exists(path):
            tmp = "%s.%d.%d.tmp" % (path, os.getpid(), threading.get_ident())
            with open(tmp, "w") as f:
                f.write(source)
            os.replace(tmp, path)
        spec = importlib.util.spec_from_file_location(modname, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[modname] = mod
        spec.loader.exec_module(mod)
        fn = mod.kernel
        fn.gf_key = key
        _LOADED[key] = fn
    return fn


def kernel_for_key(key: str) -> Callable:
    """The kernel ``load_kernel`` returned under ``key`` (imported from the cache directory
    when this process has not loaded it yet; generated segment modules refer to kernels so)."""
    fn = _LOADED.get(key)
    if fn is not None:
        return fn
    with open(os.path.join(cache_dir(), "gf_" + key + ".py")) as f:
        source = f.read()
    fn = load_kernel(source)
    if fn.gf_key != key:
        raise RuntimeError("generated kernel gf_%s.py does not match its key" % key)
    return fn


def fused_kernel(nodes: Sequence[Node], patterns: str, outputs: Sequence[int], dtype: str,
                 parallel: bool = False, inplace: Any = None) -> FusedKernel:
    """One njit kernel computing ``outputs`` of the group (see the module docstring).

    Args:
        nodes: ``(expr, refs)`` per node; value ``len(patterns) + j`` is node ``j``.
        patterns: one of ``f``/``s``/``b``/``c`` per external input.
        outputs: the value indices to write, one output array each.
        dtype: NumPy name of the computation dtype (``T`` in expressions).
        parallel: the ``prange`` variant (worth it above ~1M elements).
        inplace: ``(j, q)``: the caller's output ``q`` written into its input
            ``j`` (pattern ``f``). Ignored (``FusedKernel.inplace`` None) when
            no output depends on input ``j`` or its pattern is not ``f``.
    """
    cnodes, pats, outs, in_order, out_order = canonical_group(nodes, patterns, outputs)
    ip = None
    if inplace is not None and inplace[0] in in_order:
        p = in_order.index(inplace[0])
        if pats[p] == "f":
            ip = (p, out_order.index(inplace[1]))
    fn = load_kernel(group_source(cnodes, pats, outs, dtype, parallel, ip))
    return FusedKernel(fn, in_order, out_order, pats, fn.gf_key, ip)


def elementwise_source(expr: str, patterns: str, dtype: str) -> str:
    """Source of a one-node kernel ``kernel(x0.., out[, shape, st_b..])``."""
    n = len(patterns)
    nodes, pats, outs, _, _ = canonical_group([(expr, tuple(range(n)))], patterns, [n])
    return group_source(nodes, pats, outs, dtype)


def elementwise_kernel(expr: str, patterns: str, dtype: str) -> Any:
    """The compiled (lazily, per input dtypes) kernel for one expression/pattern."""
    return load_kernel(elementwise_source(expr, patterns, dtype))
