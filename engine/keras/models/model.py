"""`keras.Model`: a layer with training (`engine.keras.models.training`), built three ways, as in Keras:
subclassed (`call` written by the user), functional (`Model(inputs, outputs)` over `keras.Input`s), or
`Sequential` (`engine.keras.models.sequential`)."""
from __future__ import annotations

from typing import Any, Optional

from engine import nest
from engine.keras.layers.base import KerasTensor, Layer
from engine.keras.models.training import Trainer

__all__ = ["Model"]


class Model(Trainer, Layer):
    """A trainable layer.

    >>> import engine as tf
    >>> inputs = tf.keras.Input(shape=(3,))
    >>> outputs = tf.keras.layers.Dense(2, kernel_initializer="ones")(inputs)
    >>> model = tf.keras.Model(inputs, outputs)
    >>> model(tf.ones([1, 3])).numpy()
    array([[3., 3.]], dtype=float32)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        inputs = kwargs.pop("inputs", args[0] if len(args) > 0 else None)
        outputs = kwargs.pop("outputs", args[1] if len(args) > 1 else None)
        Layer.__init__(self, **kwargs)
        Trainer.__init__(self)
        self._functional = inputs is not None
        if self._functional:
            if outputs is None:
                raise ValueError("Model(inputs, outputs): `outputs` is missing")
            self._inputs, self._outputs = inputs, outputs
            self._graph_layers = _topological_layers(outputs)
            self.built = True

    # ---- functional
    @property
    def inputs(self) -> list:
        return list(nest.flatten(self._inputs)) if getattr(self, "_functional", False) else []

    @property
    def outputs(self) -> list:
        return list(nest.flatten(self._outputs)) if getattr(self, "_functional", False) else []

    def _sublayers(self) -> list[Layer]:
        if getattr(self, "_functional", False):
            return list(self._graph_layers)
        return super()._sublayers()

    def call(self, inputs: Any, training: Optional[bool] = None, **kwargs: Any) -> Any:
        if not getattr(self, "_functional", False):
            raise NotImplementedError(f"Model {self.name!r} has no `call`: subclass keras.Model and define "
                                      f"call(self, inputs, training=None), or build it from keras.Input")
        given = nest.flatten(inputs)
        symbols = nest.flatten(self._inputs)
        if len(given) != len(symbols):
            raise ValueError(f"Model {self.name!r} expects {len(symbols)} input(s), but it received "
                             f"{len(given)} input tensors")
        values = {id(s): v for s, v in zip(symbols, given)}
        return nest.map_structure(lambda kt: _evaluate(kt, values, training), self._outputs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        if getattr(self, "_functional", False):
            return nest.map_structure(lambda kt: kt.shape, self._outputs)
        return super().compute_output_shape(input_shape)

    def get_config(self) -> dict:
        if not getattr(self, "_functional", False):
            return {"name": self.name, "trainable": self.trainable}
        from engine.keras.models.functional_config import functional_config
        return functional_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects: Optional[dict] = None) -> "Model":
        if "layers" in config and "output_layers" in config:
            from engine.keras.models.functional_config import functional_from_config
            return functional_from_config(cls, config, custom_objects)
        return cls(**config)


def _evaluate(kt: KerasTensor, values: dict[int, Any], training: Optional[bool]) -> Any:
    if id(kt) in values:
        return values[id(kt)]
    if kt._history is None:
        raise ValueError(f"{kt!r} is not an input of this model and no layer produced it")
    layer, args, kwargs, index = kt._history
    args = nest.map_structure(lambda a: _evaluate(a, values, training) if isinstance(a, KerasTensor) else a, args)
    out = layer(*args, training=training, **kwargs)
    result = out if index is None else out[index]
    values[id(kt)] = result
    return result


def _topological_layers(outputs: Any) -> list[Layer]:
    order: list[Layer] = []
    seen: set[int] = set()

    def visit(kt: Any) -> None:
        if not isinstance(kt, KerasTensor) or kt._history is None:
            return
        layer, args, _, _ = kt._history
        for a in nest.flatten(args):
            visit(a)
        if id(layer) not in seen:
            seen.add(id(layer))
            order.append(layer)
    for o in nest.flatten(outputs):
        visit(o)
    return order
