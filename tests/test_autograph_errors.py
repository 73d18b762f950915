"""AutoGraph's conversion errors (DESIGN §6, TensorFlow's rules in notes/anchor-semantics.md §4.1).

Each case is a function whose Python control flow cannot be staged. The test asserts the exception type, the
message (AutoGraph's wording, naming the variable), and that the message names this file and the line of the
offending statement: the line that ends with the marker comment `# <-`. Errors found while tracing are raised by
the call of the `engine.function`; runtime checks (a failed assert, a loop that had to run) by the call that runs
the function, compiled and interpreted alike.
"""
from __future__ import annotations

import inspect
import os
import re
from typing import Any, Callable

import pytest

import engine
import engine as tf
from engine.autograph.values import AutoGraphError, PythonLoopReturnError, PythonLoopTensorConditionError

MARKER = "# <-"
FILE = os.path.basename(__file__)


def marked_line(fn: Callable[..., Any]) -> int:
    """The line number of the statement marked with `# <-` in `fn`'s source."""
    lines, first = inspect.getsourcelines(fn)
    hits = [first + i for i, text in enumerate(lines) if text.rstrip().endswith(MARKER)]
    assert len(hits) == 1, f"{fn.__name__}: expected one marked line, got {hits}"
    return hits[0]


def check(exc: BaseException, fn: Callable[..., Any], message: str) -> None:
    text = str(exc)
    assert re.search(message, text), f"{text!r} does not match {message!r}"
    line = marked_line(fn)
    m = re.search(r"(\S+), line (\d+)", text)
    assert m is not None, f"no file and line in {text!r}"
    assert os.path.basename(m.group(1)) == FILE and os.path.samefile(m.group(1), __file__), text
    assert int(m.group(2)) == line, f"line {m.group(2)}, expected the marked line {line}: {text!r}"


# ---- the catalogue: (function, arguments, exception type, message) ---------------------------------------------------
def undefined_before_while(n):
    i = 0
    while i < n:  # <-
        total = total + i
        i += 1
    return total


def undefined_before_for(xs):
    for x in xs:  # <-
        acc = acc * 0.5 + x
    return acc


def missing_in_else(x):
    if x > 0.0:  # <-
        y = x * 2.0
    return y


def missing_in_if(x):
    if x > 0.0:  # <-
        pass
    else:
        y = -x
    return y


def return_missing_in_else(x):
    if x > 0.0:  # <-
        return x * 2.0


def none_in_one_branch(x):
    if x > 0.0:  # <-
        y = None
    else:
        y = x
    return y


def dtype_differs_between_branches(x):
    if x > 0.0:  # <-
        y = tf.constant(1)
    else:
        y = x
    return y


def rank_differs_between_branches(x):
    if x[0] > 0.0:  # <-
        y = x
    else:
        y = x[0]
    return y


def structure_differs_between_branches(x):
    if x > 0.0:  # <-
        y = (x, x)
    else:
        y = [x, x]
    return y


def string_and_tensor_in_conditional_expression(x):
    return x * 2.0 if x > 0.0 else "negative"  # <-


def loop_changes_dtype(x, n):
    i = 0
    while i < n:  # <-
        x = tf.cast(x, tf.float64) * 2.0
        i += 1
    return x


def loop_changes_shape(x, n):
    for i in range(n):  # <-
        x = tf.concat([x, x], axis=0)
    return x


def loop_changes_structure(x, n):
    pair = (x, x)
    for i in range(n):  # <-
        pair = [pair[1], pair[0]]
    return pair


def loop_carries_a_string(n):
    label = "a"
    i = 0
    while i < n:  # <-
        label = label + "b"
        i += 1
    return label


def tensor_break_in_python_range(x):
    for i in range(5):  # <-
        if x > i:
            break
        x = x + 1.0
    return x


def tensor_break_in_while_true(x):
    while True:  # <-
        x = x * 2.0
        if x > 10.0:
            break
    return x


def tensor_return_in_python_loop(x):
    for k in [1.0, 2.0, 3.0]:  # <-
        if x > k:
            return x
        x = x + 1.0
    return -x


def iterate_a_scalar(x):
    total = x * 0.0
    for v in x:  # <-
        total = total + v
    return total


def float_if_condition(x):
    if x:  # <-
        y = x
    else:
        y = -x
    return y


def vector_if_condition(x):
    if x > 0.0:  # <-
        y = x
    else:
        y = -x
    return y


def int_while_condition(n):
    while n:  # <-
        n = n - 1
    return n


def float_range_bound(x):
    total = x * 0.0
    for i in range(x):  # <-
        total = total + 1.0
    return total


def helper_with_missing_else(v):
    if v > 0.0:  # <-
        w = v
    return w


def calls_helper_with_missing_else(x):
    return helper_with_missing_else(x) * 2.0


CATALOGUE = [
    (undefined_before_while, (tf.constant(3),), AutoGraphError, r"'total' must be defined before the loop"),
    (undefined_before_for, (tf.constant([1.0, 2.0]),), AutoGraphError, r"'acc' must be defined before the loop"),
    (missing_in_else, (tf.constant(1.0),), AutoGraphError, r"'y' must also be initialized in the else branch"),
    (missing_in_if, (tf.constant(1.0),), AutoGraphError, r"'y' must also be initialized in the if branch"),
    (return_missing_in_else, (tf.constant(1.0),), AutoGraphError,
     r"a value must also be returned from the else branch"),
    (none_in_one_branch, (tf.constant(1.0),), AutoGraphError, r"'y' is None at the end of the if branch"),
    (dtype_differs_between_branches, (tf.constant(1.0),), TypeError,
     r"'y' has dtype int32 in the if branch but dtype float32 in the else branch"),
    (rank_differs_between_branches, (tf.constant([1.0, 2.0, 3.0]),), AutoGraphError,
     r"'y' has shape \(3,\) in the if branch but shape \(\) in the else branch; both branches must give it the "
     r"same rank"),
    (structure_differs_between_branches, (tf.constant(1.0),), AutoGraphError,
     r"'y' must have the same nested structure in the if and else branches"),
    (string_and_tensor_in_conditional_expression, (tf.constant(1.0),), AutoGraphError,
     r"the value of the conditional expression is a Tensor in the if branch and a str in the else branch"),
    (loop_changes_dtype, (tf.constant(1.0), tf.constant(2)), TypeError,
     r"'x' has dtype float32 before the loop, but dtype float64 after one iteration"),
    (loop_changes_shape, (tf.constant([1.0]), tf.constant(2)), AutoGraphError,
     r"'x' has shape \(1,\) before the loop, but shape \(2,\) after one iteration"),
    (loop_changes_structure, (tf.constant(1.0), tf.constant(2)), AutoGraphError,
     r"'pair' does not have the same nested structure after one iteration"),
    (loop_carries_a_string, (tf.constant(2),), AutoGraphError,
     r"'label' holds a str \('a'\) before the loop; a loop over a tensor condition can only carry tensors"),
    # TensorFlow 2.21 raises NotImplementedError for a tensor-dependent break in a Python loop, and ValueError ("the
    # else branch must also have a return statement") for a tensor-dependent return in one: Kiln's classes derive
    # from those.
    (tensor_break_in_python_range, (tf.constant(1.0),), NotImplementedError,
     r"the condition of this Python loop became a tensor during the loop \(a tensor-dependent break or return"),
    (tensor_break_in_while_true, (tf.constant(1.0),), PythonLoopTensorConditionError,
     r"the condition of this Python loop became a tensor"),
    (tensor_return_in_python_loop, (tf.constant(1.0),), PythonLoopReturnError,
     r"the condition of this Python loop became a tensor during the loop \(a tensor-dependent return"),
    (iterate_a_scalar, (tf.constant(3.0),), TypeError, r"cannot iterate over a scalar tensor"),
    (float_if_condition, (tf.constant(1.0),), TypeError,
     r"the condition of an if statement must be a scalar bool tensor, got float32\[\]"),
    (vector_if_condition, (tf.constant([1.0, -1.0]),), TypeError,
     r"the condition of an if statement must be a scalar bool tensor, got bool\[2\]"),
    (int_while_condition, (tf.constant(3),), TypeError,
     r"the condition of a while loop must be a scalar bool tensor, got int32\[\]"),
    (float_range_bound, (tf.constant(3.0),), TypeError, r"range\(\) bounds must be integers, got float32"),
]


@pytest.mark.parametrize("fn, args, exc_type, message", CATALOGUE, ids=[c[0].__name__ for c in CATALOGUE])
def test_conversion_error(fn: Callable[..., Any], args: tuple, exc_type: type, message: str) -> None:
    with pytest.raises(exc_type) as info:
        tf.function(fn)(*args)
    check(info.value, fn, message)


def test_catalogue_is_complete() -> None:
    assert len(CATALOGUE) >= 12
    assert all(MARKER in inspect.getsource(fn) for fn, *_ in CATALOGUE)


def test_error_in_a_converted_helper_names_the_helpers_line() -> None:
    with pytest.raises(AutoGraphError) as info:
        tf.function(calls_helper_with_missing_else)(tf.constant(1.0))
    check(info.value, helper_with_missing_else, r"'w' must also be initialized in the else branch")


def test_autograph_errors_are_value_errors_and_dtype_errors_type_errors() -> None:
    """The types follow TensorFlow: ValueError for undefined/None/shape/structure, TypeError for dtypes."""
    assert issubclass(AutoGraphError, ValueError)
    with pytest.raises(ValueError):
        tf.function(missing_in_else)(tf.constant(1.0))
    with pytest.raises(TypeError):
        tf.function(loop_changes_dtype)(tf.constant(1.0), tf.constant(2))


# ---- errors at run time ---------------------------------------------------------------------------------------------
def failing_assert(x):
    y = x * 2.0
    assert y > 0.0, "y must be positive"  # <-
    return y


def value_defined_only_in_loop(n):
    for i in range(n):  # <-
        last = i * 10
    return last


@pytest.mark.parametrize("jit", [True, False], ids=["compiled", "interpreted"])
@pytest.mark.parametrize("fn, good, bad, message", [
    (failing_assert, (tf.constant(1.0),), (tf.constant(-1.0),), r"y must be positive"),
    (value_defined_only_in_loop, (tf.constant(2),), (tf.constant(0),),
     r"the loop must iterate at least once to initialize 'last'"),
], ids=["assert", "zero_iterations"])
def test_runtime_check(fn: Callable[..., Any], good: tuple, bad: tuple, message: str, jit: bool) -> None:
    g = tf.function(fn, jit_compile=jit)
    g(*good)
    with pytest.raises(tf.InvalidArgumentError) as info:
        g(*bad)
    check(info.value, fn, message)


def test_tensor_if_without_autograph_is_operator_not_allowed() -> None:
    with pytest.raises(engine.OperatorNotAllowedInGraphError, match="as a Python bool is not allowed"):
        tf.function(missing_in_else, autograph=False)(tf.constant(1.0))


# ---- Variables created while tracing (TensorFlow 2.21 rejects the same programs) -------------------------------------
def variable_on_every_call(x):
    v = tf.Variable(1.0)  # <-
    return v + x


def variable_on_a_later_trace(x):
    if x.shape[0] == 2:
        w = tf.Variable(1.0)  # <-
        return w + x
    return x


class LazyVariable:
    def __init__(self) -> None:
        self.v = None
        self.traces = 0

    @tf.function
    def __call__(self, x):
        self.traces += 1
        if self.v is None:
            self.v = tf.Variable(2.0)
        self.v.assign_add(tf.reduce_sum(x))
        return self.v.read_value()


def test_a_variable_created_on_every_call_is_rejected_on_the_first_call() -> None:
    # TF 2.21: ValueError "tf.function only supports singleton tf.Variables created on the first call", on the
    # first call and again on the second (a failed first trace leaves the next call a first call).
    f = tf.function(variable_on_every_call)
    for _ in range(2):
        with pytest.raises(ValueError) as info:
            f(tf.constant(1.0))
        check(info.value, variable_on_every_call, r"only supports singleton Variables created on the first call")


def test_a_variable_created_by_a_later_trace_is_rejected() -> None:
    # TF 2.21: the first trace (shape [1]) creates nothing; the trace for shape [2] raises ValueError "Creating
    # variables on a non-first call to a function decorated with tf.function."
    f = tf.function(variable_on_a_later_trace)
    assert f(tf.constant([1.0])).numpy().tolist() == [1.0]
    with pytest.raises(ValueError) as info:
        f(tf.constant([1.0, 2.0]))
    check(info.value, variable_on_a_later_trace, r"creating a Variable on a non-first call")


def test_a_variable_created_on_the_first_call_only_is_fine() -> None:
    # TF 2.21 gives 3.0 then 4.0, and traces twice on the first call (the second trace checks that no Variable is
    # created again) and once for the new shape: 3 traces. Each instance is its own function.
    m = LazyVariable()
    assert float(m(tf.constant(1.0))) == 3.0
    assert float(m(tf.constant(1.0))) == 4.0
    assert float(m(tf.constant([1.0, 2.0]))) == 7.0
    assert m.traces == 3
    other = LazyVariable()
    assert float(other(tf.constant(5.0))) == 7.0
    assert other.traces == 2


# ---- tf.while_loop bodies that return another structure than the loop variables ---------------------------------------
def while_body_drops_a_variable(x):
    return tf.while_loop(lambda a, b: a < 3.0, lambda a, b: (a + 1.0,), (x, x))  # <-


def while_body_nests_a_variable(x):
    return tf.while_loop(lambda a, b: a < 3.0, lambda a, b: [a + 1.0, {"k": b}], [x, x])  # <-


def while_body_changes_dtype(x):
    return tf.while_loop(lambda a: a < 3.0, lambda a: (tf.cast(a, tf.int32) + 1,), [x])  # <-


def while_body_changes_shape(x):
    return tf.while_loop(lambda a: a < 3.0, lambda a: (tf.fill([2], a + 1.0),), [x])  # <-


@pytest.mark.parametrize("fn, exc_type, message", [
    # TF 2.21: ValueError "The two structures don't have the same nested structure", traced and eagerly.
    (while_body_drops_a_variable, ValueError, r"the body returns \('\*',\) but the loop variables are"),
    (while_body_nests_a_variable, ValueError, r"the body returns \['\*', \{'k': '\*'\}\] but the loop variables"),
    # TF 2.21: TypeError "Loop var x:0 enters the loop with type float32 but has type int32 after 1 iteration".
    (while_body_changes_dtype, TypeError, r"loop variable 0 is float32\[\] before the loop but int32\[\]"),
    # TF 2.21: ValueError "... enters the loop with shape (), but has shape (2,) after one iteration".
    (while_body_changes_shape, ValueError, r"loop variable 0 is float32\[\] before the loop but float32\[2\]"),
], ids=["fewer", "nested", "dtype", "shape"])
def test_while_loop_body_must_keep_the_loop_variables(fn: Callable[..., Any], exc_type: type, message: str) -> None:
    with pytest.raises(exc_type) as info:
        tf.function(fn)(tf.constant(0.0))
    check(info.value, fn, message)
    if fn is while_body_drops_a_variable:
        with pytest.raises(exc_type) as info:
            fn(tf.constant(0.0))  # eagerly
        check(info.value, fn, message)


# ---- recursion on a tensor condition ------------------------------------------------------------------------------------
def recursion_on_a_tensor(n):  # <-
    if n <= 1:
        return tf.constant(1)
    return n * recursion_on_a_tensor(n - 1)


def test_recursion_ending_on_a_tensor_condition_is_a_clear_error() -> None:
    # TF 2.21 fails with a StagingError wrapping Python's RecursionError ("maximum recursion depth exceeded").
    with pytest.raises(AutoGraphError) as info:
        tf.function(recursion_on_a_tensor)(tf.constant(4))
    check(info.value, recursion_on_a_tensor, r"recursion_on_a_tensor\(\) calls itself without end while it is traced")
    assert "tensor" in str(info.value) and "Python value" in str(info.value)
    # The failed trace leaves nothing behind: the next function traces and runs.
    assert int(tf.function(lambda n: n + 1)(tf.constant(1))) == 2
