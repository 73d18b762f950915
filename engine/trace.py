"""The tracer: runs a Python function on symbolic tensors and records the ops it applies as an ir.Function.

While a trace is active, `engine.dispatch.apply` hands every op to `Trace.emit`, which appends an IR op to the
innermost block being traced (the function body, or a `cond`/`while_loop` region). Regions are closed: a value from
an enclosing block that a region uses becomes a captured operand of the structured op and an argument of the
region's block (`Frame.resolve`). Concrete (eager) tensors used while tracing become `constant` ops; Variables
become reference parameters with `read`/`assign` ops, in program order.
"""
from __future__ import annotations

import os
import sys
import weakref
from typing import Any, Callable, Optional, Sequence

import numpy as np

from autodiff import tape as _tape
from autodiff.reverse import Sweep
from engine import dispatch
from engine.tensor import Tensor
from engine.traced_gradient import StructuredVJP
from ir.core import Block, Builder, Function, Loc, Op, Value
from ir.emitter import IREmitter
from ir.inline import inline
from ir.opdef import OPS, OpDef
from ir.types import RefType, TensorType

_LIBRARY_DIRS = tuple(os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep + d + os.sep
                      for d in ("engine", "ir", "autodiff", "codegen"))


def is_library_file(filename: str) -> bool:
    return filename.startswith(_LIBRARY_DIRS) or filename.startswith("<frozen")


def user_location() -> Loc:
    """(file, line) of the innermost frame outside Kiln itself: the user's line that applied the op."""
    f = sys._getframe(2)
    while f is not None:
        filename = f.f_code.co_filename
        if not is_library_file(filename):
            return (filename, f.f_lineno)
        f = f.f_back
    return None


class TraceError(ValueError):
    """A traced function used a value in a way the IR cannot express (e.g. a tensor leaked from another trace)."""


class InaccessibleTensorError(TraceError):
    """A tensor used outside the region that defines it: a loop body's or branch's tensor kept in a Python list
    (`out.append(i)` in a tensor loop) and read after it, or a tensor from another traced function. TensorFlow's
    class of the same name (a ValueError too)."""


#: Why a value left the region that defines it, told by the code that let it out (AutoGraph: a `list.append` of a
#: loop body's tensor); the error for a later use of the value says this instead of the generic message.
LEAKED: "weakref.WeakKeyDictionary[Value, str]" = weakref.WeakKeyDictionary()


class Frame:
    """One block being traced. Values from enclosing frames are captured as extra block arguments."""

    def __init__(self, block: Block, parent: Optional["Frame"], log: Optional[list] = None) -> None:
        self.block = block
        self.log = log if log is not None else (parent.log if parent is not None else [])
        self.builder = Builder(block)
        self.parent = parent
        self.defined: set[int] = {id(a) for a in block.args}
        self.captured: dict[int, Value] = {}   # id(outer value) -> this block's argument
        self.sources: list[Value] = []          # the outer values, in capture order

    def define(self, values: Sequence[Value]) -> None:
        self.defined.update(id(v) for v in values)

    def resolve(self, v: Value) -> Value:
        """`v` as seen from this block: itself if defined here, else a captured block argument."""
        key = id(v)
        if key in self.defined:
            return v
        if key in self.captured:
            return self.captured[key]
        if self.parent is None:
            loc = user_location()
            here = f"{loc[0]}, line {loc[1]}: " if loc is not None else ""
            if v in LEAKED:
                raise InaccessibleTensorError(f"{here}{LEAKED[v]}")
            raise InaccessibleTensorError(
                f"{here}a tensor ({v.name or 'unnamed'}: {v.type}) from another traced function or from the body "
                f"of a tensor loop or branch that has ended was used here; return it from that function or carry "
                f"it as a loop variable instead. A Python list appended to in a tensor loop keeps only the first "
                f"trace of the body: to collect one value per iteration use tf.TensorArray, or a Python loop "
                f"(which unrolls), or carry a tensor that the body updates")
        outer = self.parent.resolve(v)
        arg = Value(v.type, v.name)
        self.block.args.append(arg)
        self.defined.add(id(arg))
        self.captured[key] = arg
        self.sources.append(outer)
        self.log.append((arg, outer))
        return arg


class Trace:
    """The state of one function being traced; installed in `engine.dispatch` while it runs."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.root = Frame(Block(label="entry"), None)
        self.frames: list[Frame] = [self.root]
        self.variables: list[Any] = []          # captured Variables, in the order of their reference params
        self._var_params: dict[int, Value] = {}
        self.nparams = 0
        # A custom_gradient function ran while tracing: the IR holds its ops, not its gradient rule.
        self.custom_gradients = False

    # ---- parameters
    def add_param(self, ttype: TensorType, name: Optional[str]) -> Tensor:
        v = Value(ttype, name)
        self.root.block.args.insert(self.nparams, v)
        self.nparams += 1
        self.root.define([v])
        return Tensor(None, v)

    # ---- the dispatch hook
    @property
    def frame(self) -> Frame:
        return self.frames[-1]

    def value_of(self, t: Tensor) -> Value:
        if t._node is None:
            value = np.asarray(t._value)
            (v,) = self.frame.builder.op(OPS["constant"], (), {"value": value}, loc=user_location())
            self.frame.define([v])
            return v
        return self.frame.resolve(t._node)

    def emit(self, opdef: OpDef, operands: tuple, attrs: dict) -> Any:
        frame = self.frame
        values = [self.value_of(t) for t in operands]
        loc = user_location()
        results = frame.builder.op(opdef, values, attrs, loc=loc)
        frame.define(results)
        if opdef.nresults == 0:
            return None
        for r in results:  # where each symbolic tensor was made, for the error if it leaks out of the trace
            dispatch.ORIGINS[r] = (opdef.name, loc)
        wrapped = tuple(Tensor(None, r) for r in results)
        return wrapped[0] if opdef.nresults == 1 else wrapped

    def emit_structured(self, opdef: OpDef, operands: Sequence[Value], attrs: dict, regions: Sequence[Block],
                        result_types: Sequence[TensorType], names: Optional[Sequence[Optional[str]]] = None,
                        ) -> list[Value]:
        # Instrumented and recorded only in the block where a tape records: an op inside a region of a recorded op
        # is differentiated by that op's rule, which recomputes the region.
        if any(t.origin is self.frame for t in _tape.mine()):
            return self._emit_recorded(opdef, operands, attrs, regions, result_types, names)
        results = self.frame.builder.op(opdef, operands, attrs, regions=regions, result_types=result_types,
                                        loc=user_location(), names=names)
        self.frame.define(results)
        return results

    def _emit_recorded(self, opdef: OpDef, operands: Sequence[Value], attrs: dict, regions: Sequence[Block],
                       result_types: Sequence[TensorType], names: Optional[Sequence[Optional[str]]]) -> list[Value]:
        """A cond/while_loop under an active GradientTape: emitted as reverse mode's forward sweep would (a loop
        also counts its trips and stacks its states) and recorded, so tape.gradient can sweep back through it."""
        plain = Op(opdef, list(operands), [Value(t, n) for t, n in zip(result_types, names or [None] * len(result_types))],
                   attrs, regions, user_location())
        sweep = Sweep(IREmitter(self.frame.builder))
        for v in operands:
            sweep.vmap[id(v)] = v
        start = len(self.frame.block.ops)
        sweep.forward([plain])
        for op in self.frame.block.ops[start:]:
            self.frame.define(op.results)
        record = sweep.records[-1]
        results = [sweep.vmap[id(r)] for r in plain.results]
        operand_tensors = [Tensor(None, v) for v in record.op.operands]
        self._route_refs(operand_tensors)
        _tape.record(StructuredVJP(self, record), operand_tensors, [Tensor(None, r) for r in record.op.results], {})
        return results

    def _route_refs(self, tensors: Sequence[Tensor]) -> None:
        """A Variable reference passed into a region counts as a read of the Variable for the tapes."""
        for t in tensors:
            if not isinstance(t._node.type, RefType):
                continue
            for var in self.variables:
                if self.frame.resolve(self._var_params[id(var)]) is t._node:
                    _tape.record_read(var, t, var.trainable)

    # ---- Variables
    def variable_ref(self, variable: Any) -> Value:
        key = id(variable)
        if key not in self._var_params:
            ref = Value(RefType(variable.dtype, tuple(variable.shape)), variable.name.split(":")[0])
            self.root.block.args.append(ref)
            self.root.define([ref])
            self._var_params[key] = ref
            self.variables.append(variable)
        return self.frame.resolve(self._var_params[key])

    def read_variable(self, variable: Any) -> Tensor:
        ref = self.variable_ref(variable)
        (v,) = self.frame.builder.op(OPS["read"], [ref], {}, loc=user_location(), names=[ref.name])
        self.frame.define([v])
        return Tensor(None, v)

    def assign_variable(self, variable: Any, value: Tensor) -> None:
        ref = self.variable_ref(variable)
        self.frame.builder.op(OPS["assign"], [ref, self.value_of(value)], {}, loc=user_location())

    def inline(self, fn: Function, operands: Sequence[Value]) -> list[Value]:
        """Copies `fn`'s ops into the current block with its parameters bound to `operands` (e.g. the gradient
        function of a transform called while tracing); returns the values it returns. A function with unknown dims
        is first specialized to the operands' shapes, so that the copied ops' types are what the operands give."""
        if any(p.type != v.type and not isinstance(p.type, RefType) for p, v in zip(fn.params, operands)):
            from ir.passes.specialize import specialize
            fn = specialize(fn, [None if isinstance(p.type, RefType) else v.type.shape
                                 for p, v in zip(fn.params, operands)])
        block = self.frame.block
        start = len(block.ops)
        outs = inline(fn.block, block, operands, terminate=False)
        for op in block.ops[start:]:
            self.frame.define(op.results)
        return outs

    # ---- regions
    def trace_region(self, label: str, arg_types: Sequence[TensorType], arg_names: Sequence[Optional[str]],
                     body: Callable[[list[Tensor]], Sequence[Any]]) -> tuple[Frame, list[Any]]:
        """Trace `body` on fresh block arguments in a new closed region; returns the frame and body's outputs
        (the caller converts them and adds the `yield`)."""
        block = Block([Value(t, n) for t, n in zip(arg_types, arg_names)], label=label)
        frame = Frame(block, self.frame)
        self.frames.append(frame)
        try:
            outputs = body([Tensor(None, a) for a in block.args])
        finally:
            self.frames.pop()
        return frame, outputs

    def finish_region(self, frame: Frame, outputs: Sequence[Tensor]) -> None:
        self.frames.append(frame)
        try:
            frame.builder.op(OPS["yield"], [self.value_of(t) for t in outputs], {}, loc=user_location())
        finally:
            self.frames.pop()

    def finish(self, outputs: Sequence[Tensor]) -> Function:
        values = [self.value_of(t) for t in outputs]
        self.root.builder.op(OPS["return"], values, {})
        # Variable names are known only once the user's frames returned: captured arguments take their source's.
        for arg, source in self.root.log:
            if arg.name is None:
                arg.name = source.name
        return Function(self.name, self.root.block)

    # ---- installing
    def __enter__(self) -> "Trace":
        # Tapes recording outside see a call of the traced function as one step (engine.function records it), not
        # the symbolic ops of its trace.
        self._outer_tapes = _tape.suspend()
        dispatch.install(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        dispatch.uninstall(self)
        _tape.resume(self._outer_tapes)


def unify_captures(frames: Sequence[Frame]) -> list[Value]:
    """Give sibling regions one argument list: their own leading args, then every value any of them captured.

    Returns the outer values to pass as operands, in argument order."""
    order: list[int] = []
    outer: dict[int, Value] = {}
    for f in frames:
        for key, src in zip(f.captured, f.sources):
            if key not in outer:
                order.append(key)
                outer[key] = src
    for f in frames:
        lead = [a for a in f.block.args if not any(a is c for c in f.captured.values())]
        captured_args = []
        for key in order:
            arg = f.captured.get(key)
            if arg is None:
                arg = Value(outer[key].type, outer[key].name)  # unused in this region, present for a uniform list
            captured_args.append(arg)
        f.block.args = lead + captured_args
    return [outer[k] for k in order]


def current() -> Optional[Trace]:
    t = dispatch.current_tracer()
    return t if isinstance(t, Trace) else None
