"""`engine.print` writes what TensorFlow 2.21's `tf.print` writes, character for character (the expected texts are
TF 2.21's output for the same calls, recorded with tensorflow-cpu 2.21.0)."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf

F32 = [(1e20, "1e+20"), (123456789012.0, "1.23456791e+11"), (1.5e-5, "1.5e-05"), (0.00012345, "0.00012345"),
       (-0.0, "-0"), (1 / 3, "0.333333343"), (2.0 ** 60, "1.1529215e+18"), (1234567.0, "1234567"), (1e6, "1e+06"),
       (3.14159274, "3.14159274"), (12345678.0, "12345678"), (4.0, "4"), (np.nan, "nan"), (-np.inf, "-inf")]
F64 = [(123456789012.0, "123456789012"), (1 / 3, "0.33333333333333331"), (2.0 ** 60, "1.152921504606847e+18"),
       (1e6, "1000000"), (1e7, "10000000"), (0.1, "0.1")]
F16 = [(1.5e-5, "1.50203705e-05"), (1e-4, "0.000100016594"), (1 / 3, "0.333251953"), (1e6, "inf"), (1.5, "1.5")]


def printed(capsys: pytest.CaptureFixture, *values, **kwargs) -> str:
    capsys.readouterr()
    tf.print(*values, **kwargs)
    return capsys.readouterr().err


@pytest.mark.parametrize("dtype,cases", [(tf.float32, F32), (tf.float64, F64), (tf.float16, F16)])
def test_floats_print_with_tfs_digits(capsys: pytest.CaptureFixture, dtype, cases) -> None:
    for value, text in cases:
        assert printed(capsys, tf.constant(value, dtype)) == text + "\n", value


def test_arrays_bools_ints_and_summaries(capsys: pytest.CaptureFixture) -> None:
    assert printed(capsys, tf.constant([1.0, 2.5, 3.0])) == "[1 2.5 3]\n"
    assert printed(capsys, tf.constant([[1.0, 2.0], [3.0, 4.0]])) == "[[1 2]\n [3 4]]\n"
    assert printed(capsys, tf.constant([True, False]), tf.constant(True)) == "[1 0] 1\n"
    assert printed(capsys, tf.constant(3.0, tf.bfloat16), tf.constant(2 ** 40, tf.int64)) == "3 1099511627776\n"
    assert printed(capsys, tf.constant([[1, 2], [3, 4]], tf.uint8), tf.constant([-1, 2], tf.int8)) == \
        "[[1 2]\n [3 4]] [-1 2]\n"
    assert printed(capsys, tf.range(20.0)) == "[0 1 2 ... 17 18 19]\n"
    assert printed(capsys, tf.reshape(tf.range(8), [2, 2, 2])) == "[[[0 1]\n  [2 3]]\n\n [[4 5]\n  [6 7]]]\n"
    assert printed(capsys, tf.reshape(tf.range(100), [10, 10])) == (
        "[[0 1 2 ... 7 8 9]\n [10 11 12 ... 17 18 19]\n [20 21 22 ... 27 28 29]\n ...\n [70 71 72 ... 77 78 79]\n"
        " [80 81 82 ... 87 88 89]\n [90 91 92 ... 97 98 99]]\n")
    assert printed(capsys, tf.range(7), summarize=3) == "[0 1 2 ... 4 5 6]\n"
    assert printed(capsys, tf.range(6), summarize=3) == "[0 1 2 3 4 5]\n"
    assert printed(capsys, tf.range(3), summarize=0) == "[ ...]\n"
    assert printed(capsys, tf.range(12), summarize=-1) == "[0 1 2 3 4 5 6 7 8 9 10 11]\n"
    assert printed(capsys, "x", tf.constant(1e-8), tf.constant(np.float64(0.1))) == "x 1e-08 0.1\n"


def test_empty_tensors(capsys: pytest.CaptureFixture) -> None:
    assert printed(capsys, tf.zeros([0])) == "[]\n"
    assert printed(capsys, "|", tf.zeros([0, 3]), "|") == "| [] |\n"
    assert printed(capsys, "|", tf.zeros([2, 0]), "|") == "| [\n ...] |\n"
    assert printed(capsys, "|", tf.zeros([1, 2, 0]), "|") == "| [\n\n ...] |\n"


def test_compiled_prints_the_same_text(capsys: pytest.CaptureFixture) -> None:
    @tf.function
    def f(x):
        tf.print("in", x, x * 2)
        return x

    capsys.readouterr()
    f(tf.constant([1.0, 2.0]))
    assert capsys.readouterr().err == "in [1 2] [2 4]\n"
