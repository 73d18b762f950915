"""Tensor indexing, `x[key]`, with TensorFlow's basic indexing and numpy's advanced indexing, built only from
op-table rows.

Owns `getitem` (called by `TensorLike.__getitem__`). A key is parsed into items (int, slice, None, Ellipsis, boolean
mask, integer array) and lowered to a few rows: one `slice` for every basic item (ints select a length-1
range), one `reshape` that drops int-indexed axes and inserts the None axes, then, for advanced indices, a
`transpose` that brings separated advanced axes to the front, a `reshape` that merges them and one `gather` on the
merged axis with a linear index computed by `multiply`/`add`. Because every step is a row with a vjp rule, gradients
flow through indexing, and the same code emits IR while a function is being traced.

TensorFlow's rules, where it has them (TensorFlow 2.21's `_slice_helper`):
- a Python list as the whole key is a multi-index, like a tuple: `x[[0, 1]]` is `x[0, 1]`;
- a scalar boolean mask (`x[True]`, `x[tf.constant(False)]`) is a ValueError ("mask cannot be scalar.");
- an int out of range, or more indices than axes, is an IndexOutOfRangeError (TensorFlow's InvalidArgumentError
  eagerly and ValueError while tracing, Python's IndexError too).

numpy's rules, which Kiln follows where TensorFlow refuses the key (integer arrays and nested lists as indices):
- negative ints and array entries count from the end; out of range is an IndexOutOfRangeError naming index, axis
  and size;
- once any array or mask appears in the key, plain ints are advanced indices too, and the advanced indices
  broadcast together; if they are adjacent in the key the broadcast axes replace them in place, otherwise (a slice,
  None or Ellipsis, even a zero-width one, between them) they go to the front;
- a k-d boolean mask stands for the k integer arrays of its true coordinates; None may be combined freely with
  advanced indices.

Limits: a traced boolean mask is supported as the whole key (`x[x > 0]`, `tf.boolean_mask`), a TypeError inside a
larger key. A slice with a traced bound, or a negative bound or step on an axis of unknown size, is a run-time slice
(`engine.ops.dynamic_ops`). Integer tensors are fine while tracing: their values are never read, negative entries
are wrapped with `where(i < 0, i + n, i)`, and `gather` checks the bounds when the function runs.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from engine import dispatch
from engine.convert import convert_to_tensor
from engine.dispatch import apply
from engine.errors import IndexOutOfRangeError
from engine.ops.array_ops import gather
from engine.ops.dynamic_ops import check_index_at_run_time, is_traced, split_traced_slices
from engine.ops.mask_ops import boolean_mask
from engine.ops.funnel import as_tensor, cast, raw_shape
from engine.ops.math_ops import add, less, maximum, multiply, where
from engine.tensor import Tensor, TensorLike
from ir.opdef import OPS
from ir.types import bool_, int64

VALID_INDICES = "only integers, slices, Ellipsis, None, and integer or boolean tensors are valid indices"

Index = Any  # a concrete np.ndarray of integers, or an integer Tensor


@dataclass
class _Item:
    """One element of the key: kind is int, slice, new, ellipsis, mask (of rank >= 1) or array."""

    kind: str
    value: Any = None
    axis: int = -1  # the axis of x it indexes (int, slice, array), or -1
    check: bool = False  # a Python int on an axis of unknown size: checked against the size when the function runs


# ---- parsing --------------------------------------------------------------------------------------------------------
def _symbolic(t: Tensor) -> bool:
    """True when the tensor's value must not be read: it is traced, or a function is being traced."""
    return t._node is not None or dispatch.tracing()


def _describe(k: Any) -> str:
    if isinstance(k, Tensor):
        return f"a {k.dtype.name} tensor of shape {tuple(k.shape)}"
    if isinstance(k, np.ndarray):
        return f"a numpy {k.dtype} array of shape {k.shape}"
    return repr(k)


def _bad_key(k: Any) -> TypeError:
    return TypeError(f"{VALID_INDICES}; got {_describe(k)}")


def _scalar_mask() -> ValueError:
    return ValueError("mask cannot be scalar.")


def _parse_tensor(t: Tensor) -> _Item:
    """Masks and scalar ints are read here when their value is concrete; symbolic ones stay tensors."""
    if t.dtype.is_bool:
        if t.ndim == 0:
            raise _scalar_mask()
        if _symbolic(t):
            raise TypeError(f"boolean mask {t.name} of shape {tuple(t.shape)} cannot be used while a function is "
                            f"being traced: the result's shape depends on its values; use engine.where or "
                            f"multiply by the mask instead")
        return _Item("mask", np.asarray(t._value))
    if not t.dtype.is_integer:
        raise _bad_key(t)
    if t.ndim == 0:
        return _Item("int", t if _symbolic(t) else int(np.asarray(t._value)))
    return _Item("array", t)


def _parse_one(k: Any) -> _Item:
    if k is None:
        return _Item("new")
    if k is Ellipsis:
        return _Item("ellipsis")
    if isinstance(k, slice):
        return _Item("slice", k)
    if isinstance(k, bool):  # before int: a bool is a 0-d mask, not 0 or 1
        raise _scalar_mask()
    if isinstance(k, np.bool_):
        raise _bad_key(k)
    if isinstance(k, (int, np.integer)):
        return _Item("int", int(k))
    if isinstance(k, TensorLike):
        return _parse_tensor(as_tensor(k))
    if isinstance(k, np.ndarray):
        if k.dtype.kind == "b":
            if k.ndim == 0:
                raise _scalar_mask()
            return _Item("mask", k)
        if k.dtype.kind in "iu":
            return _Item("int", int(k)) if k.ndim == 0 else _Item("array", k.astype(np.int64))
        raise _bad_key(k)
    if isinstance(k, (list, tuple)):
        try:
            if _holds_tensor(k):
                return _parse_tensor(convert_to_tensor(k))
            arr = np.asarray(k)
        except (TypeError, ValueError):
            raise _bad_key(k) from None
        if arr.size == 0 and arr.dtype.kind == "f":  # `x[[]]` selects nothing, as in numpy
            arr = arr.astype(np.int64)
        if arr.dtype.kind == "b":
            return _Item("mask", arr)
        if arr.dtype.kind in "iu":
            return _Item("array", arr.astype(np.int64))
        raise _bad_key(k)
    raise _bad_key(k)


def _holds_tensor(v: Any) -> bool:
    return isinstance(v, TensorLike) or (isinstance(v, (list, tuple)) and any(_holds_tensor(e) for e in v))


def _is_advanced(item: _Item, any_arrays: bool) -> bool:
    """Whether numpy treats the item as an advanced index (symbolic ints are gathered, so they count too)."""
    if item.kind in ("array", "mask"):
        return True
    return item.kind == "int" and (any_arrays or isinstance(item.value, Tensor))


# ---- normalizing each item against the shape ------------------------------------------------------------------------
def _slice_bound(v: Any) -> Optional[int]:
    if v is None:
        return None
    if isinstance(v, TensorLike):
        t = as_tensor(v)
        if not t.dtype.is_integer or t.ndim != 0:
            raise TypeError(f"slice indices must be integers, None, or scalar integer tensors; got {_describe(t)}")
        if _symbolic(t):
            raise TypeError(f"slice bound {t.name} is a traced tensor: the result's shape would depend on its value; "
                            f"use Python ints for slice bounds inside a traced function")
        return int(np.asarray(t._value))
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"slice indices must be integers, None, or scalar integer tensors; got {v!r}") from None


def _normalize_slice(s: slice, n: Optional[int]) -> tuple[int, Optional[int], int]:
    """(begin, end, stride) for the `slice` row: non-negative begin, end -1 meaning 'through 0' for stride < 0;
    on an axis of unknown size (n None) non-negative bounds and a positive step, end None for 'to the end'."""
    step = _slice_bound(s.step)
    if step == 0:
        raise ValueError("slice step cannot be zero")
    if n is None:
        start, stop, st = _slice_bound(s.start), _slice_bound(s.stop), 1 if step is None else step
        if st < 0 or (start is not None and start < 0) or (stop is not None and stop < 0):
            raise NotImplementedError(f"a slice with negative bounds or steps ({s}) on an axis of unknown size "
                                      f"next to an index array or mask; index in two steps")
        return start or 0, stop, st
    b, e, st = slice(_slice_bound(s.start), _slice_bound(s.stop), step).indices(n)
    if len(range(b, e, st)) == 0:
        return 0, 0, 1
    return b, e, st


def _check_bounds(values: np.ndarray, axis: int, n: int) -> None:
    bad = (values < -n) | (values >= n)
    if bad.any():
        raise IndexOutOfRangeError(f"index {values[bad].flat[0]} is out of bounds for axis {axis} with size {n}")


def _mask_coordinates(mask: np.ndarray, axis: int, shape: tuple[int, ...]) -> list[np.ndarray]:
    """The integer arrays a boolean mask stands for (np.nonzero), after checking it covers the indexed dims."""
    covered = tuple(shape[axis:axis + mask.ndim])
    if mask.shape != covered:
        raise IndexError(f"boolean mask of shape {mask.shape} does not match the indexed dimensions {covered} "
                         f"(axes {axis}..{axis + mask.ndim - 1}) of a tensor of shape {shape}")
    return [c.astype(np.int64) for c in np.nonzero(mask)]


def _expand(items: list[_Item], shape: tuple[int, ...], any_arrays: bool) -> list[_Item]:
    """One item per axis of x, plus `new` items: Ellipsis filled in, masks split, ints bounds-checked."""
    rank = len(shape)
    if sum(it.kind == "ellipsis" for it in items) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(it.value.ndim if it.kind == "mask" else it.kind in ("int", "slice", "array") for it in items)
    if consumed > rank:
        raise IndexOutOfRangeError(f"too many indices for tensor: tensor is {rank}-dimensional, but {consumed} were "
                                   f"indexed")
    if all(it.kind != "ellipsis" for it in items):
        items = items + [_Item("ellipsis")]
    out: list[_Item] = []
    axis = 0
    for it in items:
        if it.kind == "new":
            out.append(it)
            continue
        if it.kind == "ellipsis":
            for _ in range(rank - consumed):
                out.append(_Item("slice", (0, shape[axis], 1), axis))
                axis += 1
        elif it.kind == "slice":
            out.append(_Item("slice", _normalize_slice(it.value, shape[axis]), axis))
            axis += 1
        elif it.kind == "mask":
            for j, coords in enumerate(_mask_coordinates(it.value, axis, shape)):
                out.append(_Item("array", coords, axis + j))
            axis += it.value.ndim
        elif it.kind == "int" and not isinstance(it.value, Tensor) and shape[axis] is None:
            if it.value < 0 or any_arrays:  # counted from the run-time end: a gather
                out.append(_Item("array", np.asarray(it.value, dtype=np.int64), axis, check=True))
            else:
                out.append(_Item("int", it.value, axis, check=True))
            axis += 1
        elif it.kind == "int" and not isinstance(it.value, Tensor):
            n = shape[axis]
            if not -n <= it.value < n:
                raise IndexOutOfRangeError(f"index {it.value} is out of bounds for axis {axis} with size {n}")
            i = it.value % n
            out.append(_Item("array", np.asarray(i, dtype=np.int64), axis) if any_arrays else _Item("int", i, axis))
            axis += 1
        else:  # an integer array, or a symbolic scalar int tensor acting as a 0-d array
            out.append(_Item("array", it.value, axis))
            axis += 1
    return out


# ---- lowering to op-table rows --------------------------------------------------------------------------------------
@dataclass
class _Advanced:
    """An advanced index after the basic step: the axis of the intermediate it indexes, and its provenance."""

    position: int  # axis of the sliced-and-reshaped intermediate
    index: Index
    size: Any  # int, or an int64 scalar Tensor (the run-time size of an unknown axis)
    axis: int  # axis of x, for error messages


def _constant(value: np.ndarray) -> Tensor:
    return apply(OPS["constant"], value=value)


def _apply_basic(t: Tensor, shape: tuple[int, ...], items: list[_Item]) -> tuple[Tensor, list[_Advanced]]:
    """One `slice` for every axis, then one `reshape` that drops int axes and inserts the new ones."""
    begin: list[int] = []
    end: list[int] = []
    strides: list[int] = []
    out_shape: list[int] = []
    advanced: list[_Advanced] = []
    kept: list[Optional[int]] = []  # the sliced axis each result axis is (None for a new axis)
    for it in items:
        if it.check:
            check_index_at_run_time(t, it.axis, int(it.value))
        if it.kind == "new":
            out_shape.append(1)
            kept.append(None)
        elif it.kind == "int":
            begin.append(it.value), end.append(it.value + 1), strides.append(1)
        elif it.kind == "slice":
            b, e, s = it.value
            begin.append(b), end.append(e), strides.append(s)
            kept.append(len(begin) - 1)
            out_shape.append(len(range(b, e, s)) if e is not None else None)
        else:  # array: keep the whole axis for the gather (its size a run-time `dim` where unknown)
            n = shape[it.axis]
            begin.append(0), end.append(n), strides.append(1)
            size = n if n is not None else apply(OPS["dim"], t, axis=it.axis)
            advanced.append(_Advanced(len(out_shape), it.value, size, it.axis))
            kept.append(len(begin) - 1)
            out_shape.append(n)
    if (begin, end, strides) != ([0] * len(shape), list(shape), [1] * len(shape)):
        t = apply(OPS["slice"], t, begin=tuple(begin), end=tuple(end), strides=tuple(strides))
    sliced = tuple(raw_shape(t))
    out_shape = [sliced[k] if k is not None else d for d, k in zip(out_shape, kept)]
    if tuple(out_shape) != sliced:
        sizes = [apply(OPS["dim"], t, axis=k) for d, k in zip(out_shape, kept) if d is None]
        t = apply(OPS["reshape"], t, *sizes, shape=tuple(out_shape))
    return t, advanced


def _prepare_index(adv: _Advanced, merged: bool, check: bool) -> Tensor:
    """The index with negative entries wrapped, bounds-checked where its value is known (and `check` is set)."""
    n, idx = adv.size, adv.index
    if isinstance(n, Tensor):  # an axis of run-time size: negative entries wrap then, and gather checks bounds
        if isinstance(idx, np.ndarray) and idx.ndim == 0:  # a Python int, checked by an assert: clamp the gather
            return maximum(add(n, int(idx)), 0) if idx < 0 else _constant(idx)
        i = _constant(idx) if isinstance(idx, np.ndarray) else idx
        return where(less(i, 0), add(i, cast(n, i.dtype)), i)
    if isinstance(idx, np.ndarray):  # from the key itself: a constant, not a tensor value
        if check:
            _check_bounds(idx, adv.axis, n)
        return _constant(np.where(idx < 0, idx + n, idx))
    if not _symbolic(idx):
        values = np.asarray(idx._value)
        if check:
            _check_bounds(values, adv.axis, n)
        return where(less(idx, 0), add(idx, n), idx) if (values < 0).any() else idx
    wrapped = where(less(idx, 0), add(idx, n), idx)
    if merged and (check or not raw_shape(idx)):  # numpy checks a scalar index even when nothing is selected
        # The gather on the merged axis sees only the linear index, where an out-of-range entry of one index could
        # land on a valid element; gathering from range(n) returns the index itself and checks it against n.
        wrapped = gather(apply(OPS["iota"], shape=(n,), dtype=idx.dtype, axis=0), wrapped)
    return wrapped


def _apply_advanced(y: Tensor, advanced: list[_Advanced], adjacent: bool) -> Tensor:
    """Gather the advanced axes; several are merged into one axis and indexed by their row-major linear index."""
    index_shapes = [tuple(np.shape(a.index)) if isinstance(a.index, np.ndarray) else tuple(raw_shape(a.index))
                    for a in advanced]
    try:
        selected = int(np.prod(np.broadcast_shapes(*index_shapes)))
    except ValueError:
        raise IndexError("shape mismatch: indexing arrays could not be broadcast together with shapes "
                         + " ".join(str(s) for s in index_shapes)) from None
    merged = len(advanced) > 1
    if merged and not any(index_shapes) and any(isinstance(a.size, Tensor) for a in advanced):
        for adv in sorted(advanced, key=lambda a: -a.position):  # scalar indices: one gather each, last axis first
            y = gather(y, _prepare_index(adv, False, check=True), axis=adv.position)
        return y
    if merged and any(isinstance(a.size, Tensor) for a in advanced):
        raise NotImplementedError("several index arrays where one indexes an axis of unknown size are not "
                                  "supported yet; index one axis at a time")
    # As numpy: indices that broadcast to an empty selection are never read, so they are not checked either.
    indices = [_prepare_index(adv, merged, check=selected > 0) for adv in advanced]
    positions = [adv.position for adv in advanced]
    if not merged:
        return gather(y, indices[0], axis=positions[0])
    dest = positions[0]
    if not adjacent:  # numpy's rule: separated advanced indices put their broadcast axes first
        rank = len(raw_shape(y))
        perm = tuple(positions + [a for a in range(rank) if a not in positions])
        if perm != tuple(range(rank)):
            y = apply(OPS["transpose"], y, perm=perm)
        dest = 0
    yshape = tuple(raw_shape(y))
    sizes = [adv.size for adv in advanced]
    y = apply(OPS["reshape"], y, shape=yshape[:dest] + (int(np.prod(sizes)),) + yshape[dest + len(sizes):])
    linear: Optional[Tensor] = None
    stride = 1
    for idx, size in reversed(list(zip(indices, sizes))):
        term = cast(idx, int64)
        if stride != 1:
            term = multiply(term, stride)
        linear = term if linear is None else add(term, linear)
        stride *= size
    return gather(y, linear, axis=dest)


def getitem(x: Any, key: Any) -> Tensor:
    """`x[key]` with numpy's semantics; see the module docstring for the rules.

    >>> import engine as tf
    >>> t = tf.constant([[1, 2, 3], [4, 5, 6]])
    >>> print(t[:, ::-1][1])
    engine.Tensor([6 5 4], shape=(3,), dtype=int32)
    >>> print(t[t > 2])
    engine.Tensor([3 4 5 6], shape=(4,), dtype=int32)
    >>> print(t[[1, 0, 1], [0, 2, -1]])
    engine.Tensor([4 3 6], shape=(3,), dtype=int32)
    """
    t = as_tensor(x)
    if isinstance(key, TensorLike) and is_traced(key) and as_tensor(key).dtype is bool_ and raw_shape(key):
        return boolean_mask(t, key)  # x[mask] with a traced mask: a result of run-time length
    keys = tuple(key) if isinstance(key, (tuple, list)) else (key,)
    if dispatch.tracing() and any(isinstance(k, slice) for k in keys):
        t, keys = split_traced_slices(t, keys)
    shape = tuple(raw_shape(t))
    items = [_parse_one(k) for k in keys]
    any_arrays = any(it.kind in ("array", "mask") for it in items)
    adv = [i for i, it in enumerate(items) if _is_advanced(it, any_arrays)]
    adjacent = not adv or adv[-1] - adv[0] + 1 == len(adv)
    y, advanced = _apply_basic(t, shape, _expand(items, shape, any_arrays))
    return _apply_advanced(y, advanced, adjacent) if advanced else y
