"""`engine.optimizers` (also `engine.keras.optimizers`): Keras 3's `SGD` and `Adam`, and `get`.

Each optimizer is its update rule, written with public ops and `Variable.assign*` in the order of Keras 3's
arithmetic; the state and the apply pipeline they share are `engine.keras.base_optimizer.Optimizer`'s.
Relaxation kept for TF 2 programs: an integer momentum is accepted (Keras 3 insists on a float).
"""
from __future__ import annotations

import numbers
from typing import Any, Callable, Optional

import numpy as np

from engine.keras import schedules
from engine.keras.base_optimizer import Optimizer, _resolve, _scalar
from engine.ops import add, cast, divide, maximum, multiply, pow, sqrt, square, subtract
from engine.optimizers_adaptive import Adagrad, Adamax, Nadam, RMSprop
from engine.optimizers_more import Adadelta, Ftrl
from engine.tensor import Tensor
from engine.variables import Variable
from ir.types import DType

__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "Adagrad", "AdamW", "Adamax", "Nadam", "Adadelta", "Ftrl", "schedules",
           "get"]


class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum, as `keras.optimizers.SGD`.

    - momentum 0: `w -= lr * g`
    - momentum m: `velocity = m * velocity - lr * g; w += velocity`
    - nesterov:   `velocity = m * velocity - lr * g; w += m * velocity - lr * g`

    >>> import engine as tf
    >>> w = tf.Variable([1.0, 2.0])
    >>> _ = tf.optimizers.SGD(learning_rate=0.5).apply_gradients([(tf.constant([1.0, 1.0]), w)])
    >>> w.numpy()
    array([0.5, 1.5], dtype=float32)
    """

    def __init__(self, learning_rate: Any = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: Optional[float] = None, clipnorm: Optional[float] = None,
                 clipvalue: Optional[float] = None, global_clipnorm: Optional[float] = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: Optional[int] = None, name: str = "SGD",
                 **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency, name=name,
                         **kwargs)
        if isinstance(momentum, (bool, np.bool_)) or not isinstance(momentum, numbers.Real) \
                or not 0 <= momentum <= 1:
            raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum = float(momentum)
        self.nesterov = nesterov

    def _slot_names(self) -> tuple[str, ...]:
        return ("momentum",) if self.momentum != 0 else ()

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Any) -> None:
        dt = variable.dtype
        lr = cast(learning_rate, dt)
        g = cast(gradient, dt)
        if self.momentum == 0:
            variable.assign_sub(multiply(g, lr))
            return
        m = self._get_slot(variable, "momentum")
        momentum = _scalar(self.momentum, dt)
        m.assign(subtract(multiply(m, momentum), multiply(g, lr)))
        if self.nesterov:
            variable.assign_add(subtract(multiply(m, momentum), multiply(g, lr)))
        else:
            variable.assign_add(m)

    def get_config(self) -> dict:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2014), as `keras.optimizers.Adam`; `amsgrad` uses the running maximum of `v`.

    `m += (g - m)(1 - beta_1); v += (g^2 - v)(1 - beta_2);
    w -= lr sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)`, t the 1-based step.
    """

    def __init__(self, learning_rate: Any = 0.001, beta_1: Any = 0.9, beta_2: Any = 0.999, epsilon: float = 1e-7,
                 amsgrad: bool = False, weight_decay: Optional[float] = None, clipnorm: Optional[float] = None,
                 clipvalue: Optional[float] = None, global_clipnorm: Optional[float] = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: Optional[int] = None,
                 loss_scale_factor: Optional[float] = None, gradient_accumulation_steps: Optional[int] = None,
                 name: str = "adam", **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad

    def _slot_names(self) -> tuple[str, ...]:
        return ("momentum", "velocity") + (("velocity_hat",) if self.amsgrad else ())

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Any) -> None:
        dt = variable.dtype
        lr = cast(learning_rate, dt)
        g = cast(gradient, dt)
        b1, b2 = _resolve(self.beta_1), _resolve(self.beta_2)
        step = cast(add(self._iterations, np.int64(1)), dt)
        one = _scalar(1, dt)
        alpha = divide(multiply(lr, sqrt(subtract(one, pow(_scalar(b2, dt), step)))),
                       subtract(one, pow(_scalar(b1, dt), step)))
        m = self._get_slot(variable, "momentum")
        v = self._get_slot(variable, "velocity")
        # (1 - beta) is formed before the cast, as Keras does, so float32 sees round(1 - beta), not 1 - round(beta).
        m.assign_add(multiply(subtract(g, m), _complement(b1, dt)))
        v.assign_add(multiply(subtract(square(g), v), _complement(b2, dt)))
        denom_v: Any = v
        if self.amsgrad:
            v_hat = self._get_slot(variable, "velocity_hat")
            v_hat.assign(maximum(v_hat, v))
            denom_v = v_hat
        variable.assign_sub(divide(multiply(m, alpha), add(sqrt(denom_v), _scalar(_resolve(self.epsilon), dt))))

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (`w -= lr * weight_decay * w` before each update), default 0.004."""

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float = 0.004, beta_1: Any = 0.9,
                 beta_2: Any = 0.999, epsilon: float = 1e-7, amsgrad: bool = False, name: str = "adamw",
                 **kwargs: Any) -> None:
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, weight_decay=weight_decay, name=name, **kwargs)


def _complement(beta: Any, dtype: DType) -> Tensor:
    if isinstance(beta, (Tensor, Variable)):
        return subtract(_scalar(1, dtype), cast(beta, dtype))
    return _scalar(1 - float(beta), dtype)


_BY_NAME: dict[str, Callable[..., Optimizer]] = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop, "adagrad": Adagrad,
                                                 "adamw": AdamW, "adamax": Adamax, "nadam": Nadam,
                                                 "adadelta": Adadelta, "ftrl": Ftrl}


def get(identifier: Any) -> Optimizer:
    """An optimizer from a name ('sgd', 'adam'), a config dict ({'class_name': ..., 'config': ...}) or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    if isinstance(identifier, dict) and str(identifier.get("class_name", "")).lower() in _BY_NAME:
        cls = _BY_NAME[identifier["class_name"].lower()]
        return cls.from_config(identifier.get("config", {}))  # type: ignore[attr-defined]
    raise ValueError(f"Could not interpret optimizer identifier: {identifier}")
