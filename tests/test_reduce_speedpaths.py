"""The fast paths of reductions and big results: blocked float sums (codegen.rules.blocked_sum), reductions over
split rows run on threads (codegen.partial) and non-temporal stores of big results (codegen.streaming).

Oracles: float64 (and exact integer) sums computed with numpy, the IR interpreter and eager mode (the `eager`
facets), and TF 2.21's answers where the behaviour is TF's (hard-coded, recorded with TensorFlow 2.21). Small
thresholds are patched in so that the paths run on small inputs; one test runs them at their real sizes.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pytest

import engine as tf
from codegen import partial, streaming
from codegen.runtime import compile_function
from ir.interp import run
from ir.types import TensorType, bfloat16, float16, float32, float64, int32, int64, uint8
from irbuild import build
from reducing import EPS32, reduce_fn

# the thresholds patched here change the code made for the same IR
pytestmark = pytest.mark.usefixtures("no_disk_cache")

EPS64 = float(np.finfo(np.float64).eps)


def compiled_interp_eager(fn: Any, arrays: Sequence[np.ndarray]) -> tuple[list, list]:
    got = compile_function(fn)(list(arrays))
    want = run(fn, [np.array(a, copy=True) for a in arrays])
    return got, want


# ---- blocked float sums ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 255, 256, 300, 2048, 2049, 5000, 70001])
def test_float32_sum_is_within_the_blocked_bound_of_the_float64_sum(n: int) -> None:
    """|error| <= (SUM_BLOCK/64 + 6 + 2) eps32 * sum|x| (the bound in codegen.rules.blocked_sum, plus the final
    rounding), and the result is never further than numpy's pairwise sum is, plus two roundings."""
    rng = np.random.default_rng(n)
    x = (rng.standard_normal(n) * 10 + 3).astype(np.float32)
    fn = reduce_fn("reduce_sum", TensorType(float32, (n,)), [0])
    got = float(compile_function(fn)([x])[0])
    exact = float(np.sum(x.astype(np.float64)))
    scale = float(np.sum(np.abs(x.astype(np.float64))))
    assert abs(got - exact) <= (2048 / 64 + 8) * EPS32 * scale
    assert abs(got - exact) <= abs(float(np.sum(x)) - exact) + 2 * EPS32 * abs(exact) + 1e-30


def test_float32_sum_of_a_long_row_stays_close_to_exact() -> None:
    """A constant-sign row of 3M elements: one accumulator chain per lane would drift by ~n/64 roundings; the
    blocked sum stays within a few units of roundoff of the float64 sum, like numpy's."""
    x = (np.random.default_rng(3).random(3_000_001) + 1).astype(np.float32)
    fn = reduce_fn("reduce_sum", TensorType(float32, x.shape), [0])
    got = float(compile_function(fn)([x])[0])
    exact = float(np.sum(x.astype(np.float64)))
    assert abs(got / exact - 1) < 8 * EPS32


def test_float64_row_sums_are_compensated_across_blocks() -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 50_000)) * np.logspace(0, 8, 50_000)
    fn = reduce_fn("reduce_sum", TensorType(float64, x.shape), [1])
    got = compile_function(fn)([x])[0]
    exact = np.array([float(np.sum(r.astype(np.longdouble))) for r in x])
    scale = np.abs(x).sum(axis=1)
    assert np.all(np.abs(got - exact) <= 40 * EPS64 * scale)


@pytest.mark.parametrize("dtype", [float16, bfloat16])
def test_half_sums_accumulate_in_float32(dtype: Any) -> None:
    """5000 x 0.1: a float16 accumulator would stall at 256 (its spacing there is 0.25 > 0.1); float32
    accumulation gives the float64 sum rounded once (eager and compiled alike)."""
    x = np.full(5000, 0.1, dtype=dtype.np)
    fn = reduce_fn("reduce_sum", TensorType(dtype, x.shape), [0])
    got, want = compiled_interp_eager(fn, [x])
    exact = np.float64(x.astype(np.float64).sum()).astype(dtype.np)
    assert got[0] == exact and want[0] == exact


@pytest.mark.parametrize("dtype,axes", [(int32, [0]), (int64, [1]), (uint8, [0, 1]), (int32, [0, 1])])
def test_integer_sums_equal_the_interpreter(dtype: Any, axes: list[int]) -> None:
    x = np.random.default_rng(5).integers(0, 250, (300, 700)).astype(dtype.np)
    fn = reduce_fn("reduce_sum", TensorType(dtype, x.shape), axes)
    got, want = compiled_interp_eager(fn, [x])
    assert got[0].dtype == want[0].dtype and np.array_equal(got[0], want[0])
    assert np.array_equal(got[0], np.sum(x, axis=tuple(axes), dtype=dtype.np))


# ---- TF's answers: NaN, empty tensors -------------------------------------------------------------------------------
def test_max_min_propagate_nan_as_tensorflow() -> None:
    """TF 2.21: reduce_max/min of [1, nan, 3, 2] are nan; over rows of ones with one nan, that row is nan."""
    @tf.function
    def f(x):
        return tf.reduce_max(x), tf.reduce_min(x), tf.reduce_max(x, axis=1), tf.reduce_min(x, axis=0)
    z = np.ones((3, 1000), np.float32)
    z[1, 5] = np.nan
    for got in (f(z), (tf.reduce_max(z), tf.reduce_min(z), tf.reduce_max(z, axis=1), tf.reduce_min(z, axis=0))):
        mx, mn, rows, cols = (np.asarray(g) for g in got)
        assert np.isnan(mx) and np.isnan(mn)
        assert np.isnan(rows[1]) and rows[0] == 1 and rows[2] == 1
        assert np.isnan(cols[5]) and np.all(np.delete(cols, 5) == 1)


def test_reductions_of_empty_tensors_are_tensorflows() -> None:
    """TF 2.21: over [0] float32: max -inf, min inf, sum 0, mean nan; max of an empty int32 is -2147483648;
    reduce_max(zeros([0, 3]), axis=0) is [-inf] * 3."""
    @tf.function
    def f(x, i, m):
        return (tf.reduce_max(x), tf.reduce_min(x), tf.reduce_sum(x), tf.reduce_mean(x), tf.reduce_max(i),
                tf.reduce_max(m, axis=0))
    got = [np.asarray(v) for v in f(np.zeros(0, np.float32), np.zeros(0, np.int32), np.zeros((0, 3), np.float32))]
    assert got[0] == -np.inf and got[1] == np.inf and got[2] == 0 and np.isnan(got[3])
    assert got[4] == -2147483648 and got[4].dtype == np.int32
    assert np.array_equal(got[5], np.full(3, -np.inf, np.float32))


@pytest.mark.parametrize("axis,keepdims", [(0, False), (1, True), ((0, 2), True), (None, True), (-1, False)])
def test_axis_reductions_with_keepdims_match_numpy(axis: Any, keepdims: bool) -> None:
    x = np.random.default_rng(6).standard_normal((40, 30, 300)).astype(np.float32)

    @tf.function
    def f(x):
        return [op(x, axis=axis, keepdims=keepdims) for op in (tf.reduce_sum, tf.reduce_max, tf.reduce_min,
                                                               tf.reduce_mean)]
    got = [np.asarray(v) for v in f(x)]
    ax = axis if axis is None or isinstance(axis, int) else tuple(axis)
    x64 = x.astype(np.float64)
    scale = np.abs(x64).sum(ax, keepdims=keepdims)  # sums over non-trailing axes add in one chain per output
    count = x.size // np.size(scale)
    for g, w, tol in zip(got, [x64.sum(ax, keepdims=keepdims), x.max(ax, keepdims=keepdims),
                               x.min(ax, keepdims=keepdims), x64.mean(ax, keepdims=keepdims)],
                         [1e-5 * scale, 0, 0, 1e-5 * scale / count]):
        assert g.shape == np.shape(w) and g.dtype == np.float32
        assert np.all(np.abs(g - w) <= tol)


# ---- reductions over split rows on threads --------------------------------------------------------------------------
CASES = [
    ("sum all", "reduce_sum", (4096,), [0], None),
    ("max all", "reduce_max", (64, 300), [0, 1], None),
    ("min axis 0", "reduce_min", (512, 48), [0], None),
    ("prod axis 0", "reduce_prod", (100, 7), [0], None),
    ("sum axis 0, 2", "reduce_sum", (64, 5, 33), [0, 2], None),
    ("mean", "reduce_sum", (1000, 8), [0, 1], lambda b, r: b.one("div", r, b.one("constant", value=np.float32(8000)))),
    ("norm", "reduce_sum", (2000,), [0], lambda b, r: b.one("sqrt", r)),
]


@pytest.mark.parametrize("threads", ["1", "2"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_threaded_reductions_equal_the_interpreter(case: Any, threads: str, threaded: None,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILN_NUM_THREADS", threads)
    _, name, shape, axes, then = case
    x = np.random.default_rng(7).standard_normal(shape).astype(np.float32)
    if name == "reduce_prod":
        x = (1 + 0.01 * x).astype(np.float32)
    fn = reduce_fn(name, TensorType(float32, shape), axes, then)
    compiled = compile_function(fn)
    assert isinstance(compiled, partial.Split)
    assert compiled.chunk.lowered.chunks >= 2
    got = compiled([x])[0]
    want = run(fn, [x])[0]
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_threaded_max_sees_a_nan_in_any_chunk(threaded: None) -> None:
    fn = reduce_fn("reduce_max", TensorType(float32, (4096,)), [0])
    compiled = compile_function(fn)
    for at in (0, 2047, 4095):
        x = np.arange(4096, dtype=np.float32)
        x[at] = np.nan
        assert np.isnan(compiled([x])[0])
    assert compiled([np.arange(4096, dtype=np.float32)])[0] == 4095


def test_a_function_with_row_results_and_a_total_splits_both(threaded: None) -> None:
    """(x * 2, sum(x * 2), w + 1): a row-split result from the chunks, the total from the finish function, and a
    result of an unsplit parameter."""
    def body(b: Any, x: Any, w: Any) -> list:
        y = b.one("mul", x, b.one("broadcast_to", b.one("constant", value=np.float32(2)), shape=(600, 10)))
        return [y, b.one("reduce_sum", y, axes=(0, 1)), b.one("add", w, w)]
    fn = build([TensorType(float32, (600, 10)), TensorType(float32, (3,))], body)
    compiled = compile_function(fn)
    assert isinstance(compiled, partial.Split)
    x = np.random.default_rng(8).standard_normal((600, 10)).astype(np.float32)
    w = np.array([1, 2, 3], np.float32)
    got, want = compiled([x, w]), run(fn, [x, w])
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[2], want[2])
    assert abs(float(got[1]) - float(np.sum(want[0].astype(np.float64)))) <= 1e-6 * float(np.abs(want[0]).sum())


def test_traced_functions_take_the_threaded_path(threaded: None) -> None:
    """Through tf.function (the fast call path): values as numpy's, integer sums exact."""
    @tf.function
    def f(x, k):
        return tf.reduce_sum(x), tf.reduce_mean(x), tf.reduce_max(x), tf.reduce_sum(k)
    x = np.random.default_rng(9).standard_normal(10_000).astype(np.float32)
    k = np.arange(10_000, dtype=np.int32)
    for _ in range(2):
        s, m, mx, ks = (np.asarray(v) for v in f(x, k))
        np.testing.assert_allclose(s, x.astype(np.float64).sum(), rtol=1e-6, atol=1e-4)
        np.testing.assert_allclose(m, x.astype(np.float64).mean(), rtol=1e-5, atol=1e-8)
        assert mx == x.max() and ks == k.sum()


def test_half_reductions_are_not_split(threaded: None) -> None:
    """float16 totals per chunk would be rounded to float16 before they are added: such functions run whole."""
    fn = reduce_fn("reduce_sum", TensorType(float16, (4096,)), [0])
    assert not isinstance(compile_function(fn), partial.Split)


# ---- non-temporal stores ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype,shape", [(float32, (37, 1000)), (float64, (5, 333)), (int64, (3, 2001)),
                                         (int32, (2, 4099)), (float32, (70000,))])
def test_streamed_results_equal_the_interpreter(dtype: Any, shape: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows of every alignment (lengths not multiples of a vector) and chunked or whole functions."""
    monkeypatch.setattr(streaming, "STREAM_BYTES", 0)
    rng = np.random.default_rng(10)
    x = (rng.standard_normal(shape) * 50).astype(dtype.np)

    def body(b: Any, x: Any) -> list:  # (add then mul: no multiply-add for LLVM to contract into an FMA)
        y = b.one("add", x, x)
        return [b.one("mul", y, y)]
    fn = build([TensorType(dtype, shape)], body)
    compiled = compile_function(fn)
    assert "vmovnt" in compiled.asm
    got, want = compiled([x]), run(fn, [x])
    assert np.array_equal(got[0], want[0], equal_nan=True)


def test_real_sizes_take_the_fast_paths() -> None:
    """At their default thresholds: a 4M-element sum runs on threads, and a 4M-element result streams."""
    x = np.random.default_rng(11).standard_normal(1 << 22).astype(np.float32)

    @tf.function
    def total(x):
        return tf.reduce_sum(x)

    @tf.function
    def fused(x):
        return tf.tanh(x * 0.7 + 0.1) * tf.exp(-x * x)
    assert isinstance(total.get_concrete_function(x).compiled, partial.Split)
    np.testing.assert_allclose(np.asarray(total(x)), x.astype(np.float64).sum(), rtol=1e-6, atol=1e-3)
    assert "vmovnt" in fused.get_concrete_function(x).compiled.asm
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(np.asarray(fused(x)), np.tanh(x64 * 0.7 + 0.1) * np.exp(-x64 * x64), rtol=2e-6,
                               atol=1e-7)


@pytest.mark.parametrize("dtype", [float32, float64, float16, bfloat16])
def test_max_min_tell_infinities_from_nans(dtype: Any) -> None:
    """The NaN test compares magnitude bits with infinity's: +-inf are numbers, a NaN of either sign is NaN."""
    x = np.linspace(-3, 3, 3000).astype(dtype.np)
    for name in ("reduce_max", "reduce_min"):
        fn = reduce_fn(name, TensorType(dtype, x.shape), [0])
        compiled = compile_function(fn)
        for special in (np.inf, -np.inf, np.nan, -np.nan):
            y = x.copy()
            y[1234] = special
            got, want = compiled([y])[0], run(fn, [y])[0]
            assert (np.isnan(got) and np.isnan(want)) or got == want, (name, special, got, want)


def test_a_split_reduction_runs_through_the_function_call_path() -> None:
    """A reduction big enough to split across threads, called twice through tf.function (the second call takes the
    generated fast caller) and under the profiler: numpy's value each time."""
    import engine as tf
    from codegen import partial
    x = np.random.default_rng(5).random(partial.MIN_ELEMENTS, dtype=np.float32)
    f = tf.function(lambda x: (tf.reduce_sum(x), tf.reduce_max(x)))
    for _ in range(2):
        s, m = f(tf.constant(x))
        np.testing.assert_allclose(s.numpy(), x.astype(np.float64).sum(), rtol=1e-6)
        assert m.numpy() == x.max()
    with tf.profiler.profile():
        s, m = f(tf.constant(x))
    assert m.numpy() == x.max()
