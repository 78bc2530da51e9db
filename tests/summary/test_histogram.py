"""TF's default histogram buckets and encoding (spec formats.md §b, byte-for-byte example)."""
import sys

import numpy as np

from graphflow.summary.histogram import BUCKET_LIMITS, histogram_proto

DBL_MAX = sys.float_info.max


def test_bucket_limits_construction():
    pos = []
    v = 1e-12
    while v < 1e20:
        pos.append(v)
        v *= 1.1
    pos.append(DBL_MAX)
    want = [-x for x in reversed(pos)] + [0.0] + pos
    assert BUCKET_LIMITS.tolist() == want
    assert np.all(np.diff(BUCKET_LIMITS) > 0)


def test_spec_example_exactly():
    h = histogram_proto([1, 2, 2, 5])
    assert (h.min, h.max, h.num, h.sum, h.sum_squares) == (1, 5, 4, 10, 34)
    assert list(h.bucket_limit) == [0.917246389039776, 1.0089710279437536, 1.9661990955585713,
                                    2.1628190051144287, 4.636194617418625, 5.099814079160488,
                                    1.7976931348623157e+308]
    assert list(h.bucket) == [0, 1, 0, 2, 0, 1, 0]


def test_value_on_a_limit_goes_to_the_next_bucket():
    limit = float(BUCKET_LIMITS[800])
    h = histogram_proto([limit])
    i = list(h.bucket).index(1.0)
    assert h.bucket_limit[i] == BUCKET_LIMITS[801]


def test_zero_negative_and_huge_values():
    h = histogram_proto([0.0, -3.0, DBL_MAX])
    counts = dict(zip(h.bucket_limit, h.bucket))
    assert counts[float(BUCKET_LIMITS[BUCKET_LIMITS.tolist().index(0.0) + 1])] == 1.0  # 0.0
    assert sum(h.bucket) == 3.0
    assert h.bucket_limit[-1] == DBL_MAX and h.bucket[-1] == 1.0  # clamped into the last
    assert h.min == -3.0 and h.max == DBL_MAX


def test_empty_histogram():
    h = histogram_proto([])
    assert h.min == DBL_MAX and h.max == -DBL_MAX and h.num == 0
    assert list(h.bucket_limit) == [DBL_MAX] and list(h.bucket) == [0.0]


def test_sums_accumulate_in_value_order():
    vals = np.random.default_rng(0).normal(size=1001).astype(np.float32)
    h = histogram_proto(vals)
    s = q = 0.0
    for v in vals.astype(np.float64):
        s += v
        q += v * v
    assert h.sum == s and h.sum_squares == q and h.num == 1001.0
    assert sum(h.bucket) == 1001.0
