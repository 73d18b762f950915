"""How an IR value exists while a function is lowered: a register, a buffer in memory, or a lazy expression.

- `Scalar`: a shape-() value held in an LLVM register (loop-carried scalars become phis).
- `Buffer`: a row-major array at a pointer (function arguments, outputs, and materialized intermediates).
- `Lazy`: an element function `idx -> value` that is evaluated inside whatever loop nest consumes it; chains of
  elementwise ops, broadcasts, transposes and slices are Lazy, which is what fusion means here: no temporaries.
Every value carries its run-time dims (`dims`): a Python int where the IR type knows the size, an LLVM i64 where it
is unknown (`f32[?,784]`); a static type's dims are its shape, so static functions compile exactly as before. A
Buffer's strides are computed from its dims once, where the Buffer is made (outside the loops that index it).
Booleans are i1 in registers and one byte in memory, as numpy stores them. Unsigned integers are the same LLVM
integer types as signed ones (the rules pick udiv, icmp unsigned, zext, uitofp by the dtype). float16 and bfloat16
are 16 bits in memory (`half`, and `i16` for bfloat16) and float32 in registers: loads widen them, stores round to
nearest even, and every elementwise result of such a dtype is rounded to it (`round_to`), so fused chains give what
numpy gives op by op.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, Union

import llvmlite.ir as lir

from ir.types import ALL_DTYPES, DType, TensorType, bfloat16, bool_, float16, float64

I1 = lir.IntType(1)
I8 = lir.IntType(8)
I16 = lir.IntType(16)
I32 = lir.IntType(32)
I64 = lir.IntType(64)
F32 = lir.FloatType()
PTR = lir.PointerType()


def _reg(d: DType) -> lir.Type:
    if d is bool_:
        return I1
    if d.is_integer:
        return lir.IntType(d.bits)
    return lir.DoubleType() if d is float64 else F32


_REG = {d.name: _reg(d) for d in ALL_DTYPES}
_MEM = dict(_REG, **{bool_.name: I8, float16.name: lir.HalfType(), bfloat16.name: I16})


def is_register(t: TensorType) -> bool:
    """Held in a register rather than a buffer: scalars, and stacks (a pointer to their header)."""
    from ir.types import StackType
    return not t.shape or isinstance(t, StackType)


def llvm_type(t: TensorType) -> lir.Type:
    """The register type of a register-held value."""
    from ir.types import StackType
    return PTR if isinstance(t, StackType) else reg_type(t.dtype)


def reg_type(dtype: DType) -> lir.Type:
    """The LLVM type of one element in a register."""
    return _REG[dtype.name]


def mem_type(dtype: DType) -> lir.Type:
    """The LLVM type of one element in memory."""
    return _MEM[dtype.name]


Dim = Union[int, lir.Value]
"""A run-time dimension: a Python int when known at compile time, else an LLVM i64 value."""


def strides(shape: Sequence[int]) -> list[int]:
    out, acc = [], 1
    for d in reversed(shape):
        out.append(acc)
        acc *= d
    return out[::-1]


def mul_dims(b: Optional[lir.IRBuilder], x: Dim, y: Dim) -> Dim:
    """x * y, folded when both are ints (then `b` may be None)."""
    if isinstance(x, int) and isinstance(y, int):
        return x * y
    if isinstance(x, int) and x == 1:
        return y
    if isinstance(y, int) and y == 1:
        return x
    assert b is not None, "a run-time size needs a builder"
    return b.mul(as_i64(x), as_i64(y), flags=["nsw"])


def as_i64(d: Dim) -> lir.Value:
    return lir.Constant(I64, d) if isinstance(d, int) else d


def dyn_strides(b: Optional[lir.IRBuilder], dims: Sequence[Dim]) -> list[Dim]:
    """Row-major strides (in elements) of `dims`: ints where every inner dim is static."""
    out: list[Dim] = []
    acc: Dim = 1
    for d in reversed(dims):
        out.append(acc)
        acc = mul_dims(b, acc, d)
    return out[::-1]


def num_elements(b: Optional[lir.IRBuilder], dims: Sequence[Dim]) -> Dim:
    acc: Dim = 1
    for d in dims:
        acc = mul_dims(b, acc, d)
    return acc


def static_dims(t: TensorType) -> tuple[Dim, ...]:
    if not t.is_static:
        raise ValueError(f"codegen: {t} has unknown dims; the value needs its run-time dims")
    return tuple(t.shape)


def is_static_dims(dims: Sequence[Dim]) -> bool:
    return all(isinstance(d, int) for d in dims)


class CValue:
    type: TensorType
    cheap: bool = True  # evaluating an element twice costs little (views of memory, constants, registers)
    dims: tuple[Dim, ...] = ()

    def load(self, b: lir.IRBuilder, idx: Sequence[lir.Value]) -> lir.Value:
        raise NotImplementedError


class Scalar(CValue):
    def __init__(self, type: TensorType, value: lir.Value) -> None:  # noqa: A002
        self.type = type
        self.value = value

    def load(self, b: lir.IRBuilder, idx: Sequence[lir.Value]) -> lir.Value:
        return self.value


class Buffer(CValue):
    """`dims` default to the type's (static) shape; with run-time dims, `b` computes the strides where the Buffer is
    made. `elem_strides` gives a strided view instead (a broadcast of a run-time size 1 has stride 0)."""

    def __init__(self, type: TensorType, ptr: lir.Value, dims: Optional[Sequence[Dim]] = None,  # noqa: A002
                 b: Optional[lir.IRBuilder] = None, elem_strides: Optional[Sequence[Dim]] = None) -> None:
        self.type = type
        self.ptr = ptr
        self.dims = static_dims(type) if dims is None else tuple(dims)
        self.strides = list(elem_strides) if elem_strides is not None else dyn_strides(b, self.dims)
        self.dense = elem_strides is None  # row-major and contiguous: BLAS and reshape may take the pointer

    def address(self, b: lir.IRBuilder, idx: Sequence[lir.Value]) -> lir.Value:
        linear: lir.Value = lir.Constant(I64, 0)
        for i, s in zip(idx, self.strides):
            if isinstance(s, int) and s == 0:
                continue
            if isinstance(s, int):
                term = i if s == 1 else b.mul(i, lir.Constant(I64, s))
            else:
                term = b.mul(i, s, flags=["nsw"])
            linear = term if isinstance(linear, lir.Constant) and linear.constant == 0 else b.add(linear, term)
        return b.gep(self.ptr, [linear], inbounds=True, source_etype=mem_type(self.type.dtype))

    def load_linear(self, b: lir.IRBuilder, linear: lir.Value) -> lir.Value:
        p = b.gep(self.ptr, [linear], inbounds=True, source_etype=mem_type(self.type.dtype))
        return from_memory(b, self.type.dtype, b.load(p, typ=mem_type(self.type.dtype)))

    def load(self, b: lir.IRBuilder, idx: Sequence[lir.Value]) -> lir.Value:
        return from_memory(b, self.type.dtype, b.load(self.address(b, idx), typ=mem_type(self.type.dtype)))

    def store(self, b: lir.IRBuilder, idx: Sequence[lir.Value], value: lir.Value) -> None:
        b.store(to_memory(b, self.type.dtype, value), self.address(b, idx))


class Lazy(CValue):
    def __init__(self, type: TensorType, fn: Callable[[lir.IRBuilder, Sequence[lir.Value]], lir.Value],  # noqa: A002
                 cheap: bool = False, dims: Optional[Sequence[Dim]] = None) -> None:
        self.type = type
        self.fn = fn
        self.cheap = cheap
        self.dims = static_dims(type) if dims is None else tuple(dims)

    def load(self, b: lir.IRBuilder, idx: Sequence[lir.Value]) -> lir.Value:
        return self.fn(b, idx)


def from_memory(b: lir.IRBuilder, dtype: DType, v: lir.Value) -> lir.Value:
    if dtype is bool_:
        return b.icmp_unsigned("!=", v, lir.Constant(I8, 0))
    if dtype is float16:
        return b.fpext(v, F32)
    if dtype is bfloat16:  # the upper half of a float32
        return b.bitcast(b.shl(b.zext(v, I32), lir.Constant(I32, 16)), F32)
    return v


def to_memory(b: lir.IRBuilder, dtype: DType, v: lir.Value) -> lir.Value:
    if dtype is bool_:
        return b.zext(v, I8)
    if dtype is float16:
        return b.fptrunc(v, lir.HalfType())
    if dtype is bfloat16:
        return _float32_to_bfloat16(b, v)
    return v


def _float32_to_bfloat16(b: lir.IRBuilder, v: lir.Value) -> lir.Value:
    """Round to nearest even by adding 0x7fff plus the lowest kept bit, then keep the upper 16 bits; a NaN keeps
    its sign and upper bits and is made quiet (as ml_dtypes and TF do)."""
    bits = b.bitcast(v, I32)
    upper = b.lshr(bits, lir.Constant(I32, 16))
    lsb = b.and_(upper, lir.Constant(I32, 1))
    rounded = b.lshr(b.add(bits, b.add(lsb, lir.Constant(I32, 0x7FFF))), lir.Constant(I32, 16))
    nan = b.or_(upper, lir.Constant(I32, 0x40))
    out = b.select(b.fcmp_unordered("uno", v, v), nan, rounded)
    return b.trunc(out, I16)


def round_to(b: lir.IRBuilder, dtype: DType, v: lir.Value) -> lir.Value:
    """A float32 register value rounded to `dtype`'s precision (float16, bfloat16; others unchanged)."""
    if not dtype.is_half:
        return v
    return from_memory(b, dtype, to_memory(b, dtype, v))


def constant(dtype: DType, value: Any) -> lir.Constant:
    if dtype.is_floating:
        return lir.Constant(reg_type(dtype), float(value))
    if dtype is bool_:
        return lir.Constant(I1, int(bool(value)))
    value = int(value)
    return lir.Constant(reg_type(dtype), value - (1 << dtype.bits) if value >= 1 << (dtype.bits - 1) else value)
