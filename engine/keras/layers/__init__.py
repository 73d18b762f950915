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

from engine.keras.layers.activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax  # noqa: E402
from engine.keras.layers.conv_transpose import Conv2DTranspose  # noqa: E402
from engine.keras.layers.noise import (ActivityRegularization, GaussianDropout, GaussianNoise,  # noqa: E402
                                       SpatialDropout1D, SpatialDropout2D)
from engine.keras.layers.pooling1d import (AveragePooling1D, AvgPool1D, GlobalAveragePooling1D,  # noqa: E402
                                           GlobalMaxPooling1D, MaxPool1D, MaxPooling1D)
from engine.keras.layers.preprocessing import (CategoryEncoding, Normalization, Rescaling,  # noqa: E402
                                               UnitNormalization)
from engine.keras.layers.reshaping import (Cropping1D, Cropping2D, Permute, RepeatVector, UpSampling1D,  # noqa: E402
                                           UpSampling2D, ZeroPadding1D, ZeroPadding2D)
__all__ += ["ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "Conv2DTranspose", "GaussianNoise", "GaussianDropout", "SpatialDropout1D", "SpatialDropout2D", "ActivityRegularization", "MaxPooling1D", "AveragePooling1D", "MaxPool1D", "AvgPool1D", "GlobalAveragePooling1D", "GlobalMaxPooling1D", "Rescaling", "Normalization", "CategoryEncoding", "UnitNormalization", "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D", "UpSampling1D", "UpSampling2D", "Permute", "RepeatVector"]  # noqa: E501

from engine.keras.layers.masking import Masking  # noqa: E402
from engine.keras.layers.recurrent import GRU, LSTM, RNN, SimpleRNN  # noqa: E402
from engine.keras.layers.recurrent_cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells  # noqa: E402
from engine.keras.layers.attention import AdditiveAttention, Attention, MultiHeadAttention  # noqa: E402
from engine.keras.layers.wrappers import Bidirectional, TimeDistributed, Wrapper  # noqa: E402

__all__ += ["Masking", "RNN", "SimpleRNN", "LSTM", "GRU", "SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells",
            "Attention", "AdditiveAttention", "MultiHeadAttention", "Bidirectional", "TimeDistributed", "Wrapper"]
