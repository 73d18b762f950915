"""The generated GEMM (codegen.rules.gemm, gemm_kernel) against numpy in float64.

- float32/float64 products on odd shapes (1, 3, 17, 31, 33, 255, 257: none a multiple of the register tile or the
  vector width), every pair of transposes, B read in place and B packed (transposed, or larger than the L2 budget);
- k cut into several blocks, ragged row blocks and column panels, empty products;
- batched products, integer and float16 products;
- the thread team (a product in a function that runs whole, split by rows and by column panels) with one and two
  threads;
- dense layers with their bias and activation, and a training step's products (x^T @ g, g @ W^T), compiled ==
  interpreted == eager;
- gradients of a compiled product against float64 central differences.
Tolerances: float32 results within 1e-5 relative to sum |a||b| (the bound on any summation order), float64 1e-13.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import engine as tf
from codegen import gemm_threads
from codegen.rules.gemm import PACK_B_BYTES, plan
from codegen.rules.gemm_plan import Gemm, host_vector_bytes
from codegen.runtime import compile_function
from ir.core import Builder, Value
from ir.interp import run
from ir.types import TensorType, float16, float32, float64, int32, int64
from irbuild import build

ODD = (1, 3, 17, 31, 33, 255, 257)
RTOL = {"float32": 1e-5, "float64": 1e-13}


def operands(m: int, k: int, n: int, ta: bool, tb: bool, dtype: np.dtype, seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    return a, b


def reference(a: np.ndarray, b: np.ndarray, ta: bool, tb: bool) -> tuple[np.ndarray, np.ndarray]:
    """The product in float64, and the bound sum |a| |b| that scales a rounding tolerance."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    a64 = np.swapaxes(a64, -1, -2) if ta else a64
    b64 = np.swapaxes(b64, -1, -2) if tb else b64
    return a64 @ b64, np.abs(a64) @ np.abs(b64)


def assert_close(got: np.ndarray, want: np.ndarray, scale: np.ndarray, dtype: str, where: str = "") -> None:
    assert got.shape == want.shape, where
    tol = RTOL[dtype] * (scale + 1e-30)
    bad = np.abs(got.astype(np.float64) - want) > tol
    assert not bad.any(), f"{where}: {bad.sum()} elements off, first at {np.argwhere(bad)[0]}: " \
                          f"{got[tuple(np.argwhere(bad)[0])]} vs {want[tuple(np.argwhere(bad)[0])]}"


@pytest.fixture
def generated(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every float product runs in the generated GEMM, also where OpenBLAS is chosen for speed (transposed B, long
    k). The disk cache is off: its key does not know about the patched policy."""
    from codegen.rules import gemm
    monkeypatch.setattr(gemm, "BLAS_MIN_K", 1 << 30)
    monkeypatch.setattr(gemm, "BLAS_TRANSPOSED_B", False)
    monkeypatch.setenv("KILN_CACHE", "0")


def compile_matmul(a_type: TensorType, b_type: TensorType, ta: bool, tb: bool):  # noqa: ANN201
    fn = build([a_type, b_type], lambda bl, x, y: [bl.one("matmul", x, y, transpose_a=ta, transpose_b=tb)])
    return fn, compile_function(fn)


def odd_cases() -> list:
    rng = np.random.default_rng(14)
    shapes = [(m, k, n) for m, k, n in itertools.product(ODD, ODD, ODD)]
    picked = [shapes[i] for i in rng.choice(len(shapes), 14, replace=False)]
    picked += [(1, 1, 1), (257, 257, 257), (33, 255, 17), (255, 3, 31)]
    return [pytest.param(*s, ta, tb, id=f"{s[0]}x{s[1]}x{s[2]}-{'T' if ta else 'N'}{'T' if tb else 'N'}")
            for s in picked for ta, tb in itertools.product((False, True), repeat=2)]


@pytest.mark.parametrize("m,k,n,ta,tb", odd_cases())
def test_odd_shapes_and_transposes_float32(generated: None, m: int, k: int, n: int, ta: bool, tb: bool) -> None:
    a, b = operands(m, k, n, ta, tb, np.float32)
    _, compiled = compile_matmul(TensorType(float32, a.shape), TensorType(float32, b.shape), ta, tb)
    assert "kiln_gemm." in compiled.llvm_ir and "scipy_cblas" not in compiled.llvm_ir
    want, scale = reference(a, b, ta, tb)
    assert_close(compiled([a, b])[0], want, scale, "float32", f"{m}x{k}x{n} ta={ta} tb={tb}")


@pytest.mark.parametrize("m,k,n", [(17, 31, 33), (257, 33, 3), (3, 257, 255), (31, 17, 8), (64, 300, 24)])
@pytest.mark.parametrize("ta,tb", list(itertools.product((False, True), repeat=2)))
def test_float64(generated: None, m: int, k: int, n: int, ta: bool, tb: bool) -> None:
    a, b = operands(m, k, n, ta, tb, np.float64, seed=1)
    _, compiled = compile_matmul(TensorType(float64, a.shape), TensorType(float64, b.shape), ta, tb)
    want, scale = reference(a, b, ta, tb)
    assert_close(compiled([a, b])[0], want, scale, "float64", f"{m}x{k}x{n} ta={ta} tb={tb}")


@pytest.mark.parametrize("m,k,n,tb", [(9, 700, 250, False), (40, 1030, 200, False), (5, 300, 1100, True),
                                      (33, 2049, 17, True)])
def test_packed_b_and_many_k_blocks(generated: None, m: int, k: int, n: int, tb: bool) -> None:
    """B larger than the in-place budget is packed panel by panel; a long k runs in several blocks, whose partial
    sums accumulate in C."""
    g = plan(float32, m, n, k, False, tb)
    assert g.pack_b == (tb or k * n * 4 > PACK_B_BYTES)
    assert -(-k // g.kc) > 1
    a, b = operands(m, k, n, False, tb, np.float32, seed=2)
    _, compiled = compile_matmul(TensorType(float32, a.shape), TensorType(float32, b.shape), False, tb)
    assert "scipy_cblas" not in compiled.llvm_ir
    want, scale = reference(a, b, False, tb)
    assert_close(compiled([a, b])[0], want, scale, "float32")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ta,tb", list(itertools.product((False, True), repeat=2)))
@pytest.mark.parametrize("n", [70, 300])
def test_tall_a_runs_in_several_row_chunks(generated: None, monkeypatch: pytest.MonkeyPatch, dtype: type, ta: bool,
                                           tb: bool, n: int) -> None:
    """A tall A is cut into chunks of rows that stay in L2, each passed over by every panel (packed B^T packed
    again per chunk); the last chunk and its last row block are ragged. With many panels (n = 300) each chunk of
    A is packed first (rows past m repeat the last one). On the calling thread, one unit of work holds every row
    (a team's units are a few row blocks each)."""
    from codegen.rules import gemm
    monkeypatch.setattr(gemm, "TEAM_MIN_FLOPS", 1 << 62)
    m, k = 2051, 200
    ir_dtype = float32 if dtype is np.float32 else float64
    g = plan(ir_dtype, m, n, k, ta, tb)
    chunk_rows = g.row_chunk * g.mr
    assert 2 < -(-m // chunk_rows) and m % chunk_rows and m % g.mr
    assert g.pack_a(team=False) == (n == 300)
    a, b = operands(m, k, n, ta, tb, dtype, seed=5)
    _, compiled = compile_matmul(TensorType(ir_dtype, a.shape), TensorType(ir_dtype, b.shape), ta, tb)
    want, scale = reference(a, b, ta, tb)
    assert_close(compiled([a, b])[0], want, scale, np.dtype(dtype).name, f"ta={ta} tb={tb}")


@pytest.mark.parametrize("ta,tb", [(False, False), (True, True)])
def test_long_inner_dimension_calls_blas(ta: bool, tb: bool) -> None:
    from codegen.rules.gemm import BLAS_MIN_K
    a, b = operands(20, BLAS_MIN_K + 3, 24, ta, tb, np.float32, seed=12)
    _, compiled = compile_matmul(TensorType(float32, a.shape), TensorType(float32, b.shape), ta, tb)
    assert "scipy_cblas_sgemm64_" in compiled.llvm_ir
    want, scale = reference(a, b, ta, tb)
    assert_close(compiled([a, b])[0], want, scale, "float32")


def test_k_blocks_have_equal_length_and_fit_half_of_l1() -> None:
    for k in (1, 100, 784, 1024, 4097):
        g = Gemm(float32, 8, 32, k, False, False, False)
        blocks = -(-k // g.kc)
        assert g.kc * (blocks - 1) < k <= g.kc * blocks
        assert g.kc - (k - g.kc * (blocks - 1)) < blocks  # the last block is at most `blocks` rows shorter
        assert blocks == 1 or g.kc * g.nr * host_vector_bytes() <= 32 * 1024


@pytest.mark.parametrize("shape", [(0, 5, 4), (4, 0, 3), (3, 4, 0)])
def test_empty_products(shape: tuple) -> None:
    m, k, n = shape
    a, b = np.ones((m, k), np.float32), np.ones((k, n), np.float32)
    _, compiled = compile_matmul(TensorType(float32, a.shape), TensorType(float32, b.shape), False, False)
    got = compiled([a, b])[0]
    assert got.shape == (m, n) and not got.any()


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True)])
def test_batched(generated: None, ta: bool, tb: bool) -> None:
    rng = np.random.default_rng(3)
    m, k, n = 19, 37, 21
    a = rng.standard_normal((2, 3) + ((k, m) if ta else (m, k))).astype(np.float32)
    b = rng.standard_normal((2, 3) + ((n, k) if tb else (k, n))).astype(np.float32)
    _, compiled = compile_matmul(TensorType(float32, a.shape), TensorType(float32, b.shape), ta, tb)
    want, scale = reference(a, b, ta, tb)
    assert_close(compiled([a, b])[0], want, scale, "float32")


@pytest.mark.parametrize("dtype", [int32, int64])
def test_integer_products_are_exact(dtype) -> None:  # noqa: ANN001
    rng = np.random.default_rng(4)
    a = rng.integers(-50, 50, (17, 33)).astype(dtype.np)
    b = rng.integers(-50, 50, (17, 9)).astype(dtype.np)
    _, compiled = compile_matmul(TensorType(dtype, a.shape), TensorType(dtype, b.shape), True, False)
    np.testing.assert_array_equal(compiled([a, b])[0], a.T.astype(np.int64) @ b.astype(np.int64))


def test_float16_rounds_once_from_float32() -> None:
    a, b = operands(17, 40, 33, False, False, np.float16, seed=5)
    _, compiled = compile_matmul(TensorType(float16, a.shape), TensorType(float16, b.shape), False, False)
    want = (a.astype(np.float32) @ b.astype(np.float32)).astype(np.float16)
    got = compiled([a, b])[0]
    assert got.dtype == np.float16
    np.testing.assert_allclose(got.astype(np.float32), want.astype(np.float32), rtol=2 ** -10, atol=1e-3)


@pytest.mark.parametrize("m,k,n,ta,tb", [(31, 257, 33, False, False), (17, 33, 255, True, True),
                                         (257, 31, 17, False, True), (13, 600, 1000, True, False)])
def test_avx2_register_tile(generated: None, monkeypatch: pytest.MonkeyPatch, m: int, k: int, n: int, ta: bool,
                            tb: bool) -> None:
    """The AVX2 fallback (32-byte vectors, a 6 x 2 tile for 16 registers) as hosts without AVX-512 get it; its
    ymm code runs here too."""
    from codegen.rules import gemm_plan
    monkeypatch.setattr(gemm_plan, "host_vector_bytes", lambda: 32)
    g = plan(float32, m, n, k, ta, tb)
    assert (g.lanes, g.mr) == (8, 6)
    for dtype in (np.float32, np.float64):
        a, b = operands(m, k, n, ta, tb, dtype, seed=11)
        ir_dtype = float32 if dtype is np.float32 else float64
        fn, compiled = compile_matmul(TensorType(ir_dtype, a.shape), TensorType(ir_dtype, b.shape), ta, tb)
        assert f"kiln_gemm.{ir_dtype.name}.{'T' if ta else 'N'}{'T' if tb else 'N'}.v32" in compiled.llvm_ir
        want, scale = reference(a, b, ta, tb)
        assert_close(compiled([a, b])[0], want, scale, ir_dtype.name, f"avx2 {m}x{k}x{n}")


# ---- the thread team ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("m,k,n,ta,tb", [(784, 256, 128, True, False),   # x^T @ g: split by rows
                                         (40, 300, 600, False, True),    # few row blocks: split by column panels
                                         (250, 129, 140, False, False)])
def test_thread_team_splits_rows_or_panels(generated: None, monkeypatch: pytest.MonkeyPatch, threads: int, m: int,
                                           k: int, n: int, ta: bool, tb: bool) -> None:
    """A large product in a function that is not tiled runs on the team; the result does not depend on the number
    of threads or on how the work is split."""
    monkeypatch.setenv("KILN_NUM_THREADS", str(threads))
    a, b = operands(m, k, n, ta, tb, np.float32, seed=6)
    # a reduction over the rows keeps the function whole (untiled), so the GEMM threads itself
    fn = build([TensorType(float32, a.shape), TensorType(float32, b.shape)], lambda bl, x, y: [
        bl.one("matmul", x, y, transpose_a=ta, transpose_b=tb),
        bl.one("reduce_sum", bl.one("matmul", x, y, transpose_a=ta, transpose_b=tb), axes=[0])])
    compiled = compile_function(fn)
    assert compiled.threads == 1  # not row-tiled
    g = plan(float32, m, n, k, ta, tb)
    assert g.units() >= 2
    want, scale = reference(a, b, ta, tb)
    got, total = compiled([a, b])
    assert_close(got, want, scale, "float32", f"threads={threads} rows={g.split_rows()}")
    np.testing.assert_allclose(total, want.sum(axis=0), rtol=1e-4, atol=1e-3 * scale.sum(axis=0).max() / m)
    if gemm_threads.available():
        assert "GOMP_parallel" in compiled.llvm_ir


# ---- in a program: epilogues, the backward pass, the three ways to run --------------------------------------------
def dense(x, w, b):  # noqa: ANN001, ANN201
    return tf.nn.relu(tf.matmul(x, w) + b)


def backward_products(x, g, w):  # noqa: ANN001, ANN201
    return tf.matmul(x, g, transpose_a=True), tf.matmul(g, w, transpose_b=True)


@pytest.mark.parametrize("batch", [1, 31, 256])
def test_dense_layer_compiled_interpreted_eager(batch: int) -> None:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((batch, 784)).astype(np.float32)
    w = (rng.standard_normal((784, 128)) / 28).astype(np.float32)
    b = rng.standard_normal(128).astype(np.float32)
    want64 = np.maximum(x.astype(np.float64) @ w + b, 0)
    scale = np.abs(x.astype(np.float64)) @ np.abs(w) + np.abs(b)
    compiled = tf.function(dense)(x, w, b).numpy()
    interpreted = tf.function(dense, jit_compile=False)(x, w, b).numpy()
    eager = dense(tf.constant(x), tf.constant(w), tf.constant(b)).numpy()
    for got in (compiled, interpreted, eager):
        assert_close(got, want64, scale, "float32")
    np.testing.assert_allclose(compiled, eager, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("batch", [32, 257])
def test_backward_products_compiled_interpreted_eager(batch: int) -> None:
    rng = np.random.default_rng(8)
    x = rng.standard_normal((batch, 784)).astype(np.float32)
    g = rng.standard_normal((batch, 128)).astype(np.float32)
    w = rng.standard_normal((784, 128)).astype(np.float32)
    runs = [tf.function(backward_products)(x, g, w), tf.function(backward_products, jit_compile=False)(x, g, w),
            backward_products(tf.constant(x), tf.constant(g), tf.constant(w))]
    for (a, b, ta, tb), k in zip([(x, g, True, False), (g, w, False, True)], range(2)):
        want, scale = reference(a, b, ta, tb)
        for run_ in runs:
            assert_close(run_[k].numpy(), want, scale, "float32", f"product {k}")


def test_gradient_of_a_compiled_dense_layer_matches_central_differences() -> None:
    rng = np.random.default_rng(9)
    x = rng.standard_normal((5, 7))
    w = rng.standard_normal((7, 3))
    b = rng.standard_normal(3)

    @tf.function
    def loss(x, w, b):  # noqa: ANN001, ANN202
        with tf.GradientTape() as tape:
            tape.watch([x, w, b])
            y = tf.reduce_sum(tf.tanh(tf.matmul(x, w) + b) ** 2)
        return tape.gradient(y, [x, w, b])
    grads = [g.numpy() for g in loss(tf.constant(x), tf.constant(w), tf.constant(b))]

    def f(x_, w_, b_):  # noqa: ANN001, ANN202
        return np.sum(np.tanh(x_ @ w_ + b_) ** 2)
    eps = 1e-6
    for i, arr in enumerate((x, w, b)):
        numeric = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            args = [x.copy(), w.copy(), b.copy()]
            args[i][idx] += eps
            up = f(*args)
            args[i][idx] -= 2 * eps
            numeric[idx] = (up - f(*args)) / (2 * eps)
        np.testing.assert_allclose(grads[i], numeric, rtol=1e-6, atol=1e-8)


def test_interpreter_agrees_on_a_builder_function(generated: None) -> None:
    a, b = operands(33, 70, 45, True, True, np.float32, seed=10)

    def body(bl: Builder, x: Value, y: Value) -> list[Value]:
        return [bl.one("matmul", x, y, transpose_a=True, transpose_b=True)]
    fn = build([TensorType(float32, a.shape), TensorType(float32, b.shape)], body)
    got = compile_function(fn)([a, b])[0]
    want = run(fn, [a, b])[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
