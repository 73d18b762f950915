"""What every Keras loss function shares: the clipping epsilon and how predictions and labels are brought to one
floating dtype (float32 at least, as Keras computes losses)."""
from __future__ import annotations

from typing import Any

from engine.convert import convert_to_tensor
from engine.ops import cast, expand_dims, squeeze
from engine.tensor import Tensor

__all__ = ["EPSILON"]

EPSILON = 1e-7


def _pred(y_pred: Any) -> Tensor:
    """Predictions as float32 at least: Keras computes losses in float32 (float16/bfloat16 outputs of a mixed
    policy are widened)."""
    y = convert_to_tensor(y_pred)
    return y if y.dtype.is_floating and y.dtype.size >= 4 else cast(y, "float32")


def _true_like(y_true: Any, y_pred: Tensor) -> Tensor:
    """y_true in y_pred's dtype and rank: labels [batch] against predictions [batch, 1] gain the unit axis (and
    lose it the other way round), as Keras's squeeze_or_expand_to_same_rank does."""
    y = convert_to_tensor(y_true)
    y = y if y.dtype is y_pred.dtype else cast(y, y_pred.dtype)
    if len(y_pred.shape) == len(y.shape) + 1 and y_pred.shape[-1] == 1:
        return expand_dims(y, -1)
    if len(y.shape) == len(y_pred.shape) + 1 and y.shape[-1] == 1:
        return squeeze(y, -1)
    return y
