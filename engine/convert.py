"""Turning Python and numpy values into tensors, with TensorFlow's dtype rules (DESIGN §3).

- Python floats make float32, ints int32 (int64 when they do not fit), bools bool.
- numpy arrays and scalars keep their dtype (converted as numpy's astype does when a dtype is requested).
- A Python scalar next to a tensor adopts the tensor's dtype (`x * 2` stays float32, `u8 + 1` uint8); a float into
  an integer tensor, or an integer out of the tensor's range (`u8 + 300`, `u8 - (-1)`), is an InvalidDTypeError
  (TypeError and InvalidArgumentError), as in TensorFlow.
- A (nested) list that holds tensors is packed into one tensor, as TensorFlow's auto-packing does.

This is the bottom of the ops layer: it uses `dispatch.apply` on rows directly and imports no public op, so every
op module may import it. `constant()` is a public op and lives in `engine.ops.constant_op`.
"""
from __future__ import annotations

import numbers
from typing import Any, Optional

import numpy as np

from engine.dispatch import apply
from engine.errors import DTypeConversionError, InvalidDTypeError
from engine.tensor import Tensor, TensorLike
from ir.opdef import OPS
from ir.types import DType, as_dtype, bool_, float32, from_numpy, int32, int64

_INT32_MIN, _INT32_MAX = -2 ** 31, 2 ** 31 - 1
_RESHAPE = OPS["reshape"]
_CONCAT = OPS["concat"]


def _python_dtype(value: Any, empty: DType = float32) -> DType:
    """The dtype TensorFlow gives a Python scalar or nested list of them (`empty` for lists without elements)."""
    kinds = set()
    big = False

    def walk(v: Any) -> None:
        nonlocal big
        if isinstance(v, (list, tuple)):
            for e in v:
                walk(e)
        elif isinstance(v, (bool, np.bool_)):
            kinds.add("b")
        elif isinstance(v, numbers.Integral):
            kinds.add("i")
            big = big or not _INT32_MIN <= int(v) <= _INT32_MAX
        elif isinstance(v, numbers.Real):
            kinds.add("f")
        else:
            raise TypeError(f"cannot convert {v!r} of type {type(v).__name__} to a tensor")

    walk(value)
    if "f" in kinds:
        return float32
    if "i" in kinds:
        if "b" in kinds:
            raise TypeError(f"cannot convert {value!r}: it mixes bools and numbers")
        return int64 if big else int32
    return bool_ if kinds else empty


def _nested_shape(value: Any) -> Optional[tuple[int, ...]]:
    """The shape of nested lists, or None when the nesting is ragged."""
    if not isinstance(value, (list, tuple)):
        return ()
    inner = {_nested_shape(v) for v in value}
    if len(inner) > 1 or None in inner:
        return None
    return (len(value),) + (inner.pop() if inner else ())


def _check_rectangular(value: Any) -> None:
    if _nested_shape(value) is None:
        raise ValueError(f"cannot convert the non-rectangular Python sequence {value!r} to a tensor")


def _python_to_array(value: Any, dtype: DType) -> np.ndarray:
    """Python values to an array of `dtype`, refusing lossy conversions (1.5 to int32, 2**40 to int32)."""
    _check_rectangular(value)
    if dtype.is_integer or dtype.is_bool:
        natural = _python_dtype(value, empty=dtype)
        if natural.is_floating and not dtype.is_floating:
            raise TypeError(f"cannot convert {value!r} to a tensor of dtype {dtype.name}: it holds floats")
        if dtype.is_bool and not natural.is_bool:
            raise TypeError(f"cannot convert {value!r} to a tensor of dtype bool")
    try:
        with np.errstate(over="ignore"):  # a float too large for the dtype becomes inf, silently as in TF
            arr = np.array(value, dtype=object if dtype.is_integer else dtype.np)
        if dtype.is_integer:
            info = np.iinfo(dtype.np)
            flat = [int(v) for v in arr.reshape(-1)]
            if any(not info.min <= v <= info.max for v in flat):
                raise TypeError(f"cannot convert {value!r} to {dtype.name}: a value is out of range")
            arr = np.array(flat, dtype=dtype.np).reshape(arr.shape)
    except ValueError as e:
        raise ValueError(f"cannot convert {value!r} to a tensor: {e}") from None
    return arr


def _has_tensor(value: Any) -> bool:
    return isinstance(value, TensorLike) or (isinstance(value, (list, tuple)) and any(_has_tensor(v) for v in value))


def _first_tensor(value: Any) -> Any:
    if isinstance(value, TensorLike):
        return value
    return next(_first_tensor(v) for v in value if _has_tensor(v))


def _pack(value: Any, dtype: DType) -> Tensor:
    """A (nested) list holding tensors, packed into one tensor along a new first axis, as TensorFlow does: every
    item that is not a tensor (a number, a numpy array, a list) converts to `dtype`, the dtype of the first tensor
    in the whole structure (see `beside`). Built directly on the `reshape` and `concat` rows, so packing records on
    tapes and traces like any op.
    """
    ts = [convert_to_tensor(v) if isinstance(v, TensorLike) else _pack(v, dtype) if _has_tensor(v) else
          beside(v, dtype) for v in value]
    dtypes = {t.dtype for t in ts}
    if len(dtypes) > 1:
        raise DTypeConversionError(f"cannot pack a list of tensors of dtypes "
                                   f"{', '.join(sorted(d.name for d in dtypes))} into one tensor (cast them with "
                                   f"engine.cast)")
    shapes = {tuple(t.shape) for t in ts}
    if len(shapes) > 1:
        raise ValueError(f"cannot pack a list of tensors of shapes {sorted(shapes)} into one tensor: "
                         f"all must have the same shape")
    rows = [apply(_RESHAPE, t, shape=(1,) + tuple(t.shape)) for t in ts]
    return rows[0] if len(rows) == 1 else apply(_CONCAT, *rows, axis=0)


def beside(value: Any, dtype: DType) -> Tensor:
    """A non-tensor operand next to a tensor of `dtype`. Python values adopt the dtype (a float into an integer
    tensor is a TypeError). numpy values are converted to the dtype as TensorFlow's eager conversion does, even
    where that truncates or wraps (`tf.constant([1]) + np.array([1.5])` is `[2]` in TensorFlow 2.21)."""
    if not isinstance(value, (np.ndarray, np.generic)):
        return convert_to_tensor(value, dtype_hint=dtype)
    from_numpy(value.dtype)  # rejects dtypes Kiln does not support, naming them
    with np.errstate(all="ignore"):
        return Tensor(np.asarray(value).astype(dtype.np, copy=False))


def convert_to_tensor(value: Any, dtype: Any = None, dtype_hint: Any = None, name: Optional[str] = None) -> Tensor:
    """A Tensor for `value`: a Tensor itself, a Variable's current value, a numpy array, or Python data.

    `dtype` must hold exactly (a tensor of another dtype is a DTypeConversionError, TensorFlow's ValueError);
    `dtype_hint` is only preferred for Python values.
    """
    if type(value) is Tensor:
        if dtype is not None and value.dtype is not as_dtype(dtype):
            raise DTypeConversionError(f"Tensor conversion requested dtype {as_dtype(dtype).name} for a tensor of "
                                       f"dtype {value.dtype.name} (cast it with engine.cast)")
        return value
    if isinstance(value, TensorLike):  # a Variable, or any other tensor-like
        return convert_to_tensor(value.value(), dtype=dtype)
    if isinstance(value, (np.ndarray, np.generic)):
        want = as_dtype(dtype) if dtype is not None else None
        have = from_numpy(value.dtype)
        if want is not None and want is not have:
            return beside(value, want)  # TensorFlow 2.21 casts numpy values as numpy's astype does
        return Tensor(np.asarray(value) if isinstance(value, np.generic) else value)
    if isinstance(value, (list, tuple)) and _has_tensor(value):
        return convert_to_tensor(_pack(value, _first_tensor(value).dtype), dtype=dtype)
    if dtype is not None:
        return Tensor(_python_to_array(value, as_dtype(dtype)))
    if dtype_hint is not None:
        hint = as_dtype(dtype_hint)
        natural = _python_dtype(value)
        if natural is hint or (hint.is_floating and not natural.is_bool) or (natural.is_integer and hint.is_integer):
            return Tensor(_python_to_array(value, hint))
        if natural.is_floating and hint.is_integer:
            raise InvalidDTypeError(f"cannot use the Python value {value!r} with a tensor of dtype {hint.name}: "
                            f"it would be truncated (cast one side with engine.cast)")
        return Tensor(_python_to_array(value, natural))
    return Tensor(_python_to_array(value, _python_dtype(value)))
