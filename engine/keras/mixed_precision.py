"""`keras.mixed_precision`: dtype policies and loss scaling.

A policy names the dtype layers compute in and the dtype their Variables are stored in: "float32" (the default),
"mixed_float16" and "mixed_bfloat16" (compute in float16/bfloat16, keep Variables in float32), or any dtype name.
Layers created after `set_global_policy` take the global policy; inputs are cast to the compute dtype and each
Variable is read through a cast (`Layer.read`). Losses are computed in float32, as Keras does. With float16,
`LossScaleOptimizer` multiplies the loss so that small gradients survive, and skips steps whose gradients overflow.
The policies need the float16 and bfloat16 dtypes; where Kiln lacks one, setting its policy raises a clear error.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ir.types import DType, as_dtype

__all__ = ["Policy", "set_global_policy", "global_policy", "LossScaleOptimizer"]


class Policy:
    def __init__(self, name: str) -> None:
        if isinstance(name, Policy):
            name = name.name
        if not isinstance(name, str):
            name = as_dtype(name).name
        if name in ("mixed_float16", "mixed_bfloat16"):
            compute, variable = name.split("_", 1)[1], "float32"
        else:
            compute = variable = name
        try:
            self._compute: DType = as_dtype(compute)
            self._variable: DType = as_dtype(variable)
        except TypeError as exc:
            raise ValueError(f"Cannot convert '{name}' to a mixed precision Policy: this build of Kiln has no "
                             f"{compute} dtype ({exc})") from None
        self.name = name

    @property
    def compute_dtype(self) -> str:
        return self._compute.name

    @property
    def variable_dtype(self) -> str:
        return self._variable.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Policy) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self.name}">'


_GLOBAL = {"policy": Policy("float32")}


def set_global_policy(policy: Any) -> None:
    _GLOBAL["policy"] = policy if isinstance(policy, Policy) else Policy(policy if policy is not None else
                                                                          "float32")


def global_policy() -> Policy:
    return _GLOBAL["policy"]


def policy_of(dtype: Any) -> Policy:
    """A layer's policy from its `dtype` argument (None: the global policy)."""
    if dtype is None:
        return global_policy()
    return dtype if isinstance(dtype, Policy) else Policy(dtype)


class LossScaleOptimizer:
    """Wraps an optimizer: `scale_loss(loss)` before the gradient, and `apply_gradients` unscales, skips the step
    (and halves the scale) when a gradient is not finite, and doubles the scale after `dynamic_growth_steps` good
    steps."""

    def __init__(self, inner_optimizer: Any, dynamic: bool = True, initial_scale: float = 2.0 ** 15,
                 dynamic_growth_steps: int = 2000, **kwargs: Any) -> None:
        from engine.variables import Variable
        self.inner_optimizer = inner_optimizer
        self.dynamic = dynamic
        self.dynamic_growth_steps = dynamic_growth_steps
        self.loss_scale = Variable(np.float32(initial_scale), trainable=False, name="loss_scale")
        self.step_counter = Variable(np.int64(0), trainable=False, name="step_counter")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["inner_optimizer"], name)

    def scale_loss(self, loss: Any) -> Any:
        from engine.ops import cast, multiply
        return multiply(loss, cast(self.loss_scale, loss.dtype))

    get_scaled_loss = scale_loss

    def get_unscaled_gradients(self, grads: Any) -> list:
        from engine.ops import cast, divide
        return [None if g is None else divide(g, cast(self.loss_scale, g.dtype)) for g in grads]

    def apply_gradients(self, grads_and_vars: Any) -> Any:
        """Unscales; with all gradients finite, applies them (and doubles the scale after `dynamic_growth_steps`
        such steps), else skips the step and halves the scale. Written with `cond`, so it compiles."""
        from engine.control_flow import cond
        from engine.ops import greater_equal, is_finite, reduce_all, stack
        pairs = list(grads_and_vars)
        grads = self.get_unscaled_gradients([g for g, _ in pairs])
        variables = [v for _, v in pairs]
        if not self.dynamic:
            return self.inner_optimizer.apply_gradients(zip(grads, variables))
        self.inner_optimizer.build([v for g, v in zip(grads, variables) if g is not None])
        finite = reduce_all(stack([reduce_all(is_finite(g)) for g in grads if g is not None]))

        def good() -> Any:
            self.inner_optimizer.apply_gradients(zip(grads, variables))
            self.step_counter.assign_add(np.int64(1))
            grow = greater_equal(self.step_counter.value(), np.int64(self.dynamic_growth_steps))
            self.loss_scale.assign(self.loss_scale.value() * cond(grow, lambda: np.float32(2.0),
                                                                  lambda: np.float32(1.0)))
            self.step_counter.assign(cond(grow, lambda: np.int64(0), lambda: self.step_counter.value()))
            return finite

        def bad() -> Any:
            self.loss_scale.assign(self.loss_scale.value() * 0.5)
            self.step_counter.assign(np.int64(0))
            return finite
        return cond(finite, good, bad)
