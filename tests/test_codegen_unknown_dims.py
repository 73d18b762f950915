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

from typing import Any, Callable, Sequence

import numpy as np
import pytest

import codegen
from codegen import runtime
from codegen.rules.shape import lower_dim
from ir.core import Block, Builder, Function, Value
from ir.interp import run as interpret
from ir.opdef import NONDIFF, OPS, OpDef
from ir.parser import parse
from ir.types import TensorType, bool_, float32, float64, int32, int64

SIZES = (0, 1, 3, 17, 1000)
# The `dim` row as the IR layer defines it (dim %x {axis = k} : i64[]); a local stand-in until it is in the table.
DIM = OPS.get("dim") or OpDef("dim", lambda types, *, axis: (TensorType(int64, ()),),
                              lambda x, *, axis: np.asarray(x.shape[axis], np.int64), NONDIFF, "shape",
                              attrs=("axis",), lower=lower_dim)


def T(*shape: Any, dtype: Any = float32) -> TensorType:
    return TensorType(dtype, shape)


def build(params: Sequence[TensorType], body: Callable[..., Sequence[Value]]) -> Function:
    """A function built with explicit result types (no shape inference, no verification)."""
    args = [Value(t, f"p{i}") for i, t in enumerate(params)]
    b = Builder(Block(args))
    b.op(OPS["return"], list(body(b, *args)), result_types=[])
    return Function("f", b.block)


def op(b: Builder, name: Any, operands: Sequence[Value], result: TensorType, **attrs: Any) -> Value:
    opdef = OPS[name] if isinstance(name, str) else name
    return b.op(opdef, list(operands), attrs, result_types=[result])[0]


def compile_unverified(fn: Function) -> Any:
    lowered, mod, obj = runtime._build(fn, True, None)
    compiled = runtime._link(fn, lowered, obj, True, None)
    compiled._llvm_ir = str(mod)
    return compiled


def ints(rng: np.random.Generator, *shape: int, dtype: Any = np.int32) -> np.ndarray:
    return rng.integers(-1000, 1000, size=shape).astype(dtype)


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
    assert compiled.lowered.result_dims == [(("dim", 0), 5)] or compiled.lowered.result_dims == [(("dim", 1), 5)]


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


@pytest.mark.parametrize("n_out", [128, 10])  # the vector matmul kernel, and BLAS
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
    with pytest.raises(ValueError, match="broadcast_to: dimension 0 of size 3 cannot be broadcast to size 17"):
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


def _cond_fn() -> Function:
    """cond on a scalar: the then branch yields x, the else branch concat(x, x): results of different sizes."""
    x = Value(T(None, 2), "x")
    p = Value(T(dtype=bool_), "p")
    b = Builder(Block([p, x]))

    def region(label: str, make: Callable[[Builder, Value], Value]) -> Block:
        a = Value(T(None, 2), label)
        rb = Builder(Block([a], label=label))
        rb.op(OPS["yield"], [make(rb, a)], result_types=[])
        return rb.block
    then = region("then", lambda rb, a: op(rb, "neg", [a], T(None, 2)))
    other = region("else", lambda rb, a: op(rb, "concat", [a, a], T(None, 2), axis=0))
    (r,) = b.op(OPS["cond"], [p, x], regions=[then, other], result_types=[T(None, 2)])
    b.op(OPS["return"], [r], result_types=[])
    return Function("c", b.block)


def test_cond_whose_branches_give_different_sizes() -> None:
    compiled = compile_unverified(_cond_fn())
    for n in (0, 1, 5):
        x = np.arange(2 * n, dtype=np.float32).reshape(n, 2)
        np.testing.assert_array_equal(compiled([np.bool_(True), x])[0], -x)
        np.testing.assert_array_equal(compiled([np.bool_(False), x])[0], np.concatenate([x, x]))


def _doubling_loop() -> Function:
    """while i < k: x = concat(x, x * 2); i += 1 -- a carried value whose size changes every trip."""
    i0, k, x0 = Value(T(dtype=int32), "i"), Value(T(dtype=int32), "k"), Value(T(None, 3, dtype=int32), "x")
    b = Builder(Block([i0, x0, k]))
    types = [T(dtype=int32), T(None, 3, dtype=int32), T(dtype=int32)]

    def region(label: str, make: Callable[..., list[Value]]) -> Block:
        args = [Value(t, f"{label}{j}") for j, t in enumerate(types)]
        rb = Builder(Block(args, label=label))
        rb.op(OPS["yield"], make(rb, *args), result_types=[])
        return rb.block
    test = region("cond", lambda rb, i, x, kk: [op(rb, "lt", [i, kk], T(dtype=bool_))])

    def step(rb: Builder, i: Value, x: Value, kk: Value) -> list[Value]:
        two = op(rb, "constant", [], T(dtype=int32), value=np.int32(2))
        n = op(rb, DIM, [x], T(dtype=int64), axis=0)
        doubled = op(rb, "mul", [x, op(rb, "broadcast_to", [two, n], types[1], shape=(None, 3))], types[1])
        one = op(rb, "constant", [], T(dtype=int32), value=np.int32(1))
        return [op(rb, "add", [i, one], types[0]), op(rb, "concat", [x, doubled], types[1], axis=0)]
    body = region("body", step)
    i, x = b.op(OPS["while_loop"], [i0, x0, k], {"carried": 2}, regions=[test, body], result_types=types[:2])
    b.op(OPS["return"], [x, i], result_types=[])
    return Function("w", b.block)


def test_while_loop_with_a_carried_value_that_grows() -> None:
    compiled = compile_unverified(_doubling_loop())
    rng = np.random.default_rng(6)
    for n, trips in ((1, 0), (3, 1), (17, 6), (0, 3)):
        x = ints(rng, n, 3)
        want = x
        for _ in range(trips):
            want = np.concatenate([want, want * 2])
        out, i = compiled([np.int32(0), x, np.int32(trips)])
        assert int(i) == trips
        np.testing.assert_array_equal(out, want)


def test_which_functions_compile_generically() -> None:
    fn = parse("""func @f(%x: f32[?,3]) -> (f32[?,3]) {
  %0 = exp %x : f32[?,3]
  return %0
}""")
    assert codegen.supports_unknown_dims(fn)
    backwards = build([T(None, 3)], lambda b, x: [op(b, "slice", [x], T(None, 3), begin=(5, 0), end=(-1, 3),
                                                     strides=(-1, 1))])
    from codegen.dynamic import has_unknown_dims, unsupported_ops
    assert has_unknown_dims(backwards) and not codegen.supports_unknown_dims(backwards)
    assert unsupported_ops(backwards) == ["slice"]
    static = parse("""func @f(%x: f32[2,3]) -> (f32[2,3]) {
  %0 = exp %x : f32[2,3]
  return %0
}""")
    assert not has_unknown_dims(static) and codegen.supports_unknown_dims(static)


def test_print_and_assert_show_values_of_run_time_size(capsys: Any) -> None:
    from ir.ops_state import InvalidArgumentError

    def body(b: Builder, x: Value) -> list[Value]:
        b.op(OPS["print"], [x], {"template": "x = {}\n", "stream": "stdout", "summarize": 3}, result_types=[])
        zero = op(b, "constant", [], T(dtype=int32), value=np.int32(0))
        n = op(b, DIM, [x], T(dtype=int64), axis=0)
        positive = op(b, "gt", [x, op(b, "broadcast_to", [zero, n], T(None, 2, dtype=int32), shape=(None, 2))],
                      T(None, 2, dtype=bool_))
        b.op(OPS["assert"], [positive, x], {"summarize": 3, "message": "not positive"}, result_types=[])
        return [x]
    compiled = compile_unverified(build([T(None, 2, dtype=int32)], body))
    for n in (1, 3):
        x = np.arange(1, 2 * n + 1, dtype=np.int32).reshape(n, 2)
        compiled([x])
        want = np.arange(1, 2 * n + 1, dtype=np.int32).reshape(n, 2)
        from ir.ops_state import format_value
        assert capsys.readouterr().out == f"x = {format_value(want, 3)}\n"
    with pytest.raises(InvalidArgumentError, match="not positive"):
        compiled([np.array([[1, 2], [0, 5], [7, 8]], np.int32)])


def test_stacks_of_values_of_run_time_size() -> None:
    """Reverse mode through loops pushes values of the batch's size: records of different sizes come back in order."""
    elem = T(None, 3, dtype=int32)

    def body(b: Builder, x: Value) -> list[Value]:
        s = b.op(OPS["stack_new"], [], {"dtype": "int32", "shape": (None, 3)})[0]
        big = op(b, "concat", [x, x, x], elem, axis=0)
        for v in (x, big, x):
            s = b.op(OPS["stack_push"], [s, v])[0]
        outs = []
        for _ in range(3):
            s, top = b.op(OPS["stack_pop"], [s])
            outs.append(top)
        return outs
    compiled = compile_unverified(build([elem], body))
    assert codegen.supports_unknown_dims(compiled.fn)
    rng = np.random.default_rng(7)
    for n in (0, 1, 17, 1000):
        x = ints(rng, n, 3)
        first, second, third = compiled([x])
        np.testing.assert_array_equal(first, x)
        np.testing.assert_array_equal(second, np.concatenate([x, x, x]))
        np.testing.assert_array_equal(third, x)


def test_size_operands_of_iota_reshape_and_random_uniform() -> None:
    def body(b: Builder, x: Value) -> list[Value]:
        n = op(b, DIM, [x], T(dtype=int64), axis=0)
        iota = op(b, "iota", [n], T(None, 2, dtype=int32), shape=(None, 2), dtype="int32", axis=0)
        flat = op(b, "reshape", [x, op(b, "mul", [n, op(b, "constant", [], T(dtype=int64), value=np.int64(4))],
                                       T(dtype=int64))], T(None, dtype=int32), shape=(None,))
        seed = op(b, "constant", [], T(dtype=int64), value=np.int64(42))
        zero = op(b, "constant", [], T(dtype=int64), value=np.int64(0))
        u = op(b, "random_uniform", [seed, zero, n], T(None, 4), shape=(None, 4), dtype="float32")
        return [iota, flat, u]
    compiled = compile_unverified(build([T(None, 4, dtype=int32)], body))
    from ir.opdef import OPS as table
    rng = np.random.default_rng(8)
    for n in (0, 1, 17):
        x = ints(rng, n, 4)
        iota, flat, u = compiled([x])
        np.testing.assert_array_equal(iota, np.broadcast_to(np.arange(n, dtype=np.int32)[:, None], (n, 2)))
        np.testing.assert_array_equal(flat, x.reshape(-1))
        # the same stream as the row's numpy kernel for that shape (compiled and eager agree on every size)
        want = table["random_uniform"].eager(np.int64(42), np.int64(0), shape=(n, 4), dtype="float32")
        np.testing.assert_array_equal(u, want)


def test_a_reshape_that_does_not_fit_fails_at_run_time() -> None:
    def body(b: Builder, x: Value, y: Value) -> list[Value]:
        n = op(b, DIM, [y], T(dtype=int64), axis=0)
        return [op(b, "reshape", [x, n], T(None, 4, dtype=int32), shape=(None, 4))]
    compiled = compile_unverified(build([T(None, 4, dtype=int32), T(None, dtype=int32)], body))
    x = np.arange(12, dtype=np.int32).reshape(3, 4)
    np.testing.assert_array_equal(compiled([x, np.zeros(3, np.int32)])[0], x)
    with pytest.raises(ValueError, match=r"reshape: the number of elements has size (12|20)"):
        compiled([x, np.zeros(5, np.int32)])


def test_a_kernel_for_unknown_dims_comes_back_from_the_disk_cache(tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("KILN_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("KILN_CACHE", "1")
    src = """func @f(%x: i32[?,2]) -> (i32[?,2], i32[2,?]) {
  %0 = add %x, %x : i32[?,2]
  %1 = transpose %x {perm = [1, 0]} : i32[2,?]
  return %0, %1
}"""
    first = runtime.compile_function(parse(src))
    hits = runtime.stats["cache_hits"]
    again = runtime.compile_function(parse(src))
    assert runtime.stats["cache_hits"] == hits + 1
    assert again.lowered.result_dims == first.lowered.result_dims
    x = np.arange(10, dtype=np.int32).reshape(5, 2)
    assert first.lowered.result_dims == [(("dim", 0), 2), (2, ("dim", 0))]
    for compiled in (first, again):
        double, t = compiled([x])
        np.testing.assert_array_equal(double, 2 * x)
        np.testing.assert_array_equal(t, x.T)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def _peak_rss_bytes() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/statm"), reason="reads /proc/self/statm")
def test_heap_blocks_are_freed_when_a_call_fails() -> None:
    """A heap intermediate (exp(x), used twice) is made before a gather fails: the error exit frees it. 300 failing
    calls of 2.9 MB each would hold 860 MB if it did not."""
    def body(b: Builder, x: Value, idx: Value) -> list[Value]:
        e = op(b, "exp", [x], T(None, 9, dtype=float64))
        twice = op(b, "add", [e, op(b, "mul", [e, e], T(None, 9, dtype=float64))], T(None, 9, dtype=float64))
        return [op(b, "gather", [twice, idx], T(None, 9, dtype=float64), axis=0)]
    compiled = compile_unverified(build([T(None, 9, dtype=float64), T(None, dtype=int32)], body))
    x = np.zeros((40_000, 9))
    bad = np.array([0, 40_000], np.int32)
    with pytest.raises(IndexError):
        compiled([x, bad])
    before = _rss_bytes()
    for _ in range(300):
        with pytest.raises(IndexError, match="index 40000 is out of bounds for an axis of size 40000"):
            compiled([x, bad])
    assert _rss_bytes() - before < 200 << 20
    np.testing.assert_array_equal(compiled([x, np.array([1], np.int32)])[0], np.full((1, 9), 2.0))


def test_matmul_contracting_a_run_time_dim_picks_its_kernel_when_called() -> None:
    """x^T @ g over the batch (a weight gradient): k is the run-time batch size; up to 1 MB of g the generated
    vector kernel runs, above it BLAS (3000 rows of 128 floats)."""
    def body(b: Builder, x: Value, g: Value) -> list[Value]:
        return [op(b, "matmul", [x, g], T(784, 128), transpose_a=True, transpose_b=False)]
    compiled = compile_unverified(build([T(None, 784), T(None, 128)], body))
    rng = np.random.default_rng(9)
    for n in (0, 1, 17, 1000, 3000):
        x = rng.standard_normal((n, 784)).astype(np.float32)
        g = rng.standard_normal((n, 128)).astype(np.float32)
        np.testing.assert_allclose(compiled([x, g])[0], x.T.astype(np.float64) @ g, rtol=2e-4, atol=2e-3)


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/clear_refs"), reason="resets the peak RSS")
def test_a_loop_frees_each_trips_heap_blocks() -> None:
    """Each trip materializes sin(x) (used twice) in a heap block of the run-time size: 400 trips over 200,000
    float64 would hold 640 MB if the trip's blocks were kept until the call returns."""
    f64 = T(None, dtype=float64)
    types = [T(dtype=int32), f64, T(dtype=int32)]
    i0, x0, k = (Value(t, n) for t, n in zip(types, ("i", "x", "k")))
    b = Builder(Block([i0, x0, k]))

    def region(label: str, make: Callable[..., list[Value]]) -> Block:
        args = [Value(t, f"{label}{j}") for j, t in enumerate(types)]
        rb = Builder(Block(args, label=label))
        rb.op(OPS["yield"], make(rb, *args), result_types=[])
        return rb.block

    def step(rb: Builder, i: Value, x: Value, kk: Value) -> list[Value]:
        s = op(rb, "sin", [x], f64)
        one = op(rb, "constant", [], T(dtype=int32), value=np.int32(1))
        return [op(rb, "add", [i, one], types[0]), op(rb, "sub", [op(rb, "add", [x, s], f64), s], f64)]
    test = region("cond", lambda rb, i, x, kk: [op(rb, "lt", [i, kk], T(dtype=bool_))])
    _, x = b.op(OPS["while_loop"], [i0, x0, k], {"carried": 2}, regions=[test, region("body", step)],
                result_types=types[:2])
    b.op(OPS["return"], [x], result_types=[])
    compiled = compile_unverified(Function("loop", b.block))
    x = np.linspace(-1, 1, 200_000)
    compiled([np.int32(0), x, np.int32(1)])
    before = _rss_bytes()
    with open("/proc/self/clear_refs", "w") as f:  # resets the peak (VmHWM) to the current size
        f.write("5")
    (out,) = compiled([np.int32(0), x, np.int32(400)])
    assert _peak_rss_bytes() - before < 200 << 20
    want = x
    for _ in range(400):
        s = np.sin(want)
        want = (want + s) - s
    np.testing.assert_allclose(out, want, rtol=0, atol=1e-12)
