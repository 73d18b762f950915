"""tf.sort / argsort / top_k and the O(n) cumsum / cumprod rows: values against numpy, eager == traced (compiled),
gradients against float64 finite differences (engine.testing.check_grads, both modes, second order), unknown dims,
and sizes at which the former n x n triangle could not run."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine.testing import check_grads

RNG = np.random.default_rng(7)


def _stable_desc(a: np.ndarray, axis: int = -1) -> np.ndarray:
    """numpy's stable argsort of -a: descending values, ties in index order (TF's order)."""
    return np.argsort(-a, axis=axis, kind="stable")


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.uint8, np.int16])
def test_sort_argsort_match_numpy_stable_order_with_ties(dtype: type) -> None:
    a = RNG.integers(0, 6, size=(3, 40)).astype(dtype)  # many ties
    f = tf.function(lambda x: (tf.sort(x), tf.argsort(x), tf.argsort(x, direction="DESCENDING"),
                               tf.sort(x, axis=0, direction="DESCENDING")))
    want = (np.sort(a, axis=-1), np.argsort(a, axis=-1, kind="stable"),
            _stable_desc(a.astype(np.int64) if np.dtype(dtype).kind == "u" else a),
            -np.sort(-a.astype(np.float64), axis=0))
    for got in (f(tf.constant(a)), f.python_function(tf.constant(a))):
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w.astype(g.numpy().dtype))


def test_sort_long_rows_compiled_equals_numpy() -> None:
    a = RNG.standard_normal((2, 5000)).astype(np.float32)  # past the insertion-sorted runs: many merge passes
    got = tf.function(lambda x: tf.argsort(x, direction="DESCENDING"))(tf.constant(a)).numpy()
    np.testing.assert_array_equal(got, _stable_desc(a))


def test_top_k_values_indices_and_index_type() -> None:
    a = np.float32([[1, 5, 3, 5, -2], [0, 0, 0, 1, 0]])
    for fn in (tf.math.top_k, tf.nn.top_k, tf.function(lambda x, k: tf.math.top_k(x, k))):
        r = fn(tf.constant(a), 3)
        np.testing.assert_array_equal(r.values.numpy(), np.float32([[5, 5, 3], [1, 0, 0]]))
        np.testing.assert_array_equal(r.indices.numpy(), np.int32([[1, 3, 2], [3, 0, 1]]))
    assert tf.math.top_k(tf.constant(a), 2, index_type=tf.int64).indices.dtype == tf.int64
    with pytest.raises(tf.InvalidArgumentError, match="at least k columns"):
        tf.math.top_k(tf.constant(a), 6)


def test_sort_errors() -> None:
    with pytest.raises(ValueError, match="ASCENDING, DESCENDING"):
        tf.sort(tf.constant([1, 2]), direction="up")
    with pytest.raises(TypeError):
        tf.sort(tf.constant([True, False]))


def test_sort_and_top_k_gradients_match_finite_differences() -> None:
    x = RNG.standard_normal((3, 6))  # float64, distinct values (the gradient is piecewise constant between ties)
    check_grads(lambda v: tf.sort(v, direction="DESCENDING") * np.arange(6.0), [x])
    check_grads(lambda v: tf.sort(v, axis=0) ** 2, [x])
    check_grads(lambda v: tf.math.top_k(v, 2).values * np.float64([1.0, 3.0]), [x])


def test_sort_unknown_dims_one_trace() -> None:
    f = tf.function(lambda x: tf.sort(x, direction="DESCENDING"), input_signature=[tf.TensorSpec([None, None])])
    for shape in [(1, 3), (4, 17), (2, 0)]:
        a = RNG.standard_normal(shape).astype(np.float32)
        np.testing.assert_array_equal(f(tf.constant(a)).numpy(), -np.sort(-a, axis=-1))


@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cumsum_cumprod_match_numpy_eager_and_compiled(exclusive: bool, reverse: bool, axis: int) -> None:
    a = RNG.standard_normal((3, 5, 4)).astype(np.float32)

    def ref(op: np.ufunc, ident: float) -> np.ndarray:
        b = np.flip(a, axis) if reverse else a
        y = op.accumulate(b, axis=axis, dtype=np.float32)
        if exclusive:
            y = np.concatenate([np.full_like(np.take(b, [0], axis=axis), ident),
                                np.take(y, range(a.shape[axis] - 1), axis=axis)], axis=axis)
        return np.flip(y, axis) if reverse else y
    f = tf.function(lambda x: (tf.math.cumsum(x, axis, exclusive, reverse), tf.math.cumprod(x, axis, exclusive,
                                                                                           reverse)))
    for got in (f(tf.constant(a)), f.python_function(tf.constant(a))):
        np.testing.assert_array_equal(got[0].numpy(), ref(np.add, 0.0))  # same order of additions: bit-equal
        np.testing.assert_array_equal(got[1].numpy(), ref(np.multiply, 1.0))


def test_cumsum_integer_wraps_like_numpy() -> None:
    a = np.int32([2**31 - 1, 1, 5])
    got = tf.function(tf.math.cumsum)(tf.constant(a)).numpy()
    np.testing.assert_array_equal(got, np.cumsum(a, dtype=np.int32))


@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_scan_gradients_match_finite_differences_also_at_zeros(exclusive: bool, reverse: bool) -> None:
    x = RNG.standard_normal((2, 5))
    check_grads(lambda v: tf.math.cumsum(v, axis=1, exclusive=exclusive, reverse=reverse) ** 2, [x])
    check_grads(lambda v: tf.math.cumprod(v, axis=1, exclusive=exclusive, reverse=reverse), [x])
    z = np.array([[2.0, 0.0, 3.0, 0.0, 5.0], [0.0, 1.5, -2.0, 0.5, 0.0]])  # zeros: the exact rule, no division
    check_grads(lambda v: tf.math.cumprod(v, axis=1, exclusive=exclusive, reverse=reverse), [z], order=1)


def test_cumsum_on_a_run_time_axis_is_linear_in_memory() -> None:
    """The former composite built an n x n triangle: at n = 200000 that is 4e10 elements."""
    f = tf.function(lambda x: tf.math.cumsum(x, reverse=True), input_signature=[tf.TensorSpec([None], tf.float64)])
    a = RNG.standard_normal(200_000)
    np.testing.assert_allclose(f(tf.constant(a)).numpy(), np.cumsum(a[::-1])[::-1], rtol=1e-9, atol=1e-9)
