"""`v[key].assign(value)`: TensorFlow's sliced Variable assignment (its `_SliceHelperVar`).

`v[key]` on a Variable is the tensor `x[key]` of the Variable's value (`engine.indexing`), returned as a
`VariableSlice`: a Tensor that also knows where it came from, so `.assign(value)` writes `value` into those
positions of the Variable and returns the Variable (TensorFlow 2.21 gives the tensor the same `assign`).

The write is built from rows, so it records on tapes and traces like any op: with p = the flat positions the key
selects (computed from the key alone, which must therefore be concrete), the new value is one `gather` from
concat(value broadcast to the slice's shape, flattened; the old value, flattened), whose index takes position j of
the slice where p[j] lands (the last one, for a repeated position, as numpy's assignment does) and the old value
elsewhere.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.convert import beside
from engine.dispatch import apply
from engine.errors import DTypeConversionError
from engine.ops.array_ops import broadcast_to
from engine.ops.funnel import as_tensor
from engine.tensor import Tensor, TensorLike
from ir.opdef import OPS


class VariableSlice(Tensor):
    """`v[key]`: the value of that slice, with `assign` writing into the Variable."""

    __slots__ = ("_plain", "_variable", "_key")

    def __init__(self, plain: Tensor, variable: Any, key: Any) -> None:
        super().__init__(plain._value, plain._node)
        self._plain = plain
        self._variable = variable
        self._key = key

    def value(self) -> Tensor:
        """The plain tensor the ops layer sees (the one the tapes recorded)."""
        return self._plain

    def assign(self, value: Any, use_locking: Any = None, name: Any = None, read_value: bool = True) -> Any:
        return assign_slice(self._variable, self._key, value, read_value)


def _numpy_part(k: Any) -> Any:
    if isinstance(k, slice):
        return slice(*(_numpy_part(b) for b in (k.start, k.stop, k.step)))
    if isinstance(k, TensorLike):
        t = as_tensor(k)
        if t._node is not None:
            raise NotImplementedError("assigning to a Variable slice needs a key of Python values or eager "
                                      "tensors: the positions it writes are fixed when the function is traced")
        return t._value
    return k


def _flat_positions(shape: tuple[int, ...], key: Any) -> np.ndarray:
    """The flat positions of the Variable that `key` selects, in the slice's shape. `x[key]` already checked the
    key, and reads it as numpy does once a list key is a tuple (`engine.indexing`), so numpy computes them."""
    parts = tuple(key) if isinstance(key, (tuple, list)) else (key,)
    return np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)[tuple(_numpy_part(k) for k in parts)]


def assign_slice(variable: Any, key: Any, value: Any, read_value: bool = True) -> Any:
    """Writes `value` (broadcast to the slice's shape) into `variable[key]`; returns the Variable, or None eagerly
    when `read_value` is False."""
    shape = tuple(variable.shape)
    positions = np.asarray(_flat_positions(shape, key))
    t = as_tensor(value) if isinstance(value, TensorLike) else beside(value, variable.dtype)
    if t.dtype is not variable.dtype:
        raise DTypeConversionError(f"assign: cannot assign a value of dtype {t.dtype.name} to a slice of the "
                                   f"{variable.dtype.name} Variable {variable.name!r}")
    t = broadcast_to(t, positions.shape)
    n = positions.size
    size = int(np.prod(shape))
    index = np.arange(n, n + size, dtype=np.int64)
    index[positions.reshape(-1)] = np.arange(n, dtype=np.int64)
    flat_new = apply(OPS["reshape"], t, shape=(n,))
    flat_old = apply(OPS["reshape"], variable.value(), shape=(size,))
    both = apply(OPS["concat"], flat_new, flat_old, axis=0)
    new = apply(OPS["gather"], both, apply(OPS["constant"], value=index), axis=0)
    return variable.assign(apply(OPS["reshape"], new, shape=shape), read_value=read_value)
