"""Rows of dense linear algebra on the last two axes: `matrix_solve`, `matrix_determinant` and `matrix_slogdet`.

Both are Gaussian elimination with partial pivoting (the first row of largest |value| in the column), written out
element by element so that the numpy kernel here and the native rule (codegen.rules.linalg) do the same roundings
in the same order and agree exactly. O(n^3) per matrix; leading axes are a batch (same sizes on both operands).

- `matrix_solve %a, %b {adjoint} : [..., n, k]`: X with A X = B (A^T X = B when `adjoint`); a zero pivot raises
  InvalidArgumentError "Input matrix is not invertible." (TF's message). Gradient: gb = solve(A, g, !adjoint),
  ga = -gb X^T (-X gb^T when adjoint).
- `matrix_determinant %a : [...]`: the product of the pivots, negated per row swap; 0 where a pivot is 0.
  Gradient: g * det * A^{-T} (as TF's, which also needs A invertible).
- `matrix_slogdet %a {part} : [...]`: the sign of the determinant (`part = "sign"`: -1, 0 or 1) or the log of its
  absolute value (`"log_abs"`: the sum of the logs of the pivots' magnitudes, -inf where a pivot is 0), from the
  same elimination, as TF's slogdet sums the logs of the LU pivots: no product is formed, so it never overflows
  (`slogdet(100 * eye(40))` is (1, 184.2), where the determinant is inf in float32). Gradient of log|det|:
  g * A^{-T}; the sign has none.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ir.opdef import OpDef, check_arity, fail, register
from ir.ops_state import InvalidArgumentError
from ir.types import TensorType, float32, float64

SINGULAR = "Input matrix is not invertible."


def _square(name: str, t: TensorType) -> None:
    if t.dtype not in (float32, float64):
        raise fail(name, f"the matrix must be float32 or float64, got {t}")
    if t.rank < 2 or (t.shape[-1] is not None and t.shape[-2] is not None and t.shape[-1] != t.shape[-2]):
        raise fail(name, f"the operand must be square matrices [..., n, n], got {t}")


def _pivot(a: np.ndarray, c: int) -> int:
    return c + int(np.argmax(np.abs(a[c:, c])))


def _solve_one(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, x = a.copy(), b.copy()
    n = a.shape[0]
    for c in range(n):
        p = _pivot(a, c)
        if a[p, c] == 0:
            raise InvalidArgumentError(SINGULAR)
        a[[c, p]], x[[c, p]] = a[[p, c]], x[[p, c]]
        for r in range(c + 1, n):
            f = a[r, c] / a[c, c]
            a[r, c + 1:] = a[r, c + 1:] - f * a[c, c + 1:]
            x[r] = x[r] - f * x[c]
    for r in range(n - 1, -1, -1):
        s = x[r].copy()
        for j in range(r + 1, n):
            s = s - a[r, j] * x[j]
        x[r] = s / a[r, r]
    return x


def _det_one(a: np.ndarray) -> Any:
    a = a.copy()
    n = a.shape[0]
    det = a.dtype.type(1)
    for c in range(n):
        p = _pivot(a, c)
        if a[p, c] == 0:
            return a.dtype.type(0)
        if p != c:
            a[[c, p]] = a[[p, c]]
            det = -det
        det = det * a[c, c]
        for r in range(c + 1, n):
            f = a[r, c] / a[c, c]
            a[r, c + 1:] = a[r, c + 1:] - f * a[c, c + 1:]
    return det


def _slogdet_one(a: np.ndarray) -> tuple[Any, Any]:
    a = a.copy()
    n = a.shape[0]
    sign, total = a.dtype.type(1), a.dtype.type(0)
    for c in range(n):
        p = _pivot(a, c)
        if a[p, c] == 0:
            return a.dtype.type(0), a.dtype.type(-np.inf)
        if p != c:
            a[[c, p]] = a[[p, c]]
            sign = -sign
        sign = sign * np.sign(a[c, c])
        total = total + np.log(np.abs(a[c, c]))
        for r in range(c + 1, n):
            f = a[r, c] / a[c, c]
            a[r, c + 1:] = a[r, c + 1:] - f * a[c, c + 1:]
    return sign, total


def _solve_infer(types: list[TensorType], *, adjoint: bool) -> tuple[TensorType, ...]:
    check_arity("matrix_solve", types, 2)
    a, b = types
    _square("matrix_solve", a)
    if b.dtype is not a.dtype or b.rank != a.rank or any(
            x is not None and y is not None and x != y for x, y in zip(a.shape[:-1], b.shape[:-1])):
        raise fail("matrix_solve", f"the right-hand side must be [..., n, k] of the matrix's dtype, got {a} and {b}")
    return (b,)


def _solve_kernel(a: np.ndarray, b: np.ndarray, *, adjoint: bool) -> np.ndarray:
    a = np.swapaxes(a, -1, -2) if adjoint else a
    out = np.empty_like(b)
    for i in np.ndindex(*a.shape[:-2]):
        out[i] = _solve_one(a[i], b[i])
    return out


def _solve_vjp(em: Any, g: Any, out: Any, a: Any, b: Any, *, adjoint: bool) -> tuple:
    gb = em.matrix_solve(a, g, adjoint=not adjoint)
    ga = em.matmul(out, gb, transpose_a=False, transpose_b=True) if adjoint else \
        em.matmul(gb, out, transpose_a=False, transpose_b=True)
    return em.neg(ga), gb


def _solve_jvp(em: Any, tangents: Any, out: Any, a: Any, b: Any, *, adjoint: bool) -> Any:
    ta, tb = tangents
    rhs = tb
    if ta is not None:
        moved = em.matmul(ta, out, transpose_a=adjoint, transpose_b=False)
        rhs = em.neg(moved) if rhs is None else em.sub(rhs, moved)
    return None if rhs is None else em.matrix_solve(a, rhs, adjoint=adjoint)


def _inverse_transpose(em: Any, a: Any) -> Any:
    shape = em.shape(a)
    eye = em.bcast(em.constant(np.eye(shape[-1]), em.dtype(a)), shape, like=a)
    return em.matrix_solve(a, eye, adjoint=True)


def _det_jvp(em: Any, tangents: Any, out: Any, a: Any) -> Any:
    if tangents[0] is None:
        return None
    rank = len(em.shape(a))
    return em.mul(out, em.reduce_sum(em.mul(_inverse_transpose(em, a), tangents[0]), axes=(rank - 2, rank - 1)))


def _det_infer(types: list[TensorType]) -> tuple[TensorType, ...]:
    check_arity("matrix_determinant", types, 1)
    _square("matrix_determinant", types[0])
    return (types[0].with_shape(types[0].shape[:-2]),)


def _det_kernel(a: np.ndarray) -> np.ndarray:
    out = np.empty(a.shape[:-2], dtype=a.dtype)
    for i in np.ndindex(*a.shape[:-2]):
        out[i] = _det_one(a[i])
    return out


def _det_vjp(em: Any, g: Any, out: Any, a: Any) -> tuple:
    shape = em.shape(a)
    inv_t = _inverse_transpose(em, a)
    scale = em.reshape_to(em.mul(g, out), shape[:-2] + (1, 1), like=a)
    return (em.mul(em.bcast(scale, shape, like=a), inv_t),)


def _slogdet_infer(types: list[TensorType], *, part: str) -> tuple[TensorType, ...]:
    check_arity("matrix_slogdet", types, 1)
    _square("matrix_slogdet", types[0])
    if part not in ("sign", "log_abs"):
        raise fail("matrix_slogdet", f"part must be 'sign' or 'log_abs', got {part!r}")
    return (types[0].with_shape(types[0].shape[:-2]),)


def _slogdet_kernel(a: np.ndarray, *, part: str) -> np.ndarray:
    out = np.empty(a.shape[:-2], dtype=a.dtype)
    for i in np.ndindex(*a.shape[:-2]):
        out[i] = _slogdet_one(a[i])[0 if part == "sign" else 1]
    return out


def _slogdet_vjp(em: Any, g: Any, out: Any, a: Any, *, part: str) -> tuple:
    if part == "sign":
        return (None,)
    shape = em.shape(a)
    scale = em.reshape_to(g, shape[:-2] + (1, 1), like=a)
    return (em.mul(em.bcast(scale, shape, like=a), _inverse_transpose(em, a)),)


def _slogdet_jvp(em: Any, tangents: Any, out: Any, a: Any, *, part: str) -> Any:
    if tangents[0] is None or part == "sign":
        return None
    rank = len(em.shape(a))
    return em.reduce_sum(em.mul(_inverse_transpose(em, a), tangents[0]), axes=(rank - 2, rank - 1))


register(OpDef("matrix_solve", _solve_infer, _solve_kernel, _solve_vjp, "linalg", attrs=("adjoint",),
               jvp=_solve_jvp,
               doc="X with A X = B (A^T X = B when adjoint), by Gaussian elimination with partial pivoting."))
register(OpDef("matrix_determinant", _det_infer, _det_kernel, _det_vjp, "linalg", jvp=_det_jvp,
               doc="The determinant of each matrix, by Gaussian elimination with partial pivoting."))
register(OpDef("matrix_slogdet", _slogdet_infer, _slogdet_kernel, _slogdet_vjp, "linalg", attrs=("part",),
               jvp=_slogdet_jvp,
               doc="The sign or the log of the absolute value of each matrix's determinant, summing the logs of "
                   "the pivots (never overflows)."))
