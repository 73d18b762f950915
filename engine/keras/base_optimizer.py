"""The optimizer base class (Keras 3's `BaseOptimizer`): state, the apply pipeline, clipping and weight decay.

Owns an optimizer's state (the int64 step counter `iterations`, the learning rate, one set of slot Variables per
trained Variable) and the steps every update goes through: skip None gradients, cast, unscale, clip, decay, then
the subclass's `update_step`, then `iterations += 1`. Every update is written with public ops and `Variable.assign*`,
so a training step traced by `engine.function` emits the updates as IR ops. The concrete optimizers live in
`engine.optimizers`.

Follows Keras 3 (`apply_gradients`, `apply`, `update_step(gradient, variable, learning_rate)`, errors and their
messages) with two relaxations kept for TF 2 programs: slots are created lazily for each new Variable (Keras 3 refuses
variables it was not built with), and integer or scalar-tensor learning rates are accepted. `minimize` and
`compute_gradients` are tf.keras 2's.
"""
from __future__ import annotations

import numbers
import re
import warnings
from typing import Any, Optional, Sequence

import numpy as np

from engine import nest
from engine.convert import convert_to_tensor
from engine.gradient_tape import GradientTape
from engine.keras import schedules
from engine.keras.schedules import LearningRateSchedule
from engine.ops import (add, add_n, cast, clip_by_value, divide, greater, maximum, minimum, multiply, ones_like,
                        reduce_sum, sqrt, square, subtract, where)
from engine.tensor import Tensor
from engine.variables import Variable
from ir.types import DType, as_dtype, float32, float64, int64

__all__ = ["Optimizer"]


def _scalar(value: Any, dtype: DType) -> Tensor:
    """A hyperparameter (Python number, tensor or Variable) as a scalar of the variable's dtype."""
    if isinstance(value, (Tensor, Variable)):
        return cast(value, dtype)
    return convert_to_tensor(float(value), dtype=dtype)


def _resolve(value: Any) -> Any:
    """Keras lets hyperparameters be callables that return the value to use now (tensors are not callable)."""
    return value() if callable(value) else value


def _number(what: str, value: Any) -> float:
    if isinstance(value, (Tensor, Variable)) and value.shape == ():
        return float(value.numpy())
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return float(value)
    raise ValueError(f"Argument `{what}` should be float, or an instance of LearningRateSchedule, or a callable "
                     f"(that takes in the current iteration value and returns the corresponding learning rate "
                     f"value). Received instead: {what}={value!r}")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Optimizer:
    """The base of Kiln's optimizers, with Keras 3's interface.

    Subclasses define `update_step(gradient, variable, learning_rate)` and name the slots they keep per variable in
    `_slot_names()`; `self._get_slot(variable, name)` returns (and on first use creates) a zero-initialized slot.
    """

    def __init__(self, learning_rate: Any, weight_decay: Optional[float] = None, clipnorm: Optional[float] = None,
                 clipvalue: Optional[float] = None, global_clipnorm: Optional[float] = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: Optional[int] = None,
                 loss_scale_factor: Optional[float] = None, gradient_accumulation_steps: Optional[int] = None,
                 name: Optional[str] = None, **kwargs: Any) -> None:
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.")
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if use_ema or gradient_accumulation_steps:
            raise NotImplementedError("use_ema and gradient_accumulation_steps are not supported yet")
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                             f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}")
        self.name = name if name is not None else _snake(type(self).__name__)
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.built = False
        self._variables: list[Variable] = []
        self._trainable_variables: list[Variable] = []
        self._index: dict[int, int] = {}
        self._slots: dict[int, dict[str, Variable]] = {}
        self._iterations = self.add_variable((), dtype=int64, name="iteration")
        self._learning_rate: Any = None
        self._set_learning_rate(learning_rate)

    # ---- state ------------------------------------------------------------------------------------------------------
    @property
    def iterations(self) -> Variable:
        """The number of update steps applied so far (an int64 Variable)."""
        return self._iterations

    @property
    def variables(self) -> list[Variable]:
        """The optimizer's own Variables: iterations, the learning rate (unless a schedule), then the slots."""
        return self._variables[:]

    def add_variable(self, shape: Sequence[int], initializer: Any = "zeros", dtype: Any = None,
                     aggregation: str = "mean", name: Optional[str] = None) -> Variable:
        """A non-trainable Variable the optimizer owns (listed in `variables`); `aggregation` is Keras's, unused."""
        dt = float32 if dtype is None else as_dtype(dtype)
        shape = tuple(int(d) for d in shape)
        if initializer == "zeros":
            value: Any = np.zeros(shape, dtype=dt.np)
        elif initializer == "ones":
            value = np.ones(shape, dtype=dt.np)
        elif callable(initializer):
            value = initializer(shape, dt)
        else:
            raise ValueError(f"add_variable: unknown initializer {initializer!r} (use 'zeros', 'ones' or a callable)")
        variable = Variable(value, dtype=dt, trainable=False, name=name)
        self._variables.append(variable)
        return variable

    def add_variable_from_reference(self, reference_variable: Variable, name: Optional[str] = None,
                                    initializer: Any = "zeros") -> Variable:
        """An all-zeros (by default) Variable with the shape and dtype of `reference_variable`."""
        base = str(reference_variable.name).split(":")[0].replace("/", "_")
        return self.add_variable(tuple(reference_variable.shape), initializer, reference_variable.dtype,
                                 name=f"{base}_{name or 'var'}")

    def _var_key(self, variable: Variable) -> int:
        return id(variable)

    def _slot_names(self) -> tuple[str, ...]:
        return ()

    def build(self, var_list: Sequence[Variable]) -> None:
        """Registers variables not seen before and creates their slots (slot by slot, as Keras orders them)."""
        new: list[Variable] = []
        for v in var_list:
            if self._var_key(v) not in self._index and all(v is not n for n in new):
                new.append(v)
        for v in new:
            self._index[self._var_key(v)] = len(self._trainable_variables)
            self._trainable_variables.append(v)  # also keeps v alive, so its id stays its own
        for slot in self._slot_names():
            for v in new:
                self._get_slot(v, slot)
        self.built = True

    def _get_variable_index(self, variable: Variable) -> int:
        try:
            return self._index[self._var_key(variable)]
        except KeyError:
            raise ValueError(f"Unknown variable: {variable}. This optimizer has not seen it; pass it to "
                             f"apply_gradients or build first.") from None

    def _get_slot(self, variable: Variable, name: str, fill: Optional[float] = None) -> Variable:
        """`variable`'s slot `name`, made on first use: zeros like it, or `fill` everywhere (Adagrad's and Ftrl's
        initial accumulator)."""
        slots = self._slots.setdefault(self._var_key(variable), {})
        if name not in slots:
            if fill is None:
                slots[name] = self.add_variable_from_reference(variable, name)
            else:
                value = np.full(tuple(variable.shape), fill, variable.dtype.np)
                slots[name] = self.add_variable(tuple(variable.shape), lambda shape, dt: value, variable.dtype,
                                                name=f"{variable.name.split(':')[0]}_{name}")
        return slots[name]

    # ---- the learning rate ------------------------------------------------------------------------------------------
    @property
    def learning_rate(self) -> Any:
        """The rate for the next step: the learning-rate Variable, or the schedule's value at `iterations`."""
        return self._get_current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, learning_rate: Any) -> None:
        if isinstance(self._learning_rate, LearningRateSchedule) and not callable(learning_rate):
            raise TypeError("This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` "
                            "constructor argument, hence its learning rate is not settable. If you need the learning "
                            "rate to be settable, you should instantiate the optimizer with a float `learning_rate` "
                            "argument.")
        self._set_learning_rate(learning_rate)

    def _set_learning_rate(self, learning_rate: Any) -> None:
        previous = self._learning_rate
        if callable(learning_rate):  # a schedule, or any function of no arguments
            self._learning_rate = learning_rate
            if isinstance(previous, Variable):  # by identity: == on tensors is elementwise (and dtype-checked)
                self._variables = [v for v in self._variables if v is not previous]
        elif isinstance(previous, Variable):
            previous.assign(np.float32(_number("learning_rate", learning_rate)))
        else:
            value = np.float32(_number("learning_rate", learning_rate))
            self._learning_rate = self.add_variable((), lambda shape, dt: value, float32, name="learning_rate")

    def _get_current_learning_rate(self) -> Any:
        if isinstance(self._learning_rate, LearningRateSchedule):
            return self._learning_rate(self._iterations)
        if callable(self._learning_rate):
            return self._learning_rate()
        return self._learning_rate

    # ---- applying gradients -----------------------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars: Any) -> Variable:
        """Applies one update step from (gradient, variable) pairs; None gradients are skipped. Returns `iterations`."""
        pairs = list(grads_and_vars)
        for p in pairs:
            if not isinstance(p, (tuple, list)) or len(p) != 2:
                raise ValueError(f"apply_gradients expects (gradient, variable) pairs, got {p!r}")
        if not pairs:
            raise ValueError("No gradients provided for any variable: apply_gradients got no (gradient, variable) "
                             "pairs.")
        grads, variables = zip(*pairs)
        self.apply(list(grads), list(variables))
        return self._iterations

    def apply(self, grads: Sequence[Any], trainable_variables: Optional[Sequence[Variable]] = None) -> None:
        """Applies one update step: gradients in the order of `trainable_variables` (or of the built variables)."""
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError("When passing `grads` without `variables`, the optimizer must already be built on "
                                 "a list of variables. Call `optimizer.build(trainable_variables)` first. ")
            variables = self._trainable_variables[:]
        else:
            variables = list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(f"apply: got {len(grads)} gradients for {len(variables)} variables")
        for v in variables:
            if not isinstance(v, Variable):
                raise TypeError(f"optimizers update Variables, got {type(v).__name__}: {v!r}")
        if any(self._var_key(v) not in self._index for v in variables):
            self.build(variables)
        grads, variables = self._filter_empty_gradients(grads, variables)
        grads = [self._as_gradient(g, v) for g, v in zip(grads, variables)]
        if self.loss_scale_factor is not None:
            grads = [divide(g, _scalar(self.loss_scale_factor, g.dtype)) for g in grads]
        grads = self._clip_gradients(grads)
        self._apply_weight_decay(variables)
        learning_rate = self.learning_rate
        self._before_updates(variables)
        for g, v in zip(grads, variables):
            self.update_step(g, v, learning_rate)
        self._iterations.assign_add(np.int64(1))
        for v in variables:  # weight constraints project the updated values, as Keras 3's `apply` does
            if v.constraint is not None:
                v.assign(v.constraint(v))

    def _before_updates(self, variables: list[Variable]) -> None:
        """Once per step, before the per-variable updates (Nadam advances its momentum schedule here)."""

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define update_step(gradient, variable, learning_rate)")

    def _filter_empty_gradients(self, grads: list, variables: list) -> tuple[list, list]:
        kept = [(g, v) for g, v in zip(grads, variables) if g is not None]
        if not kept:
            raise ValueError("No gradients provided for any variable. Variables: "
                             f"{[v.name for v in variables]}")
        missing = [v.name for g, v in zip(grads, variables) if g is None]
        if missing:
            warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the loss. If using "
                          "`model.compile()`, did you forget to provide a `loss` argument?")
        return [g for g, _ in kept], [v for _, v in kept]

    def _as_gradient(self, g: Any, v: Variable) -> Tensor:
        if not v.dtype.is_floating:
            raise TypeError(f"cannot apply a gradient to the {v.dtype.name} Variable {v.name!r}: only float "
                            f"Variables are trained")
        t = g if isinstance(g, Tensor) else convert_to_tensor(g)
        if tuple(t.shape) != tuple(v.shape):
            raise ValueError(f"the gradient for Variable {v.name!r} has shape {tuple(t.shape)}, but the Variable has "
                             f"shape {tuple(v.shape)}")
        if not (t.dtype.is_floating or t.dtype.is_integer):
            raise TypeError(f"the gradient for Variable {v.name!r} has dtype {t.dtype.name}")
        return cast(t, v.dtype)

    def _clip_gradients(self, grads: list[Tensor]) -> list[Tensor]:
        if self.clipnorm and self.clipnorm > 0:
            return [self._clip_by_norm(g, self.clipnorm) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            return _clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue and self.clipvalue > 0:
            return [clip_by_value(g, _scalar(-self.clipvalue, g.dtype), _scalar(self.clipvalue, g.dtype))
                    for g in grads]
        return grads

    @staticmethod
    def _clip_by_norm(g: Tensor, clipnorm: float) -> Tensor:
        l2sum = reduce_sum(square(g))
        positive = greater(l2sum, _scalar(0, g.dtype))
        # Two-sided where keeps sqrt away from 0, whose gradient is inf.
        l2norm = where(positive, sqrt(where(positive, l2sum, ones_like(l2sum))), l2sum)
        c = _scalar(clipnorm, g.dtype)
        return divide(multiply(g, c), maximum(l2norm, c))

    def _apply_weight_decay(self, variables: list[Variable]) -> None:
        if self.weight_decay is None:
            return
        for v in variables:
            lr = cast(self.learning_rate, v.dtype)
            v.assign(subtract(v, multiply(multiply(v, _scalar(self.weight_decay, v.dtype)), lr)))

    # ---- tf.keras 2's conveniences ----------------------------------------------------------------------------------
    def compute_gradients(self, loss: Any, var_list: Any, tape: Optional[GradientTape] = None) -> list[tuple]:
        """(gradient, variable) pairs of `loss`: a zero-argument callable, or a tensor recorded on `tape`."""
        if not callable(loss) and tape is None:
            raise ValueError(f"`tape` is required when a `Tensor` loss is passed. Received: loss={loss}, tape={tape}.")
        if tape is None:
            tape = GradientTape()
        if callable(loss):
            with tape:
                if not callable(var_list):
                    tape.watch(var_list)
                loss = loss()
                if callable(var_list):
                    var_list = var_list()
        elif callable(var_list):
            var_list = var_list()
        var_list = nest.flatten(var_list)
        grads = tape.gradient(loss, var_list)
        return list(zip(grads, var_list))

    def minimize(self, loss: Any, var_list: Any, tape: Optional[GradientTape] = None) -> Variable:
        """One step on `loss` (a zero-argument callable, or a tensor with the `tape` that recorded it)."""
        return self.apply_gradients(self.compute_gradients(loss, var_list, tape))

    def get_config(self) -> dict:
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            lr = {"class_name": type(lr).__name__, "config": lr.get_config()}
        elif isinstance(lr, Variable):
            lr = float(lr.numpy())
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
                "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency,
                "loss_scale_factor": self.loss_scale_factor,
                "gradient_accumulation_steps": self.gradient_accumulation_steps}

    @classmethod
    def from_config(cls, config: dict, custom_objects: Any = None) -> "Optimizer":
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            config["learning_rate"] = getattr(schedules, lr["class_name"]).from_config(lr["config"])
        return cls(**config)


def _clip_by_global_norm(grads: list[Tensor], clip_norm: float) -> list[Tensor]:
    # The norm accumulates in float64 so gradients of different dtypes share one norm.
    norm = sqrt(add_n([cast(reduce_sum(square(g)), float64) for g in grads]))
    one = _scalar(1, float64)
    c = _scalar(clip_norm, float64)
    # A non-finite norm makes the scale NaN (as Keras), instead of silently passing the gradients through.
    scale = add(multiply(c, minimum(divide(one, norm), divide(one, c))), subtract(norm, norm))
    return [multiply(g, cast(scale, g.dtype)) for g in grads]
