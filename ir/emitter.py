"""The emitter: the interface every gradient rule is written against (DESIGN §7).

A vjp or jvp rule says `em.mul(g, out)`; the eager tape's emitter runs that on tensors (so outer tapes record it),
the IR emitter (`IREmitter`, used by reverse and forward mode) appends an op to a block. Both subclass `Emitter`
and supply three methods: `apply(opdef, *operands, **attrs)`, `type_of(value)` and `constant(value, dtype)` (a
scalar constant). Everything else here is derived from those three. Assumes only the op table and `ir.core`.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ir.core import Builder
from ir.opdef import OPS, OpDef
from ir.types import DType, RefType, TensorType


class Emitter:
    """Base class: `em.<opname>(*operands, **attrs)` applies that op of the table."""

    def apply(self, opdef: OpDef, *operands: Any, **attrs: Any) -> Any:
        raise NotImplementedError

    def type_of(self, value: Any) -> TensorType:
        raise NotImplementedError

    def constant(self, value: Any, dtype: DType) -> Any:
        """A scalar constant of `dtype`."""
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        try:
            opdef = OPS[name]
        except KeyError:
            raise AttributeError(f"no op named {name!r} in the op table") from None
        return lambda *operands, **attrs: self.apply(opdef, *operands, **attrs)

    # Derived helpers, shared by all rules.
    def shape(self, v: Any) -> tuple[Optional[int], ...]:
        """The static shape of v: None for a dim known only at run time."""
        return self.type_of(v).shape

    def dtype(self, v: Any) -> DType:
        return self.type_of(v).dtype

    def sizes(self, shape: Sequence[Optional[int]], like: Any) -> list[Any]:
        """The trailing size operands of a row making `shape` (ir.ops_dims): a `dim` of `like` per unknown dim
        (shape's unknown dims are like's, at the same axes)."""
        unknown = [i for i, d in enumerate(shape) if d is None]
        if unknown and like is None:
            raise NotImplementedError(f"a shape with unknown dims {tuple(shape)} needs a value to take them from")
        return [self.apply(OPS["dim"], like, axis=i) for i in unknown]

    def full(self, value: Any, dtype: DType, shape: Sequence[Optional[int]], like: Any = None) -> Any:
        c = self.constant(value, dtype)
        if tuple(shape) == ():
            return c
        return self.apply(OPS["broadcast_to"], c, *self.sizes(shape, like), shape=tuple(shape))

    def full_like(self, v: Any, value: Any) -> Any:
        t = self.type_of(v)
        return self.full(value, t.dtype, t.shape, like=v)

    def zeros_like(self, v: Any) -> Any:
        return self.full_like(v, 0)

    def scalar_like(self, v: Any, value: Any) -> Any:
        return self.full_like(v, value)

    def bcast(self, v: Any, shape: Sequence[Optional[int]], like: Any = None) -> Any:
        """broadcast_to unless already of that shape; unknown dims of `shape` are like's."""
        if self.shape(v) == tuple(shape):
            return v
        return self.apply(OPS["broadcast_to"], v, *self.sizes(shape, like), shape=tuple(shape))

    def reshape_to(self, v: Any, shape: Sequence[Optional[int]], like: Any = None) -> Any:
        """reshape unless already of that shape; unknown dims of `shape` are like's."""
        if self.shape(v) == tuple(shape):
            return v
        return self.apply(OPS["reshape"], v, *self.sizes(shape, like), shape=tuple(shape))

    def sum_to(self, g: Any, shape: Sequence[Optional[int]], like: Any = None) -> Any:
        """Sum `g` down to `shape`, undoing a numpy-style broadcast (used by broadcast_to's vjp). An unknown dim
        of `shape` (like's) may have been 1 when the function ran (`x[:1]` on an axis of unknown size): after the
        static sums, g is reshaped there to (like's size, g's size / like's size) and summed over the second, which
        sums everything when like's size is 1 and nothing otherwise."""
        shape = tuple(shape)
        gshape = self.shape(g)
        if gshape == shape and None not in shape:
            return g
        lead = len(gshape) - len(shape)
        axes = tuple(range(lead)) + tuple(i + lead for i, d in enumerate(shape) if d == 1 and gshape[i + lead] != 1)
        if axes:
            g = self.apply(OPS["reduce_sum"], g, axes=axes)
        kept = [i for i in range(len(shape)) if i + lead not in axes]  # the axes of x that g still has, in order
        for pos, i in enumerate(kept):
            if shape[i] is None and self.shape(g)[pos] != 1 and like is not None:
                g = self._sum_where_one(g, like, i, pos)
        return self.reshape_to(g, shape, like=like)

    def _sum_where_one(self, g: Any, like: Any, axis: int, gaxis: int) -> Any:
        gshape = self.shape(g)
        n = self.apply(OPS["dim"], like, axis=axis)
        # like's size 0 leaves g no elements there: any `per` reshapes it, and 0 // max(n, 1) does not divide by 0
        positive = self.apply(OPS["maximum"], n, self.constant(1, self.dtype(n)))
        per = self.apply(OPS["floordiv"], self.apply(OPS["dim"], g, axis=gaxis), positive)
        sizes = []
        for k, d in enumerate(gshape):
            if k == gaxis:
                sizes += [n, per]
            elif d is None:
                sizes.append(self.apply(OPS["dim"], g, axis=k))
        split = gshape[:gaxis] + (None, None) + gshape[gaxis + 1:]
        return self.apply(OPS["reduce_sum"], self.apply(OPS["reshape"], g, *sizes, shape=split), axes=(gaxis + 1,))

    def add_n(self, values: Sequence[Any]) -> Any:
        acc = values[0]
        for v in values[1:]:
            acc = self.apply(OPS["add"], acc, v)
        return acc


def value_type(t: TensorType) -> TensorType:
    """The type of the value a value of type t stands for: a Variable reference's value, else t as a tensor."""
    return t.value_type if isinstance(t, RefType) else TensorType(t.dtype, t.shape)


class IREmitter(Emitter):
    """Rules applied by appending ops to a block (a Variable reference is typed as its value)."""

    def __init__(self, builder: Builder) -> None:
        self.builder = builder

    def apply(self, opdef: OpDef, *operands: Any, **attrs: Any) -> Any:
        results = self.builder.op(opdef, operands, attrs)
        return results[0] if len(results) == 1 else tuple(results)

    def type_of(self, value: Any) -> TensorType:
        return value_type(value.type)

    def constant(self, value: Any, dtype: DType) -> Any:
        return self.builder.one(OPS["constant"], value=np.asarray(value, dtype=dtype.np))
