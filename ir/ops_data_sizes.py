"""Rows whose result size depends on the values of their operands (known only when the function runs).

- `argwhere %mask : i64[?, rank]`: the coordinates of the true (non-zero) elements of `mask` in row-major order, one
  row per element (TF's `Where`, numpy's `argwhere`). `tf.where(cond)`, `tf.boolean_mask` and `x[mask]` are built on
  it; it has no gradient (indices), and the values it selects differentiate through the gather that uses them.
- `shape_cast %x {shape = [none, 3]} : f32[?,3]`: the same values under another static view of their shape, each
  dim either kept, relaxed to `?` (a `cond` whose branches yield different sizes, a `while_loop` carried value
  whose size changes: TF's `shape_invariants`) or refined from `?` to a size (`tf.ensure_shape`), which is checked
  when the function runs. Identity on the values; linear; its gradient casts the cotangent back.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ir.opdef import NONDIFF, OpDef, check_arity, fail, register
from ir.types import Dim, TensorType, int64


def _argwhere_infer(types: list[TensorType], **attrs: Any) -> tuple[TensorType, ...]:
    check_arity("argwhere", types, 1)
    t = types[0]
    if not (t.dtype.is_bool or t.dtype.is_integer or t.dtype.is_floating):
        raise fail("argwhere", f"the operand must be bool or numeric, got {t}")
    return (TensorType(int64, (None, t.rank)),)


register(OpDef("argwhere", _argwhere_infer, lambda m: np.argwhere(np.asarray(m)).astype(np.int64), NONDIFF, "shape",
               doc="The int64 coordinates [n, rank] of the non-zero elements of the operand, row-major; n is known "
                   "only at run time."))


# ---- shape_cast -----------------------------------------------------------------------------------------------------
def _shape_cast_infer(types: list[TensorType], *, shape: Sequence[Dim]) -> tuple[TensorType, ...]:
    check_arity("shape_cast", types, 1)
    t = types[0]
    if len(shape) != t.rank:
        raise fail("shape_cast", f"shape {_show(shape)} has rank {len(shape)} but the operand is {t}")
    for k, (have, want) in enumerate(zip(t.shape, shape)):
        if have is not None and want is not None and have != want:
            raise fail("shape_cast", f"dimension {k} of {t} cannot be cast to {want} (shape {_show(shape)})")
    return (TensorType(t.dtype, tuple(shape)),)


def _shape_cast_kernel(x: Any, *, shape: Sequence[Dim]) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != len(shape) or any(d is not None and d != n for d, n in zip(shape, x.shape)):
        raise ValueError(f"shape_cast: a tensor of shape {x.shape} does not have shape {_show(shape)}")
    return x


def _show(shape: Sequence[Dim]) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


register(OpDef("shape_cast", _shape_cast_infer, _shape_cast_kernel,
               lambda em, g, out, x, *, shape: (em.shape_cast(g, shape=em.shape(x)),), "shape", attrs=("shape",),
               linear=True,
               doc="The operand under another static shape: dims kept, relaxed to unknown, or refined from unknown "
                   "(checked at run time); the values are unchanged."))
