"""Softmax rows in one pass (codegen.softmax_rows, codegen.rules.softmax_stats): the max-shift-exp-sum pattern is
found after the passes and lowered as one `max_sumexp` op, whose results match numpy in float64, TensorFlow's
special values and the eager (decomposed) results; gradients are unchanged."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import engine as tf
from codegen import softmax_rows
from codegen.rules.softmax_exps import SOFTMAX_ROWS
from codegen.rules.softmax_stats import MAX_SUMEXP
from engine.testing import check_grads
from ir.interp import run

INF, NAN = np.inf, np.nan


def np_log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = x.astype(np.float64)
    s = x - x.max(axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis, keepdims=True))


def np_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.exp(np_log_softmax(x, axis))


def fused_ir(fn: Callable[..., Any], *specs: Any) -> Any:
    return softmax_rows.fuse(tf.function(fn).get_concrete_function(*specs).optimized_ir)


def op_names(fn: Any) -> list[str]:
    return [op.opdef.name for op in fn.walk()]


# ---- the pattern is found (and only where it pays) -----------------------------------------------------------------
@pytest.mark.parametrize("shape", [[64, 100000], [None, 1000], [3, 4, 700], [5000]])
def test_log_softmax_rows_become_one_op(shape: list) -> None:
    names = op_names(fused_ir(tf.nn.log_softmax, tf.TensorSpec(shape, tf.float32)))
    assert names.count("max_sumexp") == 1
    assert "reduce_max" not in names and "reduce_sum" not in names


def _softmax_and_grad(x: Any) -> Any:
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.softmax(x)
        loss = tf.reduce_sum(y * y)
    return y, tape.gradient(loss, x)


@pytest.mark.parametrize("shape", [[None, 1000], [8, 2048], [100], [2, 3, 16]])
def test_softmax_rows_of_one_block_become_one_op(shape: list) -> None:
    names = op_names(fused_ir(tf.nn.softmax, tf.TensorSpec(shape, tf.float64)))
    assert names == ["softmax_rows", "return"]


@pytest.mark.parametrize("shape, axis", [([300, 37], 0), ([None, 40, 6], 1), ([64, 100000], 0)])
def test_log_softmax_over_other_axes_becomes_one_op(shape: list, axis: int) -> None:
    names = op_names(fused_ir(lambda x: tf.nn.log_softmax(x, axis=axis), tf.TensorSpec(shape, tf.float32)))
    assert names.count("max_sumexp") == 1 and "reduce_max" not in names


def test_cross_entropies_use_one_op() -> None:
    y, x = tf.TensorSpec([None, 32], tf.float32), tf.TensorSpec([None, 32], tf.float32)
    names = op_names(fused_ir(lambda y, x: tf.nn.softmax_cross_entropy_with_logits(y, x), y, x))
    assert names.count("max_sumexp") == 1 and names.count("reduce_sum") == 1  # the sum with the labels stays
    names = op_names(fused_ir(lambda y, x: tf.nn.sparse_softmax_cross_entropy_with_logits(y, x),
                              tf.TensorSpec([None], tf.int32), x))
    assert names.count("max_sumexp") == 1


def test_user_written_softmax_without_stop_gradient_or_keepdims_is_found() -> None:
    def softmax(x):
        e = tf.exp(x - tf.reshape(tf.reduce_max(x, axis=1), [-1, 1]))
        return tf.math.log(tf.reduce_sum(e, axis=1))
    assert "max_sumexp" in op_names(fused_ir(softmax, tf.TensorSpec([8, 300], tf.float64)))


def test_what_is_not_fused() -> None:
    spec = tf.TensorSpec([256, 1024], tf.float32)
    # softmax over rows longer than a block: the decomposed form keeps exp(x - m) for the division (measured faster
    # than computing it twice, or than scaling each block's exps)
    names = op_names(fused_ir(tf.nn.softmax, tf.TensorSpec([64, 100000], tf.float32)))
    assert "max_sumexp" not in names and "softmax_rows" not in names
    # a softmax whose exps the backward pass reads too
    names = op_names(fused_ir(_softmax_and_grad, spec))
    assert "max_sumexp" not in names and "softmax_rows" not in names
    # rows shorter than MIN_ROW, float16, a max of another value
    assert "max_sumexp" not in op_names(fused_ir(tf.nn.log_softmax, tf.TensorSpec([64, 8], tf.float32)))
    assert "max_sumexp" not in op_names(fused_ir(tf.nn.log_softmax, tf.TensorSpec([64, 64], tf.float16)))
    assert "max_sumexp" not in op_names(fused_ir(
        lambda x, z: x - tf.math.log(tf.reduce_sum(tf.exp(x - tf.reduce_max(z, -1, keepdims=True)), -1,
                                                   keepdims=True)), spec, spec))


def _counting(lower: Callable[..., Any], calls: list) -> Callable[..., Any]:
    def counting(ctx: Any, op: Any, x: Any) -> Any:
        calls.append((op.opdef.name, op.attrs["axes"]))
        return lower(ctx, op, x)
    counting.dynamic = True  # type: ignore[attr-defined]
    return counting


def test_the_compiled_function_lowers_the_fused_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILN_CACHE", "0")
    calls: list = []
    monkeypatch.setattr(MAX_SUMEXP, "lower", _counting(MAX_SUMEXP.lower, calls))
    monkeypatch.setattr(SOFTMAX_ROWS, "lower", _counting(SOFTMAX_ROWS.lower, calls))
    x = np.random.default_rng(0).standard_normal((64, 300)).astype(np.float32)
    got = tf.function(lambda x: tf.nn.log_softmax(x))(tf.constant(x)).numpy()
    assert calls == [("max_sumexp", (1,))]
    np.testing.assert_allclose(got, np_log_softmax(x), rtol=1e-5, atol=1e-5)
    got = tf.function(lambda x: tf.nn.softmax(x))(tf.constant(x)).numpy()
    assert calls[1:] == [("softmax_rows", (1,))]
    np.testing.assert_allclose(got, np_softmax(x), rtol=1e-5, atol=1e-9)


def test_the_op_matches_its_numpy_kernel_through_the_interpreter() -> None:
    x = np.random.default_rng(1).standard_normal((4, 3, 50)) * 20
    fn = fused_ir(lambda x: tf.nn.log_softmax(x), tf.TensorSpec([4, 3, 50], tf.float64))
    (got,) = run(fn, [x])
    np.testing.assert_allclose(got, np_log_softmax(x), rtol=1e-13, atol=1e-13)
    (got,) = run(fused_ir(lambda x: tf.nn.softmax(x), tf.TensorSpec([4, 3, 50], tf.float64)), [x])
    np.testing.assert_allclose(got, np_softmax(x), rtol=1e-13, atol=1e-300)
    m, s = MAX_SUMEXP.eager(x, axes=(1, 2))
    np.testing.assert_allclose(m, x.max((1, 2)))
    np.testing.assert_allclose(s, np.exp(x - x.max((1, 2), keepdims=True)).sum((1, 2)), rtol=1e-13)


# ---- values ----------------------------------------------------------------------------------------------------------
SHAPES = [(100,), (5000,), (7, 1), (9, 16), (5, 33), (3, 2047), (2, 2048), (3, 2049), (2, 70001), (64, 4096),
          (3, 4, 97)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_against_numpy_in_float64(shape: tuple, dtype: Any) -> None:
    rng = np.random.default_rng(sum(shape))
    x = (rng.standard_normal(shape) * 20).astype(dtype)
    y = rng.random(shape).astype(dtype)
    tol = 2e-6 if dtype == np.float32 else 1e-13
    f_log = tf.function(lambda x: tf.nn.log_softmax(x))
    f_soft = tf.function(lambda x: tf.nn.softmax(x))
    f_xent = tf.function(lambda y, x: tf.nn.softmax_cross_entropy_with_logits(y, x))
    want = np_log_softmax(x)
    np.testing.assert_allclose(f_log(tf.constant(x)).numpy(), want, rtol=tol, atol=tol * np.abs(want).max())
    np.testing.assert_allclose(f_soft(tf.constant(x)).numpy(), np.exp(want), rtol=tol * 4, atol=1e-30)
    xent = -(y.astype(np.float64) * want).sum(-1)
    np.testing.assert_allclose(f_xent(tf.constant(y), tf.constant(x)).numpy(), xent, rtol=tol * 4)


@pytest.mark.parametrize("shape, axis", [((300, 37), 0), ((4, 50, 6), 1), ((20, 3, 40), 0), ((17, 33), -2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_other_axes_against_numpy_in_float64(shape: tuple, axis: int, dtype: Any) -> None:
    rng = np.random.default_rng(sum(shape))
    x = (rng.standard_normal(shape) * 20).astype(dtype)
    y = rng.random(shape).astype(dtype)
    tol = 4e-6 if dtype == np.float32 else 1e-13
    want = np_log_softmax(x, axis)
    got = tf.function(lambda x: tf.nn.log_softmax(x, axis=axis))(tf.constant(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())
    got = tf.function(lambda x: tf.nn.softmax(x, axis=axis))(tf.constant(x)).numpy()
    np.testing.assert_allclose(got, np.exp(want), rtol=tol, atol=1e-30)
    got = tf.function(lambda y, x: tf.nn.softmax_cross_entropy_with_logits(y, x, axis=axis))(
        tf.constant(y), tf.constant(x)).numpy()
    np.testing.assert_allclose(got, -(y.astype(np.float64) * want).sum(axis), rtol=tol)


def test_sparse_cross_entropy_against_numpy() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((50, 300)).astype(np.float32) * 5
    labels = rng.integers(0, 300, 50).astype(np.int32)
    got = tf.function(lambda lab, x: tf.nn.sparse_softmax_cross_entropy_with_logits(lab, x))(
        tf.constant(labels), tf.constant(x)).numpy()
    np.testing.assert_allclose(got, -np_log_softmax(x)[np.arange(50), labels], rtol=2e-6)


# Rows of special values; TF 2.21's answers (tf.nn.softmax / log_softmax / softmax_cross_entropy_with_logits).
SPECIAL = np.array([[0, 1, 2, -INF], [-INF] * 4, [3e38, -3e38, 3, 3], [5, 5, 5, 5], [-1e30, -1e30, -1e30, -2e30]] +
                   [[-INF] * 3 + [7.0]], np.float32)
TF_SOFTMAX = np.array([[0.090030566, 0.24472848, 0.6652409, 0.0], [NAN] * 4, [1.0, 0.0, 0.0, 0.0], [0.25] * 4,
                       [0.33333334, 0.33333334, 0.33333334, 0.0], [0, 0, 0, 1.0]], np.float32)
TF_LOG_SOFTMAX = np.array([[-2.4076059, -1.4076059, -0.40760595, -INF], [NAN] * 4, [0.0, -INF, -3e38, -3e38],
                           [-1.3862944] * 4, [-1.0986123, -1.0986123, -1.0986123, -1e30], [-INF] * 3 + [0.0]],
                          np.float32)
LABELS = np.array([[0.25, 0.25, 0.5, 0.0]] * 6, np.float32)
TF_XENT = np.array([NAN, NAN, INF, 1.3862944, 1.0986123, INF], np.float32)


@pytest.fixture
def fuse_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every softmax pattern fused, whatever its row length and consumers (softmax's division then computes exp
    again; not stored in the disk cache, whose key does not say)."""
    monkeypatch.setenv("KILN_CACHE", "0")
    monkeypatch.setattr(softmax_rows, "MIN_ROW", 1)
    monkeypatch.setattr(softmax_rows, "SHARED_EXP", True)


def test_special_values_like_tensorflow(fuse_all: None) -> None:
    x = tf.constant(SPECIAL)
    spec = tf.TensorSpec(SPECIAL.shape, tf.float32)
    assert "softmax_rows" in op_names(fused_ir(tf.nn.softmax, spec))
    assert "max_sumexp" in op_names(fused_ir(tf.nn.log_softmax, spec))
    np.testing.assert_allclose(tf.function(lambda x: tf.nn.softmax(x))(x).numpy(), TF_SOFTMAX, rtol=1e-6)
    np.testing.assert_allclose(tf.function(lambda x: tf.nn.log_softmax(x))(x).numpy(), TF_LOG_SOFTMAX, rtol=1e-6)
    got = tf.function(lambda y, x: tf.nn.softmax_cross_entropy_with_logits(y, x))(tf.constant(LABELS), x).numpy()
    np.testing.assert_allclose(got, TF_XENT, rtol=1e-6)


@pytest.mark.parametrize("width", [4, 5000, 70001])
def test_special_rows_in_any_block_compiled_equal_eager(fuse_all: None, width: int) -> None:
    """Each special row's 4 values at the start, the middle or the end of a row of -inf (which adds nothing), so
    they land in the first, a middle or the last block (width 4: softmax_rows; longer rows: max_sumexp for both).
    NaN and +inf rows too: TF's softmax gives [nan, 0, 0, 0] for them (its exp of NaN), Kiln's eager and compiled
    code both NaN rows (tests/test_ops_tf.py pins the +inf case of log_softmax). The same values down the columns
    (axis 0: the per-element online form)."""
    rows = np.concatenate([SPECIAL, [[NAN, 1, 2, 3], [INF, 1, 2, 3], [1, 2, 3, NAN]]]).astype(np.float32)
    for at in sorted({0, width // 2 - 2, width - 4}):
        x = np.full((len(rows), width), -INF, np.float32)
        x[:, at:at + 4] = rows
        for fn, want in ((tf.nn.log_softmax, TF_LOG_SOFTMAX), (tf.nn.softmax, TF_SOFTMAX)):
            compiled = tf.function(lambda x: fn(x))(tf.constant(x)).numpy()
            np.testing.assert_allclose(compiled, fn(tf.constant(x)).numpy(), rtol=2e-6, equal_nan=True)
            np.testing.assert_allclose(compiled[:len(want), at:at + 4], want, rtol=2e-6)
            columns = tf.function(lambda x: fn(x, axis=0))(tf.constant(x.T.copy())).numpy()
            np.testing.assert_allclose(columns, fn(tf.constant(x.T.copy()), axis=0).numpy(), rtol=2e-6,
                                       equal_nan=True)
            np.testing.assert_allclose(columns[at:at + 4, :len(want)], want.T, rtol=2e-6)


def test_run_time_rows_and_row_tiling() -> None:
    spec = [tf.TensorSpec([None, 37], tf.float32)]
    f_log = tf.function(lambda x: tf.nn.log_softmax(x), input_signature=spec)
    f_soft = tf.function(lambda x: tf.nn.softmax(x), input_signature=spec)
    rng = np.random.default_rng(5)
    for rows in (1, 3, 1000, 5000):  # 5000 x 37 is tiled in chunks of a run-time row count
        x = rng.standard_normal((rows, 37)).astype(np.float32) * 10
        np.testing.assert_allclose(f_log(tf.constant(x)).numpy(), np_log_softmax(x), rtol=2e-6, atol=2e-6)
        np.testing.assert_allclose(f_soft(tf.constant(x)).numpy(), np_softmax(x), rtol=4e-6, atol=1e-30)


# ---- gradients (built on the decomposed IR, before the fusion) -----------------------------------------------------
@pytest.mark.parametrize("fn", [lambda x: tf.nn.log_softmax(x) * tf.constant(np.linspace(-1, 1, 40)),
                                lambda x: tf.nn.softmax(x) * tf.constant(np.linspace(-1, 1, 40)),
                                lambda x: tf.nn.softmax_cross_entropy_with_logits(
                                    tf.constant(np.full((6, 40), 1 / 40)), x)])
def test_gradients_match_finite_differences(fn: Callable[..., Any]) -> None:
    x = np.random.default_rng(7).standard_normal((6, 40))
    check_grads(tf.function(fn), [x], order=1, modes=("rev",))


def test_compiled_gradient_of_a_fused_loss(fuse_all: None) -> None:
    """The backward pass reads exp(x - m) too (exp has two consumers): fused here whatever the row length."""
    x = np.random.default_rng(8).standard_normal((6, 40))
    y = np.random.default_rng(9).random((6, 40))

    @tf.function
    def grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(tf.constant(y), x))
        return loss, tape.gradient(loss, x)
    loss, g = grad(tf.constant(x))
    assert "max_sumexp" in op_names(softmax_rows.fuse(grad.get_concrete_function(tf.constant(x)).optimized_ir))
    np.testing.assert_allclose(g.numpy(), np_softmax(x) * y.sum(-1, keepdims=True) - y, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(loss.numpy(), -(y * np_log_softmax(x)).sum(), rtol=1e-13)


def test_a_fused_producer_of_the_logits() -> None:
    """The logits an elementwise chain computes (a lazy value, computed once per element for both passes)."""
    x = np.random.default_rng(10).standard_normal((64, 300)).astype(np.float32)
    y = np.tanh(x.astype(np.float64)) * 3
    for fn, want in ((tf.nn.softmax, np_softmax(y)), (tf.nn.log_softmax, np_log_softmax(y))):
        f = tf.function(lambda x: fn(tf.tanh(x) * 3.0))
        assert {"softmax_rows", "max_sumexp"} & set(op_names(softmax_rows.fuse(
            f.get_concrete_function(tf.TensorSpec([64, 300], tf.float32)).optimized_ir)))
        np.testing.assert_allclose(f(tf.constant(x)).numpy(), want, rtol=4e-6, atol=1e-6)


def test_softmax_and_log_softmax_of_the_same_logits() -> None:
    """After CSE the two share the max, the shift, the exps and the sum: neither op can take them all, and the
    values stay right."""
    x = np.random.default_rng(11).standard_normal((32, 200)).astype(np.float32) * 5
    f = tf.function(lambda x: (tf.nn.softmax(x), tf.nn.log_softmax(x)))
    soft, log = f(tf.constant(x))
    np.testing.assert_allclose(soft.numpy(), np_softmax(x), rtol=4e-6, atol=1e-30)
    np.testing.assert_allclose(log.numpy(), np_log_softmax(x), rtol=2e-6, atol=2e-6)


def test_inside_a_loop_body() -> None:
    """Patterns in a region (a while_loop's body) are found and lowered there."""
    x = np.random.default_rng(12).standard_normal((16, 64)).astype(np.float32)

    @tf.function
    def iterate(x):
        for _ in tf.range(3):
            x = tf.nn.softmax(x * 10.0) + tf.nn.log_softmax(x) * 0.25
        return x
    fused = softmax_rows.fuse(iterate.get_concrete_function(tf.constant(x)).optimized_ir)
    body = [op.opdef.name for op in fused.walk()]
    assert body.count("softmax_rows") == 1 and body.count("max_sumexp") == 1 and "reduce_max" not in body
    want = x.astype(np.float64)
    for _ in range(3):
        want = np_softmax(want * 10) + np_log_softmax(want) * 0.25
    np.testing.assert_allclose(iterate(tf.constant(x)).numpy(), want, rtol=1e-5, atol=1e-5)
