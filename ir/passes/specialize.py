"""Specialization: a function with unknown dims, made static for given argument shapes.

`specialize(fn, param_shapes)` substitutes the shapes into the parameter types, re-infers every type from the rows
(`infer`, `infer_regions`; region arguments take their operands' new types), folds `dim` ops to constants, folds
the small constant computations made from them (a size times two, a stacked shape), and lets each row with
run-time placeholders in its attrs make them static (its `static_attrs` facet: a `shape` attr's None entries
filled from its trailing size operands, which it then drops; a slice `end` of None). The result has static types
only, so code generators that take static shapes compile it; the concrete function compiles one such
specialization per argument shape it sees until codegen takes run-time sizes itself (engine.concrete).

Names one row besides `constant`: `dim`, which this pass exists to fold. Never mutates its input.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from ir.core import Block, Function, Op, Value
from ir.opdef import dims_fit
from ir.ops import OPS
from ir.passes.common import CONSTANT, PassRewriter, is_pure
from ir.types import Dim, RefType, StackType, TensorType

DIM = OPS["dim"]
# Folding here is for shape arithmetic (sizes, stacked shapes): small results only; `fold` does the rest.
_MAX_FOLD = 64


class SpecializeError(ValueError):
    """The shapes do not fit the parameters."""


def _retype(t: TensorType, shape: Sequence[Dim]) -> TensorType:
    return type(t)(t.dtype, shape)


class _Specializer(PassRewriter):
    def copy_region(self, block: Block, types: Sequence[TensorType]) -> Block:
        new = Block([Value(t, a.name) for a, t in zip(block.args, types)], label=block.label)
        for old, arg in zip(block.args, new.args):
            self.bind(old, arg)
        for op in block.ops:
            self.rewrite(op, new)
        return new

    def rewrite(self, op: Op, into: Block) -> None:
        opdef = op.opdef
        operands = [self.lookup(v) for v in op.operands]
        attrs = dict(op.attrs)
        if opdef is DIM and operands[0].type.shape[attrs["axis"]] is not None:
            size = operands[0].type.shape[attrs["axis"]]
            self._emit_constant(op, np.asarray(size, dtype=np.int64), into)
            return
        if opdef.static_attrs is not None:
            resolved = opdef.static_attrs([v.type for v in operands], [self.constant(v) for v in operands], attrs)
            if resolved is not None:  # else a size still unknown (a partial specialization): the op keeps it
                kept, attrs = resolved
                operands = operands[:kept]
        types = [v.type for v in operands]
        if opdef.structured:
            start = opdef.region_operand_start
            regions = [self.copy_region(r, types[start:]) for r in op.regions]
            result_types = opdef.infer_regions(types, regions, attrs)
        else:
            regions = []
            result_types = list(opdef.infer(types, **attrs)) if opdef.nresults else []
        results = [Value(t, r.name) for t, r in zip(result_types, op.results)]
        new = Op(opdef, operands, results, attrs, regions, op.loc)
        folded = self._fold(new)
        if folded is not None:
            self._emit_constant(op, folded, into)
            return
        into.ops.append(self.note(new))
        for old, value in zip(op.results, results):
            self.bind(old, value)

    def _fold(self, op: Op) -> Optional[np.ndarray]:
        if not (is_pure(op) and op.opdef.deterministic and op.opdef is not CONSTANT and len(op.results) == 1
                and op.operands and type(op.results[0].type) is TensorType and op.results[0].type.is_static
                and op.results[0].type.size <= _MAX_FOLD):
            return None
        values = [self.constant(v) for v in op.operands]
        if any(v is None for v in values) or op.results[0].type.size > max(1, sum(v.size for v in values)):
            return None  # as `fold`: a splat stays a splat
        try:
            out = np.array(op.opdef.eager(*values, **op.attrs), dtype=op.results[0].type.dtype.np)
        except Exception:  # noqa: BLE001  the kernel's error belongs to run time
            return None
        return out if out.shape == op.results[0].type.shape else None

    def _emit_constant(self, op: Op, value: np.ndarray, into: Block) -> None:
        (old,) = op.results
        value.flags.writeable = False
        new = Value(TensorType(old.type.dtype, value.shape), old.name)
        into.ops.append(self.note(Op(CONSTANT, [], [new], {"value": value}, (), op.loc)))
        self.bind(old, new)


def specialize(fn: Function, param_shapes: Sequence[Optional[Sequence[Dim]]]) -> Function:
    """A copy of `fn` whose parameters have the given shapes (None: keep that parameter's type, e.g. a Variable
    reference) and whose every type is re-inferred from them. With static shapes for every parameter the result
    is static; shapes with None dims give a partial specialization that keeps what is still unknown.

    >>> from ir.parser import parse
    >>> f = parse('''func @f(%x: f32[?,3]) -> (f32[?,3]) {
    ...   %n = dim %x {axis = 0} : i64[]
    ...   %one = constant {value = 1.0} : f32[]
    ...   %b = broadcast_to %one, %n {shape = [none, 3]} : f32[?,3]
    ...   %y = add %x, %b : f32[?,3]
    ...   return %y
    ... }''')
    >>> print(specialize(f, [(2, 3)]))  # doctest: +NORMALIZE_WHITESPACE
    func @f(%x: f32[2,3]) -> (f32[2,3]) {
      %n = constant {value = 2} : i64[]
      %one = constant {value = 1.0} : f32[]
      %b = broadcast_to %one {shape = [2, 3]} : f32[2,3]
      %y = add %x, %b : f32[2,3]
      return %y
    }
    """
    if len(param_shapes) > len(fn.params):
        raise SpecializeError(f"@{fn.name} has {len(fn.params)} parameter(s), got {len(param_shapes)} shapes")
    rw = _Specializer()
    args = []
    for k, p in enumerate(fn.params):
        shape = param_shapes[k] if k < len(param_shapes) else None
        t = p.type
        if shape is not None and not isinstance(t, (RefType, StackType)):
            shape = tuple(None if d is None else int(d) for d in shape)
            if not dims_fit(shape, t.shape):
                raise SpecializeError(f"parameter #{k} %{p.name or k} of @{fn.name} is {t}: a shape "
                                      f"{list(shape)} does not fit it")
            t = _retype(t, shape)
        args.append(Value(t, p.name))
    block = Block(args, label=fn.block.label)
    for old, new in zip(fn.params, args):
        rw.bind(old, new)
    for op in fn.block.ops:
        rw.rewrite(op, block)
    return Function(fn.name, block)
