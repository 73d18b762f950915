"""Which run-time sizes are provably one size: the root of a dim of unknown size (canonicalize's `dim`,
`broadcast_dim` and `broadcast_to` patterns read it).

A dim of unknown size is traced back through the ops that pass it on unchanged: an elementwise op (its operands
and result have one shape), a reduction (the axes it keeps), and the rows that make their result's shape from a
`shape` attr (broadcast_to, reshape, iota: their unknown dims are their trailing size operands, themselves traced
back when they are `dim`s). The root is `("dim", value, axis)` for a dim of a value no rule sees through (a
parameter, a slice), or `("size", value)` for a computed size operand. Two dims with one root are equal whenever
the function runs, so `x - reduce_max(x, keepdims)` under a `None` batch needs no run-time broadcast of its rows.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from ir.core import Op, Value
from ir.opdef import Kind

Root = tuple[Any, ...]
Producer = Callable[[Value], Optional[Op]]

_MAX_DEPTH = 64  # long elementwise chains are walked this far; a deeper root is simply not found


def size_root(producer: Producer, size: Value, depth: int = 0) -> Root:
    """The root of a size operand (an i64[] scalar)."""
    p = producer(size)
    if p is not None and p.opdef.name == "dim" and depth < _MAX_DEPTH:
        return dim_root(producer, p.operands[0], p.attrs["axis"], depth + 1)
    return ("size", size)


def dim_root(producer: Producer, v: Value, axis: int, depth: int = 0) -> Root:
    """The root of dimension `axis` of `v` (its own when it is static or no rule sees through its producer)."""
    p = producer(v)
    if p is None or depth >= _MAX_DEPTH or v.type.shape[axis] is not None:
        return ("dim", v, axis)
    kind = p.opdef.kind
    if kind is Kind.ELEMENTWISE and p.operands and all(o.type.shape == v.type.shape for o in p.operands):
        return dim_root(producer, p.operands[0], axis, depth + 1)
    if kind is Kind.REDUCE and "axes" in p.attrs and len(p.results) == 1:
        kept = [k for k in range(p.operands[0].type.rank) if k not in p.attrs["axes"]]
        return dim_root(producer, p.operands[0], kept[axis], depth + 1)
    shape = p.attrs.get("shape")
    if p.opdef.static_attrs is not None and isinstance(shape, (tuple, list)) and tuple(shape) == v.type.shape:
        # a row that makes a shape from its attr: its unknown dims are its trailing size operands (ir.ops_dims)
        sizes = p.operands[len(p.operands) - sum(1 for d in shape if d is None):]
        return size_root(producer, sizes[sum(1 for d in shape[:axis] if d is None)], depth + 1)
    return ("dim", v, axis)


def same_root(a: Root, b: Root) -> bool:
    """Two roots name one size (values compared by identity)."""
    return a[0] == b[0] and a[1] is b[1] and a[2:] == b[2:]
