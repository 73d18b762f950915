"""Canonicalization: local algebraic rewrites, one table entry per op name (STYLE 2: generic driver, specific table).

Each pattern sees the op and its already-rewritten operands and returns replacement values, or None to keep the op.
The driver accepts a replacement only if every value has exactly the type of the result it replaces. Rewrites:
- x*1, 1*x, x/1 -> x; x+0, 0+x, x-0 -> x ("1"/"0": a constant, or broadcast_to of one, holding only ones/zeros);
  x*0 is kept (NaN and inf times 0 are NaN), and for floats the sign of zero matters: only x + (-0.0) and
  x - (+0.0) equal x bitwise, since -0.0 + 0.0 is +0.0;
- neg(neg x), logical_not(logical_not x) -> x;
- broadcast_to/reshape to the operand's own (static) type -> x; two in a row -> one (run-time size operands stay
  the outer op's); dim of a static dim -> a constant; transpose of transpose -> one transpose with the composed
  perm, or x when it composes to the identity; convert to the same dtype -> x;
- select(c, x, x) -> x; select with an all-true/all-false constant predicate -> that side;
- cond on a constant predicate -> the taken region, inlined; while_loop whose cond region yields a constant false
  (and has no effects) -> its carried operands;
- run-time size arithmetic and the unit axes it leaves: see ir.passes.size_rules.
Never mutates its input.
"""
from __future__ import annotations

from collections import Counter
from typing import Callable, Optional, Sequence

import numpy as np

from ir.core import Block, Function, Op, Value
from ir.passes.common import CONSTANT, PassRewriter, has_effect, with_edits
from ir.passes.dim_roots import dim_root, same_root, size_root
from ir.passes.size_rules import SIZE_PATTERNS, reshape_of_itself

Replacement = Optional[Sequence[Value]]


class Canonicalizer(PassRewriter):
    """The driver: applies `PATTERNS[op name]` to each op, recursively in regions; `fired` counts the rewrites."""

    def __init__(self) -> None:
        super().__init__()
        self.fired: Counter[str] = Counter()

    def rewrite(self, op: Op, into: Block) -> None:
        pattern = PATTERNS.get(op.opdef.name)
        if pattern is not None:
            new = pattern(self, op, [self.lookup(v) for v in op.operands], into)
            if new is not None and len(new) == len(op.results) and \
                    all(n.type == o.type for n, o in zip(new, op.results)):
                for old, value in zip(op.results, new):
                    self.bind(old, value)
                self.fired[op.opdef.name] += 1
                return
        self.clone(op, into)

    def inline(self, region: Block, values: Sequence[Value], into: Block) -> list[Value]:
        """Rewrites the region's ops into `into` with its block arguments bound to `values`; returns the values
        its terminator yields."""
        for arg, value in zip(region.args, values):
            self.bind(arg, value)
        for op in region.ops[:-1]:
            self.rewrite(op, into)
        return [self.lookup(v) for v in region.ops[-1].operands]


Pattern = Callable[[Canonicalizer, Op, list[Value], Block], Replacement]


# ---- splat tests ----------------------------------------------------------------------------------------------------
def _all_ones(a: Optional[np.ndarray]) -> bool:
    return a is not None and bool(np.all(a == 1))


def _all_zeros(a: Optional[np.ndarray], negative: bool) -> bool:
    """All zeros; for floats, all of the given sign (-0.0 is the identity of +, +0.0 the identity of -)."""
    if a is None or not np.all(a == 0):
        return False
    return a.dtype.kind != "f" or bool(np.all(np.signbit(a) == negative))


# ---- arithmetic identities ------------------------------------------------------------------------------------------
def _mul(rw: Canonicalizer, op: Op, operands: list[Value], into: Block) -> Replacement:
    x, y = operands
    if _all_ones(rw.splat(y)):
        return [x]
    if _all_ones(rw.splat(x)):
        return [y]
    return None


def _div(rw: Canonicalizer, op: Op, operands: list[Value], into: Block) -> Replacement:
    x, y = operands
    return [x] if _all_ones(rw.splat(y)) else None


def _add(rw: Canonicalizer, op: Op, operands: list[Value], into: Block) -> Replacement:
    x, y = operands
    if _all_zeros(rw.splat(y), negative=True):
        return [x]
    if _all_zeros(rw.splat(x), negative=True):
        return [y]
    return None


def _sub(rw: Canonicalizer, op: Op, operands: list[Value], into: Block) -> Replacement:
    x, y = operands
    return [x] if _all_zeros(rw.splat(y), negative=False) else None


def _involution(rw: Canonicalizer, op: Op, operands: list[Value], into: Block) -> Replacement:
    """f(f(x)) = x."""
    inner = rw.producer(operands[0])
    return [inner.operands[0]] if inner is not None and inner.opdef is op.opdef else None


# ---- shape ops ------------------------------------------------------------------------------------------------------
def _identity_if_same_type(rw: Canonicalizer, op: Op, operands: list[Value], into: Block) -> Replacement:
    return [operands[0]] if operands[0].type == op.results[0].type else None


def _collapse_chain(rw: Canonicalizer, op: Op, operands: list[Value], into: Block) -> Replacement:
    """op(op(y, a), b) = op(y, b) for broadcast_to and reshape; op(x, b) = x when it changes nothing. Trailing
    run-time size operands (ir.ops_dims) stay with the outer op."""
    x = operands[0]
    if x.type == op.results[0].type and x.type.is_static:
        return [x]
    inner = rw.producer(x)
    if inner is None or inner.opdef is not op.opdef:
        return None
    y = inner.operands[0]
    if y.type == op.results[0].type and y.type.is_static:
        return [y]
    return rw.emit(into, op.opdef, [y] + operands[1:], dict(op.attrs), like=op)


def _reshape(rw: Canonicalizer, op: Op, operands: list[Value], into: Block) -> Replacement:
    """A reshape to its operand's own dims -> the operand (ir.passes.size_rules); else `_collapse_chain`."""
    return reshape_of_itself(rw, op, operands, into) or _collapse_chain(rw, op, operands, into)


def _dim(rw: Canonicalizer, op: Op, operands: list[Value], into: Block) -> Replacement:
    """dim of a static dim -> that constant; of an unknown one -> the dim (or size operand) it is the same as
    (ir.passes.dim_roots), so that equal sizes become one value for cse."""
    (x,), axis = operands, op.attrs["axis"]
    size = x.type.shape[axis]
    if size is not None:
        return rw.emit(into, CONSTANT, [], {"value": np.asarray(size, dtype=np.int64)}, like=op)
    root = dim_root(rw.producer, x, axis)
    if root[0] == "size":
        return [root[1]]
    _, v, k = root
    return None if v is x else rw.emit(into, op.opdef, [v], {"axis": k}, like=op)


def _broadcast_dim(rw: Canonicalizer, op: Op, operands: list[Value], into: Block) -> Replacement:
    """broadcast_dim(n, n) -> n."""
    a, b = operands
    return [a] if a is b or same_root(size_root(rw.producer, a), size_root(rw.producer, b)) else None


def _broadcast_to(rw: Canonicalizer, op: Op, operands: list[Value], into: Block) -> Replacement:
    """broadcast_to of x to its own type whose size operands are x's own unknown dims -> x."""
    x, sizes = operands[0], operands[1:]
    t = op.results[0].type
    if x.type == t and sizes and all(same_root(size_root(rw.producer, s), dim_root(rw.producer, x, k)) for k, s in
                                     zip([k for k, d in enumerate(op.attrs["shape"]) if d is None], sizes)):
        return [x]
    return _collapse_chain(rw, op, operands, into)


def _transpose(rw: Canonicalizer, op: Op, operands: list[Value], into: Block) -> Replacement:
    (x,) = operands
    perm = [int(p) for p in op.attrs["perm"]]
    if perm == list(range(len(perm))):
        return [x]
    inner = rw.producer(x)
    if inner is None or inner.opdef is not op.opdef:
        return None
    # transpose(transpose(y, p), q) takes its axis i from y's axis p[q[i]].
    first = [int(p) for p in inner.attrs["perm"]]
    composed = [first[q] for q in perm]
    (y,) = inner.operands
    if composed == list(range(len(composed))):
        return [y]
    return rw.emit(into, op.opdef, [y], {**op.attrs, "perm": tuple(composed)}, like=op)


# ---- selection and control ------------------------------------------------------------------------------------------
def _select(rw: Canonicalizer, op: Op, operands: list[Value], into: Block) -> Replacement:
    c, a, b = operands
    if a is b:
        return [a]
    pred = rw.splat(c)
    if pred is None:
        return None
    if np.all(pred):
        return [a]
    if not np.any(pred):
        return [b]
    return None


def _cond(rw: Canonicalizer, op: Op, operands: list[Value], into: Block) -> Replacement:
    pred = rw.constant(operands[0])
    if pred is None:
        return None
    then_region, else_region = op.regions
    return rw.inline(then_region if bool(pred) else else_region, operands[1:], into)


def _while_loop(rw: Canonicalizer, op: Op, operands: list[Value], into: Block) -> Replacement:
    cond_region = op.regions[0]
    if any(has_effect(inner) for inner in cond_region.ops):
        return None  # the cond region runs once even when the loop never does
    (pred,) = cond_region.ops[-1].operands
    for inner in cond_region.ops:
        if inner.opdef is CONSTANT and any(r is pred for r in inner.results):
            if not np.any(inner.attrs["value"]):
                return operands[:op.attrs["carried"]]
    return None


PATTERNS: dict[str, Pattern] = {
    "mul": _mul,
    "div": _div,
    "add": _add,
    "sub": _sub,
    "neg": _involution,
    "logical_not": _involution,
    "broadcast_to": _broadcast_to,
    "broadcast_dim": _broadcast_dim,
    "reshape": _reshape,
    "transpose": _transpose,
    "dim": _dim,
    "convert": _identity_if_same_type,
    "select": _select,
    "cond": _cond,
    "while_loop": _while_loop,
}
PATTERNS.update(SIZE_PATTERNS)  # run-time size arithmetic and unit axes (ir.passes.size_rules)


def canonicalize(fn: Function) -> Function:
    """A copy of `fn` with the table's rewrites applied (each op once, in program order)."""
    rewriter = Canonicalizer()
    return with_edits(rewriter.run(fn), sum(rewriter.fired.values()))
