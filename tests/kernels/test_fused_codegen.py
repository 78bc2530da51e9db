"""The fused elementwise generator (kernels/codegen.py) and its launcher
(kernels/elementwise.py): random DAGs with broadcasting against NumPy, one
compiled kernel per structure, and the on-disk cache across processes."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from graphflow.errors import KernelError
from graphflow.kernels import codegen
from graphflow.kernels.codegen import canonical_group, fused_kernel, group_source
from graphflow.kernels.elementwise import FusedLauncher, collapse

# (template, arity, NumPy reference); inputs stay bounded so nothing overflows.
OPS = [
    ("{0} + {1}", 2, np.add),
    ("{0} - {1}", 2, np.subtract),
    ("{0} * {1}", 2, np.multiply),
    ("-{0}", 1, np.negative),
    ("ftanh({0})", 1, np.tanh),
    ("fsigmoid({0})", 1, lambda x: 1 / (1 + np.exp(-x))),
    ("fexp(-({0} * {0}))", 1, lambda x: np.exp(-x * x)),
    ("flog(T(1) + {0} * {0})", 1, lambda x: np.log1p(x * x)),
    ("{0} if {0} > {1} else {1}", 2, np.maximum),
]
OUT_SHAPE = (3, 4, 5)
IN_SHAPES = [(3, 4, 5), (), (5,), (4, 1), (3, 1, 5), (1,), (1, 4, 5), (3, 1, 1)]

W3 = [("{0} * {1}", (0, 1)), ("{0} + {1}", (3, 2)), ("ftanh({0})", (4,)),
      ("fsigmoid({0})", (0,)), ("{0} * {1}", (5, 6)), ("{0} * {1}", (0, 0)), ("-{0}", (8,)),
      ("fexp({0})", (9,)), ("{0} + {1}", (7, 10))]


def w3_numpy(x, a, b):
    return np.tanh(x * a + b) / (1 + np.exp(-x)) + np.exp(-x * x)


def random_group(rng):
    """A random DAG: (nodes, n_inputs, outputs, numpy evaluator)."""
    k = int(rng.integers(1, 5))
    nodes, vals = [], list(range(k))
    for _ in range(int(rng.integers(1, 9))):
        tmpl, arity, _ = OPS[int(rng.integers(len(OPS)))]
        refs = tuple(int(rng.choice(vals[-4:] if rng.random() < 0.7 else vals))
                     for _ in range(arity))
        nodes.append((tmpl, refs))
        vals.append(k + len(nodes) - 1)
    outs = sorted(set([vals[-1]] + [int(v) for v in rng.choice(vals, int(rng.integers(0, 3)))]))

    def evaluate(xs):
        env = list(xs)
        for tmpl, refs in nodes:
            ref = next(f for t, _, f in OPS if t == tmpl)
            env.append(ref(*[env[r] for r in refs]))
        return [np.broadcast_to(env[o], OUT_SHAPE) for o in outs]
    return nodes, k, outs, evaluate


@pytest.mark.parametrize("seed", range(16))
def test_random_dag_with_broadcasting_equals_numpy(seed):
    rng = np.random.default_rng(seed)
    nodes, k, outs, evaluate = random_group(rng)
    shapes = [OUT_SHAPE] + [IN_SHAPES[int(i)] for i in rng.integers(0, len(IN_SHAPES), k - 1)]
    rng.shuffle(shapes)
    xs64 = [rng.uniform(-2, 2, s) for s in shapes]
    want = evaluate(xs64)
    for dt, tol in ((np.float64, 1e-12), (np.float32, 3e-6)):
        xs = [x.astype(dt) for x in xs64]
        fl = FusedLauncher(nodes, k, outs, dt, [dt] * len(outs))
        for parallel in (False, True):
            b = fl.bind([x.shape for x in xs], parallel=parallel)
            got = [np.empty(OUT_SHAPE, dt) for _ in outs]
            b.kernel(*[xs[p].ravel() for p in b.in_order],
                     *[got[q].reshape(-1) for q in b.out_order], *b.extra)
            for g, w in zip(got, want):
                np.testing.assert_allclose(g, w, rtol=tol, atol=tol)
        for g, w in zip(fl(*xs), want):  # the default (size-chosen) variant
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


def test_w3_chain_float32():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(10_001).astype(np.float32)
    a, b = np.array(0.7, np.float32), np.array(-0.2, np.float32)
    fl = FusedLauncher(W3, 3, [11], np.float32, [np.float32])
    got, = fl(x, a, b)
    np.testing.assert_allclose(got, w3_numpy(x.astype(np.float64), 0.7, -0.2), atol=1e-6)


def test_kernel_reads_each_input_once_and_writes_each_output_once():
    nodes, pats, outs, _, _ = canonical_group(W3, "fss", [11, 7])
    src = group_source(nodes, pats, outs, "float32")
    for i in range(3):
        assert src.count("x%d[" % i) == 1
    assert src.count("out0[") == 1 and src.count("out1[") == 1
    assert "prange" not in src.split("def kernel")[1]
    assert "for i in prange(n)" in group_source(nodes, pats, outs, "float32", parallel=True)


def test_broadcast_reads_are_unit_stride_or_invariant():
    fl = FusedLauncher([("{0} * {1} + {2}", (0, 1, 2))], 3, [3], np.float32, [np.float32])
    b = fl.bind([(4, 6, 5), (6, 5), (4, 6, 1)])
    assert b.kernel.gf_key == fused_kernel([("{0} * {1} + {2}", (0, 1, 2))], "fbc", [3],
                                           "float32").key
    shape, st_row, st_col = b.extra
    assert shape.tolist() == [4, 6, 5]
    assert st_row.tolist() == [0, 5, 1] and st_col.tolist() == [6, 1, 0]
    nodes, pats, outs, _, _ = canonical_group([("{0} * {1} + {2}", (0, 1, 2))], "fbc", [3])
    src = group_source(nodes, pats, outs, "float32")
    assert "x1[u1 + j]" in src and "x2[u2]" in src
    # row offsets are unsigned: a signed base + j keeps Numba's wraparound test
    # in the inner loop, which stops it from vectorizing
    assert "u1 = np.uint64(o1)" in src and "base = np.uint64(r * inner)" in src


@pytest.mark.parametrize("shapes", [[(4, 6, 5), (6, 5)], [(30,), (30,)], [(7, 3), ()]])
def test_inplace_variant_writes_into_its_input(shapes):
    """``inplace=(j, q)``: the kernel takes no array for output q and writes it
    into input j (same values as the out-of-place kernel, numpy as truth)."""
    rng = np.random.default_rng(11)
    xs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    want = np.tanh(xs[0] * 2.0 + xs[1])
    nodes = [("{0} * T(2)", (0,)), ("{0} + {1}", (2, 1)), ("ftanh({0})", (3,))]
    fl = FusedLauncher(nodes, 2, [4], np.float32, [np.float32])
    b = fl.bind(shapes, inplace=(0, 0))
    assert b.inplace
    x0 = xs[0].copy()
    b.kernel(*[(x0 if p == 0 else xs[p]).ravel() for p in b.in_order], *b.extra)
    np.testing.assert_allclose(x0, want, rtol=2e-6, atol=2e-6)
    src = group_source(*canonical_group(nodes, "f" + ("f" if len(shapes[1]) == 1 else
                                                       "s" if not shapes[1] else "b"),
                                        [4])[:3], "float32", inplace=(0, 0))
    assert "out0" not in src and "x0[i] = " in src
    with pytest.raises(ValueError, match="pattern"):
        group_source(*canonical_group(nodes, "sf", [4])[:3], "float32", inplace=(0, 0))


def test_inplace_request_on_an_unused_input_binds_the_normal_kernel():
    fl = FusedLauncher([("{0} * T(3)", (1,))], 2, [2], np.float32, [np.float32])
    b = fl.bind([(5,), (5,)], inplace=(0, 0))
    assert not b.inplace  # input 0 is not read: nothing to write into


def _permuted_w3():
    """W3 with inputs renumbered (b, x, a), nodes in another topological order."""
    # inputs: 0 = b, 1 = x, 2 = a; nodes numbered from 3
    return [("{0} * {1}", (1, 1)),     # 3: x*x
            ("-{0}", (3,)),            # 4
            ("fexp({0})", (4,)),       # 5
            ("fsigmoid({0})", (1,)),   # 6
            ("{0} * {1}", (1, 2)),     # 7: x*a
            ("{0} + {1}", (7, 0)),     # 8: + b
            ("ftanh({0})", (8,)),      # 9
            ("{0} * {1}", (9, 6)),     # 10
            ("{0} + {1}", (10, 5))]    # 11


def test_structurally_identical_groups_share_one_kernel():
    k1 = fused_kernel(W3, "fss", [11], "float32")
    k2 = fused_kernel(_permuted_w3(), "sfs", [11], "float32")
    assert k1.kernel is k2.kernel and k1.key == k2.key
    assert k2.in_order == (1, 2, 0)  # canonical (x, a, b) from the caller's (b, x, a)
    # a different structure (swapped operands of a subtraction) gets its own kernel
    k3 = fused_kernel([("{0} - {1}", (0, 1))], "ff", [2], "float32")
    k4 = fused_kernel([("{0} - {1}", (1, 0))], "ff", [2], "float32")
    assert k3.kernel is k4.kernel and k4.in_order == (1, 0)
    k5 = fused_kernel([("{0} - {1}", (0, 0))], "f", [1], "float32")
    assert k5.key != k3.key


def test_output_order_and_duplicate_nodes_are_canonical():
    # the same two outputs listed in either order, one copy with a duplicated node
    a = [("ftanh({0})", (0,)), ("fexp({0})", (0,))]
    b = [("fexp({0})", (0,)), ("ftanh({0})", (0,)), ("fexp({0})", (0,))]
    ka = fused_kernel(a, "f", [1, 2], "float64")
    kb = fused_kernel(b, "f", [2, 3], "float64")
    assert ka.kernel is kb.kernel
    x = np.linspace(-1, 1, 7)
    for nodes, outs in ((a, [1, 2]), (b, [2, 3])):
        got = FusedLauncher(nodes, 1, outs, np.float64, [np.float64] * 2)(x)
        np.testing.assert_allclose(got[0], np.tanh(x))
        np.testing.assert_allclose(got[1], np.exp(x))


def test_output_may_be_an_input_and_unused_inputs_are_dropped():
    fl = FusedLauncher([("{0} * T(2)", (1,))], 3, [3, 0], np.float32, [np.float32] * 2)
    x, y, z = (np.arange(4, dtype=np.float32) + i for i in range(3))
    twice, same = fl(x, y, z)
    np.testing.assert_array_equal(twice, 2 * y)
    np.testing.assert_array_equal(same, x)
    assert sorted(fl.bind([x.shape] * 3).in_order) == [0, 1]


def test_bad_groups_raise():
    with pytest.raises(ValueError, match="unknown value"):
        canonical_group([("{0}", (5,))], "f", [1])
    with pytest.raises(ValueError, match="cycle"):
        canonical_group([("{0}", (2,)), ("{0}", (1,))], "f", [2])


def test_collapse_merges_dimensions_that_broadcast_alike():
    shape, (st,) = collapse((2, 3, 4, 5), [np.array([0, 0, 5, 1])])
    assert shape.tolist() == [6, 20] and st.tolist() == [0, 1]
    shape, (s1, s2) = collapse((2, 1, 3, 4), [np.array([0, 0, 4, 1]), np.array([1, 0, 0, 0])])
    assert shape.tolist() == [2, 12] and s1.tolist() == [0, 1] and s2.tolist() == [1, 0]


def test_empty_and_incompatible_shapes():
    fl = FusedLauncher([("{0} + {1}", (0, 1))], 2, [2], np.float32, [np.float32])
    out, = fl(np.zeros((0, 3), np.float32), np.zeros(3, np.float32))
    assert out.shape == (0, 3)
    with pytest.raises(KernelError, match=r"Incompatible shapes: \[2\] vs. \[3\]"):
        fl(np.zeros(2, np.float32), np.zeros(3, np.float32))


SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    sys.path.insert(0, %(root)r)
    from graphflow.kernels.codegen import fused_kernel
    W3 = %(w3)r
    perm = %(perm)r
    out = {}
    for name, nodes, pats in (("w3", W3, "fss"), ("perm", perm, "sfs")):
        for par in (False, True):
            fk = fused_kernel(nodes, pats, [11], "float32", parallel=par)
            x = np.linspace(-3, 3, 1000, dtype=np.float32)
            a = np.array([0.5], np.float32)
            b = np.array([0.25], np.float32)
            y = np.empty_like(x)
            fk.kernel(x, a, b, y)
            st = fk.kernel.stats
            out["%%s-%%s" %% (name, par)] = [sum(st.cache_hits.values()),
                                           sum(st.cache_misses.values()), fk.key]
    print(json.dumps(out))
""")


@pytest.mark.slow
def test_second_process_compiles_nothing(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    src = SCRIPT % {"root": root, "w3": W3, "perm": _permuted_w3()}
    env = dict(os.environ, GRAPHFLOW_CACHE_DIR=str(tmp_path))

    def run():
        p = subprocess.run([sys.executable, "-c", src], env=env, capture_output=True,
                           text=True, timeout=600)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout.strip().splitlines()[-1])
    first, second = run(), run()
    for par in ("False", "True"):
        hits, misses, key = first["w3-" + par]
        assert misses == 1 and hits == 0
        assert first["perm-" + par][2] == key  # same kernel, already compiled in-process
        hits, misses, _ = second["w3-" + par]
        assert hits == 1 and misses == 0, second
    kdir = tmp_path / os.path.basename(codegen.cache_dir())
    assert len(list(kdir.glob("gf_*.py"))) == 2  # serial + parallel, shared by both groups
