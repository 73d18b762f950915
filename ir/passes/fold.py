"""Constant folding: a pure op whose operands are all constants becomes a `constant`, computed by its own `eager`
kernel (the numpy kernel is the specification, STYLE 3).

Folds plain, effect-free, non-random ops with one result of at most `MAX_ELEMENTS` elements, and only when the
result holds no more elements than its constant operands together (or is a scalar): folding never grows the IR, so
`broadcast_to` of a scalar constant (or an iota) stays a cheap splat that codegen fuses, instead of turning into a
dense array. The value is cast to the result type's dtype; a kernel that raises (integer division by zero, an
out-of-range gather) or returns the wrong shape leaves the op as it was, so the error still happens at run time.
The folded constants become dead and `dce` removes them. Never mutates its input.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from ir.core import Block, Function, Op, Value
from ir.passes.common import CONSTANT, PassRewriter, is_pure, with_edits
from ir.types import TensorType

# Folding trades run time for IR size; a big result would bloat the IR text, the disk cache keys and the binary.
MAX_ELEMENTS = 1024


def _foldable(op: Op) -> bool:
    # Random rows are pure, but folding a draw would freeze the numbers into the program text for no gain.
    # Only tensors are literals: an empty stack (stack_new, whose kernel returns a Python marker) is not.
    return (is_pure(op) and op.opdef.nresults == 1 and len(op.results) == 1 and type(op.results[0].type) is TensorType
            and op.opdef is not CONSTANT and op.opdef.deterministic and op.results[0].type.is_static
            and op.results[0].type.size <= MAX_ELEMENTS)


class _ConstantFolder(PassRewriter):
    edits = 0

    def rewrite(self, op: Op, into: Block) -> None:
        folded = self.fold(op) if _foldable(op) else None
        if folded is None:
            self.clone(op, into)
            return
        self.edits += 1
        (old,) = op.results
        new = Value(old.type, old.name)
        into.ops.append(self.note(Op(CONSTANT, [], [new], {"value": folded}, (), op.loc)))
        self.bind(old, new)

    def fold(self, op: Op) -> Optional[np.ndarray]:
        values = [self.constant(self.lookup(v)) for v in op.operands]
        if any(v is None for v in values):
            return None
        t = op.results[0].type
        if t.size > max(1, sum(v.size for v in values)):  # type: ignore[union-attr]
            return None
        try:
            with np.errstate(all="ignore"):
                out = np.array(op.opdef.eager(*values, **op.attrs), dtype=t.dtype.np)
        except Exception:  # noqa: BLE001  the kernel's error belongs to run time, where the program reaches it
            return None
        if out.shape != t.shape:
            return None
        out.flags.writeable = False  # shared by every copy of the function that passes make
        return out


def fold(fn: Function) -> Function:
    """A copy of `fn` with its constant computations evaluated."""
    rewriter = _ConstantFolder()
    return with_edits(rewriter.run(fn), rewriter.edits)
