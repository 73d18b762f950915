"""`max_sumexp`: the row statistics of a softmax, max(x) and sum(exp(x - max(x))) over some axes, in one read of
each row (this module lowers trailing axes; codegen.rules.softmax_online any others). A codegen-private op (not in
the op table): `codegen.softmax_rows` makes it out of the decomposed pattern (reduce_max, sub, exp, reduce_sum)
after the passes and after autodiff, so gradients and eager mode keep the decomposed form; its row (infer, numpy
kernel, LLVM rule, tiling rule) is here, side by side.

The LLVM rule is the online softmax taken a block at a time: each row is cut into blocks of SUM_BLOCK elements (8
KB of float32, in L1); a block's max m_b is taken (the reduce rule's NaN-free max with the magnitudes on the side,
see `codegen.rules.reduce`), then, from L1, its sum s_b = sum(exp(x - m_b)) (vectorized, `reassoc`), and the
block joins the running (M, S) in float64:
    M' = max(M, m_b),  S' = S * exp(M - M') + s_b * exp(m_b - M')
where one of the two exps is exp(0) = 1, so one scalar exp per block. Memory sees each row once, as in the
per-element online form (s = s * exp(m_old - m_new) + exp(x - m_new)), but the inner loops stay plain
reductions that LLVM vectorizes with several accumulators, with one exp per element rather than the per-element
form's exp plus rescaling selects, and the block totals go into float64 as `codegen.rules.blocked_sum` adds them
(the same error bound as reduce_sum's).

While a block's exps are computed, the next block (or row) is prefetched (`prefetch_next`): the block's max pass
then finds it on its way from memory, which took softmax_rows (codegen.rules.softmax_exps) from no faster than
the decomposed form to 0.8-0.9 of its time.

Special values are those of the decomposed form: a NaN anywhere makes both results NaN; a row whose max is +inf
or -inf (all -inf) has s = NaN (exp(inf - inf)); a block of only -inf adds nothing (its exp(x - m_b) would be NaN).

Why a lowering of a recognised pattern and not a row of the op table that engine.nn would emit: the gradients
stay those of the decomposed IR (the tie rule of reduce_max, the stop_gradient on the max), written once; whether
the fused form is faster depends on the row length and on who else reads the exps (a backward pass does), which
only codegen sees, after autodiff; softmaxes written by hand (the benchmarks' own) are found too; and the
statistics are two results, where the table's rows have one. So the op lives here, outside the table, with the
facets codegen reads (`lower`, `tile`), a numpy kernel for tests, and no gradient.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import llvmlite.ir as lir
import numpy as np

from codegen.context import LowerContext
from codegen.rules.blocked_sum import SUM_BLOCK
from codegen.rules.reduce import skip_nan_combine
from codegen.rules.softmax_online import lower_any_axes
from codegen.rules.registry import Tiling
from codegen.values import I64, PTR, Buffer, CValue, Lazy, Scalar, constant, reg_type
from ir.core import Op
from ir.opdef import Kind, OpDef, check_arity, check_dtype, fail
from ir.types import TensorType, float32, float64

#: The dtypes the op takes (float16/bfloat16 softmaxes keep the decomposed form, which rounds as numpy does).
DTYPES = (float32, float64)


def _infer(types: list[TensorType], *, axes: Sequence[int]) -> tuple[TensorType, ...]:
    check_arity("max_sumexp", types, 1)
    t = types[0]
    check_dtype("max_sumexp", t, DTYPES, "a float32 or float64")
    if not axes or list(axes) != sorted(set(axes)) or any(not 0 <= a < t.rank for a in axes):
        raise fail("max_sumexp", f"axes {list(axes)} must be sorted, distinct and within the {t.rank} axes of "
                                 f"shape {t.shape}")
    kept = t.with_shape([d for k, d in enumerate(t.shape) if k not in axes])
    return kept, kept


def _eager(x: np.ndarray, *, axes: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The specification: what reduce_max and reduce_sum(exp(x - max)) give (NaN propagates through the max)."""
    axes = tuple(axes)
    m = np.max(x, axis=axes, keepdims=True, initial=x.dtype.type(-np.inf))
    with np.errstate(invalid="ignore", over="ignore"):
        s = np.sum(np.exp(x - m), axis=axes, dtype=x.dtype)
    return np.asarray(np.squeeze(m, axis=axes)), np.asarray(s)


def _no_vjp(*args: Any, **attrs: Any) -> tuple:
    raise NotImplementedError("max_sumexp is made by codegen after autodiff; differentiate the decomposed softmax")


MAX_SUMEXP = OpDef("max_sumexp", _infer, _eager, _no_vjp, Kind.REDUCE, attrs=("axes",), nresults=2,
                   doc="(max(x), sum(exp(x - max(x)))) over axes, one read of each row (codegen only).")


def _split(op: Op, split: list[bool], rows: Optional[int]) -> Optional[list[bool]]:
    """Rows split like a reduction over inner axes; a reduction over the split axis mixes rows."""
    if split[0] and 0 in op.attrs["axes"]:
        return None
    return [split[0], split[0]]


MAX_SUMEXP.tile = Tiling(_split)


class RowStats:
    """The running (M, S) of one row at a time, joined block by block (see the module docstring): `start` a row,
    then per block `block_max` and `block_sum`, then `join`; `finish` gives the row's (max, sum) in the dtype's
    register type (and sets `wide_results`, the same in the running values' type). With `one_block` (rows of one
    block) the running values are the block's own: no join, no float64."""

    def __init__(self, ctx: LowerContext, dtype: Any, one_block: bool = False) -> None:
        self.ctx, self.dtype = ctx, dtype
        self.reg = reg_type(dtype)
        self.one_block = one_block
        self.wide = self.reg if one_block else lir.DoubleType()
        self.bits = lir.IntType(64 if dtype is float64 else 32)
        self.block_max_slot, self.block_sum_slot = ctx.entry_alloca(self.reg), ctx.entry_alloca(self.reg)
        self.run_max, self.run_sum = ctx.entry_alloca(self.wide), ctx.entry_alloca(self.wide)
        self.nan_seen = ctx.entry_alloca(self.bits)
        self.max_of = skip_nan_combine("max")
        self.wide_results: Any = None

    def start(self) -> None:
        b = self.ctx.b
        b.store(lir.Constant(self.wide, float("-inf")), self.run_max)
        b.store(lir.Constant(self.wide, 0.0), self.run_sum)
        b.store(lir.Constant(self.bits, 0), self.nan_seen)

    def nan_seen_now(self) -> lir.Value:
        inf_bits = 0x7FF0000000000000 if self.dtype is float64 else 0x7F800000
        return self.ctx.b.icmp_unsigned(">", self.ctx.b.load(self.nan_seen, typ=self.bits),
                                        lir.Constant(self.bits, inf_bits))

    def block_max(self, load: Callable[[lir.Value], lir.Value], count: int) -> tuple[lir.Value, lir.Value]:
        """(m_b, the shift for the block's exps): the shift is m_b, or 0 for a block of -inf (whose exps are then
        0, not NaN) and once a NaN was seen (m_b is then poison, which must not reach memory)."""
        ctx, b, reg, bits = self.ctx, self.ctx.b, self.reg, self.bits
        b.store(constant(self.dtype, float("-inf")), self.block_max_slot)

        def scan(j: lir.Value) -> None:
            v = load(j)
            b.store(self.max_of(ctx, b.load(self.block_max_slot, typ=reg), v), self.block_max_slot)
            magnitude = b.and_(b.bitcast(v, bits), lir.Constant(bits, (1 << (bits.width - 1)) - 1))
            b.store(ctx.intrinsic("llvm.umax", b.load(self.nan_seen, typ=bits), magnitude), self.nan_seen)
        ctx.for_range(count, scan)
        mb = b.load(self.block_max_slot, typ=reg)
        zero = constant(self.dtype, 0)
        some = b.fcmp_ordered(">", mb, constant(self.dtype, float("-inf")))
        return mb, b.select(self.nan_seen_now(), zero, b.select(some, mb, zero))

    def block_sum(self, exp_at: Callable[[lir.Value], lir.Value], count: int) -> lir.Value:
        ctx, b, reg = self.ctx, self.ctx.b, self.reg
        b.store(constant(self.dtype, 0), self.block_sum_slot)
        ctx.for_range(count, lambda j: b.store(ctx.flags(b.fadd(b.load(self.block_sum_slot, typ=reg), exp_at(j)),
                                                         "reassoc", "contract"), self.block_sum_slot))
        return b.load(self.block_sum_slot, typ=reg)

    def join(self, mb: lir.Value, sb: lir.Value) -> None:
        """(M, S) joined with a block's (m_b, s_b). A NaN in the block makes m_b poison (nnan); only selects
        follow, and `finish` picks NaN instead."""
        ctx, b = self.ctx, self.ctx.b
        if self.one_block:  # the row's only block: (M, S) = (m_b, s_b), without the scalar exp
            b.store(mb, self.run_max)
            b.store(sb, self.run_sum)
            return
        f64 = self.wide
        mb64 = mb if self.reg == f64 else b.fpext(mb, f64)
        sb64 = sb if self.reg == f64 else b.fpext(sb, f64)
        m, s = b.load(self.run_max, typ=f64), b.load(self.run_sum, typ=f64)
        up = b.fcmp_ordered(">", mb64, m)
        hi = b.select(up, mb64, m)
        scale = ctx.intrinsic("llvm.exp", b.fsub(b.select(up, m, mb64), hi))  # exp(lower max - higher max)
        joined = b.select(up, b.fadd(b.fmul(s, scale), sb64), b.fadd(s, b.fmul(sb64, scale)))
        some = b.fcmp_ordered(">", mb64, lir.Constant(f64, float("-inf")))  # a block of -inf adds nothing
        b.store(b.select(some, joined, s), self.run_sum)
        b.store(b.select(some, hi, m), self.run_max)

    def finish(self) -> tuple[lir.Value, lir.Value]:
        """The row's (max, sum of exps): NaN and NaN after a NaN; sum NaN when the max is +inf or -inf."""
        ctx, b, w = self.ctx, self.ctx.b, self.wide
        m = b.load(self.run_max, typ=w)
        nan = self.nan_seen_now()
        finite = b.fcmp_ordered("<", ctx.intrinsic("llvm.fabs", m), lir.Constant(w, float("inf")))
        s = b.select(finite, b.load(self.run_sum, typ=w), lir.Constant(w, float("nan")))
        wide_nan = lir.Constant(w, float("nan"))
        self.wide_results = (b.select(nan, wide_nan, m), b.select(nan, wide_nan, s))
        m, s = (m, s) if self.reg == w else (b.fptrunc(m, self.reg), b.fptrunc(s, self.reg))
        nan_value = constant(self.dtype, float("nan"))
        return b.select(nan, nan_value, m), b.select(nan, nan_value, s)


#: Bytes of one cache line (the prefetch stride).
_LINE = 64


def prefetch_next(ctx: LowerContext, x: CValue, start: list[lir.Value], count: int) -> None:
    """Ask for the `count` elements that follow x[start...] in memory (the next block, or the next row), so they
    come from memory while this block's exps are computed (a dense Buffer only; a prefetch never faults)."""
    if not isinstance(x, Buffer) or not x.dense:
        return
    b = ctx.b
    first = b.ptrtoint(x.address(b, start), I64)
    nbytes = count * x.type.dtype.np.itemsize
    prefetch = ctx.module.declare_intrinsic("llvm.prefetch", [PTR], lir.FunctionType(
        lir.VoidType(), [PTR, lir.IntType(32), lir.IntType(32), lir.IntType(32)]))
    i32 = lambda n: lir.Constant(lir.IntType(32), n)  # noqa: E731

    def line(c: lir.Value) -> None:
        at = b.add(first, b.add(ctx.i64(nbytes), b.mul(c, ctx.i64(_LINE))))
        b.call(prefetch, [b.inttoptr(at, PTR), i32(0), i32(2), i32(1)])
    ctx.for_range(-(-nbytes // _LINE), line, vectorize=False)


def _lower(ctx: LowerContext, op: Op, x: CValue) -> list[CValue]:
    if isinstance(x, Lazy) and not x.cheap:  # each row is read twice (its max, its exps): compute it once
        x = ctx.materialize(x)
    tm = op.results[0].type
    rank, axes = len(x.dims), op.attrs["axes"]
    if tuple(axes) != tuple(range(rank - len(axes), rank)):
        return lower_any_axes(ctx, op, x)
    kept, red = list(x.dims[:rank - len(axes)]), list(x.dims[rank - len(axes):])
    b = ctx.b
    length = red[-1]
    stats = RowStats(ctx, tm.dtype, one_block=length <= SUM_BLOCK and all(d == 1 for d in red[:-1]))
    outs = [ctx.alloc(tm, kept), ctx.alloc(tm, kept)] if kept else None
    scalars: list[lir.Value] = []

    def block(idx: list[lir.Value], base: lir.Value, count: int) -> None:
        """One block of `count` elements from `base` on the last axis joins the row's (M, S)."""
        at = lambda j: idx + [b.add(base, j)]  # noqa: E731
        mb, shift = stats.block_max(lambda j: x.load(b, at(j)), count)
        prefetch_next(ctx, x, at(ctx.i64(0)), count)
        stats.join(mb, stats.block_sum(lambda j: ctx.math("exp", b.fsub(x.load(b, at(j)), shift)), count))

    def row(idx: list[lir.Value]) -> None:
        stats.start()

        def blocks(jdx: list[lir.Value]) -> None:
            full = length // SUM_BLOCK
            if full:
                ctx.for_range(full, lambda k: block(idx + jdx, b.mul(k, ctx.i64(SUM_BLOCK)), SUM_BLOCK),
                              vectorize=False)
            if length % SUM_BLOCK:
                block(idx + jdx, ctx.i64(full * SUM_BLOCK), length % SUM_BLOCK)
        ctx.loop_nest(red[:-1], blocks)
        m, s = stats.finish()
        if outs is not None:
            outs[0].store(b, idx, m)
            outs[1].store(b, idx, s)
        else:
            scalars.extend([m, s])
    if outs is not None:
        ctx.loop_nest(kept, row)
        return outs  # type: ignore[return-value]
    row([])
    return [Scalar(tm, scalars[0]), Scalar(tm, scalars[1])]


_lower.dynamic = True  # type: ignore[attr-defined]  (run-time kept dims; codegen.softmax_rows asks static rows)
MAX_SUMEXP.lower = _lower
