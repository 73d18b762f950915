"""Unknown dimensions through control flow, stacks, effects and memory (issue 12): `cond` branches of different
sizes, a `while_loop` carrying a value that grows, stacks of records of run-time size, print and assert of such
values, size operands of iota/reshape/random_uniform, the disk cache, and heap blocks freed on every exit (a failed
call, each loop trip). Compared exactly with numpy where the dtype allows.
"""
from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np
import pytest

import codegen
from codegen import runtime
from ir.core import Block, Builder, Function, Value
from ir.opdef import OPS
from ir.parser import parse
from ir.types import bool_, float64, int32, int64
from irbuild_dims import DIM, T, build, compile_unverified, ints, op


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
    assert first.lowered.result_dims == [(("param_dim", 0), 2), (2, ("param_dim", 0))]
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


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads /proc/self/statm")
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


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="resets the peak RSS")
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


def test_assigning_a_value_of_unknown_dims_to_a_variable_checks_its_size() -> None:
    from ir.types import Cell, RefType

    def body(b: Builder, v: Value, x: Value) -> list[Value]:
        b.op(OPS["assign"], [v, x], result_types=[])
        return [x]
    compiled = compile_unverified(build([RefType(int32, (4, 2)), T(None, 2, dtype=int32)], body))
    cell = Cell(np.zeros((4, 2), np.int32))
    x = np.arange(8, dtype=np.int32).reshape(4, 2)
    compiled([cell, x])
    np.testing.assert_array_equal(cell.array, x)
    with pytest.raises(ValueError, match="assign: dimension 0 has size (4|5) in one operand and (5|4) in another"):
        compiled([cell, np.zeros((5, 2), np.int32)])
