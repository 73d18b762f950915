"""`keras.layers.RNN(cell)` and the recurrent layers built on it: `SimpleRNN`, `LSTM`, `GRU`, with Keras 3's
arguments (`return_sequences`, `return_state`, `go_backwards`, `unroll`, `zero_output_for_mask`), masks
(`Embedding(mask_zero=True)`, `Masking`), `initial_state`, dropout and configs. `stateful=True` is not supported:
Kiln's layers keep no state between calls outside Variables, and a batch-carried state is not built yet.

The time loop is `engine.keras.layers.recurrent_loop`'s; a cell runs whole at each step.
"""
from __future__ import annotations

from typing import Any, Optional

from engine.keras.layers.base import Layer
from engine.keras.registry import deserialize, serialize
from engine.keras.layers.recurrent_cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells, flat_sizes
from engine.keras.layers.recurrent_loop import rnn, zeros_state
from engine.nn import dropout as _dropout
from engine.ops import multiply, ones_like, shape, stack

__all__ = ["RNN", "SimpleRNN", "LSTM", "GRU"]

_RNN_ARGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll", "zero_output_for_mask")


def _sizes(cell: Any) -> list[int]:
    return flat_sizes(cell.state_size)


class RNN(Layer):
    """Runs `cell` over the time axis of [batch, time, features] inputs.

    >>> import engine as tf
    >>> layer = tf.keras.layers.RNN(tf.keras.layers.SimpleRNNCell(2, kernel_initializer="ones",
    ...                             recurrent_initializer="zeros"), return_sequences=True)
    >>> layer(tf.ones([1, 3, 2])).shape
    TensorShape([1, 3, 2])
    """

    def __init__(self, cell: Any, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if stateful:
            raise NotImplementedError("RNN: stateful=True is not supported by Kiln (states are not carried from "
                                      "batch to batch); use initial_state= and return_state=True")
        if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
            raise ValueError(f"Argument `cell` should have a `call` method and a `state_size` attribute. "
                             f"Received: cell={cell!r}")
        self.cell = cell
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.stateful, self.unroll = bool(go_backwards), False, bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True

    def build(self, input_shape: Any) -> None:
        if not self.cell.built:
            self.cell.build((input_shape[0],) + tuple(input_shape[2:]))
            self.cell.built = True
        self.built = True

    @property
    def _output_size(self) -> int:
        return int(getattr(self.cell, "output_size", None) or _sizes(self.cell)[0])

    def _initial_states(self, inputs: Any) -> list:
        dtype = self.compute_dtype
        make = getattr(self.cell, "get_initial_state", None)
        if make is not None:
            batch = inputs.shape[0] if inputs.shape[0] is not None else shape(inputs)[0]
            states = make(batch_size=batch)
            return list(states) if isinstance(states, (list, tuple)) else [states]
        return [zeros_state(inputs, s, dtype) for s in _sizes(self.cell)]

    def _step(self, inputs: Any, states: list, training: Optional[bool]) -> tuple[Any, Any]:
        """The loop's inputs and step: a built-in cell's projected inputs and `recur`, or the cell's `call`."""
        cell = self.cell
        rate = getattr(cell, "dropout", 0.0)
        if training and 0.0 < rate < 1.0:
            batch = inputs.shape[0] if inputs.shape[0] is not None else shape(inputs)[0]
            noise = stack([batch, 1, inputs.shape[-1]]) if inputs.shape[0] is None else [batch, 1, inputs.shape[-1]]
            inputs = _dropout(inputs, rate=rate, noise_shape=noise, seed=getattr(cell, "seed", None))
        recurrent_rate = getattr(cell, "recurrent_dropout", 0.0) if getattr(cell, "drops_recurrent", True) else 0.0
        keep = _dropout(ones_like(states[0]), rate=recurrent_rate, seed=getattr(cell, "seed", None)) \
            if training and 0.0 < recurrent_rate < 1.0 else None

        def drop(states: list) -> list:
            return states if keep is None else [multiply(states[0], keep)] + list(states[1:])

        if hasattr(cell, "project") and hasattr(cell, "recur"):
            # The input projection stays inside the loop: hoisted out as one [batch * time] product, its
            # cotangent in reverse mode is a [time, batch, gates * units] scatter added up on every trip (the
            # loop reads one row of it), where inside only the inputs' [time, batch, features] is, and only when
            # the inputs need a gradient. LSTM(64), batch 32, 16 features, 100 steps: 412 ms -> 38 ms a gradient.
            return inputs, lambda x, s: cell.recur(cell.project(x), drop(s))
        kwargs = {"training": training} if getattr(cell, "_call_accepts_training", False) else {}

        def step(x: Any, s: list) -> tuple[Any, Any]:
            out, new = cell.call(x, list(s), **kwargs)
            return out, (list(new) if isinstance(new, (list, tuple)) else [new])
        return inputs, step

    def call(self, sequences: Any, initial_state: Any = None, mask: Any = None,
             training: Optional[bool] = None) -> Any:
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if initial_state is None:
            states = self._initial_states(sequences)
        else:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        steps_in, step = self._step(sequences, states, training)
        last, seq, states = rnn(step, steps_in, states, self._output_size, mask=mask,
                                go_backwards=self.go_backwards, unroll=self.unroll,
                                return_sequences=self.return_sequences,
                                zero_output_for_mask=self.zero_output_for_mask)
        output = seq if self.return_sequences else last
        if not self.return_state:
            return output
        nest_states = getattr(self.cell, "nest_states", None)
        return (output, *(nest_states(states) if nest_states is not None else states))

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        return [out] + [None] * len(_sizes(self.cell)) if self.return_state else out

    def compute_output_shape(self, input_shape: Any) -> Any:
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (tuple, list)):
            input_shape = input_shape[0]
        batch, units = input_shape[0], self._output_size
        out = (batch, input_shape[1], units) if self.return_sequences else (batch, units)
        return [out] + [(batch, s) for s in _sizes(self.cell)] if self.return_state else out

    def get_config(self) -> dict:
        return {**super().get_config(), **{k: getattr(self, k) for k in _RNN_ARGS}, "cell": serialize(self.cell)}

    @classmethod
    def from_config(cls, config: dict) -> "RNN":
        config = dict(config)
        return cls(deserialize(config.pop("cell")), **config)


class _CellRNN(RNN):
    """A recurrent layer whose cell is made from the layer's own arguments (Keras's config is flat)."""
    cell_class: type = SimpleRNNCell

    def __init__(self, units: int, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, **kwargs: Any) -> None:
        layer_keys = ("name", "trainable", "dtype", "input_shape", "batch_input_shape", "input_dim", "batch_size",
                      "autocast", "input_dtype", "dynamic")
        layer_kwargs = {k: kwargs.pop(k) for k in layer_keys if k in kwargs}
        for ignored in ("time_major", "activity_regularizer", "use_cudnn"):  # no cuDNN on a CPU engine
            kwargs.pop(ignored, None)
        cell = self.cell_class(units, dtype=layer_kwargs.get("dtype"), trainable=layer_kwargs.get("trainable", True),
                               **kwargs)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         zero_output_for_mask=zero_output_for_mask, **layer_kwargs)

    def __getattr__(self, key: str) -> Any:
        if key in ("units", "activation", "recurrent_activation", "use_bias", "unit_forget_bias", "reset_after",
                   "dropout", "recurrent_dropout", "kernel_initializer", "recurrent_initializer",
                   "bias_initializer"):
            cell = self.__dict__.get("cell")
            if cell is not None:
                return getattr(cell, key)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {key!r}")

    def get_config(self) -> dict:
        cell = self.cell.get_config()
        for k in ("name", "trainable", "dtype"):
            cell.pop(k, None)
        return {**Layer.get_config(self), **{k: getattr(self, k) for k in _RNN_ARGS}, **cell}

    @classmethod
    def from_config(cls, config: dict) -> "RNN":
        return cls(**config)


class SimpleRNN(_CellRNN):
    """Fully connected RNN: h_t = tanh(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)."""
    cell_class = SimpleRNNCell


class LSTM(_CellRNN):
    """Long short-term memory (Hochreiter 1997), Keras's weight layout (gates i, f, c, o)."""
    cell_class = LSTMCell


class GRU(_CellRNN):
    """Gated recurrent unit (Cho et al. 2014), `reset_after=True` by default as in Keras 3 (gates z, r, h)."""
    cell_class = GRUCell
