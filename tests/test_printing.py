"""How tensors, Variables, shapes and dtypes print, and how they convert to Python and numpy values: TensorFlow's
layout exactly, with the `engine.` prefix where TensorFlow writes `tf.`.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import engine as tf


# ---- str / print -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, text", [
    (lambda: tf.constant([5, 7, 9]), "engine.Tensor([5 7 9], shape=(3,), dtype=int32)"),
    (lambda: tf.constant([1, 2, 3]) + 4, "engine.Tensor([5 6 7], shape=(3,), dtype=int32)"),
    (lambda: tf.matmul(tf.constant([[1, 2], [3, 4]]), tf.constant([[5, 6], [7, 8]])),
     "engine.Tensor(\n[[19 22]\n [43 50]], shape=(2, 2), dtype=int32)"),
    (lambda: tf.constant(1.5), "engine.Tensor(1.5, shape=(), dtype=float32)"),
    (lambda: tf.reduce_sum(tf.constant([1.0, 2.0, 3.0]) ** 2), "engine.Tensor(14.0, shape=(), dtype=float32)"),
    (lambda: tf.constant(3), "engine.Tensor(3, shape=(), dtype=int32)"),
    (lambda: tf.constant(True), "engine.Tensor(True, shape=(), dtype=bool)"),
    (lambda: tf.constant([True, False]), "engine.Tensor([ True False], shape=(2,), dtype=bool)"),
    (lambda: tf.constant([1.0, 2.5]), "engine.Tensor([1.  2.5], shape=(2,), dtype=float32)"),
    (lambda: tf.constant([1, 2], tf.int64), "engine.Tensor([1 2], shape=(2,), dtype=int64)"),
    (lambda: tf.constant(0.1), "engine.Tensor(0.1, shape=(), dtype=float32)"),
    (lambda: tf.constant([], tf.int64), "engine.Tensor([], shape=(0,), dtype=int64)"),
    (lambda: tf.zeros([2, 0]), "engine.Tensor([], shape=(2, 0), dtype=float32)"),
    (lambda: tf.reshape(tf.range(8.0, dtype=tf.float64), [2, 2, 2]),
     "engine.Tensor(\n[[[0. 1.]\n  [2. 3.]]\n\n [[4. 5.]\n  [6. 7.]]], shape=(2, 2, 2), dtype=float64)"),
    (lambda: tf.range(2000), "engine.Tensor([   0    1    2 ... 1997 1998 1999], shape=(2000,), dtype=int32)"),
], ids=["vector", "add", "matmul", "scalar", "reduce", "int-scalar", "bool-scalar", "bool", "float", "int64",
        "tenth", "empty", "empty-2d", "3d", "summarized"])
def test_str_and_print(make: Any, text: str, capsys: pytest.CaptureFixture) -> None:
    t = make()
    assert str(t) == text
    print(t)
    assert capsys.readouterr().out == text + "\n"


# ---- repr ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, text", [
    (lambda: tf.constant([5, 7, 9]), "<engine.Tensor: shape=(3,), dtype=int32, numpy=array([5, 7, 9], dtype=int32)>"),
    (lambda: tf.constant(1.5), "<engine.Tensor: shape=(), dtype=float32, numpy=1.5>"),
    (lambda: tf.constant([1.0, 2.0], tf.float64), "<engine.Tensor: shape=(2,), dtype=float64, numpy=array([1., 2.])>"),
    (lambda: tf.constant([True, False]), "<engine.Tensor: shape=(2,), dtype=bool, numpy=array([ True, False])>"),
    (lambda: tf.constant([[1.0, 2.0], [3.0, 4.0]]),
     "<engine.Tensor: shape=(2, 2), dtype=float32, numpy=\narray([[1., 2.],\n       [3., 4.]], dtype=float32)>"),
], ids=["vector", "scalar", "float64", "bool", "matrix"])
def test_tensor_repr(make: Any, text: str) -> None:
    assert repr(make()) == text


def test_variable_repr_and_str() -> None:
    v = tf.Variable([1.0, 2.0])
    text = "<engine.Variable 'Variable:0' shape=(2,) dtype=float32, numpy=array([1., 2.], dtype=float32)>"
    assert repr(v) == text
    assert str(v) == text
    assert repr(tf.Variable(3, name="step")) == "<engine.Variable 'step:0' shape=() dtype=int32, numpy=3>"
    m = tf.Variable([[1, 2], [3, 4]])
    assert repr(m) == ("<engine.Variable 'Variable:0' shape=(2, 2) dtype=int32, numpy=\n"
                       "array([[1, 2],\n       [3, 4]], dtype=int32)>")
    v.assign([5.0, 6.5])
    assert repr(v).endswith("numpy=array([5. , 6.5], dtype=float32)>")


# ---- shapes and dtypes -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dims, text, rep", [
    ([2, 2], "(2, 2)", "TensorShape([2, 2])"),
    ([3], "(3,)", "TensorShape([3])"),
    ([], "()", "TensorShape([])"),
    ([2, 0, 4], "(2, 0, 4)", "TensorShape([2, 0, 4])"),
])
def test_tensor_shape(dims: list, text: str, rep: str) -> None:
    shape = tf.zeros(dims).shape
    assert str(shape) == text
    assert repr(shape) == rep
    assert shape == dims and shape == tuple(dims) and shape.as_list() == dims
    assert shape.rank == len(dims) and len(shape) == len(dims)
    assert shape.num_elements() == int(np.prod(dims))
    assert f"shape={shape}" == f"shape={text}"


def test_dtype_printing() -> None:
    assert repr(tf.float32) == "engine.float32"
    assert str(tf.float32) == "<dtype: 'float32'>"
    assert tf.int64.name == "int64" and repr(tf.bool) == "engine.bool"
    assert tf.constant([1, 2]).dtype is tf.int32
    assert tf.as_dtype(np.float64) is tf.float64 and tf.as_dtype("int64") is tf.int64


# ---- format and conversions ------------------------------------------------------------------------------------------
def test_format_of_scalars() -> None:
    assert format(tf.constant(3.14159), ".2f") == "3.14"
    assert f"{tf.constant(7):03d}" == "007"
    assert f"{tf.constant(2.5, tf.float64):>6.1f}" == "   2.5"
    assert f"{tf.Variable(0.125):.3e}" == "1.250e-01"
    # Like TensorFlow, formatting formats the numpy value, not the str form.
    assert f"loss {tf.constant(2.5)}" == "loss 2.5"
    assert f"{tf.constant([1, 2])}" == "[1 2]" and format(tf.constant([[True]])) == "[[ True]]"
    for value in (np.float32(0.1), np.float64(1 / 3), np.int64(-5), np.bool_(True), np.arange(3.0)):
        assert f"{tf.constant(value)}" == f"{value}"


def test_python_scalar_conversions() -> None:
    assert bool(tf.constant(0.0)) is False and bool(tf.constant(3)) is True and bool(tf.constant([[True]])[0, 0])
    assert int(tf.constant(2.7)) == 2 and int(tf.constant(-2.7)) == -2
    assert float(tf.constant(2)) == 2.0 and isinstance(float(tf.constant(2)), float)
    assert float(tf.constant(0.1)) == float(np.float32(0.1))
    assert complex(tf.constant(1.5)) == 1.5 + 0j
    assert [10, 20, 30][tf.constant(2)] == 30 and list(range(tf.constant(3))) == [0, 1, 2]
    assert int(tf.Variable(4)) == 4 and float(tf.Variable(0.5)) == 0.5 and bool(tf.Variable(True))


def test_numpy_conversions() -> None:
    t = tf.constant([[1, 2], [3, 4]])
    a = np.asarray(t)
    assert a.dtype == np.int32 and a.shape == (2, 2)
    np.testing.assert_array_equal(a, [[1, 2], [3, 4]])
    f = np.array(t, dtype=np.float64)
    assert f.dtype == np.float64 and f[1, 1] == 4.0
    assert isinstance(t.numpy(), np.ndarray) and t.numpy().dtype == np.int32
    s = tf.constant(1.5).numpy()
    assert isinstance(s, np.float32) and s == 1.5  # a scalar tensor gives a numpy scalar, as TensorFlow does
    assert np.asarray(tf.constant(True)).dtype == np.bool_
    v = tf.Variable([1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(v), np.array([1.0, 2.0], np.float32))
    assert np.asarray(v).dtype == np.float32
    np.testing.assert_array_equal(np.sum(tf.constant([1.0, 2.0])), 3.0)  # numpy functions accept tensors


def test_len_and_iteration() -> None:
    t = tf.constant([[1, 2], [3, 4], [5, 6]])
    assert len(t) == 3
    rows = list(t)
    assert len(rows) == 3 and all(isinstance(r, tf.Tensor) for r in rows)
    assert str(rows[2]) == "engine.Tensor([5 6], shape=(2,), dtype=int32)"
