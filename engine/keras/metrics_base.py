"""The base of Keras metrics: `Metric` (state in Variables made by `add_variable`), `Sum`, `Mean` and
`MeanMetricWrapper` (the weighted mean of a function of y_true and y_pred), with Keras 3's behaviour;
`engine.keras.metrics` and `engine.keras.metrics_more` build the concrete metrics on them."""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import numpy as np

from engine.convert import convert_to_tensor
from engine.ops import broadcast_to, cast, divide_no_nan, multiply, ones_like, reduce_sum, reshape, size
from engine.tensor import Tensor
from engine.variables import Variable

__all__ = ["Metric", "Sum", "Mean", "MeanMetricWrapper"]


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
        from engine.keras.losses import masked_weights
        from engine.keras.masks import get_mask
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        mask = get_mask(y_pred)  # a masked sequence output's padding steps do not count, as in Keras 3
        if mask is not None:
            sample_weight = masked_weights(sample_weight, mask, values)
        super().update_state(values, sample_weight)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, **self._fn_kwargs}
