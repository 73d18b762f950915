"""More of `keras.losses` (Keras 3's formulas, epsilon 1e-7): KL divergence, Poisson, cosine similarity, hinge,
squared hinge, categorical hinge, mean squared logarithmic error, mean absolute percentage error. Each function
gives per-example losses (the last axis reduced); `engine.keras.losses` makes the classes and names them."""
from __future__ import annotations

from typing import Any

from engine.keras.loss_utils import EPSILON, _pred, _true_like
from engine.ops import (abs, add, cast, clip_by_value, divide, equal, log, logical_or, maximum, minimum, multiply,
                        negative, reduce_all, reduce_max, reduce_mean, reduce_sum, rsqrt, square, subtract, where)
from engine.tensor import Tensor

__all__ = ["kl_divergence", "poisson", "cosine_similarity", "hinge", "squared_hinge", "categorical_hinge",
           "mean_squared_logarithmic_error", "mean_absolute_percentage_error"]


def _pair(y_true: Any, y_pred: Any) -> tuple[Tensor, Tensor]:
    y_pred = _pred(y_pred)
    return _true_like(y_true, y_pred), y_pred


def kl_divergence(y_true: Any, y_pred: Any) -> Tensor:
    """`sum(t * log(t / p))` with t and p clipped to [1e-7, 1]."""
    y_true, y_pred = _pair(y_true, y_pred)
    t = clip_by_value(y_true, EPSILON, 1.0)
    p = clip_by_value(y_pred, EPSILON, 1.0)
    return reduce_sum(multiply(t, log(divide(t, p))), axis=-1)


def poisson(y_true: Any, y_pred: Any) -> Tensor:
    """`mean(p - t * log(p + 1e-7))`."""
    y_true, y_pred = _pair(y_true, y_pred)
    return reduce_mean(subtract(y_pred, multiply(y_true, log(add(y_pred, EPSILON)))), axis=-1)


def _unit(x: Tensor, axis: int) -> Tensor:
    """x scaled to unit L2 norm along axis (keras.ops.normalize: x * min(rsqrt(sum x^2), 1 / 1e-7))."""
    return multiply(x, minimum(rsqrt(reduce_sum(square(x), axis=axis, keepdims=True)), 1.0 / EPSILON))


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Tensor:
    """Minus the cosine of the angle between t and p along `axis` (-1 when they point the same way)."""
    y_true, y_pred = _pair(y_true, y_pred)
    return negative(reduce_sum(multiply(_unit(y_true, axis), _unit(y_pred, axis)), axis=axis))


def _hinge_labels(y_true: Tensor) -> Tensor:
    """Labels all 0 or 1 become -1 or 1 (Keras's convert_binary_labels_to_hinge); others stay."""
    binary = reduce_all(logical_or(equal(y_true, 0.0), equal(y_true, 1.0)))
    return where(binary, subtract(multiply(y_true, 2.0), 1.0), y_true)


def hinge(y_true: Any, y_pred: Any) -> Tensor:
    """`mean(max(1 - t * p, 0))`, t in {-1, 1} (0/1 labels converted)."""
    y_true, y_pred = _pair(y_true, y_pred)
    return reduce_mean(maximum(subtract(1.0, multiply(_hinge_labels(y_true), y_pred)), 0.0), axis=-1)


def squared_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """`mean(max(1 - t * p, 0)^2)`, t in {-1, 1} (0/1 labels converted)."""
    y_true, y_pred = _pair(y_true, y_pred)
    return reduce_mean(square(maximum(subtract(1.0, multiply(_hinge_labels(y_true), y_pred)), 0.0)), axis=-1)


def categorical_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """`max(max((1 - t) * p) - sum(t * p) + 1, 0)` for one-hot t."""
    y_true, y_pred = _pair(y_true, y_pred)
    pos = reduce_sum(multiply(y_true, y_pred), axis=-1)
    neg = reduce_max(multiply(subtract(1.0, y_true), y_pred), axis=-1)
    return maximum(add(subtract(neg, pos), 1.0), cast(0.0, y_pred.dtype))


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Tensor:
    """`mean((log(max(p, eps) + 1) - log(max(t, eps) + 1))^2)`."""
    y_true, y_pred = _pair(y_true, y_pred)
    first = log(add(maximum(y_pred, EPSILON), 1.0))
    second = log(add(maximum(y_true, EPSILON), 1.0))
    return reduce_mean(square(subtract(first, second)), axis=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Tensor:
    """`100 * mean(|t - p| / max(|t|, eps))`."""
    y_true, y_pred = _pair(y_true, y_pred)
    diff = abs(divide(subtract(y_true, y_pred), maximum(abs(y_true), EPSILON)))
    return multiply(reduce_mean(diff, axis=-1), 100.0)
