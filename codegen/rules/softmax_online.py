"""`max_sumexp` over axes that are not the trailing ones (a softmax over the columns of a matrix, or over a middle
axis): the per-element online softmax (codegen.rules.softmax_stats has the row form, for trailing axes).

The running max M and sum S of each kept position live in the two result buffers, and the elements are visited in
memory order; each updates its position's pair with one exp:
    hi, lo = the larger and the smaller of (x, M)
    S = S * exp(lo - hi) + 1   if x is the larger (the old sum rescaled to the new max, plus exp(0))
    S = S + exp(lo - hi)       otherwise
so when the last axis is kept, consecutive elements update consecutive positions and the loop vectorizes across
them (each lane is one column's running pair). A NaN becomes M and stays (M is then NaN, as reduce_max's is); two
-inf add exp(0) = 0 rather than exp(NaN); at the end S is NaN where M is not finite, as the decomposed form's
sum of exp(x - M) is.
"""
from __future__ import annotations

import llvmlite.ir as lir

from codegen.context import LowerContext
from codegen.values import Buffer, CValue, constant
from ir.core import Op
from ir.types import TensorType


def lower_any_axes(ctx: LowerContext, op: Op, x: CValue) -> list[CValue]:
    """(M, S) of `x` over `op`'s axes, at least one of them kept after a reduced one."""
    t: TensorType = op.results[0].type
    axes = set(op.attrs["axes"])
    b, dtype = ctx.b, t.dtype
    kept_dims = [d for k, d in enumerate(x.dims) if k not in axes]
    run_max, run_sum = ctx.alloc(t, kept_dims), ctx.alloc(t, kept_dims)
    neg_inf, zero, one = constant(dtype, float("-inf")), constant(dtype, 0), constant(dtype, 1)

    def start(k: list[lir.Value]) -> None:
        run_max.store(b, k, neg_inf)
        run_sum.store(b, k, zero)
    ctx.loop_nest(kept_dims, start)

    def element(idx: list[lir.Value]) -> None:
        k = [i for n, i in enumerate(idx) if n not in axes]
        v, m, s = x.load(b, idx), run_max.load(b, k), run_sum.load(b, k)
        up = b.or_(b.fcmp_ordered(">", v, m), b.fcmp_unordered("uno", v, v))
        hi, lo = b.select(up, v, m), b.select(up, m, v)
        e = ctx.math("exp", b.fsub(lo, hi))
        e = b.select(b.fcmp_ordered("==", hi, neg_inf), zero, e)  # two -inf: nothing to add
        run_sum.store(b, k, b.select(up, b.fadd(b.fmul(s, e), one), b.fadd(s, e)))
        run_max.store(b, k, hi)
    ctx.loop_nest(list(x.dims), element)

    def finish(k: list[lir.Value]) -> None:
        finite = b.fcmp_ordered("<", ctx.intrinsic("llvm.fabs", run_max.load(b, k)), constant(dtype, float("inf")))
        run_sum.store(b, k, b.select(finite, run_sum.load(b, k), constant(dtype, float("nan"))))
    ctx.loop_nest(kept_dims, finish)
    results: list[CValue] = [run_max, run_sum]
    assert all(isinstance(r, Buffer) for r in results)
    return results
