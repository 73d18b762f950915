"""matmul with run-time sizes (any of m, n, k unknown, `f32[?,784]`, the weight gradient x^T @ g over a run-time
batch): one compiled kernel runs at several sizes, including 0 and 1, against numpy in float64; floats go through
the generated GEMM (the same worker as static sizes, its plan computed at run time), long contractions through
OpenBLAS, integers through exact loops; a large product in a function that runs whole uses the thread team.
Tolerances as in test_gemm: float32 within 1e-5 of sum |a||b|, float64 1e-13.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from codegen import gemm_threads
from codegen.rules import gemm
from ir.types import float16, float32, float64, int32
from irbuild_dims import T, build, compile_unverified, op
from test_gemm import assert_close, reference

PAIRS = list(itertools.product((False, True), repeat=2))
#: Which of (m, k, n) are unknown, and the sizes each kernel runs at (odd ones, 0 and 1; (m, k, n) rows).
UNKNOWN = {"m": [(17, 33, 40), (0, 33, 40), (1, 33, 40), (257, 33, 40)],
           "k": [(31, 17, 40), (31, 0, 40), (31, 1, 40), (31, 300, 40)],
           "n": [(31, 33, 1), (31, 33, 0), (31, 33, 17), (31, 33, 257)],
           "mkn": [(3, 5, 7), (0, 0, 0), (1, 1, 1), (65, 129, 33), (33, 255, 257)]}


def a_shape(m, k, ta):  # noqa: ANN001, ANN201
    return (k, m) if ta else (m, k)


def b_shape(k, n, tb):  # noqa: ANN001, ANN201
    return (n, k) if tb else (k, n)


def compile_run_time(dtype, ta: bool, tb: bool, unknown: str, m: int, k: int, n: int, batch: tuple = ()):  # noqa
    """A kernel for matmul with the dims named in `unknown` (letters of "mkn", "b" for the batch) left as `?`."""
    def d(name: str, size: int):  # noqa: ANN202
        return None if name in unknown else size
    bd = tuple(d("b", s) for s in batch)
    at = T(*bd, *a_shape(d("m", m), d("k", k), ta), dtype=dtype)
    bt = T(*bd, *b_shape(d("k", k), d("n", n), tb), dtype=dtype)
    out = T(*bd, d("m", m), d("n", n), dtype=dtype)
    fn = build([at, bt], lambda b, x, y: [op(b, "matmul", [x, y], out, transpose_a=ta, transpose_b=tb)])
    return compile_unverified(fn)


def operands(rng, m: int, k: int, n: int, ta: bool, tb: bool, dtype, batch: tuple = ()):  # noqa: ANN001, ANN201
    a = rng.standard_normal(batch + a_shape(m, k, ta)).astype(dtype)
    b = rng.standard_normal(batch + b_shape(k, n, tb)).astype(dtype)
    return a, b


@pytest.mark.parametrize("unknown", list(UNKNOWN))
@pytest.mark.parametrize("ta,tb", PAIRS)
@pytest.mark.parametrize("dtype", [float32, float64])
def test_one_kernel_every_size(unknown: str, ta: bool, tb: bool, dtype) -> None:  # noqa: ANN001
    sizes = UNKNOWN[unknown]
    compiled = compile_run_time(dtype, ta, tb, unknown, *sizes[0])
    assert "kiln_gemm." in compiled.llvm_ir  # the generated GEMM, not a scalar loop
    rng = np.random.default_rng(len(unknown) + 2 * ta + tb)
    for m, k, n in sizes:
        a, b = operands(rng, m, k, n, ta, tb, dtype.np)
        want, scale = reference(a, b, ta, tb)
        got = compiled([a, b])[0]
        assert_close(got, want, scale, dtype.name, f"{unknown}: {m}x{k}x{n} ta={ta} tb={tb}")
        if k == 0:
            assert got.shape == (m, n) and not got.any()


@pytest.mark.parametrize("ta,tb", PAIRS)
def test_integers_stay_exact(ta: bool, tb: bool) -> None:
    compiled = compile_run_time(int32, ta, tb, "mkn", 3, 4, 5)
    assert "kiln_gemm." not in compiled.llvm_ir
    rng = np.random.default_rng(4)
    for m, k, n in [(0, 3, 2), (1, 1, 1), (17, 33, 9), (5, 0, 4)]:
        a = rng.integers(-50, 50, a_shape(m, k, ta)).astype(np.int32)
        b = rng.integers(-50, 50, b_shape(k, n, tb)).astype(np.int32)
        want = (a.T if ta else a).astype(np.int64) @ (b.T if tb else b).astype(np.int64)
        np.testing.assert_array_equal(compiled([a, b])[0], want.astype(np.int32))


@pytest.mark.parametrize("ta,tb", [(True, False), (False, True)])
def test_long_run_time_contraction_calls_blas_at_run_time(ta: bool, tb: bool) -> None:
    """k >= BLAS_MIN_K at run time goes to OpenBLAS (as for static sizes), shorter k to the generated GEMM: both
    are in the one kernel and agree with numpy."""
    compiled = compile_run_time(float32, ta, tb, "k", 20, 16, 24)
    assert "kiln_gemm." in compiled.llvm_ir and "scipy_cblas_sgemm64_" in compiled.llvm_ir
    rng = np.random.default_rng(7)
    for k in (gemm.BLAS_MIN_K - 1, gemm.BLAS_MIN_K, gemm.BLAS_MIN_K + 3):
        a, b = operands(rng, 20, k, 24, ta, tb, np.float32)
        want, scale = reference(a, b, ta, tb)
        assert_close(compiled([a, b])[0], want, scale, "float32", f"k={k}")


@pytest.mark.parametrize("unknown", ["bm", "k"])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, True)])
def test_batched(unknown: str, ta: bool, tb: bool) -> None:
    compiled = compile_run_time(float64, ta, tb, unknown, 19, 37, 21, batch=(2, 3))
    rng = np.random.default_rng(3)
    for batch, (m, k, n) in [((2, 3), (19, 37, 21)), ((2, 3), (19, 5, 21))] if unknown == "k" else \
            [((2, 3), (19, 37, 21)), ((1, 4), (1, 37, 21)), ((3, 1), (33, 37, 21)), ((0, 3), (5, 37, 21))]:
        a, b = operands(rng, m, k, n, ta, tb, np.float64, batch)
        want, scale = reference(a, b, ta, tb)
        assert_close(compiled([a, b])[0], want, scale, "float64", f"{batch} {m}x{k}x{n}")


@pytest.mark.parametrize("threads", [1, 2])
def test_weight_gradient_over_a_run_time_batch_uses_the_team(monkeypatch: pytest.MonkeyPatch, threads: int) -> None:
    """x^T @ g with the batch (k) unknown, in a function that runs whole: the team decision is made per call, from
    the run-time flops; small batches stay on the calling thread, the results do not depend on it."""
    monkeypatch.setenv("KILN_NUM_THREADS", str(threads))
    compiled = compile_run_time(float32, True, False, "k", 784, 256, 128)
    assert compiled.threads == 1
    if gemm_threads.available():
        assert "GOMP_parallel" in compiled.llvm_ir
    rng = np.random.default_rng(11)
    for k in (1, 32, 256, 1000):
        a, b = operands(rng, 784, k, 128, True, False, np.float32)
        want, scale = reference(a, b, True, False)
        assert_close(compiled([a, b])[0], want, scale, "float32", f"threads={threads} k={k}")


def test_float16_with_a_run_time_contraction_rounds_once_from_float32() -> None:
    compiled = compile_run_time(float16, True, False, "k", 17, 8, 33)
    rng = np.random.default_rng(5)
    for k in (0, 1, 40):
        a, b = operands(rng, 17, k, 33, True, False, np.float16)
        want = (a.T.astype(np.float32) @ b.astype(np.float32)).astype(np.float16)
        got = compiled([a, b])[0]
        assert got.dtype == np.float16
        np.testing.assert_allclose(got.astype(np.float32), want.astype(np.float32), rtol=2 ** -10, atol=1e-3)


@pytest.mark.parametrize("k, path", [(0, None), (40, "kiln_gemm."), (gemm.BLAS_MIN_K + 5, "scipy_cblas_sgemm64_")])
def test_a_static_contraction_emits_only_the_path_it_takes(k: int, path: str) -> None:
    """m unknown, k known: the kernel holds the one product path k selects (zeros for k == 0, the generated GEMM
    below BLAS_MIN_K, OpenBLAS from it), not all three behind run-time tests of k."""
    compiled = compile_run_time(float32, False, False, "m", 5, k, 24)
    ir_text = compiled.llvm_ir
    for name in ("kiln_gemm.", "scipy_cblas_sgemm64_"):
        assert (name in ir_text) == (name == path), name
    rng = np.random.default_rng(13)
    for m in (0, 1, 9):
        a, b = operands(rng, m, k, 24, False, False, np.float32)
        want, scale = reference(a, b, False, False)
        got = compiled([a, b])[0]
        assert_close(got, want, scale, "float32", f"m={m} k={k}")
        if k == 0:
            assert got.shape == (m, 24) and not got.any()
