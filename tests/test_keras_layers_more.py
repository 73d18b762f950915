"""The Keras layers beyond issue 11's list against numpy formulas: activation, reshaping, 1-D pooling, noise,
preprocessing layers and Conv2DTranspose (values, shapes, traced with an unknown batch dimension), gradients of the
layers with weights against float64 central differences, and saving round trips. TF's own answers for the same
layers are in tests/oracle/programs/keras_layers_more.py."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine.keras import layers

RNG = np.random.default_rng(7)


def _np(t):
    return np.asarray(t.numpy())


def _traced(layer, x, training=False):
    """The layer inside tf.function with the batch dimension None."""
    spec = [tf.TensorSpec([None] + list(x.shape[1:]), tf.as_dtype(x.dtype))]
    return _np(tf.function(lambda a: layer(a, training=training), input_signature=spec)(x))


def _fd_check_variable(loss, var, eps=1e-6, rtol=1e-6):
    """tape.gradient(loss, var) against a central difference of loss in a random direction (float64)."""
    with tf.GradientTape() as tape:
        value = loss()
    g = _np(tape.gradient(value, var))
    d = RNG.normal(size=var.shape)
    w0 = var.numpy()
    var.assign(w0 + eps * d)
    up = float(loss())
    var.assign(w0 - eps * d)
    down = float(loss())
    var.assign(w0)
    np.testing.assert_allclose(np.sum(g * d), (up - down) / (2 * eps), rtol=rtol, atol=1e-9)


def test_activation_layers_match_numpy() -> None:
    x = np.array([[-3.0, -0.5, 0.0, 0.5, 0.75, 2.5]], np.float32)
    relu = layers.ReLU(max_value=2.0, negative_slope=0.2, threshold=0.5)
    want = np.where(x > 0.5, np.minimum(x, 2.0), 0.0) - 0.2 * np.maximum(0.5 - x, 0.0)
    np.testing.assert_allclose(_np(relu(x)), want, rtol=1e-6)
    np.testing.assert_allclose(_traced(relu, x), want, rtol=1e-6)
    np.testing.assert_allclose(_np(layers.LeakyReLU()(x)), np.where(x >= 0, x, 0.3 * x), rtol=1e-6)
    np.testing.assert_allclose(_np(layers.ELU(alpha=0.5)(x)), np.where(x > 0, x, 0.5 * np.expm1(x)), rtol=1e-6)
    mask = np.array([[1, 1, 0, 1, 0, 1]], bool)
    e = np.where(mask, np.exp(x - x.max()), 0.0)
    np.testing.assert_allclose(_np(layers.Softmax()(x, mask=mask)), e / e.sum(), rtol=1e-6)
    with pytest.warns(UserWarning, match="negative_slope"):
        assert layers.LeakyReLU(alpha=0.1).negative_slope == 0.1
    with pytest.raises(ValueError, match="negative"):
        layers.ReLU(max_value=-1.0)


def test_prelu_gradients_match_finite_differences() -> None:
    layer = layers.PReLU(alpha_initializer=tf.keras.initializers.Constant(0.3), shared_axes=[1], dtype="float64")
    x = RNG.normal(size=(3, 4, 2))
    y = layer(x)
    assert tuple(layer.alpha.shape) == (1, 2)
    np.testing.assert_allclose(_np(y), np.where(x > 0, x, 0.3 * x))
    tf.testing.check_grads(lambda a: tf.reduce_sum(tf.sin(layer(a))), (x,), order=1, modes=("rev",))
    _fd_check_variable(lambda: tf.reduce_sum(tf.sin(layer(x))), layer.alpha)


def _conv_transpose_numpy(x: np.ndarray, k: np.ndarray, stride: int, out_hw: tuple, crop: tuple) -> np.ndarray:
    """Scatter each input pixel times the kernel into a full output, then crop (top, left) to out_hw."""
    n, h, w, _ = x.shape
    kh, kw, f, _ = k.shape
    full = np.zeros((n, (h - 1) * stride + kh, (w - 1) * stride + kw, f))
    for i in range(h):
        for j in range(w):
            full[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :] += \
                np.einsum("nc,hwfc->nhwf", x[:, i, j, :], k)
    return full[:, crop[0]:crop[0] + out_hw[0], crop[1]:crop[1] + out_hw[1], :]


def test_conv2d_transpose_matches_numpy_and_gradients() -> None:
    x = RNG.normal(size=(2, 3, 4, 2))
    valid = layers.Conv2DTranspose(3, (2, 3), strides=2, padding="valid", dtype="float64",
                                   bias_initializer="ones")
    y = valid(x)
    k = valid.kernel.numpy()
    assert k.shape == (2, 3, 3, 2) and y.shape == (2, 6, 9, 3)
    np.testing.assert_allclose(_np(y), _conv_transpose_numpy(x, k, 2, (6, 9), (0, 0)) + 1.0, rtol=1e-10)
    np.testing.assert_allclose(_traced(valid, x), _np(y), rtol=1e-10)
    same = layers.Conv2DTranspose(2, 3, strides=2, padding="same", dtype="float64")
    ys = same(x)  # SAME: out = in * stride; the forward convolution 6x8 -> 3x4 pads 1 after on each axis, none before
    np.testing.assert_allclose(_np(ys), _conv_transpose_numpy(x, same.kernel.numpy(), 2, (6, 8), (0, 0)),
                               rtol=1e-10)
    tf.testing.check_grads(lambda a: tf.reduce_sum(tf.tanh(same(a))), (x,), order=1, modes=("rev",))
    _fd_check_variable(lambda: tf.reduce_sum(tf.tanh(same(x))), same.kernel)
    _fd_check_variable(lambda: tf.reduce_sum(tf.tanh(valid(x))), valid.bias)


def test_reshaping_layers_match_numpy() -> None:
    x3 = RNG.normal(size=(2, 5, 3)).astype(np.float32)
    x4 = RNG.normal(size=(2, 4, 5, 3)).astype(np.float32)
    cases = [(layers.ZeroPadding1D((1, 2)), x3, np.pad(x3, [(0, 0), (1, 2), (0, 0)])),
             (layers.ZeroPadding2D(((1, 0), (2, 1))), x4, np.pad(x4, [(0, 0), (1, 0), (2, 1), (0, 0)])),
             (layers.Cropping1D((1, 2)), x3, x3[:, 1:3]),
             (layers.Cropping2D(((1, 1), (0, 2))), x4, x4[:, 1:3, 0:3]),
             (layers.UpSampling1D(3), x3, np.repeat(x3, 3, axis=1)),
             (layers.UpSampling2D((2, 3)), x4, np.repeat(np.repeat(x4, 2, axis=1), 3, axis=2)),
             (layers.Permute((2, 1)), x3, x3.transpose(0, 2, 1)),
             (layers.RepeatVector(4), x3[:, 0], np.repeat(x3[:, None, 0], 4, axis=1))]
    for layer, x, want in cases:
        np.testing.assert_array_equal(_np(layer(x)), want, err_msg=type(layer).__name__)
        np.testing.assert_array_equal(_traced(layer, x), want, err_msg=type(layer).__name__)
        assert layer.compute_output_shape((None,) + x.shape[1:]) == (None,) + want.shape[1:]
    with pytest.raises(ValueError, match="consecutive"):
        layers.Permute((0, 1))


def test_pooling_1d_matches_numpy() -> None:
    x = RNG.normal(size=(2, 7, 3)).astype(np.float32)
    np.testing.assert_allclose(_np(layers.MaxPooling1D(2)(x)), x[:, :6].reshape(2, 3, 2, 3).max(2))
    np.testing.assert_allclose(_traced(layers.AveragePooling1D(3, strides=2), x),
                               np.stack([x[:, i:i + 3].mean(1) for i in (0, 2, 4)], 1), rtol=1e-6)
    same = _np(layers.AveragePooling1D(2, padding="same")(x))   # the last window holds one real step
    np.testing.assert_allclose(same[:, -1], x[:, -1], rtol=1e-6)
    np.testing.assert_allclose(_np(layers.GlobalAveragePooling1D()(x)), x.mean(1), rtol=1e-6)
    np.testing.assert_allclose(_np(layers.GlobalMaxPooling1D(keepdims=True)(x)), x.max(1, keepdims=True))
    mask = np.array([[1, 1, 0, 0, 0, 0, 0], [1] * 7], np.float32)
    np.testing.assert_allclose(_np(layers.GlobalAveragePooling1D()(x, mask=mask)),
                               np.stack([x[0, :2].mean(0), x[1].mean(0)]), rtol=1e-6)


def test_noise_layers_statistics_in_training_and_identity_in_inference() -> None:
    x = np.ones((400, 250), np.float32)
    for layer in (layers.GaussianNoise(0.5), layers.GaussianDropout(0.2), layers.SpatialDropout1D(0.5)):
        xi = x.reshape(400, 25, 10) if isinstance(layer, layers.SpatialDropout1D) else x
        np.testing.assert_array_equal(_np(layer(xi)), xi)
        np.testing.assert_array_equal(_traced(layer, xi), xi)
    noise = _traced(layers.GaussianNoise(0.5), x, training=True) - 1.0
    assert abs(noise.mean()) < 0.01 and abs(noise.std() - 0.5) < 0.01
    mult = _np(layers.GaussianDropout(0.2)(x, training=True))
    assert abs(mult.mean() - 1.0) < 0.01 and abs(mult.std() - np.sqrt(0.2 / 0.8)) < 0.01
    y = _traced(layers.SpatialDropout2D(0.3), np.ones((64, 3, 3, 8), np.float32), training=True)
    per_map = y.reshape(64, 9, 8)
    assert np.all(per_map.min(1) == per_map.max(1))           # a whole feature map is kept or dropped
    assert set(np.unique(per_map)) <= {0.0, np.float32(1 / 0.7)}
    assert abs((per_map[:, 0] == 0).mean() - 0.3) < 0.08         # 512 draws: within 4 standard deviations


def test_normalization_adapt_matches_numpy() -> None:
    data = RNG.normal(3.0, 2.0, size=(50, 4)).astype(np.float32)
    norm = layers.Normalization()
    norm.adapt(data)
    np.testing.assert_allclose(norm.adapt_mean.numpy(), data.mean(0), rtol=1e-5)
    np.testing.assert_allclose(_np(norm(data)), (data - data.mean(0)) / data.std(0), rtol=1e-4, atol=1e-5)
    streamed = layers.Normalization(axis=None)
    streamed.adapt([data[:7], data[7:30], data[30:]])            # uneven batches: the running formulas
    np.testing.assert_allclose(streamed.adapt_variance.numpy(), data.var(), rtol=1e-5)
    inv = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0], invert=True)
    np.testing.assert_allclose(_np(inv(np.array([[1.0, -1.0]], np.float32))), [[3.0, -1.0]])
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        layers.Normalization(mean=1.0)


def test_category_encoding_rescaling_unit_normalization() -> None:
    idx = np.array([[0, 3, 3], [2, 1, 0]])
    counts = np.stack([np.bincount(r, minlength=5) for r in idx]).astype(np.float32)
    np.testing.assert_array_equal(_np(layers.CategoryEncoding(5, output_mode="count")(idx)), counts)
    np.testing.assert_array_equal(_np(layers.CategoryEncoding(5)(idx)), (counts > 0).astype(np.float32))
    np.testing.assert_array_equal(_np(layers.CategoryEncoding(5, output_mode="one_hot")(np.array([4, 0]))),
                                  np.eye(5, dtype=np.float32)[[4, 0]])
    x = RNG.normal(size=(3, 4)).astype(np.float32)
    np.testing.assert_allclose(_np(layers.Rescaling(0.5, offset=2.0)(x)), x * 0.5 + 2.0, rtol=1e-6)
    assert layers.Rescaling(1 / 255)(np.ones((1, 2), np.uint8)).dtype == tf.float32
    np.testing.assert_allclose(_np(layers.UnitNormalization()(x)), x / np.linalg.norm(x, axis=-1, keepdims=True),
                               rtol=1e-5)


def test_regularization_losses_enter_the_fit_loss() -> None:
    x = RNG.normal(size=(8, 3)).astype(np.float32)
    y = RNG.normal(size=(8, 1)).astype(np.float32)
    dense = layers.Dense(1, kernel_initializer="ones", kernel_regularizer=tf.keras.regularizers.L2(0.1),
                         bias_regularizer="l1", activity_regularizer=tf.keras.regularizers.L1(0.01))
    model = tf.keras.Sequential([tf.keras.Input(shape=(3,)), dense])
    model.compile(optimizer=tf.keras.optimizers.SGD(0.0), loss="mse")
    pred = x @ np.ones((3, 1), np.float32)
    want = np.mean((pred - y) ** 2) + 0.1 * 3.0 + 0.0 + 0.01 * np.abs(pred).sum() / 8
    np.testing.assert_allclose(model.train_on_batch(x, y), want, rtol=1e-5)
    model(x)
    model(x)                                        # losses of an earlier call do not accumulate
    assert len(model.losses) == 3


def test_constraints_hold_after_each_fit_step() -> None:
    x = RNG.normal(size=(32, 4)).astype(np.float32)
    y = (x.sum(1, keepdims=True) * 5.0).astype(np.float32)
    dense = layers.Dense(2, kernel_constraint=tf.keras.constraints.MaxNorm(0.5), bias_constraint="non_neg")
    model = tf.keras.Sequential([tf.keras.Input(shape=(4,)), dense, layers.Dense(1)])
    model.compile(optimizer=tf.keras.optimizers.Adam(0.1), loss="mse")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    norms = np.linalg.norm(dense.kernel.numpy(), axis=0)
    assert np.all(norms <= 0.5 + 1e-5) and np.all(dense.bias.numpy() >= 0)
    assert np.any(norms > 0.49)                    # the constraint was active, not trivially satisfied


@pytest.mark.parametrize("suffix", [".keras", ""])
def test_save_and_load_round_trip(tmp_path, suffix) -> None:
    norm = layers.Normalization()
    norm.adapt(RNG.normal(2.0, 3.0, size=(20, 6, 6, 1)).astype(np.float32))
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(6, 6, 1)), norm, layers.ZeroPadding2D(1), layers.Cropping2D(((1, 0), (0, 1))),
        layers.Conv2DTranspose(2, 3, strides=2, padding="same", kernel_regularizer="l2",
                               kernel_constraint=tf.keras.constraints.UnitNorm(axis=[0, 1, 2])),
        layers.PReLU(shared_axes=[1, 2]), layers.UpSampling2D(), layers.SpatialDropout2D(0.2),
        layers.GlobalAveragePooling2D(), layers.RepeatVector(3), layers.Permute((2, 1)), layers.UpSampling1D(2),
        layers.MaxPooling1D(2), layers.GaussianNoise(0.1), layers.GlobalMaxPooling1D(), layers.LeakyReLU(0.2),
        layers.Dense(3, activity_regularizer=tf.keras.regularizers.L1L2(l1=0.01, l2=0.02)), layers.Softmax()])
    model.compile(optimizer=tf.keras.optimizers.Ftrl(0.1), loss="categorical_hinge",
                  metrics=[tf.keras.metrics.RootMeanSquaredError(),
                           tf.keras.metrics.MeanIoU(num_classes=3, sparse_y_true=False, sparse_y_pred=False)])
    x = RNG.normal(size=(4, 6, 6, 1)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 1, 2, 0]]
    model.fit(x, y, epochs=1, verbose=0)
    path = str(tmp_path / f"m{suffix}")
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    conv = loaded.layers[3]
    assert isinstance(conv.kernel_regularizer, tf.keras.regularizers.L2) and conv.kernel_regularizer.l2 == 0.01
    assert isinstance(conv.kernel.constraint, tf.keras.constraints.UnitNorm)
    assert isinstance(loaded.layers[-2].activity_regularizer, tf.keras.regularizers.L1L2)
    np.testing.assert_allclose(loaded.layers[0].adapt_mean.numpy(), norm.adapt_mean.numpy())
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-5)


def test_losses_and_metrics_match_numpy() -> None:
    t = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], np.float32)
    p = np.array([[0.2, 0.7, 0.1], [0.3, 0.3, 0.4]], np.float32)
    K = tf.keras.losses
    tc, pc = np.clip(t, 1e-7, 1), np.clip(p, 1e-7, 1)
    refs = {K.KLDivergence(): np.mean((tc * np.log(tc / pc)).sum(-1)),
            K.Poisson(): np.mean(p - t * np.log(p + 1e-7)),
            K.CategoricalHinge(): np.mean(np.maximum(((1 - t) * p).max(-1) - (t * p).sum(-1) + 1, 0)),
            K.SquaredHinge(): np.mean(np.maximum(1 - (2 * t - 1) * p, 0) ** 2),
            K.MeanSquaredLogarithmicError(): np.mean((np.log1p(p) - np.log1p(np.maximum(t, 1e-7))) ** 2)}
    for loss, want in refs.items():
        np.testing.assert_allclose(float(loss(t, p)), want, rtol=1e-5, err_msg=loss.name)
    m = tf.keras.metrics.MeanIoU(num_classes=3)
    truth, pred = np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2])
    m.update_state(truth, pred)
    cm = np.zeros((3, 3))
    np.add.at(cm, (truth, pred), 1)
    iou = np.diag(cm) / (cm.sum(0) + cm.sum(1) - np.diag(cm))
    np.testing.assert_allclose(float(m.result()), iou.mean(), rtol=1e-5)
    np.testing.assert_array_equal(m.total_cm.numpy(), cm)


def test_options_not_built_raise_clearly() -> None:
    with pytest.raises(ValueError, match="channels_last"):
        layers.ZeroPadding2D(data_format="channels_first")
    with pytest.raises(NotImplementedError, match="bicubic"):
        layers.UpSampling2D(interpolation="bicubic")
    with pytest.raises(NotImplementedError, match="sparse"):
        layers.CategoryEncoding(3, sparse=True)
    spec = [tf.TensorSpec([1, None, 4, 2], tf.float32)]
    conv = layers.Conv2DTranspose(2, 3)
    with pytest.raises(ValueError, match="rows and columns"):
        tf.function(lambda a: conv(a), input_signature=spec)(np.ones((1, 3, 4, 2), np.float32))


def test_bilinear_upsampling_is_linear_interpolation_with_half_pixel_centers() -> None:
    x = RNG.normal(size=(2, 3, 4, 2)).astype(np.float32)
    y = _traced(layers.UpSampling2D((2, 2), interpolation="bilinear"), x)
    # Output row 1 sits at input row 0.25 (half-pixel centers): 3/4 of row 0 and 1/4 of row 1; row 0 clamps.
    np.testing.assert_allclose(y[:, 1, 1], 0.75 * (0.75 * x[:, 0, 0] + 0.25 * x[:, 1, 0])
                               + 0.25 * (0.75 * x[:, 0, 1] + 0.25 * x[:, 1, 1]), rtol=1e-5)
    np.testing.assert_allclose(y[:, 0, 0], x[:, 0, 0], rtol=1e-6)


def test_add_loss_in_a_custom_layer_enters_the_fit_loss_once_per_step() -> None:
    class Penalized(tf.keras.layers.Layer):
        def call(self, x):
            self.add_loss(0.5 * tf.reduce_mean(tf.square(x)))
            return x

    x = RNG.normal(size=(6, 2)).astype(np.float32)
    y = RNG.normal(size=(6, 2)).astype(np.float32)
    model = tf.keras.Sequential([tf.keras.Input(shape=(2,)), Penalized()])
    model.compile(optimizer="sgd", loss="mae")
    want = np.mean(np.abs(x - y)) + 0.5 * np.mean(x ** 2)
    for _ in range(2):                               # the traced step does not keep earlier calls' losses
        np.testing.assert_allclose(model.test_on_batch(x, y), want, rtol=1e-5)


def test_softmax_over_several_axes() -> None:
    x = RNG.normal(size=(2, 3, 4)).astype(np.float32)
    e = np.exp(x - x.max(axis=(1, 2), keepdims=True))
    np.testing.assert_allclose(_np(layers.Softmax(axis=[1, 2])(x)), e / e.sum(axis=(1, 2), keepdims=True),
                               rtol=1e-5)


def test_random_layers_train_under_a_mixed_float16_policy() -> None:
    tf.keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        x = np.ones((64, 4, 4, 8), np.float32)
        for layer in (layers.GaussianNoise(0.1), layers.GaussianDropout(0.2), layers.SpatialDropout2D(0.25),
                      layers.Dropout(0.25)):
            y = layer(x, training=True)
            assert y.dtype == tf.float16, type(layer).__name__
            # within 4 standard deviations of the estimate: SpatialDropout2D draws one mask value per channel of
            # each example (512 draws: sd 0.019), Dropout one per element (8192: sd 0.005); GaussianDropout's
            # factor has sd 0.5 (mean of 8192: sd 0.0055), GaussianNoise's 0.1
            if isinstance(layer, (layers.SpatialDropout2D, layers.Dropout)):
                draws = 64 * 8 if isinstance(layer, layers.SpatialDropout2D) else x.size
                assert abs(float(np.mean(_np(y) == 0)) - 0.25) < 4 * np.sqrt(0.25 * 0.75 / draws)
            else:
                assert abs(float(np.mean(_np(y))) - 1.0) < 0.025
    finally:
        tf.keras.mixed_precision.set_global_policy("float32")
