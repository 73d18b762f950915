"""`keras.utils`: set_random_seed, to_categorical, normalize."""
from __future__ import annotations

import random as _py_random
from typing import Any, Optional

import numpy as np

__all__ = ["set_random_seed", "to_categorical", "normalize"]


def set_random_seed(seed: int) -> None:
    """Seeds Python's, numpy's, Kiln's global random stream and the weight initializers at once, as
    `keras.utils.set_random_seed`."""
    from engine import random as _random
    from engine.keras import initializers
    if not isinstance(seed, (int, np.integer)):
        raise ValueError(f"Expected `seed` argument to be an integer. Received: seed={seed!r} (of type "
                         f"{type(seed)})")
    _py_random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    _random.set_seed(int(seed))
    initializers.set_seed(int(seed))


def to_categorical(x: Any, num_classes: Optional[int] = None) -> np.ndarray:
    """One-hot encoding of integer class labels, as float32 (a trailing dimension of 1 is dropped first)."""
    y = np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=np.int64)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    n = int(num_classes) if num_classes is not None else int(y.max(initial=-1)) + 1
    out = np.zeros(y.shape + (n,), np.float32)
    np.put_along_axis(out, y[..., None], 1.0, axis=-1)
    return out


def normalize(x: Any, axis: int = -1, order: int = 2) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    norm = np.linalg.norm(a, ord=order, axis=axis, keepdims=True)
    norm[norm == 0] = 1
    return (a / norm).astype(np.asarray(x).dtype if np.asarray(x).dtype.kind == "f" else np.float32)
