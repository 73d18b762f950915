"""LLVM rule of `segment_combine` (ir.ops_segment): the result filled with the kind's identity, then one pass over
the updates combining each into its slot (indices checked first, as scatter_add's rule does)."""
from __future__ import annotations

from typing import Any

import llvmlite.ir as lir

from codegen.context import LowerContext
from codegen.rules.registry import lowers, never_tiles
from codegen.rules.shape import _check_indices, _index_value
from codegen.values import CValue
from ir.ops_segment import identity


def _combine(b: lir.IRBuilder, kind: str, dtype: Any, old: lir.Value, new: lir.Value) -> lir.Value:
    if kind == "prod":
        return b.fmul(old, new) if dtype.is_floating else b.mul(old, new)
    op = ">" if kind == "max" else "<"
    if dtype.is_floating:  # numpy: a NaN on either side wins
        take = b.or_(b.fcmp_ordered(op, new, old), b.fcmp_unordered("uno", new, new))
    else:
        take = b.icmp_unsigned(op, new, old) if dtype.is_unsigned else b.icmp_signed(op, new, old)
    return b.select(take, new, old)


@lowers("segment_combine")
def _segment_combine(ctx: LowerContext, op: Any, updates: CValue, indices: CValue) -> CValue:
    kind, size, t = op.attrs["kind"], op.attrs["size"], op.results[0].type
    indices = _check_indices(ctx, op, indices, size)
    r = len(indices.type.shape)
    out = ctx.alloc(t, [size] + list(updates.dims[r:]))
    start = ctx.const(t.dtype, identity(kind, t.dtype.np))
    ctx.loop_nest(out.dims, lambda idx: out.store(ctx.b, idx, start))

    def body(idx: list[lir.Value]) -> None:
        b = ctx.b
        dst = [_index_value(b, indices, idx[:r])] + list(idx[r:])
        out.store(b, dst, _combine(b, kind, t.dtype, out.load(b, dst), updates.load(b, idx)))
    ctx.loop_nest(updates.dims, body)
    return out


never_tiles("segment_combine")
