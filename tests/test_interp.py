"""The reference interpreter (`ir.interp`) runs hand-built IR as numpy computed directly in the test does:
straight-line code, cond (both branches, captured values), while loops (against Python loops), a cond nested in a
loop body, Variables through reference params, print and assert effects, and strict argument/result checking.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pytest

from ir.core import Builder, Function, Value
from ir.interp import InterpError, Interpreter, run
from ir.opdef import NONDIFF, OpDef
from ir.ops_state import InvalidArgumentError
from ir.types import Cell, RefType, TensorType, bool_, float32, float64, int32
from irbuild import build, cond, while_loop

F3 = TensorType(float32, (3,))
F23 = TensorType(float32, (2, 3))
I = TensorType(int32, ())
B = TensorType(bool_, ())


def function(name: str, params: Sequence[TensorType], body: Callable[..., Sequence[Value]]) -> Function:
    return build(params, body, name)


def const(b: Builder, value: Any, dtype: Any) -> Value:
    return b.one("constant", value=np.asarray(value, dtype=dtype))


def rand(shape: Sequence[int], dtype: Any = np.float32, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ---- straight-line code ---------------------------------------------------------------------------------------------
def test_straight_line_matches_numpy() -> None:
    def body(b: Builder, x: Value, y: Value) -> list[Value]:
        yb = b.one("broadcast_to", y, shape=(2, 3))
        z = b.one("add", b.one("mul", b.one("exp", x), yb), const(b, np.full((2, 3), 0.5), np.float32))
        s = b.one("reduce_sum", z, axes=(1,))
        t = b.one("transpose", z, perm=(1, 0))
        return [s, b.one("reshape", t, shape=(6,)), b.one("gt", s, b.one("constant", value=np.zeros(2, np.float32)))]

    fn = function("f", [F23, F3], body)
    x, y = rand((2, 3), seed=1), rand((3,), seed=2)
    s, t, g = run(fn, [x, y])
    z = np.exp(x) * y + np.float32(0.5)
    np.testing.assert_allclose(s, z.sum(axis=1), rtol=1e-6)
    np.testing.assert_array_equal(t, z.T.reshape(6))
    np.testing.assert_array_equal(g, z.sum(axis=1) > 0)
    assert (s.dtype, t.dtype, g.dtype) == (np.float32, np.float32, np.bool_)


# ---- cond -----------------------------------------------------------------------------------------------------------
def _cond_fn() -> Function:
    def body(b: Builder, x: Value, y: Value) -> list[Value]:
        pred = b.one("gt", b.one("reduce_sum", x, axes=(0,)), const(b, 0.0, np.float32))
        return cond(b, pred, [x, y],
                    lambda b, x, y: [b.one("mul", b.one("sin", x), y), x],
                    lambda b, x, y: [b.one("sub", b.one("neg", x), y), y])
    return function("branchy", [F3, F3], body)


@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["then", "else"])
def test_cond_runs_the_taken_branch_on_captured_values(sign: float) -> None:
    fn = _cond_fn()
    x = (np.abs(rand((3,), seed=3)) * sign).astype(np.float32)
    y = rand((3,), seed=4)
    r0, r1 = run(fn, [x, y])
    if x.sum() > 0:
        np.testing.assert_array_equal(r0, np.sin(x) * y)
        np.testing.assert_array_equal(r1, x)
    else:
        np.testing.assert_array_equal(r0, -x - y)
        np.testing.assert_array_equal(r1, y)


# ---- while_loop -----------------------------------------------------------------------------------------------------
def _sum_below_fn() -> Function:
    """acc = 0; i = 0; while i < n: acc += i * k; i += 1  (carried i, acc; captured n, k)."""
    def body(b: Builder, n: Value, k: Value) -> list[Value]:
        return while_loop(b, [const(b, 0, np.int32), const(b, 0, np.int32)], [n, k],
                          lambda b, i, acc, n, k: [b.one("lt", i, n)],
                          lambda b, i, acc, n, k: [b.one("add", i, const(b, 1, np.int32)),
                                                   b.one("add", acc, b.one("mul", i, k))])
    return function("sum_below", [I, I], body)


@pytest.mark.parametrize("n", [0, 1, 7, 30])
def test_while_loop_matches_python_loop(n: int) -> None:
    i, acc = 0, 0
    while i < n:
        acc += i * 3
        i += 1
    out = run(_sum_below_fn(), [np.int32(n), 3])
    assert [int(v) for v in out] == [i, acc]


def _collatz_fn() -> Function:
    """Counts Collatz steps: a cond (on parity) nested in the while body, capturing the loop's values."""
    def body(b: Builder, x0: Value) -> list[Value]:
        def step(b: Builder, x: Value, steps: Value) -> list[Value]:
            two = const(b, 2, np.int32)
            even = b.one("eq", b.one("mod", x, two), const(b, 0, np.int32))
            (nx,) = cond(b, even, [x, two], lambda b, x, two: [b.one("floordiv", x, two)],
                         lambda b, x, two: [b.one("add", b.one("mul", x, const(b, 3, np.int32)),
                                                  const(b, 1, np.int32))])
            return [nx, b.one("add", steps, const(b, 1, np.int32))]
        return while_loop(b, [x0, const(b, 0, np.int32)], [],
                          lambda b, x, steps: [b.one("gt", x, const(b, 1, np.int32))], step)
    return function("collatz", [I], body)


@pytest.mark.parametrize("x0", [1, 6, 27])
def test_cond_nested_in_while_body(x0: int) -> None:
    x, steps = x0, 0
    while x > 1:
        x = x // 2 if x % 2 == 0 else 3 * x + 1
        steps += 1
    assert [int(v) for v in run(_collatz_fn(), [x0])] == [x, steps]


# ---- Variables and effects ------------------------------------------------------------------------------------------
def test_variables_read_and_assign_through_cells() -> None:
    ref = RefType(float32, (3,))

    def body(b: Builder, v: Value, x: Value) -> list[Value]:
        before = b.one("read", v)
        b.op("assign", [v, b.one("add", before, x)])
        after = b.one("read", v)
        b.op("assign", [v, b.one("mul", after, x)])
        return [before, after]

    fn = function("update", [ref, F3], body)
    start, x = rand((3,), seed=5), rand((3,), seed=6)
    cell = Cell(start.copy())
    before, after = run(fn, [cell, x])
    np.testing.assert_array_equal(before, start)
    np.testing.assert_array_equal(after, start + x)
    np.testing.assert_array_equal(cell.array, (start + x) * x)
    before[:] = 0  # results are copies: writing them leaves the Variable alone
    np.testing.assert_array_equal(cell.array, (start + x) * x)


def test_assign_inside_a_loop_body_updates_the_variable_each_trip() -> None:
    """v += i for i < n, with the reference captured by the loop and passed into its body as a block argument."""
    ref = RefType(int32, ())

    def body(b: Builder, v: Value, n: Value) -> list[Value]:
        def step(b: Builder, i: Value, v: Value, n: Value) -> list[Value]:
            b.op("assign", [v, b.one("add", b.one("read", v), i)])
            return [b.one("add", i, const(b, 1, np.int32))]
        (i,) = while_loop(b, [const(b, 0, np.int32)], [v, n], lambda b, i, v, n: [b.one("lt", i, n)], step)
        return [i, b.one("read", v)]

    fn = function("accumulate", [ref, I], body)
    for n in (0, 1, 5):
        cell = Cell(np.array(10, np.int32))
        total = 10 + sum(range(n))
        assert [int(v) for v in run(fn, [cell, n])] == [n, total]
        assert cell.array.dtype == np.int32 and int(cell.array) == total


def test_print_runs_in_program_order(capsys: pytest.CaptureFixture[str]) -> None:
    def body(b: Builder, x: Value) -> list[Value]:
        b.op("print", [x], {"template": "x={}\n", "stream": "stdout", "summarize": 3})
        y = b.one("neg", x)
        b.op("print", [y, x], {"template": "y={} then {}\n", "stream": "stdout", "summarize": 3})
        return [y]

    run(function("show", [I], body), [4])
    assert capsys.readouterr().out == "x=4\ny=-4 then 4\n"


def test_assert_raises_naming_message_and_op() -> None:
    def body(b: Builder, x: Value) -> list[Value]:
        ok = b.one("gt", x, const(b, 0, np.int32))
        b.op("assert", [ok, x], {"message": "x must be positive", "summarize": 3})
        return [x]

    fn = function("check", [I], body)
    assert int(run(fn, [3])[0]) == 3
    with pytest.raises(InvalidArgumentError, match="x must be positive") as info:
        run(fn, [-2])
    assert "[-2]" in str(info.value)
    assert any("assert" in note for note in getattr(info.value, "__notes__", ["assert"]))


def test_kernel_errors_propagate_with_the_op_named() -> None:
    fn = function("divide", [I, I], lambda b, x, y: [b.one("floordiv", x, y)])
    assert int(run(fn, [7, 2])[0]) == 3
    with pytest.raises(ZeroDivisionError) as info:
        run(fn, [7, 0])
    notes = getattr(info.value, "__notes__", None)
    if notes is not None:
        assert "floordiv %p0, %p1" in notes[0]


# ---- argument and result checking -----------------------------------------------------------------------------------
def test_argument_count_is_checked() -> None:
    fn = function("f", [F3, F3], lambda b, x, y: [b.one("add", x, y)])
    with pytest.raises(TypeError, match="takes 2 argument"):
        run(fn, [np.zeros(3, np.float32)])


def test_argument_dtype_and_shape_are_checked() -> None:
    fn = function("f", [F3], lambda b, x: [b.one("neg", x)])
    with pytest.raises(TypeError, match=r"parameter #0 %p0 of @f expects f32\[3\].*float64"):
        run(fn, [np.zeros(3)])
    with pytest.raises(ValueError, match=r"expects f32\[3\].*shape \(4,\)"):
        run(fn, [np.zeros(4, np.float32)])


def test_python_scalars_adopt_the_param_dtype() -> None:
    fn = function("f", [TensorType(float64, ()), I], lambda b, x, n: [b.one("neg", x), b.one("neg", n)])
    x, n = run(fn, [0.1, 5])
    assert x.dtype == np.float64 and x == -0.1
    assert n.dtype == np.int32 and n == -5
    with pytest.raises(TypeError, match="1.5"):
        run(fn, [0.1, 1.5])


def test_reference_params_need_cells() -> None:
    fn = function("f", [RefType(float32, (3,))], lambda b, v: [b.one("read", v)])
    with pytest.raises(TypeError, match="Cell"):
        run(fn, [np.zeros(3, np.float32)])
    with pytest.raises(TypeError, match="float64"):
        run(fn, [Cell(np.zeros(3))])
    plain = function("g", [F3], lambda b, x: [x])
    with pytest.raises(TypeError, match="Variable reference"):
        run(plain, [Cell(np.zeros(3, np.float32))])


def test_kernel_results_must_match_their_types() -> None:
    """The interpreter is the oracle for codegen, so a kernel that drifts from its row's infer is an error."""
    sloppy = OpDef("sloppy_double", lambda types, **attrs: (types[0],), lambda x: x.astype(np.float64) * 2,
                   NONDIFF, "elementwise")
    fn = function("f", [F3], lambda b, x: [b.op(sloppy, [x])[0]])
    x = np.ones(3, np.float32)
    with pytest.raises(InterpError, match=r"sloppy_double %p0 : f32\[3\]`: the kernel returned float64\[3\]"):
        run(fn, [x])
    out = Interpreter(check_types=False).run(fn, [x])[0]
    assert out.dtype == np.float32 and list(out) == [2, 2, 2]
