"""matmul's rule: static sizes go to codegen.rules.gemm; here, sizes known only at run time (`f32[?,784] @
f32[784,128]`, and the weight gradient `x^T @ g` that contracts over a run-time batch).

Only the rows unknown (m): the generated worker, planned for a typical row count (the worker takes every size at
run time), on the calling thread. A run-time contracted or column size: numpy's OpenBLAS with the run-time sizes
(C zeroed first when k is 0, which BLAS would leave alone). Integers: the i-k-j loops with run-time bounds.
"""
from __future__ import annotations

from typing import Any, Sequence

import llvmlite.ir as lir

from codegen.context import LowerContext
from codegen.rules.gemm import (_NO_TRANS, _ROW_MAJOR, _TRANS, _blas_fn, _call_generated, blas_is_faster,
                                 integer_matmul, matmul_static, plan)
from codegen.rules.registry import lowers
from codegen.values import I32, Buffer, CValue, Lazy, as_i64, mem_type, mul_dims, reg_type, round_to
from ir.types import float32

#: The row count a product of run-time rows is planned for (a training batch).
ROWS_HINT = 256

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
    if isinstance(n, int) and isinstance(k, int) and not blas_is_faster(t.dtype, ROWS_HINT, n, k, ta, tb):
        emit = _call_generated(ctx, plan(t.dtype, ROWS_HINT, n, k, ta, tb), as_i64(m))
    else:
        fn, fty = _blas_fn(ctx, t.dtype), reg_type(t.dtype)

        def emit(pa: lir.Value, pb: lir.Value, pc: lir.Value) -> None:
            with b.if_then(b.icmp_signed("==", as_i64(k), ctx.i64(0))):  # BLAS leaves C alone when k == 0
                ctx.for_range(mul_dims(b, m, n), lambda i: b.store(lir.Constant(fty, 0.0), b.gep(
                    pc, [i], inbounds=True, source_etype=fty)))
            b.call(fn, [lir.Constant(I32, _ROW_MAJOR), lir.Constant(I32, _TRANS if ta else _NO_TRANS),
                        lir.Constant(I32, _TRANS if tb else _NO_TRANS), as_i64(m), as_i64(n), as_i64(k),
                        lir.Constant(fty, 1.0), pa, as_i64(m if ta else k), pb, as_i64(k if tb else n),
                        lir.Constant(fty, 0.0), pc, as_i64(n)])

    def one(idx: list[lir.Value]) -> None:
        emit(_batch_ptr(ctx, A, idx, mul_dims(b, m, k)), _batch_ptr(ctx, B, idx, mul_dims(b, k, n)),
             _batch_ptr(ctx, out, idx, mul_dims(b, m, n)))
    ctx.loop_nest(batch, one) if batch else one([])
    if t0.dtype is t.dtype:
        return out
    return ctx.lazy(t0, lambda bb, idx: round_to(bb, t0.dtype, out.load(bb, idx)), cheap=True, dims=out.dims)

