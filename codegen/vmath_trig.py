"""Branch-free sin and cos bodies for `codegen.vmath` (float and double).

Scheme: q = nearest integer to x * 2/pi (the product's rounding error is recovered with fma and folded back, so q
is right even when x * 2/pi has few fraction bits left), then r = x - q*pi/2 with pi/2 = P1 + P2 + P3 (each the
rounding of what remains, 72 / 159 bits in all) and each product fused into its subtraction (`fma`).
x - q*P1 is exact (a multiple of ulp(P1) below 1 in magnitude) and the later steps round only relative to the
reduced argument itself, so r keeps nearly full relative accuracy even next to multiples of pi/2. This holds while
q is exactly representable: |x| < 2^24 (float) and |x| < 2^53 (double).

At and beyond those limits (and for ±inf) the result comes from an exact path instead, the C library's sin and cos
(glibc's reduce huge arguments exactly, Payne-Hanek style, and are accurate to < 1 ulp; numpy's float32 loops fall
back to the same functions for large arguments). `vmath_lanes.where_rare` keeps that path out of the vector code:
a vector loop tests whether any lane is huge and otherwise never leaves its registers, so ordinary arguments pay
one comparison, a branch not taken and a blend. In exchange the fast path no longer guards against huge or
non-finite lanes (no clamp of r, no q mod 4 in floating point, no sanitized x): it is shorter than it was with
those guards (4M float32 sin on the development machine, both versions in one process, interleaved, best of 15:
0.57 ns/element against 0.68 before, cos 0.50 against 0.63; float64 sin and cos 1.33 against 1.51).

Then, with z = r^2: sin(r) = r + r^3 * S(z), cos(r) = 1 - z/2 + z^2 * C(z), and the quadrant q mod 4 picks one of
them and its sign (cos(x) uses quadrant q + 1). S and C come from a Remez exchange (mpmath, 60 digits) of the
absolute error on z in [0, 0.8^2] (a margin over pi/4 for ties and the last bit of r):
float: S degree 3 (|err| <= 3.3e-11), C degree 2 (|err| <= 2.3e-9);
double: S degree 6 (|err| <= 1.5e-20), C degree 5 (|err| <= 1.6e-18).
"""
from __future__ import annotations

import llvmlite.ir as ir

from codegen.vmath_emit import MathBuilder, Val
from codegen.vmath_lanes import ExactBody, where_rare

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
# The reduction is exact below these (see above); at and beyond them the C library's sin and cos take over.
_FAST_LIMIT = {False: 2.0 ** 24, True: 2.0 ** 53}


def _sincos(mb: MathBuilder, x: Val, quadrant_offset: int) -> tuple[Val, Val]:
    """The fast path's result (NaN for NaN), and where it is not exact: |x| at or beyond the Cody-Waite limit, inf
    included (NaN is not)."""
    ax = mb.abs(x)
    small = mb.cmp("<", ax, _FAST_LIMIT[mb.is_f64])
    huge = mb.cmp(">=", ax, _FAST_LIMIT[mb.is_f64])
    # Lanes that are not small compute garbage (poison even, from fptosi) that the last select discards, so
    # nothing below needs to guard against NaN, inf or huge x: |q| < 2^23 (float) or 2^52 (double), |r| < 0.8.
    # q = rint(x * 2/pi), corrected by the rounding error of the product: rounding x * 2/pi alone can miss the
    # nearest integer once x * 2/pi has few fraction bits left (float beyond ~1e5), which would leave |r| > pi/4.
    c_hi, c_lo = _TWO_OVER_PI[mb.is_f64]
    q0 = mb.rint(mb.mul(x, c_hi))
    frac = mb.fma(x, c_lo, mb.fma(x, c_hi, mb.neg(q0)))
    q = mb.add(q0, mb.rint(frac))
    p1, p2, p3 = _PIO2[mb.is_f64]
    nq = mb.neg(q)
    r = mb.fma(nq, p3, mb.fma(nq, p2, mb.fma(nq, p1, x)))
    iq = mb.iadd(mb.to_int(q), quadrant_offset)
    z = mb.mul(r, r)
    sin_r = mb.fma(mb.mul(r, z), mb.poly(z, _S[mb.is_f64]), r)
    # 1 - z/2 rounded once, plus what that rounding lost (exact by Sterbenz), before the small z^2*C(z) term.
    hz = mb.mul(z, 0.5)
    w = mb.sub(1.0, hz)
    lost = mb.sub(mb.sub(1.0, w), hz)
    cos_r = mb.add(w, mb.fma(mb.mul(z, z), mb.poly(z, _C[mb.is_f64]), lost))
    res = mb.sel(mb.icmp("!=", mb.iand(iq, 1), 0), cos_r, sin_r)
    res = mb.sel(mb.icmp("!=", mb.iand(iq, 2), 0), mb.neg(res), res)
    # x - x is NaN for NaN (and for ±inf, which take the exact path anyway).
    return mb.sel(small, res, mb.sub(x, x)), huge


def _libm(name: str) -> ExactBody:
    """The exact path: LLVM's intrinsic for one value, which is a call of the C library's function."""
    def body(b: ir.IRBuilder, x: Val) -> Val:
        return b.call(b.module.declare_intrinsic(f"llvm.{name}", [x.type]), [x])
    return body


def sin(mb: MathBuilder, x: Val) -> Val:
    fast, huge = _sincos(mb, x, 0)
    # -0.0 would come out as +0.0 (r = -0.0, but r^3 * S(z) is +0.0 and +0.0 + -0.0 = +0.0).
    fast = mb.sel(mb.cmp("==", x, 0.0), x, fast)
    return where_rare(mb, huge, fast, x, _libm("sin"))


def cos(mb: MathBuilder, x: Val) -> Val:
    fast, huge = _sincos(mb, x, 1)
    return where_rare(mb, huge, fast, x, _libm("cos"))
