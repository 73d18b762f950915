"""Softmax rows in one pass: `fuse(fn)` finds the max-shift-exp-sum pattern of softmax, log-softmax and the
cross-entropies on the IR after the passes (and after autodiff: gradients are built on the decomposed form, and
this is a lowering of it), and lowers it with each row read once from memory:

    %m = reduce_max %x {axes}                  (any axes, of static sizes, not empty)
    %v = reshape / stop_gradient ... %m        (any chain of them: keepdims or not, stop_gradient or not)
    %b = broadcast_to %v                       (m back over the reduced axes)
    %d = sub %x, %b
    %e = exp %d
    %s = reduce_sum %e {axes}                  (the same axes)

- When the exps `%e` feed only the sum (log-softmax, the cross-entropies): `%m, %s = max_sumexp %x {axes}`
  (codegen.rules.softmax_stats) replaces both reductions, in one pass computing the running max and the rescaled
  sum; the views, sub and the consumer (log-softmax's sub of log s, a cross-entropy's sum with the labels) fuse
  into a second pass. The decomposed form makes three (max; exp and sum; the consumer).
- When the only other reader of `%e` is softmax's division by the spread sum, over a last axis of at most
  SUM_BLOCK elements: `softmax_rows %x` (codegen.rules.softmax_exps) replaces the whole softmax: one read of each
  row, each exp computed once and stored, and the result is the stored exps times 1 / s, fused into the store.
- Otherwise (softmax over longer rows, or exps a backward pass reads too) the pattern stays decomposed: computing
  the exps again in the consumer's pass (SHARED_EXP) measured 1.18-1.32x the decomposed form's time, long rows
  and float64 included, and scaling a long row's stored exps block by block then copying them 1.06-1.12x.
  Rows of fewer than MIN_ROW elements stay decomposed too.

Measured with benchmarks/softmax_rows.py (ratio = fused / decomposed time, medians of alternating rounds; one
thread, CPU time, because this 2-core machine was shared with other busy processes; the range is over three runs,
in which the control rows, decomposed either way, measured 0.93-1.01): softmax float32[4096, 1024] 0.79-0.97, float64
0.91-0.99; log_softmax [4096, 1024] 0.84-0.94, [64, 262144] 0.92-0.97, float64 0.91-0.96, over axis 0 of
[1024, 4096] 0.72-0.81; softmax_cross_entropy_with_logits [4096, 1024] 0.78-0.99.
"""
from __future__ import annotations

from typing import Optional

from codegen.rules.blocked_sum import SUM_BLOCK
from codegen.rules.softmax_exps import SOFTMAX_ROWS
from codegen.rules.softmax_stats import DTYPES, MAX_SUMEXP
from ir.core import Block, Function, Op, Rewriter, Value
from ir.opdef import OPS
from ir.passes.dce import dce

#: Fuse patterns whose exp has other consumers too (computing it twice; measured slower, see the module docstring).
SHARED_EXP = False

#: Rows shorter than this keep the decomposed form: a row's own loops and its end cost more than the pass saves
#: (log_softmax of float32[262144, 8]: 1.15x the decomposed form's time; [131072, 16]: 0.95x; [65536, 32]: 0.78x).
MIN_ROW = 16

_VIEWS = ("reshape", "stop_gradient")


class Match:
    """One softmax pattern: the reduce_max op and the reduce_sum op that max_sumexp replaces, or (with `div_op`)
    the whole softmax, whose division softmax_rows replaces."""

    def __init__(self, max_op: Op, sum_op: Op, div_op: Optional[Op] = None) -> None:
        self.max_op = max_op
        self.sum_op = sum_op
        self.div_op = div_op


def _producers(block: Block) -> dict[int, Op]:
    return {id(r): op for op in block.ops for r in op.results}


def _users(block: Block) -> dict[int, list[Op]]:
    users: dict[int, list[Op]] = {}
    for op in block.ops:
        for v in op.operands:
            users.setdefault(id(v), []).append(op)
    return users


def _is(op: Optional[Op], name: str) -> bool:
    return op is not None and op.opdef is OPS[name]


def _spreads(b: Value, m: Value, axes: tuple[int, ...], rank: int, made: dict[int, Op]) -> bool:
    """Whether `b` is `m` (reduced over `axes` of a rank-`rank` value) broadcast back over the reduced axes: a
    broadcast_to of views of `m` whose shape is m's with 1s inserted at the reduced axes (a reshape keeps the
    element order, so element idx of it is m at idx without the reduced axes)."""
    op = made.get(id(b))
    if not _is(op, "broadcast_to"):
        return False
    v = op.operands[0]
    shape = (1,) * (rank - v.type.rank) + tuple(v.type.shape)
    while v is not m:
        p = made.get(id(v))
        if p is None or not any(_is(p, name) for name in _VIEWS):
            return False
        v = p.operands[0]
    if len(shape) != rank or any(shape[k] != 1 for k in axes):
        return False
    kept = tuple(d for k, d in enumerate(shape) if k not in axes)
    # one unknown kept dim at most: then the element count pins it to m's
    return kept == tuple(m.type.shape) and kept.count(None) <= 1


def find(block: Block) -> list[Match]:
    """The softmax patterns among `block`'s ops (not in its regions) that `max_sumexp` or `softmax_rows` can
    replace."""
    made, users = _producers(block), _users(block)
    out: list[Match] = []
    taken: set[int] = set()
    for op in block.ops:
        if not _is(op, "reduce_sum"):
            continue
        e = made.get(id(op.operands[0]))
        d = made.get(id(e.operands[0])) if _is(e, "exp") else None
        if not _is(d, "sub"):
            continue
        x, b = d.operands
        axes = tuple(op.attrs["axes"])
        mop = _max_of(x, b, made, axes)
        if mop is None or id(mop) in taken or _row_elements(x, axes) < MIN_ROW:
            continue
        e_users = users.get(id(e.results[0]), [])
        one_block = axes == (x.type.rank - 1,) and x.type.shape[-1] <= SUM_BLOCK
        div = _division(e_users, op, made, users) if len(e_users) == 2 and one_block else None
        if len(e_users) == 1 or div is not None or SHARED_EXP:
            taken.add(id(mop))
            out.append(Match(mop, op, div))
    return out


def _division(e_users: list[Op], sum_op: Op, made: dict[int, Op], users: dict[int, list[Op]]) -> Optional[Op]:
    """The op dividing the exps by their sum spread back over the row, when the sum has no other reader."""
    div = next(u for u in e_users if u is not sum_op)
    e, s = sum_op.operands[0], sum_op.results[0]
    if not _is(div, "div") or div.operands[0] is not e or len(users.get(id(s), [])) != 1:
        return None
    return div if _spreads(div.operands[1], s, (e.type.rank - 1,), e.type.rank, made) else None


def _max_of(x: Value, b: Value, made: dict[int, Op], axes: tuple[int, ...]) -> Optional[Op]:
    """The reduce_max of `x` over `axes` that `b` broadcasts back, or None."""
    t = x.type
    if t.dtype not in DTYPES or not axes:
        return None
    if any(t.shape[k] is None or t.shape[k] == 0 for k in axes):
        return None
    seen = b
    while True:  # walk the views back to the reduce_max
        p = made.get(id(seen))
        if p is None:
            return None
        if _is(p, "reduce_max"):
            break
        if not (_is(p, "broadcast_to") or any(_is(p, n) for n in _VIEWS)):
            return None
        seen = p.operands[0]
    if p.operands[0] is not x or tuple(p.attrs["axes"]) != axes:
        return None
    return p if _spreads(b, p.results[0], axes, t.rank, made) else None


def _row_elements(x: Value, axes: tuple[int, ...]) -> int:
    elements = 1
    for k in axes:
        elements *= x.type.shape[k]
    return elements


class _Fuser(Rewriter):
    def __init__(self) -> None:
        super().__init__()
        self.by_max: dict[int, Match] = {}
        self.by_div: dict[int, Match] = {}
        self.sums: set[int] = set()

    def copy_block(self, block: Block) -> Block:
        for m in find(block):
            if m.div_op is not None:  # the whole softmax: its parts go dead
                self.by_div[id(m.div_op)] = m
            else:
                self.by_max[id(m.max_op)] = m
                self.sums.add(id(m.sum_op))
        return super().copy_block(block)

    def rewrite(self, op: Op, into: Block) -> None:
        if id(op) in self.sums:
            return  # its result is bound to max_sumexp's second
        softmax = self.by_div.get(id(op))
        if softmax is not None:
            x = self.lookup(softmax.max_op.operands[0])
            y = Value(op.results[0].type, op.results[0].name)
            into.ops.append(Op(SOFTMAX_ROWS, [x], [y], dict(softmax.sum_op.attrs), (), op.loc))
            self.bind(op.results[0], y)
            return
        match = self.by_max.get(id(op))
        if match is None:
            self.clone(op, into)
            return
        m, s = match.max_op.results[0], match.sum_op.results[0]
        results = [Value(m.type, m.name), Value(s.type, s.name)]
        into.ops.append(Op(MAX_SUMEXP, [self.lookup(op.operands[0])], results, dict(op.attrs), (), op.loc))
        self.bind(m, results[0])
        self.bind(s, results[1])


def fuse(fn: Function) -> Function:
    """`fn` with its softmax patterns' reductions in one `max_sumexp` op each, and its whole softmaxes as
    `softmax_rows` ops (itself when it has none)."""
    if not any(_is(op, "reduce_max") for op in fn.walk()):
        return fn
    fuser = _Fuser()
    out = fuser.run(fn)
    return dce(out) if fuser.by_max or fuser.by_div else fn
