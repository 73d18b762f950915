"""The `broadcast_dim` row: the size two run-time sizes of an elementwise op's operands broadcast to.

The tracer (engine.ops.funnel.broadcast_together) joins two unknown dims at one axis with it and broadcasts both
operands to the result, so the IR's elementwise rows keep one shape per op while `x - x[:1]` broadcasts a size
that is 1 when the function runs, as TF does. ir.passes.canonicalize drops it where both sizes are provably one
(ir.passes.dim_roots). Its own module: it raises ir.ops_state's InvalidArgumentError, and ops_state imports
ops_dims.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ir.opdef import NONDIFF, OpDef, check_arity, fail, register
from ir.ops_dims import SIZE_TYPE
from ir.ops_state import InvalidArgumentError
from ir.types import Dim, TensorType


# ---- broadcast_dim --------------------------------------------------------------------------------------------------
def _bdim_infer(types: list[TensorType], *, shapes: Sequence[Sequence[Dim]], axes: Sequence[int]
                ) -> tuple[TensorType, ...]:
    check_arity("broadcast_dim", types, 2)
    if any(t != SIZE_TYPE for t in types):
        raise fail("broadcast_dim", f"operands must be {SIZE_TYPE}, got {types[0]} and {types[1]}")
    if len(shapes) != 2 or len(axes) != 2 or any(not 0 <= k < len(s) for s, k in zip(shapes, axes)):
        raise fail("broadcast_dim", f"axes {tuple(axes)} do not index the shapes {tuple(map(tuple, shapes))}")
    return (SIZE_TYPE,)


def incompatible_shapes(shapes: Sequence[Sequence[Dim]], axes: Sequence[int], sizes: Sequence[Any]) -> str:
    """TensorFlow's message, the two operands' shapes with the run-time sizes at `axes` (other unknown dims '?')."""
    def show(shape: Sequence[Dim], axis: int, size: Any) -> str:
        return "[" + ",".join(str(size) if k == axis else "?" if d is None else str(d)
                              for k, d in enumerate(shape)) + "]"
    return f"Incompatible shapes: {show(shapes[0], axes[0], sizes[0])} vs. {show(shapes[1], axes[1], sizes[1])}"


def _bdim_eager(a: Any, b: Any, *, shapes: Sequence[Sequence[Dim]], axes: Sequence[int]) -> np.int64:
    a, b = int(a), int(b)
    if a == b or b == 1:
        return np.int64(a)
    if a == 1:
        return np.int64(b)
    raise InvalidArgumentError(incompatible_shapes(shapes, axes, (a, b)))


register(OpDef("broadcast_dim", _bdim_infer, _bdim_eager, NONDIFF, "shape", attrs=("shapes", "axes"),
               doc="The size that two run-time sizes broadcast to (numpy's rule: equal, or one of them 1), else "
                   "InvalidArgumentError naming both operands' shapes as TF does; `shapes` are the static shapes "
                   "of the two elementwise operands and `axes` the axes the sizes are of (for the message)."))
