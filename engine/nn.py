"""`engine.nn`: activations, softmax and the cross-entropy losses, as composites of the op table."""
from __future__ import annotations

from typing import Any, Optional

from engine.ops import (cast, exp, log_sigmoid, maximum, multiply, negative, one_hot, reduce_logsumexp, reduce_max,
                        reduce_sum, sigmoid, softplus, stop_gradient, subtract, tanh)
from engine.ops.funnel import as_tensor, full, unary
from ir.opdef import OPS
from engine.tensor import Tensor

__all__ = ["relu", "relu6", "sigmoid", "tanh", "softplus", "log_sigmoid", "softmax", "log_softmax", "elu", "gelu",
           "leaky_relu", "silu", "swish", "sparse_softmax_cross_entropy_with_logits",
           "softmax_cross_entropy_with_logits", "sigmoid_cross_entropy_with_logits", "l2_loss"]


def relu(features: Any, name: Optional[str] = None) -> Tensor:
    """max(x, 0); the gradient is upstream * (x > 0), as TensorFlow's (0 at 0; NaN from upstream passes)."""
    return unary(OPS["relu"], features, "relu")


def relu6(features: Any, name: Optional[str] = None) -> Tensor:
    """min(max(x, 0), 6); the gradient is 0 at both kinks, as TensorFlow's."""
    from engine.ops import minimum
    x = as_tensor(features)
    return minimum(full(6, x.dtype, ()), relu(x))


def leaky_relu(features: Any, alpha: float = 0.2, name: Optional[str] = None) -> Tensor:
    """x where x > 0, else alpha * x (for any alpha, as TensorFlow's kernel); the gradient at 0 is alpha."""
    from engine.ops import greater, where
    x = as_tensor(features)
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
    x = as_tensor(logits)
    e = exp(subtract(x, stop_gradient(reduce_max(x, axis=axis, keepdims=True))))
    from engine.ops import divide
    return divide(e, reduce_sum(e, axis=axis, keepdims=True))


def log_softmax(logits: Any, axis: int = -1, name: Optional[str] = None) -> Tensor:
    x = as_tensor(logits)
    return subtract(x, reduce_logsumexp(x, axis=axis, keepdims=True))


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
    """max(x, 0) - x * z + log(1 + exp(-|x|)), the stable form TensorFlow uses."""
    x = as_tensor(logits)
    z = as_tensor(labels)
    from engine.ops import abs as abs_, add, exp as exp_, log1p
    return add(subtract(maximum(x, full(0, x.dtype, ())), multiply(x, z)), log1p(exp_(negative(abs_(x)))))


def l2_loss(t: Any, name: Optional[str] = None) -> Tensor:
    x = as_tensor(t)
    return multiply(reduce_sum(multiply(x, x)), full(0.5, x.dtype, ()))


_ = (log_sigmoid, softplus, reduce_logsumexp)
