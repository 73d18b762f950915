"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Lambda, InputLayer and `keras.Input`."""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import numpy as np

from engine.keras import activations, constraints, initializers, regularizers
from engine.keras.layers.base import KerasTensor, Layer
from engine.nn import dropout
from engine.ops import add, matmul, reshape, shape

__all__ = ["weight_options_config",
           "Dense", "Activation", "Dropout", "Flatten", "Reshape", "Lambda", "InputLayer", "Input"]


class Dense(Layer):
    """`activation(inputs @ kernel + bias)` over the last axis.

    >>> import engine as tf
    >>> layer = tf.keras.layers.Dense(3, kernel_initializer="ones")
    >>> layer(tf.ones([2, 4])).numpy()
    array([[4., 4., 4.],
           [4., 4., 4.]], dtype=float32)
    """

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"Received an invalid value for `units`, expected a positive integer. "
                             f"Received: units={units!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.supports_masking = True

    def build(self, input_shape: Any) -> None:
        last = input_shape[-1]
        if last is None:
            raise ValueError(f"Dense {self.name!r}: the last dimension of the inputs must be known, got {input_shape}")
        self.kernel = self.add_weight(shape=(last, self.units), initializer=self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = self.add_weight(shape=(self.units,), initializer=self.bias_initializer, name="bias",
                                    regularizer=self.bias_regularizer, constraint=self.bias_constraint) \
            if self.use_bias else None
        self.built = True

    def call(self, inputs: Any) -> Any:
        if len(inputs.shape) == 2:
            y = matmul(inputs, self.read(self.kernel))
        else:  # contract the last axis: (..., k) @ (k, units)
            lead = [-1 if d is None else d for d in inputs.shape[:-1]]
            if lead.count(-1) > 1:  # several sizes known only at run time
                lead = [shape(inputs)[i] if d == -1 else d for i, d in enumerate(lead)]
            target = lead + [self.units]
            y = reshape(matmul(reshape(inputs, [-1, inputs.shape[-1]]), self.read(self.kernel)), target)
        if self.bias is not None:
            y = add(y, self.read(self.bias))
        return self.activation(y)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                **weight_options_config(self)}


def weight_options_config(layer: Layer) -> dict:
    """The kernel/bias regularizer and constraint entries of a Dense or Conv config (None when absent)."""
    return {"kernel_regularizer": regularizers.serialize(layer.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(layer.bias_regularizer),
            "kernel_constraint": constraints.serialize(layer.kernel_constraint),
            "bias_constraint": constraints.serialize(layer.bias_constraint)}


class Activation(Layer):
    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True

    def call(self, inputs: Any) -> Any:
        return self.activation(inputs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """In training, zeroes each input with probability `rate` and scales the rest by 1 / (1 - rate); identity in
    inference."""

    def __init__(self, rate: float, noise_shape: Optional[Sequence[int]] = None, seed: Optional[int] = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. "
                             f"Received: rate={rate}")
        self.rate, self.noise_shape, self.seed = float(rate), noise_shape, seed
        self.supports_masking = True

    def call(self, inputs: Any, training: Optional[bool] = None) -> Any:
        if not training or self.rate == 0:
            return inputs
        return dropout(inputs, rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}


class Flatten(Layer):
    """Flattens every dimension but the batch dimension."""

    def __init__(self, data_format: Optional[str] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = data_format

    def call(self, inputs: Any) -> Any:
        rest = int(np.prod(inputs.shape[1:])) if len(inputs.shape) > 1 else 1
        return reshape(inputs, [-1, rest])

    def compute_output_shape(self, input_shape: Any) -> tuple:
        rest = input_shape[1:]
        return (input_shape[0], None if any(d is None for d in rest) else int(np.prod(rest)))

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    def __init__(self, target_shape: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)

    def call(self, inputs: Any) -> Any:
        batch = inputs.shape[0] if inputs.shape[0] is not None else shape(inputs)[0]  # traced with batch None
        return reshape(inputs, [batch] + list(self.target_shape))

    def compute_output_shape(self, input_shape: Any) -> tuple:
        target = list(self.target_shape)
        if -1 in target and all(d is not None for d in input_shape[1:]):
            known = int(np.prod([d for d in target if d != -1]))
            target[target.index(-1)] = int(np.prod(input_shape[1:])) // known
        return (input_shape[0],) + tuple(None if d == -1 else d for d in target)

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Lambda(Layer):
    """Wraps a function of tensors as a layer (not saved by config: its code is Python)."""

    def __init__(self, function: Callable[..., Any], output_shape: Any = None, arguments: Optional[dict] = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.function, self._output_shape, self.arguments = function, output_shape, arguments or {}

    def call(self, inputs: Any) -> Any:
        return self.function(inputs, **self.arguments)

    def get_config(self) -> dict:
        raise NotImplementedError("keras.layers.Lambda holds Python code: Kiln saves layers as configuration and "
                                  "weights, never as code; write a Layer subclass with get_config instead")


class InputLayer(Layer):
    def __init__(self, shape: Any = None, batch_size: Optional[int] = None, dtype: Any = None,
                 input_shape: Any = None, batch_shape: Any = None, name: Optional[str] = None,
                 **kwargs: Any) -> None:
        if batch_shape is None:
            shape = shape if shape is not None else input_shape
            if shape is None:
                raise ValueError("InputLayer needs `shape` (or `batch_shape`)")
            batch_shape = (batch_size,) + tuple(shape)
        super().__init__(name=name, dtype=dtype, batch_input_shape=batch_shape, **kwargs)
        self.output = KerasTensor(batch_shape, dtype or "float32", self.name, None)
        self.built = True

    def call(self, inputs: Any) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "batch_shape": list(self._batch_input_shape)}


def Input(shape: Any = None, batch_size: Optional[int] = None, dtype: Any = None, name: Optional[str] = None,
          batch_shape: Any = None, **kwargs: Any) -> KerasTensor:
    """A symbolic input of the functional API: `keras.Input(shape=(784,))` has shape (None, 784)."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name, batch_shape=batch_shape).output
