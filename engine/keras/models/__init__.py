"""`keras.models`: Model, Sequential, and saving/loading."""
from engine.keras.models.model import Model
from engine.keras.models.sequential import Sequential

__all__ = ["Model", "Sequential", "load_model", "save_model", "clone_model"]


def load_model(filepath: str, custom_objects: dict | None = None, compile: bool = True, **kwargs: object) -> Model:
    from engine.keras.archive import load_model as _load
    return _load(filepath, custom_objects=custom_objects, compile=compile)


def save_model(model: Model, filepath: str, **kwargs: object) -> None:
    model.save(filepath)


def clone_model(model: Model) -> Model:
    """A new model with the same configuration and freshly initialized weights."""
    return type(model).from_config(model.get_config())
