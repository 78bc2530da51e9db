"""The one kernel source generator: elementwise expressions -> cached njit code.

Numba cannot cache closures made by a factory (each process recompiles them),
so elementwise kernels are generated as source files ``gf_<sha>.py`` in a
cache directory and imported; ``cache=True`` then hits in every later process.
An expression is Python over inputs ``x0, x1, ...`` with helpers from
``kernels.scalar`` and ``T`` bound to the computation dtype. Each input is
read by a *pattern*: ``f`` (same shape as the output), ``s`` (one element) or
``b`` (broadcast through an element-stride vector).
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import threading
from typing import Any, Callable

import numba

_LOCK = threading.Lock()
_LOADED: dict = {}
FLAGS = "cache=True, nogil=True, error_model='numpy', fastmath={'contract'}"
_VERSION = "2"  # bump when the generated code's shape changes


def _helpers_digest() -> str:
    here = os.path.dirname(__file__)
    h = hashlib.sha1()
    for name in ("scalar.py", "codegen.py"):
        with open(os.path.join(here, name), "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:10]


def cache_dir() -> str:
    """Where generated kernels live (``$GRAPHFLOW_CACHE_DIR`` or ~/.cache)."""
    base = os.environ.get("GRAPHFLOW_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "graphflow")
    d = os.path.join(base, "kernels-nb%s-%s" % (numba.__version__, _DIGEST))
    os.makedirs(d, exist_ok=True)
    return d


_DIGEST = _helpers_digest()


def elementwise_source(expr: str, patterns: str, dtype: str) -> str:
    """Source of a kernel ``kernel(x0.., out[, shape, st_k..])`` over flat arrays."""
    n = len(patterns)
    args = ["x%d" % i for i in range(n)]
    bs = [i for i, p in enumerate(patterns) if p == "b"]
    lines = [
        "import math",
        "import numpy as np",
        "from numba import njit",
        "from graphflow.kernels.scalar import *  # noqa: F401,F403",
        "T = np.%s" % dtype,
        "",
        "",
        "@njit(%s)" % FLAGS,
    ]
    body_expr = expr
    for i in range(n):
        body_expr = body_expr.replace("{%d}" % i, "a%d" % i)
    if not bs:
        lines.append("def kernel(%s, out):" % ", ".join(args))
        lines.append("    for i in range(out.size):")
        for i, p in enumerate(patterns):
            lines.append("        a%d = x%d[%s]" % (i, i, "i" if p == "f" else "0"))
        lines.append("        out[i] = %s" % body_expr)
    else:
        sts = ["st%d" % i for i in bs]
        lines.append("def kernel(%s, out, shape, %s):" % (", ".join(args), ", ".join(sts)))
        lines += [
            "    nd = shape.size",
            "    inner = shape[nd - 1]",
            "    if out.size == 0:",
            "        return",
            "    nouter = out.size // inner",
            "    idx = np.zeros(nd, np.int64)",
        ]
        lines += ["    o%d = 0" % i for i in bs]
        lines += ["    s%d = st%d[nd - 1]" % (i, i) for i in bs]
        lines += ["    i = 0", "    for _ in range(nouter):", "        for j in range(inner):"]
        for i, p in enumerate(patterns):
            src = {"f": "i", "s": "0", "b": "o%d + j * s%d" % (i, i)}[p]
            lines.append("            a%d = x%d[%s]" % (i, i, src))
        lines += ["            out[i] = %s" % body_expr, "            i += 1",
                  "        d = nd - 2", "        while d >= 0:", "            idx[d] += 1"]
        lines += ["            o%d += st%d[d]" % (i, i) for i in bs]
        lines += ["            if idx[d] < shape[d]:", "                break"]
        lines += ["            o%d -= st%d[d] * shape[d]" % (i, i) for i in bs]
        lines += ["            idx[d] = 0", "            d -= 1"]
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
        _LOADED[key] = fn
    return fn


def elementwise_kernel(expr: str, patterns: str, dtype: str) -> Any:
    """The compiled (lazily, per input dtypes) kernel for one expression/pattern."""
    return load_kernel(elementwise_source(expr, patterns, dtype))
