"""Unknown dimensions through tf.function (issue 12, front half): `None` in signatures traces once, shapes seen
while tracing, `tf.shape` at run time, `reduce_retracing`, concrete functions of `None` specs, gradients through
unknown dims (float64 finite differences), tf.data partial batches and Keras steps.

Trace counts marked "TF 2.21" were obtained by running the same calls with TensorFlow 2.21 (/work/tfvenv).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import engine as tf
from engine.kernels import compiles_generically
from engine import keras
from engine.testing import check_grads


def _counter() -> tuple[list, Any]:
    traces: list = []

    def f(x: Any) -> Any:
        traces.append(x.shape.as_list())
        return tf.reduce_sum(x)
    return traces, f


# ---- one trace for every size ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("jit_compile", [True, False])
def test_signature_with_none_traces_once_and_agrees_with_numpy(jit_compile: bool) -> None:
    seen = []
    b = np.float32([0.5, -1.0, 2.0])

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)], jit_compile=jit_compile)
    def f(x):
        seen.append((str(x.shape), x.shape[0], x.shape[1]))
        y = tf.nn.relu(x * 2.0 + b)
        return y - tf.reduce_mean(y, axis=0, keepdims=True), tf.shape(x), tf.reduce_max(y, axis=1)
    rng = np.random.default_rng(0)
    for n in (4, 1, 7, 4, 0):
        x = rng.standard_normal((n, 3)).astype(np.float32)
        centered, shape, top = f(tf.constant(x))
        y = np.maximum(x * 2 + b, 0)
        np.testing.assert_allclose(centered.numpy(), y - y.mean(axis=0, keepdims=True) if n else y, rtol=1e-6,
                                   atol=1e-6)
        assert shape.dtype == tf.int32 and shape.numpy().tolist() == [n, 3]
        np.testing.assert_allclose(top.numpy(), y.max(axis=1) if n else np.zeros(0), rtol=1e-6)
    assert seen == [("(None, 3)", None, 3)], "traced once, with the batch dimension None as in TF"
    assert f.experimental_get_tracing_count() == 1
    (concrete,) = f._cache.values()
    assert concrete.ir.param_types[0].shape == (None, 3)
    if jit_compile:  # one native kernel takes every size: no specializations
        assert not concrete._specializations and compiles_generically(concrete.ir)


def test_a_call_that_does_not_fit_the_signature_names_the_argument() -> None:
    f = tf.function(lambda x: x + 1.0, input_signature=[tf.TensorSpec([None, 784], tf.float32)])
    with pytest.raises(TypeError, match=r"argument 'x' \(float32\[3, 5\]\) does not match its input_signature"):
        f(tf.zeros([3, 5]))
    with pytest.raises(TypeError, match=r"argument 'x' \(float32\[3\]\)"):
        f(tf.zeros([3]))


def test_concrete_function_of_a_none_spec_takes_any_size() -> None:
    traces, body = _counter()
    f = tf.function(body)
    cf = f.get_concrete_function(tf.TensorSpec([None, 3], tf.float32))
    assert cf(tf.ones([2, 3])).numpy() == 6.0
    assert cf(tf.ones([5, 3])).numpy() == 15.0
    assert f(tf.ones([4, 3])).numpy() == 12.0  # the traced [None, 3] signature serves the call, as in TF 2.21
    assert traces == [[None, 3]]
    with pytest.raises(TypeError, match=r"argument 'x' is float32\[2, 4\] but this concrete function takes "
                                        r"float32\[None, 3\]"):
        cf(tf.ones([2, 4]))


# TF 2.21's trace counts after each call, and the shapes it traced with, for these call sequences.
_RETRACING = [
    ([(2, 3), (4, 3), (5, 3), (2, 3)], True, [1, 2, 2, 2], [[2, 3], [None, 3]]),
    ([(2, 3), (2, 4), (4, 5), (6, 7)], True, [1, 2, 3, 3], [[2, 3], [2, None], [None, None]]),
    ([(3,), (3,), (4,), (5,), (3,)], True, [1, 1, 2, 2, 2], [[3], [None]]),
    ([(2, 3), (4, 6), (5, 3)], True, [1, 2, 2], [[2, 3], [None, None]]),
    ([(2, 3), (2, 3), (4, 3), (4, 6)], True, [1, 1, 2, 3], [[2, 3], [None, 3], [None, None]]),
    ([(2, 3), (4, 3), (5, 3), (2, 3)], False, [1, 2, 3, 3], [[2, 3], [4, 3], [5, 3]]),
    ([(3,), (3,), (4,), (5,), (3,)], False, [1, 1, 2, 3, 3], [[3], [4], [5]]),
]


@pytest.mark.parametrize("shapes, relax, counts, traced", _RETRACING)
def test_reduce_retracing_gives_tf_trace_counts(shapes: list, relax: bool, counts: list, traced: list) -> None:
    traces, body = _counter()
    f = tf.function(body, reduce_retracing=relax)
    after = []
    for s in shapes:
        assert f(tf.ones(s)).numpy() == np.prod(s)
        after.append(len(traces))
    assert after == counts
    assert traces == traced


def test_reduce_retracing_rank_change_relaxes_every_dim() -> None:
    """TF 2.21 counts 1, 2, 2, 3, 3 here and traces the third time with an unknown rank; Kiln's IR knows every
    rank, so it relaxes to every dim None at the new rank (docs/tf-compat.md), with TF's counts."""
    traces, body = _counter()
    f = tf.function(body, reduce_retracing=True)
    after = []
    for s in [(2,), (3,), (4,), (2, 2), (3, 3)]:
        f(tf.ones(s))
        after.append(len(traces))
    assert after == [1, 2, 2, 3, 3]
    assert traces == [[2], [None], [None, None]]


# ---- gradients ------------------------------------------------------------------------------------------------------
_W = np.random.default_rng(1).standard_normal((3, 2))


def _mlp(x: Any) -> Any:
    h = tf.tanh(x @ tf.constant(_W) + 0.5)
    return tf.reduce_mean(tf.reduce_sum(h * h, axis=1)) + tf.reduce_sum(tf.nn.softmax(h)[:, 0])


def _shapes_and_slices(x: Any) -> Any:
    flat = tf.reshape(x, [-1])
    m = tf.reduce_max(x, axis=1, keepdims=True)
    top = tf.concat([x[:, :1], x[:, 2:]], axis=1)
    return tf.reduce_sum(tf.exp(x - m)) + tf.reduce_sum(flat[:2] * 3.0) + tf.reduce_sum(top * x[:, 1:]) + \
        tf.reduce_sum(tf.pad(x, [[0, 0], [1, 0]]) ** 2) + tf.reduce_prod(x[1:, 0])


@pytest.mark.parametrize("body", [_mlp, _shapes_and_slices])
def test_gradients_through_unknown_dims_match_finite_differences(body: Any) -> None:
    f = tf.function(body, input_signature=[tf.TensorSpec([None, 3], tf.float64)])
    rng = np.random.default_rng(2)
    for n in (2, 5):
        check_grads(f, [rng.standard_normal((n, 3))], order=2, modes=("fwd", "rev"))
    assert f.experimental_get_tracing_count() == 1


def test_tape_inside_and_around_a_function_with_unknown_batch() -> None:
    w = tf.Variable(_W.astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def loss(x):
        return tf.reduce_mean(tf.tanh(x @ w) ** 2)

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def step(x):
        with tf.GradientTape() as tape:
            value = loss(x)
        return value, tape.gradient(value, w)
    for n in (2, 6):
        x = np.random.default_rng(n).standard_normal((n, 3)).astype(np.float32)
        h = np.tanh(x.astype(np.float64) @ _W)
        want = x.T.astype(np.float64) @ (2 * h * (1 - h * h)) / h.size
        with tf.GradientTape() as tape:
            value = loss(tf.constant(x))
        np.testing.assert_allclose(tape.gradient(value, w).numpy(), want, rtol=1e-5, atol=1e-6)
        inner_value, inner_grad = step(tf.constant(x))
        np.testing.assert_allclose(inner_value.numpy(), (h * h).mean(), rtol=1e-5)
        np.testing.assert_allclose(inner_grad.numpy(), want, rtol=1e-5, atol=1e-6)
    assert step.experimental_get_tracing_count() == 1 and loss.experimental_get_tracing_count() == 1


# ---- tf.data and Keras ----------------------------------------------------------------------------------------------
def test_partial_batches_feed_a_none_signature_without_retracing() -> None:
    ds = tf.data.Dataset.range(10).batch(4)
    assert ds.element_spec.shape.as_list() == [None]
    traces = []

    @tf.function(input_signature=[ds.element_spec])
    def f(x):
        traces.append(1)
        return tf.reduce_sum(x * 2)
    assert [int(f(b)) for b in ds] == [12, 44, 34]
    assert len(traces) == 1


def test_keras_fit_traces_its_step_once_with_a_partial_last_batch() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((70, 8)).astype(np.float32), rng.integers(0, 3, 70)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Flatten(),
                              keras.layers.Reshape((4, 4)), keras.layers.Reshape((16,)), keras.layers.Dense(3)])
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    before = [w.numpy() for w in model.weights]
    model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    (step,) = model._steps["train"].functions.values()
    assert step.experimental_get_tracing_count() == 1
    (concrete,) = step._cache.values()
    assert not concrete._specializations and compiles_generically(concrete.ir), "one kernel for 32, 32 and 6"
    # The same training run on eager batches (plain Python) is the oracle.
    model2 = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Flatten(),
                               keras.layers.Reshape((4, 4)), keras.layers.Reshape((16,)), keras.layers.Dense(3)])
    model2.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                   run_eagerly=True)
    model2.set_weights(before)
    model2.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(model.weights, model2.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    assert model.predict(x, batch_size=32, verbose=0).shape == (70, 3)


def test_autograph_loops_over_an_unknown_dimension() -> None:
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def f(x):
        s = tf.zeros([3])
        for row in x:  # a while_loop whose trip count is the run-time size
            s = s + row * 2.0
        i, acc = tf.constant(0), tf.constant(0.0)
        while i < tf.shape(x)[0]:
            acc += tf.reduce_sum(x[i])
            i += 1
        return s, acc
    for n in (2, 5, 0):
        x = np.arange(3 * n, dtype=np.float32).reshape(n, 3)
        s, acc = f(tf.constant(x))
        np.testing.assert_array_equal(s.numpy(), (2 * x).sum(axis=0))
        assert acc.numpy() == x.sum()
    assert f.experimental_get_tracing_count() == 1


def test_a_generic_concrete_function_compiles_one_kernel_for_every_size() -> None:
    f = tf.function(lambda x: x * 2.0)
    cf = f.get_concrete_function(tf.TensorSpec([None], tf.float32))
    assert "f32[?]" in str(cf.ir) and "f32[?]" in str(cf.optimized_ir)
    assert cf.compiled is not None and cf.specialization([(4,)]) is cf
    for n in (4, 0, 9):
        np.testing.assert_array_equal(cf(tf.ones([n])).numpy(), [2.0] * n)
    assert not cf._specializations


def test_reduce_retracing_relaxes_nested_arguments_as_tf() -> None:
    """TF 2.21 traces [2], then [None] with [None, 2], then (k changed: no common supertype) [5] as given."""
    traced = []

    @tf.function(reduce_retracing=True)
    def f(pair, d, k):
        traced.append((pair[0].shape.as_list(), d["a"].shape.as_list(), k))
        return tf.reduce_sum(pair[0]) + tf.reduce_sum(pair[1]) * k + tf.reduce_sum(d["a"])
    got = [f((tf.ones([n]), tf.ones([2])), {"a": tf.ones([n, 2])}, k).numpy() for n, k in ((2, 2), (3, 2), (4, 2),
                                                                                          (5, 3))]
    assert got == [10.0, 13.0, 16.0, 21.0]
    assert traced == [([2], [2, 2], 2), ([None], [None, 2], 2), ([5], [5, 2], 3)]


def test_negative_indices_on_an_unknown_axis() -> None:
    f = tf.function(lambda x: (x[-1], x[:-1], x[::-1]), input_signature=[tf.TensorSpec([None, 2], tf.int32)])
    last, head, reverse = f(tf.reshape(tf.range(6), [3, 2]))
    # TF 2.21's answers.
    assert last.numpy().tolist() == [4, 5]
    assert head.numpy().tolist() == [[0, 1], [2, 3]]
    assert reverse.numpy().tolist() == [[4, 5], [2, 3], [0, 1]]
