"""The one funnel every op goes through: `apply(opdef, *operands, **attrs)` (DESIGN §1, §3).

With no trace active it runs the row's numpy kernel and records the op on every active GradientTape; while a
function is being traced it hands the op to the tracer, which emits an IR op. Operands must already have the exact
types the row expects: the public ops in `engine.ops` convert, check and broadcast before they get here.
"""
from __future__ import annotations

from typing import Any, Optional, Protocol

from autodiff import tape as _tape
from engine.tensor import Tensor
from ir.opdef import OpDef


class Tracer(Protocol):
    """What the tracer provides while a function is traced (engine.trace)."""

    def emit(self, opdef: OpDef, operands: tuple, attrs: dict) -> Any: ...
    def read_variable(self, variable: Any) -> Tensor: ...
    def assign_variable(self, variable: Any, value: Tensor) -> None: ...


# The tracer of the innermost function being traced, if any.
_tracer: list[Tracer] = []


def tracing() -> bool:
    return bool(_tracer)


def current_tracer() -> Optional[Tracer]:
    return _tracer[-1] if _tracer else None


def apply(opdef: OpDef, *operands: Tensor, **attrs: Any) -> Any:
    """Run one op of the table on tensors; returns a Tensor, a tuple of them (several results) or None (effects)."""
    if _tracer:
        out = _tracer[-1].emit(opdef, operands, attrs)
        if _tape.active and out is not None:
            # A tape used while tracing records traced ops: its gradient() then emits the backward IR.
            _tape.record(opdef, operands, out if isinstance(out, tuple) else (out,), attrs)
        return out
    if opdef.kind != "elementwise":
        opdef.infer([t.type for t in operands], **attrs)
    out = opdef.eager(*[t._value for t in operands], **attrs)
    if opdef.nresults == 1:
        result = Tensor(out)
        if _tape.active:
            _tape.record(opdef, operands, (result,), attrs)
        return result
    if opdef.nresults == 0:
        return None
    results = tuple(Tensor(o) for o in out)
    if _tape.active:
        _tape.record(opdef, operands, results, attrs)
    return results
