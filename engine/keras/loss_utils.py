"""What every Keras loss function shares: the clipping epsilon and how predictions and labels are brought to one
floating dtype (float32 at least, as Keras computes losses)."""
from __future__ import annotations

from typing import Any

from engine.convert import convert_to_tensor
from engine.ops import cast
from engine.tensor import Tensor

__all__ = ["EPSILON"]

EPSILON = 1e-7


def _pred(y_pred: Any) -> Tensor:
    """Predictions as float32 at least: Keras computes losses in float32 (float16/bfloat16 outputs of a mixed
    policy are widened)."""
    y = convert_to_tensor(y_pred)
    return y if y.dtype.is_floating and y.dtype.size >= 4 else cast(y, "float32")


def _true_like(y_true: Any, y_pred: Tensor) -> Tensor:
    y = convert_to_tensor(y_true)
    return y if y.dtype is y_pred.dtype else cast(y, y_pred.dtype)
