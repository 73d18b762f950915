"""Branch-free pow body for `codegen.vmath` (float and double), with C99/numpy special cases.

pow(x, y) = exp(y * log|x|), then signs and special cases by `select`. The product y * log|x| amplifies the
error of the logarithm by up to |y log|x|| (about 745 before the result leaves the double range), so the
logarithm needs more precision than the result:
- float: computed in double with `vmath_log`'s reduction and `vmath_exp`'s exp (with their float-accuracy
  polynomials), which puts the error before the final rounding to float below 2^-28 relative (glibc's powf
  also works in double).
- double: log|x| as a double-double (hi + lo, relative error about 2^-66) following SLEEF's logk: with
  m = 2^-e |x| in [sqrt(1/2), sqrt(2)) and s = (m - 1)/(m + 1) carried as a double-double,
  log m = 2s + s^3 * (2/3 + z * T(z)), z = s^2, where only z * T(z) (under 2% of the bracket) is evaluated in
  plain double; e*ln2 is added exactly. The double-double steps are arranged for a short dependency chain
  (one division, products paired, no intermediate renormalization): once vectorized, this body is bound by
  latency rather than by instruction count. y times that is split exactly with fma, and exp of the double-double
  reduces hi by Cody-Waite (ln2 in two full doubles, exact first step) and adds lo to the reduced argument.
T's coefficients: Remez exchange (mpmath, 60 digits), degree 7, absolute error <= 2.0e-18 on z in
[0, 1.01 (3 - 2 sqrt 2)^2], i.e. below 2^-70 relative in log m.

Special cases follow C99 Annex F (numpy's np.power for floats): pow(x, ±0) = 1 and pow(1, y) = 1 even for NaN;
otherwise NaN in gives NaN; negative finite x with non-integer y gives NaN; an odd integer y keeps the sign of x
(including -0.0 and -inf); pow(±0, y<0) = inf, pow(±0, y>0) = 0; pow(±inf, y) = inf or 0 by the sign of y;
pow(x, ±inf) = inf or 0 by whether |x| < 1, and 1 for x = -1.
"""
from __future__ import annotations

import llvmlite.ir as ir

from codegen import vmath_exp, vmath_log
from codegen.vmath_emit import MathBuilder, Num, Val

DD = tuple[Val, Val]

_T = [0.11736922244502489, 0.11704906776804683, 0.1333485497392096, 0.15384594025058584, 0.18181818344304979,
      0.22222222221615862, 0.2857142857142943, 0.4]
_TWO_THIRDS = (0.6666666666666666, 3.700743415417188e-17)
_LN2_FULL = (0.6931471805599453, 2.3190468138462996e-17)


def _two_sum(mb: MathBuilder, a: Val, b: Val) -> DD:
    """(s, err) with s = fl(a + b) and s + err = a + b exactly (Knuth)."""
    s = mb.add(a, b)
    bb = mb.sub(s, a)
    return s, mb.add(mb.sub(a, mb.sub(s, bb)), mb.sub(b, bb))


def _fast_two_sum(mb: MathBuilder, a: Num, b: Val) -> DD:
    """(s, err) with s + err = a + b exactly, when |a| >= |b| or a == 0 (Dekker)."""
    s = mb.add(a, b)
    return s, mb.sub(b, mb.sub(s, a))


def _two_prod(mb: MathBuilder, a: Val, b: Num) -> DD:
    """(p, err) with p = fl(a * b) and p + err = a * b exactly (barring underflow)."""
    p = mb.mul(a, b)
    return p, mb.fma(a, b, mb.neg(p))


def _dd_mul(mb: MathBuilder, a: DD, b: DD) -> DD:
    """a * b for double-doubles, to about 2^-104 relative (lo*lo dropped); the result is left unnormalized
    (|lo| up to a few ulps of hi), which the callers tolerate, to keep the dependency chain short."""
    p, err = _two_prod(mb, a[0], b[0])
    return p, mb.fma(a[0], b[1], mb.fma(a[1], b[0], err))


def _log_dd(mb: MathBuilder, ax: Val) -> DD:
    """log(ax) as an unnormalized double-double, for positive finite double `ax` (denormals included)."""
    sub = mb.cmp("<", ax, mb.min_normal)
    xs = mb.sel(sub, mb.mul(ax, 2.0 ** 53), ax)
    e, m = vmath_log.split_exponent(mb, xs)
    ef = mb.to_float(mb.isel(sub, mb.isub(e, 53), e))
    f = mb.sub(m, 1.0)
    # s = f / (2 + f) as a double-double: 2 + f as an exact pair, one division for the reciprocal, and the
    # residual f - sh*(2 + f), computed exactly by fma, for the low part.
    dh, dl = _fast_two_sum(mb, mb.c(2.0), f)
    inv = mb.div(1.0, dh)
    sh = mb.mul(f, inv)
    rem = mb.fma(mb.neg(sh), dl, mb.fma(mb.neg(sh), dh, f))
    s = (sh, mb.mul(rem, inv))
    z = mb.mul(sh, sh)
    bh, bl = _fast_two_sum(mb, mb.c(_TWO_THIRDS[0]), mb.mul(z, mb.poly(z, _T, estrin=True)))
    # t = s^3 * bracket, as s^2 * (s * bracket): two independent products, then one.
    t = _dd_mul(mb, _dd_mul(mb, s, s), _dd_mul(mb, s, (bh, mb.add(bl, _TWO_THIRDS[1]))))
    # log ax = e*ln2 + 2s + t. e*LN2_HI is exact and, unless e = 0, at least ln2/2 > |2s|, so fast_two_sum
    # applies; t's high part (up to 1% of 2s) needs a full two_sum; the rest are small enough to add plainly.
    ln2_hi, ln2_lo = vmath_log.LN2_SPLIT[True]
    h1, l1 = _fast_two_sum(mb, mb.mul(ef, ln2_hi), mb.mul(sh, 2.0))
    h2, l2 = _two_sum(mb, h1, t[0])
    elo, elo_err = _two_prod(mb, ef, ln2_lo)
    low = mb.add(mb.add(l1, l2), mb.add(mb.add(mb.mul(s[1], 2.0), t[1]), mb.add(elo, elo_err)))
    return h2, low


def _exp_dd(mb: MathBuilder, zh: Val, zl: Val) -> Val:
    """exp(zh + zl) for |zl| <= a few ulps of zh; overflow, gradual underflow and zero as for exp."""
    lo, hi = vmath_exp.EXP_BOUNDS[True]
    zc = mb.clamp(zh, lo, hi)
    zl = mb.sel(mb.cmp("==", zc, zh), zl, 0.0)
    k = mb.rint(mb.mul(zc, vmath_exp.LOG2E))
    nk = mb.neg(k)
    r = mb.fma(nk, _LN2_FULL[0], zc)
    r = mb.add(mb.fma(nk, _LN2_FULL[1], r), zl)
    p = mb.add(1.0, vmath_exp.expm1_reduced(mb, r, estrin=True))
    return mb.scale(p, mb.to_int(k))


def _core_f64(mb: MathBuilder, ax: Val, y: Val) -> Val:
    lh, ll = _log_dd(mb, ax)
    zh, zerr = _two_prod(mb, y, lh)
    return _exp_dd(mb, zh, mb.fma(y, ll, zerr))


def _core_f32(mb: MathBuilder, ax: Val, y: Val) -> Val:
    ed = mb.with_type(ir.DoubleType())
    axd, yd = mb.b.fpext(ax, ed.ty), mb.b.fpext(y, ed.ty)
    # Every positive float is a normal double, so no denormal scaling is needed. The float-accuracy polynomials
    # suffice (log to 2^-35 relative, so y*log|x| to 2^-28 absolute below the overflow limit; exp to 2^-32),
    # evaluated in double so their roundings stay far below that.
    e, m = vmath_log.split_exponent(ed, axd)
    log_ax = vmath_log.log1p_reduced(ed, ed.sub(m, 1.0), ed.to_float(e), ed.c(0.0), coeffs_f64=False,
                                          estrin=True)
    z = ed.mul(yd, log_ax)
    return mb.b.fptrunc(vmath_exp.exp_finite(ed, z, coeffs_f64=False, estrin=True), mb.ty)


def pow(mb: MathBuilder, x: Val, y: Val) -> Val:
    inf = float("inf")
    ax = mb.abs(x)
    ay = mb.abs(y)
    # The core sees only positive finite x and finite y; every other input is decided below.
    x_regular = mb.and_(mb.cmp(">", ax, 0.0), mb.cmp("<", ax, inf))
    y_finite = mb.cmp("<", ay, inf)
    core = _core_f64 if mb.is_f64 else _core_f32
    res = core(mb, mb.sel(x_regular, ax, 1.0), mb.sel(y_finite, y, 0.0))

    y_neg = mb.cmp("<", y, 0.0)
    res = mb.sel(mb.cmp("==", ax, 0.0), mb.sel(y_neg, inf, 0.0), res)
    res = mb.sel(mb.cmp("==", ax, inf), mb.sel(y_neg, 0.0, inf), res)
    inf_pow = mb.sel(mb.b.icmp_unsigned("==", mb.cmp("<", ax, 1.0), y_neg), inf, 0.0)
    res = mb.sel(mb.cmp("==", ay, inf), mb.sel(mb.cmp("==", ax, 1.0), 1.0, inf_pow), res)

    # Integer and odd-integer y (every float of magnitude >= 2^53 / 2^24 is even, as is inf).
    y_int = mb.cmp("==", mb.rint(y), y)
    half = mb.mul(y, 0.5)
    y_odd = mb.and_(y_int, mb.cmp("!=", mb.rint(half), half))
    res = mb.sel(y_odd, mb.copysign(res, x), res)
    neg_finite = mb.and_(mb.cmp("<", x, 0.0), mb.cmp(">", x, -inf))
    res = mb.sel(mb.and_(neg_finite, mb.not_(y_int)), float("nan"), res)
    res = mb.sel(mb.or_(mb.isnan(x), mb.isnan(y)), mb.add(x, y), res)
    return mb.sel(mb.or_(mb.cmp("==", y, 0.0), mb.cmp("==", x, 1.0)), 1.0, res)
