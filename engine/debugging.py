"""`engine.debugging`: runtime checks that raise InvalidArgumentError, eagerly and in traced functions."""
from __future__ import annotations

from typing import Any, Optional

from engine.control_flow import Assert
from engine.ops import (equal, greater, greater_equal, less, less_equal, reduce_all)
from engine.ops.funnel import as_tensor

__all__ = ["Assert", "assert_equal", "assert_less", "assert_less_equal", "assert_greater", "assert_greater_equal",
           "assert_positive", "assert_non_negative"]


def _check(fn: Any, x: Any, y: Any, what: str, message: Optional[str], summarize: Optional[int]) -> None:
    x = as_tensor(x)
    Assert(reduce_all(fn(x, y)), [message or f"Condition x {what} y did not hold element-wise:", "x =", x, "y =",
                                  as_tensor(y) if not hasattr(y, "dtype") else y], summarize)


def assert_equal(x: Any, y: Any, message: Optional[str] = None, summarize: Optional[int] = None,
                 name: Optional[str] = None) -> None:
    _check(equal, x, y, "==", message, summarize)


def assert_less(x: Any, y: Any, message: Optional[str] = None, summarize: Optional[int] = None,
                name: Optional[str] = None) -> None:
    _check(less, x, y, "<", message, summarize)


def assert_less_equal(x: Any, y: Any, message: Optional[str] = None, summarize: Optional[int] = None,
                      name: Optional[str] = None) -> None:
    _check(less_equal, x, y, "<=", message, summarize)


def assert_greater(x: Any, y: Any, message: Optional[str] = None, summarize: Optional[int] = None,
                   name: Optional[str] = None) -> None:
    _check(greater, x, y, ">", message, summarize)


def assert_greater_equal(x: Any, y: Any, message: Optional[str] = None, summarize: Optional[int] = None,
                         name: Optional[str] = None) -> None:
    _check(greater_equal, x, y, ">=", message, summarize)


def assert_positive(x: Any, message: Optional[str] = None, summarize: Optional[int] = None,
                    name: Optional[str] = None) -> None:
    _check(greater, x, 0, ">", message, summarize)


def assert_non_negative(x: Any, message: Optional[str] = None, summarize: Optional[int] = None,
                        name: Optional[str] = None) -> None:
    _check(greater_equal, x, 0, ">=", message, summarize)
