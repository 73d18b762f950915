"""Shapes given as values known only when a traced function runs: `tf.zeros(tf.shape(x))`,
`tf.fill([tf.shape(x)[0], 3], 7.0)`, `tf.ones([n])`, `tf.broadcast_to(v, tf.shape(x))` with a traced `n` or `x` of
unknown size; `tf.sequence_mask` whose width is a traced `maxlen` or the largest of traced lengths; `tf.linspace`
and `tf.eye` with a traced count.

A shape argument is either a list whose entries are Python ints or traced integer scalars, or a traced 1-D integer
tensor (its length must be static: it is the rank). Each traced entry becomes an unknown dim (`?`) of the result
and an i64 size operand of `broadcast_to` (ir.ops_dims); Python ints stay static dims. A negative size fails when
the function runs (TF 2.21's InvalidArgumentError says "Dimension -1 must be >= 0").
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from engine.dispatch import apply
from engine.ops.dynamic_ops import is_traced
from engine.ops.funnel import as_tensor, cast, raw_shape
from engine.ops.math_ops import (add, divide, equal, greater, greater_equal, less, logical_and, maximum, multiply,
                                 subtract, where)
from engine.tensor import Tensor, TensorLike
from ir.opdef import OPS
from ir.ops_state import InvalidArgumentError
from ir.types import DType, int64


def is_run_time(shape: Any) -> bool:
    """Whether the shape argument holds a traced value."""
    if isinstance(shape, TensorLike):
        return is_traced(shape)
    return isinstance(shape, (list, tuple)) and any(is_traced(d) for d in shape)


def _entries(public: str, shape: Any) -> list[Any]:
    if isinstance(shape, TensorLike):
        t = as_tensor(shape)
        if not t.dtype.is_integer or len(raw_shape(t)) != 1 or raw_shape(t)[0] is None:
            raise InvalidArgumentError(f"{public}: a shape tensor must be a 1-D int32/int64 tensor of known length, "
                                       f"got {t.dtype.name} of shape {tuple(raw_shape(t))}")
        return [t[k] for k in range(raw_shape(t)[0])]
    return list(shape)


def dims_and_sizes(public: str, shape: Any, negative: str = "Dimension {} must be >= 0",
                   ) -> tuple[tuple[Optional[int], ...], list[Tensor]]:
    """The static shape (None where traced) and the int64 sizes of its None entries, checked at run time (an
    assert with the message `negative`; `{k}` in it is the entry's position, `{}` its value)."""
    dims: list[Optional[int]] = []
    sizes: list[Tensor] = []
    for k, d in enumerate(_entries(public, shape)):
        if is_traced(d):
            t = as_tensor(d)
            if not t.dtype.is_integer or raw_shape(t) != ():
                raise InvalidArgumentError(f"{public}: size {k} must be an integer scalar, got {t.dtype.name} of "
                                           f"shape {tuple(raw_shape(t))}")
            dims.append(None)
            sizes.append(cast(t, int64))
        else:
            v = int(np.asarray(d.numpy() if isinstance(d, TensorLike) else d))
            if v < 0:
                raise InvalidArgumentError(f"{public}: dimensions must not be negative, got {v} at {k}")
            dims.append(v)
    traced = [k for k, d in enumerate(dims) if d is None]
    for k, s in zip(traced, sizes):
        apply(OPS["assert"], greater_equal(s, 0), s, summarize=1, message=negative.replace("{k}", str(k)))
    return tuple(dims), sizes


def counts(public: str, shape: Any, negative: str) -> list[Any]:
    """The entries of a shape-like argument: Python ints, and int64 scalar tensors where traced (checked >= 0)."""
    dims, sizes = dims_and_sizes(public, shape, negative)
    it = iter(sizes)
    return [next(it) if d is None else d for d in dims]


def full(public: str, shape: Any, value: Any, dtype: Optional[DType] = None) -> Tensor:
    """`value` (a scalar) broadcast to a run-time shape."""
    v = as_tensor(value) if dtype is None else cast(as_tensor(value), dtype)
    if raw_shape(v) != ():
        raise InvalidArgumentError(f"{public}: value must be a scalar, got shape {tuple(raw_shape(v))}")
    dims, sizes = dims_and_sizes(public, shape)
    return apply(OPS["broadcast_to"], v, *sizes, shape=dims)


def broadcast_to(t: Tensor, shape: Any) -> Tensor:
    """t broadcast to a run-time shape (numpy's rules, t's dims aligned at the end)."""
    dims, sizes = dims_and_sizes("broadcast_to", shape)
    return apply(OPS["broadcast_to"], t, *sizes, shape=dims)


def sequence_mask(lens: Tensor, maxlen: Any) -> Tensor:
    """mask[..., j] = j < lens[...], for lengths or a width known only at run time (the width defaults to the
    largest length, at least 0)."""
    if maxlen is None:
        width = maximum(cast(apply(OPS["reduce_max"], lens, axes=tuple(range(len(raw_shape(lens))))), int64), 0)
    elif is_traced(maxlen):
        width = cast(as_tensor(maxlen), int64)
    else:
        width = int(np.asarray(maxlen.numpy() if isinstance(maxlen, TensorLike) else maxlen))
    lead = tuple(raw_shape(lens))
    lead_sizes = [apply(OPS["dim"], lens, axis=a) for a, d in enumerate(lead) if d is None]
    if isinstance(width, int):
        shape, sizes = lead + (max(width, 0),), lead_sizes
    else:
        shape, sizes = lead + (None,), lead_sizes + [width]
    positions = apply(OPS["iota"], *sizes, shape=shape, dtype=lens.dtype, axis=len(shape) - 1)
    ends = apply(OPS["reshape"], lens, *lead_sizes, shape=lead + (1,))
    return less(positions, apply(OPS["broadcast_to"], ends, *sizes, shape=shape))


def _count(v: Any) -> Any:
    """A count argument: a Python int, or an int64 scalar tensor where traced."""
    return cast(as_tensor(v), int64) if is_traced(v) else int(np.asarray(v.numpy() if isinstance(v, TensorLike) else v))


def _iota(n: Any, shape: tuple, dtype: DType, axis: int) -> Tensor:
    sizes = [n] * sum(1 for d in shape if d is None)
    return apply(OPS["iota"], *sizes, shape=shape, dtype=dtype, axis=axis)


def linspace(s: Tensor, e: Tensor, num: Any) -> Tensor:
    """`num` (traced) evenly spaced values from s to e, both included (just s when num is 1)."""
    n = _count(num)
    i = _iota(n, (None,), s.dtype, 0)
    last = cast(subtract(n, 1), s.dtype)
    values = add(multiply(i, divide(subtract(e, s), maximum(last, cast(as_tensor(1), s.dtype)))), s)
    return where(logical_and(equal(i, last), greater(last, cast(as_tensor(0), s.dtype))), e, values)


def eye(num_rows: Any, num_columns: Any, batch: tuple, dtype: DType) -> Tensor:
    """The identity matrix with a traced number of rows or columns, repeated over the static `batch` shape."""
    rows = _count(num_rows)
    cols = rows if num_columns is None else _count(num_columns)
    shape = batch + tuple(d if isinstance(d, int) else None for d in (rows, cols))
    sizes = [d for d in (rows, cols) if not isinstance(d, int)]
    r = apply(OPS["iota"], *sizes, shape=shape, dtype=int64, axis=len(shape) - 2)
    c = apply(OPS["iota"], *sizes, shape=shape, dtype=int64, axis=len(shape) - 1)
    return cast(equal(r, c), dtype)
