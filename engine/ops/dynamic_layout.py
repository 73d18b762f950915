"""tf.reverse, tf.split, tf.unstack, tf.tile and tf.roll on an axis of unknown size (`?`).

The static versions (engine.ops.array_ops, engine.ops.layout_ops) compute positions from the axis's size; here the
size is a run-time `dim`, so each op is written with rows that take run-time sizes:
- reverse: a run-time slice with step -1 (engine.ops.dynamic_ops: a gather of n-1, ..., 0);
- split into `num` equal parts: a reshape of the axis into (num, n / num) and one static slice per part, after an
  `assert` that num divides n (TF 2.21's InvalidArgumentError text); split by sizes: static slices up to the one
  size given as -1, run-time slices counted from the end after it, and an `assert` that the sizes fit;
- unstack needs `num` (as in TF, whose ValueError says it cannot infer it) and asserts the size;
- tile: a reshape to (1, n), a broadcast to (m, n) and a reshape to m * n, the sizes as operands;
- roll: a gather of (i - shift) mod n (n = 0 rolls nothing);
- tf.slice: the static bounds, with `assert`s that they fit (TF's "Expected size[0] in [0, 2], but got 4");
- repeat: a gather of i // r (one count), or of static positions after asserting the axis has one per count;
- REFLECT/SYMMETRIC pad: gathers of the mirrored positions (counted from the end after the tensor), concatenated.
Gradients come from the rows (gather's scatter, slice's, reshape's and broadcast's).
"""
from __future__ import annotations

import builtins
from typing import Any, Optional, Sequence

import numpy as np

from engine.dispatch import apply
from engine.ops.dynamic_ops import dynamic_slice
from engine.ops.funnel import as_tensor, cast, raw_shape
from engine.ops.math_ops import (equal, floordiv, floormod, greater_equal, less, less_equal, maximum, multiply,
                                 subtract)
from engine.ops.shape_ops import run_time_reshape
from engine.tensor import Tensor
from ir.opdef import OPS
from ir.types import int64

Size = Any  # an int, or an int64 scalar Tensor


def _dim(t: Tensor, axis: int) -> Size:
    d = raw_shape(t)[axis]
    return d if d is not None else apply(OPS["dim"], t, axis=axis)


def _check(ok: Tensor, message: str, *data: Tensor) -> None:
    apply(OPS["assert"], ok, *data, summarize=len(data), message=message)


def _static_slice(t: Tensor, axis: int, begin: int, end: Optional[int]) -> Tensor:
    shape = raw_shape(t)
    return apply(OPS["slice"], t, begin=tuple(begin if k == axis else 0 for k in builtins.range(len(shape))),
                 end=tuple(end if k == axis else d for k, d in enumerate(shape)), strides=(1,) * len(shape))


def reverse(t: Tensor, axes: Sequence[int]) -> Tensor:
    """t with each of `axes` reversed; those of unknown size by a run-time slice."""
    for axis in axes:
        t = dynamic_slice(t, axis, builtins.slice(None, None, -1))
    return t


def split_equal(t: Tensor, num: int, axis: int) -> list[Tensor]:
    n = _dim(t, axis)
    _check(equal(floormod(n, num), 0), f"Number of ways to split should evenly divide the split dimension, but got "
                                       f"split_dim {axis} (size = {{}}) and num_split {num}", n)
    shape = raw_shape(t)
    parts = run_time_reshape(t, [_dim(t, k) for k in builtins.range(axis)] + [num, -1]
                             + [_dim(t, k) for k in builtins.range(axis + 1, len(shape))])
    out = []
    for k in builtins.range(num):
        piece = _static_slice(parts, axis, k, k + 1)
        out.append(run_time_reshape(piece, [_dim(piece, j) for j in builtins.range(len(shape) + 1) if j != axis]))
    return out


def split_sizes(t: Tensor, sizes: Sequence[int], axis: int) -> list[Tensor]:
    """Pieces of the given sizes along an axis of unknown size; one size may be -1 (the rest)."""
    n = _dim(t, axis)
    known = sum(s for s in sizes if s != -1)
    fits = equal(n, known) if -1 not in sizes else greater_equal(n, known)
    _check(fits, "Determined shape must either match input shape along split_dim exactly if fully specified, or be "
                 "less than the size of the input along split_dim if not fully specified.  Got: {}",
           cast(as_tensor(known), int64))
    out, start, rest = [], 0, None
    for s in sizes:
        if rest is None and s != -1:
            out.append(_static_slice(t, axis, start, start + s))
            start += s
        elif rest is None:  # the -1 piece: from `start` to the sizes after it, counted from the end
            rest = known - start
            out.append(dynamic_slice(t, axis, builtins.slice(start, -rest if rest else None)))
        else:
            out.append(dynamic_slice(t, axis, builtins.slice(-rest, -(rest - s) if rest - s else None)))
            rest -= s
    return out


def unstack(t: Tensor, num: Optional[int], axis: int) -> list[Tensor]:
    if num is None:
        raise ValueError(f"Cannot infer argument `num` from shape {tuple(raw_shape(t))}")
    n = _dim(t, axis)
    _check(equal(n, num), f"Input shape axis {axis} must equal {num}, got size {{}}", n)
    shape = raw_shape(t)
    out = []
    for k in builtins.range(num):
        piece = _static_slice(t, axis, k, k + 1)
        out.append(run_time_reshape(piece, [_dim(piece, j) for j in builtins.range(len(shape)) if j != axis]))
    return out


def tile(t: Tensor, multiples: Sequence[Any]) -> Tensor:
    """t tiled where a dim or a multiple (an int64 scalar tensor) is known only at run time."""
    shape = raw_shape(t)
    dims = [_dim(t, k) for k in builtins.range(len(shape))]
    inter = run_time_reshape(t, [v for d in dims for v in (1, d)])
    sizes = [s for m, d in zip(multiples, dims) for s in (m, d) if not isinstance(s, int)]
    target = tuple(s if isinstance(s, int) else None for m, d in zip(multiples, dims) for s in (m, d))
    wide = apply(OPS["broadcast_to"], inter, *sizes, shape=target)
    return run_time_reshape(wide, [m * d if isinstance(m, int) and isinstance(d, int) else multiply(d, m)
                                   for m, d in zip(multiples, dims)])


def roll(t: Tensor, shift: int, axis: int) -> Tensor:
    n = _dim(t, axis)
    i = apply(OPS["iota"], n, shape=(None,), dtype=int64, axis=0)
    return apply(OPS["gather"], t, floormod(subtract(i, shift), maximum(n, 1)), axis=axis)


def check_slice(t: Tensor, axis: int, begin: int, size: int) -> None:
    """`assert`s that tf.slice's begin (and size, unless -1) fit an axis of run-time size."""
    n = _dim(t, axis)
    _check(less_equal(cast(as_tensor(begin), int64), n), f"Expected begin[{axis}] in [0, {{}}], but got {begin}", n)
    if size != -1:
        rest = subtract(n, begin)
        _check(less_equal(cast(as_tensor(size), int64), rest), f"Expected size[{axis}] in [0, {{}}], but got {size}",
               rest)


def repeat(t: Tensor, counts: np.ndarray, axis: int) -> Tensor:
    """Each slice along `axis` repeated: one count for all (a gather of i // r), or one count per slice."""
    n = _dim(t, axis)
    if counts.ndim == 0 or counts.size == 1:
        r = int(counts.reshape(-1)[0])
        i = apply(OPS["iota"], multiply(n, r), shape=(None,), dtype=int64, axis=0)
        return apply(OPS["gather"], t, floordiv(i, max(r, 1)), axis=axis)
    _check(equal(n, counts.size), f"repeat: {counts.size} repeat counts for an axis of size {{}}", n)
    positions = np.repeat(np.arange(counts.size, dtype=np.int64), counts.reshape(-1))
    return apply(OPS["gather"], t, apply(OPS["constant"], value=positions), axis=axis)


def mirror_pad(t: Tensor, axis: int, before: int, after: int, symmetric: bool) -> Tensor:
    """REFLECT (or SYMMETRIC) padding of an axis of run-time size."""
    n = _dim(t, axis)
    skip = 0 if symmetric else 1
    worst = cast(as_tensor(max(before, after) + skip - 1), int64)
    _check(less(worst, n), f"paddings must be less than the dimension size: {before}, {after} not less than {{}}"
           if not symmetric else f"paddings must be no greater than the dimension size: {before}, {after} greater "
                                 f"than {{}}", n)
    pieces = []
    if before:
        head = np.arange(before - 1 + skip, skip - 1, -1, dtype=np.int64)
        pieces.append(apply(OPS["gather"], t, apply(OPS["constant"], value=head), axis=axis))
    pieces.append(t)
    if after:
        back = apply(OPS["constant"], value=np.arange(1 + skip, 1 + skip + after, dtype=np.int64))
        pieces.append(apply(OPS["gather"], t, subtract(n, back), axis=axis))
    return pieces[0] if len(pieces) == 1 else apply(OPS["concat"], *pieces, axis=axis)
