"""Scalar rules of the elementwise rows. Each gets the IR op (for operand dtypes and attrs) and LLVM scalars.

Floating-point results follow numpy to the bit where numpy defines them: maximum/minimum propagate NaN and keep
numpy's choice between -0.0 and 0.0, floor division and modulo use numpy's fmod-based algorithm, casts of NaN or
out-of-range floats to integers give the integer minimum as numpy does on x86 (LLVM's fptosi would be poison).
"""
from __future__ import annotations

from typing import Any

import llvmlite.ir as lir

from codegen.context import LowerContext
from codegen.rules.registry import at, lowers
from codegen.values import I1, I32
from ir.ops_elementwise import float_to_int_range
from ir.ops_state import IntegerDivisionByZeroError, InvalidArgumentError
from ir.types import as_dtype, bool_, float64


def _dt(op: Any, i: int = 0) -> Any:
    return op.operands[i].type.dtype


def _contract(ctx: LowerContext, instr: lir.Instruction) -> lir.Instruction:
    return ctx.flags(instr, "contract")


def _arith(fop: str, iop: str) -> Any:
    def rule(ctx: LowerContext, op: Any, x: lir.Value, y: lir.Value) -> lir.Value:
        if _dt(op).is_floating:
            return _contract(ctx, getattr(ctx.b, fop)(x, y))
        return getattr(ctx.b, iop)(x, y)
    return rule


lowers("add")(_arith("fadd", "add"))
lowers("sub")(_arith("fsub", "sub"))
lowers("mul")(_arith("fmul", "mul"))


@lowers("xlogy")
def _xlogy(ctx: LowerContext, op: Any, x: lir.Value, y: lir.Value) -> lir.Value:
    b = ctx.b
    zero = lir.Constant(x.type, 0.0)
    return b.select(b.fcmp_ordered("==", x, zero), zero, _contract(ctx, b.fmul(x, ctx.math("log", y))))


@lowers("div")
def _div(ctx: LowerContext, op: Any, x: lir.Value, y: lir.Value) -> lir.Value:
    return _contract(ctx, ctx.b.fdiv(x, y))


def _integer_operands(op: Any) -> bool:
    return not _dt(op).is_floating


def _check_int_divisor(ctx: LowerContext, op: Any, y: lir.Value) -> None:
    code = ctx.error(IntegerDivisionByZeroError, f"{op.opdef.name}: integer division by zero" + at(op))
    ctx.fail_if(ctx.b.icmp_signed("==", y, lir.Constant(y.type, 0)), code)


def _float_divmod(ctx: LowerContext, x: lir.Value, y: lir.Value) -> tuple[lir.Value, lir.Value]:
    """numpy's npy_divmod for floats: (floor quotient, modulo with the divisor's sign)."""
    b = ctx.b
    zero = lir.Constant(x.type, 0.0)
    mod = b.frem(x, y)
    div = b.fdiv(b.fsub(x, mod), y)
    fix = b.and_(b.fcmp_ordered("!=", mod, zero),
                 b.xor(b.fcmp_ordered("<", y, zero), b.fcmp_ordered("<", mod, zero)))
    mod = b.select(fix, b.fadd(mod, y), mod)
    div = b.select(fix, b.fsub(div, lir.Constant(x.type, 1.0)), div)
    mod = b.select(b.fcmp_ordered("==", mod, zero), ctx.intrinsic("llvm.copysign", zero, y), mod)
    floordiv = ctx.intrinsic("llvm.floor", div)
    floordiv = b.select(b.fcmp_ordered(">", b.fsub(div, floordiv), lir.Constant(x.type, 0.5)),
                        b.fadd(floordiv, lir.Constant(x.type, 1.0)), floordiv)
    # numpy: a zero quotient takes the sign of x / y; division by zero gives x / y itself.
    floordiv = b.select(b.fcmp_ordered("==", div, zero), ctx.intrinsic("llvm.copysign", zero, b.fdiv(x, y)),
                        floordiv)
    floordiv = b.select(b.fcmp_ordered("==", y, zero), b.fdiv(x, y), floordiv)
    return floordiv, mod


def _int_divmod(ctx: LowerContext, x: lir.Value, y: lir.Value) -> tuple[lir.Value, lir.Value]:
    """Truncating quotient and remainder for a nonzero divisor. sdiv/srem of INT_MIN by -1 are undefined in LLVM
    (x86's idiv traps, killing the process); numpy wraps: INT_MIN // -1 == INT_MIN, INT_MIN % -1 == 0. Dividing
    by 1 instead and negating (with wraparound) gives exactly that for every x."""
    b = ctx.b
    minus_one = b.icmp_signed("==", y, lir.Constant(y.type, -1))
    safe = b.select(minus_one, lir.Constant(y.type, 1), y)
    q = b.sdiv(x, safe)
    return b.select(minus_one, b.neg(q), q), b.srem(x, safe)


def _int_floor_divmod(ctx: LowerContext, op: Any, x: lir.Value, y: lir.Value) -> tuple[lir.Value, lir.Value]:
    """Python's floor quotient and modulo (the remainder takes the divisor's sign), failing on a zero divisor."""
    b = ctx.b
    _check_int_divisor(ctx, op, y)
    if _dt(op).is_unsigned:
        return b.udiv(x, y), b.urem(x, y)
    q, r = _int_divmod(ctx, x, y)
    zero = lir.Constant(x.type, 0)
    adjust = b.and_(b.icmp_signed("!=", r, zero), b.xor(b.icmp_signed("<", r, zero), b.icmp_signed("<", y, zero)))
    return b.select(adjust, b.sub(q, lir.Constant(x.type, 1)), q), b.select(adjust, b.add(r, y), r)


@lowers("floordiv", may_fail=_integer_operands)
def _floordiv(ctx: LowerContext, op: Any, x: lir.Value, y: lir.Value) -> lir.Value:
    if _dt(op).is_floating:
        return _float_divmod(ctx, x, y)[0]
    return _int_floor_divmod(ctx, op, x, y)[0]


@lowers("mod", may_fail=_integer_operands)
def _mod(ctx: LowerContext, op: Any, x: lir.Value, y: lir.Value) -> lir.Value:
    if _dt(op).is_floating:
        return _float_divmod(ctx, x, y)[1]
    return _int_floor_divmod(ctx, op, x, y)[1]


@lowers("pow", may_fail=_integer_operands)
def _pow(ctx: LowerContext, op: Any, x: lir.Value, y: lir.Value) -> lir.Value:
    if _dt(op).is_floating:
        return ctx.math("pow", x, y)
    b = ctx.b
    code = ctx.error(InvalidArgumentError, "pow: integers to negative integer powers are not allowed "
                     "(exponent {value})" + at(op))
    ctx.fail_if(b.icmp_signed("<", y, lir.Constant(y.type, 0)), code, y)
    # Exponentiation by squaring, branch-free so loops stay vectorizable.
    one = lir.Constant(x.type, 1)
    result, base, e = one, x, y
    for _ in range(x.type.width):
        bit = b.trunc(e, I1)
        result = b.select(bit, b.mul(result, base), result)
        base = b.mul(base, base)
        e = b.lshr(e, lir.Constant(y.type, 1))
    return result


def _icmp(ctx: LowerContext, op: Any) -> Any:
    """The integer comparison for the operands' dtype: unsigned for unsigned integers and bool."""
    dt = _dt(op)
    return ctx.b.icmp_unsigned if dt.is_unsigned or dt is bool_ else ctx.b.icmp_signed


def _extremum(fpred: str, ipred: str) -> Any:
    def rule(ctx: LowerContext, op: Any, x: lir.Value, y: lir.Value) -> lir.Value:
        b = ctx.b
        if _dt(op).is_floating:
            # numpy (x86): (x > y or isnan(x)) ? x : y (and < for minimum): NaN propagates, and on ties, such as
            # maximum(0.0, -0.0), y wins, as maxps/minps do.
            take_x = b.or_(b.fcmp_ordered(fpred, x, y), b.fcmp_unordered("uno", x, x))
            return b.select(take_x, x, y)
        return b.select(_icmp(ctx, op)(ipred, x, y), x, y)
    return rule


lowers("maximum")(_extremum(">", ">="))
lowers("minimum")(_extremum("<", "<="))


@lowers("relu")
def _relu(ctx: LowerContext, op: Any, x: lir.Value) -> lir.Value:
    b = ctx.b
    zero = lir.Constant(x.type, 0.0 if _dt(op).is_floating else 0)
    at_most_zero = b.fcmp_ordered("<=", x, zero) if _dt(op).is_floating else b.icmp_signed("<=", x, zero)
    return b.select(at_most_zero, zero, x)  # NaN is not <= 0, so it passes; -0.0 becomes 0.0


@lowers("neg")
def _neg(ctx: LowerContext, op: Any, x: lir.Value) -> lir.Value:
    return ctx.b.fneg(x) if _dt(op).is_floating else ctx.b.neg(x)


@lowers("abs")
def _abs(ctx: LowerContext, op: Any, x: lir.Value) -> lir.Value:
    if _dt(op).is_floating:
        return ctx.intrinsic("llvm.fabs", x)
    b = ctx.b
    return b.select(b.icmp_signed("<", x, lir.Constant(x.type, 0)), b.neg(x), x)


@lowers("sign")
def _sign(ctx: LowerContext, op: Any, x: lir.Value) -> lir.Value:
    b = ctx.b
    if _dt(op).is_floating:
        one, zero = lir.Constant(x.type, 1.0), lir.Constant(x.type, 0.0)
        s = b.select(b.fcmp_ordered(">", x, zero), one,
                     b.select(b.fcmp_ordered("<", x, zero), lir.Constant(x.type, -1.0), zero))
        return b.select(b.fcmp_unordered("uno", x, x), x, s)  # sign(nan) = nan
    zero = lir.Constant(x.type, 0)
    return b.sub(b.zext(b.icmp_signed(">", x, zero), x.type), b.zext(b.icmp_signed("<", x, zero), x.type))


def _math(name: str) -> Any:
    def rule(ctx: LowerContext, op: Any, x: lir.Value) -> lir.Value:
        return ctx.math(name, x)
    return rule


for _name in ("exp", "expm1", "log", "log1p", "sin", "cos", "tanh", "logistic", "erf"):
    lowers(_name)(_math(_name))


def _intrinsic(name: str) -> Any:
    def rule(ctx: LowerContext, op: Any, x: lir.Value) -> lir.Value:
        return ctx.intrinsic(name, x)
    return rule


lowers("sqrt")(_intrinsic("llvm.sqrt"))
lowers("floor")(_intrinsic("llvm.floor"))
lowers("ceil")(_intrinsic("llvm.ceil"))


@lowers("round")
def _round(ctx: LowerContext, op: Any, x: lir.Value) -> lir.Value:
    # the default rounding mode rounds half to even, as numpy does; integers are already round
    return ctx.intrinsic("llvm.rint", x) if _dt(op).is_floating else x


@lowers("rsqrt")
def _rsqrt(ctx: LowerContext, op: Any, x: lir.Value) -> lir.Value:
    return ctx.b.fdiv(lir.Constant(x.type, 1.0), ctx.intrinsic("llvm.sqrt", x))


def _compare(fpred: str, ipred: str, unordered: bool = False) -> Any:
    def rule(ctx: LowerContext, op: Any, x: lir.Value, y: lir.Value) -> lir.Value:
        dt = _dt(op)
        if dt.is_floating:
            return (ctx.b.fcmp_unordered if unordered else ctx.b.fcmp_ordered)(fpred, x, y)
        return _icmp(ctx, op)(ipred, x, y)
    return rule


lowers("eq")(_compare("==", "=="))
lowers("ne")(_compare("!=", "!=", unordered=True))  # NaN != NaN
lowers("lt")(_compare("<", "<"))
lowers("le")(_compare("<=", "<="))
lowers("gt")(_compare(">", ">"))
lowers("ge")(_compare(">=", ">="))
lowers("logical_and")(lambda ctx, op, x, y: ctx.b.and_(x, y))
lowers("logical_or")(lambda ctx, op, x, y: ctx.b.or_(x, y))
lowers("logical_not")(lambda ctx, op, x: ctx.b.xor(x, lir.Constant(I1, 1)))
lowers("select")(lambda ctx, op, c, x, y: ctx.b.select(c, x, y))
lowers("stop_gradient")(lambda ctx, op, x: x)


@lowers("convert")
def _convert(ctx: LowerContext, op: Any, x: lir.Value) -> lir.Value:
    src, dst = _dt(op), as_dtype(op.attrs["dtype"])
    b = ctx.b
    to = ctx.reg(dst)
    if src is dst:
        return x
    if dst is bool_:
        if src.is_floating:
            return b.fcmp_unordered("!=", x, lir.Constant(x.type, 0.0))
        return b.icmp_unsigned("!=", x, lir.Constant(x.type, 0))
    if src is bool_:
        return b.uitofp(x, to) if dst.is_floating else b.zext(x, to)
    if src.is_floating and dst.is_floating:
        return _float_to_float(ctx, src, dst, x)
    if src.is_floating:
        return _float_to_int(ctx, dst, x)
    if dst.is_floating:
        return b.uitofp(x, to) if src.is_unsigned else b.sitofp(x, to)
    if dst.bits == src.bits:
        return x
    if dst.bits < src.bits:
        return b.trunc(x, to)
    return b.zext(x, to) if src.is_unsigned else b.sext(x, to)


def _float_to_int(ctx: LowerContext, dst: Any, x: lir.Value) -> lir.Value:
    """TF's cast on x86 (see ir.ops_elementwise.float_to_int): truncate into int32 or int64 where the value is in
    range, else the invalid pattern (LLVM's fptosi would be poison there), then wrap to the destination's width."""
    b = ctx.b
    bits, lo, hi = float_to_int_range(dst)  # lo and hi are exact powers of two
    wide = lir.IntType(bits)
    invalid = -(1 << 31) if dst.bits <= 32 else -(1 << 63)
    ok = b.and_(b.fcmp_ordered(">=", x, lir.Constant(x.type, lo)), b.fcmp_ordered("<", x, lir.Constant(x.type, hi)))
    safe = b.select(ok, x, lir.Constant(x.type, 0.0))
    t = b.select(ok, b.fptosi(safe, wide), lir.Constant(wide, invalid))
    return t if dst.bits == bits else b.trunc(t, ctx.reg(dst))


def _float_to_float(ctx: LowerContext, src: Any, dst: Any, x: lir.Value) -> lir.Value:
    """Between float registers (float16/bfloat16 live in float32 ones; the driver rounds the result to `dst`).
    float64 to a 16-bit float must not round twice (to float32, then again): it rounds to float32 *to odd* (the
    inexact result's last bit set), after which the one rounding to 16 bits is the correctly rounded one."""
    b = ctx.b
    to = ctx.reg(dst)
    if src is float64 and dst.is_half:
        r = b.fptrunc(x, to)
        bits = b.bitcast(r, I32)
        inexact = b.fcmp_unordered("!=", b.fpext(r, x.type), x)
        even = b.icmp_unsigned("==", b.and_(bits, lir.Constant(I32, 1)), lir.Constant(I32, 0))
        # the odd neighbour on the side of x: toward zero if r is farther from zero than x, else away from zero
        farther = b.fcmp_ordered(">", ctx.intrinsic("llvm.fabs", b.fpext(r, x.type)), ctx.intrinsic("llvm.fabs", x))
        step = b.select(farther, lir.Constant(I32, -1), lir.Constant(I32, 1))
        fix = b.and_(b.and_(inexact, even), b.fcmp_ordered("==", x, x))
        fix = b.and_(fix, b.fcmp_ordered("!=", ctx.intrinsic("llvm.fabs", r), lir.Constant(r.type, float("inf"))))
        return b.bitcast(b.select(fix, b.add(bits, step), bits), to)
    if to == x.type:
        return x
    return b.fpext(x, to) if dst.size > src.size else b.fptrunc(x, to)
