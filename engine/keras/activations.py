"""`keras.activations`: activation functions by name or object, as Keras 3 resolves them.

>>> import engine as tf
>>> tf.keras.activations.get("relu")(tf.constant([-1.0, 2.0])).numpy()
array([0., 2.], dtype=float32)
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from engine import nn
from engine.ops import exp, expm1, greater, maximum, minimum, multiply, where
from engine.ops import sigmoid as _sigmoid
from engine.ops import tanh as _tanh

__all__ = ["get", "serialize", "deserialize", "relu", "relu6", "sigmoid", "tanh", "softmax", "log_softmax",
           "linear", "elu", "selu", "gelu", "softplus", "softsign", "silu", "swish", "leaky_relu", "exponential",
           "hard_sigmoid"]


def relu(x: Any, negative_slope: float = 0.0, max_value: Optional[float] = None, threshold: float = 0.0) -> Any:
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return nn.relu(x)
    y = nn.leaky_relu(x, alpha=negative_slope) if negative_slope else nn.relu(x)
    return minimum(y, max_value) if max_value is not None else y


def relu6(x: Any) -> Any:
    return nn.relu6(x)


def sigmoid(x: Any) -> Any:
    return _sigmoid(x)


def tanh(x: Any) -> Any:
    return _tanh(x)


def softmax(x: Any, axis: int = -1) -> Any:
    return nn.softmax(x, axis=axis)


def log_softmax(x: Any, axis: int = -1) -> Any:
    return nn.log_softmax(x, axis=axis)


def linear(x: Any) -> Any:
    return x


def elu(x: Any, alpha: float = 1.0) -> Any:
    # expm1 of min(x, 0): the unused branch stays finite, so its gradient cannot turn the where's into NaN
    return nn.elu(x) if alpha == 1.0 else where(greater(x, 0.0), x, multiply(alpha, expm1(minimum(x, 0.0))))


def selu(x: Any) -> Any:
    return nn.selu(x)


def gelu(x: Any, approximate: bool = False) -> Any:
    return nn.gelu(x, approximate=approximate)


def softplus(x: Any) -> Any:
    return nn.softplus(x)


def softsign(x: Any) -> Any:
    return nn.softsign(x)


def silu(x: Any) -> Any:
    return nn.silu(x)


swish = silu


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Any:
    return nn.leaky_relu(x, alpha=negative_slope)


def exponential(x: Any) -> Any:
    return exp(x)


def hard_sigmoid(x: Any) -> Any:
    return maximum(minimum(multiply(x, 1.0 / 6.0) + 0.5, 1.0), 0.0)


_ALL: dict[str, Callable[..., Any]] = {f.__name__: f for f in (
    relu, relu6, sigmoid, tanh, softmax, log_softmax, linear, elu, selu, gelu, softplus, softsign, silu,
    leaky_relu, exponential, hard_sigmoid)} | {"swish": silu}


def get(identifier: Any) -> Callable[..., Any]:
    """None -> linear; a name -> that function; a callable -> itself."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        try:
            return _ALL[identifier]
        except KeyError:
            raise ValueError(f"Could not interpret activation function identifier: {identifier!r} "
                             f"(known: {', '.join(sorted(_ALL))})") from None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}")


def serialize(fn: Callable[..., Any]) -> str:
    name = getattr(fn, "__name__", None)
    if name in _ALL and _ALL[name] is fn:
        return name
    for key, f in _ALL.items():
        if f is fn:
            return key
    raise ValueError(f"activation {fn!r} is not one of keras.activations: it cannot be saved by name")


def deserialize(config: Any) -> Callable[..., Any]:
    if isinstance(config, dict):
        config = config.get("config", config.get("class_name"))
    return get(config)
