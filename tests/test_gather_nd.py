"""`tf.gather_nd` (`engine.ops.gather_nd_op`): values against TensorFlow 2.21's answers (hard-coded) eagerly and
compiled, gradients against float64 central differences, and range checks as TensorFlow's InvalidArgumentError."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine.testing import check_grads
from test_ops_tf import both, check, grad

P3 = np.arange(24, dtype=np.int32).reshape(2, 3, 4)

CASES = [  # (params, indices, batch_dims, TF 2.21's answer)
    ([[1, 2], [3, 4]], [[0, 1], [1, 0]], 0, [2, 3]),
    (np.arange(8, dtype=np.int32).reshape(2, 2, 2), [[1], [0]], 0, [[[4, 5], [6, 7]], [[0, 1], [2, 3]]]),
    (P3, [[[0, 1], [1, 2]], [[1, 0], [0, 0]]], 0,
     [[[4, 5, 6, 7], [20, 21, 22, 23]], [[12, 13, 14, 15], [0, 1, 2, 3]]]),
    (P3, [1, 2, 3], 0, 23),
    (P3, [[[1], [0]], [[2], [2]]], 1, [[[4, 5, 6, 7], [0, 1, 2, 3]], [[20, 21, 22, 23], [20, 21, 22, 23]]]),
    (P3, [[1, 3], [2, 0]], 1, [7, 20]),
    ([[1, 2], [3, 4]], np.zeros((2, 0), np.int32), 0, [[[1, 2], [3, 4]], [[1, 2], [3, 4]]]),
]


@pytest.mark.parametrize("params, indices, batch_dims, want", CASES)
def test_gather_nd_matches_tensorflow(params, indices, batch_dims, want) -> None:
    for got in both(lambda p, i: tf.gather_nd(p, i, batch_dims=batch_dims), np.int32(params), np.int32(indices)):
        check(got, np.int32(want), "int32")


def test_gather_nd_gradient_scatters_and_adds() -> None:
    g = grad(lambda x: tf.reduce_sum(tf.gather_nd(x, [[0, 1], [1, 1], [0, 1]]) * tf.constant([1.0, 2.0, 3.0])),
             [[1.0, 2.0], [3.0, 4.0]])
    check(g, np.float32([[0.0, 4.0], [0.0, 2.0]]), "float32")  # TF 2.21
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    check_grads(lambda p: tf.gather_nd(p, [[[1, 2], [0, 0]], [[1, 2], [1, 0]]]) ** 2, [x], order=2)
    check_grads(lambda p: tf.gather_nd(p, [[2], [0]], batch_dims=1), [x], order=1)


@pytest.mark.parametrize("indices", [[[0, 2]], [[0, -1]], [[2, 0]], [[0, 1, 0]]])
def test_gather_nd_out_of_range_is_invalid_argument(indices) -> None:
    # TF 2.21: InvalidArgumentError for each of these (a component outside its own axis, negative, or too long),
    # even where the row-major position would be inside params.
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.gather_nd(tf.constant([[1, 2], [3, 4]]), indices)
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.gather_nd(tf.constant([[1, 2], [3, 4]]), [[0.0, 1.0]])
