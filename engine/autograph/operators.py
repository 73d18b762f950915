"""The runtime half of AutoGraph (`ag__` in converted code): each operator runs Python for Python values and
stages `cond`/`while_loop` for traced tensors, with AutoGraph's error messages naming the variable and the line.
"""
from __future__ import annotations

import builtins
import sys
from typing import Any, Callable, Optional, Sequence

import numpy as np

from engine import dispatch
from engine.control_flow import emit_cond, trace_branches
from engine.convert import convert_to_tensor
from engine.errors import OperatorNotAllowedInGraphError
from engine.tensor import Tensor, TensorLike
from engine.trace import current
from ir.types import bool_, int32


class AutoGraphError(ValueError):
    """A staged statement that the IR cannot express (a variable undefined on one path, a loop that changes a
    variable's dtype or shape, ...). The message names the variable and the user's line."""


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
    __lt__ = __le__ = __gt__ = __ge__ = __iter__ = __len__ = __neg__ = __float__ = __int__ = _fail

    def __repr__(self) -> str:
        return f"Undefined({self.name!r})"


class UndefinedReturnValue:
    """`retval_` before any `return` ran."""

    def __repr__(self) -> str:
        return "UndefinedReturnValue()"


def retval(v: Any) -> Any:
    return None if isinstance(v, UndefinedReturnValue) else v


def ld(local_vars: dict, names: Sequence[str]) -> tuple:
    return tuple(local_vars[n] if n in local_vars else Undefined(n) for n in names)


def _where(line: int) -> str:
    f = sys._getframe(2)
    return f"{f.f_code.co_filename}, line {line}"


def is_symbolic(x: Any) -> bool:
    """A tensor that exists only inside the function being traced (the only kind that stages control flow)."""
    if isinstance(x, Tensor):
        return x._node is not None
    if isinstance(x, TensorLike):
        return dispatch.tracing()
    return False


def _undefined(x: Any) -> bool:
    return isinstance(x, (Undefined, UndefinedReturnValue))


def _to_tensor(x: Any) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, TensorLike):
        return x.value()  # type: ignore[attr-defined]
    return convert_to_tensor(x)


def _is_python_scalar(x: Any) -> bool:
    return isinstance(x, (bool, int, float)) or x is None


# ---- if -------------------------------------------------------------------------------------------------------------
def if_stmt(cond: Any, then_fn: Callable[..., tuple], else_fn: Callable[..., tuple], inputs: tuple,
            out_names: Sequence[str], in_names: Sequence[str], line: int) -> tuple:
    if not is_symbolic(cond):
        return (then_fn if cond else else_fn)(*inputs)
    where = _where(line)
    trace = current()
    assert trace is not None
    (f_then, out_then), (f_else, out_else) = trace_branches(trace, lambda: then_fn(*inputs),
                                                            lambda: else_fn(*inputs))
    results: list[Any] = [None] * len(out_names)
    staged: list[int] = []
    then_t: list[Tensor] = []
    else_t: list[Tensor] = []
    for i, (name, a, b) in enumerate(zip(out_names, out_then, out_else)):
        if _undefined(a) and _undefined(b):
            results[i] = a
            continue
        if (_undefined(a) or _undefined(b)) and _speculating[0]:
            # Typing a loop body whose variable is not defined before the loop: the real trace carries a value in
            # its place, so give the undefined side a zero of the other side's type.
            a, b = (_zero_like(b), b) if _undefined(a) else (a, _zero_like(a))
        if _undefined(a) or _undefined(b):
            missing = "if" if _undefined(a) else "else"
            if name == "retval_":
                raise AutoGraphError(f"{where}: a value must also be returned from the {missing} branch")
            raise AutoGraphError(f"{where}: '{name}' must also be initialized in the {missing} branch")
        if a is None or b is None:
            if a is None and b is None:
                continue
            raise AutoGraphError(f"{where}: '{name}' is None at the end of the "
                                 f"{'if' if a is None else 'else'} branch but a value in the other")
        if _is_python_scalar(a) and _is_python_scalar(b) and type(a) is type(b) and a == b:
            results[i] = a  # the same Python value either way: stays Python
            continue
        if not (isinstance(a, (TensorLike, bool, int, float)) and isinstance(b, (TensorLike, bool, int, float))):
            if a is b:
                results[i] = a
                continue
            raise AutoGraphError(f"{where}: '{name}' is a {type(a).__name__} in one branch and a "
                                 f"{type(b).__name__} in the other; only tensors and numbers can differ between "
                                 f"the branches of a tensor-dependent if")
        ta, tb = _to_tensor(a), _to_tensor(b)
        if ta.dtype is not tb.dtype:
            # Python numbers adopt the other branch's tensor dtype, as in TensorFlow.
            if not isinstance(a, TensorLike):
                ta = convert_to_tensor(a, dtype_hint=tb.dtype)
            elif not isinstance(b, TensorLike):
                tb = convert_to_tensor(b, dtype_hint=ta.dtype)
        if ta.dtype is not tb.dtype or tuple(ta.shape) != tuple(tb.shape):
            raise AutoGraphError(f"{where}: '{name}' is {ta.dtype.name}{list(ta.shape)} in the if branch but "
                                 f"{tb.dtype.name}{list(tb.shape)} in the else branch; both branches must give it "
                                 f"the same dtype and shape")
        staged.append(i)
        then_t.append(ta)
        else_t.append(tb)
    pred = _to_tensor(cond)
    if pred.dtype is not bool_ or tuple(pred.shape) != ():
        raise AutoGraphError(f"{where}: the condition of an if must be a scalar bool tensor, got "
                             f"{pred.dtype.name}{list(pred.shape)}")
    for i, r in zip(staged, emit_cond(trace, pred, f_then, f_else, then_t, else_t)):
        results[i] = r
    return tuple(results)


def if_exp(cond: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any], line: int) -> Any:
    if not is_symbolic(cond):
        return true_fn() if cond else false_fn()
    (value,) = if_stmt(cond, lambda: (true_fn(),), lambda: (false_fn(),), (), ("<expression>",), (), line)
    return value


# ---- boolean operators ----------------------------------------------------------------------------------------------
def _as_bool_tensor(x: Any, what: str) -> Tensor:
    t = _to_tensor(x)
    if t.dtype is not bool_ or tuple(t.shape) != ():
        raise TypeError(f"{what}: a tensor operand must be a scalar bool, got {t.dtype.name}{list(t.shape)}")
    return t


def and_(a_fn: Callable[[], Any], b_fn: Callable[[], Any]) -> Any:
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
    if is_symbolic(a):
        from engine.ops import logical_not
        return logical_not(_as_bool_tensor(a, "not"))
    return not a


# ---- loops ----------------------------------------------------------------------------------------------------------
# > 0 while a loop body is traced once only to learn the types of variables it defines (see _loop_init).
_speculating = [0]


def _zero_like(v: Any) -> Any:
    if _is_python_scalar(v) and v is not None:
        return type(v)(0)
    if isinstance(v, TensorLike):
        t = _to_tensor(v)
        return convert_to_tensor(np.zeros(tuple(t.shape), dtype=t.dtype.np))
    return v


def _loop_init(inputs: tuple, names: Sequence[str], where: str,
               one_iteration: Callable[[list[Tensor], tuple], tuple],
               lead_types: Sequence[Any] = ()) -> tuple[list[Tensor], list[str]]:
    """The loop-carried tensors a staged loop starts from, and the names of variables that must be set by at least
    one iteration.

    A variable that is undefined before the loop but that the body assigns before reading it (a value computed in
    the loop and used after it, or the function's return value when the loop holds a `return`) starts as a zero of
    the type one iteration gives it, as in TensorFlow: the body is traced once, into a region that is thrown away,
    to learn that type. `one_iteration(lead, state)` runs the body on block arguments of `lead_types` and state."""
    undefined = [i for i, v in enumerate(inputs) if _undefined(v)]
    defined = [i for i in range(len(inputs)) if i not in undefined]
    init = dict(zip(defined, _check_loop_inputs(tuple(inputs[i] for i in defined), [names[i] for i in defined],
                                                where)))
    if not undefined:
        return [init[i] for i in range(len(inputs))], []
    trace = current()
    assert trace is not None

    def speculate(args: list[Tensor]) -> tuple:
        state = list(inputs)
        for i, a in zip(defined, args[len(lead_types):]):
            state[i] = a
        _speculating[0] += 1
        try:
            return one_iteration(args[:len(lead_types)], tuple(state))
        finally:
            _speculating[0] -= 1

    undefined_names = {names[i] for i in undefined}
    try:
        _, first = trace.trace_region("speculate", list(lead_types) + [init[i].type for i in defined],
                                      [None] * len(lead_types) + [names[i] for i in defined], speculate)
    except UndefinedRead as e:
        if e.name not in undefined_names:
            raise
        raise AutoGraphError(f"{where}: '{e.name}' must be defined before the loop (the loop body reads it "
                             f"before assigning it)") from None
    must_iterate = []
    for i in undefined:
        v = first[i]
        if _undefined(v) or v is None or not isinstance(v, (TensorLike, bool, int, float)):
            what = "undefined" if _undefined(v) else repr(v)
            raise AutoGraphError(f"{where}: '{names[i]}' must be defined before the loop (it is {what} after one "
                                 f"iteration)")
        init[i] = _to_tensor(_zero_like(v))
        if not isinstance(inputs[i], UndefinedReturnValue):
            must_iterate.append(names[i])
    return [init[i] for i in range(len(inputs))], must_iterate


def _assert_iterated(iterated: Tensor, must_iterate: list[str], where: str) -> None:
    from engine.control_flow import Assert
    listed = ", ".join(f"'{n}'" for n in must_iterate)
    Assert(iterated, [f"{where}: the loop must iterate at least once to initialize {listed}"])


def _check_loop_inputs(inputs: tuple, names: Sequence[str], where: str) -> list[Tensor]:
    out = []
    for name, v in zip(names, inputs):
        if _undefined(v):
            raise AutoGraphError(f"{where}: '{name}' must be defined before the loop")
        if v is None or not isinstance(v, (TensorLike, bool, int, float)):
            raise AutoGraphError(f"{where}: '{name}' is {type(v).__name__} {v!r} before the loop, but a loop over "
                                 f"a tensor condition can only carry tensors and numbers")
        out.append(_to_tensor(v))
    return out


def _check_loop_outputs(before: Sequence[Tensor], after: Sequence[Any], names: Sequence[str],
                        where: str) -> list[Tensor]:
    out = []
    for name, b, a in zip(names, before, after):
        if _undefined(a) or a is None:
            raise AutoGraphError(f"{where}: '{name}' is undefined or None at the end of the loop body")
        t = convert_to_tensor(a, dtype_hint=b.dtype) if not isinstance(a, TensorLike) else _to_tensor(a)
        if t.dtype is not b.dtype:
            raise AutoGraphError(f"{where}: '{name}' has dtype {b.dtype.name} before the loop, but dtype "
                                 f"{t.dtype.name} after one iteration; a loop may not change a variable's dtype")
        if tuple(t.shape) != tuple(b.shape):
            raise AutoGraphError(f"{where}: '{name}' has shape {tuple(b.shape)} before the loop, but shape "
                                 f"{tuple(t.shape)} after one iteration; Kiln's shapes are static, so a loop may "
                                 f"not change a variable's shape")
        out.append(t)
    return out


def _python_loop_test(c: Any, where: str) -> bool:
    if is_symbolic(c):
        raise OperatorNotAllowedInGraphError(
            f"{where}: the condition of this Python loop became a tensor during the loop (a tensor-dependent "
            f"break or return inside a loop over Python values); make the loop itself depend on a tensor")
    return bool(c)


def while_stmt(test_fn: Callable[..., Any], body_fn: Callable[..., tuple], inputs: tuple, names: Sequence[str],
               line: int) -> tuple:
    where = _where(line)
    c = test_fn(*inputs)
    if not is_symbolic(c):
        state = inputs
        while _python_loop_test(c, where):
            state = body_fn(*state)
            c = test_fn(*state)
        return state
    init, must_iterate = _loop_init(inputs, names, where, lambda lead, s: body_fn(*s))
    k = len(init)
    extra = [convert_to_tensor(False)] if must_iterate else []
    from engine.control_flow import while_loop

    def body(*s: Tensor) -> tuple:
        out = tuple(_check_loop_outputs(init, body_fn(*s[:k]), names, where))
        return out + (convert_to_tensor(True),) if must_iterate else out
    out = while_loop(lambda *s: _as_bool_tensor(test_fn(*s[:k]), "while"), body, tuple(init + extra))
    if must_iterate:
        _assert_iterated(out[k], must_iterate, where)
    return tuple(out[:k])


class TensorRange:
    """`range(start, limit, delta)` with a traced bound: iterated by a staged loop."""

    def __init__(self, start: Any, limit: Any, delta: Any) -> None:
        self.start, self.limit, self.delta = start, limit, delta


def range_call(func: Any, *args: Any) -> Any:
    import engine
    if (func is builtins.range or func is engine.range) and any(is_symbolic(a) for a in args):
        a = list(args)
        start, limit, delta = (0, a[0], 1) if len(a) == 1 else (a[0], a[1], a[2] if len(a) > 2 else 1)
        return TensorRange(start, limit, delta)
    return func(*args)


def for_stmt(iterable: Any, extra_test: Optional[Callable[..., Any]], body_fn: Callable[..., tuple],
             inputs: tuple, names: Sequence[str], line: int) -> tuple:
    where = _where(line)
    if isinstance(iterable, TensorRange):
        return _for_range(iterable, extra_test, body_fn, inputs, names, where)
    if isinstance(iterable, Tensor) and is_symbolic(iterable):
        return _for_tensor(iterable, extra_test, body_fn, inputs, names, where)
    state = inputs
    for item in iterable:
        if extra_test is not None and not _python_loop_test(extra_test(*state), where):
            break
        state = body_fn(item, *state)
    return state


def _staged_for(n_iter: Tensor, index_of: Callable[[Tensor], Any], extra_test: Optional[Callable[..., Any]],
                body_fn: Callable[..., tuple], inputs: tuple, names: Sequence[str], where: str) -> tuple:
    from engine.control_flow import while_loop
    from engine.ops import add, greater, less, logical_and
    i0 = convert_to_tensor(0, dtype=n_iter.dtype)
    init, must_iterate = _loop_init(inputs, names, where, lambda lead, s: body_fn(index_of(lead[0]), *s),
                                    [i0.type])
    k = len(init)

    def test(i: Tensor, *s: Tensor) -> Tensor:
        c = less(i, n_iter)
        if extra_test is not None:
            c = logical_and(c, _as_bool_tensor(extra_test(*s), "for"))
        return c

    def body(i: Tensor, *s: Tensor) -> tuple:
        out = _check_loop_outputs(init, body_fn(index_of(i), *s), names, where)
        return (add(i, 1), *out)

    result = while_loop(test, body, (i0, *init), maximum_iterations=n_iter)
    if must_iterate:
        _assert_iterated(greater(result[0], 0), must_iterate, where)
    return tuple(result[1:k + 1])


def _for_range(r: TensorRange, extra_test: Optional[Callable[..., Any]], body_fn: Callable[..., tuple],
               inputs: tuple, names: Sequence[str], where: str) -> tuple:
    from engine.ops import add, cast, maximum, multiply, floordiv, subtract, negative
    start, limit, delta = (_to_tensor(v) if isinstance(v, TensorLike) else v for v in (r.start, r.limit, r.delta))
    dtype = next(v.dtype for v in (start, limit, delta) if isinstance(v, Tensor))
    if not dtype.is_integer:
        raise AutoGraphError(f"{where}: range() bounds must be integers, got {dtype.name}")
    start, limit, delta = (convert_to_tensor(v, dtype_hint=dtype) if not isinstance(v, Tensor) else v
                           for v in (start, limit, delta))
    # Trip count ceil((limit - start) / delta), clamped at 0: -((start - limit) // delta).
    n = maximum(negative(floordiv(subtract(start, limit), delta)), 0)
    return _staged_for(n, lambda i: add(start, multiply(i, delta)), extra_test, body_fn, inputs, names, where)


def _for_tensor(t: Tensor, extra_test: Optional[Callable[..., Any]], body_fn: Callable[..., tuple],
                inputs: tuple, names: Sequence[str], where: str) -> tuple:
    if not t.shape:
        raise AutoGraphError(f"{where}: cannot iterate over a scalar tensor")
    from engine.ops import gather
    n = convert_to_tensor(t.shape[0], dtype=int32)
    return _staged_for(n, lambda i: gather(t, i), extra_test, body_fn, inputs, names, where)


# ---- statements that become ops -------------------------------------------------------------------------------------
def assert_stmt(test: Any, msg_fn: Callable[[], Any], line: int) -> None:
    if not is_symbolic(test):
        assert test, msg_fn()
        return
    from engine.control_flow import Assert
    from engine.ops import reduce_all
    msg = msg_fn()
    t = _to_tensor(test)
    Assert(reduce_all(t) if t.shape else t, [f"{_where(line)}: {msg if msg is not None else 'assertion failed'}"])


def print_(*args: Any, **kwargs: Any) -> None:
    if any(is_symbolic(a) for a in args):
        from engine.control_flow import print as tf_print
        stream = kwargs.get("file", sys.stdout)
        tf_print(*args, output_stream=stream, sep=kwargs.get("sep", " ") or " ",
                 end=kwargs.get("end", "\n") if kwargs.get("end") is not None else "\n")
    else:
        builtins.print(*args, **kwargs)


def converted_call(f: Any, args: tuple, kwargs: dict) -> Any:
    """Calls `f`, converting it first when it is user code (not the standard library, numpy or Kiln)."""
    if f is builtins.print:
        return print_(*args, **kwargs)
    from engine.autograph.converter import convert_for_call
    return convert_for_call(f)(*args, **kwargs)
