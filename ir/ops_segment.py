"""`segment_combine %updates, %indices {kind, size}`: scatter with max, min or prod, the row under
`tf.math.unsorted_segment_max/min/prod` and `segment_*` (engine.ops.segment_ops).

Like scatter_add on axis 0 (indices' shape is a prefix of the updates'; every index in [0, size)), but each output
slot starts at the kind's identity (the dtype's lowest value for max, highest for min, 1 for prod) and combines the
updates sent to it. O(n). A NaN update makes its slot NaN (numpy's maximum/minimum). Gradients are TF's: max and min
send g to the updates equal to their slot's result, split equally among ties; prod sends g * (the product of the
slot's other updates), exact at zeros (one zero: only it gets the product of the rest; two or more: 0).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ir.opdef import OpDef, check_arity, check_dtype, fail, register
from ir.ops_shape import check_indices
from ir.types import INDEX_DTYPES, TensorType

KINDS = ("max", "min", "prod")


def _infer(types: list[TensorType], *, kind: str, size: int) -> tuple[TensorType, ...]:
    check_arity("segment_combine", types, 2)
    u, i = types
    check_dtype("segment_combine", i, INDEX_DTYPES, "an int32 or int64 indices")
    if kind not in KINDS or not isinstance(size, int) or size < 0:
        raise fail("segment_combine", f"kind must be one of {KINDS} and size a static count, got {kind!r}, {size!r}")
    if not (u.dtype.is_floating or u.dtype.is_integer) or u.dtype.is_half:
        raise fail("segment_combine", f"the updates must be float32/64 or integers, got {u}")
    held = u.shape[:i.rank]
    if len(held) != i.rank or any(a is not None and b is not None and a != b for a, b in zip(held, i.shape)):
        raise fail("segment_combine", f"updates of shape {u.shape} do not start with indices' shape {i.shape}")
    return (u.with_shape((size,) + u.shape[i.rank:]),)


def _kernel(updates: np.ndarray, indices: np.ndarray, *, kind: str, size: int) -> np.ndarray:
    indices = np.asarray(indices)
    check_indices("segment_combine", indices, size)
    out = np.full((size,) + updates.shape[indices.ndim:], identity(kind, updates.dtype), dtype=updates.dtype)
    {"max": np.maximum, "min": np.minimum, "prod": np.multiply}[kind].at(out, indices, updates)
    return out


def identity(kind: str, dtype: np.dtype) -> Any:
    if kind == "prod":
        return 1
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    return info.min if kind == "max" else info.max


def _selected(em: Any, out: Any, u: Any, i: Any, size: int) -> tuple[Any, Any]:
    """max/min: which updates equal their slot's result (as 0/1 in u's dtype), and how many per slot (at least 1)."""
    sel = em.convert(em.eq(u, em.gather(out, i, axis=0)), dtype=em.dtype(u))
    count = em.scatter_add(sel, i, axis=0, size=size)
    return sel, em.maximum(count, em.full_like(count, 1))


def _others(em: Any, out: Any, u: Any, i: Any, size: int) -> Any:
    """prod: for each update, the product of the other updates of its slot (exact at zeros)."""
    zero = em.eq(u, em.zeros_like(u))
    one = em.full_like(u, 1)
    nz = em.gather(em.scatter_add(em.convert(zero, dtype=em.dtype(u)), i, axis=0, size=size), i, axis=0)
    rest = em.gather(em.segment_combine(em.select(zero, one, u), i, kind="prod", size=size), i, axis=0)
    none = em.eq(nz, em.zeros_like(nz))
    only = em.logical_and(zero, em.eq(nz, one))
    mine = em.div(em.gather(out, i, axis=0), em.select(zero, one, u))
    return em.select(none, mine, em.select(only, rest, em.zeros_like(u)))


def _vjp(em: Any, g: Any, out: Any, u: Any, i: Any, *, kind: str, size: int) -> tuple:
    if kind == "prod":
        return em.mul(em.gather(g, i, axis=0), _others(em, out, u, i, size)), None
    sel, count = _selected(em, out, u, i, size)
    return em.mul(em.gather(em.div(g, count), i, axis=0), sel), None


def _jvp(em: Any, tangents: Any, out: Any, u: Any, i: Any, *, kind: str, size: int) -> Any:
    t = tangents[0]
    if t is None:
        return None
    if kind == "prod":
        return em.scatter_add(em.mul(t, _others(em, out, u, i, size)), i, axis=0, size=size)
    sel, count = _selected(em, out, u, i, size)
    return em.div(em.scatter_add(em.mul(t, sel), i, axis=0, size=size), count)


register(OpDef("segment_combine", _infer, _kernel, _vjp, "shape", attrs=("kind", "size"), jvp=_jvp,
               doc="Scatter on axis 0 combining by max, min or prod into `size` slots that start at the kind's "
                   "identity."))
