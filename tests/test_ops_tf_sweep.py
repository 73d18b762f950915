"""The sweep of public ops against TensorFlow 2.21: integer division, casts, clipping, one_hot, comparisons, numpy
operands and the nn activations and helpers, eagerly and compiled (see test_ops_tf.py for the conventions; every
expected value was produced by TensorFlow 2.21 and is hard-coded)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import engine as tf
from engine.errors import InvalidArgumentError
from test_ops_tf import INF, NAN, both, check, grad

_IA, _IB = np.int32([7, -7, 7, -7, 0]), np.int32([2, 2, -2, -2, 3])
_FA, _FB = np.float32([7, -7, 7, -7, 0, 5.5, -0.0]), np.float32([2, 2, -2, -2, 3, 0, 0])
DIVISION = {  # name: (fn, x, y, TF 2.21's answer, its dtype)
    "floordiv int": (tf.math.floordiv, _IA, _IB, [3, -4, -4, 3, 0], "int32"),
    "floormod int": (tf.math.floormod, _IA, _IB, [1, 1, -1, -1, 0], "int32"),
    "truncatediv int": (tf.math.truncatediv, _IA, _IB, [3, -3, -3, 3, 0], "int32"),
    "floordiv float": (tf.math.floordiv, _FA, _FB, [3, -4, -4, 3, 0, INF, NAN], "float32"),
    "floormod float": (tf.math.floormod, _FA, _FB, [1, 1, -1, -1, 0, NAN, NAN], "float32"),
    "divide int": (tf.divide, _IA, _IB, [3.5, -3.5, -3.5, 3.5, 0], "float64"),
    "divide_no_nan": (tf.math.divide_no_nan, _FA, _FB, [3.5, -3.5, -3.5, 3.5, 0, 0, 0], "float32"),
    "divide_no_nan int": (tf.math.divide_no_nan, _IA, _IB, [3.5, -3.5, -3.5, 3.5, 0], "float64"),
    "divide_no_nan special": (tf.math.divide_no_nan, np.float32([NAN, INF, 1]), np.float32([0, 0, NAN]),
                              [0, 0, NAN], "float32"),
}


@pytest.mark.parametrize("name", sorted(DIVISION))
def test_division(name: str) -> None:
    fn, x, y, want, dtype = DIVISION[name]
    for got in both(fn, x, y):
        check(got, np.asarray(want, dtype), dtype)


def test_truncatemod_and_divide_no_nan_gradient() -> None:
    check(tf.truncatemod(tf.constant(_IA), tf.constant(_IB)), np.fmod(_IA, _IB), "int32")  # C's %, as TF
    gx, gy = grad(tf.math.divide_no_nan, [1.0, 2.0], [0.0, 4.0])
    check(gx, np.float32([0.0, 0.25]), "float32")  # TF 2.21
    check(gy, np.float32([0.0, -0.125]), "float32")


CASTS = [  # (values, source, target, TF 2.21's answer)
    ([NAN, INF, -INF, 3.9, -3.9, 1e10], "float32", "int32", [-2 ** 31, -2 ** 31, -2 ** 31, 3, -3, -2 ** 31]),
    ([NAN, INF, -INF, 3.9, -3.9, 1e10], "float32", "int64", [-2 ** 63, -2 ** 63, -2 ** 63, 3, -3, 10 ** 10]),
    ([NAN, 0.0, -0.0, 0.1], "float32", "bool", [True, False, False, True]),
    ([2, 0, -1], "int32", "bool", [True, False, True]),
    ([2 ** 40 + 5, -2 ** 33], "int64", "int32", [5, 0]),
]


@pytest.mark.parametrize("values, src, dst, want", CASTS, ids=[f"{s}-{d}" for _, s, d, _ in CASTS])
def test_cast(values: list, src: str, dst: str, want: list) -> None:
    for got in both(lambda x: tf.cast(x, dst), np.asarray(values, src)):
        check(got, np.asarray(want, dst), dst)


def test_round_is_half_to_even() -> None:
    for got in both(tf.round, np.float32([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, NAN, INF])):
        check(got, np.float32([0, 2, 2, -0.0, -2, -2, 2, NAN, INF]), "float32")


def test_clip_by_value() -> None:
    for got in both(lambda x: tf.clip_by_value(x, 0.0, 1.0), np.float32([-2, 0.5, 3, NAN])):
        check(got, np.float32([0, 0.5, 1, NAN]), "float32")
    check(tf.clip_by_value(tf.constant([-2.0, 0.5, 3.0]), 2.0, 1.0), np.float32([2, 2, 2]), "float32")  # min wins
    check(tf.clip_by_value(tf.constant([[-2.0, 0.5, 3.0]]), [0.0, 0.0, 0.0], [1.0, 1.0, 2.0]),
          np.float32([[0, 0.5, 2]]), "float32")
    g = grad(lambda x, lo, hi: tf.clip_by_value(x, lo, hi), [-1, 0, 0.5, 1, 2], [0] * 5, [1] * 5)
    for got, want in zip(g, ([0, 1, 1, 1, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 1])):
        check(got, np.float32(want), "float32")
    with pytest.raises(TypeError):
        tf.clip_by_value(tf.constant([-2, 1, 3]), 0.5, 2.5)


ONE_HOT = {  # name: (kwargs, TF 2.21's answer, its dtype)
    "default": ({}, [[1, 0, 0], [0, 0, 1]], "float32"),
    "on off": ({"on_value": 5, "off_value": -1}, [[5, -1, -1], [-1, -1, 5]], "int32"),
    "on only": ({"on_value": 5.0}, [[5, 0, 0], [0, 0, 5]], "float32"),
    "off only": ({"off_value": 2}, [[1, 2, 2], [2, 2, 1]], "int32"),
    "dtype": ({"dtype": tf.int64}, [[1, 0, 0], [0, 0, 1]], "int64"),
    "axis 0": ({"axis": 0}, [[1, 0], [0, 0], [0, 1]], "float32"),
}


@pytest.mark.parametrize("name", sorted(ONE_HOT))
def test_one_hot(name: str) -> None:
    kwargs, want, dtype = ONE_HOT[name]
    for got in both(lambda i: tf.one_hot(i, 3, **kwargs), np.int32([0, 2])):
        check(got, np.asarray(want, dtype), dtype)


def test_one_hot_edges() -> None:
    check(tf.one_hot([0, 2, -1, 3], 3), np.float32([[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]]), "float32")
    check(tf.one_hot([[0, 2], [1, 1]], 3, axis=1),
          np.float32([[[1, 0], [0, 0], [0, 1]], [[0, 0], [1, 1], [0, 0]]]), "float32")
    check(tf.one_hot([0, 2], 0), np.zeros((2, 0), np.float32), "float32")
    for bad in (dict(on_value=1.0, dtype=tf.int32), dict(on_value=1.0, off_value=0), dict(dtype=tf.bool)):
        with pytest.raises(TypeError):  # TF 2.21: TypeError
            tf.one_hot([0, 2], 3, **bad)
    with pytest.raises(TypeError):
        tf.one_hot([0.0, 2.0], 3)


def test_equality_operators() -> None:
    check(tf.constant([1.0]) == 1, [True], "bool")
    check(tf.constant([1, 2]) == [1, 3], [True, False], "bool")
    check(tf.constant([1, 2]) == tf.constant([1, 2, 3]), False, "bool")  # unbroadcastable: a bool tensor
    check(tf.constant([1, 2]) != tf.constant([1, 2, 3]), True, "bool")
    assert (tf.constant([1, 2]) == None) is False  # noqa: E711
    for bad in (lambda: tf.constant([1]) == 1.5, lambda: tf.constant([1]) == "a",
                lambda: tf.constant([1]) == tf.constant([1.0]), lambda: tf.constant([1]) != tf.constant([1.0])):
        with pytest.raises(TypeError):  # TF 2.21: TypeError, or InvalidArgumentError for two dtypes
            bad()


def test_numpy_operands_and_add_n() -> None:
    check(tf.constant([1]) + np.float32(2.0), np.int32([3]), "int32")  # TF 2.21 converts to the tensor's dtype
    check(tf.constant([1]) + np.array([True]), np.int32([2]), "int32")
    check(tf.constant([1]) + np.array([2 ** 40]), np.int32([1]), "int32")
    check(tf.add_n([tf.constant([1, 2]), tf.constant([3, 4]), [5, 6]]), np.int32([9, 12]), "int32")
    with pytest.raises(InvalidArgumentError):
        tf.add_n([tf.constant([1, 2]), tf.constant(3)])


def test_where_with_one_argument_takes_numbers() -> None:
    check(tf.where(tf.constant([1, 0, 2])), np.int64([[0], [2]]), "int64")
    check(tf.where(tf.constant([[True, False], [False, True]])), np.int64([[0, 0], [1, 1]]), "int64")
    with pytest.raises(TypeError):
        tf.where(tf.constant([1, 0]), tf.constant([1, 2]), tf.constant([3, 4]))


# ---- nn --------------------------------------------------------------------------------------------------------------
_ACT_X = np.float32([-INF, -1.0, -0.0, 0.0, 1.0, INF, NAN, 6.0, 7.0])
ACTIVATIONS = {  # name: (fn, TF 2.21's values at _ACT_X, gradient at [-1, 0, 1, 7] with upstream [nan, inf, nan, 1])
    "relu": (tf.nn.relu, [0, 0, 0, 0, 1, INF, NAN, 6, 7], [NAN, NAN, NAN, 1]),
    "relu6": (tf.nn.relu6, [0, 0, 0, 0, 1, 6, NAN, 6, 6], [NAN, NAN, NAN, 0]),
    "elu": (tf.nn.elu, [-1, -0.63212055, -0.0, 0, 1, INF, NAN, 6, 7], [NAN, INF, NAN, 1]),
    "selu": (tf.nn.selu, [-1.7580993, -1.1113307, -0.0, 0, 1.050701, INF, NAN, 6.304206, 7.354907],
             [NAN, INF, NAN, 1.050701]),
    # Deviation: an infinite upstream at x = 0 gives NaN (TF 2.21: inf), from the |x| term of the composite.
    "softsign": (tf.nn.softsign, [NAN, -0.5, -0.0, 0, 0.5, NAN, NAN, 0.85714287, 0.875], [NAN, NAN, NAN, 0.015625]),
    "leaky_relu": (tf.nn.leaky_relu, [-INF, -0.2, -0.0, 0, 1, INF, NAN, 6, 7], [NAN, INF, NAN, 1]),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations(name: str) -> None:
    fn, values, upstream_grad = ACTIVATIONS[name]
    for got in both(fn, _ACT_X):
        check(got, np.float32(values), "float32")
        zeros = np.float32(values) == 0
        assert list(np.signbit(got.numpy()[zeros])) == list(np.signbit(np.float32(values)[zeros])), \
            "signed zeros differ from TF's"
    x = tf.constant([-1.0, 0.0, 1.0, 7.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    check(tape.gradient(y, x, output_gradients=tf.constant([NAN, INF, NAN, 1.0])), np.float32(upstream_grad),
          "float32")


def test_nn_helpers() -> None:
    x = np.float32([[1, -2, 0], [3, 4, -0.5]])
    check(tf.nn.bias_add(x, [1.0, 2.0, 3.0]), np.float32([[2, 0, 3], [4, 6, 2.5]]), "float32")
    check(tf.nn.bias_add(tf.ones([1, 2, 3]), [1.0, 2.0], data_format="NCHW"),
          np.float32([[[2, 2, 2], [3, 3, 3]]]), "float32")
    with pytest.raises(InvalidArgumentError):
        tf.nn.bias_add(x, [1.0, 2.0])
    mean, var = tf.nn.moments(tf.constant(x), axes=[0])
    check(mean, np.float32([2, 1, -0.25]), "float32")
    check(var, np.float32([1, 9, 0.0625]), "float32")
    mean, var = tf.nn.moments(tf.constant(x), axes=[0, 1], keepdims=True)
    check(mean, np.float32([[0.9166667]]), "float32")
    check(var, np.float32([[4.2013889]]), "float32")
    for got in both(lambda v: tf.nn.l2_normalize(v, axis=1), x):
        check(got, np.float32([[0.4472136, -0.8944272, 0], [0.5970224, 0.7960298, -0.09950373]]), "float32")
    check(grad(tf.nn.l2_normalize, [0.0, 0.0]), np.float32([1e6, 1e6]), "float32")
    check(tf.norm(x), np.float32(5.5), "float32")
    check(tf.norm(x, axis=-1, keepdims=True), np.float32([[2.236068], [5.0249376]]), "float32")
    check(tf.norm(x, ord=1, axis=1), np.float32([3, 7.5]), "float32")
    check(tf.norm(x, ord=np.inf, axis=1), np.float32([2, 4]), "float32")
    check(tf.math.reduce_euclidean_norm(tf.constant([3, 4])), np.int32(5), "int32")
    check(tf.nn.leaky_relu(tf.constant([-1, 2])), np.float32([-0.2, 2.0]), "float32")  # TF 2.21 converts ints


@pytest.mark.parametrize("fn", [tf.nn.sigmoid, tf.nn.elu, tf.nn.l2_loss, tf.norm, tf.exp, tf.floor, tf.math.ceil])
def test_float_only_ops_refuse_integers(fn: Callable[..., Any]) -> None:
    with pytest.raises(TypeError):  # TF 2.21 refuses too (InvalidArgumentError when eager, TypeError when traced)
        fn(tf.constant([1, 2]))


@pytest.mark.parametrize("bad", [
    lambda: tf.reshape(tf.ones([2, 3]), [4, 2]), lambda: tf.reshape(tf.ones([2, 3]), [-1, -1]),
    lambda: tf.transpose(tf.ones([2, 3]), [0, 0]), lambda: tf.concat([tf.constant(1), tf.constant(2)], 0),
    lambda: tf.stack([tf.constant([1]), tf.constant([1, 2])]), lambda: tf.tile(tf.ones([2, 3]), [2]),
    lambda: tf.reverse(tf.ones([2, 3]), [1, 1]), lambda: tf.split(tf.ones([2, 3]), 2, axis=1),
    lambda: tf.squeeze(tf.zeros([1, 2, 1]), axis=1), lambda: tf.expand_dims(tf.ones([2, 3]), 4),
    lambda: tf.range(5, 0), lambda: tf.range(-3), lambda: tf.range(0, 3, 0),
    lambda: tf.broadcast_to(tf.constant([1, 2]), [2, 3]), lambda: tf.matmul(tf.ones([2]), tf.ones([2, 1])),
    lambda: tf.constant([1, 2]) + tf.constant([1, 2, 3]),
], ids=["reshape", "reshape -1 -1", "transpose", "concat scalars", "stack", "tile", "reverse twice", "split",
        "squeeze", "expand_dims", "range up", "range(-3)", "range delta 0", "broadcast_to", "matmul rank 1",
        "broadcast"])
def test_shape_errors_are_invalid_argument_errors(bad: Callable[[], Any]) -> None:
    """TF 2.21 raises InvalidArgumentError for each (eagerly); Kiln's is also a ValueError, as TF's traced errors."""
    with pytest.raises(InvalidArgumentError):
        bad()
    check(tf.range(2, 2, -1), np.zeros((0,), np.int32), "int32")


SCANS = {  # name: (fn, kwargs, TF 2.21's answer for [[1, 2, 3], [4, 5, 6]])
    "cumsum": (tf.math.cumsum, {}, [[1, 2, 3], [5, 7, 9]]),
    "cumsum axis 1": (tf.math.cumsum, {"axis": 1}, [[1, 3, 6], [4, 9, 15]]),
    "cumsum exclusive": (tf.cumsum, {"axis": -1, "exclusive": True}, [[0, 1, 3], [0, 4, 9]]),
    "cumsum reverse": (tf.cumsum, {"axis": 1, "reverse": True}, [[6, 5, 3], [15, 11, 6]]),
    "cumsum both": (tf.cumsum, {"axis": 1, "reverse": True, "exclusive": True}, [[5, 3, 0], [11, 6, 0]]),
    "cumprod": (tf.math.cumprod, {"axis": 1}, [[1, 2, 6], [4, 20, 120]]),
    "cumprod both": (tf.math.cumprod, {"axis": 1, "exclusive": True, "reverse": True}, [[6, 3, 1], [30, 6, 1]]),
}


@pytest.mark.parametrize("name", sorted(SCANS))
def test_scans(name: str) -> None:
    fn, kwargs, want = SCANS[name]
    for got in both(lambda x: fn(x, **kwargs), np.int32([[1, 2, 3], [4, 5, 6]])):
        check(got, np.int32(want), "int32")


def test_scan_special_values_and_gradients() -> None:
    for got in both(tf.cumsum, np.float32([1, INF, 2, NAN, 1])):
        check(got, np.float32([1, INF, INF, NAN, NAN]), "float32")
    check(grad(lambda v: tf.cumsum(v) * tf.constant([1.0, 2.0, 3.0]), [1, 2, 3]), np.float32([6, 5, 3]), "float32")
    check(grad(tf.math.cumprod, [1, 2, 3]), np.float32([9, 4, 2]), "float32")
    # Deviation: TF 2.21 gives [1, 0, 0] here (its gradient divides by x); Kiln gives the exact [1, 4, 0].
    check(grad(tf.math.cumprod, [1, 0, 3]), np.float32([1, 4, 0]), "float32")


COMPOSITES = {  # name: (call, TF 2.21's answer, its dtype)
    "eye": (lambda: tf.eye(2, 3, dtype=tf.int32), [[1, 0, 0], [0, 1, 0]], "int32"),
    "eye batch": (lambda: tf.eye(2, batch_shape=[2]), [[[1, 0], [0, 1]]] * 2, "float32"),
    "linspace": (lambda: tf.linspace(0.0, 1.0, 5), [0, 0.25, 0.5, 0.75, 1], "float32"),
    "linspace int": (lambda: tf.linspace(0, 10, 3), [0, 5, 10], "float64"),
    "linspace 1": (lambda: tf.linspace(2.0, 5.0, 1), [2], "float32"),
    "sequence_mask": (lambda: tf.sequence_mask([1, 3, 0], 4),
                      [[1, 0, 0, 0], [1, 1, 1, 0], [0, 0, 0, 0]], "bool"),
    "sequence_mask 2d": (lambda: tf.sequence_mask([[1, 2], [0, 3]]),
                         [[[1, 0, 0], [1, 1, 0]], [[0, 0, 0], [1, 1, 1]]], "bool"),
    "sequence_mask float": (lambda: tf.sequence_mask([1, 2], 3, dtype=tf.float32), [[1, 0, 0], [1, 1, 0]], "float32"),
    "clip_by_norm": (lambda: tf.clip_by_norm(tf.constant([[3.0, 4.0], [0.3, 0.4]]), 1.0, axes=[1]),
                     [[0.6, 0.8], [0.3, 0.4]], "float32"),
    "clip_by_norm zero": (lambda: tf.clip_by_norm(tf.constant([0.0, 0.0]), 1.0), [0, 0], "float32"),
    "count_nonzero": (lambda: tf.math.count_nonzero(tf.constant([[1, 0, 2], [0, 0, 3]])), 3, "int64"),
    "count_nonzero nan": (lambda: tf.math.count_nonzero(tf.constant([[1.0, 0.0, NAN], [0.0, -0.0, 3.0]]), axis=1),
                          [2, 1], "int64"),
    "count_nonzero int32": (lambda: tf.math.count_nonzero(tf.constant([1, 0]), dtype=tf.int32), 1, "int32"),
    "reciprocal_no_nan": (lambda: tf.math.reciprocal_no_nan(tf.constant([0.0, 2.0, INF])), [0, 0.5, 0], "float32"),
    "sinh": (lambda: tf.math.sinh(tf.constant([0.0, 1e-8, 1.0, -3.0, 100.0])),
             [0, 1e-8, 1.1752012, -10.017875, INF], "float32"),
    "cosh": (lambda: tf.math.cosh(tf.constant([0.0, 1e-8, 1.0, -3.0, 100.0])),
             [1, 1, 1.5430806, 10.067662, INF], "float32"),
    "rint": (lambda: tf.math.rint(tf.constant([0.5, 1.5, -2.5])), [0, 2, -2], "float32"),
    "math.log_softmax": (lambda: tf.math.log_softmax(tf.constant([1.0, 2.0])), [-1.3132616, -0.31326166], "float32"),
}


@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_composites(name: str) -> None:
    call, want, dtype = COMPOSITES[name]
    check(call(), np.asarray(want, dtype), dtype)


def test_clip_by_norm_and_global_norm_as_tensorflow() -> None:
    check(grad(lambda v: tf.clip_by_norm(v, 1.0), [0.0, 0.0]), np.float32([1, 1]), "float32")  # TF 2.21
    check(grad(lambda v: tf.clip_by_norm(v, 1.0), [3.0, 4.0]), np.float32([0.032, -0.024]), "float32", rtol=1e-5)
    clipped, norm = tf.clip_by_global_norm([tf.constant([3.0, 4.0]), tf.constant([12.0])], 6.5)
    check(clipped[0], np.float32([1.5, 2.0]), "float32")
    check(clipped[1], np.float32([6.0]), "float32")
    check(norm, np.float32(13.0), "float32")
    clipped, norm = tf.clip_by_global_norm([tf.constant([3.0, 4.0]), None], 1.0)
    check(clipped[0], np.float32([0.6, 0.8]), "float32")
    assert clipped[1] is None
    for got in both(lambda v: tf.clip_by_global_norm([v], 1.0)[0][0], np.float32([3.0, 4.0])):
        check(got, np.float32([0.6, 0.8]), "float32")


def test_integer_pow_with_a_negative_exponent_is_an_invalid_argument() -> None:
    """TF 2.21: InvalidArgumentError "Integers to negative integer powers are not allowed"."""
    for run in (lambda x, y: tf.pow(x, y), tf.function(lambda x, y: tf.pow(x, y))):
        with pytest.raises(InvalidArgumentError, match="negative integer powers"):
            run(tf.constant([2, 3]), tf.constant([-1, 2]))


def test_integer_division_by_zero_is_an_invalid_argument() -> None:
    """TF 2.21: InvalidArgumentError "Integer division by zero"; Kiln's error is also a ZeroDivisionError."""
    for run in (tf.math.floordiv, tf.math.floormod, tf.function(lambda x, y: x // y), tf.function(lambda x, y: x % y)):
        with pytest.raises(InvalidArgumentError, match="division by zero"):
            run(tf.constant([7, 1]), tf.constant([2, 0]))


def test_gather_out_of_range_is_an_invalid_argument() -> None:
    """TF 2.21: InvalidArgumentError "indices[0] = 3 is not in [0, 3)"; Kiln's error is also an IndexError."""
    for run in (tf.gather, tf.function(lambda p, i: tf.gather(p, i))):
        for bad in ([3], [-1]):
            with pytest.raises(InvalidArgumentError, match="out of bounds"):
                run(tf.constant([1, 2, 3]), tf.constant(bad))


def test_dropout() -> None:
    """Kiln's random stream is its own, so the kept elements differ from TF's; the rules are TF 2.21's."""
    x = tf.ones([20000])
    y = tf.nn.dropout(x, 0.3, seed=5)
    kept = y.numpy() != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.7, rtol=1e-6)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.dropout(x, 0.5, seed=2)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), y.numpy())  # d/dx of x * mask / 0.5
    check(tf.nn.dropout(tf.constant([3.0, 4.0]), rate=0.0), np.float32([3, 4]), "float32")
    rows = tf.nn.dropout(tf.ones([6, 3]), rate=0.5, noise_shape=[6, 1], seed=3).numpy()
    assert all(len(set(row)) == 1 for row in rows)  # one draw per row
    for bad in (lambda: tf.nn.dropout(x, 1.0), lambda: tf.nn.dropout(x, -0.1), lambda: tf.nn.dropout([1, 2], 0.5)):
        with pytest.raises(ValueError):  # TF 2.21: ValueError
            bad()


GATHER_BATCHED = [  # (indices, batch_dims, axis, TF 2.21's answer) for params = reshape(range(24), [2, 3, 4])
    ([[0, 2], [1, 1]], 1, 1, [[[0, 1, 2, 3], [8, 9, 10, 11]], [[16, 17, 18, 19], [16, 17, 18, 19]]]),
    ([[0, 2], [1, 1]], 1, None, [[[0, 1, 2, 3], [8, 9, 10, 11]], [[16, 17, 18, 19], [16, 17, 18, 19]]]),
    ([[[0], [3]], [[1], [2]]], 1, 2,
     [[[[0], [3]], [[4], [7]], [[8], [11]]], [[[13], [14]], [[17], [18]], [[21], [22]]]]),
    ([[0, 3], [1, 2]], -1, 2, [[[0, 3], [4, 7], [8, 11]], [[13, 14], [17, 18], [21, 22]]]),
]


@pytest.mark.parametrize("indices, batch_dims, axis, want", GATHER_BATCHED)
def test_gather_with_batch_dims(indices: list, batch_dims: int, axis: Any, want: list) -> None:
    params = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    for got in both(lambda p, i: tf.gather(p, i, batch_dims=batch_dims, axis=axis), params, np.int32(indices)):
        check(got, np.int32(want), "int32")


def test_gather_with_batch_dims_gradient_and_range_check() -> None:
    g = grad(lambda x: tf.gather(x, [[2, 2], [0, 1]], batch_dims=1), [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    check(g, np.float32([[0, 0, 2], [1, 1, 0]]), "float32")  # TF 2.21
    with pytest.raises(InvalidArgumentError):  # 3 is outside its row even though the flattened axis has 6
        tf.gather(tf.ones([2, 3]), [[3, 0], [0, 1]], batch_dims=1)


_GRID = np.arange(12, dtype=np.int32).reshape(3, 4)
LAYOUT = {  # name: (fn of the [3, 4] grid 0..11, TF 2.21's answer)
    "slice": (lambda x: tf.slice(x, [1, 1], [2, 2]), [[5, 6], [9, 10]]),
    "slice -1": (lambda x: tf.slice(x, [1, 0], [-1, 3]), [[4, 5, 6], [8, 9, 10]]),
    "roll": (lambda x: tf.roll(x, [1, -1], [0, 1]), [[9, 10, 11, 8], [1, 2, 3, 0], [5, 6, 7, 4]]),
    "roll one axis twice": (lambda x: tf.roll(x, [1, 2], [1, 1]), [[1, 2, 3, 0], [5, 6, 7, 4], [9, 10, 11, 8]]),
    "roll -1": (lambda x: tf.roll(x, 1, -1), [[3, 0, 1, 2], [7, 4, 5, 6], [11, 8, 9, 10]]),
    "repeat": (lambda x: tf.repeat(x[0, :2], 3), [0, 0, 0, 1, 1, 1]),
    "repeat counts": (lambda x: tf.repeat(x, [1, 0, 2, 1], axis=1), [[0, 2, 2, 3], [4, 6, 6, 7], [8, 10, 10, 11]]),
    "repeat flat": (lambda x: tf.repeat(x[:2, :2], 2), [0, 0, 1, 1, 4, 4, 5, 5]),
}


@pytest.mark.parametrize("name", sorted(LAYOUT))
def test_layout_ops(name: str) -> None:
    fn, want = LAYOUT[name]
    for got in both(fn, _GRID):
        check(got, np.int32(want), "int32")


def test_layout_ops_edges_and_gradients() -> None:
    check(tf.roll(tf.range(5), 7, 0), np.int32([3, 4, 0, 1, 2]), "int32")
    with pytest.raises(InvalidArgumentError):
        tf.slice(tf.constant(_GRID), [2, 0], [2, 1])
    xs, ys = tf.meshgrid(tf.constant([1, 2, 3]), tf.constant([4, 5]))
    check(xs, np.int32([[1, 2, 3], [1, 2, 3]]), "int32")
    check(ys, np.int32([[4, 4, 4], [5, 5, 5]]), "int32")
    xs, ys = tf.meshgrid(tf.constant([1, 2, 3]), tf.constant([4, 5]), indexing="ij")
    check(xs, np.int32([[1, 1], [2, 2], [3, 3]]), "int32")
    check(ys, np.int32([[4, 5], [4, 5], [4, 5]]), "int32")
    w = tf.constant([1.0, 2.0, 3.0])
    check(grad(lambda v: tf.roll(v, 1, 0) * w, [1, 2, 3]), np.float32([2, 3, 1]), "float32")  # TF 2.21
    check(grad(lambda v: tf.repeat(v, [1, 2], axis=0) * w, [1, 2]), np.float32([1, 5]), "float32")
    check(grad(lambda v: tf.slice(v, [1], [2]) * w[:2], [1, 2, 3]), np.float32([0, 1, 2]), "float32")
    check(tf.realdiv(tf.constant([1.0, 2.0]), 4.0), np.float32([0.25, 0.5]), "float32")
    check(tf.math.scalar_mul(2.0, tf.constant([1.0, 2.0])), np.float32([2, 4]), "float32")
    check(tf.math.zero_fraction(tf.constant([0, 1, 0])), np.float32(2 / 3), "float32")


def test_sparse_cross_entropy_checks_labels_when_compiled_too() -> None:
    """TF 2.21: InvalidArgumentError "Received a label value of 3 which is outside the valid range of [0, 3)"."""
    run = tf.function(lambda lab, x: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=lab, logits=x))
    check(run(tf.constant([0, 2]), tf.ones([2, 3])), np.float32([1.0986123] * 2), "float32")
    with pytest.raises(InvalidArgumentError, match="out of range"):
        run(tf.constant([0, 3]), tf.ones([2, 3]))


def test_tensordot() -> None:
    a, b = np.arange(24, dtype=np.float32).reshape(2, 3, 4), np.arange(12, dtype=np.float32).reshape(4, 3)
    for got in both(lambda x, y: tf.tensordot(x, y, [[1, 2], [1, 0]]), a, b):
        check(got, np.float32([440, 1232]), "float32")  # TF 2.21
    check(tf.tensordot(a, b, 1)[1, 2], np.float32([402, 488, 574]), "float32")
    check(tf.tensordot(a, np.arange(6, dtype=np.float32).reshape(3, 2), [1, 0])[1, 3], np.float32([130, 187]),
          "float32")
    check(tf.tensordot(tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0]), 0), np.float32([[3, 4], [6, 8]]), "float32")
    check(tf.tensordot(tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0]), 1), np.float32(11), "float32")
    check(tf.tensordot(tf.zeros([2, 0]), tf.zeros([0, 3]), 1), np.zeros((2, 3), np.float32), "float32")
