"""What `fit`, `evaluate` and `predict` iterate over: batches of (x, y, sample_weight) as tensors, from numpy
arrays and tensors or from an `engine.data.Dataset`. Unshuffled, each batch is a contiguous slice of the arrays;
with `shuffle`, each epoch draws one permutation and each batch gathers its own rows (never a copy of the whole
array per epoch, see `DataFeed.epoch`).

As Keras 3 does, float64 arrays are fed as float32 (the default float type), and class weights become per-example
sample weights.
"""
from __future__ import annotations

import math
from typing import Any, Iterator, Optional

import numpy as np

from engine import nest
from engine.convert import convert_to_tensor

__all__ = ["DataFeed", "split_validation"]


def _to_numpy(x: Any) -> Any:
    if x is None:
        return None
    def leaf(a: Any) -> np.ndarray:
        a = np.asarray(a.numpy() if hasattr(a, "numpy") else a)
        return a.astype(np.float32) if a.dtype == np.float64 else a
    return nest.map_structure(leaf, x)


def _length(x: Any) -> int:
    sizes = {len(a) for a in nest.flatten(x)}
    if len(sizes) != 1:
        raise ValueError(f"Data cardinality is ambiguous: the arrays have different first dimensions "
                         f"{sorted(sizes)}. Make sure all arrays contain the same number of samples.")
    return sizes.pop()


def _take(x: Any, index: Any) -> Any:
    return None if x is None else nest.map_structure(lambda a: a[index], x)


def _tensors(x: Any) -> Any:
    return None if x is None else nest.map_structure(convert_to_tensor, x)


def _is_dataset(x: Any) -> bool:
    from engine.data import Dataset
    return isinstance(x, Dataset)


def split_validation(x: Any, y: Any, sample_weight: Any, fraction: float) -> tuple[tuple, tuple]:
    """The last `fraction` of the arrays (before any shuffling) becomes validation data, as Keras does."""
    if _is_dataset(x):
        raise ValueError("`validation_split` is only supported for numpy arrays and tensors, not for a Dataset")
    x, y, sample_weight = _to_numpy(x), _to_numpy(y), _to_numpy(sample_weight)
    n = _length(x)
    cut = int(math.floor(n * (1.0 - fraction)))
    if cut == 0 or cut == n:
        raise ValueError(f"validation_split={fraction} leaves no training or no validation data for {n} samples")
    head, tail = slice(0, cut), slice(cut, n)
    return ((_take(x, head), _take(y, head), _take(sample_weight, head)),
            (_take(x, tail), _take(y, tail), _take(sample_weight, tail)))


class DataFeed:
    def __init__(self, x: Any, y: Any, sample_weight: Any, batch_size: Optional[int], shuffle: bool = False,
                 class_weight: Optional[dict] = None, steps: Optional[int] = None, whole: bool = False) -> None:
        self.dataset = x if _is_dataset(x) else None
        self.class_weight = class_weight
        self.shuffle = shuffle
        self.max_steps = steps
        if self.dataset is not None:
            if y is not None:
                raise ValueError("`y` argument is not supported when using a Dataset as input "
                                 "(the dataset yields (x, y) pairs)")
            n = self.dataset.cardinality_int()
            self.steps = steps if steps is not None else (n if n >= 0 else None)
            return
        self.x, self.y, self.sw = _to_numpy(x), _to_numpy(y), _to_numpy(sample_weight)
        self.n = _length(self.x)
        if self.y is not None and _length(self.y) != self.n:
            raise ValueError(f"Data cardinality is ambiguous: x has {self.n} samples, y has {_length(self.y)}")
        if class_weight is not None and self.y is not None:
            self.sw = _class_weights(self.y, class_weight, self.sw)
        self.batch_size = self.n if whole else (batch_size or 32)
        self.steps = int(math.ceil(self.n / self.batch_size)) if steps is None else min(
            steps, int(math.ceil(self.n / self.batch_size)))

    @property
    def uniform_batches(self) -> bool:
        """Whether every batch an epoch yields has `batch_size` rows (numpy data only: a Dataset's batches are
        known only as they come)."""
        return self.dataset is None and self.steps * self.batch_size <= self.n

    @classmethod
    def from_validation(cls, data: Any, batch_size: Optional[int], steps: Optional[int]) -> "DataFeed":
        if _is_dataset(data):
            return cls(data, None, None, batch_size, steps=steps)
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            raise ValueError(f"validation_data should be a tuple (x, y) or (x, y, sample_weight), or a Dataset; "
                             f"got {type(data).__name__}")
        return cls(data[0], data[1], data[2] if len(data) == 3 else None, batch_size, steps=steps)

    def epoch(self) -> Iterator[tuple]:
        if self.dataset is not None:
            for i, element in enumerate(self.dataset):
                if self.max_steps is not None and i >= self.max_steps:
                    break
                yield _unpack(element, self.class_weight)
            return
        x, y, sw = self.x, self.y, self.sw
        # Shuffled, each batch gathers its own rows, as Keras does. One gather of the whole array per epoch cost
        # 45 ms, and 0.37-0.63 s every other epoch on MNIST (188 MB): the last batch, a view of the previous
        # epoch's copy, kept it alive, so the new copy took fresh pages, which numpy asks to be huge pages and the
        # kernel compacted memory for. The batches' gathers (100 KB each) reuse the same heap blocks.
        order = np.random.permutation(self.n) if self.shuffle else None
        for s in range(self.steps):
            idx = slice(s * self.batch_size, min((s + 1) * self.batch_size, self.n))
            if order is not None:
                idx = order[idx]
            yield _tensors(_take(x, idx)), _tensors(_take(y, idx)), _tensors(_take(sw, idx))

    def first_batch(self) -> tuple:
        if self.dataset is not None:
            for element in self.dataset.take(1):
                return _unpack(element, self.class_weight)
            raise ValueError("the dataset is empty")
        idx = slice(0, min(self.batch_size, self.n))
        return _tensors(_take(self.x, idx)), _tensors(_take(self.y, idx)), _tensors(_take(self.sw, idx))


def _unpack(element: Any, class_weight: Optional[dict]) -> tuple:
    if isinstance(element, tuple):
        if len(element) == 1:
            return element[0], None, None
        if len(element) == 2:
            x, y = element
            sw = None
            if class_weight is not None:
                sw = convert_to_tensor(_class_weights(np.asarray(y), class_weight, None))
            return x, y, sw
        if len(element) == 3:
            return element
    return element, None, None


def _class_weights(y: np.ndarray, class_weight: dict, sample_weight: Any) -> np.ndarray:
    labels = np.asarray(y)
    if labels.ndim > 1 and labels.shape[-1] > 1:
        labels = labels.argmax(axis=-1)
    labels = labels.reshape(len(labels), -1)[:, 0].astype(np.int64)
    table = np.ones(max(int(labels.max(initial=0)), max(class_weight, default=0)) + 1, np.float32)
    for k, w in class_weight.items():
        table[int(k)] = w
    weights = table[labels]
    return weights if sample_weight is None else weights * np.asarray(sample_weight, np.float32)
