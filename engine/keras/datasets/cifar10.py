"""`keras.datasets.cifar10.load_data()`: the `cifar-10-batches-py` folder Keras extracts under
`~/.keras/datasets/`.

The batches of that folder are Python pickles (it is how CIFAR-10 is published). They are read by an unpickler that
can build nothing but dicts, lists, strings, bytes and numpy arrays, so a tampered file cannot run code.
"""
from __future__ import annotations

import os
import pickle
import tarfile

import numpy as np

from engine.keras.datasets.loader import DatasetError, cache_dir, get_file

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
_ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
            ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}


class _Restricted(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _ALLOWED:
            raise DatasetError(f"CIFAR-10 batch file refers to {module}.{name}, which a data file never needs")
        return super().find_class(module, name)


def _batch(path: str) -> tuple[np.ndarray, np.ndarray]:
    if not os.path.isfile(path):
        raise DatasetError(f"{path} is missing: delete {os.path.dirname(path)} to download CIFAR-10 again")
    try:
        with open(path, "rb") as fh:
            d = _Restricted(fh, encoding="bytes").load()
        data = np.asarray(d[b"data"], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        labels = np.asarray(d[b"labels"], np.uint8).reshape(-1, 1)
    except (pickle.UnpicklingError, KeyError, ValueError, EOFError, TypeError) as exc:
        raise DatasetError(f"{path} is not a valid CIFAR-10 batch ({exc})") from None
    return data, labels


def load_data() -> tuple:
    folder = os.path.join(cache_dir(), "cifar-10-batches-py")
    if not os.path.isdir(folder):
        archive = get_file("cifar-10-batches-py.tar.gz", ORIGIN, SHA256)
        with tarfile.open(archive) as tf:
            tf.extractall(cache_dir(), filter="data")
    parts = [_batch(os.path.join(folder, f"data_batch_{i}")) for i in range(1, 6)]
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    x_test, y_test = _batch(os.path.join(folder, "test_batch"))
    return (x_train, y_train), (x_test, y_test)
