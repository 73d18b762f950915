"""Rules of the structured rows: `cond` lowers to branches (scalar results meet in phis, tensor results in
buffers both branches write), `while_loop` to a loop with one phi per scalar carried value and two buffers per
tensor carried value, swapped each trip; `call` lowers its callee's body in place (inlined). The terminators
`yield` and `return` hand their operands to the op (or the function) that owns the block.

Unknown dims: a `cond` result of unknown dims is materialized in each branch (a heap block) and the branches'
pointers and dims meet in phis; a carried `while_loop` value of unknown dims (its size may change every trip) lives
in two malloc'ed buffers that grow as needed, swapped each trip, whose pointers sit in slots both exits of the
function free. The heap blocks a trip makes are freed at the end of the trip.
"""
from __future__ import annotations

from typing import Any

import llvmlite.ir as lir

from codegen.context import LowerContext
from codegen.interrupt import emit_poll
from codegen.rules.registry import lowers
from codegen.values import I64, PTR, Buffer, CValue, Dim, Lazy, Scalar, as_i64, is_register, llvm_type, num_elements
from ir.core import Op
from ir.types import TensorType


def _unknown(t: object) -> bool:
    return isinstance(t, TensorType) and not t.is_static


def _has_unknown_dims(op: Op) -> bool:
    """Some value of `op` or of the ops in its regions has an unknown dim (then loop trips free their heap)."""
    ops = [op] + [o for r in op.regions for o in r.walk()]
    return any(_unknown(v.type) for o in ops for v in [*o.operands, *o.results]) or \
        any(_unknown(a.type) for o in ops for r in o.regions for a in r.args)


@lowers("yield", "return", dynamic=True)
def _terminator(ctx: LowerContext, op: Op, *operands: CValue) -> list[CValue]:
    return list(operands)


@lowers("cond", dynamic=True)
def _cond(ctx: LowerContext, op: Op, pred: CValue, *captured: CValue) -> list[CValue]:
    b = ctx.b
    types = [r.type for r in op.results]
    slots = [None if is_register(t) or not t.is_static else ctx.alloc(t) for t in types]
    then_bb, else_bb = b.append_basic_block("cond.then"), b.append_basic_block("cond.else")
    merge = b.append_basic_block("cond.end")
    b.cbranch(pred.load(b, []), then_bb, else_bb)
    branches: list[tuple[list[Any], lir.Block]] = []
    for region, bb in zip(op.regions, (then_bb, else_bb)):
        b.position_at_end(bb)
        outs = ctx.lower_region(region, list(captured))
        values: list[Any] = []
        for t, slot, v in zip(types, slots, outs):
            if slot is not None:
                ctx.store_all(slot, v)
                values.append(None)
            elif is_register(t):
                values.append(v.load(b, []))
            else:  # unknown dims: this branch's buffer and dims
                if v.type != t:  # static sizes where the result's are `?`: a heap copy, as every run-time size
                    v = Lazy(t, v.load, cheap=v.cheap, dims=[ctx.i64(d) if isinstance(d, int) else d for d in v.dims])
                buf = ctx.buffer(v)
                values.append([buf.ptr] + [as_i64(d) for d in buf.dims])
        branches.append((values, b.block))
        b.branch(merge)
    b.position_at_end(merge)
    phis: list[Any] = []  # every phi first: a block starts with its phis
    for k, (t, slot) in enumerate(zip(types, slots)):
        if slot is not None:
            phis.append(None)
            continue
        parts = []
        for j, ty in enumerate([llvm_type(t)] if is_register(t) else [PTR] + [I64] * t.rank):
            phi = b.phi(ty)
            for values, end in branches:
                phi.add_incoming(values[k] if is_register(t) else values[k][j], end)
            parts.append(phi)
        phis.append(parts)
    results: list[CValue] = []
    for t, slot, parts in zip(types, slots, phis):
        if slot is not None:
            results.append(slot)
        elif is_register(t):
            results.append(Scalar(t, parts[0]))
        else:
            results.append(Buffer(t, parts[0], [d if d is not None else parts[1 + i] for i, d in enumerate(t.shape)],
                                  b))
    return results


def _grow(ctx: LowerContext, ptr: lir.Value, cap: lir.Value, need: lir.Value) -> tuple[lir.Value, lir.Value]:
    """`ptr` (malloc'ed, `cap` bytes) reallocated to hold `need` bytes if it is smaller."""
    b = ctx.b
    before = b.block
    with b.if_then(b.icmp_signed(">", need, cap), likely=False):
        grown = b.call(ctx._libc("realloc", PTR, [PTR, I64]), [ptr, need])
        code = ctx.error(MemoryError, "while_loop: could not allocate {value} bytes for a carried value")
        ctx.fail_if(b.icmp_unsigned("==", grown, lir.Constant(PTR, None)), code, need)
        inside = b.block
    new_ptr, new_cap = b.phi(PTR), b.phi(I64)
    new_ptr.add_incoming(ptr, before)
    new_ptr.add_incoming(grown, inside)
    new_cap.add_incoming(cap, before)
    new_cap.add_incoming(need, inside)
    return new_ptr, new_cap


def _nbytes(ctx: LowerContext, t: TensorType, dims: list[Dim]) -> lir.Value:
    elem = 1 if t.dtype.is_bool else t.dtype.size
    return ctx.b.mul(as_i64(num_elements(ctx.b, dims)), ctx.i64(elem), flags=["nsw"])


@lowers("while_loop", dynamic=True)
def _while(ctx: LowerContext, op: Op, *operands: CValue) -> list[CValue]:
    k = op.attrs["carried"]
    init, captured = operands[:k], operands[k:]
    types = [r.type for r in op.results]
    b = ctx.b
    pairs: list[Any] = []
    for t, v in zip(types, init):
        if is_register(t):
            pairs.append(None)
        elif t.is_static:
            first, second = ctx.alloc(t), ctx.alloc(t)
            ctx.store_all(first, v)
            pairs.append((first, second))
        else:  # unknown dims: two owned, growable buffers
            slots = (ctx.owned_slot(), ctx.owned_slot())
            need = _nbytes(ctx, t, list(v.dims))
            first = b.call(ctx._libc("malloc", PTR, [I64]), [b.add(need, ctx.i64(1))])
            code = ctx.error(MemoryError, "while_loop: could not allocate {value} bytes for a carried value")
            ctx.fail_if(b.icmp_unsigned("==", first, lir.Constant(PTR, None)), code, need)
            b.store(first, slots[0])
            ctx.store_all(Buffer(t, first, v.dims, b), v)
            pairs.append(("grow", slots, first, need, [as_i64(d) for d in v.dims]))
    scalars_in = [None if p is not None else v.load(b, []) for p, v in zip(pairs, init)]
    frees = _has_unknown_dims(op)
    pre = b.block
    head = b.append_basic_block("while.head")
    body = b.append_basic_block("while.body")
    done = b.append_basic_block("while.end")
    b.branch(head)
    b.position_at_end(head)
    phis: list[Any] = []
    trip = b.phi(I64)  # counts trips for the interrupt poll (codegen.interrupt)
    trip.add_incoming(lir.Constant(I64, 0), pre)
    for t, pair, s in zip(types, pairs, scalars_in):
        if pair is None:
            phi = b.phi(llvm_type(t))
            phi.add_incoming(s, pre)
            phis.append(phi)
        elif pair[0] == "grow":
            _, _, first, need, dims = pair
            cur, nxt, cur_cap, nxt_cap = b.phi(PTR), b.phi(PTR), b.phi(I64), b.phi(I64)
            dim_phis = [b.phi(I64) for _ in dims]
            for phi, v in zip([cur, nxt, cur_cap, nxt_cap, *dim_phis],
                              [first, lir.Constant(PTR, None), need, ctx.i64(0), *dims]):
                phi.add_incoming(v, pre)
            phis.append(("grow", cur, nxt, cur_cap, nxt_cap, dim_phis))
        else:
            cur, nxt = b.phi(PTR), b.phi(PTR)
            cur.add_incoming(pair[0].ptr, pre)
            nxt.add_incoming(pair[1].ptr, pre)
            phis.append((cur, nxt))
    state: list[CValue] = []
    for t, phi in zip(types, phis):
        if not isinstance(phi, tuple):
            state.append(Scalar(t, phi))
        elif phi[0] == "grow":
            state.append(Buffer(t, phi[1], [d if d is not None else phi[5][i] for i, d in enumerate(t.shape)], b))
        else:
            state.append(Buffer(t, phi[0]))
    mark = ctx.heap_mark() if frees else None
    (c,) = ctx.lower_region(op.regions[0], state + list(captured))
    go = c.load(b, [])
    if frees:
        ctx.free_heap(mark)
    b.cbranch(go, body, done)
    b.position_at_end(body)
    outs = ctx.lower_region(op.regions[1], state + list(captured))
    new_values: list[Any] = []
    for t, pair, phi, v in zip(types, pairs, phis, outs):
        if not isinstance(phi, tuple):
            new_values.append(v.load(b, []))
        elif phi[0] == "grow":
            _, cur, nxt, cur_cap, nxt_cap, _ = phi
            dims = [as_i64(d) for d in v.dims]
            grown, cap = _grow(ctx, nxt, nxt_cap, b.add(_nbytes(ctx, t, dims), ctx.i64(1)))
            b.store(cur, pair[1][0])
            b.store(grown, pair[1][1])
            ctx.store_all(Buffer(t, grown, v.dims, b), v)
            new_values.append((grown, cur, cap, cur_cap, dims))  # the buffer just written becomes current
        else:
            ctx.store_all(Buffer(t, phi[1]), v)
            new_values.append(None)
    if frees:
        ctx.free_heap(mark)
    next_trip = emit_poll(ctx, trip)
    end = b.block
    trip.add_incoming(next_trip, end)
    for phi, v in zip(phis, new_values):
        if not isinstance(phi, tuple):
            phi.add_incoming(v, end)
        elif phi[0] == "grow":
            grown, old, cap, old_cap, dims = v
            for p, x in zip([phi[1], phi[2], phi[3], phi[4], *phi[5]], [grown, old, cap, old_cap, *dims]):
                p.add_incoming(x, end)
        else:
            cur, nxt = phi
            cur.add_incoming(nxt, end)  # the buffer just written becomes current; the old one is next
            nxt.add_incoming(cur, end)
    b.branch(head)
    b.position_at_end(done)
    return state


@lowers("call", dynamic=True)
def _call(ctx: LowerContext, op: Op, *operands: CValue) -> list[CValue]:
    return ctx.lower_region(op.regions[0], list(operands))
