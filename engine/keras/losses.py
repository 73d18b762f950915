"""`keras.losses`: loss classes and functions with Keras 3's formulas, reductions and defaults.

A loss class's `__call__(y_true, y_pred, sample_weight=None)` computes per-example losses with its function,
weights them, and reduces with `reduction`: "sum_over_batch_size" (default: the weighted sum over the number of
elements), "sum", or None/"none" (no reduction). Probabilities are clipped to [1e-7, 1 - 1e-7] before logs, as Keras.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from engine import nn
from engine.convert import convert_to_tensor
from engine.ops import (abs, add, cast, clip_by_value, divide, less_equal, log, maximum, multiply, negative,
                        reduce_mean, reduce_sum, reshape, size, square, subtract, where)
from engine.keras.loss_utils import EPSILON, _pred, _true_like  # noqa: F401  (re-exported)
from engine.keras.masks import get_mask
from engine.tensor import Tensor

__all__ = ["Loss", "SparseCategoricalCrossentropy", "CategoricalCrossentropy", "BinaryCrossentropy",
           "MeanSquaredError", "MeanAbsoluteError", "Huber", "LogCosh", "sparse_categorical_crossentropy",
           "categorical_crossentropy", "binary_crossentropy", "mean_squared_error", "mean_absolute_error", "huber",
           "log_cosh", "mse", "mae", "get", "serialize", "KLDivergence", "Poisson", "CosineSimilarity", "Hinge",
           "SquaredHinge", "CategoricalHinge", "MeanSquaredLogarithmicError", "MeanAbsolutePercentageError",
           "kl_divergence", "poisson", "cosine_similarity", "hinge", "squared_hinge", "categorical_hinge",
           "mean_squared_logarithmic_error", "mean_absolute_percentage_error", "kld", "msle", "mape"]

def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                                    ignore_class: Optional[int] = None, axis: int = -1) -> Tensor:
    y_pred = _pred(y_pred)
    labels = convert_to_tensor(y_true)
    if labels.dtype.is_floating or labels.dtype.is_bool:
        labels = cast(labels, "int64")
    if len(labels.shape) == len(y_pred.shape) and labels.shape[-1] == 1:
        labels = reshape(labels, tuple(labels.shape[:-1]))
    if len(labels.shape) != len(y_pred.shape) - 1:
        raise ValueError(f"Argument `output` must have rank (ndim) `target.ndim - 1`. Received: "
                         f"target.shape={tuple(labels.shape)}, output.shape={tuple(y_pred.shape)}")
    logits = y_pred if from_logits else log(clip_by_value(y_pred, EPSILON, 1.0 - EPSILON))
    if ignore_class is not None:
        valid = cast(labels != ignore_class, y_pred.dtype)
        labels = where(labels == ignore_class, 0, labels)
        return multiply(nn.sparse_softmax_cross_entropy_with_logits(labels, logits), valid)
    return nn.sparse_softmax_cross_entropy_with_logits(labels, logits)


def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0,
                             axis: int = -1) -> Tensor:
    y_pred = _pred(y_pred)
    y_true = _true_like(y_true, y_pred)
    if label_smoothing:
        k = float(y_pred.shape[axis])
        y_true = add(multiply(y_true, 1.0 - label_smoothing), label_smoothing / k)
    if from_logits:
        return nn.softmax_cross_entropy_with_logits(y_true, y_pred, axis=axis)
    p = divide(y_pred, reduce_sum(y_pred, axis=axis, keepdims=True))
    p = clip_by_value(p, EPSILON, 1.0 - EPSILON)
    return negative(reduce_sum(multiply(y_true, log(p)), axis=axis))


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0,
                        axis: int = -1) -> Tensor:
    y_pred = _pred(y_pred)
    y_true = _true_like(y_true, y_pred)
    if label_smoothing:
        y_true = add(multiply(y_true, 1.0 - label_smoothing), 0.5 * label_smoothing)
    if from_logits:
        per = nn.sigmoid_cross_entropy_with_logits(labels=y_true, logits=y_pred)
    else:
        p = clip_by_value(y_pred, EPSILON, 1.0 - EPSILON)
        per = negative(add(multiply(y_true, log(p)), multiply(subtract(1.0, y_true), log(subtract(1.0, p)))))
    return reduce_mean(per, axis=axis)


def mean_squared_error(y_true: Any, y_pred: Any) -> Tensor:
    y_pred = _pred(y_pred)
    return reduce_mean(square(subtract(y_pred, _true_like(y_true, y_pred))), axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Tensor:
    y_pred = _pred(y_pred)
    return reduce_mean(abs(subtract(y_pred, _true_like(y_true, y_pred))), axis=-1)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Tensor:
    y_pred = _pred(y_pred)
    err = abs(subtract(y_pred, _true_like(y_true, y_pred)))
    quad = multiply(0.5, square(err))
    lin = subtract(multiply(delta, err), 0.5 * delta * delta)
    return reduce_mean(where(less_equal(err, delta), quad, lin), axis=-1)


def log_cosh(y_true: Any, y_pred: Any) -> Tensor:
    """log(cosh(x)) = x + softplus(-2x) - log 2, stable for large |x|."""
    from engine.ops import softplus
    y_pred = _pred(y_pred)
    x = subtract(y_pred, _true_like(y_true, y_pred))
    return reduce_mean(subtract(add(x, softplus(multiply(-2.0, x))), 0.6931471805599453), axis=-1)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error

_REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean")


def reduce_weighted(losses: Tensor, sample_weight: Any, reduction: Optional[str]) -> Tensor:
    """Weights per-example losses and reduces them as Keras 3 does."""
    if sample_weight is not None:
        sw = cast(convert_to_tensor(sample_weight), losses.dtype)
        while len(sw.shape) > len(losses.shape) and sw.shape[-1] == 1:
            sw = reshape(sw, tuple(sw.shape[:-1]))
        losses = multiply(losses, sw)
    if reduction in (None, "none"):
        return losses
    total = reduce_sum(losses)
    if reduction == "sum":
        return total
    return divide(total, cast(maximum(size(losses), 1), losses.dtype))


def masked_weights(sample_weight: Any, mask: Any, losses: Tensor, reduction: Optional[str] = "sum_over_batch_size"
                   ) -> Any:
    """The sample weights with a Keras mask of the predictions (a sequence output's padding) applied, as Keras 3's
    apply_mask: masked entries weigh 0, and a mean is taken over the unmasked ones."""
    if mask is None or len(mask.shape) != len(losses.shape):
        return sample_weight
    weights = cast(mask, losses.dtype)
    if reduction in ("mean", "sum_over_batch_size"):
        weights = multiply(weights, divide(cast(size(weights), losses.dtype), reduce_sum(weights)))
    if sample_weight is None:
        return weights
    sw = cast(convert_to_tensor(sample_weight), losses.dtype)
    while len(sw.shape) > len(weights.shape) and sw.shape[-1] == 1:
        sw = reshape(sw, tuple(sw.shape[:-1]))
    return multiply(sw, weights)


class Loss:
    """Base class: subclasses give `call(y_true, y_pred)` (per-example losses)."""

    def __init__(self, name: Optional[str] = None, reduction: Optional[str] = "sum_over_batch_size",
                 dtype: Any = None) -> None:
        if reduction not in _REDUCTIONS:
            raise ValueError(f"Invalid value for argument `reduction`. Expected one of {_REDUCTIONS}. "
                             f"Received: reduction={reduction!r}")
        self.name = name or _snake(type(self).__name__)
        self.reduction = reduction

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        raise NotImplementedError

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        losses = self.call(y_true, y_pred)
        return reduce_weighted(losses, masked_weights(sample_weight, get_mask(y_pred), losses, self.reduction),
                               self.reduction)

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> "Loss":
        return cls(**config)


def _snake(name: str) -> str:
    from engine.keras.layers.base import snake_case
    return snake_case(name)


class LossFunctionWrapper(Loss):
    fn: Callable[..., Tensor] = staticmethod(mean_squared_error)

    def __init__(self, name: Optional[str] = None, reduction: Optional[str] = "sum_over_batch_size",
                 **options: Any) -> None:
        super().__init__(name=name, reduction=reduction)
        self.options = options

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        return type(self).fn(y_true, y_pred, **self.options)

    def get_config(self) -> dict:
        return {**super().get_config(), **self.options}


def _loss_class(name: str, fn: Callable[..., Tensor], **defaults: Any) -> type:
    def __init__(self: LossFunctionWrapper, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None, **options: Any) -> None:
        unknown = set(options) - set(defaults)
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected keyword arguments {sorted(unknown)}")
        LossFunctionWrapper.__init__(self, name=name or _snake(type(self).__name__), reduction=reduction,
                                     **{**defaults, **options})
    return type(name, (LossFunctionWrapper,), {"__init__": __init__, "fn": staticmethod(fn),
                                               "__doc__": f"`{fn.__name__}` as a loss object."})


SparseCategoricalCrossentropy = _loss_class("SparseCategoricalCrossentropy", sparse_categorical_crossentropy,
                                            from_logits=False, ignore_class=None, axis=-1)
CategoricalCrossentropy = _loss_class("CategoricalCrossentropy", categorical_crossentropy, from_logits=False,
                                      label_smoothing=0.0, axis=-1)
BinaryCrossentropy = _loss_class("BinaryCrossentropy", binary_crossentropy, from_logits=False,
                                 label_smoothing=0.0, axis=-1)
MeanSquaredError = _loss_class("MeanSquaredError", mean_squared_error)
MeanAbsoluteError = _loss_class("MeanAbsoluteError", mean_absolute_error)
Huber = _loss_class("Huber", huber, delta=1.0)
LogCosh = _loss_class("LogCosh", log_cosh)

from engine.keras.losses_more import (categorical_hinge, cosine_similarity, hinge, kl_divergence,  # noqa: E402
                                      mean_absolute_percentage_error, mean_squared_logarithmic_error, poisson,
                                      squared_hinge)

KLDivergence = _loss_class("KLDivergence", kl_divergence)
Poisson = _loss_class("Poisson", poisson)
CosineSimilarity = _loss_class("CosineSimilarity", cosine_similarity, axis=-1)
Hinge = _loss_class("Hinge", hinge)
SquaredHinge = _loss_class("SquaredHinge", squared_hinge)
CategoricalHinge = _loss_class("CategoricalHinge", categorical_hinge)
MeanSquaredLogarithmicError = _loss_class("MeanSquaredLogarithmicError", mean_squared_logarithmic_error)
MeanAbsolutePercentageError = _loss_class("MeanAbsolutePercentageError", mean_absolute_percentage_error)
kld = KLD = kullback_leibler_divergence = kl_divergence
msle = MSLE = mean_squared_logarithmic_error
mape = MAPE = mean_absolute_percentage_error
logcosh = log_cosh

_BY_NAME: dict[str, Any] = {
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "categorical_crossentropy": categorical_crossentropy, "binary_crossentropy": binary_crossentropy,
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error, "mean_absolute_error": mean_absolute_error,
    "mae": mean_absolute_error, "huber": huber, "log_cosh": log_cosh, "logcosh": log_cosh,
    "kl_divergence": kl_divergence, "kld": kl_divergence, "poisson": poisson, "cosine_similarity": cosine_similarity,
    "hinge": hinge, "squared_hinge": squared_hinge, "categorical_hinge": categorical_hinge,
    "mean_squared_logarithmic_error": mean_squared_logarithmic_error, "msle": mean_squared_logarithmic_error,
    "mean_absolute_percentage_error": mean_absolute_percentage_error, "mape": mean_absolute_percentage_error}
_CLASSES = {c.__name__: c for c in (SparseCategoricalCrossentropy, CategoricalCrossentropy, BinaryCrossentropy,
                                    MeanSquaredError, MeanAbsoluteError, Huber, LogCosh, KLDivergence, Poisson,
                                    CosineSimilarity, Hinge, SquaredHinge, CategoricalHinge,
                                    MeanSquaredLogarithmicError, MeanAbsolutePercentageError)}


def get(identifier: Any) -> Any:
    """A loss by name ('mse', 'sparse_categorical_crossentropy', 'MeanSquaredError'), config dict, or callable."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        if identifier in _BY_NAME:
            return _BY_NAME[identifier]
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        raise ValueError(f"Could not interpret loss identifier: {identifier!r}")
    if isinstance(identifier, dict):
        return _CLASSES[identifier["class_name"]].from_config(identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}")


def serialize(loss: Any) -> Any:
    if isinstance(loss, Loss) and type(loss).__name__ in _CLASSES:
        return {"class_name": type(loss).__name__, "config": loss.get_config()}
    for name, fn in _BY_NAME.items():
        if fn is loss:
            return name
    raise ValueError(f"loss {loss!r} is neither a built-in loss class nor function: it cannot be saved by name")
