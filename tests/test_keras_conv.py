"""Convolution and pooling (tf.nn and keras.layers) against TensorFlow 2.21: values, shapes and gradients for
SAME/VALID padding, strides and dilations (TF's figures recorded with tensorflow-cpu 2.21), eager and compiled,
and gradients against float64 finite differences."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf

# (sum of outputs (conv) or of squared outputs (pools), sum of the gradient's squares (conv) or of grad * x (pools),
# output shape), recorded with TF 2.21 on x = N(0, 1) of shape (2, 7, 6, 3) and filters (3, 2, 3, 4), seed 0.
TF = {'avg_SAME_2_2': (28.27735137939453, -1.3534886837005615, (2, 4, 3, 3)),
      'avg_SAME_3_1': (43.13306427001953, -0.41968417167663574, (2, 7, 6, 3)),
      'avg_SAME_3_2': (12.299591064453125, -1.4964559078216553, (2, 4, 3, 3)),
      'avg_VALID_2_2': (13.0848388671875, 0.6947991847991943, (2, 3, 3, 3)),
      'avg_VALID_3_1': (12.701190948486328, 8.63491153717041, (2, 5, 4, 3)),
      'avg_VALID_3_2': (4.50247859954834, 4.589746475219727, (2, 3, 2, 3)),
      'conv_SAME_1_1': (-69.61383819580078, 894939.6875, (2, 7, 6, 4)),
      'conv_SAME_1_2': (-52.58073043823242, 465506.0625, (2, 7, 6, 4)),
      'conv_SAME_2_1': (-9.428573608398438, 127244.984375, (2, 4, 3, 4)),
      'conv_VALID_1_1': (-69.26260375976562, 607970.875, (2, 5, 5, 4)),
      'conv_VALID_1_2': (-64.54225158691406, 196576.734375, (2, 3, 4, 4)),
      'conv_VALID_2_1': (-20.890457153320312, 175965.828125, (2, 3, 3, 4)),
      'max_SAME_2_2': (104.37409973144531, 65.12385559082031, (2, 4, 3, 3)),
      'max_SAME_3_1': (579.41015625, 344.29888916015625, (2, 7, 6, 3)),
      'max_SAME_3_2': (149.29364013671875, 92.09379577636719, (2, 4, 3, 3)),
      'max_VALID_2_2': (83.77052307128906, 56.97208023071289, (2, 3, 3, 3)),
      'max_VALID_3_1': (337.07012939453125, 192.91311645507812, (2, 5, 4, 3)),
      'max_VALID_3_2': (102.98052215576172, 58.4552001953125, (2, 3, 2, 3))}


def _cases():
    for key in TF:
        kind, pad, a, b = key.split("_")
        yield pytest.param(kind, pad, int(a), int(b), id=key)


def _run(kind, pad, a, b, x, f):
    xt = tf.constant(x)
    with tf.GradientTape() as t:
        t.watch(xt)
        if kind == "conv":
            y = tf.nn.conv2d(xt, tf.constant(f), strides=a, padding=pad, dilations=b)
            value = tf.reduce_sum(y)
            target = tf.reduce_sum(y * y)
        else:
            pool = tf.nn.max_pool2d if kind == "max" else tf.nn.avg_pool2d
            y = pool(xt, a, b, pad)
            value = tf.reduce_sum(y * y)
            target = tf.reduce_sum(y)
    g = t.gradient(target, xt)
    second = tf.reduce_sum(g * g) if kind == "conv" else tf.reduce_sum(g * xt)
    return float(value), float(second), tuple(y.shape)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("kind,pad,a,b", _cases())
def test_matches_tensorflow(kind, pad, a, b, compiled) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 7, 6, 3)).astype(np.float32)
    f = rng.normal(size=(3, 2, 3, 4)).astype(np.float32)
    if compiled:
        @tf.function
        def run(x):
            xt = x
            with tf.GradientTape() as t:
                t.watch(xt)
                if kind == "conv":
                    y = tf.nn.conv2d(xt, tf.constant(f), strides=a, padding=pad, dilations=b)
                    out = (tf.reduce_sum(y), y)
                    target = tf.reduce_sum(y * y)
                else:
                    y = (tf.nn.max_pool2d if kind == "max" else tf.nn.avg_pool2d)(xt, a, b, pad)
                    out = (tf.reduce_sum(y * y), y)
                    target = tf.reduce_sum(y)
            g = t.gradient(target, xt)
            return out[0], (tf.reduce_sum(g * g) if kind == "conv" else tf.reduce_sum(g * xt)), out[1]
        v, s, y = run(tf.constant(x))
        got = (float(v), float(s), tuple(y.shape))
    else:
        got = _run(kind, pad, a, b, x, f)
    want = TF[f"{kind}_{pad}_{a}_{b}"]
    assert got[2] == want[2]
    np.testing.assert_allclose(got[:2], want[:2], rtol=2e-5, atol=1e-4)


def test_conv_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, 5, 4, 2))
    f = rng.normal(size=(2, 3, 2, 3))
    tf.testing.check_grads(lambda x, f: tf.reduce_sum(tf.tanh(tf.nn.conv2d(x, f, 2, "SAME"))), (x, f), order=1,
                           modes=("rev",))
    tf.testing.check_grads(lambda x: tf.reduce_sum(tf.nn.avg_pool2d(x, 3, 2, "SAME") ** 2), (x,), order=1,
                           modes=("rev",))


def test_keras_conv_layers_shapes_and_training() -> None:
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([
        tf.keras.layers.Conv2D(4, 3, activation="relu", input_shape=(12, 12, 1)),
        tf.keras.layers.MaxPooling2D(),
        tf.keras.layers.Conv2D(6, (3, 3), padding="same", strides=2),
        tf.keras.layers.AveragePooling2D(pool_size=2, padding="same"),
        tf.keras.layers.GlobalAveragePooling2D(),
        tf.keras.layers.Dense(2)])
    shapes = [layer._output_shape for layer in model.layers]
    assert shapes == [(None, 10, 10, 4), (None, 5, 5, 4), (None, 3, 3, 6), (None, 2, 2, 6), (None, 6), (None, 2)]
    assert [layer.name for layer in model.layers[:2]] == ["conv2d", "max_pooling2d"]
    x = np.random.default_rng(0).random((64, 12, 12, 1)).astype(np.float32)
    y = (x[:, :6].mean(axis=(1, 2, 3)) > x[:, 6:].mean(axis=(1, 2, 3))).astype(np.int64)
    model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    hist = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    conv = model.layers[0]
    ref = tf.nn.relu(tf.nn.conv2d(x[:2], conv.kernel, 1, "VALID") + conv.bias)
    np.testing.assert_allclose(conv(x[:2]).numpy(), ref.numpy(), rtol=1e-6)


def test_errors() -> None:
    with pytest.raises(ValueError, match="padding"):
        tf.nn.conv2d(tf.zeros([1, 4, 4, 1]), tf.zeros([2, 2, 1, 1]), 1, "FULL")
    with pytest.raises(ValueError, match="in_channels=1"):
        tf.nn.conv2d(tf.zeros([1, 4, 4, 1]), tf.zeros([2, 2, 3, 1]), 1, "SAME")
    with pytest.raises(ValueError, match="larger than the input"):
        tf.nn.max_pool2d(tf.zeros([1, 2, 2, 1]), 3, 1, "VALID")
    with pytest.raises(ValueError, match="kernel_size"):
        tf.keras.layers.Conv2D(3, (3, 3, 3))
