"""Structural rows of the op table: `cond`, `while_loop`, `call` and the terminators `yield` and `return`.

Structured ops carry regions, so two facets differ from plain rows (and are read generically, from typed fields):
- `infer_regions(operand_types, regions, attrs) -> result types` checks the regions against the operands
  (the verifier calls it; plain `infer` cannot see regions);
- `eager(*arrays, regions=..., run_block=..., **attrs)` runs the op given a `run_block(block, values) -> values`
  from the interpreter.
Layout: `cond %pred, %captured...` with regions (then, else) taking the captured values, its results the join of
what they yield (sizes that differ are `?`); `while_loop %carried...,
%captured... {carried = k}` with regions (cond, body) taking carried then captured values; results are the carried
values after the last trip; `call %args... {callee = "name"}` with one region, the callee's body (a closed copy of
another traced function, ending in yield), taking the operands; results are what it yields.
`emit_yield` / `emit_return` end a block being built, so that drivers need not name the terminators.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from ir.core import Block, Builder, Value
from ir.opdef import NONDIFF, OpDef, fail, register
from ir.types import TensorType, bool_

BOOL_SCALAR = TensorType(bool_, ())


def _no_plain_infer(name: str) -> Callable[..., tuple]:
    def infer(types: list[TensorType], **attrs: Any) -> tuple:
        raise fail(name, "result types come from its regions; build it with explicit result types")
    return infer


def _types(values: Sequence[Value]) -> list[TensorType]:
    return [v.type for v in values]


def _yield_types(block: Block) -> list[TensorType]:
    term = block.terminator
    if term is None or term.opdef.name != "yield":
        raise fail("region", f"region ^{block.label} must end with yield")
    return _types(term.operands)


def _check_args(opname: str, block: Block, expected: Sequence[TensorType]) -> None:
    got = _types(block.args)
    if got != list(expected):
        raise fail(opname, f"region ^{block.label} takes ({', '.join(map(str, got))}) but the op passes "
                           f"({', '.join(map(str, expected))})")


# ---- cond -----------------------------------------------------------------------------------------------------------
def _cond_infer_regions(types: Sequence[TensorType], regions: Sequence[Block], attrs: dict) -> list[TensorType]:
    if len(regions) != 2:
        raise fail("cond", f"needs two regions (then, else), got {len(regions)}")
    if not types or types[0] != BOOL_SCALAR:
        raise TypeError(f"cond: the predicate must be {BOOL_SCALAR}, got {types[0] if types else 'nothing'}")
    for r in regions:
        _check_args("cond", r, types[1:])
    then_t, else_t = _yield_types(regions[0]), _yield_types(regions[1])
    if len(then_t) != len(else_t) or not all(_joinable(a, b) for a, b in zip(then_t, else_t)):
        raise fail("cond", f"the branches yield different types: then ({', '.join(map(str, then_t))}) vs else "
                           f"({', '.join(map(str, else_t))})")
    return [a if a == b else TensorType(a.dtype, tuple(x if x == y else None for x, y in zip(a.shape, b.shape)))
            for a, b in zip(then_t, else_t)]


def _joinable(a: TensorType, b: TensorType) -> bool:
    """Equal types, or tensors of one dtype and rank whose sizes may differ (the result has `?` there: a branch's
    static type refines the result's, e.g. after `specialize` made a branch's operands static)."""
    return a == b or (type(a) is TensorType and type(b) is TensorType and a.dtype is b.dtype and a.rank == b.rank)


def _cond_eager(pred: Any, *captured: Any, regions: Sequence[Block], run_block: Callable[..., Any]) -> tuple:
    return tuple(run_block(regions[0] if bool(pred) else regions[1], captured))


register(OpDef("cond", _no_plain_infer("cond"), _cond_eager, NONDIFF, "structure",
               infer_regions=_cond_infer_regions, regions=("then", "else"), region_operand_start=1,
               doc="Runs the then region if the predicate holds, else the else region; results are what it yields."))


# ---- while_loop -----------------------------------------------------------------------------------------------------
def _while_infer_regions(types: Sequence[TensorType], regions: Sequence[Block], attrs: dict) -> list[TensorType]:
    k = attrs.get("carried")
    if not isinstance(k, int) or not 0 <= k <= len(types):
        raise fail("while_loop", f"attr carried={k!r} must count the carried operands (0..{len(types)})")
    if len(regions) != 2:
        raise fail("while_loop", f"needs two regions (cond, body), got {len(regions)}")
    for r in regions:
        _check_args("while_loop", r, types)
    cond_t = _yield_types(regions[0])
    if cond_t != [BOOL_SCALAR]:
        raise fail("while_loop", f"the cond region must yield one {BOOL_SCALAR}, yields "
                                 f"({', '.join(map(str, cond_t))})")
    body_t = _yield_types(regions[1])
    if body_t != list(types[:k]):
        raise fail("while_loop", f"the body yields ({', '.join(map(str, body_t))}) but the loop carries "
                                 f"({', '.join(map(str, types[:k]))})")
    return list(types[:k])


def _while_eager(*values: Any, regions: Sequence[Block], run_block: Callable[..., Any], carried: int) -> tuple:
    carry, captured = list(values[:carried]), list(values[carried:])
    cond, body = regions
    while bool(run_block(cond, carry + captured)[0]):
        carry = list(run_block(body, carry + captured))
    return tuple(carry)


register(OpDef("while_loop", _no_plain_infer("while_loop"), _while_eager, NONDIFF, "structure", attrs=("carried",),
               infer_regions=_while_infer_regions, regions=("cond", "body"), region_operand_start=0,
               doc="While the cond region yields true, runs the body on the carried values."))


# ---- call -----------------------------------------------------------------------------------------------------------
def _call_infer_regions(types: Sequence[TensorType], regions: Sequence[Block], attrs: dict) -> list[TensorType]:
    if len(regions) != 1:
        raise fail("call", f"needs one region (the callee's body), got {len(regions)}")
    if not isinstance(attrs.get("callee"), str):
        raise fail("call", f"attr callee={attrs.get('callee')!r} must name the called function")
    _check_args("call", regions[0], types)
    return _yield_types(regions[0])


def _call_eager(*values: Any, regions: Sequence[Block], run_block: Callable[..., Any], callee: str) -> tuple:
    return tuple(run_block(regions[0], list(values)))


register(OpDef("call", _no_plain_infer("call"), _call_eager, NONDIFF, "structure", attrs=("callee",),
               infer_regions=_call_infer_regions, regions=("body",), region_operand_start=0,
               doc="Calls another traced function, whose body is the region; results are what it yields."))


# ---- terminators ----------------------------------------------------------------------------------------------------
def _terminator_eager(*values: Any) -> tuple:
    return tuple(values)


YIELD = register(OpDef("yield", lambda types, **attrs: (), _terminator_eager, NONDIFF, "structure", nresults=0,
                       variadic=True, terminator=True, doc="Ends a region, passing its values to the op."))
RETURN = register(OpDef("return", lambda types, **attrs: (), _terminator_eager, NONDIFF, "structure", nresults=0,
                       variadic=True, terminator=True, doc="Ends a function, returning its values."))


def emit_yield(builder: Builder, values: Sequence[Value]) -> None:
    """Ends a region being built, yielding `values`."""
    builder.op(YIELD, list(values), {})


def emit_return(builder: Builder, values: Sequence[Value]) -> None:
    """Ends a function body being built, returning `values`."""
    builder.op(RETURN, list(values), {})
