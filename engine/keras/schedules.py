"""`engine.keras.optimizers.schedules`: learning rates that change with the optimizer's step, as in Keras 3.

Owns `LearningRateSchedule` (the base an optimizer recognizes: it calls a schedule with its `iterations`) and three
common schedules, each written with public ops so a traced training step computes the rate from the step Variable.
Assumes nothing from the optimizers themselves.
"""
from __future__ import annotations

from typing import Any, Sequence

from engine.convert import convert_to_tensor
from engine.ops import add, cast, divide, floor, greater, multiply, pow, where
from engine.tensor import Tensor

__all__ = ["LearningRateSchedule", "ExponentialDecay", "InverseTimeDecay", "PiecewiseConstantDecay"]


class LearningRateSchedule:
    """A learning rate as a function of the optimizer step; subclasses define `__call__(step)` and `get_config()`."""

    def __call__(self, step: Any) -> Tensor:
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`.")

    def get_config(self) -> dict:
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must override `get_config()`.")

    @classmethod
    def from_config(cls, config: dict) -> "LearningRateSchedule":
        return cls(**config)


def _decay_steps(decay_steps: Any) -> Any:
    if decay_steps <= 0:
        raise ValueError(f"Argument `decay_steps` must be > 0. Received: decay_steps={decay_steps}")
    return decay_steps


class ExponentialDecay(LearningRateSchedule):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)`, the exponent floored when `staircase`.

    >>> import engine as tf
    >>> s = tf.keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    >>> round(float(s(20)), 6)
    0.025
    """

    def __init__(self, initial_learning_rate: Any, decay_steps: Any, decay_rate: Any, staircase: bool = False,
                 name: str = "ExponentialDecay") -> None:
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _decay_steps(decay_steps)
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step: Any) -> Tensor:
        lr, p = _decay_progress(self, step)
        return multiply(lr, pow(convert_to_tensor(self.decay_rate, dtype=lr.dtype), p))

    def get_config(self) -> dict:
        return _decay_config(self)


def _decay_progress(s: Any, step: Any) -> tuple[Tensor, Tensor]:
    """(the initial rate as a tensor, step / decay_steps in its dtype, floored when `staircase`)."""
    lr = convert_to_tensor(s.initial_learning_rate)
    p = divide(cast(step, lr.dtype), convert_to_tensor(s.decay_steps, dtype=lr.dtype))
    return lr, floor(p) if s.staircase else p


def _decay_config(s: Any) -> dict:
    return {"initial_learning_rate": s.initial_learning_rate, "decay_steps": s.decay_steps,
            "decay_rate": s.decay_rate, "staircase": s.staircase, "name": s.name}


class InverseTimeDecay(LearningRateSchedule):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)`, the ratio floored when `staircase`."""

    def __init__(self, initial_learning_rate: Any, decay_steps: Any, decay_rate: Any, staircase: bool = False,
                 name: str = "InverseTimeDecay") -> None:
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _decay_steps(decay_steps)
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step: Any) -> Tensor:
        lr, p = _decay_progress(self, step)
        dt = lr.dtype
        return divide(lr, add(convert_to_tensor(1, dtype=dt), multiply(convert_to_tensor(self.decay_rate, dtype=dt), p)))

    def get_config(self) -> dict:
        return _decay_config(self)


class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[0]` while step <= boundaries[0], `values[i]` while boundaries[i-1] < step <= boundaries[i], then
    `values[-1]`.

    >>> import engine as tf
    >>> s = tf.keras.optimizers.schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    >>> [float(s(k)) for k in (10, 11, 21)]
    [1.0, 0.5, 0.10000000149011612]
    """

    def __init__(self, boundaries: Sequence[Any], values: Sequence[Any], name: str = "PiecewiseConstant") -> None:
        if len(boundaries) != len(values) - 1:
            raise ValueError("The length of boundaries should be 1 less than the length of values. Received: "
                             f"boundaries={boundaries} of length {len(boundaries)}, and values={values} of length "
                             f"{len(values)}.")
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step: Any) -> Tensor:
        out = convert_to_tensor(self.values[0])
        dt = out.dtype
        step_t = convert_to_tensor(step)
        for boundary, value in zip(self.boundaries, self.values[1:]):
            # Boundaries increase, so the last boundary the step has passed decides the value.
            passed = greater(step_t, cast(convert_to_tensor(boundary), step_t.dtype))
            out = where(passed, convert_to_tensor(value, dtype=dt), out)
        return out

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}
