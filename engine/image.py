"""`tf.image`: `convert_image_dtype`, with TensorFlow's scaling rules.

Integer images hold values in [0, MAX] of their dtype, float images values in [0, 1). Between integer dtypes the
values scale by a power of two (integer division going down, multiplication going up); integers to floats multiply
by 1 / MAX in the target dtype; floats to integers multiply by MAX + 0.5 in the source dtype and cast (truncating);
between floats the values are only cast.

    >>> import engine as tf
    >>> print(tf.image.convert_image_dtype(tf.constant([0, 128, 255], tf.uint8), tf.float32))
    engine.Tensor([0.        0.5019608 1.       ], shape=(3,), dtype=float32)
"""
from __future__ import annotations

from typing import Any, Optional

from engine.ops.funnel import as_tensor
from engine.ops.math_ops import cast, floordiv, multiply, saturate_cast
from engine.tensor import Tensor
from ir.types import as_dtype


def convert_image_dtype(image: Any, dtype: Any, saturate: bool = False, name: Optional[str] = None) -> Tensor:
    """`image` converted to `dtype`, its values rescaled as TensorFlow does (see the module docstring).

    `saturate=True` clamps before casting where the cast could overflow (saturate_cast)."""
    image = as_tensor(image)
    dtype = as_dtype(dtype)
    src = image.dtype
    if not (dtype.is_floating or dtype.is_integer):
        raise AttributeError("dtype must be either floating point or integer")
    if not (src.is_floating or src.is_integer):
        raise TypeError(f"convert_image_dtype: the image must be integer or floating point, got {src.name}")
    if src is dtype:
        return image
    to = saturate_cast if saturate else cast
    if src.is_integer and dtype.is_integer:
        scale_in, scale_out = int(src.max), int(dtype.max)
        if scale_in > scale_out:
            scale = (scale_in + 1) // (scale_out + 1)
            return to(floordiv(image, scale), dtype)
        scale = (scale_out + 1) // (scale_in + 1)
        return multiply(to(image, dtype), scale)
    if src.is_floating and dtype.is_floating:
        return cast(image, dtype)
    if src.is_integer:  # integers to floats
        return multiply(cast(image, dtype), 1.0 / int(src.max))
    return to(multiply(image, float(dtype.max) + 0.5), dtype)  # floats to integers


from engine.ops.image_ops import flip_left_right, flip_up_down, resize, rot90  # noqa: E402
from engine.ops.image_ops import transpose_image as transpose  # noqa: E402


class ResizeMethod:
    """The names `tf.image.resize` takes for `method` (those Kiln supports)."""
    BILINEAR = "bilinear"
    NEAREST_NEIGHBOR = "nearest"


__all__ = ["convert_image_dtype", "flip_left_right", "flip_up_down", "resize", "rot90", "transpose", "ResizeMethod"]
