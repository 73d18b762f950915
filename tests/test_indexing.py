"""Tensor indexing (`engine.indexing`): values, dtypes and shapes against numpy indexing of the same array,
gradients against a numpy scatter, errors, and the traced path (no concrete values read)."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine as tf
from engine import dispatch
from engine.tensor import Tensor
from ir.types import TensorType, from_numpy

X = np.arange(6 * 7 * 5).reshape(6, 7, 5)
MASK_AXIS0 = np.array([True, False, True, True, False, False])
MASK_AXIS1 = np.array([False, True, False, False, True, False, False])

S = slice
ALL = slice(None)

KEYS: list[Any] = [
    # basic: ints, slices (incl. negative steps and out-of-range bounds), None, Ellipsis
    (), Ellipsis, 0, -1, 5, -6, (1, 2), (-1, -2, -3), (2, Ellipsis), (Ellipsis, 3), (Ellipsis, 1, 2),
    ALL, S(1, None), S(None, -1), S(None, None, -1), S(5, 1, -2), S(-1, -6, -2), S(None, None, 2), S(10, None),
    S(-10, None), S(None, -10), S(-10, None, -1), S(3, 3), S(4, 2), S(None, None, -7), S(100, -100, -3),
    (ALL, S(None, None, -3)), (S(1, 5, 2), ALL, S(4, None, -1)), (S(None, None, -1), 3, S(None, None, -2)),
    (Ellipsis, S(None, None, -1)), (-1, S(6, None, -1), 0),
    None, (None, 0), (0, None), (Ellipsis, None), (None, Ellipsis, None), (ALL, None, 1, None, S(None, None, -1)),
    # a Python list as the whole key is a multi-index, as in TensorFlow (numpy reads it as an integer array)
    [0, 2, 4], [-1, 0], [1, S(None, None, -1), None], [Ellipsis, 3],
    # integer arrays: negative entries, repeats, empty, broadcasting, adjacent and separated placements
    ([0, 2, 5],), ([-1, 0, -6],), ([[0, 1], [2, 3]],), ([],), ([1, 1, 1],), ([0, 1], [2, 3]), ([0, -1], [3, -7]),
    ([0, 1], ALL, [2, 3]), (ALL, [0, 1], [2, 3]), ([[0], [1]], [0, 1, 2]), (0, ALL, [1, 2]), (ALL, 0, [1, 2]),
    ([0, 1], 1, [2, 3]), (Ellipsis, [4, 0]), ([0, 1], Ellipsis, [0, 1]), (ALL, [0, 1], Ellipsis, [0, 1]),
    (S(None, None, -1), [6, 0, -1]), ([2, 0], S(5, 1, -2), 3), ([[1, 2]], [[0], [3]], [[4, 4]]),
    np.array([2, 0]), np.array([[1], [2]], dtype=np.int32), np.int64(3), np.array(2), np.array([3, 1], np.uint8),
    # boolean masks (numpy arrays, lists)
    X % 3 == 0, (list(MASK_AXIS0),), (X % 2 == 0)[:, :, 0], (ALL, MASK_AXIS1), (Ellipsis, X[0, 0] > 2),
    (MASK_AXIS1[:6], [0, 4]), (MASK_AXIS0, ALL, [4, 0, 1]), (1, MASK_AXIS1),
    # None together with advanced indices
    ([0, 1], None, [0, 1]), (None, [0, 1], [0, 1]), (None, [1, 2]), (ALL, None, [0, 1], None), (None, MASK_AXIS0),
]

TENSOR_KEYS: list[Any] = [
    tf.constant(2), tf.constant(-1, dtype=tf.int64), (tf.constant(1), tf.constant(-2)), tf.constant([0, 2, -1]),
    (ALL, tf.constant([[1, 0]], dtype=tf.int64)), tf.constant(X % 2 == 0), (ALL, tf.constant(MASK_AXIS1)),
    S(tf.constant(1), tf.constant(5)), S(None, None, tf.constant(-2)), (tf.constant(0), ALL, tf.constant([3, 1])),
    [tf.constant(1), tf.constant(4)], ([tf.constant(1), tf.constant(4)],),
]


def np_key(key: Any, whole: bool = True) -> Any:
    """The same key for numpy: tensors become their numpy values; a list as the whole key is a tuple (TensorFlow's
    rule), a list inside a tuple an integer array or mask (numpy's)."""
    if isinstance(key, tuple) or (whole and isinstance(key, list)):
        return tuple(np_key(k, whole=False) for k in key)
    if isinstance(key, list):
        return np.asarray([np_key(k) for k in key]) if key and isinstance(key[0], Tensor) else key
    if isinstance(key, slice):
        return slice(*(np_key(v) for v in (key.start, key.stop, key.step)))
    if isinstance(key, Tensor):
        return key.numpy()
    return key


def assert_same(got: Tensor, want: np.ndarray) -> None:
    want = np.asarray(want)
    assert isinstance(got, Tensor)
    assert got.shape == want.shape
    assert got.dtype.np == want.dtype
    np.testing.assert_array_equal(np.asarray(got), want)


@pytest.mark.parametrize("dtype", [np.int32, np.float32])
@pytest.mark.parametrize("key", KEYS + TENSOR_KEYS, ids=repr)
def test_matches_numpy(key: Any, dtype: Any) -> None:
    x = X.astype(dtype)
    assert_same(tf.constant(x)[key], x[np_key(key)])


@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.bool_])
def test_other_dtypes(dtype: Any) -> None:
    x = (X % 4).astype(dtype)
    for key in [1, S(None, None, -2), ([0, 1], ALL, [2, 3]), X % 3 == 0, (None, Ellipsis, -1)]:
        assert_same(tf.constant(x)[key], x[key])


def test_scalar_tensor() -> None:
    s = tf.constant(7.0)
    for key in [(), Ellipsis, None, (None, None), (Ellipsis, None)]:
        assert_same(s[key], np.float32(7.0)[key] if key != () else np.asarray(np.float32(7.0)))


def test_variable_indexing() -> None:
    v = tf.Variable(np.arange(12.0).reshape(3, 4))
    assert_same(v[1:, ::-2], np.arange(12.0).reshape(3, 4)[1:, ::-2])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(v[[0, 0, 2], -1])
    np.testing.assert_array_equal(np.asarray(tape.gradient(y, v)),
                                  [[0, 0, 0, 2], [0, 0, 0, 0], [0, 0, 0, 1]])


# ---- random keys --------------------------------------------------------------------------------------------------
@st.composite
def basic_keys(draw: Any) -> tuple[tuple[int, ...], tuple]:
    """A shape and a key of ints, slices and Nones, with an Ellipsis between the leading and trailing parts."""
    shape = tuple(draw(st.lists(st.integers(0, 5), max_size=4)))
    rank = len(shape)
    lead = draw(st.integers(0, rank))
    trail = draw(st.integers(0, rank - lead))
    bound = st.none() | st.integers(-7, 7)

    def part(n: int) -> Any:
        if n > 0 and draw(st.booleans()):
            return draw(st.integers(-n, n - 1))
        return slice(draw(bound), draw(bound), draw(st.none() | st.integers(-4, 4).filter(bool)))

    def with_nones(parts: list[Any]) -> list[Any]:
        for _ in range(draw(st.integers(0, 2))):
            parts.insert(draw(st.integers(0, len(parts))), None)
        return parts

    head = with_nones([part(n) for n in shape[:lead]])
    tail = with_nones([part(n) for n in shape[rank - trail:]])
    middle = [Ellipsis] if draw(st.booleans()) or trail else []
    return shape, tuple(head + middle + tail)


@settings(max_examples=60, deadline=None)
@given(basic_keys())
def test_random_basic_keys(case: tuple) -> None:
    shape, key = case
    x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    assert_same(tf.constant(x)[key], x[key])


@st.composite
def advanced_keys(draw: Any) -> tuple[tuple[int, ...], tuple]:
    """Ints, slices, int arrays (sometimes out of range) and masks, one per axis; then maybe a run of them replaced
    by an Ellipsis (possibly zero-width) and Nones inserted."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    index_shape = draw(st.sampled_from([(), (2,), (1,), (2, 1), (3,)]))
    parts: list[Any] = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "array", "array", "mask"]))
        if kind == "mask":
            parts.append(np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))))
        elif kind == "array":
            size = int(np.prod(index_shape))
            entries = draw(st.lists(st.integers(-n - 1, n), min_size=size, max_size=size))
            parts.append(np.array(entries, dtype=np.int64).reshape(index_shape))
        elif kind == "int":
            parts.append(draw(st.integers(-n, n - 1)))
        else:
            parts.append(slice(draw(st.none() | st.integers(-5, 5)), None, draw(st.sampled_from([None, -1, 2]))))
    if draw(st.booleans()):
        start = draw(st.integers(0, len(parts)))
        stop = draw(st.integers(start, len(parts)))
        parts[start:stop] = [Ellipsis]
    for _ in range(draw(st.integers(0, 2))):
        parts.insert(draw(st.integers(0, len(parts))), None)
    return shape, tuple(parts)


@settings(max_examples=80, deadline=None)
@given(advanced_keys())
def test_random_advanced_keys(case: tuple) -> None:
    """Arrays, masks, ints, slices, None and Ellipsis mixed; where numpy raises IndexError, so must we."""
    shape, key = case
    x = np.arange(int(np.prod(shape)), dtype=np.int32).reshape(shape) * 3
    try:
        want = x[key]
    except IndexError:
        with pytest.raises(IndexError):
            tf.constant(x)[key]
        return
    assert_same(tf.constant(x)[key], want)


# ---- gradients ------------------------------------------------------------------------------------------------------
GRAD_KEYS: list[Any] = [
    2, (-1, S(None, None, -1)), S(5, 1, -2), S(-1, -6, -2), (ALL, S(None, None, -3), S(1, None, 2)),
    (None, Ellipsis, 3), ([1, 1, 4, -6],), [1, S(None, None, -1), 2], ([0, 0, 5], ALL, [1, 1, -1]), (ALL, [2, 2], [0, 0]),
    ([[3], [3]], [1, 1, 1]), X % 3 == 0, (MASK_AXIS0, S(None, None, -2)), (S(None, None, -1), [0, -1, 0]),
    ([0, 1], None, [2, 2]), S(3, 3), ([],),
]


@pytest.mark.parametrize("key", GRAD_KEYS, ids=repr)
def test_gradient_is_scatter_of_cotangent(key: Any) -> None:
    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal(X.shape))
    w = rng.standard_normal(X[np_key(key)].shape)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tf.constant(w) * x[key])
    got = tape.gradient(y, x)
    # numpy's own indexing says which element of x each element of x[key] came from.
    positions = np.arange(X.size).reshape(X.shape)[np_key(key)]
    want = np.zeros(X.size)
    np.add.at(want, positions, w)
    assert got is not None and got.dtype is tf.float64
    np.testing.assert_allclose(np.asarray(got), want.reshape(X.shape), rtol=1e-12, atol=1e-12)


def test_second_order_gradient_through_indexing() -> None:
    x = tf.constant([1.0, 2.0, 3.0], dtype=tf.float64)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(x[[0, 2, 2],] ** 3)
        g = inner.gradient(y, x)  # 3 x^2 * count
        z = tf.reduce_sum(g[::-1] * tf.constant([1.0, 10.0, 100.0], dtype=tf.float64))
    np.testing.assert_allclose(np.asarray(outer.gradient(z, x)), [100 * 6 * 1.0, 0.0, 1 * 2 * 6 * 3.0])


# ---- iteration and len --------------------------------------------------------------------------------------------
def test_iteration_and_len() -> None:
    x = tf.constant(X[:3, :2])
    rows = list(x)
    assert len(x) == 3 and len(rows) == 3
    for row, want in zip(rows, X[:3, :2]):
        assert_same(row, want)
    assert [int(v) for v in tf.constant([4, 5, 6])] == [4, 5, 6]
    assert list(tf.zeros([0, 2])) == []
    with pytest.raises(TypeError, match="scalar"):
        len(tf.constant(1.0))
    with pytest.raises(TypeError, match="scalar"):
        list(tf.constant(1.0))


# ---- errors -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key, message", [
    (3, "index 3 is out of bounds for axis 0 with size 3"),
    (-4, "index -4 is out of bounds for axis 0 with size 3"),
    ((0, 4), "index 4 is out of bounds for axis 1 with size 4"),
    (([0, 5],), "index 5 is out of bounds for axis 0 with size 3"),
    ([1, 5], "index 5 is out of bounds for axis 1 with size 4"),
    ((ALL, [-5]), "index -5 is out of bounds for axis 1 with size 4"),
    ((tf.constant(1), tf.constant([7])), "index 7 is out of bounds for axis 1 with size 4"),
    (tf.constant(9), "index 9 is out of bounds for axis 0 with size 3"),
    ((0, 0, 0), "too many indices for tensor: tensor is 2-dimensional, but 3 were indexed"),
    ((Ellipsis, 0, Ellipsis), "single ellipsis"),
    (np.array([True, False]), r"mask of shape \(2,\) does not match the indexed dimensions \(3,\)"),
    ((ALL, np.ones(3, bool)), r"mask of shape \(3,\) does not match the indexed dimensions \(4,\) \(axes 1..1\)"),
    (([0, 1], [0, 1, 2]), r"could not be broadcast together with shapes \(2,\) \(3,\)"),
])
def test_index_errors(key: Any, message: str) -> None:
    x = tf.constant(np.arange(12).reshape(3, 4))
    with pytest.raises(IndexError, match=message):
        x[key]


@pytest.mark.parametrize("key, message", [
    (1.5, "valid indices; got 1.5"),
    ("a", "valid indices; got 'a'"),
    (tf.constant([1.0]), "got a float32 tensor of shape \\(1,\\)"),
    (np.array([0.5]), "got a numpy float64 array"),
    (([1.5, 2],), "got \\[1.5, 2\\]"),
    ([1.5, 2], "valid indices; got 1.5"),
    (np.bool_(True), "valid indices; got np.True_"),
    ((0, {1}), "got \\{1\\}"),
    (S(1.5, None), "slice indices must be integers.*got 1.5"),
    (S(tf.constant([1, 2]), None), "slice indices must be .*shape \\(2,\\)"),
])
def test_type_errors(key: Any, message: str) -> None:
    x = tf.constant(np.arange(12).reshape(3, 4))
    with pytest.raises(TypeError, match=message):
        x[key]


def test_zero_step_is_value_error() -> None:
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        tf.constant([1, 2, 3])[::0]


# ---- the traced path ----------------------------------------------------------------------------------------------
class _Node:
    def __init__(self, value: np.ndarray) -> None:
        self.value = value
        self.type = TensorType(from_numpy(value.dtype), value.shape)
        self.name = "traced"


class _EvalTracer:
    """Stands in for the tracer: checks each op's types with its `infer` facet and computes its value on the side.

    Traced tensors carry no `_value`, so any attempt to read a concrete value while tracing fails.
    """

    def __init__(self) -> None:
        self.ops: list[str] = []

    def emit(self, opdef: Any, operands: tuple, attrs: dict) -> Tensor:
        self.ops.append(opdef.name)
        opdef.infer([t.type for t in operands], **attrs)
        values = [t._node.value if t._node is not None else t._value for t in operands]
        return Tensor(None, node=_Node(np.asarray(opdef.eager(*values, **attrs))))


@contextlib.contextmanager
def tracing() -> Iterator[_EvalTracer]:
    with dispatch.installed(_EvalTracer()) as tracer:
        yield tracer


def traced(value: Any) -> Tensor:
    return Tensor(None, node=_Node(np.asarray(value)))


ROWS = {"slice", "reshape", "transpose", "gather", "constant", "convert", "mul", "add", "lt", "select",
        "broadcast_to", "iota"}


@pytest.mark.parametrize("key", [k for k in KEYS if not isinstance(k, bool)], ids=repr)
def test_traced_constant_keys(key: Any) -> None:
    """Constant keys on a traced tensor emit only table rows and compute numpy's result."""
    with tracing() as tracer:
        out = traced(X)[key]
    assert set(tracer.ops) <= ROWS
    np.testing.assert_array_equal(out._node.value, X[np_key(key)])
    assert out._node.value.shape == X[np_key(key)].shape


@pytest.mark.parametrize("key", [
    3, -2, (1, -1), [0, -1, 5, -6], ([-1, 0], ALL, [4, -5]), (ALL, [[1, -7]], [0, 0]), (-1, ALL, [-1, 2]),
    ([[0], [-1]], [1, -2], -3), (2, ALL, -1), (S(None, None, -1), -7, [[0, -1]]),
])
def test_traced_integer_indices(key: Any) -> None:
    """Integer-tensor indices that are themselves traced: negatives wrap, values come out as numpy's."""
    tkey = tuple(traced(np.asarray(k)) if not isinstance(k, slice) else k
                 for k in (key if isinstance(key, tuple) else (key,)))
    with tracing():
        out = traced(X)[tkey]
    np.testing.assert_array_equal(out._node.value, X[key])


def test_traced_out_of_range_index_raises_when_run() -> None:
    """With two traced indices the merged gather alone cannot see (0, 7) is bad, as 7 lands inside axis 0's rows."""
    with tracing(), pytest.raises(IndexError, match="out of bounds"):
        traced(X)[traced(np.array([0])), traced(np.array([7]))]
    with tracing(), pytest.raises(IndexError, match="out of bounds"):
        traced(X)[traced(np.array(-7))]


def test_traced_masks_inside_larger_keys_are_type_errors() -> None:
    # A traced mask as the whole key and traced slice bounds give axes of run-time length
    # (tests/oracle/programs/dynamic_sizes.py replays TF's answers).
    with tracing(), pytest.raises(TypeError, match="boolean mask .* traced"):
        traced(X)[traced(X % 2 == 0), ...]
    with tracing(), pytest.raises(TypeError, match="boolean mask .* traced"):
        traced(X)[tf.constant(MASK_AXIS0)]  # even a concrete mask tensor: its value is not read while tracing


@settings(max_examples=60, deadline=None)
@given(advanced_keys())
def test_random_traced_keys(case: tuple) -> None:
    """The random advanced keys again, with every integer index a traced tensor (masks stay constants)."""
    shape, key = case
    x = np.arange(int(np.prod(shape)), dtype=np.int32).reshape(shape) * 3
    tkey = tuple(traced(np.asarray(k)) if isinstance(k, (int, np.ndarray)) and np.asarray(k).dtype.kind == "i"
                 else k for k in key)
    try:
        want = x[key]
    except IndexError:
        with tracing(), pytest.raises(IndexError):
            traced(x)[tkey]
        return
    with tracing() as tracer:
        out = traced(x)[tkey]
    assert set(tracer.ops) <= ROWS
    np.testing.assert_array_equal(out._node.value, want)
    assert out._node.value.shape == want.shape
