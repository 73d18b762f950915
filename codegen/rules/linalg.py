"""LLVM rules of the dense linear-algebra rows (ir.ops_linalg): Gaussian elimination with partial pivoting.

Per matrix of the batch: the matrix is copied (transposed for an adjoint solve) into a heap block of n x n
elements; a solve copies B into its result and eliminates on it alongside, then substitutes backwards. Every
update is `x - f * y` with no fast-math flags (no FMA contraction), in the order of the numpy kernel, so compiled
and eager results agree exactly. A zero pivot fails a solve with TF's message and makes a determinant 0.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import llvmlite.ir as lir

from codegen.context import LowerContext
from codegen.rules.registry import lowers, never_tiles
from codegen.values import I1, I64, Buffer, CValue, Scalar, reg_type
from ir.ops_linalg import SINGULAR
from ir.ops_state import InvalidArgumentError


class _Work:
    """An n x n matrix of registers-typed elements on the heap."""

    def __init__(self, ctx: LowerContext, ty: lir.Type, n: lir.Value) -> None:
        b = ctx.b
        self.ctx, self.ty, self.n = ctx, ty, n
        size = 8 if isinstance(ty, lir.DoubleType) else 4
        self.ptr = ctx.heap_alloc(b.mul(b.mul(n, n), ctx.i64(size)))

    def at(self, r: lir.Value, c: lir.Value) -> lir.Value:
        b = self.ctx.b
        return b.gep(self.ptr, [b.add(b.mul(r, self.n), c)], inbounds=True, source_etype=self.ty)

    def load(self, r: lir.Value, c: lir.Value) -> lir.Value:
        return self.ctx.b.load(self.at(r, c), typ=self.ty)

    def store(self, r: lir.Value, c: lir.Value, v: lir.Value) -> None:
        self.ctx.b.store(v, self.at(r, c))


def _slot(ctx: LowerContext, ty: lir.Type, init: lir.Value) -> lir.Value:
    s = ctx.entry_alloca(ty)
    ctx.b.store(init, s)
    return s


def _eliminate(ctx: LowerContext, w: _Work, n: lir.Value, on_pivot: Callable[[lir.Value, lir.Value], None],
               rows: Optional[Callable[[lir.Value, lir.Value, Optional[lir.Value]], None]]) -> None:
    """Forward elimination on w; `on_pivot(c, p)` runs after the pivot row p of column c is found (before the
    swap); `rows(c, p_or_r, f)` swaps (f None) or updates (row r -= f * row c) the right-hand side."""
    b = ctx.b
    one = ctx.i64(1)

    def column(c: lir.Value) -> None:
        best_r = _slot(ctx, I64, c)
        best_v = _slot(ctx, w.ty, ctx.intrinsic("llvm.fabs", w.load(c, c)))

        def scan(r: lir.Value) -> None:
            v = ctx.intrinsic("llvm.fabs", w.load(r, c))
            better = b.fcmp_ordered(">", v, b.load(best_v, typ=w.ty))
            b.store(b.select(better, v, b.load(best_v, typ=w.ty)), best_v)
            b.store(b.select(better, r, b.load(best_r, typ=I64)), best_r)
        ctx.for_range(n, scan, start=b.add(c, one), vectorize=False)
        p = b.load(best_r, typ=I64)
        on_pivot(c, p)

        def swap(j: lir.Value) -> None:
            x, y = w.load(c, j), w.load(p, j)
            w.store(c, j, y)
            w.store(p, j, x)
        ctx.for_range(n, swap, vectorize=False)
        if rows is not None:
            rows(c, p, None)

        def update(r: lir.Value) -> None:
            f = b.fdiv(w.load(r, c), w.load(c, c))
            ctx.for_range(n, lambda j: w.store(r, j, b.fsub(w.load(r, j), b.fmul(f, w.load(c, j)))),
                          start=b.add(c, one))
            if rows is not None:
                rows(c, r, f)
        ctx.for_range(n, update, start=b.add(c, one), vectorize=False)
    ctx.for_range(n, column, vectorize=False)


def _batch(ctx: LowerContext, batch: list, body: Callable[[list], None]) -> None:
    if batch:
        ctx.loop_nest(batch, body)
    else:
        body([])


def _copy_in(ctx: LowerContext, a: Buffer, idx: list, n: lir.Value, adjoint: bool) -> _Work:
    w = _Work(ctx, reg_type(a.type.dtype), n)
    ctx.for_range(n, lambda r: ctx.for_range(
        n, lambda c: w.store(r, c, a.load(ctx.b, idx + ([c, r] if adjoint else [r, c])))))
    return w


def _i64(ctx: LowerContext, d: Any) -> lir.Value:
    return ctx.i64(d) if isinstance(d, int) else d


@lowers("matrix_solve", dynamic=True, may_fail=lambda op: True)
def _matrix_solve(ctx: LowerContext, op: Any, a: CValue, rhs: CValue) -> CValue:
    b = ctx.b
    a, rhs = ctx.buffer(a), ctx.buffer(rhs)
    n, k = _i64(ctx, a.dims[-1]), _i64(ctx, rhs.dims[-1])
    out = ctx.alloc(op.results[0].type, list(rhs.dims))
    code = ctx.error(InvalidArgumentError, SINGULAR)
    zero = ctx.const(a.type.dtype, 0)
    flat = ctx.entry_alloca(I1)

    def one(idx: list) -> None:
        mark = ctx.heap_mark()
        w = _copy_in(ctx, a, idx, n, op.attrs["adjoint"])
        ctx.for_range(n, lambda r: ctx.for_range(k, lambda q: out.store(b, idx + [r, q], rhs.load(b, idx + [r, q]))))

        b.store(lir.Constant(I1, 0), flat)

        def singular(c: lir.Value, p: lir.Value) -> None:
            b.store(b.or_(b.load(flat, typ=I1), b.fcmp_unordered("==", w.load(p, c), zero)), flat)

        def rows(c: lir.Value, r: lir.Value, f: Optional[lir.Value]) -> None:
            def each(q: lir.Value) -> None:
                x, y = out.load(b, idx + [c, q]), out.load(b, idx + [r, q])
                if f is None:
                    out.store(b, idx + [c, q], y)
                    out.store(b, idx + [r, q], x)
                else:
                    out.store(b, idx + [r, q], b.fsub(y, b.fmul(f, x)))
            ctx.for_range(k, each)
        _eliminate(ctx, w, n, singular, rows)
        ctx.fail_if(b.load(flat, typ=I1), code)  # once per matrix, outside the elimination's loops

        def back(rr: lir.Value) -> None:
            r = b.sub(b.sub(n, ctx.i64(1)), rr)

            def each(q: lir.Value) -> None:
                s = _slot(ctx, w.ty, out.load(b, idx + [r, q]))
                ctx.for_range(n, lambda j: b.store(b.fsub(b.load(s, typ=w.ty), b.fmul(w.load(r, j),
                                                                                    out.load(b, idx + [j, q]))), s),
                              start=b.add(r, ctx.i64(1)), vectorize=False)
                out.store(b, idx + [r, q], b.fdiv(b.load(s, typ=w.ty), w.load(r, r)))
            ctx.for_range(k, each, vectorize=False)
        ctx.for_range(n, back, vectorize=False)
        ctx.free_heap(mark)
    _batch(ctx, list(a.dims[:-2]), one)
    return out


@lowers("matrix_determinant", dynamic=True)
def _matrix_determinant(ctx: LowerContext, op: Any, a: CValue) -> CValue:
    """The product of the pivots, negated per row swap; 0 when a pivot is 0."""
    b = ctx.b

    def pivot(acc: lir.Value, pv: lir.Value, swapped: lir.Value) -> lir.Value:
        return b.fmul(b.select(swapped, b.fneg(acc), acc), pv)
    return _over_pivots(ctx, op, a, 1, pivot, 0)


@lowers("matrix_slogdet", dynamic=True)
def _matrix_slogdet(ctx: LowerContext, op: Any, a: CValue) -> CValue:
    """The sign (the product of the pivots' signs, negated per row swap) or the sum of the logs of the pivots'
    magnitudes; 0 and -inf when a pivot is 0."""
    b = ctx.b
    zero, unit = ctx.const(a.type.dtype, 0), ctx.const(a.type.dtype, 1)
    if op.attrs["part"] == "sign":
        def pivot(acc: lir.Value, pv: lir.Value, swapped: lir.Value) -> lir.Value:
            s = b.select(b.fcmp_ordered("<", pv, zero), b.fneg(unit), unit)
            return b.fmul(b.select(swapped, b.fneg(acc), acc), s)
        return _over_pivots(ctx, op, a, 1, pivot, 0)

    def log_pivot(acc: lir.Value, pv: lir.Value, swapped: lir.Value) -> lir.Value:
        return b.fadd(acc, ctx.math("log", ctx.intrinsic("llvm.fabs", pv)))
    return _over_pivots(ctx, op, a, 0, log_pivot, float("-inf"))


def _over_pivots(ctx: LowerContext, op: Any, a: CValue, init: float,
                 combine: Callable[[lir.Value, lir.Value, lir.Value], lir.Value], at_zero: float) -> CValue:
    """One value per matrix of `a` folded over the pivots of its elimination: `combine(acc, pivot, swapped)` from
    `init`, or `at_zero` when a pivot is 0."""
    b = ctx.b
    a = ctx.buffer(a)
    n = _i64(ctx, a.dims[-1])
    t = op.results[0].type
    out = ctx.alloc(t, list(a.dims[:-2])) if t.shape else None
    ty = reg_type(a.type.dtype)
    zero = ctx.const(a.type.dtype, 0)
    acc, flat = ctx.entry_alloca(ty), ctx.entry_alloca(I1)
    result: list = []

    def one(idx: list) -> None:
        mark = ctx.heap_mark()
        w = _copy_in(ctx, a, idx, n, False)
        b.store(lir.Constant(ty, init), acc)
        b.store(lir.Constant(I1, 0), flat)

        def pivot(c: lir.Value, p: lir.Value) -> None:
            pv = w.load(p, c)
            b.store(b.or_(b.load(flat, typ=I1), b.fcmp_unordered("==", pv, zero)), flat)
            b.store(combine(b.load(acc, typ=ty), pv, b.icmp_signed("!=", p, c)), acc)
        _eliminate(ctx, w, n, pivot, None)
        v = b.select(b.load(flat, typ=I1), lir.Constant(ty, at_zero), b.load(acc, typ=ty))
        ctx.free_heap(mark)
        if out is not None:
            out.store(b, idx, v)
        else:
            result.append(v)
    _batch(ctx, list(a.dims[:-2]), one)
    return out if out is not None else Scalar(t, result[0])


never_tiles("matrix_solve", "matrix_determinant", "matrix_slogdet")
