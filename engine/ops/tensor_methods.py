"""Python's operators on tensors and Variables, installed on `TensorLike` once (like JAX's `array_methods`).

Every dunder is a public op itself (no extra call layer), `x[key]` included (`engine.indexing`). This module sits
above every op module it installs, so `engine.tensor` needs to import none of them.

`&`, `|`, `^`, `~` are logical on bool tensors. On integer tensors they, and `<<`, `>>`, are the bitwise ops of
`engine.bitwise` when that module exists (TensorFlow 2.21 itself has no `<<`/`>>` on tensors: a TypeError there);
otherwise, and on other dtypes, they are a TypeError.
"""
from __future__ import annotations

from types import ModuleType
from typing import Any, Callable, Optional

from engine.indexing import getitem
from engine.ops.funnel import as_tensor, convert_pair, mixed_dtypes
from engine.ops.math_ops import (abs, add, divide, floordiv, floormod, greater, greater_equal, less, less_equal,
                                 logical_and, logical_not, logical_or, logical_xor, multiply, negative, pow,
                                 subtract, tensor_equals, tensor_not_equals)
from engine.ops.reduce_ops import matmul
from engine.tensor import Tensor, TensorLike


def _optional_bitwise() -> Optional[ModuleType]:
    try:
        import engine.bitwise
    except ModuleNotFoundError as e:
        if e.name != "engine.bitwise":
            raise
        return None
    return engine.bitwise


bitwise = _optional_bitwise()

# operator -> (the logical op for bool tensors or None, the name of the integer op in engine.bitwise)
_BIT_OPERATORS: dict[str, tuple[Optional[Callable[..., Tensor]], str]] = {
    "and": (logical_and, "bitwise_and"), "or": (logical_or, "bitwise_or"), "xor": (logical_xor, "bitwise_xor"),
    "lshift": (None, "left_shift"), "rshift": (None, "right_shift"),
}
_SYMBOLS = {"and": "&", "or": "|", "xor": "^", "lshift": "<<", "rshift": ">>", "invert": "~"}


def _integer_op(name: str, symbol: str, dtype: Any, on_bool: bool) -> Callable[..., Tensor]:
    """`engine.bitwise`'s op `name` for integer tensors; a TypeError for other dtypes or without the module."""
    fn = getattr(bitwise, name, None) if dtype.is_integer else None
    if fn is None:
        what = ("integer bitwise ops are not available" if dtype.is_integer else
                "it needs bool or integer tensors" if on_bool else "it needs integer tensors")
        raise TypeError(f"{symbol} is not defined for tensors of dtype {dtype.name}: {what}")
    return fn


def _bit_operator(operator: str) -> Callable[[Any, Any], Tensor]:
    logical, integer = _BIT_OPERATORS[operator]
    symbol = _SYMBOLS[operator]

    def apply_operator(x: Any, y: Any) -> Tensor:
        x, y = convert_pair(x, y)
        if x.dtype is not y.dtype:
            raise mixed_dtypes(symbol, x, y)
        if x.dtype.is_bool and logical is not None:
            return logical(x, y)
        return _integer_op(integer, symbol, x.dtype, logical is not None)(x, y)

    return apply_operator


def _invert(x: Any) -> Tensor:
    """`~x`: logical not of a bool tensor, bitwise not of an integer one."""
    x = as_tensor(x)
    if x.dtype.is_bool:
        return logical_not(x)
    return _integer_op("invert", "~", x.dtype, True)(x)


def _flip(fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    return lambda self, other: fn(other, self)


def install(cls: type) -> None:
    """Set every operator dunder of `cls` to its public op."""
    binary = {"add": add, "sub": subtract, "mul": multiply, "truediv": divide, "floordiv": floordiv,
              "mod": floormod, "pow": pow, "matmul": matmul}
    binary.update({op: _bit_operator(op) for op in _BIT_OPERATORS})
    for name, fn in binary.items():
        setattr(cls, f"__{name}__", fn)
        setattr(cls, f"__r{name}__", _flip(fn))
    unary_and_compare = {"neg": negative, "abs": abs, "invert": _invert, "pos": lambda self: self,
                         "lt": less, "le": less_equal, "gt": greater, "ge": greater_equal,
                         "eq": tensor_equals, "ne": tensor_not_equals, "getitem": getitem}
    for name, fn in unary_and_compare.items():
        setattr(cls, f"__{name}__", fn)


install(TensorLike)
