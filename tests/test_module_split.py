"""Compiling a large module in parts on several threads (codegen.module_split, llvm_setup.emit_parts): the cut, the
packed objects and their checks, and compiled code built in parts against eager execution, in one process, across
processes through the disk cache, and from several threads at once."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import engine as tf
from codegen import llvm_setup, module_split, objcheck

ROOT = Path(__file__).resolve().parent.parent

MODULE = """; ModuleID = "m"
target triple = "unknown-unknown-unknown"
target datalayout = ""

@"msg" = private constant [3 x i8] c"ok\\00"
declare float @"llvm.sqrt.f32"(float %".1")

define internal float @"helper"(float %".1") alwaysinline nounwind
{
entry:
  %".3" = call float @"llvm.sqrt.f32"(float %".1")
  ret float %".3"
}

define internal i32 @"kiln_seg.1"(ptr noalias %".1", i64 %".2") noinline nounwind
{
entry:
{seg_body}  ret i32 0
}

define i32 @"kiln_body"(ptr noalias %".1", i64 %".2") noinline nounwind
{
entry:
{body}  %".r" = call i32 @"kiln_seg.1"(ptr %".1", i64 %".2")
  ret i32 %".r"
}

define i32 @"kiln_entry"(ptr %".1", i64 %".2")
{
entry:
{entry_body}  %".r" = call i32 @"kiln_body"(ptr %".1", i64 %".2")
  ret i32 %".r"
}
"""


def _lines(n: int, tag: str) -> str:
    """`n` lines of real work: each loads a float, takes `helper` of it and stores it back."""
    out = []
    for i in range(n // 4):
        out.append(f'  %"{tag}p{i}" = getelementptr float, ptr %".1", i64 {i}\n')
        out.append(f'  %"{tag}v{i}" = load float, ptr %"{tag}p{i}"\n')
        out.append(f'  %"{tag}s{i}" = call float @"helper"(float %"{tag}v{i}")\n')
        out.append(f'  store float %"{tag}s{i}", ptr %"{tag}p{i}"\n')
    return "".join(out)


def _module(seg: int, body: int, entry: int) -> str:
    return (MODULE.replace("{seg_body}", _lines(seg, "a")).replace("{body}", _lines(body, "b"))
            .replace("{entry_body}", _lines(entry, "c")))


def test_split_defines_each_function_once_and_copies_internal_helpers() -> None:
    parts = module_split.split(_module(800, 600, 400), 2)
    assert parts is not None and len(parts) == 2
    defined = [[name for name in ("kiln_seg.1", "kiln_body", "kiln_entry") if f'define i32 @"{name}"' in p]
               for p in parts]
    assert sorted(sum(defined, [])) == ["kiln_body", "kiln_entry", "kiln_seg.1"]  # each once, across the parts
    assert defined[0] == ["kiln_seg.1"], "the largest function goes first, alone"
    for part, own in zip(parts, defined):
        assert 'define internal float @"helper"' in part  # an internal helper is in every part
        assert '@"msg" = private constant' in part and 'declare float @"llvm.sqrt.f32"' in part
        for name in {"kiln_seg.1", "kiln_body", "kiln_entry"} - set(own):
            assert f'declare i32 @"{name}"' in part
        llvm_setup.parse(part)  # each part is a valid module on its own
    objects = llvm_setup.emit_parts(parts)
    assert len(objects) == 2 and all(objcheck.problem(o) is None for o in objects)


def test_small_or_lopsided_modules_are_not_split() -> None:
    assert module_split.split(_module(200, 200, 200), 2) is None      # too few lines to pay for a thread
    assert module_split.split(_module(4000, 200, 200), 2) is None     # the second part would carry under 15%
    assert module_split.split(_module(800, 600, 400), 1) is None      # one thread: never
    assert module_split.split(_module(800, 600, 400), 3) is not None


def test_packed_objects_round_trip_and_malformed_ones_are_refused() -> None:
    parts = llvm_setup.emit_parts(module_split.split(_module(800, 600, 400), 2))
    blob = module_split.pack(parts)
    assert module_split.unpack(blob) == parts and objcheck.problem(blob) is None
    assert module_split.pack(parts[:1]) == parts[0] and module_split.unpack(parts[0]) == [parts[0]]
    for bad in (blob[:-1], blob + b"x", blob[:10], blob[:8] + (999).to_bytes(4, "little") + blob[12:]):
        with pytest.raises(ValueError):
            module_split.unpack(bad)
        assert objcheck.problem(bad) is not None
    broken = bytearray(blob)
    header = len(module_split.PARTS_MAGIC) + 4 + 8 * len(parts)
    broken[header + 0x28:header + 0x30] = (1 << 40).to_bytes(8, "little")  # the first part's section-header offset
    if objcheck.applies():
        assert objcheck.problem(bytes(broken)) is not None


def _model(seed: int) -> tf.keras.Model:
    tf.keras.utils.set_random_seed(seed)
    model = tf.keras.Sequential([tf.keras.Input((20,)), tf.keras.layers.Dense(16, activation="relu"),
                                 tf.keras.layers.Dense(4, activation="softmax")])
    return model


def _train(compiled: bool) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(64, 20)).astype(np.float32), rng.integers(0, 4, 64)
    model = _model(7)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  run_eagerly=not compiled)
    model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    return [w.numpy() for w in model.weights]


def test_a_training_step_built_in_parts_trains_as_eager(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILN_CACHE", "0")
    calls = []
    real = llvm_setup.emit_parts
    monkeypatch.setattr(llvm_setup, "emit_parts", lambda texts: calls.append(len(texts)) or real(texts))
    monkeypatch.setattr(llvm_setup, "part_threads", lambda: 2)
    weights = _train(compiled=True)
    assert calls and calls[0] == 2, "the training step was compiled in two parts"
    for a, b in zip(weights, _train(compiled=False)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    monkeypatch.setattr(llvm_setup, "part_threads", lambda: 1)
    calls.clear()
    for a, b in zip(_train(compiled=True), weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not calls, "one thread: compiled whole"


def test_functions_compiled_in_parts_from_several_threads_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILN_CACHE", "0")
    monkeypatch.setattr(llvm_setup, "part_threads", lambda: 2)
    calls = []
    real = llvm_setup.emit_parts
    monkeypatch.setattr(llvm_setup, "emit_parts", lambda texts: calls.append(len(texts)) or real(texts))
    rng = np.random.default_rng(2)
    xs = [rng.normal(size=(8, 32)).astype(np.float32) for _ in range(4)]

    def make(k: int):
        ws = [rng.normal(size=(32, 32)).astype(np.float32) * 0.2 for _ in range(12 + k)]

        @tf.function
        def f(x, *weights):  # each argument adds its checks to the entry, the part the body's part runs beside
            for w in weights:
                x = tf.tanh(x @ w) + tf.reduce_mean(x, axis=1, keepdims=True)
            return tf.reduce_sum(x * x, axis=0), [w * 2.0 for w in weights]

        def ref(x):
            x = x.astype(np.float64)
            for w in ws:
                x = np.tanh(x @ w) + x.mean(axis=1, keepdims=True)
            return (x * x).sum(axis=0)
        return (lambda x: f(x, *ws)[0]), ref
    pairs = [make(k) for k in range(4)]
    results: dict[int, np.ndarray] = {}

    def run(k: int) -> None:
        results[k] = pairs[k][0](xs[k]).numpy()
    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k, (_, ref) in enumerate(pairs):
        np.testing.assert_allclose(results[k], ref(xs[k]), rtol=1e-4, atol=1e-4)
    assert len(calls) == 4, "each function was compiled in parts"


SCRIPT = """
import json
import numpy as np
import engine as tf
from codegen import llvm_setup
from codegen.runtime import stats
calls = []
real = llvm_setup.emit_parts
llvm_setup.emit_parts = lambda texts: calls.append(len(texts)) or real(texts)
tf.keras.utils.set_random_seed(3)
model = tf.keras.Sequential([tf.keras.Input((20,)), tf.keras.layers.Dense(16, activation="relu"),
                             tf.keras.layers.Dense(4, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
rng = np.random.default_rng(1)
x, y = rng.normal(size=(64, 20)).astype(np.float32), rng.integers(0, 4, 64)
model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
print(json.dumps({"parts": calls, "hits": stats["cache_hits"], "w": float(np.abs(model.weights[0].numpy()).sum())}))
"""


def test_an_object_built_in_parts_is_cached_and_linked_in_a_later_process(tmp_path: Path) -> None:
    env = dict(os.environ, KILN_CACHE_DIR=str(tmp_path), KILN_LLVM_THREADS="2",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("KILN_CACHE", None)
    outs = []
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
        outs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert outs[0]["parts"] == [2] and outs[0]["hits"] == 0
    assert outs[1]["parts"] == [] and outs[1]["hits"] >= 1, "the second process linked the cached parts"
    assert outs[1]["w"] == outs[0]["w"]
