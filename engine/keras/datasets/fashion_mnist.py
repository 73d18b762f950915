"""`keras.datasets.fashion_mnist.load_data()`: the four gzipped IDX files Keras caches under
`~/.keras/datasets/fashion-mnist/`."""
from __future__ import annotations

import gzip

import numpy as np

from engine.keras.datasets.loader import DatasetError, get_file

BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz")


def _read(path: str, offset: int, shape: tuple) -> np.ndarray:
    try:
        with gzip.open(path, "rb") as fh:
            data = np.frombuffer(fh.read(), np.uint8, offset=offset)
        return data.reshape(shape)
    except (OSError, ValueError, EOFError) as exc:
        raise DatasetError(f"{path} is not a valid Fashion-MNIST file ({exc}); delete it to download it again") \
            from None


def load_data() -> tuple:
    paths = [get_file(f, BASE + f, subdir="fashion-mnist") for f in FILES]
    y_train = _read(paths[0], 8, (-1,))
    x_train = _read(paths[1], 16, (len(y_train), 28, 28))
    y_test = _read(paths[2], 8, (-1,))
    x_test = _read(paths[3], 16, (len(y_test), 28, 28))
    return (x_train, y_train), (x_test, y_test)
