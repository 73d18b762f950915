"""`max_sumexp`: the row statistics of a softmax, max(x) and sum(exp(x - max(x))) over trailing axes, in one read of
each row. A codegen-private op (not in the op table): `codegen.softmax_rows` makes it out of the decomposed pattern
(reduce_max, sub, exp, reduce_sum) after the passes and after autodiff, so gradients and eager mode keep the
decomposed form; its row (infer, numpy kernel, LLVM rule, tiling rule) is here, side by side.

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

Special values are those of the decomposed form: a NaN anywhere makes both results NaN; a row whose max is +inf
or -inf (all -inf) has s = NaN (exp(inf - inf)); a block of only -inf adds nothing (its exp(x - m_b) would be NaN).
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import llvmlite.ir as lir
import numpy as np

from codegen.context import LowerContext
from codegen.rules.blocked_sum import SUM_BLOCK
from codegen.rules.reduce import _skip_nan_combine
from codegen.rules.registry import Tiling
from codegen.values import CValue, Scalar, constant, reg_type
from ir.core import Op
from ir.opdef import Kind, OpDef, check_arity, check_dtype, fail
from ir.types import TensorType, float32, float64

#: The dtypes the op takes (float16/bfloat16 softmaxes keep the decomposed form, which rounds as numpy does).
DTYPES = (float32, float64)


def _infer(types: list[TensorType], *, axes: Sequence[int]) -> tuple[TensorType, ...]:
    check_arity("max_sumexp", types, 1)
    t = types[0]
    check_dtype("max_sumexp", t, DTYPES, "a float32 or float64")
    r = t.rank
    if not axes or list(axes) != list(range(r - len(axes), r)):
        raise fail("max_sumexp", f"axes {list(axes)} must be the trailing axes of shape {t.shape}")
    kept = t.with_shape(t.shape[:r - len(axes)])
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
                   doc="(max(x), sum(exp(x - max(x)))) over trailing axes, one read of each row (codegen only).")


def _split(op: Op, split: list[bool], rows: Optional[int]) -> Optional[list[bool]]:
    """Rows split like a reduction over inner axes; a reduction over the split axis mixes rows."""
    if split[0] and 0 in op.attrs["axes"]:
        return None
    return [split[0], split[0]]


MAX_SUMEXP.tile = Tiling(_split)


def _lower(ctx: LowerContext, op: Op, x: CValue) -> list[CValue]:
    tm = op.results[0].type
    dtype = tm.dtype
    rank = len(x.dims)
    kept, red = list(x.dims[:rank - len(op.attrs["axes"])]), list(x.dims[rank - len(op.attrs["axes"]):])
    b = ctx.b
    f64 = lir.DoubleType()
    reg = reg_type(dtype)
    bits = lir.IntType(64 if dtype is float64 else 32)
    inf_bits = 0x7FF0000000000000 if dtype is float64 else 0x7F800000
    max_of = _skip_nan_combine("max")
    length = red[-1]
    one_block = length <= SUM_BLOCK and all(d == 1 for d in red[:-1])
    wide = reg if one_block else f64  # the running (M, S): a row of one block needs no float64 join
    block_max, block_sum = ctx.entry_alloca(reg), ctx.entry_alloca(reg)
    run_max, run_sum, nan_seen = ctx.entry_alloca(wide), ctx.entry_alloca(wide), ctx.entry_alloca(bits)
    outs = [ctx.alloc(tm, kept), ctx.alloc(tm, kept)] if kept else None
    scalars: list[lir.Value] = []

    def block(idx: list[lir.Value], base: lir.Value, count: int) -> None:
        """One block of `count` elements from `base` on the last axis joins (run_max, run_sum)."""
        at = lambda j: idx + [b.add(base, j)]  # noqa: E731
        b.store(constant(dtype, float("-inf")), block_max)

        def scan(j: lir.Value) -> None:
            v = x.load(b, at(j))
            b.store(max_of(ctx, b.load(block_max, typ=reg), v), block_max)
            magnitude = b.and_(b.bitcast(v, bits), lir.Constant(bits, (1 << (bits.width - 1)) - 1))
            b.store(ctx.intrinsic("llvm.umax", b.load(nan_seen, typ=bits), magnitude), nan_seen)
        ctx.for_range(count, scan)
        mb = b.load(block_max, typ=reg)
        b.store(constant(dtype, 0), block_sum)

        def add_exp(j: lir.Value) -> None:
            e = ctx.math("exp", b.fsub(x.load(b, at(j)), mb))
            b.store(ctx.flags(b.fadd(b.load(block_sum, typ=reg), e), "reassoc", "contract"), block_sum)
        ctx.for_range(count, add_exp)
        # A NaN in the block makes mb poison (nnan); only selects follow, and the row's end picks NaN instead.
        sb = b.load(block_sum, typ=reg)
        if one_block:  # the row's only block: (M, S) = (m_b, s_b), without the scalar exp
            b.store(mb, run_max)
            b.store(sb, run_sum)
            return
        mb64 = mb if reg == f64 else b.fpext(mb, f64)
        sb64 = sb if reg == f64 else b.fpext(sb, f64)
        m, s = b.load(run_max, typ=f64), b.load(run_sum, typ=f64)
        up = b.fcmp_ordered(">", mb64, m)
        hi = b.select(up, mb64, m)
        scale = ctx.intrinsic("llvm.exp", b.fsub(b.select(up, m, mb64), hi))  # exp(lower max - higher max)
        joined = b.select(up, b.fadd(b.fmul(s, scale), sb64), b.fadd(s, b.fmul(sb64, scale)))
        some = b.fcmp_ordered(">", mb64, lir.Constant(f64, float("-inf")))  # a block of -inf adds nothing
        b.store(b.select(some, joined, s), run_sum)
        b.store(b.select(some, hi, m), run_max)

    def row(idx: list[lir.Value]) -> None:
        b.store(lir.Constant(wide, float("-inf")), run_max)
        b.store(lir.Constant(wide, 0.0), run_sum)
        b.store(lir.Constant(bits, 0), nan_seen)

        def blocks(jdx: list[lir.Value]) -> None:
            full = length // SUM_BLOCK
            if full:
                ctx.for_range(full, lambda k: block(idx + jdx, b.mul(k, ctx.i64(SUM_BLOCK)), SUM_BLOCK),
                              vectorize=False)
            if length % SUM_BLOCK:
                block(idx + jdx, ctx.i64(full * SUM_BLOCK), length % SUM_BLOCK)
        ctx.loop_nest(red[:-1], blocks)
        m = b.load(run_max, typ=wide)
        nan = b.icmp_unsigned(">", b.load(nan_seen, typ=bits), lir.Constant(bits, inf_bits))
        finite = b.fcmp_ordered("<", ctx.intrinsic("llvm.fabs", m), lir.Constant(wide, float("inf")))
        s = b.select(finite, b.load(run_sum, typ=wide), lir.Constant(wide, float("nan")))
        m, s = (m, s) if reg == wide else (b.fptrunc(m, reg), b.fptrunc(s, reg))
        nan_value = constant(dtype, float("nan"))
        m, s = b.select(nan, nan_value, m), b.select(nan, nan_value, s)
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
