"""Dead code elimination: drops ops whose results are unused and that have no effect, in every block.

An op stays if it is a terminator, if it or an op in its regions is an effect (`opdef.effect`), or if a kept op
uses one of its results. Random draws are not effects (they are functions of their seed and offset), so unused ones
go. Kept ops keep their arity and their order, so effects keep theirs. Never mutates its input.
"""
from __future__ import annotations

from ir.core import Block, Function, Op, Rewriter
from ir.passes.common import has_effect, is_terminator, with_edits


def _mark_live(block: Block, live: set[int]) -> None:
    """Adds the ids of the block's live ops (and, recursively, of live ops in their regions) to `live`."""
    used: set[int] = set()
    for op in reversed(block.ops):
        if is_terminator(op) or has_effect(op) or any(id(r) in used for r in op.results):
            live.add(id(op))
            used.update(id(v) for v in op.operands)
            for region in op.regions:
                _mark_live(region, live)


class _DeadCodeEliminator(Rewriter):
    def __init__(self, live: set[int]) -> None:
        super().__init__()
        self.live = live

    def rewrite(self, op: Op, into: Block) -> None:
        if id(op) in self.live:
            self.clone(op, into)


def dce(fn: Function) -> Function:
    """A copy of `fn` without its dead ops."""
    live: set[int] = set()
    _mark_live(fn.block, live)
    return with_edits(_DeadCodeEliminator(live).run(fn), sum(1 for _ in fn.walk()) - len(live))
