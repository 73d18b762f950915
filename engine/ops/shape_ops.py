"""Shapes as values: `tf.shape`, `tf.size`, `tf.rank`, and reshape where a size is known only at run time.

While tracing with an unknown dimension (a `None` in an input signature), `x.shape` says None there, as in
TensorFlow, and `tf.shape(x)` is computed at run time: one `dim` op per unknown dim, stacked with the static ones
and cast to int32 (TensorFlow's default out_type). `reshape` takes a -1 with an unknown input size, or a symbolic
scalar size (`tf.reshape(x, [tf.shape(x)[0], -1])`), as a run-time size operand (ir.ops_dims).
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from engine.dispatch import apply
from engine.ops.funnel import as_tensor, cast, full, raw_shape
from engine.tensor import Tensor, TensorLike
from ir.opdef import OPS
from ir.ops_state import InvalidArgumentError
from ir.types import as_dtype, int32, int64

_DIM, _RESHAPE, _CONCAT, _MUL, _FLOORDIV = OPS["dim"], OPS["reshape"], OPS["concat"], OPS["mul"], OPS["floordiv"]


def is_symbolic(t: Any) -> bool:
    return isinstance(t, Tensor) and t._node is not None


def dim_size(t: Tensor, axis: int) -> Tensor:
    """The size of t's dimension `axis` as an int64 scalar: a constant where static, else a `dim` op."""
    d = raw_shape(t)[axis]
    return full(d, int64, ()) if d is not None else apply(_DIM, t, axis=axis)


def element_count(t: Tensor, axes: Sequence[int]) -> Any:
    """How many elements the axes hold: an int where their dims are static, else an int64 scalar tensor."""
    shape = raw_shape(t)
    known = int(np.prod([shape[a] for a in axes if shape[a] is not None], dtype=np.int64))
    unknown = [a for a in axes if shape[a] is None]
    if not unknown:
        return known
    n = apply(_DIM, t, axis=unknown[0])
    for a in unknown[1:]:
        n = apply(_MUL, n, apply(_DIM, t, axis=a))
    return apply(_MUL, n, full(known, int64, ())) if known != 1 else n


def shape(input: Any, out_type: Any = int32, name: Optional[str] = None) -> Tensor:  # noqa: A002
    """The shape of a tensor as a 1-D tensor (int32 unless `out_type` says int64); a run-time value for dims that
    are unknown while tracing."""
    t = as_tensor(input)
    dims = raw_shape(t)
    dtype = as_dtype(out_type)
    if not dims:
        return Tensor(np.zeros((0,), dtype=dtype.np))
    if None not in dims:
        return full(np.asarray(dims), dtype, (len(dims),))
    parts = [apply(_RESHAPE, dim_size(t, a), shape=(1,)) for a in range(len(dims))]
    return cast(apply(_CONCAT, *parts, axis=0), dtype)


def rank(input: Any, name: Optional[str] = None) -> Tensor:  # noqa: A002
    return full(len(raw_shape(as_tensor(input))), int32, ())


def size(input: Any, out_type: Any = int32, name: Optional[str] = None) -> Tensor:  # noqa: A002
    t = as_tensor(input)
    n = element_count(t, range(len(raw_shape(t))))
    return full(n, as_dtype(out_type), ()) if isinstance(n, int) else cast(n, as_dtype(out_type))


def needs_run_time_reshape(t: Tensor, shape: Any) -> bool:
    """reshape(t, shape) needs run-time sizes: t has unknown dims, or `shape` holds a symbolic size."""
    if None in raw_shape(t):
        return True
    return isinstance(shape, (list, tuple)) and any(is_symbolic(d) for d in shape)


def run_time_reshape(t: Tensor, shape: Any) -> Tensor:
    """reshape with sizes known only at run time: symbolic scalar entries become size operands, a None entry (a
    dim read from a traced `.shape`, as expand_dims and squeeze pass them) is the input's next unknown dim in order,
    and a -1 is the input's element count divided by the other sizes (static when all it needs is static)."""
    if isinstance(shape, TensorLike) or not isinstance(shape, (list, tuple)):
        raise InvalidArgumentError(f"reshape: a tensor of unknown shape {tuple(raw_shape(t))} needs its new shape "
                                   f"as a list (of ints, -1, or scalar tensors), got {shape!r}")
    entries: list[Any] = []
    unknown = iter([a for a, d in enumerate(raw_shape(t)) if d is None])
    for k, d in enumerate(shape):
        if d is None:  # a dim read from a traced shape (expand_dims, squeeze): the input's next unknown dim
            a = next(unknown, None)
            if a is None:
                raise InvalidArgumentError(f"reshape: shape {list(shape)} has more unknown (None) dims than the "
                                           f"input's shape {tuple(raw_shape(t))}")
            entries.append(apply(_DIM, t, axis=a))
        elif is_symbolic(d):
            if raw_shape(d) != () or not d.dtype.is_integer:
                raise InvalidArgumentError(f"reshape: size {k} must be an integer scalar, got {d!r}")
            entries.append(cast(d, int64))
        else:
            d = int(np.asarray(d))
            if d < -1:
                raise InvalidArgumentError(f"reshape: size {k} must be non-negative (or -1), not {d}")
            entries.append(d)
    if sum(1 for d in entries if isinstance(d, int) and d == -1) > 1:
        raise InvalidArgumentError(f"reshape: at most one -1 is allowed in shape {list(shape)}")
    if -1 in [d for d in entries if isinstance(d, int)]:
        at = next(k for k, d in enumerate(entries) if isinstance(d, int) and d == -1)  # `==` on a Tensor traces
        entries[at] = _inferred_size(t, entries)
    attr = tuple(d if isinstance(d, int) else None for d in entries)
    sizes = [d for d in entries if not isinstance(d, int)]
    return apply(_RESHAPE, t, *sizes, shape=attr)


def _inferred_size(t: Tensor, entries: list[Any]) -> Any:
    total = element_count(t, range(len(raw_shape(t))))
    known = int(np.prod([d for d in entries if isinstance(d, int) and d != -1], dtype=np.int64))
    others = [d for d in entries if not isinstance(d, int)]
    if isinstance(total, int) and not others:
        if known == 0 or total % known:
            raise InvalidArgumentError(f"reshape: cannot reshape a tensor of shape {tuple(raw_shape(t))} "
                                       f"({total} elements) into shape {entries}")
        return total // known
    total_t = full(total, int64, ()) if isinstance(total, int) else total
    div = full(max(known, 1), int64, ())
    for d in others:
        div = apply(_MUL, div, d)
    return apply(_FLOORDIV, total_t, div)
