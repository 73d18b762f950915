"""`keras.regularizers`: weight and activity penalties (L1, L2, L1L2, OrthogonalRegularizer) with Keras 3's formulas,
names ('l1', 'l2', 'l1_l2' with factor 0.01) and configs.

A layer given `kernel_regularizer=`/`bias_regularizer=` adds the penalty of that weight to `layer.losses`; one given
`activity_regularizer=` adds the penalty of its output divided by the batch size; `fit` adds `model.losses` to the
compiled loss, as Keras does.

>>> import engine as tf
>>> float(tf.keras.regularizers.L2(2.0)(tf.ones([5, 5])))
50.0
"""
from __future__ import annotations

from typing import Any, Optional

from engine.convert import convert_to_tensor
from engine.ops import abs, add, cast, divide, matmul, multiply, reduce_sum, square, transpose
from engine.tensor import Tensor

__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2", "orthogonal_regularizer",
           "get", "serialize", "deserialize"]


def _factor(value: Any, name: str) -> float:
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"Invalid value for argument {name}: expected a float. Received: {name}={value!r}")
    if value < 0:
        raise ValueError(f"Invalid value for argument {name}: expected a non-negative float. Received: "
                         f"{name}={value}")
    return float(value)


class Regularizer:
    """Base class: a callable from a weight (or an activity) to a scalar penalty."""

    def __call__(self, x: Any) -> Any:
        return 0.0

    def get_config(self) -> dict:
        raise NotImplementedError(f"{self} does not implement get_config()")

    @classmethod
    def from_config(cls, config: dict) -> "Regularizer":
        return cls(**config)


class L1L2(Regularizer):
    """`l1 * sum(|x|) + l2 * sum(x^2)`."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = _factor(0.0 if l1 is None else l1, "l1")
        self.l2 = _factor(0.0 if l2 is None else l2, "l2")

    def __call__(self, x: Any) -> Tensor:
        x = convert_to_tensor(x)
        total = convert_to_tensor(0.0, dtype=x.dtype)
        if self.l1:
            total = add(total, multiply(cast(self.l1, x.dtype), reduce_sum(abs(x))))
        if self.l2:
            total = add(total, multiply(cast(self.l2, x.dtype), reduce_sum(square(x))))
        return total

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """`l1 * sum(|x|)`."""

    def __init__(self, l1: float = 0.01) -> None:
        self.l1 = _factor(0.01 if l1 is None else l1, "l1")

    def __call__(self, x: Any) -> Tensor:
        x = convert_to_tensor(x)
        return multiply(cast(self.l1, x.dtype), reduce_sum(abs(x)))

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(Regularizer):
    """`l2 * sum(x^2)`."""

    def __init__(self, l2: float = 0.01) -> None:
        self.l2 = _factor(0.01 if l2 is None else l2, "l2")

    def __call__(self, x: Any) -> Tensor:
        x = convert_to_tensor(x)
        return multiply(cast(self.l2, x.dtype), reduce_sum(square(x)))

    def get_config(self) -> dict:
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """`factor` times the mean |dot product| of distinct L2-normalized rows (or columns) of a rank-2 weight."""

    def __init__(self, factor: float = 0.01, mode: str = "rows") -> None:
        self.factor = _factor(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError(f'Invalid value for argument `mode`. Expected one of {{"rows", "columns"}}. '
                             f"Received: mode={mode}")
        self.mode = mode

    def __call__(self, x: Any) -> Tensor:
        from engine.nn import l2_normalize
        from engine.ops import eye
        x = convert_to_tensor(x)
        if len(x.shape) != 2:
            raise ValueError(f"Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape={x.shape}")
        if self.mode == "rows":
            x = l2_normalize(x, axis=1)
            product, size = matmul(x, transpose(x)), x.shape[0]
        else:
            x = l2_normalize(x, axis=0)
            product, size = matmul(transpose(x), x), x.shape[1]
        off = multiply(product, cast(1.0, x.dtype) - eye(size, dtype=x.dtype))
        count = float(size * size - size)
        return multiply(cast(self.factor, x.dtype), divide(reduce_sum(abs(off)), cast(count, x.dtype)))

    def get_config(self) -> dict:
        return {"factor": self.factor, "mode": self.mode}


l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer
_CLASSES = {c.__name__: c for c in (L1, L2, L1L2, OrthogonalRegularizer)}
# Keras 3 resolves class names and their snake_case forms: 'l1', 'l2', 'l1l2' (factors 0.01, 0.01, 0 and 0); the
# 'l1_l2' of its docstring raises ValueError in TF 2.21, and so it does here.
_BY_NAME: dict[str, Any] = {"l1": L1, "l2": L2, "l1l2": L1L2, "orthogonal_regularizer": OrthogonalRegularizer}


def get(identifier: Any) -> Optional[Any]:
    """None, a name ('l1', 'l2', 'L1L2'), a config dict, a Regularizer or any callable."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        make = _BY_NAME.get(identifier) or _CLASSES.get(identifier)
        if make is None:
            raise ValueError(f"Could not interpret regularizer identifier: {identifier!r}")
        return make()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer identifier: {identifier!r}")


def serialize(regularizer: Any) -> Optional[dict]:
    from engine.keras.registry import serialize_as
    return serialize_as(regularizer, Regularizer, "regularizer")


def deserialize(config: dict, custom_objects: Optional[dict] = None) -> Any:
    from engine.keras.registry import deserialize_from
    return deserialize_from(config, _CLASSES, "regularizer", custom_objects)


def activity_losses(regularizer: Any, outputs: Any) -> list[Tensor]:
    """The activity regularizer's penalty of each output tensor, divided by its batch size (Keras 3)."""
    from engine import nest
    from engine.ops import divide_no_nan, shape
    losses = []
    for out in nest.flatten(outputs):
        if isinstance(out, Tensor):
            loss = convert_to_tensor(regularizer(out))
            if len(out.shape):
                loss = divide_no_nan(loss, cast(shape(out)[0], loss.dtype))
            losses.append(loss)
    return losses
