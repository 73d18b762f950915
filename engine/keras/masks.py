"""Keras masks: which time steps of a sequence are real, carried from the layer that makes them (`Embedding(...,
mask_zero=True)`, `Masking`) to the layers that use them (recurrent and attention layers), as Keras does.

Keras hangs a mask on its output tensor (`tensor._keras_mask`); Kiln's Tensor has fixed slots, so the mask lives in
a side table keyed by the tensor's identity, dropped when the tensor is collected. `Layer.__call__` passes an input's
mask to a `call` that takes `mask=` and records `layer.compute_mask(inputs, mask)` on the output. Tensors read the
table through a `_keras_mask` property, as Keras's guide to masking reads it.
"""
from __future__ import annotations

import weakref
from typing import Any, Optional

from engine import nest
from engine.tensor import Tensor

__all__ = ["get_mask", "set_mask", "input_mask", "record_output_mask"]

_MASKS: dict[int, tuple[Any, Any]] = {}


def get_mask(tensor: Any) -> Optional[Any]:
    """The mask recorded on `tensor` (a bool tensor [batch, time]), or None."""
    entry = _MASKS.get(id(tensor))
    if entry is None or entry[0]() is not tensor:
        return None
    return entry[1]


def set_mask(tensor: Any, mask: Any) -> None:
    key = id(tensor)
    if mask is None:
        _MASKS.pop(key, None)
        return
    try:
        ref = weakref.ref(tensor, lambda r, key=key: _MASKS.pop(key, None) if _MASKS.get(key, (None,))[0] is r
                          else None)
    except TypeError:  # not weak-referenceable (a Python number): it cannot carry a mask
        return
    _MASKS[key] = (ref, mask)


def input_mask(inputs: Any) -> Any:
    """The masks of a layer's first argument: one mask, a list of masks (None where absent), or None."""
    if isinstance(inputs, (list, tuple)):
        masks = [get_mask(t) for t in inputs]
        return masks if any(m is not None for m in masks) else None
    return get_mask(inputs)


def record_output_mask(outputs: Any, mask: Any) -> None:
    """Record `mask` on each output tensor (a list of masks pairs with a list of outputs)."""
    flat = nest.flatten(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    masks = mask if isinstance(mask, (list, tuple)) else [mask] * len(flat)
    for t, m in zip(flat, masks):
        if hasattr(t, "dtype"):
            set_mask(t, m)


Tensor._keras_mask = property(get_mask, set_mask, doc="The Keras mask of this tensor, or None (see engine.keras.masks)")
