"""Rows that sort and scan along one axis: `argsort` (last axis), `cumsum` and `cumprod` (any axis).

- `argsort %x {descending} : i32[...]`: for each row of the last axis, the positions that order it, stably (equal
  values keep their index order, in both directions, as TF's top_k-based argsort does). Descending sorts the key
  -x (floats) or ~x (integers, bool), so NaN comes last either way. O(n log n). No gradient (indices); `tf.sort`
  and `tf.math.top_k` gather with these positions, and gather carries the gradient.
- `cumsum %x {axis, exclusive, reverse}` and `cumprod`: running sums and products along `axis`, in order from the
  first element (the last one when `reverse`), leaving the element itself out when `exclusive`. O(n): one running
  accumulator per line. cumsum's gradient is the cumsum of g in the other direction; cumprod's is exact at zeros
  (TF 2.21's divides by x and gives 0 there; docs/tf-compat.md), still O(n): see `_cumprod_vjp`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ir.opdef import NONDIFF, OpDef, check_arity, fail, register
from ir.types import TensorType, int32


def sort_key(x: np.ndarray, descending: bool) -> np.ndarray:
    """The values whose stable ascending order is the row's order."""
    if not descending:
        return x
    return -x if x.dtype.kind == "f" else ~x


def _argsort_infer(types: list[TensorType], *, descending: bool) -> tuple[TensorType, ...]:
    check_arity("argsort", types, 1)
    t = types[0]
    if t.rank < 1:
        raise fail("argsort", f"the operand must have rank >= 1, got {t}")
    if not (t.dtype.is_bool or t.dtype.is_integer or t.dtype.is_floating):
        raise fail("argsort", f"the operand must be bool or numeric, got {t}")
    return (TensorType(int32, t.shape),)


def _argsort_kernel(x: Any, *, descending: bool) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind not in "biuf" or (x.dtype.kind == "f" and x.dtype.itemsize == 2):
        x = x.astype(np.float32)  # float16 and bfloat16 compare as the float32 values they widen to
    key = sort_key(x, descending)
    return np.argsort(key, axis=-1, kind="stable").astype(np.int32)


register(OpDef("argsort", _argsort_infer, _argsort_kernel, NONDIFF, "shape", attrs=("descending",),
               doc="The int32 positions that sort each row of the last axis, stably; `descending` reverses the "
                   "order of values but not of ties. O(n log n)."))


def _scan_infer(name: str) -> Any:
    def infer(types: list[TensorType], *, axis: int, exclusive: bool, reverse: bool) -> tuple[TensorType, ...]:
        check_arity(name, types, 1)
        t = types[0]
        if not (t.dtype.is_integer or t.dtype.is_floating):
            raise fail(name, f"the operand must be numeric, got {t}")
        if not 0 <= axis < t.rank:
            raise fail(name, f"axis {axis} is out of range for {t}")
        return (t,)
    return infer


def _scan_kernel(ufunc: np.ufunc, identity: int) -> Any:
    def kernel(x: Any, *, axis: int, exclusive: bool, reverse: bool) -> np.ndarray:
        x = np.asarray(x)
        if reverse:
            x = np.flip(x, axis)
        y = ufunc.accumulate(x, axis=axis, dtype=x.dtype) if x.shape[axis] else x.copy()
        if exclusive and x.shape[axis]:
            first = np.full_like(np.take(x, [0], axis=axis), identity)
            y = np.concatenate([first, np.take(y, np.arange(x.shape[axis] - 1), axis=axis)], axis=axis)
        return np.ascontiguousarray(np.flip(y, axis) if reverse else y)
    return kernel


def _cumsum_vjp(em: Any, g: Any, out: Any, x: Any, *, axis: int, exclusive: bool, reverse: bool) -> tuple:
    return (em.cumsum(g, axis=axis, exclusive=exclusive, reverse=not reverse),)


def _cumprod_vjp(em: Any, g: Any, out: Any, x: Any, *, axis: int, exclusive: bool, reverse: bool) -> tuple:
    """The exact gradient, with no division by zero: before a line's first zero (in scan order) TF's rule, the
    cumsum of out * g the other way divided by x; at the first zero that cumsum taken over the products with that
    zero replaced by 1; after it 0 (every product through x_j also holds the first zero)."""
    zero = em.eq(x, em.zeros_like(x))
    one = em.full_like(x, 1)
    before = em.cumsum(em.convert(zero, dtype=em.dtype(x)), axis=axis, exclusive=True, reverse=reverse)
    clear = em.eq(before, em.zeros_like(x))
    first = em.logical_and(zero, clear)
    s = em.cumsum(em.mul(out, g), axis=axis, exclusive=exclusive, reverse=not reverse)
    out1 = em.cumprod(em.select(first, one, x), axis=axis, exclusive=exclusive, reverse=reverse)
    s1 = em.cumsum(em.mul(out1, g), axis=axis, exclusive=exclusive, reverse=not reverse)
    ahead = em.select(em.logical_and(clear, em.logical_not(zero)), em.div(s, em.select(zero, one, x)), em.zeros_like(x))
    return (em.select(first, s1, ahead),)


def _cumprod_jvp(em: Any, tangents: Any, out: Any, x: Any, *, axis: int, exclusive: bool, reverse: bool) -> Any:
    """The exact tangent: where no zero precedes (the product holds no zero) out * cumsum(t / x); past the first
    zero, t at that zero times the products with it replaced by 1 (no other factor's tangent survives)."""
    t = tangents[0]
    if t is None:
        return None
    scan = dict(axis=axis, reverse=reverse)
    zero = em.eq(x, em.zeros_like(x))
    zeros = em.convert(zero, dtype=em.dtype(x))
    one = em.full_like(x, 1)
    first = em.logical_and(zero, em.eq(em.cumsum(zeros, exclusive=True, **scan), em.zeros_like(x)))
    clear = em.eq(em.cumsum(zeros, exclusive=exclusive, **scan), em.zeros_like(x))
    ratio = em.cumsum(em.div(t, em.select(zero, one, x)), exclusive=exclusive, **scan)
    out1 = em.cumprod(em.select(first, one, x), exclusive=exclusive, **scan)
    at_zero = em.cumsum(em.select(first, t, em.zeros_like(x)), exclusive=exclusive, **scan)
    return em.select(clear, em.mul(out, ratio), em.mul(out1, at_zero))


register(OpDef("cumsum", _scan_infer("cumsum"), _scan_kernel(np.add, 0), _cumsum_vjp, "shape",
               attrs=("axis", "exclusive", "reverse"), linear=True,
               doc="Running sums along `axis` (from the end when `reverse`; without the element when `exclusive`)."))
register(OpDef("cumprod", _scan_infer("cumprod"), _scan_kernel(np.multiply, 1), _cumprod_vjp, "shape",
               attrs=("axis", "exclusive", "reverse"), jvp=_cumprod_jvp,
               doc="Running products along `axis`, as cumsum; an exact O(n) gradient, also at zeros."))
