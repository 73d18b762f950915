"""The SSA IR's data structures: Value, Op, Block, Function, and a Builder (DESIGN §4).

A Function has parameters and one Block of Ops ending in `return`. An Op has an OpDef row, operands, results,
attrs and regions (Blocks ending in `yield`). Regions are closed: a region's ops use only the region's block
arguments and values defined inside it. There are no use-lists: a pass builds a new Function, mapping old values
to new ones (`Rewriter`).

This module imports only the op table and the types: `ir.printer`, above it, gives `Function` its `__str__` (the
IR text) and `_repr_html_` (the same, highlighted, for notebooks).
"""
from __future__ import annotations

from typing import Any, Iterator, Optional, Sequence

from ir.opdef import OPS, OpDef
from ir.types import TensorType

Loc = Optional[tuple[str, int]]


class Value:
    """One SSA value: a block argument or an op result. `name` is a hint (the user's variable name) for printing."""

    __slots__ = ("type", "name", "__weakref__")

    def __init__(self, type: TensorType, name: Optional[str] = None) -> None:  # noqa: A002
        self.type = type
        self.name = name

    def __repr__(self) -> str:
        return f"<Value {self.name or hex(id(self))}: {self.type}>"


class Block:
    """A list of ops with typed arguments; the last op is the terminator (`return` or `yield`)."""

    __slots__ = ("args", "ops", "label")

    def __init__(self, args: Sequence[Value] = (), ops: Sequence["Op"] = (), label: str = "") -> None:
        self.args = list(args)
        self.ops = list(ops)
        self.label = label

    @property
    def terminator(self) -> Optional["Op"]:
        return self.ops[-1] if self.ops else None

    def walk(self) -> Iterator["Op"]:
        """Every op, nested regions included, in program order (an op before the ops of its regions)."""
        for op in self.ops:
            yield op
            for region in op.regions:
                yield from region.walk()


class Op:
    """One operation: an op-table row applied to operands, with attributes and nested regions."""

    __slots__ = ("opdef", "operands", "results", "attrs", "regions", "loc")

    def __init__(self, opdef: OpDef, operands: Sequence[Value], results: Sequence[Value],
                 attrs: Optional[dict[str, Any]] = None, regions: Sequence[Block] = (), loc: Loc = None) -> None:
        self.opdef = opdef
        self.operands = list(operands)
        self.results = list(results)
        self.attrs = dict(attrs or {})
        self.regions = list(regions)
        self.loc = loc

    @property
    def name(self) -> str:
        return self.opdef.name

    def __repr__(self) -> str:
        return f"<Op {self.opdef.name} ({len(self.operands)} operands, {len(self.results)} results)>"


class Function:
    """A traced function: parameters (the block's arguments), one block ending in `return`, a name."""

    __slots__ = ("name", "block", "__weakref__")

    def __init__(self, name: str, block: Block) -> None:
        self.name = name
        self.block = block

    @property
    def params(self) -> list[Value]:
        return self.block.args

    @property
    def results(self) -> list[Value]:
        term = self.block.terminator
        return list(term.operands) if term is not None else []

    @property
    def param_types(self) -> list[TensorType]:
        return [v.type for v in self.params]

    @property
    def result_types(self) -> list[TensorType]:
        return [v.type for v in self.results]

    def walk(self) -> Iterator[Op]:
        return self.block.walk()

    def __repr__(self) -> str:
        sig = ", ".join(str(t) for t in self.param_types)
        res = ", ".join(str(t) for t in self.result_types)
        return f"<ir.Function @{self.name}({sig}) -> ({res}), {sum(1 for _ in self.walk())} ops>"


class Builder:
    """Appends ops to a block, inferring result types from the op table."""

    def __init__(self, block: Block) -> None:
        self.block = block

    def op(self, opdef: OpDef | str, operands: Sequence[Value] = (), attrs: Optional[dict[str, Any]] = None,
           regions: Sequence[Block] = (), result_types: Optional[Sequence[TensorType]] = None, loc: Loc = None,
           names: Optional[Sequence[Optional[str]]] = None) -> list[Value]:
        if isinstance(opdef, str):
            opdef = OPS[opdef]
        attrs = dict(attrs or {})
        if result_types is None:
            result_types = opdef.infer([v.type for v in operands], **attrs)
        names = list(names) if names is not None else [None] * len(result_types)
        results = [Value(t, n) for t, n in zip(result_types, names)]
        self.block.ops.append(Op(opdef, operands, results, attrs, regions, loc))
        return results

    def one(self, opdef: OpDef | str, *operands: Value, loc: Loc = None, **attrs: Any) -> Value:
        (result,) = self.op(opdef, operands, attrs, loc=loc)
        return result


class Rewriter:
    """Copies blocks op by op through a value map; passes override `rewrite` to replace or drop ops."""

    def __init__(self) -> None:
        self.vmap: dict[int, Value] = {}

    def lookup(self, v: Value) -> Value:
        return self.vmap.get(id(v), v)

    def bind(self, old: Value, new: Value) -> None:
        self.vmap[id(old)] = new

    def copy_block(self, block: Block) -> Block:
        new = Block([Value(a.type, a.name) for a in block.args], label=block.label)
        for old, arg in zip(block.args, new.args):
            self.bind(old, arg)
        for op in block.ops:
            self.rewrite(op, new)
        return new

    def clone(self, op: Op, into: Block) -> Op:
        regions = [self.copy_block(r) for r in op.regions]
        results = [Value(r.type, r.name) for r in op.results]
        for old, new in zip(op.results, results):
            self.bind(old, new)
        clone = Op(op.opdef, [self.lookup(v) for v in op.operands], results, dict(op.attrs), regions, op.loc)
        into.ops.append(clone)
        return clone

    def rewrite(self, op: Op, into: Block) -> None:
        """Default: copy the op unchanged (with its regions rewritten recursively)."""
        self.clone(op, into)

    def run(self, fn: Function) -> Function:
        return Function(fn.name, self.copy_block(fn.block))
