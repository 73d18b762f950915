"""How the generated fast caller (engine.fastcall) binds a call's arguments: positional-only parameters `a0, a1,
...` that no keyword can reach, whatever its name; too few, too many or keyword arguments go to the general path,
whose errors name the argument (as TF 2.21's `Binding inputs to tf.function failed` errors do); an argument of
another dtype or shape gives the input signature's error, not a crash; and the values match numpy.
"""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf


def _signed_add():
    @tf.function(input_signature=[tf.TensorSpec([3], tf.float32), tf.TensorSpec([3], tf.float32)])
    def add(x, y):
        return x + y
    return add


def _installed(f, *args):
    f(*args)
    f(*args)
    assert getattr(f._call, "__name__", "") == "fast"


def test_a_keyword_never_binds_to_the_callers_own_parameters() -> None:
    @tf.function
    def f(a1, a0):  # the caller's parameter names, in the other order: keywords must bind to the user's
        return a1 - a0
    x, y = np.arange(4, dtype=np.float32), np.full(4, 0.5, np.float32)
    tx, ty = tf.constant(x), tf.constant(y)
    _installed(f, tx, ty)
    np.testing.assert_array_equal(f(tx, ty).numpy(), x - y)
    np.testing.assert_array_equal(f(a0=tx, a1=ty).numpy(), y - x)
    np.testing.assert_array_equal(f(tx, a0=ty).numpy(), x - y)
    np.testing.assert_array_equal(f(tx, ty).numpy(), x - y)  # and the fast path again


@pytest.mark.parametrize("call, message", [
    (lambda f, a: f(a, tf.constant(np.ones(4, np.float32))), r"argument 'y' \(float32\[4\]\) does not match"),
    (lambda f, a: f(a, tf.constant(np.ones(3, np.int32))), r"argument 'y' \(int32\[3\]\) does not match"),
    (lambda f, a: f(a), "missing a required argument: 'y'"),
    (lambda f, a: f(a, a, a), "too many positional arguments"),
    (lambda f, a: f(a, z=a), "missing a required argument: 'y'"),
])
def test_calls_the_caller_cannot_take_give_the_general_paths_errors(call, message) -> None:
    f = _signed_add()
    a = tf.constant(np.ones(3, np.float32))
    _installed(f, a, a)
    with pytest.raises(TypeError, match=message):
        call(f, a)
    np.testing.assert_array_equal(f(a, a).numpy(), np.full(3, 2.0, np.float32))


def test_one_and_zero_argument_callers() -> None:
    @tf.function
    def square(x):
        return x * x

    @tf.function
    def seven():
        return tf.constant(7.0) * 1.0
    x = np.linspace(-2, 2, 5, dtype=np.float32)
    t = tf.constant(x)
    _installed(square, t)
    np.testing.assert_array_equal(square(t).numpy(), x * x)
    np.testing.assert_array_equal(square(x=t).numpy(), x * x)
    with pytest.raises(TypeError):
        square()
    _installed(seven)
    assert seven().numpy() == np.float32(7.0)
    with pytest.raises(TypeError):
        seven(t)


def test_outputs_of_one_and_more_dims_are_fresh_arrays_each_call() -> None:
    @tf.function
    def f(x, m):
        return x + 1.0, tf.matmul(m, m)
    x = np.arange(6, dtype=np.float32)
    m = np.arange(9, dtype=np.float32).reshape(3, 3)
    tx, tm = tf.constant(x), tf.constant(m)
    f(tx, tm)
    first = f(tx, tm)
    second = f(tx, tm)
    np.testing.assert_array_equal(first[0].numpy(), x + 1)
    np.testing.assert_allclose(first[1].numpy(), m @ m, rtol=1e-6)
    assert first[0].numpy().shape == (6,) and not np.shares_memory(first[0].numpy(), second[0].numpy())
