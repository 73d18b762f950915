"""The one Tensor class, its shape object, and `TensorLike`, the base it shares with Variable.

A Tensor holds a numpy array (eager) or, while a function is being traced, a symbolic IR value (`_node`). This
module imports nothing of the engine at module level: the operator dunders (`__add__`, ..., `__getitem__`) are the
public ops themselves, installed on `TensorLike` by `engine.ops.tensor_methods`, which sits above the ops.
"""
from __future__ import annotations

from typing import Any, Iterator, Optional

import numpy as np

from ir.types import ALL_DTYPES, DType, TensorType, from_numpy


class _DTypeOfArray(dict):
    """numpy dtype -> DType; a dtype imported on first use (bfloat16) is added when its first array is seen."""

    def __missing__(self, np_dtype: Any) -> DType:
        self[np_dtype] = found = from_numpy(np_dtype)
        return found


_NP_TO_DTYPE = _DTypeOfArray({d.np: d for d in ALL_DTYPES if d.loaded})


class TensorShape(tuple):
    """A static shape: a tuple of ints that prints like TensorFlow's and compares equal to lists and tuples."""

    @property
    def rank(self) -> int:
        return len(self)

    @property
    def ndims(self) -> int:
        return len(self)

    def as_list(self) -> list[int]:
        return list(self)

    def num_elements(self) -> Optional[int]:
        """The number of elements; None when a dimension is unknown (a TensorSpec's None), as TensorFlow."""
        n = 1
        for d in self:
            if d is None:
                return None
            n *= d
        return n

    def is_fully_defined(self) -> bool:
        return all(d is not None for d in self)

    def is_compatible_with(self, other: Any) -> bool:
        other = tuple(other)
        return len(other) == len(self) and all(o is None or o == d for o, d in zip(other, self))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (tuple, list)):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = tuple.__hash__

    def __getitem__(self, key: Any) -> Any:
        r = tuple.__getitem__(self, key)
        return TensorShape(r) if isinstance(key, slice) else r

    def __repr__(self) -> str:
        return f"TensorShape({list(self)})"

    def __str__(self) -> str:
        return "(" + ", ".join(str(d) for d in self) + ("," if len(self) == 1 else "") + ")"


class _Ref:
    """A hashable reference to a tensor (`t.ref()`), since tensors compare elementwise and cannot be hashed."""

    __slots__ = ("_t",)

    def __init__(self, t: Any) -> None:
        self._t = t

    def deref(self) -> Any:
        return self._t

    def __hash__(self) -> int:
        return id(self._t)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Ref) and other._t is self._t


class TensorLike:
    """Operators shared by Tensor and Variable; each one is a public op, installed by `engine.ops.tensor_methods`."""

    __slots__ = ()
    __array_priority__ = 100  # numpy defers to our reflected operators: np_array + tensor gives a Tensor

    def __hash__(self) -> int:
        raise TypeError("Tensor is unhashable: use tensor.ref() as the key")

    def ref(self) -> _Ref:
        return _Ref(self)


class Tensor(TensorLike):
    """An immutable n-dimensional array of one dtype.

    >>> import engine as tf
    >>> print(tf.constant([1, 2, 3]) + 4)
    engine.Tensor([5 6 7], shape=(3,), dtype=int32)
    """

    __slots__ = ("_value", "_node", "__weakref__")

    def __init__(self, value: Any, node: Any = None) -> None:
        if node is None and type(value) is not np.ndarray:
            # numpy kernels return numpy scalars for 0-d results (and subclasses pass through numpy functions): an
            # eager tensor always holds an exact ndarray, which compiled code and everything else rely on.
            value = np.asarray(value)
        self._value = value
        self._node = node

    # ---- what it is
    @property
    def dtype(self) -> DType:
        if self._node is not None:
            return self._node.type.dtype
        return _NP_TO_DTYPE[self._value.dtype]

    @property
    def shape(self) -> TensorShape:
        if self._node is not None:
            return TensorShape(self._node.type.shape)
        return TensorShape(self._value.shape)

    @property
    def type(self) -> TensorType:
        if self._node is not None:
            return self._node.type
        return TensorType(_NP_TO_DTYPE[self._value.dtype], self._value.shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def name(self) -> str:
        return getattr(self._node, "name", None) or "Tensor"

    @property
    def device(self) -> str:
        return "/job:localhost/replica:0/task:0/device:CPU:0"

    def get_shape(self) -> TensorShape:
        return self.shape

    # ---- its value
    def _concrete(self, what: str, attribute: bool = False) -> Any:
        if self._node is not None:
            from engine.errors import symbolic_value_error
            raise symbolic_value_error(self, what, attribute)
        return self._value

    def numpy(self) -> Any:
        """The value as a numpy array (a numpy scalar for a scalar tensor), as TensorFlow returns it."""
        v = self._concrete("numpy()", attribute=True)
        if isinstance(v, np.ndarray) and v.ndim == 0:
            return v[()]
        return v

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = np.asarray(self._concrete("a numpy conversion"))
        if dtype is not None and a.dtype != np.dtype(dtype):
            return a.astype(dtype)
        return np.array(a, copy=True) if copy else a

    def _scalar(self, what: str, error: type = TypeError) -> Any:
        """The Python value of a scalar tensor. A non-scalar raises `error`: TypeError for int()/float()/an
        index, as numpy and TensorFlow do; ValueError for the truth value."""
        v = self._concrete(what)
        if np.ndim(v) != 0:
            raise error(f"{what} needs a scalar tensor, got one of shape {tuple(np.shape(v))}; "
                             f"reduce it first (engine.reduce_any, engine.reduce_all, engine.reduce_sum)")
        return np.asarray(v).item()

    def __bool__(self) -> bool:
        if self._node is not None:
            from engine.errors import symbolic_bool_error
            raise symbolic_bool_error(self)
        return bool(self._scalar("the truth value of a tensor (in `if`, `while`, `and`, `or`, `not`)", ValueError))

    def __int__(self) -> int:
        return int(self._scalar("int()"))

    def __float__(self) -> float:
        return float(self._scalar("float()"))

    def __index__(self) -> int:
        if not self.dtype.is_integer:
            raise TypeError(f"only integer tensors can be used as an index, got dtype {self.dtype.name}")
        return int(self._scalar("an index"))

    def __complex__(self) -> complex:
        return complex(self._scalar("complex()"))

    def __format__(self, spec: str) -> str:
        """Formats the numpy value, as TensorFlow does: f"{t}" shows `[1 2]` (not the str form), f"{t:.2f}" needs
        a scalar."""
        if self._node is not None:
            return format(str(self), spec)
        if spec and np.ndim(self._value) != 0:
            raise TypeError(f"format spec {spec!r} needs a scalar tensor, got shape {tuple(self.shape)}")
        return format(self.numpy(), spec)

    def __len__(self) -> int:
        shape = self.shape
        if not shape:
            raise TypeError("len() of a scalar tensor (shape ()) is undefined")
        return shape[0]

    def __iter__(self) -> Iterator["Tensor"]:
        shape = self.shape
        if not shape:
            raise TypeError("cannot iterate over a scalar tensor (shape ())")
        return (self[i] for i in range(shape[0]))

    def __copy__(self) -> "Tensor":
        return self

    def __deepcopy__(self, memo: Any) -> "Tensor":
        return self

    # ---- how it prints (TensorFlow's layout, with our name)
    def __str__(self) -> str:
        if self._node is not None:
            return f'engine.Tensor("{self.name}", shape={self.shape}, dtype={self.dtype.name})'
        text = str(np.asarray(self._value))
        if "\n" in text:
            text = "\n" + text
        return f"engine.Tensor({text}, shape={self.shape}, dtype={self.dtype.name})"

    def __repr__(self) -> str:
        if self._node is not None:
            return f"<engine.Tensor '{self.name}' shape={self.shape} dtype={self.dtype.name}>"
        return f"<engine.Tensor: shape={self.shape}, dtype={self.dtype.name}, numpy={numpy_repr(self._value)}>"


def numpy_repr(v: Any) -> str:
    """The `numpy=...` part of a repr; a multi-line array starts on a new line, as in TensorFlow."""
    a = np.asarray(v)
    text = str(a) if a.ndim == 0 else repr(a)
    return "\n" + text if "\n" in text else text
