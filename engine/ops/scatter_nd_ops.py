"""`tf.tensor_scatter_nd_update` / `_add` / `_sub` / `_min` / `_max`: `tensor` with slices at `indices` replaced or
combined with `updates`, as composites of the op table.

Each index row (the last axis of `indices`, K entries) addresses a slice of `tensor`'s first K axes; it becomes one
linear position in [0, P) (P the product of those axes), and `tensor` a [P, rest...] array. add and sub are one
`scatter_add` row (O(n), gradient a gather). update keeps, of duplicate positions, the last update (what TF's CPU
kernel leaves), found in O(n log n) with the `first_occurrence` row on the reversed positions, and then scatters. min
and max combine with `unsorted_segment_min` / `_max` (the `segment_combine` row, O(n)). Indices are checked eagerly
(TF's message); `tensor`'s shape must be static.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from engine.dispatch import apply
from engine.ops.array_ops import reshape
from engine.ops.funnel import as_tensor, cast, full, raw_shape
from engine.ops.layout_ops import reverse
from engine.ops.math_ops import add, equal, greater, maximum, minimum, multiply, subtract, where
from engine.ops.segment_ops import unsorted_segment_max, unsorted_segment_min
from engine.ops.shape_ops import is_symbolic
from engine.tensor import Tensor
from ir.opdef import OPS
from ir.ops_state import InvalidArgumentError
from ir.types import int32, int64


def _linear(tensor: Any, indices: Any, updates: Any, public: str) -> tuple[Tensor, Tensor, Tensor, int, list]:
    t, idx, upd = as_tensor(tensor), as_tensor(indices), as_tensor(updates)
    shape, ishape = raw_shape(t), raw_shape(idx)
    if idx.dtype not in (int32, int64):
        raise TypeError(f"{public}: indices must be int32 or int64, got {idx.dtype.name}")
    if upd.dtype is not t.dtype:
        raise TypeError(f"{public}: updates of dtype {upd.dtype.name} do not match the tensor's {t.dtype.name}")
    if None in shape or not ishape or ishape[-1] is None:
        raise InvalidArgumentError(f"{public}: the tensor's shape and the last axis of indices must be static")
    k = ishape[-1]
    if k > len(shape):
        raise InvalidArgumentError(f"{public}: indices of depth {k} address a tensor of rank {len(shape)}")
    want = tuple(ishape[:-1]) + tuple(shape[k:])
    if len(raw_shape(upd)) != len(want) or any(a is not None and b is not None and a != b
                                                for a, b in zip(raw_shape(upd), want)):
        raise InvalidArgumentError(f"{public}: updates must have shape {want}, got {raw_shape(upd)}")
    if not is_symbolic(idx):
        rows = idx.numpy().reshape(-1, k)
        bad = np.flatnonzero(np.any((rows < 0) | (rows >= np.asarray(shape[:k], dtype=np.int64)), axis=1))
        if bad.size:
            raise InvalidArgumentError(f"{public}: indices[{int(bad[0])}] = {rows[bad[0]].tolist()} does not index "
                                       f"into shape {list(shape)}")
    strides = [int(np.prod(shape[i + 1:k])) for i in range(k)]
    pos = full(0, int64, ())
    i64 = cast(idx, int64)
    for i, s in enumerate(strides):
        pos = add(pos, multiply(i64[..., i], s))
    rest = list(shape[k:])
    size = int(np.prod(shape[:k]))
    return reshape(t, [size] + rest), reshape(pos, [-1]), reshape(upd, [-1] + rest), size, list(shape)


def _spread(mask: Tensor, rank: int) -> Tensor:
    """A [P] mask as [P, 1, ...] against a [P, rest...] array."""
    return reshape(mask, [-1] + [1] * (rank - 1))


def _update(base: Tensor, pos: Tensor, upd: Tensor, size: int) -> Tensor:
    rev = reverse(pos, [0])
    first = apply(OPS["first_occurrence"], rev)
    n = raw_shape(pos)[0]
    sizes = [] if n is not None else [apply(OPS["dim"], pos, axis=0)]
    keep = reverse(equal(first, apply(OPS["iota"], *sizes, shape=(n,), dtype=int64, axis=0)), [0])
    rank = len(raw_shape(upd))
    kept = where(_spread(keep, rank), upd, full(0, upd.dtype, ()))
    written = greater(apply(OPS["scatter_add"], cast(keep, int32), pos, axis=0, size=size), 0)
    return where(_spread(written, rank), apply(OPS["scatter_add"], kept, pos, axis=0, size=size), base)


def _combine(how: Callable[..., Tensor]) -> Callable[..., Tensor]:
    def rule(base: Tensor, pos: Tensor, upd: Tensor, size: int) -> Tensor:
        return how(base, apply(OPS["scatter_add"], upd, pos, axis=0, size=size))
    return rule


def _extreme(segment: Callable[..., Tensor], how: Callable[..., Tensor]) -> Callable[..., Tensor]:
    def rule(base: Tensor, pos: Tensor, upd: Tensor, size: int) -> Tensor:
        return how(base, segment(upd, pos, size))
    return rule


_RULES = {"update": _update, "add": _combine(add), "sub": _combine(subtract),
          "min": _extreme(unsorted_segment_min, minimum), "max": _extreme(unsorted_segment_max, maximum)}


def _public(kind: str) -> Callable[..., Tensor]:
    public = f"tensor_scatter_nd_{kind}"

    def op(tensor: Any, indices: Any, updates: Any, name: Optional[str] = None) -> Tensor:
        base, pos, upd, size, shape = _linear(tensor, indices, updates, public)
        return reshape(_RULES[kind](base, pos, upd, size), shape)
    op.__name__ = op.__qualname__ = public
    op.__doc__ = f"`tensor` with the slices at `indices` combined with `updates` by {kind} (module docstring)."
    return op


tensor_scatter_nd_update, tensor_scatter_nd_add, tensor_scatter_nd_sub, tensor_scatter_nd_min, \
    tensor_scatter_nd_max = (_public(k) for k in ("update", "add", "sub", "min", "max"))
