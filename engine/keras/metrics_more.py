"""More of `keras.metrics` (Keras 3's formulas, names and defaults): SparseTopKCategoricalAccuracy,
RootMeanSquaredError, CosineSimilarity, MeanIoU, and the means of the losses of `engine.keras.losses_more`
(KLDivergence, Poisson, Hinge, SquaredHinge, CategoricalHinge, MeanSquaredLogarithmicError,
MeanAbsolutePercentageError, LogCoshError). State lives in Variables, updated with ops, so `update_state` inside a
compiled train step stays native."""
from __future__ import annotations

from typing import Any, Optional

from engine.convert import convert_to_tensor
from engine.keras import losses as _losses
from engine.keras.losses import EPSILON
from engine.keras.metrics_base import Mean, MeanMetricWrapper, Metric
from engine.ops import (add, argmax, cast, divide, divide_no_nan, eye, greater, greater_equal, less, logical_and,
                        matmul, multiply, not_equal, one_hot, ones_like, reduce_sum, reshape, sqrt, square, subtract,
                        transpose, where)
from engine.tensor import Tensor

__all__ = ["SparseTopKCategoricalAccuracy", "RootMeanSquaredError", "CosineSimilarity", "MeanIoU", "KLDivergence",
           "Poisson", "Hinge", "SquaredHinge", "CategoricalHinge", "MeanSquaredLogarithmicError",
           "MeanAbsolutePercentageError", "LogCoshError", "sparse_top_k_categorical_accuracy", "cosine_similarity"]


def sparse_top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5, from_sorted_ids: bool = False) -> Tensor:
    """1 where the label's score is among the k largest (ties at the boundary count as in, as TF's in_top_k)."""
    y_pred = convert_to_tensor(y_pred)
    labels = convert_to_tensor(y_true)
    if len(y_pred.shape) > 2:
        y_pred = reshape(y_pred, [-1, y_pred.shape[-1]])
    if len(labels.shape) > 1:
        labels = reshape(labels, [-1])
    if from_sorted_ids:
        ids = y_pred[:, :k]
        hit = reduce_sum(cast(cast(ids, "int64") == reshape(cast(labels, "int64"), [-1, 1]), "int32"), axis=-1)
        return cast(greater(hit, 0), "float32")
    labels = cast(labels, "int32")
    own = reduce_sum(multiply(y_pred, one_hot(labels, y_pred.shape[-1], dtype=y_pred.dtype)), axis=-1)
    better = reduce_sum(cast(greater(y_pred, reshape(own, (-1, 1))), "int32"), axis=-1)
    return cast(less(better, k), "float32")


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Tensor:
    """The cosine of the angle between t and p along `axis` (the loss's negation)."""
    return -_losses.cosine_similarity(y_true, y_pred, axis=axis)


def _wrapper(name: str, fn: Any, default_name: str, **defaults: Any) -> type:
    def __init__(self: MeanMetricWrapper, name: str = default_name, dtype: Any = "float32", **kwargs: Any) -> None:
        unknown = set(kwargs) - set(defaults)
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected keyword arguments {sorted(unknown)}")
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **{**defaults, **kwargs})
    return type(name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": f"Mean of `{fn.__name__}`.",
                                             "__module__": __name__})


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the k top-scored classes (`from_sorted_ids`: y_pred holds class ids,
    best first)."""

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy", dtype: Any = "float32",
                 from_sorted_ids: bool = False) -> None:
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=from_sorted_ids)

    def get_config(self) -> dict:
        config = super().get_config()
        if not config.get("from_sorted_ids"):   # Keras 3 writes it only when set
            config.pop("from_sorted_ids", None)
        return config


CosineSimilarity = _wrapper("CosineSimilarity", cosine_similarity, "cosine_similarity", axis=-1)
KLDivergence = _wrapper("KLDivergence", _losses.kl_divergence, "kl_divergence")
Poisson = _wrapper("Poisson", _losses.poisson, "poisson")
Hinge = _wrapper("Hinge", _losses.hinge, "hinge")
SquaredHinge = _wrapper("SquaredHinge", _losses.squared_hinge, "squared_hinge")
CategoricalHinge = _wrapper("CategoricalHinge", _losses.categorical_hinge, "categorical_hinge")
MeanSquaredLogarithmicError = _wrapper("MeanSquaredLogarithmicError", _losses.mean_squared_logarithmic_error,
                                       "mean_squared_logarithmic_error")
MeanAbsolutePercentageError = _wrapper("MeanAbsolutePercentageError", _losses.mean_absolute_percentage_error,
                                       "mean_absolute_percentage_error")
LogCoshError = _wrapper("LogCoshError", _losses.log_cosh, "logcosh")


class RootMeanSquaredError(Mean):
    """sqrt of the (weighted) mean of the squared errors over every element seen."""

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = "float32") -> None:
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_pred = cast(convert_to_tensor(y_pred), "float32")
        y_true = cast(convert_to_tensor(y_true), "float32")
        super().update_state(square(subtract(y_pred, y_true)), sample_weight)

    def result(self) -> Tensor:
        return sqrt(divide_no_nan(self.total.value(), self.count.value()))


class MeanIoU(Metric):
    """The mean over classes of TP / (TP + FP + FN), from a confusion matrix accumulated over batches (classes absent
    from both labels and predictions do not count); `ignore_class` labels are left out. As in Keras 3 the state is in
    the metric's dtype, int64 by default: sample weights are truncated to integers."""

    def __init__(self, num_classes: int, name: Optional[str] = None, dtype: Any = None,
                 ignore_class: Optional[int] = None, sparse_y_true: bool = True, sparse_y_pred: bool = True,
                 axis: int = -1) -> None:
        super().__init__(name=name or "mean_io_u", dtype=dtype or "int64")
        self.num_classes, self.ignore_class = int(num_classes), ignore_class
        self.sparse_y_true, self.sparse_y_pred, self.axis = sparse_y_true, sparse_y_pred, axis
        self.total_cm = self.add_variable((self.num_classes, self.num_classes), name="total_confusion_matrix")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true, y_pred = convert_to_tensor(y_true), convert_to_tensor(y_pred)
        if not self.sparse_y_true:
            y_true = argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = argmax(y_pred, axis=self.axis)
        y_true = cast(reshape(y_true, [-1]), self.dtype)     # labels and predictions in the metric's dtype
        y_pred = cast(reshape(y_pred, [-1]), self.dtype)
        w = cast(convert_to_tensor(1 if sample_weight is None else sample_weight), self.dtype)
        w = reshape(w, [-1]) if len(w.shape) > 1 else w
        w = cast(multiply(ones_like(y_true), w), "float32")  # a scalar or per-element weight, per element
        n = self.num_classes
        valid = logical_and(logical_and(greater_equal(y_true, 0), less(y_true, n)),
                            logical_and(greater_equal(y_pred, 0), less(y_pred, n)))
        if self.ignore_class is not None:
            valid = logical_and(valid, not_equal(y_true, self.ignore_class))
        w = where(valid, w, 0.0)
        t = one_hot(cast(where(valid, y_true, 0), "int32"), n, dtype="float32")
        p = one_hot(cast(where(valid, y_pred, 0), "int32"), n, dtype="float32")
        cm = matmul(transpose(t), multiply(p, reshape(w, [-1, 1])))  # rows: labels, columns: predictions
        self.total_cm.assign_add(cast(cm, self.total_cm.dtype))

    def result(self) -> Tensor:
        cm = cast(self.total_cm.value(), "float32")
        rows, cols = reduce_sum(cm, axis=0), reduce_sum(cm, axis=1)
        tp = reduce_sum(multiply(cm, eye(self.num_classes, dtype="float32")), axis=1)
        denominator = subtract(add(rows, cols), tp)
        valid = greater(denominator, 1e-9)
        iou = where(valid, divide(tp, add(denominator, EPSILON)), 0.0)
        return divide(reduce_sum(iou), add(reduce_sum(cast(valid, "float32")), EPSILON))

    def get_config(self) -> dict:
        return {**super().get_config(), "num_classes": self.num_classes, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}
