"""Rules of the state and effect rows: Variable read/assign, runtime print and assert (through a callback into
the runtime, which formats values with the same code as eager mode), and Philox random numbers computed per
element, so that a seed gives the same stream compiled as eager.
"""
from __future__ import annotations

from typing import Any, Sequence

import llvmlite.ir as lir

from codegen.context import LowerContext
from codegen.rules.registry import lowers
from codegen.rules.shape import attr_dims
from codegen.values import I32, I64, PTR, Buffer, CValue, Scalar, as_i64, dyn_strides, reg_type
from ir.ops_state import InvalidArgumentError
from ir.types import as_dtype


@lowers("read", dynamic=True)
def _read(ctx: LowerContext, op: Any, ref: Any) -> CValue:
    buf = ref.old if ref.fresh else ref.buffer  # before any write: the array the call found (codegen.lower.VarRef)
    t = op.results[0].type
    if not t.shape:
        return Scalar(t, Buffer(t, buf.ptr).load(ctx.b, []))
    if ref.mutable and not ref.fresh:
        return ctx.materialize(Buffer(t, buf.ptr), ctx.alloc(t))  # a snapshot: later assigns must not show
    return Buffer(t, buf.ptr)


@lowers("assign", dynamic=True)
def _assign(ctx: LowerContext, op: Any, ref: Any, value: CValue) -> None:
    for k, (d, v) in enumerate(zip(ref.buffer.dims, value.dims)):  # a value of unknown dims must fit the Variable
        ctx.same_dim(op, d, v, f"dimension {k}")
    ctx.store_all(ref.buffer, value)


def _callback(ctx: LowerContext) -> lir.Function:
    f = ctx.module.globals.get("kiln_runtime_callback")
    if f is None:
        f = lir.Function(ctx.module, lir.FunctionType(lir.VoidType(), [I64, PTR]), "kiln_runtime_callback")
    return f


def _call_back(ctx: LowerContext, entry: Any, values: Sequence[CValue]) -> None:
    """Calls the runtime with the id of `entry` (in ctx.prints) and pointers to the materialized values, followed
    by the run-time sizes of their unknown dims (in order)."""
    b = ctx.b
    ctx.prints.append(entry)
    ptrs = []
    sizes = []
    for v in values:
        buf = ctx.buffer(v) if v.type.shape else None
        if buf is None:
            slot = ctx.alloc(v.type)
            slot.store(b, [], v.load(b, []))
            buf = slot
        ptrs.append(buf.ptr)
        sizes += [d for d, s in zip(buf.dims, v.type.shape) if s is None]
    arr = ctx.entry_alloca(lir.ArrayType(PTR, max(len(ptrs) + len(sizes), 1)))
    for i, p in enumerate(ptrs):
        b.store(p, b.gep(arr, [ctx.i64(0), lir.Constant(I32, i)], inbounds=True))
    for i, d in enumerate(sizes):
        b.store(as_i64(d), b.gep(arr, [ctx.i64(0), lir.Constant(I32, len(ptrs) + i)], inbounds=True))
    b.call(_callback(ctx), [ctx.i64(len(ctx.prints) - 1), arr])


@lowers("print", dynamic=True)
def _print(ctx: LowerContext, op: Any, *values: CValue) -> None:
    _call_back(ctx, ("print", op.attrs["template"], op.attrs["stream"], op.attrs["summarize"],
                     [v.type for v in values]), values)


@lowers("assert", dynamic=True)
def _assert(ctx: LowerContext, op: Any, cond: CValue, *data: CValue) -> None:
    b = ctx.b
    ok = ctx.entry_alloca(lir.IntType(1))
    b.store(lir.Constant(lir.IntType(1), 1), ok)
    if cond.type.shape:
        ctx.loop_nest(cond.dims, lambda idx: b.store(b.and_(b.load(ok, typ=ok.allocated_type),
                                                                    cond.load(b, idx)), ok))
    else:
        b.store(cond.load(b, []), ok)
    failed = b.not_(b.load(ok, typ=ok.allocated_type))
    code = ctx.error(InvalidArgumentError, "{value}")  # the runtime writes the whole text (ir.ops_state)
    with b.if_then(failed, likely=False):
        # The runtime formats the data into the message (as eager mode shows it), then the call fails.
        _call_back(ctx, ("assert", code, op.attrs["summarize"], op.attrs["message"], [d.type for d in data]), data)
        ctx.fail_if(lir.Constant(lir.IntType(1), 1), code)


# ---- Philox 4x32-10, per element ------------------------------------------------------------------------------------
_M0, _M1 = 0xD2511F53, 0xCD9E8D57
_W0, _W1 = 0x9E3779B9, 0xBB67AE85


def _philox(b: lir.IRBuilder, ctr: list[lir.Value], key: list[lir.Value]) -> list[lir.Value]:
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    m0, m1 = lir.Constant(I64, _M0), lir.Constant(I64, _M1)
    for _ in range(10):
        p0 = b.mul(b.zext(c0, I64), m0)
        p1 = b.mul(b.zext(c2, I64), m1)
        hi0, lo0 = b.trunc(b.lshr(p0, lir.Constant(I64, 32)), I32), b.trunc(p0, I32)
        hi1, lo1 = b.trunc(b.lshr(p1, lir.Constant(I64, 32)), I32), b.trunc(p1, I32)
        c0, c1, c2, c3 = b.xor(b.xor(hi1, c1), k0), lo1, b.xor(b.xor(hi0, c3), k1), lo0
        k0 = b.add(k0, lir.Constant(I32, _W0))
        k1 = b.add(k1, lir.Constant(I32, _W1))
    return [c0, c1, c2, c3]


def _word(b: lir.IRBuilder, words: list[lir.Value], lane: lir.Value) -> lir.Value:
    w = words[3]
    for k in (2, 1, 0):
        w = b.select(b.icmp_unsigned("==", lane, lir.Constant(I64, k)), words[k], w)
    return w


@lowers("random_uniform", dynamic=True)
def _random_uniform(ctx: LowerContext, op: Any, seed: CValue, offset: CValue, *sizes: CValue) -> CValue:
    t = op.results[0].type
    dtype = as_dtype(op.attrs["dtype"])
    wide = dtype.size == 8
    dims = attr_dims(ctx, op, op.attrs["shape"], sizes)
    st = dyn_strides(ctx.b, dims)  # the element's place in the stream: its row-major index, for any size

    def element(b: lir.IRBuilder, idx: Sequence[lir.Value]) -> lir.Value:
        linear: lir.Value = lir.Constant(I64, 0)
        for i, s in zip(idx, st):
            linear = b.add(linear, b.mul(i, as_i64(s)))
        s64, o64 = seed.load(b, []), offset.load(b, [])
        key = [b.trunc(s64, I32), b.trunc(b.lshr(s64, lir.Constant(I64, 32)), I32)]
        per_block = 2 if wide else 4
        block = b.add(o64, b.udiv(linear, lir.Constant(I64, per_block)))
        ctr = [b.trunc(block, I32), b.trunc(b.lshr(block, lir.Constant(I64, 32)), I32),
               lir.Constant(I32, 0), lir.Constant(I32, 0)]
        words = _philox(b, ctr, key)
        lane = b.urem(linear, lir.Constant(I64, per_block))
        if not wide:
            w = b.lshr(_word(b, words, lane), lir.Constant(I32, 8))
            return b.fmul(b.uitofp(w, reg_type(dtype)), lir.Constant(reg_type(dtype), 2.0 ** -24))
        lane2 = b.mul(lane, lir.Constant(I64, 2))
        hi = b.lshr(b.zext(_word(b, words, lane2), I64), lir.Constant(I64, 5))
        lo = b.lshr(b.zext(_word(b, words, b.add(lane2, lir.Constant(I64, 1))), I64), lir.Constant(I64, 6))
        bits = b.or_(b.shl(hi, lir.Constant(I64, 26)), lo)
        return b.fmul(b.uitofp(bits, reg_type(dtype)), lir.Constant(reg_type(dtype), 2.0 ** -53))
    return ctx.lazy(t, element, dims=dims)
