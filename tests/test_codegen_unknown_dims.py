"""One compiled kernel for every size of an unknown dimension (`f32[?,784]`, issue 12): values carry run-time dims,
loops take run-time trip counts, results of unknown dims are allocated from the arguments' shapes or by the kernel,
and dims the IR assumes equal are checked at run time (a ValueError naming the op and both sizes, never an
out-of-bounds access).

Each function is compiled once and run at several sizes (0, 1, 3, 17, 1000 where it applies), compared with numpy,
and with the IR interpreter running the same IR text with each size written in. Exact dtypes (integers, add/mul of
small floats) are compared exactly, so a wrong stride or offset shows as a wrong value, not as noise. Where a row's
shape inference does not take `?` yet (broadcast_to's size operands, the `dim` row), the IR is built with explicit
result types and compiled without re-verification.
"""
from __future__ import annotations

import numpy as np
import pytest

import codegen
from codegen import runtime
from ir.core import Builder, Function, Value
from ir.interp import run as interpret
from ir.ops_state import InvalidArgumentError
from ir.parser import parse
from ir.types import int32, int64
from irbuild_dims import DIM, SIZES, T, build, compile_unverified, ints, op


ELEMENTWISE = """func @f(%x: i32[?,5], %y: i32[?,5], %s: i32[]) -> (i32[?,5]) {
  %0 = mul %x, %y : i32[?,5]
  %2 = sub %0, %x : i32[?,5]
  %3 = maximum %2, %y : i32[?,5]
  return %3
}"""


def test_elementwise_chain_from_ir_text_runs_at_every_size() -> None:
    fn = parse(ELEMENTWISE)
    assert codegen.supports_unknown_dims(fn)
    compiled = runtime.compile_function(fn)
    rng = np.random.default_rng(0)
    for n in SIZES:
        x, y = ints(rng, n, 5), ints(rng, n, 5)
        (out,) = compiled([x, y, np.int32(3)])
        assert out.shape == (n, 5) and out.dtype == np.int32
        np.testing.assert_array_equal(out, np.maximum(x * y - x, y))
        # the interpreter runs the same IR text with the size written in
        np.testing.assert_array_equal(out, interpret(parse(ELEMENTWISE.replace("?", str(n))), [x, y, np.int32(3)])[0])
    # the result is allocated by the runtime from the first parameter's dim 0 (no copy, no kernel allocation)
    assert compiled.lowered.result_dims == [(("param_dim", 0), 5)] or compiled.lowered.result_dims == [(("param_dim", 1), 5)]


def test_two_unknown_dims_the_ir_assumes_equal_are_checked_at_run_time() -> None:
    fn = parse("""func @f(%x: f32[?,3], %y: f32[?,3]) -> (f32[?,3]) {
  %0 = add %x, %y : f32[?,3]
  return %0
}""")
    compiled = runtime.compile_function(fn)
    with pytest.raises(ValueError, match=r"add: dimension 0 has size (2|4) in one operand and (4|2) in another"):
        compiled([np.ones((2, 3), np.float32), np.ones((4, 3), np.float32)])
    # a static dim is still checked exactly (before the kernel runs)
    with pytest.raises(ValueError, match="argument 1 has shape"):
        compiled([np.ones((2, 3), np.float32), np.ones((2, 4), np.float32)])
    # and the kernel still works after a failed call
    np.testing.assert_array_equal(compiled([np.ones((2, 3), np.float32)] * 2)[0], np.full((2, 3), 2, np.float32))


def test_native_entry_checks_static_dims_and_passes_unknown_ones() -> None:
    fn = parse("""func @f(%x: i32[?,3]) -> (i32[?,3]) {
  %0 = add %x, %x : i32[?,3]
  return %0
}""")
    compiled = runtime.compile_function(fn)
    ws = compiled.workspace()
    from codegen.entry import EntryArgumentError
    with pytest.raises(EntryArgumentError, match=r"int32\[\?, 3\]"):
        compiled._py(np.zeros((4, 2), np.int32), np.zeros((4, 3), np.int32), ws, 0, 1)
    # a result array whose unknown dim differs from the parameter's is refused, not written out of bounds
    with pytest.raises(EntryArgumentError, match="result 0"):
        compiled._py(np.zeros((4, 3), np.int32), np.zeros((3, 3), np.int32), ws, 0, 1)


def mlp(n_out: int = 128) -> Function:
    def body(b: Builder, x: Value, w: Value, bias: Value) -> list[Value]:
        n = op(b, DIM, [x], T(dtype=int64), axis=0)
        mm = op(b, "matmul", [x, w], T(None, n_out), transpose_a=False, transpose_b=False)
        bb = op(b, "broadcast_to", [bias, n], T(None, n_out), shape=(None, n_out))
        return [op(b, "relu", [op(b, "add", [mm, bb], T(None, n_out))], T(None, n_out))]
    return build([T(None, 784), T(784, n_out), T(n_out)], body)


@pytest.mark.parametrize("n_out", [128, 10])  # two and one vectors per panel of the generated GEMM
def test_dense_layer_with_run_time_batch(n_out: int) -> None:
    fn = mlp(n_out)
    assert codegen.supports_unknown_dims(fn)
    compiled = compile_unverified(fn)
    rng = np.random.default_rng(1)
    w = rng.standard_normal((784, n_out)).astype(np.float32) * 0.05
    bias = rng.standard_normal(n_out).astype(np.float32)
    for n in SIZES + (8, 12, 13):  # full register blocks of 8 rows, a half block, single rows
        x = rng.standard_normal((n, 784)).astype(np.float32)
        (out,) = compiled([x, w, bias])
        assert out.shape == (n, n_out)
        np.testing.assert_allclose(out, np.maximum(x.astype(np.float64) @ w + bias, 0), rtol=1e-4, atol=1e-4)


def test_reductions_over_unknown_axes_are_exact() -> None:
    def body(b: Builder, x: Value) -> list[Value]:
        return [op(b, "reduce_sum", [x], T(None, dtype=int32), axes=(1,)),
                op(b, "reduce_sum", [x], T(7, dtype=int32), axes=(0,)),
                op(b, "reduce_min", [x], T(None, dtype=int32), axes=(1,)),
                op(b, "argmax", [x], T(7, dtype=int64), axis=0, output_type=int64)]
    fn = build([T(None, 7, dtype=int32)], body)
    assert codegen.supports_unknown_dims(fn)
    compiled = compile_unverified(fn)
    rng = np.random.default_rng(2)
    for n in (1, 3, 17, 1000):
        x = ints(rng, n, 7)
        s1, s0, mn, am = compiled([x])
        np.testing.assert_array_equal(s1, x.sum(axis=1))
        np.testing.assert_array_equal(s0, x.sum(axis=0))
        np.testing.assert_array_equal(mn, x.min(axis=1))
        np.testing.assert_array_equal(am, x.argmax(axis=0))


def test_shape_rows_with_run_time_sizes_read_exactly_what_numpy_reads() -> None:
    def body(b: Builder, x: Value) -> list[Value]:
        t = op(b, "transpose", [x], T(5, None, dtype=int32), perm=(1, 0))
        tail = op(b, "slice", [x], T(None, 5, dtype=int32), begin=(1, 0), end=(1 << 40, 5), strides=(1, 1))
        last = op(b, "slice", [x], T(None, 2, dtype=int32), begin=(-2, 1), end=(1 << 40, 5), strides=(2, 2))
        cat = op(b, "concat", [x, tail], T(None, 5, dtype=int32), axis=0)
        pad = op(b, "pad", [x], T(None, 8, dtype=int32), paddings=((2, 1), (0, 3)), value=7)
        return [t, tail, last, cat, pad]
    compiled = compile_unverified(build([T(None, 5, dtype=int32)], body))
    rng = np.random.default_rng(3)
    for n in SIZES:
        x = ints(rng, n, 5)
        t, tail, last, cat, pad = compiled([x])
        np.testing.assert_array_equal(t, x.T)
        np.testing.assert_array_equal(tail, x[1:])
        np.testing.assert_array_equal(last, x[-2::2, 1::2])
        np.testing.assert_array_equal(cat, np.concatenate([x, x[1:]]))
        np.testing.assert_array_equal(pad, np.pad(x, ((2, 1), (0, 3)), constant_values=7))
    # the concat's and pad's sizes are not a parameter's dim: the kernel allocated them, and numpy owns them now
    assert compiled.lowered.result_dims[3] is None and compiled.lowered.result_dims[4] is None
    cat = compiled([np.arange(15, dtype=np.int32).reshape(3, 5)])[3]
    cat[:] += 1
    np.testing.assert_array_equal(cat[-1], np.arange(11, 16))


def test_gather_checks_indices_against_a_run_time_size() -> None:
    def body(b: Builder, params: Value, idx: Value) -> list[Value]:
        return [op(b, "gather", [params, idx], T(None, 3), axis=0)]
    compiled = compile_unverified(build([T(None, 3), T(None, dtype=int32)], body))
    p = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.testing.assert_array_equal(compiled([p, np.array([3, 0, 3, 1], np.int32)])[0], p[[3, 0, 3, 1]])
    np.testing.assert_array_equal(compiled([p, np.zeros(0, np.int32)])[0], np.zeros((0, 3), np.float32))
    with pytest.raises(IndexError, match="gather: index 4 is out of bounds for an axis of size 4"):
        compiled([p, np.array([0, 4], np.int32)])


def test_broadcast_of_a_run_time_size_one_and_its_error() -> None:
    def body(b: Builder, x: Value, y: Value) -> list[Value]:
        n = op(b, DIM, [y], T(dtype=int64), axis=0)
        bx = op(b, "broadcast_to", [x, n], T(None, 4, dtype=int32), shape=(None, 4))
        return [op(b, "add", [bx, y], T(None, 4, dtype=int32))]
    compiled = compile_unverified(build([T(None, 4, dtype=int32), T(None, 4, dtype=int32)], body))
    rng = np.random.default_rng(4)
    for rows in (1, 17):  # a row broadcast to 17 (stride 0 chosen at run time), and 17 rows as they are
        x, y = ints(rng, rows, 4), ints(rng, 17, 4)
        np.testing.assert_array_equal(compiled([x, y])[0], x + y)
    # TF 2.21's BroadcastTo error: InvalidArgumentError "Incompatible shapes: [3,4] vs. [17,4]"
    with pytest.raises(InvalidArgumentError, match=r"Incompatible shapes: \[3,4\] vs\. \[17,4\]"):
        compiled([ints(rng, 3, 4), ints(rng, 17, 4)])


def test_intermediates_of_run_time_size_live_on_the_heap() -> None:
    # exp(x) is used twice, so it is materialized: a heap block of the run-time size, freed on return
    fn = parse("""func @f(%x: f64[?,9]) -> (f64[?,9]) {
  %0 = exp %x : f64[?,9]
  %1 = mul %0, %0 : f64[?,9]
  %2 = add %1, %0 : f64[?,9]
  return %2
}""")
    compiled = runtime.compile_function(fn)
    assert "aligned_alloc" in compiled.llvm_ir
    rng = np.random.default_rng(5)
    for n in SIZES:
        x = rng.standard_normal((n, 9))
        e = np.exp(x)
        np.testing.assert_allclose(compiled([x])[0], e * e + e, rtol=1e-14)


def test_matmul_contracting_a_run_time_dim_picks_its_kernel_when_called() -> None:
    """x^T @ g over the batch (a weight gradient): k is the run-time batch size; below gemm.BLAS_MIN_K rows the
    generated GEMM runs, from it OpenBLAS (3000 rows of 128 floats)."""
    def body(b: Builder, x: Value, g: Value) -> list[Value]:
        return [op(b, "matmul", [x, g], T(784, 128), transpose_a=True, transpose_b=False)]
    compiled = compile_unverified(build([T(None, 784), T(None, 128)], body))
    rng = np.random.default_rng(9)
    for n in (0, 1, 17, 1000, 3000):
        x = rng.standard_normal((n, 784)).astype(np.float32)
        g = rng.standard_normal((n, 128)).astype(np.float32)
        np.testing.assert_allclose(compiled([x, g])[0], x.T.astype(np.float64) @ g, rtol=2e-4, atol=2e-3)


def test_short_loops_inside_run_time_loops_are_left_scalar() -> None:
    """Under a run-time row count, a row loop of fewer than SHORT_LOOP_TRIPS static trips is marked for neither the
    loop vectorizer nor the unroller (it could not fill a vector), a longer one is offered to the vectorizer; the
    values are numpy's either way."""
    from codegen.context import SHORT_LOOP_TRIPS
    text = """func @f(%x: f32[?,10], %y: f32[?,64]) -> (f32[?], f32[?]) {
  %0 = exp %x : f32[?,10]
  %1 = reduce_sum %0 {axes = [1]} : f32[?]
  %2 = exp %y : f32[?,64]
  %3 = reduce_sum %2 {axes = [1]} : f32[?]
  return %1, %3
}"""
    assert 10 < SHORT_LOOP_TRIPS <= 64
    compiled = runtime.compile_function(parse(text))
    meta = dict(line.split(" = ", 1) for line in compiled.llvm_ir.splitlines() if line.startswith("!"))
    novec = [k for k, v in meta.items() if v == '!{!"llvm.loop.vectorize.enable", i1 false}']
    nounroll = [k for k, v in meta.items() if v == '!{!"llvm.loop.unroll.disable"}']
    assert len(novec) == len(nounroll) == 1
    # one loop ID (the 10-trip row loop's) carries both; the 64-trip one is left to the vectorizer
    ids = [k for k, v in meta.items() if novec[0] in v and nounroll[0] in v and v.startswith("distinct")]
    assert len(ids) == 1
    assert compiled.llvm_ir.count(f"!llvm.loop {ids[0]}\n") == 1
    rng = np.random.default_rng(2)
    for n in SIZES:
        x = rng.standard_normal((n, 10)).astype(np.float32)
        y = rng.standard_normal((n, 64)).astype(np.float32)
        a, c = compiled([x, y])
        np.testing.assert_allclose(a, np.exp(x.astype(np.float64)).sum(axis=1), rtol=1e-5)
        np.testing.assert_allclose(c, np.exp(y.astype(np.float64)).sum(axis=1), rtol=1e-5)
