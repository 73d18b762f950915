"""`tf.gather` with `batch_dims` b: params and indices share their first b axes, and each batch row gathers from its
own row of params.

The batch axes and the gathered axis of params are flattened into one, each index offset by its batch row's start
(row * n), then one plain `gather`; its gradient is gather's. Indices are checked against their own row first (an
assert, eager or compiled), since an offset index could otherwise read another row. Sizes of unknown dims are run-time
`dim`s throughout (reshapes take them as size operands), so one trace serves every batch size.
"""
from __future__ import annotations

from typing import Any

from engine.dispatch import apply
from engine.ops.funnel import broadcast, cast, full, raw_shape
from engine.ops.math_ops import add, greater, greater_equal, less, logical_and, multiply
from engine.ops.shape_ops import run_time_reshape
from engine.tensor import Tensor
from ir.opdef import OPS
from ir.ops_state import InvalidArgumentError
from ir.types import int32, int64


def _size(t: Tensor, axis: int) -> Any:
    d = raw_shape(t)[axis]
    return d if d is not None else apply(OPS["dim"], t, axis=axis)


def _product(sizes: list[Any]) -> Any:
    out: Any = 1
    for s in sizes:
        out = out * s if isinstance(out, int) and isinstance(s, int) else multiply(out, s)
    return out


def _reshape(t: Tensor, shape: list[Any]) -> Tensor:
    if all(isinstance(d, int) for d in shape):
        return t if tuple(shape) == raw_shape(t) else apply(OPS["reshape"], t, shape=tuple(shape))
    return run_time_reshape(t, shape)


def batched_gather(p: Tensor, i: Tensor, ax: int, b: int) -> Tensor:
    ps, ishape = raw_shape(p), raw_shape(i)
    compatible = all(x is None or y is None or x == y for x, y in zip(ps[:b], ishape[:b]))
    if not 0 < b <= min(ax, len(ishape)) or not compatible:
        raise InvalidArgumentError(f"gather: batch_dims {b} needs the first {b} dimensions of params {tuple(ps)} and "
                                   f"indices {tuple(ishape)} to agree, and axis {ax} >= batch_dims")
    between = list(range(b, ax))
    if between:  # bring the gathered axis right after the batch axes
        order = list(range(b)) + [ax] + between + list(range(ax + 1, len(ps)))
        p = apply(OPS["transpose"], p, perm=tuple(order))
        ps = raw_shape(p)
    n = _size(p, b)
    n_i = full(n, i.dtype, ()) if isinstance(n, int) else cast(n, i.dtype)
    inside = cast(logical_and(greater_equal(i, full(0, i.dtype, ())), less(i, n_i)), int32)
    all_inside = greater(apply(OPS["reduce_min"], inside, axes=tuple(range(len(ishape)))), full(0, int32, ()))
    bound = f"[0, {n})" if isinstance(n, int) else "[0, n), n the size of the gathered axis,"
    apply(OPS["assert"], all_inside, i, message=f"gather: an index is out of range {bound} of its batch row",
          summarize=3)
    batch_sizes = [_size(i, k) for k in range(b)]
    batch = _product(batch_sizes)
    span = apply(OPS["iota"], shape=(batch,), dtype=i.dtype, axis=0) if isinstance(batch, int) else \
        apply(OPS["iota"], cast(batch, int64), shape=(None,), dtype=i.dtype, axis=0)
    rows = _reshape(span, batch_sizes + [1] * (len(ishape) - b))
    rest = [_size(p, k) for k in range(b + 1, len(ps))]
    flat = apply(OPS["gather"], _reshape(p, [_product([batch, n])] + rest),
                 add(i, multiply(broadcast(rows, ishape, i), n_i)), axis=0)
    out = _reshape(flat, [_size(i, k) for k in range(len(ishape))] + rest)
    if between:  # the gathered dims came before the `between` axes: move them after
        k = len(ishape) - b
        order = list(range(b)) + [b + k + j for j in range(len(between))] + [b + j for j in range(k)] + \
            list(range(b + k + len(between), len(raw_shape(out))))
        out = apply(OPS["transpose"], out, perm=tuple(order))
    return out
