"""Reverse mode on the IR (DESIGN §7): an ir.Function -> its vector-Jacobian product, as another ir.Function.

`vjp_function(fn, wrt)` returns a function taking (fn's parameters, one cotangent per floating-point result) and
returning (fn's results, the cotangents of the parameters in `wrt`). It is a forward sweep (a copy of fn's ops)
followed by a backward sweep that applies each op's `vjp` facet, the same rules the eager tape uses, through an
emitter that appends IR ops; cotangents are accumulated per value.

This module is the driver and names no op: a row whose reverse is not a plain per-result `vjp` (cond, while_loop,
call) carries a `vjp_region` rule (`autodiff.rules_reverse`) with a `forward` step (emit the op, instrumented as its
backward needs: a loop counts its trips and stacks its states) and a `backward` step.
Only floating-point values (and Variable references, whose cotangent is that of their reads) carry cotangents;
`stop_gradient` and NONDIFF rows stop them.

Recomputation (a backward cond's branch, a backward loop's body) leaves out effects (assign, print, assert): they
ran in the forward sweep and must not run twice. A Variable read while recomputing reads the Variable as it is
during the backward pass; that is its value at the forward read unless the function assigns the Variable, so a
recomputation that needs the read of a Variable the function assigns raises NotImplementedError (read it into a
tensor before the cond or loop instead) rather than differentiating with a later value.
"""
from __future__ import annotations

from typing import Optional, Sequence

from ir.analysis import assigned_refs
from ir.control import emit_return
from ir.core import Block, Builder, Function, Op, Value
from ir.emitter import IREmitter, value_type
from ir.inline import clone_block
from ir.opdef import NONDIFF, Kind
from ir.types import RefType, StackType, TensorType


def ct_type(t: TensorType) -> TensorType:
    """The type of a cotangent of a value of type t (a Variable's is its value's)."""
    return value_type(t)


def differentiable(v: Value) -> bool:
    return v.type.dtype.is_floating and not isinstance(v.type, StackType)


class Record:
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
        self.records: list[Record] = []
        self.taped: dict[int, Record] = {}  # id(a stack a taping loop returns) -> its record (`loop_pairs`)

    # ---- forward
    def forward(self, ops: Sequence[Op]) -> list[Value]:
        """Copies the ops (each row's `vjp_region` rule emits its own, instrumented); returns the new values of the
        terminator's operands."""
        for op in ops:
            operands = [self.vmap[id(v)] for v in op.operands]
            if op.opdef.terminator:
                return operands
            if self.recompute and op.opdef.effect:
                continue
            if op.opdef.vjp_region is not None:
                op.opdef.vjp_region.forward(self, op, operands)
            else:
                self.copy(op, operands)
        return []

    def copy(self, op: Op, operands: Sequence[Value]) -> None:
        """Emits a copy of `op` on `operands` and records it for the backward sweep."""
        regions = [clone_block(r, self.recompute) for r in op.regions]
        new = self.b.op(op.opdef, list(operands), dict(op.attrs), regions=regions,
                        result_types=[r.type for r in op.results], loc=op.loc, names=[r.name for r in op.results])
        self.bind(op, operands, op.results, new)
        self.records.append(Record(self.b.block.ops[-1], op))

    def bind(self, op: Op, operands: Sequence[Value], old: Sequence[Value], new: Sequence[Value]) -> None:
        """`new` (emitted here) stand for `op`'s results `old`; a recomputed value computed from a read of a
        Variable the function assigns is marked stale."""
        for o, v in zip(old, new):
            self.vmap[id(o)] = v
        if self.recompute and self.assigned and _reads_assigned(op, [id(v) in self.assigned for v in operands]):
            self.stale.update(id(v) for v in new)

    # ---- backward
    def seed(self, value: Value, g: Value) -> None:
        self.accumulate(value, g)

    def accumulate(self, v: Value, g: Value) -> None:
        key = id(v)
        self.ct[key] = g if key not in self.ct else self.em.add(self.ct[key], g)

    def backward(self) -> None:
        for rec in reversed(self.records):
            op = rec.op
            if op.opdef.vjp_region is not None:
                op.opdef.vjp_region.backward(self, rec)
            elif op.opdef.vjp is not NONDIFF and len(op.results) == 1:
                g = self.ct.get(id(op.results[0]))
                if g is None:
                    continue
                cts = op.opdef.vjp(self.em, g, op.results[0], *op.operands, **op.attrs)
                for x, c in zip(op.operands, cts):
                    if c is not None and (differentiable(x) or isinstance(x.type, RefType)):
                        self.accumulate(x, c)

    def flags(self, values: Sequence[Value]) -> Optional[list[bool]]:
        """Which of `values` are Variables the function assigns (None: unknown)."""
        return None if self.assigned is None else [id(v) in self.assigned for v in values]

    def zeros_if_none(self, v: Value) -> Value:
        g = self.ct.get(id(v))
        return g if g is not None else self.em.zeros_like(v)


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


def vjp_function(fn: Function, wrt: Sequence[int], name: Optional[str] = None, effects: bool = True) -> Function:
    """(params..., cotangents of the floating-point results...) -> (results..., cotangents of params[wrt]...).

    With `effects=False` the forward sweep leaves out effects (the backward of a call that already ran them):
    Variables keep their values, so a result that needs a read of a Variable after fn assigns it raises
    NotImplementedError rather than differentiating with the wrong value."""
    params = [Value(p.type, p.name) for p in fn.params]
    float_results = [i for i, r in enumerate(fn.results) if differentiable(r)]
    seeds = [Value(ct_type(fn.results[i].type), f"ct_{fn.results[i].name or i}") for i in float_results]
    block = Block(params + seeds, label="entry")
    sweep = Sweep(IREmitter(Builder(block)), recompute=not effects)
    for old, new in zip(fn.params, params):
        sweep.vmap[id(old)] = new
    assigned = assigned_refs(fn.block)
    sweep.assigned = {id(new) for old, new in zip(fn.params, params) if id(old) in assigned}
    results = sweep.forward(fn.block.ops)
    if sweep.stale and _live(block.ops, results) & sweep.stale:
        raise NotImplementedError(f"the gradient of a call of {fn.name} needs a read of a Variable that {fn.name} "
                                  f"also assigns (a later value than the call saw); read it before assigning")
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
    emit_return(Builder(block), results + grads)
    return Function(name or f"vjp_{fn.name}", block)
