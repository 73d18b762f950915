"""Results of unknown dims: how the runtime allocates them (`result_plan`, `outputs`), and arrays over memory that a
compiled kernel allocated, for results whose size is known only once the kernel has run.

The kernel allocates such a result with `aligned_alloc` and writes its pointer and dims into a descriptor
(`i64[1 + rank]`, see codegen.lower); `adopt` wraps that memory as a numpy array whose base frees it when the array
is collected, and `release` frees what a failed call left in its descriptors.
"""
from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from ir.types import RefType

_libc = ctypes.CDLL(None)
_free = _libc.free
_free.argtypes = [ctypes.c_void_p]
_free.restype = None


class _Block:
    """The owner of one kernel-allocated block: numpy's base of the array over it (the array interface is how
    numpy takes foreign memory without copying)."""

    __slots__ = ("ptr", "__array_interface__")

    def __init__(self, ptr: int, shape: tuple[int, ...], typestr: str) -> None:
        self.ptr = ptr
        self.__array_interface__ = {"data": (ptr, False), "shape": shape, "typestr": typestr, "version": 3}

    def __del__(self) -> None:
        _free(self.ptr)


def adopt(desc: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The array a kernel left in descriptor `desc` (the caller owns it from now on)."""
    ptr, *shape = desc.tolist()
    bits = np.dtype(f"u{dtype.itemsize}") if dtype.kind == "V" else dtype  # bfloat16 has no array-interface code
    arr = np.asarray(_Block(ptr, tuple(shape), bits.str))
    return arr if bits is dtype else arr.view(dtype)


def release(desc: np.ndarray) -> None:
    """Frees the memory in a descriptor of a call that failed (0: the kernel allocated none)."""
    ptr = int(desc[0])
    if ptr:
        _free(ptr)
        desc[0] = 0


def descriptor(rank: int) -> Any:
    return np.zeros(1 + rank, np.int64)


def result_plan(lowered: Any, k: int) -> tuple[str, Any]:
    """How result k (of unknown dims) is allocated: ("param", its dims with each unknown one as the (parameter,
    axis) it equals) by the runtime, or ("kernel", rank) by the kernel (codegen.lower)."""
    dims = lowered.result_dims[k]
    if dims is None:
        return ("kernel", lowered.results[k].rank)
    where = [(i, a) for i, t in enumerate(lowered.params) if not isinstance(t, RefType)
             for a, d in enumerate(t.shape) if d is None]
    return ("param", tuple(d if isinstance(d, int) else where[d[1]] for d in dims))


def outputs(results: list[tuple[Any, np.dtype]], plans: dict[int, tuple[str, Any]], arrays: list[Any]) -> list[Any]:
    """The result arrays (or kernel descriptors) of one call with these arguments."""
    outs = []
    for k, (shape, dtype) in enumerate(results):
        plan = plans.get(k)
        if plan is None:
            outs.append(np.empty(shape, dtype))
        elif plan[0] == "kernel":
            outs.append(descriptor(plan[1]))
        else:
            outs.append(np.empty(tuple(d if isinstance(d, int) else arrays[d[0]].shape[d[1]] for d in plan[1]), dtype))
    return outs
