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
from typing import Any, Callable, Optional, Sequence

import numpy as np
import pytest

import engine
import ir
from codegen.runtime import compile_function
from ir.core import Block, Builder, Function, Value
from ir.interp import run
from ir.types import ALL_DTYPES, Cell, DType, RefType, TensorType, bool_, float32, float64, int32, int64
from ir.verify import verify
from programs import PROGRAMS, Program, call, engine_args

# Floats: compiled vs interpreted. The vector math is within a few ulps; sums are reassociated.
RTOL = {"float32": 1e-5, "float64": 1e-12}
ATOL = {"float32": 1e-6, "float64": 1e-12}


# ---- helpers --------------------------------------------------------------------------------------------------------
def build(params: Sequence[TensorType], body: Callable[..., Sequence[Value]], name: str = "f") -> Function:
    args = [Value(t, f"p{i}") for i, t in enumerate(params)]
    b = Builder(Block(args))
    b.op("return", list(body(b, *args)))
    fn = Function(name, b.block)
    verify(fn)
    return fn


def compiled_and_interpreted(fn: Function, arrays: Sequence[Any]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(compiled results, interpreter results) on the same inputs; the interpreter gets contiguous copies."""
    want = run(fn, [a if isinstance(a, Cell) else np.array(a, copy=True) for a in arrays])
    got = compile_function(fn)(list(arrays))
    return got, want


def _bits(a: np.ndarray) -> np.ndarray:
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


def _where(mask: np.ndarray, inputs: Sequence[np.ndarray]) -> str:
    idx = np.argwhere(mask)[:5]
    rows = []
    for i in idx:
        ins = [repr(np.asarray(x)[tuple(i)].item()) if np.ndim(x) else repr(np.asarray(x).item()) for x in inputs]
        rows.append(f"  at {tuple(int(k) for k in i)} inputs ({', '.join(ins)})")
    return "\n".join(rows)


def assert_same(got: np.ndarray, want: np.ndarray, exact: bool = True, inputs: Sequence[np.ndarray] = (),
                where: str = "") -> None:
    """Same dtype and shape; integers and bools equal; floats bit for bit (NaN anywhere numpy has NaN, any
    payload) when `exact`, else within RTOL/ATOL with the same NaNs, infinities and signs of zero."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, f"{where}: dtype {got.dtype}, expected {want.dtype}"
    assert got.shape == want.shape, f"{where}: shape {got.shape}, expected {want.shape}"
    if want.dtype.kind != "f":
        bad = got != want
        assert not bad.any(), f"{where}: got {got[bad][:5]}, expected {want[bad][:5]}\n{_where(bad, inputs)}"
        return
    nan_g, nan_w = np.isnan(got), np.isnan(want)
    bad = nan_g != nan_w
    if exact:
        bad |= ~nan_w & (_bits(got) != _bits(want))
    else:
        with np.errstate(all="ignore"):
            finite = np.isfinite(want)
            tol = RTOL[want.dtype.name] * np.abs(want) + ATOL[want.dtype.name] * (np.abs(want) < 1)
            bad |= finite & ~(np.abs(got - want) <= tol)
            bad |= np.isinf(want) & (got != want)
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
def test_every_row_has_a_lower_facet() -> None:
    import codegen.rules  # noqa: F401
    missing = [name for name, row in ir.OPS.items() if row.lower is None]
    assert not missing, f"rows without a lower facet: {missing}"


# ---- 3. elementwise rows alone: awkward shapes, every allowed dtype, non-contiguous inputs ---------------------------
ELEMENTWISE = sorted(name for name, row in ir.OPS.items() if row.kind == "elementwise")
# Rows computed with the vector math library (a few ulps); every other float row is exact in IEEE arithmetic.
APPROXIMATE = {"exp", "expm1", "log", "log1p", "sin", "cos", "tanh", "logistic", "erf", "pow"}
AWKWARD_SHAPES = [(), (0,), (1,), (5,), (1, 1), (3, 0, 2), (2, 1, 3, 2), (3, 37)]


def arity(name: str) -> int:
    """How many operands the row takes (found by asking its infer facet)."""
    if name == "select":
        return 3
    t = TensorType(ir.OPS[name].extra["dtypes"][0], (2,))
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


def non_contiguous(a: np.ndarray) -> np.ndarray:
    """The same values in a view that is not C-contiguous (a transpose, or every other element)."""
    if a.ndim >= 2:
        view = np.ascontiguousarray(np.swapaxes(a, 0, -1)).swapaxes(0, -1)
    elif a.ndim == 1:
        view = np.repeat(a, 2)[::2]
    else:
        return a
    assert np.array_equal(view, a) and (view.size <= 1 or not view.flags.c_contiguous or a.size == 0)
    return view


def row_cases() -> list[Any]:
    cases = []
    for name in ELEMENTWISE:
        if name == "convert":
            continue
        allowed = ir.OPS[name].extra["dtypes"]
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


# ---- 4. NaN, inf, -0.0 and extremes -----------------------------------------------------------------------------------
def specials(dtype: DType) -> np.ndarray:
    fi = np.finfo(dtype.np)
    values = [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3.0, -7.0,
              0.1, -0.1, 1e-3, 100.0, -100.0, 88.5, -88.5, 710.0, -745.0, 1e30, -1e30, float(fi.max), -float(fi.max),
              float(fi.tiny), -float(fi.tiny), float(fi.smallest_subnormal), -float(fi.smallest_subnormal),
              float(np.nextafter(dtype.np.type(1), dtype.np.type(0))), 2.0 ** 24 + 2, -(2.0 ** 31), 2.0 ** 31,
              2.0 ** 63, 4.5e15]
    with np.errstate(over="ignore"):
        return np.array(values, dtype=dtype.np)


def float_row_cases() -> list[Any]:
    return [pytest.param(name, dtype, id=f"{name}-{dtype.name}") for name in ELEMENTWISE
            if name not in ("select", "convert") and float32 in ir.OPS[name].extra["dtypes"]
            for dtype in (float32, float64)]


@pytest.mark.parametrize("name,dtype", float_row_cases())
def test_float_row_on_special_values(name: str, dtype: DType) -> None:
    """Unary rows on every special value, binary rows on every pair of them."""
    s = specials(dtype)
    if name in ("sin", "cos"):
        s = s[~(np.abs(s) >= TRIG_LIMIT[dtype.name])]
    n = arity(name)
    arrays = [s] if n == 1 else [np.repeat(s, s.size), np.tile(s, s.size)]
    params = [TensorType(dtype, a.shape) for a in arrays]
    got, want = compiled_and_interpreted(build(params, lambda b, *xs: [b.one(name, *xs)]), arrays)
    assert_same(got[0], want[0], exact=name not in APPROXIMATE, inputs=arrays, where=f"{name} {dtype.name}")


# codegen/vmath_trig.py reduces x modulo pi/2 with a three-part pi/2, exact while the quotient is an integer of the
# float format; beyond that its results are documented as meaningless.
TRIG_LIMIT = {"float32": 2.0 ** 24, "float64": 2.0 ** 53}


@pytest.mark.xfail(reason="sin/cos are wrong for |x| >= 2**24 (float32) / 2**53 (float64): codegen/vmath_trig.py "
                          "has no exact (Payne-Hanek) reduction, numpy does", strict=True)
@pytest.mark.parametrize("name", ("sin", "cos"))
@pytest.mark.parametrize("dtype", (float32, float64), ids=lambda d: d.name)
def test_sin_cos_of_huge_arguments(name: str, dtype: DType) -> None:
    x = np.array([TRIG_LIMIT[dtype.name] * 3 + 1024, 1e30, -1e30, float(np.finfo(dtype.np).max)], dtype.np)
    got, want = compiled_and_interpreted(build([TensorType(dtype, x.shape)], lambda b, x: [b.one(name, x)]), [x])
    assert_same(got[0], want[0], exact=False, inputs=[x], where=f"{name} {dtype.name}")


@pytest.mark.parametrize("dtype", (float32, float64), ids=lambda d: d.name)
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
