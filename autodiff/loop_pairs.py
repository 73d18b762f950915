"""Reverse mode through a gradient's own loops (reverse over reverse on the IR: `grad(grad(f))`, a nested tape
around a call of a function that loops, `check_grads` at order 2 in reverse mode).

Reverse mode turns a `while_loop` L into a pair: a taping loop T (L's carried values, a trip counter, one stack per
carried value, which each trip pushes) and, later in the same block, a popping loop P (the counter, T's stacks, the
cotangents of L's floating-point results, accumulators for those of L's captured values, L's captured values). When
a second reverse sweep meets them, neither is swept back as a loop (that would need cotangent stacks):
- T is copied, and its backward is that of L, rebuilt from T (`untaped`: T's body without the pushes and the
  counter), swept forward and back afresh (P consumed T's stacks);
- P is copied, and its backward is the transpose of L's vjp (`autodiff.transpose.loop_vjp_transpose`): its
  cotangent inputs get J w, L's operands d/du <g, J w>, for the cotangents w of P's results.
The layouts read here are the ones `autodiff.rules_reverse.WhileVJP` writes.
"""
from __future__ import annotations

from typing import Optional, Sequence

from autodiff.reverse import Record, Sweep, differentiable
from autodiff.transpose import loop_vjp_transpose
from ir.core import Block, Op, Value
from ir.inline import inline
from ir.types import RefType, StackType


def _wants(v: Value) -> bool:
    return differentiable(v) or isinstance(v.type, RefType)


def _fresh(args: Sequence[Value]) -> list[Value]:
    return [Value(a.type, a.name) for a in args]


def untaped(op: Op) -> Optional[Op]:
    """The loop that the taping loop `op` instruments (its operands are op's, its results new), or None when op
    does not have a taping loop's layout (k carried values, a counter, k stacks; the body pushing them)."""
    n = op.attrs.get("carried", 0)
    k = n // 2
    if n % 2 != 1 or not all(isinstance(v.type, StackType) for v in op.operands[k + 1:n]) or \
            any(isinstance(v.type, StackType) for v in op.operands[:k + 1] + op.operands[n:]):
        return None
    cond_t, body_t = op.regions
    cond = Block(_fresh(cond_t.args[:k]) + _fresh(cond_t.args[n:]), label=cond_t.label)
    inline(cond_t, cond, cond.args[:k] + _fresh(cond_t.args[k:n]) + cond.args[k:])
    tainted = {id(a) for a in body_t.args[k:n]}  # the counter and the stacks: L's values never depend on them
    kept: list[Op] = []
    for o in body_t.ops:
        if o.opdef.terminator:
            if any(id(v) in tainted for v in o.operands[:k]):
                return None
            kept.append(Op(o.opdef, o.operands[:k], [], dict(o.attrs)))
        elif any(id(v) in tainted for v in o.operands):
            tainted.update(id(r) for r in o.results)
        else:
            kept.append(o)
    body = Block(_fresh(body_t.args[:k]) + _fresh(body_t.args[n:]), label=body_t.label)
    inline(Block(body_t.args, kept), body, body.args[:k] + _fresh(body_t.args[k:n]) + body.args[k:])
    return Op(op.opdef, op.operands[:k] + op.operands[n:], _fresh(op.results[:k]), {"carried": k},
              [cond, body], op.loc)


class TapedRecord(Record):
    """A taping loop copied by a second sweep: swept back as the loop it instruments."""

    __slots__ = ("plain",)

    def __init__(self, op: Op, old: Op, plain: Op) -> None:
        super().__init__(op, old)
        self.plain = plain

    def u(self) -> list[Value]:
        """The copy's operands that stand for the plain loop's."""
        n = self.old.attrs["carried"]
        return self.op.operands[:n // 2] + self.op.operands[n:]

    def backward(self, sweep: Sweep) -> None:
        k = len(self.plain.results)
        seeds = [(i, sweep.ct[id(r)]) for i, r in enumerate(self.op.results[:k]) if id(r) in sweep.ct]
        if not seeds:
            return
        sub = Sweep(sweep.em, recompute=True)
        u = self.u()
        for a, v in zip(self.plain.operands, u):
            sub.vmap[id(a)] = v
        sub.forward([self.plain])
        for i, g in seeds:
            sub.seed(sub.vmap[id(self.plain.results[i])], g)
        sub.backward()
        done: set[int] = set()
        for v in u:
            if id(v) in sub.ct and id(v) not in done and _wants(v):
                sweep.accumulate(v, sub.ct[id(v)])
            done.add(id(v))


class PoppingRecord(Record):
    """A popping loop copied by a second sweep: swept back by transposing the plain loop's vjp."""

    __slots__ = ("taped", "diff", "wants")

    def __init__(self, op: Op, old: Op, taped: TapedRecord, diff: list[int], wants: list[int]) -> None:
        super().__init__(op, old)
        self.taped = taped
        self.diff = diff     # the carried positions whose cotangents the popping loop carries
        self.wants = wants   # the positions (in the plain loop's operands) of the captured values it accumulates

    def backward(self, sweep: Sweep) -> None:
        plain = self.taped.plain
        k = len(plain.results)
        base = 1 + k  # the counter and the stacks come first
        ws: list[Optional[Value]] = [None] * len(plain.operands)
        for j, pos in enumerate(self.diff + self.wants):
            ws[pos] = sweep.ct.get(id(self.op.results[base + j]))
        if all(w is None for w in ws):
            return
        gs: list[Optional[Value]] = [None] * k
        for j, i in enumerate(self.diff):
            gs[i] = self.op.operands[base + j]
        u = self.taped.u()
        ct_u, ct_g = loop_vjp_transpose(sweep.b, plain, u, gs, ws)
        for v, c in zip(u, ct_u):
            if c is not None and _wants(v):
                sweep.accumulate(v, c)
        for g, c in zip(gs, ct_g):
            if g is not None and c is not None:
                sweep.accumulate(g, c)


def forward_over_stacks(sweep: Sweep, op: Op, operands: list[Value]) -> bool:
    """Copies `op` (a loop that carries stacks) for a second sweep, recorded as a taping or popping loop; False
    when it is neither (its stacks come from elsewhere, e.g. from outside the region being swept)."""
    plain = untaped(op)
    if plain is not None:
        sweep.copy(op, operands)
        rec = TapedRecord(sweep.records[-1].op, op, plain)
        sweep.records[-1] = rec
        for s in op.results[len(plain.results) + 1:2 * len(plain.results) + 1]:
            sweep.taped[id(s)] = rec
        return True
    taped = next((sweep.taped[id(v)] for v in op.operands if id(v) in sweep.taped), None)
    if not isinstance(taped, TapedRecord):
        return False
    k = len(taped.plain.results)
    diff = [i for i in range(k) if differentiable(taped.plain.results[i])]
    wants = [k + j for j, c in enumerate(taped.plain.operands[k:]) if _wants(c)]
    if op.attrs.get("carried") != 1 + k + len(diff) + len(wants):
        return False
    sweep.copy(op, operands)
    sweep.records[-1] = PoppingRecord(sweep.records[-1].op, op, taped, diff, wants)
    return True
