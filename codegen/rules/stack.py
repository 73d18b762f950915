"""Rules of the stack rows: a stack is a pointer to a growable heap buffer with a header
`{ptr data, i64 len, i64 cap, ptr next}`; push appends (doubling the capacity when full), pop takes the top.
Every stack a call creates is linked into one list that the function frees on both of its exits.
"""
from __future__ import annotations

from typing import Any

import llvmlite.ir as lir

from codegen.context import LowerContext
from codegen.rules.registry import lowers
from codegen.values import I8, I64, PTR, Buffer, CValue, Scalar

_HEADER = lir.LiteralStructType([PTR, I64, I64, PTR])


def _libc(ctx: LowerContext, name: str, ret: lir.Type, args: list[lir.Type]) -> lir.Function:
    f = ctx.module.globals.get(name)
    return f if f is not None else lir.Function(ctx.module, lir.FunctionType(ret, args), name)


def _field(ctx: LowerContext, header: lir.Value, i: int) -> lir.Value:
    return ctx.b.gep(header, [lir.Constant(lir.IntType(32), 0), lir.Constant(lir.IntType(32), i)], inbounds=True,
                     source_etype=_HEADER)


def elem_bytes(t: Any) -> int:
    return max(t.size, 1) * (1 if t.dtype.is_bool else t.dtype.size)


def stack_list_head(ctx: LowerContext) -> lir.Value:
    """The slot holding the list of this call's stacks (created on first use; see `free_stacks`)."""
    if getattr(ctx, "stack_head", None) is None:
        slot = ctx.entry_alloca(PTR)
        lir.IRBuilder(ctx.entry).store(lir.Constant(PTR, None), slot)
        ctx.stack_head = slot  # type: ignore[attr-defined]
    return ctx.stack_head  # type: ignore[attr-defined]


def free_stacks(ctx: LowerContext) -> None:
    """At an exit of the function: free every stack this call created (no-op when it created none)."""
    head = getattr(ctx, "stack_head", None)
    if head is None:
        return
    b = ctx.b
    free = _libc(ctx, "free", lir.VoidType(), [PTR])
    pre = b.block
    loop, body, done = (b.append_basic_block(n) for n in ("free.head", "free.body", "free.end"))
    first = b.load(head, typ=PTR)
    b.branch(loop)
    b.position_at_end(loop)
    cur = b.phi(PTR)
    cur.add_incoming(first, pre)
    b.cbranch(b.icmp_unsigned("!=", cur, lir.Constant(PTR, None)), body, done)
    b.position_at_end(body)
    nxt = b.load(_field(ctx, cur, 3), typ=PTR)
    b.call(free, [b.load(_field(ctx, cur, 0), typ=PTR)])
    b.call(free, [cur])
    cur.add_incoming(nxt, body)
    b.branch(loop)
    b.position_at_end(done)


@lowers("stack_new")
def _stack_new(ctx: LowerContext, op: Any) -> CValue:
    b = ctx.b
    malloc = _libc(ctx, "malloc", PTR, [I64])
    header = b.call(malloc, [ctx.i64(32)])
    head = stack_list_head(ctx)
    b.store(lir.Constant(PTR, None), _field(ctx, header, 0))
    b.store(ctx.i64(0), _field(ctx, header, 1))
    b.store(ctx.i64(0), _field(ctx, header, 2))
    b.store(b.load(head, typ=PTR), _field(ctx, header, 3))
    b.store(header, head)
    return Scalar(op.results[0].type, header)


@lowers("stack_push")
def _stack_push(ctx: LowerContext, op: Any, s: CValue, x: CValue) -> CValue:
    b = ctx.b
    header = s.load(b, [])
    t = op.operands[1].type
    nbytes = elem_bytes(t)
    length = b.load(_field(ctx, header, 1), typ=I64)
    cap = b.load(_field(ctx, header, 2), typ=I64)
    with b.if_then(b.icmp_signed("==", length, cap), likely=False):
        realloc = _libc(ctx, "realloc", PTR, [PTR, I64])
        new_cap = b.select(b.icmp_signed("<", cap, ctx.i64(16)), ctx.i64(16), b.mul(cap, ctx.i64(2)))
        data = b.call(realloc, [b.load(_field(ctx, header, 0), typ=PTR), b.mul(new_cap, ctx.i64(nbytes))])
        b.store(data, _field(ctx, header, 0))
        b.store(new_cap, _field(ctx, header, 2))
    data = b.load(_field(ctx, header, 0), typ=PTR)
    slot = b.gep(data, [b.mul(length, ctx.i64(nbytes))], inbounds=True, source_etype=I8)
    ctx.store_all(Buffer(t, slot), x)
    b.store(b.add(length, ctx.i64(1)), _field(ctx, header, 1))
    return Scalar(op.results[0].type, header)


@lowers("stack_pop")
def _stack_pop(ctx: LowerContext, op: Any, s: CValue) -> list[CValue]:
    b = ctx.b
    header = s.load(b, [])
    t = op.results[1].type
    length = b.sub(b.load(_field(ctx, header, 1), typ=I64), ctx.i64(1))
    code = ctx.error(IndexError, "stack_pop: the stack is empty")
    ctx.fail_if(b.icmp_signed("<", length, ctx.i64(0)), code)
    b.store(length, _field(ctx, header, 1))
    data = b.load(_field(ctx, header, 0), typ=PTR)
    slot = b.gep(data, [b.mul(length, ctx.i64(elem_bytes(t)))], inbounds=True, source_etype=I8)
    top = Buffer(t, slot)
    value: CValue = Scalar(t, top.load(b, [])) if not t.shape else ctx.materialize(top, ctx.alloc(t))
    return [Scalar(op.results[0].type, header), value]


