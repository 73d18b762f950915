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
from codegen.vmath_emit import Emitter, Num, Val

DD = tuple[Val, Val]

_T = [0.11736922244502489, 0.11704906776804683, 0.1333485497392096, 0.15384594025058584, 0.18181818344304979,
      0.22222222221615862, 0.2857142857142943, 0.4]
_TWO_THIRDS = (0.6666666666666666, 3.700743415417188e-17)
_LN2_FULL = (0.6931471805599453, 2.3190468138462996e-17)


def _two_sum(em: Emitter, a: Val, b: Val) -> DD:
    """(s, err) with s = fl(a + b) and s + err = a + b exactly (Knuth)."""
    s = em.add(a, b)
    bb = em.sub(s, a)
    return s, em.add(em.sub(a, em.sub(s, bb)), em.sub(b, bb))


def _fast_two_sum(em: Emitter, a: Num, b: Val) -> DD:
    """(s, err) with s + err = a + b exactly, when |a| >= |b| or a == 0 (Dekker)."""
    s = em.add(a, b)
    return s, em.sub(b, em.sub(s, a))


def _two_prod(em: Emitter, a: Val, b: Num) -> DD:
    """(p, err) with p = fl(a * b) and p + err = a * b exactly (barring underflow)."""
    p = em.mul(a, b)
    return p, em.fma(a, b, em.neg(p))


def _dd_mul(em: Emitter, a: DD, b: DD) -> DD:
    """a * b for double-doubles, to about 2^-104 relative (lo*lo dropped); the result is left unnormalized
    (|lo| up to a few ulps of hi), which the callers tolerate, to keep the dependency chain short."""
    p, err = _two_prod(em, a[0], b[0])
    return p, em.fma(a[0], b[1], em.fma(a[1], b[0], err))


def _log_dd(em: Emitter, ax: Val) -> DD:
    """log(ax) as an unnormalized double-double, for positive finite double `ax` (denormals included)."""
    sub = em.cmp("<", ax, em.min_normal)
    xs = em.sel(sub, em.mul(ax, 2.0 ** 53), ax)
    e, m = vmath_log.split_exponent(em, xs)
    ef = em.to_float(em.isel(sub, em.isub(e, 53), e))
    f = em.sub(m, 1.0)
    # s = f / (2 + f) as a double-double: 2 + f as an exact pair, one division for the reciprocal, and the
    # residual f - sh*(2 + f), computed exactly by fma, for the low part.
    dh, dl = _fast_two_sum(em, em.c(2.0), f)
    inv = em.div(1.0, dh)
    sh = em.mul(f, inv)
    rem = em.fma(em.neg(sh), dl, em.fma(em.neg(sh), dh, f))
    s = (sh, em.mul(rem, inv))
    z = em.mul(sh, sh)
    bh, bl = _fast_two_sum(em, em.c(_TWO_THIRDS[0]), em.mul(z, em.poly(z, _T, estrin=True)))
    # t = s^3 * bracket, as s^2 * (s * bracket): two independent products, then one.
    t = _dd_mul(em, _dd_mul(em, s, s), _dd_mul(em, s, (bh, em.add(bl, _TWO_THIRDS[1]))))
    # log ax = e*ln2 + 2s + t. e*LN2_HI is exact and, unless e = 0, at least ln2/2 > |2s|, so fast_two_sum
    # applies; t's high part (up to 1% of 2s) needs a full two_sum; the rest are small enough to add plainly.
    ln2_hi, ln2_lo = vmath_log.LN2_SPLIT[True]
    h1, l1 = _fast_two_sum(em, em.mul(ef, ln2_hi), em.mul(sh, 2.0))
    h2, l2 = _two_sum(em, h1, t[0])
    elo, elo_err = _two_prod(em, ef, ln2_lo)
    low = em.add(em.add(l1, l2), em.add(em.add(em.mul(s[1], 2.0), t[1]), em.add(elo, elo_err)))
    return h2, low


def _exp_dd(em: Emitter, zh: Val, zl: Val) -> Val:
    """exp(zh + zl) for |zl| <= a few ulps of zh; overflow, gradual underflow and zero as for exp."""
    lo, hi = vmath_exp.EXP_BOUNDS[True]
    zc = em.clamp(zh, lo, hi)
    zl = em.sel(em.cmp("==", zc, zh), zl, 0.0)
    k = em.rint(em.mul(zc, vmath_exp.LOG2E))
    nk = em.neg(k)
    r = em.fma(nk, _LN2_FULL[0], zc)
    r = em.add(em.fma(nk, _LN2_FULL[1], r), zl)
    p = em.add(1.0, vmath_exp.expm1_reduced(em, r, estrin=True))
    return em.scale(p, em.to_int(k))


def _core_f64(em: Emitter, ax: Val, y: Val) -> Val:
    lh, ll = _log_dd(em, ax)
    zh, zerr = _two_prod(em, y, lh)
    return _exp_dd(em, zh, em.fma(y, ll, zerr))


def _core_f32(em: Emitter, ax: Val, y: Val) -> Val:
    ed = em.with_type(ir.DoubleType())
    axd, yd = em.b.fpext(ax, ed.ty), em.b.fpext(y, ed.ty)
    # Every positive float is a normal double, so no denormal scaling is needed. The float-accuracy polynomials
    # suffice (log to 2^-35 relative, so y*log|x| to 2^-28 absolute below the overflow limit; exp to 2^-32),
    # evaluated in double so their roundings stay far below that.
    e, m = vmath_log.split_exponent(ed, axd)
    log_ax = vmath_log.log1p_reduced(ed, ed.sub(m, 1.0), ed.to_float(e), ed.c(0.0), coeffs_f64=False,
                                          estrin=True)
    z = ed.mul(yd, log_ax)
    return em.b.fptrunc(vmath_exp.exp_finite(ed, z, coeffs_f64=False, estrin=True), em.ty)


def pow(em: Emitter, x: Val, y: Val) -> Val:
    inf = float("inf")
    ax = em.abs(x)
    ay = em.abs(y)
    # The core sees only positive finite x and finite y; every other input is decided below.
    x_regular = em.and_(em.cmp(">", ax, 0.0), em.cmp("<", ax, inf))
    y_finite = em.cmp("<", ay, inf)
    core = _core_f64 if em.is_f64 else _core_f32
    res = core(em, em.sel(x_regular, ax, 1.0), em.sel(y_finite, y, 0.0))

    y_neg = em.cmp("<", y, 0.0)
    res = em.sel(em.cmp("==", ax, 0.0), em.sel(y_neg, inf, 0.0), res)
    res = em.sel(em.cmp("==", ax, inf), em.sel(y_neg, 0.0, inf), res)
    inf_pow = em.sel(em.b.icmp_unsigned("==", em.cmp("<", ax, 1.0), y_neg), inf, 0.0)
    res = em.sel(em.cmp("==", ay, inf), em.sel(em.cmp("==", ax, 1.0), 1.0, inf_pow), res)

    # Integer and odd-integer y (every float of magnitude >= 2^53 / 2^24 is even, as is inf).
    y_int = em.cmp("==", em.rint(y), y)
    half = em.mul(y, 0.5)
    y_odd = em.and_(y_int, em.cmp("!=", em.rint(half), half))
    res = em.sel(y_odd, em.copysign(res, x), res)
    neg_finite = em.and_(em.cmp("<", x, 0.0), em.cmp(">", x, -inf))
    res = em.sel(em.and_(neg_finite, em.not_(y_int)), float("nan"), res)
    res = em.sel(em.or_(em.isnan(x), em.isnan(y)), em.add(x, y), res)
    return em.sel(em.or_(em.cmp("==", y, 0.0), em.cmp("==", x, 1.0)), 1.0, res)
