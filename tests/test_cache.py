"""The disk cache of object code and the KILN_DUMP switch, checked through the runtime's counters and files (never
through timings), in fresh processes where the behaviour across processes is the point."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import json, sys
import numpy as np
import engine as tf
from codegen.runtime import stats

@tf.function
def f(x, y):
    return tf.tanh(x * y + 1.0) * tf.exp(-x * x)

x = tf.constant(np.linspace(-2, 2, 64, dtype=np.float32))
y = tf.constant(np.float32(0.5))
out = f(x, y).numpy()
print(json.dumps({"stats": stats, "sum": float(out.astype(np.float64).sum())}))
"""


def run(env: dict[str, str], script: str = SCRIPT) -> dict:
    full = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), **env)
    path = Path(env["KILN_CACHE_DIR"]) / "program.py"  # a file, so AutoGraph can read the function's source
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(script)
    proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=full, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def expected_sum() -> float:
    x = np.linspace(-2, 2, 64, dtype=np.float32).astype(np.float64)
    return float((np.tanh(x * 0.5 + 1.0) * np.exp(-x * x)).sum())


def test_a_second_process_hits_the_disk_cache(tmp_path: Path) -> None:
    env = {"KILN_CACHE_DIR": str(tmp_path)}
    first = run(env)
    assert first["stats"]["cache_misses"] == 1 and first["stats"]["cache_hits"] == 0
    assert first["stats"]["compiled"] == 1
    second = run(env)
    assert second["stats"]["cache_hits"] == 1 and second["stats"]["cache_misses"] == 0
    assert second["stats"]["compiled"] == 0  # nothing was lowered or optimized again
    assert second["sum"] == pytest.approx(expected_sum(), rel=1e-6) and second["sum"] == first["sum"]


def test_a_truncated_entry_is_ignored_and_rebuilt(tmp_path: Path) -> None:
    env = {"KILN_CACHE_DIR": str(tmp_path)}
    run(env)
    (entry,) = list(tmp_path.rglob("*.kobj"))
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 2])
    rebuilt = run(env)
    assert rebuilt["stats"]["cache_hits"] == 0 and rebuilt["stats"]["compiled"] == 1
    assert rebuilt["sum"] == pytest.approx(expected_sum(), rel=1e-6)
    assert entry.read_bytes() == data  # written again, whole
    again = run(env)
    assert again["stats"]["cache_hits"] == 1


def test_a_corrupt_or_foreign_entry_is_ignored(tmp_path: Path) -> None:
    env = {"KILN_CACHE_DIR": str(tmp_path)}
    run(env)
    (entry,) = list(tmp_path.rglob("*.kobj"))
    data = bytearray(entry.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the object code: the checksum no longer matches
    entry.write_bytes(bytes(data))
    assert run(env)["stats"]["cache_hits"] == 0
    entry.write_bytes(b"not a kiln cache entry at all")
    result = run(env)
    assert result["stats"]["cache_hits"] == 0 and result["sum"] == pytest.approx(expected_sum(), rel=1e-6)


def test_kiln_cache_0_turns_the_cache_off(tmp_path: Path) -> None:
    env = {"KILN_CACHE_DIR": str(tmp_path), "KILN_CACHE": "0"}
    run(env)
    result = run(env)
    assert result["stats"]["cache_hits"] == 0 and result["stats"]["cache_misses"] == 0
    assert not list(tmp_path.rglob("*.kobj"))


def test_entries_are_keyed_by_the_ir(tmp_path: Path) -> None:
    env = {"KILN_CACHE_DIR": str(tmp_path)}
    run(env)
    other = SCRIPT.replace("tf.exp(-x * x)", "tf.exp(-x)")
    result = run(env, other)
    assert result["stats"]["cache_hits"] == 0 and len(list(tmp_path.rglob("*.kobj"))) == 2


def test_kiln_dump_writes_every_stage(tmp_path: Path) -> None:
    dump_dir = tmp_path / "dumps"
    run({"KILN_CACHE": "0", "KILN_CACHE_DIR": str(tmp_path / "cache"), "KILN_DUMP": "ast,ir,opt,llvm,asm",
         "KILN_DUMP_DIR": str(dump_dir)})
    files = {p.name.rsplit(".", 2)[-2]: p.read_text() for p in dump_dir.iterdir()}
    assert set(files) == {"ast", "ir", "opt", "llvm", "asm"}
    assert "ag__" in files["ast"] or "def f" in files["ast"]
    assert "func @f(" in files["ir"] and "tanh" in files["opt"]
    assert "define" in files["llvm"] and ("zmm" in files["asm"] or "ymm" in files["asm"] or "xmm" in files["asm"])


def _object() -> bytes:
    """A real object file for the host (the cache reads only objects that codegen.objcheck finds well formed)."""
    from codegen import llvm_setup
    mod = llvm_setup.parse("define i32 @f(i32 %x) {\n  %y = add i32 %x, 1\n  ret i32 %y\n}\n")
    return llvm_setup.host_target_machine().emit_object(mod)


def _entry(k: str) -> tuple[dict, bytes]:
    return {"release_gil": False}, _object()


def test_entries_live_in_private_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from codegen import cache
    root = tmp_path / "kiln"
    monkeypatch.setenv("KILN_CACHE_DIR", str(root))
    k = "ab" + "0" * 62
    cache.store(k, *_entry(k))
    assert cache.load(k) == ({"release_gil": False, "key": k}, _entry(k)[1])
    for d in (root, cache.entry_path(k).parent):
        assert os.stat(d).st_mode & 0o777 == 0o700
    os.chmod(root, 0o777)  # opened up by someone: made private again before anything is read from it
    assert cache.load(k) is not None and os.stat(root).st_mode & 0o777 == 0o700


def test_only_regular_files_of_the_host_object_format_are_read(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from codegen import cache
    monkeypatch.setenv("KILN_CACHE_DIR", str(tmp_path / "kiln"))
    k, other = "cd" + "1" * 62, "cd" + "2" * 62
    cache.store(k, *_entry(k))
    cache.store(other, *_entry(other))
    path = cache.entry_path(other)
    elsewhere = tmp_path / "elsewhere.kobj"
    path.rename(elsewhere)
    path.symlink_to(elsewhere)  # a valid entry, but outside the private directory: the symlink is not followed
    assert cache.load(other) is None
    path.unlink()
    os.mkfifo(path)  # a FIFO would block a plain read forever
    assert cache.load(other) is None
    path.unlink()
    meta, _ = _entry(other)
    cache.store(other, meta, b"#!/bin/sh\n" + b"\0" * 100)  # intact and keyed right, but not an object file
    assert cache.load(other) is None
    cache.store(other, meta, b"\x7fELF" + bytes(range(256)) * 4)  # the host's magic, but not a well-formed object
    assert cache.load(other) is None
    assert cache.load(k) is not None
