"""`tf.data.Dataset`: a pipeline of transformations over elements, each element a nest (tuple, dict, ...) of numpy
values inside the pipeline and of tensors when it reaches the user.

Sources: `from_tensor_slices`, `from_tensors`, `range`, `from_generator`, `zip`. Transformations return new
datasets and run lazily, element by element, when iterated (`engine.data.transforms`). Cardinality is tracked
statically as TF does: a number, `INFINITE_CARDINALITY` (-1) or `UNKNOWN_CARDINALITY` (-2).

>>> import engine as tf
>>> ds = tf.data.Dataset.range(10).filter(lambda x: x % 2 == 0).map(lambda x: x * 10).batch(2)
>>> [b.tolist() for b in ds.as_numpy_iterator()]
[[0, 20], [40, 60], [80]]
"""
from __future__ import annotations

from typing import Any, Callable, Iterator, Optional

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

    @property
    def element_spec(self) -> Any:
        from engine.data.transforms import element_spec
        return element_spec(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__.lstrip('_')}Dataset element_spec={self.element_spec}>"

    # ---- sources
    @staticmethod
    def from_tensor_slices(tensors: Any, name: Optional[str] = None) -> "Dataset":
        from engine.data.sources import Slices
        return Slices(to_numpy(tensors))

    @staticmethod
    def from_tensors(tensors: Any, name: Optional[str] = None) -> "Dataset":
        from engine.data.sources import Tensors
        return Tensors(to_numpy(tensors))

    @staticmethod
    def range(*args: int, dtype: Any = "int64", name: Optional[str] = None) -> "Dataset":
        from engine.data.sources import Range
        return Range(*args, dtype=dtype)

    @staticmethod
    def from_generator(generator: Callable[..., Any], output_types: Any = None, output_shapes: Any = None,
                       args: Any = None, output_signature: Any = None, name: Optional[str] = None) -> "Dataset":
        from engine.data.sources import Generator
        return Generator(generator, output_types, output_shapes, args, output_signature)

    @staticmethod
    def zip(*datasets: Any, name: Optional[str] = None) -> "Dataset":
        from engine.data.sources import Zip
        return Zip(datasets[0] if len(datasets) == 1 else datasets)

    # ---- transformations
    def batch(self, batch_size: int, drop_remainder: bool = False, num_parallel_calls: Any = None,
              deterministic: Any = None, name: Optional[str] = None) -> "Dataset":
        from engine.data.transforms import Batch
        return Batch(self, int(batch_size), bool(drop_remainder))

    def unbatch(self, name: Optional[str] = None) -> "Dataset":
        from engine.data.transforms import Unbatch
        return Unbatch(self)

    def shuffle(self, buffer_size: int, seed: Optional[int] = None, reshuffle_each_iteration: bool = True,
                name: Optional[str] = None) -> "Dataset":
        from engine.data.transforms import Shuffle
        return Shuffle(self, int(buffer_size), seed, reshuffle_each_iteration)

    def map(self, map_func: Callable[..., Any], num_parallel_calls: Any = None, deterministic: Any = None,
            name: Optional[str] = None) -> "Dataset":
        from engine.data.transforms import Map
        return Map(self, map_func)

    def filter(self, predicate: Callable[..., Any], name: Optional[str] = None) -> "Dataset":
        from engine.data.transforms import Filter
        return Filter(self, predicate)

    def repeat(self, count: Optional[int] = None, name: Optional[str] = None) -> "Dataset":
        from engine.data.transforms import Repeat
        return Repeat(self, None if count is None or count < 0 else int(count))

    def take(self, count: int, name: Optional[str] = None) -> "Dataset":
        from engine.data.transforms import Take
        return Take(self, int(count))

    def skip(self, count: int, name: Optional[str] = None) -> "Dataset":
        from engine.data.transforms import Skip
        return Skip(self, int(count))

    def cache(self, filename: str = "", name: Optional[str] = None) -> "Dataset":
        from engine.data.transforms import Cache
        if filename:
            raise NotImplementedError("Dataset.cache(filename): caching to a file is not supported; "
                                      "cache() keeps the elements in memory")
        return Cache(self)

    def prefetch(self, buffer_size: int, name: Optional[str] = None) -> "Dataset":
        from engine.data.transforms import Prefetch
        return Prefetch(self, 2 if buffer_size == AUTOTUNE else int(buffer_size))

    def enumerate(self, start: int = 0, name: Optional[str] = None) -> "Dataset":
        from engine.data.sources import Range, Zip
        return Zip((Range(start, np.iinfo(np.int64).max), self))

    def concatenate(self, dataset: "Dataset", name: Optional[str] = None) -> "Dataset":
        from engine.data.transforms import Concatenate
        return Concatenate(self, dataset)

    def apply(self, transformation_func: Callable[["Dataset"], "Dataset"]) -> "Dataset":
        return transformation_func(self)

    def reduce(self, initial_state: Any, reduce_func: Callable[..., Any], name: Optional[str] = None) -> Any:
        state = to_tensors(to_numpy(initial_state))
        for element in self:
            args = element if isinstance(element, tuple) else (element,)
            state = reduce_func(state, *args)
        return state
