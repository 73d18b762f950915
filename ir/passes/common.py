"""What the optimization passes share: the rewriter base that remembers producers, generic op properties read
from rows (effects, state, structure), attribute keys that compare numpy arrays by content, and a structural
fingerprint of a Function.

Assumes only `ir.core`, `ir.types` and the op table. Names two rows: `constant`, because passes make constants,
and `broadcast_to`, through which a constant splat stays a splat.
"""
from __future__ import annotations

import weakref
from typing import Any, Optional, Sequence

import numpy as np

from ir.core import Block, Function, Op, Rewriter, Value
from ir.opdef import OpDef
from ir.ops import OPS
from ir.types import RefType

CONSTANT: OpDef = OPS["constant"]
# Repeats its operand's elements only, so a broadcast constant is still "all ones" or "all false".
BROADCAST_TO: OpDef = OPS["broadcast_to"]


# ---- generic op properties ------------------------------------------------------------------------------------------
def is_structured(op: Op) -> bool:
    return op.opdef.structured or bool(op.regions)


def is_terminator(op: Op) -> bool:
    return op.opdef.terminator


def has_effect(op: Op) -> bool:
    """The op's row is an effect, or an op nested in its regions is: dropping or duplicating it is visible."""
    if op.opdef.effect:
        return True
    return any(has_effect(inner) for region in op.regions for inner in region.ops)


def reads_state(op: Op) -> bool:
    """Takes a Variable reference: its result depends on the assigns before it, so it is not a pure function of
    its operands (CSE across an assign would be wrong)."""
    return any(isinstance(v.type, RefType) for v in op.operands)


def is_pure(op: Op) -> bool:
    """A plain op whose results depend only on its operands and attrs."""
    return not (is_structured(op) or is_terminator(op) or has_effect(op) or reads_state(op))


# ---- attribute keys -------------------------------------------------------------------------------------------------
def attr_key(value: Any) -> Any:
    """A hashable key, equal for attrs that mean (and print) the same: arrays by dtype, shape and bytes; floats by
    bits (so -0.0 and 0.0 differ, and a NaN equals itself); lists like tuples and numpy scalars like Python ones;
    type-tagged so True and 1 differ."""
    if isinstance(value, np.ndarray):
        a = np.ascontiguousarray(value)
        return ("ndarray", a.dtype.str, a.shape, a.tobytes())
    if isinstance(value, np.generic):
        return attr_key(value.item())
    if isinstance(value, float):
        return ("float", value.hex())
    if isinstance(value, (list, tuple)):
        return ("seq", tuple(attr_key(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, attr_key(v)) for k, v in value.items())))
    try:
        hash(value)
    except TypeError:
        return ("repr", type(value).__name__, repr(value))
    return (type(value).__name__, value)


def attrs_key(attrs: dict[str, Any]) -> Any:
    return tuple(sorted((k, attr_key(v)) for k, v in attrs.items()))


# ---- edit counts ----------------------------------------------------------------------------------------------------
# How many rewrites made each pass result (dropped, replaced or folded ops): the pipeline stops at a round without
# any, instead of comparing fingerprints of the whole function after every round.
_EDITS: "weakref.WeakKeyDictionary[Function, int]" = weakref.WeakKeyDictionary()


def with_edits(fn: Function, edits: int) -> Function:
    """`fn`, a pass's result, recorded as made by `edits` rewrites."""
    _EDITS[fn] = edits
    return fn


def edits(fn: Function) -> Optional[int]:
    """The rewrites that made `fn` (None: not the result of a counting pass)."""
    return _EDITS.get(fn)


# ---- fingerprint ----------------------------------------------------------------------------------------------------
def fingerprint(fn: Function) -> tuple:
    """A structural fingerprint: equal for functions that print the same (up to value names and locations)."""
    numbers: dict[int, int] = {}

    def number(v: Value) -> int:
        return numbers.setdefault(id(v), len(numbers))

    def block(b: Block) -> tuple:
        args = tuple((number(a), a.type) for a in b.args)
        ops = []
        for op in b.ops:
            regions = tuple(block(r) for r in op.regions)
            ops.append((op.opdef.name, tuple(numbers.get(id(v), -1) for v in op.operands), attrs_key(op.attrs),
                        tuple((number(r), r.type) for r in op.results), regions))
        return args, tuple(ops)

    return block(fn.block)


def count_ops(fn: Function, name: Optional[str] = None) -> int:
    """How many ops (nested ones included) the function has, or how many of the named row."""
    return sum(1 for op in fn.walk() if name is None or op.opdef.name == name)


# ---- the rewriter base ----------------------------------------------------------------------------------------------
class PassRewriter(Rewriter):
    """A Rewriter that remembers which new op produced each new value, so patterns can look one op back, and can
    emit fresh ops with inferred types."""

    def __init__(self) -> None:
        super().__init__()
        # id -> (value, op): holding the value keeps its id from being reused by a later object.
        self._producers: dict[int, tuple[Value, Op]] = {}

    def note(self, op: Op) -> Op:
        for r in op.results:
            self._producers[id(r)] = (r, op)
        return op

    def clone(self, op: Op, into: Block) -> Op:
        return self.note(super().clone(op, into))

    def producer(self, v: Value) -> Optional[Op]:
        entry = self._producers.get(id(v))
        return entry[1] if entry is not None and entry[0] is v else None

    def emit(self, into: Block, opdef: OpDef, operands: Sequence[Value], attrs: dict[str, Any],
             like: Op) -> list[Value]:
        """Appends a plain op (types from the row's infer) that stands in for `like`: same names and location."""
        types = opdef.infer([v.type for v in operands], **attrs)
        results = [Value(t, r.name) for t, r in zip(types, like.results)]
        op = Op(opdef, operands, results, attrs, (), like.loc)
        into.ops.append(op)
        self.note(op)
        return results

    def constant(self, v: Value) -> Optional[np.ndarray]:
        """The value of a `constant` result, else None."""
        op = self.producer(v)
        if op is not None and op.opdef is CONSTANT:
            return np.asarray(op.attrs["value"])
        return None

    def splat(self, v: Value) -> Optional[np.ndarray]:
        """Like `constant`, but also sees through `broadcast_to` of a constant (the array is then unbroadcast,
        which is all that all-ones / all-zeros / all-true tests need)."""
        value = self.constant(v)
        if value is not None:
            return value
        op = self.producer(v)
        if op is not None and op.opdef is BROADCAST_TO:
            return self.splat(op.operands[0])
        return None

