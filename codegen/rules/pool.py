"""LLVM rules of the pooling rows (`ir.ops_conv`): loop nests over (n, oh, ow, c), the channel axis innermost and
contiguous, with the window unrolled inside the body, so LLVM vectorizes over channels.

max_pool2d, avg_pool2d and max_pool2d_grad_grad are views (`Lazy`): each output element is computed where its
consumer reads it, fused into the consumer's loop nest. The two input gradients scatter into a zeroed padded buffer
(float32 for the 16-bit floats, rounded once) that is cropped by a view. Max pooling picks the first maximal element
of the row-major window, padding never wins (the input is padded with -inf) and a NaN wins as in numpy's max.
The batch may be a run-time size (`codegen.rules.conv.batch_only`): it is only ever the outermost loop's trip count.
"""
from __future__ import annotations

from typing import Any, Sequence

import llvmlite.ir as lir

from codegen.context import LowerContext
from codegen.rules.conv import batch_only, cropped, padded, wide, zeros
from codegen.rules.registry import lowers, never_tiles
from codegen.values import I32, Buffer, CValue, Dim, constant, round_to
from ir.types import TensorType


def _out_dims(op: Any, n: Dim) -> tuple[Dim, ...]:
    """The result's dims: its static ones, with the run-time batch n."""
    return (n,) + tuple(op.results[0].type.shape[1:])


def _taps(ctx: LowerContext, idx: Sequence[lir.Value], op: Any) -> list[list[lir.Value]]:
    """The indices in the padded input of output element idx's window, in row-major window order."""
    b = ctx.b
    (kh, kw), (sh, sw) = op.attrs["ksize"], op.attrs["strides"]
    n, i, j, c = idx
    r0, c0 = b.mul(i, ctx.i64(sh)), b.mul(j, ctx.i64(sw))
    return [[n, b.add(r0, ctx.i64(di)), b.add(c0, ctx.i64(dj)), c] for di in range(kh) for dj in range(kw)]


def _first_max(ctx: LowerContext, xp: Buffer, taps: list[list[lir.Value]]) -> tuple[lir.Value, lir.Value]:
    """(the maximum, the window position of its first occurrence as an i32): a chain of selects, with every
    address affine in the channel, so the consumer's loop over channels vectorizes."""
    b = ctx.b
    best, at = xp.load(b, taps[0]), lir.Constant(I32, 0)
    for k, tap in enumerate(taps[1:], 1):
        v = xp.load(b, tap)
        # a strictly greater value, or the first NaN
        wins = b.or_(b.fcmp_ordered(">", v, best),
                     b.and_(b.fcmp_unordered("uno", v, v), b.fcmp_ordered("ord", best, best)))
        best, at = b.select(wins, v, best), b.select(wins, lir.Constant(I32, k), at)
    return best, at


@lowers("max_pool2d", dynamic=batch_only)
def _max_pool(ctx: LowerContext, op: Any, x: CValue) -> CValue:
    xp = padded(ctx, x, op.attrs["paddings"], float("-inf"))
    return ctx.lazy(op.results[0].type, lambda b, idx: _first_max(ctx, xp, _taps(ctx, idx, op))[0],
                    dims=_out_dims(op, x.dims[0]))


@lowers("max_pool2d_grad_grad", dynamic=batch_only)
def _max_pool_grad_grad(ctx: LowerContext, op: Any, x: CValue, t: CValue) -> CValue:
    n = ctx.same_dim(op, x.dims[0], t.dims[0], "the batch")
    xp = padded(ctx, x, op.attrs["paddings"], float("-inf"))
    tp = padded(ctx, t, op.attrs["paddings"], 0)

    def element(b: lir.IRBuilder, idx: Sequence[lir.Value]) -> lir.Value:
        taps = _taps(ctx, idx, op)
        _, at = _first_max(ctx, xp, taps)
        out = tp.load(b, taps[0])
        for k, tap in enumerate(taps[1:], 1):
            out = b.select(b.icmp_signed("==", at, lir.Constant(I32, k)), tp.load(b, tap), out)
        return out
    return ctx.lazy(op.results[0].type, element, dims=_out_dims(op, n))


@lowers("max_pool2d_grad", dynamic=batch_only)
def _max_pool_grad(ctx: LowerContext, op: Any, x: CValue, g: CValue) -> CValue:
    t = op.results[0].type
    paddings = op.attrs["paddings"]
    ctx.same_dim(op, x.dims[0], g.dims[0], "the batch")
    xp = padded(ctx, x, paddings, float("-inf"))
    acc = zeros(ctx, wide(xp.type), xp.dims)
    b = ctx.b
    zero = constant(acc.type.dtype, 0)

    def route(idx: list[lir.Value]) -> None:
        taps = _taps(ctx, idx, op)
        _, at = _first_max(ctx, xp, taps)
        gv = g.load(b, idx)
        for k, tap in enumerate(taps):  # every window position, so the stores stay affine in the channel
            share = b.select(b.icmp_signed("==", at, lir.Constant(I32, k)), gv, zero)
            acc.store(b, tap, b.fadd(acc.load(b, tap), share))
    ctx.loop_nest(g.dims, route)
    return cropped(ctx, acc, t, paddings)


def _count(ctx: LowerContext, op: Any, hw: Sequence[int], i: lir.Value, j: lir.Value, ty: lir.Type) -> lir.Value:
    """How many real elements the window of output (i, j) holds, as a float of type ty."""
    b = ctx.b
    counts = []
    for axis, pos in enumerate((i, j)):
        k, stride, before = op.attrs["ksize"][axis], op.attrs["strides"][axis], op.attrs["paddings"][axis][0]
        start = b.sub(b.mul(pos, ctx.i64(stride)), ctx.i64(before))
        end = b.add(start, ctx.i64(k))
        end = b.select(b.icmp_signed("<", end, ctx.i64(hw[axis])), end, ctx.i64(hw[axis]))
        start = b.select(b.icmp_signed(">", start, ctx.i64(0)), start, ctx.i64(0))
        counts.append(b.sub(end, start))
    return b.sitofp(b.mul(counts[0], counts[1]), ty)


@lowers("avg_pool2d", dynamic=batch_only)
def _avg_pool(ctx: LowerContext, op: Any, x: CValue) -> CValue:
    t = op.results[0].type
    (kh, kw), (sh, sw) = op.attrs["ksize"], op.attrs["strides"]
    xp = padded(ctx, x, op.attrs["paddings"], 0)
    ty = ctx.reg(t.dtype)

    def element(b: lir.IRBuilder, idx: Sequence[lir.Value]) -> lir.Value:
        n, i, j, c = idx
        r0, c0 = b.mul(i, ctx.i64(sh)), b.mul(j, ctx.i64(sw))
        total = None
        for di in range(kh):
            for dj in range(kw):
                v = xp.load(b, [n, b.add(r0, ctx.i64(di)), b.add(c0, ctx.i64(dj)), c])
                total = v if total is None else b.fadd(total, v)
        return round_to(b, t.dtype, b.fdiv(total, _count(ctx, op, x.type.shape[1:3], i, j, ty)))
    return ctx.lazy(t, element, dims=_out_dims(op, x.dims[0]))


@lowers("avg_pool2d_grad", dynamic=batch_only)
def _avg_pool_grad(ctx: LowerContext, op: Any, g: CValue) -> CValue:
    t: TensorType = op.results[0].type
    paddings, (sh, sw) = op.attrs["paddings"], op.attrs["strides"]
    _, h, w, c = t.shape
    acc = zeros(ctx, wide(t), (g.dims[0], h + sum(paddings[0]), w + sum(paddings[1]), c))
    b = ctx.b
    ty = ctx.reg(t.dtype)

    def spread(idx: list[lir.Value]) -> None:
        n_, i, j, di, dj, c_ = idx
        share = b.fdiv(g.load(b, [n_, i, j, c_]), _count(ctx, op, (h, w), i, j, ty))
        at = [n_, b.add(b.mul(i, ctx.i64(sh)), di), b.add(b.mul(j, ctx.i64(sw)), dj), c_]
        acc.store(b, at, b.fadd(acc.load(b, at), share))
    ctx.loop_nest(tuple(g.dims[:3]) + tuple(op.attrs["ksize"]) + (c,), spread)
    return cropped(ctx, acc, t, paddings)


# Not split into row chunks: conv2d_backprop_filter sums over the batch, and the others, though they treat images
# independently, measured slower split across this machine's two shared cores (32x14x14x32 conv forward: median 5.4-6.0
# ms in chunks of images against 1.7 ms whole, with other work on the second core). A function that holds one runs
# whole, as it did with the composites these rows replace, whose reshapes merged the batch into the pixels.
never_tiles("conv2d", "conv2d_backprop_input", "conv2d_backprop_filter", "max_pool2d", "max_pool2d_grad",
            "max_pool2d_grad_grad", "avg_pool2d", "avg_pool2d_grad")
