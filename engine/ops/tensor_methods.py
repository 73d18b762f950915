"""Python's operators on tensors and Variables, installed on `TensorLike` once (like JAX's `array_methods`).

Every dunder is a public op itself (no extra call layer), `x[key]` included (`engine.indexing`). This module sits
above every op module it installs, so `engine.tensor` needs to import none of them.

`&`, `|`, `^`, `~` are logical on bool tensors and bitwise on integer tensors (`engine.ops.bitwise_ops`); `<<` and
`>>` are not defined on tensors, as in TensorFlow 2.21 (use `engine.bitwise.left_shift` / `right_shift`).
`*` with a bool tensor on the left (or two tensors, one bool) is TensorFlow 2.21's bool product: both sides cast to
int32, multiplied, cast back to bool (`tf.constant([True, False]) * 2` is `[True, False]`, `* 0.5` all False).
"""
from __future__ import annotations

from typing import Any, Callable

from engine.indexing import getitem
from engine.ops.bitwise_ops import bitwise_or_logical, invert_or_not
from engine.ops.funnel import as_tensor, cast
from engine.ops.math_ops import (abs, add, divide, floordiv, floormod, greater, greater_equal, less, less_equal,
                                 multiply, negative, pow, subtract, tensor_equals, tensor_not_equals)
from engine.ops.reduce_ops import matmul
from engine.tensor import TensorLike
from ir.types import bool_, int32


def _bit_operator(kind: str) -> Callable[[Any, Any], Any]:
    return lambda x, y: bitwise_or_logical(kind, x, y)


def _mul_operator(x: Any, y: Any) -> Any:
    """`x * y`; TensorFlow's operator (not `tf.multiply`, which refuses bool) multiplies bools through int32."""
    if isinstance(x, TensorLike) and (x.dtype is bool_ or (isinstance(y, TensorLike) and y.dtype is bool_)):
        return cast(multiply(cast(as_tensor(x), int32), cast(as_tensor(y), int32)), bool_)
    return multiply(x, y)


def _flip(fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    return lambda self, other: fn(other, self)


def install(cls: type) -> None:
    """Set every operator dunder of `cls` to its public op."""
    binary = {"add": add, "sub": subtract, "mul": _mul_operator, "truediv": divide, "floordiv": floordiv,
              "mod": floormod, "pow": pow, "matmul": matmul}
    binary.update({kind: _bit_operator(kind) for kind in ("and", "or", "xor")})
    for name, fn in binary.items():
        setattr(cls, f"__{name}__", fn)
        setattr(cls, f"__r{name}__", _flip(fn))
    unary_and_compare = {"neg": negative, "abs": abs, "invert": invert_or_not, "pos": lambda self: self,
                         "lt": less, "le": less_equal, "gt": greater, "ge": greater_equal,
                         "eq": tensor_equals, "ne": tensor_not_equals, "getitem": getitem}
    for name, fn in unary_and_compare.items():
        setattr(cls, f"__{name}__", fn)


install(TensorLike)
