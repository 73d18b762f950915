"""Activation layers: ReLU, LeakyReLU, PReLU (a learned slope per unit), ELU, Softmax, with Keras 3's arguments,
defaults and configs."""
from __future__ import annotations

import warnings
from typing import Any, Optional, Sequence, Union

from engine import nn
from engine.keras import constraints, initializers, regularizers
from engine.keras.layers.base import Layer
from engine.ops import (cast, exp, expm1, greater, minimum, multiply, negative, reduce_logsumexp,
                        subtract, where)

__all__ = ["ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax"]


class _Elementwise(Layer):
    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape


class ReLU(_Elementwise):
    """`x` for threshold < x < max_value, `max_value` above, `negative_slope * (x - threshold)` below.

    >>> import engine as tf
    >>> tf.keras.layers.ReLU(max_value=1.0)(tf.constant([-1.0, 0.5, 2.0])).numpy()
    array([0. , 0.5, 1. ], dtype=float32)
    """

    def __init__(self, max_value: Optional[float] = None, negative_slope: float = 0.0, threshold: float = 0.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0.0:
            raise ValueError(f"max_value of a ReLU layer cannot be a negative value. Received: max_value={max_value}")
        if negative_slope is None or negative_slope < 0.0:
            raise ValueError(f"negative_slope of a ReLU layer cannot be None or a negative value. Received: "
                             f"negative_slope={negative_slope}")
        if threshold is None or threshold < 0.0:
            raise ValueError(f"threshold of a ReLU layer cannot be None or a negative value. Received: "
                             f"threshold={threshold}")
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def call(self, inputs: Any) -> Any:
        # Keras's order: the part above the threshold (x > threshold strictly), clipped to [0, max_value], minus
        # negative_slope * relu(threshold - x).
        threshold = float(self.threshold)
        if threshold:
            y = multiply(inputs, cast(greater(inputs, threshold), inputs.dtype))
        else:
            y = nn.relu(inputs)
        if self.max_value is not None:
            y = minimum(y, float(self.max_value))
        if self.negative_slope:
            y = subtract(y, multiply(nn.relu(subtract(threshold, inputs)), float(self.negative_slope)))
        return y

    def get_config(self) -> dict:
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(_Elementwise):
    """`x` for x >= 0, `negative_slope * x` below (default 0.3; `alpha=` is Keras's deprecated name)."""

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.")
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(f"The negative_slope value of a Leaky ReLU layer cannot be None or negative value. "
                             f"Expected a float. Received: negative_slope={negative_slope}")
        self.negative_slope = negative_slope

    def call(self, inputs: Any) -> Any:
        return nn.leaky_relu(inputs, alpha=float(self.negative_slope))

    def get_config(self) -> dict:
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(_Elementwise):
    """`x` for x > 0, `alpha * (exp(x) - 1)` otherwise."""

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = alpha

    def call(self, inputs: Any) -> Any:
        # expm1 of min(x, 0): the unused branch stays finite, so its gradient cannot turn the where's into NaN
        return where(greater(inputs, 0.0), inputs, multiply(expm1(minimum(inputs, 0.0)), float(self.alpha)))

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha": self.alpha}


class PReLU(_Elementwise):
    """`relu(x) - alpha * relu(-x)`, alpha learned per unit (one value along each axis in `shared_axes`)."""

    def __init__(self, alpha_initializer: Any = "Zeros", alpha_regularizer: Any = None, alpha_constraint: Any = None,
                 shared_axes: Union[None, int, Sequence[int]] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        else:
            self.shared_axes = list(shared_axes) if isinstance(shared_axes, (list, tuple)) else [shared_axes]

    def build(self, input_shape: Any) -> None:
        param_shape = list(input_shape[1:])
        for i in self.shared_axes or []:
            param_shape[i - 1] = 1
        if any(d is None for d in param_shape):
            raise ValueError(f"PReLU {self.name!r}: the dimensions of the input past the batch must be known (or "
                             f"shared), got {tuple(input_shape)}")
        self.alpha = self.add_weight(shape=param_shape, name="alpha", initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer, constraint=self.alpha_constraint)
        self.built = True

    def call(self, inputs: Any) -> Any:
        return subtract(nn.relu(inputs), multiply(self.read(self.alpha), nn.relu(negative(inputs))))

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha_initializer": initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
                "alpha_constraint": constraints.serialize(self.alpha_constraint), "shared_axes": self.shared_axes}


class Softmax(_Elementwise):
    """Softmax over `axis` (an int or a list of axes); `mask` (1 keeps, 0 masks) gives masked positions 0."""

    def __init__(self, axis: Union[int, Sequence[int]] = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs: Any, mask: Any = None) -> Any:
        if mask is not None:
            from engine.convert import convert_to_tensor
            mask = convert_to_tensor(mask)
            if not mask.dtype.is_bool:
                mask = greater(mask, cast(0.5, mask.dtype))
            big = -1e9 if inputs.dtype.size >= 4 else -3e4  # Keras's large negative number per dtype
            inputs = where(mask, inputs, cast(big, inputs.dtype))
        if isinstance(self.axis, (list, tuple)) and len(self.axis) > 1:
            out = exp(subtract(inputs, reduce_logsumexp(inputs, axis=list(self.axis), keepdims=True)))
        else:
            axis = self.axis[0] if isinstance(self.axis, (list, tuple)) else self.axis
            out = nn.softmax(inputs, axis=axis)
        if mask is not None:
            out = where(mask, out, cast(0.0, out.dtype))
        return out

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


