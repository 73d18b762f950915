"""`engine.nn.dropout`, as `tf.nn.dropout`: each element is kept with probability 1 - rate and scaled by
1 / (1 - rate); the rest become 0. The mask is drawn from `engine.random`'s stream, so a traced function draws a
new mask on every call."""
from __future__ import annotations

from typing import Any, Optional, Sequence

from engine import random as _random
from engine.ops import cast, divide, greater_equal, multiply
from engine.ops.funnel import as_tensor
from engine.tensor import Tensor

__all__ = ["dropout"]


def dropout(x: Any, rate: float, noise_shape: Optional[Sequence[int]] = None, seed: Optional[int] = None,
            name: Optional[str] = None) -> Tensor:
    """
    >>> import engine as tf
    >>> y = tf.nn.dropout(tf.ones([1000]), rate=0.5, seed=1)
    >>> sorted(set(y.numpy().tolist()))
    [0.0, 2.0]
    """
    x = as_tensor(x)
    if not x.dtype.is_floating:
        raise ValueError(f"dropout: x has to be a floating point tensor since it's going to be scaled. "
                         f"Got a {x.dtype.name} tensor instead.")
    rate = float(rate)
    if not 0 <= rate < 1:
        raise ValueError(f"dropout: rate must be a scalar tensor or a float in the range [0, 1), got {rate}")
    if rate == 0:
        return x
    dims = tuple(x.shape) if noise_shape is None else tuple(int(d) if d is not None else x.shape[i]
                                                          for i, d in enumerate(noise_shape))
    keep = cast(greater_equal(_random.uniform(dims, dtype=x.dtype, seed=seed), rate), x.dtype)
    return multiply(divide(x, 1.0 - rate), keep)
