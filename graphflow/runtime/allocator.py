"""Keep freed memory mapped: glibc ``mallopt`` thresholds, set once per process.

Kernels return fresh arrays, so every run allocates and frees its large
intermediates. glibc serves an allocation above ``M_MMAP_THRESHOLD`` (128 KiB,
raised dynamically up to 32 MiB as such blocks are freed) with a fresh
``mmap`` and returns it to the kernel on ``free``; it also gives the top of
the heap back beyond ``M_TRIM_THRESHOLD``. Either way the next run touches
new pages: one page fault per 4 KiB, about +20 ms for a 40 MB result (numba
facts, "Memory"), +60 ms per run for W7's 260 MB of padded gradient terms.
TF's BFC allocator avoids this by keeping its pool mapped.

``configure()`` sets both thresholds to 256 MiB (``mallopt`` through ctypes):
arrays up to 256 MiB then come from the heap and freed memory stays mapped
for the next run, so steady-state runs fault no new pages. The price is
resident memory: up to 256 MiB of freed heap may stay mapped after a large
run (arrays above the threshold are still mapped and unmapped per call).

It runs once, when a process compiles its first plan (so importing graphflow
to build graphs changes nothing). Only on Linux with glibc; elsewhere, or
when ``mallopt`` is missing, it does nothing. ``GRAPHFLOW_MALLOPT=off`` (or
``0``) turns it off; ``GRAPHFLOW_MALLOPT=<MiB>`` sets another threshold.
"""
from __future__ import annotations

import ctypes
import os
import platform
import sys
import threading
from typing import Optional

ENV = "GRAPHFLOW_MALLOPT"
DEFAULT_MIB = 256
M_TRIM_THRESHOLD = -1   # glibc's <malloc.h> parameter numbers
M_MMAP_THRESHOLD = -3

_lock = threading.Lock()
_state: Optional[dict] = None


def threshold_bytes(spec: Optional[str]) -> int:
    """Threshold in bytes for a ``GRAPHFLOW_MALLOPT`` value (0: leave malloc alone)."""
    if spec is None or not spec.strip():
        return DEFAULT_MIB << 20
    spec = spec.strip().lower()
    if spec in ("off", "0", "no", "false", "none"):
        return 0
    try:
        mib = int(spec)
    except ValueError:
        raise ValueError("%s must be 'off' or a size in MiB, not %r" % (ENV, spec)) from None
    if mib < 0:
        raise ValueError("%s must be 'off' or a size in MiB, not %r" % (ENV, spec))
    return mib << 20


def configure() -> dict:
    """Apply the thresholds once per process; returns what was done (see ``status``)."""
    global _state
    if _state is not None:
        return _state
    with _lock:
        if _state is None:
            _state = _apply(threshold_bytes(os.environ.get(ENV)))
    return _state


def status() -> Optional[dict]:
    """None before ``configure()``; then ``{"applied": bool, "bytes": int, "reason": str}``."""
    return _state


def _apply(nbytes: int) -> dict:
    if nbytes == 0:
        return {"applied": False, "bytes": 0, "reason": "%s=off" % ENV}
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return {"applied": False, "bytes": 0, "reason": "not Linux with glibc"}
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return {"applied": False, "bytes": 0, "reason": "mallopt not found"}
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    value = min(nbytes, (1 << 31) - 1)
    ok = mallopt(M_MMAP_THRESHOLD, value) == 1 and mallopt(M_TRIM_THRESHOLD, value) == 1
    return {"applied": ok, "bytes": value if ok else 0,
            "reason": "" if ok else "mallopt refused %d bytes" % value}
