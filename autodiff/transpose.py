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
`jvp_vjp_function` does the same for a whole function: the reverse of `vjp_function(fn)`, built from fn itself.
"""
from __future__ import annotations

from typing import Optional, Sequence

from autodiff.forward import Forward, has_tangent, jvp_function
from autodiff.reverse import Sweep, differentiable, vjp_function
from ir.control import emit_return
from ir.core import Block, Builder, Function, Op, Value
from ir.emitter import IREmitter
from ir.inline import inline
from ir.types import StackType


def carries_stacks(block: Block) -> bool:
    """Whether a loop in `block` (at any depth) carries stacks: `block` holds a gradient's own loops."""
    return any(any(isinstance(v.type, StackType) for v in op.operands) for op in block.walk() if op.regions)


def loop_vjp_transpose(builder: Builder, loop: Op, u: Sequence[Value], gs: Sequence[Optional[Value]],
                       ws: Sequence[Optional[Value]]) -> tuple[list[Optional[Value]], list[Optional[Value]]]:
    """Emits (into `builder`'s block) the reverse of the step (u, gs) -> cotangents of u of the loop op `loop`.

    `u` stands for loop's operands, position by position; `gs[i]` is the cotangent seeded at loop.results[i] (None:
    none); `ws[j]` the cotangent of the step's result for u[j] (None: zero; a value that appears twice in u takes the
    w of its first position). Returns (the cotangent of each u[j], None where none reaches it or u[j] repeats an
    earlier position; the cotangent of each gs[i], J(u) w, None where gs[i] is None)."""
    # The jvp loop, built into a scratch block (with the zeros of the tangents that have no w) and then emitted by
    # reverse mode's forward sweep, which also stacks its trips for the backward sweep.
    scratch = Block([], label="jvp")
    fwd = Forward(Builder(scratch))
    for a, v in zip(loop.operands, u):
        fwd.vmap[id(a)] = v
    for v, w in zip(u, ws):
        if w is not None and has_tangent(v) and id(v) not in fwd.tan:
            fwd.tan[id(v)] = w
    loop.opdef.jvp_region(fwd, loop, list(u))
    sweep = Sweep(IREmitter(builder))
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


def jvp_vjp_function(fn: Function, wrt: Sequence[int], name: Optional[str] = None) -> Function:
    """The reverse of `vjp_function(fn, wrt, effects=False)` with respect to all its floating-point parameters, in
    the layout `vjp_function` gives: (fn's params P, seeds S, cotangents of the floating-point results of the
    vjp function: of fn's float results C_R, then of its gradients C_G) -> (fn's results R, the gradients G =
    J^T S, the cotangents of P's floating-point parameters, then of S).

    With H = jvp_function(fn, wrt): (P, T) -> (R, J T), and V = vjp_function(H) at T = C_G seeded with (C_R, S):
    V gives R, J C_G (the cotangent of S), the cotangent of P (J^T C_R + d/dP <S, J C_G>) and that of T (J^T S,
    which is G)."""
    h = jvp_function(fn, wrt, name=f"jvp_{fn.name}")
    n_p = len(fn.params)
    float_p = [i for i, p in enumerate(fn.params) if p.type.dtype.is_floating]
    v = vjp_function(h, float_p + list(range(n_p, n_p + len(wrt))), name=f"vjp_jvp_{fn.name}", effects=False)
    n_fr = sum(1 for r in fn.results if differentiable(r))
    params = [Value(p.type, p.name) for p in fn.params]
    seeds = [Value(r.type, f"s_{i}") for i, r in enumerate(fn.results) if differentiable(r)]
    ct_r = [Value(s.type, f"ct_r{i}") for i, s in enumerate(seeds)]
    ct_g = [Value(h.params[n_p + j].type, f"ct_g{j}") for j in range(len(wrt))]
    block = Block(params + seeds + ct_r + ct_g, label="entry")
    outs = inline(v.block, block, params + ct_g + ct_r + seeds, terminate=False)
    n_r = len(fn.results)
    results, jw = outs[:n_r], outs[n_r:n_r + n_fr]
    ct_p, grads = outs[len(h.results):len(h.results) + len(float_p)], outs[len(h.results) + len(float_p):]
    emit_return(Builder(block), results + grads + ct_p + jw)
    return Function(name or f"grad_{fn.name}", block)
