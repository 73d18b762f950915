"""Variable read forwarding: a `read` of a Variable whose value the block already holds becomes that value.

In program order within one block, the value a reference holds is known after a `read` of it (the read's result)
or an `assign` to it (the assigned value, when its type is the Variable's own). A later `read` of the same
reference with nothing in between that may write it (an `assign`, or a region op whose regions assign it) is
replaced by the known value. So `read`s repeated per use (an optimizer's `iteration`, read once per variable it
updates) become one value that CSE and fold can share, and a read right after an assign needs no copy of the
Variable's buffer (codegen snapshots each read of a Variable the function assigns).

Regions start with nothing known (their references are block arguments). Distinct references are distinct
Variables (the tracer passes each Variable once). Names the two state rows, `read` and `assign`, because this pass
is about them; other writers are found by their `writes_operand` facet and regions. Never mutates its input.
"""
from __future__ import annotations

from ir.analysis import assigned_refs
from ir.core import Block, Function, Op, Value
from ir.ops import OPS
from ir.passes.common import PassRewriter, with_edits
from ir.types import RefType

READ = OPS["read"]
ASSIGN = OPS["assign"]


class _Forwarder(PassRewriter):
    def __init__(self) -> None:
        super().__init__()
        self.known: dict[int, tuple[Value, Value]] = {}  # id(new reference) -> (it, the value it holds)
        self.forwarded = 0

    def copy_block(self, block: Block) -> Block:
        outer, self.known = self.known, {}
        try:
            return super().copy_block(block)
        finally:
            self.known = outer

    def rewrite(self, op: Op, into: Block) -> None:
        if op.opdef is READ:
            ref = self.lookup(op.operands[0])
            held = self.known.get(id(ref))
            if held is not None and held[1].type == op.results[0].type:
                self.bind(op.results[0], held[1])
                self.forwarded += 1
                return
            clone = self.clone(op, into)
            self.known[id(ref)] = (ref, clone.results[0])
            return
        written = written_operands(op)
        clone = self.clone(op, into)
        for k in written:
            self.known.pop(id(clone.operands[k]), None)
        if op.opdef is ASSIGN:
            ref, value = clone.operands
            if isinstance(ref.type, RefType) and value.type == ref.type.value_type:
                self.known[id(ref)] = (ref, value)


def written_operands(op: Op) -> list[int]:
    """Indices of the operands (Variable references) that `op` may write, itself or in its regions."""
    out = [] if op.opdef.writes_operand is None else [op.opdef.writes_operand]
    start = op.opdef.region_operand_start
    for region in op.regions:
        inner = assigned_refs(region)
        out += [start + i for i, a in enumerate(region.args) if id(a) in inner]
    return out


def _redundant(block: Block) -> bool:
    """Whether some read in `block` (or a nested block) would be forwarded: the rewrite is skipped otherwise, as in
    every round of the pipeline after the first."""
    held: set[int] = set()
    for op in block.ops:
        if any(_redundant(r) for r in op.regions):
            return True
        if op.opdef is READ:
            if id(op.operands[0]) in held:
                return True
            held.add(id(op.operands[0]))
            continue
        for k in written_operands(op):
            held.discard(id(op.operands[k]))
        if op.opdef is ASSIGN:
            held.add(id(op.operands[0]))
    return False


def forward_reads(fn: Function) -> Function:
    """A copy of `fn` whose redundant Variable reads use the value already held (`fn` itself when there are none)."""
    if not _redundant(fn.block):
        return with_edits(fn, 0)
    rewriter = _Forwarder()
    return with_edits(rewriter.run(fn), rewriter.forwarded)
