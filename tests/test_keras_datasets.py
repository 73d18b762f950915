"""keras.datasets read Keras's cache files (built here synthetically in a temporary KERAS_HOME: no network), fail
clearly on a damaged file, and say where to put the file when offline."""
from __future__ import annotations

import gzip
import os
import pickle

import numpy as np
import pytest

import engine as tf
from engine.keras.datasets.loader import DatasetError


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    return tmp_path / "datasets"


def _mnist_arrays(n_train=60, n_test=10):
    rng = np.random.default_rng(0)
    return dict(x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
                y_train=rng.integers(0, 10, n_train, dtype=np.uint8),
                x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
                y_test=rng.integers(0, 10, n_test, dtype=np.uint8))


def test_mnist_reads_the_keras_cache(keras_home) -> None:
    arrays = _mnist_arrays()
    np.savez(keras_home / "mnist.npz", **arrays)
    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    assert x_train.dtype == np.uint8 and x_test.shape == (10, 28, 28)


def test_mnist_damaged_or_foreign_file(keras_home) -> None:
    (keras_home / "mnist.npz").write_bytes(b"garbage")
    with pytest.raises(DatasetError, match="not a valid MNIST archive"):
        tf.keras.datasets.mnist.load_data()
    np.savez(keras_home / "mnist.npz", x_train=np.zeros(3))
    with pytest.raises(DatasetError, match="missing"):
        tf.keras.datasets.mnist.load_data()


def test_offline_error_names_the_file_to_place(keras_home, monkeypatch) -> None:
    import urllib.request

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DatasetError, match=str(keras_home / "mnist.npz")):
        tf.keras.datasets.mnist.load_data()


def test_fashion_mnist_reads_idx_files(keras_home) -> None:
    folder = keras_home / "fashion-mnist"
    folder.mkdir()
    rng = np.random.default_rng(1)
    data = {}
    for prefix, n in (("train", 5), ("t10k", 3)):
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as fh:
            fh.write(b"\0" * 8 + labels.tobytes())
        with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as fh:
            fh.write(b"\0" * 16 + images.tobytes())
        data[prefix] = (images, labels)
    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, data["train"][0])
    np.testing.assert_array_equal(y_test, data["t10k"][1])


def test_cifar10_reads_batches_without_running_code(keras_home) -> None:
    folder = keras_home / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(2)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (2, 3072), dtype=np.uint8), b"labels": [1, 7]}
        with open(folder / name, "wb") as fh:
            pickle.dump(batch, fh)
    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.cifar10.load_data()
    assert x_train.shape == (10, 32, 32, 3) and y_train.shape == (10, 1) and y_test.tolist() == [[1], [7]]

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))
    with open(folder / "test_batch", "wb") as fh:
        pickle.dump({b"data": Evil(), b"labels": []}, fh)
    with pytest.raises(DatasetError, match="never needs"):
        tf.keras.datasets.cifar10.load_data()
