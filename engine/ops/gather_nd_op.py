"""`tf.gather_nd`, a composite of the `reshape`, `gather`, `iota`, `mul` and `add` rows (so its gradient, the
scatter-add of the cotangent into params, comes from the rows' rules, eagerly and traced).

params of shape P and indices of shape I + [K] give I + P[K:]: each index vector names one element (K = rank) or one
slice of params (a dim of unknown size is a run-time `dim` throughout). The K leading axes of params are merged into
one and each index vector becomes its row-major linear position there; every component is first gathered from
range(P[k]), which returns it unchanged and checks it against its own axis (an out-of-range component could
otherwise land on another valid position). `batch_dims` b shares the first b axes of params and indices: the batch
row becomes one more leading coordinate.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from engine.dispatch import apply
from engine.errors import InvalidDTypeError
from engine.ops.funnel import as_tensor, broadcast, cast, raw_shape
from engine.ops.math_ops import add, multiply
from engine.ops.shape_ops import run_time_reshape
from engine.tensor import Tensor
from ir.opdef import OPS
from ir.ops_state import InvalidArgumentError
from ir.types import int64


def _size(t: Tensor, axis: int) -> Any:
    """Dimension `axis` of t: an int where static, an int64 scalar (`dim`) where known only at run time."""
    d = raw_shape(t)[axis]
    return d if d is not None else apply(OPS["dim"], t, axis=axis)


def _times(a: Any, b: Any) -> Any:
    return a * b if isinstance(a, int) and isinstance(b, int) else multiply(a, b)


def _component(indices: Tensor, k: int, size: Any) -> Tensor:
    """indices[..., k] as int64, checked against range(size) by a gather."""
    shape = raw_shape(indices)
    begin = (0,) * (len(shape) - 1) + (k,)
    end = tuple(shape[:-1]) + (k + 1,)
    column = apply(OPS["slice"], indices, begin=begin, end=end, strides=(1,) * len(shape))
    column = run_time_reshape(cast(column, int64), [_size(indices, a) for a in range(len(shape) - 1)])
    span = apply(OPS["iota"], shape=(size,), dtype=int64, axis=0) if isinstance(size, int) else \
        apply(OPS["iota"], size, shape=(None,), dtype=int64, axis=0)
    return apply(OPS["gather"], span, column, axis=0)


def _with_batch_row(indices: Tensor, batch_shape: tuple[int, ...]) -> Tensor:
    """Indices of shape B + J + [K] with the batch rows' linear position prepended: B + J + [K + 1]."""
    shape = tuple(raw_shape(indices))
    b = len(batch_shape)
    rows = apply(OPS["iota"], shape=(int(np.prod(batch_shape, dtype=np.int64)),), dtype=int64, axis=0)
    rows = apply(OPS["reshape"], rows, shape=batch_shape + (1,) * (len(shape) - b))
    rows = broadcast(rows, shape[:-1] + (1,))
    return apply(OPS["concat"], rows, cast(indices, int64), axis=len(shape) - 1)


def gather_nd(params: Any, indices: Any, batch_dims: int = 0, name: Optional[str] = None) -> Tensor:
    """`tf.gather_nd`: the elements or slices of `params` named by the index vectors in the last axis of `indices`.

    >>> import engine as tf
    >>> print(tf.gather_nd(tf.constant([[1, 2], [3, 4]]), [[0, 1], [1, 0]]))
    engine.Tensor([2 3], shape=(2,), dtype=int32)
    """
    p = as_tensor(params)
    i = as_tensor(indices)
    if not i.dtype.is_integer:
        raise InvalidDTypeError(f"gather_nd: indices must be int32 or int64, got {i.dtype.name}")
    ps, ishape = tuple(raw_shape(p)), tuple(raw_shape(i))
    b = int(batch_dims)
    if not ishape or not 0 <= b < len(ishape) or b > len(ps) or ps[:b] != ishape[:b]:
        raise InvalidArgumentError(f"gather_nd: indices of shape {ishape} and params of shape {ps} need an index "
                                   f"axis and batch_dims {b} shared leading dimensions")
    if b:
        i = _with_batch_row(i, ishape[:b])
        batch = int(np.prod(ps[:b], dtype=np.int64))
        p = apply(OPS["reshape"], p, shape=(batch,) + ps[b:])
        ps, ishape = tuple(raw_shape(p)), tuple(raw_shape(i))
    k = ishape[-1]
    if k > len(ps):
        raise InvalidArgumentError(f"gather_nd: index vectors of length {k} are longer than the rank {len(ps)} of "
                                   f"params {ps}")
    linear: Optional[Tensor] = None
    stride: Any = 1
    for axis in reversed(range(k)):
        size = _size(p, axis)
        term = _component(i, axis, size)
        if not (isinstance(stride, int) and stride == 1):
            term = multiply(term, stride)
        linear = term if linear is None else add(term, linear)
        stride = _times(stride, size)
    if linear is None:  # empty index vectors select all of params once per index
        zero = apply(OPS["constant"], value=np.zeros((), np.int64))
        linear = apply(OPS["broadcast_to"], zero, *[apply(OPS["dim"], i, axis=a) for a, d in enumerate(ishape[:-1])
                                                    if d is None], shape=ishape[:-1])
    merged = run_time_reshape(p, [stride] + [_size(p, a) for a in range(k, len(ps))]) if None in ps else \
        apply(OPS["reshape"], p, shape=(int(np.prod(ps[:k], dtype=np.int64)),) + ps[k:])
    return apply(OPS["gather"], merged, linear, axis=0)
