"""What AutoGraph's runtime operators share: the Undefined markers, the errors, and how a value of converted code is
told apart (traced tensor, Python number, nested structure) and turned into tensors.

Loop and branch state may be nested lists, tuples and dicts (`engine.nest`); its leaves are tensors, Variables or
Python numbers. `where(line)` names the user's file (the converted function keeps it) and the statement's line.
"""
from __future__ import annotations

import sys
import threading
from typing import Any, Optional

import numpy as np

from engine import dispatch, nest
from engine.convert import convert_to_tensor
from engine.tensor import Tensor, TensorLike
from engine.trace import user_location as trace_location


class AutoGraphError(ValueError):
    """A staged statement that the IR cannot express (a variable undefined on one path, a loop that changes a
    variable's shape, ...). The message names the variable and the user's file and line."""


class AutoGraphTypeError(AutoGraphError, TypeError):
    """The same, for a wrong dtype: a loop that changes a variable's dtype, branches that disagree on it, a
    condition that is not a bool, iterating a scalar."""


class ReturnMissingError(AutoGraphError):
    """A tensor-dependent `if` returns a value from one branch only."""


class PythonLoopTensorConditionError(NotImplementedError):
    """A loop over Python values (or a `while` on a Python condition) whose condition became a tensor during the
    loop: a tensor-dependent `break` inside it, or a Python value its condition reads turned into a tensor. The IR
    cannot stop an unrolled loop at run time. TensorFlow raises NotImplementedError here too."""


class PythonLoopReturnError(ReturnMissingError):
    """A tensor-dependent `return` inside a loop over Python values (a ValueError, as TensorFlow's "the else branch
    must also have a return statement")."""


class AutoGraphRecursionError(AutoGraphError):
    """A function called itself without end while it was traced (a recursion whose base case is a tensor)."""


class UndefinedRead(UnboundLocalError):
    """A converted function read a variable that no path had assigned yet (`name` says which)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"local variable '{name}' referenced before assignment")
        self.name = name


class Undefined:
    """The value of a variable that has not been assigned on this path."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise UndefinedRead(self.name)

    __getattr__ = _fail
    __call__ = _fail
    __bool__ = _fail
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __getitem__ = _fail
    __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __pow__ = __rpow__ = __matmul__ = _fail
    __lt__ = __le__ = __gt__ = __ge__ = __iter__ = __len__ = __neg__ = __float__ = __int__ = __index__ = _fail

    def __repr__(self) -> str:
        return f"Undefined({self.name!r})"


class UndefinedReturnValue:
    """`retval_` before any `return` ran."""

    def __repr__(self) -> str:
        return "UndefinedReturnValue()"


def retval(v: Any, returned: Any = True, line: int = 0) -> Any:
    """What the converted function returns. `returned` is `do_return` when the function may reach its end without
    a `return` (Python then returns None): a Python flag picks; a traced one means some run may return a value (from
    inside a staged loop or if) and another None, which a traced function cannot express (TensorFlow rejects it)."""
    if isinstance(v, UndefinedReturnValue):
        return None
    if is_symbolic(returned):
        raise ReturnMissingError(f"{where(line)}: this function returns a value from inside a tensor-dependent loop "
                                 f"or if, but may also reach its end without a return (returning None); a traced "
                                 f"function must return a value on every path: add a return at its end")
    return v if returned else None


def ld(local_vars: dict, names: tuple, getters: Optional[dict] = None) -> tuple:
    """The current values of `names` (Undefined for those not assigned yet); an attribute `obj.attr` is read
    through its getter in `getters`."""
    def value(n: str) -> Any:
        if getters and n in getters:
            try:
                return getters[n]()
            except (AttributeError, NameError):
                return Undefined(n)
        return local_vars[n] if n in local_vars else Undefined(n)
    return tuple(value(n) for n in names)


def set_attribute(obj: Any, attr: str, value: Any) -> None:
    """`obj.attr = value` for attribute state, unless `value` is Undefined (the attribute did not exist before the
    statement, and this path did not set it)."""
    if not isinstance(value, Undefined):
        setattr(obj, attr, value)


def where(line: int) -> str:
    """"file, line N" of a statement: the file of the nearest caller outside engine/autograph (the converted user
    function), the line the transformer recorded."""
    f = sys._getframe(1)
    here = __file__.rsplit("/", 1)[0] + "/"
    while f is not None and f.f_code.co_filename.startswith(here):
        f = f.f_back
    return f"{f.f_code.co_filename if f is not None else '<unknown>'}, line {line}"


def user_location() -> str:
    """"file, line N" of the innermost frame outside Kiln's packages: the user's line that called into Kiln."""
    loc = trace_location()
    return "<unknown>" if loc is None else f"{loc[0]}, line {loc[1]}"


def subject(name: str) -> str:
    """How a message names a piece of state."""
    if name == "retval_":
        return "the return value"
    if name == "<expression>":
        return "the value of the conditional expression"
    return f"'{name}'"


def is_symbolic(x: Any) -> bool:
    """A tensor that exists only inside the function being traced (the only kind that stages control flow)."""
    if isinstance(x, Tensor):
        return x._node is not None
    if isinstance(x, TensorLike):
        return dispatch.tracing()
    return False


def stages(x: Any) -> bool:
    """Whether a loop on `x` (its condition, what it iterates, a bound of its range) or `not x` is staged: a traced
    tensor, or any tensor while a function is traced. In TensorFlow every tensor inside a tf.function is a graph
    tensor, `tf.constant(False)` included, so `done = tf.constant(False)` then `while not done:` is a tensor loop
    whose body may make `done` a traced tensor; Kiln keeps such constants concrete, so it asks this instead."""
    return is_symbolic(x) or (isinstance(x, Tensor) and dispatch.tracing())


def is_undefined(x: Any) -> bool:
    return isinstance(x, (Undefined, UndefinedReturnValue))


def is_number(x: Any) -> bool:
    return isinstance(x, (bool, int, float, np.number, np.bool_))


def is_leaf_value(x: Any) -> bool:
    """A value that can flow through a staged `cond` or `while_loop` as a tensor."""
    return isinstance(x, (TensorLike, np.ndarray)) or is_number(x)


def to_tensor(x: Any, dtype_hint: Any = None) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, TensorLike):
        return x.value()  # type: ignore[attr-defined]
    return convert_to_tensor(x, dtype_hint=dtype_hint)


def assert_same_structure(a: Any, b: Any) -> None:
    """ValueError unless `a` and `b` nest the same kinds of containers (a tuple is not a list), as TensorFlow's
    AutoGraph requires of a variable across branches and iterations."""
    nest.assert_same_structure(a, b)
    if nest.is_nested(a):
        if type(a) is not type(b):
            raise ValueError(f"a {type(a).__name__} in one place and a {type(b).__name__} in the other")
        for x, y in zip(nest._children(a), nest._children(b)):
            assert_same_structure(x, y)


def zero_like(v: Any) -> Any:
    """A value of the same structure, type, dtype and shape as `v`, all zeros (Python numbers stay Python)."""
    def zero(x: Any) -> Any:
        if isinstance(x, (bool, int, float)):
            return type(x)(0)
        if is_leaf_value(x):
            t = to_tensor(x)
            if None in tuple(t.shape):  # unknown dims while tracing: zeros of the run-time shape
                from engine.ops import zeros_like
                return zeros_like(t)
            return convert_to_tensor(np.zeros(tuple(t.shape), dtype=t.dtype.np))
        return x
    return nest.map_structure(zero, v)


class _Speculation(threading.local):
    """Per thread (tracing is): `depth` > 0 while a loop body is traced once only to learn the types of variables
    it defines (loops._loop_init)."""

    depth = 0


speculation = _Speculation()
