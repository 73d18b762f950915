"""Which functions with unknown dimensions codegen compiles as one kernel for every size.

`has_unknown_dims(fn)`: some value's type has an unknown dim (`f32[?,784]`). `supports_unknown_dims(fn)`: every op
that touches such a value has a `lower` rule that takes run-time sizes, so one compiled kernel serves every size;
otherwise the caller specializes the IR to each concrete shape (engine.concrete). A rule declares this with
`@lowers(..., dynamic=True)` or a predicate `dynamic(op) -> bool` (codegen.rules.registry); a rule without the
declaration is taken to need static shapes.
"""
from __future__ import annotations

from typing import Any, Iterator

import codegen.rules  # noqa: F401  (attaches the lower facets to the op table)
from ir.core import Function, Op
from ir.opdef import Kind
from ir.types import RefType, TensorType


def _types(op: Op) -> Iterator[TensorType]:
    for v in op.operands:
        yield v.type
    for r in op.results:
        yield r.type
    for region in op.regions:
        for a in region.args:
            yield a.type


def _unknown(t: Any) -> bool:
    return isinstance(t, TensorType) and not t.is_static


def has_unknown_dims(fn: Function) -> bool:
    """Some parameter, result or intermediate has an unknown dimension."""
    return any(_unknown(p.type) for p in fn.params) or any(_unknown(t) for op in fn.walk() for t in _types(op))


def op_supports_unknown_dims(op: Op) -> bool:
    """`op`'s rule lowers it with run-time sizes (trivially true when none of its values has an unknown dim)."""
    if not any(_unknown(t) for t in _types(op)):
        return True
    if op.opdef.kind is Kind.ELEMENTWISE:
        return True  # the driver gives their results the operands' dims (codegen.lower.elementwise_dims)
    rule = op.opdef.lower
    dynamic = getattr(rule, "dynamic", False)
    return bool(dynamic(op) if callable(dynamic) else dynamic)


def supports_unknown_dims(fn: Function) -> bool:
    """Whether `fn` (with unknown dims) compiles to one kernel that takes any size: every op's rule takes run-time
    sizes, and no Variable has an unknown dim."""
    if any(isinstance(p.type, RefType) and _unknown(p.type) for p in fn.params):
        return False
    return all(op_supports_unknown_dims(op) for op in fn.walk())


def unsupported_ops(fn: Function) -> list[str]:
    """The names of the ops that keep `fn` from compiling generically (for messages and tests)."""
    return sorted({op.opdef.name for op in fn.walk() if not op_supports_unknown_dims(op)})
