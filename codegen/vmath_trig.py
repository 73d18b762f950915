"""Branch-free sin and cos bodies for `codegen.vmath` (float and double).

Scheme: q = nearest integer to x * 2/pi (the product's rounding error is recovered with fma and folded back, so q
is right even when x * 2/pi has few fraction bits left), then r = x - q*pi/2 with pi/2 = P1 + P2 + P3 (each the
rounding of what remains, 72 / 159 bits in all) and each product fused into its subtraction (`fma`).
x - q*P1 is exact (a multiple of ulp(P1) below 1 in magnitude) and the later steps round only relative to the
reduced argument itself, so r keeps nearly full relative accuracy even next to multiples of pi/2. This holds while
q is exactly representable: |x| < 2^24 (float) and |x| < 2^53 (double), the limits the tests cover. Beyond them
the reduction is meaningless, but r is clamped to [-0.8, 0.8], so the results stay in [-1, 1] and are not NaN.

Then, with z = r^2: sin(r) = r + r^3 * S(z), cos(r) = 1 - z/2 + z^2 * C(z), and the quadrant q mod 4 picks one of
them and its sign (cos(x) uses quadrant q + 1). S and C come from a Remez exchange (mpmath, 60 digits) of the
absolute error on z in [0, 0.8^2] (a margin over pi/4 for ties and the last bit of r):
float: S degree 3 (|err| <= 3.3e-11), C degree 2 (|err| <= 2.3e-9);
double: S degree 6 (|err| <= 1.5e-20), C degree 5 (|err| <= 1.6e-18).
"""
from __future__ import annotations

from codegen.vmath_emit import MathBuilder, Val

# 2/pi = hi + lo
_TWO_OVER_PI = {False: (0.6366197466850281, 2.568255326690366e-08),
                True: (0.6366197723675814, -3.935735335036497e-17)}
_PIO2 = {False: (1.5707963705062866, -4.371138828673793e-08, -1.7151245100058819e-15),
         True: (1.5707963267948966, 6.123233995736766e-17, -1.4973849048591698e-33)}
_S = {
    False: [2.723853610284676e-06, -0.0001983999738984505, 0.008333331706601643, -0.16666666663416546],
    True: [-7.584441064370196e-13, 1.6058492636992279e-10, -2.5052105981928664e-08, 2.7557319218604493e-06,
           -0.00019841269841264103, 0.008333333333333331, -0.16666666666666666],
}
_C = {
    False: [2.4538580831267825e-05, -0.0013888259075644745, 0.04166666443095126],
    True: [-1.1379346528635382e-11, 2.0876099819413676e-09, -2.755731704474746e-07, 2.480158729832002e-05,
           -0.0013888888888887096, 0.041666666666666664],
}
_R_MAX = 0.8


def _sincos(mb: MathBuilder, x: Val, quadrant_offset: int) -> Val:
    finite = mb.cmp("<", mb.abs(x), float("inf"))
    xs = mb.sel(finite, x, 0.0)
    # q = rint(x * 2/pi), corrected by the rounding error of the product: rounding x * 2/pi alone can miss the
    # nearest integer once x * 2/pi has few fraction bits left (float beyond ~1e5), which would leave |r| > pi/4.
    c_hi, c_lo = _TWO_OVER_PI[mb.is_f64]
    q0 = mb.rint(mb.mul(xs, c_hi))
    frac = mb.fma(xs, c_lo, mb.fma(xs, c_hi, mb.neg(q0)))
    q = mb.add(q0, mb.rint(frac))
    p1, p2, p3 = _PIO2[mb.is_f64]
    nq = mb.neg(q)
    r = mb.fma(nq, p3, mb.fma(nq, p2, mb.fma(nq, p1, xs)))
    r = mb.clamp(r, -_R_MAX, _R_MAX)
    # q mod 4 in floating point (exact for every finite q, and 0 once q is a multiple of 4 by magnitude alone),
    # so the integer conversion never sees an out-of-range value.
    qm = mb.sub(q, mb.mul(mb.floor(mb.mul(q, 0.25)), 4.0))
    iq = mb.iadd(mb.to_int(qm), quadrant_offset)
    z = mb.mul(r, r)
    sin_r = mb.fma(mb.mul(r, z), mb.poly(z, _S[mb.is_f64]), r)
    # 1 - z/2 rounded once, plus what that rounding lost (exact by Sterbenz), before the small z^2*C(z) term.
    hz = mb.mul(z, 0.5)
    w = mb.sub(1.0, hz)
    lost = mb.sub(mb.sub(1.0, w), hz)
    cos_r = mb.add(w, mb.fma(mb.mul(z, z), mb.poly(z, _C[mb.is_f64]), lost))
    res = mb.sel(mb.icmp("!=", mb.iand(iq, 1), 0), cos_r, sin_r)
    res = mb.sel(mb.icmp("!=", mb.iand(iq, 2), 0), mb.neg(res), res)
    # x - x is NaN for ±inf and NaN.
    return mb.sel(finite, res, mb.sub(x, x))


def sin(mb: MathBuilder, x: Val) -> Val:
    # -0.0 would come out as +0.0 from the reduction (fma(+0, P1, -0) = +0).
    return mb.sel(mb.cmp("==", x, 0.0), x, _sincos(mb, x, 0))


def cos(mb: MathBuilder, x: Val) -> Val:
    return _sincos(mb, x, 1)
