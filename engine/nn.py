"""`engine.nn`: activations, softmax and the cross-entropy losses, as composites of the op table."""
from __future__ import annotations

from typing import Any, Optional

from engine.convert import convert_to_tensor
from engine.dropout import dropout
from engine.nn_conv import avg_pool, avg_pool2d, conv1d, conv2d, convolution, max_pool, max_pool2d
from engine.ops import (cast, exp, log, log_sigmoid, maximum, multiply, negative, one_hot, reduce_max, reduce_sum,
                        sigmoid, softplus, stop_gradient, subtract, tanh)
from engine.ops.funnel import as_tensor, floating, full, unary
from engine.tensor import Tensor
from ir.opdef import OPS
from ir.types import float32

__all__ = ["relu", "relu6", "sigmoid", "tanh", "softplus", "log_sigmoid", "softmax", "log_softmax", "elu", "gelu",
           "leaky_relu", "silu", "swish", "sparse_softmax_cross_entropy_with_logits",
           "softmax_cross_entropy_with_logits", "sigmoid_cross_entropy_with_logits", "l2_loss", "dropout", "conv1d",
           "conv2d", "convolution", "max_pool", "max_pool2d", "avg_pool", "avg_pool2d"]


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
    from engine.ops import expm1, greater, minimum, where
    x = as_tensor(features)
    zero = full(0, x.dtype, ())
    return where(greater(x, zero), x, expm1(minimum(x, zero)))


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
    """exp(x - max) / sum(exp(x - max)) along `axis`."""
    x = floating(logits, "softmax")
    e = exp(subtract(x, stop_gradient(reduce_max(x, axis=axis, keepdims=True))))
    from engine.ops import divide
    return divide(e, reduce_sum(e, axis=axis, keepdims=True))


def log_softmax(logits: Any, axis: int = -1, name: Optional[str] = None) -> Tensor:
    """(x - max) - log(sum(exp(x - max))) along `axis`, as TensorFlow's kernel computes it.

    Subtracting the max first keeps the small differences exact: x - (max + log(...)) would round max + log(...)
    to the precision of max (`log_softmax([1000, 1000, 0])` is -0.6931472, not -0.69317627).
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
    """Cross entropy against integer class `labels` (shape = logits.shape[:-1]); out-of-range labels raise."""
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
            raise IndexError(f"sparse_softmax_cross_entropy_with_logits: label {bad} is out of range "
                             f"[0, {depth})")
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

