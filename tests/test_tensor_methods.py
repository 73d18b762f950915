"""The operators installed on tensors by `engine.ops.tensor_methods`, and the packing of lists that hold tensors
(`engine.convert`): values against numpy, gradients against float64 central differences, errors as TensorFlow's.
"""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf


def test_every_operator_is_installed_on_tensors_and_variables():
    names = ["add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor"]
    dunders = [f"__{n}__" for n in names] + [f"__r{n}__" for n in names] + \
        [f"__{n}__" for n in ("neg", "abs", "invert", "pos", "lt", "le", "gt", "ge", "eq", "ne", "getitem")]
    for cls in (tf.Tensor, tf.Variable):
        missing = [d for d in dunders if getattr(cls, d, None) in (None, getattr(object, d, None))]
        assert not missing, (cls, missing)


def test_arithmetic_and_indexing_dunders_match_numpy():
    a = np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]], np.float32)
    b = np.array([[2.0, 1.0, -3.0], [1.0, 2.0, 0.5]], np.float32)
    x, y = tf.constant(a), tf.constant(b)
    for got, want in [(x + y, a + b), (x - y, a - b), (x * y, a * b), (x / y, a / b), (x // y, a // b),
                      (x % y, np.mod(a, b)), (2.0 ** x, 2.0 ** a), (3 - x, 3 - a), (-x, -a), (abs(x), np.abs(a)),
                      (+x, a), (x @ tf.transpose(y), a @ b.T), (x[1, ::-1], a[1, ::-1]), (x < y, a < b),
                      (x >= 1.5, a >= 1.5)]:
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    v = tf.Variable(a)
    np.testing.assert_allclose((v * 2.0)[0].numpy(), a[0] * 2)


def test_bool_operators_are_logical():
    p, q = np.array([True, True, False, False]), np.array([True, False, True, False])
    tp, tq = tf.constant(p), tf.constant(q)
    for got, want in [(tp & tq, p & q), (tp | tq, p | q), (tp ^ tq, p ^ q), (~tp, ~p), (True ^ tp, True ^ p),
                      (tp & True, p & True)]:
        assert got.dtype is tf.bool
        np.testing.assert_array_equal(got.numpy(), want)


def test_integer_bit_operators_are_bitwise():
    a, b = np.array([1, 2, 12], np.int32), np.array([3, 6, 10], np.int32)
    ta, tb = tf.constant(a), tf.constant(b)
    # TF 2.21: a & b = [1 2 8], a | b = [3 6 14], a ^ b = [2 4 6], ~a = [-2 -3 -13], 3 & a = [1 2 0].
    for got, want in [(ta & tb, [1, 2, 8]), (ta | tb, [3, 6, 14]), (ta ^ tb, [2, 4, 6]), (~ta, [-2, -3, -13]),
                      (3 & ta, [1, 2, 0])]:
        assert got.dtype is tf.int32
        np.testing.assert_array_equal(got.numpy(), want)


def test_shift_operators_are_not_defined_on_tensors():
    # TF 2.21: `tf.constant([1]) << 1` is a TypeError (unsupported operand); tf.bitwise.left_shift is the op.
    with pytest.raises(TypeError):
        tf.constant([1]) << 1
    with pytest.raises(TypeError):
        1 >> tf.constant([1])


def test_bit_operators_refuse_floats_and_mixed_dtypes():
    # TF 2.21 refuses both (BitwiseAnd is not defined for float; int32 and bool do not mix).
    with pytest.raises(TypeError, match="dtype float32"):
        tf.constant([1.0]) & tf.constant([1.0])
    with pytest.raises(TypeError, match="dtype float32"):
        ~tf.constant([1.0])
    with pytest.raises(TypeError, match="cannot mix dtypes"):
        tf.constant([1]) & tf.constant([True])


def test_a_list_of_tensors_packs_like_numpy_stack():
    a = tf.constant([1.0, 2.0])
    packed = tf.convert_to_tensor([a, [3.0, 4.0], np.array([5.0, 6.0], np.float64)])
    assert packed.dtype is tf.float32  # the numpy item takes the first tensor's dtype
    np.testing.assert_array_equal(packed.numpy(), [[1, 2], [3, 4], [5, 6]])
    nested = tf.constant([[a, a], [a * 2, a * 3]])
    np.testing.assert_array_equal(nested.numpy(), [[[1, 2], [1, 2]], [[2, 4], [3, 6]]])
    # TF 2.21: Python lists anywhere in the structure take the dtype of the first tensor in it.
    for value, want in [([[1, 2], a], [[1, 2], [1, 2]]), ([1, tf.constant(2.0)], [1, 2]),
                        ([[a, [3, 4]], [a, a]], [[[1, 2], [3, 4]], [[1, 2], [1, 2]]])]:
        got = tf.convert_to_tensor(value)
        assert got.dtype is tf.float32
        np.testing.assert_array_equal(got.numpy(), want)
    with pytest.raises(TypeError):  # TF 2.21: "Cannot convert [1.5, 2] to EagerTensor of dtype int32"
        tf.convert_to_tensor([[1.5, 2], tf.constant([1, 2])])
    np.testing.assert_array_equal(tf.convert_to_tensor([tf.constant(7)]).numpy(), [7])
    with pytest.raises(TypeError, match="dtypes"):
        tf.convert_to_tensor([a, tf.constant([1, 2])])
    with pytest.raises(ValueError, match="same shape"):
        tf.convert_to_tensor([a, tf.constant([1.0])])


def test_packing_records_on_the_tape_and_traces():
    x = tf.Variable(np.array([0.3, -1.2], np.float64))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.convert_to_tensor([tf.sin(x), x * x]) * tf.constant([[1.0], [2.0]], tf.float64))
    got = tape.gradient(y, x).numpy()

    def f(v: np.ndarray) -> float:
        return float(np.sum(np.sin(v) + 2 * v * v))

    eps, v0 = 1e-6, x.numpy()
    want = [(f(v0 + eps * e) - f(v0 - eps * e)) / (2 * eps) for e in np.eye(2)]
    np.testing.assert_allclose(got, want, rtol=1e-7)

    @tf.function
    def g(v):
        return tf.convert_to_tensor([v, v + 1.0])

    np.testing.assert_array_equal(g(tf.constant([1.0, 2.0])).numpy(), [[1, 2], [2, 3]])


def test_constant_keeps_its_import_paths():
    from engine.ops import constant
    from engine.ops.constant_op import constant as constant_op
    assert tf.constant is constant is constant_op
    np.testing.assert_array_equal(tf.constant(2.0, shape=(2, 2)).numpy(), np.full((2, 2), 2.0, np.float32))


def test_bool_product_goes_through_int32_as_tensorflows_operator():
    # TensorFlow 2.21: [True, False] * 2 -> [True, False]; * 0.5 -> [False, False] (0.5 casts to 0);
    # [3, 0] * [True, True] -> [True, False]; 2 * [True, False] and [True] + 2 raise.
    b = tf.constant([True, False])
    for got, want in [(b * 2, [True, False]), (b * 0.5, [False, False]), (b * -1, [True, False]),
                      (tf.constant([3, 0]) * tf.constant([True, True]), [True, False])]:
        assert got.dtype is tf.bool
        np.testing.assert_array_equal(got.numpy(), want)
    with pytest.raises(TypeError):
        2 * b
    with pytest.raises(tf.errors.InvalidArgumentError):
        b + tf.constant([True, True])
    with pytest.raises(TypeError):
        tf.multiply(b, b)


MIXED = [
    lambda: tf.constant([1, 2]) + tf.constant([1.0, 2.0]),
    lambda: tf.constant(1.0) * tf.constant(1.0, tf.float64),
    lambda: tf.constant(1) + tf.constant(1, tf.int64),
    lambda: tf.constant([1, 2]) + 1.5,
    lambda: tf.constant([True]) + tf.constant([False]),
    lambda: tf.where(tf.constant([True]), tf.constant([1]), tf.constant([1.0])),
    lambda: tf.concat([tf.constant([1]), tf.constant([1.0])], 0),
    lambda: tf.logical_and(tf.constant([True]), tf.constant([1])),
    lambda: tf.sin(tf.constant(1)),
    lambda: tf.gather(tf.constant([1, 2]), tf.constant([0.5])),
    lambda: tf.reduce_sum(tf.constant([True])),
    lambda: tf.reduce_any(tf.constant([1])),
    lambda: tf.matmul(tf.constant([[True]]), tf.constant([[True]])),
    lambda: tf.where(tf.constant([1]), tf.constant([1]), tf.constant([2])),
    lambda: tf.one_hot(tf.constant([0.0]), 2),
    lambda: tf.cumsum(tf.constant([True])),
]


@pytest.mark.parametrize("program", MIXED)
def test_dtype_mismatch_is_tensorflows_class_eagerly_and_traced(program):
    # TensorFlow 2.21 raises InvalidArgumentError for each of these eagerly and TypeError inside tf.function.
    with pytest.raises(tf.errors.InvalidArgumentError):
        program()
    with pytest.raises(TypeError):
        tf.function(lambda: program())()


def test_conversion_to_another_dtype_is_value_error():
    # TensorFlow 2.21: ValueError "Tensor conversion requested dtype float32 for Tensor with dtype int32", for
    # convert_to_tensor and for Variable.assign / assign_add, eagerly and traced.
    v = tf.Variable(1.0)
    for program in [lambda: tf.convert_to_tensor(tf.constant([1, 2]), dtype=tf.float32),
                    lambda: v.assign(tf.constant(2)), lambda: v.assign_add(tf.constant(2))]:
        with pytest.raises(ValueError, match="dtype"):
            program()
        with pytest.raises(ValueError, match="dtype"):
            tf.function(lambda: program())()
    assert float(v) == 1.0


def test_numpy_of_a_traced_tensor_is_attribute_error():
    # TensorFlow 2.21: AttributeError ('SymbolicTensor' object has no attribute 'numpy').
    with pytest.raises(AttributeError):
        tf.function(lambda x: x.numpy() * 2)(tf.constant(3))
    assert tf.constant(3).numpy() == 3


def test_numpy_values_convert_to_a_requested_dtype():
    # TF 2.21: convert_to_tensor(np.array([1.5, 2.7]), dtype=tf.int32) is [1, 2]; [1, 2] to float32 [1.0, 2.0];
    # packing tensors of two dtypes is a ValueError.
    for value, dtype, want in [(np.array([1.5, 2.7]), tf.int32, [1, 2]), (np.array([1, 2]), tf.float32, [1.0, 2.0]),
                               (np.array([1, 0]), tf.bool, [True, False]), (np.float64(1.5), tf.int32, 1)]:
        t = tf.convert_to_tensor(value, dtype=dtype)
        assert t.dtype is dtype
        np.testing.assert_array_equal(t.numpy(), want)
    with pytest.raises(ValueError):
        tf.constant([tf.constant(1), tf.constant(1.0)])
