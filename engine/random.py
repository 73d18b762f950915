"""`engine.random`: TensorFlow's tf.random (set_seed, uniform, normal, truncated_normal) on counter-based Philox.

Owns the random streams and the samplers built on the op-table row `random_uniform` (ir/ops_state.py).

The stream definition, exactly:

- A *stream* is a pair (key, offset) held in two int64 Variables: `key` is the 64-bit Philox 4x32-10 key, `offset`
  the index of the next unused 128-bit counter block. A draw of n values of a dtype reads
  `random_uniform(key, offset)` and advances offset by `ir.ops_state.blocks_needed(shape, dtype)` (4 float32 or 2
  float64 values per block). Keeping the state in Variables makes a traced function read and advance it on every
  call, as TensorFlow's stateful random ops do, and eager and compiled code draw the same numbers.
- Keys: `splitmix64(x)` is SplitMix64's output function applied to x mod 2**64 (add 0x9E3779B97F4A7C15, then the
  xor-shift-multiply finalizer). The global stream has key `splitmix64(global_seed)`; the stream of op seed `s` has
  key `splitmix64(splitmix64(global_seed) ^ (s mod 2**64))`, one stream (and so one counter) per (global seed, op
  seed) pair, as TensorFlow keeps one kernel per pair. `set_seed` rewinds every stream to offset 0.
- Seeds, as TensorFlow: without `set_seed`, draws without an op seed use a key taken from os.urandom at import, and
  op seeds combine with the default global seed 87654321 (so `uniform(..., seed=1)` repeats across runs).
- `uniform` floats: `minval + u * (maxval - minval)` with u the row's uniform [0, 1) (24 bits for float32, 53 for
  float64); a value that rounds up to maxval is replaced by minval, so results lie in [minval, maxval).
- `uniform` integers: one float64 u per value, `minval + floor(u * (maxval - minval))` with the span and the sum
  in int64; equally likely values for spans up to 2**53, clamped to [minval, maxval) beyond (int64 only).
- `normal`: Box-Muller. For n values, m = ceil(n/2) and one draw of shape (2, m) gives rows u1, u2;
  r = sqrt(-2 log(1 - u1)) (1 - u1 lies in (0, 1], so no log(0)), t = 2 pi u2, and the values are the first n of
  concat(r cos t, r sin t), reshaped, times stddev, plus mean.
- `truncated_normal`: by inversion, n values from one draw: x = (2u - 1) erf(sqrt 2),
  z = sqrt(2) erfinv(x), with erfinv from Giles' polynomial (2010) and one Newton step on erf; z lies in [-2, 2].

Every sampler is a composite of public ops over the uniform row, so it traces like any other op.
"""
from __future__ import annotations

import math
import numbers
import os
import threading
from typing import Any, Optional

import numpy as np

from engine import dispatch
from engine.convert import convert_to_tensor
from engine.ops import (add, cast, clip_by_value, concat, cos, divide, equal, erf, exp, floor, floordiv, greater, log,
                        maximum, minimum, multiply, negative, reduce_all, reshape, sin, split, sqrt, subtract, unstack,
                        where)
from engine.tensor import Tensor, TensorShape
from engine.variables import Variable
from ir.opdef import OPS
from ir.ops_state import blocks_needed
from ir.types import DType, as_dtype, float32, float64, int64

__all__ = ["set_seed", "get_global_seed", "uniform", "normal", "truncated_normal"]

_MASK64 = (1 << 64) - 1
DEFAULT_GLOBAL_SEED = 87654321  # TensorFlow's DEFAULT_GRAPH_SEED, used with op seeds when no global seed is set


def splitmix64(x: int) -> int:
    """SplitMix64's output for state x (mod 2**64): a bijection that spreads nearby seeds far apart."""
    z = (x + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def _signed64(x: int) -> int:
    x &= _MASK64
    return x - (1 << 64) if x >= 1 << 63 else x


def _stream_key(global_seed: int, op_seed: Optional[int]) -> int:
    g = splitmix64(global_seed & _MASK64)
    return g if op_seed is None else splitmix64(g ^ (op_seed & _MASK64))


class _Stream:
    """One Philox stream: its key and next counter block, as non-trainable int64 Variables."""

    def __init__(self, key: int) -> None:
        self.key = Variable(np.int64(_signed64(key)), trainable=False, name="random_key")
        self.offset = Variable(np.int64(0), trainable=False, name="random_offset")

    def reset(self, key: int) -> None:
        self.key.assign(np.int64(_signed64(key)))
        self.offset.assign(np.int64(0))

    def draw(self, shape: tuple[int, ...], dtype: DType) -> Tensor:
        # Reading the counter and advancing it is one step: two threads drawing at once get different numbers.
        with _lock:
            u = dispatch.apply(OPS["random_uniform"], self.key.value(), self.offset.value(), shape=shape,
                               dtype=dtype)
            self.offset.assign_add(np.int64(blocks_needed(shape, dtype)))
        return u

    def draw_like(self, like: Tensor, dtype: DType) -> Tensor:
        """Uniform [0, 1) numbers of like's shape, whose unknown dims (while tracing) are sizes at run time: the
        stream advances by the blocks that many numbers take, computed at run time too."""
        from engine.ops.funnel import run_time_sizes
        from engine.ops.shape_ops import element_count
        shape = tuple(like.shape)
        if None not in shape:
            return self.draw(shape, dtype)
        u = dispatch.apply(OPS["random_uniform"], self.key.value(), self.offset.value(),
                           *run_time_sizes(shape, [like]), shape=shape, dtype=dtype)
        n = element_count(like, range(len(shape)))
        words = multiply(n, _const(2 if dtype.size == 8 else 1, int64))
        self.offset.assign_add(floordiv(add(words, _const(3, int64)), _const(4, int64)))
        return u


_lock = threading.RLock()
_global_seed: Optional[int] = None
_global_stream = _Stream(int.from_bytes(os.urandom(8), "little"))
_op_streams: dict[int, _Stream] = {}


def _check_seed(seed: Any, what: str) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{what} must be a Python integer, got {type(seed).__name__}: {seed!r}")
    return int(seed)


def set_seed(seed: Optional[int]) -> None:
    """Sets the global random seed, as `tf.random.set_seed`: the same calls after it give the same numbers.

    >>> import engine as tf
    >>> tf.random.set_seed(7); a = tf.random.uniform([3])
    >>> tf.random.set_seed(7); b = tf.random.uniform([3])
    >>> bool(tf.reduce_all(a == b))
    True

    `set_seed(None)` forgets the global seed: later draws are seeded from the operating system again.
    """
    with _lock:
        _set_seed(seed)


def _set_seed(seed: Optional[int]) -> None:
    global _global_seed
    if seed is None:
        _global_seed = None
        _global_stream.reset(int.from_bytes(os.urandom(8), "little"))
    else:
        _global_seed = _check_seed(seed, "set_seed: seed")
        _global_stream.reset(_stream_key(_global_seed, None))
    for op_seed, stream in _op_streams.items():
        stream.reset(_stream_key(_effective_global_seed(), op_seed))


def get_global_seed() -> Optional[int]:
    """The seed given to the last `set_seed`, or None."""
    return _global_seed


def _effective_global_seed() -> int:
    return DEFAULT_GLOBAL_SEED if _global_seed is None else _global_seed


def _stream(seed: Any) -> _Stream:
    if seed is None:
        return _global_stream
    op_seed = _check_seed(seed, "seed")
    with _lock:
        stream = _op_streams.get(op_seed)
        if stream is None:
            stream = _op_streams[op_seed] = _Stream(_stream_key(_effective_global_seed(), op_seed))
    return stream


# ---- argument checks ------------------------------------------------------------------------------------------------
def _shape(public: str, shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (Tensor, Variable, np.ndarray)):
        arr = np.asarray(shape)
        if arr.ndim != 1 or arr.dtype.kind not in "iu":
            raise ValueError(f"{public}: shape must be a 1-D integer tensor, got {arr.dtype} of shape {arr.shape}")
        shape = arr.tolist()
    if isinstance(shape, numbers.Integral) or not isinstance(shape, (list, tuple, TensorShape)):
        raise ValueError(f"{public}: shape must be a list or tuple of dimensions (or a 1-D integer tensor), "
                         f"got {shape!r}")
    dims = []
    for d in shape:
        if isinstance(d, (bool, np.bool_)) or not isinstance(d, numbers.Integral) or int(d) < 0:
            raise ValueError(f"{public}: every dimension of shape {list(shape)} must be a non-negative integer")
        dims.append(int(d))
    return tuple(dims)


def _float_dtype(public: str, dtype: Any) -> DType:
    dt = as_dtype(dtype)
    if not dt.is_floating:
        raise TypeError(f"{public}: dtype must be float32 or float64, got {dt.name}")
    return dt


def _param(public: str, what: str, value: Any, dtype: DType, dims: tuple[int, ...]) -> Tensor:
    """A distribution parameter as a tensor of the result's dtype that broadcasts into the result's shape."""
    t = value.value() if isinstance(value, Variable) else value
    if isinstance(t, Tensor):
        if t.dtype is not dtype:
            raise TypeError(f"{public}: {what} has dtype {t.dtype.name}, but the result's dtype is {dtype.name}")
    else:
        t = convert_to_tensor(t, dtype=dtype)
    try:
        fits = np.broadcast_shapes(tuple(t.shape), dims) == dims
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{public}: {what} of shape {tuple(t.shape)} does not broadcast to the requested shape "
                         f"{dims}")
    return t


def _const(value: float, dtype: DType) -> Tensor:
    """A scalar constant of the computation's dtype, spelled out so float64 math stays float64."""
    return convert_to_tensor(value, dtype=dtype)


# ---- samplers -------------------------------------------------------------------------------------------------------
def uniform_like(like: Tensor, dtype: Any = float32, seed: Optional[int] = None) -> Tensor:
    """Uniform [0, 1) floats of like's shape, unknown dims included (dropout's mask inside a traced step whose
    batch dimension is None)."""
    return _stream(seed).draw_like(like, as_dtype(dtype))


def uniform(shape: Any, minval: Any = 0, maxval: Any = None, dtype: Any = float32, seed: Optional[int] = None,
            name: Optional[str] = None) -> Tensor:
    """Values uniform in [minval, maxval), as `tf.random.uniform`.

    Floats default to [0, 1); integer dtypes need `maxval`.

    >>> import engine as tf
    >>> x = tf.random.uniform([2, 3], minval=-1.0, maxval=1.0)
    >>> x.shape, x.dtype.name
    (TensorShape([2, 3]), 'float32')
    """
    dims = _shape("uniform", shape)
    dt = as_dtype(dtype)
    if dt.is_floating:
        lo = _param("uniform", "minval", minval, dt, dims)
        hi = _param("uniform", "maxval", 1 if maxval is None else maxval, dt, dims)
        x = add(multiply(_stream(seed).draw(dims, dt), subtract(hi, lo)), lo)
        # u < 1, but u * (hi - lo) + lo can still round up to hi; keep the interval half-open.
        return where(equal(x, hi), lo, x)
    if not dt.is_integer:
        raise TypeError(f"uniform: dtype must be a float or integer dtype, got {dt.name}")
    if maxval is None:
        raise ValueError(f"uniform: maxval must be given for the integer dtype {dt.name}")
    lo = cast(_param("uniform", "minval", minval, dt, dims), int64)
    hi = cast(_param("uniform", "maxval", maxval, dt, dims), int64)
    span = subtract(hi, lo)  # exact in int64 for int32 bounds; an int64 range of 2**63 or more wraps negative
    dispatch.apply(OPS["assert"], reduce_all(greater(span, _const(0, int64))), lo, hi,
                   message="uniform: need minval < maxval, and maxval - minval < 2**63 (minval, maxval)",
                   summarize=3)
    u = _stream(seed).draw(dims, float64)
    k = cast(floor(multiply(u, cast(span, float64))), int64)
    # k < span whenever span <= 2**53; for wider int64 ranges float64 rounding may overshoot, so clamp.
    r = minimum(maximum(add(lo, k), lo), subtract(hi, _const(1, int64)))
    return cast(r, dt)


def normal(shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = float32, seed: Optional[int] = None,
           name: Optional[str] = None) -> Tensor:
    """Values from a normal distribution, as `tf.random.normal` (Box-Muller over the uniform stream).

    >>> import engine as tf
    >>> tf.random.normal([4], mean=10.0, stddev=0.1).shape
    TensorShape([4])
    """
    dims = _shape("normal", shape)
    dt = _float_dtype("normal", dtype)
    mu = _param("normal", "mean", mean, dt, dims)
    sigma = _param("normal", "stddev", stddev, dt, dims)
    n = int(np.prod(dims, dtype=np.int64))
    m = (n + 1) // 2
    u1, u2 = unstack(_stream(seed).draw((2, m), dt))
    r = sqrt(multiply(log(subtract(_const(1, dt), u1)), _const(-2, dt)))
    theta = multiply(u2, _const(2 * math.pi, dt))
    z = concat([multiply(r, cos(theta)), multiply(r, sin(theta))], 0)
    if 2 * m != n:
        z = split(z, [n, 1])[0]
    return add(multiply(reshape(z, dims), sigma), mu)


# Giles, "Approximating the erfinv function" (2010), central branch: w = -log(1 - x^2) < 5, which covers |x| <=
# erf(sqrt 2) (w < 2.42). Its relative error is ~5e-8; one Newton step on erf brings float64 to ~1e-15.
_GILES = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
          -0.00417768164, 0.246640727, 1.50140941)


def _erfinv_central(x: Tensor) -> Tensor:
    dt = x.dtype
    one = _const(1, dt)
    w = subtract(negative(log(multiply(subtract(one, x), add(one, x)))), _const(2.5, dt))
    p = _const(_GILES[0], dt)
    for c in _GILES[1:]:
        p = add(multiply(p, w), _const(c, dt))
    y = multiply(p, x)
    # Newton on erf(y) = x, with erf'(y) = 2/sqrt(pi) exp(-y^2).
    slope = multiply(exp(negative(multiply(y, y))), _const(2 / math.sqrt(math.pi), dt))
    return subtract(y, divide(subtract(erf(y), x), slope))


def truncated_normal(shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = float32,
                     seed: Optional[int] = None, name: Optional[str] = None) -> Tensor:
    """Normal values conditioned on lying within two standard deviations of the mean, as `tf.random.truncated_normal`.

    >>> import engine as tf
    >>> x = tf.random.truncated_normal([1000])
    >>> bool(tf.reduce_all(tf.abs(x) <= 2.0))
    True
    """
    dims = _shape("truncated_normal", shape)
    dt = _float_dtype("truncated_normal", dtype)
    mu = _param("truncated_normal", "mean", mean, dt, dims)
    sigma = _param("truncated_normal", "stddev", stddev, dt, dims)
    u = _stream(seed).draw(dims, dt)
    x = multiply(subtract(multiply(u, _const(2, dt)), _const(1, dt)), _const(math.erf(math.sqrt(2)), dt))
    z = clip_by_value(multiply(_erfinv_central(x), _const(math.sqrt(2), dt)), _const(-2, dt), _const(2, dt))
    return add(multiply(z, sigma), mu)
