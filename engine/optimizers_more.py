"""Adadelta and Ftrl, with Keras 3's update rules, defaults and configs; `engine.optimizers` exports them."""
from __future__ import annotations

from typing import Any, Optional

from engine.keras.base_optimizer import Optimizer, _scalar
from engine.optimizers_adaptive import _base_kwargs
from engine.ops import add, cast, clip_by_value, divide, multiply, negative, pow, sqrt, square, subtract
from engine.tensor import Tensor
from engine.variables import Variable

__all__ = ["Adadelta", "Ftrl"]


class Adadelta(Optimizer):
    """`acc_g = rho acc_g + (1 - rho) g^2; delta = -sqrt(acc_d + eps) g / sqrt(acc_g + eps);
    acc_d = rho acc_d + (1 - rho) delta^2; w += lr delta`."""

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.95, epsilon: float = 1e-7,
                 name: str = "adadelta", **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, name=name, **_base_kwargs(kwargs), **kwargs)
        self.rho, self.epsilon = rho, epsilon

    def _slot_names(self) -> tuple[str, ...]:
        return ("accumulated_grad", "accumulated_delta_var")

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Any) -> None:
        dt = variable.dtype
        lr, g = cast(learning_rate, dt), cast(gradient, dt)
        rho, one_minus_rho, eps = _scalar(self.rho, dt), _scalar(1 - self.rho, dt), _scalar(self.epsilon, dt)
        acc_g = self._get_slot(variable, "accumulated_grad")
        acc_d = self._get_slot(variable, "accumulated_delta_var")
        acc_g.assign(add(multiply(rho, acc_g), multiply(one_minus_rho, square(g))))
        delta = negative(divide(multiply(sqrt(add(acc_d, eps)), g), sqrt(add(acc_g, eps))))
        acc_d.assign(add(multiply(rho, acc_d), multiply(one_minus_rho, square(delta))))
        variable.assign_add(multiply(lr, delta))

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Ftrl(Optimizer):
    """Follow The Regularized Leader (McMahan et al., 2013) as Keras 3 writes it: per weight an accumulator of
    squared gradients (from `initial_accumulator_value`) and a linear term; L1 (`l1_regularization_strength`) zeroes
    weights whose linear term stays within it."""

    def __init__(self, learning_rate: Any = 0.001, learning_rate_power: float = -0.5,
                 initial_accumulator_value: float = 0.1, l1_regularization_strength: float = 0.0,
                 l2_regularization_strength: float = 0.0, l2_shrinkage_regularization_strength: float = 0.0,
                 beta: float = 0.0, name: str = "ftrl", **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, name=name, **_base_kwargs(kwargs), **kwargs)
        checks = (("initial_accumulator_value", initial_accumulator_value),
                  ("l1_regularization_strength", l1_regularization_strength),
                  ("l2_regularization_strength", l2_regularization_strength),
                  ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength))
        for what, value in checks:
            if value < 0.0:
                raise ValueError(f"`{what}` needs to be positive or zero. Received: {what}={value}.")
        if learning_rate_power > 0.0:
            raise ValueError(f"`learning_rate_power` needs to be negative or zero. Received: "
                             f"learning_rate_power={learning_rate_power}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def _slot_names(self) -> tuple[str, ...]:
        return ("accumulator", "linear")

    def _get_slot(self, variable: Variable, name: str, fill: Optional[float] = None) -> Variable:
        return super()._get_slot(variable, name, self.initial_accumulator_value if name == "accumulator" else None)

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Any) -> None:
        dt = variable.dtype
        lr, g = cast(learning_rate, dt), cast(gradient, dt)
        accum, linear = self._get_slot(variable, "accumulator"), self._get_slot(variable, "linear")
        power = _scalar(-self.learning_rate_power, dt)
        l2 = add(_scalar(self.l2_regularization_strength, dt), divide(_scalar(self.beta, dt), multiply(lr, 2.0)))
        g_shrunk = add(g, multiply(_scalar(2 * self.l2_shrinkage_regularization_strength, dt), variable))
        new_accum = add(accum, square(g))
        linear.assign_add(subtract(g_shrunk, multiply(divide(subtract(pow(new_accum, power), pow(accum, power)), lr),
                                                      variable)))
        quadratic = add(divide(pow(new_accum, power), lr), multiply(l2, 2.0))
        l1 = self.l1_regularization_strength
        clipped = clip_by_value(linear, _scalar(-l1, dt), _scalar(l1, dt))
        variable.assign(divide(subtract(clipped, linear), quadratic))
        accum.assign(new_accum)

    def get_config(self) -> dict:
        return {**super().get_config(), "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta}
