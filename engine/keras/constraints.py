"""`keras.constraints`: projections applied to a weight after each optimizer step (MaxNorm, NonNeg, UnitNorm,
MinMaxNorm), with Keras 3's formulas (epsilon 1e-7), defaults and configs.

A layer given `kernel_constraint=`/`bias_constraint=` sets the Variable's `constraint`; the optimizer assigns
`constraint(variable)` to every constrained Variable it has just updated, as Keras 3's `apply` does.

>>> import engine as tf
>>> tf.keras.constraints.NonNeg()(tf.constant([-1.0, 2.0])).numpy()
array([0., 2.], dtype=float32)
"""
from __future__ import annotations

from typing import Any, Optional

from engine.convert import convert_to_tensor
from engine.ops import add, clip_by_value, divide, maximum, multiply, reduce_sum, sqrt, square
from engine.tensor import Tensor

__all__ = ["Constraint", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm", "max_norm", "non_neg", "unit_norm",
           "min_max_norm", "get", "serialize", "deserialize"]

EPSILON = 1e-7


def _norms(w: Tensor, axis: Any) -> Tensor:
    return sqrt(reduce_sum(square(w), axis=axis, keepdims=True))


class Constraint:
    """Base class: `__call__(w)` returns the projected weight (the identity here)."""

    def __call__(self, w: Any) -> Any:
        return w

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Constraint":
        return cls(**config)


class MaxNorm(Constraint):
    """Rescales the slices along `axis` whose L2 norm exceeds `max_value`: `w * clip(n, 0, max) / (eps + n)`."""

    def __init__(self, max_value: float = 2, axis: Any = 0) -> None:
        self.max_value, self.axis = max_value, axis

    def __call__(self, w: Any) -> Tensor:
        w = convert_to_tensor(w)
        norms = _norms(w, self.axis)
        desired = clip_by_value(norms, 0.0, float(self.max_value))
        return multiply(w, divide(desired, add(norms, EPSILON)))

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """`max(w, 0)`."""

    def __call__(self, w: Any) -> Tensor:
        return maximum(convert_to_tensor(w), 0.0)


class UnitNorm(Constraint):
    """`w / (eps + ||w||)` along `axis`."""

    def __init__(self, axis: Any = 0) -> None:
        self.axis = axis

    def __call__(self, w: Any) -> Tensor:
        w = convert_to_tensor(w)
        return divide(w, add(_norms(w, self.axis), EPSILON))

    def get_config(self) -> dict:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Norms along `axis` pulled into [min_value, max_value] at `rate`:
    `desired = rate * clip(n, min, max) + (1 - rate) * n; w * desired / (eps + n)`."""

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis: Any = 0) -> None:
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w: Any) -> Tensor:
        w = convert_to_tensor(w)
        norms = _norms(w, self.axis)
        desired = add(multiply(clip_by_value(norms, float(self.min_value), float(self.max_value)), float(self.rate)),
                      multiply(norms, 1.0 - float(self.rate)))
        return multiply(w, divide(desired, add(norms, EPSILON)))

    def get_config(self) -> dict:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm
_CLASSES = {c.__name__: c for c in (Constraint, MaxNorm, NonNeg, UnitNorm, MinMaxNorm)}
_BY_NAME = {"max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm, "min_max_norm": MinMaxNorm}


def get(identifier: Any) -> Optional[Any]:
    """None, a name ('max_norm', 'non_neg', 'NonNeg', ...), a config dict, a Constraint or any callable."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret constraint identifier: {identifier!r}")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier() if isinstance(identifier, type) else identifier
    raise ValueError(f"Could not interpret constraint identifier: {identifier!r}")


def serialize(constraint: Any) -> Optional[dict]:
    from engine.keras.registry import serialize_as
    return serialize_as(constraint, Constraint, "constraint")


def deserialize(config: dict, custom_objects: Optional[dict] = None) -> Any:
    from engine.keras.registry import deserialize_from
    return deserialize_from(config, _CLASSES, "constraint", custom_objects)
