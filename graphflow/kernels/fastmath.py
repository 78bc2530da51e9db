"""Vectorizable float32 exp, log, tanh and sigmoid for generated kernels.

Numba lowers ``np.exp`` on float32 to a libm call that LLVM cannot vectorize
(no SVML in the current llvmlite wheels), so a loop over ``np.exp`` runs one
element at a time. These functions use only arithmetic, comparisons that
become selects, and bit casts, so a loop that inlines them vectorizes
(AVX2/AVX-512). They play the role of Eigen's float kernels behind TF's CPU
``tf.exp``/``tf.tanh``/``tf.sigmoid``/``tf.log``.

Method (polynomial coefficients fitted here by linear-programming minimax on
dense Chebyshev grids against 40-digit references, then rounded to float32):

* ``exp32``: x = n*ln2 + r with n = round(x/ln2) and |r| <= ln2/2, ln2 split
  in two parts (Cody-Waite) so n*ln2_hi is exact; e^r = 1 + r + r^2*q(r) with
  a degree-4 q; the result p*2^n is scaled in two exact power-of-two steps
  built from exponent bits, so subnormal results round once and overflow
  gives inf.
* ``log32``: x = m*2^e with m in [sqrt(1/2), sqrt(2)) read from the bits;
  with f = m - 1 and s = f/(2+f), log(m) = 2*atanh(s) = f - s*(f - R(s^2)),
  R of degree 4; then e*ln2 (split) is added.
* ``tanh32``: below |x| < 0.55, x + x^3*S(x^2) with S of degree 4; above,
  sign(x)*(1 - 2/(e^(2|x|) + 1)) with the core of ``exp32`` (|x| clamped
  at 20, where the result is exactly +-1). A 13/6 rational x*P(x^2)/Q(x^2)
  (Eigen's form, behind TF's CPU tanh), refitted here, makes the W3 chain
  ~13% faster but reaches 5 ulp in float32; this form stays under 1.5 ulp.
* ``sigmoid32``: with e = exp(-|x|), 1/(1+e) for x >= 0 and e/(1+e) for x < 0,
  one division (no overflow; the left tail keeps relative accuracy down to
  subnormals, where 1/(1+exp(-x)) would give 0).

Error bounds, measured over every float32 of each domain (exp [-104, 89],
log all positive, tanh [-10, 10], sigmoid [-104, 20]) against float64 NumPy,
and asserted on 10M-point sweeps in tests/kernels/test_fastmath.py: exp <= 1.5
ulp, log <= 1.5 ulp, tanh <= 2 ulp, sigmoid <= 3 ulp (measured maxima 1.01,
0.95, 1.47, 2.41). inf/nan/overflow/underflow match NumPy: exp(100) = inf,
exp(-104) = 0 (exp(-100) is the subnormal 3.8e-44, as in NumPy),
tanh(+-inf) = +-1, tanh(-0.0) = -0.0, log(0) = -inf, log(-1) = nan,
f(nan) = nan. Kernels must be compiled with fastmath={'contract'} at most
(reassociation breaks the Cody-Waite split; nnan/ninf break the selects).
"""
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["exp32", "log32", "tanh32", "sigmoid32"]

F = np.float32
_ONE = F(1.0)
_HALF = F(0.5)
_TWO = F(2.0)
_INF = F(np.inf)
_NAN = F(np.nan)

# exp
_LOG2E = F(1.44269504)
_LN2_HI = F(0.693359375)  # 9 significant bits: n * _LN2_HI is exact for |n| < 2**15
_LN2_LO = F(-0.000212194442)  # ln2 - _LN2_HI
_EXP_HI = F(100.0)  # exp overflows above ~88.72; clamping keeps n in the 2-step range
_EXP_LO = F(-110.0)  # exp underflows to 0 below ~-103.97
_E2, _E3, _E4, _E5, _E6 = (F(0.49999994), F(0.166665152), F(0.0416684598),
                           F(0.00836941786), F(0.00138130668))
# log
_L1, _L2, _L3, _L4 = F(0.666666627), F(0.400003463), F(0.285366029), F(0.235963315)
_TINY = F(2.0 ** -126)  # smallest normal float32
_TWO23 = F(2.0 ** 23)
_MINUS_INF = F(-np.inf)
_23 = F(23.0)
# tanh: x + x^3*S(x^2) below _TANH_SMALL, 1 - 2/(e^2|x| + 1) above
_TANH_SMALL = F(0.55)
_TANH_ONE = F(20.0)  # tanh rounds to +-1 beyond ~9.01
_S0, _S1, _S2, _S3, _S4 = (F(-0.333333194), F(0.133326024), F(-0.0538538583),
                           F(0.0210777577), F(-0.00628247298))


@intrinsic
def _select(typingctx, cond, a, b):
    """``a if cond else b`` as one LLVM select (no branch, so no phi in Numba's IR)."""
    sig = types.float32(types.boolean, types.float32, types.float32)

    def codegen(context, builder, signature, args):
        return builder.select(args[0], args[1], args[2])
    return sig, codegen


@intrinsic
def _times_pow2(typingctx, p, n):
    """p * 2**n for float32 p and an integral float32 n in [-252, 254].

    Two multiplications by normal powers of two (exponent bits built with
    integer shifts), so a subnormal result is rounded only once.
    """
    sig = types.float32(types.float32, types.float32)

    def codegen(context, builder, signature, args):
        pv, nv = args
        i32 = ir.IntType(32)
        ni = builder.fptosi(nv, i32)
        n1 = builder.ashr(ni, ir.Constant(i32, 1))
        n2 = builder.sub(ni, n1)

        def pow2(k):
            bits = builder.shl(builder.add(k, ir.Constant(i32, 127)), ir.Constant(i32, 23))
            return builder.bitcast(bits, ir.FloatType())
        return builder.fmul(builder.fmul(pv, pow2(n1)), pow2(n2))
    return sig, codegen


@intrinsic
def _split_sqrt2(typingctx, x):
    """(m, e) with x = m * 2**e and m in [sqrt(1/2), sqrt(2)), for normal x > 0.

    Adding (bits(1.0) - bits(sqrt(1/2))) to the bits carries into the exponent
    exactly when the mantissa is >= sqrt(2); the low 23 bits then re-based on
    sqrt(1/2) give m.
    """
    sig = types.UniTuple(types.float32, 2)(types.float32)

    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        base = 0x3F3504F3  # bits of float32 sqrt(1/2)
        k = builder.add(builder.bitcast(args[0], i32), ir.Constant(i32, 0x3F800000 - base))
        e = builder.sub(builder.ashr(k, ir.Constant(i32, 23)), ir.Constant(i32, 127))
        mbits = builder.add(builder.and_(k, ir.Constant(i32, 0x7FFFFF)), ir.Constant(i32, base))
        m = builder.bitcast(mbits, ir.FloatType())
        ef = builder.sitofp(e, ir.FloatType())
        return context.make_tuple(builder, signature.return_type, (m, ef))
    return sig, codegen


@njit(inline="always")
def _exp_finite(xc):
    """e**xc for a non-nan float32 xc in [_EXP_LO, _EXP_HI]."""
    n = np.floor(xc * _LOG2E + _HALF)
    r = xc - n * _LN2_HI
    r = r - n * _LN2_LO
    q = _E2 + r * (_E3 + r * (_E4 + r * (_E5 + r * _E6)))
    p = _ONE + (r + (r * r) * q)
    return _times_pow2(p, n)


@njit(inline="always")
def exp32(x):
    """float32 e**x, <= 1.5 ulp; inf above ~88.72, 0 below ~-103.97, nan -> nan."""
    xc = _select(x < _EXP_HI, x, _EXP_HI)  # nan -> _EXP_HI, fixed by the last select
    xc = _select(xc > _EXP_LO, xc, _EXP_LO)
    return _select(x == x, _exp_finite(xc), x)


@njit(inline="always")
def log32(x):
    """float32 natural log, <= 1.5 ulp; log(0) = -inf, log(<0) = nan, log(inf) = inf."""
    sub = x < _TINY
    xs = _select(sub, x * _TWO23, x)
    m, e = _split_sqrt2(xs)
    e = _select(sub, e - _23, e)
    f = m - _ONE
    s = f / (_TWO + f)
    z = s * s
    rz = z * (_L1 + z * (_L2 + z * (_L3 + z * _L4)))
    lm = f - s * (f - rz)
    y = e * _LN2_HI + (lm + e * _LN2_LO)
    y = _select(x == 0, _MINUS_INF, y)
    y = _select(x < 0, _NAN, y)
    return _select(x < _INF, y, x)  # inf -> inf, nan -> nan


@njit(inline="always")
def tanh32(x):
    """float32 tanh, <= 2 ulp; tiny x -> x, +-inf -> +-1, nan -> nan."""
    z = x * x
    small = x + x * (z * (_S0 + z * (_S1 + z * (_S2 + z * (_S3 + z * _S4)))))
    small = _select(z != 0, small, x)  # keeps -0.0 (and subnormal x) exactly
    ax = abs(x)
    e = _exp_finite(_select(ax < _TANH_ONE, ax + ax, _TANH_ONE + _TANH_ONE))  # nan: below
    big = _ONE - _TWO / (e + _ONE)
    big = _select(x > 0, big, -big)
    return _select(ax < _TANH_SMALL, small, _select(ax == ax, big, x))


@njit(inline="always")
def sigmoid32(x):
    """float32 1/(1+e**-x), <= 3 ulp relative down to the subnormal tail; nan -> nan."""
    e = exp32(-abs(x))  # nan stays nan through e
    return _select(x < 0, e, _ONE) / (_ONE + e)
