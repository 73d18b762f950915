"""Fault suite, runtime part (issue 13): native code is freed when nothing references it, and compiled loops obey
Ctrl-C. Each case runs in a fresh process (RSS is a per-process figure; a loop that ignores SIGINT would hang), with
a private cache directory. RSS bounds are tolerant: they are sized to fail on the old behaviour, not on noise.
"""
from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import time
import weakref
from pathlib import Path

import numpy as np
import pytest

import engine as tf

ROOT = Path(__file__).resolve().parent.parent


def _env(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                KILN_CACHE_DIR=str(tmp_path / "cache"))


def _script(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "program.py"  # a file, so AutoGraph can read the functions' source
    path.write_text(text)
    return path


def run_json(tmp_path: Path, text: str, timeout: float = 600) -> dict:
    proc = subprocess.run([sys.executable, str(_script(tmp_path, text))], capture_output=True, text=True,
                          env=_env(tmp_path), timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


RSS = """
import gc, json, os, sys
import numpy as np
import engine as tf

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
"""

FUNCTIONS = RSS + """
x = tf.constant(np.ones(4, np.float32))

def make():
    @tf.function(jit_compile=True)
    def f(x):
        return x * 2.0 + 1.0
    return f

for _ in range(30):
    make()(x)
gc.collect()
before = rss_mb()
for _ in range(N):
    assert float(make()(x).numpy()[0]) == 3.0
gc.collect()
print(json.dumps({"growth": rss_mb() - before}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_functions_created_called_once_and_dropped_do_not_grow_rss(tmp_path: Path) -> None:
    """The issue's case scaled from 1,000 to 400 functions for CI (same body: after the first, the disk cache
    supplies the object code, as it is meant to). Measured on the development VM for 1,000: 9.9 MB of growth
    before (each link stayed in the shared LLJIT, ~10 KB each), 0.7-3.1 MB after, 0.6 MB since a host LLJIT none
    of whose libraries is alive is dropped at once and the heap trimmed. Bound: 2 MB for 400 (before: 4 MB)."""
    out = run_json(tmp_path, FUNCTIONS.replace("N", "400"))
    assert out["growth"] < 2.0, out


SHAPES = RSS + """
@tf.function(jit_compile=True)
def g(x):
    return x * 2.0 + 1.0

for i in range(5):
    g(tf.constant(np.ones(1000 + i, np.float32)))
gc.collect()
before = rss_mb()
for i in range(N):
    assert float(g(tf.constant(np.ones(i + 1, np.float32))).numpy()[0]) == 3.0
during = rss_mb() - before
del g
gc.collect()
print(json.dumps({"during": during, "held": rss_mb() - before}))
"""


@pytest.fixture(scope="module")
def retraced(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict]:
    """The issue's case (2,000 shapes of one Function, then `del` and `gc.collect()`) scaled to 150 shapes for CI:
    (shapes, {"during": RSS growth while the traces live, "held": what stays after the delete}), in MB."""
    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc/self/statm")
    n = 150
    return n, run_json(tmp_path_factory.mktemp("shapes"), SHAPES.replace("N", str(n)))


def test_a_deleted_function_retraced_for_many_shapes_gives_its_memory_back(retraced: tuple[int, dict]) -> None:
    """Measured on the development VM, held after the delete: 0.20 MB per shape before (llvmlite's pass managers
    never freed, constants in the global LLVMContext, the heap never trimmed): 29 MB for 150 shapes, 420 MB for
    2,000; then 5.1-5.4 MB for 150, 37-40 MB for 2,000 (0.02-0.04 MB per shape); since the type attribute cache
    is emptied too (next test): 1.2-3.0 MB for 150, 13.4-13.6 MB for 2,000; since llvmlite's leaked pass-builder
    blocks are made on a thread of their own: 1.2-1.3 MB for 150, 10.7 MB for 2,000. Bound: 0.08 MB per shape."""
    n, out = retraced
    assert out["held"] < n * 0.08, out


def test_a_deleted_function_retraced_for_many_shapes_holds_at_most_10_kb_per_shape(retraced: tuple[int, dict]) -> None:
    """The issue's target: at most 20 MB held after deleting the Function retraced for 2,000 shapes (10 KB per
    shape), plus 2 MB of one-time costs that do not grow with the count (code pages of LLVM first touched, the
    compile thread's arena, a pymalloc arena of lasting objects). Measured on the development VM, 2,000 shapes:
    37.9-39.1 MB held before, 28 of them pymalloc arenas each pinned by a few attribute-name strings in CPython's
    type attribute cache (see codegen.native.release_free_memory); 13.4-13.6 MB once that cache is emptied, 10.7 MB
    once llvmlite's leaked pass-builder blocks (1.5 KB per compile, 2.9 MB) lie apart from the compiles'
    (codegen.llvm_setup._pass_builder). 150 shapes: 5.0-5.4 MB before, 1.2-3.0 MB after. Bound for 150: 3.5 MB."""
    n, out = retraced
    assert out["held"] < 2.0 + n * 0.01, out


def test_freeing_memory_drops_the_names_held_by_the_type_attribute_cache() -> None:
    """A name made at run time and looked up on a type stays referenced by CPython's type attribute cache (numpy's
    C code makes such names on every call); `release_free_memory`, which runs once many JIT libraries were freed,
    lets go of them, so the pymalloc arenas they sit in can be freed."""
    from codegen import native

    class Holder:
        pass

    name = "".join(["kiln_", "probe_", str(os.getpid())])  # a new str object, not interned
    before = sys.getrefcount(name)
    assert getattr(Holder, name, None) is None  # cached as not found, for Holder and for its metatype
    assert sys.getrefcount(name) > before
    native.release_free_memory()
    assert sys.getrefcount(name) == before


def test_a_deleted_function_retraced_for_many_shapes_frees_its_objects() -> None:
    """Every CompiledFunction, NativeCode and Lowered of the traces is collected after `del` (a ctypes.cast of the
    print/assert callback used to keep each Lowered and its llvmlite module alive for good)."""
    from codegen import runtime

    @tf.function(jit_compile=True)
    def g(x):
        return x * 2.0 + 1.0

    refs = []
    for i in range(6):
        g(tf.constant(np.ones(i + 1, np.float32)))
        compiled = g.get_concrete_function(tf.constant(np.ones(i + 1, np.float32))).compiled
        assert isinstance(compiled, runtime.CompiledFunction)
        refs += [weakref.ref(compiled), weakref.ref(compiled._py.__self__), weakref.ref(compiled.lowered)]
    del compiled
    assert all(r() is not None for r in refs)
    del g
    for _ in range(3):
        gc.collect()
    assert [r() for r in refs] == [None] * len(refs)


def test_native_code_lives_exactly_as_long_as_its_builtin() -> None:
    """The builtin owns the NativeCode (as its `self`): dropping the function frees the code; a caller that kept
    only the builtin can still call it."""
    from codegen import native

    @tf.function(jit_compile=True)
    def f(x):
        return x * 3.0

    x = tf.constant(np.arange(4, dtype=np.float32))
    np.testing.assert_array_equal(f(x).numpy(), np.arange(4, dtype=np.float32) * 3)
    compiled = f.get_concrete_function(x).compiled
    code = compiled._py.__self__
    assert isinstance(code, native.NativeCode)
    ref = weakref.ref(code)
    builtin = compiled._py
    del f, compiled, code
    gc.collect()
    assert ref() is not None  # `builtin` still holds it
    arr = np.arange(4, dtype=np.float32)
    out, ws = np.empty(4, np.float32), np.zeros(1 << 12, np.uint8)
    assert builtin(arr, out, ws, 0, 1) == 0
    np.testing.assert_array_equal(out, arr * 3)
    del builtin
    gc.collect()
    assert ref() is None


SPIN = """
import sys, threading, time
import engine as tf

@tf.function(jit_compile=True)
def forever(x):
    while x > 0.0:
        x = x + 1.0
    return x

forever.get_concrete_function(tf.constant(1.0))
"""

SPIN_MAIN = SPIN + """
print("ready", flush=True)
try:
    forever(tf.constant(1.0))
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""

SPIN_THREAD = SPIN + """
seen = []
finished = threading.Event()
def worker():
    try:
        forever(tf.constant(1.0))
    except KeyboardInterrupt:
        seen.append("worker")
    finally:
        finished.set()
t = threading.Thread(target=worker, daemon=True)
t.start()
print("ready", flush=True)
try:
    while not finished.is_set():
        time.sleep(0.05)  # not Thread.join: Ctrl-C inside join marks a running thread stopped (Python 3.11)
except KeyboardInterrupt:
    seen.append("main")
state = "stopped" if finished.wait(20) else "alive"
print(" ".join(sorted(seen)), state, flush=True)
"""


def _interrupt(tmp_path: Path, text: str) -> str:
    proc = subprocess.Popen([sys.executable, str(_script(tmp_path, text))], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env(tmp_path))
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(0.5)  # inside the loop by now
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err[-3000:]
    return out.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the interrupt handler is installed on Linux")
def test_sigint_stops_a_compiled_loop_that_never_ends(tmp_path: Path) -> None:
    assert _interrupt(tmp_path, SPIN_MAIN) == "interrupted"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the interrupt handler is installed on Linux")
def test_sigint_stops_a_compiled_loop_on_another_thread(tmp_path: Path) -> None:
    """Python raises KeyboardInterrupt in the main thread; the worker's kernel stops too and raises there."""
    assert _interrupt(tmp_path, SPIN_THREAD) == "main worker stopped"


def test_a_sigint_before_the_call_does_not_stop_a_later_loop() -> None:
    """Kernels compare the counter with its value at the start of their call: an old Ctrl-C is not replayed."""
    from codegen import interrupt

    @tf.function(jit_compile=True)
    def count_to(n):
        i = tf.constant(0)
        while i < n:
            i = i + 1
        return i

    n = tf.constant(3 * interrupt.POLL_TRIPS)
    count_to(n)
    interrupt._counter.value += 1  # what the handler does on SIGINT
    assert int(count_to(n).numpy()) == 3 * interrupt.POLL_TRIPS


def test_a_tiled_kernel_polls_between_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kernel run chunk by chunk (by pool threads too) stops between chunks once the interrupt counter moves
    during the call: another thread moves it as the handler would, and some call must end in KeyboardInterrupt."""
    import threading
    from codegen import interrupt
    from codegen.runtime import compile_function
    monkeypatch.setenv("KILN_NUM_THREADS", "1")

    def f(a, b):
        return a * b + 1.0

    a = np.ones((20_000, 10), np.float32)
    cf = compile_function(tf.make_ir(f, optimize=True)(tf.constant(a), tf.constant(a)))
    assert cf.lowered.chunks > 1
    np.testing.assert_array_equal(cf([a, a])[0], a * a + 1)
    stop = threading.Event()

    def bump() -> None:
        while not stop.is_set():
            interrupt._counter.value += 1
            time.sleep(0.0002)

    thread = threading.Thread(target=bump)
    thread.start()
    interrupted = False
    try:
        deadline = time.perf_counter() + 20
        while not interrupted and time.perf_counter() < deadline:
            try:
                cf([a, a])
            except KeyboardInterrupt as e:
                interrupted = "SIGINT" in str(e)
    finally:
        stop.set()
        thread.join()
    assert interrupted
    np.testing.assert_array_equal(cf([a, a])[0], a * a + 1)
