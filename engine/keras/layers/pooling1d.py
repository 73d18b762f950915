"""1-D pooling over (batch, steps, features): MaxPooling1D, AveragePooling1D (a pooling row on a height-1 image,
as `tf.nn.conv1d` is a conv2d), GlobalAveragePooling1D and GlobalMaxPooling1D (reductions over the steps)."""
from __future__ import annotations

from typing import Any, Optional

from engine.keras.layers.base import Layer
from engine.keras.layers.conv import _channels_last, _out, _padding
from engine.nn_conv import _batch, avg_pool2d, max_pool2d
from engine.ops import cast, divide, multiply, reduce_max, reduce_mean, reduce_sum, reshape

__all__ = ["MaxPooling1D", "AveragePooling1D", "GlobalAveragePooling1D", "GlobalMaxPooling1D"]


def _int1(value: Any, what: str) -> int:
    v = value[0] if isinstance(value, (list, tuple)) and len(value) == 1 else value
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise ValueError(f"The `{what}` argument must be a positive integer or a tuple of 1 integer. "
                         f"Received: {what}={value!r}")
    return int(v)


class _Pooling1D(Layer):
    pool = staticmethod(max_pool2d)

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: Optional[str] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _channels_last(data_format)
        self.pool_size = (_int1(pool_size, "pool_size"),)
        self.strides = (_int1(strides, "strides"),) if strides is not None else self.pool_size
        self.padding = _padding(padding)

    def call(self, inputs: Any) -> Any:
        x = reshape(inputs, [_batch(inputs), 1, inputs.shape[1], inputs.shape[2]])
        y = type(self).pool(x, (1, self.pool_size[0]), (1, self.strides[0]), self.padding.upper())
        return reshape(y, [_batch(y), y.shape[2], y.shape[3]])

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return (input_shape[0], _out(input_shape[1], self.pool_size[0], self.strides[0], 1, self.padding),
                input_shape[2])

    def get_config(self) -> dict:
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": "channels_last"}


class MaxPooling1D(_Pooling1D):
    """The maximum of each window of `pool_size` steps, every `strides` steps (default: pool_size)."""
    pool = staticmethod(max_pool2d)


class AveragePooling1D(_Pooling1D):
    """The mean of each window (with padding 'same', of its real steps only)."""
    pool = staticmethod(avg_pool2d)


class _GlobalPooling1D(Layer):
    def __init__(self, data_format: Optional[str] = None, keepdims: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _channels_last(data_format)
        self.keepdims = keepdims

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return (input_shape[0], 1, input_shape[2]) if self.keepdims else (input_shape[0], input_shape[2])

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": "channels_last", "keepdims": self.keepdims}


class GlobalAveragePooling1D(_GlobalPooling1D):
    """The mean over the steps (with `mask`, (batch, steps), over the unmasked steps only)."""

    def call(self, inputs: Any, mask: Any = None) -> Any:
        if mask is None:
            return reduce_mean(inputs, axis=1, keepdims=self.keepdims)
        from engine.convert import convert_to_tensor
        from engine.ops import expand_dims
        m = expand_dims(cast(convert_to_tensor(mask), inputs.dtype), -1)
        return divide(reduce_sum(multiply(inputs, m), axis=1, keepdims=self.keepdims),
                      reduce_sum(m, axis=1, keepdims=self.keepdims))


class GlobalMaxPooling1D(_GlobalPooling1D):
    """The maximum over the steps."""

    def call(self, inputs: Any) -> Any:
        return reduce_max(inputs, axis=1, keepdims=self.keepdims)


MaxPool1D, AvgPool1D = MaxPooling1D, AveragePooling1D
