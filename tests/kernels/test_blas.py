"""kernels/blas.py: MatMul's GEMM split over graphflow's threads.

Checked against NumPy (the truth for a product): every BLAS layout the
MatMul kernel passes (transposed views), both BLAS dtypes, shapes on both
sides of the split threshold, concurrent callers; OpenBLAS's thread count is
restored afterwards; the chooser follows the faster way and keeps trying the
other; and the MatMul op of a session uses it.
"""
import threading

import numpy as np
import pytest

import graphflow as tf
from graphflow.kernels import blas

SPLIT = blas._FUNCS is not None  # NumPy's OpenBLAS found: the split machinery can run


@pytest.fixture(autouse=True)
def split_on(monkeypatch):
    """Turn the opt-in split machinery on (GRAPHFLOW_MATMUL_THREADS=2) for each test."""
    if SPLIT and blas._blas is None:
        monkeypatch.setattr(blas, "THREADS", 2)
        monkeypatch.setattr(blas, "_blas", blas._BlasThreads(*blas._FUNCS[:2]))
    yield


def _pair(rng, m, k, n, dtype, ta=False, tb=False):
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    return (a.T if ta else a), (b.T if tb else b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_matches_numpy_for_every_layout(dtype, ta, tb):
    rng = np.random.default_rng(3)
    for m, k, n in ((256, 784, 512), (784, 256, 512), (97, 300, 211), (64, 64, 64), (3, 5, 2)):
        a, b = _pair(rng, m, k, n, dtype, ta, tb)
        want = np.dot(a.astype(np.float64), b.astype(np.float64))
        for _ in range(3):  # the chooser tries both ways on the first calls
            got = blas.matmul(a, b)
            assert got.shape == (m, n) and got.dtype == dtype and got.flags.c_contiguous
            tol = 1e-4 if dtype == np.float32 else 1e-11
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.sqrt(k))


def test_split_and_single_give_the_same_bits():
    """Row blocks change no summation order: each output row is the same BLAS work."""
    if not SPLIT:
        pytest.skip("NumPy's OpenBLAS (thread control) not found")
    rng = np.random.default_rng(4)
    a, b = _pair(rng, 256, 784, 512, np.float32)
    np.testing.assert_array_equal(blas._split_dot(a, b, 256, 512), blas.matmul(a, b))


def test_other_dtypes_and_empty_shapes_are_plain_numpy():
    a = np.arange(12, dtype=np.int32).reshape(3, 4)
    np.testing.assert_array_equal(blas.matmul(a, a.T), a @ a.T)
    z = np.zeros((0, 5), np.float32)
    assert blas.matmul(z, np.ones((5, 3), np.float32)).shape == (0, 3)
    h = np.ones((4, 4), np.float16)
    assert blas.matmul(h, h).dtype == np.float16


def test_openblas_thread_count_is_restored():
    if not SPLIT:
        pytest.skip("NumPy's OpenBLAS (thread control) not found")
    before = blas._FUNCS[1]()
    rng = np.random.default_rng(5)
    a, b = _pair(rng, 256, 512, 512, np.float32)
    for _ in range(4):
        blas.matmul(a, b)
    assert blas._FUNCS[1]() == before
    assert blas._blas.depth == 0


def test_concurrent_callers_get_their_own_products():
    rng = np.random.default_rng(6)
    pairs = [_pair(rng, 256, 300 + 10 * i, 200, np.float32) for i in range(6)]
    want = [np.dot(a, b) for a, b in pairs]
    got = [None] * len(pairs)
    errors = []

    def work(i):
        try:
            for _ in range(5):
                got[i] = blas.matmul(*pairs[i])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(pairs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-3)


def test_chooser_follows_the_faster_way_and_keeps_exploring():
    c = blas._Chooser()
    key = (1, 2, 3, "f")
    first = [c.split(key) for _ in range(1)]
    c.record(key, first[0], 1.0)
    second = c.split(key)
    assert second != first[0]  # both ways are measured first
    c.record(key, second, 1.0)
    # the split way becomes 4x faster: it is taken, except every EXPLORE-th call
    for _ in range(5):
        c.record(key, True, 0.25)
    picks = []
    for _ in range(2 * c.EXPLORE):
        s = c.split(key)
        picks.append(s)
        c.record(key, s, 0.25 if s else 1.0)
    assert picks.count(False) == 2 and picks.count(True) == 2 * c.EXPLORE - 2
    # load changes: splitting now costs 3x; after an exploration the single way wins
    for _ in range(4 * c.EXPLORE):
        s = c.split(key)
        c.record(key, s, 3.0 if s else 1.0)
    later = [c.split(key) for _ in range(c.EXPLORE - 1)]
    assert later.count(False) >= c.EXPLORE - 2


def test_session_matmul_uses_it_and_matches_numpy():
    rng = np.random.default_rng(7)
    xv, wv = _pair(rng, 256, 784, 512, np.float32)
    x = tf.placeholder(tf.float32, [256, 784])
    w = tf.constant(wv)
    y = tf.matmul(x, w)
    dx = tf.matmul(y, w, transpose_b=True)
    with tf.Session() as s:
        for _ in range(3):
            got_y, got_dx = s.run([y, dx], {x: xv})
    np.testing.assert_allclose(got_y, xv @ wv, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(got_dx, (xv @ wv) @ wv.T, rtol=1e-4, atol=1e-2)
    if SPLIT:
        assert (256, 512, 784, "f") in blas.info()["shapes"]


@pytest.mark.skipif(not blas.can_update(np.float32), reason="no cblas_sgemm found")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_update_is_the_product_then_the_fused_update_bit_for_bit(dtype):
    """``c += alpha * a @ b`` as one GEMM equals ``g = a @ b; c = fma(alpha, g, c)``
    (the update kernel) for every layout, on both sides of the split threshold."""
    from graphflow.kernels.training_kernels import apply_gradient_descent
    rng = np.random.default_rng(8)
    for m, k, n in ((784, 256, 512), (512, 256, 10), (300, 40, 200)):
        for ta in (False, True):
            for tb in (False, True):
                a, b = _pair(rng, m, k, n, dtype, ta, tb)
                c0 = rng.uniform(-1, 1, (m, n)).astype(dtype)
                lr = dtype(0.01)
                want = c0.copy()
                apply_gradient_descent(want.reshape(-1), blas.matmul(a, b).reshape(-1), lr)
                for _ in range(3):  # both ways of the chooser
                    got = c0.copy()
                    blas.gemm_update(got, a, b, -lr)
                    np.testing.assert_array_equal(got, want)


@pytest.mark.skipif(not blas.can_update(np.float32), reason="no cblas_sgemm found")
def test_gemm_update_rejects_what_it_cannot_write_safely():
    a = np.ones((4, 3), np.float32)
    b = np.ones((3, 5), np.float32)
    for c, aa, bb in ((np.zeros((4, 5), np.float64), a, b),        # dtype
                      (np.zeros((4, 6), np.float32), a, b),        # shape
                      (np.zeros((5, 4), np.float32).T, a, b),      # not C-contiguous
                      (np.zeros((4, 5), np.float32), a.astype(np.float64), b)):
        with pytest.raises(ValueError, match="gemm_update"):
            blas.gemm_update(c, aa, bb, 1.0)
    c = np.zeros((4, 5), np.float32)
    blas.gemm_update(c, a, b, 2.0)
    np.testing.assert_array_equal(c, np.full((4, 5), 6.0, np.float32))
