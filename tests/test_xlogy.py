"""tf.math.xlogy, the worked example of adding an op (one row in ir/ops_elementwise.py, one LLVM rule in
codegen/rules/elementwise.py, one public function in engine/math.py): values and gradients eager, interpreted and
compiled, against TensorFlow 2.21's answers (run with /work/tfvenv, hard-coded here) and float64 central
differences.
"""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from oracles import directional_fd

X = np.array([0.0, 0.0, 0.0, 2.0, 1.5, np.nan, 0.0, -1.0, 3.0], np.float32)
Y = np.array([0.0, np.nan, -1.0, 0.0, 2.5, 1.0, np.inf, 4.0, -2.0], np.float32)
# TF 2.21's tf.math.xlogy(X, Y) and tape gradients with respect to X and Y
TF_VALUE = [0.0, 0.0, 0.0, -np.inf, 1.3744361400604248, np.nan, 0.0, -1.3862943649291992, np.nan]
TF_DX = [0.0, 0.0, 0.0, -np.inf, 0.9162907600402832, 0.0, 0.0, 1.3862943649291992, np.nan]
TF_DY = [0.0, 0.0, 0.0, np.inf, 0.6000000238418579, np.nan, 0.0, -0.25, -1.5]

RUNS = {"eager": lambda f: f, "compiled": tf.function, "interpreted": lambda f: tf.function(f, jit_compile=False)}


@pytest.mark.parametrize("run", sorted(RUNS))
def test_values_and_gradients_match_tf_at_the_special_points(run: str) -> None:
    def f(x, y):  # type: ignore[no-untyped-def]
        with tf.GradientTape() as t:
            t.watch([x, y])
            z = tf.math.xlogy(x, y)
        return (z,) + tuple(t.gradient(z, [x, y]))

    z, dx, dy = RUNS[run](f)(tf.constant(X), tf.constant(Y))
    np.testing.assert_allclose(z.numpy(), TF_VALUE, rtol=1e-6)
    np.testing.assert_allclose(dx.numpy(), TF_DX, rtol=1e-6)
    np.testing.assert_allclose(dy.numpy(), TF_DY, rtol=1e-6)


def test_broadcasting_float64_matches_tf_and_central_differences() -> None:
    a0 = np.array([[0.5, 0.0], [2.0, 1.0]])
    b0 = np.array([1.5, 3.0])
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    a, b = tf.constant(a0), tf.constant(b0)
    with tf.GradientTape() as t:
        t.watch([a, b])
        z = tf.math.xlogy(a, b)
        s = tf.reduce_sum(z * w)
    ga, gb = t.gradient(s, [a, b])
    # TF 2.21
    np.testing.assert_allclose(z.numpy(), [[0.2027325540540822, 0.0], [0.8109302162163288, 1.0986122886681096]])
    np.testing.assert_allclose(ga.numpy(), [[0.4054651081081644, 0.0], [1.2163953243244932, 4.394449154672438]])
    np.testing.assert_allclose(gb.numpy(), [4.333333333333333, 1.3333333333333333])
    da, db = np.array([[0.3, -0.2], [0.7, 0.1]]), np.array([-0.4, 0.9])
    # away from x == 0, where xlogy is smooth: move the zero entry's direction to 0
    da[0, 1] = 0.0
    fd = directional_fd(lambda a, b: float(np.sum(a * np.log(b) * w)), [a0, b0], [da, db])
    assert float(np.sum(ga.numpy() * da) + np.sum(gb.numpy() * db)) == pytest.approx(fd, rel=1e-8)


def test_python_number_and_integer_operands() -> None:
    assert float(tf.math.xlogy(2.0, tf.constant(3.0))) == pytest.approx(2.1972246, rel=1e-7)  # TF 2.21
    with pytest.raises(TypeError):  # TF 2.21 raises InvalidArgumentError: xlogy has no integer kernel
        tf.math.xlogy(tf.constant([1, 2]), tf.constant([1, 2]))
