"""Rules of the shape rows. Views (broadcast_to, transpose, slice, gather) are `Lazy` index maps, as cheap as what
they view (the driver materializes an expensive value used twice, views of it included); iota and splat constants
are cheap. They fuse into their consumers as index arithmetic; reshape is a view of a buffer; concat, pad and
scatter_add write a new buffer; gather checks every index before any element is read.
"""
from __future__ import annotations

from typing import Any, Sequence

import llvmlite.ir as lir
import numpy as np

from codegen.context import LowerContext
from codegen.rules.registry import at, lowers
from codegen.values import I64, Buffer, CValue, Lazy, Scalar, constant, mem_type, reg_type, round_to
from ir.ops_state import IndexOutOfRangeError
from ir.types import as_dtype, bool_, from_numpy


@lowers("constant")
def _constant(ctx: LowerContext, op: Any) -> CValue:
    t = op.results[0].type
    value = np.asarray(op.attrs["value"])
    dtype = from_numpy(value.dtype)
    if value.size == 0:
        return Buffer(t, lir.Constant(lir.PointerType(), None))
    flat = value.reshape(-1)
    rows = flat.view(np.uint8).reshape(flat.size, -1)  # bit patterns: a splat of 0.0 must not swallow a -0.0
    if not t.shape or (rows == rows[0]).all():
        c = constant(dtype, flat[0].item())
        if not t.shape:
            return Scalar(t, c)
        return Lazy(t, lambda b, idx: c, cheap=True)
    if dtype.is_half or dtype.is_integer:  # bit patterns (unsigned values as LLVM's two's-complement integers)
        ety = lir.IntType(dtype.bits)
        elems = [lir.Constant(ety, int(v)) for v in flat.view(f"i{dtype.size}")]
    else:
        ety = mem_type(dtype)
        elems = [lir.Constant(ety, int(v)) if not dtype.is_floating else lir.Constant(ety, float(v)) for v in flat]
    arr_ty = lir.ArrayType(ety, flat.size)
    g = lir.GlobalVariable(ctx.module, arr_ty, name=ctx.module.get_unique_name("const"))
    g.linkage = "internal"
    g.global_constant = True
    g.initializer = lir.Constant(arr_ty, elems)
    return Buffer(t, g)


@lowers("broadcast_to")
def _broadcast_to(ctx: LowerContext, op: Any, x: CValue) -> CValue:
    t = op.results[0].type
    src = x.type.shape
    if isinstance(x, Lazy) and not x.cheap and x.type.size < t.size:
        x = ctx.materialize(x)  # do not recompute an expression once per broadcast copy
    lead = len(t.shape) - len(src)
    zero = ctx.i64(0)

    def element(b: lir.IRBuilder, idx: Sequence[lir.Value]) -> lir.Value:
        return x.load(b, [zero if d == 1 and t.shape[lead + k] != 1 else idx[lead + k] for k, d in enumerate(src)])
    return Lazy(t, element, cheap=x.cheap)


@lowers("reshape")
def _reshape(ctx: LowerContext, op: Any, x: CValue) -> CValue:
    t = op.results[0].type
    if isinstance(x, Scalar):
        return Lazy(t, lambda b, idx: x.value, cheap=True) if t.shape else x
    buf = ctx.buffer(x)
    if not t.shape:
        return Scalar(t, Buffer(t, buf.ptr).load(ctx.b, []))
    return Buffer(t, buf.ptr)


@lowers("transpose")
def _transpose(ctx: LowerContext, op: Any, x: CValue) -> CValue:
    perm = op.attrs["perm"]

    def element(b: lir.IRBuilder, idx: Sequence[lir.Value]) -> lir.Value:
        src = [None] * len(perm)
        for k, p in enumerate(perm):
            src[p] = idx[k]
        return x.load(b, src)  # type: ignore[arg-type]
    return Lazy(op.results[0].type, element, cheap=x.cheap)


@lowers("slice")
def _slice(ctx: LowerContext, op: Any, x: CValue) -> CValue:
    begin, strides = op.attrs["begin"], op.attrs["strides"]

    def element(b: lir.IRBuilder, idx: Sequence[lir.Value]) -> lir.Value:
        src = []
        for i, lo, s in zip(idx, begin, strides):
            v = i if s == 1 else b.mul(i, lir.Constant(I64, s))
            src.append(v if lo == 0 else b.add(v, lir.Constant(I64, lo)))
        return x.load(b, src)
    return ctx.lazy(op.results[0].type, element, cheap=x.cheap)


@lowers("iota")
def _iota(ctx: LowerContext, op: Any) -> CValue:
    dtype = as_dtype(op.attrs["dtype"])
    axis = op.attrs["axis"]
    t = op.results[0].type

    def element(b: lir.IRBuilder, idx: Sequence[lir.Value]) -> lir.Value:
        i = idx[axis]
        if dtype.is_floating:
            return round_to(b, dtype, b.sitofp(i, reg_type(dtype)))
        if dtype is bool_:
            return b.icmp_signed("!=", i, lir.Constant(I64, 0))
        return i if dtype.size == 8 else b.trunc(i, reg_type(dtype))
    return ctx.lazy(t, element, cheap=True) if t.shape else Scalar(t, constant(dtype, 0))


def _copy_into(ctx: LowerContext, out: Buffer, x: CValue, offsets: Sequence[int]) -> None:
    def body(idx: list[lir.Value]) -> None:
        dst = [i if o == 0 else ctx.b.add(i, ctx.i64(o)) for i, o in zip(idx, offsets)]
        out.store(ctx.b, dst, x.load(ctx.b, idx))
    ctx.loop_nest(x.type.shape, body)


@lowers("concat")
def _concat(ctx: LowerContext, op: Any, *xs: CValue) -> CValue:
    axis = op.attrs["axis"]
    out = ctx.alloc(op.results[0].type)
    start = 0
    for x in xs:
        _copy_into(ctx, out, x, [start if k == axis else 0 for k in range(len(x.type.shape))])
        start += x.type.shape[axis]
    return out


@lowers("pad")
def _pad(ctx: LowerContext, op: Any, x: CValue) -> CValue:
    t = op.results[0].type
    out = ctx.alloc(t)
    fill = constant(t.dtype, op.attrs["value"])
    ctx.loop_nest(t.shape, lambda idx: out.store(ctx.b, idx, fill))
    _copy_into(ctx, out, x, [lo for lo, _ in op.attrs["paddings"]])
    return out


def _check_indices(ctx: LowerContext, op: Any, indices: CValue, size: int) -> CValue:
    """Fail with IndexOutOfRangeError (an IndexError) naming the first out-of-range index, before anything reads
    through them."""
    indices = ctx.materialize(indices)
    code = ctx.error(IndexOutOfRangeError, f"{op.opdef.name}: index {{value}} is out of bounds for an axis of size "
                                           f"{size} (valid indices are 0..{size - 1})" + at(op))

    def check(idx: list[lir.Value]) -> None:
        b = ctx.b
        i = b.sext(indices.load(b, idx), I64) if indices.type.dtype.size == 4 else indices.load(b, idx)
        ctx.fail_if(b.icmp_unsigned(">=", i, ctx.i64(size)), code, i)
    if indices.type.shape:
        ctx.loop_nest(indices.type.shape, check)
    else:
        check([])
    return indices


def _index_value(b: lir.IRBuilder, indices: CValue, idx: Sequence[lir.Value]) -> lir.Value:
    i = indices.load(b, idx)
    return b.sext(i, I64) if indices.type.dtype.size == 4 else i


@lowers("gather")
def _gather(ctx: LowerContext, op: Any, params: CValue, indices: CValue) -> CValue:
    axis = op.attrs["axis"]
    indices = _check_indices(ctx, op, indices, params.type.shape[axis])
    r = len(indices.type.shape)

    def element(b: lir.IRBuilder, idx: Sequence[lir.Value]) -> lir.Value:
        i = _index_value(b, indices, idx[axis:axis + r])
        return params.load(b, list(idx[:axis]) + [i] + list(idx[axis + r:]))
    return ctx.lazy(op.results[0].type, element, cheap=params.cheap)


@lowers("scatter_add")
def _scatter_add(ctx: LowerContext, op: Any, updates: CValue, indices: CValue) -> CValue:
    axis, size = op.attrs["axis"], op.attrs["size"]
    t = op.results[0].type
    indices = _check_indices(ctx, op, indices, size)
    out = ctx.alloc(t)
    zero = constant(t.dtype, 0)
    ctx.loop_nest(t.shape, lambda idx: out.store(ctx.b, idx, zero))
    r = len(indices.type.shape)

    def body(idx: list[lir.Value]) -> None:
        b = ctx.b
        i = _index_value(b, indices, idx[axis:axis + r])
        dst = list(idx[:axis]) + [i] + list(idx[axis + r:])
        old, update = out.load(b, dst), updates.load(b, idx)
        if t.dtype.is_floating:
            new = ctx.flags(b.fadd(old, update), "contract")
        elif t.dtype is bool_:
            new = b.or_(old, update)  # numpy adds bools as a logical or (i1 add would wrap: True + True == False)
        else:
            new = b.add(old, update)
        out.store(b, dst, new)
    ctx.loop_nest(updates.type.shape, body)
    return out
