"""Stack rows of the op table: `stack_new`, `stack_push`, `stack_pop`, the growable stacks reverse mode threads
through a `while_loop` (DESIGN §7).

Stacks are values: `stack_push %s, %x` returns the stack with x on top and `stack_pop %s` returns (the rest, x),
so the IR stays SSA and a loop carries its stacks like any other value. Each stack value is used once, which lets
the interpreter share structure (a cons list) and compiled code update one growable buffer in place.
"""
from __future__ import annotations

from typing import Any, Sequence

from ir.opdef import NONDIFF, OpDef, check_arity, fail, register
from ir.types import StackType, TensorType, as_dtype


def _new_infer(types: list[TensorType], *, dtype: Any, shape: Sequence[int]) -> tuple[TensorType, ...]:
    check_arity("stack_new", types, 0)
    return (StackType(as_dtype(dtype), shape),)


def _push_infer(types: list[TensorType], **attrs: Any) -> tuple[TensorType, ...]:
    check_arity("stack_push", types, 2)
    s, x = types
    if not isinstance(s, StackType):
        raise fail("stack_push", f"first operand must be a stack, got {s}")
    if type(x) is not TensorType or x != s.elem_type:
        raise fail("stack_push", f"cannot push a {x} onto a {s}")
    return (s,)


def _pop_infer(types: list[TensorType], **attrs: Any) -> tuple[TensorType, ...]:
    check_arity("stack_pop", types, 1)
    s = types[0]
    if not isinstance(s, StackType):
        raise fail("stack_pop", f"operand must be a stack, got {s}")
    return (s, s.elem_type)


class _Empty:
    """The empty stack; pushing builds (x, rest) pairs."""

    def __repr__(self) -> str:
        return "<empty stack>"


EMPTY = _Empty()


def _pop(s: Any) -> tuple:
    if s is EMPTY:
        raise IndexError("stack_pop: the stack is empty (a backward loop ran more trips than its forward loop)")
    x, rest = s
    return (rest, x)


register(OpDef("stack_new", _new_infer, lambda *, dtype, shape: EMPTY, NONDIFF, "stack", attrs=("dtype", "shape"),
               doc="An empty stack of tensors of the given dtype and shape."))
register(OpDef("stack_push", _push_infer, lambda s, x: (x, s), NONDIFF, "stack",
               doc="The stack with x on top."))
register(OpDef("stack_pop", _pop_infer, _pop, NONDIFF, "stack", nresults=2,
               doc="(the stack without its top, the top)."))
