"""`tf.unique` and `tf.unique_with_counts`: the distinct elements of a 1-D tensor in order of first occurrence, each
element's index among them, and how often each occurs.

Eagerly numpy computes them at once. Traced, they are a composite of rows around `first_occurrence` (ir.ops_order,
a stable sort: O(n log n)): `first[i]` is where x[i]'s value first occurs, so the distinct elements are at the
positions where `first[i] == i` (`argwhere`, a result of run-time length, in order of first occurrence); scattering
0..k-1 to those positions numbers them, and each element's `idx` is its first occurrence's number (a gather);
the counts scatter ones into the k slots of `idx`. A NaN equals only itself, as in TF.
As in TF, nothing differentiates through them (TF has no gradient for Unique: `tape.gradient` raises LookupError
there; here `y` is cut from the tape and the gradient is None).
"""
from __future__ import annotations

from typing import Any, NamedTuple, Optional

import numpy as np

from engine import dispatch
from engine.convert import convert_to_tensor
from engine.ops.array_ops import gather
from engine.ops.funnel import as_tensor, raw_shape
from engine.ops.gradient_ops import stop_gradient
from engine.ops.math_ops import equal
from engine.tensor import Tensor
from ir.opdef import OPS
from ir.types import as_dtype, int32, int64


class Unique(NamedTuple):
    y: Tensor
    idx: Tensor


class UniqueWithCounts(NamedTuple):
    y: Tensor
    idx: Tensor
    count: Tensor


def unique(x: Any, out_idx: Any = int32, name: Optional[str] = None) -> Unique:
    """(y, idx): the distinct elements of the 1-D `x` in order of first occurrence, and `idx` with `x == y[idx]`.

    >>> import engine as tf
    >>> y, idx = tf.unique(tf.constant([4, 2, 4, 7, 2]))
    >>> y.numpy(), idx.numpy()
    (array([4, 2, 7], dtype=int32), array([0, 1, 0, 2, 1], dtype=int32))
    """
    t = as_tensor(x)
    index_dtype = as_dtype(out_idx)
    if index_dtype not in (int32, int64):
        raise TypeError(f"unique: out_idx must be int32 or int64, got {index_dtype.name}")
    if len(raw_shape(t)) != 1:
        raise ValueError(f"unique: x must be a vector (1-D), got shape {tuple(raw_shape(t))}")
    if not dispatch.tracing():
        return _unique_numpy(t.numpy(), index_dtype)
    n = raw_shape(t)[0]
    if n == 0:
        return Unique(t, convert_to_tensor(np.zeros(0, index_dtype.np)))
    return _unique_traced(t, index_dtype, n)


def unique_with_counts(x: Any, out_idx: Any = int32, name: Optional[str] = None) -> UniqueWithCounts:
    """(y, idx, count): `unique`'s results and how many times each element of `y` occurs in `x` (as `out_idx`).

    >>> import engine as tf
    >>> y, idx, count = tf.unique_with_counts(tf.constant([4, 2, 4, 7, 2]))
    >>> count.numpy()
    array([2, 2, 1], dtype=int32)
    """
    y, idx = unique(x, out_idx)
    index_dtype = as_dtype(out_idx)
    if not dispatch.tracing():
        return UniqueWithCounts(y, idx, convert_to_tensor(np.bincount(idx.numpy(), minlength=int(y.shape[0]))
                                                          .astype(index_dtype.np)))
    n = raw_shape(y)[0]
    ones = dispatch.apply(OPS["broadcast_to"], convert_to_tensor(np.ones((), index_dtype.np)),
                          *([dispatch.apply(OPS["dim"], idx, axis=0)] if raw_shape(idx)[0] is None else []),
                          shape=tuple(raw_shape(idx)))
    size = [dispatch.apply(OPS["dim"], y, axis=0)] if n is None else []
    return UniqueWithCounts(y, idx, dispatch.apply(OPS["scatter_add"], ones, idx, *size, axis=0, size=n))


def _unique_traced(t: Tensor, index_dtype: Any, n: Optional[int]) -> Unique:
    apply = dispatch.apply
    first = apply(OPS["first_occurrence"], t)
    size = [apply(OPS["dim"], t, axis=0)] if n is None else []
    positions = apply(OPS["iota"], *size, shape=(n,), dtype=int64, axis=0)
    found = apply(OPS["argwhere"], equal(first, positions))  # [k, 1]: where the first occurrences are
    k = apply(OPS["dim"], found, axis=0)
    found = apply(OPS["reshape"], found, k, shape=(None,))
    y = gather(stop_gradient(t), found)
    numbers = apply(OPS["iota"], k, shape=(None,), dtype=index_dtype, axis=0)
    number_at = apply(OPS["scatter_add"], numbers, found, *size, axis=0, size=n)  # k-th first occurrence -> k
    return Unique(y, gather(number_at, first))


def _unique_numpy(a: np.ndarray, index_dtype: Any) -> Unique:
    if a.dtype.kind == "f":
        _, first, inverse = np.unique(a, return_index=True, return_inverse=True, equal_nan=False)
    else:
        _, first, inverse = np.unique(a, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    idx = rank[inverse.reshape(-1)].astype(index_dtype.np)
    return Unique(convert_to_tensor(a[first[order]]), convert_to_tensor(idx))
