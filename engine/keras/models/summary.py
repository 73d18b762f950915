"""`Model.summary()`: Keras 3's table of layers, output shapes and parameter counts."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

__all__ = ["summary"]


def _size(n: int) -> str:
    b = n * 4.0
    for unit in ("B", "KB", "MB", "GB"):
        if b < 1024 or unit == "GB":
            return f"{b:.2f} {unit}"
        b /= 1024
    return f"{b:.2f} GB"


def _shape_of(layer: Any) -> str:
    shape = getattr(layer, "_output_shape", None)
    if shape is None:
        return "?"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def summary(model: Any, print_fn: Callable[[str], Any] = print) -> None:
    layers = model.layers
    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by calling `build()` or by "
                         "calling the model on a batch of data.")
    names = [f"{layer.name} ({type(layer).__name__})" for layer in layers]
    widths = (max([33] + [len(n) + 2 for n in names]), 24, 15)
    top = "┏" + "┳".join("━" * w for w in widths) + "┓"
    mid = "┡" + "╇".join("━" * w for w in widths) + "┩"
    bottom = "└" + "┴".join("─" * w for w in widths) + "┘"
    sep = "├" + "┼".join("─" * w for w in widths) + "┤"

    def row(cells: tuple[str, str, str], heavy: bool = False) -> str:
        bar = "┃" if heavy else "│"
        a, b, c = cells
        return f"{bar} {a:<{widths[0] - 2}} {bar} {b:<{widths[1] - 2}} {bar} {c:>{widths[2] - 2}} {bar}"

    print_fn(f'Model: "{model.name}"')
    print_fn(top)
    print_fn(row(("Layer (type)", "Output Shape", "Param #"), heavy=True))
    print_fn(mid)
    for i, layer in enumerate(layers):
        params = int(sum(np.prod(w.shape) for w in layer.weights)) if layer.built else 0
        print_fn(row((f"{layer.name} ({type(layer).__name__})", _shape_of(layer), f"{params:,}")))
        if i < len(layers) - 1:
            print_fn(sep)
    print_fn(bottom)
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    frozen = int(sum(np.prod(w.shape) for w in model.non_trainable_weights))
    print_fn(f" Total params: {trainable + frozen:,} ({_size(trainable + frozen)})")
    print_fn(f" Trainable params: {trainable:,} ({_size(trainable)})")
    print_fn(f" Non-trainable params: {frozen:,} ({_size(frozen)})")
