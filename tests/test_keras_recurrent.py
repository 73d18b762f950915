"""Recurrent, attention and wrapper layers beyond the TF oracle programs (tests/oracle/programs/keras_recurrent.py):
numpy reference cells, gradients against float64 central differences, eager == while_loop == unrolled, run-time
batch sizes, masks, shapes of return_state/return_sequences in the functional API, fit that learns, and save/load
round trips."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf
from engine.keras import layers

RNG = np.random.default_rng(0)


def _sig(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def _numpy_lstm(x: np.ndarray, k: np.ndarray, rk: np.ndarray, b: np.ndarray, mask: np.ndarray) -> tuple:
    """Keras's LSTM written out: gates i, f, c, o; a masked step keeps h, c and the previous output."""
    h = np.zeros((x.shape[0], rk.shape[0]))
    c = np.zeros_like(h)
    outs = []
    for t in range(x.shape[1]):
        i, f, g, o = np.split(x[:, t] @ k + h @ rk + b, 4, axis=-1)
        c_new = _sig(f) * c + _sig(i) * np.tanh(g)
        h_new = _sig(o) * np.tanh(c_new)
        keep = mask[:, t:t + 1]
        h, c = np.where(keep, h_new, h), np.where(keep, c_new, c)
        outs.append(h)
    return np.stack(outs, 1), h, c


def _numpy_gru(x: np.ndarray, k: np.ndarray, rk: np.ndarray, b: np.ndarray, backwards: bool) -> np.ndarray:
    h = np.zeros((x.shape[0], rk.shape[0]))
    steps = range(x.shape[1] - 1, -1, -1) if backwards else range(x.shape[1])
    for t in steps:
        xz, xr, xh = np.split(x[:, t] @ k + b[0], 3, axis=-1)
        rz, rr, rh = np.split(h @ rk + b[1], 3, axis=-1)
        z, r = _sig(xz + rz), _sig(xr + rr)
        h = z * h + (1 - z) * np.tanh(xh + r * rh)
    return h


def _filled(layer: layers.Layer, shape: tuple, scale: float = 0.5) -> layers.Layer:
    layer.build(shape)
    layer.set_weights([RNG.uniform(-scale, scale, w.shape) for w in layer.get_weights()])
    return layer


def test_lstm_matches_numpy_with_mask_eager_and_compiled() -> None:
    x = RNG.normal(size=(3, 6, 4))
    mask = RNG.uniform(size=(3, 6)) > 0.3
    layer = _filled(layers.LSTM(5, return_sequences=True, return_state=True, dtype="float64"), (None, 6, 4))
    seq, h, c = _numpy_lstm(x, *layer.get_weights(), mask)
    for run in (lambda: layer(x, mask=mask), lambda: tf.function(lambda a, m: layer(a, mask=m))(x, mask)):
        got = run()
        for g, want in zip(got, (seq, h, c)):
            np.testing.assert_allclose(g.numpy(), want, rtol=1e-10, atol=1e-12)


def test_gru_go_backwards_matches_numpy() -> None:
    x = RNG.normal(size=(2, 7, 3))
    layer = _filled(layers.GRU(4, go_backwards=True, dtype="float64"), (None, 7, 3))
    want = _numpy_gru(x, *layer.get_weights(), backwards=True)
    np.testing.assert_allclose(layer(x).numpy(), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tf.function(lambda a: layer(a))(x).numpy(), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("make", [
    lambda: layers.LSTM(3, return_sequences=True, dtype="float64"),
    lambda: layers.GRU(3, go_backwards=True, dtype="float64"),
    lambda: layers.GRU(3, reset_after=False, return_sequences=True, dtype="float64"),
    lambda: layers.SimpleRNN(3, return_sequences=True, dtype="float64"),
    lambda: layers.Bidirectional(layers.LSTM(2, return_sequences=True, dtype="float64"), dtype="float64"),
], ids=["lstm", "gru_backwards", "gru_reset_before", "simple_rnn", "bidirectional_lstm"])
def test_weight_and_input_gradients_match_central_differences(make) -> None:
    """tape.gradient through the compiled while_loop (and eagerly), against float64 central differences of the
    loss in a random direction of every weight and of the inputs."""
    _check_gradients(make(), steps=5)


@pytest.mark.parametrize("make", [
    lambda: layers.LSTM(3, return_sequences=True, dtype="float64"),
    lambda: layers.Bidirectional(layers.GRU(2, return_sequences=True, dtype="float64"), dtype="float64"),
], ids=["lstm", "bidirectional_gru"])
def test_gradients_through_the_nested_loops_of_long_sequences(make) -> None:
    """34 steps with return_sequences run as chunks of 6 (the last one partial) in nested while_loops."""
    from engine.keras.layers.recurrent_loop import NESTED_FROM
    assert 34 >= NESTED_FROM
    layer = make()
    x = RNG.normal(size=(2, 34, 3))
    assert str(tf.function(lambda a: layer(a)).get_concrete_function(x).ir).count("while_loop") >= 2
    _check_gradients(layer, steps=34)


def _check_gradients(layer: layers.Layer, steps: int) -> None:
    x = RNG.normal(size=(2, steps, 3))
    mask = np.ones((2, steps), bool)
    mask[0, 2::3] = False
    mask[0, -1] = False
    layer = _filled(layer, (None, steps, 3))
    weights = layer.trainable_variables
    proj = RNG.normal(size=tuple(layer(x, mask=mask).shape))

    def loss(xv: tf.Tensor) -> tf.Tensor:
        return tf.reduce_sum(tf.tanh(layer(xv, mask=mask)) * proj)

    def grads(xv: tf.Tensor) -> list:
        with tf.GradientTape() as tape:
            tape.watch(xv)
            value = loss(xv)
        return tape.gradient(value, weights + [xv])

    base = [w.numpy() for w in weights]
    dirs = [RNG.normal(size=w.shape) for w in base] + [RNG.normal(size=x.shape)]
    eps = 1e-6

    def at(s: float) -> float:
        for w, b, d in zip(weights, base, dirs):
            w.assign(b + s * d)
        return float(loss(tf.constant(x + s * dirs[-1])))
    numeric = (at(eps) - at(-eps)) / (2 * eps)
    at(0.0)
    for g in (grads(tf.constant(x)), tf.function(grads)(tf.constant(x))):
        analytic = sum(float(np.sum(gi.numpy() * d)) for gi, d in zip(g, dirs))
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_while_loop_unroll_and_eager_agree() -> None:
    x = RNG.normal(size=(4, 8, 3)).astype(np.float32)
    mask = RNG.uniform(size=(4, 8)) > 0.2
    loop = _filled(layers.LSTM(4, return_sequences=True), (None, 8, 3))
    unrolled = layers.LSTM(4, return_sequences=True, unroll=True)
    unrolled.build((None, 8, 3))
    unrolled.set_weights(loop.get_weights())
    eager = loop(x, mask=mask).numpy()
    traced = tf.function(lambda a, m: loop(a, mask=m))
    assert "while_loop" in str(traced.get_concrete_function(x, mask).ir)
    unrolled_fn = tf.function(lambda a, m: unrolled(a, mask=m))
    assert "while_loop" not in str(unrolled_fn.get_concrete_function(x, mask).ir)
    np.testing.assert_allclose(traced(x, mask).numpy(), eager, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(unrolled_fn(x, mask).numpy(), eager, rtol=1e-5, atol=1e-6)


def test_run_time_batch_size_one_trace() -> None:
    layer = _filled(layers.GRU(3, return_sequences=True, return_state=True), (None, 5, 2))
    f = tf.function(lambda a: layer(a), input_signature=[tf.TensorSpec([None, 5, 2], tf.float32)])
    for n in (1, 3, 7):
        x = RNG.normal(size=(n, 5, 2)).astype(np.float32)
        seq, h = f(x)
        want_seq, want_h = layer(x)
        assert tuple(seq.shape) == (n, 5, 3) and tuple(h.shape) == (n, 3)
        np.testing.assert_allclose(seq.numpy(), want_seq.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(h.numpy(), want_h.numpy(), rtol=1e-5, atol=1e-6)


def test_functional_shapes_of_states_and_sequences() -> None:
    inputs = tf.keras.Input(shape=(7, 3))
    seq, h, c = layers.LSTM(4, return_sequences=True, return_state=True)(inputs)
    last, hb = layers.GRU(2, return_state=True)(seq)
    assert (seq.shape, h.shape, c.shape, last.shape, hb.shape) == ((None, 7, 4), (None, 4), (None, 4), (None, 2),
                                                                 (None, 2))
    model = tf.keras.Model(inputs, [seq, c, last])
    outs = model(np.ones((2, 7, 3), np.float32))
    assert [tuple(o.shape) for o in outs] == [(2, 7, 4), (2, 4), (2, 2)]


def test_masked_steps_carry_the_output_and_embedding_mask_reaches_the_layer() -> None:
    tokens = np.array([[4, 2, 0, 0], [1, 3, 5, 7]], np.int32)
    emb = layers.Embedding(8, 3, mask_zero=True)
    rnn = layers.SimpleRNN(2, return_sequences=True)
    seq = rnn(emb(tokens)).numpy()
    np.testing.assert_array_equal(seq[0, 2], seq[0, 1])
    np.testing.assert_array_equal(seq[0, 3], seq[0, 1])
    unmasked = rnn(emb.embeddings.numpy()[tokens]).numpy()
    assert not np.allclose(unmasked[0, 2], unmasked[0, 1])
    np.testing.assert_allclose(seq[1], unmasked[1], rtol=1e-6)


def test_stateful_is_refused_with_a_reason() -> None:
    with pytest.raises(NotImplementedError, match="stateful"):
        layers.LSTM(3, stateful=True)


def test_fit_learns_a_running_sum() -> None:
    tf.keras.utils.set_random_seed(1)
    x = np.random.default_rng(1).uniform(-1, 1, size=(256, 10, 1)).astype(np.float32)
    y = x.sum(axis=1)
    model = tf.keras.Sequential([tf.keras.Input(shape=(10, 1)), layers.LSTM(16), layers.Dense(1)])
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.1 * float(np.var(y)), losses
    np.testing.assert_allclose(model.predict(x[:4], verbose=0)[:, 0], y[:4, 0], atol=0.5)


def _models() -> dict:
    tok = tf.keras.Input(shape=(6,), dtype="int32")
    e = layers.Embedding(12, 4, mask_zero=True)(tok)
    s = layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode="sum")(e)
    a = layers.MultiHeadAttention(num_heads=2, key_dim=2)(s, s)
    t = layers.TimeDistributed(layers.Dense(2))(a)
    functional = tf.keras.Model(tok, layers.Dense(1)(layers.GRU(3)(t)))
    sequential = tf.keras.Sequential([tf.keras.Input(shape=(6,), dtype="int32"),
                                      layers.Embedding(12, 4, mask_zero=True),
                                      layers.Bidirectional(layers.GRU(3, reset_after=False, return_sequences=True)),
                                      layers.SimpleRNN(2, go_backwards=True), layers.Dense(1)])
    return {"functional": functional, "sequential": sequential}


@pytest.mark.parametrize("kind", ["functional", "sequential"])
@pytest.mark.parametrize("ext", [".keras", ""])
def test_save_load_round_trip(tmp_path, kind: str, ext: str) -> None:
    model = _models()[kind]
    tokens = np.array([[3, 5, 1, 0, 0, 0], [7, 2, 9, 11, 4, 6]], np.int32)
    before = model(tokens).numpy()
    path = str(tmp_path / f"model{ext}")
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    np.testing.assert_allclose(loaded(tokens).numpy(), before, rtol=1e-6, atol=1e-7)
    assert [type(l).__name__ for l in loaded.layers] == [type(l).__name__ for l in model.layers]


def test_layer_configs_round_trip() -> None:
    made = [layers.LSTM(3, return_sequences=True, go_backwards=True, unit_forget_bias=False, dropout=0.1),
            layers.GRU(2, reset_after=False, return_state=True, recurrent_activation="hard_sigmoid"),
            layers.SimpleRNN(4, activation="relu", unroll=True),
            layers.RNN(layers.LSTMCell(2), return_sequences=True),
            layers.RNN([layers.LSTMCell(2), layers.GRUCell(3, reset_after=False)], go_backwards=True),
            layers.Bidirectional(layers.GRU(2), merge_mode="ave"),
            layers.TimeDistributed(layers.Dense(3)), layers.Masking(mask_value=-1.0),
            layers.Attention(use_scale=True, score_mode="concat"), layers.AdditiveAttention(use_scale=False),
            layers.MultiHeadAttention(num_heads=3, key_dim=4, value_dim=2, output_shape=5)]
    for layer in made:
        config = layer.get_config()
        again = layers.deserialize(layers.serialize(layer)).get_config()
        config.pop("name"), again.pop("name")
        for key in ("layer", "backward_layer", "cell"):
            if key in config:
                config[key]["config"].pop("name"), again[key]["config"].pop("name")
        assert again == config, type(layer).__name__


def test_dropout_only_in_training_and_inside_compiled_steps() -> None:
    x = RNG.normal(size=(8, 6, 3)).astype(np.float32)
    plain = _filled(layers.LSTM(4), (None, 6, 3))
    dropped = layers.LSTM(4, dropout=0.5, recurrent_dropout=0.5, seed=3)
    dropped.build((None, 6, 3))
    dropped.set_weights(plain.get_weights())
    np.testing.assert_allclose(dropped(x, training=False).numpy(), plain(x).numpy(), rtol=1e-6)
    assert not np.allclose(dropped(x, training=True).numpy(), plain(x).numpy(), atol=1e-3)
    traced = tf.function(lambda a: dropped(a, training=True))(x).numpy()
    assert traced.shape == (8, 4) and not np.allclose(traced, plain(x).numpy(), atol=1e-3)


def test_fit_and_evaluate_weigh_the_loss_by_the_output_mask() -> None:
    """A sequence output's padding steps do not count in the loss (Keras 3 applies the output's mask)."""
    tf.keras.utils.set_random_seed(2)
    tokens = np.array([[3, 1, 4, 0, 0], [2, 7, 1, 8, 0], [5, 0, 0, 0, 0], [9, 2, 6, 5, 3]], np.int32)
    targets = RNG.normal(size=(4, 5, 1)).astype(np.float32)
    model = tf.keras.Sequential([tf.keras.Input(shape=(5,), dtype="int32"), layers.Embedding(10, 3, mask_zero=True),
                                 layers.GRU(4, return_sequences=True), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(tokens, targets, epochs=2, batch_size=4, verbose=0)
    pred = model.predict(tokens, verbose=0)
    keep = tokens != 0
    want = float(np.sum(((pred - targets)[..., 0] ** 2) * keep) / keep.sum())
    np.testing.assert_allclose(model.evaluate(tokens, targets, batch_size=4, verbose=0), want, rtol=1e-5)


def test_dense_on_sequences_with_run_time_batch_and_time() -> None:
    """Dense after a return_sequences layer in fit sees [None, time, units]; with two unknown dims it reshapes by
    run-time sizes."""
    dense = _filled(layers.Dense(3), (None, 4))
    for spec in ([None, 5, 4], [None, None, 4]):
        f = tf.function(lambda a: dense(a), input_signature=[tf.TensorSpec(spec, tf.float32)])
        for shape in ((2, 5, 4), (7, 5, 4)):
            x = RNG.normal(size=shape).astype(np.float32)
            want = x @ dense.kernel.numpy() + dense.bias.numpy()
            np.testing.assert_allclose(f(x).numpy(), want, rtol=1e-5, atol=1e-6)


def test_an_explicit_mask_reaches_layers_that_take_one_and_passes_over_those_that_do_not() -> None:
    x = RNG.normal(size=(2, 4, 3)).astype(np.float32)
    mask = np.array([[True, True, False, False], [True, True, True, True]])
    dense = _filled(layers.Dense(2), (None, 3))
    y = dense(x, mask=mask)
    np.testing.assert_array_equal(np.asarray(y._keras_mask), mask)
    rnn = _filled(layers.SimpleRNN(2, return_sequences=True), (None, 4, 2))
    np.testing.assert_allclose(rnn(y).numpy(), rnn(y.numpy(), mask=mask).numpy(), rtol=1e-6)
    assert layers.Dense(1)(x)._keras_mask is None
