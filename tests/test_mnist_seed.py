"""The seed tutorial's MNIST program (shared/seeds/002, "Practical Example: MNIST Classifier with Eager
Execution"), run as written with `import engine as tf`: uint8 images from `keras.datasets.mnist.load_data()`
(a small synthetic, learnable `mnist.npz` in a temporary KERAS_HOME), a tf.data pipeline, a compiled train step
whose SparseCategoricalCrossentropy takes the uint8 labels, evaluation and `model.save`.

The program text is the tutorial's, with its indentation restored and two changes: `tensorflow` is `engine` and it
trains 1 epoch instead of 5 (the test's time budget).
"""
from __future__ import annotations

import contextlib
import io
import re
import runpy

import numpy as np

import engine as tf

PROGRAM = '''
import engine as tf
from engine.keras import datasets, layers, models
# Load and preprocess data
(x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
x_train, x_test = x_train / 255.0, x_test / 255.0
# Build model
model = models.Sequential([
    layers.Flatten(input_shape=(28, 28)),
    layers.Dense(128, activation='relu'),
    layers.Dense(10, activation='softmax')
])
# Custom training loop
optimizer = tf.keras.optimizers.Adam(learning_rate=0.001)
loss_fn = tf.keras.losses.SparseCategoricalCrossentropy()
@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        predictions = model(x, training=True)
        loss = loss_fn(y, predictions)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return loss
# Training
batch_size = 32
train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train)).batch(batch_size).shuffle(10000)
test_dataset = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(batch_size)
for epoch in range(1):
    total_loss = 0
    for x_batch, y_batch in train_dataset:
        loss = train_step(x_batch, y_batch)
        total_loss += loss
    print(f"Epoch {epoch+1}, Loss: {total_loss.numpy()/len(train_dataset):.4f}")
# Evaluation
accuracy = tf.keras.metrics.SparseCategoricalAccuracy()
for x_batch, y_batch in test_dataset:
    predictions = model(x_batch, training=False)
    accuracy.update_state(y_batch, predictions)
print(f"Test accuracy: {accuracy.result().numpy():.4f}")
# Save model
model.save('mnist_model')
'''


def _synthetic_mnist(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images whose class k has a bright band in rows 2k..2k+3 over noise: learnable in one epoch."""
    y = rng.integers(0, 10, n).astype(np.uint8)
    x = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
    for k in range(10):
        x[y == k, 2 * k:2 * k + 4, :] = 230
    return x, y


def test_seed_mnist_program_trains_on_uint8_data(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    rng = np.random.default_rng(0)
    x_train, y_train = _synthetic_mnist(640, rng)
    x_test, y_test = _synthetic_mnist(64, rng)
    np.savez(tmp_path / "datasets" / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    monkeypatch.chdir(tmp_path)
    script = tmp_path / "seed_002_mnist.py"  # a file, so that AutoGraph reads train_step's source
    script.write_text(PROGRAM)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ns = runpy.run_path(str(script))
    text = out.getvalue()
    epoch_loss = float(re.search(r"Epoch 1, Loss: ([0-9.]+)", text).group(1))
    accuracy = float(re.search(r"Test accuracy: ([0-9.]+)", text).group(1))

    # The pipeline kept the labels uint8 (the loss casts them) and the images float64 (numpy's x / 255.0).
    x_batch, y_batch = next(iter(ns["test_dataset"]))
    assert y_batch.dtype is tf.uint8 and x_batch.dtype is tf.float64 and tuple(x_batch.shape) == (32, 28, 28)
    assert ns["train_step"].get_concrete_function(x_batch, y_batch).compiled is not None, "the train step ran natively"

    # The loss decreased: an untrained 10-way softmax starts near ln(10) = 2.30; after the epoch, the model's loss
    # on the training set is below the epoch's mean loss, which is itself well below the start.
    model, loss_fn = ns["model"], ns["loss_fn"]
    final = float(loss_fn(tf.constant(y_train), model(tf.constant(x_train / 255.0))).numpy())
    assert epoch_loss < 1.5, text
    assert final < epoch_loss, (final, text)
    assert accuracy > 0.8, text
    saved = tmp_path / "mnist_model"
    assert saved.is_dir() and any(saved.iterdir())
