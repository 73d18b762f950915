"""Bad input gives a clear error of TensorFlow's kind whose message names the op and the culprits (shapes, dtypes,
indices), never a bare numpy traceback.
"""
from __future__ import annotations

import re
from typing import Any, Callable

import numpy as np
import pytest

import engine as tf


def raises(kind: type, fn: Callable[[], Any], *fragments: str) -> str:
    """`fn()` raises `kind` (exactly that class or a subclass) whose message contains every fragment."""
    with pytest.raises(kind) as info:
        fn()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from the message: {message}"
    return message


# ---- shapes ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, fn, fragments", [
    ("add", lambda: tf.add(tf.ones([2, 3]), tf.ones([4])), ["add", "(2, 3)", "(4,)"]),
    ("+", lambda: tf.ones([2, 3]) + tf.ones([3, 2]), ["add", "(2, 3)", "(3, 2)"]),
    ("multiply", lambda: tf.multiply(tf.ones([5]), tf.ones([2, 4])), ["multiply", "(5,)", "(2, 4)"]),
    ("where", lambda: tf.where(tf.ones([2], tf.bool), tf.ones([3]), 0.0), ["where", "(2,)", "(3,)"]),
    ("matmul", lambda: tf.matmul(tf.ones([2, 3]), tf.ones([4, 5])), ["matmul", "(2, 3)", "(4, 5)"]),
    ("matmul transposed", lambda: tf.matmul(tf.ones([2, 3]), tf.ones([2, 3]), transpose_b=False),
     ["matmul", "(2, 3)", "transpose_b=False"]),
    ("matmul batch", lambda: tf.matmul(tf.ones([2, 2, 3]), tf.ones([3, 3, 5])), ["matmul", "(2, 2, 3)", "(3, 3, 5)"]),
    ("matmul rank 1", lambda: tf.matmul(tf.ones([3]), tf.ones([3, 5])), ["matmul", "(3,)", "(3, 5)"]),
    ("concat", lambda: tf.concat([tf.ones([2, 3]), tf.ones([4, 5])], axis=0), ["concat", "(2, 3)", "(4, 5)"]),
    ("concat rank", lambda: tf.concat([tf.ones([2, 3]), tf.ones([2])], axis=1), ["concat", "(2, 3)", "(2,)"]),
    ("stack", lambda: tf.stack([tf.ones([2]), tf.ones([3])]), ["stack", "(2,)", "(3,)"]),
    ("reshape", lambda: tf.reshape(tf.ones([2, 3]), [4, 2]), ["reshape", "(2, 3)", "(4, 2)"]),
    ("reshape -1", lambda: tf.reshape(tf.ones([2, 3]), [4, -1]), ["reshape", "(2, 3)", "(4, -1)"]),
    ("broadcast_to", lambda: tf.broadcast_to(tf.ones([2, 3]), [4, 3]), ["broadcast_to", "(2, 3)", "(4, 3)"]),
    ("broadcast_to rank", lambda: tf.broadcast_to(tf.ones([2, 3]), [3]), ["broadcast_to", "(2, 3)", "(3,)"]),
    ("squeeze", lambda: tf.squeeze(tf.ones([2, 3]), axis=0), ["squeeze", "(2, 3)"]),
    ("pad", lambda: tf.pad(tf.ones([2, 3]), [[1, 1]]), ["pad", "[1, 1]"]),
], ids=lambda v: v if isinstance(v, str) else "")
def test_mismatched_shapes_raise_value_error_naming_op_and_shapes(name: str, fn: Callable, fragments: list) -> None:
    raises(ValueError, fn, *fragments)


@pytest.mark.parametrize("fn, fragments", [
    (lambda: tf.reduce_sum(tf.ones([2, 3]), axis=2), ["reduce_sum", "axis 2", "rank 2"]),
    (lambda: tf.reduce_max(tf.ones([2, 3]), axis=[0, -3]), ["reduce_max", "-3"]),
    (lambda: tf.expand_dims(tf.ones([2]), 3), ["expand_dims", "axis 3"]),
    (lambda: tf.concat([tf.ones([2]), tf.ones([2])], axis=1), ["concat", "axis 1"]),
    (lambda: tf.gather(tf.ones([3, 2]), [1], axis=2), ["gather", "axis 2"]),
    (lambda: tf.transpose(tf.ones([2, 3]), [0, 0]), ["transpose", "[0, 0]", "(2, 3)"]),
    (lambda: tf.argmax(tf.ones([0])), ["argmax", "(0,)"]),
    (lambda: tf.range(0, 5, 0), ["range", "delta"]),
])
def test_bad_axes_and_attributes_raise_value_error(fn: Callable, fragments: list) -> None:
    raises(ValueError, fn, *fragments)


# ---- dtypes ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn, a, b", [
    (lambda: tf.ones([2]) + tf.ones([2], tf.int32), "float32", "int32"),
    (lambda: tf.subtract(tf.ones([2], tf.int64), tf.ones([2], tf.int32)), "int64", "int32"),
    (lambda: tf.maximum(tf.ones([2], tf.float64), tf.ones([2])), "float64", "float32"),
    (lambda: tf.less(tf.ones([2], tf.float64), tf.ones([2], tf.int64)), "float64", "int64"),
    (lambda: tf.matmul(tf.ones([2, 2]), tf.ones([2, 2], tf.float64)), "float32", "float64"),
    (lambda: tf.concat([tf.ones([2]), tf.ones([2], tf.int32)], 0), "float32", "int32"),
    (lambda: tf.where(tf.ones([2], tf.bool), tf.ones([2]), tf.ones([2], tf.int64)), "float32", "int64"),
    (lambda: tf.constant(3) / tf.constant(2.0), "int32", "float32"),
    (lambda: tf.Variable([1.0, 2.0]).assign(tf.constant([1, 2])), "int32", "float32"),
])
def test_mixed_dtypes_raise_type_error_naming_both(fn: Callable, a: str, b: str) -> None:
    raises(TypeError, fn, a, b)


@pytest.mark.parametrize("fn", [
    lambda: tf.add(tf.constant([1, 2]), 1.5),
    lambda: tf.multiply(2.5, tf.constant([1, 2])),
    lambda: tf.constant([1, 2]) - 0.5,
    lambda: tf.maximum(tf.constant([1, 2], tf.int64), 0.5),
    lambda: tf.where(tf.constant([True, False]), tf.constant([1, 2]), 0.5),
], ids=["add", "multiply", "-", "maximum", "where"])
def test_python_float_into_an_integer_tensor_op_raises_type_error(fn: Callable) -> None:
    message = raises(TypeError, fn)
    assert re.search(r"int(32|64)", message) and re.search(r"\d\.5", message), message


# (uint8 and float16 were here until Kiln supported them: tests/test_dtypes.py)
@pytest.mark.parametrize("value", [np.array([1 + 2j]), np.array([1.0], np.complex64), np.array([1.0], np.longdouble)],
                         ids=["complex128", "complex64", "longdouble"])
def test_unsupported_numpy_dtypes_raise_type_error(value: np.ndarray) -> None:
    for convert in (tf.constant, tf.convert_to_tensor, lambda v: tf.ones([1]) + v):
        raises(TypeError, lambda: convert(value), value.dtype.name, "float32")


@pytest.mark.parametrize("value", [1 + 2j, "text", object(), None])
def test_unconvertible_python_values_raise_type_error(value: Any) -> None:
    raises(TypeError, lambda: tf.constant([value]), type(value).__name__)


def test_dtype_restricted_ops_name_the_dtype() -> None:
    raises(TypeError, lambda: tf.sqrt(tf.constant([4])), "sqrt", "int32")
    raises(TypeError, lambda: tf.math.log(tf.constant([True])), "log", "bool")
    raises(TypeError, lambda: tf.negative(tf.constant([True])), "negative", "bool")
    raises(TypeError, lambda: tf.reduce_sum(tf.constant([True])), "reduce_sum", "bool")
    raises(TypeError, lambda: tf.where(tf.constant([1, 0]), 1.0, 2.0), "where", "int32")
    raises(TypeError, lambda: tf.one_hot(tf.constant([1.0]), 3), "one_hot", "float32")
    raises(TypeError, lambda: tf.gather(tf.ones([3]), tf.constant([0.0])), "gather", "float32")
    raises(TypeError, lambda: tf.cast(tf.ones([2]), "complex64"), "complex64")
    raises(TypeError, lambda: tf.math.reduce_variance(tf.constant([1, 2])), "reduce_variance", "int32")


def test_ragged_python_lists_raise_value_error() -> None:
    for value in ([[1, 2], [3]], [[1.0, 2.0], [3.0]], [[[1], [2]], [[3], [4, 5]]]):
        raises(ValueError, lambda: tf.constant(value), "non-rectangular", str(value))


def test_constant_with_a_shape_that_does_not_fit() -> None:
    raises(TypeError, lambda: tf.constant([1, 2, 3], shape=[2, 2]), "3", "(2, 2)")


# ---- Python conversions of tensors -----------------------------------------------------------------------------------
def test_non_scalar_tensor_in_if_raises_value_error() -> None:
    t = tf.constant([1, 2])

    def branch() -> int:
        if t:
            return 1
        return 0

    raises(ValueError, branch, "truth value", "scalar", "(2,)")
    raises(ValueError, lambda: t and True, "truth value", "(2,)")
    raises(ValueError, lambda: not tf.zeros([2, 2]), "(2, 2)")
    assert bool(tf.constant([[True]])[0, 0]) is True  # a scalar is fine


@pytest.mark.parametrize("convert", [int, float, complex, lambda t: [0, 1, 2][t]],
                         ids=["int", "float", "complex", "index"])
def test_scalar_conversions_of_non_scalars_raise_type_error(convert: Callable) -> None:
    """As numpy and TensorFlow: int(), float() and indexing need a scalar (TypeError otherwise)."""
    raises(TypeError, lambda: convert(tf.constant([1, 2])), "scalar", "(2,)")
    raises(TypeError, lambda: convert(tf.constant([[1]])), "(1, 1)")


def test_other_python_protocols() -> None:
    raises(TypeError, lambda: [0, 1][tf.constant(1.0)], "integer", "float32")
    raises(TypeError, lambda: len(tf.constant(1.0)), "scalar")
    raises(TypeError, lambda: iter(tf.constant(1.0)), "scalar")
    raises(TypeError, lambda: {tf.constant(1.0): 1}, "unhashable", "ref()")
    raises(TypeError, lambda: format(tf.constant([1.0, 2.0]), ".2f"), ".2f", "(2,)")


# ---- indices and values ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("indices, axis, bad", [([0, 5], 0, "5"), ([[1], [-1]], 0, "-1"), ([3], 1, "3"),
                                                 (np.array([2, 7], np.int64), 1, "7")])
def test_out_of_range_gather_raises_index_error_naming_the_index(indices: Any, axis: int, bad: str) -> None:
    params = tf.reshape(tf.range(9.0), [3, 3])
    message = raises(IndexError, lambda: tf.gather(params, indices, axis=axis), "gather", "size 3")
    assert re.search(rf"index {re.escape(bad)}\b", message), message


def test_out_of_range_labels_raise_invalid_argument_error() -> None:
    """TF 2.21: InvalidArgumentError "Received a label value of 3 which is outside the valid range of [0, 3)"."""
    raises(tf.errors.InvalidArgumentError, lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.constant([0, 3]), logits=tf.ones([2, 3])), "label 3")


def test_integer_division_by_zero() -> None:
    raises(ZeroDivisionError, lambda: tf.constant([1, 2]) // tf.constant([1, 0]), "floordiv", "zero")
    raises(ZeroDivisionError, lambda: tf.constant(1) % 0, "mod", "zero")
    np.testing.assert_array_equal((tf.constant([1.0, -1.0]) / 0.0).numpy(), [np.inf, -np.inf])  # floats: IEEE


def test_integer_to_negative_power() -> None:
    raises(ValueError, lambda: tf.pow(tf.constant(2), -1), "pow", "negative")


def test_variable_assign_checks_shape() -> None:
    v = tf.Variable([1.0, 2.0])
    raises(ValueError, lambda: v.assign([1.0, 2.0, 3.0]), "(3,)", "(2,)")
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])  # unchanged by the failed assign


def test_gradient_tape_watch_rejects_non_tensors() -> None:
    with tf.GradientTape() as tape:
        raises(ValueError, lambda: tape.watch("x"), "watch", "str")
