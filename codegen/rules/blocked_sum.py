"""Float sums in blocks: the accuracy scheme of reductions' float sums over trailing axes (used by
`codegen.rules.reduce`).

A sum over a long row vectorizes only with `reassoc`, and LLVM then keeps 4 vector accumulators of 16 float32
lanes, 64 running sums each adding every 64th element: their error grows with the row. Here the row is cut into
blocks of SUM_BLOCK elements; each block's total (its 64 lanes added up) goes into a float64 accumulator.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import llvmlite.ir as lir

from codegen.context import SMALL_LOOP_WORK, LowerContext
from codegen.values import CValue, constant, reg_type
from ir.types import DType

#: Elements of one block of a float sum (see `blocked_sum`): 4 vectors of 16 float32 lanes each add 32 of them.
SUM_BLOCK = 2048
#: Shorter reduced rows (unless there is only one) are summed as before (one accumulator chain across rows): a
#: row's horizontal add and widening would cost more than its elements.
MIN_BLOCKED_ROW = 256


def blocked_sum(ctx: LowerContext, x: CValue, idx: list[lir.Value], red: Sequence[int], dtype: DType,
                 acc: lir.Value, add: Callable[[LowerContext, lir.Value, lir.Value], lir.Value],
                 one_row: bool = False) -> lir.Value:
    """The float sum of x[idx + j] over the reduced shape `red`, in register precision. The last reduced axis is
    cut into blocks of SUM_BLOCK; each block is summed in `acc` (vectorized with `reassoc`), and the blocks' totals
    into a float64 sum (plain for float32 and the halves: their rounding is far below float32's; Neumaier-compensated
    for float64). The error bound is then about (SUM_BLOCK / 64 + 6) units of roundoff times the sum of |x| for
    float32, against numpy's pairwise (16 + log2(n / 128)): about the same for 16M elements, and n-independent.
    A single row (`one_row`) too short for vector code is added element by element in float64 (the finish of a
    threaded sum adds its chunks' partial sums so)."""
    b = ctx.b
    f64 = lir.DoubleType()
    reg = reg_type(dtype)
    wide, comp = ctx.entry_alloca(f64), ctx.entry_alloca(f64)
    b.store(lir.Constant(f64, 0.0), wide)
    b.store(lir.Constant(f64, 0.0), comp)
    zero = constant(dtype, 0)
    length = red[-1]
    blocks = length // SUM_BLOCK
    short = one_row and length < SMALL_LOOP_WORK

    def block_total(v: Optional[lir.Value] = None) -> None:
        v = b.load(acc, typ=reg) if v is None else v
        v = v if reg == f64 else b.fpext(v, f64)
        s = b.load(wide, typ=f64)
        t_ = b.fadd(s, v)
        if dtype.size == 8:  # Neumaier: what t_ lost of the smaller addend
            big = b.fcmp_ordered(">=", ctx.intrinsic("llvm.fabs", s), ctx.intrinsic("llvm.fabs", v))
            lost = b.select(big, b.fadd(b.fsub(s, t_), v), b.fadd(b.fsub(v, t_), s))
            b.store(b.fadd(b.load(comp, typ=f64), lost), comp)
        b.store(t_, wide)

    def row(jdx: list[lir.Value]) -> None:
        def block(k: lir.Value) -> None:
            base = b.mul(k, ctx.i64(SUM_BLOCK))
            b.store(zero, acc)
            ctx.for_range(SUM_BLOCK, lambda j: b.store(add(ctx, b.load(acc, typ=reg),
                                                           x.load(b, idx + jdx + [b.add(base, j)])), acc))
            block_total()
        if blocks:
            ctx.for_range(blocks, block, vectorize=False)
        if short:  # too few elements for vector code: each goes into the float64 sum
            ctx.for_range(length, lambda j: block_total(x.load(b, idx + jdx + [j])))
        elif length % SUM_BLOCK:
            b.store(zero, acc)
            ctx.for_range(length, lambda j: b.store(add(ctx, b.load(acc, typ=reg), x.load(b, idx + jdx + [j])), acc),
                          start=blocks * SUM_BLOCK)
            block_total()
    ctx.loop_nest(red[:-1], row)
    total = b.fadd(b.load(wide, typ=f64), b.load(comp, typ=f64))
    return total if reg == f64 else b.fptrunc(total, reg)
