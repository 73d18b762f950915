"""RMSprop, Adagrad, Adamax and Nadam, with Keras 3's update rules and defaults (see each docstring);
`engine.optimizers` exports them next to SGD and Adam."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from engine.keras.base_optimizer import Optimizer, _resolve, _scalar
from engine.ops import abs, add, cast, divide, maximum, multiply, pow, sqrt, square, subtract
from engine.tensor import Tensor
from engine.variables import Variable
from ir.types import float32

__all__ = ["RMSprop", "Adagrad", "Adamax", "Nadam"]


def _base_kwargs(kwargs: dict) -> dict:
    keys = ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "use_ema", "ema_momentum",
            "ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps")
    return {k: kwargs.pop(k) for k in keys if k in kwargs}


def _moving(slot: Variable, target: Tensor, beta: Any, dt: Any) -> None:
    """slot += (target - slot) * (1 - beta), with 1 - beta formed in float64 as Keras does."""
    slot.assign_add(multiply(subtract(target, slot), _scalar(1 - float(_resolve(beta)), dt)))


class RMSprop(Optimizer):
    """`v = rho v + (1 - rho) g^2` (centered: minus the squared running mean of g); `step = lr g / sqrt(v + eps)`;
    with momentum, `m = momentum m + step; w -= m`, else `w -= step`."""

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.9, momentum: float = 0.0, epsilon: float = 1e-7,
                 centered: bool = False, name: str = "rmsprop", **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, name=name, **_base_kwargs(kwargs), **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered

    def _slot_names(self) -> tuple[str, ...]:
        return ("velocity",) + (("momentum",) if self.momentum > 0 else ()) + \
            (("average_gradient",) if self.centered else ())

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Any) -> None:
        dt = variable.dtype
        lr, g, rho = cast(learning_rate, dt), cast(gradient, dt), _scalar(self.rho, dt)
        velocity = self._get_slot(variable, "velocity")
        velocity.assign(add(multiply(rho, velocity), multiply(_scalar(1 - self.rho, dt), square(g))))
        denominator: Any = velocity
        if self.centered:
            avg = self._get_slot(variable, "average_gradient")
            avg.assign(add(multiply(rho, avg), multiply(_scalar(1 - self.rho, dt), g)))
            denominator = subtract(velocity, square(avg))
        increment = divide(multiply(lr, g), sqrt(add(denominator, _scalar(self.epsilon, dt))))
        if self.momentum > 0:
            m = self._get_slot(variable, "momentum")
            m.assign(add(multiply(_scalar(self.momentum, dt), m), increment))
            variable.assign_sub(m)
        else:
            variable.assign_sub(increment)

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}


class Adagrad(Optimizer):
    """`acc += g^2; w -= lr g / sqrt(acc + eps)`, the accumulator starting at `initial_accumulator_value`."""

    def __init__(self, learning_rate: Any = 0.001, initial_accumulator_value: float = 0.1, epsilon: float = 1e-7,
                 name: str = "adagrad", **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, name=name, **_base_kwargs(kwargs), **kwargs)
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon

    def _slot_names(self) -> tuple[str, ...]:
        return ("accumulator",)

    def _get_slot(self, variable: Variable, name: str, fill: Optional[float] = None) -> Variable:
        return super()._get_slot(variable, name, self.initial_accumulator_value)

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Any) -> None:
        dt = variable.dtype
        lr, g = cast(learning_rate, dt), cast(gradient, dt)
        acc = self._get_slot(variable, "accumulator")
        acc.assign_add(square(g))
        variable.assign_sub(divide(multiply(lr, g), sqrt(add(acc, _scalar(self.epsilon, dt)))))

    def get_config(self) -> dict:
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adamax(Optimizer):
    """`m += (g - m)(1 - beta_1); u = max(beta_2 u, |g|); w -= lr m / ((1 - beta_1^t)(u + eps))`."""

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, name: str = "adamax", **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, name=name, **_base_kwargs(kwargs), **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def _slot_names(self) -> tuple[str, ...]:
        return ("m", "u")

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Any) -> None:
        dt = variable.dtype
        lr, g = cast(learning_rate, dt), cast(gradient, dt)
        step = cast(add(self._iterations, np.int64(1)), dt)
        m, u = self._get_slot(variable, "m"), self._get_slot(variable, "u")
        _moving(m, g, self.beta_1, dt)
        u.assign(maximum(multiply(_scalar(self.beta_2, dt), u), abs(g)))
        bias = subtract(_scalar(1, dt), pow(_scalar(self.beta_1, dt), step))
        variable.assign_sub(divide(multiply(lr, m), multiply(bias, add(u, _scalar(self.epsilon, dt)))))

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Adam with Nesterov momentum and Keras 3's momentum schedule `u_t = beta_1 (1 - 0.5 * 0.96^t)`."""

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, name: str = "nadam", **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, name=name, **_base_kwargs(kwargs), **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self._u_product: Optional[Variable] = None

    def _slot_names(self) -> tuple[str, ...]:
        return ("momentum", "velocity")

    def build(self, var_list: Any) -> None:
        if self._u_product is None:
            self._u_product = self.add_variable((), lambda shape, dt: np.float32(1.0), float32, name="u_product")
        super().build(var_list)

    def _u(self, step: Tensor, dt: Any) -> Tensor:
        return multiply(_scalar(self.beta_1, dt), subtract(_scalar(1, dt), multiply(
            _scalar(0.5, dt), pow(_scalar(0.96, dt), step))))

    def _before_updates(self, variables: list[Variable]) -> None:
        step = cast(add(self._iterations, np.int64(1)), float32)
        self._u_product.assign(multiply(self._u_product, self._u(step, float32)))

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Any) -> None:
        dt = variable.dtype
        lr, g = cast(learning_rate, dt), cast(gradient, dt)
        step = cast(add(self._iterations, np.int64(1)), dt)
        u_t, u_t1 = self._u(step, dt), self._u(add(step, _scalar(1, dt)), dt)
        u_prod = cast(self._u_product, dt)
        u_prod1 = multiply(u_prod, u_t1)
        one = _scalar(1, dt)
        m, v = self._get_slot(variable, "momentum"), self._get_slot(variable, "velocity")
        # Keras 3 casts beta to the variable's dtype before forming 1 - beta here (unlike in Adam).
        m.assign_add(multiply(subtract(g, m), subtract(one, _scalar(self.beta_1, dt))))
        v.assign_add(multiply(subtract(square(g), v), subtract(one, _scalar(self.beta_2, dt))))
        m_hat = add(divide(multiply(u_t1, m), subtract(one, u_prod1)),
                    divide(multiply(subtract(one, u_t), g), subtract(one, u_prod)))
        v_hat = divide(v, subtract(one, pow(_scalar(self.beta_2, dt), step)))
        variable.assign_sub(divide(multiply(lr, m_hat), add(sqrt(v_hat), _scalar(self.epsilon, dt))))

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
