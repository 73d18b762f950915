"""`keras.layers`. Convolution and pooling layers are not here yet: they need IR rows (with LLVM rules and
gradients) of their own."""
from engine.keras.layers.base import InputSpec, KerasTensor, Layer
from engine.keras.registry import get_class
from engine.keras.layers.core import Activation, Dense, Dropout, Flatten, Input, InputLayer, Lambda, Reshape
from engine.keras.layers.merging import (Add, Average, Concatenate, Embedding, Maximum, Minimum, Multiply,
                                         Subtract)
from engine.keras.layers.normalization import BatchNormalization, LayerNormalization

__all__ = ["Layer", "InputSpec", "KerasTensor", "Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer",
           "Lambda", "Reshape", "Add", "Average", "Concatenate", "Embedding", "Maximum", "Minimum", "Multiply",
           "Subtract", "BatchNormalization", "LayerNormalization"]


def serialize(layer: Layer) -> dict:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Layer:
    return get_class(config["class_name"], custom_objects).from_config(config["config"])
