"""tf.TensorArray beyond the recorded TF programs (tests/oracle/programs/tensor_array.py): derivatives through
arrays written in compiled loops against float64 finite differences, compiled == eager, and the limits."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine.testing import check_grads


def squares_weighted(x):
    ta = tf.TensorArray(tf.float64, size=x.shape[0])
    for i in tf.range(x.shape[0]):
        ta = ta.write(i, tf.sin(x[i]) * x[(i + 1) % x.shape[0]])
    s = ta.stack()
    return tf.reduce_sum(s * s)


def test_gradients_through_a_tensor_array_in_a_compiled_loop() -> None:
    x = np.array([0.3, -1.2, 2.0, 0.7])
    f = tf.function(squares_weighted)
    check_grads(f, [x], order=1, modes=("rev", "fwd"))
    with tf.GradientTape() as tape:
        xt = tf.constant(x)
        tape.watch(xt)
        y = f(xt)
    ref_y = sum((np.sin(x[i]) * x[(i + 1) % 4]) ** 2 for i in range(4))
    assert np.isclose(float(y), ref_y)
    assert tape.gradient(y, xt).shape == (4,)


def test_compiled_and_eager_agree() -> None:
    x = tf.constant(np.linspace(-1.0, 1.0, 5))
    assert np.allclose(tf.function(squares_weighted)(x).numpy(), squares_weighted(x).numpy())


def test_matrix_elements_and_element_shape_from_the_first_write() -> None:
    @tf.function
    def outer(v):
        ta = tf.TensorArray(tf.float32, size=3)
        for i in tf.range(3):
            ta = ta.write(i, v * tf.cast(i, tf.float32)[None, None] + tf.transpose(v))
        return ta.stack()

    v = np.arange(4.0, dtype=np.float32).reshape(2, 2)
    assert np.array_equal(outer(tf.constant(v)).numpy(), np.stack([v * i + v.T for i in range(3)]))


def test_a_write_past_the_end_in_a_compiled_loop_fails_at_run_time() -> None:  # TF: OutOfRangeError's text
    @tf.function
    def f(n):
        ta = tf.TensorArray(tf.float32, size=2)
        for i in tf.range(n):
            ta = ta.write(i, 1.0)
        return ta.stack()

    assert f(tf.constant(2)).numpy().tolist() == [1.0, 1.0]
    with pytest.raises(tf.errors.InvalidArgumentError, match="Tried to write to index 2 but array is not resizeable and size is: 2"):
        f(tf.constant(3))


def test_a_dtype_mismatch_is_an_error() -> None:
    ta = tf.TensorArray(tf.float32, size=1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="TensorArray dtype is float32"):
        ta.write(0, tf.constant(1, tf.int32))


def test_dynamic_size_in_a_compiled_loop() -> None:
    @tf.function
    def f(n):
        ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        for i in tf.range(n):
            ta = ta.write(i, tf.cast(i, tf.float32) * 2.0)
        return ta.stack()

    assert f(tf.constant(4)).numpy().tolist() == [0.0, 2.0, 4.0, 6.0]  # TF 2.21's answer


def test_a_dynamic_tensor_array_grows_in_a_while_loop_and_differentiates() -> None:
    @tf.function
    def g(x, n):
        ta = tf.TensorArray(tf.float64, size=0, dynamic_size=True)
        i = 0
        while tf.reduce_sum(ta.stack()) < n:
            ta = ta.write(i, x * tf.cast(i + 1, tf.float64))
            i += 1
        return ta.stack()

    x = np.array([1.0, 2.0])
    assert g(tf.constant(x), tf.constant(10.0, tf.float64)).numpy().tolist() == [[1, 2], [2, 4], [3, 6]]
    check_grads(lambda x: tf.reduce_sum(g(x, tf.constant(10.0, tf.float64)) ** 2), [x], order=1, modes=("rev",))
