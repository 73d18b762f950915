"""The op record: everything one op *is*, in one row (DESIGN §2).

Owns: `OpDef`, the `NONDIFF` mark, the registry `OPS` and `register`. Each stage of Kiln (eager dispatch, the
tracer, the verifier, the interpreter, constant folding, autodiff, codegen) is a generic driver that reads these rows.
Assumes nothing from the rest of Kiln.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from ir.types import TensorType


class _NonDiff:
    """Marks an op whose results carry no cotangent (comparisons, argmax, integer results, effects)."""

    def __repr__(self) -> str:
        return "NONDIFF"

    def __bool__(self) -> bool:
        return False


NONDIFF: Any = _NonDiff()

InferFn = Callable[..., tuple[TensorType, ...]]
EagerFn = Callable[..., Any]
VjpFn = Callable[..., Sequence[Any]]


class InferError(ValueError):
    """Raised by an `infer` facet; the message names the op and the offending types."""


@dataclass(eq=False)
class OpDef:
    """One op of the table.

    - `infer(types, **attrs) -> tuple[TensorType, ...]`: result types, or `InferError`/`TypeError` naming the culprit.
    - `eager(*arrays, **attrs)`: the numpy kernel, the specification of the op; returns an array for one result.
    - `vjp(em, g, out, *operands, **attrs) -> tuple`: one cotangent (or None) per operand, given the cotangent `g`
      of the single result `out`, written against an emitter `em` (`ir.emitter`); or `NONDIFF`.
    - `jvp(em, tangents, out, *operands, **attrs)`: the tangent of the result, tangents None where zero; optional
      (forward mode derives it from `vjp` where absent).
    - `lower`: the LLVM rule, filled in by codegen.
    """

    name: str
    infer: InferFn
    eager: EagerFn
    vjp: Any
    kind: str
    attrs: tuple[str, ...] = ()
    jvp: Optional[Callable[..., Any]] = None
    lower: Optional[Callable[..., Any]] = None
    nresults: int = 1
    effect: bool = False
    variadic: bool = False
    doc: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def differentiable(self) -> bool:
        return self.vjp is not NONDIFF

    def __repr__(self) -> str:
        return f"<OpDef {self.name}>"


OPS: dict[str, OpDef] = {}


def register(opdef: OpDef) -> OpDef:
    if opdef.name in OPS:
        raise ValueError(f"op {opdef.name!r} is registered twice")
    OPS[opdef.name] = opdef
    return opdef


def fail(opname: str, message: str) -> InferError:
    return InferError(f"{opname}: {message}")


def check_same(opname: str, types: Sequence[TensorType]) -> TensorType:
    """All operands of an elementwise op have one type (the tracer inserted broadcast_to and convert)."""
    t0 = types[0]
    for t in types:
        if type(t) is not TensorType:
            raise TypeError(f"{opname}: operands must be tensors, got {t} (read a Variable reference first)")
    for t in types[1:]:
        if t.dtype is not t0.dtype:
            raise TypeError(f"{opname}: operands have different dtypes {t0.dtype.name} and {t.dtype.name}")
        if t.shape != t0.shape:
            raise fail(opname, f"operands have different shapes {t0.shape} and {t.shape}")
    return t0


def check_dtype(opname: str, t: TensorType, allowed: Sequence[Any], what: str) -> None:
    if t.dtype not in allowed:
        raise TypeError(f"{opname}: expected {what} operand, got {t.dtype.name} "
                        f"(allowed: {', '.join(d.name for d in allowed)})")


def check_arity(opname: str, types: Sequence[TensorType], n: int) -> None:
    if len(types) != n:
        raise fail(opname, f"expected {n} operand(s), got {len(types)}")


def normalize_axis(opname: str, axis: int, rank: int) -> int:
    if not -rank <= axis < max(rank, 1) or (rank == 0 and axis not in (0, -1)):
        raise fail(opname, f"axis {axis} is out of range for a tensor of rank {rank}")
    return axis % rank if rank else 0
