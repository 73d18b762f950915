"""Composites TensorFlow programs call often, over other public ops: eye, linspace, sequence_mask, clip_by_norm,
clip_by_global_norm, count_nonzero, reciprocal_no_nan, sinh, cosh, realdiv, scalar_mul, zero_fraction. Each
follows TensorFlow 2.21's formula where the formula decides a value or a gradient at an edge (the zero norm of
clip_by_norm, the last point of linspace)."""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from engine.dispatch import apply
from engine.ops import shape_args
from engine.ops.array_ops import expand_dims, reshape
from engine.ops.funnel import as_tensor, broadcast, cast, convert_pair, floating, full, raw_shape
from engine.ops.math_ops import (add, divide, equal, exp, expm1, greater, less, maximum, minimum, multiply,
                                 negative, not_equal, sqrt, subtract, where)
from engine.ops.reduce_ops import reduce_max, reduce_sum
from engine.tensor import Tensor
from ir.opdef import OPS
from ir.types import as_dtype, bool_, float32, float64, int32, int64


def eye(num_rows: int, num_columns: Optional[int] = None, batch_shape: Optional[Sequence[int]] = None,
        dtype: Any = float32, name: Optional[str] = None) -> Tensor:
    """The identity matrix (ones on the main diagonal), optionally rectangular and repeated over `batch_shape`."""
    dt = as_dtype(dtype)
    if shape_args.is_run_time([num_rows, num_columns]):
        return shape_args.eye(num_rows, num_columns, tuple(int(d) for d in (batch_shape or ())), dt)
    cols = num_rows if num_columns is None else int(num_columns)
    matrix = Tensor(np.eye(int(num_rows), cols, dtype=dt.np))
    batch = tuple(int(d) for d in (batch_shape or ()))
    return broadcast(matrix, batch + (int(num_rows), cols)) if batch else matrix


def linspace(start: Any, stop: Any, num: int, name: Optional[str] = None, axis: int = 0) -> Tensor:
    """`num` evenly spaced values from start to stop, both included; integers give float64, as TensorFlow."""
    s, e = convert_pair(start, stop)
    if not s.dtype.is_floating:
        s, e = cast(s, float64), cast(e, float64)
    if raw_shape(s) or raw_shape(e) or axis != 0:
        raise NotImplementedError("linspace: only scalar start and stop (axis 0) are supported")
    if shape_args.is_run_time([num]):
        return shape_args.linspace(s, e, num)
    n = int(num)
    if n == 1:
        return reshape(s, [1])
    i = apply(OPS["iota"], shape=(n,), dtype=s.dtype, axis=0)
    step = divide(subtract(e, s), full(n - 1, s.dtype, ()))
    values = add(multiply(i, step), s)
    return where(equal(i, full(n - 1, s.dtype, ())), broadcast(e, (n,)), values)  # the last point is stop itself


def sequence_mask(lengths: Any, maxlen: Any = None, dtype: Any = bool_, name: Optional[str] = None) -> Tensor:
    """mask[..., j] = j < lengths[...]; `maxlen` defaults to the largest length."""
    lens = as_tensor(lengths)
    if not lens.dtype.is_integer:
        raise TypeError(f"sequence_mask: lengths must be integers, got {lens.dtype.name}")
    if lens._node is not None or None in raw_shape(lens) or shape_args.is_run_time([maxlen]):
        mask = shape_args.sequence_mask(lens, maxlen)
        return mask if as_dtype(dtype) is bool_ else cast(mask, as_dtype(dtype))
    width = int(np.asarray(reduce_max(lens))) if maxlen is None else int(maxlen)
    shape = tuple(raw_shape(lens)) + (max(width, 0),)
    positions = apply(OPS["iota"], shape=shape, dtype=lens.dtype, axis=len(shape) - 1)
    mask = less(positions, broadcast(expand_dims(lens, -1), shape, positions))
    dt = as_dtype(dtype)
    return mask if dt is bool_ else cast(mask, dt)


def clip_by_norm(t: Any, clip_norm: Any, axes: Any = None, name: Optional[str] = None) -> Tensor:
    """t * clip_norm / max(||t||, clip_norm) over `axes`, written as TensorFlow's: a zero norm is replaced before
    the square root, so the gradient there is finite (1 per element, as TensorFlow's)."""
    x = floating(t, "clip_by_norm")
    c = full(np.asarray(clip_norm.numpy() if hasattr(clip_norm, "numpy") else clip_norm), x.dtype, ())
    squares = reduce_sum(multiply(x, x), axes, keepdims=True)
    positive = greater(squares, full(0, x.dtype, ()))
    norm = where(positive, sqrt(where(positive, squares, full(1, x.dtype, ()))), squares)
    return divide(multiply(x, c), maximum(norm, c))


def clip_by_global_norm(t_list: Sequence[Any], clip_norm: Any, use_norm: Any = None,
                        name: Optional[str] = None) -> tuple[list[Any], Tensor]:
    """Scales every tensor by clip_norm / max(global norm, clip_norm); None entries stay None. Returns the
    scaled list and the global norm (NaN scales everything to NaN, as TensorFlow's)."""
    ts = [None if v is None else floating(v, "clip_by_global_norm") for v in t_list]
    present = [v for v in ts if v is not None]
    if not present:
        raise ValueError("clip_by_global_norm: every tensor is None")
    dt = present[0].dtype
    if use_norm is None:
        total = reduce_sum(multiply(present[0], present[0]))
        for v in present[1:]:
            total = add(total, reduce_sum(multiply(v, v)))
        use_norm = sqrt(total)
    norm = as_tensor(use_norm)
    c = full(clip_norm, dt, ())
    one = full(1, dt, ())
    scale = multiply(c, minimum(divide(one, norm), divide(one, c)))
    scale = add(scale, subtract(norm, norm))  # NaN or inf norms make the scale NaN
    return [None if v is None else multiply(v, scale) for v in ts], norm


def count_nonzero(input: Any, axis: Any = None, keepdims: bool = False, dtype: Any = int64,  # noqa: A002
                  name: Optional[str] = None) -> Tensor:
    """The number of non-zero (true, NaN included) elements over `axis`, as `dtype` (int64 by default)."""
    t = as_tensor(input)
    nonzero = t if t.dtype is bool_ else not_equal(t, full(0, t.dtype, ()))
    return cast(reduce_sum(cast(nonzero, int64 if as_dtype(dtype) is int64 else int32), axis, keepdims),
                as_dtype(dtype))


def reciprocal_no_nan(x: Any, name: Optional[str] = None) -> Tensor:
    """1 / x, and 0 where x is 0."""
    t = floating(x, "reciprocal_no_nan")
    zero = equal(t, full(0, t.dtype, ()))
    return where(zero, full(0, t.dtype, ()), divide(full(1, t.dtype, ()), where(zero, full(1, t.dtype, ()), t)))


def sinh(x: Any, name: Optional[str] = None) -> Tensor:
    """(expm1(x) - expm1(-x)) / 2: accurate near 0, where exp(x) - exp(-x) would cancel."""
    t = floating(x, "sinh")
    return multiply(subtract(expm1(t), expm1(negative(t))), full(0.5, t.dtype, ()))


def cosh(x: Any, name: Optional[str] = None) -> Tensor:
    """(exp(x) + exp(-x)) / 2."""
    t = floating(x, "cosh")
    return multiply(add(exp(t), exp(negative(t))), full(0.5, t.dtype, ()))


def realdiv(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    """x / y of floating-point tensors (TensorFlow has no integer kernel)."""
    return divide(floating(x, "realdiv"), y)


def scalar_mul(scalar: Any, x: Any, name: Optional[str] = None) -> Tensor:
    """scalar * x for a scalar."""
    s = as_tensor(scalar) if isinstance(scalar, Tensor) else scalar
    if isinstance(s, Tensor) and raw_shape(s) != ():
        raise ValueError(f"scalar_mul: the scalar must have shape (), got {tuple(raw_shape(s))}")
    return multiply(s, x)


def zero_fraction(value: Any, name: Optional[str] = None) -> Tensor:
    """The fraction of zeros in `value`, as float32."""
    t = as_tensor(value)
    zeros = cast(equal(t, full(0, t.dtype, ())), float32)
    n = int(np.prod(raw_shape(t), dtype=np.int64))
    return divide(reduce_sum(zeros), full(n, float32, ()))
