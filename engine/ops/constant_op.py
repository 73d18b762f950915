"""`constant`, the public way to make a tensor from a value (`tf.constant`), on top of the conversion rules of
`engine.convert`."""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.convert import convert_to_tensor
from engine.ops.array_ops import broadcast_to, reshape
from engine.ops.math_ops import cast
from engine.tensor import Tensor, TensorLike
from ir.types import as_dtype, from_numpy


def constant(value: Any, dtype: Any = None, shape: Any = None, name: str = "Const") -> Tensor:
    """A constant tensor, as `tf.constant`: numpy arrays may be cast to `dtype`; a scalar fills `shape`.

    >>> import engine as tf
    >>> print(tf.constant([[1, 2], [3, 4]]))
    engine.Tensor(
    [[1 2]
     [3 4]], shape=(2, 2), dtype=int32)
    """
    if isinstance(value, TensorLike) and not isinstance(value, Tensor):
        value = value.value()
    if isinstance(value, Tensor):
        t = value if dtype is None else cast(value, dtype)
    elif isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value)
        from_numpy(arr.dtype)  # rejects unsupported dtypes with a clear message
        t = Tensor(arr if dtype is None else arr.astype(as_dtype(dtype).np))
    else:
        t = convert_to_tensor(value, dtype=dtype)
    if shape is not None:
        shape = tuple(int(d) for d in shape)
        n = int(np.prod(shape, dtype=np.int64))
        if t.shape.num_elements() == n:
            t = reshape(t, shape)
        elif t.shape.num_elements() == 1:
            t = broadcast_to(reshape(t, ()), shape)
        else:
            raise TypeError(f"constant: {t.shape.num_elements()} value(s) cannot fill shape {shape}")
    return t
