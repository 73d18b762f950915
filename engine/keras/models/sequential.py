"""`keras.Sequential`: a stack of layers, each called on the previous one's output."""
from __future__ import annotations

from typing import Any, Optional, Sequence

from engine.keras.layers.base import KerasTensor, Layer
from engine.keras.layers.core import InputLayer
from engine.keras.models.model import Model

__all__ = ["Sequential"]


class Sequential(Model):
    """
    >>> import engine as tf
    >>> model = tf.keras.Sequential([tf.keras.layers.Dense(4, input_shape=(3,)), tf.keras.layers.Dense(1)])
    >>> model.count_params()
    21
    >>> model(tf.ones([2, 3])).shape
    TensorShape([2, 1])
    """

    def __init__(self, layers: Optional[Sequence[Any]] = None, name: Optional[str] = None, trainable: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._stack: list[Layer] = []
        self._input_shape: Optional[tuple] = None
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: Any) -> None:
        if isinstance(layer, KerasTensor):
            layer = layer._input_layer if hasattr(layer, "_input_layer") else InputLayer(batch_shape=layer.shape)
        if not isinstance(layer, Layer):
            raise TypeError(f"Only instances of `keras.Layer` can be added to a Sequential model. Received: {layer!r}")
        if isinstance(layer, InputLayer):
            if self._stack:
                raise ValueError("Sequential: an InputLayer can only be the first layer")
            self._input_shape = tuple(layer._batch_input_shape)
            return
        if any(layer is other for other in self._stack):
            raise ValueError(f"Sequential: layer {layer.name!r} is already in the model")
        self._stack.append(layer)
        self._tracked.append(layer)
        if len(self._stack) == 1 and self._input_shape is None and layer._batch_input_shape is not None:
            self._input_shape = tuple(layer._batch_input_shape)
        self.built = False
        if self._input_shape is not None:
            self.build(self._input_shape)

    def pop(self) -> Layer:
        if not self._stack:
            raise TypeError("There are no layers in the model.")
        layer = self._stack.pop()
        self._tracked.remove(layer)
        return layer

    @property
    def layers(self) -> list[Layer]:
        return list(self._stack)

    def _sublayers(self) -> list[Layer]:
        return list(self._stack)

    def build(self, input_shape: Any = None) -> None:
        shape = tuple(input_shape) if input_shape is not None else self._input_shape
        if shape is None:
            raise ValueError("Sequential.build needs an input shape")
        self._input_shape = shape
        for layer in self._stack:
            if not layer.built:
                layer.build(shape)
                layer.built = True
            shape = tuple(layer.compute_output_shape(shape))
            layer._output_shape = shape
        self.built = True

    def _maybe_build(self, args: tuple) -> None:
        if not self.built:
            self.build((None,) + tuple(args[0].shape[1:]))

    def call(self, inputs: Any, training: Optional[bool] = None, **kwargs: Any) -> Any:
        x = inputs
        for layer in self._stack:
            x = layer(x, training=training)
        return x

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = tuple(input_shape)
        for layer in self._stack:
            shape = tuple(layer.compute_output_shape(shape))
        return shape

    def get_config(self) -> dict:
        from engine.keras.layers import serialize
        config: dict = {"name": self.name, "trainable": self.trainable, "layers": [serialize(l) for l in self._stack]}
        if self._input_shape is not None:
            config["build_input_shape"] = list(self._input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: Optional[dict] = None) -> "Sequential":
        from engine.keras.layers import deserialize
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for layer_config in config["layers"]:
            model.add(deserialize(layer_config, custom_objects))
        if config.get("build_input_shape") and not model.built:
            model.build(tuple(config["build_input_shape"]))
        return model
