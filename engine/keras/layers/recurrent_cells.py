"""`SimpleRNNCell`, `LSTMCell`, `GRUCell`: one time step of Keras 3's recurrent layers, with its weight layout
(kernel [input, gates * units], recurrent_kernel [units, gates * units], gate order i, f, c, o for LSTM and z, r, h
for GRU; GRU's `reset_after=True` bias is [2, 3 * units]), so weights set from TensorFlow give its outputs.

Besides Keras's `call(inputs, states)`, each cell splits its step in two: `project(x)`, the input's contribution
(x @ kernel + bias), which does not depend on the states, and `recur(projected, states)`, the rest (see
`RNN._step` for why the projection is not hoisted out of the time loop).
"""
from __future__ import annotations

from typing import Any, Optional

from engine.keras import activations, initializers
from engine.keras.layers.base import Layer
from engine.ops import add, matmul, multiply, reshape, split, subtract

__all__ = ["SimpleRNNCell", "LSTMCell", "GRUCell"]


def _dense(x: Any, kernel: Any) -> Any:
    """x @ kernel over x's last axis, for [batch, in] and [batch, time, in] alike."""
    if len(x.shape) == 2:
        return matmul(x, kernel)
    lead = [-1 if d is None else d for d in x.shape[:-1]]
    return reshape(matmul(reshape(x, [-1, x.shape[-1]]), kernel), lead + [kernel.shape[-1]])


class _Cell(Layer):
    gates = 1

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", recurrent_initializer: Any = "orthogonal",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, kernel_constraint: Any = None, recurrent_constraint: Any = None,
                 bias_constraint: Any = None, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 seed: Optional[int] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if int(units) <= 0:
            raise ValueError(f"Received an invalid value for argument `units`, expected a positive integer, got "
                             f"{units}.")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer, self.recurrent_regularizer = kernel_regularizer, recurrent_regularizer
        self.bias_regularizer = bias_regularizer
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed

    @property
    def state_size(self) -> Any:
        return self.units

    @property
    def output_size(self) -> int:
        return self.units

    def _bias_value(self, shape: tuple, dtype: Any) -> Any:
        return self.bias_initializer(shape, dtype)

    def build(self, input_shape: Any) -> None:
        n = self.gates * self.units
        self.kernel = self.add_weight(shape=(input_shape[-1], n), initializer=self.kernel_initializer,
                                      name="kernel", regularizer=self.kernel_regularizer)
        self.recurrent_kernel = self.add_weight(shape=(self.units, n), initializer=self.recurrent_initializer,
                                                name="recurrent_kernel", regularizer=self.recurrent_regularizer)
        self.bias = self.add_weight(shape=self._bias_shape(), initializer=self._bias_value, name="bias",
                                    regularizer=self.bias_regularizer) if self.use_bias else None
        self.built = True

    def _bias_shape(self) -> tuple:
        return (self.gates * self.units,)

    def project(self, x: Any) -> Any:
        y = _dense(x, self.read(self.kernel))
        if self.bias is not None:
            y = add(y, self._input_bias())
        return y

    def _input_bias(self) -> Any:
        return self.read(self.bias)

    def call(self, inputs: Any, states: Any, training: Optional[bool] = None) -> tuple[Any, Any]:
        listed = isinstance(states, (list, tuple))
        out, new = self.recur(self.project(inputs), list(states) if listed else [states])
        return out, (new if listed else new[0])

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout, "seed": self.seed}


class SimpleRNNCell(_Cell):
    """h = activation(x @ kernel + bias + h_prev @ recurrent_kernel); the output is h."""

    def recur(self, projected: Any, states: list) -> tuple[Any, list]:
        h = self.activation(add(projected, matmul(states[0], self.read(self.recurrent_kernel))))
        return h, [h]


class LSTMCell(_Cell):
    """Gates i, f, c, o from x @ kernel + h @ recurrent_kernel + bias; c = f * c_prev + i * activation(c~),
    h = o * activation(c). `unit_forget_bias` starts the forget gate's bias at one."""
    gates = 4

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 unit_forget_bias: bool = True, implementation: int = 2, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.implementation = implementation

    @property
    def state_size(self) -> Any:
        return [self.units, self.units]

    def _bias_value(self, shape: tuple, dtype: Any) -> Any:
        if not self.unit_forget_bias:
            return self.bias_initializer(shape, dtype)
        import numpy as np
        u = self.units
        return np.concatenate([np.asarray(self.bias_initializer((u,), dtype)), np.ones((u,), dtype=np.dtype(
            getattr(dtype, "np", dtype))), np.asarray(self.bias_initializer((2 * u,), dtype))])

    def recur(self, projected: Any, states: list) -> tuple[Any, list]:
        h_prev, c_prev = states
        z = add(projected, matmul(h_prev, self.read(self.recurrent_kernel)))
        zi, zf, zc, zo = split(z, 4, axis=-1)
        i, f, o = self.recurrent_activation(zi), self.recurrent_activation(zf), self.recurrent_activation(zo)
        c = add(multiply(f, c_prev), multiply(i, self.activation(zc)))
        h = multiply(o, self.activation(c))
        return h, [h, c]

    def get_config(self) -> dict:
        return {**super().get_config(), "recurrent_activation": activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}


class GRUCell(_Cell):
    """Gates z (update), r (reset) and the candidate h~; h = z * h_prev + (1 - z) * h~. With `reset_after`
    (Keras's default, cuDNN's form) r multiplies h_prev @ recurrent_kernel + recurrent bias; without it, h_prev
    before the product."""
    gates = 3

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 reset_after: bool = True, implementation: int = 2, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)
        self.implementation = implementation

    @property
    def drops_recurrent(self) -> bool:
        """Keras 3's GRUCell applies `recurrent_dropout` only in its implementation 1 (the default is 2)."""
        return self.implementation == 1

    def _bias_shape(self) -> tuple:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _input_bias(self) -> Any:
        b = self.read(self.bias)
        return b[0] if self.reset_after else b

    def recur(self, projected: Any, states: list) -> tuple[Any, list]:
        h_prev = states[0]
        u = self.units
        x_z, x_r, x_h = split(projected, 3, axis=-1)
        rk = self.read(self.recurrent_kernel)
        if self.reset_after:
            inner = matmul(h_prev, rk)
            if self.bias is not None:
                inner = add(inner, self.read(self.bias)[1])
            r_z, r_r, r_h = split(inner, 3, axis=-1)
            z = self.recurrent_activation(add(x_z, r_z))
            r = self.recurrent_activation(add(x_r, r_r))
            hh = self.activation(add(x_h, multiply(r, r_h)))
        else:
            zr = matmul(h_prev, rk[:, :2 * u])
            r_z, r_r = split(zr, 2, axis=-1)
            z = self.recurrent_activation(add(x_z, r_z))
            r = self.recurrent_activation(add(x_r, r_r))
            hh = self.activation(add(x_h, matmul(multiply(r, h_prev), rk[:, 2 * u:])))
        h = add(multiply(z, h_prev), multiply(subtract(1.0, z), hh))
        return h, [h]

    def get_config(self) -> dict:
        return {**super().get_config(), "recurrent_activation": activations.serialize(self.recurrent_activation),
                "reset_after": self.reset_after}


def flat_sizes(state_size: Any) -> list[int]:
    """A cell's state sizes as a flat list (a stack of cells nests one list per cell)."""
    if isinstance(state_size, (list, tuple)):
        return [s for part in state_size for s in flat_sizes(part)]
    return [int(state_size)]


class StackedRNNCells(Layer):
    """Cells run one after another at each time step, each on the previous one's output; the states are every
    cell's, in order (`RNN([cell, cell])` builds one)."""

    def __init__(self, cells: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for cell in cells:
            if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
                raise ValueError(f"All cells must have a `call` method and a `state_size` attribute. "
                                 f"Received cells={cells}")
        self.cells = list(cells)

    @property
    def state_size(self) -> list:
        return [c.state_size for c in self.cells]

    @property
    def output_size(self) -> int:
        last = self.cells[-1]
        return int(getattr(last, "output_size", None) or flat_sizes(last.state_size)[0])

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        for cell in self.cells:
            if not cell.built:
                cell.build(shape)
                cell.built = True
            size = getattr(cell, "output_size", None) or flat_sizes(cell.state_size)[0]
            shape = shape[:-1] + (int(size),)
        self.built = True

    def nest_states(self, states: list) -> list:
        """The flat states regrouped per cell, as Keras returns them."""
        out, k = [], 0
        for cell in self.cells:
            n = len(flat_sizes(cell.state_size))
            out.append(list(states[k:k + n]))
            k += n
        return out

    def call(self, inputs: Any, states: Any, training: Optional[bool] = None) -> tuple[Any, list]:
        x, new = inputs, []
        for cell, own in zip(self.cells, self.nest_states(list(states))):
            kwargs = {"training": training} if getattr(cell, "_call_accepts_training", False) else {}
            x, s = cell.call(x, own, **kwargs)
            new += list(s) if isinstance(s, (list, tuple)) else [s]
        return x, new

    def get_config(self) -> dict:
        from engine.keras.registry import serialize
        return {**super().get_config(), "cells": [serialize(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config: dict) -> "StackedRNNCells":
        from engine.keras.registry import deserialize
        config = dict(config)
        return cls([deserialize(c) for c in config.pop("cells")], **config)
