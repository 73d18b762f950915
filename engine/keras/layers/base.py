"""`keras.layers.Layer`: the base of every layer and model.

A layer owns Variables (made by `add_weight` from an initializer's concrete value, so building inside a traced
function is fine) and a `call`. `__call__` builds the layer on first use from its input's shape, casts floating
inputs to the layer's compute dtype (Keras's autocast), passes `training` down to the layers it calls, and, given a
symbolic `KerasTensor` (functional API), records a node instead of computing.
Attributes that are layers (or lists/dicts of them) and Variables are tracked, as Keras tracks them.
"""
from __future__ import annotations

import inspect
import re
import threading
from collections import defaultdict
from typing import Any, Iterator, Optional, Sequence

import numpy as np

from engine import nest
from engine.convert import convert_to_tensor
from engine.keras import constraints, initializers, masks, regularizers
from engine.keras.mixed_precision import policy_of
from engine.keras.registry import register_builtin
from engine.ops import cast
from engine.tensor import Tensor
from engine.variables import Variable
from ir.types import as_dtype

__all__ = ["Layer", "KerasTensor", "InputSpec"]

_name_counts: dict[str, int] = defaultdict(int)
_context = threading.local()


def unique_name(base: str) -> str:
    """'dense', then 'dense_1', 'dense_2', ... as Keras names layers."""
    n = _name_counts[base]
    _name_counts[base] += 1
    return base if n == 0 else f"{base}_{n}"


def snake_case(name: str) -> str:
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def current_training() -> Optional[bool]:
    """The `training` value of the innermost layer call that was given one."""
    stack = getattr(_context, "training", None)
    return stack[-1] if stack else None


class InputSpec:
    def __init__(self, dtype: Any = None, shape: Any = None, ndim: Optional[int] = None,
                 min_ndim: Optional[int] = None, axes: Optional[dict] = None) -> None:
        self.dtype, self.shape, self.ndim, self.min_ndim, self.axes = dtype, shape, ndim, min_ndim, axes or {}


class KerasTensor:
    """A symbolic input or output of the functional API: a shape (batch dimension None), a dtype, and the layer
    call that produced it."""

    def __init__(self, shape: Sequence[Optional[int]], dtype: Any = "float32", name: Optional[str] = None,
                 history: Optional[tuple] = None) -> None:
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = as_dtype(dtype)
        self.name = name
        self._history = history  # (layer, args, kwargs) or None for an Input

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype.name}, name={self.name}>"

    def _unsupported(self, *args: Any) -> Any:
        raise TypeError("a symbolic KerasTensor (functional API) cannot be used in arithmetic or passed to "
                        "engine ops directly; wrap the computation in a layer (e.g. keras.layers.Lambda, Add, "
                        "Activation)")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __getitem__ = _unsupported

    def __array__(self, *args: Any) -> Any:
        self._unsupported()


def _is_symbolic(args: Any) -> bool:
    return any(isinstance(x, KerasTensor) for x in nest.flatten(args))


class Layer:
    """Base class of layers: subclass it with `build(input_shape)` (create weights with `add_weight`) and
    `call(inputs, training=None)`.

    >>> import engine as tf
    >>> class Scale(tf.keras.layers.Layer):
    ...     def build(self, input_shape):
    ...         self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")
    ...     def call(self, x):
    ...         return x * self.w
    >>> layer = Scale(name="scale")
    >>> layer(tf.constant([[1.0, 2.0]])).numpy()
    array([[1., 2.]], dtype=float32)
    >>> [w.name for w in layer.weights]
    ['scale/w:0']
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        register_builtin(cls)

    def __init__(self, trainable: bool = True, name: Optional[str] = None, dtype: Any = None,
                 input_shape: Any = None, batch_input_shape: Any = None, input_dim: Optional[int] = None,
                 activity_regularizer: Any = None, **kwargs: Any) -> None:
        unknown = set(kwargs) - {"autocast", "input_dtype", "batch_size", "dynamic"}
        if unknown:
            raise TypeError(f"{type(self).__name__}: unrecognized keyword arguments {sorted(unknown)}")
        object.__setattr__(self, "_tracked", [])
        object.__setattr__(self, "_own_weights", [])
        self.name = name or unique_name(snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self.dtype_policy = policy_of(dtype)
        self.built = False
        self.autocast = kwargs.get("autocast", True)
        self.input_spec = None
        self.supports_masking = False
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            self._batch_input_shape = tuple(batch_input_shape)
        elif input_shape is not None:
            self._batch_input_shape = (kwargs.get("batch_size"),) + tuple(input_shape)
        else:
            self._batch_input_shape = None
        params = inspect.signature(self.call).parameters
        self._call_accepts_training = "training" in params
        self._call_accepts_mask = "mask" in params
        self._weight_regularizers: list[tuple[Any, Variable]] = []
        self._losses: list[Any] = []            # from add_loss (activity penalties), cleared per outermost call
        self.activity_regularizer = regularizers.get(activity_regularizer)

    # ---- attribute tracking
    def __setattr__(self, key: str, value: Any) -> None:
        if not key.startswith("_tracked"):
            for v in nest.flatten(value) if isinstance(value, (list, tuple, dict)) else [value]:
                if isinstance(v, (Layer, Variable)) and not any(v is t for t in self.__dict__.get("_tracked", [])):
                    self.__dict__.setdefault("_tracked", []).append(v)
        object.__setattr__(self, key, value)

    @property
    def dtype(self) -> str:
        return self.dtype_policy.variable_dtype

    @property
    def compute_dtype(self) -> str:
        return self.dtype_policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        return self.dtype_policy.variable_dtype

    def read(self, variable: Variable) -> Any:
        """A Variable as the layer computes with it: cast to the compute dtype under a mixed policy."""
        if variable.dtype.is_floating and variable.dtype.name != self.compute_dtype:
            return cast(variable, self.compute_dtype)
        return variable

    def _sublayers(self) -> list["Layer"]:
        return [t for t in self._tracked if isinstance(t, Layer)]

    @property
    def layers(self) -> list["Layer"]:
        return self._sublayers()

    def _flatten_layers(self) -> Iterator["Layer"]:
        seen: set[int] = set()
        stack = [self]
        while stack:
            layer = stack.pop(0)
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            yield layer
            stack[0:0] = layer._sublayers()

    # ---- weights
    def add_weight(self, shape: Any = None, initializer: Any = None, dtype: Any = None, trainable: bool = True,
                   name: Optional[str] = None, regularizer: Any = None, constraint: Any = None,
                   **kwargs: Any) -> Variable:
        """A new Variable owned by this layer, initialized from `initializer` (default: glorot_uniform for
        floating weights, zeros otherwise)."""
        dtype = as_dtype(dtype or self.variable_dtype)
        shape = tuple(int(d) for d in (shape or ()))
        if initializer is None:
            initializer = "glorot_uniform" if dtype.is_floating else "zeros"
        value = np.asarray(initializers.get(initializer)(shape, dtype), dtype=dtype.np).reshape(shape)
        var = Variable(value, trainable=trainable, name=f"{self.name}/{name or 'variable'}", dtype=dtype,
                       constraint=constraints.get(constraint))
        self._own_weights.append(var)
        regularizer = regularizers.get(regularizer)
        if regularizer is not None:
            self._weight_regularizers.append((regularizer, var))
        return var

    def _all_weights(self) -> list[Variable]:
        out: list[Variable] = []
        seen: set[int] = set()
        for layer in self._flatten_layers():
            for w in layer._own_weights + [t for t in layer._tracked if isinstance(t, Variable)]:
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        for layer in self._flatten_layers():
            layer._trainable = bool(value)

    def _weight_is_trainable(self, w: Variable) -> bool:
        for layer in self._flatten_layers():
            if any(w is v for v in layer._own_weights):
                return layer._trainable and w.trainable
        return self._trainable and w.trainable

    @property
    def weights(self) -> list[Variable]:
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable_weights(self) -> list[Variable]:
        return [w for w in self._all_weights() if self._weight_is_trainable(w)]

    @property
    def non_trainable_weights(self) -> list[Variable]:
        return [w for w in self._all_weights() if not self._weight_is_trainable(w)]

    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    def get_weights(self) -> list[np.ndarray]:
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        mine = self.weights
        if len(weights) != len(mine):
            raise ValueError(f"You called `set_weights(weights)` on layer {self.name!r} with a weight list of length "
                             f"{len(weights)}, but the layer was expecting {len(mine)} weights.")
        for var, value in zip(mine, weights):
            value = np.asarray(value)
            if tuple(value.shape) != tuple(var.shape):
                raise ValueError(f"Layer {self.name!r} weight shape {tuple(var.shape)} is not compatible with "
                                 f"provided weight shape {value.shape}.")
            var.assign(value.astype(var.dtype.np))

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer {self.name!r}, but the layer isn't built. "
                             f"You can build it manually via: `{self.name}.build(batch_input_shape)`.")
        return int(sum(np.prod(w.shape) for w in self.weights))

    @property
    def losses(self) -> list[Tensor]:
        """The losses of `add_loss` (activity penalties) from the last call, then the penalties of the trainable
        weights' regularizers, this layer's and its sublayers', as Keras 3 lists them."""
        out = []
        for layer in self._flatten_layers():
            out.extend(layer._losses)
        for layer in self._flatten_layers():
            for reg, var in layer._weight_regularizers:
                if self._weight_is_trainable(var):
                    out.append(reg(var))
        return out

    def add_loss(self, loss: Any) -> None:
        """Adds scalar loss tensors (inside `call`), listed in `losses` until the next outermost call."""
        self._losses.extend(nest.flatten(loss))

    def _clear_losses(self) -> None:
        for layer in self._flatten_layers():
            layer._losses.clear()

    # ---- building and calling
    def build(self, input_shape: Any) -> None:
        self.built = True

    def _maybe_build(self, args: tuple) -> None:
        if self.built:
            return
        first = args[0] if args else None
        if isinstance(first, (list, tuple)):
            shapes: Any = [tuple(t.shape) for t in first]
            self._build_shapes = [[None] + list(s[1:]) for s in shapes]
        else:
            shapes = tuple(first.shape) if hasattr(first, "shape") else None
            self._build_shapes = None if shapes is None else [None] + list(shapes[1:])
        self.build(shapes)
        self.built = True

    def _convert(self, x: Any) -> Any:
        if isinstance(x, (np.ndarray, np.generic, float, int, list)) and not isinstance(x, bool):
            x = convert_to_tensor(x)
        compute = as_dtype(self.compute_dtype)
        if self.autocast and isinstance(x, (Tensor, Variable)) and x.dtype.is_floating \
                and x.dtype is not compute and compute.is_floating:
            x = cast(x, compute)
        return x

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _is_symbolic(args):
            return self._symbolic_call(args, kwargs)
        mask = kwargs.get("mask") if self._call_accepts_mask else kwargs.pop("mask", None)
        if mask is None and args:
            mask = masks.input_mask(args[0])
            if mask is not None and self._call_accepts_mask:
                kwargs["mask"] = mask
        args = tuple(nest.map_structure(self._convert, a) if i == 0 else a for i, a in enumerate(args))
        self._maybe_build(args)
        training = kwargs.pop("training", None)
        if training is None:
            training = current_training()
        if self._call_accepts_training:
            kwargs["training"] = training
        stack = getattr(_context, "training", None)
        if stack is None:
            stack = _context.training = []
        if not stack:  # an outermost call: the losses of the previous one go (Keras's call context)
            self._clear_losses()
        stack.append(training)
        try:
            out = self.call(*args, **kwargs)
            if self.activity_regularizer is not None:
                self.add_loss(regularizers.activity_losses(self.activity_regularizer, out))
        finally:
            stack.pop()
        if mask is not None or type(self).compute_mask is not Layer.compute_mask:
            masks.record_output_mask(out, self.compute_mask(args[0], mask) if args else None)
        shape = getattr(out, "shape", None)
        if shape is not None and len(shape):
            self._output_shape = (None,) + tuple(shape[1:])
        return out

    def call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        return inputs

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The mask of the outputs (see `engine.keras.masks`): the input's when the layer supports masking."""
        return mask if self.supports_masking else None

    def _symbolic_call(self, args: tuple, kwargs: dict) -> Any:
        first = args[0]
        shapes = nest.map_structure(lambda t: t.shape, first)
        if not self.built:
            self.build(shapes)
            self.built = True
        out_shape = self.compute_output_shape(shapes)
        self._output_shape = out_shape
        dtype = self.compute_dtype
        history = (self, args, dict(kwargs))
        if isinstance(out_shape, list) and out_shape and isinstance(out_shape[0], (tuple, list)):
            return [KerasTensor(s, dtype, self.name, history + (i,)) for i, s in enumerate(out_shape)]
        return KerasTensor(out_shape, dtype, self.name, history + (None,))

    def compute_output_shape(self, input_shape: Any) -> Any:
        """By default: run `call` on zeros (unknown dimensions as 1) and read the result's shape."""
        def zeros(shape: Any) -> Tensor:
            return convert_to_tensor(np.zeros([1 if d is None else d for d in shape],
                                              as_dtype(self.compute_dtype).np))
        is_shape = lambda s: isinstance(s, tuple) and all(d is None or isinstance(d, int) for d in s)  # noqa: E731
        dummy = zeros(input_shape) if is_shape(input_shape) else [zeros(s) for s in input_shape]
        kwargs = {"training": False} if self._call_accepts_training else {}
        out = self.call(dummy, **kwargs)
        first = input_shape if is_shape(input_shape) else input_shape[0]
        return tuple(None if (i == 0 and first and first[0] is None) else d for i, d in enumerate(out.shape))

    # ---- configuration
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype_policy.name}
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
