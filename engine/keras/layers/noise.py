"""Regularization layers active only in training (identity in inference): GaussianNoise, GaussianDropout,
SpatialDropout1D/2D (whole feature maps dropped), and ActivityRegularization (adds an L1/L2 penalty of its input to
`losses`). Random draws come from Kiln's counter-based streams (`engine.random`), shaped like the input, so a step
traced with an unknown batch dimension draws the right number at run time; the values differ from TensorFlow's."""
from __future__ import annotations

import math
from typing import Any, Optional

from engine import random
from engine.keras import regularizers
from engine.keras.layers.base import Layer
from engine.ops import add, cast, cos, greater_equal, log, multiply, sqrt, subtract

__all__ = ["GaussianNoise", "GaussianDropout", "SpatialDropout1D", "SpatialDropout2D", "ActivityRegularization"]


def _draw_dtype(like: Any) -> str:
    """The random streams draw float32 or float64; half-precision layers (mixed policies) draw float32."""
    return like.dtype.name if like.dtype.size >= 4 else "float32"


def normal_like(like: Any, seed: Optional[int]) -> Any:
    """Standard normal numbers of like's shape and dtype (Box-Muller over two uniform draws; unknown dims
    allowed)."""
    u1 = random.uniform_like(like, dtype=_draw_dtype(like), seed=seed)
    u2 = random.uniform_like(like, dtype=_draw_dtype(like), seed=seed)
    radius = sqrt(multiply(log(subtract(1.0, u1)), -2.0))  # 1 - u1 is in (0, 1]: the log is finite
    return cast(multiply(radius, cos(multiply(u2, 2 * math.pi))), like.dtype)


def _rate(rate: Any) -> float:
    if not 0 <= rate <= 1:
        raise ValueError(f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. "
                         f"Received: rate={rate}")
    return float(rate)


class _TrainingOnly(Layer):
    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape


class GaussianNoise(_TrainingOnly):
    """Adds zero-centred Gaussian noise of standard deviation `stddev` in training."""

    def __init__(self, stddev: float, seed: Optional[int] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0 <= stddev <= 1:
            raise ValueError(f"Invalid value received for argument `stddev`. Expected a float value between 0 and 1. "
                             f"Received: stddev={stddev}")
        self.stddev, self.seed = stddev, seed

    def call(self, inputs: Any, training: Optional[bool] = False) -> Any:
        if not training or self.stddev <= 0:
            return inputs
        return add(inputs, multiply(normal_like(inputs, self.seed), float(self.stddev)))

    def get_config(self) -> dict:
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(_TrainingOnly):
    """Multiplies by Gaussian noise of mean 1 and standard deviation sqrt(rate / (1 - rate)) in training."""

    def __init__(self, rate: float, seed: Optional[int] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate, self.seed = _rate(rate), seed

    def call(self, inputs: Any, training: Optional[bool] = False) -> Any:
        if not training or not 0 < self.rate < 1:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return multiply(inputs, add(multiply(normal_like(inputs, self.seed), stddev), 1.0))

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class _SpatialDropout(_TrainingOnly):
    rank = 3

    def __init__(self, rate: float, seed: Optional[int] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate, self.seed = _rate(rate), seed

    def call(self, inputs: Any, training: Optional[bool] = False) -> Any:
        if len(inputs.shape) != self.rank:
            raise ValueError(f"{type(self).__name__} expects inputs of rank {self.rank}, got shape "
                             f"{tuple(inputs.shape)}")
        if not training or self.rate == 0:
            return inputs
        # One draw per (example, channel), broadcast over the spatial axes: noise shape (batch, 1, ..., channels).
        corner = inputs[(slice(None),) + (slice(0, 1),) * (self.rank - 2) + (slice(None),)]
        keep = greater_equal(random.uniform_like(corner, dtype=_draw_dtype(inputs), seed=self.seed), self.rate)
        return multiply(inputs, multiply(cast(keep, inputs.dtype), 1.0 / (1.0 - self.rate)))

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class SpatialDropout1D(_SpatialDropout):
    """Drops whole channels of (batch, steps, channels) in training, scaling the rest by 1 / (1 - rate)."""
    rank = 3


class SpatialDropout2D(_SpatialDropout):
    """Drops whole channels of (batch, rows, cols, channels) in training, scaling the rest by 1 / (1 - rate)."""
    rank = 4

    def __init__(self, rate: float, data_format: Optional[str] = None, seed: Optional[int] = None,
                 **kwargs: Any) -> None:
        if data_format not in (None, "channels_last"):
            raise ValueError(f"data_format {data_format!r}: only 'channels_last' is supported")
        super().__init__(rate, seed=seed, **kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": "channels_last"}


class ActivityRegularization(_TrainingOnly):
    """The identity, adding `l1 * sum(|x|) + l2 * sum(x^2)` divided by the batch size to `losses`."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any) -> None:
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = l1, l2

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}
