"""Shape and construction public ops: reshape, transpose, concat, stack, gather, pad, one_hot, zeros, range, ...

Composites (expand_dims, squeeze, stack, one_hot, range) are built from rows of the op table, so autodiff and
codegen see only those rows.
"""
from __future__ import annotations

import builtins
from typing import Any, Optional, Sequence

import numpy as np

from engine.dispatch import apply
from engine.convert import convert_to_tensor
from engine.errors import InvalidDTypeError
from engine.ops import dynamic_layout, shape_args
from engine.ops.batched_gather import batched_gather
from engine.ops.dynamic_ops import is_traced, range_of_tensors
from engine.ops.funnel import as_tensor, broadcast, broadcast_shapes, convert_all, full, raw_shape
from engine.ops.math_ops import add, equal, multiply, where
from engine.ops.shape_ops import needs_run_time_reshape, run_time_reshape
from engine.tensor import Tensor, TensorLike, TensorShape
from ir.opdef import OPS
from ir.ops_state import InvalidArgumentError
from ir.ops_shape import broadcast_shape_ok
from ir.types import DType, as_dtype, float32, int32

_O = OPS


def _axis(public: str, axis: Any, rank: int, extra: int = 0) -> int:
    """A Python axis in [-rank-extra, rank+extra) made non-negative; `extra` is 1 for ops that add an axis."""
    axis = int(axis)
    n = rank + extra
    if not -n <= axis < n:
        raise InvalidArgumentError(f"{public}: axis {axis} is out of range for a tensor of rank {rank}")
    return axis % n if n else 0


def _ints(public: str, v: Any, float_error: type = TypeError) -> tuple[int, ...]:
    """Shape-like integers, as TensorFlow takes them: a Python float among them is an error (TypeError where
    TensorFlow converts to int32 first, as zeros does; InvalidArgumentError where its kernel rejects a float tensor,
    as fill and reshape do), and so is a tensor of another dtype than int32/int64; numpy arrays convert."""
    if isinstance(v, TensorLike):
        if not v.dtype.is_integer:
            raise InvalidArgumentError(f"{public}: expected an int32 or int64 tensor, got {v.dtype.name}")
        v = np.asarray(v).tolist()
    elif isinstance(v, (np.ndarray, np.generic)):
        v = np.asarray(v).astype(np.int64).tolist()
    items = v if isinstance(v, (list, tuple)) else [v]
    for d in items:
        if not isinstance(d, (int, np.integer)) or isinstance(d, (bool, np.bool_)):
            raise float_error(f"{public}: cannot convert {v!r} to int32 sizes: {d!r} is not an integer")
    return tuple(int(d) for d in items)


def _sizes(public: str, shape: Any, float_error: type = TypeError) -> tuple[int, ...]:
    """A shape for a new tensor: integers (see `_ints`), none negative."""
    dims = _ints(public, shape, float_error)
    if any(d < 0 for d in dims):
        raise InvalidArgumentError(f"{public}: dimensions must not be negative, got {list(dims)}")
    return dims


def _allocatable(public: str, dims: tuple[int, ...], dtype: Any) -> tuple[int, ...]:
    """`dims`, if a tensor of that shape could exist here: more than 2**63 - 1 elements is an InvalidArgumentError
    (as TensorFlow's), more bytes than this machine's memory a MemoryError at once (the result would otherwise be a
    lazy broadcast that fails, or runs for minutes, in a later op)."""
    from engine.allocation import check_allocation
    check_allocation(public, dims, dtype)
    return dims


def reshape(tensor: Any, shape: Any, name: Optional[str] = None) -> Tensor:
    """`tf.reshape`; one dimension may be -1."""
    t = as_tensor(tensor)
    if needs_run_time_reshape(t, shape):
        return run_time_reshape(t, shape)
    shape = list(_ints("reshape", shape, InvalidArgumentError))
    size = int(np.prod(raw_shape(t), dtype=np.int64))
    for k, d in enumerate(shape):
        if d < -1:
            raise InvalidArgumentError(f"reshape: size {k} must be non-negative (or -1 for one inferred size), "
                                       f"not {d}")
    if shape.count(-1) > 1:
        raise InvalidArgumentError(f"reshape: at most one -1 is allowed in shape {shape}")
    if -1 in shape:
        known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
        if known == 0 or size % known:
            raise InvalidArgumentError(f"reshape: cannot reshape a tensor of shape {tuple(raw_shape(t))} "
                                       f"({size} elements) into shape {tuple(shape)}")
        shape[shape.index(-1)] = size // known
    if int(np.prod(shape, dtype=np.int64)) != size:
        raise InvalidArgumentError(f"reshape: cannot reshape a tensor of shape {tuple(raw_shape(t))} ({size} elements) "
                                   f"into shape {tuple(shape)}")
    if tuple(shape) == raw_shape(t):
        return t
    return apply(_O["reshape"], t, shape=tuple(shape))


def transpose(a: Any, perm: Any = None, conjugate: bool = False, name: Optional[str] = None) -> Tensor:
    t = as_tensor(a)
    rank = len(raw_shape(t))
    if perm is None:
        perm = tuple(builtins.range(rank))[::-1]
    else:
        perm = tuple(_axis("transpose", p, rank) for p in _ints("transpose", perm))
        if sorted(perm) != list(builtins.range(rank)):
            raise InvalidArgumentError(f"transpose: perm {list(perm)} is not a permutation of the {rank} axes of "
                                       f"shape {tuple(raw_shape(t))}")
    if perm == tuple(builtins.range(rank)):
        return t
    return apply(_O["transpose"], t, perm=perm)


def expand_dims(input: Any, axis: Any, name: Optional[str] = None) -> Tensor:  # noqa: A002
    t = as_tensor(input)
    shape = list(raw_shape(t))
    shape.insert(_axis("expand_dims", axis, len(shape), extra=1), 1)
    return reshape(t, shape)


def squeeze(input: Any, axis: Any = None, name: Optional[str] = None) -> Tensor:  # noqa: A002
    t = as_tensor(input)
    shape = raw_shape(t)
    if axis is None:
        axes = {i for i, d in enumerate(shape) if d == 1}
    else:
        axes = {_axis("squeeze", a, len(shape)) for a in _ints("squeeze", axis)}
        for a in axes:
            if shape[a] != 1:
                raise InvalidArgumentError(f"squeeze: cannot squeeze axis {a} of size {shape[a]} "
                                           f"(shape {tuple(shape)})")
    return reshape(t, [d for i, d in enumerate(shape) if i not in axes])


def _same_dtype(public: str, ts: Sequence[Tensor]) -> None:
    dtypes = {t.dtype for t in ts}
    if len(dtypes) > 1:
        raise InvalidDTypeError(f"{public}: cannot mix dtypes {', '.join(sorted(d.name for d in dtypes))}")


def concat(values: Sequence[Any], axis: int, name: Optional[str] = None) -> Tensor:
    ts = convert_all(list(values))
    if not ts:
        raise InvalidArgumentError("concat needs at least one tensor")
    _same_dtype("concat", ts)
    rank = len(raw_shape(ts[0]))
    if rank == 0:
        raise InvalidArgumentError("concat: cannot concatenate scalars; use engine.stack")
    ax = _axis("concat", axis, rank)
    for t in ts[1:]:
        s0, s = raw_shape(ts[0]), raw_shape(t)
        if len(s) != rank or any(a != b for i, (a, b) in enumerate(zip(s0, s)) if i != ax):
            raise InvalidArgumentError(f"concat: shapes {tuple(s0)} and {tuple(s)} must agree except on axis {ax}")
    if len(ts) == 1:
        return ts[0]
    return apply(_O["concat"], *ts, axis=ax)


def stack(values: Sequence[Any], axis: int = 0, name: Optional[str] = None) -> Tensor:
    values = list(values)
    dtype = None
    if not any(isinstance(v, TensorLike) for v in values):
        try:  # Python values alone: the dtype they have together, as tf.stack([1, 2.5]) is float32
            dtype = convert_to_tensor(values).dtype
        except (TypeError, ValueError):
            pass
    ts = convert_all(values, dtype)
    if not ts:
        raise InvalidArgumentError("stack needs at least one tensor")
    _same_dtype("stack", ts)
    shapes = {tuple(raw_shape(t)) for t in ts}
    if len(shapes) > 1:
        raise InvalidArgumentError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    ax = _axis("stack", axis, len(raw_shape(ts[0])), extra=1)
    expanded = [expand_dims(t, ax) for t in ts]
    return expanded[0] if len(expanded) == 1 else concat(expanded, ax)


def unstack(value: Any, num: Optional[int] = None, axis: int = 0, name: Optional[str] = None) -> list[Tensor]:
    t = as_tensor(value)
    shape = raw_shape(t)
    ax = _axis("unstack", axis, len(shape))
    if shape[ax] is None:
        return dynamic_layout.unstack(t, num, ax)
    out = []
    for i in builtins.range(shape[ax]):
        begin = tuple(i if j == ax else 0 for j in builtins.range(len(shape)))
        end = tuple(i + 1 if j == ax else d for j, d in enumerate(shape))
        piece = apply(_O["slice"], t, begin=begin, end=end, strides=(1,) * len(shape))
        out.append(reshape(piece, shape[:ax] + shape[ax + 1:]))
    return out


def split(value: Any, num_or_size_splits: Any, axis: int = 0, num: Any = None, name: Any = None) -> list[Tensor]:
    t = as_tensor(value)
    shape = raw_shape(t)
    ax = _axis("split", axis, len(shape))
    if shape[ax] is None and isinstance(num_or_size_splits, (int, np.integer)) and num_or_size_splits > 0:
        return dynamic_layout.split_equal(t, int(num_or_size_splits), ax)
    if shape[ax] is None:
        return dynamic_layout.split_sizes(t, list(_ints("split", num_or_size_splits)), ax)
    if isinstance(num_or_size_splits, (int, np.integer)):
        n = int(num_or_size_splits)
        if n <= 0 or shape[ax] % n:
            raise InvalidArgumentError(f"split: axis {ax} of size {shape[ax]} does not split into {n} equal parts")
        sizes = [shape[ax] // n] * n
    else:
        sizes = list(_ints("split", num_or_size_splits))
        if sizes.count(-1) == 1:
            sizes[sizes.index(-1)] = shape[ax] - (sum(sizes) + 1)
        if sum(sizes) != shape[ax] or min(sizes) < 0:
            raise InvalidArgumentError(f"split: sizes {sizes} do not add up to axis {ax} of size {shape[ax]}")
    out, start = [], 0
    for s in sizes:
        begin = tuple(start if j == ax else 0 for j in builtins.range(len(shape)))
        end = tuple(start + s if j == ax else d for j, d in enumerate(shape))
        out.append(apply(_O["slice"], t, begin=begin, end=end, strides=(1,) * len(shape)))
        start += s
    return out


def broadcast_to(input: Any, shape: Any, name: Optional[str] = None) -> Tensor:  # noqa: A002
    t = as_tensor(input)
    if shape_args.is_run_time(shape):
        return shape_args.broadcast_to(t, shape)
    shape = _ints("broadcast_to", shape)
    if not broadcast_shape_ok(raw_shape(t), shape):
        raise InvalidArgumentError(f"broadcast_to: cannot broadcast shape {tuple(raw_shape(t))} to {shape}")
    return broadcast(t, shape)


def broadcast_static_shape(a: Any, b: Any) -> TensorShape:
    return TensorShape(broadcast_shapes("broadcast_static_shape", tuple(a), tuple(b)))


def gather(params: Any, indices: Any, validate_indices: Any = None, axis: Any = None, batch_dims: int = 0,
           name: Optional[str] = None) -> Tensor:
    """`tf.gather`: params[..., indices, ...] along `axis`; an out-of-range index raises IndexOutOfRangeError (an
    InvalidArgumentError, as TensorFlow's, and an IndexError)."""
    p = as_tensor(params)
    i = as_tensor(indices)
    if not i.dtype.is_integer:
        raise InvalidDTypeError(f"gather: indices must be int32 or int64, got {i.dtype.name}")
    rank = len(raw_shape(p))
    b = int(batch_dims) + (len(raw_shape(i)) if batch_dims < 0 else 0)
    ax = _axis("gather", b if axis is None else axis, rank)
    if b == 0:
        return apply(_O["gather"], p, i, axis=ax)
    return batched_gather(p, i, ax, b)


def fill(dims: Any, value: Any, name: Optional[str] = None) -> Tensor:
    v = as_tensor(value)
    if raw_shape(v) != ():
        raise InvalidArgumentError(f"fill: value must be a scalar, got shape {tuple(raw_shape(v))}")
    if shape_args.is_run_time(dims):
        return shape_args.full("fill", dims, v)
    return broadcast(v, _allocatable("fill", _sizes("fill", dims, InvalidArgumentError), v.dtype))


def zeros(shape: Any, dtype: Any = float32, name: Optional[str] = None) -> Tensor:
    if shape_args.is_run_time(shape):
        return shape_args.full("zeros", shape, 0, as_dtype(dtype))
    return full(0, as_dtype(dtype), _allocatable("zeros", _sizes("zeros", shape), as_dtype(dtype)))


def ones(shape: Any, dtype: Any = float32, name: Optional[str] = None) -> Tensor:
    if shape_args.is_run_time(shape):
        return shape_args.full("ones", shape, 1, as_dtype(dtype))
    return full(1, as_dtype(dtype), _allocatable("ones", _sizes("ones", shape), as_dtype(dtype)))


def zeros_like(input: Any, dtype: Any = None, name: Optional[str] = None) -> Tensor:  # noqa: A002
    t = as_tensor(input)
    return full(0, as_dtype(dtype) if dtype is not None else t.dtype, raw_shape(t), t)


def ones_like(input: Any, dtype: Any = None, name: Optional[str] = None) -> Tensor:  # noqa: A002
    t = as_tensor(input)
    return full(1, as_dtype(dtype) if dtype is not None else t.dtype, raw_shape(t), t)


def identity(input: Any, name: Optional[str] = None) -> Tensor:  # noqa: A002
    return as_tensor(input)


def range(start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None,  # noqa: A001
          name: Optional[str] = None) -> Tensor:
    """`tf.range`: start, start+delta, ... below limit; int32 for ints, float32 for floats."""
    if limit is None:
        start, limit = 0, start
    if any(is_traced(v) for v in (start, limit, delta)):
        tensors = [as_tensor(v) for v in (start, limit, delta) if isinstance(v, TensorLike)]
        return range_of_tensors(start, limit, delta, as_dtype(dtype) if dtype is not None else tensors[0].dtype)
    vals = [np.asarray(v.numpy() if hasattr(v, "numpy") else v) for v in (start, limit, delta)]
    if dtype is None:
        kinds = {v.dtype.kind for v in vals}
        tensors = [v for v in (start, limit, delta) if hasattr(v, "dtype") and hasattr(v, "numpy")]
        dt: DType = tensors[0].dtype if tensors else (float32 if "f" in kinds else int32)
    else:
        dt = as_dtype(dtype)
    s, l, d = (float(v) if dt.is_floating else int(v) for v in vals)
    if d == 0:
        raise InvalidArgumentError("range: delta must not be zero")
    if (d > 0 and s > l) or (d < 0 and s < l):
        raise InvalidArgumentError(f"range: start {s} must be {'<=' if d > 0 else '>='} limit {l} when delta is {d}")
    n = max(0, int(np.ceil((l - s) / d)))
    i = apply(_O["iota"], shape=(n,), dtype=dt, axis=0)
    if (s, d) == (0, 1):
        return i
    return add(multiply(i, full(d, dt, ())), full(s, dt, ()))


def one_hot(indices: Any, depth: int, on_value: Any = None, off_value: Any = None, axis: int = -1,
            dtype: Any = None, name: Optional[str] = None) -> Tensor:
    """`tf.one_hot`: out-of-range indices (negative or >= depth) give a row of off_value."""
    i = as_tensor(indices)
    if not i.dtype.is_integer:
        raise InvalidDTypeError(f"one_hot: indices must be integers, got {i.dtype.name}")
    dt, on, off = _on_off(on_value, off_value, dtype)
    shape = list(raw_shape(i))
    if int(depth) < 0:
        raise InvalidArgumentError(f"one_hot: depth must be non-negative, got: {int(depth)}")
    ax = len(shape) if axis == -1 else _axis("one_hot", axis, len(shape), extra=1)
    out_shape = shape[:ax] + [int(depth)] + shape[ax:]
    sizes = [apply(_O["dim"], i, axis=k if k < ax else k - 1) for k, d in enumerate(out_shape) if d is None]
    positions = apply(_O["iota"], *sizes, shape=tuple(out_shape), dtype=i.dtype, axis=ax)
    hot = equal(broadcast(expand_dims(i, ax), tuple(out_shape), positions), positions)
    return where(hot, on, off)


def _on_off(on_value: Any, off_value: Any, dtype: Any) -> tuple[DType, Tensor, Tensor]:
    """one_hot's dtype and its two values, with TensorFlow's rules: the dtype is `dtype`, else on_value's, else
    off_value's, else float32; on and off must have it (a TypeError otherwise); they default to 1 and 0."""
    given = {k: None if v is None else v if isinstance(v, TensorLike) else convert_to_tensor(v, dtype=dtype)
             for k, v in (("on_value", on_value), ("off_value", off_value))}
    known = [(k, as_tensor(v).dtype) for k, v in given.items() if v is not None]
    dt = as_dtype(dtype) if dtype is not None else (known[0][1] if known else float32)
    for k, d in known:
        if d is not dt:
            raise TypeError(f"one_hot: the dtype {d.name} of {k} does not match the dtype {dt.name}"
                            + (" of on_value" if dtype is None else ""))
    on = as_tensor(given["on_value"]) if given["on_value"] is not None else convert_to_tensor(1, dtype=dt)
    off = as_tensor(given["off_value"]) if given["off_value"] is not None else convert_to_tensor(0, dtype=dt)
    for k, v in (("on_value", on), ("off_value", off)):
        if raw_shape(v) != ():
            raise ValueError(f"one_hot: {k} must be a scalar, got shape {tuple(raw_shape(v))}")
    return dt, on, off
