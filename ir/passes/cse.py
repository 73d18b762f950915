"""Common subexpression elimination: a pure op identical to an earlier one in the same block reuses its results.

Identical means the same row, the same (already rewritten) operands, equal attrs (numpy arrays by dtype, shape and
bytes) and equal result types. Only pure plain ops take part: no effects, no regions, no Variable reads (an assign
between two reads changes the second), no stacks. Regions are closed, so each block gets its own table: a constant inside a
region must not be replaced by an equal one outside it. Never mutates its input.
"""
from __future__ import annotations

from typing import Any

from ir.core import Block, Function, Op, Rewriter, Value
from ir.passes.common import attrs_key, is_pure, with_edits
from ir.types import StackType


class _CommonSubexpressions(Rewriter):
    def __init__(self) -> None:
        super().__init__()
        self.table: dict[Any, list[Value]] = {}
        self.edits = 0

    def copy_block(self, block: Block) -> Block:
        outer, self.table = self.table, {}
        try:
            return super().copy_block(block)
        finally:
            self.table = outer

    def rewrite(self, op: Op, into: Block) -> None:
        # A stack is one buffer that pushes and pops update in place once compiled: two equal stack_new ops are
        # two stacks, never one.
        if not is_pure(op) or not op.results or any(isinstance(r.type, StackType) for r in op.results):
            self.clone(op, into)
            return
        operands = [self.lookup(v) for v in op.operands]
        # Operand ids are stable: the new values live in the new blocks for as long as this pass runs.
        key = (id(op.opdef), tuple(id(v) for v in operands), attrs_key(op.attrs), tuple(r.type for r in op.results))
        earlier = self.table.get(key)
        if earlier is None:
            self.table[key] = self.clone(op, into).results
            return
        self.edits += 1
        for old, new in zip(op.results, earlier):
            self.bind(old, new)


def cse(fn: Function) -> Function:
    """A copy of `fn` in which each pure computation is done once per block."""
    rewriter = _CommonSubexpressions()
    return with_edits(rewriter.run(fn), rewriter.edits)
