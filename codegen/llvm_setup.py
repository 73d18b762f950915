"""Process-wide LLVM setup shared by code generation: target registration, the host TargetMachine, and the
optimization pipeline.

What it owns:
- `ensure_initialized()`: registers the native target, asm printer and asm parser exactly once. llvmlite 0.50
  raises on the old `llvm.initialize()`, and without the asm printer LLVM aborts the process when it JITs, so every
  entry point here calls this first.
- `host_target_machine()`: one cached TargetMachine for the host CPU (name and feature string), opt level 3,
  `jit=True` (large code model, as the JIT expects). LLJIT and `emit_object`/`emit_assembly` may share it; MCJIT
  takes ownership of its TargetMachine and must get a fresh one from `new_host_target_machine()`.
- `optimize(module)`: the new pass manager at speed level 3 with loop and SLP vectorization on (SLP is off by
  default in llvmlite), in place on a parsed `llvmlite.binding.ModuleRef`; then the always-inliner once more, for
  the vector variants the loop vectorizer called (`VECTOR_VARIANT_MARK`, see `codegen.vmath_lanes`). Every pass
  manager is disposed as soon as it has run (`_run_once`): llvmlite 0.50's ModulePassManager never frees itself
  (its `_dispose` is shadowed by ObjectRef's no-op in the MRO), and a pipeline keeps the state of its passes (GVN's
  value table, GlobalDCE's maps), about 110 KB per compile that was never returned.
- `parse(ir_module)`: text of an `llvmlite.ir.Module` to a verified `ModuleRef` bound to the host triple and data
  layout, in an LLVMContext of its own that dies with the module: types, constants and metadata made while parsing
  and optimizing are uniqued in the context, and in the global one they stayed for good (about 0.5 KB a compile,
  which pinned heap pages all over).

- `on_llvm_thread(fn, *args)`: runs a compile on Kiln's one long-lived compile thread. glibc gives that thread a
  malloc arena of its own, so LLVM's short-lived allocations churn there instead of between the long-lived blocks of
  the main heap (2,000 retraced shapes, then the Function deleted: 37-40 MB held instead of 45 MB). The pass
  builders, which llvmlite leaks a block of (see `_pass_builder`), are made on a second thread, so that those blocks
  lie together in its arena instead of among the compiles' (2,000 shapes: 10.7 MB held instead of 13.6 MB).

It assumes one process-wide LLVM, which is what llvmlite provides; every llvmlite call is serialized behind
llvmlite's own lock, so the caches here need no locking of their own beyond idempotent initialization.

- `emit_parts(texts)`: the object code of a module's parts (codegen.module_split), each parsed, optimized and
  compiled at once on threads of its own. llvmlite serializes every call behind one lock, but LLVM itself runs
  independent modules concurrently when each has its own LLVMContext, TargetMachine and pass builder, and ctypes
  releases the GIL for the calls. So the compile thread takes llvmlite's lock for the whole emission (no other
  llvmlite call runs meanwhile: no option is toggled, no shared TargetMachine used) and its helper threads, each
  with a TargetMachine of its own, call LLVM without taking it (`_Unlocked`: the lock lets a marked thread
  through). The MNIST training step: 0.21 s of opt + codegen whole, 0.15 s as two parts on two cores.
"""
from __future__ import annotations

import functools
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from typing import Any, Callable, Optional, TypeVar

import llvmlite.binding as llvm
import llvmlite.ir as lir
from llvmlite.binding import newpassmanagers

from ir import timing

#: The string attribute of functions that exist only for the loop vectorizer to call and `optimize` to inline
#: (codegen.vmath_lanes): external until then, dropped after.
VECTOR_VARIANT_MARK = b'"kiln-vector-variant"'
_THREAD_NAME = "kiln-llvm"
_pool: Optional[tuple[int, ThreadPoolExecutor]] = None  # (pid, pool): a forked child makes its own
_pool_lock = threading.Lock()
T = TypeVar("T")


@functools.cache
def ensure_initialized() -> None:
    """Register the native target, asm printer and asm parser (once per process)."""
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    llvm.initialize_native_asmparser()
    lock = llvm.ffi.lib._lock
    if not isinstance(lock._lock, _Unlocked):
        lock._lock = _Unlocked(lock._lock)


class _Unlocked:
    """llvmlite's lock (the RLock inside its `_LLVMLock`), except for threads inside `_free()`: `emit_parts`' helpers,
    which work on objects of their own while the compile thread holds the real lock."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.local = threading.local()

    def acquire(self, *args: Any, **kwargs: Any) -> bool:
        return True if getattr(self.local, "free", False) else self.inner.acquire(*args, **kwargs)

    def release(self) -> None:
        if not getattr(self.local, "free", False):
            self.inner.release()


def _free(on: bool) -> None:
    llvm.ffi.lib._lock._lock.local.free = on


def new_host_target_machine(opt: int = 3) -> llvm.TargetMachine:
    """A fresh TargetMachine for the host CPU at codegen level `opt` (for MCJIT, which takes ownership of it)."""
    ensure_initialized()
    target = llvm.Target.from_triple(llvm.get_process_triple())
    return target.create_target_machine(cpu=llvm.get_host_cpu_name(),
                                        features=llvm.get_host_cpu_features().flatten(),
                                        opt=opt, jit=True)


@functools.cache
def host_target_machine() -> llvm.TargetMachine:
    """The shared host TargetMachine (never hand this one to MCJIT)."""
    return new_host_target_machine()


@functools.cache
def quick_target_machine() -> llvm.TargetMachine:
    """The host TargetMachine at codegen level 0 (fast instruction selection, the fast register allocator): the
    quick tier's object code (codegen.tiers), emitted 3-6x faster than at level 3."""
    return new_host_target_machine(opt=0)


@functools.cache
def _host_layout() -> tuple[str, str]:
    """(triple, data layout) of the host, as strings (read once: the helpers of `emit_parts` must not)."""
    return llvm.get_process_triple(), str(host_target_machine().target_data)


def parse(module: lir.Module | str) -> llvm.ModuleRef:
    """Parse and verify LLVM IR in a fresh LLVMContext, binding it to the host triple and data layout."""
    ensure_initialized()
    ref = llvm.parse_assembly(str(module), llvm.create_context())
    ref.triple, ref.data_layout = _host_layout()
    ref.verify()
    return ref


def optimize(module: llvm.ModuleRef, speed_level: int = 3, pb: Optional[llvm.PassBuilder] = None) -> llvm.ModuleRef:
    """Run the default new-pass-manager pipeline with loop and SLP vectorization on `module`, in place (with pass
    builder `pb` if given: one made for another TargetMachine)."""
    ensure_initialized()
    pb = pb or _pass_builder(speed_level)
    _run_once(pb.getModulePassManager(), module, pb)
    # The loop vectorizer calls `alwaysinline` vector variants of functions (codegen.vmath_lanes) after the
    # pipeline's inliner has run: inline them now, then drop the variants, which had to stay external until here.
    late = llvm.create_new_module_pass_manager()
    late.add_always_inliner_pass()
    _run_once(late, module, pb)
    variants = [fn for fn in module.functions if any(VECTOR_VARIANT_MARK in a for a in fn.attributes)]
    if variants:
        for fn in variants:
            fn.linkage = "internal"
        dce = llvm.create_new_module_pass_manager()
        dce.add_global_dead_code_eliminate_pass()
        _run_once(dce, module, pb)
    return module


def _new_pass_builder(speed_level: int, tm: Optional[llvm.TargetMachine] = None) -> llvm.PassBuilder:
    pto = llvm.create_pipeline_tuning_options(speed_level=speed_level)
    pto.loop_vectorization = True
    pto.slp_vectorization = True
    pto.loop_unrolling = False
    return llvm.create_pass_builder(tm or host_target_machine(), pto)


_builder_pool: Optional[tuple[int, ThreadPoolExecutor]] = None  # (pid, pool), as `_pool`


def _pass_builder(speed_level: int, tm: Optional[llvm.TargetMachine] = None) -> llvm.PassBuilder:
    """A new PassBuilder (one per compile: each run registers callbacks into it that point into the run's stack),
    made on a thread of its own. llvmlite 0.50 never frees a PassBuilder's PassInstrumentationCallbacks
    (`LLVMPY_CreatePassBuilder` allocates them with `new`, its dispose deletes only the builder): 1.5 KB per compile
    stays for good. Made on the compile thread, each of those blocks sat among a compile's short-lived allocations
    and kept their heap pages from being returned; made over there, they pack into the holes the freed builders
    leave in that thread's arena."""
    global _builder_pool
    with _pool_lock:
        if _builder_pool is None or _builder_pool[0] != os.getpid():
            _builder_pool = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiln-passes"))
        pool = _builder_pool[1]
    return _run_on(pool, _new_pass_builder, speed_level, tm)


def _run_once(pm: llvm.ModulePassManager, module: llvm.ModuleRef, pb: llvm.PassBuilder) -> None:
    """Runs `pm` on `module`, then frees it: llvmlite's `close()` would not (see the module docstring), and a pass
    manager cannot run twice (its passes are moved out by the first run)."""
    try:
        pm.run(module, pb)
    finally:
        newpassmanagers.NewPassManager._dispose(pm)
        pm.detach()


def _compile_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix=_THREAD_NAME))
        return _pool[1]


def on_llvm_thread(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` run on the compile thread (directly when already on it), its exception raised here."""
    if threading.current_thread().name.startswith(_THREAD_NAME):
        return fn(*args)
    state = timing.handed_over()  # the caller's KILN_DUMP=time accounting: its phases run over there

    def run() -> T:
        with timing.taking_over(state):
            return fn(*args)
    return _run_on(_compile_pool(), run)


def _run_on(pool: ThreadPoolExecutor, fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` on `pool`'s thread, or here once the interpreter is exiting (concurrent.futures has shut its
    pools down by the time atexit handlers run, and one may still compile: the profiler's peaks at exit)."""
    try:
        future = pool.submit(fn, *args)
    except RuntimeError:
        return fn(*args)
    return future.result()


_parts_pool: Optional[tuple[int, ThreadPoolExecutor]] = None  # (pid, pool), as `_pool`
_part_machines: list[llvm.TargetMachine] = []  # the k-th helper part's TargetMachine (one emission at a time)


def part_threads() -> int:
    """How many threads `emit_parts` may use: the CPUs this process may run on, at most 2 unless
    `KILN_LLVM_THREADS` says otherwise (1: never split)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    cap = os.environ.get("KILN_LLVM_THREADS", "")
    return max(1, min(cpus, int(cap) if cap.isdigit() else 2))


def emit_parts(texts: list[str]) -> list[bytes]:
    """The O3 object code of each module in `texts` (a module's parts, codegen.module_split): the first on this
    thread, the others at the same time on helper threads (see the module docstring). Called on the compile
    thread, so one emission runs at a time."""
    global _parts_pool
    ensure_initialized()
    _host_layout()
    with _pool_lock:
        if _parts_pool is None or _parts_pool[0] != os.getpid():
            _parts_pool = (os.getpid(), ThreadPoolExecutor(max_workers=7, thread_name_prefix="kiln-llvm-part"))
            _part_machines.clear()
        pool = _parts_pool[1]
    while len(_part_machines) < len(texts) - 1:
        _part_machines.append(new_host_target_machine())
    # Every pass builder is made before the lock is taken (`_pass_builder` makes them on a thread that takes it).
    builders = [_pass_builder(3)] + [_pass_builder(3, tm) for tm in _part_machines[:len(texts) - 1]]
    with llvm.ffi.lib._lock:
        futures = [pool.submit(_emit_free, text, tm, pb)
                   for text, tm, pb in zip(texts[1:], _part_machines, builders[1:])]
        try:
            first = _emit_part(texts[0], host_target_machine(), builders[0])
        finally:
            futures_wait(futures)  # no helper is left inside LLVM once the lock is released, even on an error
        return [first] + [f.result() for f in futures]


def _emit_part(text: str, tm: llvm.TargetMachine, pb: llvm.PassBuilder) -> bytes:
    ref = parse(text)
    try:
        optimize(ref, 3, pb)
        return tm.emit_object(ref)
    finally:
        ref.close()


def _emit_free(text: str, tm: llvm.TargetMachine, pb: llvm.PassBuilder) -> bytes:
    """`_emit_part` on a helper thread, past llvmlite's lock (the compile thread holds it meanwhile)."""
    _free(True)
    try:
        return _emit_part(text, tm, pb)
    finally:
        _free(False)


def in_background(job: Callable[[], None]) -> Future:
    """Queues `job` on the compile thread without waiting for it (codegen.tiers' O3 builds: on the one compile
    thread, their LLVM allocations share its malloc arena; on a thread of their own, 2,000 retraced shapes held
    22 MB after the Function's `del` instead of 11 MB)."""
    return _compile_pool().submit(job)
