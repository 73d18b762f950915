"""Rules of the stack rows: a stack is a pointer to a growable heap buffer with a header
`{ptr data, i64 len, i64 cap, ptr next}`; push appends (doubling the capacity when full), pop takes the top.
Every stack a call creates is linked into one list that the function frees on both of its exits.

Elements of unknown dims have a run-time size: such a stack's `len` counts bytes, and each element is a record
`[data, padded to 8 bytes][its dims][the record's size in bytes]`, so pop finds the top record from its last word.
"""
from __future__ import annotations

from typing import Any

import llvmlite.ir as lir

from codegen.context import LowerContext
from codegen.rules.registry import lowers
from codegen.values import I8, I64, PTR, Buffer, CValue, Scalar, as_i64, num_elements

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


@lowers("stack_new", dynamic=True)
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


def _reserve(ctx: LowerContext, header: lir.Value, used: lir.Value, need: lir.Value) -> lir.Value:
    """The stack's data with room for `need` more bytes after the `used` ones (its capacity, in bytes, at least
    doubles when it grows)."""
    b = ctx.b
    cap = b.load(_field(ctx, header, 2), typ=I64)
    wanted = b.add(used, need)
    with b.if_then(b.icmp_signed(">", wanted, cap), likely=False):
        realloc = _libc(ctx, "realloc", PTR, [PTR, I64])
        doubled = b.select(b.icmp_signed("<", cap, ctx.i64(16)), ctx.i64(16), b.mul(cap, ctx.i64(2)))
        new_cap = b.select(b.icmp_signed("<", doubled, wanted), wanted, doubled)
        data = b.call(realloc, [b.load(_field(ctx, header, 0), typ=PTR), new_cap])
        code = ctx.error(MemoryError, "stack_push: could not grow a stack to {value} bytes")
        ctx.fail_if(b.icmp_unsigned("==", data, lir.Constant(PTR, None)), code, new_cap)
        b.store(data, _field(ctx, header, 0))
        b.store(new_cap, _field(ctx, header, 2))
    return b.load(_field(ctx, header, 0), typ=PTR)


def _padded(ctx: LowerContext, nbytes: lir.Value) -> lir.Value:
    return ctx.b.and_(ctx.b.add(nbytes, ctx.i64(7)), ctx.i64(-8))


@lowers("stack_push", dynamic=True)
def _stack_push(ctx: LowerContext, op: Any, s: CValue, x: CValue) -> CValue:
    b = ctx.b
    header = s.load(b, [])
    t = op.operands[1].type
    length = b.load(_field(ctx, header, 1), typ=I64)
    if t.is_static:
        nbytes = elem_bytes(t)
        data = _reserve(ctx, header, b.mul(length, ctx.i64(nbytes)), ctx.i64(nbytes))
        slot = b.gep(data, [b.mul(length, ctx.i64(nbytes))], inbounds=True, source_etype=I8)
        ctx.store_all(Buffer(t, slot), x)
        b.store(b.add(length, ctx.i64(1)), _field(ctx, header, 1))
        return Scalar(op.results[0].type, header)
    elem = 1 if t.dtype.is_bool else t.dtype.size
    body = _padded(ctx, b.mul(as_i64(num_elements(b, x.dims)), ctx.i64(elem)))
    record = b.add(body, ctx.i64(8 * (t.rank + 1)))
    data = _reserve(ctx, header, length, record)
    start = b.gep(data, [length], inbounds=True, source_etype=I8)
    ctx.store_all(Buffer(t, start, x.dims, b), x)
    words = b.gep(start, [body], inbounds=True, source_etype=I8)
    for k, d in enumerate(list(x.dims) + [record]):
        b.store(as_i64(d), b.gep(words, [ctx.i64(k)], inbounds=True, source_etype=I64))
    b.store(b.add(length, record), _field(ctx, header, 1))
    return Scalar(op.results[0].type, header)


@lowers("stack_pop", dynamic=True)
def _stack_pop(ctx: LowerContext, op: Any, s: CValue) -> list[CValue]:
    b = ctx.b
    header = s.load(b, [])
    t = op.results[1].type
    used = b.load(_field(ctx, header, 1), typ=I64)
    code = ctx.error(IndexError, "stack_pop: the stack is empty")
    if t.is_static:
        length = b.sub(used, ctx.i64(1))
        ctx.fail_if(b.icmp_signed("<", length, ctx.i64(0)), code)
        b.store(length, _field(ctx, header, 1))
        data = b.load(_field(ctx, header, 0), typ=PTR)
        slot = b.gep(data, [b.mul(length, ctx.i64(elem_bytes(t)))], inbounds=True, source_etype=I8)
        top = Buffer(t, slot)
        value: CValue = Scalar(t, top.load(b, [])) if not t.shape else ctx.materialize(top, ctx.alloc(t))
        return [Scalar(op.results[0].type, header), value]
    ctx.fail_if(b.icmp_signed("<=", used, ctx.i64(0)), code)
    data = b.load(_field(ctx, header, 0), typ=PTR)
    end = b.gep(data, [used], inbounds=True, source_etype=I8)
    record = b.load(b.gep(end, [ctx.i64(-1)], inbounds=True, source_etype=I64), typ=I64)
    start = b.sub(used, record)
    dims = [d if d is not None else b.load(b.gep(end, [ctx.i64(k - t.rank - 1)], inbounds=True, source_etype=I64),
                                           typ=I64) for k, d in enumerate(t.shape)]
    b.store(start, _field(ctx, header, 1))
    top = Buffer(t, b.gep(data, [start], inbounds=True, source_etype=I8), dims, b)
    return [Scalar(op.results[0].type, header), ctx.materialize(top, ctx.alloc(t, dims))]
