"""Reshaping layers (channels_last): ZeroPadding1D/2D, Cropping1D/2D, UpSampling1D/2D (nearest, bilinear), Permute and
RepeatVector, with Keras 3's argument forms, output shapes and configs. Each is one or two existing ops (pad,
strided slice, repeat, transpose, tile; bilinear upsampling is two products with constant interpolation
matrices), so it traces and differentiates like them."""
from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import numpy as np

from engine.convert import convert_to_tensor
from engine.keras.layers.base import Layer
from engine.ops import expand_dims, matmul, pad, repeat, reshape, tile, transpose

__all__ = ["ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D", "UpSampling1D", "UpSampling2D", "Permute",
           "RepeatVector"]

Pair = Union[int, Sequence[int]]


def _channels_last(data_format: Optional[str]) -> None:
    if data_format not in (None, "channels_last"):
        raise ValueError(f"data_format {data_format!r}: only 'channels_last' is supported")


def _pair(value: Pair, what: str) -> tuple[int, int]:
    """An int (both sides) or a pair of non-negative ints."""
    p = (int(value), int(value)) if isinstance(value, int) else tuple(int(v) for v in value)
    if len(p) != 2 or min(p) < 0:
        raise ValueError(f"`{what}` should be an int or a tuple of 2 non-negative ints. Received: {what}={value!r}")
    return p  # type: ignore[return-value]


def _pairs2d(value: Any, what: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """An int, a pair (symmetric height, width amounts) or a pair of pairs ((top, bottom), (left, right))."""
    if isinstance(value, int):
        return (value, value), (value, value)
    value = tuple(value)
    if len(value) != 2:
        raise ValueError(f"`{what}` should have two elements. Received: {what}={value!r}")
    if all(isinstance(v, int) for v in value):
        return (value[0], value[0]), (value[1], value[1])
    return _pair(value[0], what), _pair(value[1], what)


def _grow(size: Optional[int], amount: int) -> Optional[int]:
    return None if size is None else size + amount


class ZeroPadding1D(Layer):
    """Zeros before and after the steps axis of (batch, steps, features)."""

    def __init__(self, padding: Pair = 1, data_format: Optional[str] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _channels_last(data_format)
        self.padding = _pair(padding, "padding")

    def call(self, inputs: Any) -> Any:
        return pad(inputs, [[0, 0], list(self.padding), [0, 0]])

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return (input_shape[0], _grow(input_shape[1], sum(self.padding)), input_shape[2])

    def get_config(self) -> dict:
        return {**super().get_config(), "padding": self.padding, "data_format": "channels_last"}


class ZeroPadding2D(Layer):
    """Zeros around the rows and columns of (batch, rows, cols, channels)."""

    def __init__(self, padding: Any = (1, 1), data_format: Optional[str] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _channels_last(data_format)
        self.padding = _pairs2d(padding, "padding")

    def call(self, inputs: Any) -> Any:
        return pad(inputs, [[0, 0], list(self.padding[0]), list(self.padding[1]), [0, 0]])

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return (input_shape[0], _grow(input_shape[1], sum(self.padding[0])),
                _grow(input_shape[2], sum(self.padding[1])), input_shape[3])

    def get_config(self) -> dict:
        return {**super().get_config(), "padding": self.padding, "data_format": "channels_last"}


def _crop(size: Optional[int], before: int, after: int, what: str) -> Optional[int]:
    if size is not None and before + after >= size:
        raise ValueError(f"`{what}` parameter of the cropping layer is too high for the input size {size}: "
                         f"cropping ({before}, {after}) leaves nothing")
    return None if size is None else size - before - after


class Cropping1D(Layer):
    """Removes `cropping` steps from the start and end of the steps axis."""

    def __init__(self, cropping: Pair = (1, 1), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cropping = _pair(cropping, "cropping")

    def call(self, inputs: Any) -> Any:
        a, b = self.cropping
        _crop(inputs.shape[1], a, b, "cropping")
        return inputs[:, a:inputs.shape[1] - b, :] if inputs.shape[1] is not None else inputs[:, a:-b or None, :]

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return (input_shape[0], _crop(input_shape[1], *self.cropping, "cropping"), input_shape[2])

    def get_config(self) -> dict:
        return {**super().get_config(), "cropping": self.cropping}


class Cropping2D(Layer):
    """Removes rows and columns at the borders: cropping ((top, bottom), (left, right))."""

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format: Optional[str] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _channels_last(data_format)
        self.cropping = _pairs2d(cropping, "cropping")

    def call(self, inputs: Any) -> Any:
        (t, b), (left, r) = self.cropping
        h, w = inputs.shape[1], inputs.shape[2]
        _crop(h, t, b, "cropping")
        _crop(w, left, r, "cropping")
        rows = slice(t, h - b if h is not None else (-b or None))
        cols = slice(left, w - r if w is not None else (-r or None))
        return inputs[:, rows, cols, :]

    def compute_output_shape(self, input_shape: Any) -> tuple:
        (t, b), (left, r) = self.cropping
        return (input_shape[0], _crop(input_shape[1], t, b, "cropping"), _crop(input_shape[2], left, r, "cropping"),
                input_shape[3])

    def get_config(self) -> dict:
        return {**super().get_config(), "cropping": self.cropping, "data_format": "channels_last"}


class UpSampling1D(Layer):
    """Repeats each step `size` times."""

    def __init__(self, size: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.size = int(size)

    def call(self, inputs: Any) -> Any:
        return repeat(inputs, self.size, axis=1)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        steps = None if input_shape[1] is None else input_shape[1] * self.size
        return (input_shape[0], steps, input_shape[2])

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size}


class UpSampling2D(Layer):
    """Repeats each row `size[0]` times and each column `size[1]` times (nearest-neighbour interpolation)."""

    def __init__(self, size: Pair = (2, 2), data_format: Optional[str] = None, interpolation: str = "nearest",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _channels_last(data_format)
        self.size = (int(size), int(size)) if isinstance(size, int) else tuple(int(s) for s in size)
        if interpolation not in ("nearest", "bilinear"):
            raise NotImplementedError(f"UpSampling2D: interpolation={interpolation!r} is not supported yet (only "
                                      f"'nearest' and 'bilinear')")
        self.interpolation = interpolation

    def call(self, inputs: Any) -> Any:
        if self.interpolation == "nearest":
            return repeat(repeat(inputs, self.size[0], axis=1), self.size[1], axis=2)
        h, w = inputs.shape[1], inputs.shape[2]
        if h is None or w is None:
            raise ValueError(f"UpSampling2D {self.name!r}: bilinear interpolation needs the rows and columns of the "
                             f"input known, got shape {tuple(inputs.shape)}")
        c, oh, ow = inputs.shape[3], h * self.size[0], w * self.size[1]
        rows = convert_to_tensor(bilinear_matrix(h, self.size[0]).T.astype(inputs.dtype.np))
        cols = convert_to_tensor(bilinear_matrix(w, self.size[1]).T.astype(inputs.dtype.np))
        # Two matrix products on the rows and then the columns (the batch may be unknown: -1 in the reshapes).
        t = matmul(reshape(transpose(inputs, [0, 2, 3, 1]), [-1, h]), rows)        # (n*w*c, oh)
        t = transpose(reshape(t, [-1, w, c, oh]), [0, 3, 2, 1])                    # (n, oh, c, w)
        t = matmul(reshape(t, [-1, w]), cols)                                       # (n*oh*c, ow)
        return transpose(reshape(t, [-1, oh, c, ow]), [0, 1, 3, 2])

    def compute_output_shape(self, input_shape: Any) -> tuple:
        h, w = input_shape[1], input_shape[2]
        return (input_shape[0], None if h is None else h * self.size[0], None if w is None else w * self.size[1],
                input_shape[3])

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size, "data_format": "channels_last",
                "interpolation": self.interpolation}


def bilinear_matrix(size: int, factor: int) -> np.ndarray:
    """The (size * factor, size) matrix of TF's bilinear resize with half-pixel centers (what Keras 3's
    UpSampling2D calls): output o reads input (o + 0.5) / factor - 0.5, clamped to the edges."""
    out = np.zeros((size * factor, size))
    for o in range(size * factor):
        x = (o + 0.5) / factor - 0.5
        lower = int(np.floor(x))
        frac = x - lower
        out[o, min(max(lower, 0), size - 1)] += 1.0 - frac
        out[o, min(max(lower + 1, 0), size - 1)] += frac
    return out


class Permute(Layer):
    """Permutes the axes past the batch: `dims` is a permutation of 1..rank-1 (the batch axis stays first)."""

    def __init__(self, dims: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` "
                             f"must be consecutive and start from 1. Received dims={dims}")

    def call(self, inputs: Any) -> Any:
        return transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self) -> dict:
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    """(batch, features) -> (batch, n, features)."""

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(n, int):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        self.n = n

    def call(self, inputs: Any) -> Any:
        if len(inputs.shape) != 2:
            raise ValueError(f"Input of RepeatVector should be 2-D, got shape {tuple(inputs.shape)}")
        return tile(expand_dims(inputs, 1), [1, self.n, 1])

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict:
        return {**super().get_config(), "n": self.n}
