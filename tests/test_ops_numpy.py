"""The public ops (engine.*, engine.math.*, engine.nn.*) against numpy, over drawn shapes, values and dtypes.

Scalars and size-0 dimensions are drawn wherever numpy defines the result. Every comparison checks dtype, shape and
values: exact for integers and bools, a tight relative tolerance for floats (see `oracles.assert_tensor`).
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import engine as tf
from oracles import ALL, FLOATS, INTS, NUMERIC, arrays, assert_tensor, elements, shapes

# ---- unary ops -------------------------------------------------------------------------------------------------------
_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (1 / (1 + np.exp(-x.astype(np.float64)))).astype(x.dtype)


# name -> (engine op, numpy oracle in the input's dtype, dtypes, (lo, hi) domain, rtol for float32 or None)
UNARY: dict[str, tuple[Callable, Callable, tuple, tuple[float, float], Any]] = {
    "negative": (tf.negative, np.negative, NUMERIC, (-100, 100), None),
    "abs": (tf.abs, np.abs, NUMERIC, (-100, 100), None),
    "sign": (tf.sign, np.sign, NUMERIC, (-100, 100), None),
    "square": (tf.square, np.square, NUMERIC, (-100, 100), None),
    "sqrt": (tf.sqrt, np.sqrt, FLOATS, (0, 100), None),
    "rsqrt": (tf.math.rsqrt, lambda x: 1 / np.sqrt(x), FLOATS, (0.01, 100), None),
    "exp": (tf.exp, np.exp, FLOATS, (-30, 30), None),
    "log": (tf.math.log, np.log, FLOATS, (1e-3, 100), None),
    "log1p": (tf.math.log1p, np.log1p, FLOATS, (-0.999, 100), None),
    "expm1": (tf.math.expm1, np.expm1, FLOATS, (-30, 30), None),
    "sin": (tf.math.sin, np.sin, FLOATS, (-10, 10), None),
    "cos": (tf.math.cos, np.cos, FLOATS, (-10, 10), None),
    "tanh": (tf.math.tanh, np.tanh, FLOATS, (-20, 20), None),
    "sigmoid": (tf.sigmoid, _sigmoid, FLOATS, (-40, 40), 1e-6),
    "nn.sigmoid": (tf.nn.sigmoid, _sigmoid, FLOATS, (-40, 40), 1e-6),
    "erf": (tf.math.erf, lambda x: _erf(x).astype(x.dtype), FLOATS, (-4, 4), None),
    "floor": (tf.math.floor, np.floor, FLOATS, (-100, 100), None),
    "ceil": (tf.math.ceil, np.ceil, FLOATS, (-100, 100), None),
    "round": (tf.math.round, np.round, FLOATS, (-100, 100), None),
    "nn.relu": (tf.nn.relu, lambda x: np.maximum(x, np.zeros((), x.dtype)), NUMERIC, (-100, 100), None),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary(name: str, data: st.DataObject) -> None:
    fn, oracle, dtypes, (lo, hi), rtol = UNARY[name]
    dtype = data.draw(st.sampled_from(dtypes))
    x = data.draw(arrays(dtype, shapes(), lo, hi))
    with np.errstate(all="ignore"):
        want = oracle(x)
    assert_tensor(fn(tf.constant(x)), want, rtol=rtol if np.dtype(dtype) == np.float32 else None)


@pytest.mark.parametrize("fn", [tf.sqrt, tf.exp, tf.math.log, tf.sin, tf.tanh, tf.sigmoid, tf.math.erf])
def test_float_only_unary_ops_refuse_integers(fn: Callable) -> None:
    with pytest.raises(TypeError, match="int32"):
        fn(tf.constant([1, 2]))


def test_round_is_half_to_even() -> None:
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 2.4999, -3.7], np.float32)
    assert_tensor(tf.math.round(tf.constant(x)), np.array([-2, -2, -0, 0, 2, 2, 4, 2, -4], np.float32))
    assert_tensor(tf.round(tf.constant(x, dtype=tf.float64)), np.round(x.astype(np.float64)))


def test_round_of_integers_is_the_identity() -> None:
    """tf.math.round returns integer tensors unchanged."""
    assert_tensor(tf.math.round(tf.constant([3, -4], dtype=tf.int64)), np.array([3, -4], np.int64))


def test_unary_special_values() -> None:
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30], np.float32)
    for fn, oracle in [(tf.exp, np.exp), (tf.math.log, np.log), (tf.sqrt, np.sqrt), (tf.tanh, np.tanh),
                       (tf.math.log1p, np.log1p), (tf.abs, np.abs), (tf.sign, np.sign)]:
        with np.errstate(all="ignore"):
            assert_tensor(fn(tf.constant(x)), oracle(x))
    assert_tensor(tf.sigmoid(tf.constant(x)), np.array([0.5, 0.5, 1, 0, np.nan, 0.5], np.float32))


# ---- binary ops ------------------------------------------------------------------------------------------------------
def _pair(data: st.DataObject, dtype: Any, lo: float, hi: float, lo_y: Any = None, hi_y: Any = None) -> tuple:
    shp = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
    x = data.draw(arrays(dtype, shp.input_shapes[0], lo, hi))
    y = data.draw(arrays(dtype, shp.input_shapes[1], lo if lo_y is None else lo_y, hi if hi_y is None else hi_y))
    return x, y


def _away_from_zero(y: np.ndarray) -> np.ndarray:
    return np.where(np.abs(y) < 0.5, np.ones_like(y), y) if y.dtype.kind == "f" else np.where(y == 0, 1, y).astype(
        y.dtype)


BINARY: dict[str, tuple[Callable, Callable, tuple]] = {
    "add": (tf.add, np.add, NUMERIC),
    "subtract": (tf.subtract, np.subtract, NUMERIC),
    "multiply": (tf.multiply, np.multiply, NUMERIC),
    "maximum": (tf.maximum, np.maximum, NUMERIC),
    "minimum": (tf.minimum, np.minimum, NUMERIC),
    "equal": (tf.equal, np.equal, ALL),
    "not_equal": (tf.not_equal, np.not_equal, ALL),
    "less": (tf.less, np.less, NUMERIC),
    "less_equal": (tf.less_equal, np.less_equal, NUMERIC),
    "greater": (tf.greater, np.greater, NUMERIC),
    "greater_equal": (tf.greater_equal, np.greater_equal, NUMERIC),
    "logical_and": (tf.logical_and, np.logical_and, (np.bool_,)),
    "logical_or": (tf.logical_or, np.logical_or, (np.bool_,)),
    "+": (lambda a, b: a + b, np.add, NUMERIC),
    "*": (lambda a, b: a * b, np.multiply, NUMERIC),
    "<": (lambda a, b: a < b, np.less, NUMERIC),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_broadcasting(name: str, data: st.DataObject) -> None:
    fn, oracle, dtypes = BINARY[name]
    dtype = data.draw(st.sampled_from(dtypes))
    # Small integers on a coarse grid: products never overflow, and comparisons see ties.
    x, y = _pair(data, dtype, -20, 20)
    assert_tensor(fn(tf.constant(x), tf.constant(y)), oracle(x, y))


@given(data=st.data())
def test_divide(data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(NUMERIC))
    x, y = _pair(data, dtype, -50, 50)
    y = _away_from_zero(y)
    want = np.true_divide(x, y)  # int/int gives float64, as TensorFlow's truediv
    assert_tensor(tf.divide(tf.constant(x), tf.constant(y)), want.astype(np.result_type(want, x.dtype)))
    assert_tensor(tf.constant(x) / tf.constant(y), want.astype(np.result_type(want, x.dtype)))


@pytest.mark.parametrize("op, oracle", [(tf.math.floordiv, np.floor_divide), (tf.math.floormod, np.mod),
                                        (lambda a, b: a // b, np.floor_divide), (lambda a, b: a % b, np.mod)],
                         ids=["floordiv", "floormod", "//", "%"])
@given(data=st.data())
def test_floor_division_and_modulo(op: Callable, oracle: Callable, data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(NUMERIC))
    x, y = _pair(data, dtype, -50, 50)
    y = _away_from_zero(y)
    assert_tensor(op(tf.constant(x), tf.constant(y)), oracle(x, y))


@given(a=st.integers(-1000, 1000), b=st.integers(-1000, 1000).filter(bool))
def test_floor_semantics_match_python(a: int, b: int) -> None:
    assert int(tf.constant(a) // b) == a // b
    assert int(tf.constant(a) % b) == a % b
    assert float(tf.constant(float(a) / 8) % (b / 4)) == pytest.approx((a / 8) % (b / 4), abs=1e-5)


@given(data=st.data())
def test_pow(data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(NUMERIC))
    if np.dtype(dtype).kind == "f":
        x, y = _pair(data, dtype, 0.1, 5, -3, 3)
    else:
        x, y = _pair(data, dtype, -5, 5, 0, 4)
    assert_tensor(tf.pow(tf.constant(x), tf.constant(y)), np.power(x, y), rtol=1e-6)
    assert_tensor(tf.constant(x) ** tf.constant(y), np.power(x, y), rtol=1e-6)


@given(data=st.data())
def test_logical_not(data: st.DataObject) -> None:
    x = data.draw(arrays(np.bool_, shapes()))
    assert_tensor(tf.logical_not(tf.constant(x)), np.logical_not(x))


@given(data=st.data())
def test_where_broadcasts_all_three(data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(ALL))
    shp = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3))
    c = data.draw(arrays(np.bool_, shp.input_shapes[0]))
    x = data.draw(arrays(dtype, shp.input_shapes[1]))
    y = data.draw(arrays(dtype, shp.input_shapes[2]))
    assert_tensor(tf.where(tf.constant(c), tf.constant(x), tf.constant(y)), np.where(c, x, y))


@given(data=st.data())
def test_cast(data: st.DataObject) -> None:
    src, dst = data.draw(st.sampled_from(ALL)), data.draw(st.sampled_from(ALL))
    x = data.draw(arrays(src, shapes(), -1000, 1000))
    # Floats to integers truncate toward zero, numbers to bool test for non-zero: numpy's astype does both.
    assert_tensor(tf.cast(tf.constant(x), tf.as_dtype(np.dtype(dst).name)), x.astype(dst))


@given(data=st.data())
def test_clip_by_value(data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(NUMERIC))
    x = data.draw(arrays(dtype, shapes(), -100, 100))
    lo = data.draw(elements(dtype, -50, 50))
    hi = data.draw(elements(dtype, lo, 60))
    want = np.clip(x, np.asarray(lo, dtype), np.asarray(hi, dtype))
    assert_tensor(tf.clip_by_value(tf.constant(x), lo, hi), want)


# ---- reductions ------------------------------------------------------------------------------------------------------
@st.composite
def reduce_args(draw: Any, dtypes: tuple = NUMERIC, lo: float = -10, hi: float = 10, min_side: int = 0) -> tuple:
    dtype = draw(st.sampled_from(dtypes))
    x = draw(arrays(dtype, shapes(min_side=min_side), lo, hi))
    r = x.ndim
    axis = draw(st.one_of(st.none(), st.integers(-r, r - 1) if r else st.none(),
                          st.lists(st.integers(-r, r - 1), max_size=r, unique_by=lambda a: a % max(r, 1))
                          if r else st.none()))
    return x, axis, draw(st.booleans())


def _np_axis(axis: Any) -> Any:
    return tuple(axis) if isinstance(axis, list) else axis


def _reduced_size(x: np.ndarray, axis: Any) -> int:
    axes = range(x.ndim) if axis is None else [axis] if isinstance(axis, int) else axis
    return int(np.prod([x.shape[a] for a in axes]))


@pytest.mark.parametrize("name", ["reduce_sum", "reduce_prod", "reduce_max", "reduce_min"])
@given(args=reduce_args(lo=-3, hi=3))
def test_reduce(name: str, args: tuple) -> None:
    x, axis, keepdims = args
    oracle = {"reduce_sum": np.sum, "reduce_prod": np.prod, "reduce_max": np.max, "reduce_min": np.min}[name]
    if name in ("reduce_max", "reduce_min"):
        assume(_reduced_size(x, axis) > 0)  # numpy has no identity for an empty max
        want = oracle(x, axis=_np_axis(axis), keepdims=keepdims)
    else:
        want = oracle(x, axis=_np_axis(axis), keepdims=keepdims, dtype=x.dtype)
    assert_tensor(getattr(tf, name)(tf.constant(x), axis=axis, keepdims=keepdims), np.asarray(want, x.dtype),
                  rtol=1e-5)


@given(args=reduce_args(lo=-100, hi=100))
def test_reduce_mean(args: tuple) -> None:
    x, axis, keepdims = args
    assume(_reduced_size(x, axis) > 0)
    if x.dtype.kind == "f":
        want = np.mean(x.astype(np.float64), axis=_np_axis(axis), keepdims=keepdims).astype(x.dtype)
    else:  # the integer mean truncates toward zero, as TensorFlow's integer division does
        s = np.sum(x.astype(np.int64), axis=_np_axis(axis), keepdims=keepdims)
        want = (np.sign(s) * (np.abs(s) // _reduced_size(x, axis))).astype(x.dtype)
    assert_tensor(tf.reduce_mean(tf.constant(x), axis=axis, keepdims=keepdims), want, rtol=1e-5, atol=1e-5)


def test_reductions_of_empty_axes_give_the_identity() -> None:
    x = np.zeros((0, 3), np.float32)
    assert_tensor(tf.reduce_sum(x, axis=0), np.zeros(3, np.float32))
    assert_tensor(tf.reduce_prod(x, axis=0), np.ones(3, np.float32))
    assert_tensor(tf.reduce_max(x, axis=0), np.full(3, -np.inf, np.float32))
    assert_tensor(tf.reduce_min(x, axis=0), np.full(3, np.inf, np.float32))
    assert_tensor(tf.reduce_max(np.zeros((0,), np.int32)), np.int32(np.iinfo(np.int32).min))
    assert_tensor(tf.reduce_mean(x, axis=0), np.full(3, np.nan, np.float32))


@pytest.mark.parametrize("name", ["reduce_std", "reduce_variance", "reduce_logsumexp"])
@given(args=reduce_args(dtypes=FLOATS))
def test_math_statistics(name: str, args: tuple) -> None:
    x, axis, keepdims = args
    assume(_reduced_size(x, axis) > 0)
    x64, ax = x.astype(np.float64), _np_axis(axis)
    if name == "reduce_std":
        want = np.std(x64, axis=ax, keepdims=keepdims)
    elif name == "reduce_variance":
        want = np.var(x64, axis=ax, keepdims=keepdims)
    else:
        m = np.max(x64, axis=ax, keepdims=True)
        want = np.log(np.sum(np.exp(x64 - m), axis=ax, keepdims=True)) + m
        want = want if keepdims else np.squeeze(want, axis=ax if ax is not None else tuple(range(x.ndim)))
    assert_tensor(getattr(tf.math, name)(tf.constant(x), axis=axis, keepdims=keepdims), want.astype(x.dtype),
                  rtol=1e-4 if x.dtype == np.float32 else 1e-10, atol=1e-5)


def test_reduce_logsumexp_is_stable_for_large_values() -> None:
    x = np.array([[1000.0, 1000.0], [-1000.0, -np.inf]], np.float32)
    assert_tensor(tf.reduce_logsumexp(x, axis=1), np.array([1000 + np.log(2), -1000], np.float32))


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(data=st.data())
def test_argmax_argmin(name: str, data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(NUMERIC))
    x = data.draw(arrays(dtype, shapes(min_dims=1, min_side=1), -3, 3))  # small range: ties pick the first index
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    out_type = data.draw(st.sampled_from([None, tf.int32, tf.int64]))
    want = getattr(np, name)(x, axis=0 if axis is None else axis)
    kwargs = {} if out_type is None else {"output_type": out_type}
    got = getattr(tf.math, name)(tf.constant(x), axis=axis, **kwargs)
    assert_tensor(got, want.astype(np.int32 if out_type is tf.int32 else np.int64))


# ---- matmul ----------------------------------------------------------------------------------------------------------
@given(data=st.data())
def test_matmul_batched_with_transposes(data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(NUMERIC))
    batch = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3))
    m, k, n = (data.draw(st.integers(0, 4)) for _ in range(3))
    ta, tb = data.draw(st.booleans()), data.draw(st.booleans())
    a = data.draw(arrays(dtype, batch.input_shapes[0] + ((k, m) if ta else (m, k)), -10, 10))
    b = data.draw(arrays(dtype, batch.input_shapes[1] + ((n, k) if tb else (k, n)), -10, 10))
    want = np.matmul(np.swapaxes(a, -1, -2) if ta else a, np.swapaxes(b, -1, -2) if tb else b)
    got = tf.matmul(tf.constant(a), tf.constant(b), transpose_a=ta, transpose_b=tb)
    assert_tensor(got, want, rtol=1e-5, atol=1e-4)
    if not (ta or tb):
        assert_tensor(tf.constant(a) @ tf.constant(b), want, rtol=1e-5, atol=1e-4)


# ---- shape ops -------------------------------------------------------------------------------------------------------
@given(data=st.data())
def test_transpose(data: st.DataObject) -> None:
    x = data.draw(arrays(data.draw(st.sampled_from(ALL)), shapes(max_dims=4)))
    perm = data.draw(st.none() | st.permutations(range(x.ndim)))
    assert_tensor(tf.transpose(tf.constant(x), perm=perm), np.transpose(x, perm))


@given(data=st.data())
def test_reshape_with_minus_one(data: st.DataObject) -> None:
    x = data.draw(arrays(data.draw(st.sampled_from(ALL)), shapes(max_dims=4)))
    target = list(data.draw(st.permutations(x.shape))) + [1] * data.draw(st.integers(0, 2))
    target = data.draw(st.permutations(target))
    if target and data.draw(st.booleans()):
        i = data.draw(st.integers(0, len(target) - 1))
        if int(np.prod(target[:i] + target[i + 1:])) != 0:
            target[i] = -1
    assert_tensor(tf.reshape(tf.constant(x), target), np.reshape(x, target))


@given(data=st.data())
def test_expand_dims_and_squeeze(data: st.DataObject) -> None:
    x = data.draw(arrays(data.draw(st.sampled_from(ALL)), shapes()))
    axis = data.draw(st.integers(-x.ndim - 1, x.ndim))
    expanded = tf.expand_dims(tf.constant(x), axis)
    assert_tensor(expanded, np.expand_dims(x, axis))
    assert_tensor(tf.squeeze(expanded, axis=axis), x)
    assert_tensor(tf.squeeze(expanded), np.squeeze(np.expand_dims(x, axis)))
    ones = [i for i, d in enumerate(expanded.shape) if d == 1]
    chosen = data.draw(st.lists(st.sampled_from(ones), unique=True, min_size=1))
    assert_tensor(tf.squeeze(expanded, axis=chosen), np.squeeze(np.expand_dims(x, axis), axis=tuple(chosen)))


@given(data=st.data())
def test_concat(data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(ALL))
    base = data.draw(shapes(min_dims=1))
    axis = data.draw(st.integers(-len(base), len(base) - 1))
    pieces = []
    for _ in range(data.draw(st.integers(1, 4))):
        shape = list(base)
        shape[axis] = data.draw(st.integers(0, 3))
        pieces.append(data.draw(arrays(dtype, tuple(shape))))
    assert_tensor(tf.concat([tf.constant(p) for p in pieces], axis=axis), np.concatenate(pieces, axis=axis))


@given(data=st.data())
def test_stack(data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(ALL))
    shape = data.draw(shapes())
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    pieces = [data.draw(arrays(dtype, shape)) for _ in range(data.draw(st.integers(1, 3)))]
    assert_tensor(tf.stack([tf.constant(p) for p in pieces], axis=axis), np.stack(pieces, axis=axis))


@given(data=st.data())
def test_gather(data: st.DataObject) -> None:
    params = data.draw(arrays(data.draw(st.sampled_from(ALL)), shapes(min_dims=1)))
    axis = data.draw(st.integers(-params.ndim, params.ndim - 1))
    size = params.shape[axis]
    index_shape = data.draw(shapes(max_dims=2)) if size else (0,)
    indices = data.draw(arrays(data.draw(st.sampled_from(INTS)), index_shape, 0, max(size - 1, 0)))
    assert_tensor(tf.gather(tf.constant(params), tf.constant(indices), axis=axis), np.take(params, indices, axis))


@given(data=st.data())
def test_broadcast_to(data: st.DataObject) -> None:
    target = data.draw(shapes())
    drop = data.draw(st.integers(0, len(target)))
    src = tuple(1 if data.draw(st.booleans()) else d for d in target[drop:])
    x = data.draw(arrays(data.draw(st.sampled_from(ALL)), src))
    assert_tensor(tf.broadcast_to(tf.constant(x), target), np.broadcast_to(x, target))


@given(data=st.data())
def test_pad(data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(NUMERIC))
    x = data.draw(arrays(dtype, shapes()))
    paddings = np.array([[data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))] for _ in range(x.ndim)],
                        np.int32).reshape(x.ndim, 2)
    value = data.draw(elements(dtype))
    want = np.pad(x, paddings, constant_values=np.asarray(value, dtype)) if x.ndim else x
    assert_tensor(tf.pad(tf.constant(x), paddings, constant_values=value), want)
    assert_tensor(tf.pad(tf.constant(x), paddings.tolist() if x.ndim else paddings),
                  np.pad(x, paddings) if x.ndim else x)


@given(data=st.data())
def test_one_hot(data: st.DataObject) -> None:
    depth = data.draw(st.integers(0, 4))
    indices = data.draw(arrays(data.draw(st.sampled_from(INTS)), shapes(max_dims=2), -1, depth))
    axis = data.draw(st.integers(-1, indices.ndim))
    dtype = data.draw(st.sampled_from([None, tf.float64, tf.int32]))
    on, off = (data.draw(st.sampled_from([None, 5])), data.draw(st.sampled_from([None, -2])))
    hot = indices[..., None] == np.arange(depth)  # out-of-range indices (-1, depth) give an all-off row
    hot = np.moveaxis(hot, -1, axis if axis != -1 else -1)
    # Without dtype, TensorFlow takes on_value's dtype, else off_value's, else float32.
    np_dtype = dtype.as_numpy_dtype if dtype is not None else np.int32 if (on, off) != (None, None) else np.float32
    want = np.where(hot, 1 if on is None else on, 0 if off is None else off).astype(np_dtype)
    kwargs = {k: v for k, v in [("on_value", on), ("off_value", off), ("dtype", dtype)] if v is not None}
    assert_tensor(tf.one_hot(tf.constant(indices), depth, axis=axis, **kwargs), want)


# ---- construction and shape queries ----------------------------------------------------------------------------------
@given(shape=shapes(), dtype=st.sampled_from(ALL))
def test_zeros_ones_fill_like(shape: tuple, dtype: Any) -> None:
    dt = tf.as_dtype(np.dtype(dtype).name)
    assert_tensor(tf.zeros(shape, dtype=dt), np.zeros(shape, dtype))
    assert_tensor(tf.ones(list(shape), dtype=dt), np.ones(shape, dtype))
    assert_tensor(tf.zeros(shape), np.zeros(shape, np.float32))
    x = tf.constant(np.ones(shape, dtype))
    assert_tensor(tf.zeros_like(x), np.zeros(shape, dtype))
    assert_tensor(tf.ones_like(x), np.ones(shape, dtype))
    assert_tensor(tf.ones_like(x, dtype=tf.float64), np.ones(shape, np.float64))
    assert_tensor(tf.fill(shape, 7), np.full(shape, 7, np.int32))
    assert_tensor(tf.fill(list(shape), 2.5), np.full(shape, 2.5, np.float32))
    assert_tensor(tf.shape(x), np.array(shape, np.int32))
    assert_tensor(tf.rank(x), np.int32(len(shape)))
    assert_tensor(tf.size(x), np.int32(np.prod(shape)))
    assert tf.shape(x).shape == (len(shape),)


@given(start=st.integers(-20, 20), limit=st.integers(-20, 20), delta=st.integers(-5, 5).filter(bool))
def test_range_of_ints(start: int, limit: int, delta: int) -> None:
    if (delta > 0 and start > limit) or (delta < 0 and start < limit):
        with pytest.raises(tf.errors.InvalidArgumentError):  # TF 2.21: "Requires start <= limit when delta > 0"
            tf.range(start, limit, delta)
        return
    assert_tensor(tf.range(start, limit, delta), np.arange(start, limit, delta, dtype=np.int32))
    assert_tensor(tf.range(abs(limit)), np.arange(abs(limit), dtype=np.int32))


@given(start=st.sampled_from([-2.0, 0.0, 0.5]), limit=st.sampled_from([-1.0, 1.0, 3.25]),
       delta=st.sampled_from([-0.5, 0.25, 1.0]))
def test_range_of_floats(start: float, limit: float, delta: float) -> None:
    assume((delta > 0) == (start <= limit))  # the other direction is an error, as in TF (test_range_of_ints)
    assert_tensor(tf.range(start, limit, delta), np.arange(start, limit, delta).astype(np.float32))
    assert_tensor(tf.range(start, limit, delta, dtype=tf.float64), np.arange(start, limit, delta))


# ---- engine.nn -------------------------------------------------------------------------------------------------------
def _log_softmax64(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = x.astype(np.float64)
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


@given(data=st.data())
def test_softmax_and_log_softmax(data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(FLOATS))
    x = data.draw(arrays(dtype, shapes(min_dims=1, min_side=1), -30, 30))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    ls = _log_softmax64(x, axis)
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-14}
    assert_tensor(tf.nn.softmax(tf.constant(x), axis=axis), np.exp(ls).astype(dtype), **tol)
    assert_tensor(tf.nn.log_softmax(tf.constant(x), axis=axis), ls.astype(dtype), **tol)
    assert_tensor(tf.nn.softmax(tf.constant(x)), np.exp(_log_softmax64(x)).astype(dtype), **tol)


@given(data=st.data())
def test_cross_entropies(data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(FLOATS))
    logits = data.draw(arrays(dtype, shapes(min_dims=1, max_dims=3, min_side=1), -20, 20))
    classes = logits.shape[-1]
    labels = data.draw(arrays(data.draw(st.sampled_from(INTS)), logits.shape[:-1], 0, classes - 1))
    ls = _log_softmax64(logits)
    want = -np.take_along_axis(ls, labels[..., None].astype(np.int64), axis=-1)[..., 0]
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    got = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant(labels), logits=tf.constant(logits))
    assert_tensor(got, want.astype(dtype), **tol)
    probs = data.draw(arrays(dtype, logits.shape, 0, 1))
    want_dense = -np.sum(probs.astype(np.float64) * ls, axis=-1)
    got_dense = tf.nn.softmax_cross_entropy_with_logits(labels=tf.constant(probs), logits=tf.constant(logits))
    assert_tensor(got_dense, want_dense.astype(dtype), **tol)


# ---- TensorFlow's dtype rules ----------------------------------------------------------------------------------------
def test_python_values_get_tensorflow_default_dtypes() -> None:
    assert tf.constant(1.5).dtype is tf.float32
    assert tf.constant([1, 2]).dtype is tf.int32
    assert tf.constant(True).dtype is tf.bool
    assert tf.constant([1, 2.5]).dtype is tf.float32
    assert tf.constant(2 ** 40).dtype is tf.int64
    assert tf.constant([]).dtype is tf.float32


@pytest.mark.parametrize("dtype", ALL)
def test_numpy_arrays_keep_their_dtype(dtype: Any) -> None:
    x = np.ones((2,), dtype)
    assert tf.constant(x).dtype.name == np.dtype(dtype).name
    assert tf.convert_to_tensor(x).dtype.name == np.dtype(dtype).name
    assert tf.constant(x[0]).dtype.name == np.dtype(dtype).name


@pytest.mark.parametrize("dtype", NUMERIC)
def test_python_scalars_adopt_the_tensor_dtype(dtype: Any) -> None:
    x = tf.constant(np.array([1, 2], dtype))
    for y in (x * 2, 2 * x, x + 1, 1 - x, x ** 2, tf.maximum(x, 0)):
        assert y.dtype is x.dtype
    if np.dtype(dtype).kind == "f":
        assert_tensor(x * 2.5, np.array([2.5, 5.0], dtype))
        assert_tensor(0.5 + x, np.array([1.5, 2.5], dtype))


@pytest.mark.parametrize("dtype", INTS)
def test_python_float_into_integer_tensor_raises(dtype: Any) -> None:
    x = tf.constant(np.array([1, 2], dtype))
    with pytest.raises(TypeError, match=np.dtype(dtype).name):
        x + 1.5
    with pytest.raises(TypeError):
        2.5 * x


def test_integer_true_division_gives_float64() -> None:
    assert_tensor(tf.constant([7, -7]) / tf.constant([2, 2]), np.array([3.5, -3.5]))
    assert_tensor(tf.constant([7, -7], tf.int64) / 2, np.array([3.5, -3.5]))
    assert_tensor(7 / tf.constant(2), np.float64(3.5))


def test_floor_division_and_modulo_follow_python() -> None:
    a = np.array([7, -7, 7, -7], np.int32)
    b = np.array([2, 2, -2, -2], np.int32)
    assert_tensor(tf.constant(a) // tf.constant(b), np.array([3, -4, -4, 3], np.int32))
    assert_tensor(tf.constant(a) % tf.constant(b), np.array([1, 1, -1, -1], np.int32))
    assert_tensor(tf.constant([-7.5, 7.5]) % 2.0, np.array([0.5, 1.5], np.float32))
    assert_tensor(tf.constant([-7.5, 7.5]) // 2.0, np.array([-4.0, 3.0], np.float32))


@pytest.mark.parametrize("a, b", [(np.float32, np.float64), (np.int32, np.int64), (np.int32, np.float32),
                                  (np.float64, np.int64), (np.bool_, np.int32)])
def test_mixed_tensor_dtypes_raise_type_error(a: Any, b: Any) -> None:
    x, y = tf.constant(np.ones(2, a)), tf.constant(np.ones(2, b))
    ops = [tf.add, tf.multiply, tf.equal, lambda p, q: p - q, lambda p, q: p / q] if np.bool_ not in (a, b) else \
        [tf.equal, tf.add]
    for op in ops:
        with pytest.raises(TypeError) as info:
            op(x, y)
        assert np.dtype(a).name in str(info.value) and np.dtype(b).name in str(info.value)


def test_numpy_operands_take_the_tensor_dtype() -> None:
    """Next to a tensor, a numpy value converts to the tensor's dtype, as TensorFlow's eager conversion does."""
    x = tf.constant([1.0, 2.0])
    assert_tensor(x * np.float64(2.0), np.array([2.0, 4.0], np.float32))
    assert_tensor(np.array([1.0, 1.0]) + x, np.array([2.0, 3.0], np.float32))
    assert_tensor(x + np.array([1, 2], np.int64), np.array([2.0, 4.0], np.float32))
    assert_tensor(tf.constant([1, 2]) + np.int64(3), np.array([4, 5], np.int32))
    # TF 2.21 truncates numpy floats into an integer tensor: [1 3] and [0 2].
    assert_tensor(tf.constant([1, 2]) + np.array([0.5, 1.5]), np.array([1, 3], np.int32))
    assert_tensor(np.array([0.5, 1.5]) * tf.constant([1, 2]), np.array([0, 2], np.int32))


def test_stack_and_concat_convert_python_values_to_the_tensors_dtype() -> None:
    f64 = tf.constant(1.0, tf.float64)
    assert_tensor(tf.stack([f64, 2.0]), np.array([1.0, 2.0]))
    assert_tensor(tf.stack([tf.constant(1.0), 2], axis=0), np.array([1.0, 2.0], np.float32))
    assert_tensor(tf.concat([tf.constant([1.0]), [2]], 0), np.array([1.0, 2.0], np.float32))
    assert_tensor(tf.constant([f64, 2.0]), np.array([1.0, 2.0]))
    assert_tensor(tf.stack([1, 2.5]), np.array([1.0, 2.5], np.float32))
    with pytest.raises(TypeError, match="int32"):
        tf.stack([tf.constant(1), 2.5])
    with pytest.raises(TypeError, match="stack.*float32.*int32"):
        tf.stack([tf.constant(1), tf.constant(2.5)])
