"""The tape steps of a GradientTape used inside a traced function, for the structured ops it records (DESIGN §7).

`engine.trace` emits a cond/while_loop under a recording tape as reverse mode's forward sweep would (a loop also
counts its trips and stacks its states) and records `StructuredVJP`: its backward runs reverse mode's sweep for that
one op, appending IR to the block being traced.

Tapes still recording when that backward runs (an outer tape, a persistent one) must see it, for gradients of
gradients:
- a cond's backward is a cond of cotangents, recorded as any structured op (`record_emitted`);
- a loop's backward is a loop that pops the forward loop's stacks, which reverse mode does not go through; the
  whole backward is recorded as one `LoopVJPStep` instead, (the loop's operands, the seeded cotangents) ->
  (the operands' cotangents), whose own backward is the transpose of the loop's vjp, built from forward mode
  (`autodiff.transpose.loop_vjp_transpose`): nested tapes and a persistent tape's gradient of a gradient go
  through loops with fixed or data-dependent trip counts;
- that transpose's own IR is again a taping loop (of the jvp loop) and its popping loop: `record_emitted` records
  them as a `StructuredVJP` of the loop they tape and a `LoopVJPStep`, so a third tape goes through them too.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

from autodiff import tape as _tape
from autodiff.loop_pairs import untaped
from autodiff.reverse import Record, Sweep, differentiable
from autodiff.transpose import loop_vjp_transpose
from engine.tensor import Tensor
from ir.core import Op
from ir.emitter import IREmitter
from ir.types import RefType, StackType


def _define_from(trace: Any, start: int) -> list[Op]:
    ops = trace.frame.block.ops[start:]
    for op in ops:
        trace.frame.define(op.results)
    return ops


def record_emitted(trace: Any, ops: Sequence[Op]) -> None:
    """Records ops emitted straight into the block (by a structured op's backward) on the active tapes, as if
    they had come through the dispatch funnel, so that a gradient of that gradient can sweep back through them.
    A gradient's own loops among them (the backward of a loop's gradient, met at third order) come in pairs: the
    taping loop is recorded as the loop it instruments (`autodiff.loop_pairs.untaped`), the popping loop that
    consumes its stacks as a `LoopVJPStep`; a loop over other stacks is refused when swept back."""
    taping: dict[int, Record] = {}  # id(stack) -> the record of the taping loop that returns it
    for op in ops:
        rule: Any = op.opdef
        if op.opdef.vjp_region is not None:
            if not any(isinstance(v.type, StackType) for v in op.operands):
                rule = StructuredVJP(trace, Record(op, op))
            elif (plain := untaped(op)) is not None:
                k = len(plain.results)
                rec = Record(op, plain, op.results[k], op.results[k + 1:2 * k + 1])
                rule = StructuredVJP(trace, rec, swept=True)  # its popping loop, among `ops`, consumes the stacks
                taping.update((id(st), rec) for st in rec.stacks)
            else:
                rec = next((taping[id(v)] for v in op.operands if id(v) in taping), None)
                if rec is not None and LoopVJPStep.record_popping(trace, rec, op):
                    continue
                rule = _NoReverseOverReverse(op.opdef.name)
        _tape.record(rule, [Tensor(None, v) for v in op.operands], [Tensor(None, r) for r in op.results],
                     dict(op.attrs))


class StructuredVJP(_tape.TapeRule):
    """The tape's step for a cond/while_loop recorded while tracing: its backward runs reverse mode's sweep for
    that one op (its row's `vjp_region` rule), appending IR to the block being traced."""

    def __init__(self, trace: Any, record: Record, swept: bool = False) -> None:
        self.trace = trace
        self.record = record
        self.name = record.op.opdef.name
        self.swept = swept  # whether a backward loop consumed the record's stacks

    def backward(self, em: Any, gs: Sequence[Any], results: Sequence[Tensor], operands: Sequence[Tensor]) -> list:
        trace = self.trace
        start = len(trace.frame.block.ops)
        record = self.record
        if self.swept and record.stacks:
            # A persistent tape's second gradient: the first backward loop consumed the stacks (each stack value is
            # used once), so the forward loop runs again, without its effects, to fill new ones.
            again = Sweep(IREmitter(trace.frame.builder), recompute=True)
            for v in record.old.operands:
                again.vmap[id(v)] = trace.frame.resolve(v)
            again.forward([record.old])
            record = again.records[-1]
            _define_from(trace, start)
        self.swept = True
        sweep = Sweep(IREmitter(trace.frame.builder))
        seeds: dict[int, Any] = {}
        for r, new, g in zip(results, record.op.results, gs):
            if g is not None:
                seeds[id(new)] = sweep.ct[id(trace.frame.resolve(new))] = trace.value_of(g)
        sweep.records = [record]
        sweep.backward()
        emitted = _define_from(trace, start)
        # The sweep sums the cotangent of a value the op takes twice (a loop's initial value also captured): the
        # tape gets it once, at its first position.
        out: list[Optional[Tensor]] = []
        seen: set[int] = set()
        for t in operands:
            key = id(t._node)
            out.append(Tensor(None, sweep.ct[key]) if key in sweep.ct and key not in seen else None)
            seen.add(key)
        if _tape.active:  # tapes still recording (an outer tape, a persistent one) see the backward
            if record.stacks:
                LoopVJPStep.record(trace, record, seeds, operands, out)
            else:
                record_emitted(trace, emitted)
        return out


class LoopVJPStep(_tape.TapeRule):
    """A loop's backward as one tape step: (the loop's operands u, the cotangents g seeded at its results) -> the
    cotangents of u. Its backward is the transpose of the loop's vjp (`autodiff.transpose`)."""

    def __init__(self, trace: Any, loop: Op, u_pos: list[int], g_pos: list[int], summed: bool = True) -> None:
        self.trace = trace
        self.loop = loop      # the loop as the user wrote it (without the trip counter and stacks)
        self.u_pos = u_pos    # the positions in u of the step's results
        self.g_pos = g_pos    # the loop results whose cotangents are the step's operands after u
        # Whether a result is the cotangent of its value at all its positions in u (else of its position only).
        self.summed = summed
        self.name = f"gradient of {loop.opdef.name}"

    @staticmethod
    def record_popping(trace: Any, taping: Record, op: Op) -> bool:
        """Records the popping loop `op` (emitted, as `taping`'s backward) as a step; False when its layout is not
        `autodiff.rules_reverse.WhileVJP`'s."""
        plain = taping.old
        k = len(plain.results)
        diff = [i for i in range(k) if differentiable(plain.results[i])]
        wants = [k + j for j, c in enumerate(plain.operands[k:]) if differentiable(c) or isinstance(c.type, RefType)]
        if op.attrs.get("carried") != 1 + k + len(diff) + len(wants):
            return False
        n = len(taping.op.operands) - len(plain.operands) + k
        u = [Tensor(None, v) for v in taping.op.operands[:k] + taping.op.operands[n:]]
        gs = [Tensor(None, v) for v in op.operands[1 + k:1 + k + len(diff)]]
        results = [Tensor(None, r) for r in op.results[1 + k:1 + k + len(diff) + len(wants)]]
        _tape.record(LoopVJPStep(trace, plain, diff + wants, diff, summed=False), u + gs, results, {})
        return True

    @staticmethod
    def record(trace: Any, record: Record, seeds: dict[int, Any], operands: Sequence[Tensor],
               cts: Sequence[Optional[Tensor]]) -> None:
        """Records the backward just swept for `record` (a forward loop with stacks: `operands` are its operands,
        `cts` their cotangents, `seeds` the cotangents of its results by id) on the tapes still recording."""
        loop = record.old
        k = loop.attrs["carried"]
        n_inst = len(record.op.operands) - len(loop.operands)  # the trip counter and the stacks, after the carried
        positions = list(range(k)) + list(range(k + n_inst, len(record.op.operands)))
        u = [operands[p] for p in positions]
        g_pos = [i for i, r in enumerate(record.op.results[:len(loop.results)]) if id(r) in seeds]
        gs = [Tensor(None, seeds[id(record.op.results[i])]) for i in g_pos]
        u_pos = [j for j, p in enumerate(positions) if cts[p] is not None]
        if not u_pos:
            return
        step = LoopVJPStep(trace, loop, u_pos, g_pos)
        _tape.record(step, u + gs, [cts[positions[j]] for j in u_pos], {})

    def backward(self, em: Any, ws: Sequence[Any], results: Sequence[Tensor], operands: Sequence[Tensor]) -> list:
        trace = self.trace
        start = len(trace.frame.block.ops)
        n_u = len(self.loop.operands)
        u = [trace.value_of(t) for t in operands[:n_u]]
        gs: list[Any] = [None] * len(self.loop.results)
        for i, t in zip(self.g_pos, operands[n_u:]):
            gs[i] = trace.value_of(t)
        w_of: list[Any] = [None] * n_u
        for j, w in zip(self.u_pos, ws):
            if w is not None:
                w_of[j] = trace.value_of(w)
        if self.summed:  # the step's result for a value is the sum over its positions in u: its w is every position's
            w_by_value = {id(u[j]): w_of[j] for j in self.u_pos if w_of[j] is not None}
            w_of = [w_by_value.get(id(v)) for v in u]
        ct_u, ct_g = loop_vjp_transpose(trace.frame.builder, self.loop, u, gs, w_of)
        emitted = _define_from(trace, start)
        if _tape.active:
            record_emitted(trace, emitted)
        return [None if c is None else Tensor(None, c) for c in ct_u] + \
            [None if ct_g[i] is None else Tensor(None, ct_g[i]) for i in self.g_pos]


class _NoReverseOverReverse(_tape.TapeRule):
    """The tape's step for a gradient's own loop (it pops the stacks its forward loop pushed), met when a third
    tape differentiates a second-order gradient through a loop."""

    def __init__(self, name: str) -> None:
        self.name = name

    def backward(self, em: Any, gs: Sequence[Any], results: Sequence[Any], operands: Sequence[Any]) -> list:
        raise NotImplementedError("a third-order gradient through a loop inside a function (three nested "
                                  "GradientTapes around a tensor loop) is not supported: reverse mode goes through "
                                  "a loop's gradient once; use engine.hessian (forward over reverse) for more")
