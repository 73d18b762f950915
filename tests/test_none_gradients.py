"""TensorFlow's gradient conventions (issue 9 item 7): an op without a gradient gives None to `tape.gradient`
(zeros with unconnected_gradients='zero'); relu's gradient is upstream * (x > 0), so NaN and inf from upstream pass;
sqrt's and rsqrt's gradients are 0 where the upstream is 0, so a branch `where` did not take gives 0, not NaN.
Every expected value is TensorFlow 2.21's answer for the same program (run with /work/tfvenv, hard-coded here).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import engine as tf

X = [1.3, -2.7, 0.5, 2.5]

# op -> TF 2.21's tape.gradient(op(x), x): None, or the array it gives
CONVENTIONS: dict[str, tuple[Callable[[Any], Any], Any]] = {
    "floor": (tf.floor, None),
    "ceil": (tf.math.ceil, None),
    "round": (tf.round, None),
    "sign": (tf.sign, [0.0, 0.0, 0.0, 0.0]),
    "cast_to_int": (lambda x: tf.cast(x, tf.int32), None),
    "cast_to_int_and_back": (lambda x: tf.cast(tf.cast(x, tf.int32), tf.float32), None),
    "cast_to_bool": (lambda x: tf.cast(x, tf.bool), None),
    "greater": (lambda x: x > 0.0, None),
    "equal": (lambda x: tf.equal(x, 1.3), None),
    "argmax": (lambda x: tf.argmax(x), None),
    "argmin": (lambda x: tf.argmin(x), None),
    "floordiv": (lambda x: x // 2.0, None),
    "floormod": (lambda x: tf.math.floormod(x, 2.0), [1.0, 1.0, 1.0, 1.0]),
    "abs": (tf.abs, [1.0, -1.0, 1.0, 1.0]),
    "stop_gradient": (tf.stop_gradient, None),
    "where": (lambda x: tf.where(x > 0, x, 0.0), [1.0, 0.0, 1.0, 1.0]),
    "zeros_like": (tf.zeros_like, None),
    "logical_not": (lambda x: tf.logical_not(x > 0), None),
}


def tape_gradient(f: Callable[[Any], Any], x: Any, **kwargs: Any) -> Any:
    with tf.GradientTape() as t:
        t.watch(x)
        y = f(x)
    return t.gradient(y, x, **kwargs)


def check(got: Any, want: Any) -> None:
    if want is None:
        assert got is None
    else:
        assert got is not None
        np.testing.assert_array_equal(got.numpy(), np.asarray(want, np.float32))


@pytest.mark.parametrize("name", sorted(CONVENTIONS))
def test_gradient_is_none_exactly_when_tf_says(name: str) -> None:
    f, want = CONVENTIONS[name]
    check(tape_gradient(f, tf.constant(X)), want)


@pytest.mark.parametrize("name", sorted(CONVENTIONS))
def test_same_inside_a_function(name: str) -> None:
    f, want = CONVENTIONS[name]

    @tf.function
    def g(x):  # type: ignore[no-untyped-def]
        got = tape_gradient(f, x)
        return tf.constant(np.nan) if got is None else got  # a traced function cannot return None per case
    got = g(tf.constant(X))
    if want is None:
        assert got.shape == () and np.isnan(got.numpy())
    else:
        np.testing.assert_array_equal(got.numpy(), np.asarray(want, np.float32))


def test_unconnected_gradients_zero() -> None:
    got = tape_gradient(tf.floor, tf.constant(X), unconnected_gradients="zero")
    np.testing.assert_array_equal(got.numpy(), [0.0, 0.0, 0.0, 0.0])  # TF 2.21


def test_relu_passes_nan_and_inf_from_upstream() -> None:
    x = tf.constant([-1.0, 0.0, 2.0])
    got = tape_gradient(tf.nn.relu, x, output_gradients=tf.constant([np.nan, np.inf, np.nan]))
    np.testing.assert_array_equal(got.numpy(), [np.nan, np.nan, np.nan])  # TF 2.21
    with np.errstate(invalid="ignore"):
        got = tape_gradient(lambda x: tf.nn.relu(x) * np.inf, x)
    np.testing.assert_array_equal(got.numpy(), [np.nan, np.nan, np.inf])  # TF 2.21
    x = tf.constant([-1.0, 0.0, 2.0, np.nan])
    np.testing.assert_array_equal(tape_gradient(tf.nn.relu, x).numpy(), [0.0, 0.0, 1.0, 0.0])  # TF 2.21
    got = tape_gradient(tf.nn.relu6, x, output_gradients=tf.constant([np.nan] * 4))
    np.testing.assert_array_equal(got.numpy(), [np.nan] * 4)  # TF 2.21
    got = tape_gradient(lambda x: tf.maximum(x, 0.0), x, output_gradients=tf.constant([np.nan] * 4))
    np.testing.assert_array_equal(got.numpy(), [0.0, np.nan, np.nan, 0.0])  # TF 2.21: maximum selects


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_relu_values_match_tf(compiled: bool) -> None:
    relu = tf.function(tf.nn.relu) if compiled else tf.nn.relu
    got = relu(tf.constant([-0.0, np.nan, -np.inf, np.inf, -2.0, 3.0, 0.0, 1.0])).numpy()
    np.testing.assert_array_equal(got, [0.0, np.nan, 0.0, np.inf, 0.0, 3.0, 0.0, 1.0])  # TF 2.21
    # TF 2.21's kernel gives +0.0 for -0.0 in its 8-wide vector packets and keeps -0.0 in the scalar tail (the
    # last len % 8 elements); Kiln gives +0.0 everywhere (docs/tf-compat.md).
    assert not np.signbit(got[0])
    np.testing.assert_array_equal(relu(tf.constant([-3, 0, 5])).numpy(), [0, 0, 5])  # TF 2.21


@pytest.mark.parametrize("op, want", [(tf.sqrt, [0.0, 0.25, 0.0]), (tf.math.rsqrt, [0.0, -0.0625, 0.0]),
                                      (tf.math.log, [np.nan, 0.25, 0.0])], ids=["sqrt", "rsqrt", "log"])
def test_gradient_under_where_matches_tf(op: Callable[[Any], Any], want: list[float]) -> None:
    x = tf.constant([0.0, 4.0, -1.0])
    with np.errstate(all="ignore"):
        got = tape_gradient(lambda x: tf.where(x > 0, op(x), 0.0), x)
    np.testing.assert_array_equal(got.numpy(), want)  # TF 2.21 (log has no such rule: 0 * inf = NaN there too)


def test_sqrt_gradient_otherwise_unchanged() -> None:
    x = tf.constant([0.0, 4.0])
    got = tape_gradient(tf.sqrt, x, output_gradients=tf.constant([np.nan, 1.0]))
    np.testing.assert_array_equal(got.numpy(), [np.nan, 0.25])  # TF 2.21
