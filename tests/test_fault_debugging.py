"""tf.debugging (issue 13): check_numerics, enable_check_numerics (eager and compiled), assert_shapes, assert_rank,
assert_near, assert_type, and the readable message of tf.Assert. Error types and the gist of each message are
TensorFlow 2.21's (obtained with /work/tfvenv and quoted in the comments)."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine.errors import InvalidArgumentError


@pytest.mark.parametrize("values, what", [([1.0, np.nan], "NaN"), ([1.0, np.inf], "Inf"),
                                          ([np.nan, -np.inf], "Inf and NaN")])
def test_check_numerics_eager(values, what) -> None:
    # TF 2.21: InvalidArgumentError "bad x : Tensor had NaN values [Op:CheckNumerics]" (and "Inf", "Inf and NaN")
    with pytest.raises(InvalidArgumentError, match=f"^bad x : Tensor had {what} values$"):
        tf.debugging.check_numerics(tf.constant(values), "bad x")
    ok = tf.constant([1.0, 2.0])
    assert tf.debugging.check_numerics(ok, "fine") is ok


def test_check_numerics_compiled() -> None:
    @tf.function(jit_compile=True)
    def f(x):
        return tf.debugging.check_numerics(tf.math.log(x), "log x") * 2.0

    np.testing.assert_allclose(f(tf.constant([1.0, 2.0])).numpy(), 2 * np.log([1.0, 2.0]), rtol=1e-6)
    with pytest.raises(InvalidArgumentError, match="log x : Tensor had NaN values"):
        f(tf.constant([1.0, -1.0]))
    with pytest.raises(InvalidArgumentError, match="log x : Tensor had Inf values"):
        f(tf.constant([1.0, 0.0]))


def test_enable_check_numerics_names_the_op_and_the_users_line() -> None:
    # TF 2.21: InvalidArgumentError '!!! Detected Infinity or NaN in output 0 of eagerly-executing op "Log" (# of
    # outputs: 1) !!! ... : Tensor had NaN values' eagerly, '... of graph op "Log" ...' (with the stack of the op's
    # creation) in a tf.function.
    @tf.function(jit_compile=True)
    def f(x):
        y = tf.math.log(x)  # line of the traced op
        return y * 2.0

    tf.debugging.enable_check_numerics()
    try:
        with pytest.raises(InvalidArgumentError, match=r'output 0 of eagerly-executing op "log" \(# of outputs: 1\) '
                                                       r'at .*test_fault_debugging.py:\d+ .*Tensor had NaN values'):
            tf.math.log(tf.constant([1.0, -1.0]))
        np.testing.assert_allclose(f(tf.constant([1.0, 3.0])).numpy(), 2 * np.log([1.0, 3.0]), rtol=1e-6)
        with pytest.raises(InvalidArgumentError) as info:
            f(tf.constant([1.0, -1.0]))
        line = f.python_function.__code__.co_firstlineno + 2  # the decorator line, def, then the log
        assert f'of graph op "log" (# of outputs: 1) at {__file__}:{line}' in str(info.value)
    finally:
        tf.debugging.disable_check_numerics()
    assert np.isnan(tf.math.log(tf.constant([-1.0])).numpy()[0])


def test_assert_rank() -> None:
    # TF 2.21: ValueError "Tensor  must have rank 2.  Received rank 1, shape (2,)"
    with pytest.raises(ValueError, match=r"must have rank 2.  Received rank 1, shape \(2,\)"):
        tf.debugging.assert_rank(tf.constant([1.0, 2.0]), 2)
    tf.debugging.assert_rank(tf.constant([[1.0]]), 2)


def test_assert_type() -> None:
    # TF 2.21: TypeError "tensor must be of type tf.int32; got tf.float32"
    with pytest.raises(TypeError, match="tensor must be of type int32; got float32"):
        tf.debugging.assert_type(tf.constant([1.0]), tf.int32)
    tf.debugging.assert_type(tf.constant([1]), tf.int32)


def test_assert_near() -> None:
    # TF 2.21: InvalidArgumentError "... x and y not equal to tolerance rtol = 1.1920929e-06, atol = 1.1920929e-06
    # ... x (shape=(2,) dtype=float32) = 1.0, 2.0 ..."
    with pytest.raises(InvalidArgumentError, match=r"x and y not equal to tolerance rtol = 1.19209e-06, "
                                                   r"atol = 1.19209e-06 x = \[1 2\] y = \[1 2.1\]"):
        tf.debugging.assert_near(tf.constant([1.0, 2.0]), tf.constant([1.0, 2.1]))
    tf.debugging.assert_near(tf.constant([1.0, 2.0]), tf.constant([1.0, 2.0000002]))
    tf.debugging.assert_near(tf.constant([1.0, 2.0]), tf.constant([1.0, 2.1]), atol=0.2)


def test_assert_shapes() -> None:
    # TF 2.21: ValueError "Specified by tensor shape=(2, 3) dtype=float32 dimension 0.  Tensor shape=(3, 3)
    # dtype=float32 dimension 0 must have size 2.  Received size 3, shape (3, 3)"
    with pytest.raises(ValueError, match=r"Specified by tensor shape=\(2, 3\) dtype=float32 dimension 0.  Tensor "
                                         r"shape=\(3, 3\) dtype=float32 dimension 0 must have size 2.  Received "
                                         r"size 3, shape \(3, 3\)"):
        tf.debugging.assert_shapes([(tf.ones([2, 3]), ("N", "Q")), (tf.ones([3, 3]), ("N", "D"))])
    tf.debugging.assert_shapes([(tf.ones([2, 3]), ("N", 3)), (tf.ones([2, 5]), ("N", None))])
    with pytest.raises(ValueError, match="must have rank 2"):
        tf.debugging.assert_shapes([(tf.ones([2]), ("N", "Q"))])


def test_assert_message_shows_each_value_where_it_stands() -> None:
    # TF 2.21: "Expected 'False' to be true. Summarized data: b'x =' / 1.0, -2.0 / b'y =' / 0"; before this change
    # Kiln printed "x = y = [[ 1. -2.] 0]".
    x, y = tf.constant([[1.0, -2.0]]), tf.constant(0)
    with pytest.raises(InvalidArgumentError, match=r"^assertion failed: x = \[\[1 -2\]\] y = 0$"):
        tf.debugging.Assert(False, ["x =", x, "y =", y])

    @tf.function(jit_compile=True)
    def f(x, y):
        tf.debugging.Assert(tf.reduce_all(x > 0.0), ["x =", x, "y =", y, "{braces}"])
        return x

    with pytest.raises(InvalidArgumentError, match=r"^assertion failed: x = \[\[1 -2\]\] y = 0 \{braces\}$"):
        f(x, y)
