"""Keras layers against numpy references: outputs, shapes, weights, gradients (float64 finite differences through
engine.testing.check_grads where a layer is a function of its input)."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine.keras import layers


def _np(t):
    return np.asarray(t.numpy())


def test_dense_matches_numpy_and_keras_defaults() -> None:
    tf.keras.utils.set_random_seed(0)
    layer = layers.Dense(5, activation="relu")
    x = np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)
    y = layer(x)
    k, b = layer.kernel.numpy(), layer.bias.numpy()
    limit = np.sqrt(6.0 / (3 + 5))                       # glorot_uniform
    assert np.all(np.abs(k) <= limit) and k.std() > 0.1 * limit
    assert np.all(b == 0)                                # zeros bias
    np.testing.assert_allclose(_np(y), np.maximum(x @ k + b, 0), rtol=1e-6)
    assert [w.name for w in layer.weights] == [f"{layer.name}/kernel:0", f"{layer.name}/bias:0"]
    assert layer.count_params() == 3 * 5 + 5


def test_dense_on_rank3_input_contracts_last_axis() -> None:
    layer = layers.Dense(2, kernel_initializer="ones", bias_initializer=tf.keras.initializers.Constant(0.5))
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_allclose(_np(layer(x)), x.sum(-1, keepdims=True).repeat(2, -1) + 0.5)


def test_dense_autocasts_float64_input_to_float32() -> None:
    layer = layers.Dense(1, kernel_initializer="ones")
    assert layer(np.ones((2, 3))).dtype == tf.float32


def test_flatten_reshape_activation() -> None:
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 12
    np.testing.assert_array_equal(_np(layers.Flatten()(x)), x.reshape(2, 12))
    np.testing.assert_array_equal(_np(layers.Reshape((4, 3))(x)), x.reshape(2, 4, 3))
    np.testing.assert_array_equal(_np(layers.Activation("relu")(x)), np.maximum(x, 0))
    assert layers.Reshape((-1, 2)).compute_output_shape((None, 3, 4)) == (None, 6, 2)


def test_dropout_training_and_inference() -> None:
    layer = layers.Dropout(0.25, seed=3)
    x = np.ones((200, 50), np.float32)
    np.testing.assert_array_equal(_np(layer(x)), x)                 # inference: identity
    y = _np(layer(x, training=True))
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.02


def test_batch_normalization_training_updates_moving_statistics() -> None:
    layer = layers.BatchNormalization(momentum=0.9, epsilon=1e-3)
    x = np.random.default_rng(2).normal(3.0, 2.0, size=(64, 4)).astype(np.float32)
    y = _np(layer(x, training=True))
    mean, var = x.mean(0), x.var(0)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.9 + 0.1 * var, rtol=1e-5)
    y_inf = _np(layer(x, training=False))
    np.testing.assert_allclose(y_inf, (x - 0.1 * mean) / np.sqrt(0.9 + 0.1 * var + 1e-3), rtol=1e-4)
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2


def test_layer_normalization() -> None:
    x = np.random.default_rng(3).normal(size=(5, 6)).astype(np.float32)
    y = _np(layers.LayerNormalization(epsilon=1e-3)(x))
    ref = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-5)


def test_embedding_and_merges() -> None:
    emb = layers.Embedding(10, 3)
    idx = np.array([[1, 2], [9, 0]])
    out = _np(emb(idx))
    np.testing.assert_array_equal(out, emb.embeddings.numpy()[idx])
    a, b = np.ones((2, 3), np.float32), np.full((2, 3), 2.0, np.float32)
    np.testing.assert_array_equal(_np(layers.Add()([a, b])), a + b)
    np.testing.assert_array_equal(_np(layers.Concatenate()([a, b])), np.concatenate([a, b], -1))
    np.testing.assert_array_equal(_np(layers.Average()([a, b])), (a + b) / 2)
    with pytest.raises(ValueError, match="at least 2"):
        layers.Add()([a])


def test_layer_subclass_with_add_weight_and_gradients() -> None:
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

        def call(self, x):
            return x * self.w

    layer = Scale()
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x) ** 2)
    (g,) = tape.gradient(loss, layer.trainable_variables)
    np.testing.assert_allclose(g.numpy(), (2 * x.numpy() ** 2).sum(0))
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 1


def test_dense_gradients_match_finite_differences() -> None:
    layer = layers.Dense(3, activation="tanh", dtype="float64")
    layer.build((None, 4))
    x = np.random.default_rng(4).normal(size=(2, 4))

    def f(x):
        return tf.reduce_sum(layer(x) ** 2)
    tf.testing.check_grads(f, (x,), order=1, modes=("rev",))


def test_get_config_round_trip_and_unknown_kwargs() -> None:
    layer = layers.Dense(4, activation="sigmoid", name="d")
    clone = layers.Dense.from_config(layer.get_config())
    assert clone.units == 4 and clone.activation is tf.keras.activations.sigmoid and clone.name == "d"
    with pytest.raises(TypeError, match="unrecognized keyword"):
        layers.Dense(3, foo=1)
    with pytest.raises(ValueError, match="positive integer"):
        layers.Dense(0)
