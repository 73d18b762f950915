"""Compile-time measures keep results exact: outlined segments (codegen.outline) against the interpreter and numpy,
the native entry's looped argument checks against its unrolled ones, and `KILN_DUMP=time` / the slow-compile
notice (ir.timing) say what they promise. Nothing here asserts a timing."""
from __future__ import annotations

import re
import zlib

import numpy as np
import pytest

import engine
from codegen import outline
from codegen.entry import EntryArgumentError
from ir import timing
from programs import PROGRAMS, call, engine_args
from test_codegen import SEEDS, assert_same, assert_same_outputs


@pytest.mark.parametrize("p", PROGRAMS, ids=lambda p: p.name)
def test_corpus_outlined_matches_interpreter(p, monkeypatch: pytest.MonkeyPatch, no_disk_cache: None) -> None:
    """Every corpus program with outlining forced on (every function counts as large), cut wherever it may be (the
    most values crossing segment boundaries)."""
    monkeypatch.setattr(outline, "MIN_OPS", 1)
    monkeypatch.setattr(outline, "MIN_SEGMENT_OPS", 1)
    compiled, interpreted = engine.function(p.fn), engine.function(p.fn, jit_compile=False)
    for k in SEEDS[:2]:
        runs = {}
        for name, f in (("compiled", compiled), ("interpreted", interpreted)):
            args = engine_args(p.make_args(np.random.default_rng(zlib.crc32(p.name.encode()) + k)))
            variables = p.variables() if p.variables is not None else {}
            runs[name] = (call(p, f, args, variables), {n: v.numpy() for n, v in variables.items()})
        (want, want_vars), (got, got_vars) = runs["interpreted"], runs["compiled"]
        assert_same_outputs(got, want, f"seed {k}: outlined vs interpreted")
        for name in want_vars:
            assert_same(got_vars[name], want_vars[name], exact=False, where=f"seed {k}: Variable {name!r}")


def _layers(n: int, rng: np.random.Generator) -> tuple[np.ndarray, list[np.ndarray]]:
    x = rng.standard_normal((8, 16)).astype(np.float32)
    return x, [(rng.standard_normal((16, 16)) * 0.3).astype(np.float32) for _ in range(n)]


def _numpy_layers_grad(x: np.ndarray, ws: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
    """sum(tanh(...tanh(x @ w0)... @ wn)) and its gradient in the weights, by hand in float64."""
    acts = [x.astype(np.float64)]
    for w in ws:
        acts.append(np.tanh(acts[-1] @ w.astype(np.float64)))
    g = np.ones_like(acts[-1])
    grads = []
    for w, a_in, a_out in zip(reversed(ws), reversed(acts[:-1]), reversed(acts[1:])):
        g = g * (1 - a_out * a_out)
        grads.append(a_in.T @ g)
        g = g @ w.astype(np.float64).T
    return float(acts[-1].sum()), grads[::-1]


def test_unrolled_layers_gradient_is_outlined_into_shared_functions(no_disk_cache: None) -> None:
    """A 100-layer gradient (its segments repeat: outlined) compiles to a handful of shared segment functions and
    gives numpy's values and gradients."""
    n = 100
    x, w_init = _layers(n, np.random.default_rng(0))
    ws = [engine.Variable(w) for w in w_init]

    @engine.function
    def step(x):
        with engine.GradientTape() as tape:
            y = x
            for w in ws:
                y = engine.tanh(y @ w)
            total = engine.reduce_sum(y)
        return total, tape.gradient(total, ws)

    total, grads = step(engine.constant(x))
    want_total, want_grads = _numpy_layers_grad(x, w_init)
    np.testing.assert_allclose(total.numpy(), want_total, rtol=1e-4, atol=1e-4)
    for k, (g, want) in enumerate(zip(grads, want_grads)):
        np.testing.assert_allclose(g.numpy(), want, rtol=2e-3, atol=2e-4, err_msg=f"gradient of layer {k}")
    concrete = step.get_concrete_function(engine.constant(x))
    segments = set(re.findall(r'define internal [^@]*@"?(kiln_seg[.\d]*)', concrete.llvm_ir))
    assert 0 < len(segments) <= 12, f"{len(segments)} segment functions for {n} identical layers"


def test_outlined_segment_reports_errors_from_its_own_line(monkeypatch: pytest.MonkeyPatch,
                                                            no_disk_cache: None) -> None:
    """Two structurally equal segments whose code can fail (an out-of-range gather) keep their own source lines."""
    monkeypatch.setattr(outline, "MIN_OPS", 1)
    table = engine.constant(np.arange(12.0, dtype=np.float32).reshape(4, 3))

    @engine.function
    def f(i, j):
        a = engine.gather(table, i) * 2.0
        b = engine.gather(table, j) * 2.0
        return a, b

    ok = engine.constant(np.array([0, 3], np.int32))
    bad = engine.constant(np.array([1, 7], np.int32))
    a, b = f(ok, ok)
    np.testing.assert_array_equal(a.numpy(), np.arange(12.0).reshape(4, 3)[[0, 3]] * 2)
    with pytest.raises(Exception) as first:
        f(bad, ok)
    with pytest.raises(Exception) as second:
        f(ok, bad)
    line = f.python_function.__code__.co_firstlineno
    assert f":{line + 2}" in str(first.value), str(first.value)
    assert f":{line + 3}" in str(second.value), str(second.value)


def test_looped_entry_checks_name_the_argument_and_its_role(no_disk_cache: None) -> None:
    """Twelve Variables of one shape are checked in a loop; a bad one is refused with the unrolled checks' message."""
    ws = [engine.Variable(np.full((3, 4), float(k), np.float32)) for k in range(12)]  # > LOOP_MIN_ARRAYS

    @engine.function
    def f(x):
        total = x
        for w in ws:
            total = total + w
        return total

    x = np.ones((3, 4), np.float32)
    np.testing.assert_array_equal(f(engine.constant(x)).numpy(), x + sum(range(12)))
    compiled = f.get_concrete_function(engine.constant(x)).compiled
    lowered = compiled.lowered
    good = [x] + [w.numpy() for w in ws] + [np.empty(t.shape, t.dtype.np) for t in lowered.results]
    good += [compiled.workspace(), 0, lowered.chunks]
    assert compiled._py(*good) == 0
    for pos, bad in ((5, np.ones((3, 4), np.float64)), (12, np.ones((4, 3), np.float32)),
                     (7, np.ones((3, 4), np.float32)[:, ::-1].copy()[:, ::-1])):
        args = list(good)
        args[pos] = bad
        with pytest.raises(EntryArgumentError, match=rf"argument {pos} \(parameter {pos}\) must be an exact "
                                                     r"numpy\.ndarray of float32\[3, 4\]"):
            compiled._py(*args)
    # The arguments outside the run go through the shared check function: the same refusals and messages.
    for pos, bad, role in ((0, np.ones((3, 4), np.int32), "parameter 0"), (0, np.ones(12, np.float32), "parameter 0"),
                           (13, np.ones((3, 4), np.float32).astype(">f4"), "result 0"),
                           (13, _readonly(np.ones((3, 4), np.float32)), "result 0"), (0, [1.0], "parameter 0")):
        args = list(good)
        args[pos] = bad
        with pytest.raises(EntryArgumentError, match=rf"argument {pos} \({role}\) must be an exact numpy\.ndarray "
                                                     r"of float32\[3, 4\]"):
            compiled._py(*args)
    args = list(good)
    args[0] = np.full((3, 4), 2.0, np.float32)
    assert compiled._py(*args) == 0
    np.testing.assert_array_equal(args[13], 2.0 + sum(range(12)))


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def test_dump_time_reports_each_phase_of_a_first_call(monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture,
                                                       no_disk_cache: None) -> None:
    monkeypatch.setenv("KILN_DUMP", "time")

    @engine.function
    def timed_fn(x):
        return engine.tanh(x) * 2.0 + 1.0

    x = engine.constant(np.linspace(-1, 1, 5, dtype=np.float32))
    np.testing.assert_allclose(timed_fn(x).numpy(), np.tanh(x.numpy()) * 2 + 1, rtol=1e-6)
    err = capfd.readouterr().err
    assert "KILN_DUMP time: timed_fn" in err
    report = err.split("KILN_DUMP time: timed_fn", 1)[1]
    assert re.search(r"timed_fn: [\d.]+ s \(cpu [\d.]+ s\), \d+ ops", report)
    for name in ("trace", "passes", "lower", "llvm-opt", "codegen", "link"):
        assert re.search(rf"^  {name} +[\d.]+ s +[\d.]+% +[\d.]+ s$", report, re.M), f"no {name} line in:\n{report}"
    timed_fn(x)  # compiled already: no second report
    assert "KILN_DUMP time" not in capfd.readouterr().err


def test_slow_compile_notice_is_printed_once_and_only_for_slow_compiles(monkeypatch: pytest.MonkeyPatch,
                                                                        capfd: pytest.CaptureFixture,
                                                                        no_disk_cache: None) -> None:
    x = engine.constant(np.ones(4, np.float32))

    @engine.function
    def quick(x):
        return x + 1.0
    quick(x)
    assert "kiln: compiling" not in capfd.readouterr().err

    record = timing.Compile("slow_one")
    record.ops = 1234
    record.announce()
    record.announce()
    err = capfd.readouterr().err
    assert err.count("kiln: compiling slow_one (1234 ops)") == 1, err

    monkeypatch.setattr(timing, "SLOW_SECONDS", 0.0)

    @engine.function
    def slow(x):
        return x * 3.0
    slow(x)
    import time
    time.sleep(0.05)  # the notice comes from a timer thread
    err = capfd.readouterr().err
    assert err.count("kiln: compiling slow (") == 1, err
