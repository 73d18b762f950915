"""Conv2DTranspose: the transposed 2-D convolution, one `conv2d_backprop_input` row (the gradient of conv2d with
respect to its input, whose own gradients are conv2d and conv2d_backprop_filter), as TF's `conv2d_transpose` is.

The output size follows Keras 3 (`deconv_output_length`): without `output_padding`, `in * stride + max(k - stride, 0)`
for 'valid' and `in * stride` for 'same'; with it, `(in - 1) * stride + k - 2 * pad + output_padding` (pad = k // 2
for 'same'); TF's SAME/VALID padding of the forward convolution from that size to the input's then places the taps.
"""
from __future__ import annotations

from typing import Any, Optional

from engine.dispatch import apply
from engine.keras.layers.conv import _Conv
from engine.nn_conv import _paddings
from engine.ops import add
from engine.ops.funnel import as_tensor
from ir.ops import OPS

__all__ = ["Conv2DTranspose"]


def deconv_length(size: Optional[int], k: int, padding: str, output_padding: Optional[int], stride: int,
                  dilation: int) -> Optional[int]:
    if size is None:
        return None
    k = k + (k - 1) * (dilation - 1)
    if output_padding is None:
        return size * stride + max(k - stride, 0) if padding == "valid" else size * stride
    pad = k // 2 if padding == "same" else 0
    return (size - 1) * stride + k - 2 * pad + output_padding


class Conv2DTranspose(_Conv):
    """Transposed convolution: inputs (batch, rows, cols, channels), kernel (kh, kw, filters, channels)."""
    rank = 2

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
                 output_padding: Any = None, data_format: Optional[str] = None, dilation_rate: Any = (1, 1),
                 **kwargs: Any) -> None:
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, **kwargs)
        if output_padding is None:
            self.output_padding = None
        else:
            pads = (output_padding,) * 2 if isinstance(output_padding, int) else tuple(output_padding)
            if len(pads) != 2 or any(int(p) < 0 for p in pads):
                raise ValueError(f"The `output_padding` argument must be a tuple of 2 non-negative integers. "
                                 f"Received: {output_padding!r}")
            self.output_padding = tuple(int(p) for p in pads)
        if self.output_padding is not None and any(p >= s for p, s in zip(self.output_padding, self.strides)):
            raise ValueError(f"Strides {self.strides} must be greater than output padding {self.output_padding}.")

    def _kernel_shape(self, channels: int) -> tuple:
        return self.kernel_size + (self.filters, channels)

    def _spatial(self, input_shape: Any) -> list[Optional[int]]:
        pads = self.output_padding or (None, None)
        return [deconv_length(s, k, self.padding, p, st, d) for s, k, p, st, d in
                zip(input_shape[1:3], self.kernel_size, pads, self.strides, self.dilation_rate)]

    def call(self, inputs: Any) -> Any:
        oh, ow = self._spatial(tuple(inputs.shape))
        if oh is None or ow is None:
            raise ValueError(f"Conv2DTranspose {self.name!r}: the rows and columns of the input must be known, got "
                             f"shape {tuple(inputs.shape)}")
        pads = _paddings((oh, ow), self.kernel_size, self.strides, self.dilation_rate, self.padding)
        kernel = as_tensor(self.read(self.kernel))
        y = apply(OPS["conv2d_backprop_input"], as_tensor(inputs), kernel, shape=(inputs.shape[0], oh, ow, self.filters),
                  strides=self.strides, dilations=self.dilation_rate, paddings=pads)
        if self.bias is not None:
            y = add(y, self.read(self.bias))
        return self.activation(y)

    def compute_output_shape(self, input_shape: Any) -> list:
        return [input_shape[0], *self._spatial(input_shape), self.filters]  # a list, as Keras 3's

    def get_config(self) -> dict:
        return {**super().get_config(), "output_padding": None if self.output_padding is None
                else list(self.output_padding)}


