"""tf.reverse, tf.split, tf.unstack, tf.tile, tf.roll and tf.strided_slice on an axis of unknown size inside
tf.function (issue 12): values against numpy at several run-time sizes with one trace, the run-time errors TF 2.21
raises (class and text), and gradients (float64 finite differences, forward and reverse).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import engine as tf
from engine.testing import check_grads

CASES: dict[str, tuple[Callable[[Any], Any], Callable[[np.ndarray], Any]]] = {
    "reverse0": (lambda x: tf.reverse(x, [0]), lambda a: a[::-1]),
    "reverse01": (lambda x: tf.reverse(x, [-1, 0]), lambda a: a[::-1, ::-1]),
    "split2": (lambda x: tf.split(x, 2, axis=0), lambda a: np.split(a, 2, axis=0)),
    "split_rest_mid": (lambda x: tf.split(x, [1, -1, 2], axis=0), lambda a: [a[:1], a[1:-2], a[-2:]]),
    "split_rest_front": (lambda x: tf.split(x, [-1, 2], axis=0), lambda a: [a[:-2], a[-2:]]),
    "split_rest_back": (lambda x: tf.split(x, [2, -1], axis=0), lambda a: [a[:2], a[2:]]),
    "split_known_axis": (lambda x: tf.split(x, 3, axis=1), lambda a: np.split(a, 3, axis=1)),
    "unstack": (lambda x: tf.unstack(x, num=4), lambda a: list(a)),
    "tile": (lambda x: tf.tile(x, [2, 3]), lambda a: np.tile(a, (2, 3))),
    "tile0": (lambda x: tf.tile(x, [0, 1]), lambda a: np.tile(a, (0, 1))),
    "roll": (lambda x: tf.roll(x, 5, axis=0), lambda a: np.roll(a, 5, axis=0)),
    "roll2": (lambda x: tf.roll(x, [-1, 1, -3], axis=[0, 1, 0]), lambda a: np.roll(a, (-4, 1), axis=(0, 1))),
    "strided_slice": (lambda x: tf.strided_slice(x, [-2, 0], [0, 3], [-1, 2]), lambda a: a[-2:0:-1, 0:3:2]),
    "slice_rest": (lambda x: tf.slice(x, [1, 0], [-1, 2]), lambda a: a[1:, :2]),
    "slice_sized": (lambda x: tf.slice(x, [0, 1], [1, -1]), lambda a: a[:1, 1:]),
    "repeat": (lambda x: tf.repeat(x, 3, axis=0), lambda a: np.repeat(a, 3, axis=0)),
    "pad_reflect": (lambda x: tf.pad(x, [[1, 0], [2, 1]], mode="REFLECT"),
                    lambda a: np.pad(a, [[1, 0], [2, 1]], mode="reflect")),
    "pad_symmetric": (lambda x: tf.pad(x, [[0, 2], [1, 3]], mode="SYMMETRIC"),
                      lambda a: np.pad(a, [[0, 2], [1, 3]], mode="symmetric")),
    "cumsum": (lambda x: tf.math.cumsum(x, axis=0), lambda a: np.cumsum(a, axis=0)),
    "cumsum_exclusive_reverse": (lambda x: tf.math.cumsum(x, axis=0, exclusive=True, reverse=True),
                                 lambda a: np.cumsum(a[::-1], axis=0)[::-1] - a),
    "zeros_like_shape": (lambda x: tf.zeros(tf.shape(x)) + tf.cast(x, tf.float32),
                         lambda a: a.astype(np.float32)),
    "fill": (lambda x: tf.fill([tf.shape(x)[0], 2], 7), lambda a: np.full((a.shape[0], 2), 7, np.int32)),
    "ones": (lambda x: tf.ones([tf.shape(x)[0]], tf.int32), lambda a: np.ones(a.shape[0], np.int32)),
    "broadcast_to": (lambda x: tf.broadcast_to(x[:1], tf.shape(x)), lambda a: np.broadcast_to(a[:1], a.shape)),
    "strided_masks": (lambda x: tf.strided_slice(x, [1, 2], [0, 0], [1, 1], end_mask=1, shrink_axis_mask=2),
                      lambda a: a[1:, 2]),
}


def _sizes(name: str) -> tuple[int, ...]:
    return {"split2": (0, 2, 4), "unstack": (4,), "split_rest_mid": (3, 4, 7), "split_rest_front": (2, 5),
            "split_rest_back": (2, 5), "slice_rest": (1, 4), "slice_sized": (1, 4), "pad_reflect": (2, 5),
            "pad_symmetric": (2, 4), "broadcast_to": (1, 4)}.get(name, (0, 1, 4, 7))


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_on_an_unknown_axis_agrees_with_numpy(name: str) -> None:
    op, want = CASES[name]
    f = tf.function(op, input_signature=[tf.TensorSpec([None, 3], tf.int32)])
    for n in _sizes(name):
        a = np.arange(3 * n, dtype=np.int32).reshape(n, 3)
        got, expected = f(a), want(a)
        got = got if isinstance(got, list) else [got]
        expected = expected if isinstance(expected, list) else [expected]
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert g.shape == e.shape
            np.testing.assert_array_equal(g.numpy(), e)
    assert f.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("name", ["reverse01", "split_rest_mid", "split2", "unstack", "tile", "roll2",
                                  "strided_slice", "slice_rest", "repeat", "pad_reflect", "pad_symmetric", "cumsum",
                                  "cumsum_exclusive_reverse", "broadcast_to"])
def test_gradients_on_an_unknown_axis(name: str) -> None:
    op, _ = CASES[name]
    w = np.linspace(0.5, 2.0, 3)

    def loss(x: Any) -> Any:
        out = op(x)
        out = out if isinstance(out, list) else [out]
        return tf.add_n([tf.reduce_sum(tf.sin(o) * (k + 1.0)) for k, o in enumerate(out)]) + tf.reduce_sum(x * w)
    f = tf.function(loss, input_signature=[tf.TensorSpec([None, 3], tf.float64)])
    rng = np.random.default_rng(4)
    for n in {"unstack": (4,), "split_rest_mid": (3, 5), "pad_symmetric": (2, 4)}.get(name, (2, 4)):
        check_grads(f, [rng.standard_normal((n, 3))], order=1, modes=("fwd", "rev"))


# TF 2.21's errors, the same calls on a [None, 2] signature.
ERRORS = [
    (lambda x: tf.split(x, 2, axis=0), 5, "Number of ways to split should evenly divide the split dimension, but got "
                                          "split_dim 0 (size = 5) and num_split 2"),
    (lambda x: tf.split(x, [4, -1, 2], axis=0), 5, "Determined shape must either match input shape along split_dim "
                                                   "exactly if fully specified, or be less than the size of the input "
                                                   "along split_dim if not fully specified.  Got: 6"),
    (lambda x: tf.split(x, [1, 2], axis=0), 5, "Determined shape must either match input shape along split_dim "
                                               "exactly if fully specified, or be less than the size of the input "
                                               "along split_dim if not fully specified.  Got: 3"),
    (lambda x: tf.unstack(x, num=4), 5, "Input shape axis 0 must equal 4"),
    (lambda x: tf.slice(x, [3, 0], [4, 2]), 5, "Expected size[0] in [0, 2], but got 4"),
    (lambda x: tf.slice(x, [6, 0], [-1, 2]), 5, "Expected begin[0] in [0, 5], but got 6"),
    (lambda x: tf.pad(x, [[5, 0], [0, 0]], mode="REFLECT"), 5, "paddings must be less than the dimension size: 5, 0 "
                                                               "not less than 5"),
    (lambda x: tf.zeros([tf.shape(x)[0] - 7, 2]), 5, "Dimension -2 must be >= 0"),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_run_time_errors_are_tfs(k: int) -> None:
    op, n, text = ERRORS[k]
    f = tf.function(op, input_signature=[tf.TensorSpec([None, 2], tf.int32)])
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        f(np.zeros((n, 2), np.int32))
    assert text in str(info.value)


def test_unstack_without_num_on_an_unknown_axis_is_tfs_value_error() -> None:
    f = tf.function(lambda x: tf.unstack(x), input_signature=[tf.TensorSpec([None, 2], tf.int32)])
    with pytest.raises(ValueError, match=r"Cannot infer argument `num` from shape \(None, 2\)"):
        f(np.zeros((3, 2), np.int32))


def test_gather_nd_with_unknown_params_and_index_counts() -> None:
    f = tf.function(lambda p, i: (tf.gather_nd(p, i), tf.gather_nd(p, i[:, :1]), tf.gather_nd(p, i[:, :0])),
                    input_signature=[tf.TensorSpec([None, None], tf.float64), tf.TensorSpec([None, 2], tf.int32)])
    rng = np.random.default_rng(9)
    for shape, count in (((4, 3), 5), ((2, 6), 1), ((3, 3), 0)):
        p = rng.standard_normal(shape)
        i = np.stack([rng.integers(0, shape[0], count), rng.integers(0, shape[1], count)], axis=1).astype(np.int32)
        got = f(p, i)
        np.testing.assert_array_equal(got[0].numpy(), p[i[:, 0], i[:, 1]])
        np.testing.assert_array_equal(got[1].numpy(), p[i[:, 0]])
        np.testing.assert_array_equal(got[2].numpy(), np.broadcast_to(p, (count,) + shape))
        g = tf.function(lambda p: tf.reduce_sum(tf.sin(tf.gather_nd(p, i)) * 2.0),
                        input_signature=[tf.TensorSpec([None, None], tf.float64)])
        check_grads(g, [p], order=1, modes=("fwd", "rev"))
    with pytest.raises(tf.errors.InvalidArgumentError):
        f(np.zeros((2, 2)), np.int32([[0, 2]]))


def test_sequence_mask_with_run_time_lengths_and_width() -> None:
    f = tf.function(lambda lens, m: (tf.sequence_mask(lens), tf.sequence_mask(lens, 4), tf.sequence_mask(lens, m),
                                     tf.sequence_mask(lens, 3, dtype=tf.float32)),
                    input_signature=[tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.int32)])
    for lens in ([1, 3, 0], [2], []):
        a = np.asarray(lens, np.int32)
        widths = (a.max(initial=0), 4, 2, 3)
        for got, w in zip(f(a, np.int32(2)), widths):
            np.testing.assert_array_equal(got.numpy(), np.arange(w) < a[:, None])
    g = tf.function(lambda lens: tf.sequence_mask(lens, 3), input_signature=[tf.TensorSpec([None, 2], tf.int32)])
    lens = np.int32([[1, 2], [0, 3]])
    np.testing.assert_array_equal(g(lens).numpy(), np.arange(3) < lens[..., None])


def test_gather_with_batch_dims_on_an_unknown_batch() -> None:
    f = tf.function(lambda p, i: (tf.gather(p, i, batch_dims=1), tf.gather(p, i, axis=2, batch_dims=1)),
                    input_signature=[tf.TensorSpec([None, 4, 3], tf.float64), tf.TensorSpec([None, 2], tf.int32)])
    rng = np.random.default_rng(10)
    for n in (3, 1, 0):
        p = rng.standard_normal((n, 4, 3))
        i = rng.integers(0, 3, (n, 2)).astype(np.int32)
        rows, cols = f(p, i)
        np.testing.assert_array_equal(rows.numpy(), np.take_along_axis(p, np.broadcast_to(i[:, :, None], (n, 2, 3)), 1))
        np.testing.assert_array_equal(cols.numpy(), np.take_along_axis(p, np.broadcast_to(i[:, None, :], (n, 4, 2)), 2))
    g = tf.function(lambda p: tf.reduce_sum(tf.sin(tf.gather(p, i, batch_dims=1))),
                    input_signature=[tf.TensorSpec([None, 4, 3], tf.float64)])
    i = np.int32([[0, 3], [2, 2]])
    check_grads(g, [rng.standard_normal((2, 4, 3))], order=1, modes=("fwd", "rev"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of range"):
        f(np.zeros((1, 4, 3)), np.int32([[0, 4]]))


def test_linspace_and_eye_with_a_traced_count() -> None:
    f = tf.function(lambda n: (tf.linspace(0.0, 1.0, n), tf.linspace(2.0, -1.0, n), tf.eye(n), tf.eye(2, n),
                               tf.eye(n, batch_shape=[2], dtype=tf.int32)),
                    input_signature=[tf.TensorSpec([], tf.int32)])
    for n in (5, 1, 0):
        got = f(np.int32(n))
        # TF 2.21: linspace(start, stop, 1) is [start]
        np.testing.assert_allclose(got[0].numpy(), np.linspace(0.0, 1.0, n), rtol=1e-6)
        np.testing.assert_allclose(got[1].numpy(), np.linspace(2.0, -1.0, n), rtol=1e-6)
        np.testing.assert_array_equal(got[2].numpy(), np.eye(n))
        np.testing.assert_array_equal(got[3].numpy(), np.eye(2, n))
        np.testing.assert_array_equal(got[4].numpy(), np.broadcast_to(np.eye(n, dtype=np.int32), (2, n, n)))


@pytest.mark.parametrize("indexing", ["xy", "ij"])
def test_meshgrid_of_vectors_of_unknown_length(indexing: str) -> None:
    f = tf.function(lambda a, b: tf.meshgrid(a, b, a[:2], indexing=indexing),
                    input_signature=[tf.TensorSpec([None], tf.float64), tf.TensorSpec([None], tf.float64)])
    rng = np.random.default_rng(11)
    for n, m in ((3, 4), (2, 1)):
        a, b = rng.standard_normal(n), rng.standard_normal(m)
        for got, want in zip(f(a, b), np.meshgrid(a, b, a[:2], indexing=indexing)):
            np.testing.assert_array_equal(got.numpy(), want)
    g = tf.function(lambda a, b: tf.add_n([tf.reduce_sum(tf.sin(v) * (k + 1.0))
                                           for k, v in enumerate(tf.meshgrid(a, b, indexing=indexing))]),
                    input_signature=[tf.TensorSpec([None], tf.float64), tf.TensorSpec([None], tf.float64)])
    check_grads(g, [rng.standard_normal(3), rng.standard_normal(4)], order=1, modes=("fwd", "rev"))


def test_tile_with_traced_multiples() -> None:
    f = tf.function(lambda x, y: (tf.tile(x, [tf.shape(y)[0], 1]), tf.tile(x[None], tf.stack([tf.shape(y)[0], 1, 2])),
                                  tf.tile(y, [tf.shape(x)[0]])),
                    input_signature=[tf.TensorSpec([None, 2], tf.float64), tf.TensorSpec([None], tf.float64)])
    for n, m in ((2, 3), (1, 0), (3, 1)):
        x, y = np.arange(2.0 * n).reshape(n, 2), np.arange(float(m))
        for got, want in zip(f(x, y), (np.tile(x, (m, 1)), np.tile(x[None], (m, 1, 2)), np.tile(y, n))):
            np.testing.assert_array_equal(got.numpy(), want)
    g = tf.function(lambda x, y: tf.reduce_sum(tf.sin(tf.tile(x, [tf.shape(y)[0], 2]))),
                    input_signature=[tf.TensorSpec([None, 2], tf.float64), tf.TensorSpec([None], tf.float64)])
    check_grads(lambda x: g(x, np.zeros(3)), [np.random.default_rng(12).standard_normal((2, 2))], order=1,
                modes=("fwd", "rev"))
    # TF 2.21: InvalidArgumentError "Expected multiples[0] >= 0, but got -1"
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Expected multiples\[0\] >= 0, but got -1"):
        tf.function(lambda x: tf.tile(x, [tf.shape(x)[0] - 3, 1]),
                    input_signature=[tf.TensorSpec([None, 2], tf.float64)])(np.zeros((2, 2)))
