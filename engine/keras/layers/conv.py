"""Convolution and pooling layers over NHWC images (Keras's channels_last): Conv2D, Conv1D, MaxPooling2D,
AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, built on `engine.nn_conv`."""
from __future__ import annotations

from typing import Any, Optional, Sequence, Union

from engine.keras import activations, constraints, initializers, regularizers
from engine.keras.layers.base import Layer
from engine.keras.layers.core import weight_options_config
from engine.nn_conv import avg_pool2d, conv1d, conv2d, max_pool2d
from engine.ops import add, reduce_max, reduce_mean

__all__ = ["Conv2D", "Conv1D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D"]

Size = Union[int, Sequence[int]]


def _tuple(value: Size, n: int, what: str) -> tuple[int, ...]:
    t = (int(value),) * n if isinstance(value, int) else tuple(int(v) for v in value)
    if len(t) != n or any(v <= 0 for v in t):
        raise ValueError(f"The `{what}` argument must be a tuple of {n} positive integers. Received: {value!r}")
    return t


def _padding(padding: str) -> str:
    p = str(padding).lower()
    if p not in ("valid", "same"):
        raise ValueError(f"The `padding` argument must be one of 'valid', 'same'. Received: {padding!r}")
    return p


def _out(size: Optional[int], k: int, stride: int, dilation: int, padding: str) -> Optional[int]:
    if size is None:
        return None
    span = (k - 1) * dilation + 1
    return -(-size // stride) if padding == "same" else (size - span) // stride + 1


def _channels_last(data_format: Optional[str]) -> None:
    if data_format not in (None, "channels_last"):
        raise ValueError(f"data_format {data_format!r}: only 'channels_last' is supported")


class _Conv(Layer):
    rank = 2

    def __init__(self, filters: int, kernel_size: Size, strides: Size = 1, padding: str = "valid",
                 data_format: Optional[str] = None, dilation_rate: Size = 1, activation: Any = None,
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        _channels_last(data_format)
        self.filters = int(filters)
        self.kernel_size = _tuple(kernel_size, self.rank, "kernel_size")
        self.strides = _tuple(strides, self.rank, "strides")
        self.dilation_rate = _tuple(dilation_rate, self.rank, "dilation_rate")
        self.padding = _padding(padding)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def _kernel_shape(self, channels: int) -> tuple:
        return self.kernel_size + (channels, self.filters)

    def build(self, input_shape: Any) -> None:
        self.kernel = self.add_weight(shape=self._kernel_shape(input_shape[-1]),
                                      initializer=self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = self.add_weight(shape=(self.filters,), initializer=self.bias_initializer, name="bias",
                                    regularizer=self.bias_regularizer, constraint=self.bias_constraint) \
            if self.use_bias else None
        self.built = True

    def _convolve(self, x: Any) -> Any:
        return conv2d(x, self.read(self.kernel), self.strides, self.padding.upper(), dilations=self.dilation_rate)

    def call(self, inputs: Any) -> Any:
        y = self._convolve(inputs)
        if self.bias is not None:
            y = add(y, self.read(self.bias))
        return self.activation(y)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        spatial = [_out(s, k, st, d, self.padding) for s, k, st, d in
                   zip(input_shape[1:-1], self.kernel_size, self.strides, self.dilation_rate)]
        return (input_shape[0], *spatial, self.filters)

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters, "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "padding": self.padding, "dilation_rate": list(self.dilation_rate),
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer), **weight_options_config(self)}


class Conv2D(_Conv):
    """2-D convolution: inputs (batch, height, width, channels), kernel (kh, kw, channels, filters)."""
    rank = 2


class Conv1D(_Conv):
    """1-D convolution: inputs (batch, steps, channels), kernel (k, channels, filters)."""
    rank = 1

    def _convolve(self, x: Any) -> Any:
        return conv1d(x, self.read(self.kernel), self.strides[0], self.padding.upper(), dilations=self.dilation_rate[0])


class _Pooling2D(Layer):
    def __init__(self, pool_size: Size = (2, 2), strides: Optional[Size] = None, padding: str = "valid",
                 data_format: Optional[str] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _channels_last(data_format)
        self.pool_size = _tuple(pool_size, 2, "pool_size")
        self.strides = _tuple(strides, 2, "strides") if strides is not None else self.pool_size
        self.padding = _padding(padding)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        spatial = [_out(s, k, st, 1, self.padding) for s, k, st in zip(input_shape[1:3], self.pool_size,
                                                                         self.strides)]
        return (input_shape[0], *spatial, input_shape[3])

    def get_config(self) -> dict:
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": self.padding}


class MaxPooling2D(_Pooling2D):
    def call(self, inputs: Any) -> Any:
        return max_pool2d(inputs, self.pool_size, self.strides, self.padding.upper())


class AveragePooling2D(_Pooling2D):
    def call(self, inputs: Any) -> Any:
        return avg_pool2d(inputs, self.pool_size, self.strides, self.padding.upper())


class _GlobalPooling2D(Layer):
    def __init__(self, data_format: Optional[str] = None, keepdims: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _channels_last(data_format)
        self.keepdims = keepdims

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return (input_shape[0], 1, 1, input_shape[3]) if self.keepdims else (input_shape[0], input_shape[3])

    def get_config(self) -> dict:
        return {**super().get_config(), "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling2D):
    def call(self, inputs: Any) -> Any:
        return reduce_mean(inputs, axis=[1, 2], keepdims=self.keepdims)


class GlobalMaxPooling2D(_GlobalPooling2D):
    def call(self, inputs: Any) -> Any:
        return reduce_max(inputs, axis=[1, 2], keepdims=self.keepdims)
