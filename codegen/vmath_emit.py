"""A thin typed layer over `llvmlite.ir.IRBuilder` for writing branch-free scalar math in one float type.

What it owns: `MathBuilder`, which binds an IRBuilder to one float type (float or double) and its same-width integer
type, turns Python numbers into constants of that type, and wraps the handful of instructions and intrinsics the math
bodies use (`llvm.fma`, `llvm.fabs`, `llvm.copysign`, `llvm.rint`, `llvm.floor`, `llvm.minnum`, `llvm.maxnum`,
`select`, bitcasts, integer ops). Every operation is one straight-line instruction, so code written with it stays
vectorizable after inlining into a loop.

No fast-math flags are ever set: the bodies rely on exact IEEE rounding for their error-free transformations
(`two_sum`, `two_prod`, Cody-Waite reduction) and on NaN/inf propagation, so every fused multiply-add is written
explicitly with `fma`.
"""
from __future__ import annotations

from typing import Sequence, Union

import llvmlite.ir as ir

FloatTy = Union[ir.FloatType, ir.DoubleType]
Val = ir.Value
Num = Union[Val, float, int]


class MathBuilder:
    """Straight-line float/integer code in one float type `ty`, emitted through `b`."""

    def __init__(self, b: ir.IRBuilder, ty: FloatTy) -> None:
        self.b = b
        self.ty = ty
        self.is_f64 = isinstance(ty, ir.DoubleType)
        self.ity = ir.IntType(64 if self.is_f64 else 32)
        self.mant_bits = 52 if self.is_f64 else 23
        self.bias = 1023 if self.is_f64 else 127
        self.min_normal = 2.0 ** (-1022 if self.is_f64 else -126)

    def with_type(self, ty: FloatTy) -> "MathBuilder":
        """A MathBuilder for another float type on the same IRBuilder (for mixed-precision bodies)."""
        return MathBuilder(self.b, ty)

    # -- constants and coercion -------------------------------------------------------------------------------

    def c(self, v: float) -> ir.Constant:
        return ir.Constant(self.ty, float(v))

    def ci(self, v: int) -> ir.Constant:
        return ir.Constant(self.ity, int(v))

    def _f(self, v: Num) -> Val:
        return v if isinstance(v, ir.Value) else self.c(v)

    def _i(self, v: Union[Val, int]) -> Val:
        return v if isinstance(v, ir.Value) else self.ci(v)

    def _intrinsic(self, name: str, nargs: int) -> ir.Function:
        fnty = ir.FunctionType(self.ty, [self.ty] * nargs)
        return self.b.module.declare_intrinsic(name, [self.ty], fnty)

    # -- float arithmetic -------------------------------------------------------------------------------------

    def add(self, a: Num, b: Num) -> Val:
        return self.b.fadd(self._f(a), self._f(b))

    def sub(self, a: Num, b: Num) -> Val:
        return self.b.fsub(self._f(a), self._f(b))

    def mul(self, a: Num, b: Num) -> Val:
        return self.b.fmul(self._f(a), self._f(b))

    def div(self, a: Num, b: Num) -> Val:
        return self.b.fdiv(self._f(a), self._f(b))

    def neg(self, a: Val) -> Val:
        return self.b.fneg(a)

    def fma(self, a: Num, b: Num, c: Num) -> Val:
        """a*b + c with one rounding."""
        return self.b.call(self._intrinsic("llvm.fma", 3), [self._f(a), self._f(b), self._f(c)])

    def abs(self, a: Val) -> Val:
        return self.b.call(self._intrinsic("llvm.fabs", 1), [a])

    def copysign(self, mag: Num, sign: Val) -> Val:
        return self.b.call(self._intrinsic("llvm.copysign", 2), [self._f(mag), sign])

    def rint(self, a: Val) -> Val:
        """Round to nearest, ties to even (the default floating-point environment)."""
        return self.b.call(self._intrinsic("llvm.rint", 1), [a])

    def floor(self, a: Val) -> Val:
        return self.b.call(self._intrinsic("llvm.floor", 1), [a])

    def minnum(self, a: Num, b: Num) -> Val:
        """IEEE minNum: a NaN operand yields the other operand (used to keep NaN out of integer conversions)."""
        return self.b.call(self._intrinsic("llvm.minnum", 2), [self._f(a), self._f(b)])

    def maxnum(self, a: Num, b: Num) -> Val:
        return self.b.call(self._intrinsic("llvm.maxnum", 2), [self._f(a), self._f(b)])

    def clamp(self, a: Val, lo: float, hi: float) -> Val:
        """`a` limited to [lo, hi]; NaN becomes `lo`, so the result is always safe to convert to an integer."""
        return self.maxnum(self.minnum(a, hi), lo)

    def poly(self, x: Val, coeffs: Sequence[float], estrin: bool = False) -> Val:
        """The polynomial with `coeffs` (highest degree first) at x, with fma.

        Horner's scheme by default. `estrin=True` pairs terms as (a0 + a1 x) + x^2 (a2 + a3 x) + ..., a dependency
        chain of about log2(degree) fmas instead of degree: the long bodies (pow) are latency-bound once
        vectorized. Horner keeps the last bit better where the terms cancel, so it stays the default.
        """
        if not estrin:
            acc: Val = self.c(coeffs[0])
            for co in coeffs[1:]:
                acc = self.fma(acc, x, co)
            return acc
        terms: list[Val] = [self.c(co) for co in reversed(coeffs)]
        power = x
        while len(terms) > 1:
            pairs = [self.fma(terms[i + 1], power, terms[i]) for i in range(0, len(terms) - 1, 2)]
            terms = pairs + terms[len(terms) - len(terms) % 2:]
            if len(terms) > 1:
                power = self.mul(power, power)
        return terms[0]

    # -- comparisons and selection ----------------------------------------------------------------------------

    def cmp(self, op: str, a: Num, b: Num) -> Val:
        """Ordered comparison (false when either side is NaN)."""
        return self.b.fcmp_ordered(op, self._f(a), self._f(b))

    def isnan(self, a: Val) -> Val:
        return self.b.fcmp_unordered("uno", a, a)

    def sel(self, cond: Val, a: Num, b: Num) -> Val:
        a, b = self._f(a), self._f(b)
        return self.b.select(cond, a, b)

    def or_(self, p: Val, q: Val) -> Val:
        return self.b.or_(p, q)

    def and_(self, p: Val, q: Val) -> Val:
        return self.b.and_(p, q)

    def not_(self, p: Val) -> Val:
        return self.b.not_(p)

    # -- bits and integers ------------------------------------------------------------------------------------

    def bits(self, a: Val) -> Val:
        return self.b.bitcast(a, self.ity)

    def from_bits(self, i: Val) -> Val:
        return self.b.bitcast(i, self.ty)

    def to_int(self, a: Val) -> Val:
        """fptosi; callers guarantee `a` is a finite integer-valued float in range (never NaN)."""
        return self.b.fptosi(a, self.ity)

    def to_float(self, i: Val) -> Val:
        return self.b.sitofp(i, self.ty)

    def iadd(self, a: Union[Val, int], b: Union[Val, int]) -> Val:
        return self.b.add(self._i(a), self._i(b))

    def isub(self, a: Union[Val, int], b: Union[Val, int]) -> Val:
        return self.b.sub(self._i(a), self._i(b))

    def iand(self, a: Union[Val, int], b: Union[Val, int]) -> Val:
        return self.b.and_(self._i(a), self._i(b))

    def ior(self, a: Union[Val, int], b: Union[Val, int]) -> Val:
        return self.b.or_(self._i(a), self._i(b))

    def shl(self, a: Union[Val, int], n: Union[Val, int]) -> Val:
        return self.b.shl(self._i(a), self._i(n))

    def ashr(self, a: Union[Val, int], n: Union[Val, int]) -> Val:
        return self.b.ashr(self._i(a), self._i(n))

    def lshr(self, a: Union[Val, int], n: Union[Val, int]) -> Val:
        return self.b.lshr(self._i(a), self._i(n))

    def icmp(self, op: str, a: Union[Val, int], b: Union[Val, int]) -> Val:
        return self.b.icmp_signed(op, self._i(a), self._i(b))

    def isel(self, cond: Val, a: Union[Val, int], b: Union[Val, int]) -> Val:
        return self.b.select(cond, self._i(a), self._i(b))

    # -- composite helpers ------------------------------------------------------------------------------------

    def pow2i(self, k: Val) -> Val:
        """2**k for an integer `k` within the normal exponent range, built from its bit pattern."""
        return self.from_bits(self.shl(self.iadd(k, self.bias), self.mant_bits))

    def scale(self, a: Val, k: Val) -> Val:
        """a * 2**k for |k| up to about twice the exponent range, with a single rounding.

        2**k is split into two normal factors; `a * 2**k1` is exact because `a` is near 1, so only the second
        product rounds, which gives correct gradual underflow and overflow to infinity.
        """
        k1 = self.ashr(k, 1)
        k2 = self.isub(k, k1)
        return self.mul(self.mul(a, self.pow2i(k1)), self.pow2i(k2))
