"""Indexing an axis of unknown size inside tf.function (issue 12): negative ints, negative bounds and steps, steps
other than 1, Python's clamping, the run-time error of an int out of range, and gradients (float64 finite
differences). Every key is compared with numpy on the same array at several run-time sizes, one trace for all.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import engine as tf
from engine.testing import check_grads

KEYS = [
    (-1,), (-3,), (0,), (slice(None, -1),), (slice(None, None, -1),), (slice(1, None, 2),), (slice(-2, None, -3),),
    (slice(-5, -1),), (slice(-100, 100),), (slice(100, -100, -1),), (slice(-1, -4, -1),), (slice(None, -2, 3),),
    (slice(2, 1),), (slice(-2, None), 1), (Ellipsis, slice(None, None, -1)),
    (slice(None, None, -2), slice(None, None, -1)),
    (None, slice(-3, None), -1),
]


def _size_ok(key: tuple, n: int) -> bool:
    return all(not isinstance(k, int) or -n <= k < n for k in key[:1])


@pytest.mark.parametrize("key", KEYS, ids=[str(k) for k in KEYS])
def test_key_on_an_unknown_axis_agrees_with_numpy_at_every_size(key: tuple) -> None:
    f = tf.function(lambda x: x[key], input_signature=[tf.TensorSpec([None, 2], tf.int32)])
    for n in (0, 1, 3, 6):
        a = np.arange(2 * n, dtype=np.int32).reshape(n, 2)
        if not _size_ok(key, n):
            continue
        got = f(tf.constant(a)).numpy()
        np.testing.assert_array_equal(got, a[key])
        assert got.shape == a[key].shape
    assert f.experimental_get_tracing_count() == 1


def test_keys_on_two_unknown_axes() -> None:
    f = tf.function(lambda x: (x[::-1, -1], x[-2:, ::-2], x[1:-1, :-1], x[-1, -1], x[None, -1, 0], x[0, -1]),
                    input_signature=[tf.TensorSpec([None, None], tf.float32)])
    for shape in ((4, 5), (2, 3), (1, 1)):
        a = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
        want = (a[::-1, -1], a[-2:, ::-2], a[1:-1, :-1], a[-1, -1], a[None, -1, 0], a[0, -1])
        for got, want in zip(f(a), want):
            np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize("i", [-4, 3, 7])
def test_an_int_out_of_range_fails_when_the_function_runs(i: int) -> None:
    f = tf.function(lambda x: x[i], input_signature=[tf.TensorSpec([None, 2], tf.float32)])
    # TF 2.21: InvalidArgumentError "slice index -1 of dimension 0 out of bounds." for x[-4] on 3 rows (the index
    # after one wrap), "slice index 3 of dimension 0 out of bounds." for x[3].
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"slice index {i + 3 if i < 0 else i} of dimension 0 "
                                                            f"out of bounds"):
        f(np.zeros((3, 2), np.float32))
    np.testing.assert_array_equal(f(np.arange(16, dtype=np.float32).reshape(8, 2)).numpy(),
                                  np.arange(16, dtype=np.float32).reshape(8, 2)[i])


@pytest.mark.parametrize("key", [(slice(None, -1),), (slice(None, None, -1),), (slice(-2, None, -3),), (-1,),
                                 (slice(1, None, 2), slice(None, None, -1))], ids=str)
def test_gradients_through_negative_keys(key: tuple) -> None:
    f = tf.function(lambda x: tf.sin(x[key]) * 2.0, input_signature=[tf.TensorSpec([None, 3], tf.float64)])
    rng = np.random.default_rng(3)
    for n in (4, 7):
        check_grads(f, [rng.standard_normal((n, 3))], order=2, modes=("fwd", "rev"))
    assert f.experimental_get_tracing_count() == 1


def test_tape_gradient_of_a_reversed_slice_scatters_back() -> None:
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float64)])
    def g(x: Any) -> Any:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(x[-2::-2] ** 2)
        return tape.gradient(y, x)
    for n in (1, 2, 5, 6):
        x = np.arange(1.0, n + 1.0)
        want = np.zeros(n)
        want[-2::-2] = 2.0 * x[-2::-2]
        np.testing.assert_array_equal(g(x).numpy(), want)


def test_boolean_mask_over_unknown_dims() -> None:
    f = tf.function(lambda x, m: (tf.boolean_mask(x, m), x[m], tf.boolean_mask(x, m[:, 0])),
                    input_signature=[tf.TensorSpec([None, None], tf.float32), tf.TensorSpec([None, None], tf.bool)])
    g = tf.function(lambda x: tf.boolean_mask(x, x[0] > 2.0, axis=1),
                    input_signature=[tf.TensorSpec([None, None], tf.float32)])
    for shape in ((4, 3), (1, 5), (0, 2)):
        x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape) % 7
        m = x > 2
        for got, want in zip(f(x, m), (x[m], x[m], x[m[:, 0]])):
            np.testing.assert_array_equal(got.numpy(), want)
        if shape[0]:
            np.testing.assert_array_equal(g(x).numpy(), x[:, x[0] > 2.0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="dimension 0 of the tensor has size 4 but dimension 0 "
                                                             "of the mask has size 3"):
        f(np.zeros((4, 3), np.float32), np.ones((3, 3), bool))


def test_boolean_mask_gradient_on_an_unknown_batch() -> None:
    f = tf.function(lambda x: tf.reduce_sum(tf.sin(tf.boolean_mask(x, x[:, 0] > 0.0)) * 3.0),
                    input_signature=[tf.TensorSpec([None, 2], tf.float64)])
    rng = np.random.default_rng(8)
    for n in (3, 6):
        check_grads(f, [rng.standard_normal((n, 2))], order=1, modes=("rev",))
