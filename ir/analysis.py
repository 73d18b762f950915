"""Analyses of blocks that several stages share, read from the rows' typed fields only.

`assigned_refs(block)`: which Variable references an `assign` (any row with `writes_operand`) reaches, directly or
through the regions they are passed into. Reverse mode uses it to refuse recomputing reads of assigned Variables;
codegen to give each assigned Variable a new buffer.
"""
from __future__ import annotations

from ir.core import Block


def assigned_refs(block: Block) -> set[int]:
    """ids of the values of `block` (Variable references) that an op writes, here or in nested regions."""
    out: set[int] = set()
    for op in block.ops:
        k = op.opdef.writes_operand
        if k is not None:
            out.add(id(op.operands[k]))
        start = op.opdef.region_operand_start
        for r in op.regions:
            inner = assigned_refs(r)
            out.update(id(v) for a, v in zip(r.args, op.operands[start:]) if id(a) in inner)
    return out
