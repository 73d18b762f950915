"""`keras.metrics`: stateful metrics whose state lives in Variables, so `update_state` inside a compiled train step
updates them in native code. Formulas and defaults are Keras 3's.

>>> import engine as tf
>>> m = tf.keras.metrics.SparseCategoricalAccuracy()
>>> m.update_state([1, 2], [[0.1, 0.9, 0.0], [0.8, 0.1, 0.1]])
>>> float(m.result())
0.5
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from engine.convert import convert_to_tensor
from engine.keras import losses as _losses
from engine.keras.metrics_base import Mean, MeanMetricWrapper, Metric, Sum  # noqa: F401  (re-exported)
from engine.ops import (argmax, broadcast_to, cast, divide_no_nan, equal, expand_dims, greater, logical_and,
                        logical_not, multiply, ones_like, reduce_mean, reduce_sum, reshape, squeeze)
from engine.tensor import Tensor

__all__ = ["Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "MeanSquaredError", "MeanAbsoluteError",
           "Precision", "Recall", "AUC", "get", "SparseTopKCategoricalAccuracy", "RootMeanSquaredError",
           "CosineSimilarity", "MeanIoU", "KLDivergence", "Poisson", "Hinge", "SquaredHinge", "CategoricalHinge",
           "MeanSquaredLogarithmicError", "MeanAbsolutePercentageError", "LogCoshError"]


def accuracy(y_true: Any, y_pred: Any) -> Tensor:
    y_pred = convert_to_tensor(y_pred)
    y_true = convert_to_tensor(y_true)
    if y_true.dtype is not y_pred.dtype:
        y_true = cast(y_true, y_pred.dtype)
    return cast(equal(y_true, y_pred), "float32")


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> Tensor:
    y_pred = convert_to_tensor(y_pred)
    y_true = convert_to_tensor(y_true)
    if len(y_pred.shape) == len(y_true.shape) + 1 and y_pred.shape[-1] == 1:  # labels [batch], predictions
        y_true = expand_dims(y_true, -1)                                        # [batch, 1], as Keras aligns them
    pred = cast(greater(y_pred, threshold), y_pred.dtype if y_pred.dtype.is_floating else "float32")
    return _mean_last(cast(equal(cast(y_true, pred.dtype), pred), "float32"))


def _mean_last(x: Tensor) -> Tensor:
    return reduce_mean(x, axis=-1)


def categorical_accuracy(y_true: Any, y_pred: Any) -> Tensor:
    return cast(equal(argmax(convert_to_tensor(y_true), axis=-1), argmax(convert_to_tensor(y_pred), axis=-1)),
                "float32")


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> Tensor:
    y_pred = convert_to_tensor(y_pred)
    y_true = convert_to_tensor(y_true)
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
        y_true = squeeze(y_true, axis=-1)
    pred = argmax(y_pred, axis=-1)
    if y_true.dtype.is_floating:
        pred = cast(pred, y_true.dtype)
    elif pred.dtype is not y_true.dtype:
        y_true = cast(y_true, pred.dtype)
    return cast(equal(y_true, pred), "float32")


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> Tensor:
    y_pred = convert_to_tensor(y_pred)
    label = argmax(convert_to_tensor(y_true), axis=-1)
    own = reduce_sum(multiply(y_pred, _one_hot_like(label, y_pred)), axis=-1)
    better = reduce_sum(cast(greater(y_pred, reshape(own, (-1, 1))), "int32"), axis=-1)
    return cast(better < k, "float32")


def _one_hot_like(labels: Tensor, like: Tensor) -> Tensor:
    from engine.ops import one_hot
    return one_hot(labels, like.shape[-1], dtype=like.dtype)


def _wrapper(name: str, fn: Callable[..., Tensor], default_name: str, **defaults: Any) -> type:
    def __init__(self: MeanMetricWrapper, name: str = default_name, dtype: Any = "float32", **kwargs: Any) -> None:
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **{**defaults, **kwargs})
    return type(name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": f"Mean of `{fn.__name__}`."})


Accuracy = _wrapper("Accuracy", accuracy, "accuracy")
BinaryAccuracy = _wrapper("BinaryAccuracy", binary_accuracy, "binary_accuracy", threshold=0.5)
CategoricalAccuracy = _wrapper("CategoricalAccuracy", categorical_accuracy, "categorical_accuracy")
SparseCategoricalAccuracy = _wrapper("SparseCategoricalAccuracy", sparse_categorical_accuracy,
                                     "sparse_categorical_accuracy")
TopKCategoricalAccuracy = _wrapper("TopKCategoricalAccuracy", top_k_categorical_accuracy,
                                   "top_k_categorical_accuracy", k=5)
MeanSquaredError = _wrapper("MeanSquaredError", _losses.mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _wrapper("MeanAbsoluteError", _losses.mean_absolute_error, "mean_absolute_error")


class _Confusion(Metric):
    """True/false positives/negatives of `y_pred > threshold` against `y_true` (as booleans), per threshold."""

    def __init__(self, thresholds: Any = None, name: Optional[str] = None, dtype: Any = "float32") -> None:
        super().__init__(name, dtype)
        self.thresholds = [0.5] if thresholds is None else ([float(thresholds)] if np.ndim(thresholds) == 0
                                                             else [float(t) for t in thresholds])
        n = len(self.thresholds)
        self.true_positives = self.add_variable((n,), name="true_positives")
        self.false_positives = self.add_variable((n,), name="false_positives")
        self.false_negatives = self.add_variable((n,), name="false_negatives")
        self.true_negatives = self.add_variable((n,), name="true_negatives")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_pred = cast(convert_to_tensor(y_pred), "float32")
        y_true = cast(convert_to_tensor(y_true), "bool")
        pred = reshape(y_pred, (1, -1))
        truth = reshape(y_true, (1, -1))
        t = convert_to_tensor(np.asarray(self.thresholds, np.float32).reshape(-1, 1))
        above = greater(pred, t)
        if sample_weight is None:
            w = ones_like(cast(above, "float32"))
        else:
            w = broadcast_to(reshape(cast(convert_to_tensor(sample_weight), "float32"), (1, -1)), above.shape)

        def count(mask: Tensor) -> Tensor:
            return reduce_sum(multiply(cast(mask, "float32"), w), axis=1)
        self.true_positives.assign_add(count(logical_and(above, truth)))
        self.false_positives.assign_add(count(logical_and(above, logical_not(truth))))
        self.false_negatives.assign_add(count(logical_and(logical_not(above), truth)))
        self.true_negatives.assign_add(count(logical_and(logical_not(above), logical_not(truth))))

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.thresholds}


class Precision(_Confusion):
    def result(self) -> Tensor:
        r = divide_no_nan(self.true_positives.value(), self.true_positives.value() + self.false_positives.value())
        return r[0] if len(self.thresholds) == 1 else r


class Recall(_Confusion):
    def result(self) -> Tensor:
        r = divide_no_nan(self.true_positives.value(), self.true_positives.value() + self.false_negatives.value())
        return r[0] if len(self.thresholds) == 1 else r


class AUC(_Confusion):
    """Area under the ROC (or PR) curve from confusion counts at `num_thresholds` thresholds, with Keras's
    "interpolation" summation (trapezoids for ROC; Davis & Goadrich interpolation for PR)."""

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", name: Optional[str] = None,
                 dtype: Any = "float32", thresholds: Any = None, **kwargs: Any) -> None:
        if thresholds is None:
            eps = 1e-7
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            thresholds = [0.0 - eps] + inner + [1.0 + eps]
        super().__init__(thresholds, name or "auc", dtype)
        self.curve = curve.upper()

    def result(self) -> Tensor:
        tp, fp = self.true_positives.numpy().astype(np.float64), self.false_positives.numpy().astype(np.float64)
        fn, tn = self.false_negatives.numpy().astype(np.float64), self.true_negatives.numpy().astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.curve == "PR":
                dtp, p = tp[:-1] - tp[1:], tp + fp
                dp = p[:-1] - p[1:]
                prec_slope = np.where(dp > 0, dtp / np.where(dp > 0, dp, 1), 0.0)
                intercept = tp[1:] - prec_slope * p[1:]
                safe_p = np.where((p[:-1] > 0) & (p[1:] > 0), p[:-1] / np.where(p[1:] > 0, p[1:], 1), 1.0)
                pr_auc = prec_slope * (dtp + intercept * np.log(safe_p))
                denom = tp[1:] + fn[1:]
                value = np.sum(np.where(denom > 0, pr_auc / np.where(denom > 0, denom, 1), 0.0))
            else:
                tpr = np.where(tp + fn > 0, tp / np.where(tp + fn > 0, tp + fn, 1), 0.0)
                fpr = np.where(fp + tn > 0, fp / np.where(fp + tn > 0, fp + tn, 1), 0.0)
                value = np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2.0)
        return convert_to_tensor(np.float32(value))


from engine.keras.metrics_more import (CategoricalHinge, CosineSimilarity, Hinge, KLDivergence,  # noqa: E402
                                       LogCoshError, MeanAbsolutePercentageError, MeanIoU,
                                       MeanSquaredLogarithmicError, Poisson, RootMeanSquaredError,
                                       SparseTopKCategoricalAccuracy, SquaredHinge)

_BY_NAME: dict[str, type] = {
    "accuracy": Accuracy, "acc": Accuracy, "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy, "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy, "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError, "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "precision": Precision, "recall": Recall, "auc": AUC,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy, "cosine_similarity": CosineSimilarity,
    "kl_divergence": KLDivergence, "poisson": Poisson, "hinge": Hinge, "squared_hinge": SquaredHinge,
    "categorical_hinge": CategoricalHinge, "msle": MeanSquaredLogarithmicError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError, "mape": MeanAbsolutePercentageError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError, "logcosh": LogCoshError,
    "root_mean_squared_error": RootMeanSquaredError}


def get(identifier: Any) -> Any:
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier) or {c.__name__: c for c in _BY_NAME.values()}.get(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret metric identifier: {identifier!r}")
        return cls()
    if isinstance(identifier, dict):   # a saved metric: {"class_name": ..., "config": ...}
        classes = {c.__name__: c for c in list(_BY_NAME.values()) + [Mean, Sum, MeanIoU]}
        cls = classes.get(identifier.get("class_name", ""))
        if cls is None:
            raise ValueError(f"Could not interpret metric identifier: {identifier!r}")
        return cls.from_config(identifier.get("config", {}))
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")
