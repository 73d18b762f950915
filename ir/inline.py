"""Copying blocks: `inline` a block's ops into another block with its arguments bound to values, `clone_block`.

Owns the two IR utilities every transform that copies code uses (reverse and forward mode, the tracer inlining a
gradient function, the `call` op's inlining before codegen). Assumes only `ir.core`: blocks, values, builders.
"""
from __future__ import annotations

from typing import Sequence

from ir.core import Block, Builder, Value


def clone_block(block: Block, drop_effects: bool = False) -> Block:
    """A copy of `block` with fresh arguments (same types and names)."""
    new = Block([Value(a.type, a.name) for a in block.args], label=block.label)
    inline(block, new, new.args, drop_effects=drop_effects)
    return new


def inline(block: Block, into: Block, args: Sequence[Value], terminate: bool = True,
           drop_effects: bool = False) -> list[Value]:
    """Copies `block`'s ops into `into` with its arguments bound to `args`; returns the terminator's operands
    (copying the terminator itself when `terminate`). `drop_effects` leaves out effect ops, at any depth."""
    vmap = {id(a): v for a, v in zip(block.args, args)}
    b = Builder(into)
    for op in block.ops:
        operands = [vmap.get(id(v), v) for v in op.operands]
        if op.opdef.terminator:
            if terminate:
                b.op(op.opdef, operands, dict(op.attrs), result_types=[])
            return operands
        if drop_effects and op.opdef.effect:
            continue
        regions = [clone_block(r, drop_effects) for r in op.regions]
        new = b.op(op.opdef, operands, dict(op.attrs), regions=regions, result_types=[r.type for r in op.results],
                   loc=op.loc, names=[r.name for r in op.results])
        for old, v in zip(op.results, new):
            vmap[id(old)] = v
    return []
