"""Shapes that depend on values known only when a traced function runs: `tf.range` with tensor bounds, slices
`x[i:j]` whose bounds are traced tensors, and slices with negative bounds or steps on an axis of unknown size
(`x[:-1]`, `x[::-1]` on `[None, 2]`: where they land depends on the run-time size).

Both make a run-time length `n` (an int64 scalar computed with Python's slice/range rules: negative bounds count
from the end, bounds clamp to the axis, an empty range has length 0), then `iota` of that length (a size operand,
ir.ops_dims) scaled and shifted into positions; a slice gathers those positions along its axis, so its gradient is
gather's (a scatter_add back into the axis). Used by `engine.ops.array_ops.range` and `engine.indexing`.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from engine import dispatch
from engine.dispatch import apply
from engine.errors import InvalidArgumentError
from engine.ops.funnel import as_tensor, cast, raw_shape
from engine.ops.math_ops import (add, ceil, divide, floordiv, greater, greater_equal, less, logical_and, logical_or,
                                 maximum, minimum, multiply, subtract, where)
from engine.tensor import Tensor, TensorLike
from ir.opdef import OPS
from ir.types import DType, bool_, int64


def is_traced(v: Any) -> bool:
    return isinstance(v, TensorLike) and dispatch.tracing() and as_tensor(v)._node is not None


def _i64(v: Any) -> Tensor:
    t = as_tensor(v) if isinstance(v, TensorLike) else as_tensor(int(v))
    if not t.dtype.is_integer:
        raise TypeError(f"slice indices must be integers, None, or scalar integer tensors; got {t.dtype.name}")
    return cast(t, int64)


def _positions(n: Tensor, start: Tensor, step: int, dtype: DType) -> Tensor:
    """start, start + step, ... (n of them) as `dtype`."""
    i = apply(OPS["iota"], n, shape=(None,), dtype=int64, axis=0)
    return cast(add(multiply(i, step), start), dtype) if step != 1 else cast(add(i, start), dtype)


def range_of_tensors(start: Any, limit: Any, delta: Any, dtype: DType) -> Tensor:
    """`tf.range(start, limit, delta)` with traced bounds: a vector of run-time length."""
    s, l, d = (cast(as_tensor(v) if isinstance(v, TensorLike) else as_tensor(v), dtype) for v in (start, limit, delta))
    zero = cast(as_tensor(0), dtype)
    bad = logical_or(d == zero, logical_or(logical_and(greater(d, zero), greater(s, l)),
                                           logical_and(less(d, zero), less(s, l))))
    dispatch.apply(OPS["assert"], apply(OPS["logical_not"], bad), s, l, d, summarize=3,
                   message="range: requires start <= limit when delta > 0 and start >= limit when delta < 0 "
                           "(delta != 0): start {}, limit {}, delta {}")
    if dtype.is_integer:  # ceil((l - s) / d) = -((s - l) // d)
        n = subtract(cast(as_tensor(0), int64), floordiv(cast(subtract(s, l), int64), cast(d, int64)))
    else:
        n = cast(ceil(divide(subtract(l, s), d)), int64)
    n = maximum(n, 0)
    i = apply(OPS["iota"], n, shape=(None,), dtype=dtype, axis=0)
    return add(multiply(i, d), s)


def _clamp_bound(v: Optional[Any], n: Tensor, step: int, default_neg: bool) -> Tensor:
    """A slice bound as Python's slice.indices gives it, for an axis of run-time size n."""
    if v is None:
        return subtract(n, 1) if default_neg or step < 0 else cast(as_tensor(0), int64)
    b = _i64(v)
    lo, hi = (0, n) if step > 0 else (-1, subtract(n, 1))
    wrapped = where(less(b, 0), add(b, n), b)
    return minimum(maximum(wrapped, lo), hi)


def dynamic_slice(t: Tensor, axis: int, s: slice) -> Tensor:
    """t[..., s, ...] on `axis` where a bound of `s` is a traced tensor (the step must be a Python int)."""
    if isinstance(s.step, TensorLike):
        raise TypeError("a slice step must be a Python int inside a traced function (the bounds may be tensors)")
    step = 1 if s.step is None else int(s.step)
    if step == 0:
        raise ValueError("slice step cannot be zero")
    shape = raw_shape(t)
    n = as_tensor(shape[axis]) if shape[axis] is not None else apply(OPS["dim"], t, axis=axis)
    n = cast(n, int64)
    if step > 0:
        b = _clamp_bound(s.start, n, step, False)
        e = cast(as_tensor(n), int64) if s.stop is None else _clamp_bound(s.stop, n, step, False)
        length = floordiv(add(maximum(subtract(e, b), 0), step - 1), step)
    else:
        b = _clamp_bound(s.start, n, step, True)
        e = cast(as_tensor(-1), int64) if s.stop is None else _clamp_bound(s.stop, n, step, False)
        length = floordiv(add(maximum(subtract(b, e), 0), -step - 1), -step)
    return apply(OPS["gather"], t, _positions(length, b, step, int64), axis=axis)


def _is_negative(v: Any) -> bool:
    return v is not None and not isinstance(v, TensorLike) and int(v) < 0


def needs_runtime_slice(k: Any, dim: Any) -> bool:
    """Whether the key item `k` on an axis of static size `dim` (None: unknown) must be a run-time gather: a slice
    with a traced bound, or with a negative bound or step on an axis of unknown size."""
    if not isinstance(k, slice):
        return False
    if any(is_traced(v) for v in (k.start, k.stop, k.step)):
        return True
    return dim is None and any(_is_negative(v) for v in (k.start, k.stop, k.step))


def check_index_at_run_time(t: Tensor, axis: int, i: int) -> None:
    """An `assert` that the Python int `i` indexes `axis` of run-time size (TF 2.21's InvalidArgumentError, "slice
    index -1 of dimension 0 out of bounds." for x[-7] on a size-6 axis: the index after one wrap)."""
    n = apply(OPS["dim"], t, axis=axis)
    wrapped = add(n, i) if i < 0 else cast(as_tensor(i), int64)
    ok = logical_and(greater_equal(wrapped, 0), less(wrapped, n))
    apply(OPS["assert"], ok, wrapped, summarize=1, message=f"slice index {{}} of dimension {axis} out of bounds.")


def split_traced_slices(t: Tensor, key: tuple) -> tuple[Tensor, tuple]:
    """Apply each slice of `key` that `needs_runtime_slice` (as a gather of run-time length along its axis) and
    return the tensor and the key with those slices replaced by `:`; the rest of the key is then indexed as usual."""
    shape = raw_shape(t)
    rank = len(shape)
    if any(isinstance(k, TensorLike) and as_tensor(k).dtype is bool_ for k in key):
        return t, key
    if any(not isinstance(k, (slice, int, np.integer, type(None), type(Ellipsis), TensorLike)) for k in key):
        return t, key  # arrays and masks may index several axes: their slices stay with the static path
    consumed = [1 if (k is not None and k is not Ellipsis) else 0 for k in key]
    out = list(key)
    for pos, k in enumerate(key):
        if not isinstance(k, slice):
            continue
        before = key[:pos]
        axis = rank - sum(consumed[pos:]) if any(e is Ellipsis for e in before) else sum(consumed[:pos])
        if not 0 <= axis < rank or not needs_runtime_slice(k, shape[axis]):
            continue
        t = dynamic_slice(t, axis, k)
        out[pos] = slice(None)
    if len(raw_shape(t)) != rank:
        raise InvalidArgumentError("internal: a dynamic slice changed the rank")
    return t, tuple(out)
