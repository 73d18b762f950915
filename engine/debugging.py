"""`engine.debugging` (tf.debugging): runtime checks that raise InvalidArgumentError, eagerly and in traced functions
(where they become `assert` ops that compiled code checks too), and the static checks TensorFlow makes at trace time
(`assert_rank`, `assert_type`, `assert_shapes`: ValueError/TypeError at once, as TF raises them for static shapes).

`enable_check_numerics()` checks the floating-point results of every op from then on: eagerly after the op ran,
and in functions traced from then on as an `assert` after the op, naming the op and the user's line that made it.
"""
from __future__ import annotations

import threading
from typing import Any, Optional, Sequence

import numpy as np

from engine import dispatch
from engine.control_flow import Assert
from engine.errors import InvalidArgumentError
from engine.ops import (abs as _abs, equal, greater, greater_equal, is_finite, is_inf, is_nan, less, less_equal,
                        logical_not, reduce_all, reduce_any, subtract)
from engine.ops.funnel import as_tensor
from engine.trace import user_location

__all__ = ["Assert", "assert_equal", "assert_less", "assert_less_equal", "assert_greater", "assert_greater_equal",
           "assert_positive", "assert_non_negative", "assert_near", "assert_rank", "assert_type", "assert_shapes",
           "check_numerics", "enable_check_numerics", "disable_check_numerics"]


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


# ---- tolerance, rank, dtype and shape ---------------------------------------------------------------------------------
def assert_near(x: Any, y: Any, rtol: Any = None, atol: Any = None, message: Optional[str] = None,
                summarize: Optional[int] = None, name: Optional[str] = None) -> None:
    """|x - y| <= atol + rtol * |y| element-wise; tolerances default to 10 * eps of the dtype (as TensorFlow)."""
    x, y = as_tensor(x), as_tensor(y)
    eps = float(np.finfo(x.dtype.np).eps) if x.dtype.is_floating else 0.0
    rtol = 10 * eps if rtol is None else rtol
    atol = 10 * eps if atol is None else atol
    ok = reduce_all(less_equal(_abs(subtract(x, y)), atol + rtol * _abs(y)))
    Assert(ok, [(message + " " if message else "") + f"x and y not equal to tolerance rtol = {rtol:g}, atol = {atol:g}",
                "x =", x, "y =", y], summarize)


def assert_rank(x: Any, rank: int, message: Optional[str] = None, name: Optional[str] = None) -> None:
    """Static: raises ValueError at once (shapes are always known to Kiln at trace time)."""
    t = as_tensor(x)
    shape = tuple(t.shape.as_list()) if hasattr(t.shape, "as_list") else tuple(t.shape)
    if len(shape) != int(rank):
        prefix = f"{message}.  " if message else ""
        raise ValueError(f"{prefix}Tensor must have rank {int(rank)}.  Received rank {len(shape)}, shape {shape}")


def assert_type(tensor: Any, tf_type: Any, message: Optional[str] = None, name: Optional[str] = None) -> None:
    from ir.types import as_dtype
    want, got = as_dtype(tf_type), as_tensor(tensor).dtype
    if got != want:
        prefix = f"{message}: " if message else ""
        raise TypeError(f"{prefix}tensor must be of type {want.name}; got {got.name}")


def assert_shapes(shapes: Sequence[tuple[Any, Sequence[Any]]], data: Any = None, summarize: Optional[int] = None,
                  message: Optional[str] = None, name: Optional[str] = None) -> None:
    """Each (tensor, spec): the tensor's rank is len(spec); an int in spec is that size, a string a symbol every
    tensor must agree on (the first tensor to use it fixes its size), None or '.' any size."""
    sizes: dict[str, tuple[int, str, int]] = {}
    prefix = f"{message}.  " if message else ""
    for tensor, spec in (shapes.items() if isinstance(shapes, dict) else shapes):
        t = as_tensor(tensor)
        shape = tuple(t.shape)
        desc = f"shape={shape} dtype={t.dtype.name}"
        spec = list(spec) if not isinstance(spec, str) else list(spec.split())
        if len(shape) != len(spec):
            raise ValueError(f"{prefix}Tensor {desc} must have rank {len(spec)}.  Received rank {len(shape)}, "
                             f"shape {shape}")
        for i, (want, got) in enumerate(zip(spec, shape)):
            if want is None or want == ".":
                continue
            if isinstance(want, str):
                if want not in sizes:
                    sizes[want] = (got, desc, i)
                    continue
                size, by, j = sizes[want]
                if got != size:
                    raise ValueError(f"{prefix}Specified by tensor {by} dimension {j}.  Tensor {desc} dimension {i} "
                                     f"must have size {size}.  Received size {got}, shape {shape}")
            elif got != int(want):
                raise ValueError(f"{prefix}Tensor {desc} dimension {i} must have size {int(want)}.  Received size "
                                 f"{got}, shape {shape}")


# ---- NaN and Inf ------------------------------------------------------------------------------------------------------
def _numerics_text(a: np.ndarray) -> str:
    nan, inf = bool(np.isnan(a).any()), bool(np.isinf(a).any())
    return "Tensor had " + ("Inf and NaN" if nan and inf else "NaN" if nan else "Inf") + " values"


def check_numerics(tensor: Any, message: str, name: Optional[str] = None) -> Any:
    """`tensor` if it holds no NaN or Inf, else InvalidArgumentError '<message> : Tensor had NaN values'."""
    t = as_tensor(tensor)
    if not t.dtype.is_floating:
        raise TypeError(f"check_numerics: expected a floating-point tensor, got {t.dtype.name}")
    if t._node is None:
        a = t._value
        if not np.isfinite(a).all():
            raise InvalidArgumentError(f"{message} : {_numerics_text(a)}")
        return t
    Assert(logical_not(reduce_any(is_nan(t))), [f"{message} : Tensor had NaN values"])
    Assert(logical_not(reduce_any(is_inf(t))), [f"{message} : Tensor had Inf values"])
    return t


class _Checking(threading.local):
    active = False


_checking = _Checking()


def _check_op(opdef: Any, results: tuple, traced: bool) -> None:
    """dispatch.after_op while check-numerics is on: the first NaN/Inf result names its op and the user's line."""
    if _checking.active or opdef.name == "assert":
        return
    for k, r in enumerate(results):
        if not r.dtype.is_floating:
            continue
        loc = user_location()
        where = f" at {loc[0]}:{loc[1]}" if loc else ""
        head = (f"!!! Detected Infinity or NaN in output {k} of {'graph' if traced else 'eagerly-executing'} op "
                f"\"{opdef.name}\" (# of outputs: {len(results)}){where} !!! dtype: {r.dtype.name}, "
                f"shape: {tuple(r.shape)}")
        if not traced:
            if not np.isfinite(r._value).all():
                raise InvalidArgumentError(f"{head} : {_numerics_text(r._value)}")
            continue
        _checking.active = True
        try:
            Assert(reduce_all(is_finite(r)), [f"{head} : Tensor had NaN or Inf values"])
        finally:
            _checking.active = False


def enable_check_numerics(stack_height_limit: int = 30, path_length_limit: int = 50) -> None:
    """Check every floating-point op result for NaN and Inf from now on (functions traced from now on)."""
    dispatch.after_op = _check_op


def disable_check_numerics() -> None:
    dispatch.after_op = None
