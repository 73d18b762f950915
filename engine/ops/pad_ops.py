"""`tf.pad`: CONSTANT (a row of the op table), REFLECT and SYMMETRIC (reversed slices concatenated around the
tensor, so their gradients and compiled code come from the slice and concat rows)."""
from __future__ import annotations

import builtins
from typing import Any, Optional

import numpy as np

from engine.convert import convert_to_tensor
from engine.dispatch import apply
from engine.ops import dynamic_layout
from engine.ops.funnel import as_tensor, raw_shape
from engine.tensor import Tensor
from ir.opdef import OPS
from ir.ops_state import InvalidArgumentError

_O = OPS


def pad(tensor: Any, paddings: Any, mode: str = "CONSTANT", constant_values: Any = 0,
        name: Optional[str] = None) -> Tensor:
    """`tf.pad`: `paddings[i] = [before, after]` for axis i. CONSTANT fills with `constant_values`; REFLECT mirrors
    without repeating the edge (`[1, 2, 3]` -> `[3, 2, 1, 2, 3, 2, 1]` for [2, 2]); SYMMETRIC mirrors including it
    (`[2, 1, 1, 2, 3, 3, 2]`). The mirrored modes are reversed slices concatenated around the tensor, so gradients
    and compiled code come from those rows.

    >>> import engine as tf
    >>> tf.pad(tf.constant([1, 2, 3]), [[2, 2]], mode="REFLECT").numpy()
    array([3, 2, 1, 2, 3, 2, 1], dtype=int32)
    """
    t = as_tensor(tensor)
    kind = str(mode).upper()
    if kind not in ("CONSTANT", "REFLECT", "SYMMETRIC"):
        raise ValueError(f"pad: mode must be one of 'CONSTANT', 'REFLECT', 'SYMMETRIC', got {mode!r}")
    shape = raw_shape(t)
    p = np.asarray(paddings.numpy() if hasattr(paddings, "numpy") else paddings, dtype=np.int64)
    if p.shape != (len(shape), 2):
        raise InvalidArgumentError(f"pad: paddings must have shape [{len(shape)}, 2] for a tensor of rank "
                                   f"{len(shape)}, got {p.tolist()}")
    if (p < 0).any():
        raise InvalidArgumentError(f"pad: paddings must not be negative, got {p.tolist()}")
    pairs = tuple((int(a), int(b)) for a, b in p)
    if kind == "CONSTANT":
        value = convert_to_tensor(constant_values, dtype_hint=t.dtype)
        if value.dtype is not t.dtype or raw_shape(value) != ():
            raise TypeError(f"pad: constant_values must be a scalar of the tensor's dtype {t.dtype.name}, got "
                            f"{value.dtype.name} of shape {tuple(raw_shape(value))}")
        return apply(_O["pad"], t, paddings=pairs, value=np.asarray(value._value).item())
    for ax, (before, after) in enumerate(pairs):
        t = _mirror(t, ax, before, after, kind == "SYMMETRIC")
    return t


def _mirror(t: Tensor, ax: int, before: int, after: int, symmetric: bool) -> Tensor:
    """Pads axis `ax` with mirror images of its ends: reversed slices (stride -1) concatenated around `t`."""
    shape = raw_shape(t)
    n = shape[ax]
    if n is None:
        return dynamic_layout.mirror_pad(t, ax, before, after, symmetric)
    limit = n if symmetric else n - 1
    if before > limit or after > limit:
        raise InvalidArgumentError(f"pad: {'SYMMETRIC' if symmetric else 'REFLECT'} paddings ({before}, {after}) "
                                   f"of axis {ax} must be at most {limit} for its size {n}")
    skip = 0 if symmetric else 1  # REFLECT leaves out the edge element itself

    def reversed_run(start: int, count: int) -> Tensor:
        """`count` elements from index `start` downward along `ax`."""
        begin = tuple(start if i == ax else 0 for i in builtins.range(len(shape)))
        end = tuple(start - count if i == ax else d for i, d in enumerate(shape))
        return apply(_O["slice"], t, begin=begin, end=end, strides=tuple(-1 if i == ax else 1
                                                                          for i in builtins.range(len(shape))))

    pieces = ([reversed_run(before - 1 + skip, before)] if before else []) + [t] + \
        ([reversed_run(n - 1 - skip, after)] if after else [])
    return t if len(pieces) == 1 else apply(_O["concat"], *pieces, axis=ax)
