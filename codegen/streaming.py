"""Streaming stores: a big result written with non-temporal vector stores, which skip the cache.

A normal store to a line that is not in the cache first reads the line from memory (read for ownership), so writing
a result the size of memory costs a read and a write per line. A non-temporal store writes whole lines without
reading them. Measured on one thread (CPU time, medians): `x*a+b` on 4M float32 (16 MB in, 16 MB out) 1.23 -> 0.81
ms, a softmax over the rows of float32[4096, 1024] 3.74 -> 2.85 ms; `tanh(x*a+b)*exp(-x*x)` is compute-bound on one
thread (4.02 vs 4.13 ms). They must be aligned vector stores (`vmovntps` of 64 bytes; LLVM's loop vectorizer
does not widen a non-temporal store it cannot prove aligned, and turns it into scalar `movntss` instead, 4x
slower), so each row is written in three parts: the elements before the first 64-byte boundary (normal stores),
whole vectors (computed by the vectorized loop into an aligned stack tile that stays in L1, then copied out with
aligned non-temporal stores), and the rest (normal stores). A store fence ends `kiln_entry` (`fence`), so the
lines are in memory before another thread reads them.

Only 4- and 8-byte elements stream (narrower vectors, e.g. of float16 without AVX512-FP16, are split into scalar
stores by the backend). Only results of at least STREAM_BYTES (per call, all chunks together) stream: a smaller result may still be in the
cache when the next kernel reads it, and streaming would send it to memory and back.
"""
from __future__ import annotations

import functools
from typing import Callable

import llvmlite.ir as lir

from codegen.context import LowerContext
from codegen.values import I64, Buffer, CValue, mem_type, to_memory

#: Results at least this big (bytes per call) are written with non-temporal stores: twice the L2 cache of a core.
STREAM_BYTES = 4 << 20
#: Elements of the last axis below which a row is written normally (too few whole vectors to be worth the split).
MIN_ROW_VECTORS = 4
#: Bytes of the aligned stack tile that a row's vectors are computed into before they stream out.
TILE_BYTES = 4096
_VECTOR_BYTES = 64


@functools.cache
def _x86() -> bool:
    import llvmlite.binding as llvm
    return llvm.get_process_triple().startswith(("x86_64", "i686", "i386"))


def streams(total_bytes: int, dst: Buffer) -> bool:
    """Whether a result of `total_bytes` per call, stored as `dst` (one chunk's part), is written streaming (on x86
    hosts, whose store fence `fence` emits)."""
    width = _VECTOR_BYTES // max(1, dst.type.dtype.np.itemsize)
    return (total_bytes >= STREAM_BYTES and _x86() and bool(dst.type.shape) and dst.type.shape[-1] >= MIN_ROW_VECTORS * width
            and dst.type.dtype.np.itemsize in (4, 8))


def store_streaming(ctx: LowerContext, dst: Buffer, v: CValue) -> None:
    """dst[...] = v, each row's whole aligned vectors with non-temporal stores (see the module docstring)."""
    b = ctx.b
    dtype = dst.type.dtype
    mty = mem_type(dtype)
    size = dtype.np.itemsize
    width = _VECTOR_BYTES // size
    vty = lir.VectorType(mty, width)
    L = dst.type.shape[-1]
    tile_elems = TILE_BYTES // size
    tile = lir.IRBuilder(ctx.entry).alloca(lir.ArrayType(mty, tile_elems))
    tile.align = _VECTOR_BYTES
    nontemporal = ctx.module.add_metadata([lir.Constant(lir.IntType(32), 1)])

    def store(idx: list[lir.Value]) -> None:
        dst.store(b, idx, v.load(b, idx))

    def row(idx: list[lir.Value]) -> None:
        start = dst.address(b, idx + [ctx.i64(0)])
        misalign = b.and_(b.sub(ctx.i64(0), b.ptrtoint(start, I64)), ctx.i64(_VECTOR_BYTES - 1))
        head = b.select(b.icmp_unsigned("<", b.udiv(misalign, ctx.i64(size)), ctx.i64(L)),
                        b.udiv(misalign, ctx.i64(size)), ctx.i64(L))
        ctx.for_range(head, lambda j: store(idx + [j]), vectorize=False)
        whole = b.mul(b.udiv(b.sub(ctx.i64(L), head), ctx.i64(width)), ctx.i64(width))
        body_end = b.add(head, whole)
        tiles = b.udiv(b.add(whole, ctx.i64(tile_elems - 1)), ctx.i64(tile_elems))

        def one_tile(t: lir.Value) -> None:
            first = b.add(head, b.mul(t, ctx.i64(tile_elems)))
            count = b.sub(body_end, first)
            count = b.select(b.icmp_unsigned("<", count, ctx.i64(tile_elems)), count, ctx.i64(tile_elems))

            def compute(k: lir.Value) -> None:
                slot = b.gep(tile, [ctx.i64(0), k], inbounds=True)
                b.store(to_memory(b, dtype, v.load(b, idx + [b.add(first, k)])), slot)
            ctx.for_range(count, compute)

            def copy(k: lir.Value) -> None:
                at = b.mul(k, ctx.i64(width))
                src = b.gep(tile, [ctx.i64(0), at], inbounds=True)
                out = b.gep(start, [b.add(first, at)], inbounds=True, source_etype=mty)
                st = b.store(b.load(src, typ=vty, align=_VECTOR_BYTES), out, align=_VECTOR_BYTES)
                st.set_metadata("nontemporal", nontemporal)
            ctx.for_range(b.udiv(count, ctx.i64(width)), copy, vectorize=False)
        ctx.for_range(tiles, one_tile, vectorize=False)
        _rest(ctx, body_end, L, lambda j: store(idx + [j]))
    ctx.loop_nest(dst.dims[:-1], row)


def fence(b: lir.IRBuilder, module: lir.Module) -> None:
    """A store fence: the non-temporal stores before it are in memory before any later store of this thread (the
    one that tells another thread the result is ready). `kiln_entry` ends so when its body streamed."""
    sfence = module.declare_intrinsic("llvm.x86.sse.sfence", (), lir.FunctionType(lir.VoidType(), []))
    b.call(sfence, [])


def _rest(ctx: LowerContext, begin: lir.Value, end: int, body: Callable[[lir.Value], None]) -> None:
    """for (j = begin; j < end; j++) body(j): a row's last elements, fewer than a vector (left scalar)."""
    b = ctx.b
    pre = b.block
    head = b.append_basic_block("rest.head")
    loop = b.append_basic_block("rest.body")
    after = b.append_basic_block("rest.end")
    b.branch(head)
    b.position_at_end(head)
    j = b.phi(I64)
    j.add_incoming(begin, pre)
    b.cbranch(b.icmp_signed("<", j, ctx.i64(end)), loop, after)
    b.position_at_end(loop)
    body(j)
    j.add_incoming(b.add(j, ctx.i64(1)), b.block)
    b.branch(head).set_metadata("llvm.loop", ctx._loop_id("llvm.loop.vectorize.enable"))
    b.position_at_end(after)
