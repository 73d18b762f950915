"""LLVM rules of the convolution and pooling rows (`ir.ops_conv`): loop nests over NHWC buffers whose innermost
dimension is the channel axis, contiguous in memory.

The three convolution rows run one register-blocked kernel (`_blocked`), the shape of the vector matmul's in
`codegen.rules.reduce` with implicit operands, so no im2col matrix is ever built:
- conv2d: rows are output pixels (n, oh, ow), columns output channels, and the reduction walks (kh, kw, c) through
  the zero-padded input at each pixel's window origin;
- conv2d_backprop_filter: rows are filter taps (kh, kw, c), columns output channels, the reduction walks the pixels;
- conv2d_backprop_input: for each tap (kh, kw), rows are output pixels, columns input channels, the reduction walks
  output channels of g against the filter transposed to (KH, KW, OC, C), and each row block is added into the
  padded input gradient at the pixel's window origin (different pixels of one tap never share an address).
A block of `_MR` rows by up to `_NR` vectors of columns is accumulated in registers over the whole reduction and
stored once; columns that do not fill a vector run as scalar blocks. float16/bfloat16 compute in float32 (loads
widen, one rounding at the store), as the numpy kernels do.

Pooling rules are loop nests over (n, oh, ow, c) with the window unrolled inside, which LLVM vectorizes over c;
gradients accumulate into a zeroed padded buffer (float32 for the 16-bit floats) that is cropped at the end.

Unknown dims: the batch (dim 0) may be a run-time size (`batch_only`), so a `[None, H, W, C]` signature compiles
one kernel for every batch. The batch only ever multiplies the outermost trip count (the pixel rows of the blocked
kernel, the reduction over images of the filter gradient, the outer loop of the pooling nests); every stride and
every inner loop stays static, so the FMA loops are the static kernel's. Spatial and channel dims stay static: a
row with an unknown one is left to specialization (`ir.passes.specialize`, one static kernel per shape).
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import llvmlite.ir as lir

from codegen.context import LowerContext
from codegen.rules.registry import lowers
from codegen.values import (I32, Buffer, CValue, Dim, constant, from_memory, mem_type, mul_dims, reg_type,
                            round_to, to_memory)
from ir.types import DType, TensorType, float32

Ptr = lir.Value


def batch_only(op: Any) -> bool:
    """The rules take a run-time batch: no operand or result has an unknown dim past dim 0."""
    return all(d is not None for v in list(op.operands) + list(op.results) for d in v.type.shape[1:])


def typed(t: TensorType, dims: Sequence[Dim]) -> TensorType:
    """t with the shape `dims` give it (None where a dim is a run-time size)."""
    return t.with_shape(tuple(d if isinstance(d, int) else None for d in dims))


@functools.cache
def _vector_bytes() -> int:
    import llvmlite.binding as llvm
    from codegen import llvm_setup
    llvm_setup.ensure_initialized()
    features = llvm.get_host_cpu_features()
    return 64 if features.get("avx512f") else 32 if features.get("avx2") or features.get("avx") else 16


#: Independent vector accumulators of a dot over channels (`_dots`): FMA latency (4 cycles) times its throughput.
_DOT_CHAINS = 4


def _block_shape() -> tuple[int, int]:
    """(_MR rows, _NR vectors): 8 x 2 accumulators fit AVX-512's 32 registers with the loads (the vector matmul's
    measured choice); 4 x 2 fit AVX2's 16."""
    return (8, 2) if _vector_bytes() == 64 else (4, 2)


def _at(b: lir.IRBuilder, base: Ptr, index: lir.Value, ety: lir.Type) -> Ptr:
    return b.gep(base, [index], inbounds=True, source_etype=ety)


class _Kernel:
    """C[r, j] (+)= sum over the reduction of A_r[a_off] * B[b_off + j], for a block of rows given by base
    pointers of A and C. The reduction is a nest of `loops` (trip, A stride, B stride), in elements."""

    def __init__(self, ctx: LowerContext, dtype: DType, loops: Sequence[tuple[Dim, int, int]], accumulate: bool,
                 out_dtype: DType) -> None:
        self.ctx, self.dtype, self.accumulate, self.out_dtype = ctx, dtype, accumulate, out_dtype
        self.loops = [lp for lp in loops if not (isinstance(lp[0], int) and lp[0] == 1)]
        self.mty = mem_type(dtype)
        self.cty = mem_type(out_dtype)
        self.fty = reg_type(float32 if dtype.is_half else dtype)
        self.width = _vector_bytes() // dtype.size if not dtype.is_half else 1

    def _fma(self, a: lir.Value, x: lir.Value, acc: lir.Value) -> lir.Value:
        ty = a.type
        if not isinstance(ty, lir.VectorType):
            return self.ctx.intrinsic("llvm.fma", a, x, acc)
        module = self.ctx.module
        name = f"llvm.fma.v{ty.count}f{64 if ty.element == lir.DoubleType() else 32}"
        fma = module.globals.get(name) or lir.Function(module, lir.FunctionType(ty, [ty] * 3), name)
        return self.ctx.b.call(fma, [a, x, acc])

    def _load(self, p: Ptr, vty: lir.Type, dtype: DType) -> lir.Value:
        b = self.ctx.b
        if vty is self.fty:
            return from_memory(b, dtype, b.load(p, typ=mem_type(dtype)))
        return b.load(p, typ=vty, align=dtype.size)

    def _store(self, v: lir.Value, p: Ptr, vty: lir.Type) -> None:
        b = self.ctx.b
        if vty is self.fty:
            b.store(to_memory(b, self.out_dtype, v), p)
        else:
            b.store(v, p, align=self.out_dtype.size)

    def block(self, a_rows: Sequence[Ptr], c_rows: Sequence[Ptr], pb: Ptr, nr: int, vty: lir.Type) -> None:
        """One block: len(a_rows) rows by nr columns of type vty (a vector, or the scalar type)."""
        ctx, b = self.ctx, self.ctx.b
        vector = vty is not self.fty
        width = vty.count if vector else 1
        accs = [[ctx.entry_alloca(vty) for _ in range(nr)] for _ in a_rows]
        zero = lir.Constant(vty, None)
        for row in accs:
            for acc in row:
                b.store(zero, acc)
        splat_mask = lir.Constant(lir.VectorType(I32, width), [lir.Constant(I32, 0)] * width) if vector else None

        def step(a_off: lir.Value, b_off: lir.Value) -> None:
            bvs = [self._load(_at(b, pb, b.add(b_off, ctx.i64(c * width)), self.mty), vty, self.dtype)
                   for c in range(nr)]
            for r, pa in enumerate(a_rows):
                s = from_memory(b, self.dtype, b.load(_at(b, pa, a_off, self.mty), typ=self.mty))
                if vector:
                    s = b.shuffle_vector(b.insert_element(zero, s, lir.Constant(I32, 0)), zero, splat_mask)
                for c in range(nr):
                    b.store(self._fma(s, bvs[c], b.load(accs[r][c], typ=vty)), accs[r][c])

        def nest(k: int, a_off: lir.Value, b_off: lir.Value) -> None:
            if k == len(self.loops):
                step(a_off, b_off)
                return
            trip, sa, sb = self.loops[k]
            ctx.for_range(trip, lambda i: nest(k + 1, b.add(a_off, b.mul(i, ctx.i64(sa))),
                                               b.add(b_off, b.mul(i, ctx.i64(sb)))), vectorize=False)
        nest(0, ctx.i64(0), ctx.i64(0))
        for r, pc in enumerate(c_rows):
            for c in range(nr):
                p = _at(b, pc, ctx.i64(c * width), self.cty)
                v = b.load(accs[r][c], typ=vty)
                if self.accumulate:
                    v = b.fadd(self._load(p, vty, self.out_dtype), v)
                self._store(v, p, vty)

    def run(self, rows: Dim, cols: int, a_row: Callable[[lir.Value], Ptr], c_row: Callable[[lir.Value], Ptr],
            pb: Ptr) -> None:
        """All rows by all columns: column blocks outermost (a block of B stays in cache while the rows stream
        past), rows in blocks of _MR, then one half block and single rows; the columns past the last whole vector
        as scalar blocks. `rows` may be a run-time count (then the tail's half block is taken at run time)."""
        ctx, b = self.ctx, self.ctx.b
        mr, nr_max = _block_shape()
        nvec = cols // self.width if self.width > 1 else 0
        nr = next((r for r in range(min(nr_max, nvec), 0, -1) if nvec % r == 0), 0)

        def rows_of(height: int, i0: lir.Value, j0: lir.Value, n: int, vty: lir.Type) -> None:
            idx = [b.add(i0, ctx.i64(r)) for r in range(height)]
            self.block([a_row(i) for i in idx], [_at(b, c_row(i), j0, self.cty) for i in idx],
                       _at(b, pb, j0, self.mty), n, vty)

        def columns(j0: lir.Value, n: int, vty: lir.Type) -> None:
            if not isinstance(rows, int):
                run_time_rows(rows, j0, n, vty)
                return
            ctx.for_range(rows // mr, lambda ib: rows_of(mr, b.mul(ib, ctx.i64(mr)), j0, n, vty), vectorize=False)
            done = rows - rows % mr
            if rows - done >= mr // 2:
                rows_of(mr // 2, ctx.i64(done), j0, n, vty)
                done += mr // 2
            if done < rows:
                ctx.for_range(rows, lambda i: rows_of(1, i, j0, n, vty), start=done, vectorize=False)

        def run_time_rows(total: lir.Value, j0: lir.Value, n: int, vty: lir.Type) -> None:
            whole = b.udiv(total, ctx.i64(mr))
            ctx.for_range(whole, lambda ib: rows_of(mr, b.mul(ib, ctx.i64(mr)), j0, n, vty), vectorize=False)
            done = b.mul(whole, ctx.i64(mr))
            half = b.icmp_unsigned(">=", b.sub(total, done), ctx.i64(mr // 2))
            with b.if_then(half):
                rows_of(mr // 2, done, j0, n, vty)
            done = b.select(half, b.add(done, ctx.i64(mr // 2)), done)
            ctx.for_range(total, lambda i: rows_of(1, i, j0, n, vty), start=done, vectorize=False)

        def blocks(first: int, count: int, n: int, vty: lir.Type) -> None:
            step = n * (vty.count if vty is not self.fty else 1)
            if count == 1:
                columns(ctx.i64(first), n, vty)
            elif count > 1:
                ctx.for_range(count, lambda jb: columns(b.add(ctx.i64(first), b.mul(jb, ctx.i64(step))), n, vty),
                              vectorize=False)
        if nr:
            blocks(0, nvec // nr, nr, lir.VectorType(self.fty, self.width))
        tail = nvec * self.width
        blocks(tail, (cols - tail) // 2, 2, self.fty)
        if (cols - tail) % 2:
            columns(ctx.i64(cols - 1), 1, self.fty)


# ---- shared pieces --------------------------------------------------------------------------------------------------
def wide(t: TensorType) -> TensorType:
    """Where a 16-bit float result accumulates: float32 (rounded once when read)."""
    return t.with_dtype(float32) if t.dtype.is_half else t


def padded(ctx: LowerContext, x: CValue, paddings: Any, fill: float) -> Buffer:
    """x (N, H, W, C) in a buffer with `fill` around it (x itself when there is no padding)."""
    (top, bottom), (left, right) = paddings
    if not (top or bottom or left or right):
        return ctx.buffer(x)
    b = ctx.b
    n, h, w, c = x.dims
    dims = (n, h + top + bottom, w + left + right, c)
    out = ctx.alloc(typed(x.type, dims), dims)
    ctx.loop_nest(out.dims, lambda idx: out.store(b, idx, constant(x.type.dtype, fill)))
    ctx.loop_nest(x.dims, lambda idx: out.store(
        b, [idx[0], b.add(idx[1], ctx.i64(top)), b.add(idx[2], ctx.i64(left)), idx[3]], x.load(b, idx)))
    return out


def zeros(ctx: LowerContext, t: TensorType, dims: Sequence[Dim]) -> Buffer:
    """A zeroed buffer of dtype t.dtype and run-time `dims`."""
    out = ctx.alloc(typed(t, dims), dims)
    ctx.loop_nest(out.dims, lambda idx: out.store(ctx.b, idx, constant(t.dtype, 0)))
    return out


def cropped(ctx: LowerContext, acc: Buffer, t: TensorType, paddings: Any) -> CValue:
    """The (N, H, W, C) of type t inside a padded accumulator (a view, fused into its consumer)."""
    (top, _), (left, _) = paddings
    if acc.type == t:
        return acc
    return ctx.lazy(t, lambda b, idx: round_to(b, t.dtype, acc.load(
        b, [idx[0], b.add(idx[1], ctx.i64(top)), b.add(idx[2], ctx.i64(left)), idx[3]])), cheap=True,
        dims=(acc.dims[0],) + tuple(t.shape[1:]))


def _pixel(ctx: LowerContext, p: lir.Value, oh: int, ow: int) -> tuple[lir.Value, lir.Value, lir.Value]:
    """(n, oh, ow) of a flat output pixel index."""
    b = ctx.b
    q = b.udiv(p, ctx.i64(ow))
    return b.udiv(q, ctx.i64(oh)), b.urem(q, ctx.i64(oh)), b.urem(p, ctx.i64(ow))


def _origin(ctx: LowerContext, xp: Buffer, p: lir.Value, out_hw: Sequence[int], strides: Sequence[int]) -> lir.Value:
    """The element offset in the padded input of pixel p's window origin."""
    b = ctx.b
    _, hp, wp, c = xp.type.shape
    n, i, j = _pixel(ctx, p, *out_hw)
    row = b.add(b.mul(n, ctx.i64(hp)), b.mul(i, ctx.i64(strides[0])))
    return b.mul(b.add(b.mul(row, ctx.i64(wp)), b.mul(j, ctx.i64(strides[1]))), ctx.i64(c))


# ---- convolutions ---------------------------------------------------------------------------------------------------
def _convolve(ctx: LowerContext, xp: Buffer, fb: Buffer, t: TensorType, strides: Sequence[int],
              dilations: Sequence[int]) -> Buffer:
    """conv2d of the padded input xp with the HWIO filter fb: the blocked kernel over output channels, or, when
    they do not fill a vector but the input channels do, dot products over input channels."""
    n, hp, wp, c = xp.dims
    _, oh, ow, oc = t.shape
    kh, kw = fb.type.shape[:2]
    (dh, dw), b, ety = dilations, ctx.b, mem_type(t.dtype)
    dims = (n, oh, ow, oc)
    out = ctx.alloc(typed(t, dims), dims)
    width = _vector_bytes() // t.dtype.size
    if oc < width <= c and not t.dtype.is_half:
        _dots(ctx, xp, fb, out, strides, dilations)
        return out
    kernel = _Kernel(ctx, t.dtype, [(kh, dh * wp * c, kw * c * oc), (kw, dw * c, c * oc), (c, 1, oc)], False, t.dtype)
    kernel.run(mul_dims(b, n, oh * ow), oc, lambda p: _at(b, xp.ptr, _origin(ctx, xp, p, (oh, ow), strides), ety),
               lambda p: _at(b, out.ptr, b.mul(p, ctx.i64(oc)), ety), fb.ptr)
    return out


def _dots(ctx: LowerContext, xp: Buffer, fb: Buffer, out: Buffer, strides: Sequence[int],
          dilations: Sequence[int]) -> None:
    """out[n, i, j, o] = sum over (kh, kw) of a dot over input channels, in vectors of channels accumulated
    across the taps and summed once per element (the filter is first transposed to (OC, KH, KW, C), so both
    operands of the dot are contiguous)."""
    b = ctx.b
    _, hp, wp, c = xp.type.shape
    kh, kw, _, oc = fb.type.shape
    dtype = out.type.dtype
    ft = ctx.alloc(fb.type.with_shape((oc, kh, kw, c)))
    ctx.loop_nest(ft.type.shape, lambda idx: ft.store(b, idx, fb.load(b, [idx[1], idx[2], idx[3], idx[0]])))
    fty = reg_type(dtype)
    width = _vector_bytes() // dtype.size
    vty = lir.VectorType(fty, width)
    nvec = c // width
    # Independent accumulators, so consecutive FMAs do not wait for each other (a single chain of 18 FMAs per
    # element made the first layer's input gradient latency-bound, 2.5x slower).
    vaccs, sacc = [ctx.entry_alloca(vty) for _ in range(_DOT_CHAINS)], ctx.entry_alloca(fty)
    fma = _Kernel(ctx, dtype, [], False, dtype)._fma
    reduce_name = f"llvm.vector.reduce.fadd.v{width}f{dtype.size * 8}"
    reduce = ctx.module.globals.get(reduce_name) or lir.Function(ctx.module, lir.FunctionType(fty, [fty, vty]),
                                                                   reduce_name)

    def element(idx: list[lir.Value]) -> None:
        n, i, j, o = idx
        row = b.add(b.mul(n, ctx.i64(hp)), b.mul(i, ctx.i64(strides[0])))
        origin = b.mul(b.add(b.mul(row, ctx.i64(wp)), b.mul(j, ctx.i64(strides[1]))), ctx.i64(c))
        fbase = b.mul(o, ctx.i64(kh * kw * c))
        for acc in vaccs:
            b.store(lir.Constant(vty, None), acc)
        b.store(constant(dtype, 0), sacc)
        chain = 0
        for ti in range(kh):  # the taps unrolled: every offset below is a constant
            for tj in range(kw):
                xbase = b.add(origin, ctx.i64((ti * dilations[0] * wp + tj * dilations[1]) * c))
                fofs = b.add(fbase, ctx.i64((ti * kw + tj) * c))
                for v in range(nvec):
                    xv = b.load(_at(b, xp.ptr, b.add(xbase, ctx.i64(v * width)), fty), typ=vty, align=dtype.size)
                    fv = b.load(_at(b, ft.ptr, b.add(fofs, ctx.i64(v * width)), fty), typ=vty, align=dtype.size)
                    acc = vaccs[chain % _DOT_CHAINS]
                    b.store(fma(xv, fv, b.load(acc, typ=vty)), acc)
                    chain += 1
                for k in range(nvec * width, c):
                    xs = xp.load_linear(b, b.add(xbase, ctx.i64(k)))
                    fs = ft.load_linear(b, b.add(fofs, ctx.i64(k)))
                    b.store(fma(xs, fs, b.load(sacc, typ=fty)), sacc)
        vsum = b.load(vaccs[0], typ=vty)
        for acc in vaccs[1:]:
            vsum = b.fadd(vsum, b.load(acc, typ=vty))
        total = ctx.flags(b.call(reduce, [b.load(sacc, typ=fty), vsum]), "reassoc")
        out.store(b, idx, total)
    ctx.loop_nest(out.dims, element)


@lowers("conv2d", dynamic=batch_only)
def _conv2d(ctx: LowerContext, op: Any, x: CValue, f: CValue) -> CValue:
    return _convolve(ctx, padded(ctx, x, op.attrs["paddings"], 0), ctx.buffer(f), op.results[0].type,
                     op.attrs["strides"], op.attrs["dilations"])


@lowers("conv2d_backprop_filter", dynamic=batch_only)
def _backprop_filter(ctx: LowerContext, op: Any, x: CValue, g: CValue) -> CValue:
    (sh, sw), (dh, dw) = op.attrs["strides"], op.attrs["dilations"]
    t = op.results[0].type
    xp, gb = padded(ctx, x, op.attrs["paddings"], 0), ctx.buffer(g)
    _, hp, wp, c = xp.type.shape
    _, oh, ow, oc = gb.type.shape
    n = ctx.same_dim(op, xp.dims[0], gb.dims[0], "the batch")
    kh, kw = t.shape[:2]
    out = ctx.alloc(t)
    b, ety = ctx.b, mem_type(t.dtype)

    def tap(k: lir.Value) -> lir.Value:
        q = b.udiv(k, ctx.i64(c))
        i, j = b.udiv(q, ctx.i64(kw)), b.urem(q, ctx.i64(kw))
        offset = b.add(b.mul(b.add(b.mul(i, ctx.i64(dh * wp)), b.mul(j, ctx.i64(dw))), ctx.i64(c)),
                       b.urem(k, ctx.i64(c)))
        return _at(b, xp.ptr, offset, ety)
    kernel = _Kernel(ctx, t.dtype, [(n, hp * wp * c, oh * ow * oc), (oh, sh * wp * c, ow * oc), (ow, sw * c, oc)],
                     False, t.dtype)
    kernel.run(kh * kw * c, oc, tap, lambda k: _at(b, out.ptr, b.mul(k, ctx.i64(oc)), ety), gb.ptr)
    return out


@lowers("conv2d_backprop_input", dynamic=batch_only)
def _backprop_input(ctx: LowerContext, op: Any, g: CValue, f: CValue) -> CValue:
    strides, dilations, paddings = op.attrs["strides"], op.attrs["dilations"], op.attrs["paddings"]
    (dh, dw), t = dilations, op.results[0].type
    fb = ctx.buffer(f)
    kh, kw, c, oc = fb.type.shape
    b, ety = ctx.b, mem_type(t.dtype)
    spans = [(k - 1) * d + 1 for k, d in zip((kh, kw), dilations)]
    if tuple(strides) == (1, 1) and all(max(p) < s for p, s in zip(paddings, spans)):
        # A full convolution of g with the filter flipped in space and transposed in channels.
        flipped = ctx.alloc(fb.type.with_shape((kh, kw, oc, c)))
        ctx.loop_nest(flipped.type.shape, lambda idx: flipped.store(b, idx, fb.load(
            b, [b.sub(ctx.i64(kh - 1), idx[0]), b.sub(ctx.i64(kw - 1), idx[1]), idx[3], idx[2]])))
        full = tuple((s - 1 - p[0], s - 1 - p[1]) for p, s in zip(paddings, spans))
        return _convolve(ctx, padded(ctx, g, full, 0), flipped, t, (1, 1), dilations)
    gb = ctx.buffer(g)
    n = gb.dims[0]
    _, oh, ow, _ = gb.type.shape
    acc = zeros(ctx, wide(t), (n, t.shape[1] + sum(paddings[0]), t.shape[2] + sum(paddings[1]), c))
    _, hp, wp, _ = acc.type.shape
    ft = ctx.alloc(fb.type.with_shape((kh, kw, oc, c)))  # the filter with channels swapped, columns contiguous
    ctx.loop_nest(ft.type.shape, lambda idx: ft.store(b, idx, fb.load(b, [idx[0], idx[1], idx[3], idx[2]])))
    kernel = _Kernel(ctx, t.dtype, [(oc, 1, c)], True, acc.type.dtype)
    aty = mem_type(acc.type.dtype)

    def tap(i: lir.Value, j: lir.Value) -> None:
        shift = b.mul(b.add(b.mul(i, ctx.i64(dh * wp)), b.mul(j, ctx.i64(dw))), ctx.i64(c))
        kernel.run(mul_dims(b, n, oh * ow), c, lambda p: _at(b, gb.ptr, b.mul(p, ctx.i64(oc)), ety),
                   lambda p: _at(b, acc.ptr, b.add(_origin(ctx, acc, p, (oh, ow), strides), shift), aty),
                   _at(b, ft.ptr, b.mul(b.add(b.mul(i, ctx.i64(kw)), j), ctx.i64(oc * c)), ety))
    ctx.loop_nest((kh, kw), lambda idx: tap(*idx))
    return cropped(ctx, acc, t, paddings)
