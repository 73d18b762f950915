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
