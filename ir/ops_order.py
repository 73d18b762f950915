"""Rows that order the elements of a vector by value.

- `first_occurrence %x : i64[n]`: for each element of the vector %x, the index of the first element equal to it
  (`x[first[i]] == x[i]`, `first[i] <= i`). Two NaNs are never equal (as in TF's Unique, each NaN is its own
  value); -0.0 equals 0.0. It is what `tf.unique` needs from a sort: the first occurrences are where
  `first[i] == i`, and each element's group is its first occurrence's. O(n log n): a stable sort by value, then one
  pass over runs of equal values. No gradient (indices).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ir.opdef import NONDIFF, OpDef, check_arity, fail, register
from ir.types import TensorType, int64


def _first_infer(types: list[TensorType], **attrs: Any) -> tuple[TensorType, ...]:
    check_arity("first_occurrence", types, 1)
    t = types[0]
    if t.rank != 1:
        raise fail("first_occurrence", f"the operand must be a vector, got {t}")
    if not (t.dtype.is_bool or t.dtype.is_integer or t.dtype.is_floating):
        raise fail("first_occurrence", f"the operand must be bool or numeric, got {t}")
    return (TensorType(int64, t.shape),)


def _first_kernel(x: Any) -> np.ndarray:
    x = np.asarray(x)
    n = x.shape[0]
    order = np.argsort(x, kind="stable")  # NaNs last, each unequal to the one before it
    s = x[order]
    new_run = np.ones(n, dtype=bool)
    new_run[1:] = s[1:] != s[:-1]
    run_start = np.maximum.accumulate(np.where(new_run, np.arange(n), 0)) if n else np.zeros(0, np.int64)
    out = np.empty(n, dtype=np.int64)
    out[order] = order[run_start]
    return out


register(OpDef("first_occurrence", _first_infer, _first_kernel, NONDIFF, "shape",
               doc="For each element of a vector, the int64 index of the first element equal to it (NaN equals "
                   "nothing); a stable sort, O(n log n)."))
