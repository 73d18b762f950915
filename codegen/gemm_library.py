"""The generated GEMM's workers, compiled once per process as a library (the thread team is codegen.gemm_threads).

The workers (codegen.rules.gemm_kernel: one per dtype, pair of transposes and vector width, the shape an argument)
do not depend on the function that calls them, so they are not compiled into it: a function's module declares the
ones it calls, and `symbols(obj)` builds each one its object file names (or loads it from the disk cache), links
it into a JIT that lives as long as the process, and gives its address, imported when the function is linked. A
function with five products then costs LLVM nothing for them (about 60 ms each when compiled in).
"""
from __future__ import annotations

import threading
from typing import Any, Optional

import llvmlite.binding as llvm
import llvmlite.ir as lir

from codegen import cache, llvm_setup
from codegen.rules.gemm_kernel import VARIANTS, define_worker
from codegen.rules.gemm_plan import a_chunk_bytes, kc_limit

_lock = threading.Lock()
_workers: dict[str, int] = {}   # name -> address in `_jit`
_jit: Optional[Any] = None
_trackers: list[Any] = []       # the workers' libraries, never freed


def _worker_text(name: str) -> str:
    """Worker `name`'s LLVM IR (20-25 ms of Python)."""
    module = lir.Module(name=name)
    define_worker(module, name)
    return str(module)


def _worker_key(name: str) -> str:
    """The disk cache's key for worker `name`: what its code depends on besides Kiln's sources (the cache key
    fingerprints those) and the host (the key has its CPU and LLVM), so a hit needs no IR emitted."""
    width = int(name.rsplit(".v", 1)[1])
    return cache.key(f"{name} kc_limit={kc_limit(width)} a_chunk={a_chunk_bytes()}", {"from": "gemm worker"})


def _worker_object(name: str) -> bytes:
    """The object code of worker `name`, from the disk cache when it holds it."""
    k = _worker_key(name) if cache.enabled() else None
    if k is not None:
        hit = cache.load(k)
        if hit is not None:
            return hit[1]
    obj = _codegen(llvm_setup.parse(_worker_text(name)))
    if k is not None:
        cache.store(k, {"worker": name}, obj)
    return obj


def _codegen(ref: llvm.ModuleRef) -> bytes:
    """Object code for a worker module, with no IR pass: the worker is emitted in the form codegen takes
    (codegen.rules.gemm_ir: rotated loops, the register tile in phis, invariants computed once, the k loop's
    addresses advanced by adds), and codegen at level 3 hoists, combines and schedules. Nor does codegen run loop
    strength reduction, which had nothing left to reduce: LLVM's `-disable-lsr` is process-wide, so it is set
    and reset under llvmlite's lock, held throughout, and no other thread's LLVM call sees it. One f32 AVX-512
    worker: 35-50 ms (parse 3-5, codegen 30-45) where the O3 pipeline took 210-300 ms (opt 145-215 of it), the
    products as fast (benchmarks/gemm_build.py)."""
    with llvm.ffi.lib._lock:
        llvm.set_option("", "-disable-lsr")
        try:
            return llvm_setup.host_target_machine().emit_object(ref)
        finally:
            llvm.set_option("", "-disable-lsr=0")


def _address(name: str) -> int:
    """Worker `name`'s address (built, or loaded from the disk cache, and linked on first use)."""
    global _jit
    with _lock:
        if name in _workers:
            return _workers[name]
        obj = _worker_object(name)
        if _jit is None:
            _jit = llvm.create_lljit_compiler(llvm_setup.host_target_machine(), suppress_errors=True)
        tracker = (llvm.JITLibraryBuilder().add_object_img(obj).add_current_process().export_symbol(name)
                   .link(_jit, name))
        _trackers.append(tracker)
        _workers[name] = tracker[name]
        return _workers[name]


def symbols(obj: bytes) -> dict[str, int]:
    """The addresses of the workers object code `obj` names. The quick tier (codegen.tiers) links the same
    workers: a quick build (codegen level 0) took ~20 ms instead of ~50 but ran the training step's products
    3-5x slower (32x784x128: 3.8x numpy's time against 0.76x) until the function's O3 build replaced it; on a
    cold MNIST fit the first epoch then cost more CPU, not less."""
    return {name: _address(name) for name in VARIANTS if name.encode() in obj}
