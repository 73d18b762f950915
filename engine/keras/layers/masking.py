"""`keras.layers.Masking`: marks time steps whose features all equal `mask_value` as padding (see
`engine.keras.masks` for how masks travel from layer to layer)."""
from __future__ import annotations

from typing import Any

from engine.keras.layers.base import Layer
from engine.ops import reduce_any
from engine.ops import cast, expand_dims, multiply, not_equal

__all__ = ["Masking"]


class Masking(Layer):
    """Masks every time step whose features all equal `mask_value`, and zeroes it.

    >>> import engine as tf
    >>> x = tf.constant([[[1.0], [0.0], [2.0]]])
    >>> tf.keras.layers.Masking()(x).numpy().ravel().tolist()
    [1.0, 0.0, 2.0]
    >>> tf.keras.layers.Masking().compute_mask(x).numpy().tolist()
    [[True, False, True]]
    """

    def __init__(self, mask_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)
        self.supports_masking = True

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return reduce_any(not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs: Any) -> Any:
        keep = self.compute_mask(inputs)
        return multiply(inputs, cast(expand_dims(keep, -1), inputs.dtype))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "mask_value": self.mask_value}
