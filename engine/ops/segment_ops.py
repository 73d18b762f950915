"""`tf.math.segment_*` and `tf.math.unsorted_segment_*` (sum, mean, max, min, prod; unsorted sqrt_n) as composites of
the op table.

`segment_ids` index the leading axes of `data` (their shape is a prefix of data's); output row s reduces the slices
of data whose id is s. Sums (and means' sums and counts) are one `scatter_add` row, O(n), whose gradient is a gather.
Max, min and prod are one `segment_combine` row (O(n); TF's gradients: max and min split the cotangent equally among
ties, prod's is exact at zeros); only a sorted op traced with a run-time num_segments compares every slice with every
segment (a mask and a reduction, O(n * num_segments)). Empty segments hold 0 for sum and mean, 1 for prod, and for
the unsorted max and min the dtype's lowest and highest value (0 for the sorted ones), as TF. Unsorted ops drop
negative ids; the sorted ones take num_segments = max id + 1 (a run-time size when traced) and check eagerly that ids
are sorted and non-negative.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from engine.dispatch import apply
from engine.ops.array_ops import expand_dims
from engine.ops.funnel import as_tensor, cast, full, raw_shape
from engine.ops.math_ops import add, divide, equal, floordiv, greater, less, maximum, sqrt, where
from engine.ops.reduce_ops import reduce_max, reduce_min, reduce_prod
from engine.ops.shape_ops import is_symbolic
from engine.tensor import Tensor
from ir.opdef import OPS
from ir.ops_state import InvalidArgumentError
from ir.types import int32, int64


def _prepare(data: Any, segment_ids: Any, public: str) -> tuple[Tensor, Tensor]:
    t, ids = as_tensor(data), as_tensor(segment_ids)
    if ids.dtype not in (int32, int64):
        raise TypeError(f"{public}: segment_ids must be int32 or int64, got {ids.dtype.name}")
    ds, ids_shape = raw_shape(t), raw_shape(ids)
    if len(ids_shape) > len(ds) or any(a is not None and b is not None and a != b for a, b in zip(ids_shape, ds)):
        raise InvalidArgumentError(f"{public}: segment_ids of shape {ids_shape} must be a prefix of data's shape {ds}")
    return t, ids


def _unsorted_count(ids: Tensor, num_segments: Any, public: str) -> int:
    n = int(num_segments.numpy() if isinstance(num_segments, Tensor) else num_segments)
    if not is_symbolic(ids):
        bad = np.flatnonzero(ids.numpy().reshape(-1) >= n)
        if bad.size:
            i = int(bad[0])
            raise InvalidArgumentError(f"{public}: segment_ids[{i}] = {ids.numpy().reshape(-1)[i]} is out of "
                                       f"range [0, {n})")
    return n


def _sorted_count(ids: Tensor, public: str) -> Any:
    """num_segments of a sorted segment op: a Python int eagerly, an i64[] value when traced."""
    if is_symbolic(ids):
        return cast(maximum(add(reduce_max(ids), 1), 0), int64)
    flat = ids.numpy().reshape(-1)
    if flat.size and flat.min() < 0:
        raise InvalidArgumentError(f"{public}: segment ids must be >= 0")
    if np.any(flat[1:] < flat[:-1]):
        raise InvalidArgumentError(f"{public}: segment ids are not increasing")
    return int(flat[-1]) + 1 if flat.size else 0


def _sum(t: Tensor, ids: Tensor, n: Any, drop_negative: bool) -> Tensor:
    if not isinstance(n, int):
        return apply(OPS["scatter_add"], t, ids, n, axis=0, size=None)
    if not drop_negative:
        return apply(OPS["scatter_add"], t, ids, axis=0, size=n)
    spare = where(less(ids, 0), full(n, ids.dtype, ()), ids)  # negative ids go to a slot past the end, cut off
    return apply(OPS["scatter_add"], t, spare, axis=0, size=n + 1)[:n]


def _mean(t: Tensor, ids: Tensor, n: Any, drop_negative: bool) -> Tensor:
    total = _sum(t, ids, n, drop_negative)
    count = _sum(full(1, t.dtype, raw_shape(ids), ids), ids, n, drop_negative)
    count = expand_dims(count, -1) if len(raw_shape(t)) > len(raw_shape(ids)) else count
    for _ in range(len(raw_shape(t)) - len(raw_shape(ids)) - 1):
        count = expand_dims(count, -1)
    count = maximum(count, full(1, t.dtype, ()))
    return (divide if t.dtype.is_floating else floordiv)(total, count)


def _sqrt_n(t: Tensor, ids: Tensor, n: Any, drop_negative: bool) -> Tensor:
    """The sum divided by sqrt(count) (0 for an empty segment), as TF's *_sqrt_n."""
    total = _sum(t, ids, n, drop_negative)
    count = _sum(full(1, t.dtype, raw_shape(ids), ids), ids, n, drop_negative)
    for _ in range(len(raw_shape(t)) - len(raw_shape(ids))):
        count = expand_dims(count, -1)
    return divide(total, sqrt(maximum(count, full(1, t.dtype, ()))))


def _masked(reduce: Callable[..., Tensor], fill: Callable[[Any], Any], kind: str) -> Callable[..., Tensor]:
    def rule(t: Tensor, ids: Tensor, n: Any, drop_negative: bool) -> Tensor:
        if isinstance(n, int):  # the segment_combine row: O(n)
            if not drop_negative:
                return apply(OPS["segment_combine"], t, ids, kind=kind, size=n)
            spare = where(less(ids, 0), full(n, ids.dtype, ()), ids)
            return apply(OPS["segment_combine"], t, spare, kind=kind, size=n + 1)[:n]
        k = len(raw_shape(ids))
        rest = len(raw_shape(t)) - k
        segs = apply(OPS["iota"], n, shape=(None,), dtype=ids.dtype, axis=0)
        mask = equal(expand_dims(ids, -1), segs)  # ids.shape + [S]: a run-time S compares every pair
        for _ in range(rest):
            mask = expand_dims(mask, -1)
        picked = where(mask, expand_dims(t, k), full(fill(t.dtype), t.dtype, ()))
        return reduce(picked, axis=list(range(k)))
    return rule


def _lowest(d: Any) -> Any:
    return -np.finfo(d.np).max if d.is_floating else np.iinfo(d.np).min


def _highest(d: Any) -> Any:
    return np.finfo(d.np).max if d.is_floating else np.iinfo(d.np).max


_RULES = {"sum": _sum, "mean": _mean, "sqrt_n": _sqrt_n, "max": _masked(reduce_max, _lowest, "max"),
          "min": _masked(reduce_min, _highest, "min"), "prod": _masked(reduce_prod, lambda d: 1, "prod")}


def _unsorted(kind: str) -> Callable[..., Tensor]:
    public = f"unsorted_segment_{kind}"

    def op(data: Any, segment_ids: Any, num_segments: Any, name: Optional[str] = None) -> Tensor:
        t, ids = _prepare(data, segment_ids, public)
        return _RULES[kind](t, ids, _unsorted_count(ids, num_segments, public), True)
    op.__name__ = op.__qualname__ = public
    op.__doc__ = (f"The {kind} of the slices of `data` with each id in [0, num_segments); negative ids are dropped "
                  "(see the module docstring).")
    return op


def _sorted(kind: str) -> Callable[..., Tensor]:
    public = f"segment_{kind}"

    def op(data: Any, segment_ids: Any, name: Optional[str] = None) -> Tensor:
        t, ids = _prepare(data, segment_ids, public)
        if len(raw_shape(ids)) != 1:
            raise InvalidArgumentError(f"{public}: segment_ids should be a vector, got shape {raw_shape(ids)}")
        n = _sorted_count(ids, public)
        out = _RULES[kind](t, ids, n, False)
        if kind in ("max", "min"):  # TF's sorted max and min give 0 for an empty segment
            present = greater(_sum(full(1, int32, raw_shape(ids), ids), ids, n, False), 0)
            for _ in range(len(raw_shape(t)) - 1):
                present = expand_dims(present, -1)
            out = where(present, out, full(0, t.dtype, ()))
        return out
    op.__name__ = op.__qualname__ = public
    op.__doc__ = f"The {kind} of the slices of `data` with each id; ids sorted, num_segments = max id + 1."
    return op


unsorted_segment_sum, unsorted_segment_mean, unsorted_segment_max, unsorted_segment_min, unsorted_segment_prod = (
    _unsorted(k) for k in ("sum", "mean", "max", "min", "prod"))
segment_sum, segment_mean, segment_max, segment_min, segment_prod = (
    _sorted(k) for k in ("sum", "mean", "max", "min", "prod"))
unsorted_segment_sqrt_n = _unsorted("sqrt_n")
