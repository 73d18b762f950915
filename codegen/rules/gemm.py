"""The rule of matmul: float32/float64 products call the generated GEMM (codegen.rules.gemm_kernel: one worker per
dtype and pair of transposes, compiled once per process by codegen.gemm_library, the shape passed as arguments), on
a team of threads when the function runs whole and the product is large (codegen.gemm_threads); the ILP64 CBLAS
that numpy ships is called only where it was measured faster (`blas_is_faster`); integer products are plain loops;
float16/bfloat16 compute in float32 and round once.

Batched products loop over the batch, one GEMM per matrix. Transposed operands are never materialized: the kernel
reads A' through strides and packs a transposed B' while it copies it into its panel (as BLAS does).
The elementwise epilogue (bias, activation) is not fused into the tile's store: it runs as the next fused loop over
C, which is still in cache (in a row-tiled function, a chunk's C is in L1); on one thread, relu(x @ W + b) at
256x784x128 measured no slower than x @ W alone (542 vs 575 µs CPU, within the noise).
"""
from __future__ import annotations

from typing import Any, Sequence

import llvmlite.ir as lir

from codegen import gemm_threads
from codegen.context import LowerContext
from codegen.rules.gemm_kernel import ARGS, worker
from codegen.rules.gemm_plan import Gemm
from codegen.values import I32, I64, PTR, Buffer, CValue, Lazy, constant, mem_type, reg_type, round_to
from ir.types import DType, float32

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112

#: B is packed into contiguous panels when it is transposed or larger than this (rows of a larger B sit in too
#: many pages and cache sets to be read in place); a ragged last panel is always packed (zero-padded).
PACK_B_BYTES = 512 * 1024
#: A product of at least TEAM_MIN_FLOPS flops (2 m n k) runs on the thread team when its function runs whole,
#: with a thread per TEAM_FLOPS. A fork/join (futex wake-up and wait) costs tens of microseconds on an idle
#: machine, but up to a scheduler time slice when the other core is busy, so products of a batch-32 training
#: step (6.4 MFLOP, ~60 µs on one core) stay on the calling thread and batch 256's (51 MFLOP) go to the team.
TEAM_MIN_FLOPS = 1 << 23
TEAM_FLOPS = 1 << 21


#: From this inner dimension on, OpenBLAS (which packs A as well as B) was measured faster than the generated GEMM
#: (which reads A in place, its rows 4 KB apart at k = 1024, so the tile's rows collide in the L1 sets). One
#: thread, znver4, GFLOP/s generated vs OpenBLAS: 1024^3 82-92 vs 95 (after row chunks and packing A: still 1.18-1.20
#: of OpenBLAS's time, CPU, paired), x^T @ g at batch 1024 (784x1024x128) 72 vs 86; below it the generated GEMM was
#: as fast or faster on the training step's large products (see benchmarks/gemm.py; d @ W2^T, k = 10, is not).
BLAS_MIN_K = 1024


#: Whether transposed B goes to OpenBLAS. The generated GEMM packs B^T with scalar copies (B's rows become the packed
#: panel's columns); one thread, CPU time, paired with OpenBLAS in one process, it takes 0.93 of OpenBLAS's time
#: on g @ W^T at 256x128x784 (A packed, row chunks), 1.04 at 1024x128x784, but 1.3 on d @ W2^T at 256x10x128
#: (13 µs: the tiles' fixed costs over k = 10). It stays generated: a training step then never calls OpenBLAS, whose
#: threads spin for a long time after each call and, on this 2-core machine shared with other jobs, kept the
#: step's thread team from getting the other core (the batch-256 step took 30 ms against ~1 ms).
BLAS_TRANSPOSED_B = False


def blas_is_faster(dtype: DType, m: int, n: int, k: int, ta: bool, tb: bool) -> bool:
    """Where numpy's OpenBLAS beat the generated GEMM: long inner dimensions, transposed B; and empty products
    (nothing to generate)."""
    return m == 0 or n == 0 or k == 0 or k >= BLAS_MIN_K or (tb and BLAS_TRANSPOSED_B)


def plan(dtype: DType, m: int, n: int, k: int, ta: bool, tb: bool) -> Gemm:
    pack = tb or k * n * dtype.size > PACK_B_BYTES
    return Gemm(dtype, m, n, k, ta, tb, pack)


def tiles_well(dtype: DType, rows: int, n: int, k: int, ta: bool, tb: bool) -> bool:
    """Whether chunks of `rows` rows suit the product: the generated GEMM reads B in place or packs a small one
    (every chunk packs B again; a BLAS call packs it too and threads only inside itself)."""
    if not dtype.is_floating or blas_is_faster(dtype, rows, n, k, ta, tb):
        return False
    return not plan(dtype, rows, n, k, ta, tb).pack_b or k * n * dtype.size <= 64 * 1024


def threads_itself(dtype: DType, m: int, n: int, k: int, ta: bool, tb: bool) -> bool:
    """Whether the whole product, in a function that runs whole, would run on the thread team: then splitting its
    rows into chunks for the runtime's pool gains nothing and costs a pool round trip (256x784x128 alone: 274 µs
    on the team, 429 µs in chunks, numpy 289-303 µs, measured in one run)."""
    return (dtype.is_floating and not blas_is_faster(dtype, m, n, k, ta, tb) and 2 * m * n * k >= TEAM_MIN_FLOPS
            and plan(dtype, m, n, k, ta, tb).units() >= 2 and gemm_threads.available())


def _blas_fn(ctx: LowerContext, dtype: DType) -> lir.Function:
    name = "scipy_cblas_sgemm64_" if dtype is float32 else "scipy_cblas_dgemm64_"
    f = ctx.module.globals.get(name)
    if f is None:
        fty = reg_type(dtype)
        f = lir.Function(ctx.module, lir.FunctionType(lir.VoidType(), [I32, I32, I32, I64, I64, I64, fty, PTR, I64,
                                                                        PTR, I64, fty, PTR, I64]), name)
    return f


def _batch_ptr(ctx: LowerContext, buf: Buffer, idx: Sequence[lir.Value], matrix: int) -> lir.Value:
    b = ctx.b
    offset: lir.Value = ctx.i64(0)
    stride = matrix
    for i, d in zip(reversed(idx), reversed(buf.type.shape[:-2])):
        offset = b.add(offset, b.mul(i, ctx.i64(stride)))
        stride *= d
    return b.gep(buf.ptr, [offset], inbounds=True, source_etype=mem_type(buf.type.dtype))


def _declare(ctx: LowerContext, name: str, ret: lir.Type, args: list[lir.Type]) -> Any:
    f = ctx.module.globals.get(name)
    return f if f is not None else lir.Function(ctx.module, lir.FunctionType(ret, args), name)


def _threads_global(ctx: LowerContext) -> lir.GlobalVariable:
    g = ctx.module.globals.get(gemm_threads.THREADS_SYMBOL)
    if g is None:
        g = lir.GlobalVariable(ctx.module, I32, gemm_threads.THREADS_SYMBOL)
        g.linkage = "external"
    return g


def _call_generated(ctx: LowerContext, g: Gemm) -> Any:
    """A function (pa, pb, pc) that emits one product of `g` at the builder: the module's worker for its kind
    called directly, or handed to the thread team with the thread count capped by the work (run-time sizes:
    codegen.rules.gemm_dynamic makes the same choices in IR)."""
    flops = 2 * g.m * g.n * g.k
    team = ctx.runs is not None and threads_itself(g.dtype, g.m, g.n, g.k, g.ta, g.tb)
    fn = worker(ctx.module, g.dtype, g.ta, g.tb)
    args = ctx.entry_alloca(lir.ArrayType(I64, len(ARGS)))
    counter = ctx.entry_alloca(I64)
    b = ctx.b
    row_grain, panel_grain = g.grains(team)
    static = {"m": g.m, "n": g.n, "k": g.k, "row_grain": row_grain, "panel_grain": panel_grain,
              "pack_all": int(g.pack_b), "pack_a": int(g.pack_a(team))}

    def emit(pa: lir.Value, pb: lir.Value, pc: lir.Value) -> None:
        values = dict(static, a=pa, b=pb, c=pc, counter=counter)
        for i, name in enumerate(ARGS):
            v = values[name]
            v = ctx.i64(v) if isinstance(v, int) else v if v.type == I64 else b.ptrtoint(v, I64)
            b.store(v, b.gep(args, [ctx.i64(0), lir.Constant(I32, i)], inbounds=True))
        b.store(ctx.i64(0), counter)
        if not team:
            b.call(fn, [args])
            return
        cap = lir.Constant(I32, min(g.units(), flops // TEAM_FLOPS))
        want = b.load(_threads_global(ctx), typ=I32)
        threads = b.select(b.icmp_signed("<", want, cap), want, cap)
        parallel = b.icmp_signed(">", threads, lir.Constant(I32, 1))
        with b.if_else(parallel) as (on_team, alone):  # alone: the same worker claims every unit itself
            with on_team:
                gomp = _declare(ctx, "GOMP_parallel", lir.VoidType(), [PTR, PTR, I32, I32])
                b.call(gomp, [fn, args, threads, lir.Constant(I32, 0)])
            with alone:
                b.call(fn, [args])
    return emit


def _call_blas(ctx: LowerContext, dtype: DType, m: int, n: int, k: int, ta: bool, tb: bool) -> Any:
    fn, fty = _blas_fn(ctx, dtype), reg_type(dtype)

    def emit(pa: lir.Value, pb: lir.Value, pc: lir.Value) -> None:
        if m and n and not k:  # BLAS leaves C alone when k == 0 (beta = 0 is not applied then by every BLAS)
            ctx.for_range(m * n, lambda i: ctx.b.store(lir.Constant(fty, 0.0), ctx.b.gep(
                pc, [i], inbounds=True, source_etype=fty)))
            return
        if not (m and n):
            return
        ctx.b.call(fn, [lir.Constant(I32, _ROW_MAJOR), lir.Constant(I32, _TRANS if ta else _NO_TRANS),
                        lir.Constant(I32, _TRANS if tb else _NO_TRANS), ctx.i64(m), ctx.i64(n), ctx.i64(k),
                        lir.Constant(fty, 1.0), pa, ctx.i64(m if ta else k), pb, ctx.i64(k if tb else n),
                        lir.Constant(fty, 0.0), pc, ctx.i64(n)])
    return emit


def _rounded(ctx: LowerContext, t: Any, acc: Buffer) -> CValue:
    """A float32 result buffer read as `t` (float16/bfloat16: each element rounded once); other dtypes: itself."""
    if acc.type.dtype is t.dtype:
        return acc
    return ctx.lazy(t, lambda b, idx: round_to(b, t.dtype, acc.load(b, idx)), cheap=True)


def matmul_static(ctx: LowerContext, op: Any, a: CValue, bv: CValue) -> CValue:
    """matmul of static sizes (the rule, in codegen.rules.gemm_dynamic, takes run-time sizes too)."""
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    t = op.results[0].type
    if t.dtype.is_half:  # as float32 (the halves widen exactly), rounded once at the end
        a, bv = (Lazy(v.type.with_dtype(float32), v.load) for v in (a, bv))
        t = t.with_dtype(float32)
    out = ctx.alloc(t)
    m, n = t.shape[-2:]
    k = a.type.shape[-1] if not ta else a.type.shape[-2]
    batch = t.shape[:-2]
    if not t.dtype.is_floating:
        integer_matmul(ctx, a, bv, out, ta, tb, batch, m, n, k)
        return out
    A, B = ctx.buffer(a), ctx.buffer(bv)
    if blas_is_faster(t.dtype, m, n, k, ta, tb):
        emit = _call_blas(ctx, t.dtype, m, n, k, ta, tb)
    else:
        emit = _call_generated(ctx, plan(t.dtype, m, n, k, ta, tb))

    def one(idx: list[lir.Value]) -> None:
        emit(_batch_ptr(ctx, A, idx, m * k), _batch_ptr(ctx, B, idx, k * n), _batch_ptr(ctx, out, idx, m * n))
    ctx.loop_nest(batch, one) if batch else one([])
    return _rounded(ctx, op.results[0].type, out)


def integer_matmul(ctx: LowerContext, a: CValue, bv: CValue, out: Buffer, ta: bool, tb: bool, batch: Sequence[Any],
                   m: Any, n: Any, k: Any) -> None:
    """i-k-j loops (static or run-time bounds), the inner one contiguous in B and C (integers wrap, as numpy's)."""
    b = ctx.b
    zero = constant(out.type.dtype, 0)
    ctx.loop_nest(out.dims, lambda idx: out.store(b, idx, zero))

    def body(idx: list[lir.Value]) -> None:
        *bi, i, kk, j = idx
        a_idx = bi + ([kk, i] if ta else [i, kk])
        b_idx = bi + ([j, kk] if tb else [kk, j])
        c_idx = bi + [i, j]
        out.store(b, c_idx, b.add(out.load(b, c_idx), b.mul(a.load(b, a_idx), bv.load(b, b_idx))))
    ctx.loop_nest(tuple(batch) + (m, k, n), body)
