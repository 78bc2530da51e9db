"""Error bounds and special values of kernels/fastmath.py (float32 exp/log/tanh/sigmoid).

Truth is NumPy in float64 (about 2**-52 relative, i.e. exact at float32 ulp
scale). The sweeps sample 10M float32 bit patterns evenly over each domain and
run through the generated elementwise kernels the ops use (``fexp`` etc.).
"""
import numpy as np
import pytest
from numba import njit

from graphflow.kernels.elementwise import make_elementwise
from graphflow.kernels.scalar import fexp, flog, fsigmoid, ftanh

# Stated bounds (module docstring of graphflow/kernels/fastmath.py).
ULP_BOUND = {"exp": 1.5, "log": 1.5, "tanh": 2.0, "sigmoid": 3.0}
EXPR = {"exp": "fexp({0})", "log": "flog({0})", "tanh": "ftanh({0})",
        "sigmoid": "fsigmoid({0})"}


def _exact(name, x):
    x = x.astype(np.float64)
    with np.errstate(all="ignore"):
        if name == "exp":
            return np.exp(x)
        if name == "log":
            return np.log(x)
        if name == "tanh":
            return np.tanh(x)
        return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


def _run(name, x):
    return make_elementwise(EXPR[name], np.float32)(x)


def ulp_error(got, exact):
    """|got - exact| in units of the float32 ulp at ``exact`` (2**-149 for subnormals)."""
    _, e = np.frexp(exact)
    ulp = np.maximum(np.ldexp(1.0, e - 24), 2.0 ** -149)
    return np.abs(got.astype(np.float64) - exact) / ulp


def _sweep(lo, hi, n=10_000_000):
    """About ``n`` float32 values spread evenly over the bit patterns of [lo, hi]."""
    def key(v):  # monotone map float32 -> integer order
        i = np.float32(v).view(np.int32).astype(np.int64)
        return i if i >= 0 else -(i & 0x7FFFFFFF)
    k = np.linspace(key(lo), key(hi), n).astype(np.int64)  # sorted
    k = k[np.r_[True, k[1:] != k[:-1]]]
    bits = np.where(k >= 0, k, (-k) | 0x80000000).astype(np.uint32)
    return bits.view(np.float32)


DOMAINS = {"exp": [(-88.0, 88.0), (-103.9, -87.0)],
           "log": [(1e-45, 3.4e38), (0.5, 2.0)],
           "tanh": [(-88.0, 88.0), (-1.0, 1.0), (-1e-3, 1e-3)],
           "sigmoid": [(-88.0, 88.0), (-103.9, -80.0), (-10.0, 10.0)]}


@pytest.mark.parametrize("name", sorted(EXPR))
def test_ulp_bound_over_dense_sweep(name):
    for lo, hi in DOMAINS[name]:
        x = _sweep(lo, hi)
        err = ulp_error(_run(name, x), _exact(name, x))
        worst = int(np.argmax(err))
        assert err[worst] <= ULP_BOUND[name], (name, x[worst], err[worst])


@pytest.mark.parametrize("name", sorted(EXPR))
def test_ulp_bound_on_random_values(name):
    rng = np.random.default_rng(7)
    lo, hi = DOMAINS[name][0]
    x = rng.uniform(max(lo, -88.0), min(hi, 88.0), 1_000_000).astype(np.float32)
    if name == "log":
        x = np.abs(x) + np.float32(1e-30)
    assert ulp_error(_run(name, x), _exact(name, x)).max() <= ULP_BOUND[name]


SPECIAL = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1.0, -1.0, 100.0, -100.0,
                    88.72, 88.73, -103.0, -104.0, -110.0, 1e-30, -1e-30, 1e-45, -1e-45,
                    1.1754944e-38, 9.0, -9.0, 9.5, 3.4e38, -3.4e38], np.float32)


@pytest.mark.parametrize("name", sorted(EXPR))
def test_special_values_like_numpy(name):
    got = _run(name, SPECIAL)
    with np.errstate(over="ignore"):
        want = _exact(name, SPECIAL).astype(np.float32)  # float64 truth rounded to float32
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    fin = np.isfinite(want)
    assert ulp_error(got[fin], _exact(name, SPECIAL)[fin]).max() <= ULP_BOUND[name]


def test_named_special_cases():
    f32 = np.float32
    assert _run("exp", np.array([100.0, -104.0, np.inf, -np.inf], f32)).tolist() == \
        [np.inf, 0.0, np.inf, 0.0]
    # exp(-100) is a float32 subnormal (NumPy: 3.8e-44), not 0
    assert _run("exp", np.array([-100.0], f32))[0] == np.exp(f32(-100.0)) > 0
    assert _run("tanh", np.array([np.inf, -np.inf, 20.0, -20.0], f32)).tolist() == \
        [1.0, -1.0, 1.0, -1.0]
    assert np.signbit(_run("tanh", np.array([-0.0], f32)))[0]
    tiny = np.array([1e-20, -3e-39, 1e-45], f32)
    np.testing.assert_array_equal(_run("tanh", tiny), tiny)  # tanh(x) = x below ~2**-12
    assert _run("log", np.array([0.0, -0.0, -1.0, np.inf, 1.0], f32)).tolist()[:2] == \
        [-np.inf, -np.inf]
    lg = _run("log", np.array([-1.0, np.inf, 1.0], f32))
    assert np.isnan(lg[0]) and lg[1] == np.inf and lg[2] == 0.0
    sg = _run("sigmoid", np.array([np.inf, -np.inf, 0.0, -100.0], f32))
    assert sg[0] == 1.0 and sg[1] == 0.0 and sg[2] == 0.5 and 0 < sg[3] < 1e-43
    for name in EXPR:
        assert np.isnan(_run(name, np.array([np.nan], f32)))[0]


def test_exp_overflow_and_underflow_thresholds_match_float64_rounding():
    x = np.concatenate([_sweep(88.70, 88.75, 20_000), _sweep(-104.0, -103.0, 20_000)])
    exact = _exact("exp", x)
    got = _run("exp", x)
    with np.errstate(over="ignore"):
        want = exact.astype(np.float32)
    near = np.abs(x - np.float32(88.7228394)) < 1e-5  # the last finite float may round either way
    np.testing.assert_array_equal(np.isinf(got)[~near], np.isinf(want)[~near])
    fin = np.isfinite(want) & np.isfinite(got)
    assert ulp_error(got[fin], exact[fin]).max() <= ULP_BOUND["exp"]


@pytest.mark.parametrize("name", sorted(EXPR))
def test_float64_passes_through_to_numpy(name):
    x = np.linspace(0.1, 5.0, 101)
    ref = {"exp": np.exp, "log": np.log, "tanh": np.tanh,
           "sigmoid": lambda v: 1 / (1 + np.exp(-v))}[name](x)
    # Numba's np.* calls libm, NumPy its own SIMD code: equal within 2 float64 ulp
    np.testing.assert_allclose(make_elementwise(EXPR[name], np.float64)(x), ref, rtol=4.5e-16)


def test_python_level_helpers_follow_numpy():
    assert fexp(1.0) == np.exp(1.0) and flog(2.0) == np.log(2.0)
    assert ftanh(0.5) == np.tanh(0.5) and fsigmoid(0.0) == 0.5


@njit(boundscheck=False, error_model="numpy", fastmath={"contract"})
def _chain(x, out):
    for i in range(x.size):
        out[i] = ftanh(x[i]) * fsigmoid(x[i]) + fexp(-x[i]) + flog(x[i])


def test_float32_loop_vectorizes():
    x = np.linspace(0.1, 3, 64).astype(np.float32)
    out = np.empty_like(x)
    _chain(x, out)
    ir = _chain.inspect_llvm(_chain.signatures[0])
    assert "x float>" in ir, "no SIMD float vectors: a helper stopped vectorizing"
    for libm in ("@expf", "@tanhf", "@logf"):
        assert libm not in ir
