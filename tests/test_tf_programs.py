"""TensorFlow 2 eager programs that run unchanged with `import engine as tf` (the foundation's acceptance).

Each program is written as a TF 2 user would write it; the oracle is numpy (closed-form least squares, numpy
statistics) or the exact printed text TensorFlow shows.
"""
import numpy as np

import engine as tf


def test_linear_regression_with_gradient_tape_and_sgd() -> None:
    rng = np.random.default_rng(0)
    xs = rng.uniform(-1, 1, size=200).astype(np.float32)
    ys = (3.0 * xs + 2.0 + rng.normal(0, 0.05, size=200)).astype(np.float32)
    x = tf.constant(xs)
    y = tf.constant(ys)
    w = tf.Variable(0.0)
    b = tf.Variable(0.0)
    opt = tf.keras.optimizers.SGD(learning_rate=0.1)
    for _ in range(300):
        with tf.GradientTape() as tape:
            pred = w * x + b
            loss = tf.reduce_mean(tf.square(pred - y))
        grads = tape.gradient(loss, [w, b])
        opt.apply_gradients(zip(grads, [w, b]))
    slope, intercept = np.polyfit(xs.astype(np.float64), ys.astype(np.float64), 1)
    assert abs(float(w) - slope) < 1e-3
    assert abs(float(b) - intercept) < 1e-3


def test_matmul_least_squares_with_apply_gradients() -> None:
    rng = np.random.default_rng(1)
    a_np = rng.normal(size=(64, 4)).astype(np.float32)
    b_np = rng.normal(size=(64, 1)).astype(np.float32)
    a = tf.constant(a_np)
    target = tf.constant(b_np)
    w = tf.Variable(tf.zeros([4, 1]))
    opt = tf.optimizers.SGD(learning_rate=0.05)
    for _ in range(500):
        with tf.GradientTape() as tape:
            residual = tf.matmul(a, w) - target
            loss = tf.reduce_sum(residual * residual) / 64.0
        g = tape.gradient(loss, w)
        opt.apply_gradients([(g, w)])
    expected, *_ = np.linalg.lstsq(a_np.astype(np.float64), b_np.astype(np.float64), rcond=None)
    np.testing.assert_allclose(w.numpy(), expected, atol=2e-3)


def test_data_normalization_with_python_if_on_a_tensor() -> None:
    tf.random.set_seed(42)
    data = tf.random.normal([1000, 3], mean=5.0, stddev=2.0)
    mean = tf.reduce_mean(data, axis=0)
    std = tf.math.reduce_std(data, axis=0)
    lo, hi = tf.reduce_min(data), tf.reduce_max(data)
    if tf.reduce_max(std) > 1.0:          # a Python `if` on a scalar tensor comparison, eagerly
        normalized = (data - mean) / std
    else:
        normalized = data - mean
    d = data.numpy().astype(np.float64)
    np.testing.assert_allclose(mean.numpy(), d.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(std.numpy(), d.std(axis=0), rtol=1e-4)
    assert float(lo) == d.min() and float(hi) == d.max()
    np.testing.assert_allclose(normalized.numpy(), (d - d.mean(axis=0)) / d.std(axis=0), atol=1e-4)
    np.testing.assert_allclose(tf.reduce_mean(normalized, axis=0).numpy(), 0.0, atol=1e-5)
    np.testing.assert_allclose(tf.math.reduce_std(normalized, axis=0).numpy(), 1.0, rtol=1e-4)


def test_int32_arithmetic_and_matmul_print_like_tensorflow(capsys) -> None:  # type: ignore[no-untyped-def]
    a = tf.constant([[1, 2], [3, 4]])
    b = tf.constant([[5, 6], [7, 8]])
    print(tf.matmul(a, b))
    print(a + b)
    print(a * 2 - 1)
    out = capsys.readouterr().out
    assert out == ("engine.Tensor(\n[[19 22]\n [43 50]], shape=(2, 2), dtype=int32)\n"
                   "engine.Tensor(\n[[ 6  8]\n [10 12]], shape=(2, 2), dtype=int32)\n"
                   "engine.Tensor(\n[[1 3]\n [5 7]], shape=(2, 2), dtype=int32)\n")
    assert (a @ b).dtype == tf.int32
