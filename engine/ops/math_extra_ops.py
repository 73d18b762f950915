"""More of `tf.math` and friends as composites: bincount, confusion_matrix, invert_permutation, multiply_no_nan, xdivy,
xlog1py, is_non_decreasing, is_strictly_increasing, polyval, searchsorted, scatter_nd, ensure_shape, identity_n,
and tf.linalg's slogdet, logdet, triangular_solve, cholesky_solve (on the matrix_determinant / matrix_solve rows).

Counts and scatters are `scatter_add` rows (O(n)); searchsorted compares every value with every boundary
(O(values * boundaries)).
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from engine.dispatch import apply
from engine.ops.array_ops import expand_dims, identity, reshape, zeros
from engine.ops.funnel import as_tensor, cast, full, raw_shape
from engine.ops.linalg_ops import float_square, band_part, det, solve
from engine.ops.math_ops import (abs, add, divide, equal, greater, greater_equal, less, less_equal, log, log1p,
                                 logical_and, multiply, sign, where)
from engine.ops.reduce_ops import reduce_all, reduce_sum
from engine.ops.scatter_nd_ops import tensor_scatter_nd_add
from engine.ops.shape_ops import is_symbolic
from engine.tensor import Tensor
from ir.opdef import OPS
from ir.ops_state import InvalidArgumentError
from ir.types import as_dtype, int32, int64


def _zero_where(cond: Tensor, value: Tensor) -> Tensor:
    return where(cond, full(0, value.dtype, ()), value)


def multiply_no_nan(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    """x * y, and 0 where y == 0 even if x is inf or NaN."""
    x, y = as_tensor(x), as_tensor(y)
    return _zero_where(equal(y, 0), multiply(x, y))


def xdivy(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    """x / y, and 0 where x == 0."""
    x = as_tensor(x)
    return _zero_where(equal(x, 0), divide(x, y))


def xlog1py(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    """x * log1p(y), and 0 where x == 0."""
    x = as_tensor(x)
    return _zero_where(equal(x, 0), multiply(x, log1p(y)))


def is_non_decreasing(x: Any, name: Optional[str] = None) -> Tensor:
    """Whether each element (in row-major order) is >= the one before it."""
    flat = reshape(as_tensor(x), [-1])
    return reduce_all(greater_equal(flat[1:], flat[:-1]))


def is_strictly_increasing(x: Any, name: Optional[str] = None) -> Tensor:
    """Whether each element (in row-major order) is > the one before it."""
    flat = reshape(as_tensor(x), [-1])
    return reduce_all(greater(flat[1:], flat[:-1]))


def polyval(coeffs: Sequence[Any], x: Any, name: Optional[str] = None) -> Tensor:
    """coeffs[0] * x^(n-1) + ... + coeffs[n-1], by Horner's rule as TF."""
    x = as_tensor(x)
    if not coeffs:
        return full(0, x.dtype, raw_shape(x), x) if None in raw_shape(x) else zeros(raw_shape(x), x.dtype)
    out = as_tensor(coeffs[0])
    for c in coeffs[1:]:
        out = add(multiply(out, x), c)
    return out


def invert_permutation(x: Any, name: Optional[str] = None) -> Tensor:
    """y with y[x[i]] = i."""
    p = as_tensor(x)
    n = raw_shape(p)[0]
    if n is None:
        raise InvalidArgumentError("invert_permutation: the permutation's length must be static")
    return apply(OPS["scatter_add"], Tensor(np.arange(n, dtype=p.dtype.np)), p, axis=0, size=n)


def bincount(arr: Any, weights: Any = None, minlength: Any = None, maxlength: Any = None, dtype: Any = int32,
             name: Optional[str] = None, axis: Any = None, binary_output: bool = False) -> Tensor:
    """How often each value 0, 1, ... occurs in `arr` (summing `weights` instead where given); size
    max(arr) + 1, at least `minlength` and at most `maxlength` (values past it are dropped). Eager only."""
    a = as_tensor(arr)
    if is_symbolic(a) or axis is not None or binary_output:
        raise NotImplementedError("bincount: only eager calls without axis or binary_output are supported")
    flat = a.numpy().reshape(-1)
    if flat.size and flat.min() < 0:
        raise InvalidArgumentError("bincount: input arr must be non-negative!")
    size = int(flat.max()) + 1 if flat.size else 0
    size = max(size, int(minlength or 0))
    if maxlength is not None:
        size = min(size, int(maxlength))
    keep = flat < size
    ids = Tensor(np.where(keep, flat, size).astype(np.int64))
    dt = as_dtype(dtype) if weights is None else as_tensor(weights).dtype
    vals = Tensor(keep.astype(dt.np)) if weights is None else \
        multiply(reshape(as_tensor(weights), [-1]), Tensor(keep.astype(dt.np)))
    return apply(OPS["scatter_add"], vals, ids, axis=0, size=size + 1)[:size]


def confusion_matrix(labels: Any, predictions: Any, num_classes: Any = None, weights: Any = None, dtype: Any = int32,
                     name: Optional[str] = None) -> Tensor:
    """counts[i, j]: how many examples have label i and prediction j (weighted when `weights` is given)."""
    lab, pred = cast(as_tensor(labels), int64), cast(as_tensor(predictions), int64)
    if num_classes is None:
        if is_symbolic(lab) or is_symbolic(pred):
            raise InvalidArgumentError("confusion_matrix: num_classes must be given inside a tf.function")
        num_classes = int(max(lab.numpy().max(initial=-1), pred.numpy().max(initial=-1))) + 1
    n = int(num_classes)
    dt = as_dtype(dtype)
    vals = full(1, dt, raw_shape(lab), lab) if weights is None else cast(as_tensor(weights), dt)
    flat = apply(OPS["scatter_add"], vals, add(multiply(lab, n), pred), axis=0, size=n * n)
    return reshape(flat, [n, n])


def searchsorted(sorted_sequence: Any, values: Any, side: str = "left", out_type: Any = int32,
                 name: Optional[str] = None) -> Tensor:
    """For each value, the index in its row of `sorted_sequence` where it would be inserted (before equal entries
    for side='left', after them for 'right')."""
    seq, v = as_tensor(sorted_sequence), as_tensor(values)
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    before = less if side == "left" else less_equal
    hits = before(expand_dims(seq, -2), expand_dims(v, -1))  # [..., values, boundaries]
    return reduce_sum(cast(hits, as_dtype(out_type)), axis=-1)


def scatter_nd(indices: Any, updates: Any, shape: Any, name: Optional[str] = None) -> Tensor:
    """Zeros of `shape` with `updates` summed in at `indices` (tensor_scatter_nd_add on zeros)."""
    u = as_tensor(updates)
    shape = [int(d) for d in (shape.numpy() if isinstance(shape, Tensor) else shape)]
    return tensor_scatter_nd_add(zeros(shape, u.dtype), indices, u)


def ensure_shape(x: Any, shape: Any, name: Optional[str] = None) -> Tensor:
    """x, after checking that its shape is compatible with `shape` (None entries match any size)."""
    t = as_tensor(x)
    want = list(shape) if shape is not None else None
    got = raw_shape(t) if is_symbolic(t) else t.numpy().shape
    if want is not None and (len(want) != len(got) or any(w is not None and g is not None and int(w) != g
                                                          for w, g in zip(want, got))):
        raise InvalidArgumentError(f"Shape of tensor x {list(got)} is not compatible with expected shape {want}.")
    return t


def identity_n(input: Sequence[Any], name: Optional[str] = None) -> list[Tensor]:  # noqa: A002
    """Each tensor of the list, as tf.identity."""
    return [identity(t) for t in input]


def slogdet(input: Any, name: Optional[str] = None) -> tuple[Tensor, Tensor]:  # noqa: A002
    """(sign, log|det|) of each square matrix: the logs of the elimination's pivots summed, as TF's LU does, so a
    determinant beyond the dtype's range still has its log (`slogdet(100 * eye(40))` is (1, 184.2))."""
    t, _ = float_square(input, "slogdet")
    return (apply(OPS["matrix_slogdet"], t, part="sign"), apply(OPS["matrix_slogdet"], t, part="log_abs"))


def logdet(matrix: Any, name: Optional[str] = None) -> Tensor:
    """log(det) of each Hermitian positive-definite matrix (log|det|, as slogdet computes it)."""
    t, _ = float_square(matrix, "logdet")
    return apply(OPS["matrix_slogdet"], t, part="log_abs")


def triangular_solve(matrix: Any, rhs: Any, lower: bool = True, adjoint: bool = False,
                     name: Optional[str] = None) -> Tensor:
    """X with T X = rhs, T the lower (or upper) triangle of `matrix` (the other triangle is ignored, as TF)."""
    tri = band_part(matrix, -1, 0) if lower else band_part(matrix, 0, -1)
    return solve(tri, rhs, adjoint=adjoint)


def cholesky_solve(chol: Any, rhs: Any, name: Optional[str] = None) -> Tensor:
    """X with A X = rhs given A's Cholesky factor L (A = L L^T): two triangular solves."""
    return triangular_solve(chol, triangular_solve(chol, rhs, lower=True), lower=True, adjoint=True)
