"""LLVM rules of the rows that order a vector by value (ir.ops_order).

`first_occurrence`: a stable sort of the positions 0..n-1 by value (insertion sort of runs of RUN positions, then
bottom-up merge passes between two heap blocks of n i64 positions, swapped after each pass of doubling width; each
merge step is branch-free: both candidates are loaded, indices clamped to the run, and a select takes the left one
unless the right one is strictly less), then one pass over the sorted positions: a position whose value equals the
previous one's takes the run's first position, since a stable sort puts the first occurrence first. NaN sorts last
and equals nothing, so each NaN starts its own run. O(n log n) compares, each a load through a position.
"""
from __future__ import annotations

from typing import Any, Callable

import llvmlite.ir as lir

from codegen.context import LowerContext
from codegen.rules.registry import lowers, never_tiles
from codegen.values import I64, PTR, CValue
from ir.types import DType

Key = Callable[[lir.Value], lir.Value]
RUN = 16  # positions sorted by insertion before the merge passes


def _less(b: lir.IRBuilder, dtype: DType, a: lir.Value, c: lir.Value) -> lir.Value:
    """a < c in the sort's order (NaN after every number)."""
    if dtype.is_floating:
        c_nan = b.fcmp_unordered("uno", c, c)
        a_num = b.fcmp_ordered("ord", a, a)
        return b.or_(b.fcmp_ordered("<", a, c), b.and_(c_nan, a_num))
    if dtype.is_bool or dtype.is_unsigned:
        return b.icmp_unsigned("<", a, c)
    return b.icmp_signed("<", a, c)


def _equal(b: lir.IRBuilder, dtype: DType, a: lir.Value, c: lir.Value) -> lir.Value:
    return b.fcmp_ordered("==", a, c) if dtype.is_floating else b.icmp_unsigned("==", a, c)


def _at(b: lir.IRBuilder, ptr: lir.Value, i: lir.Value) -> lir.Value:
    return b.gep(ptr, [i], inbounds=True, source_etype=I64)


def stable_argsort(ctx: LowerContext, key: Key, dtype: DType, n: lir.Value) -> lir.Value:
    """A heap block of the n positions sorted stably by `key(position)` (freed with the call's other blocks)."""
    b = ctx.b
    nbytes = b.mul(n, ctx.i64(8), flags=["nsw"])
    src, dst = ctx.entry_alloca(PTR), ctx.entry_alloca(PTR)
    b.store(ctx.heap_alloc(nbytes), src)
    b.store(ctx.heap_alloc(nbytes), dst)
    first = b.load(src, typ=PTR)
    ctx.for_range(n, lambda i: b.store(i, _at(b, first, i)))
    _insertion_sort_runs(ctx, key, dtype, first, n)
    width = ctx.entry_alloca(I64)
    b.store(ctx.i64(RUN), width)
    head, body, done = (b.append_basic_block(name) for name in ("sort.width", "sort.pass", "sort.done"))
    b.branch(head)
    b.position_at_end(head)
    b.cbranch(b.icmp_signed("<", b.load(width, typ=I64), n), body, done)
    b.position_at_end(body)
    w = b.load(width, typ=I64)
    s, d = b.load(src, typ=PTR), b.load(dst, typ=PTR)
    span = b.shl(w, ctx.i64(1))
    runs = b.sdiv(b.add(n, b.sub(span, ctx.i64(1))), span)
    i_slot, j_slot = ctx.entry_alloca(I64), ctx.entry_alloca(I64)

    def clamp(v: lir.Value) -> lir.Value:
        return b.select(b.icmp_signed("<", v, n), v, n)

    def merge(r: lir.Value) -> None:
        lo = b.mul(r, span, flags=["nsw"])
        mid, hi = clamp(b.add(lo, w)), clamp(b.add(lo, span))
        b.store(lo, i_slot)
        b.store(mid, j_slot)

        def step(k: lir.Value) -> None:
            i, j = b.load(i_slot, typ=I64), b.load(j_slot, typ=I64)
            left_ok, right_ok = b.icmp_signed("<", i, mid), b.icmp_signed("<", j, hi)
            pi = b.load(_at(b, s, b.select(left_ok, i, lo)), typ=I64)
            pj = b.load(_at(b, s, b.select(right_ok, j, lo)), typ=I64)
            right_first = b.and_(right_ok, b.or_(b.not_(left_ok), _less(b, dtype, key(pj), key(pi))))
            b.store(b.select(right_first, pj, pi), _at(b, d, k))
            b.store(b.add(i, b.zext(b.not_(right_first), I64)), i_slot)
            b.store(b.add(j, b.zext(right_first, I64)), j_slot)
        ctx.for_range(hi, step, start=lo, vectorize=False)
    ctx.for_range(runs, merge, vectorize=False)
    b.store(d, src)
    b.store(s, dst)
    b.store(span, width)
    b.branch(head)
    b.position_at_end(done)
    return b.load(src, typ=PTR)


def _insertion_sort_runs(ctx: LowerContext, key: Key, dtype: DType, pos: lir.Value, n: lir.Value) -> None:
    """Sort each run of RUN positions in place, stably (an element moves left only past strictly greater ones)."""
    b = ctx.b
    runs = b.sdiv(b.add(n, ctx.i64(RUN - 1)), ctx.i64(RUN))
    j_slot = ctx.entry_alloca(I64)

    def run(r: lir.Value) -> None:
        lo = b.mul(r, ctx.i64(RUN), flags=["nsw"])
        hi = b.add(lo, ctx.i64(RUN))
        hi = b.select(b.icmp_signed("<", hi, n), hi, n)

        def insert(i: lir.Value) -> None:
            p = b.load(_at(b, pos, i), typ=I64)
            kp = key(p)
            b.store(i, j_slot)
            head, shift, done = (b.append_basic_block(name) for name in ("ins.head", "ins.shift", "ins.done"))
            b.branch(head)
            b.position_at_end(head)
            j = b.load(j_slot, typ=I64)
            more = b.icmp_signed(">", j, lo)
            prev = b.load(_at(b, pos, b.select(more, b.sub(j, ctx.i64(1)), j)), typ=I64)
            b.cbranch(b.and_(more, _less(b, dtype, kp, key(prev))), shift, done)
            b.position_at_end(shift)
            b.store(prev, _at(b, pos, j))
            b.store(b.sub(j, ctx.i64(1)), j_slot)
            b.branch(head)
            b.position_at_end(done)
            b.store(p, _at(b, pos, b.load(j_slot, typ=I64)))
        ctx.for_range(hi, insert, start=b.add(lo, ctx.i64(1)), vectorize=False)
    ctx.for_range(runs, run, vectorize=False)


@lowers("first_occurrence", dynamic=True)
def _first_occurrence(ctx: LowerContext, op: Any, x: CValue) -> CValue:
    b = ctx.b
    x = ctx.buffer(x)
    dtype = x.type.dtype
    size = x.dims[0]
    n = ctx.i64(size) if isinstance(size, int) else size
    out = ctx.alloc(op.results[0].type, [size])
    mark = ctx.heap_mark()
    order = stable_argsort(ctx, lambda p: x.load(b, [p]), dtype, n)
    start = ctx.entry_alloca(I64)
    b.store(ctx.i64(0), start)

    def run(k: lir.Value) -> None:
        p = b.load(_at(b, order, k), typ=I64)
        prev = b.load(_at(b, order, b.select(b.icmp_signed(">", k, ctx.i64(0)), b.sub(k, ctx.i64(1)), k)), typ=I64)
        same = b.and_(b.icmp_signed(">", k, ctx.i64(0)), _equal(b, dtype, x.load(b, [p]), x.load(b, [prev])))
        first = b.select(same, b.load(start, typ=I64), p)
        b.store(first, start)
        out.store(b, [p], first)
    ctx.for_range(n, run, vectorize=False)
    ctx.free_heap(mark)
    return out


never_tiles("first_occurrence")
