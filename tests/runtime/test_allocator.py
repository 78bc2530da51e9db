"""runtime/allocator.py: glibc malloc thresholds set once per process, switchable.

Each check runs in a fresh interpreter (the setting is process-wide): after
the first compiled plan the thresholds are set (Linux/glibc), so repeated runs
producing a 40 MB result fault (almost) no new pages, counted by the kernel
(``ru_minflt``); ``GRAPHFLOW_MALLOPT=off`` leaves malloc alone.
"""
import json
import os
import platform
import subprocess
import sys

import pytest

from graphflow.runtime import allocator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"

PROBE = r"""
import json, resource
import numpy as np
import graphflow as tf
from graphflow.runtime import allocator
before = allocator.status()
x = tf.placeholder(tf.float32, [10_000_000])
y = x * 2.0 + 1.0
xv = np.ones(10_000_000, np.float32)
with tf.Session() as s:
    for _ in range(3):
        s.run(y, {x: xv})
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(8):
        out = s.run(y, {x: xv})
        del out
    f1 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
print(json.dumps({"before": before, "after": allocator.status(), "faults": (f1 - f0) / 8}))
"""


def _probe(value):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("GRAPHFLOW_MALLOPT", None)
    if value is not None:
        env["GRAPHFLOW_MALLOPT"] = value
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_thresholds_set_at_first_plan_and_runs_fault_no_new_pages():
    on = _probe(None)
    assert on["before"] is None  # importing graphflow and building changes nothing
    assert on["after"] == {"applied": True, "bytes": allocator.DEFAULT_MIB << 20, "reason": ""}
    off = _probe("off")
    assert off["after"]["applied"] is False and "off" in off["after"]["reason"]
    # 40 MB per run: without the setting glibc maps fresh pages each run
    # (~9800 4 KiB faults, or ~20 with transparent huge pages)
    assert on["faults"] <= 16
    assert off["faults"] > on["faults"]


def test_threshold_values():
    assert allocator.threshold_bytes(None) == 256 << 20
    assert allocator.threshold_bytes("") == 256 << 20
    assert allocator.threshold_bytes("off") == allocator.threshold_bytes("0") == 0
    assert allocator.threshold_bytes("64") == 64 << 20
    for bad in ("lots", "-5"):
        with pytest.raises(ValueError, match="GRAPHFLOW_MALLOPT"):
            allocator.threshold_bytes(bad)


def test_configure_is_idempotent():
    first = allocator.configure()
    assert allocator.configure() is first is allocator.status()
    assert set(first) == {"applied", "bytes", "reason"}
