"""Reverse mode through a loop's gradient (reverse over reverse), by transposing the loop's vector-Jacobian product
with forward mode, as JAX transposes a linear map instead of differentiating its implementation.

A `while_loop` op L computes y = L(u) from its operands u (initial carried values, captured values). Reverse mode
gives the step (u, g) -> J(u)^T g; its IR is a forward loop that stacks each trip's state and a backward loop that
pops it, and reverse mode does not go through loops over stacks (a stack would need a cotangent stack, and every
trip's stack a stack of stacks). The step's own reverse, for a cotangent w of its result, needs only L:
- the cotangent of g is J(u) w: forward mode of L at u along w (`autodiff.forward`);
- the cotangent of u is d/du <g, J(u) w>: reverse mode of that jvp loop, seeded with g on its tangent results.
Both come from one loop: L's jvp loop carries each floating-point value's tangent beside it and has no stacks, so
`autodiff.reverse` goes through it as through any loop (fixed or data-dependent trip counts, nested loops, conds).
"""
from __future__ import annotations

from typing import Optional, Sequence

from autodiff.forward import Forward, has_tangent
from autodiff.reverse import Sweep
from ir.core import Block, Builder, Op, Value
from ir.emitter import IREmitter
from ir.types import RefType


def loop_vjp_transpose(builder: Builder, loop: Op, u: Sequence[Value], gs: Sequence[Optional[Value]],
                       ws: Sequence[Optional[Value]]) -> tuple[list[Optional[Value]], list[Optional[Value]]]:
    """Emits (into `builder`'s block) the reverse of the step (u, gs) -> cotangents of u of the loop op `loop`.

    `u` stands for loop's operands, position by position; `gs[i]` is the cotangent seeded at loop.results[i] (None:
    none); `ws[j]` the cotangent of the step's result for position j of u (None: zero). A value that appears at two
    positions takes each position's w (it is given an alias per later position). Returns (the cotangent of each
    u[j], None where none reaches it or u[j] repeats an earlier position; the cotangent of each gs[i], J(u) w, None
    where gs[i] is None)."""
    # The jvp loop, built into a scratch block (with the zeros of the tangents that have no w) and then emitted by
    # reverse mode's forward sweep, which also stacks its trips for the backward sweep; the loop's effects ran in
    # the forward pass and are left out.
    scratch = Block([], label="jvp")
    fwd = Forward(Builder(scratch))
    operands: list[Value] = []
    for v, w in zip(u, ws):
        if any(v is o for o in operands) and w is not None and not isinstance(v.type, RefType):
            v = fwd.em.add(v, fwd.em.zeros_like(v))  # its own tangent at this position
        operands.append(v)
        if w is not None and has_tangent(v) and id(v) not in fwd.tan:
            fwd.tan[id(v)] = w
    for a, v in zip(loop.operands, operands):
        fwd.vmap[id(a)] = v
    loop.opdef.jvp_region(fwd, loop, operands)
    sweep = Sweep(IREmitter(builder), recompute=True)
    for op in scratch.ops:
        for v in op.operands:
            sweep.vmap.setdefault(id(v), v)
    sweep.forward(scratch.ops)
    tangents: list[Optional[Value]] = []
    for r, g in zip(loop.results, gs):
        t = fwd.tan.get(id(fwd.vmap[id(r)])) if g is not None and has_tangent(r) else None
        tangents.append(None if t is None else sweep.vmap[id(t)])
        if t is not None:
            sweep.seed(tangents[-1], g)
    sweep.backward()
    seen: set[int] = set()
    cts: list[Optional[Value]] = []
    for v in u:
        cts.append(sweep.ct.get(id(v)) if id(v) not in seen else None)
        seen.add(id(v))
    return cts, tangents
