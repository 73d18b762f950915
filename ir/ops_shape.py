"""Shape rows of the op table: constant, broadcast_to, reshape, transpose, slice, concat, pad, gather, scatter_add,
iota. Attributes are fully normalized (non-negative axes, explicit per-axis begin/end/strides), so every later stage
reads them without re-deriving numpy's rules.

Unknown dims (`?`) follow `ir.ops_dims`: broadcast_to, reshape and iota take a `shape` attr with None entries and
one trailing `i64[]` size operand per None; scatter_add a `size` of None and one trailing size operand; a slice's
`end` may be None on any axis, "through the end of the axis" (positive strides). The other rows derive their
result dims from their operands'.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Sequence

import numpy as np

from ir.opdef import NONDIFF, OpDef, check_arity, check_dtype, fail, merge_dims, register
from ir.ops_dims import SIZE_TYPE, fill_shape, sized_shape, static_shape_attrs
from ir.ops_state import IndexOutOfRangeError, InvalidArgumentError
from ir.types import INDEX_DTYPES, Dim, TensorType, as_dtype, from_numpy

if TYPE_CHECKING:
    from ir.emitter import Emitter


def _one(opname: str, types: Sequence[TensorType]) -> TensorType:
    check_arity(opname, types, 1)
    return types[0]


# ---- constant -------------------------------------------------------------------------------------------------------
def _constant_infer(types: list[TensorType], *, value: np.ndarray) -> tuple[TensorType, ...]:
    check_arity("constant", types, 0)
    return (TensorType(from_numpy(value.dtype), value.shape),)


register(OpDef("constant", _constant_infer, lambda *, value: value, NONDIFF, "constant", attrs=("value",),
               array_attrs=("value",),
               doc="A literal; `value` is a numpy array of the result's dtype and shape."))


# ---- broadcast_to ---------------------------------------------------------------------------------------------------
def broadcast_shape_ok(src: Sequence[Dim], dst: Sequence[Dim]) -> bool:
    """`src` broadcasts to `dst` as far as the known dims tell (an unknown dim is checked at run time)."""
    if len(src) > len(dst):
        return False
    return all(s == d or s == 1 or s is None or d is None for s, d in zip(src[::-1], dst[::-1]))


def _broadcast_infer(types: list[TensorType], *, shape: Sequence[Dim]) -> tuple[TensorType, ...]:
    if not types:
        raise fail("broadcast_to", "expected 1 operand(s), got 0")
    t = types[0]
    dst = sized_shape("broadcast_to", shape, types[1:])
    if not broadcast_shape_ok(t.shape, dst):
        raise fail("broadcast_to", f"cannot broadcast shape {t.shape} to {tuple(shape)}")
    # A run-time size broadcast from a known dim other than 1 must be that dim.
    lead = len(dst) - t.rank
    return (t.with_shape([t.shape[i - lead] if d is None and i >= lead and t.shape[i - lead] not in (None, 1)
                          else d for i, d in enumerate(dst)]),)


def _broadcast_kernel(x: Any, *sizes: Any, shape: Sequence[Dim]) -> np.ndarray:
    target = fill_shape(shape, sizes)
    try:
        return np.broadcast_to(x, target)
    except ValueError:  # TF's BroadcastTo error
        raise InvalidArgumentError(f"Incompatible shapes: [{','.join(map(str, np.shape(x)))}] vs. "
                                   f"[{','.join(map(str, target))}]") from None


register(OpDef("broadcast_to", _broadcast_infer, _broadcast_kernel,
               lambda em, g, out, x, *sizes, shape: (em.sum_to(g, em.shape(x), like=x),) + (None,) * len(sizes),
               "shape", attrs=("shape",), linear=True, static_attrs=static_shape_attrs(1),
               doc="x broadcast to `shape` (numpy's rules); a None entry takes its size from the next trailing "
                   "i64[] operand. An unknown dim of x is taken not to be 1 where it meets a known dim."))


# ---- reshape --------------------------------------------------------------------------------------------------------
def _reshape_infer(types: list[TensorType], *, shape: Sequence[Dim]) -> tuple[TensorType, ...]:
    if not types:
        raise fail("reshape", "expected 1 operand(s), got 0")
    t = types[0]
    new = t.with_shape(sized_shape("reshape", shape, types[1:]))
    if t.is_static and new.is_static and new.size != t.size:
        raise fail("reshape", f"cannot reshape a tensor of shape {t.shape} ({t.size} elements) "
                              f"into shape {tuple(shape)} ({new.size} elements)")
    return (new,)


def _reshape_kernel(x: np.ndarray, *sizes: Any, shape: Sequence[Dim]) -> np.ndarray:
    return np.reshape(x, fill_shape(shape, sizes))


register(OpDef("reshape", _reshape_infer, _reshape_kernel,
               lambda em, g, out, x, *sizes, shape: (em.reshape_to(g, em.shape(x), like=x),) + (None,) * len(sizes),
               "shape", attrs=("shape",), linear=True, static_attrs=static_shape_attrs(1),
               doc="x with the same elements in `shape`; a None entry takes its size from the next trailing "
                   "i64[] operand (the element count is checked at run time when a dim is unknown)."))


# ---- transpose ------------------------------------------------------------------------------------------------------
def _transpose_infer(types: list[TensorType], *, perm: Sequence[int]) -> tuple[TensorType, ...]:
    t = _one("transpose", types)
    if sorted(perm) != list(range(t.rank)):
        raise fail("transpose", f"perm {list(perm)} is not a permutation of the {t.rank} axes of shape {t.shape}")
    return (t.with_shape([t.shape[p] for p in perm]),)


register(OpDef("transpose", _transpose_infer, lambda x, *, perm: np.transpose(x, perm),
               lambda em, g, out, x, *, perm: (em.transpose(g, perm=tuple(int(i) for i in np.argsort(perm))),),
               "shape", attrs=("perm",), linear=True))


# ---- slice ----------------------------------------------------------------------------------------------------------
def slice_len(b: int, e: int, s: int) -> int:
    return len(range(b, e, s))


def _slice_dim(d: Dim, b: int, e: Optional[int], s: int) -> tuple[bool, Dim]:
    """(the bounds are valid, the result length) of one axis; `e` None is the axis's end."""
    if s > 0 and e is None:
        return b >= 0 and (d is None or b <= d), None if d is None else slice_len(b, d, s)
    if e is None or s == 0:
        return False, None
    if d is None:  # normalized bounds of an unknown dim: non-negative, positive stride; empty when provably so
        return s > 0 and b >= 0 and e >= 0, 0 if e <= b else None
    # Normalized as slice.indices gives them: a negative stride starts at most at the last index.
    ok = (0 <= b <= d and 0 <= e <= d) if s > 0 else (-1 <= b <= d - 1 and -1 <= e <= d - 1)
    return ok, slice_len(b, e, s)


def _slice_infer(types: list[TensorType], *, begin: Sequence[int], end: Sequence[Optional[int]],
                 strides: Sequence[int]) -> tuple[TensorType, ...]:
    t = _one("slice", types)
    if not len(begin) == len(end) == len(strides) == t.rank:
        raise fail("slice", f"begin/end/strides must have one entry per axis of shape {t.shape}")
    dims = []
    for d, b, e, s in zip(t.shape, begin, end, strides):
        ok, n = _slice_dim(d, b, e, s)
        if not ok:
            raise fail("slice", f"bad slice begin={list(begin)} end={list(end)} strides={list(strides)} "
                                f"of shape {t.shape}")
        dims.append(n)
    return (t.with_shape(dims),)


def _slice_kernel(x: np.ndarray, *, begin: Sequence[int], end: Sequence[Optional[int]],
                  strides: Sequence[int]) -> np.ndarray:
    return x[tuple(slice(b, e if e is not None and e >= 0 else None, s) for b, e, s in zip(begin, end, strides))]


def _slice_static_attrs(types: Sequence[TensorType], constants: Sequence[Any], attrs: dict) -> tuple[int, dict]:
    """An `end` of None becomes the (now static) size of its axis."""
    if None not in attrs["end"]:
        return 1, attrs
    return 1, dict(attrs, end=tuple(d if e is None else e for d, e in zip(types[0].shape, attrs["end"])))


def _scatter_axis(em: Emitter, g: Any, x: Any, axis: int, b: int, s: int) -> Any:
    """g's slices along `axis` summed into x's size there, at indices b, b+s, b+2s, ...: the slice's transpose
    on one axis where a size is known only at run time (pads would need static amounts)."""
    m = em.shape(g)[axis]
    i64 = as_dtype("int64")
    idx = em.iota(*([em.dim(g, axis=axis)] if m is None else []), shape=(m,), dtype=i64, axis=0)
    if s != 1:
        idx = em.mul(idx, em.bcast(em.constant(s, i64), (m,), like=idx))
    if b:
        idx = em.add(idx, em.bcast(em.constant(b, i64), (m,), like=idx))
    n = em.shape(x)[axis]
    return em.scatter_add(g, idx, *([em.dim(x, axis=axis)] if n is None else []), axis=axis, size=n)


def _slice_vjp(em: Emitter, g: Any, out: Any, x: Any, *, begin: Sequence[int], end: Sequence[int],
               strides: Sequence[int]) -> tuple:
    """Scatter g back into zeros of x's shape, one axis at a time, with only slice, reshape and pad."""
    xshape = em.shape(x)
    if 0 in em.shape(g):
        return (em.zeros_like(x),)
    for axis, (n, b, e, s) in enumerate(zip(xshape, begin, end, strides)):
        if (b, s) == (0, 1) and (e is None or e == n):
            continue  # the whole axis: nothing to scatter back
        if None in xshape or None in em.shape(g):
            g = _scatter_axis(em, g, x, axis, b, s)
            continue
        m = em.shape(g)[axis]
        rank = len(em.shape(g))
        if s < 0:  # reverse this axis; the selected indices then ascend from b + (m-1)s with step |s|
            gs = em.shape(g)
            g = em.slice(g, begin=tuple(d - 1 if i == axis else 0 for i, d in enumerate(gs)),
                         end=tuple(-1 if i == axis else d for i, d in enumerate(gs)),
                         strides=tuple(-1 if i == axis else 1 for i in range(rank)))
            b, s = b + (m - 1) * s, -s
        if s > 1:  # interleave s-1 zeros after each element
            gs = em.shape(g)
            g = em.reshape(g, shape=gs[:axis + 1] + (1,) + gs[axis + 1:])
            g = em.pad(g, paddings=tuple((0, s - 1) if i == axis + 1 else (0, 0) for i in range(rank + 1)),
                       value=0)
            g = em.reshape(g, shape=gs[:axis] + (m * s,) + gs[axis + 1:])
            keep = min(m * s, n - b)
            if keep < m * s:
                gs = em.shape(g)
                g = em.slice(g, begin=(0,) * rank, end=gs[:axis] + (keep,) + gs[axis + 1:], strides=(1,) * rank)
        length = em.shape(g)[axis]
        if (b, n - b - length) != (0, 0):
            g = em.pad(g, paddings=tuple((b, n - b - length) if i == axis else (0, 0) for i in range(rank)), value=0)
    return (g,)


register(OpDef("slice", _slice_infer, _slice_kernel, _slice_vjp, "shape", attrs=("begin", "end", "strides"),
               linear=True, static_attrs=_slice_static_attrs,
               doc="Strided slice with normalized bounds: axis i takes range(begin[i], end[i], strides[i]); "
                   "end -1 with a negative stride means 'through index 0', end None (positive strides) 'through "
                   "the end of the axis'. On an unknown dim the bounds are non-negative, the stride positive, and "
                   "the length unknown (numpy's clamping applies at run time)."))


# ---- concat ---------------------------------------------------------------------------------------------------------
def _concat_infer(types: list[TensorType], *, axis: int) -> tuple[TensorType, ...]:
    if not types:
        raise fail("concat", "needs at least one operand")
    t0 = types[0]
    if not 0 <= axis < t0.rank:
        raise fail("concat", f"axis {axis} is out of range for rank {t0.rank}")
    for t in types[1:]:
        if t.dtype is not t0.dtype:
            raise TypeError(f"concat: operands have different dtypes {t0.dtype.name} and {t.dtype.name}")
        if t.rank != t0.rank:
            raise fail("concat", f"shapes {t0.shape} and {t.shape} differ outside axis {axis}")
    shape = list(t0.shape)
    for i in range(t0.rank):
        if i != axis:
            for t in types[1:]:
                try:
                    shape[i] = merge_dims("concat", shape[i], t.shape[i], "")
                except ValueError:
                    raise fail("concat", f"shapes {t0.shape} and {t.shape} differ outside axis {axis}") from None
    along = [t.shape[axis] for t in types]
    shape[axis] = None if None in along else sum(along)  # type: ignore[arg-type]
    return (t0.with_shape(shape),)


def _concat_vjp_run_time(em: Emitter, g: Any, xs: Sequence[Any], axis: int) -> tuple:
    """concat's vjp where a part's size along the axis is known only at run time: each part's gradient gathers its
    run of g's positions (start + iota(size)), the starts summed at run time."""
    i64 = as_dtype("int64")
    grads, start = [], em.constant(0, i64)
    for x in xs:
        n = em.shape(x)[axis]
        size = em.dim(x, axis=axis) if n is None else em.constant(n, i64)
        idx = em.iota(*([size] if n is None else []), shape=(n,), dtype=i64, axis=0)
        grads.append(em.gather(g, em.add(idx, em.bcast(start, (n,), like=idx)), axis=axis))
        start = em.add(start, size)
    return tuple(grads)


def _concat_vjp(em: Emitter, g: Any, out: Any, *xs: Any, axis: int) -> tuple:
    gshape = em.shape(g)
    if any(em.shape(x)[axis] is None for x in xs):
        return _concat_vjp_run_time(em, g, xs, axis)
    grads, start = [], 0
    for x in xs:
        n = em.shape(x)[axis]
        grads.append(em.slice(g, begin=tuple(start if i == axis else 0 for i in range(len(gshape))),
                              end=tuple(start + n if i == axis else d for i, d in enumerate(gshape)),
                              strides=(1,) * len(gshape)))
        start += n
    return tuple(grads)


register(OpDef("concat", _concat_infer, lambda *xs, axis: np.concatenate(xs, axis=axis), _concat_vjp, "shape",
               attrs=("axis",), variadic=True, linear=True))


# ---- pad ------------------------------------------------------------------------------------------------------------
def _pad_infer(types: list[TensorType], *, paddings: Sequence[Sequence[int]], value: Any) -> tuple[TensorType, ...]:
    t = _one("pad", types)
    if len(paddings) != t.rank or any(len(p) != 2 or p[0] < 0 or p[1] < 0 for p in paddings):
        raise fail("pad", f"paddings {[list(p) for p in paddings]} must be one non-negative [before, after] pair "
                          f"per axis of shape {t.shape}")
    if t.dtype.is_integer and not (isinstance(value, (int, np.integer)) and t.dtype.min <= value <= t.dtype.max):
        raise fail("pad", f"the value {value!r} is not a {t.dtype.name}")
    return (t.with_shape([None if d is None else d + lo + hi for d, (lo, hi) in zip(t.shape, paddings)]),)


def _pad_kernel(x: np.ndarray, *, paddings: Sequence[Sequence[int]], value: Any) -> np.ndarray:
    if x.ndim == 0:  # nothing to pad (numpy's pad refuses scalars)
        return x
    return np.pad(x, [tuple(p) for p in paddings], constant_values=np.asarray(value, dtype=x.dtype))


def _pad_vjp(em: Emitter, g: Any, out: Any, x: Any, *, paddings: Sequence[Sequence[int]], value: Any) -> tuple:
    xshape = em.shape(x)
    if any(d is None and hi for d, (_, hi) in zip(xshape, paddings)):
        raise NotImplementedError("the gradient of padding after an axis of unknown size is not supported yet")
    return (em.slice(g, begin=tuple(lo for lo, _ in paddings),
                     end=tuple(None if d is None else lo + d for (lo, _), d in zip(paddings, xshape)),
                     strides=(1,) * len(xshape)),)


def _pad_jvp(em: Emitter, ts: Sequence[Any], out: Any, x: Any, *, paddings: Sequence[Sequence[int]], value: Any) -> Any:
    return em.pad(ts[0], paddings=paddings, value=0)  # the padding is constant: its tangent is 0


register(OpDef("pad", _pad_infer, _pad_kernel, _pad_vjp, "shape", attrs=("paddings", "value"), jvp=_pad_jvp))


# ---- gather and scatter_add -----------------------------------------------------------------------------------------
def _gather_infer(types: list[TensorType], *, axis: int) -> tuple[TensorType, ...]:
    check_arity("gather", types, 2)
    p, i = types
    check_dtype("gather", i, INDEX_DTYPES, "an int32 or int64 indices")
    if not 0 <= axis < p.rank:
        raise fail("gather", f"axis {axis} is out of range for params of shape {p.shape}")
    return (p.with_shape(p.shape[:axis] + i.shape + p.shape[axis + 1:]),)


def check_indices(opname: str, indices: np.ndarray, size: int) -> None:
    if indices.size and (indices.min() < 0 or indices.max() >= size):
        bad = indices[(indices < 0) | (indices >= size)].flat[0]
        raise IndexOutOfRangeError(f"{opname}: index {bad} is out of bounds for an axis of size {size} "
                                   f"(valid indices are 0..{size - 1})")


def _gather_kernel(params: np.ndarray, indices: np.ndarray, *, axis: int) -> np.ndarray:
    check_indices("gather", np.asarray(indices), params.shape[axis])
    return np.take(params, indices, axis=axis)


register(OpDef("gather", _gather_infer, _gather_kernel,
               lambda em, g, out, p, i, *, axis: (_scatter_back(em, g, i, p, axis), None),
               "shape", attrs=("axis",), linear=True,
               doc="params[..., indices, ...] along `axis`; out-of-range indices raise."))


def _scatter_back(em: Emitter, g: Any, i: Any, p: Any, axis: int) -> Any:
    size = em.shape(p)[axis]
    if size is None:
        return em.scatter_add(g, i, em.dim(p, axis=axis), axis=axis, size=None)
    return em.scatter_add(g, i, axis=axis, size=size)


def _scatter_infer(types: list[TensorType], *, axis: int, size: Optional[int]) -> tuple[TensorType, ...]:
    if len(types) != (3 if size is None else 2):
        raise fail("scatter_add", f"expected {3 if size is None else 2} operand(s), got {len(types)}")
    u, i = types[:2]
    if size is None and types[2] != SIZE_TYPE:
        raise fail("scatter_add", f"the size operand must be {SIZE_TYPE}, got {types[2]}")
    check_dtype("scatter_add", i, INDEX_DTYPES, "an int32 or int64 indices")
    held = u.shape[axis:axis + i.rank]
    if len(held) != i.rank or any(a is not None and b is not None and a != b for a, b in zip(held, i.shape)):
        raise fail("scatter_add", f"updates of shape {u.shape} do not hold indices of shape {i.shape} at axis {axis}")
    return (u.with_shape(u.shape[:axis] + (size,) + u.shape[axis + i.rank:]),)


def _scatter_static_attrs(types: Sequence[TensorType], constants: Sequence[Any], attrs: dict) -> Optional[tuple]:
    if attrs["size"] is not None:
        return 2, attrs
    return None if constants[2] is None else (2, dict(attrs, size=int(constants[2])))


def _scatter_kernel(updates: np.ndarray, indices: np.ndarray, *sizes: Any, axis: int,
                    size: Optional[int]) -> np.ndarray:
    size = int(sizes[0]) if size is None else size
    indices = np.asarray(indices)
    check_indices("scatter_add", indices, size)
    out = np.zeros(updates.shape[:axis] + (size,) + updates.shape[axis + indices.ndim:], dtype=updates.dtype)
    np.add.at(out, (slice(None),) * axis + (indices,), updates)
    return out


register(OpDef("scatter_add", _scatter_infer, _scatter_kernel,
               lambda em, g, out, u, i, *sizes, axis, size: (em.gather(g, i, axis=axis), None) + (None,) * len(sizes),
               "shape", attrs=("axis", "size"), linear=True, static_attrs=_scatter_static_attrs,
               doc="The transpose of gather: sums updates into `size` slots along `axis`; a `size` of None takes "
                   "it from a third, i64[] operand."))


# ---- iota -----------------------------------------------------------------------------------------------------------
def _iota_infer(types: list[TensorType], *, shape: Sequence[Dim], dtype: Any, axis: int) -> tuple[TensorType, ...]:
    shape = sized_shape("iota", shape, types)
    if not 0 <= axis < max(len(shape), 1):
        raise fail("iota", f"axis {axis} is out of range for shape {tuple(shape)}")
    return (TensorType(as_dtype(dtype), shape),)


def _iota_kernel(*sizes: Any, shape: Sequence[Dim], dtype: Any, axis: int) -> np.ndarray:
    shape = fill_shape(shape, sizes)
    if not shape:
        return np.zeros((), dtype=as_dtype(dtype).np)
    # Count in int64 and cast: np.arange refuses bool ranges longer than 2 (0 is False, the rest True).
    r = np.arange(shape[axis]).astype(as_dtype(dtype).np).reshape([-1 if i == axis else 1 for i in range(len(shape))])
    return np.broadcast_to(r, shape)


register(OpDef("iota", _iota_infer, _iota_kernel, NONDIFF, "shape", attrs=("shape", "dtype", "axis"),
               static_attrs=static_shape_attrs(0),
               doc="0, 1, 2, ... along `axis`, broadcast to `shape`; a None entry of `shape` takes its size from "
                   "the next (i64[]) operand."))
