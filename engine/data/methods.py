"""The public constructors and transformation methods of `tf.data.Dataset`, installed on the class once (the way
`engine.ops.tensor_methods` installs tensor operators), so that the class, its sources and its transformations
import one another in one direction only."""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from engine.data.dataset import AUTOTUNE, Dataset, to_numpy, to_tensors
from engine.data.sources import Generator, Range, Slices, Tensors, Zip
from engine.data.transforms import (Batch, Cache, Concatenate, Filter, Map, Prefetch, Repeat, Shuffle, Skip, Take,
                                    Unbatch, element_spec)

__all__ = ["install"]


# ---- sources (static methods)
def _from_tensor_slices(tensors: Any, name: Optional[str] = None) -> Dataset:
    return Slices(to_numpy(tensors))


def _from_tensors(tensors: Any, name: Optional[str] = None) -> Dataset:
    return Tensors(to_numpy(tensors))


def _range(*args: int, dtype: Any = "int64", name: Optional[str] = None) -> Dataset:
    return Range(*args, dtype=dtype)


def _from_generator(generator: Callable[..., Any], output_types: Any = None, output_shapes: Any = None,
                    args: Any = None, output_signature: Any = None, name: Optional[str] = None) -> Dataset:
    return Generator(generator, output_types, output_shapes, args, output_signature)


def _zip(*datasets: Any, name: Optional[str] = None) -> Dataset:
    return Zip(datasets[0] if len(datasets) == 1 else datasets)


# ---- transformations (methods)
def _batch(self: Dataset, batch_size: int, drop_remainder: bool = False, num_parallel_calls: Any = None,
           deterministic: Any = None, name: Optional[str] = None) -> Dataset:
    return Batch(self, int(batch_size), bool(drop_remainder))


def _unbatch(self: Dataset, name: Optional[str] = None) -> Dataset:
    return Unbatch(self)


def _shuffle(self: Dataset, buffer_size: int, seed: Optional[int] = None, reshuffle_each_iteration: bool = True,
             name: Optional[str] = None) -> Dataset:
    return Shuffle(self, int(buffer_size), seed, reshuffle_each_iteration)


def _map(self: Dataset, map_func: Callable[..., Any], num_parallel_calls: Any = None, deterministic: Any = None,
         name: Optional[str] = None) -> Dataset:
    return Map(self, map_func)


def _filter(self: Dataset, predicate: Callable[..., Any], name: Optional[str] = None) -> Dataset:
    return Filter(self, predicate)


def _repeat(self: Dataset, count: Optional[int] = None, name: Optional[str] = None) -> Dataset:
    return Repeat(self, None if count is None or count < 0 else int(count))


def _take(self: Dataset, count: int, name: Optional[str] = None) -> Dataset:
    return Take(self, int(count))


def _skip(self: Dataset, count: int, name: Optional[str] = None) -> Dataset:
    return Skip(self, int(count))


def _cache(self: Dataset, filename: str = "", name: Optional[str] = None) -> Dataset:
    if filename:
        raise NotImplementedError("Dataset.cache(filename): caching to a file is not supported; cache() keeps the "
                                  "elements in memory")
    return Cache(self)


def _prefetch(self: Dataset, buffer_size: int, name: Optional[str] = None) -> Dataset:
    return Prefetch(self, 2 if buffer_size == AUTOTUNE else int(buffer_size))


def _enumerate(self: Dataset, start: int = 0, name: Optional[str] = None) -> Dataset:
    return Zip((Range(start, np.iinfo(np.int64).max), self))


def _concatenate(self: Dataset, dataset: Dataset, name: Optional[str] = None) -> Dataset:
    return Concatenate(self, dataset)


def _apply(self: Dataset, transformation_func: Callable[[Dataset], Dataset]) -> Dataset:
    return transformation_func(self)


def _reduce(self: Dataset, initial_state: Any, reduce_func: Callable[..., Any], name: Optional[str] = None) -> Any:
    state = to_tensors(to_numpy(initial_state))
    for element in self:
        state = reduce_func(state, *(element if isinstance(element, tuple) else (element,)))
    return state


_STATIC = {"from_tensor_slices": _from_tensor_slices, "from_tensors": _from_tensors, "range": _range,
           "from_generator": _from_generator, "zip": _zip}
_METHODS = {"batch": _batch, "unbatch": _unbatch, "shuffle": _shuffle, "map": _map, "filter": _filter,
            "repeat": _repeat, "take": _take, "skip": _skip, "cache": _cache, "prefetch": _prefetch,
            "enumerate": _enumerate, "concatenate": _concatenate, "apply": _apply, "reduce": _reduce}


def install(cls: type) -> None:
    for name, fn in _STATIC.items():
        setattr(cls, name, staticmethod(fn))
    for name, fn in _METHODS.items():
        setattr(cls, name, fn)
    cls.element_spec = property(element_spec)


install(Dataset)
