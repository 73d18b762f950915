"""Native code (codegen) against its two oracles: the IR interpreter (the rows' numpy kernels) and eager mode.

- the corpus (tests/programs.py): `engine.function` compiled (the default) == `jit_compile=False` (interpreted) ==
  eager, in values, dtypes, shapes, nested structure and the Variables' final values; print output as eager's;
- every row of the op table has a `lower` facet;
- each row compiled alone (built with `ir.core.Builder`, compiled with `codegen.runtime.compile_function`) on
  awkward shapes (scalars, size-0 and size-1 dimensions, rank 4, loop tails), every dtype the row allows, and
  non-contiguous numpy inputs; float rows on NaN, inf, -0.0 and extreme values, compared bit for bit where numpy
  defines the result (and to a few ulps for the vector math);
- integer edge cases (wraparound, INT_MIN // -1, division by zero, negative powers), casts of NaN/inf/out-of-range
  floats, failed asserts and out-of-bounds gathers raising the right exception with the user's line;
- the assembly of a fused elementwise kernel is vector code without libm calls.
"""
from __future__ import annotations

import itertools
import os
import re
import zlib
from typing import Any, Callable, Sequence

import numpy as np
import pytest

import engine
import ir
from codegen.runtime import compile_function
from ir.core import Builder, Function, Value
from ir.interp import run
from ir.types import (ALL_DTYPES, FLOAT_DTYPES, INT_DTYPES, Cell, DType, RefType, TensorType, bool_, float32, float64,
                      from_numpy, int32, int64)
from irbuild import build, cond, while_loop
from programs import PROGRAMS, Program, call, engine_args

# Floats: compiled vs interpreted. The vector math is within a few ulps; sums are reassociated.
# float16/bfloat16 results are rounded from float32 ones: one ulp of theirs (2**-10, 2**-7) when the float32 values
# differ across a rounding boundary.
RTOL = {"float32": 1e-5, "float64": 1e-12, "float16": 2 ** -10, "bfloat16": 2 ** -7}
ATOL = {"float32": 1e-6, "float64": 1e-12, "float16": 1e-4, "bfloat16": 1e-3}


# ---- helpers --------------------------------------------------------------------------------------------------------
def const(b: Builder, value: Any, dtype: Any) -> Value:
    return b.one("constant", value=np.asarray(value, dtype=dtype))


def compiled_and_interpreted(fn: Function, arrays: Sequence[Any]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(compiled results, interpreter results) on the same inputs; the interpreter gets contiguous copies."""
    want = run(fn, [a if isinstance(a, Cell) else np.array(a, copy=True) for a in arrays])
    got = compile_function(fn)(list(arrays))
    return got, want


def _bits(a: np.ndarray) -> np.ndarray:
    return np.asarray(a).view(f"u{a.dtype.itemsize}")


def _where(mask: np.ndarray, inputs: Sequence[np.ndarray]) -> str:
    idx = np.argwhere(mask)[:5]
    rows = []
    inputs = [np.asarray(x) for x in inputs if np.shape(x) in (mask.shape, ())]
    for i in idx:
        ins = [repr(x[tuple(i)].item()) if x.ndim else repr(x.item()) for x in inputs]
        rows.append(f"  at {tuple(int(k) for k in i)} inputs ({', '.join(ins)})")
    return "\n".join(rows)


def assert_same(got: np.ndarray, want: np.ndarray, exact: bool = True, inputs: Sequence[np.ndarray] = (),
                where: str = "", signed_zeros: bool = True) -> None:
    """Same dtype and shape; integers and bools equal; floats bit for bit (NaN anywhere numpy has NaN, any
    payload) when `exact`, else within RTOL/ATOL with the same NaNs, infinities and (if `signed_zeros`) signs of
    zero."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, f"{where}: dtype {got.dtype}, expected {want.dtype}"
    assert got.shape == want.shape, f"{where}: shape {got.shape}, expected {want.shape}"
    if not from_numpy(want.dtype).is_floating:
        bad = got != want
        assert not bad.any(), f"{where}: got {got[bad][:5]}, expected {want[bad][:5]}\n{_where(bad, inputs)}"
        return
    dtname = from_numpy(want.dtype).name
    nan_g, nan_w = np.isnan(got), np.isnan(want)
    bad = nan_g != nan_w
    if exact:
        bad |= ~nan_w & (_bits(got) != _bits(want))
    else:
        with np.errstate(all="ignore"):
            finite = np.isfinite(want)
            got, want = got.astype(np.float64), want.astype(np.float64)
            tol = RTOL[dtname] * np.abs(want) + ATOL[dtname] * (np.abs(want) < 1)
            bad |= finite & ~(np.abs(got - want) <= tol)
            bad |= np.isinf(want) & (got != want)
            if signed_zeros:
                bad |= (want == 0) & (np.signbit(got) != np.signbit(want))
    assert not bad.any(), f"{where}: got {got[bad][:5]}, expected {want[bad][:5]}\n{_where(bad, inputs)}"


# ---- 1. the corpus --------------------------------------------------------------------------------------------------
SEEDS = (0, 1)


def _make(p: Program, k: int) -> tuple[tuple, dict]:
    args = engine_args(p.make_args(np.random.default_rng(zlib.crc32(p.name.encode()) + k)))
    return args, (p.variables() if p.variables is not None else {})


def assert_same_outputs(got: Any, want: Any, where: str = "output", exact: bool = False) -> None:
    """The same nested structure (containers, dict keys, None leaves) and the same tensors."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), f"{where}: {got!r} vs {want!r}"
        for k in want:
            assert_same_outputs(got[k], want[k], f"{where}[{k!r}]", exact)
    elif isinstance(want, (list, tuple)):
        assert type(got) is type(want) and len(got) == len(want), f"{where}: {got!r} vs {want!r}"
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same_outputs(g, w, f"{where}[{i}]", exact)
    elif want is None:
        assert got is None, f"{where}: {got!r}, expected None"
    else:
        assert isinstance(got, engine.Tensor), f"{where}: a {type(got).__name__}, not an engine.Tensor"
        assert_same(got.numpy(), np.asarray(want.numpy()), exact=exact, where=where)


@pytest.mark.parametrize("p", PROGRAMS, ids=lambda p: p.name)
def test_corpus_compiled_matches_interpreter_and_eager(p: Program) -> None:
    compiled, interpreted = engine.function(p.fn), engine.function(p.fn, jit_compile=False)
    for k in SEEDS:
        runs = {}
        for name, f in (("eager", p.fn), ("compiled", compiled), ("interpreted", interpreted)):
            args, variables = _make(p, k)
            runs[name] = (call(p, f, args, variables), {n: v.numpy() for n, v in variables.items()})
        (want, want_vars), (got, got_vars) = runs["interpreted"], runs["compiled"]
        assert_same_outputs(got, want, f"seed {k}: compiled vs interpreted")
        assert_same_outputs(got, runs["eager"][0], f"seed {k}: compiled vs eager")
        for name in want_vars:
            for oracle in (want_vars, runs["eager"][1]):
                assert_same(got_vars[name], oracle[name], exact=False, where=f"seed {k}: Variable {name!r}")
    args, variables = _make(p, 0)
    assert compiled.get_concrete_function(*args, **variables).compiled is not None, "ran natively"
    assert interpreted.get_concrete_function(*args, **variables).compiled is None, "ran on the interpreter"


def _exact_sums(args: Any) -> Any:
    """Float arrays rounded to quarters, so sums are exact whatever their order (compiled reductions reassociate,
    which may change the last digit that print shows)."""
    if isinstance(args, np.ndarray) and args.dtype.kind == "f":
        return np.round(args * 4) / 4
    if isinstance(args, (list, tuple)):
        return type(args)(_exact_sums(a) for a in args)
    return args


@pytest.mark.parametrize("p", [p for p in PROGRAMS if "print" in p.tags], ids=lambda p: p.name)
def test_corpus_print_output_is_eagers(p: Program, capsys: pytest.CaptureFixture) -> None:
    def make() -> tuple:
        return engine_args(_exact_sums(p.make_args(np.random.default_rng(7))))
    call(p, p.fn, make())
    eager_out = capsys.readouterr()
    assert eager_out.err.strip()
    f = engine.function(p.fn)
    for _ in range(2):
        call(p, f, make())
        assert capsys.readouterr() == eager_out
    assert f.get_concrete_function(*make()).compiled is not None


# ---- 2. the table ---------------------------------------------------------------------------------------------------
# `dim` (a run-time size) reaches codegen only once codegen takes run-time sizes (the codegen half of issue 12);
# until then ir.passes.specialize folds every dim op to a constant before code generation.
_LOWERED_WITH_RUN_TIME_SIZES = {"dim"}


def test_every_row_has_a_lower_facet() -> None:
    import codegen.rules  # noqa: F401  (attaches the lower facets)
    missing = [name for name, row in ir.OPS.items() if row.lower is None and name not in _LOWERED_WITH_RUN_TIME_SIZES]
    assert not missing, f"rows without a lower facet: {missing}"


def test_run_time_size_rows_have_a_lower_facet() -> None:
    import codegen.rules  # noqa: F401  (attaches the lower facets)
    assert all(ir.OPS[name].lower is not None for name in _LOWERED_WITH_RUN_TIME_SIZES)


# ---- 3. elementwise rows alone: awkward shapes, every allowed dtype, non-contiguous inputs ---------------------------
ELEMENTWISE = sorted(name for name, row in ir.OPS.items() if row.kind == "elementwise")
# Rows computed with the vector math library (a few ulps); every other float row is exact in IEEE arithmetic.
APPROXIMATE = {"exp", "expm1", "log", "log1p", "sin", "cos", "tanh", "logistic", "erf", "pow", "xlogy"}
AWKWARD_SHAPES = [(), (0,), (1,), (5,), (1, 1), (3, 0, 2), (2, 1, 3, 2), (3, 37)]


def arity(name: str) -> int:
    """How many operands the row takes (found by asking its infer facet)."""
    if name == "select":
        return 3
    t = TensorType(ir.OPS[name].dtypes[0], (2,))
    for n in (1, 2):
        try:
            ir.OPS[name].infer([t] * n, **({"dtype": "float32"} if name == "convert" else {}))
            return n
        except (ir.InferError, TypeError):
            continue
    raise AssertionError(f"cannot tell the arity of {name}")


def operand_values(name: str, dtype: DType, shape: Sequence[int], k: int, rng: np.random.Generator) -> np.ndarray:
    """Inputs in each row's interesting range: divisors nonzero, integer exponents small and non-negative."""
    if dtype is bool_:
        return rng.random(shape) < 0.5
    if dtype.is_floating:
        scale = 40.0 if name in ("floor", "ceil", "round", "floordiv", "mod") else 3.0
        x = rng.standard_normal(shape) * scale
        return x.astype(dtype.np)
    if name == "pow" and k == 1:
        return rng.integers(0, 6, shape).astype(dtype.np)
    x = rng.integers(-50, 50, shape).astype(dtype.np)
    if name in ("floordiv", "mod") and k == 1:
        x[x == 0] = 3
    return x


def flip_row(dtype: DType) -> str:
    """A unary row that changes every value of `dtype` (unsigned integers have no neg, as in TF)."""
    return "logical_not" if dtype is bool_ else "invert" if dtype.is_unsigned else "neg"


def non_contiguous(a: np.ndarray) -> np.ndarray:
    """The same values in a view that is not C-contiguous: Fortran order, or every other element of a buffer."""
    if a.size <= 1:
        return a
    view = np.asfortranarray(a)
    if view.flags.c_contiguous:
        big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
        big[..., ::2] = a
        view = big[..., ::2]
    assert np.array_equal(view, a) and not view.flags.c_contiguous
    return view


def row_cases() -> list[Any]:
    cases = []
    for name in ELEMENTWISE:
        if name == "convert":
            continue
        allowed = ir.OPS[name].dtypes
        for dtype in ALL_DTYPES:
            if dtype in allowed:
                cases.append(pytest.param(name, dtype, id=f"{name}-{dtype.name}"))
    return cases


def _operand_dtypes(name: str, dtype: DType) -> list[DType]:
    return [bool_, dtype, dtype] if name == "select" else [dtype] * arity(name)


@pytest.mark.parametrize("name,dtype", row_cases())
def test_elementwise_row_on_awkward_shapes(name: str, dtype: DType) -> None:
    """One function applies the row to operands of every shape of AWKWARD_SHAPES; the inputs are views that are
    not contiguous."""
    rng = np.random.default_rng(zlib.crc32(f"{name}{dtype.name}".encode()))
    dtypes = _operand_dtypes(name, dtype)
    params = [TensorType(d, s) for s in AWKWARD_SHAPES for d in dtypes]
    arrays = [non_contiguous(operand_values(name, t.dtype, t.shape, k % len(dtypes), rng))
              for k, t in enumerate(params)]

    def body(b: Builder, *xs: Value) -> list[Value]:
        n = len(dtypes)
        return [b.one(name, *xs[i:i + n]) for i in range(0, len(xs), n)]
    got, want = compiled_and_interpreted(build(params, body), arrays)
    n = len(dtypes)
    for i, shape in enumerate(AWKWARD_SHAPES):
        assert_same(got[i], want[i], exact=name not in APPROXIMATE, inputs=arrays[i * n:(i + 1) * n],
                    where=f"{name} {dtype.name}{list(shape)}")


@pytest.mark.parametrize("src", ALL_DTYPES, ids=lambda d: d.name)
def test_convert_between_all_dtypes_on_awkward_shapes(src: DType) -> None:
    rng = np.random.default_rng(3)
    params = [TensorType(src, s) for s in AWKWARD_SHAPES]
    arrays = [non_contiguous(operand_values("convert", src, t.shape, 0, rng))
              for t in params]

    def body(b: Builder, *xs: Value) -> list[Value]:
        return [b.one("convert", x, dtype=dst.name) for dst in ALL_DTYPES for x in xs]
    got, want = compiled_and_interpreted(build(params, body), arrays)
    for i, (dst, shape) in enumerate(itertools.product(ALL_DTYPES, AWKWARD_SHAPES)):
        assert_same(got[i], want[i], inputs=[arrays[i % len(AWKWARD_SHAPES)]],
                    where=f"convert {src.name}{list(shape)} to {dst.name}")


def test_engine_function_on_non_contiguous_numpy_arrays() -> None:
    """numpy views passed straight to an engine.function (not through engine.constant)."""
    def f(a, b, n):
        return engine.where(a > b, a * b, a - b), a @ b, n // 3 + n % 3

    rng = np.random.default_rng(9)
    a = rng.standard_normal((6, 6)).astype(np.float32)
    b = np.asfortranarray(rng.standard_normal((6, 6)).astype(np.float32))
    n = np.arange(-20, 20, dtype=np.int32)[::3]
    views = (a.T, b, n)
    assert not any(v.flags.c_contiguous for v in views)
    compiled, interpreted = engine.function(f), engine.function(f, jit_compile=False)
    got, want = compiled(*views), interpreted(*views)
    eager = f(*[engine.constant(np.ascontiguousarray(v)) for v in views])
    for g, w, e in zip(got, want, eager):
        assert_same(g.numpy(), w.numpy(), exact=False)
        assert_same(g.numpy(), e.numpy(), exact=False)
    assert compiled.get_concrete_function(*views).compiled is not None


# ---- 4. NaN, inf, -0.0 and extremes ----------------------------------------------------------------------------------
def specials(dtype: DType) -> np.ndarray:
    import ml_dtypes
    fi = ml_dtypes.finfo(dtype.np)
    values = [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3.0, -7.0,
              0.1, -0.1, 1e-3, 100.0, -100.0, 88.5, -88.5, 710.0, -745.0, 1e30, -1e30, float(fi.max), -float(fi.max),
              float(fi.tiny), -float(fi.tiny), float(fi.smallest_subnormal), -float(fi.smallest_subnormal),
              1.0 - float(fi.epsneg), 2.0 ** 24 + 2, -(2.0 ** 31), 2.0 ** 31,
              2.0 ** 63, 4.5e15, 255.5, -129.0, 300.0, 65535.9, 2.0 ** 32 - 1]
    with np.errstate(over="ignore"):
        return np.array(values, dtype=np.float64).astype(dtype.np)


def float_row_cases() -> list[Any]:
    return [pytest.param(name, dtype, id=f"{name}-{dtype.name}") for name in ELEMENTWISE
            if name not in ("select", "convert") and float32 in ir.OPS[name].dtypes
            for dtype in FLOAT_DTYPES]


@pytest.mark.parametrize("name,dtype", float_row_cases())
def test_float_row_on_special_values(name: str, dtype: DType) -> None:
    """Unary rows on every special value, binary rows on every pair of them."""
    s = specials(dtype)
    n = arity(name)
    arrays = [s] if n == 1 else [np.repeat(s, s.size), np.tile(s, s.size)]
    params = [TensorType(dtype, a.shape) for a in arrays]
    got, want = compiled_and_interpreted(build(params, lambda b, *xs: [b.one(name, *xs)]), arrays)
    assert_same(got[0], want[0], exact=name not in APPROXIMATE, inputs=arrays, where=f"{name} {dtype.name}")


# codegen/vmath_trig.py reduces x modulo pi/2 with a three-part pi/2, exact while the quotient is an integer of the
# float format; at and beyond these an exact path (the C library's sin and cos) takes over, lane by lane.
TRIG_LIMIT = {"float32": 2.0 ** 24, "float64": 2.0 ** 53, "float16": 2.0 ** 24, "bfloat16": 2.0 ** 24}


@pytest.mark.parametrize("name", ("sin", "cos"))
@pytest.mark.parametrize("dtype", (float32, float64), ids=lambda d: d.name)
def test_sin_cos_of_huge_arguments(name: str, dtype: DType) -> None:
    """Compiled sin/cos equal eager (numpy) beyond the vector path's reduction, next to ordinary arguments."""
    x = np.array([TRIG_LIMIT[dtype.name] * 3 + 1024, 1e30, -1e30, float(np.finfo(dtype.np).max), 0.5,
                  TRIG_LIMIT[dtype.name], -TRIG_LIMIT[dtype.name], 1e20, 3.0, -float(np.finfo(dtype.np).max)] * 4,
                 dtype.np)
    got, want = compiled_and_interpreted(build([TensorType(dtype, x.shape)], lambda b, x: [b.one(name, x)]), [x])
    assert_same(got[0], want[0], exact=False, inputs=[x], where=f"{name} {dtype.name}")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: d.name)
def test_select_and_convert_of_special_values(dtype: DType) -> None:
    """select passes NaN payloads and signed zeros through; casts of NaN, inf and out-of-range floats to integers
    give what numpy gives (the integer minimum on x86), to bool NaN is true."""
    s = specials(dtype)
    mask = np.arange(s.size) % 3 == 0
    params = [TensorType(bool_, s.shape), TensorType(dtype, s.shape), TensorType(dtype, s.shape)]

    def body(b: Builder, c: Value, x: Value, y: Value) -> list[Value]:
        return [b.one("select", c, x, y)] + [b.one("convert", x, dtype=d.name) for d in ALL_DTYPES]
    got, want = compiled_and_interpreted(build(params, body), [mask, s, s[::-1].copy()])
    assert _bits(got[0]).tolist() == _bits(np.where(mask, s, s[::-1])).tolist()
    for g, w, d in zip(got[1:], want[1:], ALL_DTYPES):
        assert_same(g, w, inputs=[s], where=f"convert {dtype.name} to {d.name}")


# ---- 5. integers: wraparound, INT_MIN // -1, division by zero, negative powers ------------------------------------
def int_specials(dtype: DType) -> np.ndarray:
    info = np.iinfo(dtype.np)
    values = [info.min, info.min + 1, -100, -7, -2, -1, 0, 1, 2, 3, 7, 100, info.max // 2 + 1, info.max - 1, info.max]
    return np.array([v for v in dict.fromkeys(values) if info.min <= v <= info.max], dtype.np)


@pytest.mark.parametrize("dtype", INT_DTYPES, ids=lambda d: d.name)
def test_integer_rows_on_extreme_pairs(dtype: DType) -> None:
    """Every pair of extreme values through every integer row: wraparound as numpy (INT_MIN // -1 == INT_MIN,
    INT_MIN % -1 == 0, abs(INT_MIN) == INT_MIN); divisors and exponents where the row defines a result."""
    s = int_specials(dtype)
    x, y = np.repeat(s, s.size), np.tile(s, s.size)
    nonzero = y != 0
    xd, yd = x[nonzero], y[nonzero]
    xp, yp = np.repeat(s, 6), np.tile(np.array([0, 1, 2, 3, 5, 6], dtype.np), s.size)
    binary = [n for n in ELEMENTWISE if arity(n) == 2 and dtype in ir.OPS[n].dtypes]
    unary = [n for n in ELEMENTWISE if arity(n) == 1 and n != "convert" and dtype in ir.OPS[n].dtypes]
    cases = [(n, (xd, yd) if n in ("floordiv", "mod") else (xp, yp) if n == "pow" else (x, y)) for n in binary]
    cases += [(n, (s,)) for n in unary]
    arrays = [a for _, operands in cases for a in operands]

    def body(b: Builder, *xs: Value) -> list[Value]:
        out, k = [], 0
        for name, operands in cases:
            out.append(b.one(name, *xs[k:k + len(operands)]))
            k += len(operands)
        return out
    params = [TensorType(dtype, a.shape) for a in arrays]
    got, want = compiled_and_interpreted(build(params, body), arrays)
    for (name, operands), g, w in zip(cases, got, want):
        assert_same(g, w, inputs=operands, where=f"{name} {dtype.name}")


@pytest.mark.parametrize("name", ("floordiv", "mod"))
@pytest.mark.parametrize("dtype", INT_DTYPES, ids=lambda d: d.name)
def test_integer_division_by_zero_raises(name: str, dtype: DType) -> None:
    t = TensorType(dtype, (4,))
    fn = build([t, t], lambda b, x, y: [b.one(name, x, y)])
    x, y = np.array([5, 6, 7, 8], dtype.np), np.array([1, 2, 0, 3], dtype.np)
    with pytest.raises(ZeroDivisionError):
        run(fn, [x, y])
    cf = compile_function(fn)
    with pytest.raises(ZeroDivisionError, match=f"{name}.*division by zero"):
        cf([x, y])
    y[2] = 3 if dtype.is_unsigned else -3  # the same compiled function keeps working after a failure
    assert_same(cf([x, y])[0], run(fn, [x, y])[0])


def test_integer_division_by_zero_in_a_function_names_the_line() -> None:
    @engine.function
    def f(a, b):
        return a // b  # the failing line

    line = f.python_function.__code__.co_firstlineno + 2
    a, b = engine.constant([7, -7]), engine.constant([2, 0])
    with pytest.raises(ZeroDivisionError, match=f"{os.path.basename(__file__)}:{line}"):
        f(a, b)
    with pytest.raises(ZeroDivisionError):
        a // b  # eager agrees
    np.testing.assert_array_equal(f(a, engine.constant([2, -2])).numpy(), [3, 3])


def test_a_failing_division_raises_before_later_effects(capsys: pytest.CaptureFixture) -> None:
    """Errors keep program order, as in eager mode and the interpreter: a division by zero raises before a print
    that follows it, before an out-of-bounds gather that follows it, and even when its value is only used in a
    branch that is not taken."""
    def f(a, b, i):
        q = a // b
        engine.print("after the division")
        g = engine.gather(a, i)
        return engine.cond(engine.reduce_sum(a) > 100, lambda: q + g, lambda: a)

    a, b, i = engine.constant([1, 2]), engine.constant([1, 0]), engine.constant([0, 5])
    for mode, run_f in (("eager", f), ("interpreted", engine.function(f, jit_compile=False)),
                        ("compiled", engine.function(f))):
        with pytest.raises(ZeroDivisionError):
            run_f(a, b, i)
        assert capsys.readouterr().err == "", f"{mode} printed before raising"


@pytest.mark.parametrize("dtype", (int32, int64), ids=lambda d: d.name)
def test_integer_pow_with_negative_exponent_raises_value_error(dtype: DType) -> None:
    @engine.function
    def f(a, b):
        return a ** b

    a, b = engine.constant(np.array([2, 3, 4], dtype.np)), engine.constant(np.array([1, -2, 0], dtype.np))
    with pytest.raises(ValueError, match="negative integer powers.*-2"):
        f(a, b)
    with pytest.raises(ValueError, match="negative integer powers"):
        a ** b
    assert f.get_concrete_function(a, b).compiled is not None
    np.testing.assert_array_equal(f(a, engine.constant(np.array([1, 2, 0], dtype.np))).numpy(), [2, 9, 1])


# ---- 6. shape rows ---------------------------------------------------------------------------------------------------
def values(dtype: DType, shape: Sequence[int], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype is bool_:
        return rng.random(shape) < 0.5
    if dtype.is_floating:
        return rng.standard_normal(shape).astype(dtype.np)
    return rng.integers(-100, 100, shape).astype(dtype.np)


def check_ops(dtype: DType, cases: Sequence[tuple[Sequence[int], Callable[[Builder, Value], Value]]],
              what: str, lazy: bool = True) -> None:
    """Each case is (input shape, op applied to the input); all cases in one compiled function. The input of each
    op arrives as a (non-contiguous) buffer, and, when `lazy`, a second time as a fused expression (`neg` or
    `logical_not` of it) so the op also reads a Lazy operand."""
    shapes = [s for s, _ in cases]
    arrays = [non_contiguous(values(dtype, s, seed=i)) for i, s in enumerate(shapes)]
    flip = flip_row(dtype)

    def body(b: Builder, *xs: Value) -> list[Value]:
        out = [op(b, x) for (_, op), x in zip(cases, xs)]
        if lazy:
            out += [op(b, b.one(flip, x)) for (_, op), x in zip(cases, xs)]
        return out
    got, want = compiled_and_interpreted(build([TensorType(dtype, s) for s in shapes], body), arrays)
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        assert_same(g, w, where=f"{what} {dtype.name} case {k % len(cases)}{' (fused)' if k >= len(cases) else ''}")


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
def test_broadcast_reshape_transpose(dtype: DType) -> None:
    def bcast(shape: Sequence[int]) -> Callable[[Builder, Value], Value]:
        return lambda b, x: b.one("broadcast_to", x, shape=tuple(shape))

    def reshape(shape: Sequence[int]) -> Callable[[Builder, Value], Value]:
        return lambda b, x: b.one("reshape", x, shape=tuple(shape))

    def transpose(perm: Sequence[int]) -> Callable[[Builder, Value], Value]:
        return lambda b, x: b.one("transpose", x, perm=tuple(perm))
    check_ops(dtype, [
        ((), bcast((2, 3))), ((), bcast(())), ((1,), bcast((0,))), ((3, 1), bcast((2, 3, 4))),
        ((1, 1, 1, 1), bcast((2, 1, 3, 2))), ((4,), bcast((1, 4))), ((2, 1, 3), bcast((2, 5, 3))),
        ((2, 3), reshape((3, 2))), ((6,), reshape((1, 2, 1, 3))), ((), reshape((1, 1))), ((1, 1), reshape(())),
        ((0, 3), reshape((3, 0))), ((2, 3, 4), reshape((24,))),
        ((), transpose(())), ((2, 3, 4, 5), transpose((3, 1, 0, 2))), ((0, 3), transpose((1, 0))),
        ((1, 4), transpose((1, 0))),
    ], "broadcast/reshape/transpose")


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
def test_slices_with_negative_strides(dtype: DType) -> None:
    def sl(begin: Sequence[int], end: Sequence[int], strides: Sequence[int]) -> Callable[[Builder, Value], Value]:
        return lambda b, x: b.one("slice", x, begin=tuple(begin), end=tuple(end), strides=tuple(strides))
    check_ops(dtype, [
        ((7,), sl([6], [-1], [-1])), ((7,), sl([5], [0], [-2])), ((7,), sl([1], [7], [3])), ((7,), sl([3], [3], [1])),
        ((4, 5, 6), sl([3, 1, 5], [-1, 5, 0], [-1, 2, -3])), ((4, 5, 6), sl([0, 4, 0], [4, -1, 6], [2, -4, 1])),
        ((2, 1, 3, 2), sl([1, 0, 2, 0], [-1, 1, -1, 2], [-1, 1, -2, 1])), ((3, 0), sl([2, 0], [-1, 0], [-1, 1])),
        ((5,), sl([4], [-1], [-7])),
    ], "slice")


def test_slice_starting_past_the_end_with_a_negative_stride_is_refused() -> None:
    with pytest.raises((ir.InferError, TypeError)):
        build([TensorType(float32, (5,))], lambda b, x: [b.one("slice", x, begin=(5,), end=(-1,), strides=(-1,))])


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
def test_concat_pad_iota(dtype: DType) -> None:
    pad_value = True if dtype is bool_ else -1.5 if dtype.is_floating else 7 if dtype.is_unsigned else -7
    shapes = [(2, 3), (0, 3), (1, 3), (2, 0), (2, 2), (3,), (0,), ()]
    arrays = [non_contiguous(values(dtype, s, seed=i)) for i, s in enumerate(shapes)]

    def body(b: Builder, a: Value, e0: Value, r1: Value, e1: Value, c2: Value, v: Value, ve: Value,
             s: Value) -> list[Value]:
        return [b.one("concat", a, e0, r1, axis=0), b.one("concat", a, e1, c2, axis=1),
                b.one("concat", v, ve, v, axis=0), b.one("concat", e0, e0, axis=0), b.one("concat", v, axis=0),
                b.one("pad", a, paddings=((1, 0), (0, 2)), value=pad_value),
                b.one("pad", e0, paddings=((2, 1), (0, 0)), value=pad_value),
                b.one("pad", s, paddings=(), value=pad_value),
                b.one("pad", b.one(flip_row(dtype), v), paddings=((3, 4),),
                      value=pad_value),
                *iotas(b, dtype)]
    got, want = compiled_and_interpreted(build([TensorType(dtype, s) for s in shapes], body), arrays)
    for k, (g, w) in enumerate(zip(got, want)):
        assert_same(g, w, where=f"concat/pad/iota {dtype.name} result {k}")


def iotas(b: Builder, dtype: DType) -> list[Value]:
    if dtype is bool_:  # see test_bool_iota
        return [b.one("iota", shape=(2, 3), dtype="bool", axis=0), b.one("iota", shape=(), dtype="bool", axis=0)]
    return [b.one("iota", shape=(3, 4), dtype=dtype.name, axis=1),
            b.one("iota", shape=(2, 0), dtype=dtype.name, axis=0), b.one("iota", shape=(), dtype=dtype.name, axis=0),
            b.one("iota", shape=(2, 1, 3, 2), dtype=dtype.name, axis=2)]


def test_bool_iota() -> None:
    got, want = compiled_and_interpreted(build([], lambda b: [b.one("iota", shape=(4,), dtype="bool", axis=0)]), [])
    assert_same(got[0], want[0])


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
def test_constants(dtype: DType) -> None:
    """Splats, tables, signed zeros and NaNs among other values, empty and scalar constants."""
    table = values(dtype, (3, 4), seed=5)
    consts = [table, np.full((2, 3), table.flat[0]), np.zeros((0, 2), dtype.np), np.asarray(table.flat[1])]
    if dtype.is_floating:
        consts += [np.array([0.0, -0.0, 0.0], dtype.np), np.array([np.nan, 1.0, np.nan], dtype.np),
                   np.array([-0.0, -0.0], dtype.np), np.full((2, 2), np.nan, dtype.np)]
    got, want = compiled_and_interpreted(build([], lambda b: [b.one("constant", value=c) for c in consts]), [])
    for k, (g, w, c) in enumerate(zip(got, want, consts)):
        assert_same(g, w, where=f"constant {k}")
        assert_same(g, c, where=f"constant {k}")


@pytest.mark.parametrize("index_dtype", (int32, int64), ids=lambda d: d.name)
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
def test_gather_and_scatter_add(dtype: DType, index_dtype: DType) -> None:
    cases = [((5,), (), 0), ((5,), (7,), 0), ((3, 4), (2, 3), 1), ((3, 4, 2), (0,), 1), ((2, 3, 4), (4,), 2),
             ((1, 6), (2, 2, 2), 1), ((4, 1), (3,), 0)]
    rng = np.random.default_rng(11)
    arrays, params = [], []
    for shape, ishape, axis in cases:
        arrays += [non_contiguous(values(dtype, shape)), rng.integers(0, shape[axis], ishape).astype(index_dtype.np)]
        params += [TensorType(dtype, shape), TensorType(index_dtype, ishape)]

    def body(b: Builder, *xs: Value) -> list[Value]:
        out = []
        for k, (shape, ishape, axis) in enumerate(cases):
            g = b.one("gather", xs[2 * k], xs[2 * k + 1], axis=axis)
            out.append(g)
            out.append(b.one("scatter_add", g, xs[2 * k + 1], axis=axis, size=shape[axis]))
        return out
    got, want = compiled_and_interpreted(build(params, body), arrays)
    for k, (g, w) in enumerate(zip(got, want)):
        assert_same(g, w, exact=False, where=f"gather/scatter_add {dtype.name} result {k}")


# ---- 7. reductions and matmul ----------------------------------------------------------------------------------------
REDUCTIONS = ("reduce_sum", "reduce_prod", "reduce_max", "reduce_min")
NUMERIC = (float32, float64, int32, int64)


def axis_subsets(rank: int) -> list[tuple[int, ...]]:
    """Every subset of the axes up to rank 3; for rank 4 (to keep compile time down) the kinds that matter:
    none, all, trailing, leading, inner, and gaps."""
    if rank == 4:
        return [(), (2, 3), (0, 1, 2, 3), (0,), (1, 2), (0, 3)]
    return [axes for r in range(rank + 1) for axes in itertools.combinations(range(rank), r)]


@pytest.mark.parametrize("shape", [(), (7,), (0,), (2, 0, 3), (1, 1, 1, 1), (3, 4, 1, 5), (2, 33)], ids=str)
@pytest.mark.parametrize("dtype", NUMERIC, ids=lambda d: d.name)
def test_reductions_over_every_axis_subset(dtype: DType, shape: tuple) -> None:
    """Every reduction over every subset of axes (trailing ones accumulate in a register, others in memory), of
    a buffer and of a fused expression; argmax/argmin over every non-empty axis, both index dtypes."""
    x = non_contiguous(values(dtype, shape, seed=len(shape)) if not dtype.is_integer else
                       np.random.default_rng(2).integers(-3, 4, shape).astype(dtype.np))

    def body(b: Builder, x: Value) -> list[Value]:
        out = []
        for operand in (x, b.one("mul", x, x)):
            out += [b.one(name, operand, axes=axes) for name in REDUCTIONS for axes in axis_subsets(len(shape))]
        for axis in range(len(shape)):
            if shape[axis]:
                out += [b.one(name, x, axis=axis, output_type=t) for name in ("argmax", "argmin") for t in ("int32",
                                                                                                         "int64")]
        return out
    got, want = compiled_and_interpreted(build([TensorType(dtype, shape)], body), [x])
    for k, (g, w) in enumerate(zip(got, want)):
        assert_same(g, w, exact=False, where=f"{dtype.name}{list(shape)} result {k}")


@pytest.mark.parametrize("dtype", (float32, float64), ids=lambda d: d.name)
def test_reductions_of_special_values(dtype: DType) -> None:
    """Rows of NaN, inf, -inf, signed zeros: max/min propagate NaN, argmax/argmin skip it (as TensorFlow), sums
    of -0.0 are -0.0, inf - inf is NaN, empty sums are +0.0 and empty max -inf."""
    nan, inf = np.nan, np.inf
    rows = np.array([[1.0, nan, 3.0, nan], [-inf, -inf, -inf, -inf], [inf, -inf, 1.0, 2.0], [-0.0, -0.0, -0.0, -0.0],
                     [0.0, -0.0, -0.0, 0.0], [2.0, 5.0, 5.0, -1.0], [-0.0, 0.0, -0.0, -0.0], [1e38, 1e38, 1e38, 1e38]],
                    dtype.np)

    names = [name for name in REDUCTIONS for _ in range(2)] + list(REDUCTIONS) + ["argmax", "argmin"]

    def body(b: Builder, x: Value, e: Value) -> list[Value]:
        out = [b.one(name, v, axes=(1,)) for name in REDUCTIONS for v in (x, e)]
        out += [b.one(name, x, axes=(0,)) for name in REDUCTIONS]
        return out + [b.one(name, x, axis=1, output_type="int64") for name in ("argmax", "argmin")]
    empty = np.zeros((3, 0), dtype.np)
    got, want = compiled_and_interpreted(build([TensorType(dtype, rows.shape), TensorType(dtype, (3, 0))], body),
                                         [rows, empty])
    for name, g, w in zip(names, got, want):
        # Which zero max/min return among tied 0.0 and -0.0 depends on the order of the reduction (numpy's is the
        # last tied element; the compiled one vectorizes), so only their value is pinned.
        assert_same(g, w, exact=False, inputs=[rows], where=f"{name} {dtype.name}",
                    signed_zeros=name not in ("reduce_max", "reduce_min"))


MATMUL_SHAPES = [((3, 4), (4, 5)), ((1, 1), (1, 1)), ((2, 0), (0, 3)), ((0, 3), (3, 2)), ((2, 3), (3, 0)),
                 ((2, 3, 1, 4), (2, 3, 4, 2)), ((2, 0, 3), (2, 3, 4)), ((3, 17, 9), (3, 9, 33)),
                 # columns a multiple of the vector width: the generated register-blocked kernel (not BLAS)
                 ((5, 7), (7, 32)), ((8, 1), (1, 16)), ((2, 9, 3), (2, 3, 48)), ((33, 64), (64, 64))]


@pytest.mark.parametrize("dtype", NUMERIC, ids=lambda d: d.name)
def test_matmul_shapes_and_transposes(dtype: DType) -> None:
    """Batched, size-0 and size-1 dimensions, all four transpose combinations, buffer and fused operands. Integer
    products wrap around as numpy's do."""
    cases, arrays = [], []
    shapes = MATMUL_SHAPES if dtype.is_floating else MATMUL_SHAPES[:8]  # the vector kernel is for floats only
    for k, (sa, sb) in enumerate(shapes):
        for ta, tb in itertools.product((False, True), repeat=2):
            a_shape = sa[:-2] + (sa[-1], sa[-2]) if ta else sa
            b_shape = sb[:-2] + (sb[-1], sb[-2]) if tb else sb
            arrays += [non_contiguous(values(dtype, a_shape, seed=k)),
                       non_contiguous(values(dtype, b_shape, seed=k + 1))]
            cases.append((ta, tb))
    if dtype.is_integer:
        arrays[0] = arrays[0] * dtype.np.type(np.iinfo(dtype.np).max // 7)

    def body(b: Builder, *xs: Value) -> list[Value]:
        out = []
        for k, (ta, tb) in enumerate(cases):
            a, bb = xs[2 * k], xs[2 * k + 1]
            out.append(b.one("matmul", a, bb, transpose_a=ta, transpose_b=tb))
            out.append(b.one("matmul", b.one("neg", a), b.one("add", bb, bb), transpose_a=ta, transpose_b=tb))
        return out
    fn = build([TensorType(dtype, a.shape) for a in arrays], body)
    got, want = compiled_and_interpreted(fn, arrays)
    # A float dot product of k terms is within k ulps of sum(|a_i b_i|) either way; the same function on |inputs|
    # gives that sum (negated for the second product of each case).
    bounds = run(fn, [np.abs(a) for a in arrays])
    for k, (g, w, bound) in enumerate(zip(got, want, bounds)):
        where = f"matmul {dtype.name} case {k // 2} {cases[k // 2]}"
        if dtype.is_integer:
            assert_same(g, w, where=where)
            continue
        assert g.dtype == w.dtype and g.shape == w.shape, where
        worst = np.max(np.abs(g - w) / np.maximum(np.abs(bound), np.finfo(dtype.np).tiny), initial=0)
        assert worst <= 2 * 64 * np.finfo(dtype.np).eps, f"{where}: off by {worst} of sum |a_i b_i|"


# ---- 8. state and effects -----------------------------------------------------------------------------------------
def test_variable_reads_assigns_and_snapshots() -> None:
    """A read before an assign keeps the old value; assigns inside both cond branches and a while body; the Cells
    of assigned Variables get the final arrays, as the interpreter leaves them; a Variable only read is unchanged."""
    def assign_and_read(b: Builder, ref: Value, v: Value) -> Value:
        b.op("assign", [ref, v])
        return b.one("read", ref)

    def loop_body(b: Builder, i: Value, w: Value, c: Value, one: Value) -> list[Value]:
        b.op("assign", [w, b.one("mul", b.one("read", w), const(b, np.full((2, 3), 0.5), np.float32))])
        b.op("assign", [c, b.one("add", b.one("read", c), one)])
        return [b.one("add", i, one)]

    def body(b: Builder, x: Value, w: Value, c: Value, r: Value) -> list[Value]:
        before = b.one("read", w)
        after = assign_and_read(b, w, b.one("add", before, x))
        n = b.one("read", c)
        (in_cond,) = cond(b, b.one("gt", n, const(b, 2, np.int64)), [w, x],
                          lambda bb, w, x: [assign_and_read(bb, w, bb.one("mul", x, x))],
                          lambda bb, w, x: [assign_and_read(bb, w, bb.one("neg", x))])
        (trips,) = while_loop(b, [n], [w, c, const(b, 1, np.int64)],
                              lambda bb, i, w, c, one: [bb.one("lt", i, const(bb, 6, np.int64))], loop_body)
        return [before, after, in_cond, b.one("read", w), trips, b.one("read", c), b.one("read", r)]
    fn = build([TensorType(float32, (2, 3)), RefType(float32, (2, 3)), RefType(int64, ()), RefType(float64, (4,))],
               body)
    cf = compile_function(fn)
    x = values(float32, (2, 3), seed=1)
    for start in (0, 4):
        initial = [np.arange(6, dtype=np.float32).reshape(2, 3), np.asarray(start, np.int64), values(float64, (4,))]
        want_cells = [Cell(a.copy()) for a in initial]
        want = run(fn, [x] + want_cells)
        cells = [Cell(a.copy()) for a in initial]
        got = cf([x] + cells)
        for k, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, where=f"start {start} result {k}")
        for k, (g, w) in enumerate(zip(cells, want_cells)):
            assert_same(g.array, w.array, where=f"start {start} Variable {k}")
        assert_same(cells[2].array, initial[2], where="a Variable only read")


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
def test_variables_of_every_dtype_and_awkward_shape(dtype: DType) -> None:
    """Each Variable is read, assigned a function of its old value and of an input, and read again."""
    shapes = [(), (0,), (1,), (2, 1, 3, 2), (3, 37)]
    flip = flip_row(dtype)

    def body(b: Builder, *xs: Value) -> list[Value]:
        out = []
        for x, ref in zip(xs[:len(shapes)], xs[len(shapes):]):
            old = b.one("read", ref)
            b.op("assign", [ref, b.one("select", b.one("eq", old, x), b.one(flip, x), old)])
            out += [old, b.one("read", ref)]
        return out
    params = [TensorType(dtype, s) for s in shapes] + [RefType(dtype, s) for s in shapes]
    fn = build(params, body)
    xs = [non_contiguous(values(dtype, s, seed=1)) for s in shapes]
    initial = [np.where(np.arange(int(np.prod(s))).reshape(s) % 2 == 0, x, values(dtype, s, seed=2)) for s, x in
               zip(shapes, xs)]
    want_cells, cells = [Cell(a.copy()) for a in initial], [Cell(a.copy()) for a in initial]
    want = run(fn, [np.array(x, order="C") for x in xs] + want_cells)
    got = compile_function(fn)(xs + cells)
    for k, (g, w) in enumerate(zip(got, want)):
        assert_same(g, w, where=f"result {k}")
    for k, (g, w) in enumerate(zip(cells, want_cells)):
        assert_same(g.array, w.array, where=f"Variable {k}")


def test_print_of_every_dtype_writes_the_interpreters_text(capsys: pytest.CaptureFixture) -> None:
    """Both streams, summarize, braces in the template, scalars, rank-3 tensors, bools, fused values, prints
    inside a loop: the compiled function writes what the interpreter writes, on every call."""
    params = [TensorType(d, s) for d, s in [(float32, (3,)), (float64, ()), (int64, (2,)), (bool_, (2, 2)),
                                            (int32, (2, 3, 9)), (float32, ())]]

    def body(b: Builder, f: Value, d: Value, e: Value, m: Value, big: Value, s: Value) -> list[Value]:
        b.op("print", [f, d, e], {"template": "f={} d={} {{e}}={}\n", "stream": "stderr", "summarize": 3})
        b.op("print", [m, big, b.one("neg", f)], {"template": "{} | {} | {}!", "stream": "stdout", "summarize": 2})
        b.op("print", [big, s], {"template": "all {} {}\n", "stream": "stdout", "summarize": -1})

        def step(bb: Builder, i: Value, f: Value) -> list[Value]:
            bb.op("print", [i, f], {"template": "step {} {}\n", "stream": "stderr", "summarize": 3})
            return [bb.one("add", i, const(bb, 1, np.int32)), bb.one("mul", f, f)]
        return while_loop(b, [const(b, 0, np.int32), f], [],
                          lambda bb, i, f: [bb.one("lt", i, const(bb, 3, np.int32))], step)
    fn = build(params, body)
    arrays = [np.array([0.1, -2.5, 1e-8], np.float32), np.asarray(np.pi), np.array([-2 ** 40, 7], np.int64),
              np.array([[True, False], [False, True]]), np.arange(54, dtype=np.int32).reshape(2, 3, 9) - 20,
              np.float32(1 / 3)]
    want = run(fn, arrays)
    expected = capsys.readouterr()
    assert "step 2" in expected.err and "all" in expected.out
    cf = compile_function(fn)
    for _ in range(2):
        got = cf(arrays)
        assert capsys.readouterr() == expected
        for g, w in zip(got, want):
            assert_same(g, w)


def test_print_of_an_empty_tensor(capsys: pytest.CaptureFixture) -> None:
    fn = build([TensorType(int64, (2, 0))], lambda b, e: b.op("print", [e], {"template": "e={}\n", "stream": "stderr",
                                                                            "summarize": 3}) + [e])
    run(fn, [np.zeros((2, 0), np.int64)])
    expected = capsys.readouterr().err
    assert expected == "e=[\n ...]\n"  # TF 2.21's text for a (2, 0) tensor
    compile_function(fn)([np.zeros((2, 0), np.int64)])
    assert capsys.readouterr().err == expected


def test_failed_assert_raises_invalid_argument_error_with_the_interpreters_message() -> None:
    def body(b: Builder, x: Value, limit: Value) -> list[Value]:
        ok = b.one("lt", x, b.one("broadcast_to", limit, shape=(2, 3)))
        b.op("assert", [ok, x, limit], {"message": "x must stay below the limit", "summarize": 2})
        return [b.one("mul", x, x)]
    fn = build([TensorType(float32, (2, 3)), TensorType(float32, ())], body)
    cf = compile_function(fn)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    with pytest.raises(engine.InvalidArgumentError) as want:
        run(fn, [x, np.float32(4.5)])
    for _ in range(2):
        with pytest.raises(engine.InvalidArgumentError) as got:
            cf([x, np.float32(4.5)])
        assert str(got.value) == str(want.value)
    assert "x must stay below the limit" in str(want.value)
    assert_same(cf([x, np.float32(6)])[0], x * x)


def test_assert_in_a_function_raises_invalid_argument_error_as_eager() -> None:
    @engine.function
    def f(x):
        engine.debugging.assert_less(x, 3.0, message="too big")
        return x + 1.0

    ok, bad = engine.constant([1.0, 2.0]), engine.constant([1.0, 5.0])
    np.testing.assert_array_equal(f(ok).numpy(), [2.0, 3.0])
    with pytest.raises(engine.InvalidArgumentError) as eager:
        f.python_function(bad)
    with pytest.raises(engine.InvalidArgumentError) as compiled:
        f(bad)
    assert str(compiled.value) == str(eager.value)
    assert f.get_concrete_function(ok).compiled is not None


@pytest.mark.parametrize("dtype", (float32, float64), ids=lambda d: d.name)
def test_random_uniform_is_the_interpreters_stream(dtype: DType) -> None:
    """Bit for bit, for seeds and offsets with high bits set and a block counter that carries into its high word."""
    shapes = [(), (0,), (5,), (3, 7), (2, 1, 3, 2)]

    def body(b: Builder, seed: Value, offset: Value) -> list[Value]:
        return [b.one("random_uniform", seed, offset, shape=s, dtype=dtype.name) for s in shapes]
    fn = build([TensorType(int64, ()), TensorType(int64, ())], body)
    cf = compile_function(fn)
    for seed, offset in [(0, 0), (42, 7), (-1, 2 ** 32 - 3), (2 ** 62 + 12345, 2 ** 40 + 1)]:
        arrays = [np.asarray(seed, np.int64), np.asarray(offset, np.int64)]
        for k, (g, w) in enumerate(zip(cf(arrays), run(fn, arrays))):
            assert_same(g, w, where=f"seed {seed} offset {offset} shape {shapes[k]}")


def gather_rows(params: Any, indices: Any) -> Any:
    return engine.gather(params, indices)  # GATHER_LINE


GATHER_LINE = gather_rows.__code__.co_firstlineno + 1


def test_out_of_bounds_gather_raises_index_error_naming_the_users_line() -> None:
    f = engine.function(gather_rows)
    params = engine.constant(np.arange(12, dtype=np.float32).reshape(4, 3))
    np.testing.assert_array_equal(f(params, engine.constant([3, 0])).numpy(), params.numpy()[[3, 0]])
    for bad in ([1, 4], [-1, 0], [0, 2 ** 31 - 1]):
        with pytest.raises(IndexError, match=f"index {bad[0] if bad[0] < 0 else bad[1]} is out of bounds") as e:
            f(params, engine.constant(bad))
        assert f"{os.path.basename(__file__)}:{GATHER_LINE}" in str(e.value)
        with pytest.raises(IndexError):
            gather_rows(params, engine.constant(bad))  # eager agrees
    assert f.get_concrete_function(params, engine.constant([3, 0])).compiled is not None


# ---- 9. the machine code --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("view", ["transpose", "slice", "broadcast_to", "gather"])
def test_views_of_expressions_are_not_recomputed_per_use(view: str) -> None:
    """`x = f(view(x), view(x))` repeated: a view of an expression is only as cheap as the expression, so a view
    used twice is materialized; recomputing it per use would make the lowered code (and compile time) double with
    every layer. The lowered module of 12 layers is about twice that of 6."""
    from codegen.lower import lower_function

    def views(b: Builder, x: Value) -> Value:
        if view == "transpose":
            return b.one("transpose", x, perm=(1, 0))
        if view == "slice":
            return b.one("slice", x, begin=(2, 0), end=(-1, 3), strides=(-1, 1))
        if view == "broadcast_to":
            return b.one("broadcast_to", x, shape=(3, 3))
        return b.one("gather", x, const(b, [2, 0, 1], np.int32), axis=0)

    def layers(n: int) -> Function:
        def body(b: Builder, x: Value) -> list[Value]:
            for _ in range(n):
                v = views(b, x)
                x = b.one("mul", b.one("exp", v), v)
            return [x]
        return build([TensorType(float32, (3, 3))], body)
    sizes = {n: len(str(lower_function(layers(n)).module)) for n in (6, 12)}
    assert sizes[12] < 3 * sizes[6], sizes
    x = values(float32, (3, 3)) / 4
    got, want = compiled_and_interpreted(layers(6), [x])
    assert_same(got[0], want[0], exact=False)


def test_fused_elementwise_kernel_is_vector_code_without_libm_calls() -> None:
    @engine.function
    def f(x):
        return engine.tanh(x * 1.5 + 0.25) * engine.exp(-x * x)

    x = engine.constant(np.linspace(-4, 4, 4096, dtype=np.float32))
    cf = f.get_concrete_function(x)
    asm = cf.asm
    assert re.search(r"%[yz]mm\d+", asm), "vector registers"
    for libm in ("expf", "tanhf", "exp", "tanh"):
        assert not re.search(rf"\b{libm}\b", asm), f"a call to libm's {libm}"
    interpreted = engine.function(f.python_function, jit_compile=False)
    assert_same(f(x).numpy(), interpreted(x).numpy(), exact=False)
    assert_same(f(x).numpy(), f.python_function(x).numpy(), exact=False)
