"""`tf.boolean_mask`: the elements (or slices) of a tensor where a boolean mask is true.

The number of results depends on the mask's values: eagerly, and for a mask that is not traced, the positions are
computed at once; a traced mask gives them at run time (`argwhere`, a result of run-time length). The selection is a
`gather` of the true positions, so gradients flow to the selected elements (zeros elsewhere) and traced code
compiles.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from engine.convert import convert_to_tensor
from engine.dispatch import apply
from engine.errors import OperatorNotAllowedInGraphError
from engine.ops.array_ops import gather, reshape
from engine.ops.funnel import as_tensor, raw_shape
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
    if not 0 <= ax <= len(shape) - k or tuple(shape[ax:ax + k]) != tuple(raw_shape(m)):
        raise ValueError(f"boolean_mask: a mask of shape {tuple(raw_shape(m))} does not match the dimensions from "
                         f"axis {axis if axis is not None else 0} of a tensor of shape {tuple(shape)}")
    if m._node is not None and None in tuple(shape[ax:ax + k]):
        raise OperatorNotAllowedInGraphError(
            f"boolean_mask{_at()}: a traced mask over dimensions of unknown size {tuple(shape[ax:ax + k])} is not "
            f"supported yet; give those dimensions static sizes")
    flat = reshape(t, list(shape[:ax]) + [int(np.prod(shape[ax:ax + k], dtype=np.int64))] + list(shape[ax + k:]))
    if m._node is not None:  # the number of true elements is known when the function runs
        found = apply(OPS["argwhere"], reshape(m, [-1]))
        positions = apply(OPS["reshape"], found, apply(OPS["dim"], found, axis=0), shape=(None,))
        return gather(flat, positions, axis=ax)
    positions = np.flatnonzero(np.asarray(m._value)).astype(np.int64)
    return gather(flat, Tensor(positions), axis=ax)


def _at() -> str:
    from engine.trace import user_location
    loc = user_location()
    return f" (at {loc[0]}:{loc[1]})" if loc else ""
