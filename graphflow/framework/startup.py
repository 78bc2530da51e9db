"""Process start-up: Numba's one-time CPU-target initialisation, optionally early.

The first kernel a process loads from Numba's on-disk cache (or compiles)
makes Numba initialise its CPU target: ``BaseContext.refresh()`` imports and
registers Numba's implementation modules (``numba.np.arraymath``, ``linalg``,
``arrayobj``, the typed containers ...), and ``arraymath``'s BLAS probe
imports all of ``scipy.linalg`` (which, through SciPy's array-API layer,
imports ``numpy.f2py``). That is 0.3-0.5 s of a fresh process's first
``Session.run`` (W6 in docs/performance.md).

:func:`start_background_init` runs that initialisation in a daemon thread.
It is safe whenever it runs: the thread holds Numba's
``global_compiler_lock``, which every compilation and cache load also takes
(``Dispatcher.compile``), so a kernel load that begins first simply waits for
it, and a second ``refresh()`` finds everything installed.

The work is Python imports that hold the GIL, so the thread only helps a
program that waits for something else meanwhile (reading data files, network,
``time.sleep``): it does *not* overlap with graph building, which also holds
the GIL. Measured at 13:40 UTC (load 1.7-2.7, warm caches, W2 SGD): import +
build + init + first step 0.53-0.59 s with the thread or without it; with a
0.5 s wait after the import, the first step took 0.032 s with the thread
against 0.285-0.315 s without. It is off by default: set
``GRAPHFLOW_BACKGROUND_INIT=1`` to start it at ``import graphflow``, or call
:func:`start_background_init` after importing. Keep it off in programs that
``fork`` (``multiprocessing``'s default start method on Linux) soon after
import: a child forked while the thread holds an import or compiler lock
would wait for that lock forever.
"""
from __future__ import annotations

import os
import threading
from typing import Optional

ENV_VAR = "GRAPHFLOW_BACKGROUND_INIT"

_lock = threading.Lock()
_thread: Optional[threading.Thread] = None
_error: Optional[BaseException] = None


def _init_numba_target() -> None:
    """Numba's CPU-target initialisation (what its first cache load does)."""
    global _error
    try:
        from numba.core.compiler_lock import global_compiler_lock
        from numba.core.registry import cpu_target
        with global_compiler_lock:
            cpu_target.target_context.refresh()
    except BaseException as ex:  # noqa: BLE001 - the first real compile reports it again
        _error = ex


def start_background_init() -> threading.Thread:
    """Start Numba's target initialisation in a daemon thread (once per process).

    Returns the thread (the same one on later calls). Safe to call at any time;
    see the module docstring for when it saves time.
    """
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_init_numba_target, daemon=True,
                                       name="graphflow-numba-init")
            _thread.start()
        return _thread


def background_init_enabled() -> bool:
    """True when ``GRAPHFLOW_BACKGROUND_INIT`` asks for the start at import."""
    return os.environ.get(ENV_VAR, "").strip().lower() in ("1", "true", "yes", "on")


def maybe_start_at_import() -> None:
    """Called at the end of ``import graphflow``: start the thread if enabled."""
    if background_init_enabled():
        start_background_init()


def wait_background_init(timeout: Optional[float] = None) -> bool:
    """Wait for a started background initialisation; True when it has finished
    (or was never started). Re-raises nothing: a failure shows at the first
    kernel load, which repeats the initialisation."""
    t = _thread
    if t is None:
        return True
    t.join(timeout)
    return not t.is_alive()
