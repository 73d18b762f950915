"""`tf.math.cumsum` and `tf.math.cumprod` on the `cumsum` and `cumprod` rows (ir.ops_sort): O(n) along the axis,
eager and compiled, on static or run-time (`None`) sizes. Their gradients are the rows'; cumprod's is exact at zeros
(TensorFlow 2.21's divides by x and gives 0 for the first zero factor; docs/tf-compat.md).
"""
from __future__ import annotations

from typing import Any, Optional

from engine.dispatch import apply
from engine.errors import InvalidDTypeError
from engine.ops.funnel import as_tensor, raw_shape
from engine.tensor import Tensor
from ir.opdef import OPS
from ir.ops_state import InvalidArgumentError


def cumsum(x: Any, axis: int = 0, exclusive: bool = False, reverse: bool = False,
           name: Optional[str] = None) -> Tensor:
    """Running sums along `axis`; `exclusive` leaves out the element itself, `reverse` runs from the end.

    >>> import engine as tf
    >>> tf.math.cumsum(tf.constant([1, 2, 3]), exclusive=True).numpy()
    array([0, 1, 3], dtype=int32)
    """
    return _scan(x, axis, exclusive, reverse, "cumsum", "cumsum")


def cumprod(x: Any, axis: int = 0, exclusive: bool = False, reverse: bool = False,
            name: Optional[str] = None) -> Tensor:
    """Running products along `axis`; `exclusive` and `reverse` as for `cumsum`."""
    return _scan(x, axis, exclusive, reverse, "cumprod", "cumprod")


def _scan(x: Any, axis: Any, exclusive: bool, reverse: bool, row: str, public: str) -> Tensor:
    t = as_tensor(x)
    if t.dtype.is_bool:
        raise InvalidDTypeError(f"{public}: bool tensors cannot be summed or multiplied")
    rank = len(raw_shape(t))
    axis = int(axis.numpy() if isinstance(axis, Tensor) else axis)
    if not -rank <= axis < rank:
        raise InvalidArgumentError(f"{public}: axis {axis} is out of range for a tensor of rank {rank}")
    return apply(OPS[row], t, axis=axis % rank, exclusive=bool(exclusive), reverse=bool(reverse))
