"""TensorShape: a static shape with unknown rank or unknown dimensions.

Dimensions are plain ``int`` or ``None`` (TF2-style iteration); ``Dimension``
is kept as a thin helper for code that calls ``.value``.
"""
from __future__ import annotations

from typing import Any, Iterator, Optional, Sequence


class Dimension:
    """One dimension (``tf.Dimension``): an int or None."""

    __slots__ = ("value",)

    def __init__(self, value: Optional[int]) -> None:
        self.value = None if value is None else int(value)

    def __eq__(self, other: Any) -> Any:
        other = as_dimension(other).value
        if self.value is None or other is None:
            return None
        return self.value == other

    def __int__(self) -> int:
        return self.value

    def __repr__(self) -> str:
        return "Dimension(%s)" % self.value


def as_dimension(value: Any) -> Dimension:
    return value if isinstance(value, Dimension) else Dimension(value)


def _dim(value: Any) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, Dimension):
        return value.value
    v = int(value)
    if v < 0:
        if v == -1:
            return None
        raise ValueError("Dimension %d must be >= 0" % v)
    return v


_PLAIN_TYPES = frozenset((int, type(None)))


class TensorShape:
    """Static shape of a tensor (same as ``tf.TensorShape``)."""

    __slots__ = ("_dims",)

    def __init__(self, dims: Any) -> None:
        if dims is None:
            self._dims = None
        elif isinstance(dims, TensorShape):
            self._dims = dims._dims
        elif isinstance(dims, (int, Dimension)) and not isinstance(dims, bool):
            self._dims = (_dim(dims),)
        else:
            t = tuple(dims)
            # fast path: non-negative Python ints and None need no conversion
            plain = _PLAIN_TYPES.issuperset(map(type, t))
            if plain and t:
                plain = min(t) >= 0 if None not in t else all(d is None or d >= 0 for d in t)
            self._dims = t if plain else tuple(_dim(d) for d in t)

    # --- queries ------------------------------------------------------------
    @property
    def dims(self) -> Optional[list]:
        """The dimensions as a list (``None`` entries unknown), or None for an unknown rank."""
        return None if self._dims is None else list(self._dims)

    @property
    def ndims(self) -> Optional[int]:
        """The rank, or None when unknown (also ``rank``)."""
        return None if self._dims is None else len(self._dims)

    rank = ndims

    def as_list(self) -> list:
        """The dimensions as a list (ValueError for an unknown rank)."""
        if self._dims is None:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return list(self._dims)

    def as_tuple(self) -> Optional[tuple]:
        """The dimensions as a tuple, or None for an unknown rank."""
        return self._dims

    def is_fully_defined(self) -> bool:
        """True when the rank and every dimension are known."""
        return self._dims is not None and all(d is not None for d in self._dims)

    def num_elements(self) -> Optional[int]:
        """The product of the dimensions, or None if not fully defined."""
        if not self.is_fully_defined():
            return None
        n = 1
        for d in self._dims:
            n *= d
        return n

    def is_compatible_with(self, other: Any) -> bool:
        """True if some fully defined shape matches both (unknowns match anything)."""
        other = as_shape(other)
        if self._dims is None or other._dims is None or self._dims == other._dims:
            return True
        if len(self._dims) != len(other._dims):
            return False
        return all(a is None or b is None or a == b for a, b in zip(self._dims, other._dims))

    def merge_with(self, other: Any) -> "TensorShape":
        """The most specific shape compatible with both (ValueError if incompatible)."""
        other = as_shape(other)
        if self._dims is None:
            return other
        if other._dims is None or self._dims == other._dims:
            return self
        if not self.is_compatible_with(other):
            raise ValueError("Shapes %s and %s are not compatible" % (self, other))
        return TensorShape([a if a is not None else b for a, b in zip(self._dims, other._dims)])

    def assert_is_compatible_with(self, other: Any) -> None:
        """ValueError unless ``is_compatible_with(other)``."""
        if not self.is_compatible_with(other):
            raise ValueError("Shapes %s and %s are incompatible" % (self, other))

    def assert_has_rank(self, rank: int) -> None:
        """ValueError if the rank is known and differs from ``rank``."""
        if self._dims is not None and len(self._dims) != rank:
            raise ValueError("Shape %s must have rank %d" % (self, rank))

    def with_rank(self, rank: int) -> "TensorShape":
        """This shape at rank ``rank`` (unknown dims for an unknown rank), else ValueError."""
        if self._dims is None:
            return unknown_shape(rank)
        if len(self._dims) != rank:
            raise ValueError("Shape %s must have rank %d" % (self, rank))
        return self

    def with_rank_at_least(self, rank: int) -> "TensorShape":
        """This shape; ValueError if its known rank is below ``rank``."""
        if self._dims is not None and len(self._dims) < rank:
            raise ValueError("Shape %s must have rank at least %d" % (self, rank))
        return self

    def with_rank_at_most(self, rank: int) -> "TensorShape":
        """This shape; ValueError if its known rank is above ``rank``."""
        if self._dims is not None and len(self._dims) > rank:
            raise ValueError("Shape %s must have rank at most %d" % (self, rank))
        return self

    def assert_is_fully_defined(self) -> None:
        """ValueError unless every dimension is known."""
        if not self.is_fully_defined():
            raise ValueError("Shape %s is not fully defined" % self)

    def assert_same_rank(self, other: Any) -> None:
        """ValueError if both ranks are known and differ."""
        other = as_shape(other)
        if self._dims is not None and other._dims is not None \
                and len(self._dims) != len(other._dims):
            raise ValueError("Shapes %s and %s must have the same rank" % (self, other))

    def most_specific_compatible_shape(self, other: Any) -> "TensorShape":
        """The most specific shape compatible with both (unknown where they differ)."""
        other = as_shape(other)
        if self._dims is None or other._dims is None or len(self._dims) != len(other._dims):
            return TensorShape(None)
        return TensorShape([a if a == b else None for a, b in zip(self._dims, other._dims)])

    def __add__(self, other: Any) -> "TensorShape":
        return self.concatenate(other)

    def __radd__(self, other: Any) -> "TensorShape":
        return as_shape(other).concatenate(self)

    def concatenate(self, other: Any) -> "TensorShape":
        """The dimensions of this shape followed by those of ``other``."""
        other = as_shape(other)
        if self._dims is None or other._dims is None:
            return TensorShape(None)
        return TensorShape(self._dims + other._dims)

    def is_subtype_of(self, other: Any) -> bool:
        """True if ``other`` is at least as general (its known dims equal this shape's)."""
        other = as_shape(other)
        if other._dims is None:
            return True
        if self._dims is None or len(self._dims) != len(other._dims):
            return False
        return all(b is None or a == b for a, b in zip(self._dims, other._dims))

    # --- protocol -----------------------------------------------------------
    def __len__(self) -> int:
        if self._dims is None:
            raise ValueError("Cannot take the length of shape with unknown rank.")
        return len(self._dims)

    def __bool__(self) -> bool:
        return self._dims is not None

    def __iter__(self) -> Iterator[Optional[int]]:
        if self._dims is None:
            raise ValueError("Cannot iterate over a shape with unknown rank.")
        return iter(self._dims)

    def __getitem__(self, key: Any) -> Any:
        if self._dims is None:
            return TensorShape(None) if isinstance(key, slice) else None
        if isinstance(key, slice):
            return TensorShape(self._dims[key])
        return self._dims[key]

    def __eq__(self, other: Any) -> bool:
        try:
            other = as_shape(other)
        except (TypeError, ValueError):
            return NotImplemented
        return self._dims == other._dims

    def __ne__(self, other: Any) -> bool:
        r = self.__eq__(other)
        return r if r is NotImplemented else not r

    def __hash__(self) -> int:
        return hash(self._dims)

    def __repr__(self) -> str:
        if self._dims is None:
            return "TensorShape(None)"
        return "TensorShape(%s)" % list(self._dims)

    def __str__(self) -> str:
        if self._dims is None:
            return "<unknown>"
        if len(self._dims) == 1:
            return "(%s,)" % self._dims[0]
        return "(%s)" % ", ".join(str(d) for d in self._dims)

    def to_tf_string(self) -> str:
        """TF1's bracketed form used in messages: ``[?,2]``."""
        if self._dims is None:
            return "<unknown>"
        return "[" + ",".join("?" if d is None else str(d) for d in self._dims) + "]"


def as_shape(shape: Any) -> TensorShape:
    return shape if isinstance(shape, TensorShape) else TensorShape(shape)


def unknown_shape(rank: Optional[int] = None, ndims: Optional[int] = None) -> TensorShape:
    rank = ndims if rank is None else rank
    return TensorShape(None) if rank is None else TensorShape([None] * rank)


def scalar() -> TensorShape:
    return TensorShape(())


def broadcast_shapes(a: TensorShape, b: TensorShape) -> Optional[TensorShape]:
    """Static numpy-style broadcast of two shapes; None when incompatible."""
    if a._dims is None or b._dims is None:
        return TensorShape(None)
    if a._dims == b._dims:
        return a
    x, y = list(a._dims), list(b._dims)
    n = max(len(x), len(y))
    x = [1] * (n - len(x)) + x
    y = [1] * (n - len(y)) + y
    out = []
    for p, q in zip(x, y):
        if p == 1:
            out.append(q)
        elif q == 1:
            out.append(p)
        elif p is None:
            out.append(q)
        elif q is None:
            out.append(p)
        elif p == q:
            out.append(p)
        else:
            return None
    return TensorShape(out)
