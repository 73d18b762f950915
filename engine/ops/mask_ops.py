"""`tf.boolean_mask`: the elements (or slices) of a tensor where a boolean mask is true.

The number of results depends on the mask's values: eagerly, and for a mask that is not traced, the positions are
computed at once; a traced mask gives them at run time (`argwhere`, a result of run-time length). The selection is a
`gather` of the true positions, so gradients flow to the selected elements (zeros elsewhere) and traced code
compiles. Where the masked dimensions are of unknown size, an `assert` checks when the function runs that the mask's
sizes are the tensor's.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from engine.convert import convert_to_tensor
from engine.dispatch import apply
from engine.ops.array_ops import gather, reshape
from engine.ops.funnel import as_tensor, raw_shape
from engine.ops.math_ops import equal, multiply
from engine.ops.shape_ops import dim_size
from engine.tensor import Tensor
from ir.opdef import OPS


def boolean_mask(tensor: Any, mask: Any, axis: Any = None, name: Optional[str] = None) -> Tensor:
    """`tensor` with the dimensions `axis .. axis + mask.ndim` flattened and only the positions where `mask` is
    true kept (numeric masks count as true where non-zero, as TensorFlow's). Unlike TensorFlow 2.21, a negative
    `axis` counts from the end.

    >>> import engine as tf
    >>> tf.boolean_mask(tf.constant([[1, 2], [3, 4], [5, 6]]), [True, False, True]).numpy()
    array([[1, 2],
           [5, 6]], dtype=int32)
    """
    t = as_tensor(tensor)
    m = mask if isinstance(mask, Tensor) else convert_to_tensor(mask)
    shape = raw_shape(t)
    k = len(raw_shape(m))
    if k == 0:
        raise ValueError("boolean_mask: the mask cannot be a scalar")
    ax = 0 if axis is None else int(axis)
    if ax < 0:
        ax += len(shape)
    covered = tuple(shape[ax:ax + k])
    if not 0 <= ax <= len(shape) - k or not all(a is None or b is None or a == b
                                                 for a, b in zip(covered, raw_shape(m))):
        raise ValueError(f"boolean_mask: a mask of shape {tuple(raw_shape(m))} does not match the dimensions from "
                         f"axis {axis if axis is not None else 0} of a tensor of shape {tuple(shape)}")
    if None in covered or None in raw_shape(m):  # sizes known when the function runs: checked then
        for j in range(k):
            a, b = apply(OPS["dim"], t, axis=ax + j), apply(OPS["dim"], m, axis=j)
            apply(OPS["assert"], equal(a, b), a, b, summarize=2,
                  message=f"boolean_mask: dimension {ax + j} of the tensor has size {{}} but dimension {j} of the "
                          f"mask has size {{}}")
        merged: Any = dim_size(t, ax)
        for j in range(ax + 1, ax + k):
            merged = multiply(merged, dim_size(t, j))
    else:
        merged = int(np.prod(covered, dtype=np.int64))
    outer = [d if d is not None else apply(OPS["dim"], t, axis=j) for j, d in enumerate(shape)]
    flat = reshape(t, outer[:ax] + [merged] + outer[ax + k:])
    if m._node is not None:  # the number of true elements is known when the function runs
        found = apply(OPS["argwhere"], reshape(m, [-1]))
        positions = apply(OPS["reshape"], found, apply(OPS["dim"], found, axis=0), shape=(None,))
        return gather(flat, positions, axis=ax)
    positions = np.flatnonzero(np.asarray(m._value)).astype(np.int64)
    return gather(flat, Tensor(positions), axis=ax)
