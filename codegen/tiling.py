"""Row tiling: run a function chunk by chunk over its leading axis when no op mixes rows.

Many kernels treat the rows of their inputs independently (elementwise chains, reductions over inner axes, softmax
over the last axis, `x @ W + b`). For those, Kiln compiles the function for a chunk of `n` rows and loops over the
chunks in native code, so every intermediate of a chunk stays in cache (the whole function is fused across its
reductions), and the chunk range is split across threads.

`plan(fn)` decides: it propagates a "row-split" mark from the parameters whose leading dimension is the batch size
N through the ops, using each row's tiling facet `OpDef.tile` (attached in `codegen.rules.tiles` by `@tiles`, as
`@lowers` attaches the LLVM rule: how the op treats its operands' leading axis); an op marked `NEVER_TILES`, or
with operands it cannot split consistently, means no tiling; so does a row's veto of the chunk size (a matmul on
split rows that calls BLAS on chunks shorter than `codegen.rules.tiles.MIN_MATMUL_ROWS`). `rewrite(fn, plan, n)`
gives the same function with N replaced by n in every split value's type and attrs.
"""
from __future__ import annotations

from typing import Optional

import codegen.rules  # noqa: F401  (attaches the tile facets to the op table)
from codegen.chunks import rows_per_chunk
from ir.core import Block, Builder, Function, Op, Value
from ir.types import RefType, TensorType

class Plan:
    def __init__(self, rows: int, split_params: list[bool], split_results: list[bool], split_values: set[int]) -> None:
        self.rows = rows
        self.split_params = split_params
        self.split_results = split_results
        self.split_values = split_values


def plan(fn: Function, min_rows: int = 2) -> Optional[Plan]:
    """How to tile `fn` over the leading axis of its results, or None when some op mixes rows."""
    results = fn.result_types
    if not results or not results[0].shape or any(isinstance(p.type, RefType) for p in fn.params):
        return None
    N = results[0].shape[0]
    if N < min_rows or any(not t.shape or t.shape[0] != N for t in results):
        return None
    split: dict[int, bool] = {}
    params = []
    for p in fn.params:
        s = bool(p.type.shape) and p.type.shape[0] == N
        params.append(s)
        split[id(p)] = s
    for op in fn.block.ops:
        if op.opdef.terminator:
            break
        rule = op.opdef.tile
        if rule is None:  # a row without the facet (tests/test_optable.py requires one for every row)
            return None
        out = rule.split(op, [split[id(v)] for v in op.operands], N)
        if out is None:
            return None
        for r, s in zip(op.results, out):
            if s and (not r.type.shape or r.type.shape[0] != N):
                return None
            split[id(r)] = s
    res = [split[id(v)] for v in fn.results]
    if not all(res) or not any(params):
        return None
    p = Plan(N, params, res, {k for k, v in split.items() if v})
    n = rows_per_chunk(fn, p)
    if any(op.opdef.tile.refuses(op, split, n) for op in fn.block.ops if not op.opdef.terminator):
        return None
    return p


def rewrite(fn: Function, p: Plan, n: int) -> Function:
    """`fn` for a chunk of `n` rows: every split value's leading dimension is divided by the number of chunks
    (p.rows // n), which makes it n for a value of p.rows rows, and 1 for one row per chunk (the chunks' partial
    results of `codegen.partial`)."""
    vmap: dict[int, Value] = {}
    chunks = p.rows // n

    def chunk(v: Value) -> TensorType:
        t = v.type
        return t.with_shape((t.shape[0] // chunks,) + t.shape[1:]) if id(v) in p.split_values else t

    block = Block([Value(chunk(a), a.name) for a in fn.params], label=fn.block.label)
    for old, new in zip(fn.params, block.args):
        vmap[id(old)] = new
    b = Builder(block)
    for op in fn.block.ops:
        operands = [vmap[id(v)] for v in op.operands]
        if op.opdef.terminator:
            b.op(op.opdef, operands, dict(op.attrs), result_types=[])
            continue
        split_op = any(id(r) in p.split_values for r in op.results)
        attrs = op.opdef.tile.attrs(op, op.results[0].type.shape[0] // chunks) if split_op else dict(op.attrs)
        results = b.op(op.opdef, operands, attrs, result_types=[chunk(r) for r in op.results], loc=op.loc,
                       names=[r.name for r in op.results])
        for old, new in zip(op.results, results):
            vmap[id(old)] = new
    return Function(fn.name, block)



