"""AutoGraph (DESIGN §6): Python control flow inside `engine.function`.

- Every program of tests/autograph_programs.py runs as plain Python on numpy inputs (or its numpy reference), and
  converted: eagerly on engine tensors, traced and interpreted (`jit_compile=False`), traced and compiled; all give
  the same values, dtypes, shapes and nested structure, and the same final Variables. The IR traced from tensors
  holds `cond` / `while_loop` where the program says so, and none where Python values drive the statement.
- Pins: the acceptance example; what a Python `if` on a Python value leaves in the IR; both branches of a staged
  `if` traced once; `to_code`; `autograph=False`; functions without source; library code left alone; gradients
  through a loop with break; assert on tensors; global/nonlocal declarations; methods, lambdas, generators,
  `do_not_convert`; no import of the top-level package from engine/autograph.
- What TensorFlow 2.21 answers (loop table, print, recursion) is pinned in test_autograph_tf.py.
"""
from __future__ import annotations

import ast
import collections
import json
import re
import sys
import warnings
from typing import Any

import numpy as np
import pytest

import engine
import engine as tf
from autograph_programs import AG_PROGRAMS, AGProgram, engine_args
from engine.autograph.converter import convert, convert_for_call

SEEDS = (0, 1, 2)
TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-12, atol=1e-12)}
PYTHON_DTYPES = {bool: np.bool_, int: np.int32, float: np.float32}   # what TensorFlow makes of Python numbers

_OP_LINE = re.compile(r"^\s*(?:%[\w.]+(?:,\s*%[\w.]+)*\s*=\s*)?([a-z_][a-z0-9_]*)\b")


def op_counts(fn: Any) -> collections.Counter:
    """How often each op appears in the printed IR (regions included)."""
    counts: collections.Counter = collections.Counter()
    for line in str(fn).splitlines()[1:]:
        m = _OP_LINE.match(line)
        if m:
            counts[m.group(1)] += 1
    return counts


# ---- comparing with the oracle --------------------------------------------------------------------------------------
def expected_array(w: Any) -> np.ndarray:
    if type(w) in PYTHON_DTYPES:
        return np.array(w, dtype=PYTHON_DTYPES[type(w)])
    return np.asarray(w)


def assert_same(want: Any, got: Any, where: str = "output", python_ok: bool = False) -> None:
    """`got` has `want`'s structure, and each leaf is a tensor of the dtype, shape and value that TensorFlow gives
    the oracle's leaf (a Python int is an int32 tensor, ...). With `python_ok` (unconverted eager runs, which are
    plain Python), a leaf may also be the oracle's very Python value."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), f"{where}: {got!r} vs {want!r}"
        for k in want:
            assert_same(want[k], got[k], f"{where}[{k!r}]", python_ok)
        return
    if isinstance(want, (list, tuple)):
        assert type(got) is type(want), f"{where}: a {type(got).__name__}, expected a {type(want).__name__}"
        assert len(got) == len(want), f"{where}: {len(got)} elements, expected {len(want)}"
        for i, (w, g) in enumerate(zip(want, got)):
            assert_same(w, g, f"{where}[{i}]", python_ok)
        return
    if python_ok and not isinstance(got, (tf.Tensor, tf.Variable)):
        assert type(got) is type(want) and got == want, f"{where}: {got!r}, expected {want!r}"
        return
    assert isinstance(got, (tf.Tensor, tf.Variable)), f"{where}: got a {type(got).__name__}, not a tensor"
    w, g = expected_array(want), np.asarray(got.numpy())
    assert g.dtype == w.dtype, f"{where}: dtype {g.dtype}, expected {w.dtype}"
    assert g.shape == w.shape, f"{where}: shape {g.shape}, expected {w.shape}"
    if w.dtype.kind == "f":
        np.testing.assert_allclose(g, w, err_msg=where, **TOL[w.dtype.name])
    else:
        np.testing.assert_array_equal(g, w, err_msg=where)


def make(p: AGProgram, seed: int) -> tuple:
    return p.make_args(np.random.default_rng(1000 * seed + len(p.name)))


def oracle_run(p: AGProgram, args: tuple) -> tuple[Any, dict]:
    """The oracle's result and the final values of the Variables (numpy arrays the reference updates in place)."""
    arrays = {k: np.array(v.numpy()) for k, v in p.variables().items()} if p.variables else {}
    return p.oracle(*args, **arrays), arrays


def engine_run(p: AGProgram, f: Any, args: tuple) -> tuple[Any, dict]:
    variables = p.variables() if p.variables else {}
    return f(*engine_args(args), **variables), variables


MODES = {
    "eager": lambda p: p.fn,
    "interpreted": lambda p: tf.function(p.fn, jit_compile=False),
    "compiled": lambda p: tf.function(p.fn),
}


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("p", AG_PROGRAMS, ids=[p.name for p in AG_PROGRAMS])
def test_program_matches_plain_python(p: AGProgram, mode: str) -> None:
    f = MODES[mode](p)
    for seed in SEEDS:
        args = make(p, seed)
        want, want_vars = oracle_run(p, args)
        got, got_vars = engine_run(p, f, args)
        assert_same(want, got, f"seed {seed}", python_ok=mode == "eager")
        for name in want_vars:
            assert_same(want_vars[name], got_vars[name], f"seed {seed}: Variable {name!r}")


@pytest.mark.parametrize("p", AG_PROGRAMS, ids=[p.name for p in AG_PROGRAMS])
def test_program_ir_stages_what_it_should(p: AGProgram) -> None:
    args = engine_args(make(p, 0))
    variables = p.variables() if p.variables else {}
    counts = op_counts(tf.function(p.fn).get_concrete_function(*args, **variables).ir)
    for fact in p.expect:
        if fact.startswith("no_"):
            assert counts[fact[3:]] == 0, f"expected no {fact[3:]} op: {dict(counts)}"
        else:
            assert counts[fact] >= 1, f"expected a {fact} op: {dict(counts)}"


def test_corpus_is_large_and_covers_what_autograph_stages() -> None:
    assert len(AG_PROGRAMS) >= 30
    assert sum("while_loop" in p.expect for p in AG_PROGRAMS) >= 15
    assert sum("cond" in p.expect for p in AG_PROGRAMS) >= 15
    assert sum("no_while_loop" in p.expect for p in AG_PROGRAMS) >= 4


# ---- the acceptance example ---------------------------------------------------------------------------------------
@tf.function
def acceptance(x, threshold):
    if x > threshold:
        return tf.square(x)
    else:
        return tf.negative(x)


def test_acceptance_example_takes_the_right_branch_with_one_cond() -> None:
    above = acceptance(tf.constant(3.0), tf.constant(1.0))
    below = acceptance(tf.constant(0.5), tf.constant(1.0))
    assert above.dtype is tf.float32 and above.shape == ()
    assert float(above) == 9.0 and float(below) == -0.5
    assert acceptance.experimental_get_tracing_count() == 1, "both calls share one trace"
    ir_text = str(acceptance.get_concrete_function(tf.constant(3.0), tf.constant(1.0)).ir)
    counts = op_counts(ir_text)
    assert counts["cond"] == 1, ir_text
    assert counts["mul"] == 1 and counts["neg"] == 1, "tf.square and tf.negative each in one branch"
    assert counts["while_loop"] == 0


def test_acceptance_example_interpreted_and_with_a_python_threshold() -> None:
    f = tf.function(acceptance.python_function, jit_compile=False)
    assert float(f(tf.constant(-2.0), tf.constant(1.0))) == 2.0
    assert float(f(tf.constant(2.0), 1.0)) == 4.0
    assert float(f(tf.constant(0.0), 0.0)) == -0.0


# ---- what is staged, and how often Python runs -----------------------------------------------------------------------
def test_python_if_on_python_value_leaves_no_cond() -> None:
    def f(x, flag):
        if flag:
            y = x * 2.0
        else:
            y = x - 1.0
        return y
    g = tf.function(f)
    for flag, want in ((True, 6.0), (False, 2.0)):
        assert float(g(tf.constant(3.0), flag)) == want
        assert op_counts(g.get_concrete_function(tf.constant(3.0), flag).ir)["cond"] == 0
    assert g.experimental_get_tracing_count() == 2, "a Python value is part of the cache key"


def test_tensor_if_traces_both_branches_once() -> None:
    log: list[str] = []

    def f(x):
        if x > 0.0:
            log.append("then")
            y = x * 2.0
        else:
            log.append("else")
            y = -x
        return y
    g = tf.function(f)
    assert float(g(tf.constant(2.0))) == 4.0
    assert float(g(tf.constant(-3.0))) == 3.0
    assert log == ["then", "else"], "one trace, each branch traced exactly once, none on the second call"


def test_tensor_loop_traces_its_body_once() -> None:
    log: list[str] = []

    def f(n):
        total = 0
        i = 0
        while i < n:
            log.append("body")
            total += i
            i += 1
        return total
    g = tf.function(f)
    assert int(g(tf.constant(5))) == 10 and int(g(tf.constant(0))) == 0
    assert log == ["body"]
    assert op_counts(g.get_concrete_function(tf.constant(5)).ir)["while_loop"] == 1


def test_python_loop_unrolls_and_runs_its_body_per_iteration() -> None:
    log: list[int] = []

    def f(x):
        for i in range(4):
            log.append(i)
            x = x + float(i)
        return x
    g = tf.function(f)
    assert float(g(tf.constant(1.0))) == 7.0
    assert log == [0, 1, 2, 3]
    counts = op_counts(g.get_concrete_function(tf.constant(1.0)).ir)
    assert counts["while_loop"] == 0 and counts["add"] == 4


def test_tensor_range_loop_bounds_iterations() -> None:
    def f(n, x):
        for i in tf.range(n):
            x = x * 2.0
        return x
    g = tf.function(f)
    assert float(g(tf.constant(3), tf.constant(1.0))) == 8.0
    assert float(g(tf.constant(-2), tf.constant(1.0))) == 1.0
    text = str(g.get_concrete_function(tf.constant(3), tf.constant(1.0)).ir)
    assert op_counts(text)["while_loop"] == 1


def test_loop_target_keeps_its_last_value_after_the_loop() -> None:
    def f(n, x):
        for i in range(n):
            x = x + 1.0
        for j in range(3):
            x = x * 2.0
        return x, i, j
    g = tf.function(f)
    x, i, j = g(tf.constant(4), tf.constant(0.0))
    assert (float(x), int(i), int(j)) == (32.0, 3, 2)


def test_value_only_set_inside_a_staged_loop_needs_one_iteration() -> None:
    def f(n):
        for i in range(n):
            last = i * 10
        return last
    g = tf.function(f)
    assert int(g(tf.constant(4))) == 30
    with pytest.raises(tf.InvalidArgumentError, match="must iterate at least once to initialize 'last'"):
        g(tf.constant(0))
    assert op_counts(g.get_concrete_function(tf.constant(4)).ir)["assert"] == 1

    def rows(m):
        for row in m:  # a static number of rows (> 0): no runtime check needed
            last = row * 2.0
        return last
    h = tf.function(rows)
    np.testing.assert_array_equal(h(tf.constant([[1.0], [3.0]])).numpy(), [6.0])
    assert op_counts(h.get_concrete_function(tf.constant([[1.0], [3.0]])).ir)["assert"] == 0


# ---- to_code, autograph=False, unconvertible and library functions --------------------------------------------------
def test_to_code_shows_the_generated_source() -> None:
    def f(x, n):
        if x > 0.0:
            x = -x
        while n > 0:
            n -= 1
        for i in range(3):
            x = x + i
        return x and n
    code = tf.autograph.to_code(f)
    for call in ("ag__.if_stmt", "ag__.while_stmt", "ag__.for_stmt", "ag__.and_"):
        assert call in code, code
    ast.parse(code)
    assert tf.autograph.to_code(acceptance).count("ag__.if_stmt") == 1, "to_code accepts an engine.function"


def test_autograph_false_leaves_tensor_if_to_python() -> None:
    def f(x):
        if x > 0.0:
            return x
        return -x
    assert float(tf.function(f)(tf.constant(-2.0))) == 2.0
    with pytest.raises(engine.OperatorNotAllowedInGraphError):
        tf.function(f, autograph=False)(tf.constant(-2.0))

    def python_only(x, flag):
        return x * 2.0 if flag else x
    assert float(tf.function(python_only, autograph=False)(tf.constant(3.0), True)) == 6.0


def test_function_without_source_runs_unconverted_with_a_warning() -> None:
    namespace: dict = {}
    exec("def made(x, k):\n    y = x * 2.0\n    return y + k\n\n"
         "def branches(x):\n    if x > 0.0:\n        return x\n    return -x\n", {"tf": tf}, namespace)
    with pytest.warns(RuntimeWarning, match="could not convert made"):
        assert float(tf.function(namespace["made"])(tf.constant(1.5), 1.0)) == 4.0
    with pytest.warns(RuntimeWarning, match="could not convert branches"):
        with pytest.raises(engine.OperatorNotAllowedInGraphError):
            tf.function(namespace["branches"])(tf.constant(1.0))


def test_library_functions_are_not_converted() -> None:
    for f in (np.sum, np.clip, tf.reduce_sum, tf.cond, tf.while_loop, engine.nn.relu, json.dumps, len, print):
        assert convert(f) is f, f
        assert convert_for_call(f) is f, f

    def user(x):
        if x > 0.0:
            return x
        return -x
    converted = convert(user)
    assert converted is not user and converted.__wrapped__ is user and converted.__kiln_converted__
    assert convert_for_call(converted) is converted, "converting twice is a no-op"

    def calls_libraries(x):
        # numpy on Python values, the engine's own functions (whose Python control flow runs unconverted)
        k = int(np.clip(7, 0, 3))
        return tf.cond(x > 0.0, lambda: tf.nn.relu(x) * k, lambda: tf.reduce_sum(tf.stack([x, x])))
    g = tf.function(calls_libraries)
    assert float(g(tf.constant(2.0))) == 6.0 and float(g(tf.constant(-1.0))) == -2.0


def test_do_not_convert_keeps_python_semantics() -> None:
    @tf.autograph.do_not_convert
    def helper(v):
        if v > 0.0:
            return v
        return -v

    def f(x):
        return helper(x)
    with pytest.raises(engine.OperatorNotAllowedInGraphError):
        tf.function(f)(tf.constant(1.0))
    assert float(f(tf.constant(-2.0))) == 2.0, "eagerly, Python control flow on a concrete tensor works"
    # TensorFlow's spelling, with and without parentheses.
    for mark in (tf.autograph.experimental.do_not_convert, tf.autograph.experimental.do_not_convert()):
        marked = mark(lambda v: v if v > 0.0 else -v)
        with pytest.raises(engine.OperatorNotAllowedInGraphError):
            tf.function(lambda x: marked(x))(tf.constant(1.0))


def test_generator_helper_runs_unconverted_with_a_warning() -> None:
    def pairs(x):
        yield x
        yield x * 2.0

    def f(x):
        total = x * 0.0
        for v in pairs(x):
            total = total + v
        return total
    with pytest.warns(RuntimeWarning, match="could not convert .*pairs"):
        assert float(tf.function(f)(tf.constant(1.5))) == 4.5


# ---- gradients through staged loops with break ----------------------------------------------------------------------
def power_with_break(x):
    y = x
    i = tf.constant(0)
    while i < 5:
        i += 1
        y = y * x
        if i > 2:
            y = y + 1.5
            break
    return y


@pytest.mark.parametrize("x0", [0.7, 1.5, -1.2])
def test_gradient_through_a_while_loop_whose_break_branch_assigns_a_float(x0: float) -> None:
    """Reverse mode pushes the loop's bool break flag on a stack; constant folding once turned the empty bool stack
    into the constant `true`, which LLVM rejected (a phi of a pointer with an integer incoming)."""
    def reference(x: float) -> float:  # the same loop in plain Python, float64
        y = x
        for _ in range(3):
            y = y * x
        return y + 1.5
    h = 1e-6
    want = (reference(x0 + h) - reference(x0 - h)) / (2 * h)
    for jit in (True, False):
        got = tf.function(tf.grad(power_with_break), jit_compile=jit)(tf.constant(x0))
        np.testing.assert_allclose(float(got), want, rtol=1e-5)
    np.testing.assert_allclose(float(tf.grad(power_with_break)(tf.constant(x0))), want, rtol=1e-5)


# ---- assert ------------------------------------------------------------------------------------------------
def test_assert_on_a_tensor_fails_at_run_time_with_the_users_line() -> None:
    def f(x):
        assert x > 0.0, "x must be positive"
        return x * 2.0
    line = f.__code__.co_firstlineno + 1
    for g in (tf.function(f), tf.function(f, jit_compile=False)):
        assert float(g(tf.constant(1.0))) == 2.0
        with pytest.raises(tf.InvalidArgumentError, match=rf"test_autograph\.py, line {line}: x must be positive"):
            g(tf.constant(-1.0))
    with pytest.raises(AssertionError, match="x must be positive"):
        f(np.float32(-1.0))


# ---- names, scopes and calls -----------------------------------------------------------------------------------------
TRACES = 0


def test_global_and_nonlocal_assignments_inside_converted_statements() -> None:
    global TRACES
    TRACES = 0

    def f(x, flag):
        global TRACES
        if flag:
            TRACES = TRACES + 1
        if x > 0.0:  # staged: both branches run once while tracing
            TRACES = TRACES + 10
            y = x
        else:
            y = -x
        return y
    g = tf.function(f)
    assert float(g(tf.constant(-4.0), True)) == 4.0
    assert TRACES == 11

    def outer(x):
        count = 0

        def bump(v):
            nonlocal count
            for _ in range(3):
                count += 1
            return v + count
        y = bump(x)
        return y, count
    y, count = tf.function(outer)(tf.constant(1.0))
    assert (float(y), int(count)) == (4.0, 3)


def test_method_of_a_class_and_a_bound_function() -> None:
    class Scaler:
        def __init__(self, limit):
            self.limit = limit

        @tf.function
        def apply(self, x):
            while x < self.limit:
                x = x * 2.0
            return x
    a, b = Scaler(10.0), Scaler(100.0)
    assert float(a.apply(tf.constant(3.0))) == 12.0
    assert float(b.apply(tf.constant(3.0))) == 192.0
    assert op_counts(a.apply.get_concrete_function(tf.constant(3.0)).ir)["while_loop"] == 1


def test_callable_objects_and_nested_functions_are_converted_when_called() -> None:
    class Gate:
        def __init__(self, k):
            self.k = k

        def __call__(self, x):
            if x > 0.0:
                return x * self.k
            return x

    @tf.function
    def inner(x):
        if x > 1.0:
            return x
        return -x

    def f(x):
        return Gate(3.0)(x), inner(x) + 1.0
    g = tf.function(f)
    for v, want in ((2.0, (6.0, 3.0)), (0.5, (1.5, 0.5)), (-1.0, (-1.0, 2.0))):
        a, b = g(tf.constant(v))
        assert (float(a), float(b)) == want
    assert op_counts(g.get_concrete_function(tf.constant(1.0)).ir)["cond"] == 2
    # TF 2.21: a tf.function called while another is traced is traced itself, once per signature (here
    # float32[]), and its concrete function's IR is inlined into the caller's trace.
    assert inner.experimental_get_tracing_count() == 1


def test_lambda_as_the_function() -> None:
    g = tf.function(lambda x: x * 2.0 if x > 0.0 else -x)
    assert float(g(tf.constant(3.0))) == 6.0 and float(g(tf.constant(-3.0))) == 3.0
    assert op_counts(g.get_concrete_function(tf.constant(1.0)).ir)["cond"] == 1


def _sign(x):
    if x > 0.0:
        return tf.constant(1.0)
    return tf.constant(-1.0)


def test_lambdas_whose_lines_are_not_statements_are_converted() -> None:
    """A lambda's source lines may be a fragment (an entry of a dict display, the middle of a call): it is still
    converted, so the helpers it calls are too, and its errors name its line."""
    table = {"sign": lambda x: _sign(x),
             "double_if_positive": lambda x: x * 2.0 if x > 0.0 else x}
    g = tf.function(
        lambda x:
            table["sign"](x) + table["double_if_positive"](x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(g(tf.constant(3.0))) == 7.0 and float(g(tf.constant(-3.0))) == -4.0
    bad = {"k": lambda x: x if x > 0.0 else tf.constant(1)}
    with pytest.raises(TypeError, match=r"test_autograph.py, line %d: .*dtype" % (sys._getframe().f_lineno - 1)):
        tf.function(bad["k"])(tf.constant(1.0))


def test_closure_cells_are_the_originals() -> None:
    scale = 2.0

    def f(x):
        if x > 0.0:
            return x * scale
        return x
    g = tf.function(f)
    assert float(g(tf.constant(1.0))) == 2.0
    scale = 5.0
    assert float(tf.function(f)(tf.constant(1.0))) == 5.0, "a new trace sees the rebinding of the closed-over name"


def test_both_branches_and_loop_body_with_python_side_effect_on_lists() -> None:
    def f(xs):
        out = []
        for x in xs:  # a Python list: unrolled; the `if` on each tensor is staged
            out.append(x * 2.0 if x > 0.0 else x * 0.0)
        return out
    got = tf.function(f)([tf.constant(1.0), tf.constant(-1.0), tf.constant(3.0)])
    assert [float(v) for v in got] == [2.0, 0.0, 6.0]


def test_converted_code_warns_nothing_for_ordinary_programs() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = AG_PROGRAMS[0]
        tf.function(p.fn)(*engine_args(make(p, 0)))


def test_autograph_modules_do_not_import_the_top_level_package() -> None:
    """`engine/__init__` imports engine.autograph; an `import engine` back (loops.py had one) is an import cycle."""
    import pathlib
    for path in sorted(pathlib.Path(engine.autograph.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                assert all(a.name != "engine" for a in node.names), f"{path.name}:{node.lineno}: import engine"


def test_speculative_tracing_state_is_per_thread() -> None:
    """Tracing is per thread: one thread typing a loop body must not let another thread's staged `if` fill in a
    variable it leaves undefined."""
    import threading
    from engine.autograph.values import speculation
    speculation.depth += 1
    try:
        seen: list[int] = []
        t = threading.Thread(target=lambda: seen.append(speculation.depth))
        t.start()
        t.join()
        assert seen == [0]
    finally:
        speculation.depth -= 1
