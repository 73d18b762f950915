"""Tiered compilation (codegen.tiers): the quick build computes what the O3 build computes, the swap to O3 is safe
under concurrent calls, the disk cache only ever holds O3 code, and KILN_DUMP's stages still print.

The O3 builds are queued on a fake worker here (`jobs`), so each test decides when the swap happens."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import engine
from codegen import cache, native, runtime, tiers
from programs import PROGRAMS, Program, call
from test_corpus import assert_same_structure_and_values, assert_same_variables, eager_run, make

ROOT = Path(__file__).resolve().parent.parent


class FakeWorker:
    def __init__(self) -> None:
        self.jobs: list[Any] = []

    def put(self, job: Any) -> None:
        self.jobs.append(job)

    def run(self) -> int:
        done = 0
        while self.jobs:
            self.jobs.pop(0)()
            done += 1
        return done


@pytest.fixture
def jobs(monkeypatch: pytest.MonkeyPatch) -> FakeWorker:
    """Tiering on for every compile (loops and big functions too), O3 builds held until `jobs.run()`."""
    worker = FakeWorker()
    monkeypatch.setenv("KILN_TIERED", "1")
    monkeypatch.setenv("KILN_CACHE", "0")
    monkeypatch.setattr(tiers, "suits", lambda fn, elements: True)
    monkeypatch.setattr(tiers, "_get_worker", lambda: worker)
    return worker


@pytest.mark.parametrize("p", [pytest.param(p, id=p.name) for p in PROGRAMS])
def test_quick_and_o3_builds_agree_with_eager_on_the_corpus(p: Program, jobs: FakeWorker) -> None:
    want, want_vars = eager_run(p)
    f = engine.function(p.fn)
    quick_before, swapped_before = tiers.stats["quick"], tiers.stats["swapped"]
    args, variables = make(p)
    got = call(p, f, args, variables)  # the quick build
    assert tiers.stats["quick"] > quick_before, "the first call did not run a quick build"
    assert_same_structure_and_values(want, got, "quick build")
    assert_same_variables(want_vars, variables)
    assert jobs.run() >= 1
    assert tiers.stats["swapped"] - swapped_before == tiers.stats["quick"] - quick_before
    args, variables = make(p)
    got = call(p, f, args, variables)  # the same concrete function, now on O3 code
    assert_same_structure_and_values(want, got, "O3 build")
    assert_same_variables(want_vars, variables)


SOURCE = """
import engine as M
def f(x):
    y = M.tanh(x * 0.5 + 0.25) * x
    z = M.exp(-M.square(x))
    w = M.sin(y) + M.cos(z)
    return (M.sqrt(M.abs(w) + 1.0) - z) / (1.0 + M.square(w))
"""


def reference(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    y = np.tanh(x * 0.5 + 0.25) * x
    z = np.exp(-np.square(x))
    w = np.sin(y) + np.cos(z)
    return (np.sqrt(np.abs(w) + 1.0) - z) / (1.0 + np.square(w))


def load(tmp_path: Path, name: str) -> Any:
    namespace: dict[str, Any] = {}
    path = tmp_path / f"{name}.py"
    path.write_text(SOURCE)
    exec(compile(SOURCE, str(path), "exec"), namespace)  # noqa: S102  (a fresh function, so a fresh trace)
    return namespace["f"]


def test_swap_is_race_free_under_concurrent_calls(tmp_path: Path, jobs: FakeWorker) -> None:
    # 32768 elements x ~30 ops: a kernel long enough to release the GIL, so calls really overlap the swap.
    x = np.linspace(-3.0, 3.0, 1 << 15, dtype=np.float32)
    want = reference(x)
    f = engine.function(load(tmp_path, "race"))
    xt = engine.constant(x)
    np.testing.assert_allclose(f(xt).numpy(), want, rtol=2e-6, atol=2e-6)  # the quick build; fast caller made
    compiled = f.get_concrete_function(xt).compiled
    quick = compiled._py
    errors: list[BaseException] = []
    start = threading.Barrier(5)

    def caller() -> None:
        try:
            start.wait()
            for _ in range(150):
                np.testing.assert_allclose(f(xt).numpy(), want, rtol=2e-6, atol=2e-6)
                np.testing.assert_allclose(compiled.run([x])[0], want, rtol=2e-6, atol=2e-6)
        except BaseException as e:  # noqa: BLE001  (reported by the main thread)
            errors.append(e)
    threads = [threading.Thread(target=caller) for _ in range(4)]
    for t in threads:
        t.start()
    start.wait()
    assert jobs.run() == 1  # the O3 build, linked and swapped in while the callers run
    del quick  # the quick code is freed once the last call in it has returned
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert compiled._py is not None and all(fast.__globals__["py"] is compiled._py
                                            for fast in compiled.fast_callers.values())
    np.testing.assert_allclose(f(xt).numpy(), want, rtol=2e-6, atol=2e-6)


def test_a_fast_caller_made_after_the_swap_calls_o3_code(tmp_path: Path, jobs: FakeWorker) -> None:
    f = engine.function(load(tmp_path, "late"))
    x = engine.constant(np.linspace(-1.0, 1.0, 64, dtype=np.float32))
    cf = f.get_concrete_function(x)
    compiled = cf.compiled
    jobs.run()
    assert compiled.fast_callers == {}  # no call yet: the caller below is made after the swap
    fast = cf.fast_call(list(cf.ir.param_types))
    assert fast is not None and fast.__globals__["py"] is compiled._py
    np.testing.assert_allclose(fast(x).numpy(), reference(x.numpy()), rtol=2e-6, atol=2e-6)


def test_disk_cache_stores_only_the_o3_build(tmp_path: Path, jobs: FakeWorker,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILN_CACHE", "1")
    monkeypatch.setenv("KILN_CACHE_DIR", str(tmp_path / "cache"))
    linked: list[bytes] = []
    real_link = native.link
    monkeypatch.setattr(native, "link", lambda obj, *a: (linked.append(obj), real_link(obj, *a))[1])
    f = engine.function(load(tmp_path, "cached"))
    x = engine.constant(np.linspace(-1.0, 1.0, 256, dtype=np.float32))
    f(x)
    entries = lambda: sorted((tmp_path / "cache").rglob("*.kobj"))  # noqa: E731
    assert len(linked) == 1 and entries() == [], "the quick build must not reach the disk cache"
    jobs.run()
    assert len(linked) == 2 and linked[0] != linked[1]
    [path] = entries()
    meta_and_obj = cache.load(path.stem)
    assert meta_and_obj is not None and meta_and_obj[1] == linked[1]  # the O3 object, not the quick one
    # A later compile of the same IR is a cache hit, linked from the O3 object, with no quick build.
    hits, quick = runtime.stats["cache_hits"], tiers.stats["quick"]
    g = engine.function(load(tmp_path, "cached"))
    np.testing.assert_allclose(g(x).numpy(), reference(x.numpy()), rtol=2e-6, atol=2e-6)
    assert runtime.stats["cache_hits"] == hits + 1 and tiers.stats["quick"] == quick
    assert linked[-1] == linked[1] and jobs.jobs == []


def run_child(tmp_path: Path, code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    script = tmp_path / "child.py"  # a file, so that AutoGraph can read the function's source
    script.write_text(textwrap.dedent(code))
    full = dict(os.environ, PYTHONPATH=str(ROOT), KILN_TIERED="1", **env)
    return subprocess.run([sys.executable, str(script)], env=full, capture_output=True, text=True, timeout=300,
                          cwd=str(ROOT))


CHILD = """
import numpy as np, engine
from codegen import runtime, tiers
@engine.function
def f(x):
    return engine.tanh(x * 2.0) + engine.exp(-x)
x = engine.constant(np.linspace(-1.0, 1.0, 64, dtype=np.float32))
y = f(x).numpy()
assert np.allclose(y, np.tanh(np.linspace(-1, 1, 64) * 2) + np.exp(-np.linspace(-1, 1, 64)), rtol=1e-5, atol=1e-6)
print("quick", tiers.stats["quick"], "hits", runtime.stats["cache_hits"])
"""


def test_a_process_that_exits_at_once_still_fills_the_disk_cache(tmp_path: Path) -> None:
    env = {"KILN_CACHE": "1", "KILN_CACHE_DIR": str(tmp_path / "cache")}
    first = run_child(tmp_path, CHILD, env)
    assert first.returncode == 0, first.stderr
    assert "quick 1 hits 0" in first.stdout
    second = run_child(tmp_path, CHILD, env)  # the first one's O3 build was stored at its exit
    assert second.returncode == 0, second.stderr
    assert "quick 0 hits 1" in second.stdout


def test_kiln_dump_stages_still_print(tmp_path: Path) -> None:
    timed = run_child(tmp_path, CHILD, {"KILN_CACHE": "0", "KILN_DUMP": "time"})
    assert timed.returncode == 0, timed.stderr
    assert "quick 1" in timed.stdout
    assert "f: " in timed.stderr and "llvm-opt" in timed.stderr and "codegen" in timed.stderr
    # The background O3 build reports itself as a compile of its own (it runs before the process exits).
    assert "f (O3, background): " in timed.stderr
    # The LLVM and assembly dumps show the O3 build: tiering is off while they are asked for.
    dumped = run_child(tmp_path, CHILD, {"KILN_CACHE": "0", "KILN_DUMP": "llvm,asm"})
    assert dumped.returncode == 0, dumped.stderr
    assert "quick 0" in dumped.stdout
    assert "define" in dumped.stderr and "@kiln_py" in dumped.stderr  # the LLVM IR
    assert re.search(r"^kiln_py:", dumped.stderr, re.M), "no assembly of the entry point"


def test_tiering_can_be_turned_off(tmp_path: Path, jobs: FakeWorker, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILN_TIERED", "0")
    quick = tiers.stats["quick"]
    f = engine.function(load(tmp_path, "off"))
    x = engine.constant(np.linspace(-1.0, 1.0, 64, dtype=np.float32))
    np.testing.assert_allclose(f(x).numpy(), reference(x.numpy()), rtol=2e-6, atol=2e-6)
    assert tiers.stats["quick"] == quick and jobs.jobs == []


def test_only_bounded_work_is_tiered() -> None:
    x = engine.constant(np.zeros(8, np.float32))

    def loop(x):
        return engine.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x * 2.0), (0, x))[1]
    looped = engine.function(loop).get_concrete_function(x).optimized_ir
    straight = engine.function(lambda x: x * 2.0 + 1.0).get_concrete_function(x).optimized_ir
    assert not tiers.suits(looped, 8)
    assert tiers.suits(straight, 16) and not tiers.suits(straight, tiers.MAX_ELEMENTS + 1)


def test_a_quick_build_and_its_o3_build_call_the_same_gemm_workers(
        jobs: FakeWorker, monkeypatch: pytest.MonkeyPatch) -> None:
    """The quick tier links the workers' full builds (a quick worker ran the products 3-5x slower for ~30 ms less
    build, codegen.gemm_library): built once, on the first call, and reused by the O3 build."""
    from codegen import gemm_library
    for name, fresh in (("_workers", {}), ("_jit", None), ("_trackers", [])):  # a fresh process, no disk cache
        monkeypatch.setattr(gemm_library, name, fresh)
    built = []
    original = gemm_library._worker_object
    monkeypatch.setattr(gemm_library, "_worker_object", lambda name: built.append(name) or original(name))
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((33, 70)).astype(np.float32), rng.standard_normal((70, 21)).astype(np.float32)
    f = engine.function(lambda a, b: engine.nn.relu(a @ b + 1.0))
    want = np.maximum(a.astype(np.float64) @ b + 1.0, 0.0)
    np.testing.assert_allclose(f(engine.constant(a), engine.constant(b)).numpy(), want, rtol=1e-4, atol=1e-4)
    assert len(built) == 1 and set(gemm_library._workers) == set(built), (built, gemm_library._workers)
    before = dict(gemm_library._workers)
    jobs.run()
    assert len(built) == 1 and gemm_library._workers == before
    np.testing.assert_allclose(f(engine.constant(a), engine.constant(b)).numpy(), want, rtol=1e-4, atol=1e-4)
