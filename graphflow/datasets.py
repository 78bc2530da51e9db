"""Small classification data sets generated in code (no downloads), for the demo.

Every generator is deterministic in its ``seed`` (a NumPy ``default_rng``)
and returns a :class:`Dataset`: float32 features ``x`` of shape ``[n, 2]``
and int32 labels ``y`` in ``[0, classes)``, in a seeded random order.

- :func:`spirals`: ``classes`` arms winding around the origin; a linear
  model cannot separate them, a small MLP can.
- :func:`blobs`: one Gaussian cluster per class on a circle; nearly
  linearly separable.

``Dataset.split(fraction)`` holds out a test set; :func:`minibatches` yields
seeded shuffled batches forever. TensorFlow has no equivalent module (its
demos download MNIST); the names are graphflow's own.
"""
from __future__ import annotations

import math
from typing import Callable, Iterator, NamedTuple

import numpy as np

__all__ = ["Dataset", "spirals", "blobs", "minibatches", "DATASETS", "load"]


class Dataset(NamedTuple):
    """Features ``x`` (float32 ``[n, 2]``), labels ``y`` (int32 ``[n]``), ``classes``."""

    x: np.ndarray
    y: np.ndarray
    classes: int

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def split(self, test_fraction: float = 0.25) -> tuple:
        """``(train, test)``: the last ``test_fraction`` of the (already shuffled)
        examples is the test set."""
        if not 0.0 < test_fraction < 1.0:
            raise ValueError("test_fraction must be in (0, 1), got %r" % (test_fraction,))
        n_test = max(1, int(round(len(self) * test_fraction)))
        cut = len(self) - n_test
        return (Dataset(self.x[:cut], self.y[:cut], self.classes),
                Dataset(self.x[cut:], self.y[cut:], self.classes))


def _check(n_per_class: int, classes: int) -> None:
    if int(n_per_class) < 1:
        raise ValueError("n_per_class must be >= 1, got %r" % (n_per_class,))
    if int(classes) < 2:
        raise ValueError("classes must be >= 2, got %r" % (classes,))


def _shuffled(x: np.ndarray, y: np.ndarray, classes: int, rng: np.random.Generator) -> Dataset:
    order = rng.permutation(y.shape[0])
    return Dataset(np.ascontiguousarray(x[order], dtype=np.float32),
                   np.ascontiguousarray(y[order], dtype=np.int32), classes)


def spirals(n_per_class: int = 200, classes: int = 3, noise: float = 0.25,
            turns: float = 1.0, seed: int = 0) -> Dataset:
    """``classes`` interleaved spiral arms in the unit disc.

    Point ``i`` of arm ``k`` lies at radius ``r = i / n_per_class`` and angle
    ``2*pi*(k/classes + turns*r)``, plus Gaussian angle noise of standard
    deviation ``noise`` (radians) scaled by ``r``, so the arms stay distinct at
    the centre and overlap a little further out.
    """
    _check(n_per_class, classes)
    rng = np.random.default_rng(seed)
    n = int(n_per_class)
    r = (np.arange(n, dtype=np.float64) + 1.0) / n
    xs, ys = [], []
    for k in range(classes):
        angle = 2.0 * math.pi * (k / classes + turns * r)
        angle = angle + rng.normal(0.0, noise, size=n) * r
        xs.append(np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1))
        ys.append(np.full(n, k))
    return _shuffled(np.concatenate(xs), np.concatenate(ys), classes, rng)


def blobs(n_per_class: int = 200, classes: int = 3, spread: float = 0.35,
          seed: int = 0) -> Dataset:
    """One isotropic Gaussian blob per class, centres evenly spaced on the unit
    circle, standard deviation ``spread``."""
    _check(n_per_class, classes)
    rng = np.random.default_rng(seed)
    n = int(n_per_class)
    xs, ys = [], []
    for k in range(classes):
        a = 2.0 * math.pi * k / classes
        centre = np.array([math.cos(a), math.sin(a)])
        xs.append(centre + rng.normal(0.0, spread, size=(n, 2)))
        ys.append(np.full(n, k))
    return _shuffled(np.concatenate(xs), np.concatenate(ys), classes, rng)


DATASETS: dict = {"spirals": spirals, "blobs": blobs}


def load(name: str, seed: int = 0, **kwargs) -> Dataset:
    """``DATASETS[name](seed=seed, **kwargs)``; ValueError naming the choices."""
    fn: Callable = DATASETS.get(name)  # type: ignore[assignment]
    if fn is None:
        raise ValueError("Unknown data set %r; choose one of: %s"
                         % (name, ", ".join(sorted(DATASETS))))
    return fn(seed=seed, **kwargs)


def minibatches(data: Dataset, batch_size: int, seed: int = 0) -> Iterator[tuple]:
    """Endless ``(x, y)`` batches: each epoch is a fresh seeded permutation;
    a batch never spans two epochs (the last one of an epoch may be smaller)."""
    if int(batch_size) < 1:
        raise ValueError("batch_size must be >= 1, got %r" % (batch_size,))
    rng = np.random.default_rng(seed)
    n = len(data)
    while True:
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            yield data.x[idx], data.y[idx]
