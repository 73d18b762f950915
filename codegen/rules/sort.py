"""LLVM rules of the sort and scan rows (ir.ops_sort).

`argsort`: each row's keys are copied into a contiguous heap block (negated for floats, inverted for integers and
bool when descending), then sorted with `order.stable_argsort` (insertion-sorted runs, then branch-free merge
passes; O(n log n)); the positions are stored as int32 and the row's heap blocks freed before the next row.
`cumsum` / `cumprod`: a loop nest over every position but the scanned axis, and inside it one sequential loop along
the axis with a running accumulator in a register (in the order numpy's accumulate uses, so results are bit-equal
to the eager kernel's; float16 and bfloat16 round after each step as numpy does).
"""
from __future__ import annotations

from typing import Any

import llvmlite.ir as lir

from codegen.context import LowerContext
from codegen.rules.order import stable_argsort
from codegen.rules.registry import lowers, never_tiles
from codegen.values import I64, CValue, reg_type, round_to


@lowers("argsort", dynamic=True)
def _argsort(ctx: LowerContext, op: Any, x: CValue) -> CValue:
    b = ctx.b
    x = ctx.buffer(x)
    dtype = x.type.dtype
    descending = op.attrs["descending"]
    dims = list(x.dims)
    size = dims[-1]
    n = ctx.i64(size) if isinstance(size, int) else size
    out = ctx.alloc(op.results[0].type, dims)

    ty = reg_type(dtype)

    def row(idx: list[lir.Value]) -> None:
        lead = idx[:-1]
        mark = ctx.heap_mark()
        keys = ctx.heap_alloc(b.mul(n, ctx.i64(8)))  # the row's keys, contiguous (8 bytes cover any register type)

        def slot(p: lir.Value) -> lir.Value:
            return b.gep(keys, [p], inbounds=True, source_etype=ty)

        def put_key(p: lir.Value) -> None:
            v = x.load(b, lead + [p])
            if descending:
                v = b.fneg(v) if dtype.is_floating else b.not_(v)
            b.store(v, slot(p))
        ctx.for_range(n, put_key)
        order = stable_argsort(ctx, lambda p: b.load(slot(p), typ=ty), dtype, n)

        def put(k: lir.Value) -> None:
            p = b.load(b.gep(order, [k], inbounds=True, source_etype=I64), typ=I64)
            out.store(b, lead + [k], b.trunc(p, reg_type(out.type.dtype)))
        ctx.for_range(n, put)
        ctx.free_heap(mark)
    ctx.loop_nest(dims[:-1] + [1], row)
    return out


def _scan(combine: str) -> Any:
    def rule(ctx: LowerContext, op: Any, x: CValue) -> CValue:
        b = ctx.b
        axis, exclusive, reverse = op.attrs["axis"], op.attrs["exclusive"], op.attrs["reverse"]
        dtype = x.type.dtype
        dims = list(x.dims)
        size = dims[axis]
        n = ctx.i64(size) if isinstance(size, int) else size
        out = ctx.alloc(op.results[0].type, dims)
        acc = ctx.entry_alloca(reg_type(dtype))
        identity = ctx.const(dtype, 0 if combine == "add" else 1)

        def step(a: lir.Value, v: lir.Value) -> lir.Value:
            if dtype.is_floating:
                r = b.fadd(a, v) if combine == "add" else b.fmul(a, v)
                return round_to(b, dtype, r)
            return b.add(a, v) if combine == "add" else b.mul(a, v)

        def line(idx: list[lir.Value]) -> None:
            b.store(identity, acc)

            def along(k: lir.Value) -> None:
                j = b.sub(b.sub(n, ctx.i64(1)), k) if reverse else k
                at = idx[:axis] + [j] + idx[axis + 1:]
                a = b.load(acc, typ=acc.allocated_type)
                nxt = step(a, x.load(b, at))
                out.store(b, at, a if exclusive else nxt)
                b.store(nxt, acc)
            ctx.for_range(n, along, vectorize=False)
        ctx.loop_nest(dims[:axis] + [1] + dims[axis + 1:], line)
        return out
    return rule


lowers("cumsum", dynamic=True)(_scan("add"))
lowers("cumprod", dynamic=True)(_scan("mul"))
never_tiles("argsort", "cumsum", "cumprod")
