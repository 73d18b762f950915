"""`tf.strided_slice`: begin/end/strides vectors and bit masks turned into the key `x[...]` they describe, then
indexed as `x[key]` is (engine.indexing), so static and run-time sizes, negative bounds and gradients are
indexing's.
"""
from __future__ import annotations

import builtins
from typing import Any, Optional

from engine.indexing import getitem
from engine.ops.funnel import as_tensor, raw_shape
from engine.tensor import Tensor


def strided_slice(input_: Any, begin: Any, end: Any, strides: Any = None, begin_mask: int = 0, end_mask: int = 0,
                  ellipsis_mask: int = 0, new_axis_mask: int = 0, shrink_axis_mask: int = 0, var: Any = None,
                  name: Optional[str] = None) -> Tensor:
    """`tf.strided_slice`: the key `x[b0:e0:s0, ...]` its masks describe (bit i of a mask for entry i: begin_mask
    and end_mask leave the bound out, ellipsis_mask puts `...`, new_axis_mask `None`, shrink_axis_mask the int
    begin[i]), indexed as `x[key]` is."""
    begins, ends = _entries(begin), _entries(end)
    steps = _entries(strides) if strides is not None else [1] * len(begins)
    if not len(begins) == len(ends) == len(steps):
        raise ValueError(f"strided_slice: begin, end and strides must have the same length, got {len(begins)}, "
                         f"{len(ends)} and {len(steps)}")
    key: list[Any] = []
    for k, (b, e, s) in enumerate(zip(begins, ends, steps)):
        if ellipsis_mask >> k & 1:
            key.append(Ellipsis)
        elif new_axis_mask >> k & 1:
            key.append(None)
        elif shrink_axis_mask >> k & 1:
            key.append(b)
        else:
            key.append(builtins.slice(None if begin_mask >> k & 1 else b, None if end_mask >> k & 1 else e, s))
    return getitem(as_tensor(input_), tuple(key))


def _entries(v: Any) -> list[Any]:
    """The entries of a begin/end/strides vector: Python ints where concrete, scalar tensors where traced."""
    t = as_tensor(v)
    if t._node is None:
        return [int(e) for e in t.numpy().reshape(-1)]
    return [t[k] for k in builtins.range(raw_shape(t)[0])]
