"""Rules of the shape rows. Views (broadcast_to, transpose, slice, gather) are `Lazy` index maps, as cheap as what
they view (the driver materializes an expensive value used twice, views of it included); iota and splat constants
are cheap. They fuse into their consumers as index arithmetic; reshape is a view of a buffer; concat, pad and
scatter_add write a new buffer; gather checks every index before any element is read.

Unknown dims (`?`): every rule computes its result's run-time dims from its operands' (`CValue.dims`); rows whose
shape attr has None entries (broadcast_to, reshape, iota) take one trailing i64[] operand per None, in order. Where
the IR assumes two sizes equal (or a broadcast source of size 1), a run-time check fails with a ValueError naming
the op and both sizes before anything is read.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import llvmlite.ir as lir
import numpy as np

from codegen.context import LowerContext
from codegen.rules.registry import at, lowers
from codegen.values import (I1, I64, Buffer, CValue, Dim, Lazy, Scalar, as_i64, constant, mem_type, num_elements,
                            reg_type, round_to)
from ir.opdef import OPS
from ir.ops_broadcast import incompatible_shapes
from ir.ops_state import IndexOutOfRangeError, InvalidArgumentError
from ir.types import as_dtype, bool_, from_numpy


def attr_dims(ctx: LowerContext, op: Any, shape: Sequence[Any], sizes: Sequence[CValue],
              typed: Optional[Sequence[Any]] = None) -> tuple[Dim, ...]:
    """A shape attr's dims: its ints, and for each None the next size operand's run-time value (checked against
    the result type's dim, `typed`, where that is static)."""
    typed = op.results[0].type.shape if typed is None else typed
    it = iter(sizes)
    out: list[Dim] = []
    for k, d in enumerate(shape):
        if d is not None:
            out.append(int(d))
            continue
        v = next(it).load(ctx.b, [])
        v = v if v.type.width == 64 else ctx.b.sext(v, I64)
        static = typed[k]
        out.append(v if static is None else ctx.same_dim(op, static, v, f"dimension {k}"))
    return tuple(out)


def _add(ctx: LowerContext, x: Dim, y: Dim) -> Dim:
    if isinstance(x, int) and isinstance(y, int):
        return x + y
    return ctx.b.add(as_i64(x), as_i64(y), flags=["nsw"])


@lowers("constant", dynamic=True)
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


@lowers("broadcast_to", dynamic=True)
def _broadcast_to(ctx: LowerContext, op: Any, x: CValue, *sizes: CValue) -> CValue:
    t = op.results[0].type
    dims = attr_dims(ctx, op, op.attrs["shape"], sizes)
    if isinstance(x, Lazy) and not x.cheap and (not t.is_static or not x.type.is_static or x.type.size < t.size):
        x = ctx.materialize(x)  # do not recompute an expression once per broadcast copy
    src = x.dims
    lead = len(t.shape) - len(src)
    zero = ctx.i64(0)
    # per source axis: "same" index, "zero" (a static 1 broadcast), or an i1 "is 1 at run time" choosing zero
    how: list[Any] = []
    for k, d in enumerate(src):
        out = dims[lead + k]
        if isinstance(d, int):
            if d == 1 and not (isinstance(out, int) and out == 1):
                how.append("zero")
            else:
                how.append("same")
                ctx.same_dim(op, d, out, f"dimension {lead + k}")
        elif d is out:
            how.append("same")
        else:
            b = ctx.b
            one = b.icmp_signed("==", d, ctx.i64(1))
            code = ctx.error(InvalidArgumentError, incompatible_shapes((x.type.shape, t.shape), (k, lead + k),
                                                                       ("{value}", "{value2}")) + at(op))
            ctx.fail_if(b.and_(b.xor(one, lir.Constant(I1, 1)), b.icmp_signed("!=", d, as_i64(out))), code, d,
                        as_i64(out))
            # the index there is multiplied by this 0 or 1: LLVM's vectorizer speculates a symbolic stride of 1
            # (one check before the loop) where a select of the index per element made it gather
            how.append(b.zext(b.xor(one, lir.Constant(I1, 1)), I64))
    if isinstance(x, Buffer) and any(not isinstance(h, str) for h in how):
        # a strided view: a dimension of run-time size 1 gets stride 0 (chosen once, outside the loops)
        st = [zero if h == "zero" else s if isinstance(h, str) else ctx.b.mul(h, as_i64(s))
              for h, s in zip(how, x.strides)]
        return Buffer(t, x.ptr, dims, elem_strides=[0] * lead + st)

    def element(b: lir.IRBuilder, idx: Sequence[lir.Value]) -> lir.Value:
        return x.load(b, [zero if h == "zero" else idx[lead + k] if isinstance(h, str) else
                          b.mul(idx[lead + k], h) for k, h in enumerate(how)])
    return Lazy(t, element, cheap=x.cheap, dims=dims)


@lowers("reshape", dynamic=True)
def _reshape(ctx: LowerContext, op: Any, x: CValue, *sizes: CValue) -> CValue:
    t = op.results[0].type
    if isinstance(x, Scalar):
        return Lazy(t, lambda b, idx: x.value, cheap=True) if t.shape else x
    dims = attr_dims(ctx, op, op.attrs["shape"], sizes)
    if not (t.is_static and x.type.is_static):
        ctx.same_dim(op, num_elements(ctx.b, x.dims), num_elements(ctx.b, dims), "the number of elements")
    buf = ctx.buffer(x)
    if not t.shape:
        return Scalar(t, Buffer(t, buf.ptr).load(ctx.b, []))
    return Buffer(t, buf.ptr, dims, ctx.b)


@lowers("transpose", dynamic=True)
def _transpose(ctx: LowerContext, op: Any, x: CValue) -> CValue:
    perm = op.attrs["perm"]

    def element(b: lir.IRBuilder, idx: Sequence[lir.Value]) -> lir.Value:
        src = [None] * len(perm)
        for k, p in enumerate(perm):
            src[p] = idx[k]
        return x.load(b, src)  # type: ignore[arg-type]
    return Lazy(op.results[0].type, element, cheap=x.cheap, dims=[x.dims[p] for p in perm])


def _positive_strides_on_unknown_axes(op: Any) -> bool:
    return all(st > 0 for d, st in zip(op.operands[0].type.shape, op.attrs["strides"]) if d is None)


def _run_time_bound(ctx: LowerContext, v: Optional[int], n: lir.Value) -> lir.Value:
    """A slice bound on an axis of run-time size n, as Python's slice.indices(n) makes it for a positive step (an
    `end` of None is the end of the axis)."""
    b = ctx.b
    if v is None:
        return n
    if v >= 0:
        return b.select(b.icmp_signed("<", ctx.i64(v), n), ctx.i64(v), n)
    shifted = b.add(n, ctx.i64(v))
    return b.select(b.icmp_signed("<", shifted, ctx.i64(0)), ctx.i64(0), shifted)


@lowers("slice", dynamic=_positive_strides_on_unknown_axes)
def _slice(ctx: LowerContext, op: Any, x: CValue) -> CValue:
    begin, end, strides = op.attrs["begin"], op.attrs["end"], op.attrs["strides"]
    t = op.results[0].type
    b = ctx.b
    starts: list[Dim] = list(begin)
    dims: list[Dim] = []
    for k, (n, lo, hi, st) in enumerate(zip(x.dims, begin, end, strides)):
        if isinstance(n, int):
            dims.append(t.shape[k] if t.shape[k] is not None else len(range(*slice(lo, hi, st).indices(n))))
            continue
        # an unknown axis: bounds clamped to its run-time size, the length max(0, ceil((stop - start) / st))
        starts[k] = _run_time_bound(ctx, lo, n)
        span = b.sub(_run_time_bound(ctx, hi, n), starts[k])
        length = b.sdiv(b.add(span, ctx.i64(st - 1)), ctx.i64(st))
        length = b.select(b.icmp_signed("<", length, ctx.i64(0)), ctx.i64(0), length)
        dims.append(length if t.shape[k] is None else ctx.same_dim(op, t.shape[k], length, f"dimension {k}"))

    def element(b: lir.IRBuilder, idx: Sequence[lir.Value]) -> lir.Value:
        src = []
        for i, lo, s in zip(idx, starts, strides):
            v = i if s == 1 else b.mul(i, lir.Constant(I64, s))
            src.append(v if isinstance(lo, int) and lo == 0 else b.add(v, as_i64(lo)))
        return x.load(b, src)
    return ctx.lazy(t, element, cheap=x.cheap, dims=dims)


@lowers("iota", dynamic=True)
def _iota(ctx: LowerContext, op: Any, *sizes: CValue) -> CValue:
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
    if not t.shape:
        return Scalar(t, constant(dtype, 0))
    return ctx.lazy(t, element, cheap=True, dims=attr_dims(ctx, op, op.attrs["shape"], sizes))


def _copy_into(ctx: LowerContext, out: Buffer, x: CValue, offsets: Sequence[Dim]) -> None:
    def body(idx: list[lir.Value]) -> None:
        dst = [i if isinstance(o, int) and o == 0 else ctx.b.add(i, as_i64(o)) for i, o in zip(idx, offsets)]
        out.store(ctx.b, dst, x.load(ctx.b, idx))
    ctx.loop_nest(x.dims, body)


@lowers("concat", dynamic=True)
def _concat(ctx: LowerContext, op: Any, *xs: CValue) -> CValue:
    axis = op.attrs["axis"]
    t = op.results[0].type
    dims: list[Dim] = list(xs[0].dims)
    dims[axis] = 0
    for x in xs:
        for k, d in enumerate(x.dims):
            if k != axis:
                dims[k] = ctx.same_dim(op, dims[k], d, f"dimension {k}")
        dims[axis] = _add(ctx, dims[axis], x.dims[axis])
    if t.shape[axis] is not None:
        dims[axis] = t.shape[axis]
    out = ctx.alloc(t, dims)
    start: Dim = 0
    for x in xs:
        _copy_into(ctx, out, x, [start if k == axis else 0 for k in range(len(x.dims))])
        start = _add(ctx, start, x.dims[axis])
    return out


@lowers("pad", dynamic=True)
def _pad(ctx: LowerContext, op: Any, x: CValue) -> CValue:
    t = op.results[0].type
    paddings = op.attrs["paddings"]
    dims = [d if d is not None else _add(ctx, n, lo + hi) for d, n, (lo, hi) in zip(t.shape, x.dims, paddings)]
    out = ctx.alloc(t, dims)
    fill = constant(t.dtype, op.attrs["value"])
    ctx.loop_nest(out.dims, lambda idx: out.store(ctx.b, idx, fill))
    _copy_into(ctx, out, x, [lo for lo, _ in paddings])
    return out


def _check_indices(ctx: LowerContext, op: Any, indices: CValue, size: Dim) -> CValue:
    """Fail with IndexOutOfRangeError (an IndexError) naming the first out-of-range index, before anything reads
    through them."""
    indices = ctx.materialize(indices)
    if isinstance(size, int):
        code = ctx.error(IndexOutOfRangeError, f"{op.opdef.name}: index {{value}} is out of bounds for an axis of "
                                               f"size {size} (valid indices are 0..{size - 1})" + at(op))
    else:
        code = ctx.error(IndexOutOfRangeError, f"{op.opdef.name}: index {{value}} is out of bounds for an axis of "
                                               f"size {{value2}}" + at(op))

    def check(idx: list[lir.Value]) -> None:
        b = ctx.b
        i = b.sext(indices.load(b, idx), I64) if indices.type.dtype.size == 4 else indices.load(b, idx)
        ctx.fail_if(b.icmp_unsigned(">=", i, as_i64(size)), code, i, None if isinstance(size, int) else size)
    if indices.type.shape:
        ctx.loop_nest(indices.dims, check)
    else:
        check([])
    return indices


def _index_value(b: lir.IRBuilder, indices: CValue, idx: Sequence[lir.Value]) -> lir.Value:
    i = indices.load(b, idx)
    return b.sext(i, I64) if indices.type.dtype.size == 4 else i


@lowers("gather", dynamic=True)
def _gather(ctx: LowerContext, op: Any, params: CValue, indices: CValue) -> CValue:
    axis = op.attrs["axis"]
    indices = _check_indices(ctx, op, indices, params.dims[axis])
    r = len(indices.type.shape)
    dims = list(params.dims[:axis]) + list(indices.dims) + list(params.dims[axis + 1:])

    def element(b: lir.IRBuilder, idx: Sequence[lir.Value]) -> lir.Value:
        i = _index_value(b, indices, idx[axis:axis + r])
        return params.load(b, list(idx[:axis]) + [i] + list(idx[axis + r:]))
    return ctx.lazy(op.results[0].type, element, cheap=params.cheap, dims=dims)


@lowers("scatter_add", dynamic=True)
def _scatter_add(ctx: LowerContext, op: Any, updates: CValue, indices: CValue, *sizes: CValue) -> CValue:
    axis, t = op.attrs["axis"], op.results[0].type
    size = op.attrs["size"] if op.attrs["size"] is not None else attr_dims(ctx, op, [None], sizes, [t.shape[axis]])[0]
    indices = _check_indices(ctx, op, indices, size)
    r = len(indices.type.shape)
    for k, (u, i) in enumerate(zip(updates.dims[axis:axis + r], indices.dims)):
        ctx.same_dim(op, i, u, f"dimension {axis + k} of the updates")
    out = ctx.alloc(t, list(updates.dims[:axis]) + [size] + list(updates.dims[axis + r:]))
    zero = constant(t.dtype, 0)
    ctx.loop_nest(out.dims, lambda idx: out.store(ctx.b, idx, zero))

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
    ctx.loop_nest(updates.dims, body)
    return out


def lower_dim(ctx: LowerContext, op: Any, x: CValue) -> CValue:
    """`dim %x {axis = k} : i64[]`: the run-time size of dimension k (a constant where it is static)."""
    return Scalar(op.results[0].type, as_i64(x.dims[op.attrs["axis"]]))


lower_dim.dynamic = True  # type: ignore[attr-defined]
lower_dim.reads_dims_only = True  # type: ignore[attr-defined]  (a fused operand stays fused: codegen.lower)
if "dim" in OPS:  # the row comes with the IR's shape inference for unknown dims
    lowers("dim", dynamic=True)(lower_dim)


@lowers("broadcast_dim", dynamic=True)
def _broadcast_dim(ctx: LowerContext, op: Any, a: CValue, c: CValue) -> CValue:
    """Once per call: the size two run-time sizes broadcast to, failing as TF does when neither is 1 and they
    differ."""
    b = ctx.b
    x, y = as_i64(a.value), as_i64(c.value)
    one = ctx.i64(1)
    x_one, y_one = b.icmp_signed("==", x, one), b.icmp_signed("==", y, one)
    bad = b.and_(b.icmp_signed("!=", x, y), b.not_(b.or_(x_one, y_one)))
    shapes, axes = op.attrs["shapes"], op.attrs["axes"]
    code = ctx.error(InvalidArgumentError, incompatible_shapes(shapes, axes, ("{value}", "{value2}")) + at(op))
    ctx.fail_if(bad, code, x, y)
    return Scalar(op.results[0].type, b.select(x_one, y, x))
