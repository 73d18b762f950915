"""Element types and tensor types of the IR.

Owns: `DType` (the thirteen dtypes Kiln knows: TF's integer, float and bool types; bfloat16's numpy dtype is
`ml_dtypes.bfloat16`, the one JAX and TF use, imported the first time it is needed: ml_dtypes registers its types
and ufuncs with numpy, which takes longer than the rest of `import engine`), `TensorType` (dtype + static shape), `RefType` (a Variable's
reference) and `Cell`, the mutable box a Variable keeps its array in. Assumes nothing from the rest of Kiln.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional

import importlib
import numpy as np


class DType:
    """One element type. Instances are unique: compare with `is` or `==`."""

    __slots__ = ("name", "short", "np", "is_floating", "is_integer", "is_unsigned", "is_bool", "size", "bits",
                 "_load")

    def __init__(self, name: str, short: str, np_dtype: Any, kind: str = "", size: int = 0) -> None:
        """`np_dtype` is a numpy dtype, or "module:attribute" naming one to import on first use (then give the
        `kind` and `size`)."""
        self.name = name
        self.short = short
        if isinstance(np_dtype, str):
            self._load = np_dtype  # `np` stays unset until `__getattr__` imports it
        else:
            self.np = np.dtype(np_dtype)
            kind, size = kind or self.np.kind, self.np.itemsize
        self.is_floating = kind == "f"  # bfloat16's numpy kind is "V" (an extension dtype): it says "f" itself
        self.is_integer = kind in "iu"
        self.is_unsigned = kind == "u"
        self.is_bool = kind == "b"
        self.size = size
        self.bits = 8 * size

    def __getattr__(self, attr: str) -> Any:
        """Runs only for a slot never set: `np` of a dtype imported on first use."""
        if attr != "np":
            raise AttributeError(attr)
        module, name = self._load.split(":")
        self.np = np.dtype(getattr(importlib.import_module(module), name))
        _BY_NP[self.np] = self
        return self.np

    @property
    def loaded(self) -> bool:
        """Whether `np` is there without an import (numpy arrays of this dtype can only exist once it is)."""
        try:
            object.__getattribute__(self, "np")
        except AttributeError:
            return False
        return True

    @property
    def as_numpy_dtype(self) -> type:
        return self.np.type

    @property
    def is_half(self) -> bool:
        """A 16-bit float (float16, bfloat16): stored in 16 bits, computed in float32 where the CPU has no native
        arithmetic, and summed in a float32 accumulator (as TF does on CPU)."""
        return self.is_floating and self.size == 2

    @property
    def min(self) -> Any:
        return self._finfo().min if self.is_floating else (False if self.is_bool else np.iinfo(self.np).min)

    @property
    def max(self) -> Any:
        return self._finfo().max if self.is_floating else (True if self.is_bool else np.iinfo(self.np).max)

    def _finfo(self) -> Any:
        if self.np.kind == "f":
            return np.finfo(self.np)
        import ml_dtypes
        return ml_dtypes.finfo(self.np)

    def __repr__(self) -> str:
        return f"engine.{self.name}"

    def __str__(self) -> str:
        return f"<dtype: '{self.name}'>"

    def __reduce__(self) -> str:
        return self.name


float32 = DType("float32", "f32", np.float32)
float64 = DType("float64", "f64", np.float64)
int32 = DType("int32", "i32", np.int32)
int64 = DType("int64", "i64", np.int64)
bool_ = DType("bool", "bool", np.bool_)
float16 = DType("float16", "f16", np.float16)
bfloat16 = DType("bfloat16", "bf16", "ml_dtypes:bfloat16", kind="f", size=2)
int8 = DType("int8", "i8", np.int8)
int16 = DType("int16", "i16", np.int16)
uint8 = DType("uint8", "u8", np.uint8)
uint16 = DType("uint16", "u16", np.uint16)
uint32 = DType("uint32", "u32", np.uint32)
uint64 = DType("uint64", "u64", np.uint64)
half = float16

FLOAT_DTYPES: tuple[DType, ...] = (float32, float64, float16, bfloat16)
SIGNED_INT_DTYPES: tuple[DType, ...] = (int32, int64, int8, int16)
UNSIGNED_INT_DTYPES: tuple[DType, ...] = (uint8, uint16, uint32, uint64)
INT_DTYPES: tuple[DType, ...] = SIGNED_INT_DTYPES + UNSIGNED_INT_DTYPES
NUMERIC_DTYPES: tuple[DType, ...] = FLOAT_DTYPES + INT_DTYPES
#: Dtypes with a sign: what TF's neg/abs/sign kernels take (no unsigned kernels for them).
SIGNED_DTYPES: tuple[DType, ...] = FLOAT_DTYPES + SIGNED_INT_DTYPES
#: Integer index dtypes of gather/scatter and `argmax(output_type=...)` (TF: int32, int64 and more for indices).
INDEX_DTYPES: tuple[DType, ...] = (int32, int64)
ALL_DTYPES: tuple[DType, ...] = NUMERIC_DTYPES + (bool_,)

_BY_NAME = {d.name: d for d in ALL_DTYPES} | {d.short: d for d in ALL_DTYPES}
_BY_NP = {d.np: d for d in ALL_DTYPES if d.loaded}


def from_numpy(np_dtype: Any) -> DType:
    """The DType of a numpy dtype; TypeError for dtypes Kiln does not support."""
    try:
        return _BY_NP[np_dtype]
    except (KeyError, TypeError):
        pass
    try:
        return _BY_NP[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        pass
    try:  # a dtype imported on first use, whose module the caller has imported (its arrays exist)
        wanted = np.dtype(np_dtype)
        found = next((d for d in ALL_DTYPES if not d.loaded and wanted.name == d.name), None)
    except TypeError:
        found = wanted = None
    if found is not None and found.np == wanted:
        return found
    raise TypeError(f"unsupported dtype {np_dtype!r}: Kiln supports {', '.join(d.name for d in ALL_DTYPES)}")


def as_dtype(x: Any) -> DType:
    """Accepts a DType, a name ('float32' or 'f32'), a numpy dtype or scalar type, or float/int/bool."""
    if isinstance(x, DType):
        return x
    if isinstance(x, str) and x in _BY_NAME:
        return _BY_NAME[x]
    if x is float:
        return float32
    if x is int:
        return int32
    if x is bool:
        return bool_
    if hasattr(x, "as_numpy_dtype") and not isinstance(x, type):
        return from_numpy(x.as_numpy_dtype)
    return from_numpy(x)


Dim = Optional[int]
"""One dimension of a shape: a static size, or None for a dimension known only at run time (printed `?`)."""


def format_shape(shape: Iterable[Dim]) -> str:
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def _dim(d: Any) -> Dim:
    return None if d is None else int(d)


class TensorType:
    """A tensor's dtype and shape, printed as `f32[3,4]` (`f32[]` for a scalar). A dimension is a static size or
    None, unknown until run time (`f32[?,784]`); the rank is always known."""

    __slots__ = ("dtype", "shape")

    def __init__(self, dtype: DType, shape: Iterable[Dim]) -> None:
        self.dtype = dtype
        self.shape: tuple[Dim, ...] = tuple(_dim(d) for d in shape)

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def is_static(self) -> bool:
        """Every dimension is known."""
        return None not in self.shape

    @property
    def size(self) -> int:
        """The number of elements; only for static shapes (ValueError naming the type otherwise)."""
        n = 1
        for d in self.shape:
            if d is None:
                raise ValueError(f"the size of {self} is not known until run time")
            n *= d
        return n

    def with_shape(self, shape: Iterable[int]) -> "TensorType":
        return TensorType(self.dtype, shape)

    def with_dtype(self, dtype: DType) -> "TensorType":
        return TensorType(dtype, self.shape)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.dtype is other.dtype and self.shape == other.shape  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.dtype.name, self.shape))

    def __str__(self) -> str:
        return self.dtype.short + format_shape(self.shape)

    def __repr__(self) -> str:
        return f"TensorType({self.dtype.name}, {self.shape})"


class RefType(TensorType):
    """The type of a Variable reference: reads and assigns go through it. Printed as `&f32[3]`."""

    __slots__ = ()

    @property
    def value_type(self) -> TensorType:
        return TensorType(self.dtype, self.shape)

    def __str__(self) -> str:
        return "&" + super().__str__()

    def __repr__(self) -> str:
        return f"RefType({self.dtype.name}, {self.shape})"


class StackType(TensorType):
    """A stack of tensors of one type, threaded through a loop by reverse mode (`stack_new`/`push`/`pop`).
    Printed as `stack<f32[3]>`; `dtype` and `shape` are the elements'."""

    __slots__ = ()

    @property
    def elem_type(self) -> TensorType:
        return TensorType(self.dtype, self.shape)

    def __str__(self) -> str:
        return "stack<" + super().__str__() + ">"

    def __repr__(self) -> str:
        return f"StackType({self.dtype.name}, {self.shape})"


class Cell:
    """The mutable box behind a Variable: `read` and `assign` kernels take and update `cell.array`."""

    __slots__ = ("array", "__weakref__")

    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    def __repr__(self) -> str:
        return f"Cell({self.array!r})"
