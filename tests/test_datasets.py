"""graphflow.datasets: the demo's generated data sets are deterministic in the
seed, balanced, and as hard as their docstrings say (checked with NumPy
least squares, not with graphflow)."""
import numpy as np
import pytest

from graphflow import datasets


@pytest.mark.parametrize("name", sorted(datasets.DATASETS))
def test_shapes_dtypes_and_balance(name):
    d = datasets.load(name, seed=0)
    assert d.x.shape == (600, 2) and d.x.dtype == np.float32
    assert d.y.shape == (600,) and d.y.dtype == np.int32
    assert d.classes == 3 and len(d) == 600
    np.testing.assert_array_equal(np.bincount(d.y), [200, 200, 200])
    assert np.all(np.isfinite(d.x))
    # shuffled: the classes are not in blocks
    assert len(set(d.y[:30].tolist())) == 3


@pytest.mark.parametrize("name", sorted(datasets.DATASETS))
def test_deterministic_in_the_seed(name):
    a, b, c = (datasets.load(name, seed=s) for s in (5, 5, 6))
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.x, c.x)


def test_spirals_geometry():
    d = datasets.spirals(n_per_class=50, classes=4, noise=0.0, seed=1)
    r = np.hypot(d.x[:, 0], d.x[:, 1])
    # radii i/n for i = 1..n, once per class
    np.testing.assert_allclose(np.sort(r), np.repeat(np.arange(1, 51) / 50.0, 4), atol=1e-6)
    assert d.classes == 4 and set(d.y.tolist()) == {0, 1, 2, 3}


def _linear_accuracy(d):
    """Accuracy of a one-vs-rest least-squares linear classifier (NumPy)."""
    a = np.hstack([d.x.astype(np.float64), np.ones((len(d), 1))])
    targets = np.eye(d.classes)[d.y]
    w, *_ = np.linalg.lstsq(a, targets, rcond=None)
    return float(np.mean(np.argmax(a @ w, axis=1) == d.y))


def test_spirals_need_a_nonlinear_model_blobs_do_not():
    assert _linear_accuracy(datasets.spirals(seed=0)) < 0.7
    assert _linear_accuracy(datasets.blobs(seed=0)) > 0.9


def test_split_and_minibatches():
    d = datasets.spirals(seed=0)
    train, test = d.split(0.25)
    assert (len(train), len(test)) == (450, 150)
    np.testing.assert_array_equal(np.concatenate([train.x, test.x]), d.x)
    it = datasets.minibatches(train, 64, seed=2)
    batches = [next(it) for _ in range(8)]  # one epoch: 7 full batches + 2 rows
    assert [len(y) for _, y in batches[:8]] == [64] * 7 + [2]
    epoch = np.concatenate([x for x, _ in batches[:8]])
    assert sorted(map(tuple, epoch.tolist())) == sorted(map(tuple, train.x.tolist()))
    again = datasets.minibatches(train, 64, seed=2)
    np.testing.assert_array_equal(next(again)[0], batches[0][0])


@pytest.mark.parametrize("call", [
    lambda: datasets.spirals(n_per_class=0), lambda: datasets.blobs(classes=1),
    lambda: datasets.load("mnist"), lambda: datasets.spirals().split(1.0),
    lambda: next(datasets.minibatches(datasets.blobs(), 0)),
])
def test_bad_arguments(call):
    with pytest.raises(ValueError):
        call()
