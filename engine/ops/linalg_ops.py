"""`tf.linalg` basics as composites of the op table: matrix_transpose, trace, diag_part, diag, set_diag, band_part,
matvec, cross, global_norm, normalize; and det, inv, solve on the `matrix_determinant` / `matrix_solve` rows.

Matrices are the last two axes; leading axes are a batch. Diagonals and bands are masks built in numpy from the
static matrix shape (`where` / multiply), so every gradient is that of the rows used.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from engine.ops.array_ops import expand_dims, stack, transpose
from engine.dispatch import apply
from engine.errors import InvalidDTypeError
from engine.ops.funnel import as_tensor, broadcast, convert_all, full, raw_shape
from engine.ops.math_ops import divide, multiply, sqrt, square, subtract, where
from engine.ops.reduce_ops import matmul, norm, reduce_sum
from engine.tensor import Tensor
from ir.opdef import OPS
from ir.ops_state import InvalidArgumentError


def _matrix(x: Any, public: str, square_only: bool = False) -> tuple[Tensor, int, int]:
    t = as_tensor(x)
    shape = raw_shape(t)
    if len(shape) < 2:
        raise ValueError(f"{public}: the input must have rank >= 2, got shape {shape}")
    m, n = shape[-2:]
    if m is None or n is None:
        raise InvalidArgumentError(f"{public}: the matrix dimensions must be static, got shape {shape}")
    if square_only and m != n:
        raise InvalidArgumentError(f"{public}: the input must be square matrices, got shape {shape}")
    return t, m, n


def matrix_transpose(a: Any, name: Optional[str] = None, conjugate: bool = False) -> Tensor:
    """The last two axes swapped."""
    t = as_tensor(a)
    rank = len(raw_shape(t))
    if rank < 2:
        raise ValueError(f"matrix_transpose: the input must have rank >= 2, got shape {raw_shape(t)}")
    return transpose(t, list(range(rank - 2)) + [rank - 1, rank - 2])


def diag_part(input: Any, name: Optional[str] = None, k: int = 0) -> Tensor:  # noqa: A002
    """The main diagonal of each matrix: [..., min(M, N)].

    >>> import engine as tf
    >>> tf.linalg.diag_part(tf.constant([[1, 2], [3, 4]])).numpy()
    array([1, 4], dtype=int32)
    """
    t, m, n = _matrix(input, "diag_part")
    if k != 0:
        raise NotImplementedError("diag_part: only the main diagonal (k=0) is supported")
    return reduce_sum(multiply(t, Tensor(np.eye(m, n, dtype=t.dtype.np))), axis=-1 if m <= n else -2)


def trace(x: Any, name: Optional[str] = None) -> Tensor:
    """The sum of each matrix's main diagonal."""
    return reduce_sum(diag_part(x), axis=-1)


def diag(diagonal: Any, name: Optional[str] = None, k: int = 0, num_rows: int = -1, num_cols: int = -1,
         padding_value: Any = 0, align: str = "RIGHT_LEFT") -> Tensor:
    """Square matrices [..., N, N] with `diagonal` [..., N] on the main diagonal and zeros elsewhere."""
    d = as_tensor(diagonal)
    n = raw_shape(d)[-1] if raw_shape(d) else None
    if n is None or k != 0 or num_rows not in (-1, n) or num_cols not in (-1, n) or padding_value != 0:
        raise NotImplementedError("diag: only a static main diagonal (k=0, square, zero padding) is supported")
    return multiply(expand_dims(d, -1), Tensor(np.eye(n, dtype=d.dtype.np)))


def set_diag(input: Any, diagonal: Any, name: Optional[str] = None, k: int = 0,  # noqa: A002
             align: str = "RIGHT_LEFT") -> Tensor:
    """`input` with its main diagonal replaced by `diagonal` [..., min(M, N)]."""
    t, m, n = _matrix(input, "set_diag")
    d = convert_all([diagonal], t.dtype)[0]
    if k != 0:
        raise NotImplementedError("set_diag: only the main diagonal (k=0) is supported")
    if raw_shape(d)[-1:] != (min(m, n),):
        raise InvalidArgumentError(f"set_diag: the diagonal must end in {min(m, n)}, got shape {raw_shape(d)}")
    spread = expand_dims(d, -1) if m <= n else expand_dims(d, -2)  # row i (or column j) holds diagonal[i]
    return where(Tensor(np.eye(m, n, dtype=bool)), spread, t)


def band_part(input: Any, num_lower: Any, num_upper: Any, name: Optional[str] = None) -> Tensor:  # noqa: A002
    """Each matrix with everything outside the band zeroed: kept where (num_lower < 0 or i - j <= num_lower) and
    (num_upper < 0 or j - i <= num_upper).

    >>> import engine as tf
    >>> tf.linalg.band_part(tf.ones([3, 3], tf.int32), 0, -1).numpy()
    array([[1, 1, 1],
           [0, 1, 1],
           [0, 0, 1]], dtype=int32)
    """
    t, m, n = _matrix(input, "band_part")
    lo, up = (int(v.numpy() if isinstance(v, Tensor) else v) for v in (num_lower, num_upper))
    if lo > m or up > n:
        raise InvalidArgumentError(f"band_part: num_lower ({lo}) must be <= {m} and num_upper ({up}) <= {n}")
    i, j = np.indices((m, n))
    keep = ((lo < 0) | (i - j <= lo)) & ((up < 0) | (j - i <= up))
    return where(Tensor(keep), t, full(0, t.dtype, ()))


def matvec(a: Any, b: Any, transpose_a: bool = False, adjoint_a: bool = False, name: Optional[str] = None,
           **unused: Any) -> Tensor:
    """Matrix times vector over the last axes: a [..., M, N], b [..., N] -> [..., M]."""
    return matmul(a, expand_dims(as_tensor(b), -1), transpose_a=transpose_a or adjoint_a)[..., 0]


def cross(a: Any, b: Any, name: Optional[str] = None) -> Tensor:
    """The cross product of 3-vectors along the last axis."""
    x, y = as_tensor(a), as_tensor(b)
    if raw_shape(x)[-1:] != (3,) or raw_shape(y)[-1:] != (3,):
        raise InvalidArgumentError(f"cross: both operands must end in 3, got {raw_shape(x)} and {raw_shape(y)}")
    c = [subtract(multiply(x[..., i], y[..., j]), multiply(x[..., j], y[..., i])) for i, j in ((1, 2), (2, 0), (0, 1))]
    return stack(c, axis=-1)


def global_norm(t_list: Sequence[Any], name: Optional[str] = None) -> Tensor:
    """sqrt of the sum of the squares of every element of every tensor in `t_list` (None entries skipped)."""
    ts = [as_tensor(t) for t in t_list if t is not None]
    if not ts:
        raise TypeError("global_norm: t_list must hold at least one tensor")
    return sqrt(sum((reduce_sum(square(t)) for t in ts[1:]), reduce_sum(square(ts[0]))))


def normalize(tensor: Any, ord: Any = "euclidean", axis: Any = None,  # noqa: A002
              name: Optional[str] = None) -> tuple[Tensor, Tensor]:
    """(tensor / norm, norm), the norm taken with keepdims as `tf.norm` does."""
    t = as_tensor(tensor)
    n = norm(t, ord=ord, axis=axis, keepdims=True)
    return divide(t, n), n


def float_square(x: Any, public: str) -> tuple[Tensor, Optional[int]]:
    """A float32/float64 tensor of square matrices; its n may be None (a run-time size)."""
    t = as_tensor(x)
    shape = raw_shape(t)
    if len(shape) < 2 or (None not in shape[-2:] and shape[-1] != shape[-2]):
        raise InvalidArgumentError(f"{public}: the input must be square matrices [..., n, n], got shape {shape}")
    n = shape[-1] if shape[-1] is not None else shape[-2]
    if not t.dtype.is_floating or t.dtype.is_half:
        raise InvalidDTypeError(f"{public}: the matrix must be float32 or float64, got {t.dtype.name}")
    return t, n


def det(input: Any, name: Optional[str] = None) -> Tensor:  # noqa: A002
    """The determinant of each square matrix [..., n, n] (Gaussian elimination with partial pivoting).

    >>> import engine as tf
    >>> float(tf.linalg.det(tf.constant([[2.0, 1.0], [1.0, 3.0]])))
    5.0
    """
    t, _ = float_square(input, "det")
    return apply(OPS["matrix_determinant"], t)


def inv(input: Any, adjoint: bool = False, name: Optional[str] = None) -> Tensor:  # noqa: A002
    """The inverse of each square matrix (of its transpose when `adjoint`); a singular matrix raises
    InvalidArgumentError "Input matrix is not invertible."."""
    t, n = float_square(input, "inv")
    if n is None:
        raise InvalidArgumentError(f"inv: the matrix size must be static, got shape {raw_shape(t)}")
    eye = broadcast(Tensor(np.eye(n, dtype=t.dtype.np)), raw_shape(t), t)
    return apply(OPS["matrix_solve"], t, eye, adjoint=bool(adjoint))


def solve(matrix: Any, rhs: Any, adjoint: bool = False, name: Optional[str] = None) -> Tensor:
    """X with matrix @ X = rhs (matrix^T @ X = rhs when `adjoint`); matrix [..., n, n], rhs [..., n, k]."""
    t, n = float_square(matrix, "solve")
    r = as_tensor(rhs)
    if r.dtype is not t.dtype:
        raise InvalidDTypeError(f"solve: rhs of dtype {r.dtype.name} does not match the matrix's {t.dtype.name}")
    if len(raw_shape(r)) != len(raw_shape(t)) or any(a is not None and b is not None and a != b
                                                     for a, b in zip(raw_shape(r)[:-1], raw_shape(t)[:-1])):
        raise InvalidArgumentError(f"solve: rhs must be [..., {n}, k] with the matrix's batch, got shapes "
                                   f"{raw_shape(t)} and {raw_shape(r)}")
    return apply(OPS["matrix_solve"], t, r, adjoint=bool(adjoint))
