"""A corpus of programs written with plain Python control flow, for AutoGraph (DESIGN §6).

Unlike tests/programs.py (explicit `tf.cond` / `tf.while_loop`), every program here uses `if`, `while`, `for`,
`break`, `continue`, `return`, `and`/`or`/`not`, conditional expressions, `assert` and `print` directly on
tensors, and AutoGraph has to turn them into `cond` / `while_loop` when the function is traced.

Each `AGProgram` carries its own oracle:
- `reference=None`: the program only uses Python operators (and Python builtins) on its arguments, so running the
  very same function body as plain Python on numpy inputs *is* the oracle: numpy's scalar semantics (NEP 50
  promotion, floor division and modulo) equal TensorFlow's for what these programs do;
- otherwise `reference(*numpy_args)` is an independent numpy / plain-Python implementation.
Calling convention: `args = program.make_args(rng)` gives numpy arrays (0-d arrays for scalars), Python values and
lists of arrays; `engine_args(args)` makes every array an `engine.constant`. A program with `variables` is called
as `fn(*args, **program.variables())`, and its reference as `reference(*args, **numpy_copies)`, where the
reference mutates the numpy arrays in place and the test compares them with the Variables afterwards.

`expect` says what the IR traced from engine tensors must hold: "cond" / "while_loop" (at least one such op),
"no_cond" / "no_while_loop" (none: the statement ran as Python and unrolled).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

import engine as tf


@dataclass(frozen=True)
class AGProgram:
    name: str
    fn: Callable[..., Any]
    make_args: Callable[[np.random.Generator], tuple]
    reference: Optional[Callable[..., Any]] = None
    expect: frozenset = frozenset()
    variables: Optional[Callable[[], dict]] = None

    @property
    def oracle(self) -> Callable[..., Any]:
        return self.fn if self.reference is None else self.reference


AG_PROGRAMS: list[AGProgram] = []


def program(make_args: Callable[[np.random.Generator], tuple], *expect: str,
            reference: Optional[Callable[..., Any]] = None,
            variables: Optional[Callable[[], dict]] = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Registers the decorated function as an AGProgram named after it."""
    for e in expect:
        assert e in ("cond", "while_loop", "no_cond", "no_while_loop"), e

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        assert all(p.name != fn.__name__ for p in AG_PROGRAMS), f"duplicate program name {fn.__name__}"
        AG_PROGRAMS.append(AGProgram(fn.__name__, fn, make_args, reference, frozenset(expect), variables))
        return fn
    return register


def engine_args(args: Any) -> Any:
    """The arguments with every numpy array (at any depth) made an `engine.constant`."""
    if isinstance(args, np.ndarray):
        return tf.constant(args)
    if isinstance(args, dict):
        return {k: engine_args(v) for k, v in args.items()}
    if isinstance(args, (list, tuple)):
        return type(args)(engine_args(v) for v in args)
    return args


def by_name(name: str) -> AGProgram:
    for p in AG_PROGRAMS:
        if p.name == name:
            return p
    raise KeyError(name)


# ---- argument makers ------------------------------------------------------------------------------------------------
def f32(*shape: int, lo: float = -2.0, hi: float = 2.0) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: np.asarray(rng.uniform(lo, hi, size=shape), dtype=np.float32)


def f64(*shape: int, lo: float = -2.0, hi: float = 2.0) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: np.asarray(rng.uniform(lo, hi, size=shape), dtype=np.float64)


def i32(*shape: int, lo: int = -9, hi: int = 10) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: np.asarray(rng.integers(lo, hi, size=shape), dtype=np.int32)


def args(*makers: Any) -> Callable[[np.random.Generator], tuple]:
    """Arguments made in order; a maker that is not callable is a fixed Python value."""
    return lambda rng: tuple(m(rng) if callable(m) else m for m in makers)


# ---- if / elif / else on tensors ------------------------------------------------------------------------------------
def _acceptance_reference(x, threshold):
    return np.square(x) if x > threshold else np.negative(x)


@program(args(f32(), f32(lo=-1.0, hi=1.0)), "cond", reference=_acceptance_reference)
def if_else_return(x, threshold):
    if x > threshold:
        return tf.square(x)
    else:
        return tf.negative(x)


@program(args(f32(lo=-3.0, hi=3.0)), "cond")
def if_elif_else_piecewise(x):
    if x < -1.0:
        y = -2.0 * x - 1.0
    elif x < 1.0:
        y = x * x
    else:
        y = x + 0.5
    return y


@program(args(f32(5), f32()), "cond")
def if_without_else_updates(x, s):
    y = x * 1.0
    if s > 0.0:
        y = y * 2.0 - s
    return y, y * s


@program(args(f32(3), True), "no_cond")
def if_on_python_value(x, flag):
    if flag:
        y = x * 3.0
    else:
        y = x - 3.0
    if x.shape[0] == 3:  # a static shape is a Python value too
        y = y + 1.0
    return y


def _reduce_condition_reference(m):
    total = m.sum(dtype=np.float32)
    return (np.tanh(m) * 2.0, total) if total > 0.0 else (m - np.float32(1.0), -total)


@program(args(f32(2, 3)), "cond", reference=_reduce_condition_reference)
def if_on_reduction(m):
    total = tf.reduce_sum(m)
    if total > 0.0:
        out = tf.tanh(m) * 2.0
    else:
        out = m - 1.0
        total = -total
    return out, total


@program(args(f32(), f32()), "cond")
def if_nested(x, y):
    if x > 0.0:
        if y > 0.0:
            q = x + y
        else:
            q = x - y
        r = q * 2.0
    else:
        if y > x:
            q = y * y
            r = q - 1.0
        else:
            q = x * y
            r = q + 1.0
    return q, r


@program(args(f32(), f32(3)), "cond")
def if_branch_local_and_python_number(x, v):
    # `tmp` lives in one branch only and is dead afterwards; `y` is a Python float in one branch, a tensor in the
    # other, and takes the tensor's dtype.
    if x > 0.0:
        tmp = x * 4.0
        y = tmp + 1.0
        w = v * tmp
    else:
        y = 1.5
        w = v - 1.0
    return y, w


@program(args(f32(), f32()), "cond")
def conditional_expression(x, y):
    z = x * 2.0 if x > y else y - x
    return z, (z if z > 0.0 else -z) + 1.0


@program(args(f32(), f32()), "cond")
def and_or_not(x, y):
    both = x > 0.0 and y > 0.0
    either = x > 1.0 or y < -1.0
    neither = not (x > 0.0) and not y > 0.0
    if x > 0.0 and y > 0.0:
        r = x + y
    elif not x > y or y < -1.0:
        r = x - y
    else:
        r = x * y
    return both, either, neither, r


@program(args(f32(lo=-2.0, hi=2.0)), "cond")
def chained_comparison(x):
    inside = -1.0 < x < 1.0
    if -1.0 < x <= 0.5:
        y = x * 10.0
    else:
        y = x
    return inside, y


@program(args(f32(lo=-3.0, hi=3.0)), "cond")
def early_return_in_branch(x):
    if x > 1.0:
        return x * 2.0
    y = x - 1.0
    if y < -2.0:
        return y
    return y * y


# ---- while with data-dependent trip counts --------------------------------------------------------------------------
@program(args(f64(lo=0.5, hi=50.0)), "while_loop")
def while_newton_sqrt(a):
    y = a
    k = 0
    while abs(y * y - a) > 1e-12 * a:
        y = 0.5 * (y + a / y)
        k += 1
    return y, k


@program(args(f32(lo=0.1, hi=1.0), f32(lo=10.0, hi=100.0)), "while_loop")
def while_multiply_until(x, c):
    while x < c:
        x = x * 1.5
    return x


@program(lambda rng: (np.array(rng.integers(1, 60), np.int32),), "while_loop", "cond")
def while_collatz(n):
    steps = 0
    while n != 1:
        if n % 2 == 0:
            n = n // 2
        else:
            n = 3 * n + 1
        steps += 1
    return n, steps


@program(args(i32(lo=1, hi=500), i32(lo=1, hi=500)), "while_loop")
def while_gcd(a, b):
    while b != 0:
        a, b = b, a % b
    return a


@program(args(i32(lo=1, hi=50), f32(lo=1.0, hi=2.0)), "while_loop", "cond")
def while_break(n, limit):
    x = limit * 0.0 + 0.01
    i = 0
    while i < n:
        x = x * 1.5
        i += 1
        if x > limit:
            break
    return x, i


@program(args(f32(4), 3), "no_while_loop")
def while_on_python_counter(x, n):
    i = 0
    while i < n:
        x = x * 0.5 + 1.0
        i += 1
    return x, i


@program(args(i32(lo=0, hi=12), i32(lo=0, hi=30)), "while_loop", "cond")
def while_else_clause(n, t):
    i = 0
    found = -1
    while i < n:
        if i * i > t:
            found = i
            break
        i += 1
    else:
        found = -2
    return found, i


# ---- for loops -------------------------------------------------------------------------------------------------------
@program(args(i32(lo=0, hi=20)), "while_loop")
def for_range_tensor_bound(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


@program(args(i32(lo=-6, hi=6), i32(lo=-6, hi=12)), "while_loop")
def for_range_start_stop_step(a, b):
    up = 0
    for i in range(a, b, 2):
        up = up * 3 + i
    down = 0
    for j in range(b, a, -3):
        down = down - j
    return up, down


@program(args(f32(3)), "no_while_loop")
def for_range_python_unrolled(x):
    for i in range(3):
        x = x * 2.0 + i
    return x


@program(args(f32(4, 3)), "while_loop")
def for_row_in_tensor(m):
    acc = m[0] * 0.0
    count = 0
    for row in m:
        acc = acc * 0.5 + row
        count += 1
    return acc, count


@program(lambda rng: ([f32(3)(rng) for _ in range(4)],), "no_while_loop")
def for_over_python_list(xs):
    acc = xs[0] * 0.0
    for t in xs:
        acc = acc + t * t
    return acc


@program(lambda rng: ([f32(2)(rng) for _ in range(3)], [f32()(rng) for _ in range(3)]), "no_while_loop", "cond")
def for_enumerate_zip_python(xs, ss):
    acc = xs[0] * 0.0
    for i, (x, s) in enumerate(zip(xs, ss)):
        if s > 0.0:
            acc = acc + x * s
        else:
            acc = acc - x * i
    return acc


@program(args(i32(lo=0, hi=25)), "while_loop", "cond")
def for_continue(n):
    total = 0
    skipped = 0
    for i in range(n):
        if i % 3 == 0:
            skipped += 1
            continue
        total += i
    return total, skipped


@program(args(i32(lo=0, hi=30), i32(lo=0, hi=200)), "while_loop", "cond")
def for_break_on_tensor(n, t):
    total = 0
    for i in range(n):
        if i * i > t:
            break
        total += i
    return total


@program(args(i32(lo=0, hi=15), i32(lo=0, hi=100)), "while_loop", "cond")
def early_return_in_loop(n, t):
    for i in range(n):
        if i * i > t:
            return i
    return -1


@program(args(f32(5, 2)), "while_loop", "cond")
def early_return_from_row_loop(m):
    for row in m:
        if row[0] > 1.0:
            return row * 2.0
    return m[0] * 0.0


@program(args(f32(6, 3)), "while_loop", "cond")
def for_row_if_inside(m):
    pos = m[0] * 0.0
    neg = m[0] * 0.0
    seen_big = False
    for row in m:
        if row[0] + row[1] + row[2] > 0.0:
            pos = pos + row
        else:
            neg = neg + row
        if row[0] > 1.5:
            seen_big = True
    return pos, neg, seen_big


@program(args(i32(lo=0, hi=8)), "while_loop")
def nested_loops(n):
    total = 0
    for i in range(n):
        for j in range(i):
            total += i * j + 1
    return total


@program(args(i32(lo=0, hi=8), i32(lo=0, hi=30)), "while_loop", "cond")
def nested_loops_inner_break(n, t):
    total = 0
    rows = 0
    for i in range(n):
        j = 0
        while j < n:
            if i * j > t:
                break
            total += i + j
            j += 1
        rows += 1
    return total, rows


@program(args(i32(lo=0, hi=8), i32(lo=0, hi=40)), "while_loop", "cond")
def return_from_nested_loops(n, t):
    for i in range(n):
        for j in range(n):
            if i * j > t:
                return i * 100 + j
    return -1


@program(args(f32(3), i32(lo=0, hi=6)), "while_loop", "cond")
def loop_inside_if(x, n):
    s = x[0] + x[1] + x[2]
    if s > 0.0:
        i = 0
        while i < n:
            x = x * 0.5 + 1.0
            i += 1
    else:
        for _ in range(n):
            x = x - 1.0
    return x


@program(args(f32(2), i32(lo=0, hi=6)), "while_loop")
def loop_carries_a_tuple(x, n):
    pair = (x, x * 0.0)
    for _ in range(n):
        pair = (pair[1] + 1.0, pair[0] * 2.0)
    return pair


@program(args(i32(lo=1, hi=9), f32()), "while_loop")
def for_target_used_after_loop(n, x):
    for i in range(n):
        x = x * 0.5 + 1.0
    for j in range(2):
        x = x - 1.0
    return x, i, j


@program(args(f32(3), f32()), "cond")
def if_assigns_nested_structure(x, s):
    if s > 0.0:
        out = {"a": x, "b": [x * s, s]}
    else:
        out = {"a": -x, "b": [x + s, s * 2.0]}
    return out


# ---- assert, print ---------------------------------------------------------------------------------------------------
@program(args(f32(3, lo=0.5, hi=2.0)), "no_while_loop")
def assert_on_tensor(x):
    assert x[0] > 0.0, "x must be positive"
    y = x * x
    assert y[1] >= 0.0
    return y + 1.0


@program(args(f32(2), i32(lo=1, hi=4)), "while_loop")
def print_in_loop(x, n):
    i = 0
    while i < n:
        print("step", i, x)
        x = x + 1.0
        i += 1
    return x


# ---- calls, closures, defaults, globals, nested functions, lambdas, methods ------------------------------------------
def _clip_helper(v, lo, hi):
    if v < lo:
        return lo * 1.0
    if v > hi:
        return hi * 1.0
    return v


def _poly_helper(v, n):
    acc = v * 0.0
    for _ in range(n):
        acc = acc * v + 1.0
    return acc


@program(args(f32(lo=-3.0, hi=3.0), i32(lo=0, hi=5)), "cond", "while_loop")
def calls_user_helpers(x, n):
    return _clip_helper(x, -1.0, 1.0), _poly_helper(x, n)


def _make_closure(scale, offset):
    def closed(x):
        if x > offset:
            y = x * scale
        else:
            y = x + scale
        return y
    return closed


_closure_program = _make_closure(3.0, 0.25)


@program(args(f32()), "cond")
def calls_closure(x):
    return _closure_program(x), _make_closure(-1.0, 0.0)(x)


@program(args(f32(2)), "no_while_loop")
def default_arguments(x, steps=3, scale=0.5):
    for _ in range(steps):
        x = x * scale + 1.0
    return x


SCALE = 2.5
LIMIT = 1.0


def _global_helper(v):
    return v * SCALE if v > LIMIT else v - SCALE


@program(args(f32(lo=-3.0, hi=3.0)), "cond")
def uses_globals(x):
    if x > LIMIT:
        y = x * SCALE
    else:
        y = _global_helper(x)
    return y


@program(args(f32(lo=-2.0, hi=2.0), i32(lo=0, hi=6)), "cond", "while_loop")
def nested_function(x, n):
    def absolute(v):
        if v >= 0.0:
            return v
        return -v

    def power(v, k):
        out = v * 0.0 + 1.0
        i = 0
        while i < k:
            out = out * v
            i += 1
        return out
    return absolute(x), power(x, n)


@program(args(f32(lo=-2.0, hi=2.0), f32(lo=-2.0, hi=2.0)), "cond")
def lambdas(x, y):
    pick = lambda a, b: a if a > b else b  # noqa: E731
    double = lambda v: v * 2.0  # noqa: E731
    return pick(x, y), double(pick(y, x))


class Accumulator:
    def __init__(self, decay, threshold):
        self.decay = decay
        self.threshold = threshold

    def step(self, acc, v):
        if v > self.threshold:
            acc = acc * self.decay + v
        else:
            acc = acc * self.decay
        return acc

    def run(self, xs):
        acc = xs[0] * 0.0
        for v in xs:
            acc = self.step(acc, v)
        return acc


@program(args(f32(7)), "while_loop", "cond")
def method_of_class(xs):
    return Accumulator(0.5, 0.0).run(xs)


# ---- Variables -------------------------------------------------------------------------------------------------------
def _vars_acc() -> dict:
    return {"acc": tf.Variable(np.zeros(3, np.float32), name="acc"), "hits": tf.Variable(0, name="hits")}


def _variable_loop_reference(m, n, acc, hits):
    for i in range(int(n)):
        row = m[i % m.shape[0]]
        if row[0] > 0.0:
            acc += row
            hits += 1
        else:
            acc -= row * np.float32(0.5)
    return acc.copy(), hits.copy()


@program(args(f32(4, 3), i32(lo=0, hi=9)), "while_loop", "cond", reference=_variable_loop_reference,
         variables=_vars_acc)
def variable_updated_in_loop(m, n, acc, hits):
    for i in range(n):
        row = m[i % 4]
        if row[0] > 0.0:
            acc.assign_add(row)
            hits.assign_add(1)
        else:
            acc.assign_sub(row * 0.5)
    return acc.read_value(), hits.read_value()
