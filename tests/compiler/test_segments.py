"""Segments (compiler/segments.py): runs of small steps compiled into one njit function.

Checked against the same graph run step by step (segments off: the same bits),
NumPy, and the errors the steps give on their own.
"""
import os
import textwrap
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphflow as tf
from graphflow.compiler import segments
from graphflow.compiler.options import CompileOptions
from graphflow.errors import InvalidArgumentError
from graphflow.runtime import executor
from compiler_util import run_twice
from test_equivalence import build, programs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _session(graph, **opts):
    opts.setdefault("segment_min_steps", 8)
    cfg = tf.ConfigProto(graph_options=tf.GraphOptions(compile_options=CompileOptions(**opts)))
    return tf.Session(graph=graph, config=cfg)


def _prepared(sess):
    plans = list(sess._plans.values())
    return executor.prepared(plans[-1])


def _matmul_chain(n, seed=0, scale_first=False):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (16, 16)).astype(np.float32)
    ws = [(rng.normal(size=(16, 16)) / 4).astype(np.float32) for _ in range(n)]
    g = tf.Graph()
    with g.as_default():
        xin = tf.placeholder(tf.float32, [16, 16], name="x")
        h = xin * 0.5 if scale_first else xin
        for w in ws:
            h = tf.tanh(tf.matmul(h, tf.constant(w)))
    expect = x * np.float32(0.5) if scale_first else x
    for w in ws:
        expect = np.tanh(expect @ w)
    return g, xin, h, x, expect


def test_matmul_tanh_chain_runs_as_segments_with_the_same_bits():
    g, xin, h, x, expect = _matmul_chain(60)
    with _session(g, segments=False) as off, _session(g) as on:
        ref = [off.run(h, {xin: x}) for _ in range(3)]
        got = [on.run(h, {xin: x}) for _ in range(3)]
        p = _prepared(on)
        assert _prepared(off).tier.status == "off" and _prepared(off).fast is None
    assert p.tier.status == "ready"
    assert p.tier.steps_covered == 120  # every MatMul and Tanh step
    kinds = [getattr(st[6], "type", None) for st in p.fast]
    assert set(kinds) == {"JitSegment"}
    for r, s in zip(ref, got):
        np.testing.assert_array_equal(s, r)
    np.testing.assert_allclose(got[-1], expect, rtol=1e-5, atol=1e-6)


def test_values_read_again_are_not_overwritten_in_place():
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, (16, 16)).astype(np.float32)
    ws = [(rng.normal(size=(16, 16)) / 4).astype(np.float32) for _ in range(12)]
    g = tf.Graph()
    with g.as_default():
        xin = tf.placeholder(tf.float32, [16, 16], name="x")
        h = xin
        for w in ws:  # tanh may not write into m: the sum reads m again
            m = tf.matmul(h, tf.constant(w))
            h = tf.identity(tf.tanh(m)) * 0.5 + m * 0.25
    expect = x
    for w in ws:
        m = expect @ w
        expect = np.tanh(m) * np.float32(0.5) + m * np.float32(0.25)
    for fuse in (True, False):
        with _session(g, segments=False, fuse=fuse) as off, _session(g, fuse=fuse) as on:
            ref = off.run(h, {xin: x})
            got = [on.run(h, {xin: x}) for _ in range(3)]
            assert _prepared(on).tier.status == "ready"
        for o in got:
            np.testing.assert_array_equal(o, ref)
        np.testing.assert_allclose(ref, expect, rtol=1e-5, atol=1e-6)


def test_structurally_equal_pieces_share_one_compiled_function():
    g, xin, h, x, _ = _matmul_chain(200, seed=1)
    with _session(g) as s:
        for _ in range(2):
            s.run(h, {xin: x})
        p = _prepared(s)
    fns = [st[1].gf_segment[0] for st in p.fast if isinstance(st[6], segments.Segment)]
    assert len(fns) >= 8
    assert len({id(f) for f in fns}) <= 3  # first piece, the repeated middle, the tail


def _tanh_chain_grads(n, seed=2):
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(-1, 1, 100).astype(np.float32)
    w0 = rng.uniform(-0.2, 0.4, n).astype(np.float32)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [100], name="x")
        ws = [tf.Variable(w0[i], name="w%d" % i) for i in range(n)]
        h = x
        for w in ws:
            h = tf.tanh(h * w + h)
        loss = tf.reduce_sum(h)
        grads = tf.gradients(loss, ws)
        init = tf.global_variables_initializer()
    return g, x, x0, w0, [loss] + grads, init


def _numpy_chain(x0, w0):
    hs = [x0.astype(np.float64)]
    for w in w0:
        hs.append(np.tanh(hs[-1] * w + hs[-1]))
    g = np.ones_like(hs[-1])
    grads = []
    for i in range(len(w0) - 1, -1, -1):
        d = g * (1 - hs[i + 1] ** 2)
        grads.append(np.sum(d * hs[i]))
        g = d * (w0[i] + 1)
    return [hs[-1].sum()] + grads[::-1]


@pytest.mark.parametrize("fuse", [True, False])
def test_chain_gradients_with_variable_reads_match_steps_and_numpy(fuse):
    g, x, x0, w0, fetches, init = _tanh_chain_grads(40)
    with _session(g, segments=False, fuse=fuse) as off, _session(g, fuse=fuse) as on:
        off.run(init)
        on.run(init)
        ref = off.run(fetches, {x: x0})
        got = [on.run(fetches, {x: x0}) for _ in range(3)][-1]
        p = _prepared(on)
    assert p.tier.status == "ready" and p.tier.segments >= 1
    # variable reads stay steps, moved in front of the segment that uses them
    assert any(getattr(st[6], "type", None) == "Identity" for st in p.fast)
    for a, b in zip(got, ref):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(got, _numpy_chain(x0, w0), rtol=2e-4, atol=1e-5)


def test_an_input_of_another_shape_gives_the_steps_error():
    g, xin, h, x, _ = _matmul_chain(12)
    with _session(g) as s:
        for _ in range(2):
            s.run(h, {xin: x})
        p = _prepared(s)
    st = next(st for st in p.fast if isinstance(st[6], segments.Segment))
    vals = p.template.copy()
    args = [vals[i] for i in st[2]]
    args[0] = np.ones((3, 5), np.float32)  # the fed x, not 16x16
    with pytest.raises(InvalidArgumentError) as e:
        st[1](*args)
    assert "Matrix size-incompatible" in str(e.value)
    assert "MatMul" in str(e.value)  # names the failing op, not the segment


def test_a_strided_input_falls_back_to_the_steps_for_good():
    g, xin, h, x, expect = _matmul_chain(12, scale_first=True)  # x goes to an elementwise op
    with _session(g) as s:
        for _ in range(2):
            s.run(h, {xin: x})
        p = _prepared(s)
    st = next(st for st in p.fast if isinstance(st[6], segments.Segment))
    args = [p.template[i] for i in st[2]]
    big = np.zeros((16, 32), np.float32)
    big[:, ::2] = x
    args[0] = big[:, ::2]  # same values, not contiguous: Numba cannot take it as planned
    out = st[1](*args)
    assert st[1].gf_segment[0] is None  # turned off: steps from now on
    args[0] = x
    np.testing.assert_array_equal(out, st[1](*args))


def test_a_read_only_feed_compiles_once_more_and_keeps_the_segments():
    g, xin, h, x, expect = _matmul_chain(40)
    ro = x.copy()
    ro.flags.writeable = False
    with _session(g) as s:
        outs = [s.run(h, {xin: v}) for v in (x, x, ro, ro, x)]
        p = _prepared(s)
    segs = [st for st in p.fast if isinstance(st[6], segments.Segment)]
    assert all(st[1].gf_segment[0] is not None for st in segs)
    first = next(st for st in segs if p.feed_slots[0] in st[2])
    assert len(first[1].gf_segment[0].overloads) == 2  # writable and read-only x
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])
    np.testing.assert_allclose(outs[0], expect, rtol=1e-5, atol=1e-6)


def test_a_failing_segment_compiler_leaves_the_run_alone(monkeypatch):
    def broken(step):
        raise RuntimeError("jit_call broke")
    monkeypatch.setattr(segments, "jit_call", broken)
    g, xin, h, x, expect = _matmul_chain(40)
    with _session(g) as s:
        outs = [s.run(h, {xin: x}) for _ in range(3)]
        p = _prepared(s)
    assert p.tier.status.startswith("failed: RuntimeError") and p.fast is None
    for o in outs:
        np.testing.assert_allclose(o, expect, rtol=1e-5, atol=1e-6)


def test_small_plans_and_the_off_switches_compile_nothing(monkeypatch):
    g, xin, h, x, _ = _matmul_chain(3)
    with _session(g, segment_min_steps=64) as s:
        for _ in range(3):
            s.run(h, {xin: x})
        assert _prepared(s).tier.status == "none"
    monkeypatch.setenv("GRAPHFLOW_PASSES", "-segments")
    g, xin, h, x, _ = _matmul_chain(40)
    with tf.Session(graph=g) as s:
        for _ in range(3):
            s.run(h, {xin: x})
        assert _prepared(s).tier.status == "off"


def test_background_compilation_serves_runs_meanwhile():
    g, xin, h, x, expect = _matmul_chain(50, seed=3)
    with _session(g, segments_background=True) as s:
        outs = [s.run(h, {xin: x}) for _ in range(3)]
        p = _prepared(s)
        t0 = time.monotonic()
        while p.fast is None and time.monotonic() - t0 < 120:
            outs.append(s.run(h, {xin: x}))
        assert p.tier.status == "ready"
        outs.append(s.run(h, {xin: x}))
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])
    np.testing.assert_allclose(outs[0], expect, rtol=1e-5, atol=1e-6)


def test_threads_running_the_plan_across_the_compiling_run_agree():
    import threading
    g, xin, h, x, expect = _matmul_chain(40, seed=4)
    with _session(g, segments=False) as off:
        ref = off.run(h, {xin: x})
    outs, errors = [], []
    with _session(g) as s:
        def work():
            try:
                for _ in range(5):
                    outs.append(s.run(h, {xin: x}))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert _prepared(s).tier.status == "ready"
    assert not errors and len(outs) == 40
    for o in outs:
        np.testing.assert_array_equal(o, ref)


_CACHE_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, %r)
    sys.path.insert(0, %r)
    import numpy as np
    import graphflow as tf
    from graphflow.compiler import segments
    from test_segments import _matmul_chain, _session, _prepared
    g, xin, h, x, _ = _matmul_chain(30)
    with _session(g) as s:
        out = [s.run(h, {xin: x}) for _ in range(2)][-1]
        p = _prepared(s)
    fns = {id(st[1].gf_segment[0]): st[1].gf_segment[0] for st in p.fast
           if isinstance(st[6], segments.Segment)}
    hits = sum(sum(f.stats.cache_hits.values()) for f in fns.values())
    misses = sum(sum(f.stats.cache_misses.values()) for f in fns.values())
    print("RESULT", len(fns), hits, misses, float(out.sum()))
""")


@pytest.mark.slow
def test_second_process_loads_segments_from_disk(tmp_path):
    script = _CACHE_SCRIPT % (ROOT, os.path.dirname(os.path.abspath(__file__)))
    runs = [(int(n), int(h), int(m), float(t)) for n, h, m, t in run_twice(script, tmp_path)]
    (n1, h1, m1, t1), (n2, h2, m2, t2) = runs
    assert n1 >= 1 and m1 >= 1        # the first process compiled its segments
    assert n2 == n1 and m2 == 0 and h2 >= 1  # the second loaded them from disk
    assert t1 == t2


def test_the_segments_example_in_compiler_md_prints_what_the_doc_shows(capsys):
    text = open(os.path.join(ROOT, "docs", "compiler.md")).read()
    tail = text[text.index("of small steps shows what they do:"):]
    blocks = tail.split("```")
    code = blocks[1][len("python\n"):]
    expected = blocks[3].strip("\n")
    with tf.Graph().as_default():
        exec(compile(code, "compiler.md", "exec"), {})
    got = capsys.readouterr().out.strip("\n")
    assert [ln.rstrip() for ln in got.splitlines()] == expected.splitlines()



@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(prog=programs(), dtype=st.sampled_from([tf.float32, tf.float64]),
       fuse=st.booleans())
def test_random_programs_give_the_same_bits_in_segments(prog, dtype, fuse):
    """Random DAGs of elementwise (broadcasting), matmul and reduction ops, compiled
    into segments from the first run, equal the step-by-step run bit for bit."""
    outs = []
    for on in (False, True):
        with tf.Graph().as_default() as g:
            fetches, feeds, _ = build(prog, dtype)
            with _session(g, segments=on, fuse=fuse, segment_min_steps=1,
                          segment_after_runs=1) as s:
                outs.append([s.run(fetches, feeds) for _ in range(2)])
    for run_off, run_on in zip(*outs):
        for a, b in zip(run_off, run_on):
            np.testing.assert_array_equal(np.asarray(b), np.asarray(a))
