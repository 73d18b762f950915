"""Keras models: the three ways to build one, compile/fit/evaluate/predict against a numpy reference of the same
training, losses and metrics against their formulas, callbacks, and the progress bar's output."""
from __future__ import annotations

import io
import re

import numpy as np
import pytest

import engine as tf
from engine.keras import callbacks, layers, losses, metrics


def _data(n=256, d=8, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    w = rng.normal(size=(d, classes))
    y = (x @ w).argmax(-1).astype(np.int64)
    return x, y


def test_sequential_functional_and_subclassed_models_agree() -> None:
    tf.keras.utils.set_random_seed(1)
    seq = tf.keras.Sequential([layers.Dense(4, activation="relu", input_shape=(3,)), layers.Dense(2)])
    inputs = tf.keras.Input(shape=(3,))
    d1, d2 = layers.Dense(4, activation="relu"), layers.Dense(2)
    fun = tf.keras.Model(inputs, d2(d1(inputs)))

    class Sub(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.d1, self.d2 = layers.Dense(4, activation="relu"), layers.Dense(2)

        def call(self, x, training=None):
            return self.d2(self.d1(x))

    sub = Sub()
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    sub(x)
    fun.set_weights(seq.get_weights())
    sub.set_weights(seq.get_weights())
    ref = np.maximum(x @ seq.layers[0].kernel.numpy(), 0) @ seq.layers[1].kernel.numpy()
    for m in (seq, fun, sub):
        np.testing.assert_allclose(m(x).numpy(), ref, rtol=1e-5, atol=1e-6)
        assert m.count_params() == 3 * 4 + 4 + 4 * 2 + 2
        assert len(m.trainable_variables) == 4


def test_fit_matches_a_numpy_sgd_reference() -> None:
    """One epoch of full-batch SGD on MSE: the weights after fit equal numpy's float64 computation."""
    x, _ = _data(64, 4)
    y = (x @ np.array([[1.0], [-2.0], [0.5], [3.0]]) + 0.25).astype(np.float32)
    model = tf.keras.Sequential([layers.Dense(1, input_shape=(4,), kernel_initializer="zeros")])
    model.compile(optimizer=tf.keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    hist = model.fit(x, y, batch_size=64, epochs=3, shuffle=False, verbose=0)
    w, b = np.zeros((4, 1)), np.zeros(1)
    xs = x.astype(np.float32).astype(np.float64)
    losses_ref = []
    for _ in range(3):
        err = xs @ w + b - y
        losses_ref.append(float((err ** 2).mean()))
        w -= 0.1 * 2 * xs.T @ err / len(xs)
        b -= 0.1 * 2 * err.mean(0)
    np.testing.assert_allclose(model.layers[0].kernel.numpy(), w, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(hist.history["loss"], losses_ref, rtol=1e-4)


def test_fit_learns_and_evaluate_predict_are_consistent() -> None:
    tf.keras.utils.set_random_seed(0)
    x, y = _data()
    model = tf.keras.Sequential([layers.Dense(16, activation="relu", input_shape=(8,)),
                                 layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, batch_size=32, epochs=15, verbose=0, validation_split=0.25)
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert hist.history["loss"][-1] < hist.history["loss"][0] * 0.8
    loss, acc = model.evaluate(x, y, verbose=0)
    probs = model.predict(x, verbose=0, batch_size=50)
    assert probs.shape == (256, 3)
    np.testing.assert_allclose(acc, (probs.argmax(-1) == y).mean(), atol=1e-6)
    ref_loss = -np.log(np.clip(probs[np.arange(256), y], 1e-7, 1 - 1e-7)).mean()
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-4)
    assert model.evaluate(x, y, verbose=0, return_dict=True).keys() == {"loss", "accuracy"}


def test_fit_on_a_dataset_with_class_weight() -> None:
    x, y = _data(96)
    ds = tf.data.Dataset.from_tensor_slices((x.astype(np.float32), y)).batch(32)
    model = tf.keras.Sequential([layers.Dense(3, input_shape=(8,))])
    model.compile(optimizer="sgd", loss=losses.SparseCategoricalCrossentropy(from_logits=True))
    hist = model.fit(ds, epochs=2, verbose=0, class_weight={0: 1.0, 1: 2.0, 2: 0.5})
    assert len(hist.history["loss"]) == 2 and np.isfinite(hist.history["loss"]).all()


@pytest.mark.parametrize("name,fn,ref", [
    ("mse", losses.MeanSquaredError(), lambda t, p: ((p - t) ** 2).mean()),
    ("mae", losses.MeanAbsoluteError(), lambda t, p: np.abs(p - t).mean()),
    ("huber", losses.Huber(delta=0.5), lambda t, p: np.where(np.abs(p - t) <= 0.5, 0.5 * (p - t) ** 2,
                                                             0.5 * np.abs(p - t) - 0.125).mean()),
    ("bce", losses.BinaryCrossentropy(), lambda t, p: -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean()),
    ("bce_logits", losses.BinaryCrossentropy(from_logits=True),
     lambda t, p: (np.maximum(p, 0) - p * t + np.log1p(np.exp(-np.abs(p)))).mean()),
])
def test_losses_match_formulas(name, fn, ref) -> None:
    rng = np.random.default_rng(5)
    t = rng.integers(0, 2, size=(6, 3)).astype(np.float32)
    p = rng.uniform(0.05, 0.95, size=(6, 3)).astype(np.float32)
    np.testing.assert_allclose(fn(t, p).numpy(), ref(t.astype(np.float64), p.astype(np.float64)), rtol=1e-5)


def test_categorical_crossentropy_and_reductions() -> None:
    t = np.array([[0, 1, 0], [1, 0, 0]], np.float32)
    logits = np.array([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0]], np.float32)
    lse = np.log(np.exp(logits.astype(np.float64)).sum(-1))
    per = lse - (t * logits).sum(-1)
    cce = losses.CategoricalCrossentropy(from_logits=True, reduction=None)
    np.testing.assert_allclose(cce(t, logits).numpy(), per, rtol=1e-6)
    summed = losses.CategoricalCrossentropy(from_logits=True, reduction="sum")
    np.testing.assert_allclose(summed(t, logits, sample_weight=[1.0, 2.0]).numpy(), per[0] + 2 * per[1],
                               rtol=1e-6)


def test_metrics_match_formulas() -> None:
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.2, 0.8, 0.4, 0.6, 0.9], np.float32)
    acc = metrics.BinaryAccuracy()
    acc.update_state(y, p)
    assert float(acc.result()) == pytest.approx(3 / 5)
    prec, rec = metrics.Precision(), metrics.Recall()
    prec.update_state(y, p)
    rec.update_state(y, p)
    assert float(prec.result()) == pytest.approx(2 / 3) and float(rec.result()) == pytest.approx(2 / 3)
    auc = metrics.AUC()
    auc.update_state([0, 0, 1, 1], [0.0, 0.5, 0.3, 0.9])
    assert float(auc.result()) == pytest.approx(0.75, abs=1e-6)      # TF 2.21 gives 0.75
    mean = metrics.Mean()
    mean.update_state([1.0, 2.0, 3.0], sample_weight=[1.0, 0.0, 1.0])
    assert float(mean.result()) == 2.0
    mean.reset_state()
    assert float(mean.result()) == 0.0


def test_callbacks_early_stopping_scheduler_checkpoint_csv(tmp_path) -> None:
    x, y = _data(64)
    model = tf.keras.Sequential([layers.Dense(3, input_shape=(8,))])
    model.compile(optimizer=tf.keras.optimizers.SGD(learning_rate=0.0), loss=losses.SparseCategoricalCrossentropy(
        from_logits=True))
    seen_lr = []
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: 0.0 if epoch < 1 else 0.0)
    probe = callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: seen_lr.append(
        float(np.asarray(model.optimizer.learning_rate))))
    stop = callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=1e-3)
    csv_path = tmp_path / "log.csv"
    ckpt = callbacks.ModelCheckpoint(str(tmp_path / "w-{epoch}.weights.npz"), monitor="loss",
                                     save_weights_only=True)
    hist = model.fit(x, y, epochs=10, verbose=0, callbacks=[sched, probe, stop, callbacks.CSVLogger(str(csv_path)),
                                                            ckpt])
    assert len(hist.history["loss"]) == 2                   # lr 0: no improvement, stops after patience 1
    assert seen_lr == [0.0, 0.0]
    assert csv_path.read_text().splitlines()[0] == "epoch,learning_rate,loss"
    assert (tmp_path / "w-1.weights.npz").exists() and (tmp_path / "w-2.weights.npz").exists()


def test_progress_bar_output_not_a_terminal(capsys) -> None:
    x, y = _data(64)
    model = tf.keras.Sequential([layers.Dense(3, input_shape=(8,))])
    model.compile(optimizer="sgd", loss=losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=16)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/2" and out[2] == "Epoch 2/2" and len(out) == 4
    assert re.fullmatch(r"4/4 ━{20} \d+s \d+(ms|us|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}", out[1]), out[1]
    model.fit(x, y, epochs=1, batch_size=16, verbose=2)
    out = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"4/4 - \d+s - \d+(ms|us|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}", out[1]), out
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert capsys.readouterr().out == ""


def test_progress_bar_on_a_terminal_redraws_in_place() -> None:
    from engine.keras.progbar import Progbar

    class Tty(io.StringIO):
        def isatty(self):
            return True
    stream = Tty()
    bar = Progbar(3, stream=stream, interval=0.0)
    for i in range(1, 4):
        bar.update(i, {"loss": 1.0 / i})
    text = stream.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and "3/3" in text and "loss: 0.3333" in text


def test_summary_lists_layers_and_parameter_counts(capsys) -> None:
    model = tf.keras.Sequential([layers.Flatten(input_shape=(28, 28)), layers.Dense(128, activation="relu"),
                                 layers.Dense(10, activation="softmax")])
    model.summary()
    out = capsys.readouterr().out
    assert "(None, 784)" in out and "100,480" in out and "1,290" in out
    assert "Total params: 101,770 (397.54 KB)" in out


def test_compile_errors() -> None:
    model = tf.keras.Sequential([layers.Dense(1, input_shape=(2,))])
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(np.zeros((2, 2)), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="Could not interpret loss"):
        model.compile(loss="no_such_loss")


def test_shuffled_feed_gives_each_example_once_per_epoch_in_a_new_order() -> None:
    from engine.keras.models.data import DataFeed
    x = np.arange(100, dtype=np.float64).reshape(50, 2)
    y = np.arange(50)
    feed = DataFeed(x, y, None, 8, shuffle=True)
    epochs = []
    for _ in range(2):
        batches = list(feed.epoch())
        assert [len(b[0].numpy()) for b in batches] == [8] * 6 + [2]
        xs = np.concatenate([b[0].numpy() for b in batches])
        ys = np.concatenate([b[1].numpy() for b in batches])
        assert xs.dtype == np.float32  # float64 arrays are fed as float32, as Keras does
        np.testing.assert_array_equal(xs, x[ys])  # rows stay with their labels
        assert sorted(ys) == list(range(50))
        epochs.append(ys)
    assert not np.array_equal(epochs[0], epochs[1])
    in_order = np.concatenate([b[1].numpy() for b in DataFeed(x, y, None, 8, shuffle=False).epoch()])
    np.testing.assert_array_equal(in_order, y)


def test_fit_traces_a_static_batch_when_every_batch_is_full() -> None:
    """Batches of one size (the batch size divides the data) give a step traced with that static batch, once; data
    with a partial last batch gives the batch dimension None, and both trainings match an eager one."""
    x, y = _data(n=96)

    def model():
        tf.keras.utils.set_random_seed(5)
        m = tf.keras.Sequential([tf.keras.Input((8,)), layers.Dense(6, activation="relu"), layers.Dense(3)])
        m.compile(optimizer="adam", loss=losses.SparseCategoricalCrossentropy(from_logits=True))
        return m
    compiled, eager = model(), model()
    eager.compile(optimizer="adam", loss=losses.SparseCategoricalCrossentropy(from_logits=True), run_eagerly=True)
    for n, batch in ((96, 32), (90, 32)):  # 3 full batches; then 32, 32 and 26
        compiled.fit(x[:n], y[:n], batch_size=batch, epochs=2, shuffle=False, verbose=0)
        eager.fit(x[:n], y[:n], batch_size=batch, epochs=2, shuffle=False, verbose=0)
        for a, b in zip(compiled.weights, eager.weights):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)
    steps = compiled._steps["train"].functions
    assert [key[0].split("shape=")[1].split(",")[0] for key in steps] == ["(32", "(None"]
    assert [f.experimental_get_tracing_count() for f in steps.values()] == [1, 1]
