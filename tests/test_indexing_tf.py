"""Tensor indexing where Kiln follows TensorFlow rather than numpy (`engine.indexing`): a list key is a
multi-index, a scalar mask is a ValueError, out-of-range errors carry TensorFlow's class; and assignment to a
Variable's slice (`engine.slice_assign`). Expected values are TensorFlow 2.21's, hard-coded."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import engine as tf
from test_indexing import ALL, S, assert_same, traced, tracing


@pytest.mark.parametrize("key", [3, -4, (0, 0, 0), [0, 0, 0], (ALL, [7])])
def test_index_out_of_range_is_tensorflows_class(key: Any) -> None:
    """TensorFlow 2.21 raises InvalidArgumentError for `x[3]` or `x[0, 0, 0]` eagerly and ValueError while
    tracing; Kiln's one class is both (and still Python's IndexError)."""
    x = tf.constant(np.arange(12).reshape(3, 4))
    for cls in (tf.errors.InvalidArgumentError, ValueError, IndexError):
        with pytest.raises(cls):
            x[key]
    with tracing(), pytest.raises(ValueError):
        traced(np.arange(12).reshape(3, 4))[key]


def test_list_key_is_a_multi_index() -> None:
    # TensorFlow 2.21: x[[0, 1]] is x[0, 1] (2 for [[1, 2], [3, 4]]); x[[1]] is the row [3, 4]; x[[]] is x.
    x = tf.constant([[1, 2], [3, 4]])
    assert_same(x[[0, 1]], np.int32(2))
    assert_same(x[[1]], np.array([3, 4], np.int32))
    assert_same(x[[]], np.array([[1, 2], [3, 4]], np.int32))
    assert_same(x[[None, 0]], np.array([[1, 2]], np.int32))
    assert_same(x[[Ellipsis, 0]], np.array([1, 3], np.int32))


@pytest.mark.parametrize("key", [True, False, tf.constant(True), tf.constant(False), np.array(True), (ALL, True),
                                 [0, True]])
def test_scalar_mask_is_value_error(key: Any) -> None:
    # TensorFlow 2.21: ValueError "mask cannot be scalar." for x[True] and x[tf.constant(True)] (numpy would add
    # an axis of length 1).
    with pytest.raises(ValueError, match="mask cannot be scalar"):
        tf.constant([[1, 2], [3, 4]])[key]


# ---- assigning to a Variable's slice ------------------------------------------------------------------------------
def test_variable_slice_assign_matches_tensorflow() -> None:
    # TF 2.21's answers, step by step on one Variable.
    v = tf.Variable([1, 2, 3, 4])
    steps = [(S(1, 3), [20, 30], [1, 20, 30, 4]), (0, 7, [7, 20, 30, 4]), (S(None, None, 2), [0, 0], [0, 20, 0, 4]),
             (S(None, None, -1), [1, 2, 3, 4], [4, 3, 2, 1]), (-1, 9, [4, 3, 2, 9]), (S(1, None), 5, [4, 5, 5, 5])]
    for key, value, want in steps:
        assert v[key].assign(value) is v
        np.testing.assert_array_equal(v.numpy(), want)
    m = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    steps = [((ALL, 1), [9.0, 8.0], [[1, 9], [3, 8]]), (1, tf.constant([5.0, 6.0]), [[1, 9], [5, 6]]),
             ((Ellipsis, 0), [0.0, 0.0], [[0, 9], [0, 6]]), ((None, 1, ALL), [[1.0, 1.0]], [[0, 9], [1, 1]]),
             ((S(1, None), S(None, 1)), [[7.0]], [[0, 9], [7, 1]])]
    for key, value, want in steps:
        m[key].assign(value)
        np.testing.assert_array_equal(m.numpy(), np.float32(want))
    with pytest.raises(tf.errors.InvalidArgumentError):  # TF 2.21: InvalidArgumentError (cannot broadcast)
        v[1:3].assign([1, 2, 3])
    with pytest.raises(ValueError):  # TF 2.21: ValueError (dtype conversion)
        m[0].assign(tf.constant([1, 2]))
    np.testing.assert_array_equal(v.numpy(), [4, 5, 5, 5])


def test_variable_slice_assign_while_tracing_and_its_value() -> None:
    # TF 2.21: [10, 12] and the Variable [1, 5, 6, 4]; the slice is an ordinary tensor for everything else.
    v = tf.Variable([1, 2, 3, 4])

    @tf.function
    def g():
        v[1:3].assign([5, 6])
        return v[1:3] * 2
    np.testing.assert_array_equal(g().numpy(), [10, 12])
    np.testing.assert_array_equal(v.numpy(), [1, 5, 6, 4])
    w = tf.Variable([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(w[1:] * w[::2])
    np.testing.assert_array_equal(tape.gradient(y, w).numpy(), [2.0, 1.0, 2 * 3.0])  # w1 w0 + w2 w2
