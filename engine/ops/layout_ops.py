"""Rearranging public ops over the gather and slice rows: tf.slice, tf.roll, tf.repeat, tf.meshgrid, tf.tile,
tf.reverse (on axes of unknown size: engine.ops.dynamic_layout).

Positions are computed in numpy from static shapes (and concrete repeat counts), so each op is one `gather` or
`slice` row: its gradient (a scatter of the cotangent) and its compiled code come from that row.
"""
from __future__ import annotations

import builtins
from typing import Any, Optional

import numpy as np

from engine.dispatch import apply
from engine.ops import dynamic_layout, shape_args
from engine.ops.array_ops import _axis, _ints, gather, reshape
from engine.ops.funnel import as_tensor, broadcast, convert_all, raw_shape
from engine.tensor import Tensor, TensorLike
from ir.opdef import OPS
from ir.ops_state import InvalidArgumentError


def slice(input_: Any, begin: Any, size: Any, name: Optional[str] = None) -> Tensor:  # noqa: A001  (TF's name)
    """`size[i]` elements from `begin[i]` along each axis; a size of -1 takes the rest of the axis."""
    t = as_tensor(input_)
    shape = raw_shape(t)
    start, count = list(_ints("slice", begin)), list(_ints("slice", size))
    if len(start) != len(shape) or len(count) != len(shape):
        raise InvalidArgumentError(f"slice: begin {start} and size {count} need one entry per axis of shape "
                                   f"{tuple(shape)}")
    end = [d if c == -1 else b + c for b, c, d in zip(start, count, shape)]
    if not all(0 <= b and (e is None or b <= e) if d is None else 0 <= b <= e <= d
               for b, e, d in zip(start, end, shape)):
        raise InvalidArgumentError(f"slice: begin {start} and size {count} do not fit in shape {tuple(shape)}")
    for k, (b, c, d) in enumerate(zip(start, count, shape)):
        if d is None:  # an axis of unknown size: the bounds are checked when the function runs
            dynamic_layout.check_slice(t, k, b, c)
    return apply(OPS["slice"], t, begin=tuple(start), end=tuple(end), strides=(1,) * len(shape))


def roll(input: Any, shift: Any, axis: Any, name: Optional[str] = None) -> Tensor:  # noqa: A002
    """Elements shifted by `shift` along `axis` (several pairs allowed; shifts of one axis add up), wrapping."""
    t = as_tensor(input)
    shape = raw_shape(t)
    shifts, axes = _ints("roll", shift), _ints("roll", axis)
    if len(shifts) != len(axes):
        raise InvalidArgumentError(f"roll: shift {list(shifts)} and axis {list(axes)} must have the same length")
    total: dict[int, int] = {}
    for s, a in zip(shifts, axes):
        ax = _axis("roll", a, len(shape))
        total[ax] = total.get(ax, 0) + s
    for ax, s in sorted(total.items()):
        n = shape[ax]
        if n is None:
            t = dynamic_layout.roll(t, s, ax)
        elif n and s % n:
            t = gather(t, Tensor((np.arange(n) - s) % n), axis=ax)
    return t


def repeat(input: Any, repeats: Any, axis: Optional[int] = None, name: Optional[str] = None) -> Tensor:  # noqa: A002
    """Each element (or slice along `axis`) repeated `repeats` times, one count for all or one per element; the
    input is flattened when `axis` is None. The counts must be concrete: they decide the result's shape."""
    t = as_tensor(input)
    if axis is None:
        t = reshape(t, [-1])
        axis = 0
    ax = _axis("repeat", axis, len(raw_shape(t)))
    if isinstance(repeats, TensorLike) and getattr(as_tensor(repeats), "_node", None) is not None:
        raise TypeError("repeat: the repeat counts must be concrete while tracing (they decide the result's shape)")
    counts = np.asarray(repeats.numpy() if hasattr(repeats, "numpy") else repeats)
    if counts.dtype.kind not in "iu" or (counts < 0).any():
        raise InvalidArgumentError(f"repeat: repeats must be non-negative integers, got {counts.tolist()}")
    n = raw_shape(t)[ax]
    if n is None:
        return dynamic_layout.repeat(t, counts, ax)
    if counts.ndim and counts.size not in (1, n):
        raise InvalidArgumentError(f"repeat: {counts.size} repeat counts for an axis of size {n}")
    return gather(t, Tensor(np.repeat(np.arange(n, dtype=np.int64), counts.reshape(-1) if counts.ndim else counts)),
                  axis=ax)


def meshgrid(*args: Any, indexing: str = "xy", name: Optional[str] = None) -> list[Tensor]:
    """Coordinate grids of 1-D tensors; "xy" (the default) swaps the first two output axes, as numpy and TF."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    ts = [reshape(v, [-1]) for v in convert_all(list(args))]
    order = list(builtins.range(len(ts)))
    if indexing == "xy" and len(ts) > 1:
        order[0], order[1] = 1, 0
    axes = [ts[k] for k in order]  # the vector whose length each output axis has
    shape = tuple(raw_shape(v)[0] for v in axes)
    sizes = [apply(OPS["dim"], v, axis=0) for v in axes if raw_shape(v)[0] is None]
    out = []
    for i, v in enumerate(ts):
        at = order.index(i)
        column = reshape(v, [-1 if j == at else 1 for j in builtins.range(len(ts))])
        out.append(apply(OPS["broadcast_to"], column, *sizes, shape=shape) if sizes else broadcast(column, shape))
    return out


def tile(input: Any, multiples: Any, name: Optional[str] = None) -> Tensor:  # noqa: A002
    """Repeat along each axis: broadcast a [1, d] view to [m, d], then merge."""
    t = as_tensor(input)
    shp = raw_shape(t)
    if shape_args.is_run_time(multiples):
        mult = shape_args.counts("tile", multiples, "Expected multiples[{k}] >= 0, but got {}")
        if len(mult) != len(shp):
            raise InvalidArgumentError(f"tile: {len(mult)} multiples for a tensor of shape {tuple(shp)}")
        return dynamic_layout.tile(t, mult)
    mult = _ints("tile", multiples)
    for k, m in enumerate(mult):
        if m < 0:
            raise InvalidArgumentError(f"tile: expected multiples[{k}] >= 0, but got {m}")
    if len(mult) != len(shp):
        raise InvalidArgumentError(f"tile: multiples {list(mult)} must have one entry per axis of shape "
                                   f"{tuple(shp)}")
    if None in shp:
        return dynamic_layout.tile(t, mult)
    inter = tuple(v for m, d in zip(mult, shp) for v in (1, d))
    target = tuple(v for m, d in zip(mult, shp) for v in (m, d))
    return reshape(broadcast(reshape(t, inter), target), [m * d for m, d in zip(mult, shp)])


def reverse(tensor: Any, axis: Any, name: Optional[str] = None) -> Tensor:
    t = as_tensor(tensor)
    shp = raw_shape(t)
    given = [_axis("reverse", a, len(shp)) for a in _ints("reverse", axis)]
    axes = set(given)
    if len(axes) != len(given):
        raise InvalidArgumentError(f"reverse: an axis is given more than once in {list(_ints('reverse', axis))}")
    if any(shp[a] is None for a in axes):
        return dynamic_layout.reverse(t, sorted(axes))
    return apply(OPS["slice"], t, begin=tuple(d - 1 if i in axes else 0 for i, d in enumerate(shp)),
                 end=tuple(-1 if i in axes else d for i, d in enumerate(shp)),
                 strides=tuple(-1 if i in axes else 1 for i, _ in enumerate(shp)))
