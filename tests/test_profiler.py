"""engine.profiler: per-function and per-kernel counts of compiled code, the Chrome trace, KILN_PROFILE, and the
profiling variant of the native code (timers only there, cached apart from the normal build).

What is pinned are counts and structure (calls equal to the calls made, bytes equal to the tensors' sizes, flops of
a matmul, the trace's events), and that profiled calls return the same values as numpy; never timings.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import engine as tf
from codegen import runtime
from codegen.peaks import Peaks, peaks
from engine import fastcall

ROOT = Path(__file__).resolve().parent.parent
PEAKS = Peaks(10.0, 100.0)  # fixed peaks for the table tests: measuring them is tested once, below


def _add():
    @tf.function
    def add(x, y):
        return x + y
    return add


def _by_name(stats, name):
    found = [k for k in stats.kernels if k.name == name]
    assert len(found) == 1, [k.name for k in stats.kernels]
    return found[0]


def test_calls_runs_and_bytes_of_an_elementwise_function() -> None:
    add = _add()
    x = tf.constant(np.linspace(0, 1, 8, dtype=np.float32))
    y = tf.constant(np.linspace(-1, 1, 8, dtype=np.float32))
    add(x, y)
    with tf.profiler.profile() as p:
        outs = [add(x, y) for _ in range(7)]
    for out in outs:
        np.testing.assert_array_equal(out.numpy(), x.numpy() + y.numpy())
    [f] = p.functions
    assert f.calls == 7 and f.name == "add(f32[8], f32[8])"
    k = _by_name(f, "result 0")
    assert k.runs == 7 and k.info.ops == ("add",)
    assert k.info.bytes == 3 * 8 * 4  # reads x and y, writes the result
    assert k.info.flops == 8 and k.bytes == 7 * 96 and k.ns >= 0


def test_a_fused_reduction_counts_the_arrays_it_reads_and_its_ops() -> None:
    @tf.function
    def f(x, y):
        return tf.reduce_sum(x * y), x - y

    x = tf.constant(np.arange(1000, dtype=np.float32))
    y = tf.constant(np.ones(1000, np.float32))
    with tf.profiler.profile() as p:
        for _ in range(3):
            s, d = f(x, y)
    assert float(s.numpy()) == float(np.sum(x.numpy() * y.numpy()))
    np.testing.assert_array_equal(d.numpy(), x.numpy() - y.numpy())
    [stats] = p.functions
    assert stats.calls == 3
    red = _by_name(stats, "reduce_sum")
    assert red.runs == 3 and set(red.info.ops) == {"reduce_sum", "mul"}
    assert red.info.bytes == 2 * 1000 * 4 and red.info.flops == 2000  # the mul fused in, the sum
    sub = _by_name(stats, "result 1")
    assert sub.info.bytes == 3 * 1000 * 4 and sub.runs == 3


def test_matmul_flops_and_a_second_function_and_eager_ops() -> None:
    @tf.function
    def mm(a, b):
        return tf.matmul(a, b)

    @tf.function
    def g(a):
        return tf.exp(a)

    rng = np.random.default_rng(0)
    a = tf.constant(rng.standard_normal((6, 5), dtype=np.float32))
    b = tf.constant(rng.standard_normal((5, 4), dtype=np.float32))
    with tf.profiler.profile() as p:
        out = mm(a, b)
        e = g(a)
        g(a)
        eager = a + a
        tf.exp(b)
    np.testing.assert_allclose(out.numpy(), a.numpy() @ b.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(e.numpy(), np.exp(a.numpy()), rtol=1e-6)
    np.testing.assert_array_equal(eager.numpy(), 2 * a.numpy())
    by_name = {f.name.split("(")[0]: f for f in p.functions}
    assert by_name["mm"].calls == 1 and by_name["g"].calls == 2
    [kernel] = [k for k in by_name["mm"].kernels if "matmul" in k.info.ops]
    assert kernel.info.flops == 2 * 6 * 4 * 5
    assert p.eager["add"].calls == 1 and p.eager["add"].bytes == 6 * 5 * 4
    assert p.eager["exp"].calls == 1 and p.eager["exp"].bytes == 5 * 4 * 4
    table = p.table(peaks=PEAKS)
    for text in ("mm(f32[6, 5], f32[5, 4])", "g(f32[6, 5])", "eager add", "GB/s", "GFLOP/s", "10.0 GB/s"):
        assert text in table, table


def test_chrome_trace_has_one_event_per_call_and_per_kernel_run(tmp_path: Path) -> None:
    add = _add()
    x = tf.constant(np.ones(16, np.float32))
    with tf.profiler.profile() as p:
        for _ in range(4):
            add(x, x)
    path = tmp_path / "trace.json"
    p.export_chrome_trace(str(path))
    events = json.loads(path.read_text())["traceEvents"]
    calls = [e for e in events if e["cat"] == "function"]
    kernels = [e for e in events if e["cat"] == "kernel"]
    assert len(calls) == 4 and len(kernels) == 4
    assert all(e["ph"] == "X" and e["dur"] >= 0 and e["name"] == "add(f32[16], f32[16])" for e in calls)
    assert all(k["args"]["bytes"] == 3 * 16 * 4 and k["args"]["runs"] == 1 for k in kernels)
    # each kernel slice lies inside its call's slice
    for c, k in zip(calls, kernels):
        assert c["ts"] <= k["ts"] and c["tid"] == k["tid"]


def test_variables_and_the_fast_path_after_profiling() -> None:
    v = tf.Variable(np.zeros(5, np.float32))

    @tf.function
    def step(x):
        v.assign_add(x)
        return tf.reduce_sum(v)

    x = tf.constant(np.ones(5, np.float32))
    step(x)
    with tf.profiler.profile() as p:
        step(x)
        step(x)
    assert p.functions[0].calls == 2
    np.testing.assert_array_equal(v.numpy(), np.full(5, 3.0, np.float32))
    assert not fastcall.PROFILING
    assert float(step(x).numpy()) == 20.0  # the normal code again
    assert step._call is not type(step)._call_general  # and its generated fast caller


def test_the_normal_build_has_no_timers_and_the_variant_is_cached_apart(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("KILN_CACHE", "1")

    @tf.function
    def f(x):
        return tf.reduce_max(x * 2.0)

    x = tf.constant(np.arange(100, dtype=np.float32))
    f(x)
    concrete = f.get_concrete_function(x)
    assert concrete.compiled.lowered.kernels == []
    assert "clock_gettime" not in concrete.compiled.llvm_ir
    before = dict(runtime.stats)
    variant = runtime.compile_function(lambda: concrete.optimized_ir, source=concrete.ir, profile=True)
    assert runtime.stats["cache_misses"] == before["cache_misses"] + 1  # not the normal build's entry
    assert "clock_gettime" in variant.llvm_ir and variant.lowered.kernels
    again = runtime.compile_function(lambda: concrete.optimized_ir, source=concrete.ir, profile=True)
    assert runtime.stats["cache_hits"] == before["cache_hits"] + 1
    assert again.lowered.kernels == variant.lowered.kernels
    assert "clock_gettime" in again.llvm_ir  # rebuilt on demand as the variant it is
    [out] = again.run([x.numpy()])
    assert float(out) == 198.0
    counters = again.take_counters()
    assert counters.shape == (len(again.lowered.kernels), 2) and counters[:, 1].max() == 1


def test_a_tiled_function_counts_calls_and_chunk_runs() -> None:
    @tf.function
    def softmax(x):
        return tf.nn.softmax(x)

    x = tf.constant(np.random.default_rng(1).standard_normal((512, 256), dtype=np.float32))
    softmax(x)
    with tf.profiler.profile() as p:
        out = softmax(x)
        softmax(x)
    e = np.exp(x.numpy() - x.numpy().max(axis=1, keepdims=True))
    np.testing.assert_allclose(out.numpy(), e / e.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-7)
    [f] = p.functions
    assert f.calls == 2 and f.kernels
    chunks = softmax.get_concrete_function(x).compiled.lowered.chunks
    assert all(k.runs == 2 * chunks for k in f.kernels)


def test_nested_profiles_are_refused() -> None:
    with tf.profiler.profile():
        with pytest.raises(RuntimeError, match="already recording"):
            with tf.profiler.profile():
                pass
    assert not fastcall.PROFILING
    p = tf.profiler.start()
    assert tf.profiler.stop() is p
    with pytest.raises(RuntimeError):
        tf.profiler.stop()


def test_peaks_are_measured_once_and_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from codegen import peaks as profile
    monkeypatch.setattr(profile, "_peaks", [])
    path = tmp_path / "peaks.json"
    pk = peaks(str(path))
    assert pk.gbytes_per_s > 0 and pk.gflops_per_s > 0
    saved = json.loads(path.read_text())
    assert saved["gbytes_per_s"] == pk.gbytes_per_s and saved["host"]
    monkeypatch.setattr(profile, "_peaks", [])
    monkeypatch.setattr(profile, "measure_flops", lambda: pytest.fail("measured again"))
    assert peaks(str(path)) == pk


def test_kiln_profile_prints_the_table_at_exit_and_writes_the_trace(tmp_path: Path) -> None:
    script = ("import numpy as np, engine as tf\n"
              "f = tf.function(lambda x: x * 2.0)\n"
              "x = tf.constant(np.ones(4, np.float32))\n"
              "for _ in range(5):\n"
              "    f(x)\n")
    trace = tmp_path / "t.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT), KILN_PROFILE=str(trace), KILN_CACHE_DIR=str(tmp_path / "c"))
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "function / kernel" in out.stderr and "peaks (one core)" in out.stderr
    row = next(line for line in out.stderr.splitlines() if line.startswith("<lambda>(f32[4])"))
    assert row.split()[1] == "5", row
    events = json.loads(trace.read_text())["traceEvents"]
    assert sum(e["cat"] == "function" for e in events) == 5


def test_check_numerics_sees_eager_binary_ops() -> None:
    x = tf.constant(np.zeros(3, np.float32))
    tf.debugging.enable_check_numerics()
    try:
        with pytest.raises(tf.errors.InvalidArgumentError, match="div"):
            x / x  # TF 2.21 raises InvalidArgumentError here too
    finally:
        tf.debugging.disable_check_numerics()
    assert np.isnan((x / x).numpy()).all()


def test_threads_calling_one_function_are_all_counted() -> None:
    import threading
    add = _add()
    x = tf.constant(np.ones(32, np.float32))
    add(x, x)
    results = []
    with tf.profiler.profile() as p:
        threads = [threading.Thread(target=lambda: results.extend(add(x, x) for _ in range(25))) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(results) == 100 and all(np.array_equal(r.numpy(), np.full(32, 2.0, np.float32)) for r in results)
    [f] = p.functions
    assert f.calls == 100 and _by_name(f, "result 0").runs == 100
