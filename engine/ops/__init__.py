"""Every public op, gathered; `engine` and its namespaces (`engine.math`, `engine.nn`, ...) re-export from here."""
from engine.ops.array_ops import (broadcast_static_shape, broadcast_to, concat, expand_dims, fill, gather,
                                  identity, one_hot, ones, ones_like, range, rank, reshape, reverse, shape, size,
                                  split, squeeze, stack, tile, transpose, unstack, zeros, zeros_like)
from engine.ops.bitwise_ops import bitwise_or_logical, invert_or_not
from engine.ops.composite_ops import (clip_by_global_norm, clip_by_norm, cosh, count_nonzero, eye, linspace,
                                      realdiv, reciprocal_no_nan, scalar_mul, sequence_mask, sinh, zero_fraction)
from engine.ops.gradient_ops import stop_gradient
from engine.ops.layout_ops import meshgrid, repeat, roll, slice
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
from engine.ops.reduce_ops import (argmax, argmin, matmul, norm, reduce_all, reduce_any, reduce_euclidean_norm,
                                   reduce_logsumexp, reduce_max, reduce_mean, reduce_min, reduce_prod, reduce_std,
                                   reduce_sum, reduce_variance, tensordot)

__all__ = [n for n in dir() if not n.startswith("_")]


def _install_operators() -> None:
    """Python's operators on tensors and Variables are the public ops themselves (no extra call layer)."""
    from engine.tensor import TensorLike

    def flip(fn):  # type: ignore[no-untyped-def]
        return lambda self, other: fn(other, self)

    for name, fn in [("add", add), ("sub", subtract), ("mul", multiply), ("truediv", divide),
                     ("floordiv", floordiv), ("mod", floormod), ("pow", pow), ("matmul", matmul)]:
        setattr(TensorLike, f"__{name}__", fn)
        setattr(TensorLike, f"__r{name}__", flip(fn))
    for name, kind in [("and", "and"), ("or", "or"), ("xor", "xor")]:
        setattr(TensorLike, f"__{name}__", lambda self, other, k=kind: bitwise_or_logical(k, self, other))
        setattr(TensorLike, f"__r{name}__", lambda self, other, k=kind: bitwise_or_logical(k, other, self))
    TensorLike.__neg__ = negative
    TensorLike.__abs__ = abs
    TensorLike.__invert__ = invert_or_not
    TensorLike.__lt__ = less
    TensorLike.__le__ = less_equal
    TensorLike.__gt__ = greater
    TensorLike.__ge__ = greater_equal
    TensorLike.__eq__ = tensor_equals
    TensorLike.__ne__ = tensor_not_equals
    TensorLike.__pos__ = lambda self: self


_install_operators()
