"""Reduction and contraction rows of the op table: reduce_sum/max/min/prod, argmax/argmin, matmul.

float16/bfloat16 sums, products and matmuls accumulate in float32 and round once, as TF's CPU kernels do and as
compiled code does. matmul takes TF's dtypes: floats, int32, int64.

Reductions take normalized `axes` (sorted, distinct, non-negative) and drop them; `keepdims` is a reshape that the
engine adds. matmul takes operands of equal rank >= 2 whose batch dimensions already agree.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence

import numpy as np

from ir.opdef import NONDIFF, OpDef, check_arity, check_dtype, fail, merge_dims, merge_shapes, register
from ir.types import FLOAT_DTYPES, INDEX_DTYPES, NUMERIC_DTYPES, TensorType, as_dtype, bfloat16, int32, int64

if TYPE_CHECKING:
    from ir.emitter import Emitter


def _reduce_infer(opname: str) -> Any:
    def infer(types: list[TensorType], *, axes: Sequence[int]) -> tuple[TensorType, ...]:
        check_arity(opname, types, 1)
        t = types[0]
        check_dtype(opname, t, NUMERIC_DTYPES, "a numeric")
        if list(axes) != sorted(set(axes)) or any(not 0 <= a < t.rank for a in axes):
            raise fail(opname, f"axes {list(axes)} must be sorted, distinct and within the {t.rank} axes of "
                               f"shape {t.shape}")
        return (t.with_shape([d for i, d in enumerate(t.shape) if i not in axes]),)
    return infer


def _keepdims_shape(xshape: Sequence[Optional[int]], axes: Sequence[int]) -> tuple[Optional[int], ...]:
    return tuple(1 if i in axes else d for i, d in enumerate(xshape))


def _expand_back(em: Emitter, v: Any, x: Any, axes: Sequence[int]) -> Any:
    """Broadcast a reduced value back to x's shape (its unknown dims from `dim` ops on x)."""
    return em.bcast(em.reshape_to(v, _keepdims_shape(em.shape(x), axes), like=x), em.shape(x), like=x)


def _sum_vjp(em: Emitter, g: Any, out: Any, x: Any, *, axes: Sequence[int]) -> tuple:
    return (_expand_back(em, g, x, axes),)


def _extremum_vjp(em: Emitter, g: Any, out: Any, x: Any, *, axes: Sequence[int]) -> tuple:
    """The gradient is shared equally among the elements that attain the extremum, as TensorFlow does."""
    mask = em.convert(em.eq(x, _expand_back(em, out, x, axes)), dtype=em.dtype(x))
    count = em.reduce_sum(mask, axes=tuple(axes))
    return (em.mul(_expand_back(em, em.div(g, count), x, axes), mask),)


def _prod_vjp(em: Emitter, g: Any, out: Any, x: Any, *, axes: Sequence[int]) -> tuple:
    """d prod / d x_i = product of the others, exact when some x are zero (no y/x division by zero)."""
    zero, one = em.zeros_like(x), em.scalar_like(x, 1)
    is_zero = em.eq(x, zero)
    nonzero_x = em.select(is_zero, one, x)
    prod_nonzero = _expand_back(em, em.reduce_prod(nonzero_x, axes=tuple(axes)), x, axes)
    zeros = _expand_back(em, em.reduce_sum(em.convert(is_zero, dtype=em.dtype(x)), axes=tuple(axes)), x, axes)
    none_zero = em.eq(zeros, zero)
    one_zero = em.eq(zeros, one)
    grad = em.select(is_zero, em.select(one_zero, prod_nonzero, zero),
                     em.select(none_zero, em.div(prod_nonzero, nonzero_x), zero))
    return (em.mul(_expand_back(em, g, x, axes), grad),)


def _kind(dt: np.dtype) -> tuple[bool, bool]:
    """(a 16-bit float, a float) for any numpy dtype, bfloat16 (kind "V") and longdouble included (tests widen
    operands to longdouble to check rounding)."""
    floating = dt.kind == "f" or dt == bfloat16.np
    return floating and dt.itemsize == 2, floating


def _reduce_kernel(fn: Any, identity: str) -> Any:
    def kernel(x: np.ndarray, *, axes: Sequence[int]) -> np.ndarray:
        axes = tuple(axes)
        half, floating = _kind(x.dtype)
        if identity in ("sum", "prod"):
            acc = np.float32 if half else x.dtype
            with np.errstate(over="ignore"):
                return np.asarray(fn(x.astype(acc, copy=False), axis=axes, dtype=acc)).astype(x.dtype)
        # An empty max is the lowest value (-inf for floats), as in TensorFlow.
        lowest = -np.inf if floating else np.iinfo(x.dtype).min
        initial = lowest if identity == "max" else -lowest if floating else np.iinfo(x.dtype).max
        return np.asarray(fn(x, axis=axes, initial=x.dtype.type(initial)))
    return kernel


register(OpDef("reduce_sum", _reduce_infer("reduce_sum"), _reduce_kernel(np.sum, "sum"), _sum_vjp, "reduce",
               attrs=("axes",)))
register(OpDef("reduce_prod", _reduce_infer("reduce_prod"), _reduce_kernel(np.prod, "prod"), _prod_vjp, "reduce",
               attrs=("axes",)))
register(OpDef("reduce_max", _reduce_infer("reduce_max"), _reduce_kernel(np.max, "max"), _extremum_vjp, "reduce",
               attrs=("axes",)))
register(OpDef("reduce_min", _reduce_infer("reduce_min"), _reduce_kernel(np.min, "min"), _extremum_vjp, "reduce",
               attrs=("axes",)))


def _arg_infer(opname: str) -> Any:
    def infer(types: list[TensorType], *, axis: int, output_type: Any) -> tuple[TensorType, ...]:
        check_arity(opname, types, 1)
        t = types[0]
        check_dtype(opname, t, NUMERIC_DTYPES, "a numeric")
        if not 0 <= axis < t.rank:
            raise fail(opname, f"axis {axis} is out of range for shape {t.shape}")
        if t.shape[axis] == 0:
            raise fail(opname, f"cannot take {opname} over the empty axis {axis} of shape {t.shape}")
        out = as_dtype(output_type)
        if out not in INDEX_DTYPES:
            raise TypeError(f"{opname}: output_type must be int32 or int64, got {out.name}")
        return (TensorType(out, t.shape[:axis] + t.shape[axis + 1:]),)
    return infer


def _arg_kernel(best: Callable[..., Any]) -> Callable[..., np.ndarray]:
    """The first index of the best value along `axis`, skipping NaN as TensorFlow's kernels do (0 where all are
    NaN); numpy's argmax/argmin would pick the first NaN instead."""
    def kernel(x: np.ndarray, *, axis: int, output_type: Any) -> np.ndarray:
        if x.dtype.kind == "f":
            nan = np.isnan(x)
            b = best(np.where(nan, -np.inf if best is np.max else np.inf, x), axis=axis, keepdims=True)
            index = np.argmax(x == b, axis=axis)  # NaN equals nothing; no hit at all gives 0
        else:
            index = (np.argmax if best is np.max else np.argmin)(x, axis=axis)
        return np.asarray(index).astype(as_dtype(output_type).np)
    return kernel


register(OpDef("argmax", _arg_infer("argmax"), _arg_kernel(np.max), NONDIFF, "reduce", attrs=("axis", "output_type"),
               doc="The first index of the maximum; NaN are skipped (index 0 where all are NaN), as in TensorFlow."))
register(OpDef("argmin", _arg_infer("argmin"), _arg_kernel(np.min), NONDIFF, "reduce", attrs=("axis", "output_type"),
               doc="The first index of the minimum; NaN are skipped (index 0 where all are NaN), as in TensorFlow."))


# ---- matmul ---------------------------------------------------------------------------------------------------------
MATMUL_DTYPES = FLOAT_DTYPES + (int32, int64)


def _matmul_infer(types: list[TensorType], *, transpose_a: bool, transpose_b: bool) -> tuple[TensorType, ...]:
    check_arity("matmul", types, 2)
    a, b = types
    if a.dtype is not b.dtype:
        raise TypeError(f"matmul: operands have different dtypes {a.dtype.name} and {b.dtype.name}")
    check_dtype("matmul", a, MATMUL_DTYPES, "a float, int32 or int64")
    try:
        if a.rank < 2 or a.rank != b.rank:
            raise ValueError
        batch = merge_shapes("matmul", [a.shape[:-2], b.shape[:-2]])
    except ValueError:
        raise fail("matmul", f"operands must have equal rank >= 2 and equal batch dimensions, got shapes "
                             f"{a.shape} and {b.shape}") from None
    m, k = a.shape[-2:][::-1] if transpose_a else a.shape[-2:]
    k2, n = b.shape[-2:][::-1] if transpose_b else b.shape[-2:]
    try:
        merge_dims("matmul", k, k2, "inner dimensions")
    except ValueError:
        raise fail("matmul", f"inner dimensions differ: shapes {a.shape} and {b.shape} "
                             f"(transpose_a={transpose_a}, transpose_b={transpose_b})") from None
    return (a.with_shape(batch + (m, n)),)


def _matmul_kernel(a: np.ndarray, b: np.ndarray, *, transpose_a: bool, transpose_b: bool) -> np.ndarray:
    if transpose_a:
        a = np.swapaxes(a, -1, -2)
    if transpose_b:
        b = np.swapaxes(b, -1, -2)
    if _kind(a.dtype)[0]:
        return np.matmul(a.astype(np.float32), b.astype(np.float32)).astype(a.dtype)
    return np.matmul(a, b)


def _matmul_vjp(em: Emitter, g: Any, out: Any, a: Any, b: Any, *, transpose_a: bool, transpose_b: bool) -> tuple:
    mm = em.matmul
    if not transpose_a and not transpose_b:
        return (mm(g, b, transpose_a=False, transpose_b=True), mm(a, g, transpose_a=True, transpose_b=False))
    if transpose_a and not transpose_b:
        return (mm(b, g, transpose_a=False, transpose_b=True), mm(a, g, transpose_a=False, transpose_b=False))
    if not transpose_a and transpose_b:
        return (mm(g, b, transpose_a=False, transpose_b=False), mm(g, a, transpose_a=True, transpose_b=False))
    return (mm(b, g, transpose_a=True, transpose_b=True), mm(g, a, transpose_a=True, transpose_b=True))


def _matmul_jvp(em: Emitter, ts: Sequence[Any], out: Any, a: Any, b: Any, **attrs: Any) -> Any:
    parts = ([em.matmul(ts[0], b, **attrs)] if ts[0] is not None else []) + \
        ([em.matmul(a, ts[1], **attrs)] if ts[1] is not None else [])
    return em.add_n(parts)


register(OpDef("matmul", _matmul_infer, _matmul_kernel, _matmul_vjp, "linalg", attrs=("transpose_a", "transpose_b"),
               jvp=_matmul_jvp,
               doc="Batched matrix product over the last two axes."))
