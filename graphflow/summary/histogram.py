"""TF's default histogram (``HistogramProto``) of a set of values (formats.md §b).

Bucket upper limits: ``v = 1e-12; while v < 1e20: v *= 1.1`` (kept in order),
then ``DBL_MAX``; mirrored with negated limits around 0. A value goes to the
first bucket whose limit is strictly greater. Runs of empty buckets are
written as one ``(last limit of the run, 0)`` entry, as TF's encoder does.
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

from graphflow.io import proto

DBL_MAX = sys.float_info.max


def _default_limits() -> np.ndarray:
    pos = []
    v = 1.0e-12
    while v < 1.0e20:
        pos.append(v)
        v *= 1.1
    pos.append(DBL_MAX)
    return np.array([-x for x in reversed(pos)] + [0.0] + pos, dtype=np.float64)


BUCKET_LIMITS = _default_limits()


def histogram_proto(values: Any) -> Any:
    """HistogramProto of ``values`` (flattened, as float64) with TF's default buckets.

    ``min``/``max``/``num``/``sum``/``sum_squares`` are accumulated in value
    order in double precision, as TF's ``Histogram::Add`` does. No values
    gives ``min = DBL_MAX``, ``max = -DBL_MAX`` and one empty bucket.
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    limits = BUCKET_LIMITS
    counts = np.zeros(len(limits), dtype=np.float64)
    h = proto.HistogramProto()
    if v.size:
        idx = np.minimum(np.searchsorted(limits, v, side="right"), len(limits) - 1)
        np.add.at(counts, idx, 1.0)
        h.min = float(v.min())
        h.max = float(v.max())
        h.num = float(v.size)
        with np.errstate(over="ignore", invalid="ignore"):  # inf like TF's doubles
            h.sum = float(np.cumsum(v)[-1])  # sequential, like TF (not pairwise)
            h.sum_squares = float(np.cumsum(v * v)[-1])
    else:
        h.min = DBL_MAX
        h.max = -DBL_MAX
    i, n = 0, len(limits)
    out_limits, out_counts = [], []
    while i < n:
        end, count = limits[i], counts[i]
        i += 1
        if count <= 0.0:
            while i < n and counts[i] <= 0.0:
                end, count = limits[i], counts[i]
                i += 1
        out_limits.append(float(end))
        out_counts.append(float(count))
    h.bucket_limit.extend(out_limits)
    h.bucket.extend(out_counts)
    return h
