"""State and effect rows of the op table: Variable read/assign, runtime print and assert, counter-based random.

Effects keep program order: a block's op order is the order of its effects. A Variable enters the IR as a
reference (`RefType`); the kernels receive its `Cell` and read or replace `cell.array`.
"""
from __future__ import annotations

import string
import sys
from typing import Any, Optional, Sequence

import numpy as np

from ir.opdef import NONDIFF, OpDef, check_arity, dims_fit, fail, register
from ir.ops_dims import fill_shape, static_shape_attrs
from ir.tfformat import format_value  # noqa: F401  (re-exported: the runtime formats compiled prints with it)
from ir.types import Cell, RefType, TensorType, as_dtype, bool_, float32, float64, int64


class InvalidArgumentError(ValueError):
    """A runtime check failed (an `assert` op); TensorFlow raises the error of the same name."""


class IntegerDivisionByZeroError(InvalidArgumentError, ZeroDivisionError):
    """Integer floordiv or mod by zero: TensorFlow's InvalidArgumentError, and Python's ZeroDivisionError too."""


class IndexOutOfRangeError(InvalidArgumentError, IndexError):
    """A gathered index outside its axis: TensorFlow's InvalidArgumentError, and Python's IndexError too."""


# ---- Variables ------------------------------------------------------------------------------------------------------
def _read_infer(types: list[TensorType], **attrs: Any) -> tuple[TensorType, ...]:
    check_arity("read", types, 1)
    if not isinstance(types[0], RefType):
        raise fail("read", f"operand must be a Variable reference, got {types[0]}")
    return (types[0].value_type,)


def _assign_infer(types: list[TensorType], **attrs: Any) -> tuple[TensorType, ...]:
    check_arity("assign", types, 2)
    ref, value = types
    if not isinstance(ref, RefType):
        raise fail("assign", f"first operand must be a Variable reference, got {ref}")
    if value.dtype is not ref.dtype or not dims_fit(value.shape, ref.shape):
        raise fail("assign", f"cannot assign a value of type {value} to a Variable of type {ref.value_type}")
    return ()


def _assign_kernel(cell: Cell, value: np.ndarray) -> tuple:
    cell.array = np.array(value, dtype=cell.array.dtype)
    return ()


register(OpDef("read", _read_infer, lambda cell: cell.array, lambda em, g, out, ref: (g,), "state",
               doc="The Variable's current value; its cotangent goes to the Variable (IR reverse mode; the eager "
                   "tape tracks Variable reads itself)."))
register(OpDef("assign", _assign_infer, _assign_kernel, NONDIFF, "state", nresults=0, effect=True,
               writes_operand=0, doc="Replaces the Variable's value."))


# ---- print and assert -----------------------------------------------------------------------------------------------
def _placeholders(template: str) -> int:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as e:
        raise fail("print", f"bad template {template!r}: {e}") from None
    if any(f != "" for f in fields):
        raise fail("print", f"template {template!r} may only hold empty {{}} placeholders")
    return len(fields)


def _print_infer(types: list[TensorType], **attrs: Any) -> tuple[TensorType, ...]:
    template = attrs["template"]
    if _placeholders(template) != len(types):
        raise fail("print", f"template {template!r} has {_placeholders(template)} placeholder(s) for "
                            f"{len(types)} operand(s)")
    return ()


def _print_kernel(*values: np.ndarray, template: str, stream: str, summarize: int) -> tuple:
    out = sys.stdout if stream == "stdout" else sys.stderr
    out.write(template.format(*(format_value(v, summarize) for v in values)))
    out.flush()
    return ()


register(OpDef("print", _print_infer, _print_kernel, NONDIFF, "effect", attrs=("template", "stream", "summarize"),
               nresults=0, effect=True, variadic=True,
               doc="Writes `template` (str.format syntax: `{}` per operand, `{{`/`}}` for braces) on every call."))


def _assert_infer(types: list[TensorType], **attrs: Any) -> tuple[TensorType, ...]:
    if not types or types[0].dtype is not bool_:
        raise TypeError(f"assert: the condition must be a bool tensor, got {types[0] if types else 'nothing'}")
    return ()


def assert_message(message: str, data: Sequence[np.ndarray], summarize: int) -> str:
    """The text of a failed assert: `message` with each `{}` replaced by the next data value (as `print`'s
    template), or, without placeholders, the values after it in brackets. Shared by eager mode and compiled code."""
    shown = [format_value(d, summarize) for d in data]
    if data and _placeholders_or_none(message) == len(data):
        return "assertion failed: " + message.format(*shown)
    return f"assertion failed: {message}" + (f" [{' '.join(shown)}]" if data else "")


def _placeholders_or_none(template: str) -> Optional[int]:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError:
        return None
    return len(fields) if all(f == "" for f in fields) else None


def _assert_kernel(cond: np.ndarray, *data: np.ndarray, message: str, summarize: int) -> tuple:
    if not np.all(cond):
        raise InvalidArgumentError(assert_message(message, data, summarize))
    return ()


register(OpDef("assert", _assert_infer, _assert_kernel, NONDIFF, "effect", attrs=("message", "summarize"),
               nresults=0, effect=True, variadic=True,
               doc="Raises InvalidArgumentError naming `message` and the data when any element of cond is false."))


# ---- counter-based random numbers (Philox 4x32-10) ------------------------------------------------------------------
_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = np.uint32(0x9E3779B9), np.uint32(0xBB67AE85)
_MASK32 = np.uint64(0xFFFFFFFF)


def philox4x32(counter: np.ndarray, key: tuple[int, int], rounds: int = 10) -> np.ndarray:
    """Philox 4x32-10 (Salmon et al., SC'11) on an (n, 4) uint32 counter array; returns (n, 4) uint32 words."""
    c = [counter[:, i].astype(np.uint64) for i in range(4)]
    k0, k1 = np.uint32(key[0]), np.uint32(key[1])
    with np.errstate(over="ignore"):
        for _ in range(rounds):
            p0, p1 = _M0 * c[0], _M1 * c[2]
            hi0, lo0 = p0 >> np.uint64(32), p0 & _MASK32
            hi1, lo1 = p1 >> np.uint64(32), p1 & _MASK32
            c = [hi1 ^ c[1] ^ np.uint64(k0), lo1, hi0 ^ c[3] ^ np.uint64(k1), lo0]
            k0, k1 = np.uint32(k0 + _W0), np.uint32(k1 + _W1)
    return np.stack(c, axis=1).astype(np.uint32)


def random_words(seed: int, offset: int, nwords: int) -> np.ndarray:
    """`nwords` uint32 words of the stream for `seed`, starting at block `offset` (4 words a block)."""
    nblocks = (nwords + 3) // 4
    blocks = np.arange(offset, offset + nblocks, dtype=np.uint64)
    counter = np.zeros((nblocks, 4), dtype=np.uint32)
    counter[:, 0] = (blocks & _MASK32).astype(np.uint32)
    counter[:, 1] = (blocks >> np.uint64(32)).astype(np.uint32)
    seed_u = int(seed) & 0xFFFFFFFFFFFFFFFF
    return philox4x32(counter, (seed_u & 0xFFFFFFFF, seed_u >> 32)).reshape(-1)[:nwords]


def blocks_needed(shape: Sequence[int], dtype: Any) -> int:
    n = int(np.prod(shape, dtype=np.int64))
    words = n * (2 if as_dtype(dtype).size == 8 else 1)
    return (words + 3) // 4


def _uniform_kernel(seed: np.ndarray, offset: np.ndarray, *sizes: Any, shape: Sequence[Any], dtype: Any) -> np.ndarray:
    shape = fill_shape(shape, sizes)
    dt = as_dtype(dtype)
    n = int(np.prod(shape, dtype=np.int64))
    if dt.size == 8:
        w = random_words(int(seed), int(offset), 2 * n).astype(np.uint64).reshape(n, 2)
        bits = ((w[:, 0] >> np.uint64(5)) << np.uint64(26)) | (w[:, 1] >> np.uint64(6))
        u = bits.astype(np.float64) * 2.0 ** -53
    else:
        u = (random_words(int(seed), int(offset), n) >> np.uint32(8)).astype(np.float32) * np.float32(2.0 ** -24)
    return u.astype(dt.np).reshape(tuple(shape))


def _uniform_infer(types: list[TensorType], *, shape: Sequence[Any], dtype: Any) -> tuple[TensorType, ...]:
    unknown = sum(1 for d in shape if d is None)
    check_arity("random_uniform", types, 2 + unknown)
    for t in types:
        if t != TensorType(int64, ()):
            raise fail("random_uniform", f"seed, offset and sizes must be i64[] scalars, got {t}")
    dt = as_dtype(dtype)
    if dt not in (float32, float64):  # (float16/bfloat16 would need their own bit recipes to stay below 1)
        raise TypeError(f"random_uniform: dtype must be float32 or float64, got {dt.name}")
    return (TensorType(dt, shape),)


_uniform_static_attrs = static_shape_attrs(2)
register(OpDef("random_uniform", _uniform_infer, _uniform_kernel, NONDIFF, "random", attrs=("shape", "dtype"),
               deterministic=False, static_attrs=_uniform_static_attrs,
               doc="Uniform [0, 1) from Philox 4x32-10 keyed by `seed`, counter blocks from `offset` on: "
                   "24 bits per float32, 53 bits per float64; a None entry of `shape` takes its size from the "
                   "next trailing i64[] operand (after seed and offset). The same (seed, offset) gives the same "
                   "numbers eager, interpreted or compiled."))
