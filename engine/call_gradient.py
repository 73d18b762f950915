"""A call of a compiled function under a GradientTape is one tape step (DESIGN §7), as TensorFlow records a
function call as one op with a gradient function.

`record_call(concrete, bound)` runs the concrete function and records `CallStep` on the active tapes: its operands
are the tensor arguments and the values of the Variables the function reads (as the tapes saw them read), its
results the function's outputs. Its backward is the function's reverse transform (`autodiff.reverse.vjp_function`
without replaying effects), derived once per traced function and compiled once (or interpreted, for
`jit_compile=False`); a function that calls a custom_gradient function runs as Python under a tape instead, so
that the tapes see the custom rule. Running that backward goes through `call_ir`, which records a `CallStep` of the backward on
any tape still recording, so nested and persistent tapes give higher-order gradients the same way.

As TensorFlow, the gradient for an operand that no output of the function depends on (through floating-point
values) is None, not zeros: `connected_params` finds the parameters each result depends on. An operand that some
output depends on gets zeros when only outputs without a cotangent do (TensorFlow 2.21 does the same).
"""
from __future__ import annotations

import inspect
import weakref
from typing import Any, Optional, Sequence

import numpy as np

from autodiff import tape as _tape
from autodiff.reverse import differentiable, vjp_function
from engine import nest
from engine.tensor import Tensor
from ir.core import Block, Function
from ir.emitter import Emitter
from ir.opdef import NONDIFF
from ir.types import Cell, RefType

_reverse: "weakref.WeakKeyDictionary[Function, tuple[Function, list[int]]]" = weakref.WeakKeyDictionary()
_native: "weakref.WeakKeyDictionary[Function, Any]" = weakref.WeakKeyDictionary()
_connected: "weakref.WeakKeyDictionary[Function, list[frozenset[int]]]" = weakref.WeakKeyDictionary()


def _flows(value: Any) -> bool:
    """Whether a gradient can flow through the value (integer and bool values carry none)."""
    dtype = getattr(value.type, "dtype", None)
    return dtype is not None and dtype.is_floating


def _depend(block: Block, deps: dict[int, frozenset[int]]) -> None:
    """Fills `deps` (id(value) -> parameter indices it depends on) over the block, in program order. An op's
    results depend on all its operands (a region op's too, conservatively); an op that writes a Variable
    reference makes later reads of it depend on what was written."""
    for op in block.ops:
        if op.opdef.vjp is NONDIFF and not op.opdef.regions:  # floor, casts to int, comparisons: no gradient path
            inputs: frozenset[int] = frozenset()
        else:
            inputs = frozenset().union(*(deps.get(id(v), frozenset()) for v in op.operands))
        k = op.opdef.writes_operand
        if k is not None:
            ref = op.operands[k]
            deps[id(ref)] = deps.get(id(ref), frozenset()) | inputs
        for r in op.results:
            deps[id(r)] = inputs if _flows(r) else frozenset()


def connected_params(fn: Function) -> list[frozenset[int]]:
    """For each result of fn, the indices of the parameters it depends on through floating-point values."""
    found = _connected.get(fn)
    if found is None:
        deps = {id(p): frozenset([i]) if _flows(p) else frozenset() for i, p in enumerate(fn.params)}
        _depend(fn.block, deps)
        found = [deps.get(id(r), frozenset()) for r in fn.results]
        _connected[fn] = found
    return found


def reverse_of(fn: Function) -> tuple[Function, list[int]]:
    """fn's reverse transform with respect to every floating-point parameter (Variables included), cached per fn."""
    found = _reverse.get(fn)
    if found is None:
        wrt = [i for i, p in enumerate(fn.params) if p.type.dtype.is_floating]
        found = (vjp_function(fn, wrt, name=f"grad_{fn.name}", effects=False), wrt)
        _reverse[fn] = found
    return found


def _run(fn: Function, operands: Sequence[Tensor], jit_compile: Optional[bool]) -> list[np.ndarray]:
    args: list[Any] = []
    for p, t in zip(fn.params, operands):
        a = np.asarray(t._value)
        args.append(Cell(a) if isinstance(p.type, RefType) else a)
    if jit_compile is False:
        from ir.interp import run
        return run(fn, args)
    from engine.kernels import native_kernel
    return native_kernel(_native, fn, tuple(None if isinstance(a, Cell) else np.shape(a) for a in args))(args)


def call_ir(fn: Function, operands: Sequence[Tensor], jit_compile: Optional[bool]) -> list[Tensor]:
    """Runs `fn` (one eager tensor per parameter; a Variable parameter takes its value) and records the call on
    the tapes that watch an operand."""
    results = [Tensor(a) for a in _run(fn, operands, jit_compile)]
    if _tape.active:
        _tape.record(CallStep(fn, jit_compile), list(operands), results, {})
    return results


class CallStep(_tape.TapeRule):
    """The tape's step for one call of a traced function: backward = its reverse transform, run as a call."""

    def __init__(self, fn: Function, jit_compile: Optional[bool]) -> None:
        self.fn = fn
        self.name = fn.name
        self.jit_compile = jit_compile

    def backward(self, em: Emitter, gs: Sequence[Optional[Any]], results: Sequence[Any],
                 operands: Sequence[Any]) -> list[Optional[Any]]:
        rev, wrt = reverse_of(self.fn)
        seeds = [g if g is not None else Tensor(np.zeros(r.type.shape, r.type.dtype.np))
                 for g, r in zip(gs, self.fn.results) if differentiable(r)]
        outs = call_ir(rev, list(operands) + seeds, self.jit_compile)
        reached = frozenset().union(*connected_params(self.fn))
        cts: list[Optional[Any]] = [None] * len(operands)
        for i, g in zip(wrt, outs[len(self.fn.results):]):
            cts[i] = g if i in reached else None
        return cts


def record_call(concrete: Any, bound: inspect.BoundArguments) -> Any:
    """Calls `concrete` (an engine ConcreteFunction) with `bound` arguments as one step of the active tapes.

    A function that calls a custom_gradient function runs as Python instead (its ops, the custom rule's step
    among them, are recorded one by one): its IR holds the custom function's own ops, not the rule."""
    if concrete.custom_gradient_python is not None:
        return concrete.custom_gradient_python(*bound.args, **bound.kwargs)
    flat = {k: nest.flatten(v) for k, v in bound.arguments.items()}
    tensors = [leaf if isinstance(leaf, Tensor) else Tensor(np.asarray(leaf))
               for leaf in (flat[arg][i] for arg, i in concrete._param_slots)]
    # The values the function reads, as they are before it runs (its assigns replace the cells' arrays).
    reads = [Tensor(v.cell.array) for v in concrete.variables]
    for v, value in zip(concrete.variables, reads):
        _tape.record_read(v, value, v.trainable)
    out = concrete._call_bound(bound)
    results = [leaf for leaf in nest.flatten(out) if leaf is not None]
    _tape.record(CallStep(concrete.ir, concrete.jit_compile), tensors + reads, results, {})
    return out
