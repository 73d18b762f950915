"""The runtime half of AutoGraph (`ag__` in converted code): each operator runs Python for Python values and
stages `cond`/`while_loop` for tensors while a function is traced (`values.stages`: as in TensorFlow, a constant
made inside the function counts as a tensor), with AutoGraph's error messages naming the variable and the user's
file and line. Loops live in `loops.py`, the shared values and errors in `values.py`; both are re-exported here.

A staged `if` traces both branches once and merges what they leave in each output variable: the same object
either way stays as it is (a Python value, a Variable, an outer tensor), equal Python numbers stay Python, and
anything else must be tensors or numbers of one dtype and shape in the same nested structure in both branches.
"""
from __future__ import annotations

import collections
import sys
from typing import Any, Callable, Sequence

from engine import dispatch, nest
from engine.control_flow import emit_cond, trace_branches
from engine.convert import convert_to_tensor
from engine.tensor import Tensor, TensorLike
from engine.trace import current, is_library_file
from ir.types import bool_

from engine.autograph.loops import TensorRange, for_stmt, range_call, while_stmt  # noqa: F401  (ag__ API)
from engine.autograph.values import (AutoGraphError, AutoGraphRecursionError, AutoGraphTypeError,  # noqa: F401
                                     ReturnMissingError, Undefined, UndefinedRead, UndefinedReturnValue,
                                     assert_same_structure, is_leaf_value, is_symbolic, is_undefined, ld, retval,
                                     set_attribute, speculation, stages, subject, to_tensor, where,
                                     zero_like)


# ---- if -------------------------------------------------------------------------------------------------------------
class _Staged:
    """One leaf of an output that differs between the branches: the tensor each branch gives it."""

    __slots__ = ("then", "orelse")

    def __init__(self, then: Tensor, orelse: Tensor) -> None:
        self.then, self.orelse = then, orelse


def _merge_leaf(name: str, a: Any, b: Any, where_: str) -> Any:
    if a is b:
        return a
    if a is None or b is None:
        raise AutoGraphError(f"{where_}: {subject(name)} is None at the end of the {'if' if a is None else 'else'} "
                             f"branch but not in the other; a tensor-dependent if must give it a value in both")
    if isinstance(a, (bool, int, float)) and type(a) is type(b) and a == b:
        return a  # the same Python value either way: stays Python
    if not (is_leaf_value(a) and is_leaf_value(b)):
        raise AutoGraphError(f"{where_}: {subject(name)} is a {type(a).__name__} in the if branch and a "
                             f"{type(b).__name__} in the else branch; only tensors and numbers can differ between "
                             f"the branches of a tensor-dependent if")
    ta, tb = to_tensor(a), to_tensor(b)
    if ta.dtype is not tb.dtype:
        # A Python number adopts the other branch's tensor dtype, as in TensorFlow.
        if not isinstance(a, TensorLike) and isinstance(b, TensorLike):
            ta = convert_to_tensor(a, dtype_hint=tb.dtype)
        elif not isinstance(b, TensorLike) and isinstance(a, TensorLike):
            tb = convert_to_tensor(b, dtype_hint=ta.dtype)
    if ta.dtype is not tb.dtype:
        raise AutoGraphTypeError(f"{where_}: {subject(name)} has dtype {ta.dtype.name} in the if branch but dtype "
                                 f"{tb.dtype.name} in the else branch; both branches must give it the same dtype")
    if len(ta.shape) != len(tb.shape):
        # TF gives it an unknown rank, which Kiln's types do not have; dims that differ become unknown (emit_cond).
        raise AutoGraphError(f"{where_}: {subject(name)} has shape {tuple(ta.shape)} in the if branch but shape "
                             f"{tuple(tb.shape)} in the else branch; both branches must give it the same rank")
    return _Staged(ta, tb)


def _merge(name: str, a: Any, b: Any, where_: str) -> Any:
    """What an output variable is after a staged if: Python values and _Staged leaves in its structure."""
    if (is_undefined(a) or is_undefined(b)) and speculation.depth and not (is_undefined(a) and is_undefined(b)):
        # Typing a loop body whose variable is not defined before the loop: the real trace carries a value in its
        # place, so the undefined side gets a zero of the other side's type.
        a, b = (zero_like(b), b) if is_undefined(a) else (a, zero_like(a))
    if is_undefined(a) and is_undefined(b):
        return a
    if is_undefined(a) or is_undefined(b):
        missing = "if" if is_undefined(a) else "else"
        if name == "retval_":
            raise ReturnMissingError(f"{where_}: a value must also be returned from the {missing} branch (the other "
                                 f"branch of this tensor-dependent if returns one)")
        raise AutoGraphError(f"{where_}: '{name}' must also be initialized in the {missing} branch (the other "
                             f"branch of this tensor-dependent if assigns it, and it is used afterwards)")
    if a is b or not (nest.is_nested(a) or nest.is_nested(b)):
        return _merge_leaf(name, a, b, where_)
    try:
        assert_same_structure(a, b)
    except ValueError as e:
        raise AutoGraphError(f"{where_}: {subject(name)} must have the same nested structure in the if and else "
                             f"branches ({e})") from None
    leaves = [_merge_leaf(name, x, y, where_) for x, y in zip(nest.flatten(a), nest.flatten(b))]
    return nest.pack_sequence_as(a, leaves)


def _condition(cond: Any, where_: str, what: str) -> Tensor:
    pred = to_tensor(cond)
    if pred.dtype is not bool_ or tuple(pred.shape) != ():
        raise AutoGraphTypeError(f"{where_}: the condition of {what} must be a scalar bool tensor, got "
                                 f"{pred.dtype.name}{list(pred.shape)}; compare it (x > 0) or reduce it "
                                 f"(engine.reduce_any) first")
    return pred


def _fresh(values: tuple) -> tuple:
    """`values` with new (shallow) copies of their nested lists, tuples and dicts."""
    return tuple(nest.map_structure(lambda leaf: leaf, v) if nest.is_nested(v) else v for v in values)


def if_stmt(cond: Any, then_fn: Callable[..., tuple], else_fn: Callable[..., tuple], inputs: tuple,
            out_names: Sequence[str], in_names: Sequence[str], line: int) -> tuple:
    if not stages(cond):
        return (then_fn if cond else else_fn)(*inputs)
    where_ = where(line)
    pred = _condition(cond, where_, "an if statement" if out_names != ("<expression>",) else
                      "a conditional expression")
    trace = current()
    assert trace is not None
    # Each branch gets its own copy of the containers it may change in place (`d[k] = v`), so that what the if
    # branch stores is not what the else branch reads.
    (f_then, out_then), (f_else, out_else) = trace_branches(trace, lambda: then_fn(*_fresh(inputs)),
                                                            lambda: else_fn(*_fresh(inputs)))
    merged = [_merge(name, a, b, where_) for name, a, b in zip(out_names, out_then, out_else)]
    staged = [leaf for m in merged for leaf in nest.flatten(m) if isinstance(leaf, _Staged)]
    results = iter(emit_cond(trace, pred, f_then, f_else, [s.then for s in staged], [s.orelse for s in staged]))
    return tuple(nest.map_structure(lambda leaf: next(results) if isinstance(leaf, _Staged) else leaf, m)
                 if nest.is_nested(m) or isinstance(m, _Staged) else m for m in merged)


def if_exp(cond: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any], line: int) -> Any:
    if not stages(cond):
        return true_fn() if cond else false_fn()
    (value,) = if_stmt(cond, lambda: (true_fn(),), lambda: (false_fn(),), (), ("<expression>",), (), line)
    return value


# ---- boolean operators ----------------------------------------------------------------------------------------------
def _as_bool_tensor(x: Any, what: str) -> Tensor:
    t = to_tensor(x)
    if t.dtype is not bool_ or tuple(t.shape) != ():
        raise TypeError(f"`{what}`: a tensor operand must be a scalar bool, got {t.dtype.name}{list(t.shape)}")
    return t


def and_(a_fn: Callable[[], Any], b_fn: Callable[[], Any]) -> Any:
    """`a and b`: b is evaluated only when a is true (inside a `cond` when a is a traced tensor)."""
    a = a_fn()
    if not is_symbolic(a):
        return a if not a else b_fn()
    from engine.control_flow import cond
    return cond(_as_bool_tensor(a, "and"), lambda: _as_bool_tensor(b_fn(), "and"),
                lambda: convert_to_tensor(False))


def or_(a_fn: Callable[[], Any], b_fn: Callable[[], Any]) -> Any:
    a = a_fn()
    if not is_symbolic(a):
        return a if a else b_fn()
    from engine.control_flow import cond
    return cond(_as_bool_tensor(a, "or"), lambda: convert_to_tensor(True),
                lambda: _as_bool_tensor(b_fn(), "or"))


def not_(a: Any) -> Any:
    if stages(a):
        from engine.ops import logical_not
        return logical_not(_as_bool_tensor(a, "not"))
    return not a


# ---- statements that become ops -------------------------------------------------------------------------------------
def assert_stmt(test: Any, msg_fn: Callable[[], Any], line: int) -> None:
    if not is_symbolic(test):
        assert test, msg_fn()
        return
    from engine.control_flow import Assert
    from engine.ops import reduce_all
    msg = msg_fn()
    t = to_tensor(test)
    Assert(reduce_all(t) if t.shape else t, [f"{where(line)}: {msg if msg is not None else 'assertion failed'}"])


# `engine.autograph.converter.convert_for_call`, installed by the converter when it is imported (it imports this
# module to give converted code its `ag__` namespace, so this module does not import it back).
_CONVERTER: list[Callable[[Any], Any]] = []


def install_converter(convert_for_call: Callable[[Any], Any]) -> None:
    _CONVERTER[:] = [convert_for_call]


def converted_call(f: Any, args: tuple, kwargs: dict) -> Any:
    """Calls `f`, converting it first when it is user code (not the standard library, numpy or Kiln). Python's
    `print` is called as it is: as in TensorFlow, it runs while the function is traced (showing symbolic tensors),
    and `engine.print` is the op that prints on every call. `float` and `int` of a traced tensor cast it."""
    if (f is float or f is int) and len(args) == 1 and not kwargs and is_symbolic(args[0]):
        return _cast_builtin(f, args[0])
    try:
        return _CONVERTER[0](f)(*args, **kwargs)
    except RecursionError as e:
        if not dispatch.tracing():
            raise
        raise _endless_recursion(e) from None


def _cast_builtin(f: Any, x: Any) -> Tensor:
    """`float(t)` and `int(t)` of a traced tensor are casts to float32 and int32, as TensorFlow's AutoGraph makes
    them (Python would need the value, which exists only when the function runs)."""
    from engine.ops import cast
    from ir.types import float32, int32
    return cast(to_tensor(x), float32 if f is float else int32)


def _endless_recursion(e: RecursionError) -> AutoGraphRecursionError:
    """The error for a recursion that hit Python's limit while tracing, naming the user's function that recursed
    most on the stack (its file and `def` line). The innermost converted call makes it; outer ones let it pass."""
    counts: collections.Counter = collections.Counter()
    frame = sys._getframe(1)  # the recursion is on the stack above the innermost converted call
    while frame is not None:
        if not is_library_file(frame.f_code.co_filename):
            counts[frame.f_code] += 1
        frame = frame.f_back
    if not counts:
        return AutoGraphRecursionError(f"recursion too deep while tracing ({e})")
    code, _ = counts.most_common(1)[0]
    return AutoGraphRecursionError(
        f"{code.co_filename}, line {code.co_firstlineno}: {code.co_name}() calls itself without end while it is "
        f"traced. Tracing follows a recursion only down to a base case decided by Python values (it then unrolls, "
        f"as in TensorFlow); a base case decided by a tensor never stops it, since both branches of a tensor `if` "
        f"are traced. Make the recursion depth a Python value, or write it as a loop (a `while` on the tensor, or "
        f"engine.while_loop)")
