"""keras.mixed_precision: policies (compute in float16/bfloat16, Variables in float32, losses in float32) and
LossScaleOptimizer (unscaling, skipping non-finite steps, dynamic growth), eager and compiled."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf


@pytest.fixture
def mixed():
    tf.keras.mixed_precision.set_global_policy("mixed_float16")
    yield
    tf.keras.mixed_precision.set_global_policy("float32")


def test_policies() -> None:
    p = tf.keras.mixed_precision.Policy("mixed_bfloat16")
    assert (p.compute_dtype, p.variable_dtype) == ("bfloat16", "float32")
    assert tf.keras.mixed_precision.Policy("float64").compute_dtype == "float64"
    with pytest.raises(ValueError, match="mixed precision Policy"):
        tf.keras.mixed_precision.Policy("mixed_float8")
    assert tf.keras.mixed_precision.global_policy().name == "float32"


def test_layers_compute_in_half_and_keep_float32_variables(mixed) -> None:
    layer = tf.keras.layers.Dense(3, kernel_initializer="ones")
    y = layer(np.ones((2, 4), np.float32))
    assert y.dtype == tf.float16 and layer.kernel.dtype == tf.float32
    np.testing.assert_array_equal(y.numpy(), np.full((2, 3), 4.0, np.float16))
    bn = tf.keras.layers.BatchNormalization()
    assert bn(y, training=True).dtype == tf.float16 and bn.moving_mean.dtype == tf.float32
    loss = tf.keras.losses.MeanSquaredError()(np.zeros((2, 3)), y)
    assert loss.dtype == tf.float32 and float(loss) == 16.0


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_loss_scale_optimizer(mixed, compiled) -> None:
    w = tf.Variable([1.0, 2.0])
    opt = tf.keras.mixed_precision.LossScaleOptimizer(tf.keras.optimizers.SGD(0.5), initial_scale=8.0,
                                                      dynamic_growth_steps=2)

    def step(scale_by):
        with tf.GradientTape() as t:
            loss = tf.reduce_sum(w * w) * scale_by
            scaled = opt.scale_loss(loss)
        opt.apply_gradients(zip(t.gradient(scaled, [w]), [w]))
    run = tf.function(step) if compiled else step
    run(tf.constant(1.0))                    # grad 2w = [2, 4], unscaled: w -= 0.5 * [2, 4]
    np.testing.assert_allclose(w.numpy(), [0.0, 0.0])
    assert float(opt.loss_scale.numpy()) == 8.0
    run(tf.constant(1.0))                    # second good step: the scale doubles
    assert float(opt.loss_scale.numpy()) == 16.0
    w.assign([1.0, 1.0])
    run(tf.constant(np.inf))                 # non-finite gradients: step skipped, scale halved
    np.testing.assert_array_equal(w.numpy(), [1.0, 1.0])
    assert float(opt.loss_scale.numpy()) == 8.0


def test_fit_under_a_mixed_policy(mixed) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 8)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = tf.keras.Sequential([tf.keras.layers.Dense(16, activation="relu", input_shape=(8,)),
                                 tf.keras.layers.Dense(2)])
    model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    hist = model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert all(w.dtype == tf.float32 for w in model.weights)
