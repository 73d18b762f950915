"""Building IR by hand in tests: a function from a body callback, regions, and the structured ops."""
from __future__ import annotations

from typing import Callable, Sequence

from ir.core import Block, Builder, Function, Value
from ir.types import TensorType
from ir.verify import verify


def build(params: Sequence[TensorType], body: Callable[..., Sequence[Value]], name: str = "f") -> Function:
    """A verified function whose parameters are p0, p1, ... and whose body returns what `body(b, *params)` gives."""
    args = [Value(t, f"p{i}") for i, t in enumerate(params)]
    b = Builder(Block(args))
    b.op("return", list(body(b, *args)))
    fn = Function(name, b.block)
    verify(fn)
    return fn


def region(label: str, types: Sequence[TensorType], body: Callable[..., Sequence[Value]]) -> Block:
    args = [Value(t, f"{label}{i}") for i, t in enumerate(types)]
    b = Builder(Block(args, label=label))
    b.op("yield", list(body(b, *args)))
    return b.block


def cond(b: Builder, pred: Value, captured: Sequence[Value], then: Callable, other: Callable) -> list[Value]:
    types = [v.type for v in captured]
    regions = [region("then", types, then), region("else", types, other)]
    return b.op("cond", [pred, *captured], regions=regions, result_types=[v.type for v in regions[0].ops[-1].operands])


def while_loop(b: Builder, carried: Sequence[Value], captured: Sequence[Value], test: Callable,
               body: Callable) -> list[Value]:
    types = [v.type for v in [*carried, *captured]]
    return b.op("while_loop", [*carried, *captured], {"carried": len(carried)},
                regions=[region("cond", types, test), region("body", types, body)],
                result_types=[v.type for v in carried])
