"""Convolution and pooling with a run-time batch (issue 12): a `[None, H, W, C]` signature compiles ONE native
kernel for the conv/pool rows and their gradients, which serves every batch size.

- Every row (conv2d, its two gradients, max/avg pooling and theirs) on the geometries of tests/test_conv_rows.py,
  in float64, float32, float16 and bfloat16, traced once with the batch None: eager == interpreter == the one
  compiled kernel, at batch 1, odd and even sizes and 0, with one compile (`codegen.runtime.compile_function`
  counted) and no specializations.
- A CNN loss's gradients through that one kernel against float64 central differences of numpy references, in
  random directions, at several batch sizes.
- A Keras CNN (Conv2D, MaxPooling2D, Flatten, Dense) fit whose last batch is partial compiles its train step once,
  and trains as the same model run eagerly does.
- Unknown spatial dims are not compiled generically (the rules keep them static): such functions fall back to one
  static specialization per shape, with the right values.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import pytest

import engine as tf
import ir
from codegen import runtime
from codegen.dynamic import unsupported_ops
from engine import dispatch, keras
from engine.kernels import compiles_generically
from test_conv_rows import CONV, POOL, _attrs, ref_conv, ref_pool
from ir.ops_conv import out_size
from ir.parser import parse
from ir.passes.specialize import specialize
from ir.printer import print_function
from ir.verify import verify

OPS = ir.OPS
CONV_POOL_ROWS = {"conv2d", "conv2d_backprop_input", "conv2d_backprop_filter", "max_pool2d", "max_pool2d_grad",
                  "max_pool2d_grad_grad", "avg_pool2d", "avg_pool2d_grad"}


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> Iterator[list]:
    """The IR of every native compile while the test runs (engine.concrete asks codegen.runtime for each one)."""
    made: list = []
    real = runtime.compile_function

    def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(fn)
        return real(fn, *args, **kwargs)
    monkeypatch.setattr(runtime, "compile_function", counting)
    yield made


def _row_cases() -> list[Any]:
    """(row, operand shapes with the batch first, which operands carry the batch, attrs), as test_conv_rows's."""
    cases = []
    for k, (xs, fs, strides, dilations, paddings) in enumerate(CONV):
        a = _attrs(strides, dilations, paddings)
        ys = (xs[0], out_size(xs[1], fs[0], strides[0], dilations[0], paddings[0]),
              out_size(xs[2], fs[1], strides[1], dilations[1], paddings[1]), fs[3])
        cases += [("conv2d", [xs, fs], [True, False], a, k),
                  ("conv2d_backprop_input", [ys, fs], [True, False], dict(a, shape=(None,) + xs[1:]), k),
                  ("conv2d_backprop_filter", [xs, ys], [True, True], dict(a, shape=fs), k)]
    for k, (xs, ksize, strides, paddings) in enumerate(POOL):
        a = {"ksize": ksize, "strides": strides, "paddings": paddings}
        ys = (xs[0],) + tuple(out_size(xs[1 + i], ksize[i], strides[i], 1, paddings[i]) for i in range(2)) + (xs[3],)
        cases += [("max_pool2d", [xs], [True], a, k), ("avg_pool2d", [xs], [True], a, k),
                  ("max_pool2d_grad", [xs, ys], [True, True], a, k),
                  ("max_pool2d_grad_grad", [xs, xs], [True, True], a, k),
                  ("avg_pool2d_grad", [ys], [True], dict(a, shape=(None,) + xs[1:]), k)]
    return [pytest.param(*c, id=f"{c[0]}-{c[4]}") for c in cases]


@pytest.mark.parametrize("dtype, tol", [("float64", 1e-12), ("float32", 2e-5), ("float16", 2e-2),
                                        ("bfloat16", 5e-2)])
@pytest.mark.parametrize("name, shapes, batched, attrs, k", _row_cases())
def test_every_row_compiles_one_kernel_for_every_batch(name: str, shapes: list, batched: list, attrs: dict, k: int,
                                                       dtype: str, tol: float, compiles: list) -> None:
    dt = getattr(tf, dtype)
    spec = [tf.TensorSpec(((None,) if b else s[:1]) + tuple(s[1:]), dt) for s, b in zip(shapes, batched)]

    def apply(*xs: Any) -> Any:
        return dispatch.apply(OPS[name], *xs, **attrs)
    row = (lambda a: apply(a)) if len(shapes) == 1 else (lambda a, b: apply(a, b))
    compiled = tf.function(row, input_signature=spec, autograph=False)
    interpreted = tf.function(row, input_signature=spec, jit_compile=False, autograph=False)
    rng = np.random.default_rng(k)
    for n in (1, 3, 8, 5, 0):
        operands = [tf.constant(rng.standard_normal(((n,) if b else s[:1]) + tuple(s[1:])), dtype=dt)
                    for s, b in zip(shapes, batched)]
        eager = row(*operands).numpy()
        assert eager.shape == attrs["shape"] if name == "conv2d_backprop_filter" else eager.shape[0] == n
        np.testing.assert_array_equal(interpreted(*operands).numpy(), eager)
        scale = max(float(np.max(np.abs(eager.astype(np.float64)), initial=0.0)), 1.0)
        np.testing.assert_allclose(compiled(*operands).numpy().astype(np.float64), eager.astype(np.float64), rtol=0,
                                   atol=tol * scale)
    (concrete,) = compiled._cache.values()
    assert concrete.ir.param_types[0].shape[0] is None
    assert compiles_generically(concrete.ir) and not concrete._specializations
    assert len(compiles) == 1, "one native kernel for batches 1, 3, 8, 5 and 0"


def _loss_np(x: np.ndarray, f: np.ndarray, w: np.ndarray) -> float:
    """The CNN loss below, from the numpy references in float64."""
    y = np.tanh(ref_conv(x, f, (2, 1), (1, 1), ((1, 1), (0, 1))))
    m, _ = ref_pool(y, (2, 2), (2, 2), ((0, 0), (0, 0)), "max")
    a, _ = ref_pool(y, (3, 3), (1, 1), ((1, 1), (1, 1)), "avg")
    return float(np.sum(m * m) + np.sum(a * w))


def test_cnn_gradients_through_one_kernel_match_finite_differences(compiles: list) -> None:
    rng = np.random.default_rng(7)
    f0 = rng.standard_normal((3, 2, 3, 8)) * 0.5
    w = rng.standard_normal((1, 5, 6, 8))  # broadcast over the batch

    @tf.function(input_signature=[tf.TensorSpec([None, 9, 6, 3], tf.float64), tf.TensorSpec([3, 2, 3, 8], tf.float64)])
    def grads(x: Any, f: Any) -> Any:
        with tf.GradientTape() as tape:
            tape.watch([x, f])
            y = tf.tanh(tf.nn.conv2d(x, f, [2, 1], "SAME"))  # pads ((1, 1), (0, 1))
            m = tf.nn.max_pool2d(y, 2, 2, "VALID")
            loss = tf.reduce_sum(m * m) + tf.reduce_sum(tf.nn.avg_pool2d(y, 3, 1, "SAME") * w)
        return loss, tape.gradient(loss, [x, f])
    eps = 1e-6
    for n in (1, 4, 7, 2):
        x = rng.standard_normal((n, 9, 6, 3))
        loss, (dx, df) = grads(tf.constant(x), tf.constant(f0))
        np.testing.assert_allclose(float(loss), _loss_np(x, f0, w), rtol=1e-12)
        assert dx.shape == x.shape and df.shape == f0.shape
        for _ in range(2):  # random directions
            u, v = rng.standard_normal(x.shape), rng.standard_normal(f0.shape)
            fd_x = (_loss_np(x + eps * u, f0, w) - _loss_np(x - eps * u, f0, w)) / (2 * eps)
            fd_f = (_loss_np(x, f0 + eps * v, w) - _loss_np(x, f0 - eps * v, w)) / (2 * eps)
            np.testing.assert_allclose(np.sum(dx.numpy() * u), fd_x, rtol=1e-6, atol=1e-6)
            np.testing.assert_allclose(np.sum(df.numpy() * v), fd_f, rtol=1e-6, atol=1e-6)
    (concrete,) = grads._cache.values()
    assert compiles_generically(concrete.ir) and not concrete._specializations
    assert len(compiles) == 1


def _cnn() -> Any:
    """Every layer named: automatic names would count up in this process (tests elsewhere expect "conv2d")."""
    layers = keras.layers
    return keras.Sequential([keras.Input((10, 10, 1)), layers.Conv2D(6, 3, activation="relu", name="c1"),
                             layers.MaxPooling2D(2, name="p1"), layers.Conv2D(5, 2, padding="same", name="c2"),
                             layers.AveragePooling2D(2, name="p2"), layers.Flatten(name="flat"),
                             layers.Dense(3, name="logits")], name="cnn")


def test_keras_cnn_fit_compiles_its_step_once_with_a_partial_last_batch(compiles: list) -> None:
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((70, 10, 10, 1)).astype(np.float32), rng.integers(0, 3, 70)
    model = _cnn()
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = [v.numpy() for v in model.weights]
    model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)  # batches of 32, 32 and 6
    (step,) = model._steps["train"].functions.values()
    assert step.experimental_get_tracing_count() == 1
    (concrete,) = step._cache.values()
    assert {op.opdef.name for op in concrete.ir.walk()} >= {"conv2d", "conv2d_backprop_filter",
                                                            "conv2d_backprop_input", "max_pool2d_grad",
                                                            "avg_pool2d_grad"}
    assert not concrete._specializations and compiles_generically(concrete.ir), "one kernel for 32, 32 and 6"
    assert len(compiles) == 1, "the train step compiled once"
    # The same training run on eager batches (plain Python) is the oracle.
    eager = _cnn()
    eager.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  run_eagerly=True)
    eager.set_weights(before)
    eager.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(model.weights, eager.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)
    out = model.predict(x, batch_size=32, verbose=0)
    np.testing.assert_allclose(out, eager(tf.constant(x)).numpy(), rtol=1e-4, atol=1e-5)
    assert len(compiles) == 2, "predict compiled its step once for 32, 32 and 6"


# ---- unknown spatial dims: specialization -------------------------------------------------------------------------
def test_unknown_spatial_dims_fall_back_to_one_specialization_per_shape(compiles: list) -> None:
    """VALID, and SAME with stride 1 (whose paddings do not depend on the size), trace with unknown spatial dims;
    the rows' rules keep spatial dims static, so each input shape compiles its own specialization, and the gradient
    rows take the input's unknown sizes as operands until specialization folds them."""
    rng = np.random.default_rng(5)
    f0 = tf.constant(rng.standard_normal((3, 3, 2, 4)))

    def body(x: Any, f: Any) -> Any:
        with tf.GradientTape() as tape:
            tape.watch([x, f])
            y = tf.nn.relu(tf.nn.conv2d(x, f, 1, "SAME"))
            z = tf.nn.max_pool2d(y, 2, 2, "VALID") + tf.nn.avg_pool2d(y, 3, 1, "SAME")[:, ::2, ::2]
            loss = tf.reduce_sum(z * z)
        return [z] + tape.gradient(loss, [x, f])
    f = tf.function(body, input_signature=[tf.TensorSpec([None, None, None, 2], tf.float64),
                                           tf.TensorSpec([3, 3, 2, 4], tf.float64)])
    for s in [(2, 6, 8, 2), (3, 4, 4, 2), (2, 6, 8, 2), (1, 2, 6, 2)]:
        x = tf.constant(rng.standard_normal(s))
        want = body(x, f0)
        assert want[0].shape == (s[0], s[1] // 2, s[2] // 2, 4)
        for got, ref in zip(f(x, f0), want):
            np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-10, atol=1e-10)
    assert f.experimental_get_tracing_count() == 1
    (concrete,) = f._cache.values()
    assert concrete.ir.param_types[0].shape == (None, None, None, 2)
    assert not compiles_generically(concrete.ir)
    assert "conv2d" in unsupported_ops(concrete.ir)
    assert len(concrete._specializations) == len(compiles) == 3


def test_same_padding_with_a_stride_on_an_unknown_spatial_dim_as_tf() -> None:
    f = tf.function(lambda x: tf.nn.max_pool2d(x, 2, 2, "SAME"),
                    input_signature=[tf.TensorSpec([None, None, 8, 1], tf.float32)])
    got = [f(tf.reshape(tf.range(float(n * 8)), [1, n, 8, 1]))[0, :, :, 0].numpy().tolist() for n in (5, 3)]
    # TF 2.21's answers for the same calls
    assert got == [[[9.0, 11.0, 13.0, 15.0], [25.0, 27.0, 29.0, 31.0], [33.0, 35.0, 37.0, 39.0]],
                   [[9.0, 11.0, 13.0, 15.0], [17.0, 19.0, 21.0, 23.0]]]
    # the row carries SAME unresolved on the `?` axis; each specialization resolves it from the call's size
    (op,) = [op for op in f.get_concrete_function().ir.walk() if op.opdef.name == "max_pool2d"]
    assert [list(p) for p in op.attrs["paddings"]] == [[None, None], [0, 0]]
    text = print_function(f.get_concrete_function().ir)  # the IR text round-trips and verifies
    verify(parse(text))
    assert print_function(parse(text)) == text
    static = specialize(f.get_concrete_function().ir, [(1, 5, 8, 1)])
    (op,) = [op for op in static.walk() if op.opdef.name == "max_pool2d"]
    assert [list(p) for p in op.attrs["paddings"]] == [[0, 1], [0, 0]]


def _tf_same(size: int, k: int, stride: int) -> tuple[int, int]:
    """TF's SAME padding (its documentation's formula), the smaller half before."""
    total = max((-(-size // stride) - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def _same_loss_np(x: np.ndarray, f: np.ndarray, strides: tuple, k: int) -> float:
    pads = [_tf_same(x.shape[1 + a], f.shape[a], strides[a]) for a in range(2)]
    y = ref_conv(x, f, strides, (1, 1), pads)
    mp = [_tf_same(y.shape[1 + a], k, 2) for a in range(2)]
    m, _ = ref_pool(y, (k, k), (2, 2), mp, "max")
    a, _ = ref_pool(y, (k, k), (2, 2), mp, "avg")
    return float(np.sum(np.sin(y)) + np.sum(m * m) + np.sum(a * a * a))


def test_same_padding_with_strides_on_unknown_spatial_dims_gradients_match_finite_differences() -> None:
    """conv2d, max and average pooling, SAME with strides over `?` spatial dims: values against numpy with TF's
    SAME padding worked out per call, and both of conv2d's gradients (through the pools' gradients) against
    float64 central differences in random directions."""
    rng = np.random.default_rng(11)
    f0 = rng.standard_normal((3, 2, 2, 3)) * 0.5

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 2], tf.float64),
                                  tf.TensorSpec([3, 2, 2, 3], tf.float64)])
    def grads(x: Any, f: Any) -> Any:
        with tf.GradientTape() as tape:
            tape.watch([x, f])
            y = tf.nn.conv2d(x, f, [2, 3], "SAME")
            loss = (tf.reduce_sum(tf.sin(y)) + tf.reduce_sum(tf.nn.max_pool2d(y, 3, 2, "SAME") ** 2)
                    + tf.reduce_sum(tf.nn.avg_pool2d(y, 3, 2, "SAME") ** 3))
        return loss, tape.gradient(loss, [x, f])
    eps = 1e-6
    for shape in ((2, 5, 7, 2), (1, 4, 6, 2), (1, 7, 3, 2)):
        x = rng.standard_normal(shape)
        loss, (dx, df) = grads(tf.constant(x), tf.constant(f0))
        np.testing.assert_allclose(float(loss), _same_loss_np(x, f0, (2, 3), 3), rtol=1e-12)
        u, v = rng.standard_normal(x.shape), rng.standard_normal(f0.shape)
        fd_x = (_same_loss_np(x + eps * u, f0, (2, 3), 3) - _same_loss_np(x - eps * u, f0, (2, 3), 3)) / (2 * eps)
        fd_f = (_same_loss_np(x, f0 + eps * v, (2, 3), 3) - _same_loss_np(x, f0 - eps * v, (2, 3), 3)) / (2 * eps)
        np.testing.assert_allclose(np.sum(dx.numpy() * u), fd_x, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(np.sum(df.numpy() * v), fd_f, rtol=1e-6, atol=1e-6)


def test_profiling_a_function_with_a_run_time_batch_times_its_conv_kernels() -> None:
    """The profiler counts no bytes or FLOPs for values whose size is known only at run time, and times them."""
    f0 = tf.constant(np.ones((3, 3, 2, 4), np.float32))
    f = tf.function(lambda x: tf.nn.max_pool2d(tf.nn.conv2d(x, f0, 1, "VALID"), 2, 2, "VALID"),
                    input_signature=[tf.TensorSpec([None, 6, 6, 2], tf.float32)])
    x = tf.ones([3, 6, 6, 2])
    with tf.profiler.profile() as p:
        outs = [f(x) for _ in range(2)]
    for out in outs:
        np.testing.assert_array_equal(out.numpy(), np.full((3, 2, 2, 4), 18.0, np.float32))
    [stats] = p.functions
    [conv] = [k for k in stats.kernels if "conv2d" in k.info.ops]
    assert stats.calls == 2 and conv.runs == 2 and conv.ns >= 0 and conv.info.bytes == conv.info.flops == 0
