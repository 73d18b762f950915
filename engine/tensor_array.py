"""`tf.TensorArray`: a list of same-typed tensors written one index at a time, as TensorFlow 2's.

Eagerly it is what TF's eager TensorArray is: a Python list of tensors that `write` fills in place (returning the
same object), with TF's checks and messages (writing past a fixed size, reading an index twice when
`clear_after_read`, unstacking more values than the size, element shapes that disagree); unwritten entries read as
zeros of the element shape.

While tracing it is a value: one tensor `[size, *element_shape]` (the "buffer") and `write` returns a new
TensorArray whose buffer has row `index` replaced (a `select` against `iota == index`, so gradients flow through it
by the rows' own rules, and reverse mode through loops keeps only the predicate per iteration). The buffer is the
TensorArray's one component in `engine.nest`, so a TensorArray can be a `while_loop` / AutoGraph loop variable or a
`cond` output. When its element shape is not known before a loop (no `element_shape=`, nothing written yet), the loop
traces its body once to learn it from the first `write` (see `engine.control_flow`). `dynamic_size=True` grows the
buffer to `index + 1` rows at a write past its end; while tracing that needs a size known at trace time unless the
IR has unknown dimensions.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from engine import dispatch
from engine.convert import convert_to_tensor
from engine.errors import InvalidArgumentError, OutOfRangeError
from engine.ops.funnel import broadcast
from engine.tensor import Tensor, TensorLike, TensorShape
from ir.opdef import OPS
from ir.types import DType, as_dtype, int32, int64

__all__ = ["TensorArray", "shaped_like", "unshaped_tensor_array"]


def _ops() -> Any:
    from engine import ops
    return ops


def _static_int(x: Any) -> Optional[int]:
    """The Python int of `x` when it is known at trace time (a Python int or an eager tensor)."""
    if x is None:
        return None
    if isinstance(x, (int, np.integer)):
        return int(x)
    t = x if isinstance(x, Tensor) else convert_to_tensor(x)
    return int(np.asarray(t._value)) if t._node is None else None


def _zero_rows(n: Any, element: Sequence[Optional[int]], dtype: DType, run_time: bool) -> Tensor:
    """zeros([n, *element]); with `run_time` the row count is a run-time size (type `[?, ...]`), so that a growing
    TensorArray keeps one type through a loop."""
    ops = _ops()
    if not run_time:
        return ops.zeros([int(n), *element], dtype)
    size = ops.cast(convert_to_tensor(n) if not isinstance(n, Tensor) else n, int64)
    return dispatch.apply(OPS["broadcast_to"], ops.zeros([], dtype), size, shape=(None, *element))


class TensorArray:
    """`tf.TensorArray(dtype, size=None, dynamic_size=None, clear_after_read=None, element_shape=None, ...)`.

    >>> import engine as tf
    >>> ta = tf.TensorArray(tf.float32, size=3)
    >>> ta = ta.write(0, [1.0, 2.0]).write(2, [5.0, 6.0])
    >>> ta.stack().numpy().tolist()
    [[1.0, 2.0], [0.0, 0.0], [5.0, 6.0]]
    """

    def __init__(self, dtype: Any, size: Any = None, dynamic_size: Optional[bool] = None,
                 clear_after_read: Optional[bool] = None, tensor_array_name: Optional[str] = None, handle: Any = None,
                 flow: Any = None, infer_shape: bool = True, element_shape: Any = None,
                 colocate_with_first_write_call: bool = True, name: Optional[str] = None) -> None:
        self._dtype: DType = as_dtype(dtype)
        self._dynamic = bool(dynamic_size)
        self._clear = True if clear_after_read is None else bool(clear_after_read)
        self._infer_shape = infer_shape
        self._element_shape: Optional[TensorShape] = None if element_shape is None else \
            TensorShape(tuple(None if d is None else int(d) for d in element_shape))
        if size is None and not self._dynamic:
            raise ValueError("TensorArray: give a size, or dynamic_size=True")
        n = 0 if size is None else _static_int(size)
        self._traced = dispatch.tracing()
        if n is None:
            raise NotImplementedError(
                "TensorArray: a size known only when the function runs needs unknown dimensions in the IR; give a "
                "size known at trace time (a Python int, x.shape[0]) or use dynamic_size=True")
        if n < 0:
            raise ValueError(f"TensorArray: size must be non-negative, got {n}")
        self._size = n
        self._items: list[Optional[Tensor]] = [None] * n   # eager
        self._read: set[int] = set()                         # eager, clear_after_read
        self._buffer: Optional[Tensor] = None                # traced: [size, *element_shape]
        if self._traced and self._element_shape is not None and self._element_shape.is_fully_defined():
            self._buffer = _zero_rows(n, self._element_shape, self._dtype, self._dynamic)

    # ---- properties
    @property
    def dtype(self) -> DType:
        return self._dtype

    @property
    def element_shape(self) -> TensorShape:
        return self._element_shape if self._element_shape is not None else TensorShape(())

    @property
    def dynamic_size(self) -> bool:
        return self._dynamic

    def size(self, name: Optional[str] = None) -> Tensor:
        if self._traced and self._buffer is not None and self._buffer.shape[0] is None:
            return _ops().cast(dispatch.apply(OPS["dim"], self._buffer, axis=0), int32)
        n = len(self._items) if not self._traced else self._rows()
        return convert_to_tensor(n, dtype=int32)

    def _rows(self) -> Any:
        return self._size if self._buffer is None else self._buffer.shape[0]

    def __repr__(self) -> str:
        return f"<engine.TensorArray dtype={self._dtype.name} size={self._rows() if self._traced else len(self._items)}>"

    # ---- nest: while tracing, the buffer is the one component
    def _kiln_components(self) -> Optional[list[Tensor]]:
        if not self._traced:
            return None
        return [] if self._buffer is None else [self._buffer]

    def _kiln_rebuild(self, components: Sequence[Tensor]) -> "TensorArray":
        out = self._copy()
        if components:
            out._buffer = components[0]
        return out

    def _copy(self) -> "TensorArray":
        out = object.__new__(TensorArray)
        out.__dict__.update(self.__dict__)
        return out

    # ---- element checks
    def _value(self, value: Any) -> Tensor:
        v = convert_to_tensor(value, dtype=self._dtype) if not isinstance(value, TensorLike) else value
        if isinstance(v, TensorLike) and not isinstance(v, Tensor):
            v = v.value()
        if v.dtype is not self._dtype:
            raise InvalidArgumentError(f"TensorArray dtype is {self._dtype.name} but Op is trying to write dtype "
                                       f"{v.dtype.name}")
        shape = TensorShape(tuple(v.shape))
        if self._element_shape is not None and self._infer_shape:
            if not self._element_shape.is_compatible_with(shape) or len(shape) != len(self._element_shape):
                raise ValueError(f"Incompatible shape for value ({tuple(shape)}), expected "
                                 f"({tuple(self._element_shape)})")
        if self._element_shape is None or not self._element_shape.is_fully_defined():
            self._element_shape = shape
        return v

    def _index(self, index: Any) -> Any:
        return index if self._traced else _static_int(index)

    # ---- write / read
    def write(self, index: Any, value: Any, name: Optional[str] = None) -> "TensorArray":
        if not self._traced:
            i = self._index(index)
            v = self._value(value)
            if i < 0:
                raise OutOfRangeError(f"Tried to write to index {i} but the index is negative")
            if i >= len(self._items):
                if not self._dynamic:
                    raise OutOfRangeError(f"Tried to write to index {i} but array is not resizeable and size is: "
                                          f"{len(self._items)}")
                self._items.extend([None] * (i + 1 - len(self._items)))
            self._items[i] = v
            return self
        out = self._copy()
        v = out._value(value)
        return out._traced_write(index, v)

    def _traced_write(self, index: Any, v: Tensor) -> "TensorArray":
        ops = _ops()
        buf = self._buffer if self._buffer is not None else _zero_rows(self._size, v.shape, self._dtype,
                                                                       self._dynamic)
        i = convert_to_tensor(index, dtype=int32) if not isinstance(index, Tensor) else ops.cast(index, int32)
        static_i = _static_int(index) if not isinstance(index, Tensor) or index._node is None else None
        if self._dynamic:  # grow to index + 1 rows when writing past the end
            rows = dispatch.apply(OPS["dim"], buf, axis=0)
            pad = ops.maximum(ops.subtract(ops.cast(i, int64) + 1, rows), 0)
            buf = ops.concat([buf, _zero_rows(pad, v.shape, self._dtype, True)], 0)
            positions = dispatch.apply(OPS["iota"], dispatch.apply(OPS["dim"], buf, axis=0), shape=(None,),
                                       dtype=int32, axis=0)
        else:
            rows = int(buf.shape[0])
            if static_i is not None and not 0 <= static_i < rows:
                raise OutOfRangeError(f"Tried to write to index {static_i} but array is not resizeable and size "
                                      f"is: {rows}")
            if static_i is None:
                dispatch.apply(OPS["assert"], ops.logical_and(i >= 0, i < rows), i, summarize=3,
                               message=f"Tried to write to index {{}} but array is not resizeable and size is: "
                                       f"{rows}")
            positions = ops.range(rows, dtype=int32)
        hit = ops.reshape(ops.equal(positions, i), [-1] + [1] * len(v.shape))
        self._buffer = ops.where(hit, broadcast(ops.expand_dims(v, 0), tuple(buf.shape), buf), buf)
        return self

    def read(self, index: Any, name: Optional[str] = None) -> Tensor:
        if not self._traced:
            i = self._index(index)
            if not 0 <= i < len(self._items):
                raise OutOfRangeError(f"Tried to read from index {i} but array size is: {len(self._items)}")
            if self._clear and i in self._read:
                raise InvalidArgumentError(f"Could not read index {i} twice because it was cleared after a previous "
                                           f"read (perhaps try setting clear_after_read = false?)")
            self._read.add(i)
            item = self._items[i]
            return item if item is not None else self._zeros_element(f"Could not read from TensorArray index {i}")
        ops = _ops()
        if self._buffer is None:
            return self._zeros_element("TensorArray.read before any write")
        return ops.gather(self._buffer, ops.cast(convert_to_tensor(index), int32))

    def _zeros_element(self, what: str) -> Tensor:
        if self._element_shape is None or not self._element_shape.is_fully_defined():
            raise InvalidArgumentError(f"{what}: the element was never written and the element shape is not fully "
                                       f"defined, so it cannot be zeros")
        return _ops().zeros(list(self._element_shape), self._dtype)

    # ---- whole-array views
    def stack(self, name: Optional[str] = None) -> Tensor:
        ops = _ops()
        if self._traced:
            if self._buffer is not None:
                return self._buffer
            return _zero_rows(self._size, self.element_shape, self._dtype, False)
        if not self._items:
            return ops.zeros([0, *(self._element_shape or ())], self._dtype)
        return ops.stack([t if t is not None else self._zeros_element(f"Could not read from TensorArray index {i}")
                          for i, t in enumerate(self._items)])

    def gather(self, indices: Any, name: Optional[str] = None) -> Tensor:
        return _ops().gather(self.stack(), indices)

    def concat(self, name: Optional[str] = None) -> Tensor:
        ops = _ops()
        if self._traced:
            s = self.stack()
            return ops.reshape(s, [-1, *s.shape[2:]])
        return ops.concat([t if t is not None else self._zeros_element("TensorArray.concat") for t in self._items], 0)

    def unstack(self, value: Any, name: Optional[str] = None) -> "TensorArray":
        v = convert_to_tensor(value, dtype=self._dtype)
        n = int(v.shape[0])
        if not self._dynamic and n > (self._rows() if self._traced else len(self._items)):
            raise ValueError(f"Cannot unstack {n} tensors into a TensorArray of static size "
                             f"{self._rows() if self._traced else len(self._items)}")
        return self.scatter(list(range(n)), v)

    def scatter(self, indices: Any, value: Any, name: Optional[str] = None) -> "TensorArray":
        v = convert_to_tensor(value, dtype=self._dtype)
        idx = [_static_int(i) for i in (indices.numpy().tolist() if isinstance(indices, Tensor) and
                                        indices._node is None else list(indices))]
        out = self if not self._traced else self._copy()
        for k, i in enumerate(idx):
            out = out.write(i, v[k])
        return out

    def split(self, value: Any, lengths: Any, name: Optional[str] = None) -> "TensorArray":
        v = convert_to_tensor(value, dtype=self._dtype)
        sizes = [_static_int(n) for n in (lengths.numpy().tolist() if isinstance(lengths, Tensor) else lengths)]
        if sum(sizes) != int(v.shape[0]):
            raise InvalidArgumentError(f"Expected sum of lengths to be equal to values.shape[0], but sum of lengths "
                                       f"is {sum(sizes)} and value's shape is: {tuple(v.shape)}")
        out, start = self, 0
        for k, n in enumerate(sizes):
            out = out.write(k, v[start:start + n])
            start += n
        return out

    def identity(self) -> "TensorArray":
        return self

    def close(self, name: Optional[str] = None) -> None:
        return None

    def mark_used(self) -> None:
        return None


# ---- loops: a TensorArray whose element shape the loop body decides
def unshaped_tensor_array(v: Any) -> bool:
    """A traced TensorArray with no buffer yet (its element shape is known only after a write)."""
    return isinstance(v, TensorArray) and v._traced and v._buffer is None


def shaped_like(before: "TensorArray", after: Any, what: str) -> "TensorArray":
    """`before` with a zero buffer of the shape `after` (the same TensorArray after one speculative iteration of a
    loop body) has: the loop then starts from it, so its type is the same before and after each iteration."""
    if not isinstance(after, TensorArray) or after._buffer is None:
        raise ValueError(f"{what}: a TensorArray whose element shape is unknown before the loop must be written in "
                         f"the loop body (or give element_shape=)")
    out = before._copy()
    out._element_shape = after._element_shape
    out._buffer = _zero_rows(before._size, after._buffer.shape[1:], before._dtype, before._dynamic)
    return out
