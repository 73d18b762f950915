"""Layers that wrap another layer: `TimeDistributed` (apply it to every time step) and `Bidirectional` (run a
recurrent layer forwards and a copy of it backwards, merge their outputs), as Keras 3 builds them."""
from __future__ import annotations

from typing import Any, Optional

from engine.keras.layers.base import Layer
from engine.keras.registry import deserialize, serialize
from engine.ops import add, concat, multiply, reshape, reverse, shape

__all__ = ["Wrapper", "TimeDistributed", "Bidirectional"]


class Wrapper(Layer):
    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        if not isinstance(layer, Layer):
            raise ValueError(f"Argument `layer` must be a Layer instance. Received: layer={layer!r}")
        super().__init__(**kwargs)
        self.layer = layer

    def get_config(self) -> dict:
        return {**super().get_config(), "layer": serialize(self.layer)}

    @classmethod
    def from_config(cls, config: dict) -> "Wrapper":
        config = dict(config)
        return cls(deserialize(config.pop("layer")), **config)


class TimeDistributed(Wrapper):
    """Applies `layer` to every slice along axis 1 of [batch, time, ...] inputs.

    >>> import engine as tf
    >>> td = tf.keras.layers.TimeDistributed(tf.keras.layers.Dense(2, kernel_initializer="ones"))
    >>> td(tf.ones([3, 4, 5])).shape
    TensorShape([3, 4, 2])
    """

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    def build(self, input_shape: Any) -> None:
        if len(input_shape) < 3:
            raise ValueError(f"`TimeDistributed` Layer should be passed an `input_shape` with at least 3 "
                             f"dimensions, received: {tuple(input_shape)}")
        if not self.layer.built:
            self.layer.build((None,) + tuple(input_shape[2:]))
            self.layer.built = True
        self.built = True

    def call(self, inputs: Any, training: Optional[bool] = None) -> Any:
        steps = inputs.shape[1]
        flat = reshape(inputs, [-1] + list(inputs.shape[2:]))
        y = self.layer(flat, training=training)
        if steps is None:
            return reshape(y, concat([shape(inputs)[:2], shape(y)[1:]], 0))
        return reshape(y, [-1, steps] + list(y.shape[1:]))

    def compute_output_shape(self, input_shape: Any) -> tuple:
        inner = self.layer.compute_output_shape((None,) + tuple(input_shape[2:]))
        return (input_shape[0], input_shape[1]) + tuple(inner[1:])


_MERGES = ("sum", "mul", "ave", "concat", None)


class Bidirectional(Wrapper):
    """Runs `layer` forwards and a copy with `go_backwards` flipped backwards over the sequence; merges the two
    outputs (`merge_mode` concat, sum, mul, ave or None for a list). Its weights are the forward layer's, then the
    backward one's.

    >>> import engine as tf
    >>> bi = tf.keras.layers.Bidirectional(tf.keras.layers.LSTM(3, return_sequences=True))
    >>> bi(tf.ones([2, 5, 4])).shape
    TensorShape([2, 5, 6])
    """

    def __init__(self, layer: Layer, merge_mode: Optional[str] = "concat", weights: Any = None,
                 backward_layer: Optional[Layer] = None, **kwargs: Any) -> None:
        if merge_mode not in _MERGES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of "
                             f"{{'sum', 'mul', 'ave', 'concat', None}}")
        Layer.__init__(self, **kwargs)
        config = serialize(layer)
        config["config"]["name"] = "forward_" + layer.name.removeprefix("forward_")
        self.forward_layer = deserialize(config)
        if backward_layer is None:
            config = serialize(layer)
            config["config"]["go_backwards"] = True
            config["config"]["name"] = "backward_" + layer.name.removeprefix("backward_")
            backward_layer = deserialize(config)
        self.backward_layer = backward_layer
        if self.forward_layer.go_backwards == backward_layer.go_backwards:
            raise ValueError(f"Forward layer and backward layer should have different `go_backwards` value. "
                             f"Received: forward_layer.go_backwards {self.forward_layer.go_backwards}, "
                             f"backward_layer.go_backwards={backward_layer.go_backwards}")
        for sub in (self.forward_layer, backward_layer):  # as Keras: a masked step's outputs are zeros
            if getattr(sub, "zero_output_for_mask", None) is not None:
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences = getattr(layer, "return_sequences", False)
        self.return_state = getattr(layer, "return_state", False)
        self.supports_masking = True
        if weights is not None:
            self._initial_weights = weights

    def build(self, input_shape: Any) -> None:
        for layer in (self.forward_layer, self.backward_layer):
            if not layer.built:
                layer.build(input_shape)
                layer.built = True
        self.built = True
        weights = getattr(self, "_initial_weights", None)
        if weights is not None:
            self.set_weights(weights)
            self._initial_weights = None

    def _merge(self, y: Any, y_rev: Any) -> Any:
        if self.merge_mode == "concat":
            return concat([y, y_rev], -1)
        if self.merge_mode == "sum":
            return add(y, y_rev)
        if self.merge_mode == "ave":
            return multiply(add(y, y_rev), 0.5)
        if self.merge_mode == "mul":
            return multiply(y, y_rev)
        return [y, y_rev]  # merge_mode=None

    def call(self, sequences: Any, initial_state: Any = None, mask: Any = None,
             training: Optional[bool] = None) -> Any:
        kwargs: dict = {"training": training, "mask": mask}
        forward_kwargs, backward_kwargs = dict(kwargs), dict(kwargs)
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_kwargs["initial_state"] = list(initial_state[:half])
            backward_kwargs["initial_state"] = list(initial_state[half:])
        y = self.forward_layer.call(sequences, **forward_kwargs)
        y_rev = self.backward_layer.call(sequences, **backward_kwargs)
        states: list = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = reverse(y_rev, [1])
        output = self._merge(y, y_rev)
        if self.return_state:
            return (*(output if isinstance(output, list) else [output]), *states)
        return tuple(output) if isinstance(output, list) else output

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        outs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            n = len(self.forward_layer.compute_output_shape((None, 1, 1))) - 1
            return outs + [None] * (2 * n)
        return outs if self.merge_mode is None else out

    def compute_output_shape(self, input_shape: Any) -> Any:
        shapes = self.forward_layer.compute_output_shape(input_shape)
        out, states = (shapes[0], list(shapes[1:])) if self.return_state else (shapes, [])
        if self.merge_mode == "concat":
            out = tuple(out[:-1]) + (out[-1] * 2,)
        outs = [tuple(out), tuple(out)] if self.merge_mode is None else [tuple(out)]
        if self.return_state:
            return outs + states + states
        return outs if self.merge_mode is None else outs[0]

    def get_config(self) -> dict:
        config = {**Layer.get_config(self), "layer": serialize(self.forward_layer), "merge_mode": self.merge_mode}
        config["backward_layer"] = serialize(self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Bidirectional":
        config = dict(config)
        layer = deserialize(config.pop("layer"))
        backward = config.pop("backward_layer", None)
        return cls(layer, backward_layer=deserialize(backward) if backward else None, **config)
