"""`tf.data.Dataset`: a pipeline of transformations over elements, each element a nest (tuple, dict, ...) of numpy
values inside the pipeline and of tensors when it reaches the user.

This module holds the class and what every dataset does (iterate, count); the sources (`engine.data.sources`) and
transformations (`engine.data.transforms`) subclass it, and `engine.data.methods` installs the public constructors
and transformation methods (`from_tensor_slices`, `batch`, `map`, ...) on it, as `engine.ops.tensor_methods` does
for tensors. Transformations run lazily, element by element, when iterated. Cardinality is tracked statically as
TF does: a number, `INFINITE_CARDINALITY` (-1) or `UNKNOWN_CARDINALITY` (-2).

>>> import engine as tf
>>> ds = tf.data.Dataset.range(10).filter(lambda x: x % 2 == 0).map(lambda x: x * 10).batch(2)
>>> [b.tolist() for b in ds.as_numpy_iterator()]
[[0, 20], [40, 60], [80]]
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from engine.data import structure as nest
from engine.convert import convert_to_tensor

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2

__all__ = ["Dataset", "AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY"]


def to_numpy(x: Any) -> Any:
    """A nest of tensors, arrays and Python values as a nest of numpy values (TF's conversion rules: Python floats
    become float32, Python ints int32)."""
    def leaf(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            return v
        if hasattr(v, "numpy"):
            return np.asarray(v.numpy())
        if isinstance(v, (str, bytes)):
            return np.asarray(v)
        return np.asarray(convert_to_tensor(v).numpy())
    return nest.map_structure(leaf, x)


def to_tensors(x: Any) -> Any:
    return nest.map_structure(lambda v: v if isinstance(v, (str, bytes)) else convert_to_tensor(v), x)


class Dataset:
    """Base class; a subclass gives `_elements()` (an iterator of numpy nests) and `_cardinality`."""

    _cardinality: int = UNKNOWN_CARDINALITY

    def _elements(self) -> Iterator[Any]:
        raise NotImplementedError

    # ---- iteration
    def __iter__(self) -> Iterator[Any]:
        for element in self._elements():
            yield to_tensors(element)

    def as_numpy_iterator(self) -> Iterator[Any]:
        for element in self._elements():
            yield nest.map_structure(lambda v: v[()] if isinstance(v, np.ndarray) and v.ndim == 0 else v, element)

    def __len__(self) -> int:
        n = self._cardinality
        if n == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return n

    def cardinality(self) -> Any:
        return convert_to_tensor(np.int64(self._cardinality))

    def cardinality_int(self) -> int:
        return self._cardinality

    def __repr__(self) -> str:
        return f"<{type(self).__name__.lstrip('_')}Dataset element_spec={self.element_spec}>"
