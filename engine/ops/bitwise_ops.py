"""Bitwise public ops (`tf.bitwise.*`) and the functions behind Python's `&`, `|`, `^` and `~` on tensors.

`bitwise_or_logical(kind, x, y)` and `invert_or_not(x)` are what the tensor dunders call: on bool tensors they are
`logical_and`/`logical_or`/`logical_xor`/`logical_not`, on integer tensors the bitwise rows, and on floating-point
tensors a TypeError, as in TensorFlow. TensorFlow's tensors have no `<<` or `>>`; use `left_shift`/`right_shift`.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from engine.ops.funnel import as_tensor, binary, unary
from engine.ops.math_ops import logical_and, logical_not, logical_or, logical_xor
from engine.tensor import Tensor, TensorLike
from ir.opdef import OPS
from ir.types import bool_

__all__ = ["bitwise_and", "bitwise_or", "bitwise_xor", "invert", "left_shift", "right_shift", "bitwise_or_logical",
           "invert_or_not"]


def bitwise_and(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    """x & y of integer tensors, with broadcasting.

    >>> import engine as tf
    >>> tf.bitwise.bitwise_and(tf.constant([12, -7]), 3).numpy()
    array([0, 1], dtype=int32)
    """
    return binary(OPS["bitwise_and"], x, y, "bitwise_and")


def bitwise_or(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    return binary(OPS["bitwise_or"], x, y, "bitwise_or")


def bitwise_xor(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    return binary(OPS["bitwise_xor"], x, y, "bitwise_xor")


def invert(x: Any, name: Optional[str] = None) -> Tensor:
    """~x of an integer tensor (each bit flipped: -x - 1 for signed integers)."""
    return unary(OPS["invert"], x, "invert")


def left_shift(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    """x << y; as TensorFlow, y is clamped to [0, bits - 1] and the result wraps around.

    >>> import engine as tf
    >>> tf.bitwise.left_shift(tf.constant([1, 1, 5]), tf.constant([3, 40, -1])).numpy()
    array([          8, -2147483648,           5], dtype=int32)
    """
    return binary(OPS["left_shift"], x, y, "left_shift")


def right_shift(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    """x >> y, arithmetic for signed integers; y is clamped to [0, bits - 1] as in TensorFlow."""
    return binary(OPS["right_shift"], x, y, "right_shift")


_BY_KIND: dict[str, tuple[Callable[..., Tensor], Callable[..., Tensor]]] = {
    "and": (logical_and, bitwise_and), "or": (logical_or, bitwise_or), "xor": (logical_xor, bitwise_xor)}


def _is_bool(*operands: Any) -> bool:
    """Whether the operator means its logical form: the tensor operand (the first one if both are) is bool."""
    for v in operands:
        if isinstance(v, TensorLike):
            return v.dtype is bool_
    return False


def bitwise_or_logical(kind: str, x: Any, y: Any) -> Tensor:
    """`x & y`, `x | y`, `x ^ y` (kind "and", "or", "xor"): logical on bool tensors, bitwise on integer tensors;
    floating-point operands are a TypeError, as in TensorFlow."""
    logical, bitwise = _BY_KIND[kind]
    return logical(x, y) if _is_bool(x, y) else bitwise(x, y)


def invert_or_not(x: Any) -> Tensor:
    """`~x`: logical_not of a bool tensor, bitwise invert of an integer tensor, a TypeError otherwise."""
    x = as_tensor(x)
    return logical_not(x) if x.dtype is bool_ else invert(x)
