"""Bitwise rows of the op table: bitwise_and, bitwise_or, bitwise_xor, invert, left_shift, right_shift.

Integer operands only (signed and unsigned, 8 to 64 bits), of one exact type, as every elementwise row; none has a gradient. Shifts
follow TensorFlow's kernels: the shift amount is clamped to [0, bits - 1] (so `1 << 40` on int32 is `1 << 31` and
`x << -1` is `x`), left shifts wrap, and right shifts of signed integers are arithmetic (they copy the sign bit), of unsigned ones logical.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ir.opdef import NONDIFF, Kind, OpDef, check_arity, check_dtype, check_same, register
from ir.types import INT_DTYPES, TensorType


def _infer(name: str, nin: int) -> Callable[..., tuple[TensorType, ...]]:
    def infer(types: list[TensorType], **attrs: Any) -> tuple[TensorType, ...]:
        check_arity(name, types, nin)
        t = check_same(name, types)
        check_dtype(name, t, INT_DTYPES, "an integer")
        return (t,)
    return infer


def _row(name: str, nin: int, kernel: Callable[..., Any], doc: str) -> OpDef:
    return register(OpDef(name=name, infer=_infer(name, nin), eager=kernel, vjp=NONDIFF, kind=Kind.ELEMENTWISE,
                          doc=doc, dtypes=INT_DTYPES))


def _clamped_shift(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The shift amount TensorFlow uses: y clamped to [0, bits - 1]."""
    return np.clip(y, 0, x.dtype.itemsize * 8 - 1).astype(x.dtype)


def _left_shift(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.left_shift(x, _clamped_shift(x, y))


def _right_shift(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.right_shift(x, _clamped_shift(x, y))


_row("bitwise_and", 2, np.bitwise_and, "Bitwise AND of two integer tensors.")
_row("bitwise_or", 2, np.bitwise_or, "Bitwise OR of two integer tensors.")
_row("bitwise_xor", 2, np.bitwise_xor, "Bitwise XOR of two integer tensors.")
_row("invert", 1, np.invert, "Bitwise NOT (~x == -x - 1 for signed integers).")
_row("left_shift", 2, _left_shift, "x << clamp(y, 0, bits - 1), wrapping around.")
_row("right_shift", 2, _right_shift, "x >> clamp(y, 0, bits - 1), arithmetic (sign-copying).")
