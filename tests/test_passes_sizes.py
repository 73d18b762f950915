"""The passes that clean up what a `None` batch leaves in the IR: Variable read forwarding (ir.passes.forward_reads)
and the run-time size rules (ir.passes.size_rules, through canonicalize).

Each rewrite is pinned by the IR it produces (the ops that remain) and by values: the interpreter on the
optimized IR against numpy, and the compiled optimized IR at several batch sizes (0, 1 and more) against numpy.
"""
from __future__ import annotations

import numpy as np
import pytest

from codegen import runtime
from ir.interp import run
from ir.parser import parse
from ir.passes import optimize
from ir.passes.common import count_ops
from ir.passes.forward_reads import forward_reads
from ir.types import Cell
from ir.verify import verify

SIZES = (0, 1, 3, 17)


def _ops(fn: object) -> list[str]:
    return [op.opdef.name for op in fn.walk()]  # type: ignore[attr-defined]


# ---- read forwarding ------------------------------------------------------------------------------------------------
# An optimizer step's shape: a counter read once per variable it updates, a Variable read again after its assign.
ADAM_LIKE = """func @f(%g: f32[3], %it: &i64[], %m: &f32[3]) -> (f32[3], f32[]) {
  %0 = read %it : i64[]
  %1 = constant {value = 1} : i64[]
  %2 = add %0, %1 : i64[]
  %3 = convert %2 {dtype = f32} : f32[]
  %4 = constant {value = 0.9} : f32[]
  %5 = pow %4, %3 : f32[]
  %m.1 = read %m : f32[3]
  %6 = add %m.1, %g : f32[3]
  assign %m, %6
  %7 = read %it : i64[]
  %8 = add %7, %1 : i64[]
  %9 = convert %8 {dtype = f32} : f32[]
  %10 = pow %4, %9 : f32[]
  %m.2 = read %m : f32[3]
  %11 = mul %m.2, %g : f32[3]
  %12 = add %5, %10 : f32[]
  assign %it, %2
  %13 = read %it : i64[]
  %14 = convert %13 {dtype = f32} : f32[]
  %15 = add %12, %14 : f32[]
  return %11, %15
}"""


def _adam_like_numpy(g: np.ndarray, it: int, m: np.ndarray) -> tuple[np.ndarray, np.float32, np.ndarray]:
    p = np.float32(0.9) ** np.float32(it + 1)
    m2 = m + g
    return m2 * g, np.float32(p + p + np.float32(it + 1)), m2


def test_reads_are_forwarded_and_the_repeated_chain_merges() -> None:
    fn = parse(ADAM_LIKE)
    new = optimize(fn)
    verify(new)
    ops = _ops(new)
    # one read of each Variable; the counter's chain (add, convert, pow) once; both assigns kept, in order
    assert ops.count("read") == 2 and ops.count("pow") == 1 and ops.count("convert") == 1
    assert [op.operands[0].name for op in new.walk() if op.opdef.name == "assign"] == ["m", "it"]
    g = np.array([1.0, -2.0, 0.5], np.float32)
    for it in (0, 4):
        m = np.array([0.25, 1.0, -1.0], np.float32)
        cell_it, cell_m = Cell(np.asarray(it, np.int64)), Cell(m.copy())
        out, total = run(new, [g, cell_it, cell_m])
        want_out, want_total, want_m = _adam_like_numpy(g, it, m)
        np.testing.assert_array_equal(out, want_out)
        np.testing.assert_allclose(total, want_total, rtol=1e-6)
        np.testing.assert_array_equal(cell_m.array, want_m)
        assert int(cell_it.array) == it + 1


def test_a_read_after_a_region_that_assigns_is_kept() -> None:
    text = """func @f(%p: bool[], %v: &f32[2]) -> (f32[2]) {
  %0 = read %v : f32[2]
  cond %p, %v {
  ^then(%v.1: &f32[2]):
    %1 = read %v.1 : f32[2]
    %2 = add %1, %1 : f32[2]
    assign %v.1, %2
    yield
  } {
  ^else(%v.2: &f32[2]):
    yield
  }
  %3 = read %v : f32[2]
  %4 = add %0, %3 : f32[2]
  return %4
}"""
    fn = parse(text)
    new = forward_reads(fn)
    verify(new)
    assert count_ops(new, "read") == 3  # the read after the cond is not the one before it
    for p, want in ((True, [3.0, -6.0]), (False, [2.0, -4.0])):
        (out,) = run(optimize(fn), [np.bool_(p), Cell(np.array([1.0, -2.0], np.float32))])
        np.testing.assert_array_equal(out, np.array(want, np.float32))


# ---- run-time size arithmetic ---------------------------------------------------------------------------------------
# reshape(x, [-1, 12]) under a None batch: the element count divided by 12 again
FLATTEN = """func @f(%x: f32[?,3,4]) -> (f32[?,12]) {
  %0 = dim %x {axis = 0} : i64[]
  %1 = constant {value = 12} : i64[]
  %2 = mul %0, %1 : i64[]
  %3 = floordiv %2, %1 : i64[]
  %4 = reshape %x, %3 {shape = [none, 12]} : f32[?,12]
  %5 = constant {value = 1} : i64[]
  %6 = floordiv %3, %5 : i64[]
  %7 = broadcast_to %4, %6 {shape = [none, 12]} : f32[?,12]
  return %7
}"""


def test_a_size_times_c_divided_by_c_is_the_size() -> None:
    new = optimize(parse(FLATTEN))
    verify(new)
    assert _ops(new) == ["dim", "reshape", "return"]
    (reshape,) = [op for op in new.walk() if op.opdef.name == "reshape"]
    assert reshape.operands[1] is new.block.ops[0].results[0]  # the size is x's own dim
    compiled = runtime.compile_function(new)
    for n in SIZES:
        x = np.arange(n * 12, dtype=np.float32).reshape(n, 3, 4)
        np.testing.assert_array_equal(compiled([x])[0], x.reshape(n, 12))
        np.testing.assert_array_equal(run(new, [x])[0], x.reshape(n, 12))


def test_a_product_of_plain_integers_is_not_divided_back() -> None:
    # i * 3 // 3 is i only while i * 3 does not wrap: kept for values that are not sizes
    text = """func @f(%i: i64[]) -> (i64[]) {
  %0 = constant {value = 3} : i64[]
  %1 = mul %i, %0 : i64[]
  %2 = floordiv %1, %0 : i64[]
  return %2
}"""
    new = optimize(parse(text))
    assert _ops(new).count("floordiv") == 1
    big = np.int64(2 ** 62)
    with np.errstate(over="ignore"):
        assert run(new, [big])[0] == (big * np.int64(3)) // np.int64(3)  # numpy's wrapped answer, not 2**62


# Emitter.sum_to of a gradient whose batch is x's own: reshape to (n, n // max(n, 1), 10), summed over the unit axis
SUM_TO = """func @f(%g: f32[?,10], %x: f32[?,10]) -> (f32[?,10], f32[?]) {
  %0 = dim %x {axis = 0} : i64[]
  %1 = dim %g {axis = 0} : i64[]
  %2 = broadcast_dim %1, %0 {axes = [0, 0], shapes = [[none, 10], [none, 10]]} : i64[]
  %3 = broadcast_to %g, %2 {shape = [none, 10]} : f32[?,10]
  %4 = broadcast_to %x, %2 {shape = [none, 10]} : f32[?,10]
  %5 = mul %3, %4 : f32[?,10]
  %6 = constant {value = 1} : i64[]
  %7 = maximum %0, %6 : i64[]
  %8 = floordiv %0, %7 : i64[]
  %9 = reshape %x, %0, %8 {shape = [none, none, 10]} : f32[?,?,10]
  %10 = reduce_sum %9 {axes = [1]} : f32[?,10]
  %11 = add %10, %5 : f32[?,10]
  %12 = reduce_max %11 {axes = [1]} : f32[?]
  %13 = reshape %12, %0, %8 {shape = [none, none]} : f32[?,?]
  %14 = reduce_sum %13 {axes = [1]} : f32[?]
  return %11, %14
}"""


def test_a_reduction_over_a_unit_split_is_a_reshape() -> None:
    fn = parse(SUM_TO)
    new = optimize(fn)
    verify(new)
    ops = _ops(new)
    # the split and both reductions over it are gone; the one real reduction (max over 10) stays
    assert ops.count("reduce_sum") == 0 and ops.count("reduce_max") == 1 and "floordiv" not in ops
    assert ops.count("reshape") == 0
    compiled = runtime.compile_function(new)
    rng = np.random.default_rng(1)
    for n in SIZES:
        g = rng.standard_normal((n, 10)).astype(np.float32)
        x = rng.standard_normal((n, 10)).astype(np.float32)
        want = x + g * x
        for got in (compiled([g, x]), run(new, [g, x]), run(fn, [g, x])):  # compiled: x + g * x is one FMA
            np.testing.assert_allclose(got[0], want, rtol=1e-6, atol=1e-6)
            np.testing.assert_allclose(got[1], want.max(axis=1), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("n, m", [(1, 4), (3, 3), (0, 0)])
def test_a_split_of_two_different_sizes_is_kept(n: int, m: int) -> None:
    # like's size may be 1 while g's is m: the split sums there, so it must stay
    text = """func @f(%g: f32[?,10], %x: f32[?,10]) -> (f32[?,10]) {
  %0 = dim %x {axis = 0} : i64[]
  %1 = dim %g {axis = 0} : i64[]
  %2 = constant {value = 1} : i64[]
  %3 = maximum %0, %2 : i64[]
  %4 = floordiv %1, %3 : i64[]
  %5 = reshape %g, %0, %4 {shape = [none, none, 10]} : f32[?,?,10]
  %6 = reduce_sum %5 {axes = [1]} : f32[?,10]
  return %6
}"""
    new = optimize(parse(text))
    assert _ops(new).count("reduce_sum") == 1
    g = np.arange(m * 10, dtype=np.float32).reshape(m, 10)
    x = np.zeros((n, 10), np.float32)
    want = g.reshape(n, m // max(n, 1), 10).sum(axis=1)
    np.testing.assert_array_equal(run(new, [g, x])[0], want)
    np.testing.assert_array_equal(runtime.compile_function(new)([g, x])[0], want)


def test_a_reduction_over_static_unit_axes_is_a_reshape() -> None:
    text = """func @f(%x: i32[?,1,5,1]) -> (i32[?,5], i32[?,5]) {
  %0 = reduce_sum %x {axes = [1, 3]} : i32[?,5]
  %1 = reduce_min %x {axes = [1, 3]} : i32[?,5]
  return %0, %1
}"""
    new = optimize(parse(text))
    verify(new)
    assert "reduce_sum" not in _ops(new) and "reduce_min" not in _ops(new)
    compiled = runtime.compile_function(new)
    for n in SIZES:
        x = np.arange(n * 5, dtype=np.int32).reshape(n, 1, 5, 1) - 7
        for got in (compiled([x]), run(new, [x])):
            np.testing.assert_array_equal(got[0], x.sum(axis=(1, 3)))
            np.testing.assert_array_equal(got[1], x.min(axis=(1, 3)))


def test_dim_of_an_iota_is_its_size_operand() -> None:
    text = """func @f(%y: i32[?]) -> (bool[?,4]) {
  %0 = dim %y {axis = 0} : i64[]
  %1 = iota %0 {axis = 1, dtype = i32, shape = [none, 4]} : i32[?,4]
  %2 = reshape %y, %0 {shape = [none, 1]} : i32[?,1]
  %3 = dim %1 {axis = 0} : i64[]
  %4 = broadcast_dim %0, %3 {axes = [0, 0], shapes = [[none, 4], [none, 4]]} : i64[]
  %5 = broadcast_to %2, %4 {shape = [none, 4]} : i32[?,4]
  %6 = broadcast_to %1, %4 {shape = [none, 4]} : i32[?,4]
  %7 = eq %5, %6 : bool[?,4]
  return %7
}"""
    new = optimize(parse(text))
    verify(new)
    assert "broadcast_dim" not in _ops(new) and _ops(new).count("dim") == 1
    compiled = runtime.compile_function(new)
    for n in SIZES:
        y = (np.arange(n, dtype=np.int32) * 3) % 5
        want = y[:, None] == np.arange(4)[None, :]
        np.testing.assert_array_equal(compiled([y])[0], want)
        np.testing.assert_array_equal(run(new, [y])[0], want)
