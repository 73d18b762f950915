"""Dataset transformations, each an iterator over its input's elements, with TF's semantics:
- `shuffle(buffer_size)`: a buffer filled with the first `buffer_size` elements; each output is a uniformly chosen
  buffer entry, replaced by the next input element; a new order on every iteration unless
  `reshuffle_each_iteration=False`.
- `map(f)`: `f` is an `engine.function` (traced and compiled once per element signature); a tuple element is
  passed as separate arguments, as TF does.
- `prefetch(n)`: a background thread keeps up to n elements ready.
"""
from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Iterator, Optional

import numpy as np

from engine.data import structure as nest
from engine.data.dataset import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset, to_numpy, to_tensors
from engine.data.sources import Slices

__all__ = ["Batch", "Unbatch", "Shuffle", "Map", "Filter", "Repeat", "Take", "Skip", "Cache", "Prefetch",
           "Concatenate", "element_spec"]


def _count(n: int, f: Callable[[int], int]) -> int:
    return n if n < 0 else f(n)


class Batch(Dataset):
    def __init__(self, input: Dataset, size: int, drop_remainder: bool) -> None:
        if size <= 0:
            raise ValueError(f"batch: batch_size must be positive, got {size}")
        self.input, self.size, self.drop_remainder = input, size, drop_remainder
        self._cardinality = _count(input._cardinality,
                                   lambda n: n // size if drop_remainder else -(-n // size))

    def _elements(self) -> Iterator[Any]:
        if isinstance(self.input, Slices):
            yield from self.input.slice_batches(self.size, self.drop_remainder)
            return
        pending: list = []
        for element in self.input._elements():
            pending.append(element)
            if len(pending) == self.size:
                yield _stack(pending)
                pending = []
        if pending and not self.drop_remainder:
            yield _stack(pending)


def _stack(elements: list) -> Any:
    try:
        return nest.map_structure(lambda *xs: np.stack(xs), *elements)
    except ValueError as exc:
        shapes = [np.shape(nest.flatten(e)[0]) for e in elements]
        raise ValueError(f"batch: cannot batch elements of different shapes {sorted(set(shapes))} ({exc})") from None


class Unbatch(Dataset):
    def __init__(self, input: Dataset) -> None:
        self.input = input
        # Known when the batch size is static, as in TF: slices of arrays, or batches that drop their remainder.
        n = input._cardinality
        if n >= 0 and isinstance(input, Slices) and all(np.ndim(a) >= 2 for a in nest.flatten(input.arrays)):
            self._cardinality = n * np.shape(nest.flatten(input.arrays)[0])[1]
        elif n >= 0 and isinstance(input, Batch) and input.drop_remainder:
            self._cardinality = n * input.size
        else:
            self._cardinality = UNKNOWN_CARDINALITY if n >= 0 else n

    def _elements(self) -> Iterator[Any]:
        for element in self.input._elements():
            n = len(nest.flatten(element)[0])
            for i in range(n):
                yield nest.map_structure(lambda a: a[i], element)


class Shuffle(Dataset):
    def __init__(self, input: Dataset, buffer_size: int, seed: Optional[int], reshuffle: bool) -> None:
        if buffer_size <= 0:
            raise ValueError(f"shuffle: buffer_size must be greater than zero, got {buffer_size}")
        self.input, self.buffer_size, self.reshuffle = input, buffer_size, reshuffle
        self._seed_rng = np.random.default_rng(seed)
        self._fixed = int(self._seed_rng.integers(2**63)) if not reshuffle else None
        self._cardinality = input._cardinality

    def _elements(self) -> Iterator[Any]:
        seed = self._fixed if self._fixed is not None else int(self._seed_rng.integers(2**63))
        rng = np.random.default_rng(seed)
        buffer: list = []
        for element in self.input._elements():
            if len(buffer) < self.buffer_size:
                buffer.append(element)
                continue
            i = int(rng.integers(len(buffer)))
            yield buffer[i]
            buffer[i] = element
        while buffer:
            i = int(rng.integers(len(buffer)))
            buffer[i], buffer[-1] = buffer[-1], buffer[i]
            yield buffer.pop()


class Map(Dataset):
    def __init__(self, input: Dataset, fn: Callable[..., Any]) -> None:
        from engine.function import Function, function
        self.input = input
        self.fn = fn if isinstance(fn, Function) else function(fn)
        self._cardinality = input._cardinality

    def _elements(self) -> Iterator[Any]:
        fn = self.fn
        for element in self.input._elements():
            args = to_tensors(element)
            out = fn(*args) if isinstance(element, tuple) else fn(args)
            yield to_numpy(out)


class Filter(Dataset):
    def __init__(self, input: Dataset, predicate: Callable[..., Any]) -> None:
        from engine.function import Function, function
        self.input = input
        self.predicate = predicate if isinstance(predicate, Function) else function(predicate)
        self._cardinality = UNKNOWN_CARDINALITY if input._cardinality >= 0 else input._cardinality

    def _elements(self) -> Iterator[Any]:
        for element in self.input._elements():
            args = to_tensors(element)
            keep = self.predicate(*args) if isinstance(element, tuple) else self.predicate(args)
            if getattr(keep, "dtype", None) is None or keep.dtype.name != "bool" or tuple(keep.shape) != ():
                raise ValueError(f"filter: the predicate must return a scalar bool tensor, got {keep!r}")
            if bool(keep):
                yield element


class Repeat(Dataset):
    def __init__(self, input: Dataset, count: Optional[int]) -> None:
        self.input, self.count = input, count
        n = input._cardinality
        if count is None:
            self._cardinality = 0 if n == 0 else INFINITE_CARDINALITY
        else:
            self._cardinality = _count(n, lambda k: k * count)

    def _elements(self) -> Iterator[Any]:
        i = 0
        while self.count is None or i < self.count:
            empty = True
            for element in self.input._elements():
                empty = False
                yield element
            if empty:
                return
            i += 1


class Take(Dataset):
    def __init__(self, input: Dataset, count: int) -> None:
        self.input, self.count = input, count
        n = input._cardinality
        if count < 0:
            self._cardinality = n
        elif n == INFINITE_CARDINALITY:
            self._cardinality = count
        else:
            self._cardinality = _count(n, lambda k: min(k, count))

    def _elements(self) -> Iterator[Any]:
        if self.count == 0:
            return
        for i, element in enumerate(self.input._elements()):
            yield element
            if self.count >= 0 and i + 1 >= self.count:
                return


class Skip(Dataset):
    def __init__(self, input: Dataset, count: int) -> None:
        self.input, self.count = input, count
        n = input._cardinality
        self._cardinality = (0 if count < 0 else _count(n, lambda k: max(k - count, 0)))

    def _elements(self) -> Iterator[Any]:
        if self.count < 0:
            return
        for i, element in enumerate(self.input._elements()):
            if i >= self.count:
                yield element


class Cache(Dataset):
    def __init__(self, input: Dataset) -> None:
        self.input = input
        self._cache: Optional[list] = None
        self._cardinality = input._cardinality

    def _elements(self) -> Iterator[Any]:
        if self._cache is not None:
            yield from self._cache
            return
        filled: list = []
        for element in self.input._elements():
            filled.append(element)
            yield element
        self._cache = filled


_DONE = object()


class Prefetch(Dataset):
    def __init__(self, input: Dataset, size: int) -> None:
        self.input, self.size = input, max(1, size)
        self._cardinality = input._cardinality

    def _elements(self) -> Iterator[Any]:
        q: queue.Queue = queue.Queue(maxsize=self.size)
        stop = threading.Event()

        def produce() -> None:
            try:
                for element in self.input._elements():
                    while not stop.is_set():
                        try:
                            q.put(("ok", element), timeout=0.1)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
                q.put(("done", _DONE))
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
                q.put(("error", exc))
        worker = threading.Thread(target=produce, name="kiln-prefetch", daemon=True)
        worker.start()
        try:
            while True:
                kind, value = q.get()
                if kind == "done":
                    return
                if kind == "error":
                    raise value
                yield value
        finally:
            stop.set()


class Concatenate(Dataset):
    def __init__(self, first: Dataset, second: Dataset) -> None:
        self.first, self.second = first, second
        a, b = first._cardinality, second._cardinality
        self._cardinality = a + b if a >= 0 and b >= 0 else (INFINITE_CARDINALITY if INFINITE_CARDINALITY in (a, b)
                                                              else UNKNOWN_CARDINALITY)

    def _elements(self) -> Iterator[Any]:
        yield from self.first._elements()
        yield from self.second._elements()


def element_spec(ds: Dataset) -> Any:
    """TensorSpecs of the elements, from the first element; batch dimensions are None unless batching drops the
    remainder (as TF's static element_spec)."""
    from engine.concrete import TensorSpec
    from ir.types import from_numpy
    first = next(iter(ds._elements()), None)
    if first is None:
        raise ValueError("element_spec: the dataset is empty")
    batched = _batched_unknown(ds)
    return nest.map_structure(lambda a: TensorSpec(((None,) + tuple(np.shape(a))[1:]) if batched and np.ndim(a)
                                                   else tuple(np.shape(a)), from_numpy(np.asarray(a).dtype)), first)


def _batched_unknown(ds: Dataset) -> bool:
    while ds is not None:
        if isinstance(ds, Batch):
            return not ds.drop_remainder
        ds = getattr(ds, "input", None)
    return False
