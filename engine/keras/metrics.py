"""`keras.metrics`: stateful metrics whose state lives in Variables, so `update_state` inside a compiled train step
updates them in native code. Formulas and defaults are Keras 3's.

>>> import engine as tf
>>> m = tf.keras.metrics.SparseCategoricalAccuracy()
>>> m.update_state([1, 2], [[0.1, 0.9, 0.0], [0.8, 0.1, 0.1]])
>>> float(m.result())
0.5
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import numpy as np

from engine.convert import convert_to_tensor
from engine.keras import losses as _losses
from engine.keras.masks import get_mask
from engine.ops import (argmax, broadcast_to, cast, divide_no_nan, equal, expand_dims, greater, logical_and,
                        logical_not, multiply, ones_like, reduce_mean, reduce_sum, reshape, size, squeeze)
from engine.tensor import Tensor
from engine.variables import Variable

__all__ = ["Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "MeanSquaredError", "MeanAbsoluteError",
           "Precision", "Recall", "AUC", "get"]


class Metric:
    """Base class: state in Variables made by `add_variable`; `update_state`, `result`, `reset_state`."""

    def __init__(self, name: Optional[str] = None, dtype: Any = "float32") -> None:
        from engine.keras.layers.base import snake_case
        self.name = name or snake_case(type(self).__name__)
        self.dtype = dtype or "float32"
        self._variables: list[Variable] = []

    def add_variable(self, shape: Sequence[int] = (), initializer: str = "zeros", dtype: Any = None,
                     name: Optional[str] = None) -> Variable:
        value = np.zeros(tuple(shape), np.dtype(dtype or self.dtype))
        var = Variable(value, trainable=False, name=f"{self.name}/{name or 'var'}")
        self._variables.append(var)
        return var

    add_weight = add_variable

    @property
    def variables(self) -> list[Variable]:
        return list(self._variables)

    def reset_state(self) -> None:
        for v in self._variables:
            v.assign(np.zeros(tuple(v.shape), v.dtype.np))

    reset_states = reset_state

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    def result(self) -> Tensor:
        raise NotImplementedError

    def __call__(self, *args: Any, **kwargs: Any) -> Tensor:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict) -> "Metric":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


def _weights(values: Tensor, sample_weight: Any) -> tuple[Tensor, Tensor]:
    """(sum of weighted values, sum of weights) over everything."""
    values = cast(values, "float32")
    if sample_weight is None:
        return reduce_sum(values), cast(size(values), "float32")
    sw = cast(convert_to_tensor(sample_weight), "float32")
    while len(sw.shape) > len(values.shape) and sw.shape[-1] == 1:
        sw = reshape(sw, tuple(sw.shape[:-1]))
    if tuple(sw.shape) != tuple(values.shape):
        sw = broadcast_to(sw, values.shape) if None not in values.shape else multiply(sw, ones_like(values))
    return reduce_sum(multiply(values, sw)), reduce_sum(sw)


class Sum(Metric):
    def __init__(self, name: str = "sum", dtype: Any = "float32") -> None:
        super().__init__(name, dtype)
        self.total = self.add_variable(name="total")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        total, _ = _weights(convert_to_tensor(values), sample_weight)
        self.total.assign_add(total)

    def result(self) -> Tensor:
        return self.total.value()


class Mean(Metric):
    """The weighted mean of everything given to `update_state`."""

    def __init__(self, name: str = "mean", dtype: Any = "float32") -> None:
        super().__init__(name, dtype)
        self.total = self.add_variable(name="total")
        self.count = self.add_variable(name="count")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        total, count = _weights(convert_to_tensor(values), sample_weight)
        self.total.assign_add(total)
        self.count.assign_add(count)

    def result(self) -> Tensor:
        return divide_no_nan(self.total.value(), self.count.value())


class MeanMetricWrapper(Mean):
    """The mean of `fn(y_true, y_pred)` over examples."""

    def __init__(self, fn: Callable[..., Tensor], name: Optional[str] = None, dtype: Any = "float32",
                 **kwargs: Any) -> None:
        super().__init__(name=name or getattr(fn, "__name__", "mean"), dtype=dtype)
        self._fn, self._fn_kwargs = fn, kwargs

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        mask = get_mask(y_pred)  # a masked sequence output's padding steps do not count, as in Keras 3
        if mask is not None:
            sample_weight = _losses.masked_weights(sample_weight, mask, values)
        super().update_state(values, sample_weight)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, **self._fn_kwargs}


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


_BY_NAME: dict[str, type] = {
    "accuracy": Accuracy, "acc": Accuracy, "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy, "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy, "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError, "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "precision": Precision, "recall": Recall, "auc": AUC}


def get(identifier: Any) -> Any:
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier) or {c.__name__: c for c in _BY_NAME.values()}.get(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret metric identifier: {identifier!r}")
        return cls()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")
