"""`keras.datasets.mnist.load_data()`: ((x_train, y_train), (x_test, y_test)) as uint8 arrays, from Keras's
`mnist.npz` (60,000 + 10,000 images of 28x28)."""
from __future__ import annotations

import zipfile

import numpy as np

from engine.keras.datasets.loader import DatasetError, get_file

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_npz(path: str, name: str) -> tuple:
    keys = ("x_train", "y_train", "x_test", "y_test")
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in keys if k not in f.files]
            if missing:
                raise DatasetError(f"{path} is not the {name} archive: arrays {missing} are missing")
            x_train, y_train, x_test, y_test = (f[k] for k in keys)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        if isinstance(exc, DatasetError):
            raise
        raise DatasetError(f"{path} is not a valid {name} archive ({exc}); delete it to download it again") \
            from None
    return (x_train, y_train), (x_test, y_test)


def load_data(path: str = "mnist.npz") -> tuple:
    return load_npz(get_file(path, ORIGIN, SHA256), "MNIST")
