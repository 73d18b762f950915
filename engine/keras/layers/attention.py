"""Attention layers as Keras 3 computes them: `Attention` (dot-product, Luong), `AdditiveAttention` (Bahdanau) and
`MultiHeadAttention` (Vaswani et al.; weights laid out as Keras's EinsumDense projections: query/key/value kernels
[features, heads, key_dim], output kernel [heads, value_dim, output features]), with Keras masks (padding masks
from `Embedding(mask_zero=True)` or `Masking`, `attention_mask=`, `use_causal_mask=`) and masked scores lowered by
1e9 before the softmax."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from engine.keras import initializers
from engine.keras.layers.base import KerasTensor, Layer
from engine.keras.masks import get_mask
from engine.nn import dropout as _dropout
from engine.nn import softmax
from engine.ops import (add, cast, einsum, expand_dims, greater_equal, logical_and, matmul, multiply, range as arange,
                        reduce_sum, reshape, subtract, tanh, transpose)

__all__ = ["Attention", "AdditiveAttention", "MultiHeadAttention"]

_LARGE = 1.0e9


def _masked_softmax(scores: Any, keep: Any) -> Any:
    if keep is not None:
        scores = subtract(scores, multiply(subtract(1.0, cast(keep, scores.dtype)), _LARGE))
    return softmax(scores, axis=-1)


def _causal(rows: int, cols: int) -> Any:
    """bool [1, rows, cols]: query i sees keys j <= i."""
    i = reshape(arange(rows, dtype="int32"), [1, rows, 1])
    j = reshape(arange(cols, dtype="int32"), [1, 1, cols])
    return greater_equal(i, j)


def _and(a: Any, b: Any) -> Any:
    return b if a is None else (a if b is None else logical_and(a, b))


class _BaseAttention(Layer):
    def __init__(self, dropout: float = 0.0, seed: Optional[int] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dropout, self.seed = float(dropout), seed
        self.supports_masking = True

    def call(self, inputs: Any, mask: Any = None, training: Optional[bool] = None,
             return_attention_scores: bool = False, use_causal_mask: bool = False) -> Any:
        if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
            raise ValueError(f"{type(self).__name__} layer must be called on a list of inputs, namely "
                             f"[query, value] or [query, value, key]. Received: inputs={inputs!r}.")
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask and len(mask) > 1 else None
        scores = self._scores(q, k)
        keep = None if v_mask is None else expand_dims(v_mask, -2)
        if use_causal_mask:
            keep = _and(keep, _causal(scores.shape[-2], scores.shape[-1]))
        weights = _masked_softmax(scores, keep)
        if training and self.dropout > 0:
            weights = _dropout(weights, rate=self.dropout, seed=self.seed)
        result = matmul(weights, v)
        if q_mask is not None:
            result = multiply(result, cast(expand_dims(q_mask, -1), result.dtype))
        return (result, weights) if return_attention_scores else result

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None if not mask or mask[0] is None else mask[0]

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape[0][:-1]) + (input_shape[1][-1],)

    def get_config(self) -> dict:
        return {**super().get_config(), "dropout": self.dropout, "seed": self.seed}


class Attention(_BaseAttention):
    """Dot-product attention: softmax(query @ key^T [* scale]) @ value; `score_mode="concat"` sums
    tanh(query + key) instead.

    >>> import engine as tf
    >>> q = tf.constant([[[1.0, 0.0]]]); v = tf.constant([[[1.0, 0.0], [0.0, 1.0]]])
    >>> tf.keras.layers.Attention()([q, v]).numpy().round(3)
    array([[[0.731, 0.269]]], dtype=float32)
    """

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0,
                 seed: Optional[int] = None, **kwargs: Any) -> None:
        super().__init__(dropout=dropout, seed=seed, **kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"Invalid value for argument score_mode. Expected one of {{'dot', 'concat'}}. "
                             f"Received: score_mode={score_mode}")
        self.use_scale, self.score_mode = bool(use_scale), score_mode

    def build(self, input_shape: Any) -> None:
        self.scale = self.add_weight(shape=(), initializer="ones", name="scale") if self.use_scale else None
        self.concat_score_weight = self.add_weight(shape=(), initializer="ones", name="concat_score_weight") \
            if self.score_mode == "concat" else None
        self.built = True

    def _scores(self, q: Any, k: Any) -> Any:
        if self.score_mode == "dot":
            scores = matmul(q, transpose(k, [0, 2, 1]))
            return multiply(scores, self.read(self.scale)) if self.scale is not None else scores
        pairs = add(expand_dims(q, -2), expand_dims(k, -3))
        if self.scale is not None:
            pairs = multiply(self.read(self.scale), pairs)
        return multiply(self.read(self.concat_score_weight), reduce_sum(tanh(pairs), axis=-1))

    def get_config(self) -> dict:
        return {**super().get_config(), "use_scale": self.use_scale, "score_mode": self.score_mode}


class AdditiveAttention(_BaseAttention):
    """Additive (Bahdanau) attention: scores = sum(scale * tanh(query + key)) over features."""

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, **kwargs: Any) -> None:
        super().__init__(dropout=dropout, **kwargs)
        self.use_scale = bool(use_scale)

    def build(self, input_shape: Any) -> None:
        dim = input_shape[0][-1]
        self.scale = self.add_weight(shape=(dim,), initializer="glorot_uniform", name="scale") \
            if self.use_scale else None
        self.built = True

    def _scores(self, q: Any, k: Any) -> Any:
        pairs = tanh(add(expand_dims(q, -2), expand_dims(k, -3)))
        if self.scale is not None:
            pairs = multiply(self.read(self.scale), pairs)
        return reduce_sum(pairs, axis=-1)

    def get_config(self) -> dict:
        return {**super().get_config(), "use_scale": self.use_scale}


class MultiHeadAttention(Layer):
    """Multi-head attention over [batch, time, features] query and value (and key, default value).

    >>> import engine as tf
    >>> mha = tf.keras.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    >>> out, scores = mha(tf.ones([1, 4, 5]), tf.ones([1, 6, 5]), return_attention_scores=True)
    >>> out.shape, scores.shape
    (TensorShape([1, 4, 5]), TensorShape([1, 2, 4, 6]))
    """

    def __init__(self, num_heads: int, key_dim: int, value_dim: Optional[int] = None, dropout: float = 0.0,
                 use_bias: bool = True, output_shape: Any = None, attention_axes: Any = None,
                 flash_attention: Any = None, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None, bias_constraint: Any = None,
                 seed: Optional[int] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if attention_axes is not None and tuple(np.atleast_1d(attention_axes)) not in ((1,), (-2,)):
            raise NotImplementedError("MultiHeadAttention: attention over axes other than the time axis "
                                      "(attention_axes) is not supported yet")
        self.num_heads, self.key_dim = int(num_heads), int(key_dim)
        self.value_dim = int(value_dim) if value_dim else self.key_dim
        self.dropout, self.use_bias, self.seed = float(dropout), bool(use_bias), seed
        self._output_shape_arg = output_shape
        self.attention_axes = attention_axes
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.supports_masking = True
        self._projections_built = False

    def build(self, query_shape: Any = None, value_shape: Any = None, key_shape: Any = None) -> None:
        if query_shape is None or value_shape is None:
            return  # built at the first call, which sees the value's shape too
        key_shape = value_shape if key_shape is None else key_shape
        heads, dk, dv = self.num_heads, self.key_dim, self.value_dim
        out_dim = self._output_dim(query_shape)
        for name, dim, size in (("query", query_shape[-1], dk), ("key", key_shape[-1], dk),
                                ("value", value_shape[-1], dv)):
            setattr(self, f"{name}_kernel", self.add_weight(shape=(dim, heads, size), name=f"{name}/kernel",
                                                            initializer=self.kernel_initializer))
            setattr(self, f"{name}_bias", self.add_weight(shape=(heads, size), name=f"{name}/bias",
                                                          initializer=self.bias_initializer)
                    if self.use_bias else None)
        self.output_kernel = self.add_weight(shape=(heads, dv, out_dim), name="attention_output/kernel",
                                             initializer=self.kernel_initializer)
        self.output_bias = self.add_weight(shape=(out_dim,), name="attention_output/bias",
                                           initializer=self.bias_initializer) if self.use_bias else None
        self._projections_built = True
        self.built = True

    def _output_dim(self, query_shape: Any) -> int:
        given = self._output_shape_arg
        if given is None:
            return int(query_shape[-1])
        return int(given[-1] if isinstance(given, (list, tuple)) else given)

    def _maybe_build(self, args: tuple) -> None:
        self.built = True  # the projections are made in `call`, from query, value and key

    def _symbolic_call(self, args: tuple, kwargs: dict) -> Any:
        shapes = [a.shape for a in args] + [kwargs[k].shape for k in ("value", "key") if isinstance(
            kwargs.get(k), KerasTensor)]
        if not self._projections_built:
            self.build(*shapes[:3])
        return super()._symbolic_call(args, kwargs)

    def compute_output_shape(self, query_shape: Any, *rest: Any) -> Any:
        return tuple(query_shape[:-1]) + (self._output_dim(query_shape),)

    def _project(self, x: Any, name: str) -> Any:
        y = einsum("abc,cde->abde", x, self.read(getattr(self, f"{name}_kernel")))
        bias = getattr(self, f"{name}_bias")
        return add(y, self.read(bias)) if bias is not None else y

    def call(self, query: Any, value: Any, key: Any = None, query_mask: Any = None, value_mask: Any = None,
             key_mask: Any = None, attention_mask: Any = None, return_attention_scores: bool = False,
             training: Optional[bool] = None, use_causal_mask: bool = False) -> Any:
        key = value if key is None else key
        if not self._projections_built:
            self.build(tuple(query.shape), tuple(value.shape), tuple(key.shape))
        query_mask = get_mask(query) if query_mask is None else query_mask
        value_mask = get_mask(value) if value_mask is None else value_mask
        key_mask = get_mask(key) if key_mask is None and key is not value else key_mask
        keep = None if query_mask is None else expand_dims(cast(query_mask, "bool"), -1)
        for m in (value_mask, key_mask):
            if m is not None:
                keep = _and(keep, expand_dims(cast(m, "bool"), -2))
        if use_causal_mask:
            keep = _and(keep, _causal(query.shape[1], value.shape[1]))
        if attention_mask is not None:
            keep = _and(cast(attention_mask, "bool"), keep)
        q = multiply(self._project(query, "query"), 1.0 / float(np.sqrt(self.key_dim)))
        k, v = self._project(key, "key"), self._project(value, "value")
        scores = einsum("aecd,abcd->acbe", k, q)  # [batch, heads, query time, key time]
        scores = _masked_softmax(scores, None if keep is None else expand_dims(keep, -3))
        weights = _dropout(scores, rate=self.dropout, seed=self.seed) if training and self.dropout > 0 else scores
        attended = einsum("acbe,aecd->abcd", weights, v)
        out = einsum("abcd,cde->abe", attended, self.read(self.output_kernel))
        if self.output_bias is not None:
            out = add(out, self.read(self.output_bias))
        return (out, scores) if return_attention_scores else out

    def get_config(self) -> dict:
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
                "output_shape": self._output_shape_arg, "attention_axes": self.attention_axes,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer), "seed": self.seed}
