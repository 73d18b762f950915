"""Classes a saved configuration may name, by name: Keras's built-in layers and models (registered as they are
defined, by `Layer.__init_subclass__`), classes registered with `keras.saving.register_keras_serializable`, and
`custom_objects` given to `load_model`. Nothing else is ever instantiated from a file."""
from __future__ import annotations

from typing import Any, Callable, Optional

__all__ = ["register_builtin", "register_keras_serializable", "get_class", "get_registered_object", "serialize",
           "deserialize"]

_BUILTIN: dict[str, type] = {}
_REGISTERED: dict[str, type] = {}


def register_builtin(cls: type) -> None:
    """Called for every subclass of `keras.layers.Layer`; only Kiln's own (`engine.keras...`) are kept."""
    if cls.__module__.startswith("engine.keras."):
        _BUILTIN[cls.__name__] = cls


def register_keras_serializable(package: str = "Custom", name: Optional[str] = None) -> Callable[[type], type]:
    def decorator(cls: type) -> type:
        _REGISTERED[f"{package}>{name or cls.__name__}"] = cls
        _REGISTERED.setdefault(name or cls.__name__, cls)
        return cls
    return decorator


def get_registered_object(name: str, custom_objects: Optional[dict] = None) -> Any:
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    return _REGISTERED.get(name)


def get_class(name: str, custom_objects: Optional[dict] = None) -> type:
    cls = (custom_objects or {}).get(name) or _REGISTERED.get(name) or _BUILTIN.get(name)
    if cls is None:
        raise ValueError(f"Could not locate class {name!r}. Make sure custom classes are decorated with "
                         f"`@keras.saving.register_keras_serializable()` or passed in `custom_objects`.")
    return cls


def serialize(obj: Any) -> dict:
    """A layer's saved form: its class name and `get_config()` (what `keras.layers.serialize` gives)."""
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def deserialize(config: dict, custom_objects: Optional[dict] = None) -> Any:
    return get_class(config["class_name"], custom_objects).from_config(config["config"])


def serialize_as(obj: Any, base: type, kind: str) -> Optional[dict]:
    """`{class_name, config}` of a `base` object (a constraint, a regularizer), None for None; anything else (a
    plain function) cannot be saved."""
    if obj is None:
        return None
    if not isinstance(obj, base):
        raise ValueError(f"{kind} {obj!r} is not a keras.{kind}s.{base.__name__}: it cannot be saved")
    return serialize(obj)


def deserialize_from(config: dict, classes: dict, kind: str, custom_objects: Optional[dict] = None) -> Any:
    """The object of a `serialize_as` config: a class of `classes` by name, else a registered one."""
    name = config.get("class_name", "")
    cls = classes.get(name) or get_registered_object(name, custom_objects)
    if cls is None:
        raise ValueError(f"Could not interpret {kind} config: {config!r}")
    return cls.from_config(config.get("config", {}))
