"""Layers that combine several inputs: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate; and
Embedding."""
from __future__ import annotations

from functools import reduce
from typing import Any, Callable

from engine.keras import initializers
from engine.keras.layers.base import Layer
from engine.ops import (add, cast, concat, divide, gather, logical_or, maximum, minimum, multiply, not_equal,
                        subtract, zeros_like)

__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Embedding"]


class _Merge(Layer):
    combine: Callable[[Any, Any], Any] = staticmethod(add)

    def call(self, inputs: Any) -> Any:
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError(f"A merge layer ({type(self).__name__}) should be called on a list of at least 2 "
                             f"inputs. Got: {inputs!r}")
        return reduce(self.combine, inputs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape[0])

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """A step is kept where any input keeps it (Keras 3's merge masks)."""
        masks = [m for m in (mask or []) if m is not None]
        return reduce(logical_or, masks) if masks else None


class Add(_Merge):
    combine = staticmethod(add)


class Multiply(_Merge):
    combine = staticmethod(multiply)


class Maximum(_Merge):
    combine = staticmethod(maximum)


class Minimum(_Merge):
    combine = staticmethod(minimum)


class Subtract(_Merge):
    def call(self, inputs: Any) -> Any:
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. Got: {inputs!r}")
        return subtract(inputs[0], inputs[1])


class Average(_Merge):
    def call(self, inputs: Any) -> Any:
        return divide(super().call(inputs), float(len(inputs)))


class Concatenate(Layer):
    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs: Any) -> Any:
        return concat(list(inputs), axis=self.axis)

    def compute_output_shape(self, input_shape: Any) -> Any:
        shapes = [list(s) for s in input_shape]
        axis = self.axis % len(shapes[0])
        out = shapes[0][:]
        dims = [s[axis] for s in shapes]
        out[axis] = None if any(d is None for d in dims) else sum(dims)
        return tuple(out)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """Along the feature axis a step is kept where any input keeps it; along another axis the masks are
        concatenated (an input without a mask keeps every step)."""
        if not mask or all(m is None for m in mask):
            return None
        rank = len(inputs[0].shape)
        if self.axis % rank == rank - 1:
            return reduce(logical_or, [m for m in mask if m is not None])
        full = [m if m is not None else not_equal(zeros_like(x[..., 0]), 1.0) for m, x in zip(mask, inputs)]
        return concat(full, axis=self.axis % rank)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


class Embedding(Layer):
    """Looks up rows of a (input_dim, output_dim) table by integer index."""

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 mask_zero: bool = False, **kwargs: Any) -> None:
        kwargs.pop("input_length", None)
        super().__init__(autocast=False, **kwargs)
        self.input_dim, self.output_dim, self.mask_zero = int(input_dim), int(output_dim), mask_zero
        init = "random_uniform" if embeddings_initializer == "uniform" else embeddings_initializer
        self.embeddings_initializer = initializers.get(init)

    def build(self, input_shape: Any = None) -> None:
        self.embeddings = self.add_weight(shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer, name="embeddings")
        self.built = True

    def call(self, inputs: Any) -> Any:
        if inputs.dtype.is_floating or inputs.dtype.is_bool:
            inputs = cast(inputs, "int32")
        return gather(self.read(self.embeddings), inputs)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return not_equal(inputs, 0) if self.mask_zero else None

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self) -> dict:
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "mask_zero": self.mask_zero}
