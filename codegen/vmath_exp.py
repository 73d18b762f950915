"""Branch-free exp, expm1, tanh and logistic bodies for `codegen.vmath` (float and double).

Shared scheme (Cody-Waite + minimax polynomial): k = rint(x/ln2), r = x - k*ln2 with ln2 split in two parts and
the products fused (`fma`), so |r| <= ln2/2 carries only the last rounding; expm1(r) = r + r^2 * P(r);
exp(x) = 2^k * (1 + expm1(r)), with 2^k applied as two normal factors so that results that overflow, underflow
gradually to denormals or flush to zero round only once.

P's coefficients come from a Remez exchange (mpmath, 60 digits) minimizing the absolute error of
P(r) ~ (expm1(r) - r) / r^2 on [-ln2/2, ln2/2]:
- float, degree 5: |error| <= 1.35e-9, i.e. <= 2^-32 relative in exp after the r^2 factor (the degree Cephes
  expf uses);
- double, degree 10: |error| <= 1.36e-18, <= 2^-62 relative in exp.
"""
from __future__ import annotations

from codegen.vmath_emit import MathBuilder, Val

LOG2E = 1.4426950408889634

# ln2 = LN2_HI + LN2_LO; LN2_HI has few significant bits, so k*LN2_HI is exact for every k the clamps allow
# (Cephes expf's split for float, fdlibm's for double).
_LN2_SPLIT = {False: (0.693359375, -2.12194440e-4),
              True: (6.93147180369123816490e-01, 1.90821492927058770002e-10)}

_P_EXPM1 = {
    False: [0.00019907573930241838, 0.001393364324527942, 0.008333286021946735, 0.04166646497947452,
            0.16666666756419043, 0.5000000013461711],
    True: [2.09215809614439e-09, 2.510520701220603e-08, 2.755725293729013e-07, 2.7557255424021177e-06,
           2.4801587347313847e-05, 0.00019841269874802046, 0.0013888888888874409, 0.008333333333326141,
           0.041666666666666685, 0.1666666666666667, 0.5],
}

# exp(x) rounds to +inf above EXP_HI and to +0 below EXP_LO (float: e^-104 < 2^-150; double: e^-746 < 2^-1075).
EXP_BOUNDS = {False: (-104.0, 89.0), True: (-746.0, 710.0)}


def reduce_ln2(mb: MathBuilder, x: Val) -> tuple[Val, Val]:
    """(k, r) with x = k*ln2 + r, |r| <= ln2/2 (plus an ulp); `x` must be finite and within EXP_BOUNDS."""
    hi, lo = _LN2_SPLIT[mb.is_f64]
    k = mb.rint(mb.mul(x, LOG2E))
    r = mb.fma(mb.neg(k), hi, x)
    r = mb.fma(mb.neg(k), lo, r)
    return k, r


def expm1_reduced(mb: MathBuilder, r: Val, coeffs_f64: bool | None = None, estrin: bool = False) -> Val:
    """expm1(r) for |r| <= ln2/2: r + r^2*P(r), rounded once at the end. `coeffs_f64` picks P's accuracy
    (default: that of the builder's type); `estrin` its evaluation scheme (see `MathBuilder.poly`)."""
    p = mb.poly(r, _P_EXPM1[mb.is_f64 if coeffs_f64 is None else coeffs_f64], estrin)
    return mb.fma(mb.mul(r, r), p, r)


def exp_finite(mb: MathBuilder, x: Val, coeffs_f64: bool | None = None, estrin: bool = False) -> Val:
    """exp(x) for non-NaN x (±inf allowed): overflow, gradual underflow and flush to zero as IEEE rounds them."""
    lo, hi = EXP_BOUNDS[mb.is_f64]
    k, r = reduce_ln2(mb, mb.clamp(x, lo, hi))
    p = mb.add(1.0, expm1_reduced(mb, r, coeffs_f64, estrin))
    return mb.scale(p, mb.to_int(k))


def exp(mb: MathBuilder, x: Val) -> Val:
    return mb.sel(mb.isnan(x), x, exp_finite(mb, x))


def expm1(mb: MathBuilder, x: Val) -> Val:
    # Below the lower clamp expm1 rounds to -1 (e^x is under half an ulp of 1); the upper one overflows.
    lo, hi = (-20.0, 89.0) if not mb.is_f64 else (-40.0, 710.0)
    k, r = reduce_ln2(mb, mb.clamp(x, lo, hi))
    e = expm1_reduced(mb, r)
    # expm1(x) = 2^k*e + (2^k - 1), computed as 2*(h*e + (h - 1/2)) with h = 2^(k-1): h stays a normal number
    # for k = 128 (float) / 1024 (double), where 2^k itself would already be infinite, and h - 1/2 is exact
    # whenever it matters; the doubling is exact or overflows as the true result does.
    h = mb.pow2i(mb.isub(mb.to_int(k), 1))
    res = mb.mul(mb.fma(h, e, mb.sub(h, 0.5)), 2.0)
    # Tiny |x| (this also keeps -0.0 and denormals exact): expm1(x) rounds to x.
    tiny = 2.0 ** (-54 if mb.is_f64 else -25)
    res = mb.sel(mb.cmp("<", mb.abs(x), tiny), x, res)
    return mb.sel(mb.isnan(x), x, res)


# (tanh(x) - x) / x^3 ~ Q(x^2) on |x| <= 0.625: Remez fits (mpmath) of the absolute error in Q; float degree 5
# (|err| <= 1.5e-9), double degree 11 (|err| <= 3.7e-18). Either is below 2^-28 / 2^-58 relative in tanh.
_Q_TANH = {
    False: [0.002298941891759265, -0.008350008458535502, 0.02177099586851239, -0.053959550293776144,
            0.13333304982872102, -0.3333333318335844],
    True: [6.502692276014056e-06, -3.123879233592515e-05, 9.260616075574887e-05, -0.0002376090173143404,
           0.0005896666437544423, -0.0014557766653449846, 0.00359212191969449, -0.008863235117372638,
           0.021869488519699703, -0.05396825396791435, 0.13333333333333058, -0.3333333333333333],
}
TANH_SPLIT = 0.625


def tanh(mb: MathBuilder, x: Val) -> Val:
    ax = mb.abs(x)
    z = mb.mul(x, x)
    small = mb.fma(mb.mul(x, z), mb.poly(z, _Q_TANH[mb.is_f64]), x)
    # |x| >= 0.625: 1 - 2/(e^{2|x|} + 1); the quotient is at most 0.45, so its rounding errors shrink relative to
    # the result. Beyond 10 (float) / 20 (double) tanh rounds to ±1 and the clamp keeps e^{2|x|} finite.
    big_lim = 20.0 if mb.is_f64 else 10.0
    e2 = exp_finite(mb, mb.mul(mb.minnum(ax, big_lim), 2.0))
    big = mb.sub(1.0, mb.div(2.0, mb.add(e2, 1.0)))
    res = mb.sel(mb.cmp("<", ax, TANH_SPLIT), small, mb.copysign(big, x))
    # ±0 returns itself (the fma above would turn -0.0 into +0.0); NaN passes through.
    return mb.sel(mb.or_(mb.isnan(x), mb.cmp("==", x, 0.0)), x, res)


def logistic(mb: MathBuilder, x: Val) -> Val:
    """1 / (1 + e^-x): with t = e^{-|x|} <= 1, 1/(1+t) for x >= 0 and t/(1+t) for x < 0, so neither side cancels."""
    t = exp_finite(mb, mb.neg(mb.abs(x)))
    d = mb.add(1.0, t)
    res = mb.sel(mb.cmp(">=", x, 0.0), mb.div(1.0, d), mb.div(t, d))
    return mb.sel(mb.isnan(x), x, res)
