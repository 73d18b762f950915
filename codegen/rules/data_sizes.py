"""LLVM rules of the rows whose result size depends on their operands' values (ir.ops_data_sizes).

`argwhere`: two passes over the mask, the first counting its true elements, the second writing their coordinates
into a heap buffer of that many rows (freed with the call's other run-time sized intermediates, or adopted by the
runtime when it is a result).

`shape_cast`: the operand's elements under the result type; a dim refined from run-time to static is checked
(ValueError naming the op and both sizes), a relaxed one keeps the operand's size.
"""
from __future__ import annotations

from typing import Any, Sequence

import llvmlite.ir as lir

from codegen.context import LowerContext
from codegen.rules.registry import lowers, never_tiles
from codegen.values import I64, CValue, Lazy, Scalar, constant


def _true(ctx: LowerContext, m: CValue, idx: Sequence[lir.Value]) -> lir.Value:
    v = m.load(ctx.b, idx)
    t = m.type.dtype
    if t.is_bool:
        return v
    if t.is_floating:
        return ctx.b.fcmp_unordered("!=", v, constant(t, 0))
    return ctx.b.icmp_signed("!=", v, constant(t, 0))


@lowers("argwhere", dynamic=True)
def _argwhere(ctx: LowerContext, op: Any, m: CValue) -> CValue:
    b = ctx.b
    dims = list(m.dims)
    rank = len(dims)
    count = ctx.entry_alloca(I64)
    b.store(ctx.i64(0), count)

    def tally(idx: list[lir.Value]) -> None:
        b.store(b.add(b.load(count, typ=I64), b.zext(_true(ctx, m, idx), I64)), count)
    ctx.loop_nest(dims, tally)
    n = b.load(count, typ=I64)
    out = ctx.alloc(op.results[0].type, [n, rank])
    if rank == 0:
        return out
    row = ctx.entry_alloca(I64)
    b.store(ctx.i64(0), row)

    def write(idx: list[lir.Value]) -> None:
        with b.if_then(_true(ctx, m, idx)):
            k = b.load(row, typ=I64)
            for j, i in enumerate(idx):
                out.store(b, [k, ctx.i64(j)], i)
            b.store(b.add(k, ctx.i64(1)), row)
    ctx.loop_nest(dims, write)
    return out


never_tiles("argwhere")


@lowers("shape_cast", dynamic=True)
def _shape_cast(ctx: LowerContext, op: Any, x: CValue) -> CValue:
    t = op.results[0].type
    if isinstance(x, Scalar):
        return x
    dims = [have if want is None else ctx.same_dim(op, have, want, f"dimension {k}")
            for k, (have, want) in enumerate(zip(x.dims, t.shape))]
    # A relaxed dim is a run-time value from here on (an i64 constant when the operand's is static), so the value
    # is held like any other of run-time size (heap blocks, not the workspace) wherever it goes.
    return Lazy(t, x.load, cheap=x.cheap, dims=[want if want is not None else ctx.i64(d) if isinstance(d, int) else d
                                                for d, want in zip(dims, t.shape)])


never_tiles("shape_cast")
