"""Reductions over split rows on threads (codegen.partial): how a call shares its chunks among threads, which
functions split (a broadcast constant the size of the split rows, as in the mean of a square matrix over axis 0),
and the values of every reduction on that path.

Oracles: numpy in float64 (integer reductions exact, with numpy's wrap-around), the IR interpreter and eager mode,
and TF 2.21's answers where the behaviour is TF's (hard-coded, recorded with TensorFlow 2.21). Small thresholds are
patched in so that the split path runs on small inputs; one test runs it at the benchmark's sizes.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import pytest

import engine as tf
from codegen import partial
from codegen.runtime import compile_function
from ir.interp import run
from ir.types import DType, TensorType, bfloat16, float16, float32, int32, int64
from irbuild import build
from reducing import EPS32, reduce_fn

# the thresholds patched here change the code made for the same IR
pytestmark = pytest.mark.usefixtures("no_disk_cache")


def split_compiled(fn: Any) -> partial.Split:
    compiled = compile_function(fn)
    assert isinstance(compiled, partial.Split), "expected the reduction to split across threads"
    assert compiled.chunk.lowered.chunks >= 2 and compiled.chunk.threads == 2
    return compiled


NUMPY = {"reduce_sum": np.sum, "reduce_prod": np.prod, "reduce_max": np.max, "reduce_min": np.min}


# ---- how a call shares its chunks ----------------------------------------------------------------------------------
@pytest.fixture(params=[1, 2, 8])
def share(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """partial.SHARE patched (the grab ranges it makes are cached: cleared before and after)."""
    monkeypatch.setattr(partial, "SHARE", request.param)
    partial.grabs.cache_clear()
    yield request.param
    partial.grabs.cache_clear()


@pytest.mark.parametrize("rows", [64, 72, 4096])
def test_every_chunk_is_reduced_whatever_the_grab_sizes(share: int, rows: int, threaded: None) -> None:
    """Column sums of integers over split rows are exact: a chunk skipped (its partial row left uninitialised) or
    reduced into the wrong row would show."""
    x = np.random.default_rng(rows).integers(-1000, 1000, (rows, 5)).astype(np.int64)
    compiled = split_compiled(reduce_fn("reduce_sum", TensorType(int64, x.shape), [0]))
    for _ in range(3):
        assert np.array_equal(compiled([x])[0], x.sum(axis=0))


@pytest.mark.parametrize("threads", [2, 3, 8])
def test_grabs_cover_the_chunks_in_shrinking_ranges(threads: int) -> None:
    for n in range(1, 300):
        ranges = partial.grabs(n, threads)
        sizes = [end - begin for begin, end in ranges]
        assert ranges[0][0] == 0 and ranges[-1][1] == n
        assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
        assert all(s >= 1 for s in sizes) and sizes == sorted(sizes, reverse=True) and sizes[-1] == 1
        assert sizes[0] == -(-n // (partial.SHARE * threads))
    assert [e - b for b, e in partial.grabs(64, 2)] == [16, 12, 9, 7, 5, 4, 3, 2, 2, 1, 1, 1, 1]


def test_a_pool_thread_that_never_starts_leaves_its_chunks_to_the_caller(threaded: None) -> None:
    """With fixed halves the call would wait for the other thread; with grabs the calling thread reduces every
    chunk itself and returns."""
    x = np.random.default_rng(1).standard_normal((512, 9)).astype(np.float32)
    compiled = split_compiled(reduce_fn("reduce_max", TensorType(float32, x.shape), None))
    compiled._submit = lambda work: None  # the pool never runs the work it is handed
    assert compiled([x])[0] == x.max()


def test_a_pool_thread_that_starts_late_finds_the_work_done(threaded: None) -> None:
    import threading
    x = np.random.default_rng(2).standard_normal((512, 9)).astype(np.float32)
    compiled = split_compiled(reduce_fn("reduce_sum", TensorType(float32, x.shape), [0]))
    late: list[Any] = []
    compiled._submit = late.append
    got = compiled([x])[0]
    np.testing.assert_allclose(got, x.astype(np.float64).sum(axis=0), rtol=1e-6, atol=1e-5)
    worker = threading.Thread(target=late[0])  # runs after the call returned: takes nothing, changes nothing
    worker.start()
    worker.join()
    np.testing.assert_array_equal(compiled([x])[0], got)


def test_a_split_call_made_on_the_pool_thread_itself_finishes(threaded: None) -> None:
    """The call does not wait for the pool: from the pool's only thread (two threads: one pool thread), the work it
    hands out waits behind the call itself, and the call reduces every chunk alone."""
    from codegen.runtime import executor
    x = np.random.default_rng(6).standard_normal((512, 3)).astype(np.float32)
    compiled = split_compiled(reduce_fn("reduce_min", TensorType(float32, x.shape), [0]))
    got = executor().submit(lambda: compiled([x])[0]).result(timeout=60)
    assert np.array_equal(got, x.min(axis=0))


def test_an_error_in_a_pool_thread_is_raised_by_the_call(threaded: None) -> None:
    import threading
    x = np.ones((512, 4), np.float32)
    compiled = split_compiled(reduce_fn("reduce_sum", TensorType(float32, x.shape), None))
    real = compiled.chunk._py
    caller = threading.get_ident()
    raised = threading.Event()

    def chunk_call(*args: Any) -> int:
        if threading.get_ident() != caller:
            raised.set()
            raise RuntimeError("a chunk failed on a pool thread")
        raised.wait(timeout=60)  # the caller's first grab ends after the pool thread has failed
        return real(*args)
    compiled.chunk._py = chunk_call
    compiled._submit = lambda work: threading.Thread(target=work).start()
    with pytest.raises(RuntimeError, match="pool thread"):
        compiled([x])
    compiled.chunk._py = real
    assert compiled([x])[0] == 2048


# ---- which functions split -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [64, 300])
def test_a_square_mean_over_axis_0_splits(n: int, threaded: None) -> None:
    """mean(x, axis=0) of an n x n matrix divides the column sums by a constant broadcast to [n]: a value the size of
    the split rows that does not depend on them. It stays whole next to the sums (it used to be taken for rows of
    x, and the function ran on one thread)."""
    x = np.random.default_rng(n).standard_normal((n, n)).astype(np.float32)

    @tf.function
    def f(x):
        return tf.reduce_mean(x, axis=0), tf.reduce_any(x > 2.5, axis=0), tf.reduce_all(x > -3.5, axis=0)
    assert isinstance(f.get_concrete_function(x).compiled, partial.Split)
    mean, anyv, allv = (np.asarray(v) for v in f(x))
    np.testing.assert_allclose(mean, x.astype(np.float64).mean(axis=0), rtol=1e-5, atol=1e-6)
    assert np.array_equal(anyv, (x > 2.5).any(axis=0)) and np.array_equal(allv, (x > -3.5).all(axis=0))


def test_a_broadcast_constant_still_splits_next_to_split_rows(threaded: None) -> None:
    """sum(x * broadcast(2) over [n, n]) / broadcast(n) over [n]: the first broadcast is cut with x's rows, the
    second stays whole in the finish function."""
    n = 128

    def body(b: Any, x: Any) -> list:
        two = b.one("broadcast_to", b.one("constant", value=np.float32(2)), shape=(n, n))
        sums = b.one("reduce_sum", b.one("mul", x, two), axes=(0,))
        count = b.one("broadcast_to", b.one("constant", value=np.float32(n)), shape=(n,))
        return [b.one("div", sums, count)]
    fn = build([TensorType(float32, (n, n))], body)
    x = np.random.default_rng(3).standard_normal((n, n)).astype(np.float32)
    got = split_compiled(fn)([x])[0]
    np.testing.assert_allclose(got, run(fn, [x])[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got, 2 * x.astype(np.float64).mean(axis=0), rtol=1e-5, atol=1e-6)


# ---- values on the split path ----------------------------------------------------------------------------------------
SHAPES = [(4095,), (1000, 37), (75, 5, 13)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("axes", [None, [0]], ids=["all", "axis0"])
@pytest.mark.parametrize("name", ["reduce_sum", "reduce_prod", "reduce_max", "reduce_min"])
def test_float32_reductions_equal_float64_numpy_interpreter_and_eager(name: str, axes: Any, shape: tuple,
                                                                      threaded: None) -> None:
    """Sizes that neither the vector width (16) nor the two threads divide (prime row counts do not split: see
    codegen.partial._chunk_rows)."""
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape).astype(np.float32)
    if name == "reduce_prod":
        x = (1 + 0.001 * x).astype(np.float32)
    fn = reduce_fn(name, TensorType(float32, shape), axes)
    got = split_compiled(fn)([x])[0]
    ax = None if axes is None else tuple(axes)
    want = NUMPY[name](x.astype(np.float64), axis=ax)
    interp = run(fn, [x])[0]
    eager = np.asarray(getattr(tf, name)(x, axis=None if axes is None else axes[0]))
    assert got.dtype == np.float32 and got.shape == np.shape(want)
    if name in ("reduce_max", "reduce_min"):
        assert np.array_equal(got, want) and np.array_equal(interp, want) and np.array_equal(eager, want)
    else:  # float32 accuracy: a sum within numpy's pairwise bound, a product within n - 1 roundings in any order
        count = x.size // np.size(want)
        tol = (8 * EPS32 * np.abs(want) + EPS32 * np.abs(x.astype(np.float64)).sum(axis=ax)
               if name == "reduce_sum" else count * EPS32 / 2 * np.abs(want))
        for value in (got, interp, eager):
            assert np.all(np.abs(value - want) <= tol)


@pytest.mark.parametrize("dtype", [int32, int64])
@pytest.mark.parametrize("name", ["reduce_sum", "reduce_prod", "reduce_max", "reduce_min"])
def test_integer_reductions_are_exact(name: str, dtype: DType, threaded: None) -> None:
    """Including the wrap-around of an int32 sum (TF 2.21: reduce_sum([2**31 - 1, 1]) is -2147483648)."""
    rng = np.random.default_rng(4)
    x = rng.integers(-3, 4, (600, 7)) if name == "reduce_prod" else rng.integers(-2**30, 2**30, (600, 7))
    x = x.astype(dtype.np)
    for axes in (None, [0]):
        fn = reduce_fn(name, TensorType(dtype, x.shape), axes)
        got = split_compiled(fn)([x])[0]
        want = NUMPY[name](x, axis=None if axes is None else 0).astype(dtype.np)
        assert got.dtype == dtype.np and np.array_equal(got, want) and np.array_equal(run(fn, [x])[0], want)


@pytest.mark.parametrize("dtype", [float16, bfloat16])
def test_half_reductions_accumulate_in_float32(dtype: DType, threaded: None) -> None:
    """Half types are not split (a chunk's total would be rounded to the half type); their sums and means
    accumulate in float32 and are rounded once."""
    x = np.full((100, 50), 0.1, dtype=dtype.np)

    @tf.function
    def f(x):
        return tf.reduce_sum(x), tf.reduce_mean(x, axis=0), tf.reduce_max(x)
    assert not isinstance(f.get_concrete_function(x).compiled, partial.Split)
    s, m, mx = (np.asarray(v) for v in f(x))
    exact = x.astype(np.float64)
    assert s == exact.sum().astype(np.float32).astype(dtype.np)
    assert np.array_equal(m, exact.mean(axis=0).astype(np.float32).astype(dtype.np)) and mx == x.max()


def test_specials_across_chunks_are_tensorflows(threaded: None) -> None:
    """TF 2.21: sum of [inf, -inf, 1] is nan; max of all -inf is -inf; prod of [0, inf] is nan; min with a nan
    is nan. Here each special value sits in a different chunk of the split rows."""
    n = 1024
    base = np.ones(n, np.float32)

    def one(name: str, values: dict[int, float]) -> float:
        x = base.copy()
        for at, v in values.items():
            x[at] = v
        fn = reduce_fn(name, TensorType(float32, (n,)), None)
        got = split_compiled(fn)([x])[0]
        want = run(fn, [x])[0]
        assert np.array_equal(got, want, equal_nan=True)
        return float(got)
    assert np.isnan(one("reduce_sum", {0: np.inf, n - 1: -np.inf}))
    assert one("reduce_sum", {5: np.inf, 700: np.inf}) == np.inf
    assert np.isnan(one("reduce_prod", {3: 0.0, n - 2: np.inf}))
    assert np.isnan(one("reduce_min", {n - 1: np.nan}))
    assert one("reduce_min", {n - 1: -np.inf}) == -np.inf
    x = np.full(n, -np.inf, np.float32)
    assert split_compiled(reduce_fn("reduce_max", TensorType(float32, (n,)), None))([x])[0] == -np.inf


@pytest.mark.parametrize("axis,keepdims", [(None, True), (0, True), (0, False), (1, True)])
def test_keepdims_through_tf_function(axis: Any, keepdims: bool, threaded: None) -> None:
    x = np.random.default_rng(5).standard_normal((300, 40)).astype(np.float32)

    @tf.function
    def f(x):
        return [op(x, axis=axis, keepdims=keepdims) for op in (tf.reduce_sum, tf.reduce_max, tf.reduce_min,
                                                               tf.reduce_mean)]
    x64 = x.astype(np.float64)
    for got, want in zip(f(x), [x64.sum(axis, keepdims=keepdims), x.max(axis, keepdims=keepdims),
                                x.min(axis, keepdims=keepdims), x64.mean(axis, keepdims=keepdims)]):
        got = np.asarray(got)
        assert got.shape == np.shape(want)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_empty_and_size_one_tensors_are_tensorflows() -> None:
    """TF 2.21: prod over [0] is 1; min over an empty int64 is 9223372036854775807; max of [[7]] is 7; a sum over
    axis 0 of [3, 4] with keepdims has shape (1, 4)."""
    @tf.function
    def f(e, i, one, m):
        return (tf.reduce_prod(e), tf.reduce_min(i), tf.reduce_max(one), tf.reduce_sum(m, axis=0, keepdims=True),
                tf.reduce_mean(one))
    p, mn, mx, s, mean = (np.asarray(v) for v in f(np.zeros(0, np.float32), np.zeros(0, np.int64),
                                                   np.full((1, 1), 7, np.float32), np.ones((3, 4), np.float32)))
    assert p == 1 and mn == np.iinfo(np.int64).max and mx == 7 and mean == 7
    assert s.shape == (1, 4) and np.all(s == 3)


def test_benchmark_sizes_split_and_match_numpy() -> None:
    """At the default thresholds, 4096 x 4096 float32: every reduction over axis 0 and over everything splits across
    threads (the mean over axis 0 too), and the values are numpy's in float64 within float32 accuracy."""
    x = (np.random.default_rng(6).standard_normal((4096, 4096)) + 1).astype(np.float32)
    x64 = x.astype(np.float64)
    for op, ref in ((tf.reduce_sum, np.sum), (tf.reduce_mean, np.mean), (tf.reduce_max, np.max),
                    (tf.reduce_min, np.min)):
        for axis in (None, 0):
            f = tf.function(lambda x, op=op, axis=axis: op(x, axis=axis))
            assert isinstance(f.get_concrete_function(x).compiled, partial.Split), (op, axis)
            np.testing.assert_allclose(np.asarray(f(x)), ref(x64, axis=axis), rtol=2e-6)
