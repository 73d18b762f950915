"""Array literals in IR text: the nested lists that the `constant` row's `value` attr prints as, read back into
numpy arrays of exactly the printed values (float32 included, see `doubles_to_float32`)."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ir.opdef import OpDef
from ir.types import DType, TensorType


def array_attrs(opdef: OpDef) -> tuple[str, ...]:
    """The attrs of `opdef` that hold numpy arrays typed like its result (the `constant` row's `value`)."""
    return opdef.array_attrs


def _check_elements(data: Any, dtype: DType) -> Optional[str]:
    """Why the nested literal `data` cannot be an array of `dtype`, or None when it can."""
    if isinstance(data, tuple):
        for x in data:
            problem = _check_elements(x, dtype)
            if problem:
                return problem
        return None
    ok = (isinstance(data, bool) if dtype.is_bool else
          isinstance(data, int) and not isinstance(data, bool) if dtype.is_integer else
          isinstance(data, (int, float)) and not isinstance(data, bool))
    if not ok:
        return f"element {data!r} is not a valid {dtype.short} element"
    if dtype.is_integer and not dtype.min <= data <= dtype.max:
        return f"element {data} is out of range for {dtype.short}"
    return None


def to_array(data: Any, t: TensorType) -> np.ndarray:
    """The literal `data` (nested tuples of scalars) as an array of type `t`; ValueError when it does not fit."""
    problem = _check_elements(data, t.dtype)
    if problem:
        raise ValueError(problem)
    try:
        a = np.array(data, dtype=np.float64 if t.dtype.np == np.float32 else t.dtype.np)
    except (ValueError, OverflowError) as e:
        raise ValueError(f"the nested lists are ragged or out of range ({e})") from None
    if t.dtype.np == np.float32:
        a = doubles_to_float32(a)
    if a.shape != t.shape:
        if a.size != 0 or t.size != 0:
            raise ValueError(f"the literal has shape {a.shape} but the type {t} has shape {t.shape}")
        a = a.reshape(t.shape)
    return a


def doubles_to_float32(d: np.ndarray) -> np.ndarray:
    """Rounds doubles read from the printer's float32 decimals to the float32s those decimals name.

    Decimal -> double -> float32 rounds twice: when the double lands exactly on the midpoint of two float32s, the
    tie goes to the even one, which need not be the float32 the decimal was nearer to (`7.038531e-26`, the
    shortest decimal of the float32 0x15ae43fd, reads as a double that ties, and rounds to 0x15ae43fe). The
    printer writes each float32's shortest decimal, so on a tie the float32 whose shortest decimal reads as this
    very double is the one meant. (A hand-written decimal that is no float32's shortest and ties rounds to even.)
    """
    with np.errstate(all="ignore"):  # inf and nan pass through; they never tie
        y = d.astype(np.float32)
        y64 = y.astype(np.float64)
        other = np.where(d > y64, np.nextafter(y, np.float32(np.inf)), np.nextafter(y, np.float32(-np.inf)))
        tie = np.isfinite(y) & np.isfinite(other) & ((y64 + other.astype(np.float64)) / 2 == d)
    if tie.any():
        flat_y, flat_other, flat_d = y.reshape(-1), other.reshape(-1), d.reshape(-1)
        for i in np.flatnonzero(tie):
            if float(str(flat_other[i])) == flat_d[i]:
                flat_y[i] = flat_other[i]
        y = flat_y.reshape(d.shape)
    return y
