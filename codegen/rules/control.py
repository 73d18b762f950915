"""Rules of the structured rows: `cond` lowers to branches (scalar results meet in phis, tensor results in
buffers both branches write), `while_loop` to a loop with one phi per scalar carried value and two buffers per
tensor carried value, swapped each trip; `call` lowers its callee's body in place (inlined). The terminators
`yield` and `return` hand their operands to the op (or the function) that owns the block.
"""
from __future__ import annotations

from typing import Any

import llvmlite.ir as lir

from codegen.context import LowerContext
from codegen.interrupt import emit_poll
from codegen.rules.registry import lowers
from codegen.values import I64, PTR, Buffer, CValue, Scalar, is_register, llvm_type
from ir.core import Op


@lowers("yield", "return")
def _terminator(ctx: LowerContext, op: Op, *operands: CValue) -> list[CValue]:
    return list(operands)


@lowers("cond")
def _cond(ctx: LowerContext, op: Op, pred: CValue, *captured: CValue) -> list[CValue]:
    b = ctx.b
    types = [r.type for r in op.results]
    slots = [None if is_register(t) else ctx.alloc(t) for t in types]
    then_bb, else_bb = b.append_basic_block("cond.then"), b.append_basic_block("cond.else")
    merge = b.append_basic_block("cond.end")
    b.cbranch(pred.load(b, []), then_bb, else_bb)
    branches: list[tuple[list[Any], lir.Block]] = []
    for region, bb in zip(op.regions, (then_bb, else_bb)):
        b.position_at_end(bb)
        outs = ctx.lower_region(region, list(captured))
        values: list[Any] = []
        for slot, v in zip(slots, outs):
            if slot is None:
                values.append(v.load(b, []))
            else:
                ctx.store_all(slot, v)
                values.append(None)
        branches.append((values, b.block))
        b.branch(merge)
    b.position_at_end(merge)
    results: list[CValue] = []
    for k, (t, slot) in enumerate(zip(types, slots)):
        if slot is not None:
            results.append(slot)
            continue
        phi = b.phi(llvm_type(t))
        for values, end in branches:
            phi.add_incoming(values[k], end)
        results.append(Scalar(t, phi))
    return results


@lowers("while_loop")
def _while(ctx: LowerContext, op: Op, *operands: CValue) -> list[CValue]:
    k = op.attrs["carried"]
    init, captured = operands[:k], operands[k:]
    types = [r.type for r in op.results]
    b = ctx.b
    pairs = []
    for t, v in zip(types, init):
        if not is_register(t):
            first, second = ctx.alloc(t), ctx.alloc(t)
            ctx.store_all(first, v)
            pairs.append((first, second))
        else:
            pairs.append(None)
    scalars_in = [None if p is not None else v.load(b, []) for p, v in zip(pairs, init)]
    pre = b.block
    head = b.append_basic_block("while.head")
    body = b.append_basic_block("while.body")
    done = b.append_basic_block("while.end")
    b.branch(head)
    b.position_at_end(head)
    phis: list[Any] = []
    state: list[CValue] = []
    trip = b.phi(I64)  # counts trips for the interrupt poll (codegen.interrupt)
    trip.add_incoming(lir.Constant(I64, 0), pre)
    for t, pair, s in zip(types, pairs, scalars_in):
        if pair is None:
            phi = b.phi(llvm_type(t))
            phi.add_incoming(s, pre)
            phis.append(phi)
            state.append(Scalar(t, phi))
        else:
            cur, nxt = b.phi(PTR), b.phi(PTR)
            cur.add_incoming(pair[0].ptr, pre)
            nxt.add_incoming(pair[1].ptr, pre)
            phis.append((cur, nxt))
            state.append(Buffer(t, cur))
    (c,) = ctx.lower_region(op.regions[0], state + list(captured))
    b.cbranch(c.load(b, []), body, done)
    b.position_at_end(body)
    outs = ctx.lower_region(op.regions[1], state + list(captured))
    new_scalars = []
    for t, phi, v in zip(types, phis, outs):
        if isinstance(phi, tuple):
            ctx.store_all(Buffer(t, phi[1]), v)
            new_scalars.append(None)
        else:
            new_scalars.append(v.load(b, []))
    next_trip = emit_poll(ctx, trip)
    end = b.block
    trip.add_incoming(next_trip, end)
    for phi, v in zip(phis, new_scalars):
        if isinstance(phi, tuple):
            cur, nxt = phi
            cur.add_incoming(nxt, end)  # the buffer just written becomes current; the old one is next
            nxt.add_incoming(cur, end)
        else:
            phi.add_incoming(v, end)
    b.branch(head)
    b.position_at_end(done)
    return state


@lowers("call")
def _call(ctx: LowerContext, op: Op, *operands: CValue) -> list[CValue]:
    return ctx.lower_region(op.regions[0], list(operands))
