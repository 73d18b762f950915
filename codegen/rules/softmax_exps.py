"""`softmax_rows`: a whole softmax over the last axis, exp(x - max) / sum(exp(x - max)), for rows of at most
SUM_BLOCK elements, with each row read once from memory and each exp computed once. A codegen-private op like
`max_sumexp` (codegen.rules.softmax_stats, whose row statistics it shares): `codegen.softmax_rows` makes it out of
the decomposed softmax when nothing else reads its parts.

Per row (in L1): its max m, then e = exp(x - m) is stored and summed into s, and the row's factor 1 / s; the
result is the stored exps times the factor, a lazy value that fuses into the store of the result. While a row's
exps are computed, the next row is prefetched. The decomposed form reads each chunk of rows twice from memory or
L2 (its max, its exp and sum), sums the stored exps in a pass of their own, and divides.

Measured (benchmarks/softmax_rows.py, one thread, CPU time, medians over three runs on a busy machine): float32
[4096, 1024] 0.79-0.97 of the decomposed form's time, float64 0.91-0.99. Without the prefetch it was no faster
(0.98-1.17). Longer rows (several blocks: the exps scaled per block, then copied to the result) measured 1.06-1.12
of the decomposed form and stay decomposed.

Numerics: e * (1 / s) is TensorFlow's own formula (its CPU kernel multiplies by the inverse of the sum). NaN,
+inf and all -inf rows give NaN rows, as the decomposed form does.
"""
from __future__ import annotations

from typing import Any, Sequence

import llvmlite.ir as lir
import numpy as np

from codegen.context import LowerContext
from codegen.rules.blocked_sum import SUM_BLOCK
from codegen.rules.registry import Tiling
from codegen.rules.softmax_stats import DTYPES, RowStats, prefetch_next
from codegen.values import CValue, Lazy, constant
from ir.core import Op
from ir.opdef import Kind, OpDef, check_arity, check_dtype, fail
from ir.types import TensorType


def _infer(types: list[TensorType], *, axes: Sequence[int]) -> tuple[TensorType, ...]:
    check_arity("softmax_rows", types, 1)
    t = types[0]
    check_dtype("softmax_rows", t, DTYPES, "a float32 or float64")
    if t.rank == 0 or list(axes) != [t.rank - 1] or not 0 < (t.shape[-1] or 0) <= SUM_BLOCK:
        raise fail("softmax_rows", f"axes {list(axes)} must be the last axis of shape {t.shape}, of 1 to "
                                   f"{SUM_BLOCK} elements")
    return (t,)


def _eager(x: np.ndarray, *, axes: Sequence[int]) -> np.ndarray:
    """The specification: the decomposed softmax's value (NaN rows where a NaN, +inf or only -inf is)."""
    m = np.max(x, axis=tuple(axes), keepdims=True)
    with np.errstate(invalid="ignore", over="ignore"):
        e = np.exp(x - m)
        return np.asarray(e / np.sum(e, axis=tuple(axes), keepdims=True, dtype=x.dtype))


def _no_vjp(*args: Any, **attrs: Any) -> tuple:
    raise NotImplementedError("softmax_rows is made by codegen after autodiff; differentiate the decomposed softmax")


SOFTMAX_ROWS = OpDef("softmax_rows", _infer, _eager, _no_vjp, Kind.REDUCE, attrs=("axes",),
                     doc="exp(x - max) / sum(exp(x - max)) over the last axis, one read of each row (codegen only).")


def _split(op: Op, split: list[bool], rows: Any) -> Any:
    if split[0] and op.operands[0].type.rank == 1:
        return None  # a softmax over the split axis mixes rows
    return [split[0]]


SOFTMAX_ROWS.tile = Tiling(_split)


def _lower(ctx: LowerContext, op: Op, x: CValue) -> CValue:
    if isinstance(x, Lazy) and not x.cheap:  # each row is read twice (its max, its exps): compute it once
        x = ctx.materialize(x)
    t = op.results[0].type
    dtype, b = t.dtype, ctx.b
    kept, length = list(x.dims[:-1]), x.dims[-1]
    stats = RowStats(ctx, dtype, one_block=True)
    exps = ctx.alloc(t, x.dims)
    factor = ctx.alloc(t.with_shape(t.shape[:-1]), kept)

    def row(idx: list[lir.Value]) -> None:
        stats.start()
        mb, shift = stats.block_max(lambda j: x.load(b, idx + [j]), length)
        prefetch_next(ctx, x, idx + [ctx.i64(0)], length)

        def exp_at(j: lir.Value) -> lir.Value:
            e = ctx.math("exp", b.fsub(x.load(b, idx + [j]), shift))
            exps.store(b, idx + [j], e)
            return e
        stats.join(mb, stats.block_sum(exp_at, length))
        s = stats.finish()[1]
        factor.store(b, idx, b.fdiv(constant(dtype, 1.0), s))
    ctx.loop_nest(kept, row)
    return Lazy(t, lambda bb, idx: bb.fmul(exps.load(bb, idx), factor.load(bb, list(idx[:-1]))), True, x.dims)


_lower.dynamic = True  # type: ignore[attr-defined]  (run-time rows; codegen.softmax_rows asks a static last axis)
SOFTMAX_ROWS.lower = _lower
