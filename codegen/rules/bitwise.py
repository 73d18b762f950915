"""Scalar rules of the bitwise rows (`ir/ops_bitwise.py`): and, or, xor, not, and shifts by a clamped amount.

LLVM's `shl`/`ashr` by the operand's width or more are poison, so the amount is clamped to [0, bits - 1] first,
which is also TensorFlow's (and the eager kernel's) definition.
"""
from __future__ import annotations

from typing import Any

import llvmlite.ir as lir

from codegen.context import LowerContext
from codegen.rules.registry import lowers

lowers("bitwise_and")(lambda ctx, op, x, y: ctx.b.and_(x, y))
lowers("bitwise_or")(lambda ctx, op, x, y: ctx.b.or_(x, y))
lowers("bitwise_xor")(lambda ctx, op, x, y: ctx.b.xor(x, y))
lowers("invert")(lambda ctx, op, x: ctx.b.not_(x))


def _clamped(ctx: LowerContext, op: Any, y: lir.Value) -> lir.Value:
    b = ctx.b
    zero = lir.Constant(y.type, 0)
    top = lir.Constant(y.type, y.type.width - 1)
    if op.operands[0].type.dtype.is_unsigned:
        return b.select(b.icmp_unsigned(">", y, top), top, y)
    y = b.select(b.icmp_signed("<", y, zero), zero, y)
    return b.select(b.icmp_signed(">", y, top), top, y)


@lowers("left_shift")
def _left_shift(ctx: LowerContext, op: Any, x: lir.Value, y: lir.Value) -> lir.Value:
    return ctx.b.shl(x, _clamped(ctx, op, y))


@lowers("right_shift")
def _right_shift(ctx: LowerContext, op: Any, x: lir.Value, y: lir.Value) -> lir.Value:
    # arithmetic (sign-copying) for signed integers, logical for unsigned ones, as numpy and TF
    shift = ctx.b.lshr if op.operands[0].type.dtype.is_unsigned else ctx.b.ashr
    return shift(x, _clamped(ctx, op, y))
