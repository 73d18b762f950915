"""Reverse-mode rules of the rows whose reverse is not a plain per-result `vjp`: `cond`, `while_loop`, `call`.

Each rule fills its row's `vjp_region` facet with a `forward` step (emit the op for the forward sweep, instrumented
as its backward needs) and a `backward` step, both run by the generic driver `autodiff.reverse.Sweep`:
- `cond`: the backward is a `cond` on the same predicate; each branch recomputes its forward ops from the captured
  values and runs the backward sweep of that branch.
- `while_loop`: the forward loop also counts its trips and pushes each trip's carried values onto stacks; the
  backward loop runs that many trips, popping the state, recomputing the body from it and running the body's
  backward sweep, carrying the cotangents of the loop variables and accumulating those of captured values. This is
  reverse mode through loops with data-dependent trip counts, nested loops included (each level recomputes the
  level below from its own stacks).
- `call`: the callee's body is inlined into the sweep, so its ops are differentiated like the caller's.
The stack rows are NONDIFF: a gradient's own loops (a taping loop and the popping loop that consumes its stacks)
are swept back as the pair they are, by `autodiff.loop_pairs` (reverse over reverse); a loop over stacks that is
not such a pair is refused (`_refuse_stacks`).
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from autodiff.loop_pairs import PoppingRecord, TapedRecord, forward_over_stacks
from autodiff.reverse import Record, Sweep, ct_type, differentiable, region_vjp
from ir.control import emit_yield
from ir.core import Block, Builder, Op, Value
from ir.emitter import IREmitter
from ir.inline import inline
from ir.opdef import OPS
from ir.types import RefType, StackType, TensorType


def _wants(v: Value) -> bool:
    """Whether a value takes a cotangent: floating-point tensors and Variable references."""
    return differentiable(v) or isinstance(v.type, RefType)


def _refuse_stacks(op: Op) -> None:
    """A loop over stacks that `autodiff.loop_pairs` does not take as a taping or popping loop of its sweep (e.g.
    its stacks come from outside the region being swept): reverse mode through it would push stacks onto stacks,
    which the stack rows do not allow."""
    raise NotImplementedError("reverse mode through a loop over stacks that is not a gradient's taping loop or "
                              "the popping loop of one in the same block is not supported; use forward over "
                              "reverse (engine.hessian, engine.jvp of engine.grad)")


def _as_type(em: IREmitter, v: Value, t: TensorType) -> Value:
    """`v` under the static shape of `t` (a `shape_cast` where the dims differ)."""
    return v if v.type.shape == t.shape else em.shape_cast(v, shape=t.shape)


def _int_constant(b: Builder, value: int) -> Value:
    return b.one(OPS["constant"], value=np.asarray(value, dtype=np.int32))


class CondVJP:
    """`cond`: forward as is; backward a `cond` on the same predicate whose branches sweep back their region."""

    def forward(self, sweep: Sweep, op: Op, operands: list[Value]) -> None:
        sweep.copy(op, operands)

    def backward(self, sweep: Sweep, rec: Record) -> None:
        op = rec.op
        live = [r for r in op.results if differentiable(r)]
        if not any(id(r) in sweep.ct for r in live):
            return
        pred, captured = op.operands[0], op.operands[1:]
        wants = [c for c in captured if _wants(c)]
        if not wants:
            return
        gs = [sweep.zeros_if_none(r) for r in live]
        regions = []
        for region in op.regions:
            block = Block([Value(v.type, v.name) for v in captured] + [Value(g.type, "ct") for g in gs],
                          label=region.label)
            arg_of = dict(zip((id(c) for c in captured), block.args))
            seeds = dict(zip((i for i, r in enumerate(op.results) if differentiable(r)), block.args[len(captured):]))
            cts = region_vjp(region, block, block.args[:len(captured)], seeds, sweep.flags(captured))
            em = IREmitter(Builder(block))
            outs = [cts[j] if cts[j] is not None else em.zeros_like(arg_of[id(c)])
                    for j, c in enumerate(captured) if _wants(c)]
            emit_yield(Builder(block), outs)
            regions.append(block)
        results = sweep.b.op(op.opdef, [pred] + list(captured) + gs, {}, regions=regions,
                             result_types=[ct_type(c.type) for c in wants], loc=op.loc)
        for c, g in zip(wants, results):
            sweep.accumulate(c, g)


class WhileVJP:
    """`while_loop`: the forward loop counts trips and stacks each trip's carried values; the backward loop pops."""

    def forward(self, sweep: Sweep, op: Op, operands: list[Value]) -> None:
        if any(isinstance(v.type, StackType) for v in op.operands):
            if forward_over_stacks(sweep, op, operands):
                return
            _refuse_stacks(op)
        b = sweep.b
        k = op.attrs["carried"]
        carried, captured = operands[:k], operands[k:]
        cond_r, body_r = op.regions
        zero = _int_constant(b, 0)
        stacks0 = [b.one(OPS["stack_new"], dtype=v.type.dtype, shape=v.type.shape) for v in carried]
        types = [v.type for v in carried] + [zero.type] + [s.type for s in stacks0]

        def layout(names: Sequence[Optional[str]], label: Optional[str]) -> Block:
            cap = [Value(v.type, v.name) for v in captured]
            return Block([Value(t, n) for t, n in zip(types, names)] + cap, label=label)

        names = [a.name for a in body_r.args[:k]] + ["trips"] + [f"stack_{a.name or i}" for i, a in
                                                                  enumerate(body_r.args[:k])]
        new_cond = layout(names, cond_r.label)
        inline(cond_r, new_cond, new_cond.args[:k] + new_cond.args[2 * k + 1:], drop_effects=sweep.recompute)
        new_body = layout(names, body_r.label)
        bb = Builder(new_body)
        args = new_body.args
        pushed = [bb.one(OPS["stack_push"], s, x) for s, x in zip(args[k + 1:2 * k + 1], args[:k])]
        trips = bb.one(OPS["add"], args[k], _int_constant(bb, 1))
        yields = inline(body_r, new_body, args[:k] + args[2 * k + 1:], terminate=False, drop_effects=sweep.recompute)
        emit_yield(bb, yields + [trips] + pushed)
        results = b.op(op.opdef, carried + [zero] + stacks0 + captured, {"carried": 2 * k + 1},
                       regions=[new_cond, new_body], result_types=types, loc=op.loc,
                       names=[r.name for r in op.results] + ["trips"] + [None] * k)
        sweep.bind(op, operands, op.results, results[:k])
        sweep.records.append(Record(b.block.ops[-1], op, results[k], results[k + 1:]))

    def backward(self, sweep: Sweep, rec: Record) -> None:
        if isinstance(rec, (TapedRecord, PoppingRecord)):
            rec.backward(sweep)
            return
        op, old = rec.op, rec.old
        k = old.attrs["carried"]
        finals = op.results[:k]
        carried_in = op.operands[:k]
        captured = op.operands[2 * k + 1:]
        diff_carried = [i for i in range(k) if differentiable(finals[i])]
        if not any(id(finals[i]) in sweep.ct for i in diff_carried):
            return
        wants = [c for c in captured if _wants(c)]
        gs = [sweep.zeros_if_none(finals[i]) for i in diff_carried]
        accs = [sweep.em.zeros_like(c) for c in wants]
        state = [rec.counter] + rec.stacks + gs + accs
        types = [v.type for v in state]
        n_st = len(rec.stacks)

        def layout(label: str) -> Block:
            return Block([Value(t) for t in types] + [Value(c.type, c.name) for c in captured], label=label)

        cond_b = layout("cond")
        cb = Builder(cond_b)
        emit_yield(cb, [cb.one(OPS["gt"], cond_b.args[0], _int_constant(cb, 0))])
        body_b = layout("body")
        bb = Builder(body_b)
        args = body_b.args
        counter = bb.one(OPS["sub"], args[0], _int_constant(bb, 1))
        popped = [bb.op(OPS["stack_pop"], [s], {}) for s in args[1:1 + n_st]]
        rests, xs = [p[0] for p in popped], [p[1] for p in popped]
        g_args = args[1 + n_st:1 + n_st + len(gs)]
        acc_args = args[1 + n_st + len(gs):len(state)]
        cap_args = args[len(state):]
        seeds = dict(zip(diff_carried, g_args))
        flags = sweep.flags(captured)
        cts = region_vjp(old.regions[1], body_b, xs + list(cap_args), seeds,
                         None if flags is None else [False] * k + flags)
        em = IREmitter(bb)
        new_gs = [cts[i] if cts[i] is not None else em.zeros_like(xs[i]) for i in diff_carried]
        want_idx = [j for j, c in enumerate(captured) if _wants(c)]
        new_accs = [acc if cts[k + j] is None else em.add(acc, cts[k + j]) for acc, j in zip(acc_args, want_idx)]
        # A cotangent computed from values of known dims where the loop carries unknown ones keeps the carried type.
        new_gs = [_as_type(em, g, a.type) for g, a in zip(new_gs, g_args)]
        new_accs = [_as_type(em, g, a.type) for g, a in zip(new_accs, acc_args)]
        emit_yield(bb, [counter] + rests + new_gs + new_accs)
        results = sweep.b.op(op.opdef, state + list(captured), {"carried": len(state)},
                             regions=[cond_b, body_b], result_types=types, loc=op.loc)
        for i, g in zip(diff_carried, results[1 + n_st:1 + n_st + len(gs)]):
            sweep.accumulate(carried_in[i], g)
        for c, g in zip(wants, results[1 + n_st + len(gs):]):
            sweep.accumulate(c, g)


class CallVJP:
    """`call`: the callee's body is inlined into the forward sweep; its ops are then swept back one by one."""

    def forward(self, sweep: Sweep, op: Op, operands: list[Value]) -> None:
        (body,) = op.regions
        for a, v in zip(body.args, operands):
            sweep.vmap[id(a)] = v
        outs = sweep.forward(body.ops)
        for r, v in zip(op.results, outs):
            sweep.vmap[id(r)] = v

    def backward(self, sweep: Sweep, rec: Record) -> None:
        raise AssertionError("a call is inlined by its forward step and never recorded")


OPS["cond"].vjp_region = CondVJP()
OPS["while_loop"].vjp_region = WhileVJP()
OPS["call"].vjp_region = CallVJP()
