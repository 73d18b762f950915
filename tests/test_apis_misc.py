"""The tf.nn / tf.math / tf.linalg composites added with the API sweep, traced and compiled (values equal to eager),
with gradients against float64 finite differences where TF has them. Values against TF 2.21 are pinned by the
oracle programs in tests/oracle/programs/apis_misc.py."""
from __future__ import annotations

import numpy as np

import engine as tf
from engine.testing import check_grads

RNG = np.random.default_rng(5)


def test_composites_compiled_equal_eager() -> None:
    x = RNG.standard_normal((4, 3)).astype(np.float32)
    seq = np.sort(RNG.standard_normal((4, 6)).astype(np.float32), axis=-1)

    def f(x, seq):  # noqa: ANN001, ANN202
        mean, var = tf.nn.moments(x, axes=[0])
        return (tf.nn.batch_normalization(x, mean, var, 0.5, 2.0, 1e-3), tf.nn.crelu(x),
                tf.math.in_top_k(tf.constant([0, 1, 2, 0]), x, 2), tf.searchsorted(seq, x, side="right"),
                tf.math.multiply_no_nan(x, tf.nn.relu(x)), tf.math.polyval([1.0, 2.0, -1.0], x),
                tf.nn.weighted_cross_entropy_with_logits(tf.nn.sigmoid(x), x, 3.0),
                tf.scatter_nd([[1], [3]], x[:2], [5, 3]), tf.math.invert_permutation(tf.constant([2, 0, 1])))
    eager = f(tf.constant(x), tf.constant(seq))
    compiled = tf.function(f)(tf.constant(x), tf.constant(seq))
    for e, c in zip(eager, compiled):
        np.testing.assert_allclose(c.numpy(), e.numpy(), rtol=1e-6, atol=1e-6)
    want = np.stack([np.searchsorted(seq[i], x[i], side="right") for i in range(4)])
    np.testing.assert_array_equal(eager[3].numpy(), want)


def test_composite_gradients_match_finite_differences() -> None:
    x = RNG.standard_normal((3, 4))
    z = RNG.uniform(size=(3, 4))
    check_grads(lambda v: tf.nn.batch_normalization(v, tf.reduce_mean(v, 0), tf.math.reduce_variance(v, 0),
                                                    0.5, 2.0, 1e-3), [x], order=1)
    check_grads(lambda v: tf.nn.weighted_cross_entropy_with_logits(z, v, 2.5), [x])
    check_grads(lambda v: tf.linalg.triangular_solve(v[:, :3] + 3.0 * np.eye(3), v[:, 3:]), [x], order=1)
    check_grads(lambda v: tf.linalg.slogdet(v[:, :3])[1], [x], order=1)
    check_grads(lambda v: tf.nn.embedding_lookup(v, [2, 0, 2]), [x], order=1)


def test_bincount_and_confusion_matrix_match_numpy() -> None:
    a = RNG.integers(0, 7, size=50)
    np.testing.assert_array_equal(tf.math.bincount(tf.constant(a, tf.int32)).numpy(), np.bincount(a))
    lab, pred = RNG.integers(0, 4, size=30), RNG.integers(0, 4, size=30)
    want = np.zeros((4, 4), np.int32)
    np.add.at(want, (lab, pred), 1)
    np.testing.assert_array_equal(tf.math.confusion_matrix(lab, pred, num_classes=4).numpy(), want)
