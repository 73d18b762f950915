"""Preprocessing and normalization layers: Rescaling, Normalization (with `adapt`), CategoryEncoding and
UnitNormalization, with Keras 3's formulas, defaults and configs.

`Normalization.adapt(data)` takes an array, a tensor, or batches (a batched `tf.data.Dataset`, a list or generator
of arrays) and stores the mean and variance in non-trainable weights, so a saved model keeps them."""
from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import numpy as np

from engine.convert import convert_to_tensor
from engine.keras.layers.base import Layer
from engine.ops import (add, cast, divide, maximum, minimum, multiply, one_hot, reduce_max, reduce_sum, reshape,
                        rsqrt, sqrt, square, subtract)

__all__ = ["Rescaling", "Normalization", "CategoryEncoding", "UnitNormalization"]

EPSILON = 1e-7  # keras.backend.epsilon()


class Rescaling(Layer):
    """`inputs * scale + offset`, in the layer's compute dtype (e.g. `Rescaling(1. / 255)`)."""

    def __init__(self, scale: Any, offset: Any = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset

    def call(self, inputs: Any) -> Any:
        dtype = self.compute_dtype
        x = convert_to_tensor(inputs)
        x = x if x.dtype.name == dtype else cast(x, dtype)
        scale = cast(convert_to_tensor(np.asarray(self.scale)), dtype)
        offset = cast(convert_to_tensor(np.asarray(self.offset)), dtype)
        return add(multiply(x, scale), offset)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": _jsonable(self.scale), "offset": _jsonable(self.offset)}


def _jsonable(value: Any) -> Any:
    return np.asarray(value).tolist() if isinstance(value, (np.ndarray, np.generic, list, tuple)) else value


class Normalization(Layer):
    """`(x - mean) / max(sqrt(variance), 1e-7)` per position of `axis` (`invert=True`: the inverse), with the
    statistics given or learned by `adapt`."""

    def __init__(self, axis: Union[None, int, Sequence[int]] = -1, mean: Any = None, variance: Any = None,
                 invert: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = () if axis is None else ((axis,) if isinstance(axis, int) else tuple(axis))
        self.input_mean, self.input_variance, self.invert = mean, variance, invert
        if (mean is not None) != (variance is not None):
            raise ValueError(f"When setting values directly, both `mean` and `variance` must be set. Received: "
                             f"mean={mean} and variance={variance}")
        if mean is not None and np.shape(mean) != np.shape(variance):
            raise ValueError(f"When setting values directly, `mean` and `variance` must have the same shape. "
                             f"Received: mean shape {np.shape(mean)} and variance shape {np.shape(variance)}")

    def build(self, input_shape: Any) -> None:
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(f"All `axis` values must be in the range [-ndim, ndim). Received inputs with "
                             f"ndim={ndim}, while axis={self.axis}")
        self._build_input_shape = tuple(input_shape)
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        for d in self._keep_axis:
            if input_shape[d] is None:
                raise ValueError(f"All `axis` values to be kept must have a known shape. Received axis={self.axis}, "
                                 f"inputs.shape={tuple(input_shape)}, with unknown axis at index {d}")
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = [input_shape[d] if d in self._keep_axis else 1 for d in range(ndim)]
        self._stat_shape = tuple(input_shape[d] for d in self._keep_axis)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(name="mean", shape=self._stat_shape, initializer="zeros",
                                              trainable=False)
            self.adapt_variance = self.add_weight(name="variance", shape=self._stat_shape, initializer="ones",
                                                  trainable=False)
            self.count = self.add_weight(name="count", shape=(), dtype="int64", initializer="zeros",
                                         trainable=False)
        self.built = True

    def _given(self, value: Any) -> np.ndarray:
        """A given mean or variance, broadcast against the kept axes as Keras does (trailing kept axes first)."""
        v = np.asarray(value, dtype=np.float64)
        expanded = [1] * len(self._broadcast_shape)
        for i in range(1, v.ndim + 1):
            expanded[self._keep_axis[-i]] = v.shape[-i]
        return np.broadcast_to(v.reshape(expanded), self._broadcast_shape).astype(np.dtype(self.compute_dtype))

    def _statistics(self) -> tuple[Any, Any]:
        if self.input_mean is not None:
            return (convert_to_tensor(self._given(self.input_mean)),
                    convert_to_tensor(self._given(self.input_variance)))
        return (reshape(self.read(self.adapt_mean), self._broadcast_shape),
                reshape(self.read(self.adapt_variance), self._broadcast_shape))

    def call(self, inputs: Any) -> Any:
        x = convert_to_tensor(inputs)
        x = x if x.dtype.name == self.compute_dtype else cast(x, self.compute_dtype)
        mean, variance = self._statistics()
        std = maximum(sqrt(variance), EPSILON)
        return add(mean, multiply(x, std)) if self.invert else divide(subtract(x, mean), std)

    def adapt(self, data: Any) -> None:
        """Sets the mean and variance from `data`: an array or tensor, or an iterable of batches."""
        whole = isinstance(data, np.ndarray) or hasattr(data, "numpy") and not hasattr(data, "element_spec")
        if whole:
            batches: Any = [np.asarray(data)]
        else:
            spec = getattr(data, "element_spec", None)
            if spec is not None:
                x_spec = spec[0] if isinstance(spec, tuple) else spec
                if len(x_spec.shape) == 1:   # an unbatched dataset of vectors: Keras batches it by 128
                    data = data.batch(128)
            batches = data
        total_mean = total_var = None
        total_count = 0
        for batch in batches:
            if isinstance(batch, tuple):
                batch = batch[0]
            arr = np.asarray(batch)
            if not self.built:
                self.build(tuple(arr.shape))
            for d in self._keep_axis:
                if arr.shape[d] != self._build_input_shape[d]:
                    raise ValueError(f"The layer was built with input_shape={self._build_input_shape}, but adapt() "
                                     f"is being called with data with an incompatible shape, data.shape={arr.shape}")
            if whole:   # one array: numpy's mean and variance of it
                total_mean, total_var = arr.mean(axis=self._reduce_axis), arr.var(axis=self._reduce_axis)
                break
            arr = arr.astype(np.dtype(self.compute_dtype))
            b_mean, b_var = arr.mean(axis=self._reduce_axis), arr.var(axis=self._reduce_axis)
            count = int(np.prod([arr.shape[d] for d in self._reduce_axis])) if self._reduce_axis else 1
            total_count += count
            w = count / total_count
            if total_mean is None:
                total_mean, total_var = np.zeros_like(b_mean), np.zeros_like(b_var)
            new_mean = total_mean * (1.0 - w) + b_mean * w
            total_var = (total_var + (total_mean - new_mean) ** 2) * (1.0 - w) + (b_var + (b_mean - new_mean) ** 2) * w
            total_mean = new_mean
        if total_mean is None:
            raise ValueError("adapt() received an empty iterable (no batches). Expected at least one batch.")
        if self.input_mean is not None:
            raise ValueError("Normalization was given `mean` and `variance`: there are no statistics to adapt")
        self.adapt_mean.assign(np.asarray(total_mean, self.adapt_mean.dtype.np).reshape(self._stat_shape))
        self.adapt_variance.assign(np.asarray(total_var, self.adapt_variance.dtype.np).reshape(self._stat_shape))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": None if self.input_mean is None else np.asarray(self.input_mean).tolist(),
                "variance": None if self.input_variance is None else np.asarray(self.input_variance).tolist()}


class CategoryEncoding(Layer):
    """Integer indices in [0, num_tokens) to vectors: 'one_hot' (one per index), 'multi_hot' (1 where an index
    of the sample occurs, the default) or 'count' (how often, optionally weighted by `count_weights`)."""

    def __init__(self, num_tokens: Optional[int] = None, output_mode: str = "multi_hot", sparse: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(autocast=False, **kwargs)
        output_mode = "multi_hot" if output_mode == "binary" else output_mode
        if output_mode not in ("count", "one_hot", "multi_hot"):
            raise ValueError(f"Unknown arg for output_mode: {output_mode}")
        if num_tokens is None:
            raise ValueError("num_tokens must be set to use this layer. If the number of tokens is not known "
                             "beforehand, use the IntegerLookup layer instead.")
        if num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        if sparse:
            raise NotImplementedError("CategoryEncoding(sparse=True): sparse tensors are not supported")
        self.num_tokens, self.output_mode, self.sparse = int(num_tokens), output_mode, sparse

    def call(self, inputs: Any, count_weights: Any = None) -> Any:
        x = convert_to_tensor(inputs)
        x = x if x.dtype.is_integer else cast(x, "int64")
        if len(x.shape) == 0:
            x = reshape(x, [1])
        if count_weights is not None and self.output_mode != "count":
            raise ValueError(f"`count_weights` is not used when `output_mode` is not `'count'`. Received "
                             f"`count_weights={count_weights}`.")
        if self.output_mode == "one_hot":
            if len(x.shape) > 1 and x.shape[-1] == 1:
                x = reshape(x, [-1 if d is None else d for d in x.shape[:-1]])
            return one_hot(x, self.num_tokens, dtype=self.compute_dtype)
        hot = one_hot(x, self.num_tokens, dtype=self.compute_dtype)  # (..., k, num_tokens)
        axis = len(x.shape) - 1                                       # over the sample's k indices
        if self.output_mode == "multi_hot":
            return reduce_max(hot, axis=axis)
        if count_weights is not None:
            w = cast(convert_to_tensor(count_weights), self.compute_dtype)
            hot = multiply(hot, reshape(w, [-1 if d is None else d for d in w.shape] + [1]))
        return reduce_sum(hot, axis=axis)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        if len(input_shape) == 0:
            return (self.num_tokens,)
        if self.output_mode == "one_hot" and (input_shape[-1] != 1 or len(input_shape) == 1):
            return tuple(input_shape) + (self.num_tokens,)
        return tuple(input_shape[:-1]) + (self.num_tokens,)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_tokens": self.num_tokens, "output_mode": self.output_mode}


class UnitNormalization(Layer):
    """`x * min(rsqrt(sum(x^2 over axis)), 1e12)`: each vector along `axis` scaled to unit L2 norm."""

    def __init__(self, axis: Union[int, Sequence[int]] = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis

    def call(self, inputs: Any) -> Any:
        x = convert_to_tensor(inputs)
        inv = minimum(rsqrt(reduce_sum(square(x), axis=self.axis, keepdims=True)), 1e12)
        return multiply(x, inv)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}
