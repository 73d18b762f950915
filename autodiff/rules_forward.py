"""Forward-mode rules of the rows whose tangent is not derived from a per-result rule: `cond`, `while_loop`,
`call` and the stack rows. Each fills its row's `jvp_region` facet, a function `(fwd, op, operands)` that emits the
op with its tangents through the generic driver `autodiff.forward.Forward`:
- `cond` and `while_loop` carry each floating-point value's tangent beside it through their regions;
- `call`: the callee's body is run through the driver inline;
- stacks (reverse mode's per-trip state, met when differentiating a gradient) are linear containers: a stack of
  floating-point tensors has a tangent stack, created, pushed and popped alongside it, so forward over reverse
  (hessian, jvp of grad) sees how the values saved by a forward loop move with the inputs.
"""
from __future__ import annotations

from autodiff.forward import Forward, has_tangent, tangent_type
from ir.control import emit_yield
from ir.core import Block, Builder, Op, Value
from ir.opdef import OPS, Kind
from ir.types import TensorType


def _region(region: Block, arg_types: list[TensorType], diff: list[bool], label: str) -> Block:
    """`region` with a tangent argument after each differentiable argument; yields likewise (zeros where a
    differentiable yield has no tangent)."""
    args: list[Value] = []
    for t, a, d in zip(arg_types, region.args, diff):
        args.append(Value(t, a.name))
        if d:
            args.append(Value(tangent_type(t), f"t_{a.name}" if a.name else None))
    block = Block(args, label=label)
    inner = Forward(Builder(block))
    it = iter(block.args)
    for a, d in zip(region.args, diff):
        v = next(it)
        inner.vmap[id(a)] = v
        if d:
            inner.tan[id(v)] = next(it)
    out = []
    for y in inner.run(region.ops):
        out.append(y)
        if has_tangent(y):
            out.append(inner.tangent_or_zeros(y))
    emit_yield(Builder(block), out)
    return block


def _cond(fwd: Forward, op: Op, operands: list[Value]) -> None:
    pred, captured = operands[0], operands[1:]
    diff = [has_tangent(c) for c in captured]
    types = [c.type for c in captured]
    regions = [_region(r, types, diff, r.label) for r in op.regions]
    args = [pred]
    for c, d in zip(captured, diff):
        args.append(c)
        if d:
            args.append(fwd.tangent_or_zeros(c))
    out_types = []
    for r in op.results:
        out_types.append(r.type)
        if has_tangent(r):
            out_types.append(tangent_type(r.type))
    results = iter(fwd.b.op(op.opdef, args, {}, regions=regions, result_types=out_types, loc=op.loc))
    for r in op.results:
        fwd.vmap[id(r)] = next(results)
        if has_tangent(r):
            fwd.tan[id(fwd.vmap[id(r)])] = next(results)


def _while(fwd: Forward, op: Op, operands: list[Value]) -> None:
    k = op.attrs["carried"]
    diff = [has_tangent(v) for v in operands]
    types = [v.type for v in operands]
    cond_r, body_r = op.regions
    body = _region(body_r, types, diff, body_r.label)
    # The cond region takes the same arguments (tangents unused) and yields only the predicate.
    cond = Block([Value(a.type, a.name) for a in body.args], label=cond_r.label)
    inner = Forward(Builder(cond))
    it = iter(cond.args)
    for a, d in zip(cond_r.args, diff):
        inner.vmap[id(a)] = next(it)
        if d:
            next(it)
    (pred,) = inner.run(cond_r.ops)
    emit_yield(Builder(cond), [pred])
    # Body yields interleave (value, tangent) for the carried values only; captured ones pass unchanged.
    args, carried_count = [], 0
    for i, (v, d) in enumerate(zip(operands, diff)):
        args.append(v)
        if d:
            args.append(fwd.tangent_or_zeros(v))
        if i == k - 1:
            carried_count = len(args)
    out_types = [v.type for v in args[:carried_count]]
    results = iter(fwd.b.op(op.opdef, args, {"carried": carried_count}, regions=[cond, body],
                            result_types=out_types, loc=op.loc))
    for r, d in zip(op.results, diff[:k]):
        fwd.vmap[id(r)] = next(results)
        if d:
            fwd.tan[id(fwd.vmap[id(r)])] = next(results)


def _call(fwd: Forward, op: Op, operands: list[Value]) -> None:
    (body,) = op.regions
    for a, v in zip(body.args, operands):
        fwd.vmap[id(a)] = v
    for r, v in zip(op.results, fwd.run(body.ops)):
        fwd.vmap[id(r)] = v


def _stack(fwd: Forward, op: Op, operands: list[Value]) -> None:
    """A stack op and, for a stack of floats, the same op on the tangents (stacks are linear containers)."""
    new = fwd.b.op(op.opdef, operands, dict(op.attrs), result_types=[r.type for r in op.results], loc=op.loc,
                   names=[r.name for r in op.results])
    for old, v in zip(op.results, new):
        fwd.vmap[id(old)] = v
    if not has_tangent(new[0]):
        return
    tangents = fwd.b.op(op.opdef, [fwd.tangent_or_zeros(x) for x in operands], dict(op.attrs),
                        result_types=[r.type for r in op.results], loc=op.loc)
    for v, t in zip(new, tangents):
        fwd.tan[id(v)] = t


OPS["cond"].jvp_region = _cond
OPS["while_loop"].jvp_region = _while
OPS["call"].jvp_region = _call
for _row in OPS.values():
    if _row.kind is Kind.STACK:
        _row.jvp_region = _stack
