"""Rows whose result size depends on the values of their operands (known only when the function runs).

- `argwhere %mask : i64[?, rank]`: the coordinates of the true (non-zero) elements of `mask` in row-major order, one
  row per element (TF's `Where`, numpy's `argwhere`). `tf.where(cond)`, `tf.boolean_mask` and `x[mask]` are built on
  it; it has no gradient (indices), and the values it selects differentiate through the gather that uses them.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ir.opdef import NONDIFF, OpDef, check_arity, fail, register
from ir.types import TensorType, int64


def _argwhere_infer(types: list[TensorType], **attrs: Any) -> tuple[TensorType, ...]:
    check_arity("argwhere", types, 1)
    t = types[0]
    if not (t.dtype.is_bool or t.dtype.is_integer or t.dtype.is_floating):
        raise fail("argwhere", f"the operand must be bool or numeric, got {t}")
    return (TensorType(int64, (None, t.rank)),)


register(OpDef("argwhere", _argwhere_infer, lambda m: np.argwhere(np.asarray(m)).astype(np.int64), NONDIFF, "shape",
               doc="The int64 coordinates [n, rank] of the non-zero elements of the operand, row-major; n is known "
                   "only at run time."))
