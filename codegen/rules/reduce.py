"""Rules of reductions and matmul. A reduction evaluates its (fused) operand once per element: over trailing
reduced axes it keeps the accumulator in a register (`reassoc` lets LLVM vectorize it), otherwise it accumulates
into the output buffer in memory order. float32/float64 matmul runs in a generated, register-blocked vector kernel
when the right operand is small enough to stay in cache (the common shapes of dense layers and their gradients), and
otherwise calls the ILP64 CBLAS that numpy ships.

Floating sums over trailing axes run in blocks (see `codegen.rules.blocked_sum`): LLVM keeps each block's
partial sums in 4 vector accumulators of 16 lanes (`reassoc`), and each block's total is added to a float64 (for
float64 sums: compensated) accumulator, so the rounding error grows with the block, not with the row.

Floating max/min over trailing axes run as two independent reductions that vectorize to a few instructions per
vector (`vmaxps`, `vpandd`, `vpmaxud`): a max that assumes no NaN, and an unsigned max of the elements' magnitude
bits (a NaN's exceed infinity's); NaN is chosen at the end if any was seen, so the result is numpy's (NaN
propagates) without the per-element NaN and signed-zero handling of `llvm.maximum` (about twice the instructions).
The magnitudes stay in vector registers: an OR of `x != x` in mask registers (`vcmpunordps`, `korw`) was bound by
the mask ORs, 0.064 ms against numpy's 0.058 for the max of 1M float32 in cache (now 0.057 against 0.062, CPU time
of one thread).
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import llvmlite.ir as lir

from codegen.context import LowerContext
from codegen.rules.blocked_sum import MIN_BLOCKED_ROW, blocked_sum
from codegen.rules.registry import lowers
from codegen.values import I32, I64, PTR, Buffer, CValue, Lazy, Scalar, as_i64, constant, mul_dims, reg_type, round_to
from ir.types import DType, float32, float64


def _combine(kind: str, dtype: DType) -> tuple[Any, Callable[[LowerContext, lir.Value, lir.Value], lir.Value]]:
    if kind == "sum":
        ident = 0
        if dtype.is_floating:
            return ident, lambda ctx, a, x: ctx.flags(ctx.b.fadd(a, x), "reassoc", "contract")
        return ident, lambda ctx, a, x: ctx.b.add(a, x)
    if kind == "prod":
        if dtype.is_floating:
            return 1, lambda ctx, a, x: ctx.flags(ctx.b.fmul(a, x), "reassoc", "contract")
        return 1, lambda ctx, a, x: ctx.b.mul(a, x)
    if dtype.is_floating:  # llvm.maximum/minimum propagate NaN, as numpy's max/min do
        ident = float("-inf") if kind == "max" else float("inf")
        name = "llvm.maximum" if kind == "max" else "llvm.minimum"
        return ident, lambda ctx, a, x: ctx.flags(ctx.intrinsic(name, a, x), "reassoc")
    ident = dtype.min if kind == "max" else dtype.max
    name = ("llvm.umax" if kind == "max" else "llvm.umin") if dtype.is_unsigned else \
        ("llvm.smax" if kind == "max" else "llvm.smin")
    return ident, lambda ctx, a, x: ctx.intrinsic(name, a, x)


def _skip_nan_combine(kind: str) -> Callable[[LowerContext, lir.Value, lir.Value], lir.Value]:
    """max/min for the NaN-free case, with the caller tracking NaNs on the side. LLVM vectorizes a `maxnum`
    reduction next to another reduction only with `nnan nsz`. `nnan` is sound here: a NaN operand makes this
    accumulator poison, and the caller then selects NaN instead of it (a select never returns its unchosen operand).
    `nsz`: which of tied +0.0 and -0.0 wins depends on the reduction order anyway, as in numpy."""
    name = "llvm.maxnum" if kind == "max" else "llvm.minnum"
    return lambda ctx, a, x: ctx.flags(ctx.intrinsic(name, a, x), "nnan", "nsz", "reassoc")


def _reduce(kind: str) -> Any:
    def rule(ctx: LowerContext, op: Any, x: CValue) -> CValue:
        axes = tuple(op.attrs["axes"])
        t = op.results[0].type
        shape = x.dims
        ident, combine = _combine(kind, t.dtype)
        b = ctx.b
        rank = len(shape)
        trailing = axes == tuple(range(rank - len(axes), rank))
        if trailing:
            kept = shape[:rank - len(axes)]
            out = ctx.alloc(t, kept) if t.shape else None
            red = shape[rank - len(axes):]
            acc = ctx.entry_alloca(reg_type(t.dtype))
            bits = lir.IntType(64 if t.dtype is float64 else 32)  # the register's bits (halves are float32)
            nan_seen = ctx.entry_alloca(bits) if kind in ("max", "min") and t.dtype.is_floating else None
            if nan_seen is not None:
                combine = _skip_nan_combine(kind)

            # blocked when rows are long, or when there is just one row (as the sum of threads' partial sums)
            one_row = all(d == 1 for d in kept) and all(d == 1 for d in red[:-1])
            # (a row of run-time length keeps the plain loop: the blocked sum is for static rows)
            if kind == "sum" and t.dtype.is_floating and red and isinstance(red[-1], int) and \
                    (red[-1] >= MIN_BLOCKED_ROW or one_row):
                def outer_blocked(idx: list[lir.Value]) -> None:
                    total = blocked_sum(ctx, x, idx, red, t.dtype, acc, combine, one_row)
                    if out is not None:
                        out.store(b, idx, total)
                    else:
                        scalar.append(round_to(b, t.dtype, total))
                scalar: list[lir.Value] = []
                if kept:
                    ctx.loop_nest(kept, outer_blocked)
                    return out  # type: ignore[return-value]
                outer_blocked([])
                return Scalar(t, scalar[0])

            def outer(idx: list[lir.Value]) -> None:
                b.store(constant(t.dtype, ident), acc)
                if nan_seen is not None:
                    b.store(lir.Constant(bits, 0), nan_seen)

                def inner(jdx: list[lir.Value]) -> None:
                    v = x.load(b, idx + jdx)
                    b.store(combine(ctx, b.load(acc, typ=acc.allocated_type), v), acc)
                    if nan_seen is not None:
                        magnitude = b.and_(b.bitcast(v, bits), lir.Constant(bits, (1 << (bits.width - 1)) - 1))
                        b.store(ctx.intrinsic("llvm.umax", b.load(nan_seen, typ=bits), magnitude), nan_seen)
                ctx.loop_nest(red, inner)
                result = b.load(acc, typ=acc.allocated_type)
                if nan_seen is not None:
                    inf_bits = 0x7F800000 if bits.width == 32 else 0x7FF0000000000000
                    seen = b.icmp_unsigned(">", b.load(nan_seen, typ=bits), lir.Constant(bits, inf_bits))
                    result = b.select(seen, constant(t.dtype, float("nan")),
                                      result)
                if out is not None:
                    out.store(b, idx, result)
                else:
                    scalar.append(round_to(b, t.dtype, result))
            scalar: list[lir.Value] = []
            if kept:
                ctx.loop_nest(kept, outer)
                return out  # type: ignore[return-value]
            outer([])
            return Scalar(t, scalar[0])
        # float16/bfloat16 accumulate in a float32 buffer, rounded once when read
        kept_dims = [d for k, d in enumerate(shape) if k not in axes]
        out = ctx.alloc(t.with_dtype(float32) if t.dtype.is_half else t, kept_dims)
        ctx.loop_nest(out.dims, lambda idx: out.store(b, idx, constant(t.dtype, ident)))

        def body(idx: list[lir.Value]) -> None:
            dst = [i for k, i in enumerate(idx) if k not in axes]
            out.store(b, dst, combine(ctx, out.load(b, dst), x.load(b, idx)))
        ctx.loop_nest(shape, body)
        return _rounded(ctx, t, out)
    return rule


def _rounded(ctx: LowerContext, t: Any, acc: Buffer) -> CValue:
    """A float32 accumulator buffer read as `t` (float16/bfloat16: each element rounded); other dtypes: itself."""
    if acc.type.dtype is t.dtype:
        return acc
    return ctx.lazy(t, lambda b, idx: round_to(b, t.dtype, acc.load(b, idx)), cheap=True, dims=acc.dims)


lowers("reduce_sum", dynamic=True)(_reduce("sum"))
lowers("reduce_prod", dynamic=True)(_reduce("prod"))
lowers("reduce_max", dynamic=True)(_reduce("max"))
lowers("reduce_min", dynamic=True)(_reduce("min"))


def _arg(better_pred: str) -> Any:
    def rule(ctx: LowerContext, op: Any, x: CValue) -> CValue:
        axis = op.attrs["axis"]
        t = op.results[0].type
        n = x.dims[axis]
        b = ctx.b
        floating = x.type.dtype.is_floating
        best_v = ctx.entry_alloca(reg_type(x.type.dtype))
        best_i = ctx.entry_alloca(I64)
        out = ctx.alloc(t, x.dims[:axis] + x.dims[axis + 1:]) if t.shape else None
        result: list[lir.Value] = []

        def outer(idx: list[lir.Value]) -> None:
            at = (lambda j: list(idx[:axis]) + [j] + list(idx[axis:]))
            b.store(x.load(b, at(ctx.i64(0))), best_v)
            b.store(ctx.i64(0), best_i)

            def step(j: lir.Value) -> None:
                v = x.load(b, at(j))
                cur = b.load(best_v, typ=best_v.allocated_type)
                if floating:
                    # TensorFlow: NaN are skipped (a number replaces a NaN best); otherwise the first strict
                    # improvement. All NaN leaves index 0.
                    better = b.or_(b.fcmp_ordered(better_pred, v, cur),
                                   b.and_(b.fcmp_unordered("uno", cur, cur), b.fcmp_ordered("ord", v, v)))
                elif x.type.dtype.is_unsigned:
                    better = b.icmp_unsigned(better_pred, v, cur)
                else:
                    better = b.icmp_signed(better_pred, v, cur)
                b.store(b.select(better, v, cur), best_v)
                b.store(b.select(better, j, b.load(best_i, typ=I64)), best_i)
            ctx.for_range(n, step, start=1)
            i = b.load(best_i, typ=I64)
            i = i if t.dtype.size == 8 else b.trunc(i, reg_type(t.dtype))
            if out is not None:
                out.store(b, idx, i)
            else:
                result.append(i)
        if t.shape:
            ctx.loop_nest(out.dims, outer)  # type: ignore[union-attr]
            return out  # type: ignore[return-value]
        outer([])
        return Scalar(t, result[0])
    return rule


lowers("argmax", dynamic=True)(_arg(">"))
lowers("argmin", dynamic=True)(_arg("<"))


_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


def _gemm_fn(ctx: LowerContext, dtype: DType) -> lir.Function:
    name = "scipy_cblas_sgemm64_" if dtype is float32 else "scipy_cblas_dgemm64_"
    f = ctx.module.globals.get(name)
    if f is None:
        fty = reg_type(dtype)
        f = lir.Function(ctx.module, lir.FunctionType(lir.VoidType(), [I32, I32, I32, I64, I64, I64, fty, PTR, I64,
                                                                        PTR, I64, fty, PTR, I64]), name)
    return f


def _batch_ptr(ctx: LowerContext, buf: Buffer, idx: Sequence[lir.Value], matrix: Any) -> lir.Value:
    b = ctx.b
    offset: lir.Value = ctx.i64(0)
    stride = matrix
    for i, d in zip(reversed(idx), reversed(buf.dims[:-2])):
        offset = b.add(offset, b.mul(i, as_i64(stride)))
        stride = mul_dims(b, stride, d)
    from codegen.values import mem_type
    return b.gep(buf.ptr, [offset], inbounds=True, source_etype=mem_type(buf.type.dtype))


#: Register block of the vector matmul kernel: _MR rows of C by up to _NR vectors of columns, so _MR * _NR
#: accumulators, _NR loads of B and _MR broadcasts of A per step of k. 8 x 2 measured best among 4x4, 6x4, 4x6,
#: 8x2, 12x2 and 16x1 on the shapes of a dense layer's forward and backward (A transposed or not).
_MR, _NR = 8, 2


def _vector_gemm(ctx: LowerContext, dtype: DType, pa: lir.Value, pb: lir.Value, pc: lir.Value, m: Any, n: int,
                 k: Any, ta: bool) -> None:
    """C[m, n] = A'[m, k] @ B[k, n] with A' = A or (ta) A transposed, all row-major, n a multiple of the vector
    width. Column blocks of B outermost, so one block (k x _NR vectors) stays in cache while every row block of A
    streams past it; each C block is accumulated in registers over all of k, then stored once."""
    b = ctx.b
    fty = reg_type(dtype)
    width = 64 // dtype.size
    vty = lir.VectorType(fty, width)
    nvec = n // width
    nr = next(r for r in range(min(_NR, nvec), 0, -1) if nvec % r == 0)
    accs = [[ctx.entry_alloca(vty) for _ in range(nr)] for _ in range(_MR)]
    fma_name = f"llvm.fma.v{width}f{dtype.size * 8}"
    fma = ctx.module.globals.get(fma_name) or lir.Function(ctx.module, lir.FunctionType(vty, [vty] * 3), fma_name)
    zero = lir.Constant(vty, None)
    splat_mask = lir.Constant(lir.VectorType(I32, width), [lir.Constant(I32, 0)] * width)

    def at(base: lir.Value, index: lir.Value) -> lir.Value:
        return b.gep(base, [index], inbounds=True, source_etype=fty)

    def block(rows: int, i0: lir.Value, j0: lir.Value) -> None:
        for r in range(rows):
            for c in range(nr):
                b.store(zero, accs[r][c])

        def step(kk: lir.Value) -> None:
            row = b.add(b.mul(kk, ctx.i64(n)), j0)
            bvs = [b.load(at(pb, b.add(row, ctx.i64(c * width))), typ=vty, align=dtype.size) for c in range(nr)]
            for r in range(rows):
                i = b.add(i0, ctx.i64(r))
                a_index = b.add(b.mul(kk, as_i64(m)), i) if ta else b.add(b.mul(i, as_i64(k)), kk)
                scalar = b.load(at(pa, a_index), typ=fty)
                splat = b.shuffle_vector(b.insert_element(zero, scalar, lir.Constant(I32, 0)), zero, splat_mask)
                for c in range(nr):
                    b.store(b.call(fma, [splat, bvs[c], b.load(accs[r][c], typ=vty)]), accs[r][c])
        ctx.for_range(k, step, vectorize=False)
        for r in range(rows):
            row = b.add(b.mul(b.add(i0, ctx.i64(r)), ctx.i64(n)), j0)
            for c in range(nr):
                b.store(b.load(accs[r][c], typ=vty), at(pc, b.add(row, ctx.i64(c * width))), align=dtype.size)

    def columns(jb: lir.Value) -> None:
        j0 = b.mul(jb, ctx.i64(nr * width))
        if not isinstance(m, int):  # a run-time number of rows: full blocks, a half block if 4 rows remain, rows
            full = b.mul(b.udiv(m, ctx.i64(_MR)), ctx.i64(_MR))
            ctx.for_range(b.udiv(m, ctx.i64(_MR)), lambda ib: block(_MR, b.mul(ib, ctx.i64(_MR)), j0))
            half = b.icmp_signed(">=", b.sub(m, full), ctx.i64(_MR // 2))
            with b.if_then(half):
                block(_MR // 2, full, j0)
            ctx.for_range(m, lambda i: block(1, i, j0), start=b.select(half, b.add(full, ctx.i64(_MR // 2)), full))
            return
        ctx.for_range(m // _MR, lambda ib: block(_MR, b.mul(ib, ctx.i64(_MR)), j0))
        done = m - m % _MR
        if m - done >= _MR // 2:  # the remaining rows: one half-height block, then single rows
            block(_MR // 2, ctx.i64(done), j0)
            done += _MR // 2
        if done < m:
            ctx.for_range(m, lambda i: block(1, i, j0), start=done)
    ctx.for_range(nvec // nr, columns)


#: The vector kernel reads B in place (BLAS packs it first), so it wins while B stays in cache. Measured on one
#: thread of a znver5 core against numpy's OpenBLAS (which this machine's OPENBLAS_CORETYPE=Haswell limits to AVX2):
#: 220 vs 111 GFLOP/s on 256x784 @ 784x128, 146 vs 82 on 32x784 @ 784x128, 169 vs 110 on 512^3 (B: 1 MB),
#: 97 vs 107 on 1024^3 (B: 4 MB, its rows a page apart).
VECTOR_GEMM_MAX_B_BYTES = 1 << 20


@functools.cache
def _host_has_avx512() -> bool:
    """The kernel's block needs 32 vector registers of 64 bytes; on other hosts BLAS's own kernels are the better
    choice."""
    import llvmlite.binding as llvm
    from codegen import llvm_setup
    llvm_setup.ensure_initialized()
    return bool(llvm.get_host_cpu_features().get("avx512f"))


def vector_gemm_applies(dtype: DType, m: int, n: int, k: int, transpose_b: bool) -> bool:
    """Whether a float matmul [m, k] @ [k, n] runs in the generated vector kernel rather than in BLAS."""
    return (dtype.is_floating and not transpose_b and n > 0 and n % (64 // dtype.size) == 0 and m > 0 and k > 0
            and k * n * dtype.size <= VECTOR_GEMM_MAX_B_BYTES and _host_has_avx512())


@lowers("matmul", dynamic=True)
def _matmul(ctx: LowerContext, op: Any, a: CValue, bv: CValue) -> CValue:
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    t = op.results[0].type
    if t.dtype.is_half:  # as float32 (the halves widen exactly), rounded once at the end
        a, bv = (Lazy(v.type.with_dtype(float32), v.load, dims=v.dims) for v in (a, bv))
        t = t.with_dtype(float32)
    A, B = ctx.buffer(a), ctx.buffer(bv)
    m, k = A.dims[-1:-3:-1] if ta else A.dims[-2:]
    kb, n = B.dims[-1:-3:-1] if tb else B.dims[-2:]
    k = ctx.same_dim(op, k, kb, "the contracted dimension")
    full = A if A.type.rank == t.rank else B
    batch = [d if d is not None else full.dims[i] for i, d in enumerate(t.shape[:-2])]
    out = ctx.alloc(t, batch + [m, n])
    b = ctx.b
    if t.dtype.is_floating:
        gemm = _gemm_fn(ctx, t.dtype)
        fty = reg_type(t.dtype)

        def one(idx: list[lir.Value]) -> None:
            pa = _batch_ptr(ctx, A, idx, mul_dims(b, m, k))
            pb = _batch_ptr(ctx, B, idx, mul_dims(b, k, n))
            pc = _batch_ptr(ctx, out, idx, mul_dims(b, m, n))
            def blas() -> None:
                if isinstance(m, int) and isinstance(n, int) and isinstance(k, int):
                    ctx.add_work(m * n * k)  # one call: the loops around it poll between calls (codegen.interrupt)
                b.call(gemm, [lir.Constant(I32, _ROW_MAJOR), lir.Constant(I32, _TRANS if ta else _NO_TRANS),
                              lir.Constant(I32, _TRANS if tb else _NO_TRANS), as_i64(m), as_i64(n), as_i64(k),
                              lir.Constant(fty, 1.0), pa, as_i64(m if ta else k), pb, as_i64(k if tb else n),
                              lir.Constant(fty, 0.0), pc, as_i64(n)])
            # run-time sizes: m any; a run-time k chooses the vector kernel or BLAS by B's size when called
            if not isinstance(n, int) or not vector_gemm_applies(t.dtype, m if isinstance(m, int) else 1, n,
                                                                 k if isinstance(k, int) else 1, tb):
                blas()
            elif isinstance(k, int):
                _vector_gemm(ctx, t.dtype, pa, pb, pc, m, n, k, ta)
            else:
                fits = b.icmp_signed("<=", b.mul(k, ctx.i64(n * t.dtype.size)), ctx.i64(VECTOR_GEMM_MAX_B_BYTES))
                with b.if_else(fits) as (small, large):
                    with small:
                        _vector_gemm(ctx, t.dtype, pa, pb, pc, m, n, k, ta)
                    with large:
                        blas()
        if batch:
            ctx.loop_nest(batch, one)
        else:
            one([])
        return _rounded(ctx, op.results[0].type, out)
    # Integer matmul: i-k-j loops, the inner one contiguous in B and C.
    zero = constant(t.dtype, 0)
    ctx.loop_nest(out.dims, lambda idx: out.store(b, idx, zero))

    def body(idx: list[lir.Value]) -> None:
        *bi, i, kk, j = idx
        a_idx = bi + ([kk, i] if ta else [i, kk])
        b_idx = bi + ([j, kk] if tb else [kk, j])
        c_idx = bi + [i, j]
        out.store(b, c_idx, b.add(out.load(b, c_idx), b.mul(a.load(b, a_idx), bv.load(b, b_idx))))
    ctx.loop_nest(tuple(batch) + (m, k, n), body)
    return out
