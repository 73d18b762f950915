"""`engine.linalg`: TensorFlow's tf.linalg namespace (matrix products, diagonals, bands, norms, einsum)."""
from engine.nn import l2_normalize
from engine.ops import einsum, eye, matmul, norm, tensordot
from engine.ops.math_extra_ops import cholesky_solve, logdet, slogdet, triangular_solve
from engine.ops.linalg_ops import (band_part, cross, det, diag, diag_part, global_norm, inv, matrix_transpose,
                                   matvec, normalize, set_diag, solve, trace)

adjoint = matrix_transpose  # real dtypes only: the conjugate transpose is the transpose

__all__ = [n for n in dir() if not n.startswith("_")]
