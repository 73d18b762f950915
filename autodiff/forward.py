"""Forward mode on the IR: an ir.Function -> its Jacobian-vector product, as another ir.Function.

`jvp_function(fn, wrt)` takes (fn's parameters, one tangent per parameter in `wrt`) and returns (fn's results,
one tangent per floating-point result). Tangent rules are derived from the op table, so no row needs a second
rule (DESIGN §7):
- elementwise rows have diagonal Jacobians, so J t = sum over operands i of vjp(g = t_i)[i];
- reductions: J t = reduce_sum(vjp(g = ones)[0] * t) over the reduced axes (the vjp is a broadcast of g times a
  weight, for sum, prod, max and min alike);
- rows declared `linear` in their floating-point operands (the shape rows): J t = the op applied to the tangents;
- rows with a `jvp` facet use it (matmul is bilinear: ta @ b + a @ tb; pad fills its tangent with 0);
- rows with a `jvp_region` rule (`autodiff.rules_forward`: cond, while_loop, call, the stack ops) emit themselves
  with their tangents: regions carry each floating-point value's tangent beside it, a stack of floats has a tangent
  stack. This module is the driver and names no op.
- a read of a Variable carries the Variable's tangent (the table's vjp rule of `read` is the identity).
Rows without a derivative (comparisons, argmax, integer ops, random numbers) give no tangent.
"""
from __future__ import annotations

from typing import Optional, Sequence

from autodiff.reverse import differentiable
from ir.control import emit_return
from ir.core import Block, Builder, Function, Op, Value
from ir.emitter import IREmitter
from ir.inline import clone_block
from ir.opdef import NONDIFF, Kind
from ir.types import StackType, TensorType


def has_tangent(v: Value) -> bool:
    """Floating-point values carry tangents, stacks of them included (differentiable() excludes stacks)."""
    return v.type.dtype.is_floating


def tangent_type(t: TensorType) -> TensorType:
    return t if isinstance(t, StackType) else TensorType(t.dtype, t.shape)


class Forward:
    def __init__(self, builder: Builder) -> None:
        self.b = builder
        self.em = IREmitter(builder)
        self.vmap: dict[int, Value] = {}
        self.tan: dict[int, Value] = {}

    def tangent_or_zeros(self, v: Value) -> Value:
        t = self.tan.get(id(v))
        if t is None and isinstance(v.type, StackType):
            # Every stack of floats gets its tangent stack where it is created, so the two stay the same depth.
            raise RuntimeError(f"forward mode: no tangent stack for {v.type} (it was not made by stack_new here)")
        return t if t is not None else self.em.zeros_like(v)

    def run(self, ops: Sequence[Op]) -> list[Value]:
        for op in ops:
            operands = [self.vmap[id(v)] for v in op.operands]
            if op.opdef.terminator:
                return operands
            if op.opdef.jvp_region is not None:
                op.opdef.jvp_region(self, op, operands)
            else:
                self._plain(op, operands)
        return []

    def _plain(self, op: Op, operands: list[Value]) -> None:
        new = self.b.op(op.opdef, operands, dict(op.attrs), regions=[clone_block(r) for r in op.regions],
                        result_types=[r.type for r in op.results], loc=op.loc, names=[r.name for r in op.results])
        for old, v in zip(op.results, new):
            self.vmap[id(old)] = v
        if op.opdef.vjp is NONDIFF or len(new) != 1 or not differentiable(new[0]):
            return
        tangents = [self.tan.get(id(v)) if differentiable(v) else None for v in operands]
        if all(t is None for t in tangents):
            return
        t = self._rule(op, operands, new[0], tangents)
        if t is not None:
            self.tan[id(new[0])] = t

    def _rule(self, op: Op, xs: list[Value], out: Value, ts: list[Optional[Value]]) -> Optional[Value]:
        em, kind, attrs = self.em, op.opdef.kind, op.attrs
        # A read of a Variable is the identity from the Variable to its value: every read carries the Variable's
        # tangent (the transpose of reverse mode, which sums the cotangents of the reads).
        if kind in (Kind.ELEMENTWISE, Kind.STATE):
            parts = [op.opdef.vjp(em, t, out, *xs, **attrs)[i] for i, t in enumerate(ts) if t is not None]
            parts = [p for p in parts if p is not None]
            return em.add_n(parts) if parts else None
        if kind is Kind.REDUCE:
            weight = op.opdef.vjp(em, em.full_like(out, 1), out, *xs, **attrs)[0]
            return em.reduce_sum(em.mul(weight, ts[0]), axes=tuple(attrs["axes"]))
        if op.opdef.jvp is not None:  # a row's own tangent rule (matmul's bilinear one, pad's zero fill)
            return op.opdef.jvp(em, ts, out, *xs, **attrs)
        if op.opdef.linear:
            args = [(ts[i] if ts[i] is not None else em.zeros_like(x)) if differentiable(x) else x
                    for i, x in enumerate(xs)]
            return em.apply(op.opdef, *args, **attrs)
        raise NotImplementedError(f"forward mode: no tangent rule for {op.opdef.name} (kind {kind})")

def jvp_function(fn: Function, wrt: Sequence[int], name: Optional[str] = None) -> Function:
    """(params..., tangents of params[wrt]...) -> (results..., tangents of the floating-point results...)."""
    params = [Value(p.type, p.name) for p in fn.params]
    tangents = [Value(TensorType(fn.params[i].type.dtype, fn.params[i].type.shape), f"t_{fn.params[i].name or i}")
                for i in wrt]
    block = Block(params + tangents, label="entry")
    fwd = Forward(Builder(block))
    for old, new in zip(fn.params, params):
        fwd.vmap[id(old)] = new
    for i, t in zip(wrt, tangents):
        fwd.tan[id(params[i])] = t
    results = fwd.run(fn.block.ops)
    outs = [fwd.tangent_or_zeros(r) for r in results if differentiable(r)]
    emit_return(Builder(block), results + outs)
    return Function(name or f"jvp_{fn.name}", block)
