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


def shape_source(shape: Any, plan: Any, args: list[str]) -> str:
    """Python source of one result's shape (or, for a kernel-allocated one, its descriptor's), given the source
    text of each parameter's array (`args`): for generated callers that allocate results (engine.fastcall)."""
    if plan is None:
        return repr(tuple(shape))
    if plan[0] == "kernel":
        return repr((1 + plan[1],))
    return "(" + "".join((repr(d) if isinstance(d, int) else f"{args[d[0]]}.shape[{d[1]}]") + ", "
                         for d in plan[1]) + ")"


def allocator(results: list[tuple[Any, np.dtype]], plans: dict[int, tuple[str, Any]], nparams: int) -> Any:
    """A generated `alloc(arrays) -> outs`: the result arrays (or kernel descriptors) of one call with these
    arguments, with every shape written in (a call costs what allocating static results costs)."""
    args = [f"a[{i}]" for i in range(nparams)]
    env: dict[str, Any] = {"empty": np.empty, "zeros": np.zeros, "i64": np.int64}
    items = []
    for k, (shape, dtype) in enumerate(results):
        plan = plans.get(k)
        env[f"D{k}"] = dtype
        if plan is not None and plan[0] == "kernel":
            items.append(f"zeros({shape_source(shape, plan, args)}, i64)")
        else:
            items.append(f"empty({shape_source(shape, plan, args)}, D{k})")
    exec(f"def alloc(a):\n    return [{', '.join(items)}]", env)  # noqa: S102  (our own source)
    return env["alloc"]
