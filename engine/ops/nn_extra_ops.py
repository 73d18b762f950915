"""More of `tf.nn` as composites: batch_normalization, embedding_lookup, in_top_k, weighted_cross_entropy_with_logits,
compute_average_loss, normalize_moments, crelu, log_poisson_loss. Each follows TF 2's formula (cited per function),
so gradients are those of the rows used."""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

from engine.ops.array_ops import concat, gather
from engine.ops.funnel import as_tensor, cast, floating, full
from engine.ops.math_ops import abs as _abs
from engine.ops.math_ops import (add, divide, exp, greater, is_finite, less, log, log1p, logical_and, maximum,
                                 multiply, negative, rsqrt, sqrt, square, subtract, where)
from engine.ops.reduce_ops import reduce_all, reduce_sum
from engine.tensor import Tensor
from ir.types import int32


def batch_normalization(x: Any, mean: Any, variance: Any, offset: Any, scale: Any, variance_epsilon: float,
                        name: Optional[str] = None) -> Tensor:
    """(x - mean) * scale / sqrt(variance + epsilon) + offset, computed as TF does: x * inv + (offset - mean * inv)
    with inv = rsqrt(variance + epsilon) * scale; `offset` and `scale` may be None."""
    x = floating(x, "batch_normalization")
    inv = rsqrt(add(as_tensor(variance), variance_epsilon))
    if scale is not None:
        inv = multiply(inv, scale)
    shift = negative(multiply(mean, inv)) if offset is None else subtract(offset, multiply(mean, inv))
    return add(multiply(x, cast(inv, x.dtype)), cast(shift, x.dtype))


def embedding_lookup(params: Any, ids: Any, max_norm: Any = None, name: Optional[str] = None) -> Tensor:
    """The rows of `params` at `ids` (one params tensor; `max_norm` clips each row's L2 norm as TF's)."""
    out = gather(params, ids)
    if max_norm is None:
        return out
    norms = sqrt(reduce_sum(square(out), axis=-1, keepdims=True))
    return multiply(out, divide(max_norm, maximum(norms, max_norm)))


def in_top_k(targets: Any, predictions: Any, k: int, name: Optional[str] = None) -> Tensor:
    """For each row, whether the target class's prediction is among the k largest: fewer than k predictions are
    strictly greater (ties at the boundary all count, as TF), and False where a prediction is not finite.

    >>> import engine as tf
    >>> tf.math.in_top_k([1, 0], tf.constant([[0.1, 0.9, 0.5], [0.2, 0.2, 0.6]]), 2).numpy()
    array([ True,  True])
    """
    p = as_tensor(predictions)
    t = as_tensor(targets)
    picked = gather(p, t, axis=1, batch_dims=1)
    above = reduce_sum(cast(greater(p, picked[:, None]), int32), axis=1)
    return logical_and(less(above, int(k)), reduce_all(is_finite(p), axis=1))


def weighted_cross_entropy_with_logits(labels: Any, logits: Any, pos_weight: Any, name: Optional[str] = None) -> Tensor:
    """TF's stable form: (1 - z) * x + (1 + (q - 1) * z) * (log1p(exp(-|x|)) + max(-x, 0))."""
    x = floating(logits, "weighted_cross_entropy_with_logits")
    z = cast(as_tensor(labels), x.dtype)
    q = pos_weight if isinstance(pos_weight, Tensor) else full(pos_weight, x.dtype, ())
    w = add(1.0, multiply(subtract(q, 1.0), z))
    soft = add(log1p(exp(negative(_abs(x)))), maximum(negative(x), 0.0))
    return add(multiply(subtract(1.0, z), x), multiply(w, soft))


def compute_average_loss(per_example_loss: Any, sample_weight: Any = None, global_batch_size: Any = None,
                         name: Optional[str] = None) -> Tensor:
    """sum(loss * weight) / global_batch_size (the per-replica batch size, here the first dim, when not given)."""
    loss = floating(per_example_loss, "compute_average_loss")
    if sample_weight is not None:
        loss = multiply(loss, cast(as_tensor(sample_weight), loss.dtype))
    size = global_batch_size if global_batch_size is not None else (loss.shape[0] if loss.shape.rank else 1)
    return divide(reduce_sum(loss), cast(as_tensor(size), loss.dtype))


def normalize_moments(counts: Any, mean_ss: Any, variance_ss: Any, shift: Any, name: Optional[str] = None) -> tuple:
    """(mean, variance) from sufficient statistics, as TF: mean = mean_ss / counts (+ shift), variance =
    variance_ss / counts - (mean_ss / counts)^2."""
    divisor = divide(1.0, counts)
    shifted = multiply(mean_ss, divisor)
    mean = shifted if shift is None else add(shifted, shift)
    return mean, subtract(multiply(variance_ss, divisor), square(shifted))


def crelu(features: Any, axis: int = -1, name: Optional[str] = None) -> Tensor:
    """concat([relu(x), relu(-x)], axis)."""
    x = as_tensor(features)
    return concat([maximum(x, 0), maximum(negative(x), 0)], axis)


def log_poisson_loss(targets: Any, log_input: Any, compute_full_loss: bool = False,
                     name: Optional[str] = None) -> Tensor:
    """exp(c) - z * c, plus Stirling's z log z - z + 0.5 log(2 pi z) for z > 1 when `compute_full_loss`."""
    c = floating(log_input, "log_poisson_loss")
    z = cast(as_tensor(targets), c.dtype)
    loss = subtract(exp(c), multiply(z, c))
    if not compute_full_loss:
        return loss
    stirling = add(subtract(multiply(z, log(z)), z), multiply(0.5, log(multiply(2 * math.pi, z))))
    return add(loss, where(greater(z, 1.0), stirling, 0.0 * z))


__all__: Sequence[str] = ["batch_normalization", "embedding_lookup", "in_top_k", "weighted_cross_entropy_with_logits",
                          "compute_average_loss", "normalize_moments", "crelu", "log_poisson_loss"]
