"""Canonicalize's patterns for run-time size arithmetic and the unit axes it leaves (merged into its table).

Under a `None` batch the tracer and the gradient rules compute sizes in IR (`reshape(x, [-1, 784])` divides the
element count by 784; `Emitter.sum_to` splits an axis of unknown size into (n, m // max(n, 1)) in case n was 1).
When the sizes involved are provably one size (ir.passes.dim_roots), these rewrites recover what a static trace
would have had:
- floordiv(mul(a, c), c) -> a and floordiv(a, 1) -> a, for a size `a` (an i64[] that is the dim of a tensor, so
  a product with it that a tensor holds cannot overflow) and a constant c > 0;
- a reduction (a REDUCE row with `axes`) over axes of size 1 only -> a reshape to its result type (a reduction of
  one element is that element). Size 1 is static, or an axis of a reshape whose size operand is m // max(n, 1)
  with m of the root of n, another size of that reshape: n > 0 makes it 1, and n == 0 leaves no elements;
- a reshape to its operand's own type whose run-time sizes are the operand's own dims -> the operand.
Names the rows whose arithmetic they read: `mul`, `floordiv`, `maximum`, `dim` and `reshape`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional, Sequence

from ir.core import Block, Op, Value
from ir.opdef import Kind
from ir.ops import OPS
from ir.passes.dim_roots import dim_root, same_root, size_root
from ir.types import TensorType, int64

if TYPE_CHECKING:
    from ir.passes.canonicalize import Canonicalizer

Replacement = Optional[Sequence[Value]]
SIZE = TensorType(int64, ())
MUL, FLOORDIV, MAXIMUM, DIM, RESHAPE = OPS["mul"], OPS["floordiv"], OPS["maximum"], OPS["dim"], OPS["reshape"]


def _is_size(rw: "Canonicalizer", v: Value) -> bool:
    """`v` is the run-time size of some tensor's dimension (so it is >= 0, and a tensor holds it times the rest)."""
    return v.type == SIZE and size_root(rw.producer, v)[0] == "dim"


def _positive(rw: "Canonicalizer", v: Value) -> Optional[int]:
    c = rw.constant(v)
    return int(c) if c is not None and c.shape == () and int(c) > 0 else None


def floordiv_of_size(rw: "Canonicalizer", op: Op, operands: list[Value], into: Block) -> Replacement:
    """floordiv(mul(a, c), c) -> a; floordiv(a, 1) -> a (a a size, c > 0 a constant)."""
    x, y = operands
    c = _positive(rw, y)
    if c is None or x.type != SIZE:
        return None
    if c == 1 and _is_size(rw, x):
        return [x]
    p = rw.producer(x)
    if p is None or p.opdef is not MUL:
        return None
    for a, k in (p.operands, p.operands[::-1]):
        if _positive(rw, k) == c and _is_size(rw, a):
            return [a]
    return None


def _per_unit(rw: "Canonicalizer", size: Value, siblings: Sequence[Value]) -> bool:
    """`size` is m // max(n, 1) with m of n's root, n one of `siblings` (so it is 1, or the tensor is empty)."""
    p = rw.producer(size)
    if p is None or p.opdef is not FLOORDIV:
        return False
    m, bound = p.operands
    q = rw.producer(bound)
    if q is None or q.opdef is not MAXIMUM or _positive(rw, q.operands[1]) != 1:
        return False
    root = size_root(rw.producer, q.operands[0])
    return same_root(size_root(rw.producer, m), root) and \
        any(s is not size and same_root(size_root(rw.producer, s), root) for s in siblings)


def _size_operands(rw: "Canonicalizer", x: Value) -> dict[int, Value]:
    """The size operand of each unknown dim of x when x is a reshape (else none)."""
    p = rw.producer(x)
    if p is None or p.opdef is not RESHAPE:
        return {}
    unknown = [k for k, d in enumerate(p.attrs["shape"]) if d is None]
    return dict(zip(unknown, p.operands[1:]))


def reduce_of_units(rw: "Canonicalizer", op: Op, operands: list[Value], into: Block) -> Replacement:
    """A reduction over axes of size 1 only -> a reshape to its result type (run-time sizes: x's kept ones)."""
    (x,) = operands
    axes = tuple(op.attrs["axes"])
    t = op.results[0].type
    if not axes or len(op.results) != 1 or t.dtype is not x.type.dtype:
        return None
    sized = _size_operands(rw, x)
    for k in axes:
        if x.type.shape[k] != 1 and not (k in sized and _per_unit(rw, sized[k], list(sized.values()))):
            return None
    kept = [k for k in range(x.type.rank) if k not in axes]
    if tuple(x.type.shape[k] for k in kept) != t.shape:
        return None
    sizes: list[Value] = []
    for k in kept:
        if x.type.shape[k] is None:
            sizes += [sized[k]] if k in sized else rw.emit(into, DIM, [x], {"axis": k}, like=_size_of(op))
    return rw.emit(into, RESHAPE, [x] + sizes, {"shape": t.shape}, like=op)


def _size_of(op: Op) -> Op:
    """Stands in for `op` when a size op is made for it: its location, a fresh name."""
    return Op(DIM, op.operands, [Value(SIZE, None)], {}, (), op.loc)


def reshape_of_itself(rw: "Canonicalizer", op: Op, operands: list[Value], into: Block) -> Replacement:
    """A reshape to x's own type whose run-time sizes are x's own dims -> x (canonicalize's reshape pattern)."""
    x, sizes = operands[0], operands[1:]
    unknown = [k for k, d in enumerate(op.attrs["shape"]) if d is None]
    if x.type == op.results[0].type and sizes and all(
            same_root(size_root(rw.producer, s), dim_root(rw.producer, x, k)) for k, s in zip(unknown, sizes)):
        return [x]
    return None


Pattern = Callable[["Canonicalizer", Op, list[Value], Block], Replacement]
SIZE_PATTERNS: dict[str, Pattern] = {"floordiv": floordiv_of_size}
SIZE_PATTERNS.update({name: reduce_of_units for name, opdef in OPS.items()
                      if opdef.kind is Kind.REDUCE and "axes" in opdef.attrs})
