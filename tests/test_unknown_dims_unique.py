"""`tf.unique` and `tf.unique_with_counts` traced (issue 12): the `first_occurrence` row (a stable sort, O(n log n))
compiled for every dtype against a plain-Python first-occurrence scan, NaN and -0.0 as TF 2.21 treats them, counts,
and a vector far larger than the old n x n composite could hold.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import engine as tf


def _python_unique(a: np.ndarray) -> tuple[list, list[int], list[int]]:
    """The oracle: one pass with a dict (NaN is its own key each time: it never equals itself)."""
    first: dict[Any, int] = {}
    ys: list = []
    idx: list[int] = []
    for v in a.tolist():
        key = v if v == v else object()
        if key not in first:
            first[key] = len(ys)
            ys.append(v)
        idx.append(first[key])
    return ys, idx, [idx.count(k) for k in range(len(ys))]


DTYPES = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float16", "bfloat16", "float32",
          "float64", "bool"]


def _vector(dtype: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if dtype == "bool":
        return rng.integers(0, 2, n).astype(bool)
    dt = tf.as_dtype(dtype).as_numpy_dtype
    if dtype.startswith("float") or dtype == "bfloat16":
        a = rng.integers(-4, 5, n).astype(np.float32) * 0.5
        a[rng.random(n) < 0.1] = np.nan
        a[rng.random(n) < 0.1] = -0.0
        return a.astype(dt)
    hi = np.iinfo(dt).max
    return rng.choice(np.array([0, 1, 7, hi, hi - 1, np.iinfo(dt).min], dtype=dt), n)


@pytest.mark.parametrize("dtype", DTYPES)
def test_unique_compiled_with_an_unknown_length_agrees_with_a_python_scan(dtype: str) -> None:
    f = tf.function(lambda x: tf.unique_with_counts(x), input_signature=[tf.TensorSpec([None], tf.as_dtype(dtype))])
    rng = np.random.default_rng(5)
    for n in (0, 1, 2, 3, 17, 64, 1000):
        a = _vector(dtype, n, rng)
        y, idx, count = f(a)
        ys, want_idx, want_count = _python_unique(a)
        np.testing.assert_array_equal(y.numpy(), np.asarray(ys, dtype=a.dtype))
        assert idx.numpy().tolist() == want_idx and count.numpy().tolist() == want_count
        assert idx.dtype == tf.int32 and count.dtype == tf.int32
    assert f.experimental_get_tracing_count() == 1


def test_nan_is_its_own_value_and_negative_zero_equals_zero() -> None:
    f = tf.function(lambda x: tf.unique(x, out_idx=tf.int64), input_signature=[tf.TensorSpec([None], tf.float32)])
    y, idx = f(tf.constant([np.nan, 1, np.nan, 1, -0.0, 0.0], tf.float32))
    # TF 2.21: y [nan, 1., nan, -0.], idx [0, 1, 2, 1, 3, 3] (int64)
    np.testing.assert_array_equal(y.numpy(), np.float32([np.nan, 1, np.nan, -0.0]))
    assert np.signbit(y.numpy()[3]) and idx.numpy().tolist() == [0, 1, 2, 1, 3, 3] and idx.dtype == tf.int64
    g = tf.function(lambda x: tf.unique_with_counts(x), input_signature=[tf.TensorSpec([None], tf.float64)])
    y, idx, count = g(tf.constant([np.nan, 0.0, -0.0, np.nan, 3.0, 0.0], tf.float64))
    # TF 2.21: y [nan, 0., nan, 3.], idx [0, 1, 1, 2, 3, 1], count [1, 3, 1, 1]
    np.testing.assert_array_equal(y.numpy(), [np.nan, 0.0, np.nan, 3.0])
    assert idx.numpy().tolist() == [0, 1, 1, 2, 3, 1] and count.numpy().tolist() == [1, 3, 1, 1]


@pytest.mark.parametrize("static", [True, False])
def test_unique_with_counts_eager_static_and_int64(static: bool) -> None:
    x = tf.constant([4, 2, 4, 7, 2])
    f = tf.function(lambda x: tf.unique_with_counts(x, out_idx=tf.int64),
                    input_signature=None if static else [tf.TensorSpec([None], tf.int32)])
    for got in (tf.unique_with_counts(x, out_idx=tf.int64), f(x)):
        # TF 2.21: y [4, 2, 7], idx [0, 1, 0, 2, 1], count [2, 2, 1], idx and count int64
        assert got.y.numpy().tolist() == [4, 2, 7] and got.idx.numpy().tolist() == [0, 1, 0, 2, 1]
        assert got.count.numpy().tolist() == [2, 2, 1] and got.count.dtype == tf.int64


def test_a_long_vector_compiles_in_n_log_n_memory() -> None:
    rng = np.random.default_rng(7)
    a = rng.integers(0, 5000, 200_000).astype(np.int64)  # n x n booleans would be 40 GB
    y, idx = tf.function(tf.unique, input_signature=[tf.TensorSpec([None], tf.int64)])(a)
    first = np.unique(a, return_index=True)[1]
    np.testing.assert_array_equal(y.numpy(), a[np.sort(first)])
    np.testing.assert_array_equal(y.numpy()[idx.numpy()], a)
