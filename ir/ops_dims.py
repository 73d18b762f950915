"""Run-time sizes: the `dim` row, and the contract of rows that make a shape from attrs (DESIGN §4).

The contract (codegen and the specialize pass follow it):
- `dim %x {axis = k} : i64[]` is the run-time size of dimension k of %x; eager and interpreted it is
  `np.int64(x.shape[k])`; folded to a constant where that dim is static; no gradient.
- A row that makes a shape from a `shape` attr (broadcast_to, reshape, iota, random_uniform) accepts `None` entries
  in it, and then takes trailing `i64[]` operands, one per None, in order, giving those sizes at run time
  (`broadcast_to %b, %n {shape = [none, 784]} : f32[?,784]`). Its result has `?` there.
- Every other row derives its result dims from its operands' dims.
`sized_shape` checks the trailing sizes and gives the result shape; `fill_shape` gives a kernel the concrete shape;
`static_shape_attrs` is the rows' `static_attrs` facet (ir.passes.specialize): the sizes, once constants, go back
into the attr and the operands are dropped.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ir.opdef import NONDIFF, OpDef, StaticAttrsFn, check_arity, fail, register
from ir.types import Dim, TensorType, int64

SIZE_TYPE = TensorType(int64, ())


def sized_shape(opname: str, shape: Sequence[Dim], sizes: Sequence[TensorType]) -> tuple[Dim, ...]:
    """The result shape of a row whose `shape` attr may hold None entries, given its trailing size operands."""
    unknown = sum(1 for d in shape if d is None)
    if len(sizes) != unknown:
        raise fail(opname, f"shape {_show(shape)} has {unknown} unknown dim(s) but the op passes {len(sizes)} "
                           f"size operand(s)")
    for t in sizes:
        if t != SIZE_TYPE:
            raise fail(opname, f"size operands must be {SIZE_TYPE}, got {t}")
    if any(d is not None and d < 0 for d in shape):
        raise fail(opname, f"shape {_show(shape)} has a negative dim")
    return tuple(shape)


def fill_shape(shape: Sequence[Dim], sizes: Sequence[Any]) -> tuple[int, ...]:
    """The concrete shape: the attr's None entries replaced by the run-time sizes, in order."""
    it = iter(sizes)
    out = tuple(int(next(it)) if d is None else int(d) for d in shape)
    if any(d < 0 for d in out):
        raise ValueError(f"a run-time size is negative: shape {out}")
    return out


def static_shape_attrs(first_size: int) -> StaticAttrsFn:
    """The `static_attrs` facet of a row whose size operands start at operand `first_size`."""
    def resolve(types: Sequence[TensorType], constants: Sequence[Any], attrs: dict) -> Optional[tuple[int, dict]]:
        shape = attrs.get("shape")
        if shape is None or None not in shape:
            return first_size, attrs
        sizes = constants[first_size:]
        if any(c is None for c in sizes):
            return None
        return first_size, dict(attrs, shape=fill_shape(shape, sizes))
    return resolve


def _show(shape: Sequence[Dim]) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


# ---- dim ------------------------------------------------------------------------------------------------------------
def _dim_infer(types: list[TensorType], *, axis: int) -> tuple[TensorType, ...]:
    check_arity("dim", types, 1)
    t = types[0]
    if not 0 <= axis < t.rank:
        raise fail("dim", f"axis {axis} is out of range for a tensor of type {t}")
    return (SIZE_TYPE,)


register(OpDef("dim", _dim_infer, lambda x, *, axis: np.int64(np.shape(x)[axis]), NONDIFF, "shape", attrs=("axis",),
               doc="The run-time size of dimension `axis` of the operand, as an i64 scalar; a constant once that "
                   "dim is static (fold, specialize)."))
