"""`keras.layers`: core, normalization, merging, embedding, convolution and pooling layers."""
from engine.keras.layers.base import InputSpec, KerasTensor, Layer
from engine.keras.registry import get_class
from engine.keras.layers.conv import (AveragePooling2D, Conv1D, Conv2D, GlobalAveragePooling2D,
                                      GlobalMaxPooling2D, MaxPooling2D)
from engine.keras.layers.core import Activation, Dense, Dropout, Flatten, Input, InputLayer, Lambda, Reshape
from engine.keras.layers.merging import (Add, Average, Concatenate, Embedding, Maximum, Minimum, Multiply,
                                         Subtract)
from engine.keras.layers.normalization import BatchNormalization, LayerNormalization

__all__ = ["Layer", "InputSpec", "KerasTensor", "Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer",
           "Lambda", "Reshape", "Add", "Average", "Concatenate", "Embedding", "Maximum", "Minimum", "Multiply",
           "Subtract", "BatchNormalization", "LayerNormalization", "Conv2D", "Conv1D", "MaxPooling2D", "AveragePooling2D",
           "GlobalAveragePooling2D", "GlobalMaxPooling2D", "MaxPool2D", "AvgPool2D"]

MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D


def serialize(layer: Layer) -> dict:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Layer:
    return get_class(config["class_name"], custom_objects).from_config(config["config"])

from engine.keras.layers.masking import Masking  # noqa: E402
from engine.keras.layers.recurrent import GRU, LSTM, RNN, SimpleRNN  # noqa: E402
from engine.keras.layers.recurrent_cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells  # noqa: E402
from engine.keras.layers.attention import AdditiveAttention, Attention, MultiHeadAttention  # noqa: E402
from engine.keras.layers.wrappers import Bidirectional, TimeDistributed, Wrapper  # noqa: E402

__all__ += ["Masking", "RNN", "SimpleRNN", "LSTM", "GRU", "SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells",
            "Attention", "AdditiveAttention", "MultiHeadAttention", "Bidirectional", "TimeDistributed", "Wrapper"]
