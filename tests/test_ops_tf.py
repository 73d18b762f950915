"""Public ops against TensorFlow 2.21's answers, eagerly and compiled.

Every expected value below was obtained by running the same call with TensorFlow 2.21 (tensorflow-cpu, x86-64) and is
hard-coded here, so the suite needs no TensorFlow. Where Kiln deliberately differs, the test says so and pins Kiln's
documented behaviour. `both` runs an op eagerly and inside `engine.function` (traced, compiled), so one expected
value checks the two paths.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import engine as tf
from engine.errors import InvalidArgumentError

NAN, INF = np.nan, np.inf


def both(fn: Callable[..., Any], *args: Any) -> list[Any]:
    """fn(*args) eagerly and through a traced, compiled function (tensor arguments become parameters)."""
    tensors = [tf.constant(a) for a in args]

    def traced(*xs: Any) -> Any:
        return fn(*xs)
    return [fn(*tensors), tf.function(traced)(*tensors)]


def check(got: Any, want: Any, dtype: str, rtol: float = 1e-6) -> None:
    want = np.asarray(want)
    assert got.dtype.name == dtype
    assert tuple(got.shape) == want.shape
    value = np.asarray(got.numpy())
    if want.dtype.kind == "f":
        np.testing.assert_allclose(value, want, rtol=rtol, atol=1e-30, equal_nan=True)
    else:
        np.testing.assert_array_equal(value, want)


def grad(fn: Callable[..., Any], *xs: Any, traced: bool = False) -> Any:
    """d fn / d xs by a GradientTape, eagerly or inside a traced function."""
    def run(*ts: Any) -> Any:
        with tf.GradientTape() as tape:
            for t in ts:
                tape.watch(t)
            y = fn(*ts)
        return tape.gradient(y, list(ts))
    args = [tf.constant(np.asarray(x, np.float32)) for x in xs]
    out = tf.function(run)(*args) if traced else run(*args)
    return out[0] if len(xs) == 1 else out


# ---- 1. gradients at kinks and ties ----------------------------------------------------------------------------------
KINKS = {  # name: (fn, x, TF 2.21's gradient)
    "softplus": (tf.nn.softplus, [-1.0, 0.0, 1.0, 7.0], [0.26894143, 0.5, 0.7310586, 0.9990889]),
    "log_sigmoid": (tf.math.log_sigmoid, [-1.0, 0.0, 1.0, 7.0], [0.7310586, 0.5, 0.26894143, 0.00091105123]),
    "sigmoid_xent": (lambda x: tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.fill([3], 0.3), logits=x),
                     [0.0, 1.0, -2.0], [0.2, 0.43105856, -0.1807971]),
    "relu": (tf.nn.relu, [-1.0, 0.0, 1.0], [0.0, 0.0, 1.0]),
    "relu6": (tf.nn.relu6, [0.0, 6.0, 3.0, 7.0], [0.0, 0.0, 1.0, 0.0]),
    "abs": (tf.abs, [0.0, 1.0, -2.0], [0.0, 1.0, -1.0]),
    "leaky_relu": (lambda x: tf.nn.leaky_relu(x, 0.2), [0.0, 1.0, -2.0], [0.2, 1.0, 0.2]),
    "elu": (tf.nn.elu, [0.0, 1.0, -2.0], [1.0, 1.0, 0.13533527]),
    "maximum(x, 0)": (lambda x: tf.maximum(x, 0.0), [0.0, 1.0, -2.0], [1.0, 1.0, 0.0]),
    "maximum(0, x)": (lambda x: tf.maximum(0.0, x), [0.0, 1.0, -2.0], [0.0, 1.0, 0.0]),
    "minimum(x, 0)": (lambda x: tf.minimum(x, 0.0), [0.0, 1.0, -2.0], [1.0, 0.0, 1.0]),
    "minimum(0, x)": (lambda x: tf.minimum(0.0, x), [0.0, 1.0, -2.0], [0.0, 0.0, 1.0]),
    "clip_by_value": (lambda x: tf.clip_by_value(x, 0.0, 1.0), [0.0, 1.0, 0.5, -1.0, 2.0], [1.0, 1.0, 1.0, 0.0, 0.0]),
    "sqrt under where": (lambda x: tf.where(x > 1e5, tf.sqrt(x), 0.0), [0.0, 4.0], [0.0, 0.0]),
    "rsqrt under where": (lambda x: tf.where(x > 1e5, tf.math.rsqrt(x), 0.0), [0.0, 4.0], [0.0, 0.0]),
    "reduce_logsumexp": (tf.reduce_logsumexp, [1.0, 2.0, 2.0], [0.15536241, 0.42231882, 0.42231882]),
}


@pytest.mark.parametrize("traced", [False, True], ids=["eager", "traced"])
@pytest.mark.parametrize("name", sorted(KINKS))
def test_gradients_at_kinks_and_ties_are_tensorflows(name: str, traced: bool) -> None:
    fn, x, want = KINKS[name]
    check(grad(fn, x, traced=traced), np.float32(want), "float32", rtol=1e-6)


def test_sigmoid_cross_entropy_gradient_for_labels() -> None:
    gx, gz = grad(lambda x, z: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x), [0.0, 2.0, -3.0],
                  [0.3, 1.0, 0.0])
    check(gx, np.float32([0.2, -0.11920291, 0.047425874]), "float32")  # TF 2.21
    check(gz, np.float32([-0.0, -2.0, 3.0]), "float32")


@pytest.mark.parametrize("fn", [tf.floor, tf.math.ceil, tf.round, lambda x: tf.cast(tf.cast(x, tf.int32), tf.float32),
                                lambda x: tf.cast(tf.argmax(x), tf.float32)], ids=["floor", "ceil", "round", "cast",
                                                                                     "argmax"])
def test_ops_without_a_gradient_give_none(fn: Callable[..., Any]) -> None:
    """TF 2.21 registers no gradient for these: the tape answers None, not zeros."""
    assert grad(fn, [1.3, 0.2]) is None


def test_values_of_the_rewritten_composites_stay_stable() -> None:
    x = [-INF, -100.0, -1.0, 0.0, 1.0, 7.0, 100.0, INF, NAN]
    for got in both(tf.nn.softplus, np.float32(x)):  # TF 2.21 (up to an ulp; TF flushes exp(-100) to 0)
        check(got, np.float32([0.0, 3.7835059e-44, 0.31326169, 0.6931472, 1.3132616, 7.000911, 100.0, INF, NAN]),
              "float32")
    labels = tf.constant([0.3, 1.0, 0.0, 0.5])
    for got in both(lambda v: tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=v),
                    np.float32([0.0, 200.0, -300.0, 2.0])):
        check(got, np.float32([0.6931472, 0.0, 0.0, 1.126928]), "float32")


# ---- 2. values -------------------------------------------------------------------------------------------------------
_FLOATS = [1e10, -1e10, 3.7, -3.7, NAN, INF, -INF, 2147483647.0, 9.3e18, -9.3e18]
_I32_MIN, _I32_MAX, _I64_MIN = -2 ** 31, 2 ** 31 - 1, -2 ** 63
SATURATE = [  # (source values, source dtype, target dtype, TF 2.21's answer)
    (_FLOATS, "float32", "int32", [2147483520, _I32_MIN, 3, -3, _I32_MIN, 2147483520, _I32_MIN, 2147483520,
                                   2147483520, _I32_MIN]),
    (_FLOATS, "float64", "int32", [_I32_MAX, _I32_MIN, 3, -3, _I32_MIN, _I32_MAX, _I32_MIN, _I32_MAX, _I32_MAX,
                                   _I32_MIN]),
    ([_I32_MAX, _I32_MIN, 300, -5], "int64", "int32", [_I32_MAX, _I32_MIN, 300, -5]),
    ([_I32_MAX, _I32_MIN, 300, -5], "int32", "int64", [_I32_MAX, _I32_MIN, 300, -5]),
    ([1e300, -1e300, INF, NAN, 1.5], "float64", "float32", [3.4028235e38, -3.4028235e38, 3.4028235e38, NAN, 1.5]),
    ([1e30, INF, NAN, 1.5], "float32", "float64", [1.0000000150474662e30, 3.4028234663852886e38, NAN, 1.5]),
    # TF 2.21 overflows its own clamp here (inf and 9.3e18 become INT64_MIN); Kiln saturates to the largest float
    # below 2**63, as TF does for int32.
    (_FLOATS, "float32", "int64", [10 ** 10, -10 ** 10, 3, -3, _I64_MIN, 9223371487098961920, _I64_MIN,
                                   2147483648, 9223371487098961920, _I64_MIN]),
    (_FLOATS, "float64", "int64", [10 ** 10, -10 ** 10, 3, -3, _I64_MIN, 9223372036854774784, _I64_MIN,
                                   2147483647, 9223372036854774784, _I64_MIN]),
]


@pytest.mark.parametrize("values, src, dst, want", SATURATE, ids=[f"{s}-{d}" for _, s, d, _ in SATURATE])
def test_saturate_cast(values: list, src: str, dst: str, want: list) -> None:
    for got in both(lambda v: tf.saturate_cast(v, dst), np.asarray(values, src)):
        check(got, np.asarray(want, dst), dst)


def test_saturate_cast_refuses_bool() -> None:
    with pytest.raises(TypeError):
        tf.saturate_cast(tf.constant([True]), tf.int32)
    with pytest.raises(TypeError):
        tf.saturate_cast(tf.constant([3]), tf.bool)


EMPTY = [  # (fn, dtype of the [0, 3] input, TF 2.21's answer for axis=None, for axis=0)
    (tf.reduce_sum, "float32", 0.0, [0.0] * 3), (tf.reduce_sum, "int32", 0, [0] * 3),
    (tf.reduce_prod, "float32", 1.0, [1.0] * 3), (tf.reduce_prod, "int32", 1, [1] * 3),
    (tf.reduce_max, "float32", -INF, [-INF] * 3), (tf.reduce_max, "int32", _I32_MIN, [_I32_MIN] * 3),
    (tf.reduce_max, "int64", _I64_MIN, [_I64_MIN] * 3), (tf.reduce_min, "float64", INF, [INF] * 3),
    (tf.reduce_min, "int32", _I32_MAX, [_I32_MAX] * 3), (tf.reduce_mean, "float32", NAN, [NAN] * 3),
    (tf.reduce_mean, "int32", 0, [0] * 3), (tf.reduce_logsumexp, "float32", -INF, [-INF] * 3),
    (tf.math.reduce_variance, "float32", NAN, [NAN] * 3), (tf.math.reduce_std, "float32", NAN, [NAN] * 3),
    (tf.reduce_any, "bool", False, [False] * 3), (tf.reduce_all, "bool", True, [True] * 3),
]


@pytest.mark.parametrize("fn, dtype, whole, axis0", EMPTY, ids=[f"{f.__name__}-{d}" for f, d, _, _ in EMPTY])
def test_reductions_of_empty_tensors(fn: Callable[..., Any], dtype: str, whole: Any, axis0: list) -> None:
    x = np.zeros((0, 3), dtype)
    for got in both(fn, x):
        check(got, np.asarray(whole, dtype), dtype)
    for got in both(lambda v: fn(v, axis=0), x):
        check(got, np.asarray(axis0, dtype), dtype)
    for got in both(lambda v: fn(v, axis=1), x):
        check(got, np.zeros((0,), dtype), dtype)


def test_reduction_axes_are_checked() -> None:
    for axis in ([0, 0], 2, [-3]):  # TF 2.21: InvalidArgumentError (a ValueError in Kiln too)
        with pytest.raises(InvalidArgumentError):
            tf.reduce_sum(tf.ones([2, 3]), axis=axis)
    with pytest.raises(InvalidArgumentError):
        tf.argmax(tf.zeros([0, 3]), axis=0)
    check(tf.argmax(tf.zeros([0, 3]), axis=1), np.zeros((0,), np.int64), "int64")


def test_log_softmax_subtracts_the_max_first() -> None:
    for got in both(tf.nn.log_softmax, np.float32([1000.0, 1000.0, 0.0])):
        check(got, np.float32([-0.6931472, -0.6931472, -1000.6932]), "float32", rtol=1e-7)
    # TF 2.21 gives -4.8636208e-05 for the first element: its float32 sum of [1, e, e, e] rounds at each step to
    # 1.0000486; compiled code sums in float64 blocks and gets the correctly rounded 1.0000488 (log: -4.875541e-05,
    # docs/tf-compat.md "float32 sums"); eager mode is numpy's, which is TF's here.
    eager, compiled = both(tf.nn.log_softmax, np.float32([25.21875, 14.191406, 14.191406, 14.191406]))
    check(eager, np.float32([-4.8636208e-05, -11.027392, -11.027392, -11.027392]), "float32", rtol=1e-6)
    check(compiled, np.float32([-4.875541e-05, -11.027392, -11.027392, -11.027392]), "float32", rtol=1e-6)
    for got in both(tf.nn.log_softmax, np.float32([-INF, 1.0])):
        check(got, np.float32([-INF, 0.0]), "float32")
    check(tf.nn.log_softmax(tf.constant([INF, 1.0])), np.float32([NAN, NAN]), "float32")
    check(grad(lambda x: tf.nn.log_softmax(x)[0], [1000.0, 1000.0, 0.0]), np.float32([0.5, -0.5, 0.0]), "float32")


@pytest.mark.parametrize("fn", [tf.nn.softmax, tf.nn.log_softmax, tf.reduce_logsumexp, tf.nn.l2_loss,
                                tf.nn.softplus, tf.math.is_nan, tf.math.reciprocal])
def test_float_only_composites_refuse_integers(fn: Callable[..., Any]) -> None:
    with pytest.raises(TypeError, match="int32"):  # TF 2.21 refuses too (InvalidArgumentError when eager)
        fn(tf.constant([1, 2]))


# ---- 3. conventions --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["assign", "assign_add", "assign_sub"])
def test_assign_with_read_value_false_returns_none(method: str) -> None:
    v = tf.Variable([1.0, 2.0])
    assert getattr(v, method)([1.0, 1.0], read_value=False) is None
    assert getattr(v, method)([1.0, 1.0]) is v
    want = {"assign": [1.0, 1.0], "assign_add": [3.0, 4.0], "assign_sub": [-1.0, 0.0]}[method]
    np.testing.assert_array_equal(v.numpy(), np.float32(want))

    @tf.function
    def step() -> Any:
        return getattr(v, method)([1.0, 1.0], read_value=False)
    with pytest.raises(TypeError):  # TF 2.21: the graph's assign Operation, which a tf.function cannot return
        step()


_A, _B = np.int32([12, -7, 0, 2 ** 31 - 1]), np.int32([10, 3, -1, 1])
BITWISE = {  # TF 2.21
    "bitwise_and": [8, 1, 0, 1], "bitwise_or": [14, -5, -1, 2147483647], "bitwise_xor": [6, -6, -1, 2147483646],
    "left_shift": [12288, -56, 0, -2], "right_shift": [0, -1, 0, 1073741823],
}


@pytest.mark.parametrize("name", sorted(BITWISE))
def test_bitwise(name: str) -> None:
    fn = getattr(tf.bitwise, name)
    for got in both(fn, _A, _B):
        check(got, np.int32(BITWISE[name]), "int32")
    for got in both(fn, np.int64([12, -7]), np.int64([10, 3])):
        check(got, np.int64(BITWISE[name][:2]), "int64")
    for bad in ([1.0], [True]):
        with pytest.raises(TypeError):
            fn(tf.constant(bad), tf.constant(bad))


def test_shifts_clamp_the_amount_as_tensorflow() -> None:
    for got in both(tf.bitwise.left_shift, np.int32([1, 1, 1, -1, 5]), np.int32([31, 32, 40, 33, -1])):
        check(got, np.int32([_I32_MIN] * 4 + [5]), "int32")
    for got in both(tf.bitwise.right_shift, np.int32([-8, 8, -8, 8, 8]), np.int32([31, 32, 40, -1, 2])):
        check(got, np.int32([-1, 0, -1, 8, 2]), "int32")
    for got in both(tf.bitwise.left_shift, np.int64([1, 1, 1]), np.int64([63, 64, 70])):
        check(got, np.int64([_I64_MIN] * 3), "int64")


def test_invert_and_the_operators() -> None:
    for got in both(tf.bitwise.invert, _A):
        check(got, np.int32([-13, 6, -1, _I32_MIN]), "int32")

    def ops(x: Any, y: Any) -> Any:
        return (x & y) | (x ^ y) ^ ~x
    for got in both(ops, _A, _B):
        check(got, (_A & _B) | (_A ^ _B) ^ ~_A, "int32")
    check(tf.constant(_A) & 5, np.int32([4, 1, 0, 5]), "int32")
    check(5 | tf.constant(_A), np.int32([13, -3, 5, 2147483647]), "int32")
    t, f = tf.constant([True, False]), tf.constant([True, True])
    check(t & f, [True, False], "bool")
    check(t ^ True, [False, True], "bool")
    check(~t, [False, True], "bool")
    for bad in (lambda: tf.constant([1.0]) & tf.constant([1.0]), lambda: ~tf.constant([1.0]),
                lambda: tf.constant(_A) & tf.constant([True] * 4), lambda: tf.constant([1]) << 1):
        with pytest.raises(TypeError):  # TF 2.21: errors too (and tensors have no << or >>)
            bad()


def test_boolean_mask() -> None:
    t = np.int32([[1, 2], [3, 4], [5, 6]])
    check(tf.boolean_mask(t, [True, False, True]), np.int32([[1, 2], [5, 6]]), "int32")
    check(tf.boolean_mask(t, [True, False], axis=1), np.int32([[1], [3], [5]]), "int32")
    check(tf.boolean_mask(t, [[True, False], [False, True], [True, True]]), np.int32([1, 4, 5, 6]), "int32")
    check(tf.boolean_mask(t, [False, False, False]), np.zeros((0, 2), np.int32), "int32")
    check(tf.boolean_mask(t, [1, 0, 1]), np.int32([[1, 2], [5, 6]]), "int32")  # numeric masks, as TF 2.21
    check(grad(lambda x: tf.reduce_sum(tf.boolean_mask(x, [True, False, True]) * 2.0), [1.0, 2.0, 3.0]),
          np.float32([2.0, 0.0, 2.0]), "float32")
    for bad in ([True, False], True):
        with pytest.raises(ValueError):
            tf.boolean_mask(t, bad)


def test_boolean_mask_in_a_function() -> None:
    @tf.function
    def constant_mask(x: Any) -> Any:
        return tf.boolean_mask(x, tf.constant([True, False, True]))
    check(constant_mask(tf.constant([1.0, 2.0, 3.0])), np.float32([1.0, 3.0]), "float32")

    @tf.function
    def traced_mask(x: Any) -> Any:
        return tf.boolean_mask(x, x > 0)
    check(traced_mask(tf.constant([1.0, -2.0, 3.0])), np.float32([1.0, 3.0]), "float32")  # TF 2.21's answer


_X = np.float32([[1, 2, 3], [4, 5, 6]])
PAD = {  # mode: (paddings, TF 2.21's value, TF 2.21's gradient of sum(pad(x) * arange(24).reshape(4, 6)))
    "REFLECT": ([[1, 1], [2, 2]], [[6, 5, 4, 5, 6, 5, 4], [3, 2, 1, 2, 3, 2, 1], [6, 5, 4, 5, 6, 5, 4],
                                   [3, 2, 1, 2, 3, 2, 1]], [[28, 90, 56], [16, 54, 32]]),
    "SYMMETRIC": ([[1, 1], [2, 2]], [[2, 1, 1, 2, 3, 3, 2], [2, 1, 1, 2, 3, 3, 2], [5, 4, 4, 5, 6, 6, 5],
                                     [5, 4, 4, 5, 6, 6, 5]], [[18, 18, 30], [66, 66, 78]]),
}


@pytest.mark.parametrize("mode", sorted(PAD))
def test_pad_mirror_modes(mode: str) -> None:
    paddings, value, gradient = PAD[mode]
    for got in both(lambda x: tf.pad(x, paddings, mode=mode.lower()), _X):
        check(got, np.float32(value), "float32")
    weights = tf.reshape(tf.range(24, dtype=tf.float32), [4, 6])
    for traced in (False, True):
        g = grad(lambda x: tf.reduce_sum(tf.pad(x, [[1, 1], [2, 1]], mode=mode) * weights), _X, traced=traced)
        check(g, np.float32(gradient), "float32")


def test_pad_limits_and_errors() -> None:
    check(tf.pad(tf.constant([1.0, 2.0, 3.0, 4.0]), [[3, 2]], mode="REFLECT"),
          np.float32([4, 3, 2, 1, 2, 3, 4, 3, 2]), "float32")
    check(tf.pad(tf.constant(_X), [[2, 2], [3, 0]], mode="SYMMETRIC"),
          np.float32([[6, 5, 4, 4, 5, 6], [3, 2, 1, 1, 2, 3], [3, 2, 1, 1, 2, 3], [6, 5, 4, 4, 5, 6],
                      [6, 5, 4, 4, 5, 6], [3, 2, 1, 1, 2, 3]]), "float32")
    for paddings, mode in [([[2, 0], [0, 0]], "REFLECT"), ([[3, 0], [0, 0]], "SYMMETRIC"),
                           ([[-1, 0], [0, 0]], "CONSTANT"), ([[1, 0]], "CONSTANT")]:
        with pytest.raises(InvalidArgumentError):
            tf.pad(tf.constant(_X), paddings, mode=mode)
    with pytest.raises(ValueError):
        tf.pad(tf.constant(_X), [[1, 0], [0, 0]], mode="EDGE")
    with pytest.raises(TypeError):
        tf.pad(tf.constant([1, 2]), [[1, 0]], constant_values=2.5)


def test_sizes_and_constants_reject_floats() -> None:
    for make in (lambda: tf.zeros([2.0, 3]), lambda: tf.ones([2.5, 3]), lambda: tf.constant([2.0, 3], tf.int32),
                 lambda: tf.constant([2.0, 3.0], tf.int32), lambda: tf.constant(2.0, tf.int32),
                 lambda: tf.constant([1], tf.bool)):
        with pytest.raises(TypeError):  # TF 2.21: TypeError
            make()
    for make in (lambda: tf.fill([2.0, 3], 1.0), lambda: tf.zeros(tf.constant([2.0, 3.0])),
                 lambda: tf.reshape(tf.zeros([6]), [2.0, 3]), lambda: tf.zeros([-1, 2])):
        with pytest.raises(InvalidArgumentError):  # TF 2.21: InvalidArgumentError
            make()
    check(tf.zeros(np.array([2.0, 3.0])), np.zeros((2, 3), np.float32), "float32")  # TF 2.21 accepts numpy floats
    check(tf.constant([True], tf.int32), np.int32([1]), "int32")


ARG_NAN = [  # (values, TF 2.21's argmax, TF 2.21's argmin): NaN are skipped, all-NaN gives 0
    ([1.0, NAN, 3.0, NAN], 2, 0), ([NAN, 1.0, 2.0], 2, 1), ([NAN, 2.0, 1.0], 1, 2), ([3.0, NAN, 1.0], 0, 2),
    ([NAN, NAN], 0, 0), ([1.0, 3.0, 3.0, 2.0], 1, 0), ([1.0, 0.0, 0.0, 2.0], 3, 1),
    ([1, 2, NAN, 5, 4, NAN, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1], 16, 6),
]


@pytest.mark.parametrize("values, amax, amin", ARG_NAN)
def test_argmax_argmin_skip_nan_and_pick_the_first_tie(values: list, amax: int, amin: int) -> None:
    for got in both(tf.argmax, np.float32(values)):
        check(got, np.int64(amax), "int64")
    for got in both(lambda x: tf.argmin(x, output_type=tf.int32), np.float64(values)):
        check(got, np.int32(amin), "int32")
    check(tf.argmax(tf.constant([False, True])), np.int64(1), "int64")  # TF 2.21 ranks bools too
