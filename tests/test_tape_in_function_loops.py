"""A GradientTape inside an `engine.function`, through AutoGraph for/while loops, `while_loop`, nested loops with
conds inside, Variables and `break` (issue 9 item 4). Expected values are TensorFlow 2.21's answers for the same
programs (run with /work/tfvenv), cross-checked with float64 central differences of the plain-Python program.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine as tf


def central(f, x: float, eps: float = 1e-6) -> float:  # type: ignore[no-untyped-def]
    return (f(x + eps) - f(x - eps)) / (2 * eps)


@tf.function
def for_range(x):  # type: ignore[no-untyped-def]
    with tf.GradientTape() as t:
        t.watch(x)
        y = x
        for i in tf.range(3):
            y = y * 2
    return t.gradient(y, x)


@tf.function
def while_stmt(x):  # type: ignore[no-untyped-def]
    with tf.GradientTape() as t:
        t.watch(x)
        y = x
        i = tf.constant(0)
        while i < 4:
            y = tf.sin(y) + y * 0.5
            i += 1
    return t.gradient(y, x)


def while_stmt_py(x: float) -> float:
    for _ in range(4):
        x = math.sin(x) + x * 0.5
    return x


@tf.function
def while_loop_fn(x):  # type: ignore[no-untyped-def]
    with tf.GradientTape() as t:
        t.watch(x)
        _, y = tf.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * y + 1.0), (tf.constant(0), x))
    return t.gradient(y, x)


@tf.function
def nested(x):  # type: ignore[no-untyped-def]
    with tf.GradientTape() as t:
        t.watch(x)
        y = x
        for i in tf.range(3):
            for j in tf.range(2):
                if y > 2.0:
                    y = y * 0.5
                else:
                    y = y * y + 1.0
    return t.gradient(y, x)


def nested_py(x: float) -> float:
    for _ in range(6):
        x = x * 0.5 if x > 2.0 else x * x + 1.0
    return x


@tf.function
def with_break(x):  # type: ignore[no-untyped-def]
    with tf.GradientTape() as t:
        t.watch(x)
        y = x
        i = tf.constant(0)
        while i < 5:
            y = y * 3.0
            i += 1
            if y > 20.0:
                break
    return t.gradient(y, x)


V = tf.Variable(1.5)


@tf.function
def variable_in_loop(x):  # type: ignore[no-untyped-def]
    with tf.GradientTape() as t:
        t.watch(x)
        y = x
        for i in tf.range(3):
            y = y * V + x
    return t.gradient(y, [x, V])


# (function, argument, TF 2.21's answer, float64 central difference of the Python program or None)
CASES = {
    "for_tf_range": (for_range, 1.0, 8.0, None),
    "while_statement": (while_stmt, 0.7, 0.41745377, central(while_stmt_py, 0.7)),
    "tf_while_loop": (while_loop_fn, 0.5, 12.8125, None),
    "nested_with_cond_low": (nested, 0.9, 1.7414415, central(nested_py, 0.9)),
    "nested_with_cond_high": (nested, 1.3, 2.4557898, central(nested_py, 1.3)),
    "break": (with_break, 1.0, 27.0, None),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_tape_inside_function_through_loop_matches_tf(name: str) -> None:
    f, x, tf_answer, fd = CASES[name]
    got = float(f(tf.constant(x)))
    assert got == pytest.approx(tf_answer, rel=2e-6)
    if fd is not None:
        assert got == pytest.approx(fd, rel=1e-4)


def test_tape_inside_function_loop_with_variable_matches_tf() -> None:
    gx, gv = variable_in_loop(tf.constant(2.0))
    # TF 2.21: [8.125, 21.5]; analytically y = x (v^3 + v^2 + v + 1), dy/dv = x (3 v^2 + 2 v + 1).
    np.testing.assert_allclose([float(gx), float(gv)], [8.125, 21.5], rtol=1e-6)


@tf.function
def persistent_two_gradients(x):  # type: ignore[no-untyped-def]
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = x
        for i in tf.range(3):
            y = tf.sin(y) * 2.0
        z = y * y
    return t.gradient(y, x), t.gradient(z, x)


def test_persistent_tape_sweeps_back_through_a_loop_twice() -> None:
    """The second backward loop gets stacks of its own (the first one consumed the forward loop's)."""
    gy, gz = persistent_two_gradients(tf.constant(0.4))
    np.testing.assert_allclose([float(gy), float(gz)], [0.86601907, 3.4165192], rtol=1e-6)  # TF 2.21


@tf.function
def cond_under_tape(x):  # type: ignore[no-untyped-def]
    with tf.GradientTape() as t:
        t.watch(x)
        if x > 0:
            y = x * x * x
        else:
            y = -x
    return t.gradient(y, x)


def test_tape_through_autograph_if() -> None:
    assert float(cond_under_tape(tf.constant(2.0))) == 12.0   # TF 2.21
    assert float(cond_under_tape(tf.constant(-2.0))) == -1.0  # TF 2.21


@tf.function
def second_order_through_cond(x):  # type: ignore[no-untyped-def]
    with tf.GradientTape() as t2:
        t2.watch(x)
        with tf.GradientTape() as t1:
            t1.watch(x)
            if x > 0:
                y = x * x * x
            else:
                y = tf.sin(x)
        d = t1.gradient(y, x)
    return d, t2.gradient(d, x)


@tf.function
def second_order_persistent_cond(x):  # type: ignore[no-untyped-def]
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        if x > 0:
            y = x * x * x
        else:
            y = tf.sin(x)
        d = t.gradient(y, x)
    return d, t.gradient(d, x)


def test_nested_and_persistent_tapes_differentiate_a_cond_twice() -> None:
    """The backward of a traced cond is recorded on tapes still recording, so their gradient sweeps through it."""
    np.testing.assert_allclose([float(v) for v in second_order_through_cond(tf.constant(1.5))], [6.75, 9.0])
    np.testing.assert_allclose([float(v) for v in second_order_through_cond(tf.constant(-0.5))],
                               [0.87758255, 0.47942555], rtol=1e-6)  # TF 2.21 (both)
    np.testing.assert_allclose([float(v) for v in second_order_persistent_cond(tf.constant(1.5))], [6.75, 9.0])


@tf.function
def second_order_through_loop(x):  # type: ignore[no-untyped-def]
    with tf.GradientTape() as t2:
        t2.watch(x)
        with tf.GradientTape() as t1:
            t1.watch(x)
            y = x
            for i in tf.range(2):
                y = y * y
        d = t1.gradient(y, x)
    return d, t2.gradient(d, x)


def test_second_order_through_a_loop_inside_a_function() -> None:
    """The inner gradient's backward loop is one step of the outer tape, swept back by transposing the loop's vjp
    (forward mode of the loop, then reverse mode of that jvp loop)."""
    d, dd = second_order_through_loop(tf.constant(1.5))
    # TF 2.21: 13.5, 27.0; y = x^4, so 4 x^3 and 12 x^2.
    np.testing.assert_allclose([float(d), float(dd)], [13.5, 27.0])
