"""tf.data.Dataset: element order, batching, TF's shuffle-buffer semantics, cardinality, map/filter compiled once,
prefetch, and the values TF 2.21 gives for the same pipelines (recorded by hand with TensorFlow)."""
from __future__ import annotations

import numpy as np
import pytest

import engine as tf


def _list(ds):
    return [np.asarray(x).tolist() if not isinstance(x, tuple) else tuple(np.asarray(v).tolist() for v in x)
            for x in ds.as_numpy_iterator()]


def test_slices_batch_and_partial_last_batch() -> None:
    ds = tf.data.Dataset.from_tensor_slices(np.arange(10)).batch(4)
    assert _list(ds) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(ds) == 3
    assert _list(tf.data.Dataset.from_tensor_slices(np.arange(10)).batch(4, drop_remainder=True)) == \
        [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_tuples_dicts_and_lists_as_components() -> None:
    ds = tf.data.Dataset.from_tensor_slices(({"a": [1, 2]}, [3.0, 4.0]))
    elements = list(ds)
    assert elements[0][0]["a"].numpy() == 1 and elements[1][1].numpy() == np.float32(4.0)
    assert elements[0][1].dtype == tf.float32 and elements[0][0]["a"].dtype == tf.int32   # TF's conversions


def test_shuffle_is_a_permutation_and_reshuffles_each_iteration() -> None:
    ds = tf.data.Dataset.range(100).shuffle(100, seed=7)
    first, second = _list(ds), _list(ds)
    assert sorted(first) == list(range(100)) and first != list(range(100))
    assert first != second                                  # reshuffle_each_iteration=True (TF's default)
    fixed = tf.data.Dataset.range(100).shuffle(100, seed=7, reshuffle_each_iteration=False)
    assert _list(fixed) == _list(fixed)


def test_shuffle_buffer_semantics() -> None:
    # With a buffer of 1 the order is unchanged; with buffer k, element i cannot appear before position i - k + 1.
    assert _list(tf.data.Dataset.range(20).shuffle(1)) == list(range(20))
    out = _list(tf.data.Dataset.range(50).shuffle(5, seed=1))
    assert sorted(out) == list(range(50))
    assert all(pos >= v - 4 for pos, v in enumerate(out))


def test_map_filter_repeat_take_skip_enumerate() -> None:
    traces = []

    def f(x):
        traces.append(1)
        return x * 2

    ds = tf.data.Dataset.range(6).map(f).filter(lambda x: x > 2).repeat(2).skip(1).take(5)
    assert _list(ds) == [6, 8, 10, 4, 6]
    assert len(traces) == 1                                 # traced once, compiled, reused for every element
    assert _list(tf.data.Dataset.from_tensor_slices([5, 6]).enumerate()) == [(0, 5), (1, 6)]
    assert tf.data.Dataset.range(3).repeat().cardinality().numpy() == tf.data.INFINITE_CARDINALITY
    assert tf.data.Dataset.range(5).filter(lambda x: x > 1).cardinality().numpy() == tf.data.UNKNOWN_CARDINALITY


def test_map_on_tuples_passes_components_as_arguments() -> None:
    ds = tf.data.Dataset.from_tensor_slices((np.arange(3.0), np.arange(3.0) * 10)).map(lambda a, b: a + b)
    assert _list(ds) == [0.0, 11.0, 22.0]


def test_unbatch_zip_concatenate_cache_prefetch() -> None:
    ds = tf.data.Dataset.from_tensor_slices(np.arange(6).reshape(3, 2)).unbatch()
    assert _list(ds) == [0, 1, 2, 3, 4, 5]
    z = tf.data.Dataset.zip((tf.data.Dataset.range(3), tf.data.Dataset.range(10, 20)))
    assert _list(z) == [(0, 10), (1, 11), (2, 12)] and len(z) == 3
    assert _list(tf.data.Dataset.range(2).concatenate(tf.data.Dataset.range(5, 7))) == [0, 1, 5, 6]
    calls = []
    cached = tf.data.Dataset.from_generator(lambda: (calls.append(1) or i for i in range(3)),
                                            output_signature=tf.TensorSpec((), tf.int64)).cache()
    assert _list(cached) == _list(cached) == [0, 1, 2] and len(calls) == 3
    assert _list(tf.data.Dataset.range(100).prefetch(tf.data.AUTOTUNE)) == list(range(100))


def test_from_generator_checks_shapes_and_element_spec() -> None:
    def gen():
        yield np.zeros(2)
        yield np.zeros(3)
    ds = tf.data.Dataset.from_generator(gen, output_signature=tf.TensorSpec((2,), tf.float32))
    with pytest.raises(TypeError, match="shape"):
        _list(ds)
    spec = tf.data.Dataset.from_tensor_slices((np.zeros((4, 3), np.float32), np.zeros(4, np.int64))).batch(2) \
        .element_spec
    assert tuple(spec[0].shape) == (None, 3) and spec[1].dtype == tf.int64


def test_errors() -> None:
    with pytest.raises(ValueError, match="same size"):
        tf.data.Dataset.from_tensor_slices((np.zeros(3), np.zeros(4)))
    with pytest.raises(ValueError, match="buffer_size"):
        tf.data.Dataset.range(3).shuffle(0)
    with pytest.raises(TypeError, match="infinite"):
        len(tf.data.Dataset.range(3).repeat())
