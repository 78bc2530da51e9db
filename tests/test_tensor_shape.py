"""TensorShape and Dimension against tf.TensorShape (TF1/TF2 documented behaviour)."""
import pytest

import graphflow as tf
from graphflow.framework.tensor_shape import (Dimension, TensorShape, as_shape,
                                              broadcast_shapes, scalar, unknown_shape)


def test_construction_and_queries():
    s = TensorShape([None, 2])
    assert s.ndims == 2 and s.rank == 2 and s.dims == [None, 2] and s.as_list() == [None, 2]
    assert not s.is_fully_defined() and s.num_elements() is None
    f = TensorShape([3, 4])
    assert f.is_fully_defined() and f.num_elements() == 12
    assert TensorShape(5).as_list() == [5]
    assert TensorShape([]).num_elements() == 1 and scalar() == TensorShape([])
    u = TensorShape(None)
    assert u.ndims is None and u.dims is None and u.num_elements() is None
    with pytest.raises(ValueError, match="as_list\\(\\) is not defined on an unknown TensorShape"):
        u.as_list()
    assert unknown_shape() == TensorShape(None) and unknown_shape(2).as_list() == [None, None]
    assert TensorShape([Dimension(2), Dimension(None)]).as_list() == [2, None]
    assert tf.TensorShape is TensorShape and tf.Dimension is Dimension


def test_str_repr():
    assert str(TensorShape([None, 2])) == "(None, 2)"
    assert str(TensorShape([3])) == "(3,)"
    assert str(TensorShape([])) == "()"
    assert str(TensorShape(None)) == "<unknown>"
    assert repr(TensorShape([None, 2])) == "TensorShape([None, 2])"
    assert repr(TensorShape(None)) == "TensorShape(None)"
    assert TensorShape([None, 2]).to_tf_string() == "[?,2]"


def test_equality_and_hash():
    assert TensorShape([1, 2]) == TensorShape([1, 2])
    assert TensorShape([1, 2]) == [1, 2] and TensorShape([1, 2]) == (1, 2)
    assert TensorShape([1, 2]) != TensorShape([2, 1])
    assert hash(TensorShape([1, 2])) == hash(TensorShape((1, 2)))
    assert as_shape([1, 2]) == TensorShape([1, 2])
    s = TensorShape([1])
    assert as_shape(s) is s


def test_compatibility():
    a = TensorShape([None, 2])
    assert a.is_compatible_with([5, 2]) and a.is_compatible_with(TensorShape(None))
    assert not a.is_compatible_with([5, 3]) and not a.is_compatible_with([2])
    a.assert_is_compatible_with([1, 2])
    with pytest.raises(ValueError, match="are incompatible"):
        a.assert_is_compatible_with([1, 3])
    assert a.merge_with([4, None]).as_list() == [4, 2]
    assert TensorShape(None).merge_with(a) == a
    with pytest.raises(ValueError, match="are not compatible"):
        a.merge_with([1, 3])
    assert a.most_specific_compatible_shape([5, 2]).as_list() == [None, 2]
    assert TensorShape([1, 2]).most_specific_compatible_shape([1]) == TensorShape(None)
    assert TensorShape([1, 2]).is_subtype_of(a) and not a.is_subtype_of([1, 2])


def test_rank_helpers():
    s = TensorShape([1, 2])
    assert s.with_rank(2) is s and s.with_rank_at_least(1) is s and s.with_rank_at_most(3) is s
    with pytest.raises(ValueError, match="must have rank 3"):
        s.with_rank(3)
    with pytest.raises(ValueError, match="must have rank at least 3"):
        s.with_rank_at_least(3)
    with pytest.raises(ValueError, match="must have rank at most 1"):
        s.with_rank_at_most(1)
    with pytest.raises(ValueError, match="must have rank 1"):
        s.assert_has_rank(1)
    assert TensorShape(None).with_rank(2).as_list() == [None, None]
    with pytest.raises(ValueError, match="is not fully defined"):
        TensorShape([None]).assert_is_fully_defined()
    with pytest.raises(ValueError, match="must have the same rank"):
        s.assert_same_rank([1])


def test_concatenate_and_indexing():
    a, b = TensorShape([1, None]), TensorShape([3])
    assert a.concatenate(b).as_list() == [1, None, 3]
    assert (a + b).as_list() == [1, None, 3] and ([7] + b).as_list() == [7, 3]
    assert a.concatenate(TensorShape(None)) == TensorShape(None)
    assert a[0] == 1 and a[1] is None and a[-1] is None
    assert a[1:] == TensorShape([None])
    u = TensorShape(None)
    assert u[0] is None and u[1:] == TensorShape(None)
    assert list(a) == [1, None] and len(a) == 2
    assert bool(a) and bool(TensorShape([])) and not bool(u)
    with pytest.raises(ValueError, match="unknown rank"):
        len(u)
    with pytest.raises(ValueError, match="unknown rank"):
        iter(u)


def test_dimension():
    d = Dimension(3)
    assert d.value == 3 and int(d) == 3 and d == 3 and repr(d) == "Dimension(3)"
    assert Dimension(None).value is None and (Dimension(None) == 3) is None
    with pytest.raises(ValueError):
        TensorShape([-2])


def test_broadcast_shapes():
    assert broadcast_shapes(TensorShape([2, 1]), TensorShape([3])).as_list() == [2, 3]
    assert broadcast_shapes(TensorShape([None, 1]), TensorShape([4])).as_list() == [None, 4]
    assert broadcast_shapes(TensorShape([2]), TensorShape([3])) is None
    assert broadcast_shapes(TensorShape(None), TensorShape([3])) == TensorShape(None)


def test_tensor_set_shape():
    p = tf.placeholder(tf.float32, [None, 2])
    p.set_shape([4, None])
    assert p.shape.as_list() == [4, 2]
    with pytest.raises(ValueError, match="is not compatible with supplied shape"):
        p.set_shape([3, 2])
