"""Normalization layers: BatchNormalization and LayerNormalization (Keras 3's formulas and defaults)."""
from __future__ import annotations

from typing import Any, Sequence, Union

from engine.keras import initializers
from engine.keras.layers.base import Layer
from engine.ops import add, cast, multiply, reduce_mean, reshape, rsqrt, square, subtract

__all__ = ["BatchNormalization", "LayerNormalization"]


def _axes(axis: Union[int, Sequence[int]], rank: int) -> list[int]:
    axes = [axis] if isinstance(axis, int) else list(axis)
    return sorted(a % rank for a in axes)


class BatchNormalization(Layer):
    """Normalizes with the batch's statistics in training (updating moving averages with `momentum`) and with the
    moving statistics in inference: `gamma * (x - mean) / sqrt(var + epsilon) + beta`."""

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 moving_mean_initializer: Any = "zeros", moving_variance_initializer: Any = "ones",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis, self.momentum, self.epsilon, self.center, self.scale = axis, float(momentum), float(epsilon), \
            center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def build(self, input_shape: Any) -> None:
        rank = len(input_shape)
        self._axis = _axes(self.axis, rank)
        shape = tuple(input_shape[a] for a in self._axis)
        self.gamma = self.add_weight(shape=shape, initializer=self.gamma_initializer, name="gamma") \
            if self.scale else None
        self.beta = self.add_weight(shape=shape, initializer=self.beta_initializer, name="beta") \
            if self.center else None
        self.moving_mean = self.add_weight(shape=shape, initializer=self.moving_mean_initializer,
                                           name="moving_mean", trainable=False)
        self.moving_variance = self.add_weight(shape=shape, initializer=self.moving_variance_initializer,
                                               name="moving_variance", trainable=False)
        self.built = True

    def _broadcast(self, v: Any, rank: int) -> Any:
        shape = [1] * rank
        for a, d in zip(self._axis, v.shape):
            shape[a] = d
        return reshape(v, shape)

    def call(self, inputs: Any, training: Any = None) -> Any:
        out_dtype = inputs.dtype
        inputs = cast(inputs, self.variable_dtype)   # statistics in the Variables' dtype (float32 under mixed)
        rank = len(inputs.shape)
        reduce = [a for a in range(rank) if a not in self._axis]
        if training and self.trainable:
            mean = reduce_mean(inputs, axis=reduce)
            var = reduce_mean(square(subtract(inputs, self._broadcast(mean, rank))), axis=reduce)
            m = self.momentum
            self.moving_mean.assign(add(multiply(self.moving_mean, m), multiply(mean, 1.0 - m)))
            self.moving_variance.assign(add(multiply(self.moving_variance, m), multiply(var, 1.0 - m)))
        else:
            mean, var = self.moving_mean, self.moving_variance
        y = multiply(subtract(inputs, self._broadcast(mean, rank)), self._broadcast(rsqrt(add(var, self.epsilon)),
                                                                                    rank))
        if self.gamma is not None:
            y = multiply(y, self._broadcast(self.gamma, rank))
        if self.beta is not None:
            y = add(y, self._broadcast(self.beta, rank))
        return cast(y, out_dtype)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer)}


class LayerNormalization(Layer):
    """Normalizes each example over `axis` (default the last): `gamma * (x - mean) / sqrt(var + epsilon) + beta`."""

    def __init__(self, axis: Union[int, Sequence[int]] = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis, self.epsilon, self.center, self.scale = axis, float(epsilon), center, scale
        self.supports_masking = True
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)

    def build(self, input_shape: Any) -> None:
        self._axis = _axes(self.axis, len(input_shape))
        shape = tuple(input_shape[a] for a in self._axis)
        self.gamma = self.add_weight(shape=shape, initializer=self.gamma_initializer, name="gamma") \
            if self.scale else None
        self.beta = self.add_weight(shape=shape, initializer=self.beta_initializer, name="beta") \
            if self.center else None
        self.built = True

    def call(self, inputs: Any) -> Any:
        out_dtype = inputs.dtype
        inputs = cast(inputs, self.variable_dtype)
        rank = len(inputs.shape)
        mean = reduce_mean(inputs, axis=self._axis, keepdims=True)
        var = reduce_mean(square(subtract(inputs, mean)), axis=self._axis, keepdims=True)
        y = multiply(subtract(inputs, mean), rsqrt(add(var, self.epsilon)))
        shape = [inputs.shape[a] if a in self._axis else 1 for a in range(rank)]
        if self.gamma is not None:
            y = multiply(y, reshape(self.gamma, shape))
        if self.beta is not None:
            y = add(y, reshape(self.beta, shape))
        return cast(y, out_dtype)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale, "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer)}
