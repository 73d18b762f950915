"""`keras.saving`: registering custom classes for saving, and saving/loading models (`engine.keras.archive`)."""
from __future__ import annotations

from typing import Any, Optional

from engine.keras import archive
from engine.keras.registry import get_registered_object, register_keras_serializable

__all__ = ["register_keras_serializable", "get_registered_object", "load_model", "save_model"]


def load_model(filepath: str, custom_objects: Optional[dict] = None, compile: bool = True) -> Any:
    return archive.load_model(filepath, custom_objects=custom_objects, compile=compile)


def save_model(model: Any, filepath: str, **kwargs: Any) -> None:
    archive.save_model(model, filepath)
