"""`tf.math.cumsum` and `tf.math.cumprod` as composites of the op table.

Along the scanned axis of size n, each output element selects (with `where`, so no inf * 0 appears) the inputs its
prefix covers from an n x n triangle and reduces them: O(n^2) work, but only rows that autodiff and codegen already
know, so gradients and compiled code come for free. The gradient of cumprod at zeros is the exact one of
reduce_prod's row (TensorFlow 2.21's divides by x and gives 0 for every factor after a zero).
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from engine.errors import InvalidDTypeError
from engine.ops.array_ops import expand_dims, transpose
from engine.ops.funnel import as_tensor, broadcast, full, raw_shape
from engine.dispatch import apply
from engine.ops.math_ops import greater_equal, less_equal, logical_and, not_equal, where
from engine.ops.reduce_ops import reduce_prod, reduce_sum
from engine.tensor import Tensor
from ir.opdef import OPS
from ir.ops_state import InvalidArgumentError
from ir.types import int64


def cumsum(x: Any, axis: int = 0, exclusive: bool = False, reverse: bool = False,
           name: Optional[str] = None) -> Tensor:
    """Running sums along `axis`; `exclusive` leaves out the element itself, `reverse` runs from the end.

    >>> import engine as tf
    >>> tf.math.cumsum(tf.constant([1, 2, 3]), exclusive=True).numpy()
    array([0, 1, 3], dtype=int32)
    """
    return _scan(x, axis, exclusive, reverse, 0, reduce_sum, "cumsum")


def cumprod(x: Any, axis: int = 0, exclusive: bool = False, reverse: bool = False,
            name: Optional[str] = None) -> Tensor:
    """Running products along `axis`; `exclusive` and `reverse` as for `cumsum`."""
    return _scan(x, axis, exclusive, reverse, 1, reduce_prod, "cumprod")


def _scan(x: Any, axis: int, exclusive: bool, reverse: bool, identity: int, reduce: Any, public: str) -> Tensor:
    t = as_tensor(x)
    if t.dtype.is_bool:
        raise InvalidDTypeError(f"{public}: bool tensors cannot be summed or multiplied")
    shape = raw_shape(t)
    rank = len(shape)
    if not -rank <= int(axis) < rank:
        raise InvalidArgumentError(f"{public}: axis {axis} is out of range for a tensor of rank {rank}")
    ax = int(axis) % rank
    perm = [i for i in range(rank) if i != ax] + [ax]
    moved = transpose(t, perm) if ax != rank - 1 else t
    n = shape[ax]
    if n is None:  # an axis of run-time size: the triangle from iotas of that size
        sizes = [apply(OPS["dim"], moved, axis=len(shape) - 1)] * 2
        i, j = (apply(OPS["iota"], *sizes, shape=(None, None), dtype=int64, axis=a) for a in (0, 1))
        covers = logical_and(greater_equal(j, i) if reverse else less_equal(j, i), not_equal(i, j)) if exclusive \
            else greater_equal(j, i) if reverse else less_equal(j, i)
    else:
        i, j = np.indices((n, n))  # output position i takes input j where the triangle says so
        covers = Tensor(((j >= i) if reverse else (j <= i)) & ((i != j) if exclusive else True))
    square = tuple(raw_shape(moved)[:-1]) + (n, n)
    rows = broadcast(expand_dims(moved, -2), square, expand_dims(moved, -1))
    mask = broadcast(covers, square, expand_dims(moved, -1))
    out = reduce(where(mask, rows, full(identity, t.dtype, ())), axis=-1)
    return transpose(out, list(np.argsort(perm))) if ax != rank - 1 else out


