"""The configuration of a functional model: its layers, and its graph as a list of layer calls ("nodes") whose
arguments refer to the model's inputs or to earlier nodes' outputs."""
from __future__ import annotations

from typing import Any, Optional

from engine import nest
from engine.keras.layers.base import KerasTensor

__all__ = ["functional_config", "functional_from_config"]


def _nodes(model: Any) -> tuple[list[KerasTensor], dict[int, int]]:
    """Every KerasTensor a layer produced, in an order where arguments come first; and its index by id."""
    order: list[KerasTensor] = []
    index: dict[int, int] = {}
    inputs = {id(t) for t in nest.flatten(model._inputs)}

    def visit(kt: Any) -> None:
        if not isinstance(kt, KerasTensor) or id(kt) in index or id(kt) in inputs:
            return
        if kt._history is None:
            raise ValueError(f"{kt!r} is not computed from the model's inputs")
        for a in nest.flatten(kt._history[1]):
            visit(a)
        index[id(kt)] = len(order)
        order.append(kt)
    for o in nest.flatten(model._outputs):
        visit(o)
    return order, index


def functional_config(model: Any) -> dict:
    from engine.keras.layers import serialize
    inputs = nest.flatten(model._inputs)
    input_pos = {id(t): i for i, t in enumerate(inputs)}
    order, index = _nodes(model)

    def ref(a: Any) -> Any:
        if isinstance(a, KerasTensor):
            return {"input": input_pos[id(a)]} if id(a) in input_pos else {"node": index[id(a)]}
        if isinstance(a, (list, tuple)):
            return [ref(x) for x in a]
        return a
    layers = []
    for layer in model._graph_layers:
        layers.append({**serialize(layer), "name": layer.name})
    nodes = [{"layer": kt._history[0].name, "args": [ref(a) for a in kt._history[1]],
              "output_index": kt._history[3]} for kt in order]
    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": [{"shape": list(t.shape), "dtype": t.dtype.name, "name": t.name} for t in inputs],
            "nodes": nodes, "output_layers": [ref(o) for o in nest.flatten(model._outputs)],
            "outputs_nested": isinstance(model._outputs, (list, tuple))}


def functional_from_config(cls: type, config: dict, custom_objects: Optional[dict] = None) -> Any:
    from engine.keras.layers import deserialize
    from engine.keras.layers.core import Input
    layers = {c["name"]: deserialize(c, custom_objects) for c in config["layers"]}
    inputs = [Input(batch_shape=tuple(spec["shape"]), dtype=spec["dtype"]) for spec in config["input_layers"]]
    values: list[Any] = []

    def resolve(r: Any) -> Any:
        if isinstance(r, dict) and "input" in r:
            return inputs[r["input"]]
        if isinstance(r, dict) and "node" in r:
            return values[r["node"]]
        if isinstance(r, list):
            return [resolve(x) for x in r]
        return r
    for node in config["nodes"]:
        out = layers[node["layer"]](*[resolve(a) for a in node["args"]])
        values.append(out if node["output_index"] is None else out[node["output_index"]])
    outputs = [resolve(r) for r in config["output_layers"]]
    model_inputs = inputs if len(inputs) > 1 else inputs[0]
    model_outputs = outputs if config.get("outputs_nested") or len(outputs) > 1 else outputs[0]
    return cls(inputs=model_inputs, outputs=model_outputs, name=config.get("name"))
