"""`tf.dtypes`: the dtype objects, `as_dtype`, `cast` and `saturate_cast` under TensorFlow's module name."""
from __future__ import annotations

from engine.ops.math_ops import cast, saturate_cast
from ir.types import (DType, as_dtype, bfloat16, float16, float32, float64, half, int8, int16, int32, int64, uint8,
                      uint16, uint32, uint64)
from ir.types import bool_ as bool  # noqa: A001  (tf.dtypes.bool)

double = float64

__all__ = ["DType", "as_dtype", "cast", "saturate_cast", "bfloat16", "bool", "double", "float16", "float32",
           "float64", "half", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
