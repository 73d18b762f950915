"""`tf.unique`: the distinct elements of a 1-D tensor in order of first occurrence, and each element's index
among them.

Eagerly numpy computes them at once (O(n log n)). Traced, the op table has no sort, and a row has one result, so
`unique` is a composite of rows: an n x n equality matrix (a NaN equals only itself, as in TF), the first
occurrence of each element by `argmax` along its row, the first occurrences gathered at their `argwhere`
positions (a result of run-time length), and each element's index by counting the first occurrences before its own. That is O(n^2) time and memory: fine for
the small vectors unique usually sees inside functions (n = 2,000 is a 4M-element boolean matrix), not for large
ones.
As in TF, nothing differentiates through it (TF has no gradient for Unique: `tape.gradient` raises LookupError
there; here `y` is cut from the tape and the gradient is None).
"""
from __future__ import annotations

from typing import Any, NamedTuple, Optional

import numpy as np

from engine import dispatch
from engine.convert import convert_to_tensor
from engine.ops.array_ops import expand_dims, gather, range as _range
from engine.ops.funnel import as_tensor, raw_shape
from engine.ops.gradient_ops import stop_gradient
from engine.ops.math_ops import cast, equal, less, logical_and, logical_or
from engine.ops.reduce_ops import argmax, reduce_sum
from engine.ops.shape_ops import shape
from engine.tensor import Tensor
from ir.opdef import OPS
from ir.types import as_dtype, int32, int64


class Unique(NamedTuple):
    y: Tensor
    idx: Tensor


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
    positions = _range(shape(t, out_type=index_dtype)[0]) if n is None else _range(n, dtype=index_dtype)
    same = logical_or(equal(expand_dims(t, 1), expand_dims(t, 0)),
                      equal(expand_dims(positions, 1), expand_dims(positions, 0)))
    first = argmax(cast(same, int32), axis=1, output_type=index_dtype)
    is_first = equal(first, positions)
    found = dispatch.apply(OPS["argwhere"], is_first)  # [?, 1]: where the first occurrences are
    y = gather(stop_gradient(t), dispatch.apply(OPS["reshape"], found, dispatch.apply(OPS["dim"], found, axis=0),
                                                shape=(None,)))
    # idx[i]: how many first occurrences come before x[i]'s own
    before = logical_and(expand_dims(is_first, 0), less(expand_dims(positions, 0), expand_dims(first, 1)))
    return Unique(y, reduce_sum(cast(before, index_dtype), axis=1))


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
