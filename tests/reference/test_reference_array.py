"""Shape and indexing ops against TensorFlow: reshape, transpose, concat,
stack, gather, Python slicing, slice, squeeze/expand_dims, cast, and their
errors."""
import numpy as np
import pytest

RNG = np.random.default_rng(3)
X = RNG.uniform(-1, 1, size=(4, 3, 5)).astype(np.float32)
M = np.arange(12, dtype=np.int32).reshape(3, 4)


def _one(fn, x=X, known=True):
    """build(tf): ``fn(tf, placeholder)`` with ``x`` fed."""
    def build(tf):
        p = tf.placeholder(tf.as_dtype(x.dtype), x.shape if known else None, name="p")
        return fn(tf, p), {p: x}
    return build


CASES = {
    "reshape[-1]": lambda tf, p: tf.reshape(p, [-1]),
    "reshape[12,5]": lambda tf, p: tf.reshape(p, [12, 5]),
    "reshape[2,-1,5]": lambda tf, p: tf.reshape(p, [2, -1, 5]),
    "reshape[60,1,1]": lambda tf, p: tf.reshape(p, (60, 1, 1)),
    "transpose": lambda tf, p: tf.transpose(p),
    "transpose[0,2,1]": lambda tf, p: tf.transpose(p, [0, 2, 1]),
    "transpose[2,0,1]": lambda tf, p: tf.transpose(p, perm=[2, 0, 1]),
    "concat0": lambda tf, p: tf.concat([p, p * 2.0], 0),
    "concat1": lambda tf, p: tf.concat([p, p[:, :1], p], axis=1),
    "concat-1": lambda tf, p: tf.concat([p, p], -1),
    "concat-single": lambda tf, p: tf.concat([p], 0),
    "stack0": lambda tf, p: tf.stack([p, p + 1.0]),
    "stack2": lambda tf, p: tf.stack([p, p, p], axis=2),
    "stack-1": lambda tf, p: tf.stack([p, p], axis=-1),
    "gather": lambda tf, p: tf.gather(p, [3, 0, 0, 2]),
    "gather2d-indices": lambda tf, p: tf.gather(p, [[1, 2], [0, 3]]),
    "gather-axis1": lambda tf, p: tf.gather(p, [2, 0], axis=1),
    "gather-axis-1": lambda tf, p: tf.gather(p, [4, 4, 1], axis=-1),
    "gather-scalar": lambda tf, p: tf.gather(p, 1),
    "slice[1:]": lambda tf, p: p[1:],
    "slice[:,::2]": lambda tf, p: p[:, ::2],
    "slice[...,0]": lambda tf, p: p[..., 0],
    "slice[-1]": lambda tf, p: p[-1],
    "slice[::-1]": lambda tf, p: p[::-1],
    "slice[1:3,1:,-2:]": lambda tf, p: p[1:3, 1:, -2:],
    "slice[:,None]": lambda tf, p: p[:, None],
    "slice[0,:,3]": lambda tf, p: p[0, :, 3],
    "slice[-3:-1:1,::-2]": lambda tf, p: p[-3:-1:1, ::-2],
    "slice-op": lambda tf, p: tf.slice(p, [1, 0, 2], [2, -1, 3]),
    "squeeze": lambda tf, p: tf.squeeze(p[:1, :, :1]),
    "squeeze-axis": lambda tf, p: tf.squeeze(p[:1, :, :1], axis=[2]),
    "expand_dims0": lambda tf, p: tf.expand_dims(p, 0),
    "expand_dims-1": lambda tf, p: tf.expand_dims(p, -1),
    "cast-int32": lambda tf, p: tf.cast(p * 10.0, tf.int32),
    "cast-float64": lambda tf, p: tf.cast(p, tf.float64),
    "cast-bool": lambda tf, p: tf.cast(p, tf.bool),
    "shape": lambda tf, p: tf.shape(p),
    "size": lambda tf, p: tf.size(p),
    "rank": lambda tf, p: tf.rank(p),
    "tile": lambda tf, p: tf.tile(p, [1, 2, 1]),
    "zeros_like": lambda tf, p: tf.zeros_like(p),
    "ones_like": lambda tf, p: tf.ones_like(p),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_array_op_known_shape(oracle, case):
    build = _one(CASES[case])
    oracle.run(build)
    oracle.static(build)


@pytest.mark.parametrize("case", sorted(CASES))
def test_array_op_unknown_shape(oracle, case):
    build = _one(CASES[case], known=False)
    oracle.run(build)
    oracle.static(build)


@pytest.mark.parametrize("case", ["reshape[-1]", "transpose[2,0,1]", "concat-1", "stack-1",
                                  "gather-axis1", "slice[:,::2]", "slice[0,:,3]", "tile",
                                  "expand_dims0", "shape"])
def test_array_op_int32(oracle, case):
    oracle.run(_one(CASES[case], x=M.reshape(3, 4, 1) * np.ones((1, 1, 5), np.int32)))


def test_zeros_ones_fill(oracle):
    oracle.run(lambda tf: ([tf.zeros([2, 3]), tf.ones((3,), tf.int32), tf.fill([2, 2], 7),
                            tf.zeros([0, 2], tf.float64)], {}))


def test_split(oracle):
    oracle.run(_one(lambda tf, p: tf.split(p, 3, axis=1)))
    oracle.run(_one(lambda tf, p: tf.split(p, [1, 4], axis=2)))


def test_one_hot(oracle):
    idx = np.array([0, 2, 1, 5, -1], np.int32)

    def build(tf):
        p = tf.placeholder(tf.int32, [5])
        return [tf.one_hot(p, 4),
                tf.one_hot(p, 3, on_value=5.0, off_value=-1.0, axis=0)], {p: idx}
    oracle.run(build)


def test_reshape_run_time_error(oracle):
    def build(tf):
        p = tf.placeholder(tf.float32, None)
        return tf.reshape(p, [4, -1]), {p: np.zeros(6, np.float32)}
    g, t = oracle.error(build)


def test_reshape_build_time_error(oracle):
    def build(tf):
        p = tf.placeholder(tf.float32, [2, 3])
        return tf.reshape(p, [4, 2]), {}
    g, t = oracle.error(build, at="build")
    assert isinstance(g, ValueError)


def test_gather_out_of_range(oracle):
    def build(tf):
        p = tf.placeholder(tf.float32, [5, 2])
        i = tf.placeholder(tf.int32, [2])
        return tf.gather(p, i), {p: np.zeros((5, 2), np.float32), i: np.array([1, 7], np.int32)}
    g, t = oracle.error(build)
    assert "indices[1] = 7 is not in [0, 5)" in str(g)


def test_concat_rank_mismatch(oracle):
    def build(tf):
        a = tf.placeholder(tf.float32, [2, 3])
        b = tf.placeholder(tf.float32, [2, 4])
        return tf.concat([a, b], 0), {}
    g, _ = oracle.error(build, at="build")
    assert isinstance(g, ValueError)


def test_slice_index_out_of_range(oracle):
    def build(tf):
        p = tf.placeholder(tf.float32, [3, 2])
        return p[5], {}
    g, _ = oracle.error(build, at="build")
    assert isinstance(g, ValueError)


def test_default_names(oracle):
    import graphflow as gf

    def build(tf):
        p = tf.placeholder(tf.float32, [2, 3])
        outs = [tf.reshape(p, [-1]), tf.cast(p, tf.int32), tf.gather(p, [0]),
                tf.concat([p, p], 0), tf.stack([p, p]), tf.transpose(p), tf.zeros([2]),
                tf.ones([2]), tf.zeros_like(p), tf.expand_dims(p, 0), tf.squeeze(p)]
        return [(t.op.name, t.op.type) for t in outs]
    assert oracle.build(gf, build)[1] == oracle.build(oracle.tf1, build)[1]
