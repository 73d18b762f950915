"""Every public op, gathered; `engine` and its namespaces (`engine.math`, `engine.nn`, ...) re-export from here.

Importing this package also installs the tensor operators (`engine.ops.tensor_methods`).
"""
import types as _types

from engine.ops import tensor_methods as _tensor_methods  # noqa: F401  (installs the operator dunders)
from engine.ops.array_ops import (broadcast_static_shape, broadcast_to, concat, expand_dims, fill, gather,
                                  identity, one_hot, ones, ones_like, range, reshape, split, squeeze, stack,
                                  transpose, unstack, zeros, zeros_like)
from engine.ops.constant_op import constant
from engine.ops.composite_ops import (clip_by_global_norm, clip_by_norm, cosh, count_nonzero, eye, linspace,
                                      realdiv, reciprocal_no_nan, scalar_mul, sequence_mask, sinh, zero_fraction)
from engine.ops.gather_nd_op import gather_nd
from engine.ops.gradient_ops import stop_gradient
from engine.ops.layout_ops import meshgrid, repeat, reverse, roll, slice, tile
from engine.ops.mask_ops import boolean_mask
from engine.ops.math_ops import (abs, add, add_n, cast, ceil, clip_by_value, cos, divide,
                                 divide_no_nan, equal, erf, exp, expm1, floor, floordiv, floormod, greater,
                                 greater_equal, is_finite, is_inf, is_nan, less, less_equal, log, log1p,
                                 log_sigmoid, logical_and, logical_not, logical_or, logical_xor, maximum, minimum,
                                 mod, multiply, negative, not_equal, pow, reciprocal, round, rsqrt, saturate_cast,
                                 sigmoid, sign, sin, softplus, sqrt, square, squared_difference, subtract, tan, tanh,
                                 tensor_equals, tensor_not_equals, truediv, truncatediv, truncatemod,
                                 where)
from engine.ops.pad_ops import pad
from engine.ops.scan_ops import cumprod, cumsum
from engine.ops.sort_ops import argsort, sort, top_k
from engine.ops.einsum_op import einsum
from engine.ops.math_extra_ops import (bincount, confusion_matrix, ensure_shape, identity_n, invert_permutation,
                                       is_non_decreasing, is_strictly_increasing, multiply_no_nan, polyval,
                                       scatter_nd, searchsorted, xdivy, xlog1py)
from engine.ops.image_ops import reverse_sequence
from engine.ops.scatter_nd_ops import (tensor_scatter_nd_add, tensor_scatter_nd_max, tensor_scatter_nd_min,
                                       tensor_scatter_nd_sub, tensor_scatter_nd_update)
from engine.ops.segment_ops import (segment_max, segment_mean, segment_min, segment_prod, segment_sum,
                                    unsorted_segment_max, unsorted_segment_mean, unsorted_segment_min,
                                    unsorted_segment_prod, unsorted_segment_sqrt_n, unsorted_segment_sum)
from engine.ops.unique_ops import unique, unique_with_counts
from engine.ops.strided_slice_op import strided_slice
from engine.ops.shape_ops import rank, shape, size
from engine.ops.reduce_ops import (argmax, argmin, matmul, norm, reduce_all, reduce_any, reduce_euclidean_norm,
                                   reduce_logsumexp, reduce_max, reduce_mean, reduce_min, reduce_prod, reduce_std,
                                   reduce_sum, reduce_variance, tensordot)

# The ops, not the modules that hold them (`from engine.ops import *` in `engine` must not add `engine.funnel`).
__all__ = [n for n, v in globals().items() if not n.startswith("_") and not isinstance(v, _types.ModuleType)]

