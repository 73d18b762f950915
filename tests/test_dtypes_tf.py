"""TensorFlow 2.21's answers for small programs in every integer and float dtype, recorded with the real TensorFlow
(tensorflow 2.21, CPU) and replayed with `import engine as tf`, eager and compiled.

Integer programs must agree exactly. float16/bfloat16 programs agree within a few ulps of the dtype: Kiln computes
each op in float32 and rounds, as TF's CPU kernels do, but the transcendental functions are different float32
implementations, whose last bits can round a half float the other way.
"""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf

# Recorded with tensorflow 2.21: for each dtype, the input `x` and the outputs of `prog_int` / `prog_float` below.
PROGRAMS = {'bfloat16': {'out': [[12.1875, 0.1796875, 1.75], 1.171875,
                      [[38.0, -20.75, -8.25], [-13.875, 13.5, -4.09375], [1.03125, -6.75, 15.1875]],
                      [2.40625, 3.734375, 4.96875, 7.46875], [1.0, 3.0, 2.0]],
              'x': [[0.5, -1.25, 2.0, 3.5], [-0.75, 1.5, 0.10009765625, -2.5], [1.0, 0.25, -3.0, 0.80078125]]},
 'float16': {'out': [[12.203125, 0.166015625, 1.76171875], 1.1767578125,
                     [[38.09375, -20.71875, -8.2890625], [-13.890625, 13.4765625, -4.10546875],
                      [1.048828125, -6.74609375, 15.109375]],
                     [2.40625, 3.728515625, 4.9765625, 7.47265625], [1.0, 3.0, 2.0]],
             'x': [[0.5, -1.25, 2.0, 3.5], [-0.75, 1.5, 0.0999755859375, -2.5], [1.0, 0.25, -3.0, 0.7998046875]]},
 'float32': {'out': [[12.20172119140625, 0.1663985252380371, 1.759580373764038], 1.177308440208435,
                     [[38.11191177368164, -20.730056762695312, -8.291891098022461],
                      [-13.885443687438965, 13.478495597839355, -4.105544090270996],
                      [1.0468512773513794, -6.74458122253418, 15.107172012329102]],
                     [2.404895782470703, 3.728287696838379, 4.977189064025879, 7.4740190505981445], [1.0, 3.0, 2.0]],
             'x': [[0.5, -1.25, 2.0, 3.5], [-0.75, 1.5, 0.10000000149011612, -2.5],
                   [1.0, 0.25, -3.0, 0.800000011920929]]},
 'int16': {'out': [[458, 631, 336], [500, 256, 400, 128], [2, 0, 1], [3750, 0, 6600, 2176],
                   [[0, 0, 1, 1], [1, 0, 0, 1], [0, 1, 1, 0]]],
           'x': [[3, 9, 200, 17], [250, 0, 1, 64], [5, 128, 33, 2]]},
 'int32': {'out': [[458, 631, 336], [500, 256, 400, 128], [2, 0, 1], [3750, 0, 6600, 2176],
                   [[0, 0, 1, 1], [1, 0, 0, 1], [0, 1, 1, 0]]],
           'x': [[3, 9, 200, 17], [250, 0, 1, 64], [5, 128, 33, 2]]},
 'int64': {'out': [[458, 631, 336], [500, 256, 400, 128], [2, 0, 1], [3750, 0, 6600, 2176],
                   [[0, 0, 1, 1], [1, 0, 0, 1], [0, 1, 1, 0]]],
           'x': [[3, 9, 200, 17], [250, 0, 1, 64], [5, 128, 33, 2]]},
 'int8': {'out': [[59, -39, -120], [10, 56, 66, 34], [3, 3, 2], [-18, 0, 0, -128],
                  [[0, 0, 0, 1], [0, 0, 0, 0], [0, 1, 1, 0]]],
          'x': [[3, 9, 0, 17], [50, 0, 1, 64], [5, 28, 33, 2]]},
 'uint16': {'out': [[458, 631, 336], [500, 256, 400, 128], [2, 0, 1], [3750, 0, 6600, 2176],
                    [[0, 0, 1, 1], [1, 0, 0, 1], [0, 1, 1, 0]]],
            'x': [[3, 9, 200, 17], [250, 0, 1, 64], [5, 128, 33, 2]]},
 'uint32': {'out': [[458, 631, 336], [500, 256, 400, 128], [2, 0, 1], [3750, 0, 6600, 2176],
                    [[0, 0, 1, 1], [1, 0, 0, 1], [0, 1, 1, 0]]],
            'x': [[3, 9, 200, 17], [250, 0, 1, 64], [5, 128, 33, 2]]},
 'uint64': {'out': [[458, 631, 336], [500, 256, 400, 128], [2, 0, 1], [3750, 0, 6600, 2176],
                    [[0, 0, 1, 1], [1, 0, 0, 1], [0, 1, 1, 0]]],
            'x': [[3, 9, 200, 17], [250, 0, 1, 64], [5, 128, 33, 2]]},
 'uint8': {'out': [[97, 114, 80], [239, 18, 66, 128], [2, 0, 2], [166, 0, 200, 128],
                   [[0, 0, 1, 1], [1, 0, 0, 1], [0, 0, 1, 0]]],
           'x': [[3, 9, 200, 17], [250, 0, 1, 64], [5, 128, 33, 2]]}}
GRADS = {'bfloat16': {'dw': [[0.7578125, -1.0546875], [1.0, 0.0888671875], [-1.8515625, 0.0810546875]],
              'dx': [[0.0791015625, -0.126953125, 1.4921875], [1.0703125, -0.009765625, -0.4765625]],
              'dx2': [[-0.0615234375, 0.203125, -0.14453125], [-0.1875, 0.0849609375, 0.1533203125]],
              'l1': 3.203125},
 'float16': {'dw': [[0.755859375, -1.0546875], [0.9990234375, 0.0870361328125], [-1.8515625, 0.083984375]],
             'dx': [[0.0784912109375, -0.1253662109375, 1.4912109375], [1.06640625, -0.010009765625, -0.47802734375]],
             'dx2': [[-0.060546875, 0.2021484375, -0.1444091796875],
                     [-0.188232421875, 0.08544921875, 0.155029296875]],
             'l1': 3.208984375}}

# The same programs that produced the answers above under TensorFlow.


def prog_int(x, dtype):
    y = x * 3 + 7
    z = y // 4 - x % 5
    m = tf.maximum(z, x) + tf.minimum(y, x)
    return (tf.reduce_sum(m, axis=1), tf.reduce_max(m, axis=0), tf.argmax(m, axis=1), tf.reduce_prod(x, axis=0),
            tf.cast(m > 20, dtype))


def prog_float(x):
    y = tf.exp(x * 0.5) + tf.sqrt(tf.abs(x)) * tf.sin(x) - x / 3.0
    z = tf.tanh(y) * tf.sigmoid(x) + tf.floor(x * 1.5) + tf.math.log1p(tf.abs(x))
    return (tf.reduce_sum(z, axis=1), tf.reduce_mean(z), tf.matmul(z, tf.transpose(x)), tf.reduce_max(z, axis=0),
            tf.argmin(z, axis=1))


def grads(x, w):
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        tape.watch(w)
        h = tf.tanh(tf.matmul(x, w))
        l1 = tf.reduce_sum(h * h) + tf.reduce_mean(tf.exp(x) * tf.sigmoid(x))
        l2 = tf.reduce_sum(tf.sqrt(tf.abs(x) + 1.0) / (x * x + 2.0))
    return l1, tape.gradient(l1, x), tape.gradient(l1, w), tape.gradient(l2, x)


ULP = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7, "float32": 2.0 ** -23}
MODES = {"eager": lambda f: f, "compiled": tf.function}


def close(got, want, dtype, ulps, where):
    got = np.asarray(np.asarray(got).astype(np.float64))
    want = np.asarray(want, np.float64)
    assert got.shape == want.shape, where
    tol = ulps * ULP[dtype] * np.maximum(np.abs(want), 1.0)
    bad = np.abs(got - want) > tol
    assert not bad.any(), f"{where}: got {got[bad]}, TF 2.21 gives {want[bad]}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [d for d in PROGRAMS if tf.as_dtype(d).is_integer])
def test_integer_program_matches_tensorflow(dtype, mode):
    dt = tf.as_dtype(dtype)
    x = tf.constant(np.array(PROGRAMS[dtype]["x"]).astype(dt.np))
    out = MODES[mode](prog_int)(x, dt)
    for k, (got, want) in enumerate(zip(out, PROGRAMS[dtype]["out"])):
        expected_dtype = tf.int64 if k == 2 else dt
        assert got.dtype is expected_dtype, f"output {k}: {got.dtype}"
        assert got.numpy().tolist() == want, f"{dtype} {mode} output {k}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
def test_float_program_matches_tensorflow(dtype, mode):
    dt = tf.as_dtype(dtype)
    x = tf.constant(np.array(PROGRAMS[dtype]["x"]).astype(dt.np))
    np.testing.assert_array_equal(x.numpy().astype(np.float64), PROGRAMS[dtype]["x"])  # the same inputs as TF's
    out = MODES[mode](prog_float)(x)
    for k, (got, want) in enumerate(zip(out, PROGRAMS[dtype]["out"])):
        assert got.dtype is (tf.int64 if k == 4 else dt)
        # float32: compiled code reassociates sums and has its own vector exp/tanh (a matmul entry that cancels
        # terms of about 10 to 1.05 differs by 7 float32 ulps)
        close(got.numpy(), want, dtype, 0 if k == 4 else 64 if dtype == "float32" else 4, f"{dtype} {mode} output {k}")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_float_gradients_match_tensorflow(dtype, mode):
    """The vjp rules run in the half dtype itself, as TF's do: gradients have the dtype of their sources."""
    dt = tf.as_dtype(dtype)
    x = tf.constant([[0.5, -1.25, 2.0], [1.5, 0.25, -0.75]], dt)
    w = tf.constant([[0.3, -0.2], [0.1, 0.4], [-0.5, 0.25]], dt)
    l1, dx, dw, dx2 = MODES[mode](grads)(x, w)
    want = GRADS[dtype]
    for name, got in (("l1", l1), ("dx", dx), ("dw", dw), ("dx2", dx2)):
        assert got.dtype is dt, f"{name}: {got.dtype}"
        close(got.numpy(), want[name], dtype, 2, f"{dtype} {mode} {name}")


def test_half_float_gradients_match_float64_finite_differences():
    """Independent of TF: the float16 gradient of a smooth function against central differences in float64."""
    def f(x):
        return tf.reduce_sum(tf.tanh(x) * tf.exp(x * 0.5) + x * x)
    x64 = np.array([0.3, -0.7, 1.1, -1.6], np.float64)
    with tf.GradientTape() as tape:
        x = tf.constant(x64.astype(np.float16))
        tape.watch(x)
        y = f(x)
    g = tape.gradient(y, x).numpy().astype(np.float64)
    xr = x64.astype(np.float16).astype(np.float64)  # differentiate at the point the float16 tensor holds
    eps = 1e-6
    fd = [(f(tf.constant(xr + eps * e)).numpy() - f(tf.constant(xr - eps * e)).numpy()) / (2 * eps)
          for e in np.eye(4)]
    np.testing.assert_allclose(g, fd, rtol=8 * 2.0 ** -10, atol=1e-3)


# reduce_sum of float16/bfloat16 accumulates in float32 (in compiled code and in eager numpy alike) and rounds once.
# TF 2.21 on CPU: sum(y * y) for y = linspace(-3, 3, 3000) is 9008.0 (float16) and 9024.0 (bfloat16);
# the sum of 4096 copies of bfloat16(0.1) is 410.0.
@pytest.mark.parametrize("mode", MODES)
def test_half_float_sums_accumulate_in_float32(mode):
    f = MODES[mode](lambda y: tf.reduce_sum(y * y))
    s = MODES[mode](lambda y: tf.reduce_sum(y))
    for dtype, want in (("float16", 9008.0), ("bfloat16", 9024.0)):
        y = tf.constant(np.linspace(-3, 3, 3000), tf.as_dtype(dtype))
        assert float(f(y).numpy()) == want
    assert float(s(tf.fill([4096], tf.constant(0.1, tf.bfloat16))).numpy()) == 410.0
    # float16(0.1) * 4096 is exactly 409.5, a float16: a float32 accumulator gets it exactly. (TF 2.21 gives 408.5:
    # Eigen's tree reduction for half rounds its partial sums to half; a float16 accumulator would stop at 256.)
    assert float(s(tf.fill([4096], tf.constant(0.1, tf.float16))).numpy()) == 409.5


# Mixing, as TF 2.21 does it: u8 + int32 tensor and u8 + 1.5 raise; u8 * 2 stays uint8; u8 - 3 wraps to [254, 255];
# u8 / 2 is float32; -u8 raises (no unsigned Neg kernel); bf16 * 2 stays bfloat16.
def test_mixing_rules_follow_tensorflow():
    u = tf.constant([1, 2], tf.uint8)
    with pytest.raises(TypeError, match="uint8.*int32"):
        u + tf.constant([1, 2])
    with pytest.raises(TypeError):
        u + 1.5
    with pytest.raises(TypeError, match="float16.*float32"):
        tf.constant([1.0], tf.float16) + tf.constant([1.0])
    with pytest.raises(TypeError, match="uint8"):
        -u
    for mode in MODES.values():
        r = mode(lambda u: (u * 2, u - 3, u / 2))(u)
        assert [(t.dtype.name, t.numpy().tolist()) for t in r] == \
            [("uint8", [2, 4]), ("uint8", [254, 255]), ("float32", [0.5, 1.0])]
    b = tf.constant([1.5], tf.bfloat16) * 2
    assert b.dtype is tf.bfloat16 and b.numpy().tolist() == [3.0]
