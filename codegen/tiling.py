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

Run-time row counts: when the results' leading dim is `?`, the parameters with a leading `?` are split, and `dim`
of a split value's leading axis is marked ROWS (codegen.rules.registry): a size operand that gives a `broadcast_to`
or `reshape` the split rows. The chunk function is the function itself, its `?` rows being the chunk's (the chunk
loop passes each chunk its row count as the run-time dim, see codegen.chunk_loop); the rows per chunk are a power of
two, doubled while a row refuses them. Whether the split parameters' rows agree is checked per call (when they do
not, the function runs whole and reports what it reports untiled).

Variable parameters are never split; `read` gives every chunk the same value, and a function that assigns a
Variable is not tiled (`assign` never tiles).
"""
from __future__ import annotations

from typing import Optional

import codegen.rules  # noqa: F401  (attaches the tile facets to the op table)
from codegen.chunks import rows_per_chunk
from codegen.dynamic import has_unknown_dims
from codegen.rules.registry import ROWS
from ir.core import Block, Builder, Function, Op, Value
from ir.types import RefType, TensorType

#: With a run-time row count, rows per chunk are doubled up to this while a row refuses them.
MAX_RUN_TIME_CHUNK_ROWS = 1024


class Plan:
    def __init__(self, rows: Optional[int], split_params: list[bool], split_results: list[bool],
                 split_values: set[int], chunk_rows: int = 0) -> None:
        self.rows = rows  # None: known at run time
        self.split_params = split_params
        self.split_results = split_results
        self.split_values = split_values
        self.chunk_rows = chunk_rows


def plan(fn: Function, min_rows: int = 2) -> Optional[Plan]:
    """How to tile `fn` over the leading axis of its results, or None when some op mixes rows."""
    results = fn.result_types
    if not results or not results[0].shape:
        return None
    N = results[0].shape[0]
    if (N is not None and N < min_rows) or any(not t.shape or t.shape[0] != N for t in results):
        return None
    if N is not None and has_unknown_dims(fn):
        return None  # a static row count with run-time sizes elsewhere: the chunk rewrite needs static sizes
    split: dict[int, object] = {}
    params = []
    for p in fn.params:
        s = not isinstance(p.type, RefType) and bool(p.type.shape) and p.type.shape[0] == N
        params.append(s)
        split[id(p)] = s
    for op in fn.block.ops:
        if op.opdef.terminator:
            break
        rule = op.opdef.tile
        if rule is None:  # a row without the facet (tests/test_optable.py requires one for every row)
            return None
        marks = [split[id(v)] for v in op.operands]
        if not rule.takes_rows and any(m is ROWS for m in marks):
            return None  # the row count used as a number: a chunk's would differ from the whole function's
        out = rule.split(op, marks, N)
        if out is None:
            return None
        for r, s in zip(op.results, out):
            if s is True and (not r.type.shape or r.type.shape[0] != N):
                return None
            split[id(r)] = s
    res = [split[id(v)] is True for v in fn.results]
    if not all(res) or not any(params) or (N is None and not _static_rows(fn, params, res)):
        return None
    p = Plan(N, params, res, {k for k, v in split.items() if v is True})
    n = rows_per_chunk(fn, p)
    while any(op.opdef.tile.refuses(op, split, n) for op in fn.block.ops if not op.opdef.terminator):
        if N is not None or n >= MAX_RUN_TIME_CHUNK_ROWS:
            return None
        n *= 2
    p.chunk_rows = n
    return p


def _static_rows(fn: Function, params: list[bool], results: list[bool]) -> bool:
    """Every split parameter and result has static dims after its leading one (a chunk advances its pointer by a
    fixed number of bytes)."""
    return all(t.shape and None not in t.shape[1:] for t, s in zip(fn.param_types + fn.result_types,
                                                                    params + results) if s)


def rewrite(fn: Function, p: Plan, n: Optional[int]) -> Function:
    """`fn` for a chunk of `n` rows: every split value's leading dimension is divided by the number of chunks
    (p.rows // n), which makes it n for a value of p.rows rows, and 1 for one row per chunk (the chunks' partial
    results of `codegen.partial`). With a run-time row count, `fn` itself: its `?` rows are the chunk's."""
    if p.rows is None:
        return fn
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



