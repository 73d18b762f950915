"""Branch-free log and log1p bodies for `codegen.vmath` (float and double), after fdlibm's e_log.c / s_log1p.c.

Scheme: write the argument as 2^e * m with m in [sqrt(1/2), sqrt(2)) (denormals are first scaled into the normal
range), f = m - 1 (exact), and with s = f / (2 + f):
    log(1 + f) = f - f^2/2 + s * (f^2/2 + R),   R = s^2 * L(s^2) ~ (2 atanh(s) - 2s) / s
    log(x)     = e*ln2_hi + (that + e*ln2_lo)
log1p(x) reduces u = 1 + x the same way and adds fdlibm's first-order correction (x - (u - 1)) / u for the
rounding of u; when u is already in [sqrt(1/2), sqrt(2)) it uses f = x itself, which is exact.

L's coefficients come from a Remez exchange (mpmath, 60 digits) minimizing the absolute error of
L(z) ~ (2 atanh(sqrt z) - 2 sqrt z) / z^(3/2) on z in [0, (3 - 2 sqrt 2)^2]: float degree 3 (|err| <= 1.14e-9),
double degree 6 (|err| <= 3.1e-16); after the factor s^3 <= 0.0051 they are below 2^-35 / 2^-57 of the result.
"""
from __future__ import annotations

import math

from codegen.vmath_emit import MathBuilder, Val

_L = {
    False: [0.23332267789940822, 0.2855074135394828, 0.4000012271617929, 0.6666666655306649],
    True: [0.1461773687926201, 0.15331607958229473, 0.18182892887446106, 0.22222211077394793,
           0.28571428626371287, 0.39999999999898506, 0.666666666666667],
}

# ln2 = LN2_HI + LN2_LO with LN2_HI's trailing bits zero (fdlibm's split for double; 0x3f317180 / 0x3717f7d1 for
# float): e*LN2_HI is exact for double and, for float, rounded only inside the final fma.
LN2_SPLIT = {False: (6.9313812256e-01, 9.0580006145e-06),
             True: (6.93147180369123816490e-01, 1.90821492927058770002e-10)}


def split_exponent(mb: MathBuilder, u: Val) -> tuple[Val, Val]:
    """(e, m) with u = 2^e * m, m in [sqrt(1/2), sqrt(2)), for positive normal `u`; e is an integer in the int type."""
    ibits = mb.bits(u)
    e = mb.isub(mb.lshr(ibits, mb.mant_bits), mb.bias)
    mant_mask = (1 << mb.mant_bits) - 1
    m = mb.from_bits(mb.ior(mb.iand(ibits, mant_mask), mb.bias << mb.mant_bits))
    big = mb.cmp(">", m, math.sqrt(2.0))
    m = mb.sel(big, mb.mul(m, 0.5), m)
    e = mb.isel(big, mb.iadd(e, 1), e)
    return e, m


def log1p_reduced(mb: MathBuilder, f: Val, ef: Val, corr: Val, coeffs_f64: bool | None = None,
                  estrin: bool = False) -> Val:
    """e*ln2 + log(1 + f) + corr for f in [sqrt(1/2) - 1, sqrt(2) - 1] and float `ef` = e (fdlibm's ordering).

    `coeffs_f64` picks the polynomial's accuracy (default: that of the builder's type), so double arithmetic can
    use the shorter float-accuracy polynomial where float accuracy is all that is needed; `estrin` its
    evaluation scheme (see `MathBuilder.poly`).
    """
    ln2_hi, ln2_lo = LN2_SPLIT[mb.is_f64]
    hfsq = mb.mul(mb.mul(f, f), 0.5)
    s = mb.div(f, mb.add(f, 2.0))
    z = mb.mul(s, s)
    r = mb.mul(z, mb.poly(z, _L[mb.is_f64 if coeffs_f64 is None else coeffs_f64], estrin))
    low = mb.fma(ef, ln2_lo, corr)
    t = mb.sub(mb.sub(hfsq, mb.fma(s, mb.add(hfsq, r), low)), f)
    # e*ln2_hi + (-t) rounded once, so even for the largest |e| the product never rounds separately.
    return mb.fma(ef, ln2_hi, mb.neg(t))


def _specials(mb: MathBuilder, x: Val, res: Val, pole: float) -> Val:
    """NaN for x < pole, -inf at the pole, +inf at +inf, NaN passed through."""
    res = mb.sel(mb.cmp("==", x, float("inf")), float("inf"), res)
    res = mb.sel(mb.cmp("==", x, pole), float("-inf"), res)
    res = mb.sel(mb.cmp("<", x, pole), float("nan"), res)
    return mb.sel(mb.isnan(x), x, res)


def log(mb: MathBuilder, x: Val) -> Val:
    # Denormals: multiply by 2^(mant_bits + 1) first, so their exponent field is that of a normal number.
    shift = mb.mant_bits + 1
    sub = mb.cmp("<", x, mb.min_normal)
    xs = mb.sel(sub, mb.mul(x, 2.0 ** shift), x)
    e, m = split_exponent(mb, xs)
    e = mb.isel(sub, mb.isub(e, shift), e)
    res = log1p_reduced(mb, mb.sub(m, 1.0), mb.to_float(e), mb.c(0.0))
    return _specials(mb, x, res, 0.0)


def log1p(mb: MathBuilder, x: Val) -> Val:
    u = mb.add(x, 1.0)
    e, m = split_exponent(mb, u)
    e0 = mb.icmp("==", e, 0)
    # The rounding error of u = fl(1 + x), to first order: log(1 + x) = log(u) + (x - (u - 1)) / u. For u >= 2,
    # u - x is exact (Sterbenz, x >= 1); below 2, u - 1 and then x - (u - 1) are.
    err = mb.sel(mb.cmp(">=", u, 2.0), mb.sub(1.0, mb.sub(u, x)), mb.sub(x, mb.sub(u, 1.0)))
    corr = mb.sel(e0, 0.0, mb.div(err, u))
    f = mb.sel(e0, x, mb.sub(m, 1.0))
    res = log1p_reduced(mb, f, mb.to_float(e), corr)
    # Tiny |x| (including -0.0 and denormals): log1p(x) rounds to x.
    tiny = 2.0 ** (-54 if mb.is_f64 else -25)
    res = mb.sel(mb.cmp("<", mb.abs(x), tiny), x, res)
    return _specials(mb, x, res, -1.0)
