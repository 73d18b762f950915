"""Reverse mode on the IR (DESIGN §7): an ir.Function -> its vector-Jacobian product, as another ir.Function.

`vjp_function(fn, wrt)` returns a function taking (fn's parameters, one cotangent per floating-point result) and
returning (fn's results, the cotangents of the parameters in `wrt`). It is a forward sweep (a copy of fn's ops)
followed by a backward sweep that applies each op's `vjp` facet, the same rules the eager tape uses, through an
emitter that appends IR ops; cotangents are accumulated per value.

Structured ops:
- `cond`: the backward is a `cond` on the same predicate; each branch recomputes its forward ops from the captured
  values and runs the backward sweep of that branch.
- `while_loop`: the forward loop also counts its trips and pushes each trip's carried values onto stacks; the
  backward loop runs that many trips, popping the state, recomputing the body from it and running the body's
  backward sweep, carrying the cotangents of the loop variables and accumulating those of captured values. This is
  reverse mode through loops with data-dependent trip counts, nested loops included (each level recomputes the
  level below from its own stacks).
Only floating-point values (and Variable references, whose cotangent is that of their reads) carry cotangents;
`stop_gradient` and NONDIFF rows stop them.

Recomputation (a backward cond's branch, a backward loop's body) leaves out effects (assign, print, assert): they
ran in the forward sweep and must not run twice. A Variable read while recomputing reads the Variable as it is
during the backward pass; that is its value at the forward read unless the function assigns the Variable, so a
recomputation that needs the read of a Variable the function assigns raises NotImplementedError (read it into a
tensor before the cond or loop instead) rather than differentiating with a later value.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ir.core import Block, Builder, Function, Op, Value
from ir.emitter import Emitter
from ir.opdef import NONDIFF, OPS, Kind, OpDef
from ir.types import RefType, StackType, TensorType


def ct_type(t: TensorType) -> TensorType:
    """The type of a cotangent of a value of type t (a Variable's is its value's)."""
    return t.value_type if isinstance(t, RefType) else TensorType(t.dtype, t.shape)


def differentiable(v: Value) -> bool:
    return v.type.dtype.is_floating and not isinstance(v.type, StackType)


class IREmitter(Emitter):
    """Gradient rules applied by appending ops to a block."""

    def __init__(self, builder: Builder) -> None:
        self.builder = builder

    def apply(self, opdef: OpDef, *operands: Any, **attrs: Any) -> Any:
        results = self.builder.op(opdef, operands, attrs)
        return results[0] if len(results) == 1 else tuple(results)

    def type_of(self, value: Any) -> TensorType:
        return ct_type(value.type)

    def constant(self, value: Any, dtype: Any) -> Any:
        return self.builder.one(OPS["constant"], value=np.asarray(value, dtype=dtype.np))


class _Record:
    """What the forward sweep did with one op, for the backward sweep."""

    __slots__ = ("op", "old", "counter", "stacks")

    def __init__(self, op: Op, old: Op, counter: Optional[Value] = None, stacks: Sequence[Value] = ()) -> None:
        self.op = op
        self.old = old
        self.counter = counter
        self.stacks = list(stacks)


class Sweep:
    """The forward and backward sweeps over one block's ops, appending to `em`'s block. A `recompute` sweep (a
    region recomputed for the backward pass) leaves out effects, which the forward sweep already ran."""

    def __init__(self, em: IREmitter, recompute: bool = False) -> None:
        self.em = em
        self.b = em.builder
        self.recompute = recompute
        # ids of the Variable references (in this sweep's output) that the function assigns somewhere; None when
        # unknown (a sweep not made by vjp_function), which skips the check of recomputed reads.
        self.assigned: Optional[set[int]] = None
        self.stale: set[int] = set()  # recomputed values that depend on reads of assigned Variables
        self.vmap: dict[int, Value] = {}
        self.ct: dict[int, Value] = {}
        self.records: list[_Record] = []

    # ---- forward
    def forward(self, ops: Sequence[Op]) -> list[Value]:
        """Copies the ops (instrumenting while loops); returns the new values of the terminator's operands."""
        for op in ops:
            operands = [self.vmap[id(v)] for v in op.operands]
            if op.opdef.terminator:
                return operands
            if self.recompute and op.opdef.effect:
                continue
            if op.opdef is OPS["while_loop"]:
                self._forward_while(op, operands)
                continue
            regions = [clone_block(r, self.recompute) for r in op.regions]
            new = self.b.op(op.opdef, operands, dict(op.attrs), regions=regions,
                            result_types=[r.type for r in op.results], loc=op.loc, names=[r.name for r in op.results])
            for old, v in zip(op.results, new):
                self.vmap[id(old)] = v
            if self.recompute and self.assigned and _reads_assigned(op, [id(v) in self.assigned for v in operands]):
                self.stale.update(id(v) for v in new)
            self.records.append(_Record(self.b.block.ops[-1], op))
        return []

    def _forward_while(self, op: Op, operands: list[Value]) -> None:
        _refuse_own_backward_loop(op)
        k = op.attrs["carried"]
        carried, captured = operands[:k], operands[k:]
        cond_r, body_r = op.regions
        zero = self.b.one(OPS["constant"], value=np.asarray(0, dtype=np.int32))
        stacks0 = [self.b.one(OPS["stack_new"], dtype=v.type.dtype, shape=v.type.shape) for v in carried]
        types = [v.type for v in carried] + [zero.type] + [s.type for s in stacks0]

        def layout(names: Sequence[Optional[str]]) -> Block:
            cap = [Value(v.type, v.name) for v in captured]
            return Block([Value(t, n) for t, n in zip(types, names)] + cap)

        names = [a.name for a in body_r.args[:k]] + ["trips"] + [f"stack_{a.name or i}" for i, a in
                                                                  enumerate(body_r.args[:k])]
        new_cond = layout(names)
        new_cond.label = cond_r.label
        inline(cond_r, new_cond, new_cond.args[:k] + new_cond.args[2 * k + 1:], drop_effects=self.recompute)
        new_body = layout(names)
        new_body.label = body_r.label
        bb = Builder(new_body)
        args = new_body.args
        pushed = [bb.one(OPS["stack_push"], s, x) for s, x in zip(args[k + 1:2 * k + 1], args[:k])]
        one = bb.one(OPS["constant"], value=np.asarray(1, dtype=np.int32))
        trips = bb.one(OPS["add"], args[k], one)
        yields = inline(body_r, new_body, args[:k] + args[2 * k + 1:], terminate=False, drop_effects=self.recompute)
        bb.op(OPS["yield"], yields + [trips] + pushed, {})
        results = self.b.op(OPS["while_loop"], carried + [zero] + stacks0 + captured, {"carried": 2 * k + 1},
                            regions=[new_cond, new_body], result_types=types, loc=op.loc,
                            names=[r.name for r in op.results] + ["trips"] + [None] * k)
        for old, v in zip(op.results, results[:k]):
            self.vmap[id(old)] = v
        self.records.append(_Record(self.b.block.ops[-1], op, results[k], results[k + 1:]))
        if self.recompute and self.assigned and _reads_assigned(op, [id(v) in self.assigned for v in operands]):
            self.stale.update(id(v) for v in results[:k])

    # ---- backward
    def seed(self, value: Value, g: Value) -> None:
        self.accumulate(value, g)

    def accumulate(self, v: Value, g: Value) -> None:
        key = id(v)
        self.ct[key] = g if key not in self.ct else self.em.add(self.ct[key], g)

    def backward(self) -> None:
        for rec in reversed(self.records):
            op = rec.op
            if op.opdef is OPS["while_loop"]:
                self._backward_while(rec)
            elif op.opdef is OPS["cond"]:
                self._backward_cond(rec)
            elif op.opdef.vjp is not NONDIFF and len(op.results) == 1:
                g = self.ct.get(id(op.results[0]))
                if g is None:
                    continue
                cts = op.opdef.vjp(self.em, g, op.results[0], *op.operands, **op.attrs)
                for x, c in zip(op.operands, cts):
                    if c is not None and (differentiable(x) or isinstance(x.type, RefType)):
                        self.accumulate(x, c)

    def _flags(self, values: Sequence[Value]) -> Optional[list[bool]]:
        """Which of `values` are Variables the function assigns (None: unknown)."""
        return None if self.assigned is None else [id(v) in self.assigned for v in values]

    def _zeros_if_none(self, v: Value) -> Value:
        g = self.ct.get(id(v))
        return g if g is not None else self.em.zeros_like(v)

    def _backward_cond(self, rec: _Record) -> None:
        op = rec.op
        live = [r for r in op.results if differentiable(r)]
        if not any(id(r) in self.ct for r in live):
            return
        pred, captured = op.operands[0], op.operands[1:]
        wants = [c for c in captured if differentiable(c) or isinstance(c.type, RefType)]
        if not wants:
            return
        gs = [self._zeros_if_none(r) for r in live]
        regions = []
        for region in op.regions:
            block = Block([Value(v.type, v.name) for v in captured] + [Value(g.type, "ct") for g in gs],
                          label=region.label)
            arg_of = dict(zip((id(c) for c in captured), block.args))
            seeds = dict(zip((i for i, r in enumerate(op.results) if differentiable(r)), block.args[len(captured):]))
            cts = region_vjp(region, block, block.args[:len(captured)], seeds, self._flags(captured))
            outs = [cts[j] if cts[j] is not None else IREmitter(Builder(block)).zeros_like(arg_of[id(c)])
                    for j, c in enumerate(captured) if differentiable(c) or isinstance(c.type, RefType)]
            Builder(block).op(OPS["yield"], outs, {})
            regions.append(block)
        results = self.b.op(OPS["cond"], [pred] + list(captured) + gs, {}, regions=regions,
                            result_types=[ct_type(c.type) for c in wants], loc=op.loc)
        for c, g in zip(wants, results):
            self.accumulate(c, g)

    def _backward_while(self, rec: _Record) -> None:
        op, old = rec.op, rec.old
        _refuse_own_backward_loop(old)
        k = old.attrs["carried"]
        finals = op.results[:k]
        carried_in = op.operands[:k]
        captured = op.operands[2 * k + 1:]
        diff_carried = [i for i in range(k) if differentiable(finals[i])]
        if not any(id(finals[i]) in self.ct for i in diff_carried):
            return
        wants = [c for c in captured if differentiable(c) or isinstance(c.type, RefType)]
        gs = [self._zeros_if_none(finals[i]) for i in diff_carried]
        accs = [self.em.zeros_like(c) for c in wants]
        state = [rec.counter] + rec.stacks + gs + accs
        types = [v.type for v in state]
        n_st = len(rec.stacks)

        def layout(label: str) -> Block:
            return Block([Value(t) for t in types] + [Value(c.type, c.name) for c in captured], label=label)

        cond_b = layout("cond")
        cb = Builder(cond_b)
        zero = cb.one(OPS["constant"], value=np.asarray(0, dtype=np.int32))
        cb.op(OPS["yield"], [cb.one(OPS["gt"], cond_b.args[0], zero)], {})
        body_b = layout("body")
        bb = Builder(body_b)
        args = body_b.args
        one = bb.one(OPS["constant"], value=np.asarray(1, dtype=np.int32))
        counter = bb.one(OPS["sub"], args[0], one)
        popped = [bb.op(OPS["stack_pop"], [s], {}) for s in args[1:1 + n_st]]
        rests, xs = [p[0] for p in popped], [p[1] for p in popped]
        g_args = args[1 + n_st:1 + n_st + len(gs)]
        acc_args = args[1 + n_st + len(gs):len(state)]
        cap_args = args[len(state):]
        body_r = old.regions[1]
        seeds = dict(zip(diff_carried, g_args))
        cts = region_vjp(body_r, body_b, xs + list(cap_args), seeds, [False] * k + self._flags(captured))
        em = IREmitter(bb)
        new_gs = [cts[i] if cts[i] is not None else em.zeros_like(xs[i]) for i in diff_carried]
        want_idx = [j for j, c in enumerate(captured) if differentiable(c) or isinstance(c.type, RefType)]
        new_accs = [acc if cts[k + j] is None else em.add(acc, cts[k + j]) for acc, j in zip(acc_args, want_idx)]
        bb.op(OPS["yield"], [counter] + rests + new_gs + new_accs, {})
        results = self.b.op(OPS["while_loop"], state + list(captured), {"carried": len(state)},
                            regions=[cond_b, body_b], result_types=types, loc=op.loc)
        for i, g in zip(diff_carried, results[1 + n_st:1 + n_st + len(gs)]):
            self.accumulate(carried_in[i], g)
        for c, g in zip(wants, results[1 + n_st + len(gs):]):
            self.accumulate(c, g)


def _refuse_own_backward_loop(op: Op) -> None:
    """A loop that carries stacks is a gradient's forward or backward loop: reverse mode through it would push
    stacks onto stacks, which the stack rows do not allow."""
    if any(isinstance(v.type, StackType) for v in op.operands):
        raise NotImplementedError("reverse mode through a gradient's own loops (reverse over reverse through "
                                  "while_loop) is not supported; use forward over reverse (engine.hessian, "
                                  "engine.jvp of engine.grad)")


def _reads_assigned(op: Op, assigned: Sequence[bool]) -> bool:
    """Whether `op` (operands flagged when they are assigned Variables) computes anything from a read of one."""
    if not any(assigned):
        return False
    if not op.regions:
        return bool(op.results) and op.opdef.kind is Kind.STATE  # a read (assign has no results)
    start = op.opdef.region_operand_start
    return any(_block_reads(r, {id(a) for a, f in zip(r.args, assigned[start:]) if f}) for r in op.regions)


def _block_reads(block: Block, refs: set[int]) -> bool:
    """Whether a value of `block` that is not only stored back by an assign comes from reading one of `refs`."""
    tainted: set[int] = set()
    for op in block.ops:
        flags = [id(v) in refs for v in op.operands]
        if op.opdef.effect:
            if op.opdef.writes_operand is None and any(id(v) in tainted for v in op.operands):
                return True  # printed or asserted
            continue
        if op.opdef.terminator:
            return any(id(v) in tainted for v in op.operands)
        if _reads_assigned(op, flags) or any(id(v) in tainted for v in op.operands):
            tainted.update(id(r) for r in op.results)
    return False


def _live(ops: Sequence[Op], outputs: Sequence[Value]) -> set[int]:
    """ids of the values among `ops`' operands (and `outputs`) that `outputs` depend on."""
    live = {id(v) for v in outputs}
    for op in reversed(ops):
        if any(id(r) in live for r in op.results):
            live.update(id(v) for v in op.operands)
    return live


def region_vjp(region: Block, into: Block, args: Sequence[Value], seeds: dict[int, Value],
               assigned: Optional[Sequence[bool]] = None) -> list[Optional[Value]]:
    """Recompute `region` in `into` on `args`, seed its yields (index -> cotangent) and sweep back; returns the
    cotangent of each region argument (None where none reaches it). `assigned` flags the arguments that are
    Variables the function assigns: a recomputed value that needs one of their reads raises NotImplementedError."""
    sweep = Sweep(IREmitter(Builder(into)), recompute=True)
    if assigned is not None:
        sweep.assigned = {id(v) for v, f in zip(args, assigned) if f}
    for a, v in zip(region.args, args):
        sweep.vmap[id(a)] = v
    start = len(into.ops)
    yields = sweep.forward(region.ops)
    if sweep.stale and _live(into.ops[start:], yields) & sweep.stale:
        names = sorted({a.name or "?" for a, v in zip(region.args, args) if id(v) in sweep.assigned})
        raise NotImplementedError(
            f"reverse mode through a {region.label or ''} region: it reads Variable(s) {', '.join(names)} that the "
            f"function also assigns, and recomputing the region for the backward pass would read a later value; "
            f"read the Variable into a tensor before the cond or loop and use that tensor inside")
    for i, g in seeds.items():
        sweep.seed(yields[i], g)
    sweep.backward()
    return [sweep.ct.get(id(v)) for v in args]


def vjp_function(fn: Function, wrt: Sequence[int], name: Optional[str] = None) -> Function:
    """(params..., cotangents of the floating-point results...) -> (results..., cotangents of params[wrt]...)."""
    params = [Value(p.type, p.name) for p in fn.params]
    float_results = [i for i, r in enumerate(fn.results) if differentiable(r)]
    seeds = [Value(ct_type(fn.results[i].type), f"ct_{fn.results[i].name or i}") for i in float_results]
    block = Block(params + seeds, label="entry")
    sweep = Sweep(IREmitter(Builder(block)))
    for old, new in zip(fn.params, params):
        sweep.vmap[id(old)] = new
    assigned = _assigned_refs(fn.block)
    sweep.assigned = {id(new) for old, new in zip(fn.params, params) if id(old) in assigned}
    results = sweep.forward(fn.block.ops)
    for i, g in zip(float_results, seeds):
        sweep.seed(results[i], g)
    sweep.backward()
    em = sweep.em
    grads = []
    for i in wrt:
        p = params[i]
        g = sweep.ct.get(id(p))
        if g is None:
            g = em.zeros_like(p)
        grads.append(g)
    Builder(block).op(OPS["return"], results + grads, {})
    return Function(name or f"vjp_{fn.name}", block)


def _assigned_refs(block: Block) -> set[int]:
    """ids of the values of `block` (Variable references) that an op assigns, here or in nested regions."""
    out: set[int] = set()
    for op in block.ops:
        k = op.opdef.writes_operand
        if k is not None:
            out.add(id(op.operands[k]))
        start = op.opdef.region_operand_start
        for r in op.regions:
            inner = _assigned_refs(r)
            out.update(id(v) for a, v in zip(r.args, op.operands[start:]) if id(a) in inner)
    return out


def clone_block(block: Block, drop_effects: bool = False) -> Block:
    new = Block([Value(a.type, a.name) for a in block.args], label=block.label)
    inline(block, new, new.args, drop_effects=drop_effects)
    return new


def inline(block: Block, into: Block, args: Sequence[Value], terminate: bool = True,
           drop_effects: bool = False) -> list[Value]:
    """Copies `block`'s ops into `into` with its arguments bound to `args`; returns the terminator's operands
    (copying the terminator itself when `terminate`). `drop_effects` leaves out effect ops, at any depth."""
    vmap = {id(a): v for a, v in zip(block.args, args)}
    b = Builder(into)
    for op in block.ops:
        operands = [vmap.get(id(v), v) for v in op.operands]
        if op.opdef.terminator:
            if terminate:
                b.op(op.opdef, operands, dict(op.attrs), result_types=[])
            return operands
        if drop_effects and op.opdef.effect:
            continue
        regions = [clone_block(r, drop_effects) for r in op.regions]
        new = b.op(op.opdef, operands, dict(op.attrs), regions=regions, result_types=[r.type for r in op.results],
                   loc=op.loc, names=[r.name for r in op.results])
        for old, v in zip(op.results, new):
            vmap[id(old)] = v
    return []


