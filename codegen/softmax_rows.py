"""Softmax rows in one pass: `fuse(fn)` finds the max-shift-exp-sum pattern of softmax, log-softmax, the
cross-entropies and logsumexp, and replaces its two reductions with one `max_sumexp` op
(`codegen.rules.softmax_stats`), which reads each row once.

The pattern, in any block, on the IR after the passes (and after autodiff: the gradients are built on the
decomposed form, and this is a lowering of it):

    %m = reduce_max %x {axes}                  (trailing axes, static and non-empty)
    %v = reshape / stop_gradient ... %m        (any chain of them: keepdims or not, stop_gradient or not)
    %b = broadcast_to %v                       (m back over the reduced axes)
    %d = sub %x, %b
    %e = exp %d
    %s = reduce_sum %e {axes}                  (the same axes)

becomes `%m, %s = max_sumexp %x {axes}` in place of the reduce_max; the views, sub and exp stay for the consumers
(softmax's div, log-softmax's sub of log s, a cross-entropy's sum with the labels), which the lowering fuses into
one pass over each row. So a row is read twice (the statistics, then the consumer), where the decomposed form
reads it three times (max; exp and sum; the consumer).

Which form is faster depends on the consumers. When the exp `%e` feeds only the sum (log-softmax, the
cross-entropies), the fused form does the same arithmetic with one read of the row fewer. When `%e` has another
consumer (softmax's division, a backward pass), the decomposed form stores exp(x - m) once and the consumer reads
it; the fused form would compute the exp again in the consumer's pass, which measured slower in every case tried,
long rows included (this machine is compute-bound there), so such patterns stay decomposed (SHARED_EXP). Rows of
fewer than MIN_ROW elements stay decomposed too.

Measured on 2 busy cores (medians of alternating runs, wall time, ratio = fused / decomposed): log_softmax
float32[4096, 1024] 0.62-1.04 (noisy), [64, 262144] 0.83; softmax_cross_entropy_with_logits [4096, 1024] 0.85-0.94;
log_softmax [65536, 32] 0.78, [131072, 16] 0.95, [262144, 8] 1.15. Softmax with the exp computed twice: [4096,
1024] 1.32, [64, 262144] 1.18, float64 [4096, 1024] 1.26, [256, 16384] 1.24, [16384, 10] 3.5.
"""
from __future__ import annotations

from typing import Optional

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
    """One softmax pattern: the reduce_max op and the reduce_sum op it replaces."""

    def __init__(self, max_op: Op, sum_op: Op) -> None:
        self.max_op = max_op
        self.sum_op = sum_op


def _producers(block: Block) -> dict[int, Op]:
    return {id(r): op for op in block.ops for r in op.results}


def _uses(block: Block) -> dict[int, int]:
    counts: dict[int, int] = {}
    for op in block.ops:
        for v in op.operands:
            counts[id(v)] = counts.get(id(v), 0) + 1
    return counts


def _is(op: Optional[Op], name: str) -> bool:
    return op is not None and op.opdef is OPS[name]


def _spreads_max(b: Value, m: Value, axes: tuple[int, ...], rank: int, made: dict[int, Op]) -> bool:
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
    """The softmax patterns among `block`'s ops (not in its regions) that `max_sumexp` can replace."""
    made, uses = _producers(block), _uses(block)
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
        mop = _max_of(x, b, made, tuple(op.attrs["axes"]))
        if mop is None or id(mop) in taken or not _worth_it(x, tuple(op.attrs["axes"]), uses[id(e.results[0])]):
            continue
        taken.add(id(mop))
        out.append(Match(mop, op))
    return out


def _max_of(x: Value, b: Value, made: dict[int, Op], axes: tuple[int, ...]) -> Optional[Op]:
    """The reduce_max of `x` over `axes` that `b` broadcasts back, or None."""
    t = x.type
    if t.dtype not in DTYPES or not axes or axes != tuple(range(t.rank - len(axes), t.rank)):
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
    return p if _spreads_max(b, p.results[0], axes, t.rank, made) else None


def _worth_it(x: Value, axes: tuple[int, ...], exp_uses: int) -> bool:
    """Fused when rows have at least MIN_ROW elements and the exp feeds only the sum (see the module docstring)."""
    elements = 1
    for k in axes:
        elements *= x.type.shape[k]
    return elements >= MIN_ROW and (exp_uses <= 1 or SHARED_EXP)


class _Fuser(Rewriter):
    def __init__(self) -> None:
        super().__init__()
        self.by_max: dict[int, Match] = {}
        self.sums: set[int] = set()

    def copy_block(self, block: Block) -> Block:
        for m in find(block):
            self.by_max[id(m.max_op)] = m
            self.sums.add(id(m.sum_op))
        return super().copy_block(block)

    def rewrite(self, op: Op, into: Block) -> None:
        if id(op) in self.sums:
            return  # its result is bound to max_sumexp's second
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
    """`fn` with its softmax patterns' reductions in one `max_sumexp` op each (itself when it has none)."""
    if not any(_is(op, "reduce_max") for op in fn.walk()):
        return fn
    fuser = _Fuser()
    out = fuser.run(fn)
    return dce(out) if fuser.by_max else fn
