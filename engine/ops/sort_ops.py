"""`tf.sort`, `tf.argsort` and `tf.math.top_k` (`tf.nn.top_k`) on the `argsort` row (ir.ops_sort).

The sorted axis is swapped with the last one (as TF does), each row's positions come from `argsort` (stable: equal
values keep their index order in both directions, which is TF's tie order), and values are gathered with them, so
the gradient of `sort` and `top_k` is gather's: the cotangent scattered back to where each value came from.
O(n log n) eager and compiled; unknown (`None`) dims need nothing special.
"""
from __future__ import annotations

import collections
from typing import Any, Optional

from engine.dispatch import apply
from engine.ops.array_ops import gather, transpose
from engine.ops.funnel import as_tensor, raw_shape
from engine.ops.math_ops import cast
from engine.tensor import Tensor
from ir.opdef import OPS
from ir.ops_state import InvalidArgumentError
from ir.types import as_dtype, int32, int64

TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])


def _check(t: Tensor, public: str) -> None:
    if not (t.dtype.is_integer or t.dtype.is_floating):
        raise TypeError(f"{public}: expected a numeric tensor, got {t.dtype.name}")


def _swap(t: Tensor, axis: int) -> tuple[Tensor, Optional[list[int]]]:
    rank = len(raw_shape(t))
    if axis == rank - 1:
        return t, None
    perm = list(range(rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    return transpose(t, perm), perm


def _order(values: Any, axis: Any, direction: str, public: str) -> tuple[Tensor, Tensor, Optional[list[int]]]:
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError(f"Argument `direction` should be one of ASCENDING, DESCENDING. Received: "
                         f"direction={direction}")
    t = as_tensor(values)
    _check(t, public)
    rank = len(raw_shape(t))
    if rank == 0:
        raise InvalidArgumentError(f"{public}: the input must have rank >= 1, got a scalar")
    axis = int(axis.numpy() if isinstance(axis, Tensor) else axis)
    if not -rank <= axis < rank:
        raise InvalidArgumentError(f"{public}: axis {axis} is out of range for a tensor of rank {rank}")
    moved, perm = _swap(t, axis % rank)
    return moved, apply(OPS["argsort"], moved, descending=direction == "DESCENDING"), perm


def _last_gather(params: Tensor, indices: Tensor) -> Tensor:
    rank = len(raw_shape(params))
    return gather(params, indices, axis=rank - 1, batch_dims=rank - 1)


def sort(values: Any, axis: int = -1, direction: str = "ASCENDING", name: Optional[str] = None) -> Tensor:
    """`values` sorted along `axis`.

    >>> import engine as tf
    >>> tf.sort(tf.constant([3, 1, 2]), direction="DESCENDING").numpy()
    array([3, 2, 1], dtype=int32)
    """
    moved, idx, perm = _order(values, axis, direction, "sort")
    out = _last_gather(moved, idx)
    return out if perm is None else transpose(out, perm)


def argsort(values: Any, axis: int = -1, direction: str = "ASCENDING", stable: bool = False,
            name: Optional[str] = None) -> Tensor:
    """The int32 indices that sort `values` along `axis` (always stable: ties keep their index order).

    >>> import engine as tf
    >>> tf.argsort(tf.constant([3.0, 1.0, 3.0, 2.0]), direction="DESCENDING").numpy()
    array([0, 2, 3, 1], dtype=int32)
    """
    _, idx, perm = _order(values, axis, direction, "argsort")
    return idx if perm is None else transpose(idx, perm)


def top_k(input: Any, k: Any = 1, sorted: bool = True, index_type: Any = int32,  # noqa: A002
          name: Optional[str] = None) -> TopKV2:
    """The `k` largest entries of each row of the last axis and their indices, largest first; among equal values
    the lower index comes first (TF's order). `sorted=False` gives the same order, which TF permits.

    >>> import engine as tf
    >>> tf.math.top_k(tf.constant([1, 5, 3, 5]), k=2).indices.numpy()
    array([1, 3], dtype=int32)
    """
    t = as_tensor(input)
    _check(t, "top_k")
    shape = raw_shape(t)
    k = int(k.numpy() if isinstance(k, Tensor) else k)
    if not shape:
        raise InvalidArgumentError("top_k: input must be at least 1-dimensional")
    if k < 0:
        raise InvalidArgumentError(f"top_k: need k >= 0, got {k}")
    if shape[-1] is not None and shape[-1] < k:
        raise InvalidArgumentError(f"top_k: input must have at least k columns. Had {shape[-1]}, needed {k}")
    index_type = as_dtype(index_type)
    if index_type not in (int32, int64):
        raise TypeError(f"top_k: index_type must be int32 or int64, got {index_type.name}")
    idx = apply(OPS["argsort"], t, descending=True)[..., :k]
    values = _last_gather(t, idx)
    return TopKV2(values, idx if index_type is int32 else cast(idx, index_type))
