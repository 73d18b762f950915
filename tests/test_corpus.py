"""Differential tests over the shared corpus (tests/programs.py), one case per program:

- eager (the program called on engine tensors) vs traced (`engine.function(fn)` called on the same inputs, run
  on the interpreter with jit_compile=False and as native code by default): values, dtypes and shapes of the
  whole nested output structure, and the Variables' final values;
- the unoptimized IR (`cf.ir`) run on the interpreter vs eager, so a tracer bug is told apart from a pass bug;
- `parse(str(ir))` prints the same text, for `cf.ir` and `cf.optimized_ir`;
- the verifier accepts `cf.ir`, the output of each pass of `ir.passes.PASSES` applied alone, and `cf.optimized_ir`;
  each pass alone and the whole pipeline interpret to the same outputs and Variable updates as `cf.ir`;
- `engine.print` writes on every call, the same text traced as eager.
Eager mode is the oracle: it runs each op's numpy kernel directly, without the tracer, the IR or the passes.
"""
from __future__ import annotations

import zlib
from typing import Any, Optional

import numpy as np
import pytest

import engine
import ir
from engine import nest
from ir.interp import run
from ir.passes import PASSES
from ir.types import Cell, RefType
from ir.verify import verify
from programs import PROGRAMS, Program, call, engine_args

try:
    import engine.indexing  # noqa: F401
    INDEXING_MISSING: Optional[str] = None
except ImportError as e:  # only while engine.indexing is being written
    INDEXING_MISSING = f"engine.indexing does not import yet ({e})"

# Programs that fail because of a known bug outside the tests: name -> (reason, the kinds of test that fail, among
# "eager", "text", "passes", "print"). Strict, so a fix shows up as XPASS.
# (A program with a known failure stays out of the shared corpus until the fix, so other suites that run the
# corpus stay green; its repro lives as a strict xfail test next to the behaviour, e.g. in test_function.py.)
KNOWN_FAILURES: dict[str, tuple[str, tuple[str, ...]]] = {}

TOL = {"float32": (1e-6, 1e-6), "float64": (1e-12, 1e-12)}
SEEDS = (0, 1)
# engine.function runs the optimized IR on the interpreter (jit_compile=False) or as native code (the default).
JIT_MODES = (False, True)
JIT_IDS = ("interp", "native")


def cases(kind: str, tag: Optional[str] = None) -> list[Any]:
    """One pytest param per program (with `tag`, if given), marked with its known failure for this kind of test."""
    out = []
    for p in PROGRAMS:
        if tag is not None and tag not in p.tags:
            continue
        marks = []
        if "slicing" in p.tags and INDEXING_MISSING:
            marks.append(pytest.mark.skip(reason=INDEXING_MISSING))
        reason, kinds = KNOWN_FAILURES.get(p.name, ("", ()))
        if kind in kinds:
            marks.append(pytest.mark.xfail(reason=reason, strict=True))
        out.append(pytest.param(p, id=p.name, marks=marks))
    return out


# ---- helpers --------------------------------------------------------------------------------------------------------
def seed_of(p: Program, k: int = 0) -> int:
    return zlib.crc32(p.name.encode()) + k


def make(p: Program, k: int = 0) -> tuple[tuple, dict]:
    """Engine arguments for seed k, and a fresh set of the program's Variables."""
    args = engine_args(p.make_args(np.random.default_rng(seed_of(p, k))))
    return args, (p.variables() if p.variables is not None else {})


def assert_same_leaf(want: Any, got: Any, where: str) -> None:
    if want is None or got is None:
        assert want is None and got is None, f"{where}: {want!r} vs {got!r}"
        return
    assert isinstance(got, engine.Tensor), f"{where}: got a {type(got).__name__}, not an engine.Tensor"
    w, g = np.asarray(want), np.asarray(got.numpy())
    assert g.dtype == w.dtype, f"{where}: dtype {g.dtype}, expected {w.dtype}"
    assert g.shape == w.shape, f"{where}: shape {g.shape}, expected {w.shape}"
    if w.dtype.kind == "f":
        rtol, atol = TOL[w.dtype.name]
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=where)
    else:
        np.testing.assert_array_equal(g, w, err_msg=where)


def assert_same_structure_and_values(want: Any, got: Any, where: str = "output") -> None:
    """Same containers (list, tuple, dict with the same keys) all the way down, and the same leaves."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), f"{where}: {got!r} vs {want!r}"
        for k in want:
            assert_same_structure_and_values(want[k], got[k], f"{where}[{k!r}]")
    elif isinstance(want, (list, tuple)):
        assert type(got) is type(want), f"{where}: a {type(got).__name__}, expected a {type(want).__name__}"
        assert len(got) == len(want), f"{where}: {len(got)} elements, expected {len(want)}"
        for i, (w, g) in enumerate(zip(want, got)):
            assert_same_structure_and_values(w, g, f"{where}[{i}]")
    else:
        assert_same_leaf(want, got, where)


def assert_same_variables(want: dict, got: dict) -> None:
    assert set(want) == set(got)
    for name in want:
        assert_same_leaf(want[name].numpy(), engine.constant(got[name].numpy()), f"Variable {name!r}")


def concrete(p: Program, k: int = 0) -> tuple[Any, tuple, dict]:
    """The ConcreteFunction for seed k (traced, not yet run), its arguments and Variables."""
    args, variables = make(p, k)
    cf = engine.function(p.fn).get_concrete_function(*args, **variables)
    return cf, args, variables


def interpret(cf: Any, fn: Any, args: tuple, variables: dict) -> tuple[Any, list[np.ndarray]]:
    """Runs the IR `fn` (cf.ir or a transformed copy) on the interpreter with fresh Cells holding the Variables'
    current values; returns the packed outputs and the Cells' final arrays (in cf.variables order)."""
    bound = cf._signature.bind(*args, **variables)
    n = len(cf.variables)
    arrays = cf._inputs(bound)
    arrays = arrays[:len(arrays) - n]
    cells = [Cell(np.array(v.cell.array, copy=True)) for v in cf.variables]
    results = run(fn, arrays + cells)
    return cf._pack(results), [c.array for c in cells]


def eager_run(p: Program, k: int = 0) -> tuple[Any, dict]:
    args, variables = make(p, k)
    return call(p, p.fn, args, variables), variables


def assert_same_cells(want: list[np.ndarray], got: list[np.ndarray], names: list[str]) -> None:
    for w, g, name in zip(want, got, names):
        assert_same_leaf(w, engine.constant(np.asarray(g)), f"Variable {name!r}")


# ---- eager vs traced ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("jit_compile", JIT_MODES, ids=JIT_IDS)
@pytest.mark.parametrize("k", SEEDS)
@pytest.mark.parametrize("p", cases("eager"))
def test_traced_call_matches_eager(p: Program, k: int, jit_compile: bool) -> None:
    want, want_vars = eager_run(p, k)
    args, variables = make(p, k)
    got = call(p, engine.function(p.fn, jit_compile=jit_compile), args, variables)
    assert_same_structure_and_values(want, got)
    assert_same_variables(want_vars, variables)


@pytest.mark.parametrize("p", cases("eager"))
def test_unoptimized_ir_matches_eager(p: Program) -> None:
    want, want_vars = eager_run(p)
    cf, args, variables = concrete(p)
    got, cells = interpret(cf, cf.ir, args, variables)
    assert_same_structure_and_values(want, got)
    by_id = {id(v): name for name, v in variables.items()}
    names = [by_id[id(v)] for v in cf.variables]
    assert sorted(names) == sorted(want_vars), "every Variable the program uses is a reference parameter"
    assert_same_cells([want_vars[n].numpy() for n in names], cells, names)


def test_ir_params_are_the_tensor_arguments_then_the_variables() -> None:
    for p in PROGRAMS:
        if "slicing" in p.tags and INDEXING_MISSING:
            continue
        cf, args, variables = concrete(p)
        leaves = [a for a in nest.flatten(list(args)) if isinstance(a, engine.Tensor)]
        types = cf.ir.param_types
        assert [(t.dtype.name, t.shape) for t in types[:len(leaves)]] == \
            [(a.dtype.name, tuple(a.shape)) for a in leaves], p.name
        assert all(isinstance(t, RefType) for t in types[len(leaves):]), p.name
        assert len(types) == len(leaves) + len(cf.variables), p.name


# ---- text round trip ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", cases("text"))
def test_print_parse_print_roundtrip(p: Program) -> None:
    cf, _, _ = concrete(p)
    for which in ("ir", "optimized_ir"):
        text = str(getattr(cf, which))
        assert str(ir.parse(text)) == text, f"{which} does not round-trip"


# ---- verifier and passes --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", cases("passes"))
def test_verify_and_each_pass_preserves_results(p: Program) -> None:
    cf, args, variables = concrete(p)
    verify(cf.ir)
    before = str(cf.ir)
    want, want_cells = interpret(cf, cf.ir, args, variables)
    names = [v.name for v in cf.variables]
    for name, run_pass in PASSES:
        out = run_pass(cf.ir)
        try:
            verify(out)
        except Exception as e:
            raise AssertionError(f"after pass {name} alone:\n{out}") from e
        got, cells = interpret(cf, out, args, variables)
        assert_same_structure_and_values(want, got, f"output after pass {name}")
        assert_same_cells(want_cells, cells, names)
    assert str(cf.ir) == before, "a pass changed its input"
    verify(cf.optimized_ir)
    got, cells = interpret(cf, cf.optimized_ir, args, variables)
    assert_same_structure_and_values(want, got, "output of the optimized IR")
    assert_same_cells(want_cells, cells, names)


def test_passes_are_the_four_of_the_design_and_read_forwarding() -> None:
    assert sorted(name for name, _ in PASSES) == ["canonicalize", "cse", "dce", "fold", "forward_reads"]


# ---- engine.print ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", cases("print", tag="print"))
@pytest.mark.parametrize("jit_compile", JIT_MODES, ids=JIT_IDS)
def test_print_runs_on_every_call_with_eager_text(p: Program, jit_compile: bool,
                                                  capsys: pytest.CaptureFixture) -> None:
    eager_run(p)
    eager_text = capsys.readouterr().err
    assert eager_text.strip(), "the program prints something"
    args, variables = make(p)
    f = engine.function(p.fn, jit_compile=jit_compile)
    call(p, f, args, variables)
    call(p, f, args, variables)
    assert capsys.readouterr().err == eager_text * 2
    assert f.experimental_get_tracing_count() == 1


def test_print_text_for_print_values(capsys: pytest.CaptureFixture) -> None:
    from programs import by_name
    p = by_name("print_values")
    f = engine.function(p.fn)
    f(engine.constant([1.0, 2.5, -3.0]), engine.constant([4, -5]))
    # TF 2.21 prints the same program as `x: [1 2.5 -3] max: 2.5 n+1: [5 -4]`
    assert capsys.readouterr().err == "x: [1 2.5 -3] max: 2.5 n+1: [5 -4]\n-1 | [1, 2]!\n"


def test_corpus_covers_the_required_features() -> None:
    tags = [t for p in PROGRAMS for t in p.tags]
    assert len(PROGRAMS) >= 45
    for tag in ("cond", "while", "variables", "nested", "reduce", "slicing", "broadcast", "int", "differentiable",
                "print", "python", "structure", "float32", "float64"):
        assert tag in tags, tag
    assert len({p.name for p in PROGRAMS}) == len(PROGRAMS)
