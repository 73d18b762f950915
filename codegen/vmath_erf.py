"""Branch-free erf body for `codegen.vmath` (float and double).

Scheme, for a = |x|:
- a < T (T = 1 for float, 1.25 for double): erf(x) = x * P(x^2), P ~ erf(sqrt z)/sqrt z, which keeps the sign and
  -0.0 and needs no special case for tiny or denormal x.
- otherwise: erf(x) = sign(x) * (1 - exp(-a^2) * g(a)) with g(a) = erfc(a) * exp(a^2), a smooth function near
  1/(a sqrt(pi)); a is clamped to 4 (float) / 6 (double), beyond which erf rounds to ±1. g is a polynomial in
  a - m on one interval for float, and on three intervals for double, whose coefficients (and m) are chosen per
  lane with `select` so the code stays branch-free. For double, a^2 is split exactly (fma) and its low part
  folded in as exp(-hi - lo) = exp(-hi) * (1 - lo).

Coefficients come from a Remez exchange (mpmath, 60 digits). P: absolute error on z in [0, T^2]; g: the error of
g weighted by exp(-a^2) / erf(a), i.e. the error it causes relative to erf itself. Bounds (relative to erf):
- float: P degree 6 on [0, 1] (1.2e-9), g degree 8 on [1, 4] around 2.5 (2.5e-9);
- double: P degree 13 on [0, 1.5625] (8.4e-19), g degree 13 on [1.25, 2], [2, 3.25], [3.25, 6] (1.0e-18,
  4.8e-19, 7.5e-23).
"""
from __future__ import annotations

from codegen import vmath_exp
from codegen.vmath_emit import MathBuilder, Val

# P(z) = c0 + z * Q(z); these are Q's coefficients, c0 is in _C0.
_P = {
    False: [7.889123311812139e-05, -0.0008020842415499748, 0.005189535467338789, -0.026854444658425066,
            0.11283600177820076, -0.3761262713609945],
    True: [-3.2798104319111003e-12, 7.955110264089834e-11, -1.1896382235661578e-09, 1.4736094122091498e-08,
           -1.635692002463121e-07, 1.6461322419381144e-06, -1.4925600632621923e-05, 0.00012055330799830959,
           -0.000854832695834405, 0.0052239776241820865, -0.026866170644985043, 0.11283791670954241,
           -0.3761263890318373],
}
# P's constant term as hi + lo (hi in the working precision).
_C0 = {False: (1.1283791065216064, 5.939216323719118e-08), True: (1.1283791670955126, 1.4498845248463245e-17)}
_T = {False: 1.0, True: 1.25}
_A_MAX = {False: 4.0, True: 6.0}

# Float: g(2.5 + u) on [1, 4].
_G32 = (2.5, [0.00010819551237519744, 0.00023225701924458686, 0.0005573108227121293, -0.0006505632716596374,
              0.002301721183821705, -0.008137599527548502, 0.024912279378215302, -0.07434232400761388,
              0.21080765670059445])

# Double: (upper end of the interval, centre m, coefficients of g(m + u)), intervals in increasing order.
_G64 = [
    (2.0, 1.625, [-4.07504784406819e-07, 1.3477933405150536e-06, -4.480852735051347e-06, 1.5100964942908125e-05,
                  -4.928147867499627e-05, 0.0001556262184234765, -0.00047464739721295304, 0.001393804261897988,
                  -0.003926198507321014, 0.010561485441914665, -0.0269779100931407, 0.06496207478418423,
                  -0.14603023666418385, 0.30226120936348594]),
    (3.25, 2.625, [-1.4773224770462034e-08, 4.734926006723287e-08, -1.8564870674871494e-07, 7.709377377087005e-07,
                   -3.0675296135027797e-06, 1.1903156552933788e-05, -4.504353152235158e-05,
                   0.00016585345385562654, -0.0005930183871907403, 0.0020542334098007653,
                   -0.0068749086389777525, 0.02215510200772287, -0.06846950572892263, 0.20188755454601656]),
    (6.0, 4.625, [-2.3163763468538583e-10, -7.101363078408348e-10, -3.672449845516653e-09, 5.10664646844311e-09,
                  -4.576970494841486e-08, 2.4611771720541323e-07, -1.331501695959989e-06, 7.148649814094229e-06,
                  -3.7724269276118574e-05, 0.00019591783126397396, -0.001000431732950416,
                  0.005018832379882054, -0.024712747294103377, 0.11931528862726354]),
]


def _g64(mb: MathBuilder, a: Val) -> Val:
    """g(a) with the interval's centre and coefficients selected per lane (largest interval first)."""
    conds = [mb.cmp("<", a, upper) for upper, _, _ in _G64[:-1]]

    def pick(values: list[float]) -> Val:
        v = mb.c(values[-1])
        for cond, value in reversed(list(zip(conds, values[:-1]))):
            v = mb.sel(cond, value, v)
        return v

    u = mb.sub(a, pick([m for _, m, _ in _G64]))
    ncoef = len(_G64[0][2])
    acc = pick([coeffs[0] for _, _, coeffs in _G64])
    for j in range(1, ncoef):
        acc = mb.fma(acc, u, pick([coeffs[j] for _, _, coeffs in _G64]))
    return acc


def erf(mb: MathBuilder, x: Val) -> Val:
    # x * P(z) = x*c0 + x*(z*Q(z)): with c0 split into hi + lo, x*c0_hi is folded in by the final fma, so the
    # rounding of c0 itself (up to half an ulp) no longer adds to the result's error.
    c0_hi, c0_lo = _C0[mb.is_f64]
    z = mb.mul(x, x)
    tail = mb.fma(z, mb.poly(z, _P[mb.is_f64]), c0_lo)
    small = mb.fma(x, c0_hi, mb.mul(x, tail))
    a = mb.minnum(mb.abs(x), _A_MAX[mb.is_f64])
    sq = mb.mul(a, a)
    e = vmath_exp.exp_finite(mb, mb.neg(sq))
    if mb.is_f64:
        # a^2 = sq + lo exactly; exp(-sq - lo) = e * (1 - lo) to well below an ulp, since |lo| <= 2^-48.
        lo = mb.fma(a, a, mb.neg(sq))
        e = mb.fma(mb.neg(e), lo, e)
        g = _g64(mb, a)
    else:
        centre, coeffs = _G32
        g = mb.poly(mb.sub(a, centre), coeffs)
    big = mb.copysign(mb.fma(mb.neg(e), g, 1.0), x)
    res = mb.sel(mb.cmp("<", mb.abs(x), _T[mb.is_f64]), small, big)
    return mb.sel(mb.isnan(x), x, res)
