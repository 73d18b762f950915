"""AutoGraph's `while` and `for` at run time: plain Python loops for Python values (they unroll while tracing),
one `while_loop` op for a tensor condition, a `range()` with a tensor bound, or a tensor to iterate, while a
function is traced (`values.stages`: a constant made inside the function counts, as in TensorFlow).

The loop variables (state) are those the transformer found: assigned by the body and live at the loop head. Each
may be a nested list/tuple/dict of tensors and numbers; the staged loop carries their leaves. As in TensorFlow:
- a variable must be defined before the loop, unless the body assigns it before reading it: then it starts as a
  zero of the type one iteration gives it (the body is traced once more, into a region that is thrown away), and a
  runtime check says so if the loop ran zero times (the return value of a `return` inside the loop is exempt);
- a variable keeps its structure, dtype and shape across iterations, except where a
  `set_loop_options(shape_invariants=[(v, TensorShape([None]))])` call in the body lets a dim of `v` change (the
  transformer passes the invariants; the loop then carries `v` with that dim unknown);
- a variable that is None before the loop is treated as undefined (TensorFlow does the same), so `y = None`
  followed by a loop that assigns `y` a tensor works;
- a Python loop whose condition turns into a tensor (a tensor-dependent `break` in a loop over Python values) is a
  PythonLoopTensorConditionError, a NotImplementedError as TensorFlow's; a tensor-dependent `return` in one is a
  PythonLoopReturnError (a ValueError, as TensorFlow's "the else branch must also have a return statement").
"""
from __future__ import annotations

import builtins
from typing import Any, Callable, Optional, Sequence

from engine import nest
from engine.tensor_array import shaped_like, unshaped_tensor_array
from engine.convert import convert_to_tensor
from engine.ops.array_ops import range as engine_range
from engine.tensor import Tensor, TensorLike, TensorShape
from engine.trace import LEAKED, current
from ir.types import bool_, int32

from engine.autograph.values import (AutoGraphError, AutoGraphTypeError, PythonLoopReturnError,
                                     PythonLoopTensorConditionError, ReturnMissingError, UndefinedRead,
                                     UndefinedReturnValue, assert_same_structure, is_leaf_value, is_symbolic,
                                     is_undefined, speculation, stages, to_tensor, where, zero_like)


# ---- state: nested values <-> the flat tensors a while_loop carries --------------------------------------------------
def _flatten_init(values: Sequence[Any], names: Sequence[str], where_: str) -> tuple[list[Tensor], list[Any]]:
    flat: list[Tensor] = []
    for name, v in zip(names, values):
        if is_undefined(v):
            raise AutoGraphError(f"{where_}: '{name}' must be defined before the loop")
        for leaf in nest.flatten(v):
            if leaf is None:
                raise AutoGraphError(f"{where_}: '{name}' is None before the loop; a loop over a tensor condition "
                                     f"can only carry tensors and numbers")
            if not is_leaf_value(leaf):
                raise AutoGraphError(f"{where_}: '{name}' holds a {type(leaf).__name__} ({leaf!r}) before the "
                                     f"loop; a loop over a tensor condition can only carry tensors and numbers")
            flat.append(to_tensor(leaf))
    return flat, list(values)


def _unflatten(structures: Sequence[Any], flat: Sequence[Tensor]) -> tuple:
    out, k = [], 0
    for s in structures:
        n = len(nest.flatten(s))
        out.append(nest.pack_sequence_as(s, list(flat[k:k + n])))
        k += n
    return tuple(out)


def _leaf_invariants(inputs: tuple, init: Sequence[Tensor], shape_invariants: Any, where_: str) -> list[Any]:
    """Per carried leaf, the shape it keeps across iterations: its own, or the one `shape_invariants` (pairs of a
    loop variable's value before the loop and a shape) gives it."""
    leaves = [leaf for v in inputs for leaf in nest.flatten(v)]
    shapes = [TensorShape(t.shape) for t in init]
    for pair in shape_invariants or ():
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise AutoGraphError(f"{where_}: shape_invariants must be a list of (variable, shape) pairs, got "
                                 f"{pair!r}")
        var, shape = pair
        found = [k for k, leaf in enumerate(leaves) if leaf is var]
        if not found:
            raise AutoGraphError(f"{where_}: a shape invariant names a value that is not a loop variable (the loop "
                                 f"does not change it); shape_invariants must name loop variables")
        for k in found:
            shapes[k] = TensorShape(None if d is None else int(d) for d in shape)
    return shapes


def _watch(appended: Optional[Callable[[], dict]]) -> list[tuple[str, int, list, int]]:
    """(name, line, list, length now) of each list from outside the loop that its body appends to."""
    if appended is None:
        return []
    try:
        table = appended()
    except NameError:  # not defined before the loop: nothing to watch
        return []
    return [(name, line, v, len(v)) for name, (v, line) in table.items() if isinstance(v, list)]


def _check_appends(watched: list[tuple[str, int, list, int]], where_: str) -> None:
    """Notes each tensor of the loop body that one iteration put into a list from outside the loop: as in TF, the
    list keeps it (the body is traced once) and a use of it after the loop is an InaccessibleTensorError, whose
    message then names the append and suggests a TensorArray."""
    file, loop_line = where_.rsplit(", line ", 1)
    for name, line, v, n in watched:
        for leaf in (leaf for item in v[n:] for leaf in nest.flatten(item)):
            if is_symbolic(leaf) and getattr(leaf, "_node", None) is not None:
                LEAKED[leaf._node] = (
                    f"this tensor was put into the Python list '{name}' by '{name}.append' at {file}, line {line}, "
                    f"inside the tensor loop at line {loop_line}; the loop's body is traced once, so '{name}' holds "
                    f"that body's symbolic tensor, which does not exist after the loop. Collect one value per "
                    f"iteration in a tf.TensorArray: `{name} = tf.TensorArray(dtype, size=0, dynamic_size=True)` "
                    f"before the loop, `{name} = {name}.write(i, value)` in it, `{name}.stack()` after it")


def _fits(shape: Sequence[Any], invariant: Sequence[Any]) -> bool:
    return len(shape) == len(invariant) and all(d is None or d == n for d, n in zip(invariant, shape))


def _flatten_after(structures: Sequence[Any], init: Sequence[Tensor], values: Sequence[Any],
                   names: Sequence[str], where_: str, invariants: Optional[Sequence[Any]] = None) -> list[Tensor]:
    """The body's outputs as flat tensors, checked against the state before the loop (and its invariants)."""
    flat: list[Tensor] = []
    k = 0
    for name, s, v in zip(names, structures, values):
        if is_undefined(v):
            raise AutoGraphError(f"{where_}: '{name}' is undefined at the end of the loop body")
        try:
            assert_same_structure(s, v)
        except ValueError as e:
            raise AutoGraphError(f"{where_}: '{name}' does not have the same nested structure after one iteration "
                                 f"({e})") from None
        for leaf in nest.flatten(v):
            before = init[k]
            k += 1
            if leaf is None:
                raise AutoGraphError(f"{where_}: '{name}' is None at the end of the loop body")
            if not is_leaf_value(leaf):
                raise AutoGraphError(f"{where_}: '{name}' holds a {type(leaf).__name__} after one iteration; a "
                                     f"staged loop can only carry tensors and numbers")
            t = to_tensor(leaf, dtype_hint=None if isinstance(leaf, TensorLike) else before.dtype)
            if t.dtype is not before.dtype:
                raise AutoGraphTypeError(f"{where_}: '{name}' has dtype {before.dtype.name} before the loop, but "
                                         f"dtype {t.dtype.name} after one iteration; a loop may not change a "
                                         f"variable's dtype")
            if not _fits(t.shape, before.shape if invariants is None else invariants[k - 1]):
                raise AutoGraphError(f"{where_}: '{name}' has shape {tuple(before.shape)} before the loop, but "
                                     f"shape {tuple(t.shape)} after one iteration; use "
                                     f"tf.autograph.experimental.set_loop_options(shape_invariants=[({name}, "
                                     f"TensorShape(...))]) in the loop body, with None where it may change")
            flat.append(t)
    return flat


def _loop_init(inputs: tuple, names: Sequence[str], where_: str,
               one_iteration: Callable[[list[Tensor], tuple], tuple],
               lead_types: Sequence[Any] = ()) -> tuple[tuple, list[str]]:
    """The state a staged loop starts from, with undefined variables replaced by zeros of the type one
    (speculative) iteration gives them; and the names of those that at least one iteration must set.
    `one_iteration(lead, state)` runs the body on block arguments of `lead_types` (the for loop's index) and
    the state."""
    # None counts as undefined: TensorFlow's AutoGraph types such a variable by one speculative iteration too.
    undefined = [i for i, v in enumerate(inputs) if is_undefined(v) or v is None]
    # A TensorArray with no element shape yet learns it from the write in the speculative iteration.
    pending = [i for i, v in enumerate(inputs) if i not in undefined and unshaped_tensor_array(v)]
    if not undefined and not pending:
        return inputs, []
    defined = [i for i in range(len(inputs)) if i not in undefined and i not in pending]
    flat, structures = _flatten_init([inputs[i] for i in defined], [names[i] for i in defined], where_)
    trace = current()
    assert trace is not None

    def speculate(args: list[Tensor]) -> tuple:
        state = list(inputs)
        for i, v in zip(defined, _unflatten(structures, args[len(lead_types):])):
            state[i] = v
        speculation.depth += 1
        try:
            return one_iteration(args[:len(lead_types)], tuple(state))
        finally:
            speculation.depth -= 1

    try:
        _, first = trace.trace_region("speculate", list(lead_types) + [t.type for t in flat],
                                      [None] * (len(lead_types) + len(flat)), speculate)
    except UndefinedRead as e:
        if e.name not in {names[i] for i in undefined}:
            raise
        raise AutoGraphError(f"{where_}: '{e.name}' must be defined before the loop (the loop body reads it "
                             f"before assigning it)") from None
    state = list(inputs)
    for i in pending:
        state[i] = shaped_like(inputs[i], first[i], f"{where_}: '{names[i]}'")
    must_iterate = []
    for i in undefined:
        v = first[i]
        if is_undefined(v) or any(leaf is None or not is_leaf_value(leaf) for leaf in nest.flatten(v)):
            what = "undefined" if is_undefined(v) else repr(v)
            raise AutoGraphError(f"{where_}: '{names[i]}' must be defined before the loop (it is {what} after one "
                                 f"iteration)")
        state[i] = zero_like(v)
        if not isinstance(inputs[i], UndefinedReturnValue):
            must_iterate.append(names[i])
    return tuple(state), must_iterate


def _assert_iterated(iterated: Tensor, must_iterate: list[str], where_: str) -> None:
    from engine.control_flow import Assert
    listed = ", ".join(f"'{n}'" for n in must_iterate)
    Assert(iterated, [f"{where_}: the loop must iterate at least once to initialize {listed}"])


def _bool_condition(c: Any, where_: str, what: str) -> Tensor:
    t = to_tensor(c)
    if t.dtype is not bool_ or tuple(t.shape) != ():
        raise AutoGraphTypeError(f"{where_}: the condition of {what} must be a scalar bool tensor, got "
                                 f"{t.dtype.name}{list(t.shape)}; compare it (x > 0) or cast it to bool")
    return t


def _python_loop_test(c: Any, where_: str) -> bool:
    if is_symbolic(c):
        raise PythonLoopTensorConditionError(
            f"{where_}: the condition of this Python loop became a tensor during the loop (a tensor-dependent "
            f"break or return inside a loop over Python values, or a Python value the condition reads became a "
            f"tensor); make the loop itself depend on a tensor")
    return bool(c)


def _python_iteration(body_fn: Callable[..., tuple], args: tuple, where_: str) -> tuple:
    """One iteration of a loop over Python values. A tensor-dependent `return` in it leaves the return value
    undefined on the other path, which the `if` reports; the cause is the Python loop, so say that."""
    try:
        return body_fn(*args)
    except PythonLoopReturnError:
        raise  # an inner Python loop already said so
    except ReturnMissingError as e:
        raise PythonLoopReturnError(
            f"{where_}: the condition of this Python loop became a tensor during the loop (a tensor-dependent "
            f"return inside a loop over Python values: {e}); make the loop itself depend on a tensor") from None


# ---- while -----------------------------------------------------------------------------------------------------------
def while_stmt(test_fn: Callable[..., Any], body_fn: Callable[..., tuple], inputs: tuple, names: Sequence[str],
               line: int, shape_invariants: Any = None, appended: Optional[Callable[[], dict]] = None) -> tuple:
    where_ = where(line)
    c = test_fn(*inputs)
    if not stages(c):
        state = inputs
        while _python_loop_test(c, where_):
            state = _python_iteration(body_fn, state, where_)
            c = test_fn(*state)
        return state
    _bool_condition(c, where_, "a while loop")
    inputs, must_iterate = _loop_init(inputs, names, where_, lambda lead, s: body_fn(*s))
    init, structures = _flatten_init(inputs, names, where_)
    k = len(init)
    invariants = _leaf_invariants(inputs, init, shape_invariants, where_)
    watched = _watch(appended)
    from engine.control_flow import while_loop

    def test(*flat: Tensor) -> Tensor:
        return _bool_condition(test_fn(*_unflatten(structures, flat[:k])), where_, "a while loop")

    def body(*flat: Tensor) -> tuple:
        after = body_fn(*_unflatten(structures, flat[:k]))
        _check_appends(watched, where_)
        out = _flatten_after(structures, init, after, names, where_, invariants)
        return (*out, convert_to_tensor(True)) if must_iterate else tuple(out)

    out = while_loop(test, body, tuple(init) + ((convert_to_tensor(False),) if must_iterate else ()),
                     shape_invariants=invariants + ([TensorShape(())] if must_iterate else []))
    if must_iterate:
        _assert_iterated(out[k], must_iterate, where_)
    return _unflatten(structures, out[:k])


# ---- for ----------------------------------------------------------------------------------------------------------
class TensorRange:
    """`range(start, limit, delta)` with a traced bound: iterated by a staged loop."""

    def __init__(self, start: Any, limit: Any, delta: Any) -> None:
        self.start, self.limit, self.delta = start, limit, delta


def range_call(func: Any, *args: Any) -> Any:
    if (func is builtins.range or func is engine_range) and any(stages(a) for a in args):
        a = list(args)
        start, limit, delta = (0, a[0], 1) if len(a) == 1 else (a[0], a[1], a[2] if len(a) > 2 else 1)
        return TensorRange(start, limit, delta)
    return func(*args)


def for_stmt(iterable: Any, extra_test: Optional[Callable[..., Any]], body_fn: Callable[..., tuple],
             inputs: tuple, names: Sequence[str], line: int, shape_invariants: Any = None,
             appended: Optional[Callable[[], dict]] = None) -> tuple:
    where_ = where(line)
    options = (shape_invariants, _watch(appended))
    if isinstance(iterable, TensorRange):
        return _for_range(iterable, extra_test, body_fn, inputs, names, where_, options)
    if isinstance(iterable, Tensor) and stages(iterable):
        return _for_tensor(iterable, extra_test, body_fn, inputs, names, where_, options)
    state = inputs
    for item in iterable:
        if extra_test is not None and not _python_loop_test(extra_test(*state), where_):
            break
        state = _python_iteration(body_fn, (item, *state), where_)
    return state


def _staged_for(n_iter: Tensor, index_of: Callable[[Tensor], Any], extra_test: Optional[Callable[..., Any]],
                body_fn: Callable[..., tuple], inputs: tuple, names: Sequence[str], where_: str,
                options: tuple = (None, [])) -> tuple:
    shape_invariants, watched = options
    from engine.control_flow import while_loop
    from engine.ops import add, greater, less, logical_and
    i0 = convert_to_tensor(0, dtype=n_iter.dtype)
    inputs, must_iterate = _loop_init(inputs, names, where_, lambda lead, s: body_fn(index_of(lead[0]), *s),
                                      [i0.type])
    init, structures = _flatten_init(inputs, names, where_)
    invariants = _leaf_invariants(inputs, init, shape_invariants, where_)

    def test(i: Tensor, *flat: Tensor) -> Tensor:
        c = less(i, n_iter)
        if extra_test is not None:
            c = logical_and(c, _bool_condition(extra_test(*_unflatten(structures, flat)), where_, "a for loop"))
        return c

    def body(i: Tensor, *flat: Tensor) -> tuple:
        after = body_fn(index_of(i), *_unflatten(structures, flat))
        _check_appends(watched, where_)
        out = _flatten_after(structures, init, after, names, where_, invariants)
        return (add(i, 1), *out)

    result = while_loop(test, body, (i0, *init), maximum_iterations=n_iter,
                        shape_invariants=[TensorShape(())] + invariants)
    statically_iterates = not is_symbolic(n_iter) and int(n_iter) > 0  # e.g. the rows of a tensor
    if must_iterate and not statically_iterates:
        _assert_iterated(greater(result[0], 0), must_iterate, where_)
    return _unflatten(structures, result[1:])


def _for_range(r: TensorRange, extra_test: Optional[Callable[..., Any]], body_fn: Callable[..., tuple],
               inputs: tuple, names: Sequence[str], where_: str, options: tuple = (None, [])) -> tuple:
    from engine.ops import add, floordiv, maximum, multiply, negative, subtract
    bounds = [to_tensor(v) if isinstance(v, TensorLike) else v for v in (r.start, r.limit, r.delta)]
    dtype = next(v.dtype for v in bounds if isinstance(v, Tensor))
    if not dtype.is_integer:
        raise AutoGraphTypeError(f"{where_}: range() bounds must be integers, got {dtype.name}")
    start, limit, delta = (v if isinstance(v, Tensor) else convert_to_tensor(v, dtype=dtype) for v in bounds)
    # Trip count ceil((limit - start) / delta), clamped at 0: -((start - limit) // delta).
    n = maximum(negative(floordiv(subtract(start, limit), delta)), 0)
    return _staged_for(n, lambda i: add(start, multiply(i, delta)), extra_test, body_fn, inputs, names, where_,
                       options)


def _for_tensor(t: Tensor, extra_test: Optional[Callable[..., Any]], body_fn: Callable[..., tuple],
                inputs: tuple, names: Sequence[str], where_: str, options: tuple = (None, [])) -> tuple:
    if not t.shape:
        raise AutoGraphTypeError(f"{where_}: cannot iterate over a scalar tensor (shape ()); a for loop over a "
                                 f"tensor iterates its first dimension")
    from engine.ops import gather, shape
    n = convert_to_tensor(t.shape[0], dtype=int32) if t.shape[0] is not None else shape(t)[0]  # a run-time size
    return _staged_for(n, lambda i: gather(t, i), extra_test, body_fn, inputs, names, where_, options)
