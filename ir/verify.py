"""The IR verifier: `verify(fn)` checks a Function's structural and type invariants (DESIGN §4, STYLE 7).

Owns `verify` and `VerifyError`. It checks, reading only generic row properties:
- def before use: an operand is a block argument of the op's own block or a result of an earlier op there;
  regions are closed, so a region sees only its own block arguments and the values defined inside it;
- each value is defined once (as a block argument or an op result, anywhere in the function);
- each block ends with exactly one terminator, and terminators appear only last: `return` ends the function's
  block, `yield` ends a region;
- attrs: exactly the row's declared attribute names, each of the kind its name holds, and as many operands as the
  row's numpy kernel takes (`ir.verify_attrs`);
- no op result is a Variable reference (`RefType`): references enter only as parameters;
- operand/result arity and types, re-inferred from the rows: `opdef.infer(operand_types, **attrs)` for plain
  rows, `opdef.infer_regions(operand_types, regions, attrs)` for structured rows, whose regions are
  verified recursively first.
Every error names the op as one line of IR text and the user's source line (`op.loc`) when known.
Assumes only `ir.core` and the op table.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Iterable, Optional

import numpy as np

from ir import verify_attrs
from ir.core import Block, Function, Op, Value
from ir.opdef import OpDef
from ir.ops import OPS
from ir.printer import Namer as _Namer
from ir.printer import format_attrs as _printer_format_attrs
from ir.types import RefType, TensorType

# Builds the "where" of a message only when there is an error to report.
Describe = Callable[[], str]

_RETURN: OpDef = OPS["return"]
_YIELD: OpDef = OPS["yield"]


class VerifyError(ValueError):
    """The IR breaks an invariant; the message names the op, its source line and what is wrong."""


# ---- one-line op text for messages ----------------------------------------------------------------------------------
def _plain_format_attrs(attrs: dict[str, Any]) -> str:
    """Attrs shown without the printer's syntax, for a message about an attr the printer cannot show."""
    def fmt(value: Any) -> str:
        if isinstance(value, (np.ndarray, np.generic)):
            return np.array2string(np.asarray(value), separator=", ", threshold=8).replace("\n", "")
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(fmt(v) for v in value) + "]"
        return str(value.short) if hasattr(value, "short") else repr(value)
    return "{" + ", ".join(f"{k} = {fmt(attrs[k])}" for k in sorted(attrs)) + "}"


def function_namer(fn: Function) -> Any:
    """A namer that names every value of `fn` as `print_function(fn)` shows it (same textual order)."""
    names = _Namer()

    def walk(block: Any) -> None:
        for a in getattr(block, "args", ()):
            names(a)
        for op in getattr(block, "ops", ()):
            for v in list(getattr(op, "results", ())) + list(getattr(op, "operands", ())):
                if isinstance(v, Value):
                    names(v)
            for region in getattr(op, "regions", ()):
                walk(region)
    walk(fn.block)
    return names


def format_op(op: Op, names: Any = None) -> str:
    """`%3 = add %1, %2 : f32[3]`: the op in the text format's generic syntax, its regions elided as `{...}`."""
    namer = names or _Namer()

    def name(v: Any) -> str:
        return namer(v) if isinstance(v, Value) else f"<{type(v).__name__}>"
    lhs = ", ".join(name(r) for r in op.results)
    text = (lhs + " = " if lhs else "") + op.opdef.name
    if op.operands:
        text += " " + ", ".join(name(v) for v in op.operands)
    if op.attrs:
        try:
            text += " " + _printer_format_attrs(op.attrs)
        except Exception:  # noqa: BLE001  a message about a bad attr must not fail on printing it
            text += " " + _plain_format_attrs(op.attrs)
    if op.results:
        text += " : " + ", ".join(str(getattr(r, "type", "?")) for r in op.results)
    return text + " {...}" * len(op.regions)


def format_loc(op: Op) -> str:
    loc = op.loc
    if isinstance(loc, tuple) and len(loc) == 2:
        return f" ({os.path.basename(str(loc[0]))}:{loc[1]})"
    return ""


def _types(ts: Iterable[Any]) -> str:
    return ", ".join(str(t) for t in ts)


# ---- the checks -----------------------------------------------------------------------------------------------------
def verify(fn: Function) -> None:
    """Raises VerifyError naming the first broken invariant; returns None for valid IR."""
    if not isinstance(fn, Function):
        raise VerifyError(f"verify: expected an ir.core.Function, got {type(fn).__name__}")
    _Verifier(fn).run()


class _Verifier:
    def __init__(self, fn: Function) -> None:
        self.fn = fn
        self.defined: set[int] = set()
        self._names: Any = None
        self._defined_anywhere: Optional[set[int]] = None

    # Both only matter for the message of an error, so valid IR never pays for them.
    @property
    def names(self) -> Any:
        if self._names is None:
            self._names = function_namer(self.fn)
        return self._names

    @property
    def defined_anywhere(self) -> set[int]:
        if self._defined_anywhere is None:
            self._defined_anywhere = {id(v) for v in _all_definitions(self.fn.block)}
        return self._defined_anywhere

    def run(self) -> None:
        self.block(self.fn.block, [], lambda: f"the body of function @{self.fn.name}", _RETURN)

    def op_error(self, op: Op, message: str) -> VerifyError:
        return VerifyError(f"verify: op `{format_op(op, self.names)}`{format_loc(op)}: {message}")

    def define(self, v: Any, scope: set[int], what: Describe) -> None:
        if not isinstance(v, Value):
            raise VerifyError(f"verify: {what()} is a {type(v).__name__}, not an ir.core.Value")
        if not isinstance(v.type, TensorType):
            raise VerifyError(f"verify: {what()} {self.names(v)} has type {v.type!r}, not an ir.types.TensorType")
        if id(v) in self.defined:
            raise VerifyError(f"verify: value {self.names(v)} is defined twice (again as {what()})")
        self.defined.add(id(v))
        scope.add(id(v))

    def block(self, block: Block, outer: list[set[int]], where: Describe, terminator: OpDef) -> None:
        scope: set[int] = set()
        for k, a in enumerate(block.args):
            self.define(a, scope, lambda: f"argument #{k} of {where()}")
        if not block.ops:
            raise VerifyError(f"verify: {where()} is empty; it must end with `{terminator.name}`")
        last = len(block.ops) - 1
        for i, op in enumerate(block.ops):
            if not isinstance(op, Op) or not isinstance(op.opdef, OpDef):
                raise VerifyError(f"verify: {where()} holds {op!r}, not an ir.core.Op with an OpDef")
            is_terminator = op.opdef.terminator
            if is_terminator and i != last:
                raise self.op_error(op, f"the terminator `{op.opdef.name}` must be the last op of {where()}, "
                                        f"but {last - i} op(s) follow it")
            if i == last and not is_terminator:
                raise self.op_error(op, f"{where()} does not end with a terminator: its last op must be "
                                        f"`{terminator.name}`")
            if i == last and op.opdef is not terminator:
                raise self.op_error(op, f"{where()} must end with `{terminator.name}`, not `{op.opdef.name}`")
            self.op(op, scope, outer)

    def op(self, op: Op, scope: set[int], outer: list[set[int]]) -> None:
        for k, v in enumerate(op.operands):
            if id(v) not in scope:
                raise self.op_error(op, f"operand #{k} {self.names(v)} {self.why_invisible(v, outer)}")
        opdef = op.opdef
        declared, given = set(opdef.attrs), set(op.attrs)
        if given != declared:
            parts = []
            if declared - given:
                parts.append(f"missing attr(s) {', '.join(sorted(declared - given))}")
            if given - declared:
                parts.append(f"unknown attr(s) {', '.join(sorted(given - declared))}")
            takes = ", ".join(opdef.attrs) or "none"
            raise self.op_error(op, f"bad attrs: {'; '.join(parts)} (`{opdef.name}` takes: {takes})")
        bad = verify_attrs.problem(opdef, len(op.operands), op.attrs)
        if bad is not None:
            raise self.op_error(op, bad)
        types = [v.type for v in op.operands]
        if opdef.infer_regions is not None:
            for k, region in enumerate(op.regions):
                if not isinstance(region, Block):
                    raise self.op_error(op, f"region #{k} is a {type(region).__name__}, not an ir.core.Block")
                label = region.label or str(k)
                self.block(region, outer + [scope], lambda: f"region ^{label} of op `{format_op(op, self.names)}`",
                           _YIELD)
            inferred = self.infer(op, lambda: opdef.infer_regions(types, op.regions, dict(op.attrs)))
        else:
            if op.regions:
                raise self.op_error(op, f"`{opdef.name}` takes no regions, but the op has {len(op.regions)}")
            inferred = self.infer(op, lambda: opdef.infer(types, **op.attrs))
            if len(op.results) != opdef.nresults:
                raise self.op_error(op, f"has {len(op.results)} result(s) but `{opdef.name}` makes "
                                        f"{opdef.nresults}")
        got = [getattr(r, "type", None) for r in op.results]
        if len(inferred) != len(got):
            raise self.op_error(op, f"inferred {len(inferred)} result(s) ({_types(inferred)}) but the IR has "
                                    f"{len(got)} ({_types(got)})")
        for k, (want, have) in enumerate(zip(inferred, got)):
            if want != have:
                which = "" if len(got) == 1 else f" of result #{k}"
                raise self.op_error(op, f"inferred type{which} {want} but the IR says {have}")
        for k, r in enumerate(op.results):
            self.define(r, scope, lambda: f"result #{k} of op `{format_op(op, self.names)}`")
            if isinstance(r.type, RefType):
                # References enter only as parameters (and region arguments); an op making one would alias a
                # Variable behind the effects' backs.
                raise self.op_error(op, f"result #{k} is a Variable reference {r.type}; ops never produce references")

    def infer(self, op: Op, facet: Any) -> list[TensorType]:
        """Runs an infer facet, turning its complaint into a VerifyError that names the op and its line."""
        try:
            return list(facet())
        except Exception as e:  # noqa: BLE001  facets raise InferError, TypeError, or worse on malformed attrs
            raise self.op_error(op, f"{type(e).__name__}: {e}") from e

    def why_invisible(self, v: Any, outer: list[set[int]]) -> str:
        if any(id(v) in s for s in outer):
            return ("is defined outside this region; regions are closed: pass the value in as an operand of the "
                    "enclosing op and use the region's block argument")
        if id(v) in self.defined:
            return "is defined inside another op's region and is not visible here"
        if id(v) in self.defined_anywhere:
            return "is used before it is defined"
        return "is not defined anywhere in the function"


def _all_definitions(block: Block) -> Iterable[Any]:
    yield from block.args
    for op in block.ops:
        for region in getattr(op, "regions", ()):
            if isinstance(region, Block):
                yield from _all_definitions(region)
        yield from getattr(op, "results", ())
