"""`engine.nn`: activations, softmax, the cross-entropy losses and helpers (bias_add, moments, l2_normalize, dropout),
as composites of the op table; relu is a row of its own, for its gradient (see `relu`)."""
from __future__ import annotations

from typing import Any, Optional

from engine.convert import convert_to_tensor
from engine.nn_conv import avg_pool, avg_pool2d, conv1d, conv2d, convolution, max_pool, max_pool2d
from engine.ops.sort_ops import top_k  # noqa: F401  (tf.nn.top_k)
from engine.ops.nn_extra_ops import (batch_normalization, compute_average_loss, crelu,  # noqa: F401
                                     embedding_lookup, in_top_k, log_poisson_loss, normalize_moments,
                                     weighted_cross_entropy_with_logits)
from engine.ops import (cast, exp, log, log_sigmoid, maximum, multiply, negative, one_hot, reduce_max, reduce_sum,
                        sigmoid, softplus, stop_gradient, subtract, tanh)
from engine.ops.funnel import as_tensor, floating, full, unary
from engine.tensor import Tensor
from ir.opdef import OPS
from ir.ops_state import InvalidArgumentError
from ir.types import float32

__all__ = ["relu", "relu6", "sigmoid", "tanh", "softplus", "log_sigmoid", "softmax", "log_softmax", "elu", "selu",
           "softsign", "gelu", "bias_add", "moments", "l2_normalize", "dropout",
           "leaky_relu", "silu", "swish", "sparse_softmax_cross_entropy_with_logits",
           "softmax_cross_entropy_with_logits", "sigmoid_cross_entropy_with_logits", "l2_loss", "dropout", "conv1d",
           "conv2d", "convolution", "max_pool", "max_pool2d", "avg_pool", "avg_pool2d", "top_k", "batch_normalization",
           "compute_average_loss", "crelu", "embedding_lookup", "in_top_k", "log_poisson_loss", "normalize_moments",
           "weighted_cross_entropy_with_logits"]


def relu(features: Any, name: Optional[str] = None) -> Tensor:
    """max(x, 0); the gradient is upstream * (x > 0), as TensorFlow's (0 at 0; NaN from upstream passes)."""
    return unary(OPS["relu"], features, "relu")


def relu6(features: Any, name: Optional[str] = None) -> Tensor:
    """min(max(x, 0), 6); the gradient is 0 at both kinks, as TensorFlow's."""
    from engine.ops import minimum
    x = as_tensor(features)
    return minimum(full(6, x.dtype, ()), relu(x))


def leaky_relu(features: Any, alpha: float = 0.2, name: Optional[str] = None) -> Tensor:
    """x where x > 0, else alpha * x (for any alpha, as TensorFlow's kernel); the gradient at 0 is alpha. Integer
    features are converted to float32 first, as TensorFlow does."""
    from engine.ops import greater, where
    x = as_tensor(features)
    if x.dtype.is_integer:
        x = cast(x, float32)
    return where(greater(x, full(0, x.dtype, ())), x, multiply(x, full(alpha, x.dtype, ())))


def elu(features: Any, name: Optional[str] = None) -> Tensor:
    """x where x >= 0, else exp(x) - 1; the gradient at 0 is 1 and elu(-0.0) is -0.0, as TensorFlow's."""
    return _exponential_linear(features, "elu", 1.0, 1.0)


def selu(features: Any, name: Optional[str] = None) -> Tensor:
    """scale * elu with alpha, the self-normalizing constants of TensorFlow (gradient `scale` at 0)."""
    return _exponential_linear(features, "selu", 1.6732632423543772848170429916717,
                               1.0507009873554804934193349852946)


def _exponential_linear(features: Any, public: str, alpha: float, scale: float) -> Tensor:
    from engine.ops import expm1, less, where
    x = floating(features, public)
    zero = full(0, x.dtype, ())
    negative_side = less(x, zero)
    # expm1 sees only the negative side, so no overflow (inf * 0 would be NaN) leaks into the other's gradient.
    below = expm1(where(negative_side, x, zero))
    if alpha != 1.0:
        below = multiply(below, full(alpha, x.dtype, ()))
    out = where(negative_side, below, x)
    return out if scale == 1.0 else multiply(out, full(scale, x.dtype, ()))


def softsign(features: Any, name: Optional[str] = None) -> Tensor:
    """x / (1 + |x|)."""
    from engine.ops import abs as abs_, add, divide
    x = floating(features, "softsign")
    return divide(x, add(full(1, x.dtype, ()), abs_(x)))


def gelu(features: Any, approximate: bool = False, name: Optional[str] = None) -> Tensor:
    from engine.ops import add, erf, pow
    x = as_tensor(features)
    half = full(0.5, x.dtype, ())
    if approximate:
        inner = multiply(full(0.7978845608028654, x.dtype, ()),
                         add(x, multiply(full(0.044715, x.dtype, ()), pow(x, full(3, x.dtype, ())))))
        return multiply(multiply(half, x), add(full(1, x.dtype, ()), tanh(inner)))
    return multiply(multiply(half, x), add(full(1, x.dtype, ()), erf(multiply(x, full(0.7071067811865476,
                                                                                         x.dtype, ())))))


def silu(features: Any, beta: float = 1.0, name: Optional[str] = None) -> Tensor:
    x = as_tensor(features)
    return multiply(x, sigmoid(multiply(x, full(beta, x.dtype, ())) if beta != 1.0 else x))


swish = silu


def softmax(logits: Any, axis: int = -1, name: Optional[str] = None) -> Tensor:
    """exp(x - max) / sum(exp(x - max)) along `axis`. Compiled code reads each row once where that measured faster
    (codegen.softmax_rows); gradients and eager mode use the decomposed form below."""
    x = floating(logits, "softmax")
    e = exp(subtract(x, stop_gradient(reduce_max(x, axis=axis, keepdims=True))))
    from engine.ops import divide
    return divide(e, reduce_sum(e, axis=axis, keepdims=True))


def log_softmax(logits: Any, axis: int = -1, name: Optional[str] = None) -> Tensor:
    """(x - max) - log(sum(exp(x - max))) along `axis`, as TensorFlow's kernel computes it.

    Subtracting the max first keeps the small differences exact: x - (max + log(...)) would round max + log(...)
    to the precision of max (`log_softmax([1000, 1000, 0])` is -0.6931472, not -0.69317627). Compiled code takes
    the max and the sum of exps in one pass over each row where that measured faster (codegen.softmax_rows).
    """
    x = floating(logits, "log_softmax")
    shifted = subtract(x, stop_gradient(reduce_max(x, axis=axis, keepdims=True)))
    return subtract(shifted, log(reduce_sum(exp(shifted), axis=axis, keepdims=True)))


def softmax_cross_entropy_with_logits(labels: Any, logits: Any, axis: int = -1,
                                      name: Optional[str] = None) -> Tensor:
    """-sum(labels * log_softmax(logits)) along `axis`; gradients flow to both labels and logits."""
    x = as_tensor(logits)
    y = as_tensor(labels)
    if y.dtype is not x.dtype:
        y = cast(y, x.dtype)
    return negative(reduce_sum(multiply(y, log_softmax(x, axis=axis)), axis=axis))


def sparse_softmax_cross_entropy_with_logits(labels: Any, logits: Any, name: Optional[str] = None) -> Tensor:
    """Cross entropy against integer class `labels` (shape = logits.shape[:-1]); an out-of-range label raises
    InvalidArgumentError, as TensorFlow's: eagerly at once, in a traced function when it runs (an assert op)."""
    x = as_tensor(logits)
    lab = as_tensor(labels)
    if not lab.dtype.is_integer:
        raise TypeError(f"sparse_softmax_cross_entropy_with_logits: labels must be integers, got {lab.dtype.name}")
    if tuple(lab.shape) != tuple(x.shape[:-1]):
        raise ValueError(f"sparse_softmax_cross_entropy_with_logits: labels of shape {tuple(lab.shape)} do not "
                         f"match logits of shape {tuple(x.shape)} (labels must have shape logits.shape[:-1])")
    depth = x.shape[-1]
    from engine import dispatch
    if not dispatch.tracing():
        import numpy as np
        v = np.asarray(lab._value)
        if v.size and (v.min() < 0 or v.max() >= depth):
            bad = v[(v < 0) | (v >= depth)].flat[0]
            raise InvalidArgumentError(f"sparse_softmax_cross_entropy_with_logits: label {bad} is out of range "
                                       f"[0, {depth})")
    else:
        from engine.control_flow import Assert
        from engine.ops import greater_equal, less, logical_and, reduce_all
        inside = logical_and(greater_equal(lab, full(0, lab.dtype, ())), less(lab, full(depth, lab.dtype, ())))
        Assert(reduce_all(inside), [f"sparse_softmax_cross_entropy_with_logits: a label is out of range [0, {depth}):",
                                    lab])
    return softmax_cross_entropy_with_logits(one_hot(lab, depth, dtype=x.dtype), x)


def sigmoid_cross_entropy_with_logits(labels: Any = None, logits: Any = None, name: Optional[str] = None) -> Tensor:
    """max(x, 0) - x * z + log(1 + exp(-|x|)), the stable form TensorFlow uses; the gradient with respect to the
    logits is sigmoid(x) - z everywhere (0.5 - z at 0, as TensorFlow's: see `softplus_pieces`)."""
    from engine.ops import add
    from engine.ops.math_ops import softplus_pieces
    x = floating(logits, "sigmoid_cross_entropy_with_logits")
    z = convert_to_tensor(labels, dtype_hint=x.dtype)
    if z.dtype is not x.dtype:
        raise TypeError(f"sigmoid_cross_entropy_with_logits: labels ({z.dtype.name}) and logits ({x.dtype.name}) "
                        f"must have the same dtype")
    if tuple(z.shape) != tuple(x.shape):
        raise ValueError(f"sigmoid_cross_entropy_with_logits: logits and labels must have the same shape, got "
                         f"{tuple(x.shape)} and {tuple(z.shape)}")
    relu_part, log_part = softplus_pieces(x)
    return add(subtract(relu_part, multiply(x, z)), log_part)


def l2_loss(t: Any, name: Optional[str] = None) -> Tensor:
    """sum(t ** 2) / 2 of a floating-point tensor."""
    x = floating(t, "l2_loss")
    return multiply(reduce_sum(multiply(x, x)), full(0.5, x.dtype, ()))



def bias_add(value: Any, bias: Any, data_format: Optional[str] = None, name: Optional[str] = None) -> Tensor:
    """value + bias along the channel axis: the last one, or axis 1 for data formats starting "NC"."""
    from engine.ops import add, reshape
    from engine.ops.funnel import convert_pair, raw_shape
    x, b = convert_pair(value, bias)
    shape = raw_shape(x)
    channels_first = bool(data_format) and str(data_format).startswith("NC")
    axis = 1 if channels_first else len(shape) - 1
    if len(raw_shape(b)) != 1 or len(shape) < 2 or raw_shape(b)[0] != shape[axis]:
        raise InvalidArgumentError(f"bias_add: a bias of shape {tuple(raw_shape(b))} must have one element per "
                                   f"channel (axis {axis}) of a value of shape {tuple(shape)}")
    return add(x, reshape(b, [shape[axis] if i == axis else 1 for i in range(len(shape))]))


def moments(x: Any, axes: Any, shift: Any = None, keepdims: bool = False, name: Optional[str] = None) -> tuple:
    """(mean, variance) over `axes`; the variance treats the mean as a constant, as TensorFlow's does."""
    from engine.ops import reduce_mean, squared_difference, squeeze
    t = floating(x, "moments")
    mean = reduce_mean(t, axes, keepdims=True)
    variance = reduce_mean(squared_difference(t, stop_gradient(mean)), axes, keepdims=True)
    if keepdims:
        return mean, variance
    axes_list = [axes] if isinstance(axes, int) else list(axes)
    return squeeze(mean, axes_list), squeeze(variance, axes_list)


def l2_normalize(x: Any, axis: Any = None, epsilon: float = 1e-12, name: Optional[str] = None,
                 dim: Any = None) -> Tensor:
    """x / sqrt(max(sum(x ** 2, axis), epsilon)); all axes when `axis` is None."""
    from engine.ops import rsqrt
    t = floating(x, "l2_normalize")
    axis = dim if axis is None else axis
    squares = reduce_sum(multiply(t, t), axis=axis, keepdims=True)
    return multiply(t, rsqrt(maximum(squares, full(epsilon, t.dtype, ()))))


def dropout(x: Any, rate: Any, noise_shape: Any = None, seed: Optional[int] = None,
            name: Optional[str] = None) -> Tensor:
    """Zeros each element with probability `rate` and scales the rest by 1 / (1 - rate), as `tf.nn.dropout`
    (the kept elements differ from TensorFlow's: the random streams are Kiln's own). `noise_shape` broadcasts one
    draw over axes of size 1."""
    from engine import random
    from engine.ops import divide, greater_equal, where
    t = as_tensor(x)
    if not t.dtype.is_floating:  # TensorFlow says ValueError here
        raise ValueError(f"dropout: x must be a floating-point tensor (it is scaled), got {t.dtype.name}")
    r = float(rate)
    if not 0.0 <= r < 1.0:
        raise ValueError(f"dropout: rate must be a float in [0, 1), got {rate!r}")
    if r == 0.0:
        return t
    shape = tuple(t.shape) if noise_shape is None else tuple(int(d) for d in noise_shape)
    draw = t.dtype if t.dtype.size >= 4 else float32  # the streams draw float32 or float64 (half: float32)
    u = random.uniform_like(t, dtype=draw, seed=seed) if noise_shape is None and None in shape else \
        random.uniform(shape, dtype=draw, seed=seed)  # (unknown dims: a traced step's batch dimension)
    keep = greater_equal(u, full(r, draw, ()))
    scaled = divide(t, full(1.0 - r, t.dtype, ()))
    return where(keep, scaled, full(0, t.dtype, ()))
