"""Where elements come from: slices of arrays, one whole value, a range, a Python generator, several datasets
zipped."""
from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

from engine.data import structure as nest
from engine.data.dataset import UNKNOWN_CARDINALITY, Dataset
from ir.types import as_dtype

__all__ = ["Slices", "Tensors", "Range", "Generator", "Zip"]


class Slices(Dataset):
    """Element i is the i-th slice (along the first axis) of every array."""

    def __init__(self, arrays: Any) -> None:
        leaves = nest.flatten(arrays)
        if not leaves:
            raise ValueError("from_tensor_slices: no tensors given")
        if any(np.ndim(a) == 0 for a in leaves):
            raise ValueError("from_tensor_slices: every component must have at least one dimension to slice")
        sizes = {len(a) for a in leaves}
        if len(sizes) != 1:
            raise ValueError(f"from_tensor_slices: all components must have the same size in their first "
                             f"dimension, got sizes {sorted(sizes)}")
        self.arrays = arrays
        self._cardinality = sizes.pop()

    def _elements(self) -> Iterator[Any]:
        for i in range(self._cardinality):
            yield nest.map_structure(lambda a: a[i], self.arrays)

    def slice_batches(self, size: int, drop_remainder: bool) -> Iterator[Any]:
        """The batches of `batch(size)` cut directly from the arrays (no per-element stacking)."""
        n = self._cardinality
        stop = n - n % size if drop_remainder else n
        for start in range(0, stop, size):
            yield nest.map_structure(lambda a: np.ascontiguousarray(a[start:start + size]), self.arrays)


class Tensors(Dataset):
    def __init__(self, value: Any) -> None:
        self.value = value
        self._cardinality = 1

    def _elements(self) -> Iterator[Any]:
        yield self.value


class Range(Dataset):
    def __init__(self, *args: int, dtype: Any = "int64") -> None:
        if not 1 <= len(args) <= 3:
            raise TypeError(f"range takes 1 to 3 arguments (start, stop, step), got {len(args)}")
        r = range(*[int(a) for a in args])
        self.start, self.stop, self.step = r.start, r.stop, r.step
        self.np_dtype = as_dtype(dtype).np
        self._cardinality = len(r)

    def _elements(self) -> Iterator[Any]:
        dt = self.np_dtype
        for v in range(self.start, self.stop, self.step):
            yield np.asarray(v, dt)


class Generator(Dataset):
    """Elements from calling `generator(*args)` anew for each iteration; with `output_signature` (TensorSpecs) or
    `output_types`, each element is converted to those dtypes and checked against the shapes."""

    def __init__(self, generator: Callable[..., Any], output_types: Any, output_shapes: Any, args: Any,
                 output_signature: Any) -> None:
        if not callable(generator):
            raise TypeError("from_generator: `generator` must be callable")
        if output_signature is None and output_types is None:
            raise TypeError("from_generator: give `output_signature` (or `output_types`)")
        self.generator, self.args = generator, tuple(args or ())
        if output_signature is not None:
            self.dtypes = nest.map_structure(lambda s: as_dtype(s.dtype), output_signature)
            self.shapes = nest.map_structure(lambda s: None if s.shape is None else tuple(s.shape), output_signature)
        else:
            self.dtypes = nest.map_structure(as_dtype, output_types)
            self.shapes = output_shapes
        self._cardinality = UNKNOWN_CARDINALITY

    def _elements(self) -> Iterator[Any]:
        flat_dtypes = nest.flatten(self.dtypes)
        if self.shapes is None:
            flat_shapes = [None] * len(flat_dtypes)
        else:  # a shape is a tuple: pair each with its dtype rather than flattening it
            flat_shapes = [box[0] for box in nest.flatten(nest.map_structure(lambda d, s: [s], self.dtypes,
                                                                             self.shapes))]
        for item in self.generator(*self.args):
            leaves = nest.flatten(item) if isinstance(self.dtypes, (tuple, dict)) else [item]
            if len(leaves) != len(flat_dtypes):
                raise TypeError(f"from_generator: the generator yielded {item!r}, which does not match the "
                                f"declared structure {self.dtypes}")
            out = []
            for v, dt, shape in zip(leaves, flat_dtypes, flat_shapes):
                a = np.asarray(v.numpy() if hasattr(v, "numpy") else v, dtype=dt.np)
                if shape is not None and (len(shape) != a.ndim or any(
                        s is not None and s != d for s, d in zip(shape, a.shape))):
                    raise TypeError(f"from_generator: the generator yielded an element of shape {a.shape} where "
                                    f"an element compatible with {tuple(shape)} was expected")
                out.append(a)
            yield nest.pack_as(self.dtypes, out) if isinstance(self.dtypes, (tuple, dict)) else out[0]


class Zip(Dataset):
    def __init__(self, datasets: Any) -> None:
        members = nest.flatten(datasets)
        if not members or not all(isinstance(d, Dataset) for d in members):
            raise TypeError(f"zip: expected a (nested) structure of datasets, got {datasets!r}")
        self.datasets = datasets
        counts = [d._cardinality for d in members]
        known = [c for c in counts if c >= 0]
        if known:
            self._cardinality = min(known)
        elif UNKNOWN_CARDINALITY in counts:
            self._cardinality = UNKNOWN_CARDINALITY
        else:
            self._cardinality = counts[0]

    def _elements(self) -> Iterator[Any]:
        members = nest.flatten(self.datasets)
        iters = [d._elements() for d in members]
        while True:
            items = []
            for it in iters:
                try:
                    items.append(next(it))
                except StopIteration:
                    return
            yield nest.pack_as(self.datasets, items)


