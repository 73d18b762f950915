"""Fault suite, disk-cache part (issue 13): an entry altered with a recomputed checksum never reaches LLVM's linker
in a form that aborts the process (the mutations run in a subprocess, where an abort fails the test instead of
killing pytest); KILN_DUMP dumps the compiler's stages even when the cache hits, and rejects unknown stage names."""
from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(tmp_path: Path, script: str, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    full = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                KILN_CACHE_DIR=str(tmp_path / "cache"), **env)
    path = tmp_path / "program.py"
    path.write_text(script)
    return subprocess.run([sys.executable, str(path)], capture_output=True, text=True, errors="replace", env=full,
                          timeout=timeout)


PROGRAM = """
import numpy as np
import engine as tf

@tf.function(jit_compile=True)
def f(x, n):
    i = tf.constant(0)
    while i < n:
        x = tf.tanh(x) * 1.5 + 0.25
        i = i + 1
    return x

out = f(tf.constant(np.linspace(-1, 1, 8, dtype=np.float32)), tf.constant(3)).numpy()
print(repr(out.tolist()))
"""


def test_kiln_dump_prints_the_compiler_stages_when_the_cache_hits(tmp_path: Path) -> None:
    first = run(tmp_path, PROGRAM, {})
    assert first.returncode == 0, first.stderr
    dumps = tmp_path / "dumps"
    second = run(tmp_path, PROGRAM, {"KILN_DUMP": "opt,llvm,asm", "KILN_DUMP_DIR": str(dumps)})
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    stages = {p.name.rsplit(".", 2)[-2] for p in dumps.iterdir()}
    assert stages == {"opt", "llvm", "asm"}


def test_kiln_dump_rejects_unknown_stage_names(monkeypatch: pytest.MonkeyPatch) -> None:
    from ir import dump
    monkeypatch.setenv("KILN_DUMP", "llvm,optimized")
    with pytest.raises(ValueError, match=r"unknown stage name\(s\) 'optimized'; valid names are ast, ir, opt, llvm, "
                                         r"asm, time and all"):
        dump.wanted("llvm")
    monkeypatch.setenv("KILN_DUMP", "all")
    assert dump.wanted("asm") and dump.wanted_stages()


MUTATE = """
import hashlib, json, random, struct, sys
from pathlib import Path
import numpy as np
import engine as tf
from codegen import cache, objcheck, runtime

@tf.function(jit_compile=True)
def f(x, n):
    i = tf.constant(0)
    while i < n:
        x = tf.tanh(x) * 1.5 + 0.25
        i = i + 1
    return x

x = tf.constant(np.linspace(-1, 1, 8, dtype=np.float32))
cf = f.get_concrete_function(x, tf.constant(3))
want = cf(x, tf.constant(3)).numpy()
entry = next(Path(cache.directory()).rglob("*.kobj"))
original = entry.read_bytes()
n = int.from_bytes(original[8:16], "little")
head, obj = original[:16 + n], original[16 + n:-32]
shoff, shnum = struct.unpack_from("<Q", obj, 40)[0], struct.unpack_from("<H", obj, 60)[0]
regions = [(0, 64), (shoff, shoff + 64 * shnum)]
for i in range(shnum):
    _, typ, _, _, off, size, *_ = struct.unpack_from("<IIQQQQIIQQ", obj, shoff + 64 * i)
    if typ in (2, 3, 4):  # symbols, strings, relocations
        regions.append((off, off + size))
rng = random.Random(13)
rejected = linked = 0
for trial in range(int(sys.argv[1])):
    bad = bytearray(obj)
    for _ in range(rng.choice([1, 1, 2, 4])):
        lo, hi = rng.choice(regions)
        bad[rng.randrange(lo, hi)] = rng.choice([0, 0xFF, rng.randrange(256)])
    body = head + bytes(bad)
    entry.write_bytes(body + hashlib.sha256(body).digest())
    if objcheck.problem(bytes(bad)) is not None:
        rejected += 1
    compiled = runtime.compile_function(lambda: cf.optimized_ir, source=cf.ir)
    linked += 1
    if objcheck.problem(bytes(bad)) is not None:  # rebuilt: must be right
        out = compiled.run([np.asarray(x.numpy()), np.asarray(3, np.int32)])[0]
        np.testing.assert_allclose(out, want, rtol=1e-6)
print(json.dumps({"rejected": rejected, "linked": linked}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="objcheck validates ELF objects")
def test_structurally_altered_entries_with_recomputed_checksums_never_abort_the_process(tmp_path: Path) -> None:
    """Random byte changes in the ELF header, section headers, symbol, string and relocation tables, each written
    back with a valid checksum: the process survives every one (an abort or segfault fails the subprocess) and the
    rejected ones are rebuilt and give the right values. Before objcheck, such entries aborted in LLVM."""
    proc = run(tmp_path, MUTATE.replace("sys.argv[1]", "120"), {})
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["linked"] == 120 and out["rejected"] > 40, out


def test_objcheck_accepts_what_llvm_emits_and_rejects_broken_structure(tmp_path: Path) -> None:
    from codegen import objcheck
    import engine as tf
    import numpy as np

    @tf.function(jit_compile=True)
    def g(x):
        return tf.exp(x) * 2.0

    g(tf.constant(np.ones(3, np.float32)))
    import llvmlite.binding as llvm
    from codegen import llvm_setup
    compiled = g.get_concrete_function(tf.constant(np.ones(3, np.float32))).compiled
    obj = llvm_setup.host_target_machine().emit_object(llvm_setup.parse(compiled.llvm_ir))
    assert objcheck.problem(obj) is None
    assert objcheck.problem(obj[:40]) == "shorter than an ELF header"
    shoff = struct.unpack_from("<Q", obj, 40)[0]
    assert "section header table" in objcheck.problem(obj[:shoff + 10])
    bad = bytearray(obj)
    struct.pack_into("<H", bad, 62, 0xFFFF)  # e_shstrndx
    assert objcheck.problem(bytes(bad)) == "section name table index out of range"
    del llvm


def test_a_cache_directory_that_is_not_ours_is_refused_with_one_warning(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from codegen import cache
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    monkeypatch.setenv("KILN_CACHE_DIR", str(not_a_dir))
    with pytest.warns(RuntimeWarning, match=r"disk cache is off for .*file: it is not a directory owned by this user"):
        assert cache.load("ef" + "0" * 62) is None
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache.load("ef" + "1" * 62) is None  # said once
