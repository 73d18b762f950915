"""`engine.math`: TensorFlow's tf.math namespace (elementwise math, reductions and statistics)."""
from engine.nn import l2_normalize, log_softmax, softmax, softsign
from engine.ops import (abs, add, add_n, argmax, argmin, ceil, cos, cosh, count_nonzero, cumprod, cumsum, divide,
                        divide_no_nan, equal, erf, exp, expm1, floor, floordiv, floormod, greater, greater_equal,
                        is_finite, is_inf, is_nan, less, less_equal, log, log1p, log_sigmoid, logical_and,
                        logical_not, logical_or, logical_xor, maximum, minimum, mod, multiply, negative, not_equal,
                        pow, reciprocal, reciprocal_no_nan, reduce_all, reduce_any, reduce_euclidean_norm,
                        reduce_logsumexp, reduce_max, reduce_mean, reduce_min, reduce_prod, reduce_std, reduce_sum,
                        reduce_variance, round, rsqrt, saturate_cast, scalar_mul, sigmoid, sign, sin, sinh,
                        softplus, sqrt, square, squared_difference, subtract, tan, tanh, truediv, truncatediv,
                        zero_fraction)
from engine.ops import (bincount, confusion_matrix, invert_permutation, is_non_decreasing, is_strictly_increasing,
                        multiply_no_nan, polyval, xdivy, xlog1py)
from engine.ops.nn_extra_ops import in_top_k
from engine.ops import (segment_max, segment_mean, segment_min, segment_prod, segment_sum, top_k,
                        unsorted_segment_max, unsorted_segment_mean, unsorted_segment_min, unsorted_segment_prod,
                        unsorted_segment_sqrt_n, unsorted_segment_sum)
from engine.ops.funnel import binary as _binary
from engine.tensor import Tensor as _Tensor
from ir.opdef import OPS as _OPS


def xlogy(x: object, y: object, name: object = None) -> _Tensor:
    """x * log(y), and 0 where x == 0, as tf.math.xlogy (floating-point tensors; numpy broadcasting).

    >>> import engine as tf
    >>> tf.math.xlogy(tf.constant([0.0, 2.0]), tf.constant([0.0, 1.0])).numpy()
    array([0., 0.], dtype=float32)
    """
    return _binary(_OPS["xlogy"], x, y, "xlogy")


rint = round  # tf.math.rint: half to even, as round

__all__ = [n for n in dir() if not n.startswith("_")]
