"""matmul's rule: static sizes go to codegen.rules.gemm; here, sizes known only at run time (`f32[?,784] @
f32[784,128]`, and the weight gradient `x^T @ g` that contracts over a run-time batch).

Floats run the same generated GEMM as static sizes (its worker takes every size at run time): the plan that
codegen.rules.gemm_plan makes from static sizes (packing B, packing A, the grains of work, whether the thread team
runs it and with how many threads) is computed here in IR from the run-time m, n, k, with the same rules, so a
`[?,784]` kernel makes the choices the `[N,784]` one makes (constant sizes fold back to the static plan). A long
contracted dimension (k >= BLAS_MIN_K at run time) calls OpenBLAS, as the static rule does; an empty product zeroes
C (k == 0) or does nothing. Integers: the i-k-j loops with run-time bounds.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import llvmlite.ir as lir

from codegen import gemm_threads
from codegen.context import LowerContext
from codegen.rules import gemm
from codegen.rules.gemm import (_NO_TRANS, _ROW_MAJOR, _TRANS, _blas_fn, _declare, _threads_global, integer_matmul,
                                matmul_static)
from codegen.rules.gemm_kernel import ARGS, worker
from codegen.rules.gemm_plan import PACK_A_MIN_PANELS, Gemm, host_vector_bytes, mr_for
from codegen.rules.registry import lowers
from codegen.values import (I1, I8, I32, I64, PTR, Buffer, CValue, Lazy, as_i64, mem_type, mul_dims, reg_type,
                            round_to)
from ir.types import DType, float32


def _batch_ptr(ctx: LowerContext, buf: Buffer, idx: Sequence[lir.Value], matrix: Any) -> lir.Value:
    b = ctx.b
    offset: lir.Value = ctx.i64(0)
    stride = matrix
    for i, d in zip(reversed(idx), reversed(buf.dims[:-2])):
        offset = b.add(offset, b.mul(i, as_i64(stride)))
        stride = mul_dims(b, stride, d)
    return b.gep(buf.ptr, [offset], inbounds=True, source_etype=mem_type(buf.type.dtype))


@lowers("matmul", dynamic=True)
def _matmul(ctx: LowerContext, op: Any, a: CValue, bv: CValue) -> CValue:
    if op.results[0].type.is_static and a.type.is_static and bv.type.is_static:
        return matmul_static(ctx, op, a, bv)
    return matmul_run_time(ctx, op, a, bv)


class _Arith:
    """i64 arithmetic at the builder (constants fold in LLVM)."""

    def __init__(self, ctx: LowerContext) -> None:
        self.ctx, self.b = ctx, ctx.b

    def c(self, v: Any) -> lir.Value:
        return self.ctx.i64(v) if isinstance(v, int) else v

    def cdiv(self, x: Any, y: Any) -> lir.Value:
        return self.b.sdiv(self.b.add(self.c(x), self.b.sub(self.c(y), self.c(1))), self.c(y))

    def sel(self, cond: lir.Value, x: Any, y: Any) -> lir.Value:
        return self.b.select(cond, self.c(x), self.c(y))

    def lt(self, x: Any, y: Any) -> lir.Value:
        return self.b.icmp_signed("<", self.c(x), self.c(y))

    def ge(self, x: Any, y: Any) -> lir.Value:
        return self.b.icmp_signed(">=", self.c(x), self.c(y))

    def min(self, x: Any, y: Any) -> lir.Value:
        return self.sel(self.lt(x, y), x, y)

    def max(self, x: Any, y: Any) -> lir.Value:
        return self.sel(self.lt(x, y), y, x)


def _run_time_plan(ctx: LowerContext, dtype: DType, m: lir.Value, n: lir.Value, k: lir.Value, tb: bool,
                   team_allowed: bool) -> tuple[dict[str, lir.Value], lir.Value, lir.Value]:
    """The worker's plan arguments for run-time sizes (m, n, k > 0), as codegen.rules.gemm/gemm_plan decide them
    for static ones: ({pack_all, pack_a, row_grain, panel_grain}, on_team (i1), team threads cap (i32)). With
    `team_allowed` False (a function run in row chunks, or no libgomp) the product runs alone."""
    x, b = _Arith(ctx), ctx.b
    mr, panel = mr_for(host_vector_bytes()), Gemm.nr * (host_vector_bytes() // dtype.size)
    row_blocks, panels = x.cdiv(m, mr), x.cdiv(n, panel)
    full_panels = b.sdiv(n, x.c(panel))
    big_b = b.icmp_signed(">", b.mul(b.mul(k, n), x.c(dtype.size)), x.c(gemm.PACK_B_BYTES))
    pack_b = lir.Constant(lir.IntType(1), 1) if tb else big_b
    alone = {"row_grain": row_blocks, "panel_grain": panels,
             "pack_a": b.zext(x.ge(panels, PACK_A_MIN_PANELS), lir.IntType(64))}
    plan = dict(alone, pack_all=b.zext(pack_b, lir.IntType(64)))
    false, one32 = lir.Constant(lir.IntType(1), 0), lir.Constant(I32, 1)
    if not team_allowed:
        return plan, false, one32
    # Gemm.split_rows / grains(team) / units
    packed_panels = b.and_(pack_b, x.ge(full_panels, 2))
    split_rows = b.and_(b.not_(packed_panels), b.or_(x.ge(row_blocks, 2), x.lt(full_panels, 2)))
    rg = x.sel(split_rows, Gemm.ROW_GRAIN, row_blocks)
    pg = x.sel(split_rows, panels, Gemm.PANEL_GRAIN)
    units = b.mul(x.max(x.cdiv(row_blocks, rg), 1), x.max(x.cdiv(panels, pg), 1))
    flops = b.mul(b.mul(b.mul(m, n), k), x.c(2))
    cap = x.min(units, b.sdiv(flops, x.c(gemm.TEAM_FLOPS)))
    want = b.sext(b.load(_threads_global(ctx), typ=I32), lir.IntType(64))
    threads = x.min(want, cap)
    on_team = b.and_(b.and_(x.ge(flops, gemm.TEAM_MIN_FLOPS), x.ge(units, 2)), x.ge(threads, 2))
    team = {"row_grain": rg, "panel_grain": pg, "pack_a": x.c(0)}
    for name, v in team.items():
        plan[name] = b.select(on_team, v, plan[name])
    return plan, on_team, b.trunc(threads, I32)


def _generated(ctx: LowerContext, dtype: DType, ta: bool, tb: bool, m: Any, n: Any, k: Any
               ) -> Callable[[lir.Value, lir.Value, lir.Value], None]:
    """A function (pa, pb, pc) that emits one product of run-time sizes with the generated worker, on the thread
    team when the function runs whole and the product is large enough (decided at run time, as for static sizes)."""
    fn = worker(ctx.module, dtype, ta, tb)
    team_allowed = ctx.runs is not None and gemm_threads.available()
    args = ctx.entry_alloca(lir.ArrayType(lir.IntType(64), len(ARGS)))
    counter = ctx.entry_alloca(lir.IntType(64))
    b = ctx.b
    m, n, k = as_i64(m), as_i64(n), as_i64(k)

    def emit(pa: lir.Value, pb: lir.Value, pc: lir.Value) -> None:
        plan, on_team, threads = _run_time_plan(ctx, dtype, m, n, k, tb, team_allowed)
        values = dict(plan, a=pa, b=pb, c=pc, counter=counter, m=m, n=n, k=k)
        for i, name in enumerate(ARGS):
            v = values[name]
            v = v if v.type == lir.IntType(64) else b.ptrtoint(v, lir.IntType(64))
            b.store(v, b.gep(args, [ctx.i64(0), lir.Constant(I32, i)], inbounds=True))
        b.store(ctx.i64(0), counter)
        if not team_allowed:
            b.call(fn, [args])
            return
        with b.if_else(on_team) as (on, alone):
            with on:
                gomp = _declare(ctx, "GOMP_parallel", lir.VoidType(), [lir.PointerType(), lir.PointerType(), I32,
                                                                           I32])
                b.call(gomp, [fn, args, threads, lir.Constant(I32, 0)])
            with alone:
                b.call(fn, [args])
    return emit


def _blas(ctx: LowerContext, dtype: DType, ta: bool, tb: bool, m: Any, n: Any, k: Any
          ) -> Callable[[lir.Value, lir.Value, lir.Value], None]:
    fn, fty, b = _blas_fn(ctx, dtype), reg_type(dtype), ctx.b

    def emit(pa: lir.Value, pb: lir.Value, pc: lir.Value) -> None:
        b.call(fn, [lir.Constant(I32, _ROW_MAJOR), lir.Constant(I32, _TRANS if ta else _NO_TRANS),
                    lir.Constant(I32, _TRANS if tb else _NO_TRANS), as_i64(m), as_i64(n), as_i64(k),
                    lir.Constant(fty, 1.0), pa, as_i64(m if ta else k), pb, as_i64(k if tb else n),
                    lir.Constant(fty, 0.0), pc, as_i64(n)])
    return emit


def _float_product(ctx: LowerContext, dtype: DType, ta: bool, tb: bool, m: Any, n: Any, k: Any
                   ) -> Callable[[lir.Value, lir.Value, lir.Value], None]:
    """(pa, pb, pc) -> emits C = A' @ B' for run-time sizes: zeros when k is 0, nothing when C is empty, OpenBLAS
    where the static rule would call it (k >= BLAS_MIN_K), else the generated GEMM. A static k decides here, so
    only the one path it takes is emitted (the weight gradient's k, the batch, is the run-time case)."""
    x, b = _Arith(ctx), ctx.b
    size = mul_dims(b, m, n)

    def zeros(pc: lir.Value) -> None:
        memset = ctx.module.declare_intrinsic("llvm.memset", [PTR, I64])
        b.call(memset, [pc, lir.Constant(I8, 0), b.mul(x.c(size), x.c(dtype.size)), lir.Constant(I1, 0)])
    if isinstance(k, int):
        path = (lambda pa, pb, pc: zeros(pc)) if k == 0 else \
            _blas(ctx, dtype, ta, tb, m, n, k) if k >= gemm.BLAS_MIN_K else _generated(ctx, dtype, ta, tb, m, n, k)

        def emit_static_k(pa: lir.Value, pb: lir.Value, pc: lir.Value) -> None:
            with b.if_then(b.icmp_signed(">", x.c(size), x.c(0))):
                path(pa, pb, pc)
        return emit_static_k
    generated, blas = _generated(ctx, dtype, ta, tb, m, n, k), _blas(ctx, dtype, ta, tb, m, n, k)

    def emit(pa: lir.Value, pb: lir.Value, pc: lir.Value) -> None:
        with b.if_then(b.icmp_signed(">", x.c(size), x.c(0))):
            with b.if_else(b.icmp_signed("==", x.c(k), x.c(0))) as (empty, full):
                with empty:
                    zeros(pc)
                with full:
                    with b.if_else(x.ge(k, gemm.BLAS_MIN_K)) as (long_k, short_k):
                        with long_k:
                            blas(pa, pb, pc)
                        with short_k:
                            generated(pa, pb, pc)
    return emit


def matmul_run_time(ctx: LowerContext, op: Any, a: CValue, bv: CValue) -> CValue:
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    t0 = op.results[0].type
    t = t0.with_dtype(float32) if t0.dtype.is_half else t0
    if t0.dtype.is_half:
        a, bv = (Lazy(v.type.with_dtype(float32), v.load, dims=v.dims) for v in (a, bv))
    A, B = ctx.buffer(a), ctx.buffer(bv)
    m = A.dims[-1] if ta else A.dims[-2]
    k = A.dims[-2] if ta else A.dims[-1]
    n = B.dims[-2] if tb else B.dims[-1]
    ctx.same_dim(op, k, B.dims[-1] if tb else B.dims[-2], "the contracted dimension")
    batch = [ctx.same_dim(op, da, db, f"batch dimension {i}") for i, (da, db) in
             enumerate(zip(A.dims[:-2], B.dims[:-2]))]
    out = ctx.alloc(t, dims=batch + [m, n])
    if not t.dtype.is_floating:
        integer_matmul(ctx, A, B, out, ta, tb, batch, m, n, k)
        return out
    b = ctx.b
    emit = _float_product(ctx, t.dtype, ta, tb, m, n, k)

    def one(idx: list[lir.Value]) -> None:
        emit(_batch_ptr(ctx, A, idx, mul_dims(b, m, k)), _batch_ptr(ctx, B, idx, mul_dims(b, k, n)),
             _batch_ptr(ctx, out, idx, mul_dims(b, m, n)))
    ctx.loop_nest(batch, one) if batch else one([])
    if t0.dtype is t.dtype:
        return out
    return ctx.lazy(t0, lambda bb, idx: round_to(bb, t0.dtype, out.load(bb, idx)), cheap=True, dims=out.dims)
