"""Row-tiling rules of the rows (the `tile` facet read by `codegen.tiling`): how each op treats its operands'
leading axis. `split(op, split, N)` gets which operands are split into row chunks and says which results are, or
None when the op mixes rows. N is None when the row count is known only at run time (a `?` leading dim): then a
result has the split rows only as the operand's rows or through a size operand marked ROWS (`dim` of a split value's
leading axis), never because its leading dim is `?` too.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

from codegen.rules.gemm import threads_itself, tiles_well
from codegen.rules.registry import ROWS, never_tiles, tiles
from ir.core import Op
from ir.opdef import OPS, Kind


def _all_or_none(split: Sequence[bool]) -> Optional[bool]:
    if all(split):
        return True
    if not any(split):
        return False
    return None


@tiles(*[name for name, row in OPS.items() if row.kind is Kind.ELEMENTWISE])
def _elementwise(op: Op, split: list[bool], N: int) -> Optional[list[bool]]:
    s = _all_or_none(split)
    return None if s is None else [s]


@tiles("constant", "iota")
def _leaf(op: Op, split: list[bool], N: int) -> Optional[list[bool]]:
    return [False]


def _reduce_partial(op: Op, split: list[bool]) -> Optional[dict]:
    """A reduction over split rows runs per chunk, and the chunks' results are reduced again over their stacking
    axis (a sum of sums, a max of maxes). float16/bfloat16 results are not split this way: the chunks' totals would
    be rounded to the half type before they are added."""
    if not split[0] or 0 not in op.attrs["axes"] or op.results[0].type.dtype.is_half:
        return None
    return {"axes": (0,)}


@tiles("reduce_sum", "reduce_prod", "reduce_max", "reduce_min", partial=_reduce_partial)
def _reduce(op: Op, split: list[bool], N: int) -> Optional[list[bool]]:
    if split[0] and 0 in op.attrs["axes"]:
        return None
    return [split[0]]


@tiles("argmax", "argmin")
def _arg(op: Op, split: list[bool], N: int) -> Optional[list[bool]]:
    if split[0] and op.attrs["axis"] == 0:
        return None
    return [split[0]]


@tiles("dim", takes_rows=True)
def _dim(op: Op, split: list[Any], N: Optional[int]) -> Optional[list[Any]]:
    """The size of a split value's leading axis is the row count (the chunk's, in a chunk); its other sizes are the
    same in every chunk."""
    return [ROWS if split[0] and op.attrs["axis"] == 0 else False]


@tiles("broadcast_dim", takes_rows=True)
def _broadcast_dim(op: Op, split: list[Any], N: Optional[int]) -> Optional[list[Any]]:
    """Two row counts broadcast to the row count (the chunk loop runs a call whose split parameters' rows differ
    whole); a row count against another size mixes rows."""
    if all(s is ROWS for s in split):
        return [ROWS]
    return None if any(split) else [False]


@tiles("read")
def _read(op: Op, split: list[bool], N: Optional[int]) -> Optional[list[bool]]:
    """A Variable's value is the same in every chunk; a function that also assigns one is not tiled (`assign` never
    tiles), so no chunk reads a value another chunk writes."""
    return [False]


def _shape_attr(op: Op, n: Optional[int]) -> dict:
    return dict(op.attrs, shape=(n,) + tuple(op.attrs["shape"][1:]))


def _leading(op: Op, split: list[Any], N: Optional[int]) -> Optional[bool]:
    """Whether the result's leading dim, set by the `shape` attr (and its size operands, after the first operand),
    is the split rows: a static N itself; a `?` whose size operand is ROWS. None when a size operand is ROWS
    elsewhere (the chunk's rows where the whole function has all of them)."""
    shape, sizes = op.attrs["shape"], split[1:]
    rows = [k for k, s in enumerate(sizes) if s is ROWS]
    if not shape:
        return False if not rows else None
    if shape[0] is None:
        return rows == [0] if rows in ([], [0]) else None
    return shape[0] == N if not rows else None


@tiles("broadcast_to", attrs=_shape_attr, takes_rows=True)
def _broadcast(op: Op, split: list[Any], N: Optional[int]) -> Optional[list[bool]]:
    src, dst = op.operands[0].type.shape, op.results[0].type.shape
    leading = _leading(op, split, N)
    if leading is None or split[0] is ROWS:
        return None
    if split[0]:
        return [True] if len(src) == len(dst) and leading else None
    # A row-independent value broadcast over the rows is split as a broadcast to the chunk's rows.
    if leading and (len(src) < len(dst) or src[0] == 1):
        return [True]
    # (a value with rows of its own, broadcast to the run-time rows: only the whole function's sizes agree)
    return None if leading and N is None else [False]


@tiles("reshape", attrs=_shape_attr, takes_rows=True)
def _reshape(op: Op, split: list[Any], N: Optional[int]) -> Optional[list[bool]]:
    leading = _leading(op, split, N)
    if split[0] is ROWS:
        return None
    if not split[0]:
        return None if leading is None or (leading and N is None) else [False]
    return [True] if leading else None


@tiles("transpose")
def _transpose(op: Op, split: list[bool], N: int) -> Optional[list[bool]]:
    if not split[0]:
        return [False]
    return [True] if op.attrs["perm"][0] == 0 else None


def _slice_attrs(op: Op, n: int) -> dict:
    return dict(op.attrs, end=(n,) + tuple(op.attrs["end"][1:]))


@tiles("slice", attrs=_slice_attrs)
def _slice(op: Op, split: list[bool], N: int) -> Optional[list[bool]]:
    if not split[0]:
        return [False]
    ok = N is not None and op.attrs["begin"][0] == 0 and op.attrs["end"][0] == N and op.attrs["strides"][0] == 1
    return [True] if ok else None


@tiles("concat")
def _concat(op: Op, split: list[bool], N: int) -> Optional[list[bool]]:
    s = _all_or_none(split)
    if s is None or (s and op.attrs["axis"] == 0):
        return None
    return [s]


@tiles("pad")
def _pad(op: Op, split: list[bool], N: int) -> Optional[list[bool]]:
    if split[0] and tuple(op.attrs["paddings"][0]) != (0, 0):
        return None
    return [split[0]]


#: A matmul on split rows that packs a large right operand (BLAS always packs it) gets at least this many rows per
#: chunk, or the function is not tiled: every chunk packs the whole right operand again, which on 16-row chunks of
#: 256x784 @ 784x128 cost 30% more than one call (and one call threads the product itself). The generated GEMM
#: reads a right operand that fits the L2 cache in place, so chunks of any size suit it (`gemm.tiles_well`).
MIN_MATMUL_ROWS = 128


def _blas_on_split_rows(op: Op, split: dict[int, bool], n: int) -> bool:
    """Also refuses any chunking of a product that threads itself whole (`gemm.threads_itself`)."""
    if not split[id(op.operands[0])]:
        return False
    b, out = op.operands[1].type, op.results[0].type
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    k = b.shape[-1] if tb else b.shape[-2]
    if out.rank == 2 and out.shape[0] is None:
        # A run-time row count: a product that 2 * MIN_MATMUL_ROWS rows would thread on the team is not chunked, as
        # a static one is not: the pool's chunks of 128 rows took 1.18-1.28x the time of the whole product on the
        # team at batch 256 (mlp_forward, benchmarks/unknown_dims.py, quiet machine).
        if threads_itself(out.dtype, 2 * MIN_MATMUL_ROWS, out.shape[1], k, ta, tb):
            return True
    elif out.rank == 2 and threads_itself(out.dtype, out.shape[0], out.shape[1], k, ta, tb):
        return True
    return n < MIN_MATMUL_ROWS and not tiles_well(out.dtype, n, out.shape[-1], k, ta, tb)


@tiles("matmul", refuses=_blas_on_split_rows)
def _matmul(op: Op, split: list[bool], N: int) -> Optional[list[bool]]:
    a, b = split
    if b or op.operands[0].type.rank != 2:
        return None if b else [False] if not a else None
    if a and op.attrs["transpose_a"]:
        return None
    return [a]


@tiles("gather")
def _gather(op: Op, split: list[bool], N: int) -> Optional[list[bool]]:
    p, i = split
    if i or (p and op.attrs["axis"] == 0):
        return None
    return [p]


@tiles("scatter_add")
def _scatter_add(op: Op, split: list[bool], N: int) -> Optional[list[bool]]:
    u, i = split
    if i or (u and op.attrs["axis"] == 0):
        return None
    return [u]


never_tiles(*[name for name, row in OPS.items() if (row.structured or row.effect or row.terminator or
              row.kind in (Kind.STATE, Kind.STACK, Kind.RANDOM)) and name != "read"])
