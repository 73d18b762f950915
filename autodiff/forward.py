"""Forward mode on the IR: an ir.Function -> its Jacobian-vector product, as another ir.Function.

`jvp_function(fn, wrt)` takes (fn's parameters, one tangent per parameter in `wrt`) and returns (fn's results,
one tangent per floating-point result). Tangent rules are derived from the op table, so no row needs a second
rule (DESIGN §7):
- elementwise rows have diagonal Jacobians, so J t = sum over operands i of vjp(g = t_i)[i];
- reductions: J t = reduce_sum(vjp(g = ones)[0] * t) over the reduced axes (the vjp is a broadcast of g times a
  weight, for sum, prod, max and min alike);
- rows declared `linear` in their floating-point operands (the shape rows): J t = the op applied to the tangents;
- rows with a `jvp` facet use it (matmul is bilinear: ta @ b + a @ tb; pad fills its tangent with 0);
- `cond` and `while_loop` carry each floating-point value's tangent beside it through their regions;
- stacks (reverse mode's per-trip state, met when differentiating a gradient) are linear containers: a stack of
  floating-point tensors has a tangent stack, created, pushed and popped alongside it, so forward over reverse
  (hessian, jvp of grad) sees how the values saved by a forward loop move with the inputs.
- a read of a Variable carries the Variable's tangent (the table's vjp rule of `read` is the identity).
Rows without a derivative (comparisons, argmax, integer ops, random numbers) give no tangent.
"""
from __future__ import annotations

from typing import Optional, Sequence

from autodiff.reverse import IREmitter, differentiable
from ir.core import Block, Builder, Function, Op, Value
from ir.opdef import NONDIFF, OPS
from ir.types import StackType, TensorType


def has_tangent(v: Value) -> bool:
    """Floating-point values carry tangents, stacks of them included (differentiable() excludes stacks)."""
    return v.type.dtype.is_floating


def tangent_type(t: TensorType) -> TensorType:
    return t if isinstance(t, StackType) else TensorType(t.dtype, t.shape)


class _Forward:
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
            if op.opdef is OPS["cond"]:
                self._cond(op, operands)
            elif op.opdef is OPS["while_loop"]:
                self._while(op, operands)
            elif op.opdef.kind == "stack":
                self._stack(op, operands)
            else:
                self._plain(op, operands)
        return []

    def _plain(self, op: Op, operands: list[Value]) -> None:
        from autodiff.reverse import clone_block
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

    def _stack(self, op: Op, operands: list[Value]) -> None:
        """A stack op and, for a stack of floats, the same op on the tangents (stacks are linear containers)."""
        new = self.b.op(op.opdef, operands, dict(op.attrs), result_types=[r.type for r in op.results], loc=op.loc,
                        names=[r.name for r in op.results])
        for old, v in zip(op.results, new):
            self.vmap[id(old)] = v
        if not has_tangent(new[0]):
            return
        tangents = self.b.op(op.opdef, [self.tangent_or_zeros(x) for x in operands], dict(op.attrs),
                             result_types=[r.type for r in op.results], loc=op.loc)
        for v, t in zip(new, tangents):
            self.tan[id(v)] = t

    def _rule(self, op: Op, xs: list[Value], out: Value, ts: list[Optional[Value]]) -> Optional[Value]:
        em, kind, attrs = self.em, op.opdef.kind, op.attrs
        # A read of a Variable is the identity from the Variable to its value: every read carries the Variable's
        # tangent (the transpose of reverse mode, which sums the cotangents of the reads).
        if kind in ("elementwise", "state"):
            parts = [op.opdef.vjp(em, t, out, *xs, **attrs)[i] for i, t in enumerate(ts) if t is not None]
            parts = [p for p in parts if p is not None]
            return em.add_n(parts) if parts else None
        if kind == "reduce":
            weight = op.opdef.vjp(em, em.full_like(out, 1), out, *xs, **attrs)[0]
            return em.reduce_sum(em.mul(weight, ts[0]), axes=tuple(attrs["axes"]))
        if op.opdef.jvp is not None:  # a row's own tangent rule (matmul's bilinear one, pad's zero fill)
            return op.opdef.jvp(em, ts, out, *xs, **attrs)
        if op.opdef.linear:
            args = [(ts[i] if ts[i] is not None else em.zeros_like(x)) if differentiable(x) else x
                    for i, x in enumerate(xs)]
            return em.apply(op.opdef, *args, **attrs)
        raise NotImplementedError(f"forward mode: no tangent rule for {op.opdef.name} (kind {kind})")

    def _region(self, region: Block, arg_types: list[TensorType], diff: list[bool], label: str) -> tuple[Block, list[bool]]:
        """`region` with a tangent argument after each differentiable argument; yields likewise (zeros where a
        differentiable yield has no tangent). Returns the block and which yields carry tangents."""
        args: list[Value] = []
        for t, a, d in zip(arg_types, region.args, diff):
            args.append(Value(t, a.name))
            if d:
                args.append(Value(tangent_type(t), f"t_{a.name}" if a.name else None))
        block = Block(args, label=label)
        inner = _Forward(Builder(block))
        it = iter(block.args)
        for a, d in zip(region.args, diff):
            v = next(it)
            inner.vmap[id(a)] = v
            if d:
                inner.tan[id(v)] = next(it)
        yields = inner.run(region.ops)
        out, carries = [], []
        for y in yields:
            out.append(y)
            carries.append(has_tangent(y))
            if has_tangent(y):
                out.append(inner.tangent_or_zeros(y))
        Builder(block).op(OPS["yield"], out, {})
        return block, carries

    def _cond(self, op: Op, operands: list[Value]) -> None:
        pred, captured = operands[0], operands[1:]
        diff = [has_tangent(c) for c in captured]
        types = [c.type for c in captured]
        regions = [self._region(r, types, diff, r.label)[0] for r in op.regions]
        args = [pred]
        for c, d in zip(captured, diff):
            args.append(c)
            if d:
                args.append(self.tangent_or_zeros(c))
        out_types = []
        for r in op.results:
            out_types.append(r.type)
            if has_tangent(r):
                out_types.append(tangent_type(r.type))
        results = iter(self.b.op(OPS["cond"], args, {}, regions=regions, result_types=out_types, loc=op.loc))
        for r in op.results:
            self.vmap[id(r)] = next(results)
            if has_tangent(r):
                self.tan[id(self.vmap[id(r)])] = next(results)

    def _while(self, op: Op, operands: list[Value]) -> None:
        k = op.attrs["carried"]
        diff = [has_tangent(v) for v in operands]
        types = [v.type for v in operands]
        cond_r, body_r = op.regions
        body, _ = self._region(body_r, types, diff, body_r.label)
        # The cond region takes the same arguments (tangents unused) and yields only the predicate.
        cond = Block([Value(a.type, a.name) for a in body.args], label=cond_r.label)
        inner = _Forward(Builder(cond))
        it = iter(cond.args)
        for a, d in zip(cond_r.args, diff):
            inner.vmap[id(a)] = next(it)
            if d:
                next(it)
        (pred,) = inner.run(cond_r.ops)
        Builder(cond).op(OPS["yield"], [pred], {})
        # Body yields interleave (value, tangent) for the carried values only; captured ones pass unchanged.
        args, carried_count = [], 0
        for i, (v, d) in enumerate(zip(operands, diff)):
            args.append(v)
            if d:
                args.append(self.tangent_or_zeros(v))
            if i == k - 1:
                carried_count = len(args)
        if k == 0:
            carried_count = 0
        out_types = [v.type for v in args[:carried_count]]
        results = iter(self.b.op(OPS["while_loop"], args, {"carried": carried_count}, regions=[cond, body],
                                 result_types=out_types, loc=op.loc))
        for r, d in zip(op.results, diff[:k]):
            self.vmap[id(r)] = next(results)
            if d:
                self.tan[id(self.vmap[id(r)])] = next(results)


def jvp_function(fn: Function, wrt: Sequence[int], name: Optional[str] = None) -> Function:
    """(params..., tangents of params[wrt]...) -> (results..., tangents of the floating-point results...)."""
    params = [Value(p.type, p.name) for p in fn.params]
    tangents = [Value(TensorType(fn.params[i].type.dtype, fn.params[i].type.shape), f"t_{fn.params[i].name or i}")
                for i in wrt]
    block = Block(params + tangents, label="entry")
    fwd = _Forward(Builder(block))
    for old, new in zip(fn.params, params):
        fwd.vmap[id(old)] = new
    for i, t in zip(wrt, tangents):
        fwd.tan[id(params[i])] = t
    results = fwd.run(fn.block.ops)
    outs = [fwd.tangent_or_zeros(r) for r in results if differentiable(r)]
    Builder(block).op(OPS["return"], results + outs, {})
    return Function(name or f"jvp_{fn.name}", block)
