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

rint = round  # tf.math.rint: half to even, as round

__all__ = [n for n in dir() if not n.startswith("_")]
