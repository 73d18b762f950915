"""Classes a saved configuration may name: Keras's built-in layers and models, classes registered with
`keras.saving.register_keras_serializable`, and `custom_objects` given to `load_model`. Nothing else is ever
instantiated from a file."""
from __future__ import annotations

from typing import Any, Callable, Optional

__all__ = ["register_keras_serializable", "get_class", "get_registered_object", "load_model", "save_model"]

_REGISTERED: dict[str, type] = {}


def register_keras_serializable(package: str = "Custom", name: Optional[str] = None) -> Callable[[type], type]:
    def decorator(cls: type) -> type:
        key = f"{package}>{name or cls.__name__}"
        _REGISTERED[key] = cls
        _REGISTERED.setdefault(name or cls.__name__, cls)
        return cls
    return decorator


def get_registered_object(name: str, custom_objects: Optional[dict] = None) -> Any:
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    return _REGISTERED.get(name)


def get_class(name: str, custom_objects: Optional[dict] = None) -> type:
    from engine.keras import layers as L
    from engine.keras.models import Model, Sequential
    builtin = {n: getattr(L, n) for n in L.__all__ if isinstance(getattr(L, n), type)}
    builtin.update({"Model": Model, "Functional": Model, "Sequential": Sequential})
    cls = (custom_objects or {}).get(name) or _REGISTERED.get(name) or builtin.get(name)
    if cls is None:
        raise ValueError(f"Could not locate class {name!r}. Make sure custom classes are decorated with "
                         f"`@keras.saving.register_keras_serializable()` or passed in `custom_objects`.")
    return cls


def load_model(filepath: str, custom_objects: Optional[dict] = None, compile: bool = True) -> Any:
    from engine.keras.saving import load_model as _load
    return _load(filepath, custom_objects=custom_objects, compile=compile)


def save_model(model: Any, filepath: str, **kwargs: Any) -> None:
    model.save(filepath)
